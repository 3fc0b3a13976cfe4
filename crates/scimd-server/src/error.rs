//! The one place that turns errors into HTTP responses.
//!
//! Every failure a client can see is a SCIM Error (RFC 7644 §3.12) with
//! `Content-Type: application/scim+json`: bad input, auth, unknown routes, wrong
//! methods, oversized bodies, database outages (503 + `Retry-After`) and even panics.

use crate::response::SCIM_CONTENT_TYPE;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scimd_protocol::ScimError;
use scimd_store::StoreError;

/// Seconds a client should wait after a 503 before retrying.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// An error on its way to becoming a response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A SCIM-level error; rendered as it is.
    #[error(transparent)]
    Scim(#[from] ScimError),
    /// A store error; SCIM-level ones are rendered as they are, outages as 503,
    /// anything else as 500 with the cause logged, not returned.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    /// The SCIM error this becomes (also used by Bulk, which embeds errors in its
    /// response instead of returning them).
    pub fn to_scim(&self) -> ScimError {
        match self {
            ApiError::Scim(e) => e.clone(),
            ApiError::Store(StoreError::Scim(e)) => e.clone(),
            ApiError::Store(StoreError::Unavailable(_)) => {
                ScimError::new(503, None, "the database is unavailable; retry later")
            }
            ApiError::Store(StoreError::Database(_)) => {
                ScimError::new(500, None, "internal error; see the server log")
            }
        }
    }
}

/// Renders a SCIM error as a response.
pub fn scim_error_response(err: &ScimError) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = err.to_json().to_string();
    let mut response = (status, body).into_response();
    // The provisioning log reads scimType and detail from here instead of re-parsing
    // the body it may not even keep.
    response.extensions_mut().insert(err.clone());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    );
    match err.status {
        401 => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        503 => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        _ => {}
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Store(StoreError::Database(cause)) => {
                tracing::error!(error = %cause, "database error");
            }
            ApiError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable");
            }
            _ => {}
        }
        scim_error_response(&self.to_scim())
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
