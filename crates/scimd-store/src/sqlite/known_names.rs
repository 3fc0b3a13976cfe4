//! The names the database may hold, kept in memory so that a lookup of a name it
//! cannot hold is answered without reading it.
//!
//! An identity provider asks before it creates: Entra ID's cycle sends
//! `userName eq "…"` for every user it is about to provision, and a group's
//! `displayName eq "…"` before the group (idp-clients.md), and Okta does the same on
//! every push. On a first cycle, or for each new hire afterwards, the answer is "no
//! such user". From SQLite that answer costs a read transaction, its WAL-index locks
//! and, since every commit discards the readers' page caches, the index pages read
//! again: 6-7% of the server's CPU under entra-cycle (docs/benchmarks.md, item 73).
//!
//! This set holds a 64-bit keyed hash of every `(tenant, kind, name)` a row may
//! carry: users' `user_name_norm` and groups' `display_name_norm`, the unique names an
//! `eq` lookup compares with. When the hash of a looked-up name is not in it, no row
//! has that name, and the list is empty without a read. When it is, the read runs as
//! before: a hash collision or a name since deleted or renamed costs one read, never a
//! wrong answer. The one thing that must never happen is a row whose name is missing
//! from the set, and three rules keep it so:
//!
//! - **Loaded on the writer connection, between write groups** ([`load`], run as the
//!   writer's raw work when the store opens): it sees every committed row, and no write
//!   runs while it reads. Until it has run, every lookup reads the database.
//! - **Noted before the row is written** ([`KnownNames::note`], called by
//!   `resources::write_row` on the writer thread before an INSERT, or an UPDATE that changes the name; an update that keeps it writes a name already here): the
//!   name is in the set before the commit makes the row visible. A write that then
//!   fails leaves its name behind, which costs a read, nothing more.
//! - **No other process writes resources to the file.** The set only sees this
//!   store's writes, so it is used only by a store opened as the file's one server
//!   (`SqliteOptions::sole_server`), which holds an exclusive lock on
//!   `<database>-server.lock` for as long as it is open; a second server on the same
//!   file refuses to start. The CLI's commands (tenants, tokens, credentials, logs)
//!   never write users or groups; deleting a tenant only removes names.
//!
//! Names are not removed on delete or rename (a hash set cannot tell whether another
//! row shares a hash), so the set grows with every name ever written since the store
//! opened. It holds at most [`MAX_NAMES`] hashes (about 16-32 bytes each, so ~64 MB at
//! worst); past that it is dropped and every lookup reads the database again, as
//! before this set existed, until the server restarts.

use crate::StoreResult;
use rusqlite::Connection;
use scimd_protocol::ResourceKind;
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

/// The most name hashes kept: two million names, users and groups of every tenant.
pub(crate) const MAX_NAMES: usize = 2_000_000;

/// Where the set is in its life.
#[derive(Debug)]
enum State {
    /// Not loaded yet: every lookup reads the database.
    Loading,
    /// Loaded, and every name written since noted.
    Ready(HashSet<u64>),
    /// Dropped for growing past its limit: every lookup reads the database.
    GaveUp,
}

/// The set, shared by the writer thread (which notes names) and every request (which
/// looks them up).
#[derive(Debug)]
pub(crate) struct KnownNames {
    /// Keys the hashes: another process's names, or a crafted name, cannot be made to
    /// collide on purpose (a collision would only cost a read anyway).
    hasher: RandomState,
    state: RwLock<State>,
    limit: usize,
    /// Lookups answered "no such name" from memory, for tests and measurements.
    answered_absent: AtomicU64,
}

impl KnownNames {
    /// An empty set that is not loaded yet, holding at most `limit` names.
    pub(crate) fn new(limit: usize) -> KnownNames {
        KnownNames {
            hasher: RandomState::new(),
            state: RwLock::new(State::Loading),
            limit,
            answered_absent: AtomicU64::new(0),
        }
    }

    fn key(&self, tenant: &str, kind: ResourceKind, name_norm: &str) -> u64 {
        // A tuple's strings are hashed each with an end marker, so ("ab", "c") and
        // ("a", "bc") are different keys.
        self.hasher.hash_one((tenant, kind.name(), name_norm))
    }

    /// Whether a row of `kind` in `tenant` may have the folded name `name_norm`:
    /// `false` only when the set is loaded and does not hold it.
    pub(crate) fn may_exist(&self, tenant: &str, kind: ResourceKind, name_norm: &str) -> bool {
        let key = self.key(tenant, kind, name_norm);
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let absent = matches!(&*state, State::Ready(keys) if !keys.contains(&key));
        drop(state);
        if absent {
            self.answered_absent.fetch_add(1, Ordering::Relaxed);
        }
        !absent
    }

    /// Notes that a row of `kind` in `tenant` is about to be written with the folded
    /// name `name_norm`. Called on the writer thread before the row's statement.
    pub(crate) fn note(&self, tenant: &str, kind: ResourceKind, name_norm: &str) {
        let key = self.key(tenant, kind, name_norm);
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let State::Ready(keys) = &mut *state {
            if keys.insert(key) && keys.len() > self.limit {
                *state = State::GaveUp;
                drop(state);
                tracing::warn!(
                    limit = self.limit,
                    "more user and group names than the in-memory name set holds; \
                     name lookups read the database from now on"
                );
            }
        }
    }

