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

pub use normalize::{normalize_for_write, NormalizedResource, WriteMode};
pub use render::{format_date_time, render, resource_location, RenderContext};

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

/// A member as a client writes it: the member's id, and its type when the client says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberRef {
    /// The member resource's `id`.
    pub value: String,
    /// `User` or `Group`, when given; the store decides when absent.
    pub kind: Option<ResourceKind>,
}

/// A member as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member resource's `id`.
    pub value: String,
    /// Whether the member is a User or a Group.
    pub kind: ResourceKind,
    /// The member's `displayName` (or `userName` for users without one).
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
