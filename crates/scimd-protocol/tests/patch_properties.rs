//! Properties of PATCH (RFC 7644 §3.5.2): atomicity, no panics on arbitrary
//! operations, and membership deltas agreeing with set arithmetic.

use proptest::prelude::*;
use scimd_protocol::patch::{apply_member_changes, apply_patch, parse_patch, PatchLimits};
use scimd_protocol::resource::{Document, MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn user() -> Document {
    json!({
        "userName": "bjensen",
        "name": {"givenName": "Barbara"},
        "emails": [{"value": "b@x", "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}}
    })
    .as_object()
    .unwrap()
    .clone()
}

fn op_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("add".to_string()),
        Just("Replace".to_string()),
        Just("remove".to_string()),
    ]
}

fn path() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("userName".to_string())),
        Just(Some("active".to_string())),
        Just(Some("id".to_string())),
        Just(Some("name.givenName".to_string())),
        Just(Some("emails".to_string())),
        Just(Some("emails[type eq \"work\"].value".to_string())),
        Just(Some("emails[value co \"q\"]".to_string())),
        Just(Some("manager".to_string())),
        Just(Some("unknownAttr".to_string())),
        Just(Some("members".to_string())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-zA-Z]{0,6}".prop_map(Value::String),
        Just(json!("True")),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("value".to_string()),
                    Just("type".to_string()),
                    Just("primary".to_string()),
                    Just("userName".to_string()),
                    Just("name.familyName".to_string()),
                ],
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn operation() -> impl Strategy<Value = Value> {
    (op_name(), path(), prop::option::of(value())).prop_map(|(op, path, value)| {
        let mut o = serde_json::Map::new();
        o.insert("op".into(), json!(op));
        if let Some(p) = path {
            o.insert("path".into(), json!(p));
        }
        if let Some(v) = value {
            o.insert("value".into(), v);
        }
        Value::Object(o)
    })
}

proptest! {
    /// A PATCH either succeeds with a canonical document or fails and leaves the
    /// input untouched; it never panics.
    #[test]
    fn failed_patch_leaves_the_resource_untouched(ops in prop::collection::vec(operation(), 1..5)) {
        let registry = SchemaRegistry::with_core();
        let original = user();
        let snapshot = original.clone();
        let body = json!({"Operations": ops});
        if let Ok(request) = parse_patch(&body, &PatchLimits::default()) {
            match apply_patch(&original, &request, &registry, ResourceKind::User) {
                Ok(out) => {
                    prop_assert_eq!(out.changed, out.document != snapshot || !out.members.is_empty());
                    prop_assert!(out.document.values().all(|v| !v.is_null()));
                }
                Err(err) => prop_assert_eq!(err.status, 400),
            }
        }
        prop_assert_eq!(original, snapshot);
    }

    /// Applying member deltas in sequence equals recomputing the member set.
    #[test]
    fn member_deltas_agree_with_sets(
        start in prop::collection::btree_set("[a-e]", 0..5),
        changes in prop::collection::vec(
            prop_oneof![
                prop::collection::vec("[a-e]", 0..4).prop_map(|ids| MemberChange::Add(
                    ids.into_iter().map(|value| MemberRef { value, kind: None }).collect())),
                prop::collection::vec("[a-e]", 0..4).prop_map(MemberChange::Remove),
                Just(MemberChange::RemoveAll),
                prop::collection::vec("[a-e]", 0..4).prop_map(|ids| MemberChange::ReplaceAll(
                    ids.into_iter().map(|value| MemberRef { value, kind: None }).collect())),
            ],
            0..6,
        )
    ) {
        let current: Vec<String> = start.iter().cloned().collect();
        let mut expected: BTreeSet<String> = start;
        for change in &changes {
            match change {
                MemberChange::Add(refs) => expected.extend(refs.iter().map(|r| r.value.clone())),
                MemberChange::Remove(ids) => ids.iter().for_each(|id| { expected.remove(id); }),
                MemberChange::RemoveAll => expected.clear(),
                MemberChange::ReplaceAll(refs) => {
                    expected = refs.iter().map(|r| r.value.clone()).collect();
                }
            }
        }
        let result = apply_member_changes(&current, &changes);
        let as_set: BTreeSet<String> = result.iter().cloned().collect();
        prop_assert_eq!(as_set.len(), result.len(), "no duplicates");
        prop_assert_eq!(as_set, expected);
    }
}
