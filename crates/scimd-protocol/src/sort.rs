//! `sortBy` and `sortOrder` (RFC 7644 §3.4.2.3).
//!
//! TODO(helper: resource): implement.

use crate::error::{ScimError, ScimResult};
use crate::path::AttrPath;
use crate::schema::{ResourceKind, SchemaRegistry};

/// The sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// `ascending` (the default).
    #[default]
    Ascending,
    /// `descending`.
    Descending,
}

/// A validated sort request.
#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    /// The attribute sorted by (resolved and known to exist).
    pub path: AttrPath,
    /// The direction.
    pub order: SortOrder,
}

impl SortSpec {
    /// Parses the raw `sortBy` / `sortOrder` parameters; `None` when `sortBy` is absent.
    pub fn parse(
        sort_by: Option<&str>,
        sort_order: Option<&str>,
        registry: &SchemaRegistry,
        kind: ResourceKind,
    ) -> ScimResult<Option<Self>> {
        let _ = (sort_by, sort_order, registry, kind);
        Err(ScimError::new(501, None, "not implemented"))
    }
}
