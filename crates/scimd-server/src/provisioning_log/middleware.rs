//! The middleware on the SCIM routes that records each request.
//!
//! It runs inside `ops::instrument` (so the request id is known) and records after the
//! response is complete. The only work on the request path is one read of the tenant
//! and the presented token's record (to know whether the tenant exists and logs bodies;
//! authentication then verifies against it, see [`crate::auth::RequestTenant`]),
//! building the entry, and a `try_send`. A handler's panic is caught here and answered
//! with the SCIM 500, so a failed request is in the log like any other.

use super::classify::classify_client;
use super::redact::{redact_body, redact_query};
use crate::error::scim_error_response;
use crate::ops::request_id::RequestId;
use crate::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{OriginalUri, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, LOCATION, USER_AGENT};
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::FutureExt;
use scimd_protocol::ScimError;
use scimd_store::NewLogEntry;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use time::OffsetDateTime;

/// Longest `detail` kept (error details may quote a client's filter).
const MAX_DETAIL_BYTES: usize = 1024;

/// The SCIM path prefix; the tenant is the next segment.
const SCIM_PREFIX: &str = "/scim/v2/";

/// Records the request in its tenant's provisioning log.
pub async fn record_scim_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let at = OffsetDateTime::now_utc();
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    let Some(tenant_id) = tenant_of(uri.path()) else {
        return next.run(request).await;
    };
    // The tenant and, in the same read, the token the request presents: authentication
    // verifies against that record, so a SCIM request costs one read before its handler.
    let token_id = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::auth::bearer_token)
        .and_then(crate::tokens::split_token)
        .map(|(id, _)| id.to_owned());
    let read = match &token_id {
        Some(id) => state
            .store()
            .get_tenant_with_token(&tenant_id, id)
            .await
            .map(|found| found.map(|(tenant, token)| (tenant, Some((id.clone(), token))))),
        None => state
            .store()
            .get_tenant(&tenant_id)
            .await
            .map(|found| found.map(|tenant| (tenant, None))),
    };
    // Requests for tenants that do not exist are not recorded: nobody could read them.
    // A failed lookup (database down) is not recorded either; the request goes on.
    let (tenant, token) = match read {
        Ok(Some(found)) => found,
        _ => return next.run(request).await,
    };
    let mut request = request;
    request.extensions_mut().insert(crate::auth::RequestTenant {
        tenant: tenant.clone(),
        token,
    });
    let method = request.method().as_str().to_owned();
    let client = classify_client(header_text(request.headers(), USER_AGENT), uri.query());
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(String::new, |id| id.0.clone());
    let path_resource = resource_in_path(uri.path());

    let (request, request_body) = if tenant.log.bodies {
        match capture_request_body(request, state.config().limits.largest_body_bytes()).await {
            Ok(captured) => captured,
            Err(response) => {
                // Recorded like any other refused request.
                let entry = entry_for(
                    &tenant_id,
                    at,
                    method,
                    &uri,
                    &response,
                    elapsed_us(started),
                    client,
                    request_id,
                    path_resource,
                    None,
                    None,
                );
                state.provisioning_log().record(entry);
                return response;
            }
        }
    } else {
        (request, None)
    };

    // A handler that panics is answered here with the SCIM 500 the outer panic layer
    // would give, so that the request is recorded too: an operator reading the log of
    // a failed provisioning cycle must see it (the panic message stays in the server
    // log). `AssertUnwindSafe`: nothing the handler borrowed is used after a panic.
    let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => crate::ops::panic::panic_response(payload),
    };
    let latency_us = elapsed_us(started);
    let resource = path_resource.or_else(|| created_resource(&response));
    let (response, response_body) = if tenant.log.bodies {
        capture_response_body(response).await
    } else {
        (response, None)
    };
    let entry = entry_for(
        &tenant_id,
        at,
        method,
        &uri,
        &response,
        latency_us,
        client,
        request_id,
        resource,
        request_body,
        response_body,
    );
    state.provisioning_log().record(entry);
    response
}

