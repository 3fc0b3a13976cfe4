//! RFC 7644 §3.5.2 on a group's `members`: operations become membership deltas
//! (idp-clients.md R9), and `apply_member_changes` is their reference semantics.

use scimd_protocol::patch::{
    apply_member_changes, apply_patch, parse_patch, PatchLimits, PatchOutcome,
};
use scimd_protocol::resource::{Document, MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError, ScimType};
use serde_json::{json, Value};

fn group() -> Document {
    json!({"displayName": "Group1", "externalId": "8aa1"})
        .as_object()
        .unwrap()
        .clone()
}

fn patch(ops: Value) -> Result<PatchOutcome, ScimError> {
    let request = parse_patch(&json!({"Operations": ops}), &PatchLimits::default())?;
    apply_patch(
        &group(),
        &request,
        &SchemaRegistry::with_core(),
        ResourceKind::Group,
    )
}

fn m(id: &str) -> MemberRef {
    MemberRef {
        value: id.into(),
        kind: None,
    }
}

#[test]
fn members_never_enter_the_document() {
    let out = patch(json!([{"op": "add", "path": "members", "value": [{"value": "u1"}]}])).unwrap();
    assert_eq!(out.document, group());
    assert!(out.changed, "a member change is a change");
    assert_eq!(out.members, vec![MemberChange::Add(vec![m("u1")])]);
}

#[test]
fn member_type_is_kept_when_given() {
    let out = patch(json!([{"op": "add", "path": "members", "value": [
        {"value": "g1", "type": "Group"}, {"value": "u1", "type": "user", "display": "x", "$ref": null}
    ]}]))
    .unwrap();
    assert_eq!(
        out.members,
        vec![MemberChange::Add(vec![
            MemberRef {
                value: "g1".into(),
                kind: Some(ResourceKind::Group)
            },
            MemberRef {
                value: "u1".into(),
                kind: Some(ResourceKind::User)
            },
        ])]
    );
}

#[test]
fn filters_other_than_value_eq_are_invalid_filter() {
    for path in [
        "members[display eq \"x\"]",
        "members[value ne \"x\"]",
        "members[value eq \"a\" and value eq \"b\"]",
    ] {
        let err = patch(json!([{"op": "remove", "path": path}])).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidFilter), "{path}");
    }
    let err = patch(json!([{"op": "replace", "path": "members[value eq \"a\"]", "value": []}]))
        .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidFilter));
}

#[test]
fn member_sub_attribute_path_is_invalid_path() {
    let err =
        patch(json!([{"op": "replace", "path": "members.display", "value": "x"}])).unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn member_without_value_is_invalid_value() {
    for value in [
        json!([{"display": "x"}]),
        json!([{"value": ""}]),
        json!([5]),
    ] {
        let err = patch(json!([{"op": "add", "path": "members", "value": value}])).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
    }
}

#[test]
fn members_on_a_user_is_invalid_path() {
    let request = parse_patch(
        &json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "x"}]}]}),
        &PatchLimits::default(),
    )
    .unwrap();
    let user = json!({"userName": "u"}).as_object().unwrap().clone();
    let err = apply_patch(
        &user,
        &request,
        &SchemaRegistry::with_core(),
        ResourceKind::User,
    )
    .unwrap_err();
    assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn changes_apply_in_order() {
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let current = ids(&["a", "b"]);
    assert_eq!(
        apply_member_changes(&current, &[MemberChange::Add(vec![m("c"), m("a")])]),
        ids(&["a", "b", "c"])
    );
    assert_eq!(
        apply_member_changes(
            &current,
            &[MemberChange::Remove(vec!["a".into(), "zz".into()])]
        ),
        ids(&["b"])
    );
    assert_eq!(
        apply_member_changes(&current, &[MemberChange::RemoveAll]),
        ids(&[])
    );
    assert_eq!(
        apply_member_changes(
            &current,
            &[
                MemberChange::ReplaceAll(vec![m("x")]),
                MemberChange::Add(vec![m("a")])
            ]
        ),
        ids(&["x", "a"])
    );
}
