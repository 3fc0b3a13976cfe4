//! `sortBy` / `sortOrder` (RFC 7644 §3.4.2.3).

use scimd_protocol::path::AttrPath;
use scimd_protocol::schema::{Schema, ENTERPRISE_USER_SCHEMA};
use scimd_protocol::sort::{compare_resources, SortOrder, SortSpec};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimType};
use serde_json::{json, Value};

fn spec(by: &str, order: Option<&str>, r: &SchemaRegistry) -> SortSpec {
    SortSpec::parse(Some(by), order, r, ResourceKind::User)
        .unwrap()
        .unwrap()
}

fn sorted_ids(mut items: Vec<Value>, s: &SortSpec, r: &SchemaRegistry) -> Vec<String> {
    items.sort_by(|a, b| compare_resources(a, b, s, r, ResourceKind::User));
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn absent_sort_by_is_none_and_order_defaults_to_ascending() {
    let r = SchemaRegistry::with_core();
    assert_eq!(
        SortSpec::parse(None, Some("descending"), &r, ResourceKind::User).unwrap(),
        None
    );
    assert_eq!(spec("userName", None, &r).order, SortOrder::Ascending);
    assert_eq!(
        spec("userName", Some("DESCENDING"), &r).order,
        SortOrder::Descending
    );
}

#[test]
fn bad_sort_order_and_unknown_attribute_are_invalid_value() {
    let r = SchemaRegistry::with_core();
    for (by, order) in [
        ("userName", Some("up")),
        ("nope", None),
        ("name", None),
        ("a b", None),
        ("name.nope", None),
    ] {
        let err = SortSpec::parse(Some(by), order, &r, ResourceKind::User).unwrap_err();
        assert_eq!(
            (err.status, err.scim_type),
            (400, Some(ScimType::InvalidValue)),
            "{by}"
        );
    }
}

#[test]
fn paths_are_canonical() {
    let r = SchemaRegistry::with_core();
    assert_eq!(
        spec("NAME.familyname", None, &r).path,
        AttrPath::with_sub("name", "familyName")
    );
    assert_eq!(
        spec("emails", None, &r).path,
        AttrPath::with_sub("emails", "value")
    );
    assert_eq!(
        spec("department", None, &r).path,
        AttrPath {
            urn: Some(ENTERPRISE_USER_SCHEMA.into()),
            name: "department".into(),
            sub_attr: None
        }
    );
    assert_eq!(
        spec("meta.lastModified", None, &r).path,
        AttrPath::with_sub("meta", "lastModified")
    );
}

#[test]
fn case_insensitive_strings_and_missing_values_last() {
    let r = SchemaRegistry::with_core();
    let items = vec![
        json!({"id": "1", "userName": "bob"}),
        json!({"id": "2"}),
        json!({"id": "3", "userName": "Alice"}),
        json!({"id": "4", "userName": "carol"}),
    ];
    assert_eq!(
        sorted_ids(items.clone(), &spec("userName", None, &r), &r),
        ["3", "1", "4", "2"]
    );
    assert_eq!(
        sorted_ids(items, &spec("userName", Some("descending"), &r), &r),
        ["2", "4", "1", "3"]
    );
}

#[test]
fn case_exact_attribute_sorts_by_code_point() {
    let r = SchemaRegistry::with_core();
    // `id` is caseExact: "B" < "a".
    let s = spec("id", None, &r);
    let items = vec![json!({"id": "a"}), json!({"id": "B"})];
    assert_eq!(sorted_ids(items, &s, &r), ["B", "a"]);
}

#[test]
fn multi_valued_sorts_by_primary_else_first() {
    let r = SchemaRegistry::with_core();
    let items = vec![
        json!({"id": "1", "emails": [{"value": "a@x"}, {"value": "z@x", "primary": true}]}),
        json!({"id": "2", "emails": [{"value": "m@x"}, {"value": "b@x"}]}),
    ];
    assert_eq!(
        sorted_ids(items, &spec("emails.value", None, &r), &r),
        ["2", "1"]
    );
}

#[test]
fn date_times_compare_as_instants_and_ties_by_id() {
    let r = SchemaRegistry::with_core();
    let items = vec![
        json!({"id": "b", "meta": {"created": "2020-01-01T10:00:00Z"}}),
        json!({"id": "c", "meta": {"created": "2020-01-01T11:30:00+02:00"}}),
        json!({"id": "a", "meta": {"created": "2020-01-01T10:00:00.000Z"}}),
    ];
    assert_eq!(
        sorted_ids(items, &spec("meta.created", None, &r), &r),
        ["c", "a", "b"]
    );
}

#[test]
fn numbers_and_booleans_by_type() {
    let mut r = SchemaRegistry::with_core();
    let schema: Schema = serde_json::from_value(json!({
        "id": "urn:example:n:1.0:User", "attributes": [{"name": "level", "type": "integer"}]
    }))
    .unwrap();
    r.register_extension(ResourceKind::User, schema, false)
        .unwrap();
    let items = vec![
        json!({"id": "1", "urn:example:n:1.0:User": {"level": 10}}),
        json!({"id": "2", "urn:example:n:1.0:User": {"level": 9}}),
    ];
    assert_eq!(sorted_ids(items, &spec("level", None, &r), &r), ["2", "1"]);
    let items = vec![
        json!({"id": "1", "active": true}),
        json!({"id": "2", "active": false}),
    ];
    assert_eq!(sorted_ids(items, &spec("active", None, &r), &r), ["2", "1"]);
}
