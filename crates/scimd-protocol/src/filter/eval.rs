//! Filter validation and evaluation against rendered resources (RFC 7644 §3.4.2.2).
//!
//! # Semantics
//!
//! - **Names** resolve case-insensitively through the [`SchemaRegistry`]; JSON keys in
//!   the resource are matched case-insensitively too (exact spelling first).
//! - **Multi-valued attributes** match when *any* value matches. `emails.value co "x"`
//!   tests every email; a path to a complex attribute without a sub-attribute compares
//!   its `value` sub-attribute (`emails co "x"` ≡ `emails.value co "x"`; the same
//!   holds for single-valued complex attributes that have a `value`, such as the
//!   enterprise `manager`, which Entra filters as `manager eq "<id>"`).
//! - **Strings** compare lowercased when the attribute is not `caseExact`; `gt`/`lt`
//!   on strings is lexicographic by code point. Number and boolean literals compared
//!   with a string attribute are compared as their JSON text (`externalId eq 12345`).
//! - **dateTime** values compare as instants ([`super::instant`]): offsets and
//!   fractional seconds of any length are honoured.
//! - **Numbers** compare numerically (exactly for integers, as `f64` otherwise).
//! - **Booleans** accept `true`/`false` and the strings `"True"`/`"false"` (Entra).
//! - **`pr`** is true when some value is present: not `null`, not `""`, not `[]`,
//!   not `{}`.
//! - **`ne`** is true when no value equals the literal, so `ne` on a missing attribute
//!   is true: `ne` is exactly `not (eq)`.
//! - **null**: `eq null` is true when the attribute is absent (is not `pr`), and
//!   `ne null` when it is present. Other operators with `null` are `invalidFilter`.
//!
//! # Validation
//!
//! [`validate`] rejects (400 `invalidFilter`) what could never match or has no
//! meaning: unknown attributes, attributes that are never returned (`password`:
//! filtering on it would leak it one guess at a time), `gt`/`ge`/`lt`/`le` on
//! booleans, binaries and complex attributes, `co`/`sw`/`ew` on anything but strings
//! and references, comparisons of complex attributes without a `value`, value paths
//! on non-complex attributes, and literals of the wrong type (`"abc"` for an
//! integer, a non-dateTime string for a dateTime, `"maybe"` for a boolean).
//! [`evaluate`] validates first, so it fails the same way.

use super::ast::{CompareOp, Filter, Literal};
use super::instant::parse_instant;
use super::parse::parse_json_number;
use crate::error::{ScimError, ScimResult};
use crate::path::AttrPath;
use crate::schema::{
    AttrLocation, Attribute, AttributeType, ResourceKind, Returned, SchemaRegistry,
};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;
use std::sync::OnceLock;
use time::OffsetDateTime;

/// Evaluates `filter` against a rendered resource (as a client sees it: `id`,
/// `externalId`, `meta`, core attributes, extension objects keyed by their URN).
///
/// ```
/// use scimd_protocol::filter::{evaluate, parse, FilterLimits};
/// use scimd_protocol::{ResourceKind, SchemaRegistry};
/// let registry = SchemaRegistry::with_core();
/// let user = serde_json::json!({"userName": "BJensen", "emails": [{"type": "work", "value": "b@x.com"}]});
/// let f = parse(r#"username eq "bjensen" and emails[type eq "work"].value eq "B@X.COM""#, &FilterLimits::default()).unwrap();
/// assert!(evaluate(&f, &user, &registry, ResourceKind::User).unwrap());
/// ```
pub fn evaluate(
    filter: &Filter,
    resource: &Value,
    registry: &SchemaRegistry,
    kind: ResourceKind,
) -> ScimResult<bool> {
    let scope = Scope::Resource { registry, kind };
    check(filter, &scope)?;
    matches(filter, &scope, resource)
}

