//! RFC 7644 §3.5.2.2: the "remove" operation.

use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits, PatchOutcome};
use scimd_protocol::resource::Document;
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError, ScimType};
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user() -> Document {
    json!({
        "userName": "bjensen",
        "title": "Guide",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "b@work.example", "type": "work", "primary": true, "display": "W"},
            {"value": "b@home.example", "type": "home", "display": "H"}
        ],
        "roles": [{"value": "admin"}, {"value": "reader"}],
        ENTERPRISE: {"department": "Sales", "manager": {"value": "m1"}}
    })
    .as_object()
    .unwrap()
    .clone()
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
fn remove_single_valued_attribute() {
    let out = patch(&user(), json!([{"op": "remove", "path": "title"}])).unwrap();
    assert!(out.document.get("title").is_none());
    assert!(out.changed);
}

#[test]
fn remove_of_an_absent_attribute_changes_nothing() {
    let out = patch(&user(), json!([{"op": "remove", "path": "nickName"}])).unwrap();
    assert!(!out.changed);
}

#[test]
fn remove_multi_valued_without_filter_removes_all() {
    let out = patch(&user(), json!([{"op": "remove", "path": "emails"}])).unwrap();
    assert!(out.document.get("emails").is_none());
}

#[test]
fn remove_with_filter_removes_matching_values() {
    let out = patch(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
    )
    .unwrap();
    assert_eq!(out.document["emails"].as_array().unwrap().len(), 1);
    assert_eq!(out.document["emails"][0]["type"], "home");
}

#[test]
fn removing_the_last_value_leaves_the_attribute_unassigned() {
    let out = patch(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"work\" or type eq \"home\"]"}]),
    )
    .unwrap();
    assert!(out.document.get("emails").is_none());
}

#[test]
fn remove_sub_attribute_of_matching_values() {
    let out = patch(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"work\"].display"}]),
    )
    .unwrap();
    assert!(out.document["emails"][0].get("display").is_none());
    assert_eq!(out.document["emails"][1]["display"], "H");
}

#[test]
fn remove_sub_attribute_without_filter_hits_every_value() {
    let out = patch(&user(), json!([{"op": "remove", "path": "emails.display"}])).unwrap();
    for e in out.document["emails"].as_array().unwrap() {
        assert!(e.get("display").is_none());
    }
}

#[test]
fn remove_sub_attribute_of_complex() {
    let out = patch(&user(), json!([{"op": "remove", "path": "name.givenName"}])).unwrap();
    assert_eq!(out.document["name"], json!({"familyName": "Jensen"}));
    let out = patch(
        &user(),
        json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]),
    )
    .unwrap();
    assert!(
        out.document.get("name").is_none(),
        "an emptied complex value goes"
    );
}

#[test]
fn remove_with_filter_matching_nothing_is_a_no_op() {
    let out = patch(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
    )
    .unwrap();
    assert!(!out.changed);
}

#[test]
fn remove_with_value_list_removes_only_those_values() {
    // idp-clients.md R9, applied to any multi-valued attribute.
    let out = patch(
        &user(),
        json!([{"op": "remove", "path": "roles", "value": [{"value": "admin"}]}]),
    )
    .unwrap();
    assert_eq!(out.document["roles"], json!([{"value": "reader"}]));
}

#[test]
fn remove_last_extension_attribute_drops_the_extension_object() {
    let out = patch(
        &user(),
        json!([
            {"op": "remove", "path": format!("{ENTERPRISE}:department")},
            {"op": "remove", "path": format!("{ENTERPRISE}:manager")}
        ]),
    )
    .unwrap();
    assert!(out.document.get(ENTERPRISE).is_none());
}

#[test]
fn remove_whole_extension_by_urn() {
    let out = patch(&user(), json!([{"op": "remove", "path": ENTERPRISE}])).unwrap();
    assert!(out.document.get(ENTERPRISE).is_none());
}

#[test]
fn remove_required_attribute_is_mutability() {
    // §3.5.2.2: "If an attribute is removed or becomes unassigned and is defined as
    // a required attribute or a read-only attribute ... 'mutability'".
    let err = patch(&user(), json!([{"op": "remove", "path": "userName"}])).unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::Mutability));
    let err = patch(
        &user(),
        json!([{"op": "replace", "path": "userName", "value": ""}]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::Mutability));
}

#[test]
fn remove_read_only_attribute_is_mutability() {
    for path in ["id", "meta", "groups", "meta.created"] {
        let err = patch(&user(), json!([{"op": "remove", "path": path}])).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::Mutability), "{path}");
    }
}

#[test]
fn remove_unknown_path_is_invalid_path() {
    let err = patch(&user(), json!([{"op": "remove", "path": "shoeSize"}])).unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
}
