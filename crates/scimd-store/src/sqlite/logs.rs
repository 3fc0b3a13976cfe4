//! Provisioning logs on SQLite. The listing query is shared with PostgreSQL
//! ([`crate::sql::log_query`]). `seq` is the table's rowid (migration 0005), so
//! SQLite numbers the entries as they are appended.
//!
//! The table lives in the log's own file, attached as `logs` on every connection
//! ([`super::db::log_path`]). Statements written here name it `logs.provisioning_logs`;
//! the shared listing names it bare, which SQLite resolves to the one table of that
//! name (the main file has none since its version 6). A foreign key cannot reach the
//! main file's `tenants`, so [`delete_tenant_log`] and [`remove_orphans`] do its work.

use super::db::{args_of, execute, query_all, query_opt};
use crate::sql::log_query::{next_cursor, plan_list};
use crate::timestamp;
use crate::{LogClient, LogEntry, LogPage, LogQuery, NewLogEntry, StoreError, StoreResult};
use rusqlite::{Connection, Row};

/// What an append writes: every column of
/// [`LOG_COLUMNS`](crate::sql::log_query::LOG_COLUMNS) but `seq`.
const APPENDED_COLUMNS: &str = "tenant_id, at, method, path, status, latency_us, \
     scim_type, detail, client, resource_id, request_id, request_body, response_body";
use std::collections::BTreeMap;
use time::OffsetDateTime;

fn entry_from_row(row: &Row<'_>) -> StoreResult<LogEntry> {
    let client: String = row.get("client")?;
    Ok(LogEntry {
        seq: row.get("seq")?,
        entry: NewLogEntry {
            tenant_id: row.get("tenant_id")?,
            at: timestamp::parse(&row.get::<_, String>("at")?)?,
            method: row.get("method")?,
            path: row.get("path")?,
            status: u16::try_from(row.get::<_, i64>("status")?).unwrap_or(0),
            latency_us: u64::try_from(row.get::<_, i64>("latency_us")?).unwrap_or(0),
            scim_type: row.get("scim_type")?,
            detail: row.get("detail")?,
            client: LogClient::parse(&client).unwrap_or(LogClient::Other),
            resource_id: row.get("resource_id")?,
            request_id: row.get("request_id")?,
            request_body: row.get("request_body")?,
            response_body: row.get("response_body")?,
        },
    })
}

/// Appends entries in the caller's transaction. Entries of a tenant that no longer
/// exists (deleted while its requests were buffered) are skipped, so one deleted
/// tenant cannot make a whole batch fail. Returns how many were written.
pub(super) fn append(conn: &Connection, entries: &[NewLogEntry]) -> StoreResult<u64> {
    let mut by_tenant: BTreeMap<&str, Vec<&NewLogEntry>> = BTreeMap::new();
    for entry in entries {
        by_tenant.entry(&entry.tenant_id).or_default().push(entry);
    }
    // `seq` is left out: it is the rowid, which SQLite assigns.
    let insert = format!(
        "INSERT INTO logs.provisioning_logs ({APPENDED_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    let mut written = 0;
    for (tenant, entries) in by_tenant {
        if !super::tenants::tenant_exists(conn, tenant)? {
            continue;
        }
        for entry in entries {
            execute(
                conn,
                &insert,
                &[
                    &tenant,
                    &timestamp::format(entry.at),
                    &entry.method,
                    &entry.path,
                    &i64::from(entry.status),
                    &i64::try_from(entry.latency_us).unwrap_or(i64::MAX),
                    &entry.scim_type,
                    &entry.detail,
                    &entry.client.as_str(),
                    &entry.resource_id,
                    &entry.request_id,
                    &entry.request_body,
                    &entry.response_body,
                ],
            )?;
            written += 1;
        }
    }
    Ok(written)
}

pub(super) fn list(conn: &Connection, tenant: &str, query: &LogQuery) -> StoreResult<LogPage> {
    let (sql, binds) = plan_list(tenant, query)?;
    let mut entries = query_all(conn, &sql, &args_of(binds.values()), entry_from_row)?;
    let next_cursor = next_cursor(&mut entries, query);
    Ok(LogPage {
        entries,
        next_cursor,
    })
}

/// Deletes a tenant's entries older than `older_than`, then all but the newest
/// `keep_newest`. Returns how many were deleted.
pub(super) fn prune(
    conn: &Connection,
    tenant: &str,
    older_than: OffsetDateTime,
    keep_newest: u64,
) -> StoreResult<u64> {
    let by_age = execute(
        conn,
        "DELETE FROM logs.provisioning_logs WHERE tenant_id = $1 AND at < $2",
        &[&tenant, &timestamp::format(older_than)],
    )?;
    // The newest entry beyond the ones kept, and everything older than it, go.
    let offset = i64::try_from(keep_newest)
        .map_err(|_| StoreError::Database("keep_newest out of range".into()))?;
    let boundary = query_opt(
        conn,
        "SELECT at, seq FROM logs.provisioning_logs WHERE tenant_id = $1 \
         ORDER BY at DESC, seq DESC LIMIT 1 OFFSET $2",
        &[&tenant, &offset],
        |row| Ok((row.get::<_, String>("at")?, row.get::<_, i64>("seq")?)),
    )?;
    let by_count = match boundary {
        Some((at, seq)) => execute(
            conn,
            "DELETE FROM logs.provisioning_logs WHERE tenant_id = $1 \
             AND (at < $2 OR (at = $2 AND seq <= $3))",
            &[&tenant, &at, &seq],
        )?,
        None => 0,
    };
    Ok(u64::try_from(by_age + by_count).unwrap_or(u64::MAX))
}

/// Deletes a tenant's whole log, in the transaction that deletes the tenant (what the
/// foreign key's `ON DELETE CASCADE` did while the log shared the tenants' file).
pub(super) fn delete_tenant_log(conn: &Connection, tenant: &str) -> StoreResult<u64> {
    let deleted = execute(
        conn,
        "DELETE FROM logs.provisioning_logs WHERE tenant_id = $1",
        &[&tenant],
    )?;
    Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
}

/// Deletes the log rows of tenants that no longer exist. A commit in WAL mode is
/// atomic per file only, so a crash during a tenant's deletion could keep its log rows
/// while the tenant is gone; a new tenant given the same id must never see them. Run
/// when the store opens: it visits each tenant id in the log once, by the listing
/// index, not every row.
pub(super) fn remove_orphans(conn: &Connection) -> StoreResult<u64> {
    let mut removed = 0;
    let mut after = String::new();
    // One step per tenant id in the log; bounded by the number of rows, a fortiori.
    loop {
        let next: Option<String> = query_opt(
            conn,
            "SELECT tenant_id FROM logs.provisioning_logs WHERE tenant_id > $1 \
             ORDER BY tenant_id LIMIT 1",
            &[&after],
            |row| Ok(row.get(0)?),
        )?;
        let Some(tenant) = next else {
            return Ok(removed);
        };
        if !super::tenants::tenant_exists(conn, &tenant)? {
            removed += delete_tenant_log(conn, &tenant)?;
        }
        after = tenant;
    }
}
