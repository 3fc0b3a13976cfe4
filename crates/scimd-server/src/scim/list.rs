//! Queries: `GET /Users`, `GET /Groups` (RFC 7644 §3.4.2), their `POST .search`
//! forms and the root `POST /.search` across both resource types (§3.4.3).

use super::query::ListParams;
use super::resources::{fetch_for, Scope};
use crate::error::ApiResult;
use scimd_protocol::filter::{self, Filter};
use scimd_protocol::paging::{list_response, PageRequest, PagingLimits};
use scimd_protocol::projection::Projection;
use scimd_protocol::sort::SortSpec;
use scimd_protocol::{ResourceKind, ScimError, ScimResult};
use scimd_store::{ListPage, ListQuery};
use serde_json::Value;

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
) -> ApiResult<(ListPage, Vec<Value>)> {
    let query = ListQuery {
        filter: prepared.filter.as_ref(),
        sort: prepared.sort.as_ref(),
        page,
        fetch: fetch_for(kind, &prepared.projection),
    };
    let result = scope
        .state
        .store()
        .list(&scope.tenant, kind, scope.state.registry(), &query)
        .await?;
    let rendered = result
        .resources
        .iter()
        .map(|r| scope.render(r, &prepared.projection))
        .collect();
    Ok((result, rendered))
}

/// One resource type's list (R2: no match is 200 with `"Resources": []`).
pub async fn list_kind(scope: &Scope, kind: ResourceKind, params: &ListParams) -> ApiResult<Value> {
    let filter = parse_filter(scope, params)?;
    let prepared = prepare(scope, kind, params, filter.as_ref())?;
    let page = page_request(scope, params)?;
    let start_index = match &page {
        PageRequest::Index { start_index, .. } => Some(*start_index),
        PageRequest::Cursor { .. } => None,
    };
    let (result, rendered) = run(scope, kind, &prepared, page).await?;
    Ok(list_response(
        rendered,
        result.total_results,
        start_index,
        result.next_cursor,
    ))
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
pub async fn search_all(scope: &Scope, params: &ListParams) -> ApiResult<Value> {
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

    let mut resources = Vec::new();
    let mut users_total = 0;
    if let Some(prepared) = &users {
        let page = PageRequest::Index { start_index, count };
        let (result, rendered) = run(scope, ResourceKind::User, prepared, page).await?;
        users_total = result.total_results;
        resources.extend(rendered);
    }
    let mut groups_total = 0;
    if let Some(prepared) = &groups {
        let remaining = count.saturating_sub(resources.len() as u64);
        let group_start = start_index.saturating_sub(users_total).max(1);
        let page = PageRequest::Index {
            start_index: group_start,
            count: remaining,
        };
        let (result, rendered) = run(scope, ResourceKind::Group, prepared, page).await?;
        groups_total = result.total_results;
        resources.extend(rendered);
    }
    Ok(list_response(
        resources,
        users_total.saturating_add(groups_total),
        Some(start_index),
        None,
    ))
}
