//! # scimd-store
//!
//! One [`Store`] trait and its implementations. Every method that touches SCIM data
//! takes the tenant id as its first argument and every SQL statement filters on it:
//! there is no "current tenant" anywhere, so a request can only ever see its own
//! tenant's rows.
//!
//! - [`sqlite::SqliteStore`]: the embedded default (WAL, one writer, a reader pool).
//! - [`postgres::PgStore`]: PostgreSQL, for several nodes sharing one database.
//! - [`connect`]: opens either from a database setting.
//! - [`sql`]: SCIM filters and `sortBy` compiled to SQL.
//! - [`contract`]: the behaviour every backend must have, as a test suite any backend
//!   can run against itself.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod columns;
mod credential_sql;
mod error;
mod fold;
mod model;
mod timestamp;

pub mod connect;
pub mod contract;
pub mod postgres;
pub mod sql;
pub mod sqlite;
#[doc(hidden)]
pub mod testing;

pub use fold::fold_case;

pub use error::StoreError;
pub use model::*;

use async_trait::async_trait;
use scimd_protocol::{ResourceKind, SchemaRegistry};

/// Shorthand for results of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// The storage contract. See the crate docs and [`contract`] for the behaviour.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- health -------------------------------------------------------------

    /// Succeeds when the database answers a trivial query (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// The connection pools' state right now, for `/metrics`. Cheap: no I/O.
    fn pool_status(&self) -> Vec<PoolStatus>;

    /// Closes the store, at the end of the process: writes already queued finish,
    /// then every connection closes. On SQLite the last one to close checkpoints the
    /// WAL into the database file and removes it, so the files a stopped scimd leaves
    /// are whole on their own (a backup may copy just them). Calls made afterwards
    /// fail with `Unavailable`.
    async fn close(&self);

    // ---- tenants ------------------------------------------------------------

    /// Creates a tenant. An existing id is `uniqueness` (409).
    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<Tenant>;
    /// The tenant with this id.
    async fn get_tenant(&self, id: &str) -> StoreResult<Option<Tenant>>;
    /// Every tenant, ordered by id.
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// Changes a tenant's display name and/or provisioning switch. Unknown id: 404.
    async fn update_tenant(&self, id: &str, update: &TenantUpdate) -> StoreResult<Tenant>;
    /// Deletes a tenant and everything it owns (resources, memberships, tokens).
    /// Returns whether it existed.
    async fn delete_tenant(&self, id: &str) -> StoreResult<bool>;

    // ---- tokens -------------------------------------------------------------

    /// Stores a new token record (only its hash). Unknown tenant: 404.
    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()>;
    /// The tenant's token with this public id (the caller checks the hash, expiry and
    /// revocation). Scoped by tenant like every other read: another tenant's token
    /// with the same id is not found.
    async fn get_token(&self, tenant: &str, token_id: &str) -> StoreResult<Option<TokenRecord>>;
    /// A tenant and, read in the same statement, its token with this id: everything
    /// authenticating a SCIM request needs, in one round trip. `None` when the tenant
    /// does not exist; the token is `None` when the tenant has no token with that id
    /// (a token of another tenant is not found, as in [`Store::get_token`]).
    async fn get_tenant_with_token(
        &self,
        tenant: &str,
        token_id: &str,
    ) -> StoreResult<Option<(Tenant, Option<TokenRecord>)>>;
    /// A tenant's tokens, newest first, revoked ones included; OAuth access tokens
    /// are not among them (see [`Store::list_access_tokens`]).
    async fn list_tokens(&self, tenant: &str) -> StoreResult<Vec<TokenRecord>>;
    /// Sets `revoked` on a tenant's token (at `at`, which may be in the future for a
    /// grace period). Returns whether the token exists in that tenant.
    async fn revoke_token(
        &self,
        tenant: &str,
        token_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Records last-used times in one batch (the server buffers them, so this is not
    /// a write per request).
    async fn touch_tokens(&self, used: &[(String, time::OffsetDateTime)]) -> StoreResult<()>;

    // ---- resources ----------------------------------------------------------

    /// Creates a resource with a new id. Enforces per-tenant, case-insensitive
    /// uniqueness of `userName` (users), `displayName` (groups) and `externalId`
    /// (per kind): a violation is 409 `uniqueness`, also when two creates race.
    /// For groups, `members` must name existing resources of the tenant.
    async fn create(
        &self,
        tenant: &str,
        kind: ResourceKind,
        new: NewResource,
        fetch: Fetch,
    ) -> StoreResult<StoredResource>;

    /// Reads a resource; `fetch` says whether to load members / groups.
    async fn get(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        fetch: Fetch,
    ) -> StoreResult<Option<StoredResource>>;

    /// Changes a resource atomically: reads it (without members), calls `change`, and
    /// writes the new document and membership deltas in one transaction. If
    /// `if_match` is given and differs from the stored version: 412. Unknown id: 404.
    /// The version and `lastModified` move only when something actually changed.
    async fn update(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        if_match: Option<u64>,
        change: UpdateFn,
        fetch: Fetch,
    ) -> StoreResult<StoredResource>;

    /// Deletes a resource and every membership that names it. `if_match` as in
    /// [`Store::update`]. Unknown id: 404.
    async fn delete(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        if_match: Option<u64>,
    ) -> StoreResult<()>;

    /// Lists resources matching a filter, sorted and paged. The filter is compiled to
    /// SQL; unknown attributes are `invalidFilter`. Ordering is deterministic (the
    /// sort key, then the id), so pages neither overlap nor skip.
    async fn list(
        &self,
        tenant: &str,
        kind: ResourceKind,
        registry: &SchemaRegistry,
        query: &ListQuery<'_>,
    ) -> StoreResult<ListPage>;

    // ---- provisioning logs ----

    /// Appends a batch of provisioning-log entries in one transaction. Entries of
    /// tenants that no longer exist are skipped. Returns how many were written. The
    /// batch is taken whole: a backend that writes on another thread moves it there
    /// instead of copying every entry.
    async fn append_request_logs(&self, entries: Vec<NewLogEntry>) -> StoreResult<u64>;

    /// A page of one tenant's provisioning log, newest first, filtered by `query`;
    /// paging is by keyset cursor. A malformed cursor is 400 `invalidValue`.
    async fn list_request_logs(&self, tenant: &str, query: &LogQuery) -> StoreResult<LogPage>;

    /// Deletes a tenant's log entries older than `older_than`, then all but the newest
    /// `keep_newest`. Returns how many were deleted.
    async fn prune_request_logs(
        &self,
        tenant: &str,
        older_than: time::OffsetDateTime,
        keep_newest: u64,
    ) -> StoreResult<u64>;
    // ---- admin keys and OAuth clients ----------------------------------------

    /// Stores a new admin key (only its hash). An existing id is `uniqueness` (409).
    async fn insert_admin_key(&self, key: &AdminKeyRecord) -> StoreResult<()>;
    /// The admin key with this public id (the caller checks hash and revocation).
    async fn get_admin_key(&self, key_id: &str) -> StoreResult<Option<AdminKeyRecord>>;
    /// Every admin key, newest first, revoked ones included.
    async fn list_admin_keys(&self) -> StoreResult<Vec<AdminKeyRecord>>;
    /// Sets `revoked` on an admin key unless it is already revoked. Returns whether
    /// the key exists.
    async fn revoke_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<bool>;
    /// Records that an admin key was used at `at` (an older time never overwrites a
    /// newer one).
    async fn touch_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<()>;

    /// Stores a new OAuth client (only its secret's hash). Unknown tenant: 404; an
    /// existing client id in the tenant: 409.
    async fn insert_oauth_client(&self, client: &OAuthClientRecord) -> StoreResult<()>;
    /// A tenant's OAuth client.
    async fn get_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
    ) -> StoreResult<Option<OAuthClientRecord>>;
    /// A tenant's OAuth clients, newest first, revoked ones included.
    async fn list_oauth_clients(&self, tenant: &str) -> StoreResult<Vec<OAuthClientRecord>>;
    /// Revokes a tenant's OAuth client and, in the same transaction, every access
    /// token issued to it that is not revoked already. Returns whether the client
    /// exists in that tenant.
    async fn revoke_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Stores an access token issued to a client of the token's tenant. Unknown or
    /// revoked client: 404 (so a client revoked while its secret was being checked
    /// gets no token).
    async fn insert_access_token(&self, token: &TokenRecord, client_id: &str) -> StoreResult<()>;
    /// A tenant's OAuth access tokens, newest first, expired and revoked included.
    async fn list_access_tokens(&self, tenant: &str) -> StoreResult<Vec<AccessTokenRecord>>;
    /// Deletes OAuth access tokens that expired before `before`, in every tenant.
    /// Returns how many were deleted.
    async fn prune_access_tokens(&self, before: time::OffsetDateTime) -> StoreResult<u64>;
}
