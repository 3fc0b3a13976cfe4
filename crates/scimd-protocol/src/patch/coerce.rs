//! Value coercion for PATCH: from what clients send to the canonical stored form.
//!
//! RFC 7643 §2.3 fixes each attribute's JSON type. Identity providers bend it:
//! Entra sends booleans as `"True"` / `"False"` (idp-clients.md R6), some clients
//! send numbers as strings. These helpers accept those where the intent is
//! unambiguous and reject anything else with 400 `invalidValue` (RFC 7644 §3.12).
//!
//! "Empty" values (`null`, `""`, `[]`, `{}`) coerce to `None`: in a PATCH they mean
//! "clear this" (Microsoft's validator sends both nulls and empty strings), and the
//! canonical document never stores them (resource/mod.rs).
//!
//! These functions are public so that the resource module's POST/PUT normalisation
//! can share them.

use crate::error::{ScimError, ScimResult};
use crate::schema::{Attribute, AttributeType, Mutability};
use serde_json::{Map, Value};

/// Whether a value is "empty" in the sense of RFC 7643 §2.5 (unassigned): `null`,
/// an empty string, an empty array or an empty object.
pub fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A boolean from a JSON boolean or a string `true` / `false` in any case (R6).
pub fn lenient_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn mismatch(attr: &Attribute, expected: &str, value: &Value) -> ScimError {
    let got = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ScimError::invalid_value(format!(
        "'{}' must be {expected}, not {got} (RFC 7643 §2.3)",
        attr.name
    ))
}

/// Coerces one value of a non-complex attribute to its canonical JSON form
/// (RFC 7643 §2.3.1-7). `None` means the value is empty.
pub fn coerce_scalar(attr: &Attribute, value: &Value) -> ScimResult<Option<Value>> {
    if is_empty_value(value) {
        return Ok(None);
    }
    match attr.kind {
        AttributeType::Complex => coerce_complex(attr, value).map(|o| o.map(Value::Object)),
        // One normaliser for POST, PUT and PATCH, so they store a value identically.
        _ => crate::resource::normalize::normalize_single(attr, value, &attr.name),
    }
}

/// The sub-attribute changes a complex value asks for, in canonical spelling:
/// `Some(v)` sets the sub-attribute, `None` clears it (the client sent an empty
/// value). Unknown sub-attributes are ignored (RFC 7644 §3.3 lets a service provider
/// ignore attributes it does not support); read-only ones are ignored as well, since
/// clients echo them back (`manager.displayName`, `members.display`, R16).
pub fn complex_fields(attr: &Attribute, value: &Value) -> ScimResult<Vec<(String, Option<Value>)>> {
    let object = match value {
        Value::Object(o) => o,
        _ => return Err(mismatch(attr, "an object", value)),
    };
    let mut fields = Vec::with_capacity(object.len());
    for (key, raw) in object {
        let Some(sub) = attr.sub_attribute(key) else {
            continue;
        };
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        let coerced = coerce_scalar(sub, raw)?;
        fields.push((sub.name.clone(), coerced));
    }
    Ok(fields)
}

/// Coerces a complex value to a canonical object: canonical sub-attribute names,
/// no empty sub-attributes, unknown and read-only ones dropped. `None` when nothing
/// is left.
pub fn coerce_complex(attr: &Attribute, value: &Value) -> ScimResult<Option<Map<String, Value>>> {
    if is_empty_value(value) {
        return Ok(None);
    }
    let mut object = Map::new();
    for (name, coerced) in complex_fields(attr, value)? {
        if let Some(v) = coerced {
            object.insert(name, v);
        }
    }
    Ok((!object.is_empty()).then_some(object))
}

/// Coerces the value of a multi-valued attribute: an array, or (leniently) a single
/// value standing for a one-element array. Empty elements are dropped.
pub fn coerce_multi(attr: &Attribute, value: &Value) -> ScimResult<Vec<Value>> {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        Value::Null => &[],
        single => std::slice::from_ref(single),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = coerce_scalar(attr, item)? {
            out.push(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SchemaRegistry;
    use crate::ResourceKind;
    use serde_json::json;

    fn attr(name: &str) -> Attribute {
        let registry = SchemaRegistry::with_core();
        let path = crate::path::AttrPath::parse(name).unwrap();
        registry
            .resolve(ResourceKind::User, &path)
            .unwrap()
            .target()
            .clone()
    }

    #[test]
    fn string_booleans_become_booleans() {
        let active = attr("active");
        for (input, expected) in [("True", true), ("false", false), ("TRUE", true)] {
            assert_eq!(
                coerce_scalar(&active, &json!(input)).unwrap(),
                Some(json!(expected))
            );
        }
        assert_eq!(
            coerce_scalar(&active, &json!("yes")).unwrap_err().scim_type,
            Some(crate::ScimType::InvalidValue)
        );
    }

    #[test]
    fn empty_values_clear() {
        assert_eq!(coerce_scalar(&attr("title"), &json!("")).unwrap(), None);
        assert_eq!(coerce_scalar(&attr("title"), &Value::Null).unwrap(), None);
        assert!(coerce_multi(&attr("emails"), &json!([]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn complex_values_take_canonical_names_and_drop_unknowns() {
        let emails = attr("emails");
        let v = coerce_complex(
            &emails,
            &json!({"VALUE": "a@x", "Primary": "True", "bogus": 1, "type": null}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(Value::Object(v), json!({"value": "a@x", "primary": true}));
    }

    #[test]
    fn type_mismatch_is_invalid_value() {
        assert!(coerce_scalar(&attr("title"), &json!(5)).is_err());
        assert!(coerce_scalar(&attr("name"), &json!("x")).is_err());
    }
}
