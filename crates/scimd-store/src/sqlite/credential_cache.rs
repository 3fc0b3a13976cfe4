//! What authentication reads, kept in memory: the tenant and the token a bearer token
//! names ([`crate::Store::get_tenant_with_token`]).
//!
//! Every SCIM request reads them. From SQLite that read cost 12% of the server's CPU
//! under `mixed` (docs/benchmarks.md, item 54): a read transaction's lock, and pages
//! re-read because every commit discards the readers' page caches. The rows change
//! rarely (a token issued, revoked or expiring; a tenant enabled or disabled), so they
//! are kept here, and the cache is emptied whenever they may have changed:
//!
//! - **Changes made by this store** are seen as they commit. Migration 7's triggers
//!   move the `credential_epoch` row on every change to `tenants` or `tokens` (a
//!   token's last use aside); the writer connection's update hook notes that row's
//!   change ([`CredentialWatch`]), and the writer empties the cache after the commit
//!   and before it answers. So an administrator's revocation is in force by the time
//!   the API says it is done.
//! - **Changes made by another process** (the CLI on the same file) are seen when the
//!   checkpoint thread next reads the counter ([`EpochPoll`]): within
//!   [`super::checkpoint::EPOCH_POLL_INTERVAL`] (20 ms) of their commit, or, while
//!   the thread is busy with a checkpoint round under a heavy write load, when that
//!   round ends (tens of milliseconds: a copy and an `fsync`). Before this cache, such
//!   a change took effect on the very next request; that is still so for changes made
//!   through the server itself, and on PostgreSQL, which has no such cache.
//!
//! The cache holds database rows, not decisions: the presented secret is still
//! compared with the stored hash on every request, and expiry is still checked
//! against the clock. Only tokens that exist are kept, so unknown token ids cannot
//! fill it, and it holds at most [`MAX_ENTRIES`].
//!
//! Why a generation and not only `clear()`: a read that began before a change may
//! finish after the cache was emptied, and must not put its old rows back. Each read
//! notes the generation before it reads the database and stores its result only if
//! the generation is still the same; an emptying moves the generation on first.

use super::db::query_scalar;
use super::resource_cache::ResourceCache;
use crate::{StoreResult, Tenant, TokenRecord};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// The most tokens kept; the cache is emptied when it would hold more. Deployments
/// have a few tokens per tenant, so this is thousands of tenants' worth.
pub(super) const MAX_ENTRIES: usize = 16_384;

/// A tenant and one of its tokens, as [`super::tenants::get_tenant_with_token`] read
/// them.
type Credentials = (Tenant, Option<TokenRecord>);

#[derive(Debug)]
struct Entry {
    generation: u64,
    tenant: Tenant,
    token: TokenRecord,
}

/// The cache: entries by token id (token ids are unique across tenants).
#[derive(Debug)]
pub(crate) struct CredentialCache {
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Entry>>,
    /// The epoch as this store's writer left it after its last change of a tenant or
    /// token, or [`NO_EPOCH`]: the poll need not empty the cache again for it.
    own_epoch: AtomicI64,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Emptied with this cache: the resource cache, whose users a tenant's deletion
    /// (by any process) takes away ([`super::resource_cache`]).
    also: OnceLock<Arc<ResourceCache>>,
}

/// No epoch noted yet (the counter starts at 0 and only grows).
const NO_EPOCH: i64 = -1;

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache {
            generation: AtomicU64::new(0),
            entries: RwLock::default(),
            own_epoch: AtomicI64::new(NO_EPOCH),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            also: OnceLock::new(),
        }
    }
}

/// How often the cache answered, for tests and operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CredentialCacheStats {
    /// Lookups answered from memory.
    pub hits: u64,
    /// Lookups that read the database.
    pub misses: u64,
    /// How many times the cache has been emptied.
    pub invalidations: u64,
}

impl CredentialCache {
    /// The generation to pass to [`CredentialCache::insert`] after reading the
    /// database: read it *before* the read.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The tenant `tenant` with its token `token_id`, if both are cached and current.
    pub(super) fn get(&self, tenant: &str, token_id: &str) -> Option<Credentials> {
        let current = self.generation();
        let found = {
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            entries
                .get(token_id)
                .filter(|entry| entry.generation == current && entry.tenant.id == tenant)
                .map(|entry| (entry.tenant.clone(), Some(entry.token.clone())))
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps what a database read found, unless the cache was emptied since
    /// `generation` was taken (the read may predate the change that emptied it). Only
    /// a token that exists is kept.
    pub(super) fn insert(&self, generation: u64, read: &Option<Credentials>) {
        let Some((tenant, Some(token))) = read else {
            return;
        };
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        // Under the lock, so that an emptying cannot fall between this check and the
        // insert: `invalidate` moves the generation on before it takes the lock.
        if self.generation() != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&token.id) {
            entries.clear();
        }
        entries.insert(
            token.id.clone(),
            Entry {
                generation,
                tenant: tenant.clone(),
                token: token.clone(),
            },
        );
    }

    /// Empties the cache: what it holds may be out of date. Empties `also` too.
    pub(super) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        if let Some(resources) = self.also.get() {
            resources.invalidate();
        }
    }

