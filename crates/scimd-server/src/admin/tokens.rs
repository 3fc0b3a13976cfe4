//! `/admin/v1/tenants/{tenant}/tokens`: list (with expiry warnings), create, rotate
//! with a grace period, revoke.

use super::auth::AdminAuth;
use super::body::AdminJson;
use super::problem::{AdminError, AdminResult, Problem};
use super::rfc3339;
use super::tenants::require_tenant;
use crate::duration::parse_duration;
use crate::state::AppState;
use crate::tenants::{create_token, revoke_token as revoke, rotate_tokens};
use crate::tokens::TokenStatus;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use scimd_store::TokenRecord;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// A token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Public id (the 8 characters after `scimd_`).
    pub id: String,
    /// Label.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last use, recorded in batches (RFC 3339).
    pub last_used: Option<String>,
    /// Expiry (RFC 3339); null: never.
    pub expires: Option<String>,
    /// Revocation time (RFC 3339), possibly in the future during a rotation.
    pub revoked: Option<String>,
    /// active, expiring_soon, revocation_scheduled, expired or revoked.
    pub status: String,
    /// Usable but expiring within 14 days: replace it before the IdP stops.
    pub expiring_soon: bool,
    /// For OAuth access tokens (listed with `?all=true`): the client that obtained it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_client_id: Option<String>,
}

fn token_view(token: &TokenRecord, client: Option<&str>, now: OffsetDateTime) -> TokenView {
    let status = TokenStatus::of(token, now);
    TokenView {
        id: token.id.clone(),
        name: token.name.clone(),
        created: rfc3339(token.created),
        last_used: token.last_used.map(rfc3339),
        expires: token.expires.map(rfc3339),
        revoked: token.revoked.map(rfc3339),
        status: status.as_str().to_owned(),
        expiring_soon: status == TokenStatus::ExpiringSoon,
        oauth_client_id: client.map(str::to_owned),
    }
}

/// Query of the token list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListTokens {
    /// Also list OAuth access tokens.
    pub all: Option<bool>,
}

/// Body of token creation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Label (default `api`).
    pub name: Option<String>,
    /// Lifetime such as `90d`, `12h`, `2w` (default: never expires).
    pub expires_in: Option<String>,
}

/// Body of a rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateTokens {
    /// Label of the new token (default `rotated`).
    pub name: Option<String>,
    /// How long the old tokens keep working, e.g. `24h` (default: revoked at once).
    pub grace: Option<String>,
    /// Lifetime of the new token (default: never expires).
    pub expires_in: Option<String>,
}

/// A new token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    /// Public id.
    pub id: String,
    /// The bearer token. Shown only in this response.
    pub token: String,
    /// Expiry (RFC 3339); null: never.
    pub expires: Option<String>,
}

/// An old token scheduled for revocation by a rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduledRevocation {
    /// Public id of the old token.
    pub id: String,
    /// When it stops working (RFC 3339).
    pub at: String,
}

/// The outcome of a rotation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenRotated {
    /// Public id of the new token.
    pub id: String,
    /// The new bearer token. Shown only in this response.
    pub token: String,
    /// Expiry of the new token (RFC 3339); null: never.
    pub expires: Option<String>,
    /// The old tokens and when they stop working.
    pub revokes: Vec<ScheduledRevocation>,
}

fn lifetime(field: &str, text: Option<&str>) -> AdminResult<Option<time::Duration>> {
    text.map(|t| parse_duration(t).map_err(|e| AdminError::unprocessable(format!("{field}: {e}"))))
        .transpose()
}

/// List a tenant's tokens (never their secrets).
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant}/tokens", tag = "tokens",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant id"), ListTokens),
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn list_tokens(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(query): Query<ListTokens>,
) -> AdminResult<Json<Vec<TokenView>>> {
    require_tenant(&state, &tenant).await?;
    let now = OffsetDateTime::now_utc();
    let mut views: Vec<TokenView> = state
        .store()
        .list_tokens(&tenant)
        .await?
        .iter()
        .map(|t| token_view(t, None, now))
        .collect();
    if query.all == Some(true) {
        for access in state.store().list_access_tokens(&tenant).await? {
            views.push(token_view(&access.token, Some(&access.client_id), now));
        }
    }
    Ok(Json(views))
}

/// Create a token (shown once).
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/tokens", tag = "tokens",
    security(("admin_key" = [])), params(("tenant" = String, Path, description = "Tenant id")),
    request_body = CreateToken,
    responses((status = 201, body = TokenCreated), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_tenant_token(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    AdminJson(body): AdminJson<CreateToken>,
) -> AdminResult<(StatusCode, Json<TokenCreated>)> {
    require_tenant(&state, &tenant).await?;
    let now = OffsetDateTime::now_utc();
    let expires = lifetime("expires_in", body.expires_in.as_deref())?.map(|l| now + l);
    let name = body.name.as_deref().unwrap_or("api");
    let issued = create_token(state.store(), &tenant, name, expires).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            id: issued.record.id,
            token: issued.token,
            expires: expires.map(rfc3339),
        }),
    ))
}

/// Rotate: a new token now, the others revoked after the grace period.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant}/tokens/rotate", tag = "tokens",
    security(("admin_key" = [])), params(("tenant" = String, Path, description = "Tenant id")),
    request_body = RotateTokens,
    responses((status = 201, body = TokenRotated), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn rotate_tenant_tokens(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    AdminJson(body): AdminJson<RotateTokens>,
) -> AdminResult<(StatusCode, Json<TokenRotated>)> {
    require_tenant(&state, &tenant).await?;
    let now = OffsetDateTime::now_utc();
    let expires = lifetime("expires_in", body.expires_in.as_deref())?.map(|l| now + l);
    let grace = lifetime("grace", body.grace.as_deref())?.unwrap_or(time::Duration::ZERO);
    let name = body.name.as_deref().unwrap_or("rotated");
    let rotation = rotate_tokens(state.store(), &tenant, name, expires, grace, now).await?;
    let at = rfc3339(rotation.revoke_at);
    Ok((
        StatusCode::CREATED,
        Json(TokenRotated {
            id: rotation.issued.record.id,
            token: rotation.issued.token,
            expires: expires.map(rfc3339),
            revokes: rotation
                .revoked
                .into_iter()
                .map(|id| ScheduledRevocation { id, at: at.clone() })
                .collect(),
        }),
    ))
}

/// Revoke a token now; the next request using it gets 401.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant}/tokens/{token_id}", tag = "tokens",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant id"),
        ("token_id" = String, Path, description = "Token id")),
    responses((status = 204, description = "Revoked (or already revoked)"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_tenant_token(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path((tenant, token_id)): Path<(String, String)>,
) -> AdminResult<StatusCode> {
    require_tenant(&state, &tenant).await?;
    revoke(state.store(), &tenant, &token_id, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}
