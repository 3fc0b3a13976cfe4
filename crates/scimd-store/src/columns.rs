//! The columns a store derives from a resource document: the indexed, normalised copies
//! of the attributes filters and uniqueness rules look at.
//!
//! The document stays the source of truth; these are rewritten from it on every write.

use crate::fold::fold_case;
use scimd_protocol::resource::Document;
use scimd_protocol::{ResourceKind, ScimError};
use serde_json::Value;

/// A string attribute and its folded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Folded {
    pub(crate) raw: String,
    pub(crate) norm: String,
}

impl Folded {
    fn of(raw: &str) -> Self {
        Folded {
            raw: raw.to_owned(),
            norm: fold_case(raw),
        }
    }
}

/// One element of a multi-valued complex attribute, for the `user_values` index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueRow {
    /// The attribute's canonical name, e.g. `emails`.
    pub(crate) attr: String,
    pub(crate) type_norm: Option<String>,
    pub(crate) value_norm: Option<String>,
    pub(crate) primary: bool,
}

/// The derived columns of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceColumns {
    /// `userName` for users, `displayName` for groups: required and unique.
    pub(crate) name: Folded,
    pub(crate) external_id: Option<Folded>,
    /// Users only: `displayName` (optional, not unique).
    pub(crate) display_name: Option<Folded>,
    /// Users only.
    pub(crate) active: Option<bool>,
    /// Users only.
    pub(crate) values: Vec<ValueRow>,
}

fn string_attr<'a>(doc: &'a Document, name: &str) -> Option<&'a str> {
    doc.get(name).and_then(Value::as_str)
}

/// Derives the columns, checking the attributes the store depends on.
///
/// `userName` (RFC 7643 §4.1.1) and group `displayName` (§4.2) are required; a
/// document without them is `invalidValue`, never a database error.
pub(crate) fn derive(kind: ResourceKind, doc: &Document) -> Result<ResourceColumns, ScimError> {
    let name_attr = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    let name = match string_attr(doc, name_attr) {
        Some(v) if !v.trim().is_empty() => Folded::of(v),
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{} requires a non-empty '{name_attr}'",
                kind.name()
            )))
        }
    };
    let external_id = string_attr(doc, "externalId").map(Folded::of);
    let (display_name, active, values) = match kind {
        ResourceKind::User => (
            string_attr(doc, "displayName").map(Folded::of),
            doc.get("active").and_then(Value::as_bool),
            value_rows(doc),
        ),
        ResourceKind::Group => (None, None, Vec::new()),
    };
    Ok(ResourceColumns {
        name,
        external_id,
        display_name,
        active,
        values,
    })
}

/// One row per element of every top-level multi-valued complex attribute (an array of
/// objects): `emails`, `phoneNumbers`, `addresses`, `roles`, ... Extension attributes
/// live under their URN key and are not indexed here; filters on them use the JSON.
fn value_rows(doc: &Document) -> Vec<ValueRow> {
    let mut rows = Vec::new();
    for (attr, value) in doc {
        let Some(elements) = value.as_array() else {
            continue;
        };
        for element in elements {
            let Some(obj) = element.as_object() else {
                continue;
            };
            let text = |key: &str| obj.get(key).and_then(Value::as_str).map(fold_case);
            rows.push(ValueRow {
                attr: attr.clone(),
                type_norm: text("type"),
                value_norm: text("value"),
                primary: obj.get("primary").and_then(Value::as_bool).unwrap_or(false),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Document {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn user_columns_are_folded() {
        let d = doc(
            json!({"userName": "Bob@X.com", "externalId": "E1", "active": true,
            "emails": [{"type": "Work", "value": "B@X.com", "primary": true}, {"value": "b2@x.com"}],
            "name": {"givenName": "Bob"}}),
        );
        let c = derive(ResourceKind::User, &d).unwrap();
        assert_eq!(c.name.norm, "bob@x.com");
        assert_eq!(c.name.raw, "Bob@X.com");
        assert_eq!(c.external_id.unwrap().norm, "e1");
        assert_eq!(c.active, Some(true));
        assert_eq!(c.values.len(), 2);
        assert_eq!(c.values[0].type_norm.as_deref(), Some("work"));
        assert_eq!(c.values[0].value_norm.as_deref(), Some("b@x.com"));
        assert!(c.values[0].primary);
        assert_eq!(c.values[1].type_norm, None);
    }

    #[test]
    fn missing_name_is_invalid_value() {
        let err = derive(ResourceKind::Group, &doc(json!({"externalId": "x"}))).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.scim_type, Some(scimd_protocol::ScimType::InvalidValue));
        assert!(derive(ResourceKind::User, &doc(json!({"userName": "  "}))).is_err());
    }
}
