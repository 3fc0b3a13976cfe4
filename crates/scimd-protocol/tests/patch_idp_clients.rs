//! Every PATCH request shape in docs/idp-clients.md, as a table: the body, the
//! stored document before, and the document and membership changes after.

use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits};
use scimd_protocol::resource::{Document, MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Value};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The user Entra creates in idp-clients.md §2, as stored.
fn entra_user() -> Value {
    json!({
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa@contoso.com",
        "active": true,
        "displayName": "Test User",
        "title": "Engineer",
        "emails": [{"primary": true, "type": "work", "value": "test.user@contoso.com"}],
        "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        EXT: {"department": "Sales", "employeeNumber": "1234", "manager": {"value": "m-old"}}
    })
}

fn group() -> Value {
    json!({"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "Group1"})
}

struct Case {
    name: &'static str,
    kind: ResourceKind,
    before: Value,
    body: Value,
    /// `(pointer, expected)`: `Value::Null` means "absent".
    expect: Vec<(&'static str, Value)>,
    members: Vec<MemberChange>,
}

fn ops(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

fn refs(ids: &[&str]) -> Vec<MemberRef> {
    ids.iter()
        .map(|id| MemberRef {
            value: id.to_string(),
            kind: None,
        })
        .collect()
}

fn user_case(name: &'static str, body: Value, expect: Vec<(&'static str, Value)>) -> Case {
    Case {
        name,
        kind: ResourceKind::User,
        before: entra_user(),
        body,
        expect,
        members: vec![],
    }
}

fn group_case(name: &'static str, body: Value, members: Vec<MemberChange>) -> Case {
    Case {
        name,
        kind: ResourceKind::Group,
        before: group(),
        body,
        expect: vec![],
        members,
    }
}

fn cases() -> Vec<Case> {
    let roles_encoded = json!([{
        "primary": "True",
        "type": "WindowsAzureActiveDirectoryRole",
        "value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"
    }]);
    vec![
        user_case(
            "Entra default dialect: PascalCase ops, value paths, URN path",
            ops(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
                {"op": "Replace", "path": "name.familyName", "value": "Smith"},
                {"op": "Add", "path": format!("{EXT}:department"), "value": "Retail"},
                {"op": "Replace", "path": "addresses[type eq \"work\"].formatted", "value": "18/2111"}
            ])),
            vec![
                (
                    "/emails",
                    json!([{"primary": true, "type": "work", "value": "new@contoso.com"}]),
                ),
                ("/name/familyName", json!("Smith")),
                ("/name/givenName", json!("Test")),
                (
                    "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department",
                    json!("Retail"),
                ),
                (
                    "/addresses",
                    json!([{"type": "work", "formatted": "18/2111"}]),
                ),
            ],
        ),
        user_case(
            "Entra default dialect: Add on a single-valued attribute overwrites",
            ops(json!([{"op": "Add", "path": "title", "value": "Manager"}])),
            vec![("/title", json!("Manager"))],
        ),
        user_case(
            "Entra default dialect: phone numbers created by value path",
            ops(json!([
                {"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 555"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 666"},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"}
            ])),
            vec![
                (
                    "/phoneNumbers",
                    json!([{"type": "work", "value": "+1 555"}, {"type": "mobile", "value": "+1 666"}]),
                ),
                (
                    "/addresses",
                    json!([{"type": "work", "locality": "Redmond"}]),
                ),
            ],
        ),
        user_case(
            "aadOptscim062020 dialect: value path plus one path-less replace",
            ops(json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x@contoso.com"},
                {"op": "replace", "value": {
                    "displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
                }}
            ])),
            vec![
                ("/emails/0/value", json!("x@contoso.com")),
                ("/displayName", json!("Bjfe")),
                (
                    "/name",
                    json!({"formatted": "Test User", "familyName": "Unua", "givenName": "Kkom"}),
                ),
                (
                    "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber",
                    json!("Aklq"),
                ),
                ("/name.givenName", Value::Null),
            ],
        ),
        user_case(
            "disable, default dialect: string boolean",
            ops(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            vec![("/active", json!(false))],
        ),
        user_case(
            "disable, flag dialect: JSON boolean",
            ops(json!([{"op": "replace", "path": "active", "value": false}])),
            vec![("/active", json!(false))],
        ),
        user_case(
            "disable, path-less (Entra and Okta OIN)",
            ops(json!([{"op": "replace", "value": {"active": false}}])),
            vec![("/active", json!(false))],
        ),
        Case {
            name: "restore: \"True\", without schemas",
            kind: ResourceKind::User,
            before: {
                let mut u = entra_user();
                u["active"] = json!(false);
                u
            },
            body: json!({"Operations": [{"op": "Replace", "path": "active", "value": "True"}]}),
            expect: vec![("/active", json!(true))],
            members: vec![],
        },
        user_case(
            "manager: add with a plain id on the URN path",
            ops(json!([{"op": "add", "path": format!("{EXT}:manager"), "value": "m-new"}])),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                json!({"value": "m-new"}),
            )],
        ),
        user_case(
            "manager: replace with {\"value\": id}",
            ops(
                json!([{"op": "replace", "path": "manager", "value": {"value": "m-new", "displayName": "Boss"}}]),
            ),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                json!({"value": "m-new"}),
            )],
        ),
        user_case(
            "manager: legacy array form",
            ops(
                json!([{"op": "Add", "path": format!("{EXT}:manager"), "value": [{"value": "m-new"}]}]),
            ),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                json!({"value": "m-new"}),
            )],
        ),
        user_case(
            "manager: path-less with URN key",
            ops(json!([{"op": "replace", "value": {format!("{EXT}:manager"): "m-new"}}])),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                json!({"value": "m-new"}),
            )],
        ),
        user_case(
            "manager: remove on the URN path",
            ops(json!([{"op": "remove", "path": format!("{EXT}:manager")}])),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                Value::Null,
            )],
        ),
        user_case(
            "manager: replace with {\"value\": \"\"} clears",
            ops(
                json!([{"op": "replace", "path": format!("{EXT}:manager"), "value": {"value": ""}}]),
            ),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                Value::Null,
            )],
        ),
        user_case(
            "manager: replace with \"\" clears",
            ops(json!([{"op": "Replace", "path": format!("{EXT}:manager"), "value": ""}])),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                Value::Null,
            )],
        ),
        user_case(
            "manager: remove manager[value eq id]",
            ops(json!([{"op": "remove", "path": "manager[value eq \"m-old\"]"}])),
            vec![(
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager",
                Value::Null,
            )],
        ),
        user_case(
            "roles with JSON-encoded values and primary \"True\"",
            ops(json!([{"op": "Add", "path": "roles", "value": roles_encoded}])),
            vec![(
                "/roles",
                json!([{
                    "primary": true, "type": "WindowsAzureActiveDirectoryRole",
                    "value": "25", "display": "Role1234"
                }]),
            )],
        ),
        Case {
            name: "roles: replace removes roles not listed",
            kind: ResourceKind::User,
            before: {
                let mut u = entra_user();
                u["roles"] = json!([{"value": "Admin"}, {"value": "Reader"}]);
                u
            },
            body: ops(json!([{"op": "replace", "path": "roles", "value": [
                {"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Writer"}
            ]}])),
            expect: vec![(
                "/roles",
                json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Writer"}]),
            )],
            members: vec![],
        },
        Case {
            name: "Microsoft validator: empty string and null clear attributes",
            kind: ResourceKind::User,
            before: entra_user(),
            body: ops(json!([
                {"op": "replace", "path": "title", "value": ""},
                {"op": "Replace", "path": "displayName", "value": null},
                {"op": "add", "value": {"name": null}}
            ])),
            expect: vec![
                ("/title", Value::Null),
                ("/displayName", Value::Null),
                ("/name", Value::Null),
            ],
            members: vec![],
        },
        Case {
            name: "JumpCloud: path-less top-level replace",
            kind: ResourceKind::User,
            before: entra_user(),
            body: ops(json!([{"op": "replace", "value": {
                "userName": "jc@example.com", "active": "true",
                "name": {"givenName": "J", "familyName": "C"},
                "emails": [{"value": "jc@example.com", "primary": true}]
            }}])),
            expect: vec![
                ("/userName", json!("jc@example.com")),
                ("/name/givenName", json!("J")),
                (
                    "/emails",
                    json!([{"value": "jc@example.com", "primary": true}]),
                ),
            ],
            members: vec![],
        },
        Case {
            name: "Okta rename: path-less replace with id and displayName",
            kind: ResourceKind::Group,
            before: group(),
            body: ops(
                json!([{"op": "replace", "value": {"id": "abf4dd94", "displayName": "Renamed"}}]),
            ),
            expect: vec![("/displayName", json!("Renamed")), ("/id", Value::Null)],
            members: vec![],
        },
        Case {
            name: "Entra group rename with a path",
            kind: ResourceKind::Group,
            before: group(),
            body: ops(json!([{"op": "Replace", "path": "displayName", "value": "New"}])),
            expect: vec![("/displayName", json!("New"))],
            members: vec![],
        },
        group_case(
            "Entra member add, many per request, with $ref null and display",
            ops(json!([{"op": "Add", "path": "members", "value": [
                {"value": "u1", "$ref": null}, {"value": "u2", "display": "User 2"}
            ]}])),
            vec![MemberChange::Add(refs(&["u1", "u2"]))],
        ),
        group_case(
            "Microsoft validator: a string where the member array is expected",
            ops(json!([{"op": "add", "path": "members", "value": "u1"}])),
            vec![MemberChange::Add(refs(&["u1"]))],
        ),
        group_case(
            "R9: remove members with a value list",
            ops(json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}])),
            vec![MemberChange::Remove(vec!["u1".into()])],
        ),
        group_case(
            "R9 / Okta: remove members[value eq id]",
            ops(json!([{"op": "remove", "path": "members[value eq \"u1\"]"}])),
            vec![MemberChange::Remove(vec!["u1".into()])],
        ),
        group_case(
            "remove members[value eq a or value eq b]",
            ops(json!([{"op": "remove", "path": "members[value eq \"u1\" or value eq \"u2\"]"}])),
            vec![MemberChange::Remove(vec!["u1".into(), "u2".into()])],
        ),
        group_case(
            "R8: remove with a value path ignores the value",
            ops(
                json!([{"op": "remove", "path": "members[value eq \"u1\"]", "value": [{"value": "u9"}]}]),
            ),
            vec![MemberChange::Remove(vec!["u1".into()])],
        ),
        group_case(
            "remove members without value removes all",
            ops(json!([{"op": "remove", "path": "members"}])),
            vec![MemberChange::RemoveAll],
        ),
        group_case(
            "replace members with a list",
            ops(json!([{"op": "replace", "path": "members", "value": [{"value": "u3"}]}])),
            vec![MemberChange::ReplaceAll(refs(&["u3"]))],
        ),
        group_case(
            "Okta: push an empty group with replace members []",
            ops(json!([{"op": "replace", "path": "members", "value": []}])),
            vec![MemberChange::ReplaceAll(vec![])],
        ),
        group_case(
            "path-less replace with members",
            ops(json!([{"op": "replace", "value": {"members": [{"value": "u4"}]}}])),
            vec![MemberChange::ReplaceAll(refs(&["u4"]))],
        ),
        group_case(
            "path-less add with members",
            ops(json!([{"op": "add", "value": {"members": [{"value": "u5"}]}}])),
            vec![MemberChange::Add(refs(&["u5"]))],
        ),
    ]
}

