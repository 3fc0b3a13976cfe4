//! Input normalisation for POST and PUT (RFC 7643 §2, §7; RFC 7644 §3.3, §3.5.1).
//!
//! The body a client sends becomes a canonical [`Document`] (see the module docs of
//! [`crate::resource`]). What is accepted beyond the RFC, and why:
//!
//! - Attribute names are matched case-insensitively (RFC 7643 §2.1) and stored with
//!   the schema's spelling; extension URNs likewise.
//! - Extension attributes are accepted when their URN is missing from `schemas`
//!   (Entra, R16). Unknown `schemas` URIs, a missing `schemas` and unknown attributes
//!   are ignored (RFC 7644 §3.3 lets a service provider ignore what it does not support).
//! - Top-level keys that are attribute paths (`name.givenName`,
//!   `urn:...:enterprise:2.0:User:employeeNumber`) are routed into place (R7), never
//!   stored as literal keys.
//! - Read-only input (`id`, `meta`, `groups`, any `readOnly` attribute or
//!   sub-attribute) is ignored (RFC 7643 §7 "readOnly": values are ignored).
//!   `writeOnly` attributes (`password`) are dropped: scimd never stores a password.
//! - `null`, `""` and `[]` mean "unassigned" (RFC 7643 §2.5) and are dropped.
//! - Booleans may be the strings `"true"`/`"false"` in any case (R6), including
//!   sub-attributes such as `roles[].primary`.
//! - A single value where an array is expected becomes a one-element array; a
//!   one-element array where a single complex value is expected is unwrapped (the
//!   legacy `manager: [{"value": id}]`, R10); a string where a complex value with a
//!   `value` sub-attribute is expected becomes `{"value": s}` (`manager: "id"`).
//! - In a multi-valued complex attribute at most one element may be `primary`
//!   (RFC 7643 §2.4). When several are, the first keeps `primary: true` and the
//!   others get `false`, rather than failing a whole provisioning cycle.

use super::{parse_members, Document, MemberRef};
use crate::error::{ScimError, ScimResult};
use crate::path::{split_urn, AttrPath};
use crate::schema::{
    AttrLocation, Attribute, AttributeType, Mutability, ResourceKind, SchemaRegistry,
};
use base64::Engine;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Whether the body creates a resource or replaces an existing one.
#[derive(Debug, Clone, Copy)]
pub enum WriteMode<'a> {
    /// POST: a new resource.
    Create,
    /// PUT: replaces `existing`. Immutable attributes must not change; read-only ones
    /// are ignored.
    Replace {
        /// The stored document being replaced.
        existing: &'a Document,
    },
}

/// The result of normalising a POST or PUT body.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizedResource {
    /// The canonical document to store.
    pub document: Document,
    /// For groups: the `members` the body carried (`Some(vec![])` for `"members": []`),
    /// `None` when the body had no `members` attribute.
    pub members: Option<Vec<MemberRef>>,
}

/// Normalises a request body for `kind` into a canonical document.
///
/// Errors: a body that is not a JSON object is 400 `invalidSyntax`; a value of the
/// wrong type, or a missing required attribute, is 400 `invalidValue` naming the
/// attribute; on replace, changing an immutable attribute is 400 `mutability`.
///
/// ```
/// use scimd_protocol::resource::{normalize_for_write, WriteMode};
/// use scimd_protocol::{ResourceKind, SchemaRegistry};
/// use serde_json::json;
/// let registry = SchemaRegistry::with_core();
/// let body = json!({"USERNAME": "bjensen", "active": "True", "password": "x",
///                   "name.givenName": "Barbara"});
/// let out = normalize_for_write(&body, &registry, ResourceKind::User, WriteMode::Create).unwrap();
/// assert_eq!(serde_json::Value::Object(out.document),
///            json!({"userName": "bjensen", "active": true, "name": {"givenName": "Barbara"}}));
/// ```
pub fn normalize_for_write(
    body: &Value,
    registry: &SchemaRegistry,
    kind: ResourceKind,
    mode: WriteMode<'_>,
) -> ScimResult<NormalizedResource> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
    let mut normalizer = Normalizer {
        registry,
        kind,
        document: Map::new(),
        members: None,
    };
    for (key, value) in object {
        normalizer.top_level(key, value)?;
    }
    let Normalizer {
        mut document,
        members,
        ..
    } = normalizer;
    if let WriteMode::Replace { existing } = mode {
        check_immutable(&mut document, existing, registry, kind)?;
    }
    check_required(&document, registry, kind)?;
    Ok(NormalizedResource { document, members })
}

