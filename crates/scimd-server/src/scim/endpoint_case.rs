//! Endpoint names in any case: `/scim/v2/{tenant}/users` is `/Users`.
//!
//! RFC 7644 §3.2 spells endpoints `/Users`, `/Groups`, ..., but clients are written
//! by hand (Microsoft's reference collection reads `/users`), and attribute names are
//! case-insensitive everywhere else in SCIM. The router is case-sensitive, so the
//! endpoint segment is rewritten to its canonical spelling before routing. Only the
//! one segment after the tenant is touched; ids and the tenant are left alone.

use axum::extract::Request;
use axum::http::Uri;

const SCIM_PREFIX: &str = "/scim/v2/";

/// The canonical spellings of the SCIM endpoints (RFC 7644 §3.2, §4).
const ENDPOINTS: &[&str] = &[
    "Users",
    "Groups",
    "Bulk",
    "Me",
    "Schemas",
    "ResourceTypes",
    "ServiceProviderConfig",
    "serviceConfiguration",
];

/// The canonical spelling of an endpoint segment, when it differs only in case.
fn canonical(segment: &str) -> Option<&'static str> {
    ENDPOINTS
        .iter()
        .copied()
        .find(|e| e.eq_ignore_ascii_case(segment) && *e != segment)
}

/// The path with its endpoint segment canonicalised, if anything changes.
fn canonical_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix(SCIM_PREFIX)?;
    let (tenant, after_tenant) = rest.split_once('/')?;
    let (segment, tail) = match after_tenant.split_once('/') {
        Some((segment, tail)) => (segment, Some(tail)),
        None => (after_tenant, None),
    };
    let endpoint = canonical(segment)?;
    Some(match tail {
        Some(tail) => format!("{SCIM_PREFIX}{tenant}/{endpoint}/{tail}"),
        None => format!("{SCIM_PREFIX}{tenant}/{endpoint}"),
    })
}

/// Rewrites the request's endpoint segment to its canonical case (see module docs).
/// Synchronous, for `tower::util::MapRequestLayer`: `axum::middleware::map_request`
/// would box a future for every request.
pub fn canonical_endpoint_case(mut request: Request) -> Request {
    if let Some(path) = canonical_path(request.uri().path()) {
        let path_and_query = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_segments_are_canonicalised() {
        assert_eq!(
            canonical_path("/scim/v2/acme/users").as_deref(),
            Some("/scim/v2/acme/Users")
        );
        assert_eq!(
            canonical_path("/scim/v2/acme/GROUPS/AbC-id").as_deref(),
            Some("/scim/v2/acme/Groups/AbC-id")
        );
        assert_eq!(
            canonical_path("/scim/v2/acme/serviceproviderconfig").as_deref(),
            Some("/scim/v2/acme/ServiceProviderConfig")
        );
    }

    #[test]
    fn canonical_or_unknown_paths_are_left_alone() {
        for path in [
            "/scim/v2/acme/Users",
            "/scim/v2/acme/Users/users",
            "/scim/v2/acme/.search",
            "/scim/v2/acme/unknown",
            "/scim/v2/acme",
            "/healthz",
            "/scim/v2/users",
        ] {
            assert_eq!(canonical_path(path), None, "{path}");
        }
    }
}
