//! `POST /Bulk` (RFC 7644 §3.7).
//!
//! Operations run in dependency order (a POST declaring a `bulkId` runs before the
//! operations referencing it, §3.7.2), each through the same functions as the
//! single-resource handlers. Each operation is its own transaction: RFC 7644 §3.7
//! does not make a bulk request atomic, and `failOnErrors` stops after that many
//! failures. Results are reported in request order.

use super::request::ScimRequest;
use super::resources::{self, Scope};
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult};
use crate::response::{JsonBody, ScimJson};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use scimd_protocol::bulk::{
    execution_order, referenced_bulk_ids, substitute_bulk_ids, substitute_in_str, BulkLimits,
    BulkMethod, BulkOperation, BulkOperationResponse, BulkRequest, BulkResponse,
};
use scimd_protocol::etag::{etag, parse_if_match};
use scimd_protocol::{ResourceKind, ScimError, ScimResult};
use scimd_store::{Fetch, StoreError};
use serde_json::Value;
use std::collections::HashMap;

/// `POST /Bulk`. A request that cannot be run at all (malformed, too many
/// operations → 413, circular `bulkId` references → 409) fails as a whole; otherwise
/// the answer is 200 with one result per attempted operation.
pub async fn bulk(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    JsonBody(body): JsonBody,
) -> ApiResult<ScimJson> {
    let limits = &state.config().limits;
    let bulk_limits = BulkLimits {
        max_operations: limits.max_bulk_operations,
        max_payload_size: limits.max_body_bytes,
    };
    let bulk = BulkRequest::from_json(&body, &bulk_limits)?;
    let order = execution_order(&bulk.operations)?;
    let scope = Scope {
        base_url: request.base_url(auth.tenant_id()),
        tenant: auth.tenant_id().to_owned(),
        state,
    };

    let mut resolved: HashMap<String, String> = HashMap::new();
    let mut results: Vec<Option<BulkOperationResponse>> = vec![None; bulk.operations.len()];
    let mut failures: u32 = 0;
    for index in order {
        if bulk.fail_on_errors.is_some_and(|limit| failures >= limit) {
            break;
        }
        let Some(operation) = bulk.operations.get(index) else {
            continue;
        };
        let result = run_operation(&scope, operation, &resolved).await;
        if let (Some(bulk_id), Some(id)) = (&operation.bulk_id, &result.created_id) {
            resolved.insert(bulk_id.clone(), id.clone());
        }
        if result.response.status >= 400 {
            failures = failures.saturating_add(1);
        }
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(result.response);
        }
    }
    let response = BulkResponse {
        operations: results.into_iter().flatten().collect(),
    };
    Ok(ScimJson(StatusCode::OK, response.to_json()))
}

/// The outcome of one operation, and the id it created (for `bulkId` resolution).
struct OperationResult {
    response: BulkOperationResponse,
    created_id: Option<String>,
}

/// Where an operation's `path` points.
struct Target {
    kind: ResourceKind,
    id: Option<String>,
}

/// Reads `/Users`, `/Groups`, `/Users/<id>` or `/Groups/<id>` (endpoint names in any case).
fn parse_target(path: &str) -> ScimResult<Target> {
    let bad = || {
        ScimError::invalid_path(format!(
            "bulk path '{path}' must be /Users, /Groups, /Users/<id> or /Groups/<id>"
        ))
    };
    let rest = path.strip_prefix('/').ok_or_else(bad)?;
    let (endpoint, id) = match rest.split_once('/') {
        Some((endpoint, id)) => (endpoint, Some(id)),
        None => (rest, None),
    };
    let kind = [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| k.endpoint().eq_ignore_ascii_case(endpoint))
        .ok_or_else(bad)?;
    match id {
        None | Some("") => Ok(Target { kind, id: None }),
        Some(id) if id.contains('/') => Err(bad()),
        Some(id) => Ok(Target {
            kind,
            id: Some(id.to_owned()),
        }),
    }
}