/// Evaluates `filter` against one element of the multi-valued complex attribute
/// `attr` (the filter inside `emails[...]`, as PATCH uses it): the filter's paths
/// name sub-attributes of `attr`.
pub fn evaluate_element(filter: &Filter, element: &Value, attr: &Attribute) -> ScimResult<bool> {
    let scope = element_scope(attr)?;
    check(filter, &scope)?;
    matches(filter, &scope, element)
}

/// Checks that every path of `filter` resolves for `kind` and that every comparison
/// can apply (see the module docs). 400 `invalidFilter` otherwise.
pub fn validate(filter: &Filter, registry: &SchemaRegistry, kind: ResourceKind) -> ScimResult<()> {
    check(filter, &Scope::Resource { registry, kind })
}

/// Like [`validate`], for a filter on the elements of the complex attribute `attr`.
pub fn validate_element(filter: &Filter, attr: &Attribute) -> ScimResult<()> {
    check(filter, &element_scope(attr)?)
}

/// What the paths of a filter are relative to.
enum Scope<'a> {
    /// A whole resource of a kind.
    Resource {
        registry: &'a SchemaRegistry,
        kind: ResourceKind,
    },
    /// One element of a complex attribute.
    Element { parent: &'a Attribute },
}

fn element_scope(attr: &Attribute) -> ScimResult<Scope<'_>> {
    if attr.kind != AttributeType::Complex {
        return Err(ScimError::invalid_filter(format!(
            "'{}' is not a complex attribute and has no sub-attributes to filter on",
            attr.name
        )));
    }
    Ok(Scope::Element { parent: attr })
}

/// Where a resolved attribute's value sits in the JSON of its scope.
#[derive(Debug, Clone, Copy)]
enum Location<'a> {
    /// A key of the scope's object (top-level attribute, or sub-attribute of an element).
    Key,
    /// A key of the extension object under this URN.
    Extension(&'a str),
}

/// A path resolved in a scope.
#[derive(Debug, Clone, Copy)]
struct Resolved<'a> {
    location: Location<'a>,
    attr: &'a Attribute,
    sub: Option<&'a Attribute>,
}

/// `schemas` is not in any schema (RFC 7643 §3 defines it for every resource) but the
/// RFC's own examples filter on it: `schemas eq "urn:...:enterprise:2.0:User"`.
fn schemas_attribute() -> &'static Attribute {
    static SCHEMAS: OnceLock<Attribute> = OnceLock::new();
    SCHEMAS.get_or_init(|| Attribute {
        name: "schemas".into(),
        kind: AttributeType::Reference,
        multi_valued: true,
        description: String::new(),
        required: true,
        case_exact: false,
        mutability: crate::schema::Mutability::ReadOnly,
        returned: Returned::Always,
        uniqueness: crate::schema::Uniqueness::None,
        canonical_values: vec![],
        reference_types: vec!["uri".into()],
        sub_attributes: vec![],
    })
}

fn resolve<'a>(path: &AttrPath, scope: &Scope<'a>) -> ScimResult<Resolved<'a>> {
    let resolved = match scope {
        Scope::Resource { registry, kind } => match registry.resolve(*kind, path) {
            Some(r) => Resolved {
                location: match r.location {
                    AttrLocation::Common | AttrLocation::Core => Location::Key,
                    AttrLocation::Extension(urn) => Location::Extension(urn),
                },
                attr: r.attr,
                sub: r.sub,
            },
            None if is_schemas(path, *kind) => Resolved {
                location: Location::Key,
                attr: schemas_attribute(),
                sub: None,
            },
            None => {
                return Err(ScimError::invalid_filter(format!(
                    "unknown attribute '{path}' for {}",
                    kind.name()
                )))
            }
        },
        Scope::Element { parent } => {
            let sub = match (&path.urn, &path.sub_attr) {
                (None, None) => parent.sub_attribute(&path.name),
                _ => None,
            };
            let Some(sub) = sub else {
                return Err(ScimError::invalid_filter(format!(
                    "'{path}' is not a sub-attribute of '{}'",
                    parent.name
                )));
            };
            Resolved {
                location: Location::Key,
                attr: sub,
                sub: None,
            }
        }
    };
    let never = resolved.attr.returned == Returned::Never
        || resolved.sub.is_some_and(|s| s.returned == Returned::Never);
    if never {
        return Err(ScimError::invalid_filter(format!(
            "attribute '{path}' is never returned and cannot be filtered on"
        )));
    }
    Ok(resolved)
}

