//! Rendering a stored resource as the JSON a client receives (RFC 7643 §3, §8).
//!
//! TODO(helper: resource): implement.

use super::{Document, GroupRef, Member, Meta};
use crate::projection::Projection;
use crate::schema::{ResourceKind, SchemaRegistry};
use serde_json::Value;

/// What the renderer needs besides the document.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The schemas.
    pub registry: &'a SchemaRegistry,
    /// User or Group.
    pub kind: ResourceKind,
    /// The resource id.
    pub id: &'a str,
    /// The server-maintained metadata.
    pub meta: &'a Meta,
    /// The base URL of the tenant's SCIM endpoint, without a trailing slash,
    /// e.g. `https://scim.example.com/scim/v2/acme`; `meta.location` and `$ref`s are built on it.
    pub base_url: &'a str,
    /// For groups: the members, when they were loaded.
    pub members: Option<&'a [Member]>,
    /// For users: the groups, when they were loaded.
    pub groups: Option<&'a [GroupRef]>,
}

/// Renders a resource, applying the projection.
pub fn render(doc: &Document, ctx: &RenderContext<'_>, projection: &Projection) -> Value {
    let _ = (doc, ctx, projection);
    Value::Null
}
