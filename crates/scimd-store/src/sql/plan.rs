//! The two statements of a list request (the count and the page), built from the
//! compiled filter, sort and paging, for any [`Dialect`].

use super::{compile_filter, compile_sort, keyset_after, table_of, Bind, Binds, Cursor};
use super::{Dialect, SortKey};
use crate::{Fetch, ListQuery};
use scimd_protocol::filter::{CompareOp, Filter};
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
    /// Whether each page row carries its user's groups as `groups_json`
    /// ([`Dialect::user_groups_json`]): users listed with `groups`, on a backend that
    /// aggregates them in SQL.
    pub groups_in_page: bool,
    /// What the page statement skips and takes, for [`ListPlan::total_from_page`].
    window: PageWindow,
}

/// Where the page statement's rows sit among all the rows matching the filter.
#[derive(Debug, Clone, Copy)]
enum PageWindow {
    /// `OFFSET offset LIMIT limit` over the whole filtered set (index paging).
    Offset { offset: u64, limit: u64 },
    /// The first cursor page: `LIMIT limit` from the start.
    FirstCursorPage { limit: u64 },
    /// A later cursor page: its rows start after a position the count cannot see.
    LaterCursorPage,
}

impl ListPlan {
    /// `totalResults` as the page itself tells it, when it can; `None` when the count
    /// statement has to run.
    ///
    /// A page that came back short (fewer rows than its `LIMIT`, at least one row, or
    /// zero rows at offset 0) has reached the end of the filtered set, so the total is
    /// the rows before it plus its own rows. Most IdP queries are like that: Entra's and
    /// Okta's `userName eq "…"` match zero or one row, and their count (a second
    /// statement per query) is saved. The page and the count are read in one snapshot
    /// on SQLite; here both come from the same statement, which is stricter still.
    pub fn total_from_page(&self, rows_fetched: usize) -> Option<u64> {
        let rows = u64::try_from(rows_fetched).ok()?;
        match self.window {
            PageWindow::Offset { offset, limit } => {
                let reached_end = rows < limit && (rows > 0 || offset == 0);
                reached_end.then(|| offset.saturating_add(rows))
            }
            PageWindow::FirstCursorPage { limit } => (rows < limit).then_some(rows),
            PageWindow::LaterCursorPage => None,
        }
    }

    /// Whether `fetch` asks for what the page statement does not bring: a group's
    /// members, or users' groups when the page does not carry them.
    pub fn needs_related_reads(&self, kind: ResourceKind, fetch: Fetch) -> bool {
        match kind {
            ResourceKind::Group => fetch.members,
            ResourceKind::User => fetch.groups && !self.groups_in_page,
        }
    }
}

/// Whether a GET of one resource is one statement on either backend: everything but
/// a group's members (a list of unbounded size, read apart), since a user's groups come
/// in its row's statement ([`Dialect::user_groups_json`]).
pub fn get_is_one_statement(kind: ResourceKind, fetch: Fetch) -> bool {
    !(kind == ResourceKind::Group && fetch.members)
}

/// Compiles a list request for `kind` in `tenant`.
pub fn plan_list(
    dialect: &dyn Dialect,
    tenant: &str,
    kind: ResourceKind,
    registry: &SchemaRegistry,
    query: &ListQuery<'_>,
) -> Result<ListPlan, ScimError> {
    filter_list(dialect, tenant, kind, registry, query)?.plan(dialect, kind, registry, query)
}

/// The first stage of a list plan: the tenant and the filter compiled, the sort and
/// the page not yet. A store that can tell from [`FilteredList::unique_name`] alone
/// that nothing matches answers without the second stage
/// ([`FilteredList::empty_answer_is_complete`]), which is most of the planning's
/// work: the statements' text.
#[derive(Debug)]
pub struct FilteredList {
    binds: Binds,
    tenant_ph: String,
    condition: String,
    unique_name: Option<String>,
}

/// Compiles the tenant and the filter of a list request: [`plan_list`]'s first stage.
pub fn filter_list(
    dialect: &dyn Dialect,
    tenant: &str,
    kind: ResourceKind,
    registry: &SchemaRegistry,
    query: &ListQuery<'_>,
) -> Result<FilteredList, ScimError> {
    let mut binds = Binds::new();
    let tenant_ph = binds.text(tenant);
    let mut condition = format!("r.tenant_id = {tenant_ph}");
    let mut unique_name = None;
    if let Some(filter) = query.filter {
        let compiled = compile_filter(dialect, registry, kind, &tenant_ph, filter, &mut binds)?;
        condition = format!("{condition} AND {}", compiled.condition);
        unique_name = compiled.unique_name;
    }
    Ok(FilteredList {
        binds,
        tenant_ph,
        condition,
        unique_name,
    })
}

