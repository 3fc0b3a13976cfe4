//! The admin API's authentication: `Authorization: Bearer scimdadm_<id>_<secret>`.
//! Handlers take [`AdminAuth`]; without a valid, unrevoked key they never run.

use super::keys::{verify_admin_key, AdminKeyRejection};
use super::problem::AdminError;
use crate::auth::bearer_token;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use time::OffsetDateTime;

/// An authenticated admin request.
#[derive(Debug, Clone)]
pub struct AdminAuth {
    /// The public id of the admin key used (never the key itself).
    pub key_id: String,
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| AdminError::unauthorized(AdminKeyRejection::Missing.to_string()))?;
        let now = OffsetDateTime::now_utc();
        let record = verify_admin_key(state.store(), presented, now)
            .await?
            .map_err(|rejection| AdminError::unauthorized(rejection.to_string()))?;
        // Admin requests are rare, so last-used is written at once (no buffering).
        state.store().touch_admin_key(&record.id, now).await?;
        Ok(AdminAuth { key_id: record.id })
    }
}
