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
];

/// Applies every migration the database has not seen yet.
pub(super) fn run(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            name    TEXT    NOT NULL,
            applied TEXT    NOT NULL
        )",
    )?;
    for (version, name, sql) in MIGRATIONS {
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
