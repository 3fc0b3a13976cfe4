//! Provisioning logs on PostgreSQL. The listing query is shared with SQLite
//! ([`crate::sql::log_query`]); `seq` comes from an identity column (see
//! migrations/postgres/0003_provisioning_logs.sql), so nodes appending at once need no
//! lock between them.

use super::failure::PgResult;
use super::resources::bind_all;
use super::tenants::lock_tenant;
use crate::sql::log_query::{next_cursor, plan_list};
use crate::timestamp;
use crate::{LogClient, LogEntry, LogPage, LogQuery, NewLogEntry, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use std::collections::BTreeMap;
use time::OffsetDateTime;

fn entry_from_row(row: &PgRow) -> PgResult<LogEntry> {
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

/// Appends entries in the caller's transaction, one statement per tenant. Entries of
/// a tenant that no longer exists are skipped (its requests were buffered while it
/// was deleted), so one deleted tenant cannot make a whole batch fail.
pub(super) async fn append(conn: &mut PgConnection, entries: &[NewLogEntry]) -> PgResult<u64> {
    let mut by_tenant: BTreeMap<&str, Vec<&NewLogEntry>> = BTreeMap::new();
    for entry in entries {
        by_tenant.entry(&entry.tenant_id).or_default().push(entry);
    }
    let mut written = 0;
    for (tenant, entries) in by_tenant {
        if !lock_tenant(conn, tenant).await? {
            continue;
        }
        let column = |f: &dyn Fn(&NewLogEntry) -> Option<String>| -> Vec<Option<String>> {
            entries.iter().map(|e| f(e)).collect()
        };
        let numbers = |f: &dyn Fn(&NewLogEntry) -> i64| -> Vec<i64> {
            entries.iter().map(|e| f(e)).collect()
        };
        // WITH ORDINALITY + ORDER BY: the identity follows the batch's order, so of two
        // entries with the same `at` the later one sorts first (newest first).
        let done = sqlx::query(
            "INSERT INTO provisioning_logs (tenant_id, at, method, path, status, latency_us, \
             scim_type, detail, client, resource_id, request_id, request_body, response_body) \
             SELECT $1, at, method, path, status, latency_us, scim_type, detail, client, \
                    resource_id, request_id, request_body, response_body \
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], \
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
                         $12::text[], $13::text[]) WITH ORDINALITY \
                  AS x(at, method, path, status, latency_us, scim_type, detail, client, \
                       resource_id, request_id, request_body, response_body, ord) \
             ORDER BY ord",
        )
        .bind(tenant)
        .bind(column(&|e| Some(timestamp::format(e.at))))
        .bind(column(&|e| Some(e.method.clone())))
        .bind(column(&|e| Some(e.path.clone())))
        .bind(numbers(&|e| i64::from(e.status)))
        .bind(numbers(&|e| {
            i64::try_from(e.latency_us).unwrap_or(i64::MAX)
        }))
        .bind(column(&|e| e.scim_type.clone()))
        .bind(column(&|e| e.detail.clone()))
        .bind(column(&|e| Some(e.client.as_str().to_owned())))
        .bind(column(&|e| e.resource_id.clone()))
        .bind(column(&|e| Some(e.request_id.clone())))
        .bind(column(&|e| e.request_body.clone()))
        .bind(column(&|e| e.response_body.clone()))
        .execute(&mut *conn)
        .await?;
        written += done.rows_affected();
    }
    Ok(written)
}

pub(super) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    query: &LogQuery,
) -> PgResult<LogPage> {
    let (sql, binds) = plan_list(tenant, query)?;
    let rows = bind_all(sqlx::query(&sql), binds.values())
        .fetch_all(&mut *conn)
        .await?;
    let mut entries = rows
        .iter()
        .map(entry_from_row)
        .collect::<PgResult<Vec<_>>>()?;
    let next_cursor = next_cursor(&mut entries, query);
    Ok(LogPage {
        entries,
        next_cursor,
    })
}

/// Deletes a tenant's entries older than `older_than`, then all but the newest
/// `keep_newest`. Returns how many were deleted.
pub(super) async fn prune(
    conn: &mut PgConnection,
    tenant: &str,
    older_than: OffsetDateTime,
    keep_newest: u64,
) -> PgResult<u64> {
    let by_age = sqlx::query("DELETE FROM provisioning_logs WHERE tenant_id = $1 AND at < $2")
        .bind(tenant)
        .bind(timestamp::format(older_than))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let offset = i64::try_from(keep_newest)
        .map_err(|_| StoreError::Database("keep_newest out of range".into()))?;
    let by_count = sqlx::query(
        "DELETE FROM provisioning_logs d USING ( \
             SELECT at, seq FROM provisioning_logs WHERE tenant_id = $1 \
             ORDER BY at DESC, seq DESC LIMIT 1 OFFSET $2) b \
         WHERE d.tenant_id = $1 AND (d.at < b.at OR (d.at = b.at AND d.seq <= b.seq))",
    )
    .bind(tenant)
    .bind(offset)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(by_age + by_count)
}
