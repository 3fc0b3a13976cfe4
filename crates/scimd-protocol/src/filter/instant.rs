//! dateTime values as instants (RFC 7643 §2.3.5: `xsd:dateTime`, which SCIM narrows to
//! RFC 3339 with a time zone).
//!
//! Clients send fractional seconds of any length (.NET writes seven digits:
//! `2015-10-10T14:38:21.8617979-07:00`) and sometimes no offset at all. The parser
//! accepts both: digits past nanoseconds are dropped, and a value without an offset
//! is taken as UTC, the only reading under which two such values compare sensibly.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Parses an RFC 3339 / xsd:dateTime string into an instant, or `None`.
pub(crate) fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(instant);
    }
    parse_by_hand(text)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`, with any number of fraction digits and
/// an optional offset.
fn parse_by_hand(text: &str) -> Option<OffsetDateTime> {
    let (date_time, offset_seconds) = split_offset(text)?;
    let (seconds_part, fraction) = match date_time.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (date_time, None),
    };
    let whole = format!("{seconds_part}Z");
    let mut instant = OffsetDateTime::parse(&whole, &Rfc3339).ok()?;
    if let Some(fraction) = fraction {
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Nanoseconds from the first nine digits, padded with zeros.
        let nanos: i64 = fraction
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(9)
            .fold(0, |acc, b| acc * 10 + i64::from(b - b'0'));
        instant = instant.checked_add(Duration::nanoseconds(nanos))?;
    }
    instant.checked_sub(Duration::seconds(offset_seconds))
}

/// Splits a trailing `Z` or `±HH:MM` off; no suffix means UTC.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(rest) = text.strip_suffix(['Z', 'z']) {
        return Some((rest, 0));
    }
    let tail_start = text.len().checked_sub(6)?;
    let tail = text.get(tail_start..)?;
    let bytes = tail.as_bytes();
    let sign = match bytes.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some((text, 0)),
    };
    if bytes.get(3) != Some(&b':') {
        return Some((text, 0));
    }
    let hours: i64 = tail.get(1..3)?.parse().ok()?;
    let minutes: i64 = tail.get(4..6)?.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((
        text.get(..tail_start)?,
        sign * (hours * 3600 + minutes * 60),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rfc3339_with_utc_and_offsets() {
        assert_eq!(
            parse_instant("2011-05-13T04:42:34Z"),
            Some(datetime!(2011-05-13 04:42:34 UTC))
        );
        assert_eq!(
            parse_instant("2011-05-13T06:42:34+02:00"),
            Some(datetime!(2011-05-13 04:42:34 UTC))
        );
    }

    #[test]
    fn long_fractions_and_negative_offsets() {
        let parsed = parse_instant("2015-10-10T14:38:21.8617979-07:00").unwrap();
        assert_eq!(parsed, datetime!(2015-10-10 21:38:21.8617979 UTC));
        let very_long = parse_instant("2015-10-10T14:38:21.123456789123-07:00").unwrap();
        assert_eq!(very_long, datetime!(2015-10-10 21:38:21.123456789 UTC));
    }

    #[test]
    fn missing_offset_is_utc() {
        assert_eq!(
            parse_instant("2015-10-10T14:38:21"),
            Some(datetime!(2015-10-10 14:38:21 UTC))
        );
        assert_eq!(
            parse_instant("2015-10-10T14:38:21.5"),
            Some(datetime!(2015-10-10 14:38:21.5 UTC))
        );
    }

    #[test]
    fn garbage_is_none() {
        for bad in [
            "",
            "abc",
            "2015-13-10T14:38:21Z",
            "2015-10-10",
            "2015-10-10T14:38:21.Z",
            "2015-10-10T14:38:21.x1Z",
            "2015-10-10T14:38:21+25:00",
            "é",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }
}
