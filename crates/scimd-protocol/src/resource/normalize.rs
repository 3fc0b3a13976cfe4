//! Input normalisation for POST and PUT (RFC 7643 §2, §7; RFC 7644 §3.3, §3.5.1).
//!
//! TODO(helper: resource): implement.

use super::{Document, MemberRef};
use crate::error::{ScimError, ScimResult};
use crate::schema::{ResourceKind, SchemaRegistry};
use serde_json::Value;

/// Whether the body creates a resource or replaces an existing one.
#[derive(Debug, Clone, Copy)]
pub enum WriteMode<'a> {
    /// POST: a new resource.
    Create,
    /// PUT: replaces `existing`. Immutable attributes must not change; read-only ones
    /// are ignored.
    Replace {
        /// The stored document being replaced.
        existing: &'a Document,
    },
}

/// The result of normalising a POST or PUT body.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizedResource {
    /// The canonical document to store.
    pub document: Document,
    /// For groups: the `members` the body carried (`Some(vec![])` for `"members": []`),
    /// `None` when the body had no `members` attribute.
    pub members: Option<Vec<MemberRef>>,
}

/// Normalises a request body for `kind` into a canonical document.
pub fn normalize_for_write(
    body: &Value,
    registry: &SchemaRegistry,
    kind: ResourceKind,
    mode: WriteMode<'_>,
) -> ScimResult<NormalizedResource> {
    let _ = (body, registry, kind, mode);
    Err(ScimError::new(501, None, "not implemented"))
}
