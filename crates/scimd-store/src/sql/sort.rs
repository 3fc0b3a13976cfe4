//! `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3) compiled to ORDER BY, and the keyset
//! condition that continues after a cursor (RFC 9865).
//!
//! The order is always total: the sort key, then the id. Rows without a value for the
//! sort attribute come last in ascending order (and first in descending order, which is
//! the exact reverse). Without `sortBy`, resources come in creation order
//! (`meta.created`, then id), so pages stay stable while a client imports and new
//! resources appear at the end.

use super::cursor::{Cursor, CursorKey};
use super::{Bind, Binds, Dialect};
use scimd_protocol::schema::{AttrLocation, AttributeType};
use scimd_protocol::sort::{SortOrder, SortSpec};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError};

/// A compiled ordering.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// The SQL expression sorted by (on alias `r`).
    pub expr: String,
    /// Whether the expression can be NULL.
    pub nullable: bool,
    /// Descending order.
    pub descending: bool,
    /// Identifies the ordering inside cursors.
    pub signature: String,
}

impl SortKey {
    /// The ORDER BY clause (without the keywords).
    pub fn order_by(&self) -> String {
        self.order_by_on(&self.expr, "r.id")
    }

    /// The same ordering over a page already selected, whose rows carry the key as
    /// `sort_key` on alias `row`.
    pub fn order_by_selected(&self, row: &str) -> String {
        self.order_by_on(&format!("{row}.sort_key"), &format!("{row}.id"))
    }

    fn order_by_on(&self, key: &str, id: &str) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        if self.nullable {
            format!("({key} IS NULL) {dir}, {key} {dir}, {id} {dir}")
        } else {
            format!("{key} {dir}, {id} {dir}")
        }
    }
}

fn unsortable(what: &str) -> ScimError {
    ScimError::invalid_value(format!("cannot sort by '{what}'"))
}

/// Compiles the sort (or the default creation order) for `kind`.
pub fn compile_sort(
    dialect: &dyn Dialect,
    registry: &SchemaRegistry,
    kind: ResourceKind,
    tenant_ph: &str,
    spec: Option<&SortSpec>,
    binds: &mut Binds,
) -> Result<SortKey, ScimError> {
    let Some(spec) = spec else {
        return Ok(SortKey {
            expr: "r.created".into(),
            nullable: false,
            descending: false,
            signature: "meta.created:ascending".into(),
        });
    };
    let path = &spec.path;
    let shown = path.to_string();
    let resolved = registry
        .resolve(kind, path)
        .ok_or_else(|| unsortable(&shown))?;
    let attr = resolved.attr;
    let sub = resolved.sub.map(|s| s.name.as_str());
    let column = |expr: &str, nullable: bool| Some((expr.to_owned(), nullable));
    let known = match (resolved.location, kind, attr.name.as_str(), sub) {
        (AttrLocation::Common, _, "id", None) => column("r.id", false),
        (AttrLocation::Common, _, "externalId", None) => column("r.external_id_norm", true),
        (AttrLocation::Common, _, "meta", Some("created")) => column("r.created", false),
        (AttrLocation::Common, _, "meta", Some("lastModified")) => column("r.last_modified", false),
        (AttrLocation::Core, ResourceKind::User, "userName", None) => {
            column("r.user_name_norm", false)
        }
        (AttrLocation::Core, ResourceKind::User, "displayName", None) => {
            column("r.display_name_norm", true)
        }
        (AttrLocation::Core, ResourceKind::Group, "displayName", None) => {
            column("r.display_name_norm", false)
        }
        (AttrLocation::Core, ResourceKind::User, "active", None) => {
            column(&dialect.bool_sort_key("r.active"), true)
        }
        (AttrLocation::Core, ResourceKind::User, "groups", _)
        | (AttrLocation::Core, ResourceKind::Group, "members", _)
        | (AttrLocation::Common, _, "meta", _) => return Err(unsortable(&shown)),
        // RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value (or,
        // without one, by its smallest value).
        (AttrLocation::Core, ResourceKind::User, name, None | Some("value"))
            if attr.is_multi_valued_complex() =>
        {
            let attr_ph = binds.text(name);
            Some((
                format!(
                    "(SELECT uv.value_norm FROM user_values uv WHERE uv.tenant_id = {tenant_ph} \
                     AND uv.user_id = r.id AND uv.attr = {attr_ph} AND uv.value_norm IS NOT NULL \
                     ORDER BY uv.is_primary DESC, uv.value_norm LIMIT 1)"
                ),
                true,
            ))
        }
        _ => None,
    };
    let (expr, nullable) = match known {
        Some(k) => k,
        None => {
            let target = resolved.target();
            if attr.multi_valued || target.kind == AttributeType::Complex {
                return Err(unsortable(&shown));
            }
            let mut keys: Vec<&str> = Vec::with_capacity(3);
            if let AttrLocation::Extension(urn) = resolved.location {
                keys.push(urn);
            }
            keys.push(attr.name.as_str());
            if let Some(s) = sub {
                keys.push(s);
            }
            let path_ph = binds.text(dialect.json_path(&keys)?);
            let scalar = dialect.json_scalar("r.doc", &path_ph);
            let expr = match target.kind {
                AttributeType::DateTime => dialect.datetime_norm(&dialect.json_text(&scalar)),
                AttributeType::String | AttributeType::Reference if !target.case_exact => {
                    dialect.lower(&dialect.json_text(&scalar))
                }
                AttributeType::Boolean => dialect.bool_sort_key(&dialect.json_bool(&scalar)),
                AttributeType::Decimal | AttributeType::Integer => dialect.json_number(&scalar),
                _ => dialect.json_text(&scalar),
            };
            (expr, true)
        }
    };
    let descending = spec.order == SortOrder::Descending;
    Ok(SortKey {
        expr,
        nullable,
        descending,
        signature: format!(
            "{}:{}",
            shown.to_lowercase(),
            if descending {
                "descending"
            } else {
                "ascending"
            }
        ),
    })
}

/// The condition selecting the rows after `cursor` in `sort`'s order.
pub fn keyset_after(sort: &SortKey, cursor: &Cursor, binds: &mut Binds) -> String {
    let e = &sort.expr;
    let id = binds.text(cursor.id.clone());
    let (after, before_nulls) = if sort.descending {
        ("<", false)
    } else {
        (">", true)
    };
    let key = match &cursor.key {
        CursorKey::Null => None,
        CursorKey::Text(t) => Some(binds.text(t.clone())),
        CursorKey::Int(i) => Some(binds.push(Bind::Int(*i))),
        CursorKey::Real(r) => Some(binds.push(Bind::Real(*r))),
    };
    match key {
        Some(k) => {
            let base = format!("({e} {after} {k} OR ({e} = {k} AND r.id {after} {id}))");
            if sort.nullable && before_nulls {
                // Ascending: the NULL keys are still ahead.
                format!("({base} OR {e} IS NULL)")
            } else {
                base
            }
        }
        None if before_nulls => format!("({e} IS NULL AND r.id {after} {id})"),
        // Descending: NULL keys came first; the rest follows.
        None => format!("(({e} IS NULL AND r.id {after} {id}) OR {e} IS NOT NULL)"),
    }
}
