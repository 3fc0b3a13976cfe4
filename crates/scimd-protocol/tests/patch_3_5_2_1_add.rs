//! RFC 7644 §3.5.2.1: the "add" operation.

use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits, PatchOutcome};
use scimd_protocol::resource::Document;
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError, ScimType};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn doc(v: Value) -> Document {
    v.as_object().unwrap().clone()
}

fn user() -> Document {
    doc(json!({
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@work.example", "type": "work", "primary": true}],
        "active": true
    }))
}

fn patch(d: &Document, ops: Value) -> Result<PatchOutcome, ScimError> {
    let request = parse_patch(&json!({"Operations": ops}), &PatchLimits::default())?;
    apply_patch(
        d,
        &request,
        &SchemaRegistry::with_core(),
        ResourceKind::User,
    )
}

#[test]
fn add_to_absent_single_valued_attribute_sets_it() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "title", "value": "Tour Guide"}]),
    )
    .unwrap();
    assert_eq!(out.document["title"], "Tour Guide");
    assert!(out.changed);
}

#[test]
fn add_to_present_single_valued_attribute_replaces_it() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "userName", "value": "barbara"}]),
    )
    .unwrap();
    assert_eq!(out.document["userName"], "barbara");
}

#[test]
fn add_to_multi_valued_appends_without_duplicates() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "b@home.example", "type": "home"},
            {"value": "b@work.example", "type": "work", "primary": true}
        ]}]),
    )
    .unwrap();
    let emails = out.document["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[1]["value"], "b@home.example");
}

#[test]
fn add_of_a_new_primary_clears_the_old_one() {
    // RFC 7643 §2.4: at most one primary value.
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "emails", "value": [
            {"value": "b@home.example", "type": "home", "primary": "True"}
        ]}]),
    )
    .unwrap();
    let emails = out.document["emails"].as_array().unwrap();
    assert_eq!(emails[0]["primary"], false);
    assert_eq!(emails[1]["primary"], true);
}

#[test]
fn add_to_complex_merges_sub_attributes() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "name", "value": {"middleName": "J", "familyName": "Smith"}}]),
    )
    .unwrap();
    assert_eq!(
        out.document["name"],
        json!({"givenName": "Barbara", "familyName": "Smith", "middleName": "J"})
    );
}

#[test]
fn add_of_a_sub_attribute_creates_the_complex_value() {
    let mut d = user();
    d.remove("name");
    let out = patch(
        &d,
        json!([{"op": "add", "path": "name.givenName", "value": "Babs"}]),
    )
    .unwrap();
    assert_eq!(out.document["name"], json!({"givenName": "Babs"}));
}

#[test]
fn pathless_add_takes_attribute_names_dotted_paths_and_urns() {
    let out = patch(
        &user(),
        json!([{"op": "add", "value": {
            "nickName": "Babs",
            "name.middleName": "J",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"costCenter": "42"}
        }}]),
    )
    .unwrap();
    assert_eq!(out.document["nickName"], "Babs");
    assert_eq!(out.document["name"]["middleName"], "J");
    assert_eq!(
        out.document[ENTERPRISE],
        json!({"department": "Sales", "costCenter": "42"})
    );
    assert!(out.document.get("name.middleName").is_none());
}

#[test]
fn pathless_add_ignores_unknown_and_read_only_keys() {
    let out = patch(
        &user(),
        json!([{"op": "add", "value": {"id": "x", "meta": {}, "schemas": [], "bogus": 1, "groups": []}}]),
    )
    .unwrap();
    assert_eq!(out.document, user());
    assert!(!out.changed);
}

#[test]
fn add_through_value_filter_sets_matching_sub_attribute() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "emails[type eq \"work\"].display", "value": "Work"}]),
    )
    .unwrap();
    assert_eq!(out.document["emails"][0]["display"], "Work");
}

#[test]
fn add_urn_qualified_extension_attribute() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "701984"}]),
    )
    .unwrap();
    assert_eq!(out.document[ENTERPRISE]["employeeNumber"], "701984");
}

#[test]
fn add_unknown_attribute_is_invalid_path() {
    let err = patch(
        &user(),
        json!([{"op": "add", "path": "shoeSize", "value": 5}]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
    let err = patch(
        &user(),
        json!([{"op": "add", "path": "name.shoeSize", "value": 5}]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn add_with_wrong_type_is_invalid_value() {
    for (path, value) in [
        ("active", json!("maybe")),
        ("title", json!(5)),
        ("name", json!("Barbara")),
        ("emails", json!([5])),
    ] {
        let err = patch(
            &user(),
            json!([{"op": "add", "path": path, "value": value}]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "{path}");
    }
}

#[test]
fn add_with_null_or_empty_string_clears() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "name", "value": null}]),
    )
    .unwrap();
    assert!(out.document.get("name").is_none());
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "emails", "value": ""}]),
    )
    .unwrap();
    assert!(out.document.get("emails").is_none());
}

#[test]
fn add_of_the_same_value_is_unchanged() {
    let out = patch(
        &user(),
        json!([{"op": "add", "path": "active", "value": "true"}]),
    )
    .unwrap();
    assert!(!out.changed);
}
