//! The SCIM endpoints under `/scim/v2/{tenant}`.
//!
//! TODO(helper: scim-routes): implement.

use crate::state::AppState;
use axum::Router;

/// The SCIM routes, to be nested under `/scim/v2/{tenant}`.
pub fn routes() -> Router<AppState> {
    Router::new()
}
