//! SCIM JSON responses and request bodies.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scimd_protocol::ScimError;
use serde::Serialize;
use serde_json::Value;

/// The SCIM media type (RFC 7644 §3.1). Every response carries it (R14).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// A JSON body sent as `application/scim+json` with a status: a `Value`, or anything
/// else that serialises to JSON (a [`scimd_protocol::resource::Rendered`] resource).
pub struct ScimJson<T = Value>(pub StatusCode, pub T);

/// Room reserved for a serialised body up front: a user is about 1 KiB, so most bodies
/// are written without the buffer growing.
const BODY_CAPACITY: usize = 1024;

impl<T: Serialize> IntoResponse for ScimJson<T> {
    fn into_response(self) -> Response {
        // Straight into bytes with `serde_json::to_writer`, not through `Display` (the
        // formatting machinery, one `write_str` per token: ~3% of a GET's CPU).
        let mut body = Vec::with_capacity(BODY_CAPACITY);
        if let Err(e) = serde_json::to_writer(&mut body, &self.1) {
            // A `Value` or a rendered resource has only string keys, so this cannot
            // happen; if it did, the client still gets a SCIM error rather than a
            // truncated body.
            return ApiError::from(ScimError::new(
                500,
                None,
                format!("could not serialise the response: {e}"),
            ))
            .into_response();
        }
        let mut response = (self.0, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(SCIM_CONTENT_TYPE),
        );
        response
    }
}

/// A request body parsed as JSON whatever its `Content-Type` says (R15: clients send
/// `application/scim+json`, `application/json`, with or without charset, or nothing).
/// Malformed JSON is 400 `invalidSyntax`; a body over the size limit is 413; a string
/// holding U+0000 is 400 `invalidValue` (`scimd_protocol::nul`), so no handler and no
/// backend ever sees one.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ScimError::new(
                    413,
                    None,
                    "the request body is larger than this endpoint accepts (max_body_bytes; \
                     a Group's POST, PUT and PATCH: max_group_body_bytes)",
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
        scimd_protocol::nul::refuse_nul_in_json(&bytes)?;
        Ok(JsonBody(value))
    }
}
