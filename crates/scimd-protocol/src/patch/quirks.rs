//! Identity-provider value shapes that need more than type coercion
//! (idp-clients.md R10 `manager`, and Entra's JSON-encoded app roles).

use super::coerce::coerce_complex;
use crate::error::{ScimError, ScimResult};
use crate::schema::{Attribute, ENTERPRISE_USER_SCHEMA};
use serde_json::{Map, Value};

/// Whether `attr` at `extension_urn` is the Enterprise User `manager` (RFC 7643 §4.3).
pub(crate) fn is_enterprise_manager(extension_urn: Option<&str>, attr: &Attribute) -> bool {
    extension_urn.is_some_and(|u| u.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA))
        && attr.name.eq_ignore_ascii_case("manager")
}

/// The stored form of a `manager` value, whatever shape it arrived in (R10):
///
/// | sent | stored |
/// |---|---|
/// | `"<id>"` | `{"value": "<id>"}` |
/// | `{"value": "<id>"}` | `{"value": "<id>"}` |
/// | `[{"value": "<id>"}]` (legacy) | `{"value": "<id>"}` |
/// | `""`, `{"value": ""}`, `null`, `[]` | cleared (`None`) |
///
/// The read-only `displayName` is dropped; the server renders it.
pub fn manager_value(manager: &Attribute, value: &Value) -> ScimResult<Option<Map<String, Value>>> {
    match value {
        Value::String(id) if id.is_empty() => Ok(None),
        Value::String(id) => {
            let mut object = Map::new();
            object.insert("value".into(), Value::String(id.clone()));
            Ok(Some(object))
        }
        Value::Array(items) => match items.as_slice() {
            [] => Ok(None),
            [single] => manager_value(manager, single),
            _ => Err(ScimError::invalid_value(
                "'manager' is single-valued: send one manager, not a list",
            )),
        },
        Value::Null | Value::Object(_) => {
            let object = coerce_complex(manager, value)?;
            // A manager without an id is no manager: `{"value": ""}` clears it.
            Ok(object.filter(|o| o.contains_key("value")))
        }
        _ => Err(ScimError::invalid_value(
            "'manager' must be the manager's id or {\"value\": id}",
        )),
    }
}

/// Decodes Entra's JSON-encoded app roles.
///
/// When an admin maps app roles, Entra's PATCH may carry each role's `value` as a
/// JSON-encoded string: `{"value": "{\"id\":\"06b0..\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}`
/// (sometimes the whole element is such a string). The decoded object maps onto the
/// RFC 7643 §4.1.2 role as:
///
/// | encoded | role sub-attribute |
/// |---|---|
/// | `value` | `value` (numbers become strings) |
/// | `displayName` | `display`, unless the element already has one |
/// | `id` | dropped: Entra's internal app role id, not the role |
///
/// Other element members (`type`, `primary`) are kept. Values that are not JSON
/// objects are left as they are.
pub fn decode_roles(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(decode_role).collect()),
        single => decode_role(single),
    }
}

fn decode_role(element: &Value) -> Value {
    match element {
        Value::String(text) => match parse_object(text) {
            Some(inner) => Value::Object(role_from_encoded(&inner, Map::new())),
            None => element.clone(),
        },
        Value::Object(outer) => {
            let encoded = outer
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_str())
                .and_then(parse_object);
            match encoded {
                Some(inner) => {
                    let rest: Map<String, Value> = outer
                        .iter()
                        .filter(|(k, _)| !k.eq_ignore_ascii_case("value"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    Value::Object(role_from_encoded(&inner, rest))
                }
                None => element.clone(),
            }
        }
        _ => element.clone(),
    }
}

fn parse_object(text: &str) -> Option<Map<String, Value>> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => Some(o),
        _ => None,
    }
}

fn role_from_encoded(
    inner: &Map<String, Value>,
    mut role: Map<String, Value>,
) -> Map<String, Value> {
    let field = |name: &str| {
        inner
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    match field("value") {
        Some(Value::String(s)) => {
            role.insert("value".into(), Value::String(s.clone()));
        }
        Some(Value::Number(n)) => {
            role.insert("value".into(), Value::String(n.to_string()));
        }
        _ => {}
    }
    let has_display = role.keys().any(|k| k.eq_ignore_ascii_case("display"));
    if let (false, Some(Value::String(name))) = (has_display, field("displayName")) {
        role.insert("display".into(), Value::String(name.clone()));
    }
    role
}

/// Whether an add/replace value clears its target: Microsoft's validator sends
/// `null` and `""` to unassign an attribute.
pub(crate) fn clears(value: &Value) -> bool {
    matches!(value, Value::Null) || matches!(value, Value::String(s) if s.is_empty())
}
