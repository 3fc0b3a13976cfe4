//! `/admin/v1/tenants`: create, list, get, rename, delete, and the provisioning switch.

use super::auth::AdminAuth;
use super::body::AdminJson;
use super::problem::{AdminError, AdminResult, Problem};
use super::{public_base, rfc3339};
use crate::state::AppState;
use crate::tenants::{
    create_tenant_with_token, disable_provisioning, enable_provisioning, printable_id,
    scim_base_url,
};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use scimd_store::{Tenant, TenantUpdate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// The tenant id (part of its URLs).
    pub id: String,
    /// Human-readable name.
    pub display_name: String,
    /// Whether SCIM requests are served (403 otherwise).
    pub provisioning_enabled: bool,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last change (RFC 3339).
    pub updated: String,
    /// The SCIM base URL to paste into the identity provider.
    pub scim_url: String,
    /// How the tenant's provisioning log is kept.
    pub log: LogSettingsView,
}

/// A tenant's provisioning-log settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogSettingsView {
    /// Whether (redacted) request and response bodies are recorded.
    pub bodies: bool,
    /// Entries older than this many days are deleted.
    pub retention_days: u32,
    /// At most this many entries (the newest) are kept.
    pub max_entries: u64,
}

impl TenantView {
    pub(super) fn new(tenant: &Tenant, base: &str) -> Self {
        TenantView {
            id: tenant.id.clone(),
            display_name: tenant.display_name.clone(),
            provisioning_enabled: tenant.provisioning_enabled,
            created: rfc3339(tenant.created),
            updated: rfc3339(tenant.updated),
            scim_url: scim_base_url(base, &tenant.id),
            log: LogSettingsView {
                bodies: tenant.log.bodies,
                retention_days: tenant.log.retention_days,
                max_entries: tenant.log.max_entries,
            },
        }
    }
}

/// Body of `POST /admin/v1/tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// 1 to 63 characters of a-z, 0-9 and '-'.
    pub id: String,
    /// Human-readable name (default: the id).
    pub display_name: Option<String>,
}

/// A created tenant with its first token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantCreated {
    /// The tenant.
    pub tenant: TenantView,
    /// The bearer token for the identity provider. Shown only in this response.
    pub token: String,
    /// The token's public id.
    pub token_id: String,
}

/// Body of `PATCH /admin/v1/tenants/{tenant}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// New human-readable name.
    pub display_name: Option<String>,
    /// Record (redacted) request and response bodies in the provisioning log.
    pub log_bodies: Option<bool>,
    /// Keep provisioning-log entries this many days (1 to 3650).
    pub log_retention_days: Option<u32>,
    /// Keep at most this many provisioning-log entries (at least 1).
    pub log_max_entries: Option<u64>,
}

/// Query of `DELETE /admin/v1/tenants/{tenant}`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeleteTenant {
    /// The tenant id again: deleting removes all users, groups and tokens.
    pub confirm: Option<String>,
}

/// Body of `PUT /admin/v1/tenants/{tenant}/provisioning`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetProvisioning {
    /// Turn SCIM provisioning on or off.
    pub enabled: bool,
}

/// The provisioning switch; enabling also answers with a new token to paste into
/// the identity provider with the SCIM URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisioningState {
    /// Whether provisioning is on now.
    pub enabled: bool,
    /// The SCIM base URL.
    pub scim_url: String,
    /// When enabling: a new bearer token, shown only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// When enabling: the new token's public id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// When enabling: the new token's expiry (null: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Option<String>>,
}

pub(super) async fn require_tenant(state: &AppState, id: &str) -> AdminResult<Tenant> {
    state
        .store()
        .get_tenant(id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no tenant '{}'", printable_id(id))))
}

/// List tenants.
#[utoipa::path(get, path = "/admin/v1/tenants", tag = "tenants",
    security(("admin_key" = [])),
    responses((status = 200, body = Vec<TenantView>), (status = 401, body = Problem)))]
