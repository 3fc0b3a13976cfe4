//! What a SCIM handler needs from a request besides the tenant and the body: the
//! decoded query, the tenant's base URL for `Location` and `meta.location`, the
//! resource id in the path, and the conditional-request headers.
//!
//! These extractors never reject with axum's plain-text bodies: every failure is a
//! SCIM error (R14).

use super::query::QueryParams;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenants;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::{HOST, IF_MATCH, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use scimd_protocol::etag::{parse_if_match, IfMatch};
use scimd_protocol::{ScimError, ScimResult};

/// The request's query, conditional-request headers and origin.
#[derive(Debug, Clone)]
pub struct ScimRequest {
    /// The decoded query parameters.
    pub query: QueryParams,
    /// `If-Match` and `If-None-Match` as sent: the only headers a handler reads, kept
    /// alone rather than the whole header map cloned for every request.
    if_match: Option<HeaderValue>,
    if_none_match: Option<HeaderValue>,
    /// `config.public_url` when set, else `http://<Host>`.
    origin: String,
}

impl ScimRequest {
    /// The SCIM base URL of `tenant_id` as this client reaches it, e.g.
    /// `https://scim.example.com/scim/v2/acme`.
    pub fn base_url(&self, tenant_id: &str) -> String {
        tenants::scim_base_url(&self.origin, tenant_id)
    }

    /// The `If-Match` precondition (RFC 7644 §3.14), if the client sent one.
    pub fn if_match(&self) -> ScimResult<Option<IfMatch>> {
        header_precondition(self.if_match.as_ref(), IF_MATCH.as_str())
    }

    /// The `If-None-Match` precondition, if the client sent one.
    pub fn if_none_match(&self) -> ScimResult<Option<IfMatch>> {
        header_precondition(self.if_none_match.as_ref(), IF_NONE_MATCH.as_str())
    }
}

fn header_precondition(value: Option<&HeaderValue>, name: &str) -> ScimResult<Option<IfMatch>> {
    match value {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().map_err(|_| {
                ScimError::invalid_syntax(format!("the {name} header is not visible ASCII"))
            })?;
            parse_if_match(text).map(Some)
        }
    }
}

/// The origin clients reach this server at. `public_url` wins because behind a proxy
/// the `Host` header names the proxy's upstream, not what the IdP was configured with.
fn request_origin(state: &AppState, parts: &Parts) -> String {
    if let Some(public) = &state.config().public_url {
        return public.trim_end_matches('/').to_owned();
    }
    let host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        // HTTP/2 carries the authority in the URI instead of a Host header.
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| "localhost".to_owned());
    format!("http://{host}")
}

impl FromRequestParts<AppState> for ScimRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ScimRequest {
            query: QueryParams::parse(parts.uri.query()),
            if_match: parts.headers.get(IF_MATCH).cloned(),
            if_none_match: parts.headers.get(IF_NONE_MATCH).cloned(),
            origin: request_origin(state, parts),
        })
    }
}

/// The `{id}` segment of `/Users/{id}` or `/Groups/{id}`, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ScimError::not_found("no resource id in the URL"))?;
        params
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, value)| ResourceId(value.to_owned()))
            .ok_or_else(|| ScimError::not_found("no resource id in the URL").into())
    }
}
