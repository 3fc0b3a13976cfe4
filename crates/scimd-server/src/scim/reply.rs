//! Responses carrying one resource: the body, its weak `ETag` (RFC 7644 §3.14) and,
//! after a create, its `Location` (RFC 7644 §3.3).

use crate::response::ScimJson;
use axum::http::header::{ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scimd_protocol::etag::etag;
use serde::Serialize;

/// A resource response with its ETag, and a `Location` when given.
pub fn resource(
    status: StatusCode,
    body: impl Serialize,
    version: u64,
    location: Option<&str>,
) -> Response {
    let mut response = ScimJson(status, body).into_response();
    set_etag(&mut response, version);
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// A `204 No Content` for a resource that still exists, with its new ETag.
pub fn no_content(version: u64) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_etag(&mut response, version);
    response
}

/// `304 Not Modified` (RFC 7232 §4.1): no body, the ETag repeated.
pub fn not_modified(version: u64) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    set_etag(&mut response, version);
    response
}

fn set_etag(response: &mut Response, version: u64) {
    // A decimal number inside W/"..." is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(ETAG, value);
    }
}