async fn run_operation(
    scope: &Scope,
    operation: &BulkOperation,
    resolved: &HashMap<String, String>,
) -> OperationResult {
    let path =
        substitute_in_str(&operation.path, resolved).unwrap_or_else(|| operation.path.clone());
    let data = operation.data.clone().map(|mut data| {
        substitute_bulk_ids(&mut data, resolved);
        data
    });
    let substituted = BulkOperation {
        method: operation.method,
        bulk_id: operation.bulk_id.clone(),
        version: operation.version.clone(),
        path,
        data,
    };
    let failed = |err: ScimError, location: Option<String>| OperationResult {
        response: BulkOperationResponse {
            method: operation.method,
            bulk_id: operation.bulk_id.clone(),
            version: None,
            location,
            status: err.status,
            response: Some(err.to_json()),
        },
        created_id: None,
    };
    // A reference left after substitution names a POST that failed (unknown ids were
    // refused up front by `execution_order`). RFC 7644 §3.7.2: such an operation
    // cannot run and is reported as a conflict.
    let unresolved = referenced_bulk_ids(&substituted);
    if let Some(first) = unresolved.first() {
        return failed(
            ScimError::new(
                409,
                None,
                format!(
                    "the operation that declares bulkId '{first}' failed, so this one cannot run"
                ),
            ),
            None,
        );
    }
    let target = match parse_target(&substituted.path) {
        Ok(t) => t,
        Err(e) => return failed(e, None),
    };
    let location = target
        .id
        .as_deref()
        .map(|id| scope.location(target.kind, id));
    match execute(scope, &substituted, &target).await {
        Ok((status, id, version)) => {
            let created_id = (operation.method == BulkMethod::Post).then(|| id.clone());
            OperationResult {
                response: BulkOperationResponse {
                    method: operation.method,
                    bulk_id: operation.bulk_id.clone(),
                    version: version.map(etag),
                    location: Some(scope.location(target.kind, &id)),
                    status,
                    response: None,
                },
                created_id,
            }
        }
        Err(e) => failed(e, location),
    }
}

/// Runs one operation; returns (status, resource id, new version if it still exists).
async fn execute(
    scope: &Scope,
    operation: &BulkOperation,
    target: &Target,
) -> ScimResult<(u16, String, Option<u64>)> {
    let precondition = operation
        .version
        .as_deref()
        .map(parse_if_match)
        .transpose()?;
    let data = operation.data.clone().unwrap_or(Value::Null);
    let kind = target.kind;
    let need_id = || {
        target.id.clone().ok_or_else(|| {
            ScimError::invalid_path(format!(
                "bulk {} needs a resource path such as /{}/<id>",
                operation.method.as_str(),
                kind.endpoint()
            ))
        })
    };
    let scim = |e: ApiError| {
        // Bulk embeds errors instead of returning them, so the logging that
        // `ApiError::into_response` does for database failures happens here.
        if let ApiError::Store(StoreError::Database(cause)) = &e {
            tracing::error!(error = %cause, "database error in a bulk operation");
        }
        e.to_scim()
    };
    match operation.method {
        BulkMethod::Post => {
            if target.id.is_some() {
                return Err(ScimError::invalid_path(format!(
                    "bulk POST goes to /{}, not to a resource",
                    kind.endpoint()
                )));
            }
            let stored = resources::create(scope, kind, &data, Fetch::NONE)
                .await
                .map_err(scim)?;
            Ok((201, stored.id, Some(stored.meta.version)))
        }
        BulkMethod::Put => {
            let id = need_id()?;
            let stored = resources::replace(scope, kind, &id, data, precondition, Fetch::NONE)
                .await
                .map_err(scim)?;
            Ok((200, stored.id, Some(stored.meta.version)))
        }
        BulkMethod::Patch => {
            let id = need_id()?;
            let stored = resources::patch(scope, kind, &id, &data, precondition, Fetch::NONE)
                .await
                .map_err(scim)?;
            Ok((200, stored.id, Some(stored.meta.version)))
        }
        BulkMethod::Delete => {
            let id = need_id()?;
            resources::delete(scope, kind, &id, precondition)
                .await
                .map_err(scim)?;
            Ok((204, id, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let t = parse_target("/Users").unwrap();
        assert_eq!((t.kind, t.id), (ResourceKind::User, None));
        let t = parse_target("/groups/abc").unwrap();
        assert_eq!(
            (t.kind, t.id.as_deref()),
            (ResourceKind::Group, Some("abc"))
        );
        for bad in ["Users", "/Things", "/Users/a/b", "", "/"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
