//! Authentication of SCIM requests: the tenant comes from the URL path, the bearer
//! token must belong to that tenant, and the tenant must have provisioning enabled.
//!
//! Handlers take [`TenantAuth`] as an argument; a handler that forgets it cannot reach
//! a tenant's data, because the tenant id only exists inside it.

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, TokenRejection};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use scimd_protocol::ScimError;
use scimd_store::{Tenant, TokenRecord};
use time::OffsetDateTime;

/// The tenant named in a SCIM request's URL, as read at the start of that request (by
/// the provisioning-log middleware, which needs its log settings first), together with
/// the token record the bearer token names, read in the same statement
/// ([`scimd_store::Store::get_tenant_with_token`]). Request-scoped: [`TenantAuth`]
/// verifies against it instead of reading again, and only when both the tenant id and
/// the token id are the ones of this request.
#[derive(Debug, Clone)]
pub struct RequestTenant {
    /// The tenant, as read.
    pub tenant: Tenant,
    /// The token id looked up and what was found for it in this tenant; `None` when
    /// the request had no well-formed bearer token.
    pub token: Option<(String, Option<TokenRecord>)>,
}

/// An authenticated SCIM request: the tenant it is for and the token that proved it.
#[derive(Debug, Clone)]
pub struct TenantAuth {
    /// The tenant named in the URL, verified against the token.
    pub tenant: Tenant,
    /// The public id of the token used (never the token itself).
    pub token_id: String,
}

impl TenantAuth {
    /// The tenant id, for store calls.
    pub fn tenant_id(&self) -> &str {
        &self.tenant.id
    }
}

/// Extracts the bearer token from an `Authorization` header value. The scheme is
/// case-insensitive (RFC 7235 §2.1).
pub fn bearer_token(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

fn unauthorized(rejection: TokenRejection) -> ApiError {
    ScimError::new(401, None, rejection.to_string()).into()
}

impl FromRequestParts<AppState> for TenantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ScimError::not_found("no tenant in the URL"))?;
        let tenant_id = params
            .iter()
            .find(|(name, _)| *name == "tenant")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| ScimError::not_found("no tenant in the URL"))?;

        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| unauthorized(TokenRejection::Missing))?;

        let now = OffsetDateTime::now_utc();
        let already_read = parts
            .extensions
            .get::<RequestTenant>()
            .filter(|read| read.tenant.id == tenant_id);
        // The usual path: the middleware read the tenant and the token together.
        let read_together = already_read.and_then(|read| {
            let (looked_up, record) = read.token.as_ref()?;
            let (presented_id, _) = tokens::split_token(presented)?;
            (looked_up == presented_id).then(|| (read.tenant.clone(), record.clone()))
        });
        let (tenant, record) = match read_together {
            Some((tenant, record)) => {
                let record = tokens::check_record(presented, record, now).map_err(unauthorized)?;
                (tenant, record)
            }
            None => {
                let record = tokens::verify(state.store(), &tenant_id, presented, now)
                    .await?
                    .map_err(unauthorized)?;
                // A token that verified belongs to this tenant, so the tenant exists
                // unless it is being deleted right now.
                let tenant = match already_read {
                    Some(read) => read.tenant.clone(),
                    None => state
                        .store()
                        .get_tenant(&tenant_id)
                        .await?
                        .ok_or_else(|| unauthorized(TokenRejection::Invalid))?,
                };
                (tenant, record)
            }
        };
        if !tenant.provisioning_enabled {
            return Err(ScimError::new(
                403,
                None,
                format!(
                    "provisioning is disabled for tenant '{}'; an administrator must enable it",
                    tenant.id
                ),
            )
            .into());
        }
        state.token_usage().record(&record.id, now);
        Ok(TenantAuth {
            tenant,
            token_id: record.id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc "), Some("abc"));
        assert_eq!(bearer_token("BEARER abc"), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer  "), None);
    }
}
