//! RFC 7644 §3.5.2.3: the "replace" operation.

use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits, PatchOutcome};
use scimd_protocol::resource::Document;
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError, ScimType};
use serde_json::{json, Value};

fn user() -> Document {
    json!({
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "b@work.example", "type": "work", "primary": true},
            {"value": "b@home.example", "type": "home"}
        ],
        "addresses": [{"type": "work", "locality": "Oslo"}]
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
fn replace_single_valued() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "userName", "value": "babs"}]),
    )
    .unwrap();
    assert_eq!(out.document["userName"], "babs");
}

#[test]
fn replace_of_absent_attribute_is_an_add() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "title", "value": "Guide"}]),
    )
    .unwrap();
    assert_eq!(out.document["title"], "Guide");
}

#[test]
fn replace_multi_valued_without_filter_replaces_all() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "emails", "value": [{"value": "new@x", "type": "other"}]}]),
    )
    .unwrap();
    assert_eq!(
        out.document["emails"],
        json!([{"value": "new@x", "type": "other"}])
    );
}

#[test]
fn replace_multi_valued_with_empty_list_clears() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "emails", "value": []}]),
    )
    .unwrap();
    assert!(out.document.get("emails").is_none());
}

#[test]
fn replace_complex_merges_sub_attributes() {
    // "Sub-attributes that are not specified in the value parameter are left unchanged."
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "name", "value": {"familyName": "Smith"}}]),
    )
    .unwrap();
    assert_eq!(
        out.document["name"],
        json!({"givenName": "Barbara", "familyName": "Smith"})
    );
}

#[test]
fn replace_with_filter_replaces_matching_values() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h2@x", "type": "home"}}]),
    )
    .unwrap();
    assert_eq!(
        out.document["emails"][1],
        json!({"value": "h2@x", "type": "home"})
    );
    assert_eq!(out.document["emails"][0]["value"], "b@work.example");
}

#[test]
fn replace_with_filter_and_sub_attribute() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Bergen"}]),
    )
    .unwrap();
    assert_eq!(
        out.document["addresses"],
        json!([{"type": "work", "locality": "Bergen"}])
    );
}

#[test]
fn replace_with_filter_matching_nothing_creates_from_equalities() {
    // idp-clients.md R8 (RFC would say noTarget).
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+47 1"}]),
    )
    .unwrap();
    assert_eq!(
        out.document["phoneNumbers"],
        json!([{"type": "mobile", "value": "+47 1"}])
    );
}

#[test]
fn replace_with_non_equality_filter_matching_nothing_is_no_target() {
    let err = patch(
        &user(),
        json!([{"op": "replace", "path": "emails[value co \"zzz\"].display", "value": "x"}]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::NoTarget));
}

#[test]
fn pathless_replace_replaces_each_named_attribute() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "value": {"userName": "babs", "name": {"givenName": "B"}, "active": "False"}}]),
    )
    .unwrap();
    assert_eq!(out.document["userName"], "babs");
    assert_eq!(
        out.document["name"],
        json!({"givenName": "B", "familyName": "Jensen"})
    );
    assert_eq!(out.document["active"], false);
}

#[test]
fn replace_with_null_clears() {
    let out = patch(
        &user(),
        json!([{"op": "replace", "path": "name", "value": null}]),
    )
    .unwrap();
    assert!(out.document.get("name").is_none());
    let out = patch(
        &user(),
        json!([{"op": "replace", "value": {"addresses": null}}]),
    )
    .unwrap();
    assert!(out.document.get("addresses").is_none());
}

#[test]
fn replace_read_only_is_mutability() {
    let err = patch(
        &user(),
        json!([{"op": "replace", "path": "id", "value": "x"}]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::Mutability));
    let err = patch(
        &user(),
        json!([{"op": "replace", "path": "meta.lastModified", "value": "2020-01-01T00:00:00Z"}]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::Mutability));
}

#[test]
fn operations_apply_in_order_and_failure_is_atomic() {
    let d = user();
    let err = patch(
        &d,
        json!([
            {"op": "replace", "path": "userName", "value": "first"},
            {"op": "replace", "path": "active", "value": "nope"}
        ]),
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
    assert!(err.detail.starts_with("operation 1"), "{}", err.detail);
    assert_eq!(d, user());
}

/// PUT (normalize_for_write) and PATCH store a scalar the same way: one normaliser.
#[test]
fn patch_and_put_store_date_times_identically() {
    use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits};
    use scimd_protocol::resource::{normalize_for_write, WriteMode};
    use scimd_protocol::{ResourceKind, SchemaRegistry};
    use serde_json::json;

    let mut registry = SchemaRegistry::with_core();
    let extension: scimd_protocol::schema::Schema = serde_json::from_value(json!({
        "id": "urn:ietf:params:scim:schemas:extension:acme:2.0:User",
        "name": "Acme",
        "attributes": [{"name": "hired", "type": "dateTime"}]
    }))
    .unwrap();
    registry
        .register_extension(ResourceKind::User, extension, false)
        .unwrap();
    let urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
    let sent = "2026-01-02T03:04:05+02:00";
    let put = normalize_for_write(
        &json!({"userName": "a", urn: {"hired": sent}}),
        &registry,
        ResourceKind::User,
        WriteMode::Create,
    )
    .unwrap()
    .document;
    let start = normalize_for_write(
        &json!({"userName": "a"}),
        &registry,
        ResourceKind::User,
        WriteMode::Create,
    )
    .unwrap()
    .document;
    let request = parse_patch(
        &json!({"Operations": [{"op": "add", "path": format!("{urn}:hired"), "value": sent}]}),
        &PatchLimits::default(),
    )
    .unwrap();
    let patched = apply_patch(&start, &request, &registry, ResourceKind::User)
        .unwrap()
        .document;
    assert_eq!(patched, put);
    assert_eq!(put[urn]["hired"], "2026-01-02T01:04:05Z");
}