    /// Empties `resources` whenever this cache is emptied: whenever a tenant or a
    /// token changed, by this process or another. Set once.
    pub(super) fn also_empty(&self, resources: Arc<ResourceCache>) {
        let _ = self.also.set(resources);
    }

    /// Notes the epoch the writer read after its own change (and before it empties
    /// the cache for it).
    fn note_own_epoch(&self, epoch: i64) {
        self.own_epoch.store(epoch, Ordering::SeqCst);
    }

    fn own_epoch(&self) -> i64 {
        self.own_epoch.load(Ordering::SeqCst)
    }

    pub(super) fn stats(&self) -> CredentialCacheStats {
        CredentialCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.generation(),
        }
    }
}

/// The table whose row migration 7's triggers move on.
const EPOCH_TABLE: &str = "credential_epoch";

/// The counter's current value, as `conn` sees it.
pub(super) fn read_epoch(conn: &Connection) -> StoreResult<i64> {
    query_scalar(conn, "SELECT value FROM credential_epoch WHERE id = 1", &[])
}

/// The writer's side: an update hook on the writer connection notes a change of the
/// epoch row, and [`CredentialWatch::after_commit`] empties the cache once the
/// transaction is over.
#[derive(Debug, Clone)]
pub(super) struct CredentialWatch {
    changed: Arc<AtomicBool>,
    cache: Arc<CredentialCache>,
}

impl CredentialWatch {
    /// Watches `conn` (the writer connection) for changes of the epoch row.
    pub(super) fn install(conn: &Connection, cache: Arc<CredentialCache>) -> CredentialWatch {
        let changed = Arc::new(AtomicBool::new(false));
        let noted = changed.clone();
        conn.update_hook(Some(
            move |_: rusqlite::hooks::Action, _db: &str, table: &str, _row: i64| {
                if table == EPOCH_TABLE {
                    noted.store(true, Ordering::SeqCst);
                }
            },
        ));
        CredentialWatch { changed, cache }
    }

    /// After a transaction on `conn` ends (committed or not): empties the cache if
    /// the transaction changed a tenant or a token. A rolled-back change empties it
    /// for nothing, which costs a few reads.
    ///
    /// It first notes the counter as it is now, so that the poll does not empty the
    /// cache a second time for this change. That is safe even if another process
    /// committed meanwhile: its change came before the emptying below. Values only
    /// grow, so any later change by another process shows a value different from
    /// the one noted.
    pub(super) fn after_commit(&self, conn: &Connection) {
        if !self.changed.swap(false, Ordering::SeqCst) {
            return;
        }
        // Inside a transaction left open the counter may not be committed: not noted.
        if conn.is_autocommit() {
            if let Ok(epoch) = read_epoch(conn) {
                self.cache.note_own_epoch(epoch);
            }
        }
        self.cache.invalidate();
    }
}

/// The checkpoint thread's side: reads the epoch row each round and empties the cache
/// when another process moved it.
#[derive(Debug)]
pub(super) struct EpochPoll {
    cache: Arc<CredentialCache>,
    /// The value seen last; `None` after a failed read, so that the next read
    /// empties the cache whatever it finds.
    last_seen: Option<i64>,
}

impl EpochPoll {
    /// `opened_at` is the counter read when the store opened, before anything was
    /// cached.
    pub(super) fn new(cache: Arc<CredentialCache>, opened_at: i64) -> EpochPoll {
        EpochPoll {
            cache,
            last_seen: Some(opened_at),
        }
    }

