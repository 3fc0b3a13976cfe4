//! `GET /admin/v1/tenants/{tenant}/logs`: a tenant's provisioning log, newest first,
//! with the filters and cursor of `scimd logs` (both go through
//! [`crate::provisioning_log::query`]).

use super::auth::AdminAuth;
use super::problem::{AdminError, AdminResult, Problem};
use crate::provisioning_log::query::{list_logs_json, LogListParams, LogQueryError};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use scimd_store::StoreError;
use serde_json::Value;

impl From<LogQueryError> for AdminError {
    fn from(err: LogQueryError) -> Self {
        match err {
            LogQueryError::InvalidParameter(detail) => AdminError::bad_request(detail),
            LogQueryError::UnknownTenant(_) => AdminError::not_found("no such tenant"),
            // A refused cursor is a malformed query parameter: 400, not the 422 the
            // admin API gives to store-level validation of request bodies.
            LogQueryError::Store(StoreError::Scim(e)) if e.status == 400 => {
                AdminError::bad_request(e.detail)
            }
            LogQueryError::Store(store) => AdminError::Store(store),
        }
    }
}

/// A page of the tenant's provisioning log: `{"entries": [...], "next_cursor"}`.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant}/logs", tag = "logs",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant id"), LogListParams),
    responses((status = 200, description = "Entries newest first, and the cursor of the next page",
            body = Object),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn list_logs(
    _auth: AdminAuth,
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Query(params): Query<LogListParams>,
) -> AdminResult<Json<Value>> {
    Ok(Json(list_logs_json(state.store(), &tenant, &params).await?))
}
