//! RFC 7644 §3.5.2: the PATCH request body.

use scimd_protocol::patch::{parse_patch, PatchLimits, PatchOp};
use scimd_protocol::ScimType;
use serde_json::{json, Value};

fn parse(body: Value) -> Result<scimd_protocol::patch::PatchRequest, scimd_protocol::ScimError> {
    parse_patch(&body, &PatchLimits::default())
}

fn scim_type(body: Value) -> Option<ScimType> {
    parse(body).unwrap_err().scim_type
}

#[test]
fn op_is_case_insensitive() {
    for (text, op) in [
        ("add", PatchOp::Add),
        ("Add", PatchOp::Add),
        ("REPLACE", PatchOp::Replace),
        ("Remove", PatchOp::Remove),
    ] {
        let body = json!({"Operations": [{"op": text, "path": "title", "value": "x"}]});
        assert_eq!(parse(body).unwrap().operations[0].op, op, "{text}");
    }
}

#[test]
fn unknown_op_is_invalid_syntax() {
    let body = json!({"Operations": [{"op": "move", "path": "title", "value": "x"}]});
    assert_eq!(scim_type(body), Some(ScimType::InvalidSyntax));
    let body = json!({"Operations": [{"path": "title", "value": "x"}]});
    assert_eq!(scim_type(body), Some(ScimType::InvalidSyntax));
}

#[test]
fn operations_key_is_case_insensitive_and_schemas_optional() {
    let body = json!({"operations": [{"op": "add", "path": "title", "value": "x"}]});
    assert_eq!(parse(body).unwrap().operations.len(), 1);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "title", "value": "x"}]
    });
    assert_eq!(parse(body).unwrap().operations.len(), 1);
}

#[test]
fn body_shape_errors_are_invalid_syntax() {
    for body in [
        json!([]),
        json!("x"),
        json!({}),
        json!({"Operations": {}}),
        json!({"Operations": []}),
        json!({"Operations": [5]}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
    ] {
        assert_eq!(
            scim_type(body.clone()),
            Some(ScimType::InvalidSyntax),
            "{body}"
        );
    }
}

#[test]
fn too_many_operations_is_too_many() {
    let ops: Vec<Value> = (0..3)
        .map(|_| json!({"op": "add", "path": "title", "value": "x"}))
        .collect();
    let limits = PatchLimits {
        max_operations: 2,
        ..PatchLimits::default()
    };
    let err = parse_patch(&json!({"Operations": ops}), &limits).unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::TooMany));
    assert_eq!(err.status, 400);
}

#[test]
fn remove_without_path_is_no_target() {
    // RFC 7644 §3.5.2.2.
    let body = json!({"Operations": [{"op": "remove"}]});
    assert_eq!(scim_type(body), Some(ScimType::NoTarget));
    let body = json!({"Operations": [{"op": "remove", "path": ""}]});
    assert_eq!(scim_type(body), Some(ScimType::NoTarget));
}

#[test]
fn add_without_value_is_invalid_value() {
    let body = json!({"Operations": [{"op": "add", "path": "title"}]});
    assert_eq!(scim_type(body), Some(ScimType::InvalidValue));
    let body = json!({"Operations": [{"op": "replace", "value": "not an object"}]});
    assert_eq!(scim_type(body), Some(ScimType::InvalidValue));
}

#[test]
fn explicit_null_value_is_kept_as_a_value() {
    let body = json!({"Operations": [{"op": "replace", "path": "title", "value": null}]});
    assert_eq!(parse(body).unwrap().operations[0].value, Some(Value::Null));
}

#[test]
fn malformed_paths_are_rejected() {
    for path in [
        "1abc",
        "emails[type eq \"work\"",
        "a.b.c",
        "emails[type eq \"work\"]x",
    ] {
        let body = json!({"Operations": [{"op": "add", "path": path, "value": "x"}]});
        let err = parse(body).unwrap_err();
        assert_eq!(err.status, 400, "{path}");
        assert!(
            matches!(
                err.scim_type,
                Some(ScimType::InvalidPath | ScimType::InvalidFilter)
            ),
            "{path}: {err}"
        );
    }
    let body = json!({"Operations": [{"op": "add", "path": 5, "value": "x"}]});
    assert_eq!(scim_type(body), Some(ScimType::InvalidPath));
}

#[test]
fn value_path_is_parsed() {
    let body = json!({"Operations": [
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x"}
    ]});
    let request = parse(body).unwrap();
    let path = request.operations[0].path.as_ref().unwrap();
    assert_eq!(path.text, "emails[type eq \"work\"].value");
    assert_eq!(path.parsed.attr.name, "emails");
    assert!(path.parsed.filter.is_some());
    assert_eq!(path.parsed.sub_attr.as_deref(), Some("value"));
}
