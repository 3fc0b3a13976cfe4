//! Users as reads find them, kept in memory by the file's one server, so that reading
//! a user again does not read the database again.
//!
//! Under steady provisioning most requests read one user: `GET /Users/{id}`, and the
//! `userName eq "…"` query identity providers send before they update someone (60% of
//! `mixed`'s operations, docs/benchmarks.md item 76). From SQLite each such read costs
//! a read transaction and, because every commit discards the readers' page caches,
//! its index and table pages read again through system calls: a quarter of the
//! workers' CPU under `mixed`.
//!
//! What a hit returns must be what the database would return, so three rules hold:
//!
//! - **Every write that can change a cached user notes it, and the note is applied
//!   after the commit and before the write is answered** ([`ResourceCache::note_user`],
//!   [`ResourceCache::note_tenant`], [`ResourceCache::after_transaction`], called by
//!   the writer's `OnCommit`). A user's own create, replace, patch or delete removes
//!   that user. A group's write removes every user of its tenant, because members'
//!   `groups` (and their `display`) may change with it. A change of any tenant or
//!   token, by this process or another (the credential epoch, see
//!   [`super::credential_cache`]), empties the whole cache. So a client that has its
//!   answer reads what it wrote.
//! - **A read keeps what it found only if no noted write ended while it read.** It
//!   takes the generation before it reads and keeps its result only if the generation
//!   is unchanged, checked under the lock that the emptying takes after moving the
//!   generation on (the credential cache's rule). A read that began before a write
//!   committed may finish after it, and must not put the old user back.
//! - **No other process writes users or groups.** The store uses this cache only as
//!   the file's one server (`SqliteOptions::sole_server`), as for the known names
//!   ([`super::known_names`]); the CLI never writes users or groups, and deleting a
//!   tenant moves the credential epoch, which empties this cache.
//!
//! A `userName eq` lookup is answered from the cache when the name is that of a cached
//! user whose entry was filled by such a lookup: while the entry is there, the user
//! has not changed since, so it still holds the name, and the unique index says no
//! other user can. Other names, other pages (`startIndex` past 1, `count` 0, a sort
//! or a cursor) and groups read the database as before.
//!
//! The cache holds at most `limit_bytes` of users, counted as what they take in memory
//! (their strings, their entries in the maps at the maps' usual slack, the
//! allocator's rounding). One that would grow past it drops an arbitrary quarter of
//! its users first, which bounds the server's memory (the peak-RSS target of issue 6
//! is measured with 100,000 users) and keeps the rest answering.

use crate::{Fetch, StoredResource};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

/// The default size of the cache: room for some 10,000 users of an Entra shape.
pub(crate) const DEFAULT_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// What an entry takes beyond its strings' bytes: its slots in the two maps (a hash
/// table is between 44% and 88% full, so twice a slot is a fair allowance), and
/// what the allocator rounds each string up to.
const ENTRY_OVERHEAD_BYTES: usize =
    2 * (std::mem::size_of::<(String, Entry)>() + std::mem::size_of::<(String, String)>());

/// What the allocator adds to one string's bytes, on average.
const PER_STRING_BYTES: usize = 16;

#[derive(Debug)]
struct Entry {
    /// What the read that found it loaded: a hit must ask for the same.
    fetch: Fetch,
    resource: StoredResource,
    /// The folded `userName` a `userName eq` lookup found it by, if it was found so.
    name_norm: Option<String>,
    bytes: usize,
}

#[derive(Debug, Default)]
struct TenantUsers {
    by_id: HashMap<String, Entry>,
    /// Folded `userName` → id, as lookups found them. A hint: an entry answers a name
    /// only if its own `name_norm` is that name.
    by_name: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct Entries {
    tenants: HashMap<String, TenantUsers>,
    bytes: usize,
}

impl Entries {
    /// Drops users, in the maps' order (no order of use is kept: a hit takes only the
    /// read lock), until at most `target` bytes are held.
    fn evict_down_to(&mut self, target: usize) {
        let Entries { tenants, bytes } = self;
        for users in tenants.values_mut() {
            if *bytes <= target {
                break;
            }
            let mut names = Vec::new();
            users.by_id.retain(|_, entry| {
                if *bytes <= target {
                    return true;
                }
                *bytes -= entry.bytes;
                names.extend(entry.name_norm.take());
                false
            });
            for name in names {
                users.by_name.remove(&name);
            }
        }
        tenants.retain(|_, users| !users.by_id.is_empty());
    }
}

/// What the writes of the current transaction changed, applied after it ends.
#[derive(Debug, Default)]
struct Pending {
    users: Vec<(String, String)>,
    tenants: Vec<String>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.tenants.is_empty()
    }
}

