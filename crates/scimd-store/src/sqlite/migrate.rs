//! A small versioned migration runner: the SQL files under `migrations/sqlite/` are
//! embedded at compile time and applied in order, each in its own transaction, and
//! recorded in `schema_migrations`.

use crate::timestamp;
use crate::{StoreError, StoreResult};
use sqlx::SqlitePool;

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
];

/// Applies every migration the database has not seen yet.
pub(super) async fn run(pool: &SqlitePool) -> StoreResult<()> {
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            name    TEXT    NOT NULL,
            applied TEXT    NOT NULL
        )",
    )
    .execute(&mut *conn)
    .await?;
    for (version, name, sql) in MIGRATIONS {
        // BEGIN IMMEDIATE: two processes opening the same file at once serialise here,
        // and the second sees the first one's row.
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if applied.is_none() {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)",
            )
            .bind(version)
            .bind(*name)
            .bind(timestamp::format(timestamp::now()))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await?;
    let known = MIGRATIONS.last().map_or(0, |(v, _, _)| *v);
    if newest.unwrap_or(0) > known {
        return Err(StoreError::Database(format!(
            "the database schema (version {}) is newer than this binary knows (version {known})",
            newest.unwrap_or(0)
        )));
    }
    Ok(())
}
