//! The HTTP handlers. Each takes [`TenantAuth`] first, so nothing runs for a request
//! whose token does not belong to the tenant in the URL, and builds its [`Scope`]
//! from `auth.tenant_id()` only.

use super::discovery::service_provider_config;
use super::query::ListParams;
use super::reply;
use super::request::{ResourceId, ScimRequest};
use super::resources::{self, fetch_for, Scope};
use super::{list, KindMarker};
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult};
use crate::response::{JsonBody, ScimJson};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use scimd_protocol::projection::Projection;
use scimd_protocol::schema::{resource_type_json, resource_types_json, schema_json, schemas_json};
use scimd_protocol::{ResourceKind, ScimError, ScimResult};

fn scope(auth: &TenantAuth, state: AppState, request: &ScimRequest) -> Scope {
    Scope {
        base_url: request.base_url(auth.tenant_id()),
        tenant: auth.tenant_id().to_owned(),
        state,
    }
}

/// `attributes` / `excludedAttributes` apply to every response carrying a resource
/// (RFC 7644 §3.9), not only to queries.
fn projection(scope: &Scope, request: &ScimRequest, kind: ResourceKind) -> ScimResult<Projection> {
    Projection::parse(
        request.query.get("attributes"),
        request.query.get("excludedAttributes"),
        scope.state.registry(),
        kind,
    )
}

/// `GET /Users`, `GET /Groups`.
pub async fn list_resources<K: KindMarker>(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
) -> ApiResult<Response> {
    let scope = scope(&auth, state, &request);
    list::list_kind(&scope, K::KIND, &request.query.list_params()).await
}

/// `POST /Users/.search`, `POST /Groups/.search` (RFC 7644 §3.4.3).
pub async fn search_resources<K: KindMarker>(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let scope = scope(&auth, state, &request);
    let params = ListParams::from_search_body(&body)?;
    list::list_kind(&scope, K::KIND, &params).await
}

/// `POST /.search` at the tenant root (RFC 7644 §3.4.3).
pub async fn search_root(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let scope = scope(&auth, state, &request);
    let params = ListParams::from_search_body(&body)?;
    list::search_all(&scope, &params).await
}

/// `POST /Users`, `POST /Groups`: 201 with the full resource, `Location` and `ETag`
/// (RFC 7644 §3.3; R13: Okta fails on an empty body).
pub async fn create_resource<K: KindMarker>(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let scope = scope(&auth, state, &request);
    let projection = projection(&scope, &request, K::KIND)?;
    let stored = resources::create(&scope, K::KIND, &body, fetch_for(K::KIND, &projection)).await?;
    let location = scope.location(K::KIND, &stored.id);
    Ok(reply::resource(
        StatusCode::CREATED,
        scope.render(&stored, &projection)?,
        stored.meta.version,
        Some(&location),
    ))
}

/// `GET /Users/{id}`, `GET /Groups/{id}`; `If-None-Match` matching → 304.
pub async fn get_resource<K: KindMarker>(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    ResourceId(id): ResourceId,
) -> ApiResult<Response> {
    let scope = scope(&auth, state, &request);
    let projection = projection(&scope, &request, K::KIND)?;
    let if_none_match = request.if_none_match()?;
    let stored = resources::read(
        &scope,
        K::KIND,
        &id,
        resources::fetch_to_render(K::KIND, &projection),
    )
    .await?;
    if if_none_match.is_some_and(|tags| tags.matches(stored.meta.version)) {
        return Ok(reply::not_modified(stored.meta.version));
    }
    Ok(reply::resource(
        StatusCode::OK,
        scope.render(&stored, &projection)?,
        stored.meta.version,
        None,
    ))
}

/// `PUT /Users/{id}`, `PUT /Groups/{id}` (RFC 7644 §3.5.1, R19).
pub async fn replace_resource<K: KindMarker>(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let scope = scope(&auth, state, &request);
    let projection = projection(&scope, &request, K::KIND)?;
    let precondition = request.if_match()?;
    let stored = resources::replace(
        &scope,
        K::KIND,
        &id,
        body,
        precondition,
        fetch_for(K::KIND, &projection),
    )
    .await?;
    Ok(reply::resource(
        StatusCode::OK,
        scope.render(&stored, &projection)?,
        stored.meta.version,
        None,
    ))
}