fn is_schemas(path: &AttrPath, kind: ResourceKind) -> bool {
    let urn_ok = path
        .urn
        .as_deref()
        .is_none_or(|urn| urn.eq_ignore_ascii_case(kind.core_schema()));
    urn_ok && path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("schemas")
}

/// The attribute a comparison compares, and whether it is reached through an implicit
/// `value` sub-attribute (RFC 7644 §3.4.2.2: `emails co "x"` ≡ `emails.value co "x"`).
fn comparand<'a>(resolved: &Resolved<'a>, path: &AttrPath) -> ScimResult<(&'a Attribute, bool)> {
    if let Some(sub) = resolved.sub {
        return Ok((sub, false));
    }
    if resolved.attr.kind != AttributeType::Complex {
        return Ok((resolved.attr, false));
    }
    match resolved.attr.sub_attribute("value") {
        Some(value) => Ok((value, true)),
        None => Err(ScimError::invalid_filter(format!(
            "'{path}' is complex: compare one of its sub-attributes, e.g. '{path}.{}'",
            resolved
                .attr
                .sub_attributes
                .first()
                .map_or("value", |a| a.name.as_str())
        ))),
    }
}

/// A literal converted to what the attribute's type compares.
#[derive(Debug, Clone)]
enum Operand {
    /// `null`: only `eq`/`ne`, which test absence and presence.
    Null,
    /// A string, already lowercased when the attribute is not caseExact.
    Text {
        text: String,
        case_exact: bool,
    },
    Bool(bool),
    Number(Number),
    Instant(OffsetDateTime),
}

fn type_name(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::String => "string",
        AttributeType::Boolean => "boolean",
        AttributeType::Decimal => "decimal",
        AttributeType::Integer => "integer",
        AttributeType::DateTime => "dateTime",
        AttributeType::Binary => "binary",
        AttributeType::Reference => "reference",
        AttributeType::Complex => "complex",
    }
}

/// Checks that `op` applies to `attr` and converts `literal` for it.
fn operand(
    attr: &Attribute,
    path: &AttrPath,
    op: CompareOp,
    literal: &Literal,
) -> ScimResult<Operand> {
    let op_name = op.as_str();
    let unsupported = || {
        ScimError::invalid_filter(format!(
            "operator '{op_name}' cannot be used on {} attribute '{path}' (RFC 7644 §3.4.2.2)",
            type_name(attr.kind)
        ))
    };
    let cannot_match = |expected: &str| {
        ScimError::invalid_filter(format!(
            "{literal} cannot match {} attribute '{path}': expected {expected}",
            type_name(attr.kind)
        ))
    };
    let ordering = matches!(
        op,
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
    );
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    if *literal == Literal::Null {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(Operand::Null),
            _ => Err(ScimError::invalid_filter(format!(
                "null can only be compared with 'eq' or 'ne', not '{op_name}' ('{path}')"
            ))),
        };
    }
    match attr.kind {
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => {
            if attr.kind == AttributeType::Binary && (ordering || substring) {
                return Err(unsupported());
            }
            // Base64 is case-sensitive whatever the schema says.
            let case_exact = attr.case_exact || attr.kind == AttributeType::Binary;
            let text = match literal {
                Literal::String(s) => s.clone(),
                Literal::Number(n) => n.to_string(),
                Literal::Bool(b) => b.to_string(),
                Literal::Null => return Ok(Operand::Null),
            };
            let text = if case_exact {
                text
            } else {
                text.to_lowercase()
            };
            Ok(Operand::Text { text, case_exact })
        }
        AttributeType::Boolean => {
            if ordering || substring {
                return Err(unsupported());
            }
            match literal {
                Literal::Bool(b) => Ok(Operand::Bool(*b)),
                Literal::String(s) => lenient_bool(s)
                    .map(Operand::Bool)
                    .ok_or_else(|| cannot_match("true or false")),
                _ => Err(cannot_match("true or false")),
            }
        }
        AttributeType::Integer | AttributeType::Decimal => {
            if substring {
                return Err(unsupported());
            }
            match literal {
                Literal::Number(n) => Ok(Operand::Number(n.clone())),
                Literal::String(s) => parse_json_number(s.trim())
                    .map(Operand::Number)
                    .ok_or_else(|| cannot_match("a number")),
                _ => Err(cannot_match("a number")),
            }
        }
        AttributeType::DateTime => {
            if substring {
                return Err(unsupported());
            }
            match literal {
                Literal::String(s) => parse_instant(s).map(Operand::Instant).ok_or_else(|| {
                    cannot_match("an RFC 3339 dateTime such as \"2011-05-13T04:42:34Z\"")
                }),
                _ => Err(cannot_match(
                    "an RFC 3339 dateTime such as \"2011-05-13T04:42:34Z\"",
                )),
            }
        }
        AttributeType::Complex => Err(unsupported()),
    }
}