#[test]
fn every_idp_request_shape() {
    let registry = SchemaRegistry::with_core();
    for case in cases() {
        let before: Document = case.before.as_object().unwrap().clone();
        let request = parse_patch(&case.body, &PatchLimits::default())
            .unwrap_or_else(|e| panic!("{}: parse failed: {e}", case.name));
        let out = apply_patch(&before, &request, &registry, case.kind)
            .unwrap_or_else(|e| panic!("{}: apply failed: {e}", case.name));
        let after = Value::Object(out.document.clone());
        for (pointer, expected) in &case.expect {
            let pointer = pointer.replace(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                EXT,
            );
            let actual = after.pointer(&pointer).cloned().unwrap_or(Value::Null);
            assert_eq!(&actual, expected, "{}: {pointer} in {after}", case.name);
        }
        assert_eq!(out.members, case.members, "{}", case.name);
        assert!(out.changed, "{}: expected a change", case.name);
        assert_no_empty_values(&after, case.name);
    }
}

/// The canonical document has no nulls, no empty arrays or objects (resource/mod.rs).
fn assert_no_empty_values(v: &Value, case: &str) {
    match v {
        Value::Null => panic!("{case}: null in document"),
        Value::Array(a) => {
            assert!(!a.is_empty(), "{case}: empty array");
            a.iter().for_each(|x| assert_no_empty_values(x, case));
        }
        Value::Object(o) => {
            assert!(!o.is_empty(), "{case}: empty object");
            o.values().for_each(|x| assert_no_empty_values(x, case));
        }
        _ => {}
    }
}

