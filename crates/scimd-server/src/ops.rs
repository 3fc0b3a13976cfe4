//! Operations: what an operator (not an identity provider) needs to run scimd.
//!
//! - `/healthz`: 200 while the process is up (liveness);
//! - `/readyz`: 200 when the database answers, else a 503 SCIM error (readiness);
//! - `/metrics`: Prometheus text exposition of request counts and latencies.
//!
//! None of them needs a SCIM token: they carry no tenant data. `/metrics` reveals
//! traffic volumes per route, so it should be reachable from the monitoring network
//! only, never from the public internet (block it at the reverse proxy).
//!
//! Every request also passes through [`observe::Observe`], which gives it a request id,
//! a tracing span and metrics, and through [`panic::catch_panic_layer`], which turns a
//! handler panic into a SCIM 500.

pub mod metrics;
pub mod observe;
pub mod panic;
pub mod request_id;

use crate::error::scim_error_response;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use scimd_protocol::ScimError;
use std::time::Duration;

/// How long `/readyz` waits for the database before declaring it not ready. A probe
/// that hangs is worse than one that fails: orchestrators time out and restart.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// The media type of the Prometheus text exposition format, version 0.0.4.
const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The operations routes (no authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

/// Wraps a router with the operational layers: request ids, tracing, metrics and panic
/// recovery. Applied with [`Router::layer`], so it runs after routing and sees the
/// matched route template, also for the fallback (`unmatched`).
pub fn instrument(router: Router<AppState>) -> Router<AppState> {
    metrics::install();
    router
        // Inner: a panic becomes a 500 response that the outer layer still logs,
        // counts and tags with the request id.
        .layer(panic::catch_panic_layer())
        .layer(observe::ObserveLayer)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    let not_ready = |detail: String| {
        tracing::warn!(reason = %detail, "not ready");
        scim_error_response(&ScimError::new(503, None, detail))
    };
    match tokio::time::timeout(READINESS_TIMEOUT, state.store().ping()).await {
        Ok(Ok(())) => "ready".into_response(),
        Ok(Err(e)) => not_ready(format!("the database is not reachable: {e}")),
        Err(_) => not_ready(format!(
            "the database did not answer within {} seconds",
            READINESS_TIMEOUT.as_secs()
        )),
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    metrics::record_pools(&state.store().pool_status());
    let body = metrics::render();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}
