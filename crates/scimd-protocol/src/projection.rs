//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9).
//!
//! Paths are stored resolved and canonical: names spelled as the schema spells them,
//! `urn` set only for extension attributes (the extension's canonical URN), `None` for
//! core and common attributes.
//!
//! Choices the RFC leaves open:
//! - Unknown attribute names are ignored, not rejected: RFC 7644 §3.4.2.5 does not say,
//!   and a client asking for an attribute this server lacks should still get the rest.
//! - `emails[type eq "work"]` (sent by Microsoft's validator) is read as `emails`, and
//!   `emails[type eq "work"].value` as `emails.value`: the value filter is not applied.
//! - A bare extension URN (`attributes=urn:...:enterprise:2.0:User`) names every
//!   attribute of that extension.
//! - When both parameters are given, `attributes` wins.

use crate::error::ScimResult;
use crate::path::AttrPath;
use crate::schema::{AttrLocation, Attribute, ResourceKind, Returned, SchemaRegistry};
use serde_json::{Map, Value};

/// Which attributes a response carries.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Projection {
    /// Neither parameter: every attribute whose `returned` is `always` or `default`.
    #[default]
    Default,
    /// `attributes=...`: these (plus `returned: always` ones).
    Include(Vec<AttrPath>),
    /// `excludedAttributes=...`: the default set minus these (`always` ones stay).
    Exclude(Vec<AttrPath>),
}

/// Removes a bracketed value filter: `emails[type eq "work"].value` → `emails.value`.
fn strip_value_filter(raw: &str) -> String {
    match (raw.find('['), raw.rfind(']')) {
        (Some(open), Some(close)) if open < close => {
            let head = raw.get(..open).unwrap_or_default();
            let tail = raw.get(close + 1..).unwrap_or_default();
            format!("{head}{tail}")
        }
        _ => raw.to_owned(),
    }
}

/// Resolves one comma-separated element into canonical paths (none when unknown).
fn resolve_paths(raw: &str, registry: &SchemaRegistry, kind: ResourceKind) -> Vec<AttrPath> {
    let text = strip_value_filter(raw.trim());
    if text.is_empty() {
        return vec![];
    }
    if let Some(ext) = registry.extension(kind, &text) {
        return ext
            .attributes
            .iter()
            .map(|a| AttrPath {
                urn: Some(ext.id.clone()),
                name: a.name.clone(),
                sub_attr: None,
            })
            .collect();
    }
    let Ok(path) = AttrPath::parse(&text) else {
        return vec![];
    };
    let Some(resolved) = registry.resolve(kind, &path) else {
        return vec![];
    };
    let urn = match resolved.location {
        AttrLocation::Extension(u) => Some(u.to_owned()),
        AttrLocation::Core | AttrLocation::Common => None,
    };
    vec![AttrPath {
        urn,
        name: resolved.attr.name.clone(),
        sub_attr: resolved.sub.map(|s| s.name.clone()),
    }]
}

fn parse_list(raw: &str, registry: &SchemaRegistry, kind: ResourceKind) -> Vec<AttrPath> {
    split_top_level_commas(raw)
        .into_iter()
        .flat_map(|part| resolve_paths(part, registry, kind))
        .collect()
}

