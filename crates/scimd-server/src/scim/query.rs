//! Query-string parsing for SCIM requests (RFC 7644 §3.4.2, §3.9).
//!
//! Axum's `Query` extractor is not used on purpose: identity providers send
//! `application/x-www-form-urlencoded` style queries (`+` for spaces, R4), quotes
//! either as `%22` or raw `"`, parameter names in any case (`Filter=`), and
//! parameters nobody asked for (`aadOptscim062020`). This module decodes the raw query
//! itself so every one of those forms works, and a malformed escape never becomes a
//! plain-text rejection.

use scimd_protocol::ScimError;
use serde_json::Value;

/// The decoded parameters of a query string, in the order they arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes a raw query string (the part after `?`, without it).
    ///
    /// `+` is a space and `%XX` a byte (HTML form encoding, which Entra uses); a `%`
    /// not followed by two hex digits is kept literally; invalid UTF-8 becomes U+FFFD.
    /// A parameter without `=` has an empty value.
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (form_decode(name), form_decode(value))
            })
            .collect();
        QueryParams { pairs }
    }

    /// The value of a parameter, its name compared case-insensitively. When a
    /// parameter is repeated, the first occurrence wins (RFC 7644 does not define
    /// repetition; taking the first keeps the answer deterministic).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the parameter is present at all (even with an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The list-request parameters carried by this query.
    pub fn list_params(&self) -> ListParams {
        ListParams {
            filter: self.get("filter").map(str::to_owned),
            sort_by: self.get("sortBy").map(str::to_owned),
            sort_order: self.get("sortOrder").map(str::to_owned),
            start_index: self.get("startIndex").map(str::to_owned),
            count: self.get("count").map(str::to_owned),
            cursor: self.get("cursor").map(str::to_owned),
            attributes: self.get("attributes").map(str::to_owned),
            excluded_attributes: self.get("excludedAttributes").map(str::to_owned),
        }
    }

    /// Whether the query asks for a projection (`attributes` or `excludedAttributes`).
    pub fn asks_for_projection(&self) -> bool {
        self.contains("attributes") || self.contains("excludedAttributes")
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn form_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The parameters of a list or search request, still raw: each protocol module
/// parses and validates its own (filter, sort, paging, projection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// `filter`.
    pub filter: Option<String>,
    /// `sortBy`.
    pub sort_by: Option<String>,
    /// `sortOrder`.
    pub sort_order: Option<String>,
    /// `startIndex`.
    pub start_index: Option<String>,
    /// `count`.
    pub count: Option<String>,
    /// `cursor` (RFC 9865).
    pub cursor: Option<String>,
    /// `attributes`.
    pub attributes: Option<String>,
    /// `excludedAttributes`.
    pub excluded_attributes: Option<String>,
}

/// The URN a `POST .search` body should carry (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

impl ListParams {
    /// Reads a `POST .search` body (RFC 7644 §3.4.3). Keys are matched
    /// case-insensitively; `attributes` and `excludedAttributes` may be arrays or
    /// comma-separated strings; `startIndex` and `count` may be numbers or strings.
    /// `schemas` is tolerated when absent, but when present it must name the
    /// SearchRequest URN, so that a PATCH or user body sent here by mistake is not
    /// silently read as "list everything".
    pub fn from_search_body(body: &Value) -> Result<ListParams, ScimError> {
        let object = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("a search request must be a JSON object"))?;
        let field = |name: &str| {
            object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        };
        if let Some(schemas) = field("schemas") {
            let names_search = schemas.as_array().is_some_and(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .any(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
            });
            if !names_search {
                return Err(ScimError::invalid_syntax(format!(
                    "a search request's 'schemas' must contain '{SEARCH_REQUEST_SCHEMA}'"
                )));
            }
        }
        Ok(ListParams {
            filter: text_field(field("filter"), "filter")?,
            sort_by: text_field(field("sortBy"), "sortBy")?,
            sort_order: text_field(field("sortOrder"), "sortOrder")?,
            start_index: text_field(field("startIndex"), "startIndex")?,
            count: text_field(field("count"), "count")?,
            cursor: text_field(field("cursor"), "cursor")?,
            attributes: list_field(field("attributes"), "attributes")?,
            excluded_attributes: list_field(field("excludedAttributes"), "excludedAttributes")?,
        })
    }
}

