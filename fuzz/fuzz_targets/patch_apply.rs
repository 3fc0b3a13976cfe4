//! Arbitrary bytes as a PATCH request body (RFC 7644 §3.5.2), parsed and applied to
//! a realistic user and group. Must never panic; a failed PATCH must leave the
//! document untouched and fail with a 4xx SCIM error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits};
use scimd_protocol::resource::Document;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Value};

fn document(value: Value) -> Document {
    match value {
        Value::Object(map) => map,
        _ => Document::new(),
    }
}

fn user() -> Document {
    document(json!({
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa@contoso.com",
        "active": true,
        "displayName": "Test User",
        "title": "Engineer",
        "emails": [
            {"primary": true, "type": "work", "value": "test.user@contoso.com"},
            {"type": "home", "value": "t@home.example"}
        ],
        "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        "addresses": [{"type": "work", "locality": "Redmond", "country": "US"}],
        "roles": [{"value": "Admin", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"department": "Sales", "employeeNumber": "1234", "manager": {"value": "m1"}}
    }))
}

fn group() -> Document {
    document(json!({"externalId": "8aa1a0c0", "displayName": "Group1"}))
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(request) = parse_patch(&body, &PatchLimits::default()) else {
        return;
    };
    let registry = SchemaRegistry::with_core();
    for (doc, kind) in [(user(), ResourceKind::User), (group(), ResourceKind::Group)] {
        let snapshot = doc.clone();
        match apply_patch(&doc, &request, &registry, kind) {
            Ok(outcome) => {
                assert_eq!(
                    outcome.changed,
                    outcome.document != snapshot || !outcome.members.is_empty()
                );
            }
            Err(err) => assert!((400..500).contains(&err.status), "{err}"),
        }
        assert_eq!(doc, snapshot, "apply_patch must not modify its input");
    }
});
