//! OAuth 2.0 client credentials (RFC 6749 §4.4) as a second way in: per tenant, a
//! client id and secret are exchanged at `POST /oauth/{tenant}/token` for a bearer
//! token that lives one hour and is accepted by the SCIM endpoints like any token.

pub mod clients;
mod endpoint;

use crate::state::AppState;
use axum::routing::post;
use axum::Router;

/// The token endpoint's path template.
pub const TOKEN_ENDPOINT: &str = "/oauth/{tenant}/token";

/// The token endpoint of a tenant, e.g. `https://scim.example.com/oauth/acme/token`.
pub fn token_endpoint_url(public_url: &str, tenant_id: &str) -> String {
    format!(
        "{}/oauth/{}/token",
        public_url.trim_end_matches('/'),
        tenant_id
    )
}

/// The routes of the OAuth token endpoint.
pub fn routes() -> Router<AppState> {
    Router::new().route(TOKEN_ENDPOINT, post(endpoint::token))
}