struct Normalizer<'r> {
    registry: &'r SchemaRegistry,
    kind: ResourceKind,
    document: Document,
    members: Option<Vec<MemberRef>>,
}

impl Normalizer<'_> {
    fn top_level(&mut self, key: &str, value: &Value) -> ScimResult<()> {
        if key.eq_ignore_ascii_case("schemas") {
            // Which schemas a resource carries is derived from its attributes on
            // output; the client's list is not needed (and may hold foreign URIs).
            return Ok(());
        }
        if self.kind == ResourceKind::Group && key.eq_ignore_ascii_case("members") {
            self.members = Some(parse_members(value)?);
            return Ok(());
        }
        // A whole extension object: `"urn:...:enterprise:2.0:User": {...}`.
        if let Some(ext) = self.registry.extension(self.kind, key) {
            let urn = ext.id.clone();
            return self.extension_object(&urn, value);
        }
        // Some clients nest core attributes under the core URN; treat them as top level.
        if key.eq_ignore_ascii_case(self.kind.core_schema()) {
            if let Some(inner) = value.as_object() {
                for (k, v) in inner {
                    self.top_level(k, v)?;
                }
            }
            return Ok(());
        }
        let Ok(path) = AttrPath::parse(key) else {
            return Ok(()); // not an attribute name at all: unknown, ignored
        };
        self.place(&path, value)
    }

    fn extension_object(&mut self, urn: &str, value: &Value) -> ScimResult<()> {
        let inner = match value {
            Value::Null => return Ok(()),
            Value::Object(o) => o,
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "'{urn}' must be a JSON object of extension attributes"
                )))
            }
        };
        for (key, v) in inner {
            let (_, rest) = split_urn(key);
            let Ok(mut path) = AttrPath::parse(rest) else {
                continue;
            };
            path.urn = Some(urn.to_owned());
            self.place(&path, v)?;
        }
        Ok(())
    }

    /// Puts one (possibly dotted) attribute value into the document.
    fn place(&mut self, path: &AttrPath, value: &Value) -> ScimResult<()> {
        let Some(resolved) = self.registry.resolve(self.kind, path) else {
            return Ok(()); // unknown attribute: ignored (RFC 7644 §3.3)
        };
        let attr = resolved.attr;
        let target: &mut Document = match resolved.location {
            AttrLocation::Common => {
                if !attr.name.eq_ignore_ascii_case("externalId") || path.sub_attr.is_some() {
                    return Ok(()); // `id` and `meta` are the server's
                }
                &mut self.document
            }
            AttrLocation::Core => &mut self.document,
            AttrLocation::Extension(urn) => {
                let slot = self
                    .document
                    .entry(urn.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                match slot.as_object_mut() {
                    Some(o) => o,
                    None => return Ok(()),
                }
            }
        };
        match resolved.sub {
            None => {
                let label = attr.name.clone();
                match normalize_attribute(attr, value, &label)? {
                    Some(v) => merge_into(target, &attr.name, v),
                    None => {
                        target.remove(&attr.name);
                    }
                }
            }
            Some(sub) => {
                // `name.givenName` as a key: only meaningful for single-valued complex
                // attributes; `emails.value` as a key names no single element and is ignored.
                if attr.multi_valued || is_ignored_on_input(attr) {
                    return Ok(());
                }
                let label = format!("{}.{}", attr.name, sub.name);
                let normalized = if is_ignored_on_input(sub) {
                    None
                } else {
                    normalize_attribute(sub, value, &label)?
                };
                let parent = target
                    .entry(attr.name.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !parent.is_object() {
                    *parent = Value::Object(Map::new());
                }
                if let Some(obj) = parent.as_object_mut() {
                    match normalized {
                        Some(v) => {
                            obj.insert(sub.name.clone(), v);
                        }
                        None => {
                            obj.remove(&sub.name);
                        }
                    }
                }
                if parent.as_object().is_some_and(Map::is_empty) {
                    target.remove(&attr.name);
                }
            }
        }
        prune_empty_extensions(&mut self.document);
        Ok(())
    }
}

/// Inserts `value` under `name`; two single-valued complex values (from `name` and
/// `name.givenName` keys in one body) are merged, the later key winning.
fn merge_into(target: &mut Document, name: &str, value: Value) {
    if let (Some(Value::Object(existing)), Value::Object(new)) = (target.get_mut(name), &value) {
        for (k, v) in new {
            existing.insert(k.clone(), v.clone());
        }
        return;
    }
    target.insert(name.to_owned(), value);
}

fn prune_empty_extensions(document: &mut Document) {
    document.retain(|key, v| !(key.contains(':') && v.as_object().is_some_and(Map::is_empty)));
}

/// Attributes a client cannot write: `readOnly` ones are ignored (RFC 7643 §7) and
/// `writeOnly` ones (`password`) are never stored by scimd.
fn is_ignored_on_input(attr: &Attribute) -> bool {
    matches!(
        attr.mutability,
        Mutability::ReadOnly | Mutability::WriteOnly
    )
}

/// Normalises the value of one attribute (top-level or sub-attribute).
/// `Ok(None)` means unassigned: the attribute is left out of the document.
pub(crate) fn normalize_attribute(
    attr: &Attribute,
    value: &Value,
    label: &str,
) -> ScimResult<Option<Value>> {
    if is_ignored_on_input(attr) || value.is_null() {
        return Ok(None);
    }
    if attr.multi_valued {
        return normalize_multi_valued(attr, value, label);
    }
    let single = match value {
        // The legacy `manager: [{"value": id}]` shape (R10): one element unwrapped.
        Value::Array(items) if attr.kind == AttributeType::Complex => match items.as_slice() {
            [] => return Ok(None),
            [only] => only,
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "'{label}' is single-valued but an array of {} values was given",
                    items.len()
                )))
            }
        },
        Value::Array(items) if items.is_empty() => return Ok(None),
        other => other,
    };
    normalize_single(attr, single, label)
}