    /// How many lookups were answered "no such name" without reading the database.
    pub(crate) fn answered_absent(&self) -> u64 {
        self.answered_absent.load(Ordering::Relaxed)
    }

    /// Whether lookups are answered from the set (loaded and not given up).
    pub(crate) fn is_ready(&self) -> bool {
        matches!(
            &*self.state.read().unwrap_or_else(PoisonError::into_inner),
            State::Ready(_)
        )
    }
}

/// Reads every user and group name from `conn` into `names` and makes it ready. Runs
/// on the writer connection outside any transaction, between write groups, so that
/// it sees every committed row and no write runs meanwhile (see the module docs).
pub(crate) fn load(conn: &Connection, names: &KnownNames) -> StoreResult<()> {
    let mut keys = HashSet::new();
    let mut too_many = false;
    // Both scans read only the unique name indexes (they cover these columns).
    'scans: for (kind, sql) in [
        (
            ResourceKind::User,
            "SELECT tenant_id, user_name_norm FROM users",
        ),
        (
            ResourceKind::Group,
            "SELECT tenant_id, display_name_norm FROM groups",
        ),
    ] {
        let mut statement = conn.prepare(sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            keys.insert(names.key(text(row, 0)?, kind, text(row, 1)?));
            if keys.len() > names.limit {
                too_many = true;
                break 'scans;
            }
        }
    }
    let mut state = names.state.write().unwrap_or_else(PoisonError::into_inner);
    if too_many {
        *state = State::GaveUp;
        drop(state);
        tracing::warn!(
            limit = names.limit,
            "more user and group names than the in-memory name set holds; \
             name lookups read the database"
        );
    } else if matches!(&*state, State::Loading) {
        *state = State::Ready(keys);
    }
    Ok(())
}

/// Column `index` of `row` as text, without a copy.
fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(index)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(names: &[(&str, &str)], groups: &[(&str, &str)]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (tenant_id TEXT, user_name_norm TEXT);
             CREATE TABLE groups (tenant_id TEXT, display_name_norm TEXT);",
        )
        .unwrap();
        for (tenant, name) in names {
            conn.execute("INSERT INTO users VALUES (?1, ?2)", [tenant, name])
                .unwrap();
        }
        for (tenant, name) in groups {
            conn.execute("INSERT INTO groups VALUES (?1, ?2)", [tenant, name])
                .unwrap();
        }
        conn
    }

    #[test]
    fn before_loading_every_name_may_exist() {
        let names = KnownNames::new(10);
        names.note("t", ResourceKind::User, "noted before the load");
        assert!(names.may_exist("t", ResourceKind::User, "anything"));
        assert!(!names.is_ready());
        assert_eq!(names.answered_absent(), 0);
    }

    #[test]
    fn loaded_names_are_kept_apart_by_tenant_and_kind() {
        let conn = db(&[("t1", "ada"), ("t2", "bob")], &[("t1", "staff")]);
        let names = KnownNames::new(10);
        load(&conn, &names).unwrap();
        assert!(names.is_ready());
        assert!(names.may_exist("t1", ResourceKind::User, "ada"));
        assert!(names.may_exist("t2", ResourceKind::User, "bob"));
        assert!(names.may_exist("t1", ResourceKind::Group, "staff"));
        assert!(
            !names.may_exist("t2", ResourceKind::User, "ada"),
            "other tenant"
        );
        assert!(
            !names.may_exist("t1", ResourceKind::Group, "ada"),
            "other kind"
        );
        assert!(
            !names.may_exist("t1", ResourceKind::User, "staff"),
            "other kind"
        );
        assert!(!names.may_exist("t1", ResourceKind::User, "ad"));
        assert!(
            !names.may_exist("t", ResourceKind::User, "1ada"),
            "split moved"
        );
        assert_eq!(names.answered_absent(), 5);
    }

    #[test]
    fn names_noted_after_loading_exist() {
        let names = KnownNames::new(10);
        load(&db(&[], &[]), &names).unwrap();
        assert!(!names.may_exist("t", ResourceKind::User, "carol"));
        names.note("t", ResourceKind::User, "carol");
        assert!(names.may_exist("t", ResourceKind::User, "carol"));
    }

    #[test]
    fn past_the_limit_every_name_may_exist_again() {
        let names = KnownNames::new(2);
        load(&db(&[("t", "a"), ("t", "b")], &[]), &names).unwrap();
        assert!(names.is_ready());
        assert!(!names.may_exist("t", ResourceKind::User, "c"));
        names.note("t", ResourceKind::User, "a");
        assert!(names.is_ready(), "a name noted again is not counted twice");
        names.note("t", ResourceKind::User, "c");
        assert!(!names.is_ready());
        assert!(names.may_exist("t", ResourceKind::User, "never written"));
        names.note("t", ResourceKind::User, "d");
        assert!(!names.is_ready(), "given up for good");
    }

    #[test]
    fn a_database_past_the_limit_is_never_used() {
        let names = KnownNames::new(2);
        load(&db(&[("t", "a"), ("t", "b")], &[("t", "g")]), &names).unwrap();
        assert!(!names.is_ready());
        assert!(names.may_exist("t", ResourceKind::User, "never written"));
    }
}
