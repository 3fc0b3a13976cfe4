//! SCIM JSON responses and request bodies.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scimd_protocol::ScimError;
use serde_json::Value;

/// The SCIM media type (RFC 7644 §3.1). Every response carries it (R14).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// A JSON body sent as `application/scim+json` with a status.
pub struct ScimJson(pub StatusCode, pub Value);

impl IntoResponse for ScimJson {
    fn into_response(self) -> Response {
        let mut response = (self.0, self.1.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(SCIM_CONTENT_TYPE),
        );
        response
    }
}

/// A request body parsed as JSON whatever its `Content-Type` says (R15: clients send
/// `application/scim+json`, `application/json`, with or without charset, or nothing).
/// Malformed JSON is 400 `invalidSyntax`; a body over the size limit is 413.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ScimError::new(
                    413,
                    None,
                    "the request body is larger than the server's limit (max_body_bytes)",
                )
            } else {
                ScimError::invalid_syntax(format!("could not read the request body: {rejection}"))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ScimError::invalid_syntax("the request body is empty").into());
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ScimError::invalid_syntax(format!(
                "the request body is not valid JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Ok(JsonBody(value))
    }
}
