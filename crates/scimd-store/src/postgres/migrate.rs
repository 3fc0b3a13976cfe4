//! Versioned migrations for PostgreSQL: the SQL files under `migrations/postgres/` are
//! embedded at compile time and applied in order, recorded in `schema_migrations`.
//!
//! Several stateless nodes may start at once against one database. All of them run
//! this in one transaction that first takes `LOCK TABLE schema_migrations IN ACCESS
//! EXCLUSIVE MODE`: the first node applies what is missing while the others wait on
//! the lock, then read its rows and apply nothing. DDL is transactional in
//! PostgreSQL, so a node that dies half-way leaves nothing applied. No advisory lock
//! is needed (engines such as CockroachDB do not have them).

use super::failure::{PgFailure, PgResult};
use crate::timestamp;
use crate::StoreError;
use sqlx::PgConnection;

/// (version, name, SQL), in version order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "credentials",
        include_str!("../../migrations/postgres/0002_credentials.sql"),
    ),
    (
        3,
        "provisioning_logs",
        include_str!("../../migrations/postgres/0003_provisioning_logs.sql"),
    ),
    (
        4,
        "log_write_cost",
        include_str!("../../migrations/postgres/0004_log_write_cost.sql"),
    ),
    (
        5,
        "external_id_one_index",
        include_str!("../../migrations/postgres/0005_external_id_one_index.sql"),
    ),
];

/// Every version this binary knows, in order.
pub(crate) fn versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|(v, _, _)| *v).collect()
}

/// The newest version this binary knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _, _)| *v)
}

/// Creates the bookkeeping table. Two nodes racing here may both try to create it;
/// the loser gets a unique violation on the catalog (23505), "relation already
/// exists" (42P07) or "type already exists" (42710, the table's row type), which only
/// mean that the other node won.
async fn create_bookkeeping(conn: &mut PgConnection) -> PgResult<()> {
    let created = sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT NOT NULL PRIMARY KEY,
            name    TEXT   NOT NULL,
            applied TEXT   NOT NULL
        )",
    )
    .execute(&mut *conn)
    .await;
    match created {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db))
            if db
                .code()
                .is_some_and(|code| matches!(code.as_ref(), "23505" | "42P07" | "42710")) =>
        {
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// Applies every migration the database has not seen yet; returns the versions this
/// call applied (empty when another node did, or nothing was pending).
pub(crate) async fn run(conn: &mut PgConnection) -> PgResult<Vec<i64>> {
    create_bookkeeping(conn).await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let seen: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    if let Some(newest) = seen.iter().max().filter(|v| **v > latest_version()) {
        return Err(PgFailure::Store(StoreError::Database(format!(
            "the database schema (version {newest}) is newer than this binary knows (version {})",
            latest_version()
        ))));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if seen.contains(version) {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(*name)
            .bind(timestamp::format(timestamp::now()))
            .execute(&mut *tx)
            .await?;
        applied.push(*version);
    }
    tx.commit().await?;
    Ok(applied)
}

/// The version the database is at (0 when it has never been migrated).
pub(crate) async fn current_version(conn: &mut PgConnection) -> PgResult<i64> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('schema_migrations')::text")
            .fetch_one(&mut *conn)
            .await?;
    if exists.is_none() {
        return Ok(0);
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await?;
    Ok(newest.unwrap_or(0))
}
