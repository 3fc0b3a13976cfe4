//! Timestamps as stored: RFC 3339 text, UTC, always six fractional digits
//! (`2024-01-02T03:04:05.000006Z`).
//!
//! A fixed width and a fixed offset make text order equal time order, so `meta.created`
//! filters, sorting and cursor keys compare the column as text on every backend.
//! Values are truncated to microseconds before they are handed out, so what a caller
//! holds is exactly what a later read returns.

use crate::StoreError;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The current time, truncated to the stored precision.
pub(crate) fn now() -> OffsetDateTime {
    truncate(OffsetDateTime::now_utc())
}

/// Drops sub-microsecond digits and moves the instant to UTC.
pub(crate) fn truncate(at: OffsetDateTime) -> OffsetDateTime {
    let utc = at.to_offset(UtcOffset::UTC);
    let micros = utc.nanosecond() / 1_000;
    utc.replace_nanosecond(micros * 1_000).unwrap_or(utc)
}

/// The stored text of an instant.
pub(crate) fn format(at: OffsetDateTime) -> String {
    let utc = truncate(at);
    // Formatting only fails when a component cannot be represented; with the years
    // `time` supports (±9999) and an all-numeric description that cannot happen, and
    // the unix-seconds fallback merely keeps this function total.
    utc.format(STORED)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

/// Parses a stored timestamp.
pub(crate) fn parse(text: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| StoreError::Database(format!("stored timestamp '{text}' is not RFC 3339")))
}

/// Parses an optional stored timestamp.
pub(crate) fn parse_opt(text: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    text.as_deref().map(parse).transpose()
}

/// Parses a client's `xsd:dateTime` (RFC 7643 §2.3.5) from a filter or cursor.
pub(crate) fn parse_client(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_width_utc_text() {
        let at = datetime!(2024-01-02 03:04:05.123456789 +02:00);
        assert_eq!(format(at), "2024-01-02T01:04:05.123456Z");
        assert_eq!(parse(&format(at)).unwrap(), truncate(at));
    }

    #[test]
    fn text_order_is_time_order() {
        let a = format(datetime!(2024-01-02 03:04:05.9 UTC));
        let b = format(datetime!(2024-01-02 03:04:06 UTC));
        assert!(a < b);
    }
}
