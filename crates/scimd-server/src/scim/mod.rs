//! The SCIM endpoints under `/scim/v2/{tenant}` (RFC 7644 §3.2).
//!
//! | path | methods |
//! |---|---|
//! | `/Users`, `/Groups` | GET (query), POST (create) |
//! | `/Users/{id}`, `/Groups/{id}` | GET, PUT, PATCH, DELETE |
//! | `/.search`, `/Users/.search`, `/Groups/.search` | POST |
//! | `/Bulk` | POST |
//! | `/ServiceProviderConfig` (alias `/serviceConfiguration`), `/Schemas[/{id}]`, `/ResourceTypes[/{id}]` | GET |
//! | `/Me` | any: 501 |
//!
//! Any other method on these paths is a SCIM 405.
//!
//! Modules: [`query`] decodes query strings and search bodies, [`request`] extracts
//! the rest of a request, [`resources`] holds the single-resource operations shared
//! with [`bulk`], [`list`] the queries, [`discovery`] the ServiceProviderConfig,
//! [`handlers`] the HTTP layer and [`reply`] the resource responses.

pub mod bulk;
pub mod discovery;
pub mod endpoint_case;
pub mod handlers;
pub mod list;
pub mod query;
pub mod reply;
pub mod request;
pub mod resources;

use crate::config::Limits;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use handlers::*;
use scimd_protocol::ResourceKind;

/// A resource type known at compile time, so one generic handler serves `/Users` and
/// `/Groups` without a runtime path lookup.
pub trait KindMarker: Send + Sync + 'static {
    /// The resource type.
    const KIND: ResourceKind;
}

/// `/Users`.
pub struct Users;
impl KindMarker for Users {
    const KIND: ResourceKind = ResourceKind::User;
}

/// `/Groups`.
pub struct Groups;
impl KindMarker for Groups {
    const KIND: ResourceKind = ResourceKind::Group;
}

/// Where a tenant's SCIM endpoints are. The routes are registered at their full paths
/// rather than nested under this prefix: a nested router costs every request a second
/// route lookup, a copy of its path without the prefix, and a clone of the inner
/// router's service, some 3% of a GET by id's CPU (docs/benchmarks.md, item 52).
pub const TENANT_BASE: &str = "/scim/v2/{tenant}";

/// The routes of one resource type. `body_limit` is the largest body its creates,
/// replaces and patches accept; `None` keeps the application's (`max_body_bytes`).
fn resource_routes<K: KindMarker>(endpoint: &str, body_limit: Option<usize>) -> Router<AppState> {
    let limited = |router: MethodRouter<AppState>| match body_limit {
        // The innermost `DefaultBodyLimit` wins: it overrides the application's.
        Some(limit) => router.layer(DefaultBodyLimit::max(limit)),
        None => router,
    };
    let collection = || limited(get(list_resources::<K>).post(create_resource::<K>));
    Router::new()
        .route(&format!("{TENANT_BASE}/{endpoint}"), collection())
        // Microsoft's validator queries `/Users/?filter=...`; a trailing slash on a
        // collection names the same collection.
        .route(&format!("{TENANT_BASE}/{endpoint}/"), collection())
        .route(
            &format!("{TENANT_BASE}/{endpoint}/.search"),
            post(search_resources::<K>),
        )
        .route(
            &format!("{TENANT_BASE}/{endpoint}/{{id}}"),
            limited(
                get(get_resource::<K>)
                    .put(replace_resource::<K>)
                    .patch(patch_resource::<K>)
                    .delete(delete_resource::<K>),
            ),
        )
}

/// The SCIM routes, at their full paths under [`TENANT_BASE`]. Groups' writes get
/// their own body limit ([`Limits::group_body_bytes`]): their members travel whole.
pub fn routes(limits: &Limits) -> Router<AppState> {
    let at = |path: &str| format!("{TENANT_BASE}{path}");
    Router::new()
        .merge(resource_routes::<Users>("Users", None))
        .merge(resource_routes::<Groups>(
            "Groups",
            Some(limits.group_body_bytes()),
        ))
        .route(&at("/.search"), post(search_root))
        .route(&at("/Bulk"), post(bulk::bulk))
        .route(
            &at("/ServiceProviderConfig"),
            get(get_service_provider_config),
        )
        // Not in the RFC: Microsoft's reference Postman collection for Entra reads
        // `/serviceConfiguration`. Answering it as an alias costs nothing and lets
        // admins run that collection unchanged.
        .route(
            &at("/serviceConfiguration"),
            get(get_service_provider_config),
        )
        .route(&at("/Schemas"), get(list_schemas))
        .route(&at("/Schemas/{id}"), get(get_schema))
        .route(&at("/ResourceTypes"), get(list_resource_types))
        .route(&at("/ResourceTypes/{id}"), get(get_resource_type))
        .route(&at("/Me"), any(me))
        .route(&at("/Me/{*rest}"), any(me))
        // Must come after the routes: it applies to the routes registered so far.
        .method_not_allowed_fallback(method_not_allowed)
}
