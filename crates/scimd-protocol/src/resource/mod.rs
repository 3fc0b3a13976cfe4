//! Resources: the stored document, input normalisation for create and replace, and
//! rendering for responses.
//!
//! A [`Document`] is a resource's client-writable attributes in canonical form:
//! keys spelled as the schema spells them, extension attributes under the extension's
//! canonical URN, booleans as JSON booleans, no `null`s, no empty arrays. It never holds
//! `id`, `meta`, `schemas`, `groups`, `members` or `password`: the id and meta are
//! columns of the store, memberships live in their own table, and passwords are
//! never stored.

pub(crate) mod normalize;
mod render;
mod stream;
mod text_view;

pub use normalize::{normalize_for_write, NormalizedResource, WriteMode};
pub use render::{
    format_date_time, render, render_lazy, render_text, resource_location, RenderContext, Rendered,
};

use crate::schema::ResourceKind;
use time::OffsetDateTime;

/// A resource's client-writable attributes in canonical form (see the module docs).
pub type Document = serde_json::Map<String, serde_json::Value>;

/// The server-maintained metadata of a resource (RFC 7643 §3.1 `meta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// When the resource was created.
    pub created: OffsetDateTime,
    /// When the resource was last changed.
    pub last_modified: OffsetDateTime,
    /// A counter bumped on every change; the weak ETag is derived from it.
    pub version: u64,
}

/// A member as a client writes it: the member's id, and its type and display name
/// when the client gives them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberRef {
    /// The member resource's `id`.
    pub value: String,
    /// `User` or `Group`, when given; the store decides when absent.
    pub kind: Option<ResourceKind>,
    /// The `display` the client sent (Microsoft's validator sends `displayName`). It is
    /// kept with the membership and returned as it was sent.
    pub display: Option<String>,
}

impl MemberRef {
    /// A member given by id only.
    pub fn id(value: impl Into<String>) -> Self {
        MemberRef {
            value: value.into(),
            kind: None,
            display: None,
        }
    }
}

/// Parses a group's `members` value (RFC 7643 §4.2), for POST, PUT and PATCH alike.
///
/// Accepts an array or a single member; a member is
/// `{"value": id, "type"?, "display"?, "$ref"?}` or, leniently, a bare id string
/// (Microsoft's validator sends `"value": "<id>"` where an array is expected). Keys are
/// case-insensitive; `displayName` is taken for `display`. Duplicates are removed,
/// the first wins. `null` means no members. A member without a non-empty string
/// `value`, or with a `type` other than `User`/`Group`, is 400 `invalidValue`.
pub fn parse_members(value: &serde_json::Value) -> crate::ScimResult<Vec<MemberRef>> {
    use serde_json::Value;
    let items: &[Value] = match value {
        Value::Null => &[],
        Value::Array(items) => items,
        single => std::slice::from_ref(single),
    };
    let mut members: Vec<MemberRef> = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        let member = parse_member(item)?;
        if seen.insert(member.value.clone()) {
            members.push(member);
        }
    }
    Ok(members)
}

fn parse_member(item: &serde_json::Value) -> crate::ScimResult<MemberRef> {
    use crate::ScimError;
    use serde_json::Value;
    let missing = || {
        ScimError::invalid_value(
            "each member must have a non-empty string 'value' (the member's id)",
        )
    };
    let object = match item {
        Value::String(id) if !id.trim().is_empty() => return Ok(MemberRef::id(id.trim())),
        Value::Object(object) => object,
        _ => return Err(missing()),
    };
    let field = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let value = match field("value").and_then(Value::as_str).map(str::trim) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => return Err(missing()),
    };
    let kind = match field("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if t.is_empty() => None,
        Some(Value::String(t)) if t.eq_ignore_ascii_case("user") => Some(ResourceKind::User),
        Some(Value::String(t)) if t.eq_ignore_ascii_case("group") => Some(ResourceKind::Group),
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "'members.type' must be \"User\" or \"Group\", got {other}"
            )))
        }
    };
    let display = field("display")
        .or_else(|| field("displayName"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    Ok(MemberRef {
        value,
        kind,
        display,
    })
}

/// A member as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member resource's `id`.
    pub value: String,
    /// Whether the member is a User or a Group.
    pub kind: ResourceKind,
    /// The `display` the client sent with the member, if any.
    pub display: Option<String>,
}

/// A group a user belongs to, for the read-only `User.groups` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    /// The group's `id`.
    pub value: String,
    /// The group's `displayName`.
    pub display: Option<String>,
}

/// A change to a group's membership, as PATCH and PUT produce it.
///
/// Memberships are changed as deltas, never as "here is the new list", so a store can
/// apply a change to a group of 100,000 members without reading them (RFC 7644
/// §3.5.2 allows exactly these operations on `members`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Add these members; members already present are left alone.
    Add(Vec<MemberRef>),
    /// Remove the members with these ids; absent ids are ignored.
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// Make the membership exactly these members.
    ReplaceAll(Vec<MemberRef>),
}
