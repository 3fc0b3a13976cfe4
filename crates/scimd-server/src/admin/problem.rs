//! Admin API errors as problem details (RFC 9457): `application/problem+json` with
//! `type`, `title`, `status` and `detail`. Details say what to fix and never repeat
//! a secret (request bodies of this API carry none, and keys are never echoed).

use crate::error::RETRY_AFTER_SECONDS;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scimd_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of problem details (RFC 9457 §3).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// A problem details object (RFC 9457 §3.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is (§4.2.1).
    #[serde(rename = "type")]
    pub kind: String,
    /// The status code's reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
}

/// An admin API failure on its way to becoming a problem response.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A refusal with a status and a detail.
    #[error("{detail}")]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The detail shown to the caller.
        detail: String,
    },
    /// A store failure; SCIM-level ones keep their status (validation becomes 422),
    /// outages are 503, anything else 500 with the cause logged, not returned.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AdminError {
    fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        AdminError::Status {
            status,
            detail: detail.into(),
        }
    }
    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::status(StatusCode::BAD_REQUEST, detail)
    }
    /// 401: no usable admin key.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::status(StatusCode::UNAUTHORIZED, detail)
    }
    /// 404: no such tenant, token or client.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::status(StatusCode::NOT_FOUND, detail)
    }
    /// 422: well-formed JSON with a value that cannot be used.
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::status(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }
    /// 415: the body is not JSON.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::status(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail)
    }

    fn status_and_detail(&self) -> (StatusCode, String) {
        match self {
            AdminError::Status { status, detail } => (*status, detail.clone()),
            AdminError::Store(StoreError::Scim(e)) => {
                let status = match e.status {
                    // Store-level validation (a bad tenant id...) is a semantic error here.
                    400 => StatusCode::UNPROCESSABLE_ENTITY,
                    other => {
                        StatusCode::from_u16(other).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                    }
                };
                (status, e.detail.clone())
            }
            AdminError::Store(StoreError::Unavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable; retry later".to_owned(),
            ),
            AdminError::Store(StoreError::Database(_)) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; see the server log".to_owned(),
            ),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        match &self {
            AdminError::Store(StoreError::Database(cause)) => {
                tracing::error!(error = %cause, "database error");
            }
            AdminError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable");
            }
            _ => {}
        }
        let (status, detail) = self.status_and_detail();
        let problem = Problem {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
        };
        let body = serde_json::to_string(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        match status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

/// Shorthand for admin handler results.
pub type AdminResult<T> = Result<T, AdminError>;
