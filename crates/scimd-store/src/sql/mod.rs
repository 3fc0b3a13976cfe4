//! SCIM queries compiled to SQL: filters (RFC 7644 §3.4.2.2), `sortBy` (§3.4.2.3) and
//! keyset cursors (RFC 9865).
//!
//! The compiler is shared by every backend. Everything that differs between SQL
//! dialects (JSON access, case folding with `lower()`, substring tests, dateTime
//! normalisation) goes through the small [`Dialect`] trait. Placeholders are numbered
//! (`$1`, `$2`, ...), which both SQLite and PostgreSQL understand, so a fragment can be
//! assembled in any order and a value (the tenant id) can be referenced many times.
//!
//! Rows are always addressed through the alias `r` (`users r` or `groups r`).

mod cursor;
mod dialect;
mod filter;
pub(crate) mod log_query;
mod plan;
mod sort;

pub use cursor::{Cursor, CursorKey};
pub use dialect::{Dialect, PostgresDialect, SqliteDialect};
pub use filter::{compile_filter, CompiledFilter};
pub use plan::{
    filter_list, get_is_one_statement, is_point_list, plan_list, FilteredList, ListPlan,
    RESOURCE_COLUMNS,
};
pub use sort::{compile_sort, keyset_after, SortKey};

/// A value bound to a numbered placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Real(f64),
    /// A boolean (an integer 0/1 on SQLite).
    Bool(bool),
}

/// The values of a statement under construction; [`Binds::push`] returns the
/// placeholder to write into the SQL text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Binds(Vec<Bind>);

impl Binds {
    /// No values yet.
    pub fn new() -> Self {
        Binds(Vec::new())
    }

    /// Adds a value and returns its placeholder (`$n`).
    pub fn push(&mut self, value: Bind) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }

    /// Adds a text value and returns its placeholder.
    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.push(Bind::Text(value.into()))
    }

    /// The values in placeholder order.
    pub fn values(&self) -> &[Bind] {
        &self.0
    }
}

/// Which table a compiled fragment runs against: users or groups, through alias `r`.
pub(crate) fn table_of(kind: scimd_protocol::ResourceKind) -> &'static str {
    match kind {
        scimd_protocol::ResourceKind::User => "users",
        scimd_protocol::ResourceKind::Group => "groups",
    }
}

/// A tenant's columns, in the order both backends read them by position.
pub(crate) const TENANT_COLUMNS: &str =
    "id, display_name, provisioning_enabled, created, updated, \
     log_bodies, log_retention_days, log_max_entries";
/// How many columns [`TENANT_COLUMNS`] names.
pub(crate) const TENANT_COLUMN_COUNT: usize = 8;
/// A token's columns, in the order both backends read them by position.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, tenant_id, name, secret_hash, created, last_used, expires, revoked";

/// The tenant `$1` and its token `$2` in one statement (a left join on the token's
/// primary key, so a missing token still returns the tenant). Built once: it runs on
/// every SCIM request.
pub(crate) static TENANT_WITH_TOKEN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {}, {} FROM tenants t \
             LEFT JOIN tokens k ON k.tenant_id = t.id AND k.id = $2 \
             WHERE t.id = $1",
        qualified(TENANT_COLUMNS, "t"),
        qualified(TOKEN_COLUMNS, "k"),
    )
});

/// A column list `a, b` as `t.a, t.b`: the same columns selected through an alias in a
/// join.
fn qualified(columns: &str, table: &str) -> String {
    columns
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
