//! The per-request middleware: request id, tracing span, one log line, metrics.
//!
//! What is logged is chosen for privacy: the route *template* (never the raw path or
//! query string, since a SCIM filter such as `userName eq "jane@example.com"` is
//! personal data), the method, status, latency and request id. Headers and bodies are
//! never logged, so neither is the `Authorization` header.

use super::metrics::{self, UNMATCHED_ROUTE};
use super::request_id::{self, REQUEST_ID_HEADER};
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

/// Serves one request inside a span carrying its id, method and route template, then
/// logs its outcome, records its metrics and echoes its id in `x-request-id`.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id::for_request(request.headers());
    let method = metrics::method_label(request.method());
    // `MatchedPath` is a shared string: cloning it copies no text.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched
        .as_ref()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    let header_value = HeaderValue::from_str(&request_id.0).ok();
    // Handlers see the effective id (a replaced insane one is gone for good).
    match &header_value {
        Some(value) => request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, value.clone()),
        None => request.headers_mut().remove(REQUEST_ID_HEADER),
    };
    let span = tracing::info_span!(
        "request",
        request_id = %request_id.0,
        method,
        route = %route,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    request.extensions_mut().insert(request_id);

    let mut response = next.run(request).instrument(span.clone()).await;

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    metrics::record_request(method, route, status, elapsed);
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!("request failed");
        } else {
            tracing::info!("request finished");
        }
    });
    if let Some(value) = header_value {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