fn lenient_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Validates a filter in a scope.
fn check(filter: &Filter, scope: &Scope<'_>) -> ScimResult<()> {
    match filter {
        Filter::Compare {
            path, op, value, ..
        } => {
            let resolved = resolve(path, scope)?;
            let (attr, _) = comparand(&resolved, path)?;
            operand(attr, path, *op, value).map(|_| ())
        }
        Filter::Present { path, .. } => resolve(path, scope).map(|_| ()),
        Filter::And(left, right) | Filter::Or(left, right) => {
            check(left, scope)?;
            check(right, scope)
        }
        Filter::Not(inner) => check(inner, scope),
        Filter::ValuePath { path, filter, .. } => {
            let parent = value_path_attribute(path, scope)?;
            check(filter, &Scope::Element { parent })
        }
    }
}

/// The complex attribute a value path filters, or why it cannot.
fn value_path_attribute<'a>(path: &AttrPath, scope: &Scope<'a>) -> ScimResult<&'a Attribute> {
    if matches!(scope, Scope::Element { .. }) {
        return Err(ScimError::invalid_filter(format!(
            "value filter on '{path}' inside another value filter (RFC 7643 §2.3.8)"
        )));
    }
    let resolved = resolve(path, scope)?;
    let attr = resolved.sub.unwrap_or(resolved.attr);
    if attr.kind != AttributeType::Complex {
        return Err(ScimError::invalid_filter(format!(
            "'{path}' is a {} attribute; a value filter '{path}[...]' needs a complex one",
            type_name(attr.kind)
        )));
    }
    Ok(attr)
}

/// Runs a validated filter.
fn matches(filter: &Filter, scope: &Scope<'_>, data: &Value) -> ScimResult<bool> {
    Ok(match filter {
        Filter::Compare {
            path, op, value, ..
        } => {
            let resolved = resolve(path, scope)?;
            let (attr, through_value) = comparand(&resolved, path)?;
            let operand = operand(attr, path, *op, value)?;
            let mut values = values_of(&resolved, data);
            if through_value {
                values = values
                    .into_iter()
                    .flat_map(|v| flatten(get_key(v, "value")))
                    .collect();
            }
            compare_any(&values, *op, &operand)
        }
        Filter::Present { path, .. } => {
            let resolved = resolve(path, scope)?;
            values_of(&resolved, data).into_iter().any(is_present)
        }
        Filter::And(left, right) => matches(left, scope, data)? && matches(right, scope, data)?,
        Filter::Or(left, right) => matches(left, scope, data)? || matches(right, scope, data)?,
        Filter::Not(inner) => !matches(inner, scope, data)?,
        Filter::ValuePath { path, filter, .. } => {
            let parent = value_path_attribute(path, scope)?;
            let resolved = resolve(path, scope)?;
            let element_scope = Scope::Element { parent };
            for element in values_of(&resolved, data) {
                if matches(filter, &element_scope, element)? {
                    return Ok(true);
                }
            }
            false
        }
    })
}

