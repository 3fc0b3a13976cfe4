//! The `/admin/v1` JSON API: tenants, the provisioning switch, tokens and OAuth
//! clients, authenticated with admin keys (`scimd admin-key create`). Errors are
//! problem details (RFC 9457). The OpenAPI document at `/admin/v1/openapi.json` is
//! generated from the handlers' annotations, so it lists exactly the routes served.
//!
//! Handlers only translate HTTP to calls of [`crate::tenants`], [`crate::oauth`] and
//! [`keys`], which the CLI calls too: each lifecycle step is written once.

mod auth;
mod body;
mod clients;
pub mod keys;
mod logs;
mod problem;
mod tenants;
mod tokens;

pub use auth::AdminAuth;
pub use problem::{AdminError, Problem, PROBLEM_CONTENT_TYPE};

use crate::state::AppState;
use axum::http::header::HOST;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/admin/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "scimd admin API",
        description = "Tenants, provisioning, tokens, OAuth clients and provisioning logs of a scimd server. \
            Authenticate with an admin key: `Authorization: Bearer scimdadm_...`."
    ),
    modifiers(&AdminKeyScheme),
    tags(
        (name = "tenants", description = "Tenants and their provisioning switch"),
        (name = "tokens", description = "A tenant's bearer tokens"),
        (name = "oauth-clients", description = "OAuth 2.0 clients (client credentials grant)"),
        (name = "logs", description = "A tenant's provisioning log")
    )
)]
struct AdminApiDoc;

/// Declares the `admin_key` bearer scheme the operations refer to.
struct AdminKeyScheme;

impl utoipa::Modify for AdminKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("scimdadm_<id>_<secret>")
                    .build(),
            ),
        );
    }
}

fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(AdminApiDoc::openapi())
        .routes(routes!(tenants::list_tenants, tenants::create_tenant))
        .routes(routes!(
            tenants::get_tenant,
            tenants::update_tenant,
            tenants::delete_tenant
        ))
        .routes(routes!(tenants::set_provisioning))
        .routes(routes!(tokens::list_tokens, tokens::create_tenant_token))
        .routes(routes!(tokens::rotate_tenant_tokens))
        .routes(routes!(tokens::revoke_tenant_token))
        .routes(routes!(clients::list_clients, clients::create_oauth_client))
        .routes(routes!(clients::revoke_oauth_client))
        .routes(routes!(logs::list_logs))
}

/// The OpenAPI document of the admin API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_routes().split_for_parts().1
}

/// The admin API's routes, including its OpenAPI document (served without a key:
/// it describes the API and holds no data).
pub fn routes() -> Router<AppState> {
    let (router, api) = documented_routes().split_for_parts();
    let document = Arc::new(api);
    router
        .route(
            OPENAPI_PATH,
            get(move || {
                let document = document.clone();
                async move { Json(document.as_ref().clone()) }
            }),
        )
        .route("/admin/v1", get(unknown_route))
        .route("/admin/v1/{*rest}", get(unknown_route).post(unknown_route))
}

/// Unknown admin paths get a problem response, not the SCIM error of other paths.
async fn unknown_route() -> AdminError {
    AdminError::not_found(format!(
        "no such admin endpoint; see {OPENAPI_PATH} for the admin API"
    ))
}

/// The origin clients reach this server at: `public_url` when set (behind a proxy
/// the `Host` header names the upstream), else `http://<Host>`.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(public) = &state.config().public_url {
        return public.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// RFC 3339 for JSON output.
fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}
