//! The records a store reads and writes.

use scimd_protocol::filter::Filter;
use scimd_protocol::paging::PageRequest;
use scimd_protocol::resource::{Document, GroupRef, Member, MemberChange, MemberRef, Meta};
use scimd_protocol::sort::SortSpec;
use scimd_protocol::{ResourceKind, ScimError};
use time::OffsetDateTime;

/// A tenant: one customer of the SaaS, with its own SCIM endpoint and tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// URL-safe slug, used in the SCIM URL.
    pub id: String,
    /// Human-readable name.
    pub display_name: String,
    /// When false, SCIM requests are refused with 403.
    pub provisioning_enabled: bool,
    /// Creation time.
    pub created: OffsetDateTime,
    /// Last change time.
    pub updated: OffsetDateTime,
    /// Provisioning-log settings.
    pub log: TenantLogSettings,
}

/// What is needed to create a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTenant {
    /// URL-safe slug.
    pub id: String,
    /// Human-readable name.
    pub display_name: String,
    /// Initial provisioning switch.
    pub provisioning_enabled: bool,
    /// Provisioning-log settings.
    pub log: TenantLogSettings,
}

impl NewTenant {
    /// A tenant with provisioning on and the default log settings, as `scimd tenant
    /// create` makes one.
    pub fn enabled(id: impl Into<String>, display_name: impl Into<String>) -> NewTenant {
        NewTenant {
            id: id.into(),
            display_name: display_name.into(),
            provisioning_enabled: true,
            ..Default::default()
        }
    }
}

/// A change to a tenant; `None` fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New provisioning switch.
    pub provisioning_enabled: Option<bool>,
    /// Record (redacted) request and response bodies in the provisioning log.
    pub log_bodies: Option<bool>,
    /// Keep provisioning-log entries this many days.
    pub log_retention_days: Option<u32>,
    /// Keep at most this many provisioning-log entries.
    pub log_max_entries: Option<u64>,
}

/// A bearer token as stored: never the secret, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Short public id (shown in lists, part of the token string).
    pub id: String,
    /// The tenant the token belongs to.
    pub tenant_id: String,
    /// A label chosen by the admin.
    pub name: String,
    /// SHA-256 of the secret part of the token.
    pub secret_hash: Vec<u8>,
    /// Creation time.
    pub created: OffsetDateTime,
    /// Last time a request used it (recorded in batches).
    pub last_used: Option<OffsetDateTime>,
    /// Expiry, if any.
    pub expires: Option<OffsetDateTime>,
    /// Revocation time, if revoked (may lie in the future during a rotation's grace period).
    pub revoked: Option<OffsetDateTime>,
}

/// Which related data to load with a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fetch {
    /// For groups: load `members` (from the member table).
    pub members: bool,
    /// For users: load `groups` (from the member table, by member).
    pub groups: bool,
    /// Return the document as its stored text in [`StoredResource::document_text`]
    /// rather than parsed, where the backend keeps it as text; for reads that only
    /// render it. A backend without the text returns it parsed, as always.
    pub document_text: bool,
}

impl Fetch {
    /// Load nothing extra.
    pub const NONE: Fetch = Fetch {
        members: false,
        groups: false,
        document_text: false,
    };
    /// Load members and groups.
    pub const ALL: Fetch = Fetch {
        members: true,
        groups: true,
        document_text: false,
    };
}

/// A resource to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResource {
    /// The canonical document.
    pub document: Document,
    /// For groups: the initial members.
    pub members: Vec<MemberRef>,
}

/// A resource as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    /// The server-assigned id (a UUID).
    pub id: String,
    /// User or Group.
    pub kind: ResourceKind,
    /// The canonical document; empty when [`StoredResource::document_text`] holds it.
    pub document: Document,
    /// The document as its stored JSON text, unparsed, when the read asked for it
    /// ([`Fetch::document_text`]) and the backend keeps the text (SQLite): then
    /// [`StoredResource::document`] is empty. A read that only renders the resource
    /// writes most of it from the text as it is (`scimd_protocol::resource::render_text`).
    pub document_text: Option<String>,
    /// created, lastModified, version.
    pub meta: Meta,
    /// For groups, when fetched: the members, ordered by id.
    pub members: Option<Vec<Member>>,
    /// For users, when fetched: the groups, ordered by id.
    pub groups: Option<Vec<GroupRef>>,
}

/// What an update writes: the new document and the membership deltas.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The new canonical document.
    pub document: Document,
    /// Membership changes, applied in order.
    pub members: Vec<MemberChange>,
}

/// The function an update runs on the current resource, inside the transaction.
pub type UpdateFn = Box<dyn FnOnce(&StoredResource) -> Result<Update, ScimError> + Send>;

/// A list request.
#[derive(Debug, Clone)]
pub struct ListQuery<'a> {
    /// The filter, if any.
    pub filter: Option<&'a Filter>,
    /// The sort, if any (otherwise ordered by id... see the contract).
    pub sort: Option<&'a SortSpec>,
    /// Which page.
    pub page: PageRequest,
    /// What to load for each resource.
    pub fetch: Fetch,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// How many resources match the filter in all.
    pub total_results: u64,
    /// This page.
    pub resources: Vec<StoredResource>,
    /// For cursor paging: the cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// Uniqueness rules a deployment may choose (RFC 7643 §3.1 requires none for
/// `externalId`; `userName` and group `displayName` are always unique per tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniquenessOptions {
    /// `externalId` unique per tenant and resource type, compared case-insensitively.
    /// On by default: when an IdP matches on `externalId` (Entra's objectId), two
    /// resources with one externalId would make its lookups ambiguous. Applies to writes
    /// made while it is set.
    pub external_id: bool,
}

impl Default for UniquenessOptions {
    fn default() -> Self {
        UniquenessOptions { external_id: true }
    }
}

/// One connection pool's state (for metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStatus {
    /// Which pool, e.g. `writer` or `readers`.
    pub name: &'static str,
    /// Connections open now.
    pub open: u32,
    /// Of those, how many are idle.
    pub idle: u32,
    /// The most connections the pool will open.
    pub max: u32,
}

mod logs;
pub use logs::*;
mod credentials;
pub use credentials::{AccessTokenRecord, AdminKeyRecord, OAuthClientRecord};
