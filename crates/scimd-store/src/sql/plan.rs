//! The two statements of a list request (the count and the page), built from the
//! compiled filter, sort and paging, for any [`Dialect`].

use super::{compile_filter, compile_sort, keyset_after, table_of, Bind, Binds, Cursor};
use super::{Dialect, SortKey};
use crate::ListQuery;
use scimd_protocol::paging::PageRequest;
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError};

/// The columns every list and read returns, on alias `r`.
pub const RESOURCE_COLUMNS: &str = "r.id, r.doc, r.created, r.last_modified, r.version";

/// The statements of one list request, compiled but not yet run.
#[derive(Debug, Clone)]
pub struct ListPlan {
    /// `SELECT COUNT(*)` over the filter.
    pub count_sql: String,
    /// The count's values.
    pub count_binds: Binds,
    /// The page itself: [`RESOURCE_COLUMNS`] and the sort key as `sort_key`.
    pub page_sql: String,
    /// The page's values.
    pub page_binds: Binds,
    /// The ordering (for the next cursor).
    pub sort: SortKey,
    /// For cursor paging: the page size (the statement fetches one more row, which
    /// tells whether there is a next page).
    pub cursor_page_size: Option<u64>,
}

/// Compiles a list request for `kind` in `tenant`.
pub fn plan_list(
    dialect: &dyn Dialect,
    tenant: &str,
    kind: ResourceKind,
    registry: &SchemaRegistry,
    query: &ListQuery<'_>,
) -> Result<ListPlan, ScimError> {
    let table = table_of(kind);
    let mut binds = Binds::new();
    let tenant_ph = binds.text(tenant);
    let mut condition = format!("r.tenant_id = {tenant_ph}");
    if let Some(filter) = query.filter {
        let compiled = compile_filter(dialect, registry, kind, &tenant_ph, filter, &mut binds)?;
        condition = format!("{condition} AND {compiled}");
    }
    let count_sql = format!("SELECT COUNT(*) FROM {table} r WHERE {condition}");
    let count_binds = binds.clone();

    let sort = compile_sort(dialect, registry, kind, &tenant_ph, query.sort, &mut binds)?;
    let (limit, offset, cursor_page_size) = match &query.page {
        PageRequest::Index { start_index, count } => {
            // RFC 7644 §3.4.2.4: startIndex is 1-based; below 1 means 1.
            (*count, start_index.saturating_sub(1), None)
        }
        PageRequest::Cursor { cursor, count } => {
            if let Some(text) = cursor {
                let position = Cursor::decode(text, &sort.signature)?;
                let after = keyset_after(&sort, &position, &mut binds);
                condition = format!("{condition} AND {after}");
            }
            (count.saturating_add(1), 0, Some(*count))
        }
    };
    let limit_ph = binds.push(Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    let offset_ph = binds.push(Bind::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    let page_sql = format!(
        "SELECT {RESOURCE_COLUMNS}, {expr} AS sort_key FROM {table} r WHERE {condition} \
         ORDER BY {order} LIMIT {limit_ph} OFFSET {offset_ph}",
        expr = sort.expr,
        order = sort.order_by(),
    );
    Ok(ListPlan {
        count_sql,
        count_binds,
        page_sql,
        page_binds: binds,
        sort,
        cursor_page_size,
    })
}
