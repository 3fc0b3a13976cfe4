//! # scimd-server
//!
//! The HTTP side of scimd, on axum:
//!
//! - [`scim`]: the SCIM 2.0 endpoints under `/scim/v2/{tenant}`;
//! - [`auth`] and [`tokens`]: bearer tokens, per tenant, stored as hashes;
//! - [`tenants`]: tenant and token administration shared by the CLI;
//! - [`ops`]: health, readiness and Prometheus metrics;
//! - [`provisioning_log`]: every SCIM request recorded per tenant, buffered;
//! - [`admin`]: the `/admin/v1` JSON API (admin keys, OpenAPI);
//! - [`oauth`]: OAuth 2.0 client credentials, `POST /oauth/{tenant}/token`;
//! - [`error`]: the one place errors become SCIM responses.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod auth;
pub mod config;
pub mod duration;
pub mod error;
pub mod lenient_http;
pub mod nul_in_url;
pub mod oauth;
pub mod ops;
pub mod provisioning_log;
pub mod response;
pub mod scim;
pub mod state;
pub mod tenants;
pub mod tokens;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use scimd_protocol::ScimError;
use state::AppState;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// How often buffered token last-used times are written.
const TOKEN_USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(15);

/// How often tokens expiring soon are looked for (and logged, and counted).
const TOKEN_EXPIRY_CHECK_INTERVAL: Duration = Duration::from_secs(3600);

/// How often expired OAuth access tokens are deleted.
const ACCESS_TOKEN_PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

/// How often histogram samples are folded into buckets (see [`ops::metrics::run_upkeep`]).
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Builds the whole HTTP application.
pub fn app(state: AppState) -> Router {
    let limits = &state.config().limits;
    let max_body = limits.max_body_bytes;
    let router = Router::new()
        .merge(
            scim::routes(limits).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                provisioning_log::record_scim_request,
            )),
        )
        .merge(ops::routes())
        .merge(admin::routes())
        .merge(oauth::routes())
        .fallback(not_found)
        .layer(nul_in_url::RefuseNulInUrlLayer)
        .layer(DefaultBodyLimit::max(max_body));
    let routed = ops::instrument(router).with_state(state);
    // Layers on a Router run after routing; rewriting the endpoint's case must happen
    // before it, so the routed app is wrapped and served as the outer router's fallback.
    let rewrite = tower::util::MapRequestLayer::new(scim::endpoint_case::canonical_endpoint_case);
    Router::new().fallback_service(tower::Layer::layer(&rewrite, routed))
}

async fn not_found() -> error::ApiError {
    ScimError::not_found("no such endpoint; SCIM endpoints are under /scim/v2/{tenant}/").into()
}

/// Serves the application on `listener` until `shutdown` completes, then stops
/// accepting and lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Before any task is spawned: on a multi-threaded runtime the start-up expiry check
    // can run before the router is built, and a gauge set before the recorder exists
    // goes nowhere until the next check, an hour later.
    ops::metrics::install();
    let flusher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TOKEN_USAGE_FLUSH_INTERVAL);
            loop {
                tick.tick().await;
                if let Err(e) = state.token_usage().flush(state.store()).await {
                    tracing::warn!(error = %e, "could not record token last-used times");
                }
            }
        })
    };
    let expiry_check = {
        let state = state.clone();
        tokio::spawn(async move {
            // The first tick is immediate: a start-up warns at once.
            let mut tick = tokio::time::interval(TOKEN_EXPIRY_CHECK_INTERVAL);
            loop {
                tick.tick().await;
                tokens::warn_about_expiring_tokens(state.store()).await;
            }
        })
    };
    let access_token_pruning = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(ACCESS_TOKEN_PRUNE_INTERVAL);
            loop {
                tick.tick().await;
                let now = time::OffsetDateTime::now_utc();
                if let Err(e) = state.store().prune_access_tokens(now).await {
                    tracing::warn!(error = %e, "could not prune expired OAuth access tokens");
                }
            }
        })
    };
    let metrics_upkeep = tokio::spawn(async {
        let mut tick = tokio::time::interval(METRICS_UPKEEP_INTERVAL);
        loop {
            tick.tick().await;
            ops::metrics::run_upkeep();
        }
    });
    let log_writer = provisioning_log::start_writer(&state);
    let log_retention = {
        let store = state.store_arc();
        tokio::spawn(async move {
            // The first tick is immediate: retention is enforced at start.
            let mut tick = tokio::time::interval(provisioning_log::retention::RETENTION_INTERVAL);
            loop {
                tick.tick().await;
                let now = time::OffsetDateTime::now_utc();
                if let Err(e) =
                    provisioning_log::retention::enforce_retention(store.as_ref(), now).await
                {
                    tracing::warn!(error = %e, "could not enforce provisioning log retention");
                }
            }
        })
    };
    let listener = lenient_http::LenientListener::new(listener);
    let result = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    flusher.abort();
    metrics_upkeep.abort();
    expiry_check.abort();
    log_retention.abort();
    access_token_pruning.abort();
    // In-flight requests have finished, so every entry is in the buffer: write them.
    if let Some(writer) = log_writer {
        writer.flush_and_stop().await;
    }
    if let Err(e) = state.token_usage().flush(state.store()).await {
        tracing::warn!(error = %e, "could not record token last-used times at shutdown");
    }
    result
}
