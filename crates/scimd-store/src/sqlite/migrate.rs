//! A small versioned migration runner: the SQL files under `migrations/sqlite/` are
//! embedded at compile time and applied in order on the writer connection, each in its
//! own transaction, and recorded in `schema_migrations`.

use super::db::{execute, query_opt, query_scalar};
use crate::timestamp;
use crate::{StoreError, StoreResult};
use rusqlite::{Connection, TransactionBehavior};

/// (version, name, SQL), in version order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "credentials",
        include_str!("../../migrations/sqlite/0002_credentials.sql"),
    ),
    (
        3,
        "provisioning_logs",
        include_str!("../../migrations/sqlite/0003_provisioning_logs.sql"),
    ),
    (
        4,
        "log_write_cost",
        include_str!("../../migrations/sqlite/0004_log_write_cost.sql"),
    ),
    (
        5,
        "log_seq_is_rowid",
        include_str!("../../migrations/sqlite/0005_log_seq_is_rowid.sql"),
    ),
];

/// Applies every migration the database has not seen yet.
pub(super) fn run(conn: &mut Connection) -> StoreResult<()> {
    apply(conn, MIGRATIONS)
}

/// Applies those of `migrations` the database has not seen yet (tests stop early to
/// build a database of an older version).
fn apply(conn: &mut Connection, migrations: &[(i64, &str, &str)]) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            name    TEXT    NOT NULL,
            applied TEXT    NOT NULL
        )",
    )?;
    for (version, name, sql) in migrations {
        // BEGIN IMMEDIATE: two processes opening the same file at once serialise here,
        // and the second sees the first one's row.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied = query_opt(
            &tx,
            "SELECT version FROM schema_migrations WHERE version = $1",
            &[version],
            |_| Ok(()),
        )?;
        if applied.is_none() {
            tx.execute_batch(sql)?;
            execute(
                &tx,
                "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)",
                &[version, name, &timestamp::format(timestamp::now())],
            )?;
        }
        tx.commit()?;
    }
    let newest: Option<i64> =
        query_scalar(conn, "SELECT MAX(version) FROM schema_migrations", &[])?;
    let known = MIGRATIONS.last().map_or(0, |(v, _, _)| *v);
    if newest.unwrap_or(0) > known {
        return Err(StoreError::Database(format!(
            "the database schema (version {}) is newer than this binary knows (version {known})",
            newest.unwrap_or(0)
        )));
    }
    Ok(())
}

/// The versions recorded in `schema_migrations`, in order.
pub(super) fn versions(conn: &Connection) -> StoreResult<Vec<i64>> {
    super::db::query_all(
        conn,
        "SELECT version FROM schema_migrations ORDER BY version",
        &[],
        |row| Ok(row.get(0)?),
    )
}

/// A new database file with the migrations up to `version` applied, on a writer
/// connection, for unit tests of the schema. The directory goes with the first value.
#[cfg(test)]
pub(super) fn database_at_version(version: i64) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut conn = super::db::open_writer(&dir.path().join("scimd.db"), Default::default())
        .expect("open the database");
    let upto = MIGRATIONS.partition_point(|(v, _, _)| *v <= version);
    apply(&mut conn, &MIGRATIONS[..upto]).expect("migrations");
    (dir, conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LogClient, NewLogEntry};

    const AT_1: &str = "2026-01-01T00:00:01.000000Z";
    const AT_2: &str = "2026-01-01T00:00:02.000000Z";

    /// Migration 0005 renumbers the log across tenants and keeps each tenant's order,
    /// including entries that share an `at`; later appends come after them.
    #[test]
    fn version_5_renumbers_the_log_and_keeps_each_tenants_order() {
        let (_dir, mut conn) = database_at_version(4);
        for tenant in ["a", "b"] {
            execute(
                &conn,
                "INSERT INTO tenants (id, display_name, provisioning_enabled, created, updated) \
                 VALUES ($1, $1, 1, $2, $2)",
                &[&tenant, &AT_1],
            )
            .expect("tenant");
        }
        // Version 4 numbered per tenant: a has 1-3, b has 1-2; a's 1 and 2 share an `at`.
        let old_rows = [
            ("a", 1, AT_1, "a-first"),
            ("a", 2, AT_1, "a-second"),
            ("b", 1, AT_1, "b-first"),
            ("a", 3, AT_2, "a-third"),
            ("b", 2, AT_2, "b-second"),
        ];
        for (tenant, seq, at, request_id) in old_rows {
            execute(
                &conn,
                "INSERT INTO provisioning_logs (seq, tenant_id, at, method, path, status, \
                 latency_us, client, request_id) VALUES ($1, $2, $3, 'GET', '/Users', 200, 1, \
                 'other', $4)",
                &[&seq, &tenant, &at, &request_id],
            )
            .expect("old entry");
        }

        run(&mut conn).expect("version 5");

        fn listing(conn: &Connection, tenant: &str) -> Vec<(i64, String)> {
            super::super::db::query_all(
                conn,
                "SELECT seq, request_id FROM provisioning_logs WHERE tenant_id = $1 \
                 ORDER BY at DESC, seq DESC",
                &[&tenant],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("listing")
        }
        let ids = |rows: &[(i64, String)]| rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&listing(&conn, "a")),
            ["a-third", "a-second", "a-first"]
        );
        assert_eq!(ids(&listing(&conn, "b")), ["b-second", "b-first"]);
        let mut seqs: Vec<i64> = listing(&conn, "a")
            .iter()
            .chain(&listing(&conn, "b"))
            .map(|r| r.0)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), 5, "every entry has its own number");

        // The key is the rowid: the listing index is the table's only index.
        let indexes: Vec<String> = super::super::db::query_all(
            &conn,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'provisioning_logs'",
            &[],
            |row| Ok(row.get(0)?),
        )
        .expect("indexes");
        assert_eq!(indexes, ["provisioning_logs_at"]);

        // An entry appended now is numbered after all of them.
        let entry = NewLogEntry {
            tenant_id: "b".into(),
            at: crate::timestamp::parse(AT_2).expect("timestamp"),
            method: "POST".into(),
            path: "/Users".into(),
            status: 201,
            latency_us: 1,
            scim_type: None,
            detail: None,
            client: LogClient::Entra,
            resource_id: None,
            request_id: "b-third".into(),
            request_body: None,
            response_body: None,
        };
        let tx = conn.transaction().expect("transaction");
        assert_eq!(
            super::super::logs::append(&tx, &[entry]).expect("append"),
            1
        );
        tx.commit().expect("commit");
        let b = listing(&conn, "b");
        assert_eq!(ids(&b), ["b-third", "b-second", "b-first"]);
        assert!(b[0].0 > *seqs.last().expect("numbers"));
    }
}