    /// Reads the counter on `conn` (a connection that is not inside a transaction,
    /// so it reads the newest commit) and empties the cache if it moved, unless to
    /// the value this store's writer noted after its own change (it emptied the
    /// cache itself). A failed read empties it too: what changed cannot be known.
    pub(super) fn poll(&mut self, conn: &Connection) {
        match read_epoch(conn) {
            Ok(value) if self.last_seen == Some(value) => {}
            Ok(value) if self.last_seen.is_some() && value == self.cache.own_epoch() => {
                self.last_seen = Some(value);
            }
            Ok(value) => {
                self.last_seen = Some(value);
                self.cache.invalidate();
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not read the credential epoch");
                self.last_seen = None;
                self.cache.invalidate();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantLogSettings;
    use time::OffsetDateTime;

    fn credentials(tenant: &str, token: &str) -> Option<Credentials> {
        let now = OffsetDateTime::now_utc();
        Some((
            Tenant {
                id: tenant.into(),
                display_name: tenant.into(),
                provisioning_enabled: true,
                created: now,
                updated: now,
                log: TenantLogSettings::default(),
            },
            Some(TokenRecord {
                id: token.into(),
                tenant_id: tenant.into(),
                name: "entra".into(),
                secret_hash: vec![1, 2, 3],
                created: now,
                last_used: None,
                expires: None,
                revoked: None,
            }),
        ))
    }

    #[test]
    fn a_kept_token_is_found_for_its_own_tenant_only() {
        let cache = CredentialCache::default();
        assert_eq!(cache.get("acme", "tok1"), None);
        cache.insert(cache.generation(), &credentials("acme", "tok1"));
        let (tenant, token) = cache.get("acme", "tok1").expect("cached");
        assert_eq!(tenant.id, "acme");
        assert_eq!(token.map(|t| t.id).as_deref(), Some("tok1"));
        assert_eq!(cache.get("globex", "tok1"), None);
        assert_eq!(
            cache.stats(),
            CredentialCacheStats {
                hits: 1,
                misses: 2,
                invalidations: 0
            }
        );
    }

    #[test]
    fn unknown_tokens_and_tenants_are_not_kept() {
        let cache = CredentialCache::default();
        let mut tenant_only = credentials("acme", "tok1");
        if let Some((_, token)) = tenant_only.as_mut() {
            *token = None;
        }
        cache.insert(cache.generation(), &tenant_only);
        cache.insert(cache.generation(), &None);
        assert_eq!(cache.entries.read().unwrap().len(), 0);
    }

    #[test]
    fn a_read_from_before_an_invalidation_is_not_kept() {
        let cache = CredentialCache::default();
        let before = cache.generation();
        cache.invalidate();
        cache.insert(before, &credentials("acme", "tok1"));
        assert_eq!(cache.get("acme", "tok1"), None);
        cache.insert(cache.generation(), &credentials("acme", "tok1"));
        assert!(cache.get("acme", "tok1").is_some());
        cache.invalidate();
        assert_eq!(cache.get("acme", "tok1"), None);
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = CredentialCache::default();
        for n in 0..MAX_ENTRIES {
            cache.insert(cache.generation(), &credentials("acme", &format!("tok{n}")));
        }
        assert_eq!(cache.entries.read().unwrap().len(), MAX_ENTRIES);
        cache.insert(cache.generation(), &credentials("acme", "one-more"));
        assert_eq!(cache.entries.read().unwrap().len(), 1);
        assert!(cache.get("acme", "one-more").is_some());
    }

    fn epoch_database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE credential_epoch (id INTEGER PRIMARY KEY, value INTEGER NOT NULL);
             INSERT INTO credential_epoch VALUES (1, 0);",
        )
        .unwrap();
        conn
    }

    fn bump(conn: &Connection) {
        conn.execute_batch("UPDATE credential_epoch SET value = value + 1")
            .unwrap();
    }

    #[test]
    fn the_poll_empties_the_cache_when_another_process_moved_the_counter() {
        let conn = epoch_database();
        let cache = Arc::new(CredentialCache::default());
        let mut poll = EpochPoll::new(cache.clone(), read_epoch(&conn).unwrap());
        cache.insert(cache.generation(), &credentials("acme", "tok1"));
        poll.poll(&conn);
        assert!(cache.get("acme", "tok1").is_some(), "nothing moved");
        bump(&conn);
        poll.poll(&conn);
        assert_eq!(cache.get("acme", "tok1"), None);
        cache.insert(cache.generation(), &credentials("acme", "tok1"));
        conn.execute_batch("DROP TABLE credential_epoch").unwrap();
        poll.poll(&conn);
        assert_eq!(cache.get("acme", "tok1"), None, "a failed read empties it");
    }

    #[test]
    fn the_poll_leaves_the_writers_own_change_to_the_writer() {
        let conn = epoch_database();
        let cache = Arc::new(CredentialCache::default());
        let mut poll = EpochPoll::new(cache.clone(), read_epoch(&conn).unwrap());
        let watch = CredentialWatch::install(&conn, cache.clone());
        bump(&conn);
        watch.after_commit(&conn);
        assert_eq!(cache.stats().invalidations, 1, "the writer emptied it");
        cache.insert(cache.generation(), &credentials("acme", "tok1"));
        poll.poll(&conn);
        assert!(cache.get("acme", "tok1").is_some(), "not emptied twice");
        // Another process's change after it is a different value.
        conn.update_hook(None::<fn(rusqlite::hooks::Action, &str, &str, i64)>);
        bump(&conn);
        poll.poll(&conn);
        assert_eq!(cache.get("acme", "tok1"), None);
    }

    #[test]
    fn the_watch_empties_the_cache_after_the_epoch_row_changed() {
        let conn = epoch_database();
        conn.execute_batch("CREATE TABLE other (x INTEGER)")
            .unwrap();
        let cache = Arc::new(CredentialCache::default());
        let watch = CredentialWatch::install(&conn, cache.clone());
        cache.insert(cache.generation(), &credentials("acme", "tok1"));
        conn.execute_batch("INSERT INTO other VALUES (1)").unwrap();
        watch.after_commit(&conn);
        assert!(cache.get("acme", "tok1").is_some(), "another table");
        bump(&conn);
        assert!(
            cache.get("acme", "tok1").is_some(),
            "kept until the transaction is over"
        );
        watch.after_commit(&conn);
        assert_eq!(cache.get("acme", "tok1"), None);
        assert_eq!(cache.stats().invalidations, 1);
        assert_eq!(cache.own_epoch(), 1, "the value after the change");
        watch.after_commit(&conn);
        assert_eq!(cache.stats().invalidations, 1, "noted once");
    }
}