fn normalize_multi_valued(
    attr: &Attribute,
    value: &Value,
    label: &str,
) -> ScimResult<Option<Value>> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        // A single value where an array is expected is one element.
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if item.is_null() {
            continue;
        }
        if let Some(v) = normalize_single(attr, item, label)? {
            out.push(v);
        }
    }
    if attr.kind == AttributeType::Complex {
        enforce_single_primary(&mut out);
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once."
/// The first primary element wins; later ones are demoted.
fn enforce_single_primary(elements: &mut [Value]) {
    let mut seen_primary = false;
    for element in elements {
        if let Some(primary) = element.get_mut("primary") {
            if *primary == Value::Bool(true) {
                if seen_primary {
                    *primary = Value::Bool(false);
                }
                seen_primary = true;
            }
        }
    }
}

fn wrong_type(label: &str, expected: &str, got: &Value) -> ScimError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ScimError::invalid_value(format!("'{label}' must be {expected}, got {got}"))
}

/// Normalises one value of an attribute (one element, for multi-valued attributes).
///
/// This is the one place a client's scalar becomes its stored form: PATCH
/// (`patch::coerce`) uses it too, so PUT and PATCH store the same value the same way.
pub(crate) fn normalize_single(
    attr: &Attribute,
    value: &Value,
    label: &str,
) -> ScimResult<Option<Value>> {
    match attr.kind {
        AttributeType::String | AttributeType::Reference => match value {
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(_) => Ok(Some(value.clone())),
            other => Err(wrong_type(label, "a string", other)),
        },
        AttributeType::Boolean => parse_boolean(value)
            .map(|b| Some(Value::Bool(b)))
            .ok_or_else(|| wrong_type(label, "a boolean", value)),
        // Numbers may arrive as strings, like booleans (R6): hand-written clients quote
        // everything. They are stored as JSON numbers.
        AttributeType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(value.clone())),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(|i| Some(Value::Number(i.into())))
                .map_err(|_| wrong_type(label, "an integer", value)),
            other => Err(wrong_type(label, "an integer", other)),
        },
        AttributeType::Decimal => match value {
            Value::Number(_) => Ok(Some(value.clone())),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(|n| Some(Value::Number(n)))
                .ok_or_else(|| wrong_type(label, "a decimal number", value)),
            other => Err(wrong_type(label, "a decimal number", other)),
        },
        AttributeType::DateTime => match value {
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) => normalize_date_time(s)
                .map(|d| Some(Value::String(d)))
                .ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "'{label}' must be an RFC 3339 dateTime, got '{s}'"
                    ))
                }),
            other => Err(wrong_type(label, "a dateTime string", other)),
        },
        AttributeType::Binary => match value {
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) if is_base64(s) => Ok(Some(value.clone())),
            Value::String(_) => Err(ScimError::invalid_value(format!(
                "'{label}' must be base64-encoded binary (RFC 7643 §2.3.6)"
            ))),
            other => Err(wrong_type(label, "a base64 string", other)),
        },
        AttributeType::Complex => normalize_complex(attr, value, label),
    }
}