/// The cache, shared by the writer thread (which notes and applies changes) and every
/// request (which reads it and fills it).
#[derive(Debug)]
pub(crate) struct ResourceCache {
    generation: AtomicU64,
    entries: RwLock<Entries>,
    /// Only the writer thread notes changes; a mutex, not a thread-local, so that
    /// the writer's `OnCommit` can apply them.
    pending: Mutex<Pending>,
    limit_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How often the cache answered, for tests and measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceCacheStats {
    /// Reads answered from memory.
    pub hits: u64,
    /// Reads that went to the database.
    pub misses: u64,
}

/// The size the cache counts for `resource`.
fn estimated_bytes(resource: &StoredResource, name_norm: Option<&str>) -> usize {
    let string = |len: usize| len + PER_STRING_BYTES;
    let groups: usize = resource.groups.as_ref().map_or(0, |groups| {
        groups
            .iter()
            .map(|group| {
                std::mem::size_of_val(group)
                    + string(group.value.len())
                    + group.display.as_ref().map_or(0, |d| string(d.len()))
            })
            .sum()
    });
    // The id three times (the map's key, the resource's, the name map's value), the
    // name twice (the entry's and the name map's key).
    ENTRY_OVERHEAD_BYTES
        + 3 * string(resource.id.len())
        + resource
            .document_text
            .as_ref()
            .map_or(0, |text| string(text.len()))
        + groups
        + name_norm.map_or(0, |name| 2 * string(name.len()))
}

impl ResourceCache {
    /// An empty cache holding at most `limit_bytes` of users.
    pub(crate) fn new(limit_bytes: usize) -> ResourceCache {
        ResourceCache {
            generation: AtomicU64::new(0),
            entries: RwLock::default(),
            pending: Mutex::default(),
            limit_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The generation to pass to [`ResourceCache::insert`]: read it *before* the
    /// database read whose result is kept.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn count(&self, found: Option<StoredResource>) -> Option<StoredResource> {
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The user `id` of `tenant` as a read loading `fetch` would find it, if cached.
    pub(crate) fn get(&self, tenant: &str, id: &str, fetch: Fetch) -> Option<StoredResource> {
        let found = {
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            entries
                .tenants
                .get(tenant)
                .and_then(|users| users.by_id.get(id))
                .filter(|entry| entry.fetch == fetch)
                .map(|entry| entry.resource.clone())
        };
        self.count(found)
    }

    /// The user of `tenant` whose folded `userName` is `name_norm`, as a lookup
    /// loading `fetch` would find it, if cached.
    pub(crate) fn get_by_name(
        &self,
        tenant: &str,
        name_norm: &str,
        fetch: Fetch,
    ) -> Option<StoredResource> {
        let found = {
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            entries.tenants.get(tenant).and_then(|users| {
                let id = users.by_name.get(name_norm)?;
                users
                    .by_id
                    .get(id)
                    .filter(|entry| {
                        entry.fetch == fetch && entry.name_norm.as_deref() == Some(name_norm)
                    })
                    .map(|entry| entry.resource.clone())
            })
        };
        self.count(found)
    }

    /// Keeps a user a database read found, unless a noted write ended since
    /// `generation` was taken. `name_norm` is the folded `userName` the read looked the
    /// user up by, if it was a `userName eq` lookup; a read by id does not replace an
    /// entry already there.
    pub(crate) fn insert(
        &self,
        generation: u64,
        tenant: &str,
        fetch: Fetch,
        resource: &StoredResource,
        name_norm: Option<&str>,
    ) {
        let bytes = estimated_bytes(resource, name_norm) + tenant.len();
        // Only documents read as text are kept: their size is known without a walk,
        // and the reads that render (the ones worth answering) ask for the text.
        if resource.document_text.is_none() || bytes > self.limit_bytes {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        // Under the lock, so that an emptying cannot fall between this check and the
        // insert: `after_transaction` moves the generation on before it takes the lock.
        if self.generation() != generation {
            return;
        }
        let users = entries.tenants.get(tenant);
        let existing = users.and_then(|users| users.by_id.get(&resource.id));
        if name_norm.is_none() && existing.is_some() {
            return;
        }
        let replaced = existing.map_or(0, |entry| entry.bytes);
        if entries.bytes - replaced + bytes > self.limit_bytes {
            entries.evict_down_to(self.limit_bytes / 4 * 3);
        }
        let Entries {
            tenants,
            bytes: total,
        } = &mut *entries;
        let users = tenants.entry(tenant.to_owned()).or_default();
        if let Some(name) = name_norm {
            users.by_name.insert(name.to_owned(), resource.id.clone());
        }
        let entry = Entry {
            fetch,
            resource: resource.clone(),
            name_norm: name_norm.map(str::to_owned),
            bytes,
        };
        if let Some(old) = users.by_id.insert(resource.id.clone(), entry) {
            *total -= old.bytes;
        }
        *total += bytes;
    }

    /// Notes, on the writer thread and inside the transaction, that user `id` of
    /// `tenant` is being written.
    pub(crate) fn note_user(&self, tenant: &str, id: &str) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.users.push((tenant.to_owned(), id.to_owned()));
    }

    /// Notes, on the writer thread and inside the transaction, that any user of
    /// `tenant` may change (a group's write changes its members' `groups`).
    pub(crate) fn note_tenant(&self, tenant: &str) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.tenants.push(tenant.to_owned());
    }

    /// After a transaction ends (committed or not) and before its writes are
    /// answered: removes what its writes noted. A rolled-back write's note removes a
    /// user for nothing, which costs a read.
    pub(crate) fn after_transaction(&self) {
        let pending = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            if pending.is_empty() {
                return;
            }
            std::mem::take(&mut *pending)
        };
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let Entries { tenants, bytes } = &mut *entries;
        for tenant in &pending.tenants {
            if let Some(users) = tenants.remove(tenant) {
                *bytes -= users.by_id.values().map(|entry| entry.bytes).sum::<usize>();
            }
        }
        for (tenant, id) in &pending.users {
            let Some(users) = tenants.get_mut(tenant) else {
                continue;
            };
            if let Some(entry) = users.by_id.remove(id) {
                *bytes -= entry.bytes;
                if let Some(name) = &entry.name_norm {
                    users.by_name.remove(name);
                }
            }
        }
    }

