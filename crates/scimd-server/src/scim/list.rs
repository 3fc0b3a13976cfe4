//! Queries: `GET /Users`, `GET /Groups` (RFC 7644 §3.4.2), their `POST .search`
//! forms and the root `POST /.search` across both resource types (§3.4.3).

use super::query::ListParams;
use super::resources::{fetch_to_render, Scope};
use crate::error::ApiResult;
use crate::response::ScimJson;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use scimd_protocol::filter::{self, Filter};
use scimd_protocol::paging::{ListResponse, PageRequest, PagingLimits};
use scimd_protocol::projection::Projection;
use scimd_protocol::sort::SortSpec;
use scimd_protocol::{ResourceKind, ScimError, ScimResult};
use scimd_store::{ListPage, ListQuery};

/// A list request checked against one resource type's schemas.
struct PreparedQuery {
    filter: Option<Filter>,
    sort: Option<SortSpec>,
    projection: Projection,
}

/// Parses the filter once (its syntax does not depend on the resource type). An empty
/// or blank `filter=` means no filter, as some clients send it that way.
fn parse_filter(scope: &Scope, params: &ListParams) -> ScimResult<Option<Filter>> {
    match params.filter.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => filter::parse(text, &scope.filter_limits()).map(Some),
    }
}

fn prepare(
    scope: &Scope,
    kind: ResourceKind,
    params: &ListParams,
    filter: Option<&Filter>,
) -> ScimResult<PreparedQuery> {
    let registry = scope.state.registry();
    if let Some(f) = filter {
        filter::validate(f, registry, kind)?;
    }
    let sort = SortSpec::parse(
        params.sort_by.as_deref().filter(|s| !s.trim().is_empty()),
        params.sort_order.as_deref(),
        registry,
        kind,
    )?;
    let projection = Projection::parse(
        params.attributes.as_deref(),
        params.excluded_attributes.as_deref(),
        registry,
        kind,
    )?;
    Ok(PreparedQuery {
        filter: filter.cloned(),
        sort,
        projection,
    })
}

fn paging_limits(scope: &Scope) -> PagingLimits {
    let limits = &scope.state.config().limits;
    PagingLimits {
        default_count: limits.default_page_size,
        max_count: limits.max_page_size,
    }
}

fn page_request(scope: &Scope, params: &ListParams) -> ScimResult<PageRequest> {
    PageRequest::parse(
        params.start_index.as_deref(),
        params.count.as_deref(),
        params.cursor.as_deref(),
        &paging_limits(scope),
    )
}

async fn run(
    scope: &Scope,
    kind: ResourceKind,
    prepared: &PreparedQuery,
    page: PageRequest,
) -> ApiResult<ListPage> {
    let query = ListQuery {
        filter: prepared.filter.as_ref(),
        sort: prepared.sort.as_ref(),
        page,
        fetch: fetch_to_render(kind, &prepared.projection),
    };
    Ok(scope
        .state
        .store()
        .list(&scope.tenant, kind, scope.state.registry(), &query)
        .await?)
}

/// One resource type's list (R2: no match is 200 with `"Resources": []`). The page is
/// serialised from its stored resources (`Scope::render`: groups' members are not
/// built as JSON values).
pub async fn list_kind(
    scope: &Scope,
    kind: ResourceKind,
    params: &ListParams,
) -> ApiResult<Response> {
    let filter = parse_filter(scope, params)?;
    let prepared = prepare(scope, kind, params, filter.as_ref())?;
    let page = page_request(scope, params)?;
    let start_index = match &page {
        PageRequest::Index { start_index, .. } => Some(*start_index),
        PageRequest::Cursor { .. } => None,
    };
    let ListPage {
        total_results,
        resources,
        next_cursor,
    } = run(scope, kind, &prepared, page).await?;
    let rendered = resources
        .iter()
        .map(|r| scope.render(r, &prepared.projection))
        .collect::<ApiResult<_>>()?;
    let body = ListResponse::new(rendered, total_results, start_index, next_cursor);
    Ok(ScimJson(StatusCode::OK, body).into_response())
}

/// The root search (RFC 7644 §3.4.3): users, then groups, as one list.
///
/// - The filter is parsed once and validated per resource type; a type whose
///   schemas do not know an attribute of the filter simply has no matches
///   (`userName eq "x"` finds users only). Only when no type accepts it is it a 400.
/// - Sorting applies within each type; users always come before groups.
/// - Index paging runs over the concatenation: `startIndex` past the users
///   continues into the groups. `totalResults` is the sum.
/// - Cursor paging is not offered here (RFC 9865 lets a service provider support it
///   per endpoint): a `cursor` is 400 `invalidValue` pointing at `/Users/.search`.
pub async fn search_all(scope: &Scope, params: &ListParams) -> ApiResult<Response> {
    if params.cursor.is_some() {
        return Err(ScimError::invalid_value(
            "cursor paging is not supported by the root /.search; use /Users/.search or /Groups/.search",
        )
        .into());
    }
    let filter = parse_filter(scope, params)?;
    let users = prepare(scope, ResourceKind::User, params, filter.as_ref());
    let groups = prepare(scope, ResourceKind::Group, params, filter.as_ref());
    let (users, groups) = match (users, groups) {
        (Err(e), Err(_)) => return Err(e.into()),
        (u, g) => (u.ok(), g.ok()),
    };
    let (start_index, count) = match page_request(scope, params)? {
        PageRequest::Index { start_index, count } => (start_index, count),
        PageRequest::Cursor { count, .. } => (1, count),
    };

    let mut user_page = None;
    if let Some(prepared) = &users {
        let page = PageRequest::Index { start_index, count };
        user_page = Some(run(scope, ResourceKind::User, prepared, page).await?);
    }
    let users_total = user_page.as_ref().map_or(0, |p| p.total_results);
    let users_listed = user_page.as_ref().map_or(0, |p| p.resources.len());
    let mut group_page = None;
    if let Some(prepared) = &groups {
        let remaining = count.saturating_sub(users_listed as u64);
        let group_start = start_index.saturating_sub(users_total).max(1);
        let page = PageRequest::Index {
            start_index: group_start,
            count: remaining,
        };
        group_page = Some(run(scope, ResourceKind::Group, prepared, page).await?);
    }
    let groups_total = group_page.as_ref().map_or(0, |p| p.total_results);
    let groups_listed = group_page.as_ref().map_or(0, |p| p.resources.len());
    let mut rendered = Vec::with_capacity(users_listed + groups_listed);
    for (page, prepared) in [(&user_page, &users), (&group_page, &groups)] {
        if let (Some(page), Some(prepared)) = (page, prepared) {
            for resource in &page.resources {
                rendered.push(scope.render(resource, &prepared.projection)?);
            }
        }
    }
    let body = ListResponse::new(
        rendered,
        users_total.saturating_add(groups_total),
        Some(start_index),
        None,
    );
    Ok(ScimJson(StatusCode::OK, body).into_response())
}