fn normalize_complex(attr: &Attribute, value: &Value, label: &str) -> ScimResult<Option<Value>> {
    let object = match value {
        Value::Object(o) => o,
        // `manager: "id"` (R10) and similar: a bare value for a complex attribute
        // with a `value` sub-attribute is that sub-attribute.
        Value::String(s) if attr.sub_attribute("value").is_some() && !attr.multi_valued => {
            if s.is_empty() {
                return Ok(None);
            }
            let mut o = Map::new();
            o.insert("value".into(), value.clone());
            return Ok(Some(Value::Object(o)));
        }
        other => return Err(wrong_type(label, "a complex object", other)),
    };
    let mut out = Map::new();
    for (key, v) in object {
        let Some(sub) = attr.sub_attribute(key) else {
            continue; // unknown sub-attribute: ignored
        };
        let sub_label = format!("{label}.{}", sub.name);
        if let Some(n) = normalize_attribute(sub, v, &sub_label)? {
            out.insert(sub.name.clone(), n);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// JSON booleans, and the strings `true`/`false` in any case (R6).
pub(crate) fn parse_boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Parses an `xsd:dateTime` (RFC 7643 §2.3.5) and returns it as RFC 3339 in UTC.
/// A value without a zone offset (allowed by xsd:dateTime) is taken as UTC.
pub(crate) fn normalize_date_time(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let parsed = OffsetDateTime::parse(trimmed, &Rfc3339)
        .ok()
        .or_else(|| {
            PrimitiveDateTime::parse(&format!("{trimmed}Z"), &Rfc3339)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        })
        .or_else(|| OffsetDateTime::parse(&format!("{trimmed}Z"), &Rfc3339).ok())?;
    parsed.to_offset(UtcOffset::UTC).format(&Rfc3339).ok()
}

fn is_base64(s: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .any(|engine| engine.decode(&compact).is_ok())
}

/// The top-level attributes of `kind` (core and extensions) with where they live.
fn all_attributes(
    registry: &SchemaRegistry,
    kind: ResourceKind,
) -> impl Iterator<Item = (Option<&str>, &Attribute)> {
    registry
        .core_schema(kind)
        .attributes
        .iter()
        .map(|a| (None, a))
        .chain(
            registry
                .extensions(kind)
                .flat_map(|s| s.attributes.iter().map(move |a| (Some(s.id.as_str()), a))),
        )
}

fn lookup<'d>(document: &'d Document, urn: Option<&str>, name: &str) -> Option<&'d Value> {
    match urn {
        None => document.get(name),
        Some(u) => document.get(u)?.get(name),
    }
}

/// RFC 7643 §7 "required": the core `required` attributes must be present, and so
/// must an extension's when the resource carries that extension or the resource
/// type requires it.
fn check_required(
    document: &Document,
    registry: &SchemaRegistry,
    kind: ResourceKind,
) -> ScimResult<()> {
    let rt = registry.resource_type(kind);
    for (urn, attr) in all_attributes(registry, kind) {
        if !attr.required || is_ignored_on_input(attr) {
            continue;
        }
        let applies = match urn {
            None => true,
            Some(u) => {
                document.contains_key(u)
                    || rt
                        .schema_extensions
                        .iter()
                        .any(|e| e.required && e.schema.eq_ignore_ascii_case(u))
            }
        };
        if applies && lookup(document, urn, &attr.name).is_none() {
            return Err(ScimError::invalid_value(format!(
                "'{}' is required (RFC 7643 §7)",
                attr.name
            )));
        }
    }
    Ok(())
}

/// RFC 7644 §3.5.1: an immutable attribute that is set may not change on replace.
/// An immutable attribute the body leaves out keeps its stored value (omitting it
/// asserts nothing, RFC 7644 §3.5.1), so a GET-then-PUT client never trips on it.
fn check_immutable(
    document: &mut Document,
    existing: &Document,
    registry: &SchemaRegistry,
    kind: ResourceKind,
) -> ScimResult<()> {
    let immutable: Vec<(Option<String>, String)> = all_attributes(registry, kind)
        .filter(|(_, a)| a.mutability == Mutability::Immutable)
        .map(|(u, a)| (u.map(str::to_owned), a.name.clone()))
        .collect();
    for (urn, name) in immutable {
        let Some(old) = lookup(existing, urn.as_deref(), &name) else {
            continue;
        };
        match lookup(document, urn.as_deref(), &name) {
            Some(new) if new != old => {
                return Err(ScimError::mutability(format!(
                    "'{name}' is immutable and cannot be changed (RFC 7643 §7)"
                )))
            }
            Some(_) => {}
            None => {
                let target = match &urn {
                    None => Some(&mut *document),
                    Some(u) => document
                        .entry(u.clone())
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut(),
                };
                if let Some(t) = target {
                    t.insert(name, old.clone());
                }
            }
        }
    }
    Ok(())
}
