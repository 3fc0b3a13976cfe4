//! Provisioning logs on SQLite. The SQL is portable (`$n` placeholders, no
//! SQLite-only syntax) so the PostgreSQL backend can share the statements.
//!
//! Order is (at DESC, seq DESC) everywhere: newest first, ties broken by write order,
//! so keyset pages neither overlap nor skip (the same rule as resource lists).

use super::bind_all;
use crate::sql::{Bind, Binds};
use crate::timestamp;
use crate::{LogClient, LogEntry, LogPage, LogQuery, NewLogEntry, StoreError, StoreResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use scimd_protocol::ScimError;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::collections::BTreeMap;
use time::OffsetDateTime;

const LOG_COLUMNS: &str = "seq, tenant_id, at, method, path, status, latency_us, scim_type, \
     detail, client, resource_id, request_id, request_body, response_body";

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

/// The position of the last entry of a page: where the next (older) page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LogCursor {
    at: String,
    seq: i64,
}

impl LogCursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.seq, self.at))
    }

    fn decode(text: &str) -> Result<LogCursor, ScimError> {
        let invalid = || ScimError::invalid_value(format!("'{text}' is not a log cursor"));
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let plain = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (seq, at) = plain.split_once('|').ok_or_else(invalid)?;
        let seq: i64 = seq.parse().map_err(|_| invalid())?;
        // Re-format so the bound text has the stored fixed width.
        let at = timestamp::parse(at).map_err(|_| invalid())?;
        Ok(LogCursor {
            at: timestamp::format(at),
            seq,
        })
    }
}

/// Builds the page query: filters, the keyset condition, newest first, one row more
/// than the page to learn whether another page follows.
fn plan_list(tenant: &str, query: &LogQuery) -> Result<(String, Binds), ScimError> {
    let mut binds = Binds::new();
    let mut sql = format!(
        "SELECT {LOG_COLUMNS} FROM provisioning_logs WHERE tenant_id = {}",
        binds.text(tenant)
    );
    let stamp = |at: OffsetDateTime| timestamp::format(at);
    if let Some(since) = query.since {
        sql.push_str(&format!(" AND at >= {}", binds.text(stamp(since))));
    }
    if let Some(until) = query.until {
        sql.push_str(&format!(" AND at < {}", binds.text(stamp(until))));
    }
    if let Some(class) = query.status {
        let (low, high) = class.range();
        let low = binds.push(Bind::Int(i64::from(low)));
        let high = binds.push(Bind::Int(i64::from(high)));
        sql.push_str(&format!(" AND status BETWEEN {low} AND {high}"));
    }
    if let Some(client) = query.client {
        sql.push_str(&format!(" AND client = {}", binds.text(client.as_str())));
    }
    if let Some(resource) = &query.resource_id {
        sql.push_str(&format!(
            " AND resource_id = {}",
            binds.text(resource.as_str())
        ));
    }
    if let Some(cursor) = &query.cursor {
        let cursor = LogCursor::decode(cursor)?;
        let at = binds.text(cursor.at);
        let seq = binds.push(Bind::Int(cursor.seq));
        sql.push_str(&format!(" AND (at < {at} OR (at = {at} AND seq < {seq}))"));
    }
    let limit = binds.push(Bind::Int(i64::from(query.effective_limit()) + 1));
    sql.push_str(&format!(" ORDER BY at DESC, seq DESC LIMIT {limit}"));
    Ok((sql, binds))
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
    let limit = usize::try_from(query.effective_limit()).unwrap_or(usize::MAX);
    let next_cursor = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(|last| {
            LogCursor {
                at: timestamp::format(last.entry.at),
                seq: last.seq,
            }
            .encode()
        })
    } else {
        None
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid_value() {
        let cursor = LogCursor {
            at: "2025-01-02T03:04:05.000006Z".into(),
            seq: 42,
        };
        assert_eq!(LogCursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "!!", "bm9waXBl", &URL_SAFE_NO_PAD.encode("x|2025")] {
            let err = LogCursor::decode(bad).unwrap_err();
            assert_eq!(err.status, 400, "{bad}");
        }
    }
}