pub async fn list_tenants(
    _auth: AdminAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> AdminResult<Json<Vec<TenantView>>> {
    let base = public_base(&state, &headers);
    let tenants = state.store().list_tenants().await?;
    Ok(Json(
        tenants.iter().map(|t| TenantView::new(t, &base)).collect(),
    ))
}

/// Create a tenant with provisioning enabled and its first token.
#[utoipa::path(post, path = "/admin/v1/tenants", tag = "tenants",
    security(("admin_key" = [])), request_body = CreateTenant,
    responses((status = 201, body = TenantCreated), (status = 401, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_tenant(
    _auth: AdminAuth,
    State(state): State<AppState>,
    headers: HeaderMap,
    AdminJson(body): AdminJson<CreateTenant>,
) -> AdminResult<(StatusCode, Json<TenantCreated>)> {
    let display_name = body.display_name.unwrap_or_else(|| body.id.clone());
    let (tenant, issued) = create_tenant_with_token(state.store(), &body.id, &display_name).await?;
    let base = public_base(&state, &headers);
    Ok((
        StatusCode::CREATED,
        Json(TenantCreated {
            tenant: TenantView::new(&tenant, &base),
            token: issued.token,
            token_id: issued.record.id,
        }),
    ))
}

/// Get a tenant.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant}", tag = "tenants",
    security(("admin_key" = [])), params(("tenant" = String, Path, description = "Tenant id")),
    responses((status = 200, body = TenantView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn get_tenant(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> AdminResult<Json<TenantView>> {
    let found = require_tenant(&state, &tenant).await?;
    Ok(Json(TenantView::new(
        &found,
        &public_base(&state, &headers),
    )))
}

/// Rename a tenant and/or change its provisioning-log settings (only the fields given).
#[utoipa::path(patch, path = "/admin/v1/tenants/{tenant}", tag = "tenants",
    security(("admin_key" = [])), params(("tenant" = String, Path, description = "Tenant id")),
    request_body = UpdateTenant,
    responses((status = 200, body = TenantView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_tenant(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    AdminJson(body): AdminJson<UpdateTenant>,
) -> AdminResult<Json<TenantView>> {
    require_tenant(&state, &tenant).await?;
    let update = TenantUpdate {
        display_name: body.display_name,
        log_bodies: body.log_bodies,
        log_retention_days: body.log_retention_days,
        log_max_entries: body.log_max_entries,
        ..TenantUpdate::default()
    };
    let updated = crate::tenants::update_tenant(state.store(), &tenant, &update).await?;
    Ok(Json(TenantView::new(
        &updated,
        &public_base(&state, &headers),
    )))
}

/// Delete a tenant and all its data; `?confirm=<tenant id>` is required.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant}", tag = "tenants",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant id"), DeleteTenant),
    responses((status = 204, description = "Deleted"), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_tenant(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(query): Query<DeleteTenant>,
) -> AdminResult<StatusCode> {
    if query.confirm.as_deref() != Some(tenant.as_str()) {
        let tenant = printable_id(&tenant);
        return Err(AdminError::bad_request(format!(
            "deleting tenant '{tenant}' removes all its users, groups and tokens and cannot \
             be undone; confirm with ?confirm={tenant}"
        )));
    }
    if !state.store().delete_tenant(&tenant).await? {
        return Err(AdminError::not_found(format!(
            "no tenant '{}'",
            printable_id(&tenant)
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Turn provisioning on (answers with the SCIM URL and a new token) or off.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant}/provisioning", tag = "tenants",
    security(("admin_key" = [])), params(("tenant" = String, Path, description = "Tenant id")),
    request_body = SetProvisioning,
    responses((status = 200, body = ProvisioningState), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_provisioning(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    AdminJson(body): AdminJson<SetProvisioning>,
) -> AdminResult<Json<ProvisioningState>> {
    require_tenant(&state, &tenant).await?;
    let scim_url = scim_base_url(&public_base(&state, &headers), &tenant);
    if body.enabled {
        let (_, issued) = enable_provisioning(state.store(), &tenant).await?;
        Ok(Json(ProvisioningState {
            enabled: true,
            scim_url,
            token: Some(issued.token),
            token_id: Some(issued.record.id),
            expires: Some(issued.record.expires.map(rfc3339)),
        }))
    } else {
        disable_provisioning(state.store(), &tenant).await?;
        Ok(Json(ProvisioningState {
            enabled: false,
            scim_url,
            token: None,
            token_id: None,
            expires: None,
        }))
    }
}
