//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`.
//!
//! TODO(helper: ops): metrics, request ids, logging.

use crate::state::AppState;
use axum::routing::get;
use axum::Router;

/// The operations routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" }))
}
