//! Paging: index-based (RFC 7644 §3.4.2.4) and cursor-based (RFC 9865), and the
//! `ListResponse` message (RFC 7644 §3.4.2).
//!
//! Leniency (RFC 7644 §3.4.2.4): a `startIndex` below 1 is treated as 1 and a negative
//! `count` as 0, as the RFC asks; a `count` above the server's maximum is capped
//! rather than refused. A value that is not an integer at all is a client error
//! (400 `invalidValue`), because guessing would silently return the wrong page.

use crate::error::{ScimError, ScimResult};
use serde::Serialize;
use serde_json::Value;

/// The URN of the `ListResponse` message (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// What page of results a list request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// `startIndex` (1-based) and `count` (RFC 7644 §3.4.2.4).
    Index {
        /// 1-based index of the first result; values below 1 are treated as 1.
        start_index: u64,
        /// Maximum number of results; already capped at the server's maximum.
        count: u64,
    },
    /// `cursor` and `count` (RFC 9865). `cursor` is `None` for the first page.
    Cursor {
        /// The opaque cursor a previous page returned as `nextCursor`.
        cursor: Option<String>,
        /// Maximum number of results; already capped at the server's maximum.
        count: u64,
    },
}

/// The server's page-size policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagingLimits {
    /// `count` when the client sends none.
    pub default_count: u64,
    /// The largest `count` served; larger requests are capped to it.
    pub max_count: u64,
}

impl Default for PagingLimits {
    fn default() -> Self {
        PagingLimits {
            default_count: 100,
            max_count: 1000,
        }
    }
}

/// Parses an integer query parameter; surrounding blanks are tolerated.
fn parse_integer(name: &str, raw: &str) -> ScimResult<i128> {
    raw.trim()
        .parse::<i128>()
        .map_err(|_| ScimError::invalid_value(format!("'{name}' must be an integer, got '{raw}'")))
}

impl PageRequest {
    /// Parses the raw `startIndex`, `count` and `cursor` query parameters.
    ///
    /// A `cursor` parameter, even empty, selects cursor paging (RFC 9865 §2: the
    /// first page is requested with an empty `cursor`); `startIndex` is then ignored.
    ///
    /// ```
    /// use scimd_protocol::paging::{PageRequest, PagingLimits};
    /// let limits = PagingLimits { default_count: 50, max_count: 200 };
    /// assert_eq!(
    ///     PageRequest::parse(Some("0"), Some("500"), None, &limits).unwrap(),
    ///     PageRequest::Index { start_index: 1, count: 200 },
    /// );
    /// assert_eq!(
    ///     PageRequest::parse(None, None, Some(""), &limits).unwrap(),
    ///     PageRequest::Cursor { cursor: None, count: 50 },
    /// );
    /// ```
    pub fn parse(
        start_index: Option<&str>,
        count: Option<&str>,
        cursor: Option<&str>,
        limits: &PagingLimits,
    ) -> ScimResult<PageRequest> {
        let count = match count {
            None => limits.default_count.min(limits.max_count),
            Some(raw) => {
                let n = parse_integer("count", raw)?;
                // Negative counts are interpreted as 0 (RFC 7644 §3.4.2.4).
                u64::try_from(n.max(0))
                    .unwrap_or(u64::MAX)
                    .min(limits.max_count)
            }
        };
        if let Some(raw) = cursor {
            let trimmed = raw.trim();
            return Ok(PageRequest::Cursor {
                cursor: (!trimmed.is_empty()).then(|| trimmed.to_owned()),
                count,
            });
        }
        let start_index = match start_index {
            None => 1,
            // Values below 1 are interpreted as 1 (RFC 7644 §3.4.2.4).
            Some(raw) => {
                u64::try_from(parse_integer("startIndex", raw)?.max(1)).unwrap_or(u64::MAX)
            }
        };
        Ok(PageRequest::Index { start_index, count })
    }

    /// The page size requested.
    pub fn count(&self) -> u64 {
        match self {
            PageRequest::Index { count, .. } | PageRequest::Cursor { count, .. } => *count,
        }
    }
}

/// Builds a `ListResponse` (RFC 7644 §3.4.2).
///
/// `totalResults`, `itemsPerPage` and `startIndex` are JSON integers (R17).
/// `start_index` is given for index paging and echoed; `next_cursor` for cursor
/// paging (RFC 9865 §2.2), present only when there is a next page. `Resources` is
/// always present, `[]` when empty, because some clients (Microsoft's validator)
/// require it.
pub fn list_response(
    resources: Vec<Value>,
    total_results: u64,
    start_index: Option<u64>,
    next_cursor: Option<String>,
) -> Value {
    // Serialising these fields and `Value`s cannot fail.
    serde_json::to_value(ListResponse::new(
        resources,
        total_results,
        start_index,
        next_cursor,
    ))
    .unwrap_or_default()
}

/// The `ListResponse` message with any serialisable resources, in [`list_response`]'s
/// key order, for a response written straight from its resources (a page of groups
/// rendered with [`crate::resource::render_lazy`], members never built as values).
#[derive(Debug, Serialize)]
pub struct ListResponse<R> {
    schemas: [&'static str; 1],
    #[serde(rename = "totalResults")]
    total_results: u64,
    #[serde(rename = "itemsPerPage")]
    items_per_page: usize,
    #[serde(rename = "startIndex", skip_serializing_if = "Option::is_none")]
    start_index: Option<u64>,
    #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    #[serde(rename = "Resources")]
    resources: Vec<R>,
}

impl<R> ListResponse<R> {
    /// The message for one page; see [`list_response`] for the fields.
    pub fn new(
        resources: Vec<R>,
        total_results: u64,
        start_index: Option<u64>,
        next_cursor: Option<String>,
    ) -> Self {
        ListResponse {
            schemas: [LIST_RESPONSE_SCHEMA],
            total_results,
            items_per_page: resources.len(),
            start_index,
            next_cursor,
            resources,
        }
    }
}