    /// Empties the cache: anything in it may be out of date.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.tenants.clear();
        entries.bytes = 0;
    }

    pub(crate) fn stats(&self) -> ResourceCacheStats {
        ResourceCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    #[cfg(test)]
    fn held_bytes(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimd_protocol::resource::{GroupRef, Meta};
    use scimd_protocol::ResourceKind;
    use time::OffsetDateTime;

    const FETCH: Fetch = Fetch {
        members: false,
        groups: true,
        document_text: true,
    };

    fn user(id: &str, text: &str) -> StoredResource {
        let now = OffsetDateTime::UNIX_EPOCH;
        StoredResource {
            id: id.into(),
            kind: ResourceKind::User,
            document: Default::default(),
            document_text: Some(text.into()),
            meta: Meta {
                created: now,
                last_modified: now,
                version: 1,
            },
            members: None,
            groups: Some(vec![GroupRef {
                value: "g1".into(),
                display: Some("staff".into()),
            }]),
        }
    }

    #[test]
    fn a_kept_user_is_found_by_id_in_its_own_tenant_and_for_the_same_fetch() {
        let cache = ResourceCache::new(DEFAULT_LIMIT_BYTES);
        assert_eq!(cache.get("acme", "u1", FETCH), None);
        cache.insert(cache.generation(), "acme", FETCH, &user("u1", "{}"), None);
        assert_eq!(cache.get("acme", "u1", FETCH), Some(user("u1", "{}")));
        assert_eq!(cache.get("globex", "u1", FETCH), None);
        let other = Fetch {
            groups: false,
            ..FETCH
        };
        assert_eq!(cache.get("acme", "u1", other), None);
        assert_eq!(cache.stats(), ResourceCacheStats { hits: 1, misses: 3 });
    }

    #[test]
    fn a_name_is_answered_only_by_an_entry_a_lookup_of_that_name_filled() {
        let cache = ResourceCache::new(DEFAULT_LIMIT_BYTES);
        cache.insert(cache.generation(), "acme", FETCH, &user("u1", "{}"), None);
        assert_eq!(cache.get_by_name("acme", "ada", FETCH), None, "read by id");
        cache.insert(
            cache.generation(),
            "acme",
            FETCH,
            &user("u1", "{}"),
            Some("ada"),
        );
        assert!(cache.get_by_name("acme", "ada", FETCH).is_some());
        assert_eq!(cache.get_by_name("acme", "bob", FETCH), None);
        assert_eq!(cache.get_by_name("globex", "ada", FETCH), None);
        // A read by id afterwards leaves the name where it is.
        cache.insert(cache.generation(), "acme", FETCH, &user("u1", "{}"), None);
        assert!(cache.get_by_name("acme", "ada", FETCH).is_some());
    }

    #[test]
    fn a_noted_user_is_gone_once_the_transaction_ends_and_only_then() {
        let cache = ResourceCache::new(DEFAULT_LIMIT_BYTES);
        cache.insert(
            cache.generation(),
            "acme",
            FETCH,
            &user("u1", "{}"),
            Some("ada"),
        );
        cache.insert(cache.generation(), "acme", FETCH, &user("u2", "{}"), None);
        cache.note_user("acme", "u1");
        assert!(
            cache.get("acme", "u1", FETCH).is_some(),
            "not before the end"
        );
        cache.after_transaction();
        assert_eq!(cache.get("acme", "u1", FETCH), None);
        assert_eq!(cache.get_by_name("acme", "ada", FETCH), None);
        assert!(
            cache.get("acme", "u2", FETCH).is_some(),
            "another user stays"
        );
    }

    #[test]
    fn a_noted_tenant_loses_all_its_users_and_no_other() {
        let cache = ResourceCache::new(DEFAULT_LIMIT_BYTES);
        cache.insert(cache.generation(), "acme", FETCH, &user("u1", "{}"), None);
        cache.insert(cache.generation(), "globex", FETCH, &user("u1", "{}"), None);
        cache.note_tenant("acme");
        cache.after_transaction();
        assert_eq!(cache.get("acme", "u1", FETCH), None);
        assert!(cache.get("globex", "u1", FETCH).is_some());
    }

    #[test]
    fn a_read_from_before_a_write_ended_is_not_kept() {
        let cache = ResourceCache::new(DEFAULT_LIMIT_BYTES);
        let before = cache.generation();
        cache.note_user("acme", "u9");
        cache.after_transaction();
        cache.insert(before, "acme", FETCH, &user("u1", "{}"), None);
        assert_eq!(cache.get("acme", "u1", FETCH), None);
        // A transaction that noted nothing does not move the generation.
        let now = cache.generation();
        cache.after_transaction();
        cache.insert(now, "acme", FETCH, &user("u1", "{}"), None);
        assert!(cache.get("acme", "u1", FETCH).is_some());
        cache.invalidate();
        assert_eq!(cache.get("acme", "u1", FETCH), None);
    }

    #[test]
    fn the_cache_stays_within_its_limit() {
        let text = "x".repeat(1000);
        let one = estimated_bytes(&user("u0", &text), None) + "acme".len();
        let cache = ResourceCache::new(one * 3);
        for n in 0..3 {
            cache.insert(
                cache.generation(),
                "acme",
                FETCH,
                &user(&format!("u{n}"), &text),
                None,
            );
        }
        assert_eq!(cache.held_bytes(), one * 3);
        cache.insert(cache.generation(), "acme", FETCH, &user("u3", &text), None);
        assert_eq!(cache.held_bytes(), one * 3, "one dropped, the new one kept");
        assert!(cache.get("acme", "u3", FETCH).is_some());
        let kept = (0..3)
            .filter(|n| cache.get("acme", &format!("u{n}"), FETCH).is_some())
            .count();
        assert_eq!(kept, 2);
        // Replacing an entry counts its size once.
        let named = estimated_bytes(&user("u3", &text), Some("n")) + "acme".len();
        cache.insert(
            cache.generation(),
            "acme",
            FETCH,
            &user("u3", &text),
            Some("n"),
        );
        assert_eq!(cache.held_bytes(), one * 2 + named);
        assert!(cache.get_by_name("acme", "n", FETCH).is_some());
        // A user larger than the whole cache is not kept.
        cache.insert(
            cache.generation(),
            "acme",
            FETCH,
            &user("big", &"y".repeat(5000)),
            None,
        );
        assert_eq!(cache.get("acme", "big", FETCH), None);
    }
}