/// Splits on commas that are not inside `[...]` or quotes, so a value filter such as
/// `emails[type eq "a,b"]` stays one element.
fn split_top_level_commas(raw: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in raw.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '[' if !in_quotes => depth += 1,
            ']' if !in_quotes => depth = depth.saturating_sub(1),
            ',' if !in_quotes && depth == 0 => {
                parts.push(raw.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(raw.get(start..).unwrap_or_default());
    parts
}

fn same_location(path: &AttrPath, urn: Option<&str>, name: &str) -> bool {
    let urn_matches = match (&path.urn, urn) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    urn_matches && path.name.eq_ignore_ascii_case(name)
}

impl Projection {
    /// Builds a projection from the raw query parameters (comma-separated attribute
    /// paths). `attributes` wins when both are given (RFC 7644 §3.4.2.5 allows either).
    ///
    /// An `attributes` list in which nothing resolves is treated as absent (default
    /// projection) rather than as "return only `id`".
    pub fn parse(
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
        registry: &SchemaRegistry,
        kind: ResourceKind,
    ) -> ScimResult<Self> {
        if let Some(raw) = attributes.filter(|s| !s.trim().is_empty()) {
            let paths = parse_list(raw, registry, kind);
            if !paths.is_empty() {
                return Ok(Projection::Include(paths));
            }
        }
        if let Some(raw) = excluded_attributes.filter(|s| !s.trim().is_empty()) {
            let paths = parse_list(raw, registry, kind);
            if !paths.is_empty() {
                return Ok(Projection::Exclude(paths));
            }
        }
        Ok(Projection::Default)
    }

    /// Whether the response will contain the top-level attribute `name` of the core
    /// schema (e.g. `members`, `groups`), so the store can skip loading it.
    pub fn includes_attribute(&self, name: &str) -> bool {
        match self {
            Projection::Default => true,
            Projection::Include(paths) => paths.iter().any(|p| same_location(p, None, name)),
            Projection::Exclude(paths) => !paths
                .iter()
                .any(|p| p.sub_attr.is_none() && same_location(p, None, name)),
        }
    }

    /// Applies the projection to a rendered resource in place. `schemas` is always
    /// kept (and trimmed of extensions no longer present); attributes this registry
    /// does not know are kept under the default rules. What stays keeps its order
    /// (`shift_remove`: a plain `remove` would move the last key into the gap).
    pub fn apply(
        &self,
        resource: &mut Map<String, Value>,
        registry: &SchemaRegistry,
        kind: ResourceKind,
    ) {
        let keys: Vec<String> = resource.keys().cloned().collect();
        for key in keys {
            if key == "schemas" {
                continue;
            }
            if let Some(ext) = registry.extension(kind, &key) {
                let urn = ext.id.clone();
                let keep = match resource.get_mut(&key) {
                    Some(Value::Object(inner)) => {
                        self.apply_level(inner, Some(&urn), |n| ext.attribute(n));
                        !inner.is_empty()
                    }
                    _ => false,
                };
                if !keep {
                    resource.shift_remove(&key);
                }
                continue;
            }
            let attr = registry
                .common_attributes()
                .iter()
                .find(|a| a.name == key)
                .or_else(|| registry.core_schema(kind).attribute(&key));
            if let Some(value) = resource.get_mut(&key) {
                if !self.keep_attribute(None, &key, attr, value) {
                    resource.shift_remove(&key);
                }
            }
        }
        let present: Vec<String> = registry
            .extensions(kind)
            .filter(|e| resource.contains_key(&e.id))
            .map(|e| e.id.clone())
            .collect();
        if let Some(Value::Array(schemas)) = resource.get_mut("schemas") {
            schemas.retain(|s| {
                s.as_str().is_some_and(|s| {
                    registry.extension(kind, s).is_none()
                        || present.iter().any(|p| p.eq_ignore_ascii_case(s))
                })
            });
        }
    }

    fn apply_level<'s>(
        &self,
        level: &mut Map<String, Value>,
        urn: Option<&str>,
        find: impl Fn(&str) -> Option<&'s Attribute>,
    ) {
        let keys: Vec<String> = level.keys().cloned().collect();
        for key in keys {
            let attr = find(&key);
            if let Some(value) = level.get_mut(&key) {
                if !self.keep_attribute(urn, &key, attr, value) {
                    level.shift_remove(&key);
                }
            }
        }
    }

    /// Decides whether a top-level attribute stays, trimming its sub-attributes.
    fn keep_attribute(
        &self,
        urn: Option<&str>,
        name: &str,
        attr: Option<&Attribute>,
        value: &mut Value,
    ) -> bool {
        let returned = attr.map_or(Returned::Default, |a| a.returned);
        match returned {
            Returned::Never => return false,
            Returned::Always => return true,
            Returned::Default | Returned::Request => {}
        }
        let named: Vec<&AttrPath> = match self {
            Projection::Default => vec![],
            Projection::Include(p) | Projection::Exclude(p) => {
                p.iter().filter(|p| same_location(p, urn, name)).collect()
            }
        };
        let whole = named.iter().any(|p| p.sub_attr.is_none());
        let subs: Vec<&str> = named.iter().filter_map(|p| p.sub_attr.as_deref()).collect();
        match self {
            Projection::Default => {
                trim_subs(value, attr, |_| false);
                returned == Returned::Default
            }
            Projection::Include(_) => {
                if whole {
                    trim_subs(value, attr, |_| false);
                    true
                } else if !subs.is_empty() {
                    trim_subs(value, attr, |s| {
                        !subs.iter().any(|n| n.eq_ignore_ascii_case(s))
                    });
                    !is_empty_value(value)
                } else {
                    false
                }
            }
            Projection::Exclude(_) => {
                if whole || returned == Returned::Request {
                    return false;
                }
                trim_subs(value, attr, |s| {
                    subs.iter().any(|n| n.eq_ignore_ascii_case(s))
                });
                !is_empty_value(value)
            }
        }
    }
}

/// Removes sub-attributes for which `drop` is true, and those whose `returned` says
/// they must not appear (`never`; `always` ones are never dropped), from a complex
/// value or from each element of a multi-valued complex value.
fn trim_subs(value: &mut Value, attr: Option<&Attribute>, drop: impl Fn(&str) -> bool) {
    let Some(attr) = attr else { return };
    if attr.sub_attributes.is_empty() {
        return;
    }
    let trim_object = |obj: &mut Map<String, Value>| {
        obj.retain(|k, _| match attr.sub_attribute(k).map(|s| s.returned) {
            Some(Returned::Always) => true,
            Some(Returned::Never) => false,
            _ => !drop(k),
        });
    };
    match value {
        Value::Object(obj) => trim_object(obj),
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Value::Object(obj) = item {
                    trim_object(obj);
                }
            }
            items.retain(|i| !is_empty_value(i));
        }
        _ => {}
    }
}

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}