/// A scalar body field as the text a query string would have carried.
fn text_field(value: Option<&Value>, name: &str) -> Result<Option<String>, ScimError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ScimError::invalid_value(format!(
            "'{name}' in a search request must be a string or a number"
        ))),
    }
}

/// `attributes` / `excludedAttributes`: an array of strings (RFC 7644 §3.4.3) or,
/// leniently, the comma-separated string the query form uses.
fn list_field(value: Option<&Value>, name: &str) -> Result<Option<String>, ScimError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) => {
            let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            names.map(|n| Some(n.join(","))).ok_or_else(|| {
                ScimError::invalid_value(format!("'{name}' must be an array of strings"))
            })
        }
        Some(_) => Err(ScimError::invalid_value(format!(
            "'{name}' must be an array of strings"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plus_is_space_and_quotes_decode_both_ways() {
        let q = QueryParams::parse(Some("filter=userName+eq+%22a%40b.c%22&x=1"));
        assert_eq!(q.get("filter"), Some("userName eq \"a@b.c\""));
        let q = QueryParams::parse(Some("filter=userName%20eq%20\"bob\""));
        assert_eq!(q.get("filter"), Some("userName eq \"bob\""));
    }

    #[test]
    fn names_are_case_insensitive_and_unknown_ones_harmless() {
        let q = QueryParams::parse(Some("aadOptscim062020&Filter=a&STARTINDEX=3&count=2"));
        let p = q.list_params();
        assert_eq!(p.filter.as_deref(), Some("a"));
        assert_eq!(p.start_index.as_deref(), Some("3"));
        assert_eq!(p.count.as_deref(), Some("2"));
        assert!(q.contains("aadoptscim062020"));
    }

    #[test]
    fn malformed_escapes_are_kept_literally() {
        let q = QueryParams::parse(Some("filter=%zz%2&count=%"));
        assert_eq!(q.get("filter"), Some("%zz%2"));
        assert_eq!(q.get("count"), Some("%"));
        let q = QueryParams::parse(Some("filter=%ff%fe"));
        assert_eq!(q.get("filter"), Some("\u{fffd}\u{fffd}"));
    }

    #[test]
    fn first_repetition_wins_and_empty_query_is_empty() {
        let q = QueryParams::parse(Some("count=1&count=2"));
        assert_eq!(q.get("count"), Some("1"));
        assert_eq!(QueryParams::parse(None), QueryParams::default());
        assert!(!QueryParams::parse(Some("&&")).asks_for_projection());
        assert!(QueryParams::parse(Some("excludedattributes=members")).asks_for_projection());
    }

    #[test]
    fn search_body_accepts_arrays_strings_and_numbers() {
        let p = ListParams::from_search_body(&json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "attributes": ["userName", "emails"],
            "excludedAttributes": "members",
            "Filter": "userName sw \"a\"",
            "startIndex": 2, "count": "5", "sortBy": "userName", "sortOrder": "descending"
        }))
        .unwrap();
        assert_eq!(p.attributes.as_deref(), Some("userName,emails"));
        assert_eq!(p.excluded_attributes.as_deref(), Some("members"));
        assert_eq!(p.filter.as_deref(), Some("userName sw \"a\""));
        assert_eq!(p.start_index.as_deref(), Some("2"));
        assert_eq!(p.count.as_deref(), Some("5"));
    }

    #[test]
    fn search_body_errors_are_scim_errors() {
        assert_eq!(
            ListParams::from_search_body(&json!([])).unwrap_err().status,
            400
        );
        let wrong_schema = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]});
        assert_eq!(
            ListParams::from_search_body(&wrong_schema)
                .unwrap_err()
                .scim_type,
            Some(scimd_protocol::ScimType::InvalidSyntax)
        );
        let bad_attrs = json!({"attributes": [1, 2]});
        assert_eq!(
            ListParams::from_search_body(&bad_attrs).unwrap_err().status,
            400
        );
        assert_eq!(
            ListParams::from_search_body(&json!({})).unwrap(),
            ListParams::default()
        );
    }
}
