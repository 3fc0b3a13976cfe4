//! `/admin/v1/tenants/{tenant}/oauth-clients`: OAuth clients for the client
//! credentials grant (list, create with the secret shown once, revoke).

use super::auth::AdminAuth;
use super::body::AdminJson;
use super::problem::{AdminResult, Problem};
use super::tenants::require_tenant;
use super::{public_base, rfc3339};
use crate::oauth::clients::{create_client, revoke_client};
use crate::oauth::token_endpoint_url;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// An OAuth client as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    /// The client id.
    pub client_id: String,
    /// Label.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Revocation time (RFC 3339), if revoked.
    pub revoked: Option<String>,
}

/// Body of client creation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// Label (default `oauth`).
    pub name: Option<String>,
}

/// A new client: what Microsoft's gallery onboarding asks for. The secret is shown
/// only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCreated {
    /// The client id.
    pub client_id: String,
    /// The client secret. Shown only here.
    pub client_secret: String,
    /// Where to exchange them for an access token (client credentials grant).
    pub token_endpoint: String,
    /// The SCIM base URL the access tokens are for.
    pub scim_url: String,
}

/// List a tenant's OAuth clients.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant}/oauth-clients", tag = "oauth-clients",
    security(("admin_key" = [])), params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, body = Vec<ClientView>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn list_clients(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> AdminResult<Json<Vec<ClientView>>> {
    require_tenant(&state, &tenant).await?;
    let clients = state.store().list_oauth_clients(&tenant).await?;
    Ok(Json(
        clients
            .into_iter()
            .map(|c| ClientView {
                client_id: c.client_id,
                name: c.name,
                created: rfc3339(c.created),
                revoked: c.revoked.map(rfc3339),
            })
            .collect(),
    ))
}

/// Create an OAuth client (its secret is shown once).
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/oauth-clients", tag = "oauth-clients",
    security(("admin_key" = [])), params(("tenant" = String, Path, description = "Tenant id")),
    request_body = CreateClient,
    responses((status = 201, body = ClientCreated), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_oauth_client(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    AdminJson(body): AdminJson<CreateClient>,
) -> AdminResult<(StatusCode, Json<ClientCreated>)> {
    require_tenant(&state, &tenant).await?;
    let name = body.name.as_deref().unwrap_or("oauth");
    let issued = create_client(state.store(), &tenant, name, OffsetDateTime::now_utc()).await?;
    let base = public_base(&state, &headers);
    Ok((
        StatusCode::CREATED,
        Json(ClientCreated {
            client_id: issued.record.client_id,
            client_secret: issued.secret,
            token_endpoint: token_endpoint_url(&base, &tenant),
            scim_url: crate::tenants::scim_base_url(&base, &tenant),
        }),
    ))
}

/// Revoke an OAuth client and every access token it obtained.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant}/oauth-clients/{client_id}",
    tag = "oauth-clients", security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant id"),
        ("client_id" = String, Path, description = "Client id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn revoke_oauth_client(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path((tenant, client_id)): Path<(String, String)>,
) -> AdminResult<StatusCode> {
    require_tenant(&state, &tenant).await?;
    revoke_client(
        state.store(),
        &tenant,
        &client_id,
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