/// The non-null values a resolved path designates in `data`, arrays flattened.
fn values_of<'v>(resolved: &Resolved<'_>, data: &'v Value) -> Vec<&'v Value> {
    let top = match resolved.location {
        Location::Key => get_key(data, &resolved.attr.name),
        Location::Extension(urn) => {
            get_key(data, urn).and_then(|ext| get_key(ext, &resolved.attr.name))
        }
    };
    let values = flatten(top);
    match resolved.sub {
        None => values,
        Some(sub) => values
            .into_iter()
            .flat_map(|v| flatten(get_key(v, &sub.name)))
            .collect(),
    }
}

/// A value as a list: the elements of an array, or the value itself; `null`s dropped.
fn flatten(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).collect(),
        Some(other) => vec![other],
    }
}

/// `data[name]`, matching the key exactly first, then case-insensitively.
fn get_key<'v>(data: &'v Value, name: &str) -> Option<&'v Value> {
    let object: &Map<String, Value> = data.as_object()?;
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// RFC 7644 §3.4.2.2 `pr`: "has a non-empty value".
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare_any(values: &[&Value], op: CompareOp, operand: &Operand) -> bool {
    if let Operand::Null = operand {
        let present = values.iter().any(|v| is_present(v));
        return match op {
            CompareOp::Ne => present,
            _ => !present,
        };
    }
    match op {
        // `ne` is `not (eq)` over all values, so it holds for a missing attribute.
        CompareOp::Ne => !values
            .iter()
            .any(|v| compare_one(v, CompareOp::Eq, operand)),
        _ => values.iter().any(|v| compare_one(v, op, operand)),
    }
}

fn compare_one(value: &Value, op: CompareOp, operand: &Operand) -> bool {
    match operand {
        Operand::Null => false,
        Operand::Text { text, case_exact } => {
            let owned;
            let actual: &str = match value {
                Value::String(s) => s,
                Value::Number(n) => {
                    owned = n.to_string();
                    &owned
                }
                Value::Bool(b) => {
                    if *b {
                        "true"
                    } else {
                        "false"
                    }
                }
                _ => return false,
            };
            let folded;
            let actual = if *case_exact {
                actual
            } else {
                folded = actual.to_lowercase();
                &folded
            };
            match op {
                CompareOp::Eq => actual == text,
                CompareOp::Ne => actual != text,
                CompareOp::Co => actual.contains(text.as_str()),
                CompareOp::Sw => actual.starts_with(text.as_str()),
                CompareOp::Ew => actual.ends_with(text.as_str()),
                _ => ordered(op, actual.cmp(text.as_str())),
            }
        }
        Operand::Bool(expected) => {
            let actual = match value {
                Value::Bool(b) => Some(*b),
                Value::String(s) => lenient_bool(s),
                _ => None,
            };
            match (op, actual) {
                (CompareOp::Eq, Some(a)) => a == *expected,
                (CompareOp::Ne, Some(a)) => a != *expected,
                _ => false,
            }
        }
        Operand::Number(expected) => {
            let actual = match value {
                Value::Number(n) => Some(n.clone()),
                Value::String(s) => parse_json_number(s.trim()),
                _ => None,
            };
            actual
                .and_then(|a| compare_numbers(&a, expected))
                .is_some_and(|ordering| ordered(op, ordering))
        }
        Operand::Instant(expected) => value
            .as_str()
            .and_then(parse_instant)
            .is_some_and(|actual| ordered(op, actual.cmp(expected))),
    }
}

/// Whether `ordering` (actual compared with expected) satisfies `op`.
fn ordered(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Integers compare exactly; anything else as `f64`.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    fn exact(n: &Number) -> Option<i128> {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    }
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}
