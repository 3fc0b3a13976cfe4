//! Weak entity tags derived from a resource's version (RFC 7644 §3.14, RFC 7232).
//!
//! scimd's ETag is `W/"<version>"`, where the version is the store's per-resource
//! change counter. It is weak (RFC 7232 §2.1) because two representations of one version
//! may differ byte for byte (projection, key order).
//!
//! `If-Match` handling (RFC 7232 §3.1) is lenient about form: `W/"3"`, `"3"` and a bare
//! `3` all name version 3, because RFC 7644 §3.14 uses weak tags and RFC 7232 §2.3.2
//! says `If-Match` uses the strong comparison, which no weak tag could ever pass; clients
//! echo what we sent, so we compare the opaque part. A tag whose opaque part is not a
//! number we issued is kept as "matches nothing" (the request then fails with 412).
//! A header that is not a list of entity tags at all (an unterminated quote, an empty
//! element) is a client bug that would otherwise silently turn a conditional write
//! into an unconditional one, so it is rejected with 400 `invalidSyntax` rather than
//! ignored.

use crate::error::{ScimError, ScimResult};

/// The weak ETag of a resource version: `W/"<version>"`.
///
/// ```
/// assert_eq!(scimd_protocol::etag::etag(7), "W/\"7\"");
/// ```
pub fn etag(version: u64) -> String {
    WeakEtag(version).to_string()
}

/// [`etag`] as it is written: displayed, or serialised straight into the output with
/// `collect_str` (no `String` per response's `meta.version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakEtag(pub u64);

impl std::fmt::Display for WeakEtag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "W/\"{}\"", self.0)
    }
}

impl serde::Serialize for WeakEtag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A parsed `If-Match` (or `If-None-Match`) header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current representation matches.
    Any,
    /// A list of versions; entity tags that are not versions this server issued
    /// are left out, so an empty list matches nothing.
    Versions(Vec<u64>),
}

impl IfMatch {
    /// Whether the resource at `version` satisfies the precondition.
    pub fn matches(&self, version: u64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(v) => v.contains(&version),
        }
    }
}

/// Parses an `If-Match` header value (RFC 7232 §3.1): `*` or a comma-separated list of
/// entity tags, weak or strong.
///
/// ```
/// use scimd_protocol::etag::{parse_if_match, IfMatch};
/// assert_eq!(parse_if_match("*").unwrap(), IfMatch::Any);
/// assert_eq!(parse_if_match("W/\"3\", \"4\"").unwrap(), IfMatch::Versions(vec![3, 4]));
/// assert!(parse_if_match("W/\"3").is_err());
/// ```
pub fn parse_if_match(header: &str) -> ScimResult<IfMatch> {
    let trimmed = header.trim();
    if trimmed == "*" {
        return Ok(IfMatch::Any);
    }
    let malformed = || ScimError::invalid_syntax(format!("malformed If-Match header '{header}'"));
    let mut versions = Vec::new();
    let mut rest = trimmed;
    loop {
        rest = rest.trim_start();
        let (opaque, after) = take_entity_tag(rest).ok_or_else(malformed)?;
        if let Ok(v) = opaque.parse::<u64>() {
            versions.push(v);
        }
        let after = after.trim_start();
        if after.is_empty() {
            break;
        }
        rest = after.strip_prefix(',').ok_or_else(malformed)?;
    }
    Ok(IfMatch::Versions(versions))
}

/// Splits one entity tag off the front of `input`: returns its opaque part (without
/// `W/` and quotes) and the remaining text. A bare token (no quotes) is accepted.
fn take_entity_tag(input: &str) -> Option<(&str, &str)> {
    let unweak = input
        .strip_prefix("W/")
        .or_else(|| input.strip_prefix("w/"))
        .unwrap_or(input);
    if let Some(quoted) = unweak.strip_prefix('"') {
        let end = quoted.find('"')?;
        let opaque = quoted.get(..end)?;
        let after = quoted.get(end + 1..)?;
        return Some((opaque, after));
    }
    let end = unweak
        .find(|c: char| c == ',' || c.is_whitespace())
        .unwrap_or(unweak.len());
    let opaque = unweak.get(..end)?;
    if opaque.is_empty() || opaque.contains('"') {
        return None;
    }
    Some((opaque, unweak.get(end..)?))
}

#[cfg(test)]
mod weak_etag_tests {
    use super::*;

    #[test]
    fn a_weak_etag_serialises_as_its_string() {
        for version in [0, 7, u64::MAX] {
            assert_eq!(
                serde_json::to_string(&WeakEtag(version)).unwrap(),
                serde_json::to_string(&etag(version)).unwrap()
            );
        }
        assert_eq!(serde_json::to_string(&WeakEtag(9)).unwrap(), r#""W/\"9\"""#);
    }
}