#[test]
fn re_adding_an_existing_member_is_left_to_the_store_as_a_no_op_add() {
    let out = apply_patch(
        group().as_object().unwrap(),
        &parse_patch(
            &ops(json!([{"op": "Add", "path": "members", "value": [{"value": "u1"}, {"value": "u1"}]}])),
            &PatchLimits::default(),
        )
        .unwrap(),
        &SchemaRegistry::with_core(),
        ResourceKind::Group,
    )
    .unwrap();
    assert_eq!(out.members, vec![MemberChange::Add(refs(&["u1"]))]);
}

#[test]
fn repeating_an_entra_update_changes_nothing_the_second_time() {
    // Entra re-sends a PATCH every cycle when the read-back differs; an idempotent
    // result keeps the version (and ETag) stable.
    let registry = SchemaRegistry::with_core();
    let body = ops(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
        {"op": "Add", "path": "roles", "value": [{"value": "Admin", "primary": "True"}]},
        {"op": "Replace", "path": "active", "value": "False"}
    ]));
    let request = parse_patch(&body, &PatchLimits::default()).unwrap();
    let first = apply_patch(
        entra_user().as_object().unwrap(),
        &request,
        &registry,
        ResourceKind::User,
    )
    .unwrap();
    assert!(first.changed);
    let second = apply_patch(&first.document, &request, &registry, ResourceKind::User).unwrap();
    assert!(!second.changed);
    assert_eq!(second.document, first.document);
}

