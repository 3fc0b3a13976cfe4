//! Criterion benchmarks of the hot protocol paths of a provisioning cycle: the
//! filters Entra sends before every write, and the PATCH bodies it writes with.
//!
//! Run with `cargo bench -p scimd-protocol`; keep runs short on shared machines.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use scimd_protocol::filter::{self, FilterLimits};
use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits};
use scimd_protocol::resource::Document;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Value};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn typical_user() -> Value {
    json!({
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_00aa00aa@contoso.com",
        "active": true,
        "displayName": "Test User",
        "title": "Engineer",
        "emails": [
            {"primary": true, "type": "work", "value": "test.user@contoso.com"},
            {"type": "home", "value": "test@home.example"}
        ],
        "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        "phoneNumbers": [{"type": "work", "value": "+1 555 0100"}],
        EXT: {"department": "Sales", "employeeNumber": "1234", "manager": {"value": "m1"}}
    })
}

fn filters(c: &mut Criterion) {
    let registry = SchemaRegistry::with_core();
    let limits = FilterLimits::default();
    let user = typical_user();
    for (name, text) in [
        (
            "userName eq",
            r#"userName eq "test_user_00aa00aa@contoso.com""#,
        ),
        (
            "emails value path",
            r#"emails[type eq "work"].value eq "test.user@contoso.com""#,
        ),
    ] {
        c.bench_function(&format!("filter parse + evaluate: {name}"), |b| {
            b.iter(|| {
                let parsed = filter::parse(black_box(text), &limits).ok();
                parsed.map(|f| filter::evaluate(&f, &user, &registry, ResourceKind::User))
            })
        });
    }
}

fn patches(c: &mut Criterion) {
    let registry = SchemaRegistry::with_core();
    let limits = PatchLimits::default();
    let user: Document = typical_user().as_object().cloned().unwrap_or_default();
    let group: Document = json!({"displayName": "Group1"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let default_dialect = json!({"Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Smith"},
        {"op": "Add", "path": format!("{EXT}:department"), "value": "Retail"},
        {"op": "Replace", "path": "addresses[type eq \"work\"].formatted", "value": "18/2111"},
        {"op": "Replace", "path": "active", "value": "False"}
    ]});
    let flag_dialect = json!({"Operations": [
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x@contoso.com"},
        {"op": "replace", "value": {"displayName": "Bjfe", "name.givenName": "Kkom",
            "name.familyName": "Unua", format!("{EXT}:employeeNumber"): "Aklq", "active": false}}
    ]});
    let members: Vec<Value> = (0..50)
        .map(|i| json!({"value": format!("2819c223-7f76-453a-919d-4138619{i:05}"), "$ref": null}))
        .collect();
    let member_add = json!({"Operations": [{"op": "Add", "path": "members", "value": members}]});
    for (name, body, doc, kind) in [
        (
            "Entra default dialect",
            &default_dialect,
            &user,
            ResourceKind::User,
        ),
        (
            "Entra aadOptscim062020 dialect",
            &flag_dialect,
            &user,
            ResourceKind::User,
        ),
        ("50-member add", &member_add, &group, ResourceKind::Group),
    ] {
        c.bench_function(&format!("patch parse + apply: {name}"), |b| {
            b.iter(|| {
                let request = parse_patch(black_box(body), &limits).ok();
                request.map(|r| apply_patch(doc, &r, &registry, kind))
            })
        });
    }
}

criterion_group!(benches, filters, patches);
criterion_main!(benches);
