//! `sortBy` and `sortOrder` (RFC 7644 §3.4.2.3).
//!
//! Choices the RFC leaves open, made so that a query never silently means something
//! else than the client asked:
//! - an unknown `sortBy` attribute, or a complex attribute without a sub-attribute to
//!   compare (`name`), is 400 `invalidValue`;
//! - `sortOrder` is case-insensitive; a value other than `ascending`/`descending` is
//!   400 `invalidValue`; `sortOrder` without `sortBy` is ignored.
//!
//! Ordering rules: strings compare case-insensitively unless the attribute is
//! `caseExact`; a multi-valued attribute sorts by its primary value, else its first
//! (RFC 7644 §3.4.2.3); missing values sort last in ascending order and first in
//! descending order (descending is the exact reverse, as SQL `NULLS LAST` ascending);
//! ties are broken by `id` ascending so that pages are stable (R17).

use crate::error::{ScimError, ScimResult};
use crate::path::AttrPath;
use crate::resource::normalize::{normalize_date_time, parse_boolean};
use crate::schema::{AttrLocation, Attribute, AttributeType, ResourceKind, SchemaRegistry};
use serde_json::Value;
use std::cmp::Ordering;

/// The sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// `ascending` (the default).
    #[default]
    Ascending,
    /// `descending`.
    Descending,
}

/// A validated sort request.
#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    /// The attribute sorted by (resolved and known to exist).
    pub path: AttrPath,
    /// The direction.
    pub order: SortOrder,
}

impl SortSpec {
    /// Parses the raw `sortBy` / `sortOrder` parameters; `None` when `sortBy` is absent.
    ///
    /// The returned path is canonical: schema spelling, `urn` set only for extension
    /// attributes, and for a multi-valued complex attribute named without a
    /// sub-attribute (`emails`), the `value` sub-attribute is filled in.
    ///
    /// ```
    /// use scimd_protocol::sort::{SortSpec, SortOrder};
    /// use scimd_protocol::{ResourceKind, SchemaRegistry};
    /// let r = SchemaRegistry::with_core();
    /// let s = SortSpec::parse(Some("USERNAME"), Some("Descending"), &r, ResourceKind::User)
    ///     .unwrap().unwrap();
    /// assert_eq!(s.path.name, "userName");
    /// assert_eq!(s.order, SortOrder::Descending);
    /// assert!(SortSpec::parse(Some("nope"), None, &r, ResourceKind::User).is_err());
    /// ```
    pub fn parse(
        sort_by: Option<&str>,
        sort_order: Option<&str>,
        registry: &SchemaRegistry,
        kind: ResourceKind,
    ) -> ScimResult<Option<Self>> {
        let Some(raw) = sort_by.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let order = match sort_order.map(str::trim).filter(|s| !s.is_empty()) {
            None => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("ascending") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("descending") => SortOrder::Descending,
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder must be 'ascending' or 'descending', got '{o}'"
                )))
            }
        };
        let unknown =
            || ScimError::invalid_value(format!("cannot sort by unknown attribute '{raw}'"));
        let path = AttrPath::parse(raw).map_err(|_| unknown())?;
        let resolved = registry.resolve(kind, &path).ok_or_else(unknown)?;
        let sub = match resolved.sub {
            Some(s) => Some(s.name.clone()),
            None if resolved.attr.kind == AttributeType::Complex => {
                match resolved.attr.sub_attribute("value") {
                    Some(v) if resolved.attr.multi_valued => Some(v.name.clone()),
                    _ => {
                        return Err(ScimError::invalid_value(format!(
                            "cannot sort by complex attribute '{raw}'; name a sub-attribute"
                        )))
                    }
                }
            }
            None => None,
        };
        let urn = match resolved.location {
            AttrLocation::Extension(u) => Some(u.to_owned()),
            AttrLocation::Core | AttrLocation::Common => None,
        };
        Ok(Some(SortSpec {
            path: AttrPath {
                urn,
                name: resolved.attr.name.clone(),
                sub_attr: sub,
            },
            order,
        }))
    }
}

/// Compares two resources (rendered resources or documents) by `spec`, for in-memory
/// sorting. See the module docs for the rules.
pub fn compare_resources(
    a: &Value,
    b: &Value,
    spec: &SortSpec,
    registry: &SchemaRegistry,
    kind: ResourceKind,
) -> Ordering {
    let target = registry.resolve(kind, &spec.path).map(|r| r.target());
    let key_a = sort_key(a, spec);
    let key_b = sort_key(b, spec);
    let by_value = match (key_a, key_b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => compare_values(x, y, target),
    };
    let directed = match spec.order {
        SortOrder::Ascending => by_value,
        SortOrder::Descending => by_value.reverse(),
    };
    directed.then_with(|| {
        let id_a = a.get("id").and_then(Value::as_str).unwrap_or_default();
        let id_b = b.get("id").and_then(Value::as_str).unwrap_or_default();
        id_a.cmp(id_b)
    })
}

fn get_ci<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
    let obj = object.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The value a resource sorts by, `None` when missing.
fn sort_key<'v>(resource: &'v Value, spec: &SortSpec) -> Option<&'v Value> {
    let container = match &spec.path.urn {
        Some(urn) => get_ci(resource, urn)?,
        None => resource,
    };
    let value = get_ci(container, &spec.path.name)?;
    let element = match value {
        // RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value,
        // "or else the first value in the list, if any".
        Value::Array(items) => items
            .iter()
            .find(|i| get_ci(i, "primary").and_then(parse_boolean) == Some(true))
            .or_else(|| items.first())?,
        other => other,
    };
    let leaf = match &spec.path.sub_attr {
        Some(sub) => get_ci(element, sub)?,
        None => element,
    };
    match leaf {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        other => Some(other),
    }
}

fn compare_values(a: &Value, b: &Value, attr: Option<&Attribute>) -> Ordering {
    let case_exact = attr.is_some_and(|a| a.case_exact);
    let kind = attr.map(|a| a.kind);
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x
                .as_f64()
                .unwrap_or(f64::NAN)
                .partial_cmp(&y.as_f64().unwrap_or(f64::NAN))
                .unwrap_or(Ordering::Equal),
        },
        (Value::String(x), Value::String(y)) if kind == Some(AttributeType::DateTime) => {
            compare_instants(x, y)
        }
        (Value::String(x), Value::String(y)) if case_exact => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        _ => match (parse_boolean(a), parse_boolean(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => a.to_string().cmp(&b.to_string()),
        },
    }
}

fn compare_instants(a: &str, b: &str) -> Ordering {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;
    let parse =
        |s: &str| normalize_date_time(s).and_then(|n| OffsetDateTime::parse(&n, &Rfc3339).ok());
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}
