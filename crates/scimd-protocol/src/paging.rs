//! Paging: index-based (RFC 7644 §3.4.2.4) and cursor-based (RFC 9865), and the
//! `ListResponse` message.
//!
//! TODO(helper: resource): implement PageRequest::parse, ListResponse.

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