impl FilteredList {
    /// When the filter is `eq` on the kind's unique name, that name folded
    /// ([`super::CompiledFilter::unique_name`]).
    pub fn unique_name(&self) -> Option<&str> {
        self.unique_name.as_deref()
    }

    /// Whether, once the store knows no row matches the filter, an empty page is the
    /// whole answer to `query`: nothing left to compile could fail. A `sortBy` can name
    /// an attribute that cannot be sorted (`invalidValue`) and a cursor can be
    /// malformed (`invalidCursor`), and those errors are due whether or not anything
    /// matches; without either, the rest of the plan always compiles.
    pub fn empty_answer_is_complete(query: &ListQuery<'_>) -> bool {
        query.sort.is_none()
            && !matches!(
                query.page,
                PageRequest::Cursor {
                    cursor: Some(_),
                    ..
                }
            )
    }

    /// The second stage: the sort, the page, and both statements.
    pub fn plan(
        self,
        dialect: &dyn Dialect,
        kind: ResourceKind,
        registry: &SchemaRegistry,
        query: &ListQuery<'_>,
    ) -> Result<ListPlan, ScimError> {
        let FilteredList {
            mut binds,
            tenant_ph,
            mut condition,
            unique_name: _,
        } = self;
        let table = table_of(kind);
        let count_sql = format!("SELECT COUNT(*) FROM {table} r WHERE {condition}");
        let count_binds = binds.clone();

        let sort = compile_sort(dialect, registry, kind, &tenant_ph, query.sort, &mut binds)?;
        let (limit, offset, cursor_page_size, window) = match &query.page {
            PageRequest::Index { start_index, count } => {
                // RFC 7644 §3.4.2.4: startIndex is 1-based; below 1 means 1.
                let offset = start_index.saturating_sub(1);
                let window = PageWindow::Offset {
                    offset,
                    limit: *count,
                };
                (*count, offset, None, window)
            }
            PageRequest::Cursor { cursor, count } => {
                let limit = count.saturating_add(1);
                let window = match cursor {
                    Some(text) => {
                        let position = Cursor::decode(text, &sort.signature)?;
                        let after = keyset_after(&sort, &position, &mut binds);
                        condition = format!("{condition} AND {after}");
                        PageWindow::LaterCursorPage
                    }
                    None => PageWindow::FirstCursorPage { limit },
                };
                (limit, 0, Some(*count), window)
            }
        };
        let limit_ph = binds.push(Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        let offset_ph = binds.push(Bind::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        let select_page = |extra: &str| {
            format!(
                "SELECT {RESOURCE_COLUMNS}, {expr} AS sort_key{extra} FROM {table} r \
                 WHERE {condition} ORDER BY {order} LIMIT {limit_ph} OFFSET {offset_ph}",
                expr = sort.expr,
                order = sort.order_by(),
            )
        };
        let around_page = dialect.user_groups_around_page();
        let groups = match kind {
            ResourceKind::User if query.fetch.groups => {
                dialect.user_groups_json(&tenant_ph, if around_page { "p" } else { "r" })
            }
            _ => None,
        };
        let page_sql = match &groups {
            None => select_page(""),
            Some(groups) if around_page => format!(
                "SELECT p.*, {groups} AS groups_json FROM ({page}) p ORDER BY {order}",
                page = select_page(""),
                order = sort.order_by_selected("p"),
            ),
            Some(groups) => select_page(&format!(", {groups} AS groups_json")),
        };
        Ok(ListPlan {
            count_sql,
            count_binds,
            page_sql,
            page_binds: binds,
            sort,
            cursor_page_size,
            groups_in_page: groups.is_some(),
            window,
        })
    }
}

/// Whether a list request is a point lookup: an `eq` on an attribute with a unique (or
/// near-unique) index, a small page, and no group members. Both backends try such a
/// request as its page statement alone (most match zero or one row, so the page tells
/// its own total): SQLite inline on the calling task, PostgreSQL outside a transaction.
pub fn is_point_list(kind: ResourceKind, query: &ListQuery<'_>) -> bool {
    const SMALL_PAGE: u64 = 100;
    let count = match &query.page {
        PageRequest::Index { count, .. } | PageRequest::Cursor { count, .. } => *count,
    };
    let Some(Filter::Compare {
        path,
        op: CompareOp::Eq,
        ..
    }) = query.filter
    else {
        return false;
    };
    let indexed: &[&str] = match kind {
        ResourceKind::User => &["userName", "externalId", "id"],
        ResourceKind::Group => &["displayName", "externalId", "id"],
    };
    count <= SMALL_PAGE
        && !(kind == ResourceKind::Group && query.fetch.members)
        && path.sub_attr.is_none()
        && path
            .urn
            .as_deref()
            .is_none_or(|urn| urn.starts_with("urn:ietf:params:scim:schemas:core:"))
        && indexed
            .iter()
            .any(|name| path.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::{ListPlan, PageWindow, SortKey};

    fn plan(window: PageWindow) -> ListPlan {
        ListPlan {
            count_sql: String::new(),
            count_binds: super::Binds::new(),
            page_sql: String::new(),
            page_binds: super::Binds::new(),
            groups_in_page: false,
            sort: SortKey {
                expr: "r.id".into(),
                nullable: false,
                descending: false,
                signature: String::new(),
            },
            cursor_page_size: None,
            window,
        }
    }

    #[test]
    fn a_short_page_tells_the_total_and_anything_else_counts() {
        let first = plan(PageWindow::Offset {
            offset: 0,
            limit: 100,
        });
        assert_eq!(first.total_from_page(0), Some(0));
        assert_eq!(first.total_from_page(1), Some(1));
        assert_eq!(
            first.total_from_page(100),
            None,
            "a full page may have more after it"
        );
        let later = plan(PageWindow::Offset {
            offset: 40,
            limit: 20,
        });
        assert_eq!(later.total_from_page(7), Some(47));
        assert_eq!(
            later.total_from_page(0),
            None,
            "past the end: the total is unknown"
        );
        assert_eq!(later.total_from_page(20), None);
        let nothing = plan(PageWindow::Offset {
            offset: 0,
            limit: 0,
        });
        assert_eq!(
            nothing.total_from_page(0),
            None,
            "count=0 asks for the total only"
        );
        let cursor = plan(PageWindow::FirstCursorPage { limit: 11 });
        assert_eq!(cursor.total_from_page(4), Some(4));
        assert_eq!(cursor.total_from_page(11), None);
        assert_eq!(plan(PageWindow::LaterCursorPage).total_from_page(1), None);
    }

    /// Where the groups subquery goes: inside SQLite's page, around PostgreSQL's, whose
    /// outer query orders the page's rows again by the same key and direction.
    #[test]
    fn the_groups_subquery_goes_inside_or_around_the_page() {
        use crate::sql::{Dialect, PostgresDialect, SqliteDialect};
        use crate::{Fetch, ListQuery};
        use scimd_protocol::paging::PageRequest;
        use scimd_protocol::path::AttrPath;
        use scimd_protocol::sort::{SortOrder, SortSpec};
        use scimd_protocol::{ResourceKind, SchemaRegistry};

        let registry = SchemaRegistry::with_core();
        let sort = SortSpec {
            path: AttrPath::parse("title").unwrap(),
            order: SortOrder::Descending,
        };
        let query = |fetch| ListQuery {
            filter: None,
            sort: Some(&sort),
            page: PageRequest::Index {
                start_index: 3,
                count: 2,
            },
            fetch,
        };
        let plan = |dialect: &dyn Dialect, fetch| {
            super::plan_list(dialect, "t", ResourceKind::User, &registry, &query(fetch)).unwrap()
        };

        let sqlite = plan(&SqliteDialect, Fetch::ALL);
        assert!(sqlite.groups_in_page);
        assert!(
            sqlite.page_sql.starts_with("SELECT r.id"),
            "{}",
            sqlite.page_sql
        );
        assert!(sqlite
            .page_sql
            .contains("gm.member_id = r.id) AS groups_json FROM users r"));

        let postgres = plan(&PostgresDialect, Fetch::ALL);
        assert!(postgres.groups_in_page);
        let page = plan(&PostgresDialect, Fetch::NONE);
        assert!(!page.groups_in_page);
        assert_eq!(
            postgres.page_sql,
            format!(
                "SELECT p.*, {} AS groups_json FROM ({}) p ORDER BY \
                 (p.sort_key IS NULL) DESC, p.sort_key DESC, p.id DESC",
                PostgresDialect.user_groups_json("$1", "p").unwrap(),
                page.page_sql,
            )
        );
        assert_eq!(postgres.page_binds.values(), page.page_binds.values());
    }
}
