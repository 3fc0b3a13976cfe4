//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9).
//!
//! TODO(helper: resource): implement.

use crate::error::{ScimError, ScimResult};
use crate::path::AttrPath;
use crate::schema::{ResourceKind, SchemaRegistry};

/// Which attributes a response carries.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Projection {
    /// Neither parameter: every attribute whose `returned` is `always` or `default`.
    #[default]
    Default,
    /// `attributes=...`: these (plus `returned: always` ones).
    Include(Vec<AttrPath>),
    /// `excludedAttributes=...`: the default set minus these (`always` ones stay).
    Exclude(Vec<AttrPath>),
}

impl Projection {
    /// Builds a projection from the raw query parameters (comma-separated attribute
    /// paths). `attributes` wins when both are given (RFC 7644 §3.4.2.5 allows either).
    pub fn parse(
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
        registry: &SchemaRegistry,
        kind: ResourceKind,
    ) -> ScimResult<Self> {
        let _ = (attributes, excluded_attributes, registry, kind);
        Err(ScimError::new(501, None, "not implemented"))
    }

    /// Whether the response will contain the top-level attribute `name` of the core
    /// schema (e.g. `members`, `groups`), so the store can skip loading it.
    pub fn includes_attribute(&self, name: &str) -> bool {
        let _ = name;
        true
    }
}
