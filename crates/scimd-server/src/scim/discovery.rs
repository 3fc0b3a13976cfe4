//! Service provider discovery (RFC 7644 §4, RFC 7643 §5-§7): what this server
//! supports, told truthfully from the configuration (R20).

use super::resources::Scope;
use crate::config::Limits;
use serde_json::{json, Value};

/// The ServiceProviderConfig schema URN (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// `GET /ServiceProviderConfig` (RFC 7643 §5, §8.5), with the RFC 9865 §5
/// `pagination` object. There is no `cursorTimeout`: cursors are keyset positions,
/// not server-side state, so they do not expire.
pub fn service_provider_config(scope: &Scope) -> Value {
    let limits: &Limits = &scope.state.config().limits;
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": { "supported": true },
        "bulk": {
            "supported": true,
            "maxOperations": limits.max_bulk_operations,
            "maxPayloadSize": limits.max_body_bytes,
        },
        "filter": { "supported": true, "maxResults": limits.max_page_size },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": limits.default_page_size,
            "maxPageSize": limits.max_page_size,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a per-tenant bearer token in the Authorization header (RFC 6750).",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", scope.base_url),
        },
    })
}
