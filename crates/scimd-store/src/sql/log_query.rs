//! The provisioning-log listing query, shared by both backends: filters, the keyset
//! cursor and the page size. Order is (at DESC, seq DESC) everywhere: newest first,
//! ties broken by write order, so keyset pages neither overlap nor skip (the same rule
//! as resource lists).

use super::{Bind, Binds};
use crate::timestamp;
use crate::{LogEntry, LogQuery};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use scimd_protocol::ScimError;
use time::OffsetDateTime;

/// The columns of `provisioning_logs`, in the order both backends read them.
pub(crate) const LOG_COLUMNS: &str = "seq, tenant_id, at, method, path, status, latency_us, \
     scim_type, detail, client, resource_id, request_id, request_body, response_body";

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
pub(crate) fn plan_list(tenant: &str, query: &LogQuery) -> Result<(String, Binds), ScimError> {
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

/// Cuts the one extra row [`plan_list`] asked for and returns the cursor of the next
/// (older) page when there is one.
pub(crate) fn next_cursor(entries: &mut Vec<LogEntry>, query: &LogQuery) -> Option<String> {
    let limit = usize::try_from(query.effective_limit()).unwrap_or(usize::MAX);
    if entries.len() <= limit {
        return None;
    }
    entries.truncate(limit);
    entries.last().map(|last| {
        LogCursor {
            at: timestamp::format(last.entry.at),
            seq: last.seq,
        }
        .encode()
    })
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