#[test]
fn removing_another_manager_by_filter_keeps_the_current_one() {
    let request = parse_patch(
        &ops(json!([{"op": "remove", "path": "manager[value eq \"someone-else\"]"}])),
        &PatchLimits::default(),
    )
    .unwrap();
    let before = entra_user().as_object().unwrap().clone();
    let out = apply_patch(
        &before,
        &request,
        &SchemaRegistry::with_core(),
        ResourceKind::User,
    )
    .unwrap();
    assert!(!out.changed);
    assert_eq!(out.document[EXT]["manager"], json!({"value": "m-old"}));
}

#[test]
fn fuzz_seed_corpus_parses_and_applies() {
    // The fuzz seeds are IdP bodies too: each must parse, and apply to a user or
    // a group (members only exist on groups).
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/patch_apply");
    let registry = SchemaRegistry::with_core();
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let body: Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let request = parse_patch(&body, &PatchLimits::default()).unwrap();
        let on_user = apply_patch(
            entra_user().as_object().unwrap(),
            &request,
            &registry,
            ResourceKind::User,
        );
        let on_group = apply_patch(
            group().as_object().unwrap(),
            &request,
            &registry,
            ResourceKind::Group,
        );
        assert!(on_user.is_ok() || on_group.is_ok(), "{body}");
        seen += 1;
    }
    assert!(seen >= 12);
}