#[allow(clippy::too_many_arguments)]
fn entry_for(
    tenant_id: &str,
    at: OffsetDateTime,
    method: String,
    uri: &Uri,
    response: &Response,
    latency_us: u64,
    client: scimd_store::LogClient,
    request_id: String,
    resource_id: Option<String>,
    request_body: Option<String>,
    response_body: Option<String>,
) -> NewLogEntry {
    let error = response.extensions().get::<ScimError>();
    NewLogEntry {
        tenant_id: tenant_id.to_owned(),
        at,
        method,
        path: logged_path(uri),
        status: response.status().as_u16(),
        latency_us,
        scim_type: error
            .and_then(|e| e.scim_type)
            .map(|t| t.as_str().to_owned()),
        detail: error.map(|e| bounded(&e.detail, MAX_DETAIL_BYTES)),
        client,
        resource_id,
        request_id,
        request_body,
        response_body,
    }
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The tenant segment of a SCIM path (`/scim/v2/{tenant}/...`), as the router sees it.
pub fn tenant_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix(SCIM_PREFIX)?;
    let tenant = rest.split('/').next().unwrap_or("");
    (!tenant.is_empty()).then(|| tenant.to_owned())
}

/// The resource id in `/scim/v2/{tenant}/Users/{id}` or `.../Groups/{id}`.
pub fn resource_in_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix(SCIM_PREFIX)?;
    let mut segments = rest.split('/').skip(1);
    let endpoint = segments.next()?;
    let id = segments.next()?;
    let is_resource_endpoint =
        endpoint.eq_ignore_ascii_case("users") || endpoint.eq_ignore_ascii_case("groups");
    (is_resource_endpoint && !id.is_empty() && id != ".search" && segments.next().is_none())
        .then(|| id.to_owned())
}

/// The id of a resource a POST created: the last segment of `Location` on a 201.
fn created_resource(response: &Response) -> Option<String> {
    if response.status().as_u16() != 201 {
        return None;
    }
    let location = header_text(response.headers(), LOCATION)?;
    let id = location.trim_end_matches('/').rsplit('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// Path and query string as logged: no credentials (none are in a SCIM URL; sensitive
/// parameters are redacted in case a client adds one), query kept because a filter is
/// what explains a failed match.
fn logged_path(uri: &Uri) -> String {
    match uri.query() {
        Some(query) => format!("{}?{}", uri.path(), redact_query(query)),
        None => uri.path().to_owned(),
    }
}

fn header_text(headers: &HeaderMap, name: axum::http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Reads the request body (up to the largest body limit of any route) so it can be
/// logged, and puts it back; the route's own limit still applies when the handler
/// reads it (a User's body between the two limits is read here, then refused).
/// A body announced as larger than the limit is left alone: the handler refuses it
/// with its usual 413 and nothing is read here.
async fn capture_request_body(
    request: Request,
    limit: usize,
) -> Result<(Request, Option<String>), Response> {
    let announced = header_text(request.headers(), CONTENT_LENGTH)
        .and_then(|length| length.trim().parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        scim_error_response(&ScimError::new(
            413,
            None,
            "the request body is larger than any endpoint accepts (max_body_bytes, max_group_body_bytes)",
        ))
    })?;
    let logged = redact_body(&bytes);
    Ok((Request::from_parts(parts, Body::from(bytes)), logged))
}

/// Reads the response body (already in memory: handlers render whole bodies) so it
/// can be logged, and puts it back.
async fn capture_response_body(response: Response) -> (Response, Option<String>) {
    let (parts, body) = response.into_parts();
    match to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            let logged = redact_body(&bytes);
            (Response::from_parts(parts, Body::from(bytes)), logged)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read a response body for the provisioning log");
            (Response::from_parts(parts, Body::empty()), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_and_resource_come_from_the_path() {
        assert_eq!(tenant_of("/scim/v2/acme/Users").as_deref(), Some("acme"));
        assert_eq!(tenant_of("/scim/v2/acme").as_deref(), Some("acme"));
        assert_eq!(tenant_of("/scim/v2//Users"), None);
        assert_eq!(tenant_of("/metrics"), None);
        assert_eq!(
            resource_in_path("/scim/v2/acme/Users/42").as_deref(),
            Some("42")
        );
        assert_eq!(
            resource_in_path("/scim/v2/acme/groups/g-1").as_deref(),
            Some("g-1")
        );
        for none in [
            "/scim/v2/acme/Users",
            "/scim/v2/acme/Users/",
            "/scim/v2/acme/Users/.search",
            "/scim/v2/acme/Schemas/urn:x",
            "/scim/v2/acme/Users/1/extra",
        ] {
            assert_eq!(resource_in_path(none), None, "{none}");
        }
    }
}
