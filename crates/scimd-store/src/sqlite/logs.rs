//! Provisioning logs on SQLite. The listing query is shared with PostgreSQL
//! ([`crate::sql::log_query`]); appending assigns `seq` here (see [`append`]).

use super::bind_all;
use crate::sql::log_query::{next_cursor, plan_list, LOG_COLUMNS};
use crate::timestamp;
use crate::{LogClient, LogEntry, LogPage, LogQuery, NewLogEntry, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::collections::BTreeMap;
use time::OffsetDateTime;

fn entry_from_row(row: &SqliteRow) -> StoreResult<LogEntry> {
    let client: String = row.try_get("client")?;
    Ok(LogEntry {
        seq: row.try_get("seq")?,
        entry: NewLogEntry {
            tenant_id: row.try_get("tenant_id")?,
            at: timestamp::parse(row.try_get("at")?)?,
            method: row.try_get("method")?,
            path: row.try_get("path")?,
            status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(0),
            latency_us: u64::try_from(row.try_get::<i64, _>("latency_us")?).unwrap_or(0),
            scim_type: row.try_get("scim_type")?,
            detail: row.try_get("detail")?,
            client: LogClient::parse(&client).unwrap_or(LogClient::Other),
            resource_id: row.try_get("resource_id")?,
            request_id: row.try_get("request_id")?,
            request_body: row.try_get("request_body")?,
            response_body: row.try_get("response_body")?,
        },
    })
}

/// Appends entries in the caller's transaction. Entries of a tenant that no longer
/// exists (deleted while its requests were buffered) are skipped, so one deleted
/// tenant cannot make a whole batch fail. Returns how many were written.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    entries: &[NewLogEntry],
) -> StoreResult<u64> {
    let mut by_tenant: BTreeMap<&str, Vec<&NewLogEntry>> = BTreeMap::new();
    for entry in entries {
        by_tenant.entry(&entry.tenant_id).or_default().push(entry);
    }
    let mut written = 0;
    for (tenant, entries) in by_tenant {
        if !super::tenants::tenant_exists(conn, tenant).await? {
            continue;
        }
        // One writer at a time holds the write transaction, so MAX + 1 is unique.
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM provisioning_logs WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(&mut *conn)
        .await?;
        for (offset, entry) in (1_i64..).zip(entries) {
            sqlx::query(&format!(
                "INSERT INTO provisioning_logs ({LOG_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .bind(last + offset)
            .bind(tenant)
            .bind(timestamp::format(entry.at))
            .bind(&entry.method)
            .bind(&entry.path)
            .bind(i64::from(entry.status))
            .bind(i64::try_from(entry.latency_us).unwrap_or(i64::MAX))
            .bind(&entry.scim_type)
            .bind(&entry.detail)
            .bind(entry.client.as_str())
            .bind(&entry.resource_id)
            .bind(&entry.request_id)
            .bind(&entry.request_body)
            .bind(&entry.response_body)
            .execute(&mut *conn)
            .await?;
            written += 1;
        }
    }
    Ok(written)
}

pub(super) async fn list(
    conn: &mut SqliteConnection,
    tenant: &str,
    query: &LogQuery,
) -> StoreResult<LogPage> {
    let (sql, binds) = plan_list(tenant, query)?;
    let rows = bind_all(sqlx::query(&sql), binds.values())
        .fetch_all(&mut *conn)
        .await?;
    let mut entries = rows
        .iter()
        .map(entry_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    let next_cursor = next_cursor(&mut entries, query);
    Ok(LogPage {
        entries,
        next_cursor,
    })
}

/// Deletes a tenant's entries older than `older_than`, then all but the newest
/// `keep_newest`. Returns how many were deleted.
pub(super) async fn prune(
    conn: &mut SqliteConnection,
    tenant: &str,
    older_than: OffsetDateTime,
    keep_newest: u64,
) -> StoreResult<u64> {
    let by_age = sqlx::query("DELETE FROM provisioning_logs WHERE tenant_id = $1 AND at < $2")
        .bind(tenant)
        .bind(timestamp::format(older_than))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    // The newest entry beyond the ones kept, and everything older than it, go.
    let offset = i64::try_from(keep_newest)
        .map_err(|_| StoreError::Database("keep_newest out of range".into()))?;
    let boundary = sqlx::query(
        "SELECT at, seq FROM provisioning_logs WHERE tenant_id = $1 \
         ORDER BY at DESC, seq DESC LIMIT 1 OFFSET $2",
    )
    .bind(tenant)
    .bind(offset)
    .fetch_optional(&mut *conn)
    .await?;
    let by_count = match boundary {
        Some(row) => {
            let at: String = row.try_get("at")?;
            let seq: i64 = row.try_get("seq")?;
            sqlx::query(
                "DELETE FROM provisioning_logs WHERE tenant_id = $1 \
                 AND (at < $2 OR (at = $2 AND seq <= $3))",
            )
            .bind(tenant)
            .bind(at)
            .bind(seq)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        }
        None => 0,
    };
    Ok(by_age + by_count)
}