/// `PATCH /Users/{id}`, `PATCH /Groups/{id}` (RFC 7644 §3.5.2).
///
/// Answers 204 with the new ETag (RFC 7644 §3.5.2 allows it; Entra and Okta accept
/// it, R12; Microsoft's validator expects it; and rendering a 50,000-member group after
/// every member add is waste) unless the client asked for attributes with
/// `attributes`/`excludedAttributes`, which §3.5.2 says is answered with 200 and the
/// projected resource.
pub async fn patch_resource<K: KindMarker>(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    ResourceId(id): ResourceId,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let scope = scope(&auth, state, &request);
    let projection = projection(&scope, &request, K::KIND)?;
    let precondition = request.if_match()?;
    let with_body = request.query.asks_for_projection();
    let fetch = if with_body {
        fetch_for(K::KIND, &projection)
    } else {
        scimd_store::Fetch::NONE
    };
    let stored = resources::patch(&scope, K::KIND, &id, &body, precondition, fetch).await?;
    if !with_body {
        return Ok(reply::no_content(stored.meta.version));
    }
    Ok(reply::resource(
        StatusCode::OK,
        scope.render(&stored, &projection)?,
        stored.meta.version,
        None,
    ))
}

/// `DELETE /Users/{id}`, `DELETE /Groups/{id}` (RFC 7644 §3.6): 204.
pub async fn delete_resource<K: KindMarker>(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    ResourceId(id): ResourceId,
) -> ApiResult<StatusCode> {
    let scope = scope(&auth, state, &request);
    let precondition = request.if_match()?;
    resources::delete(&scope, K::KIND, &id, precondition).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /ServiceProviderConfig` and its alias `GET /serviceConfiguration`.
pub async fn get_service_provider_config(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
) -> ScimJson {
    let scope = scope(&auth, state, &request);
    ScimJson(StatusCode::OK, service_provider_config(&scope))
}

/// `GET /Schemas` (RFC 7644 §4).
pub async fn list_schemas(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
) -> ScimJson {
    let scope = scope(&auth, state, &request);
    ScimJson(
        StatusCode::OK,
        schemas_json(scope.state.registry(), &scope.base_url),
    )
}

/// `GET /Schemas/{id}`: the schema with that URN, 404 when unknown.
pub async fn get_schema(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    ResourceId(id): ResourceId,
) -> ApiResult<ScimJson> {
    let scope = scope(&auth, state, &request);
    let body = schema_json(scope.state.registry(), &id, &scope.base_url)?;
    Ok(ScimJson(StatusCode::OK, body))
}

/// `GET /ResourceTypes` (RFC 7644 §4).
pub async fn list_resource_types(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
) -> ScimJson {
    let scope = scope(&auth, state, &request);
    ScimJson(
        StatusCode::OK,
        resource_types_json(scope.state.registry(), &scope.base_url),
    )
}

/// `GET /ResourceTypes/{id}`: `User` or `Group`, 404 otherwise.
pub async fn get_resource_type(
    auth: TenantAuth,
    State(state): State<AppState>,
    request: ScimRequest,
    ResourceId(id): ResourceId,
) -> ApiResult<ScimJson> {
    let scope = scope(&auth, state, &request);
    let body = resource_type_json(scope.state.registry(), &id, &scope.base_url)?;
    Ok(ScimJson(StatusCode::OK, body))
}

/// `/Me`, any method (RFC 7644 §3.11): 501. The `/Me` alias needs an authenticated
/// *user*; scimd's callers are provisioning clients holding a tenant token, so there
/// is no subject to alias. Authentication is still checked first, so an anonymous
/// caller learns nothing, not even that the endpoint exists.
pub async fn me(_auth: TenantAuth) -> ApiError {
    ScimError::new(
        501,
        None,
        "no authenticated subject: scimd authenticates provisioning clients, not users",
    )
    .into()
}

/// The answer to a method a SCIM route does not support: a SCIM 405 rather than
/// axum's empty default (R14). Discovery endpoints are read-only (Okta's test tools
/// check that POST to them is refused).
pub async fn method_not_allowed(method: Method) -> Response {
    ApiError::from(ScimError::new(
        405,
        None,
        format!("method {method} is not allowed on this endpoint"),
    ))
    .into_response()
}
