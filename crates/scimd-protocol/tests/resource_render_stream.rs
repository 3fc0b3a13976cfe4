//! The default projection (RFC 7644 §3.4.2.5) written straight from the document, and
//! written from the document's stored JSON text, give byte for byte what `render`
//! gives, for any document and any schema: the documents the store writes take those
//! ways, anything else falls back to `render` itself.

use proptest::prelude::*;
use scimd_protocol::projection::Projection;
use scimd_protocol::resource::{
    normalize_for_write, render, render_lazy, render_text, Document, GroupRef, Member, Meta,
    RenderContext, WriteMode,
};
use scimd_protocol::schema::Schema;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Map, Value};
use time::macros::datetime;

const BASE: &str = "https://example.com/scim/v2/acme";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CUSTOM: &str = "urn:example:params:scim:schemas:extension:badge:1.0:User";

/// The core schemas plus an extension whose attributes are returned every way
/// (RFC 7643 §7), one of them complex with sub-attributes returned every way.
fn registry() -> SchemaRegistry {
    let mut registry = SchemaRegistry::with_core();
    let schema: Schema = serde_json::from_value(json!({
        "id": CUSTOM,
        "attributes": [
            {"name": "badge", "type": "string", "returned": "request"},
            {"name": "pin", "type": "string", "returned": "never"},
            {"name": "region", "type": "string"},
            {"name": "tier", "type": "integer", "returned": "always"},
            {"name": "vip", "type": "boolean"},
            {"name": "desk", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "value", "type": "string"},
                {"name": "code", "type": "string", "returned": "never"},
                {"name": "floor", "type": "integer", "returned": "always"},
                {"name": "note", "type": "string", "returned": "request"}
            ]}
        ]
    }))
    .expect("the test extension is a valid schema");
    registry
        .register_extension(ResourceKind::User, schema, false)
        .expect("the test extension registers");
    registry
}

fn meta() -> Meta {
    Meta {
        created: datetime!(2026-01-02 03:04:05 UTC),
        last_modified: datetime!(2026-01-03 03:04:05.25 UTC),
        version: 9,
    }
}

/// What the three renderings under the default projection give.
struct Renderings {
    /// `render`'s value, serialised.
    eager: String,
    /// `render_lazy` from the document.
    lazy: String,
    /// Whether `render_lazy` took the streamed way.
    streamed: bool,
    /// `render_text` from the document's text as the store writes it.
    from_text: String,
    /// Whether `render_text` copied the text without parsing it.
    text_streamed: bool,
}

/// The three renderings under the default projection (see [`Renderings`]).
fn renderings(
    registry: &SchemaRegistry,
    kind: ResourceKind,
    doc: &Document,
    members: &[Member],
    groups: &[GroupRef],
) -> Renderings {
    let meta = meta();
    let ctx = RenderContext {
        registry,
        kind,
        id: "r-1",
        meta: &meta,
        base_url: BASE,
        members: (kind == ResourceKind::Group).then_some(members),
        groups: (kind == ResourceKind::User).then_some(groups),
    };
    let eager = serde_json::to_string(&render(doc, &ctx, &Projection::Default)).unwrap();
    let rendered = render_lazy(doc, &ctx, &Projection::Default);
    let streamed = rendered.is_streamed();
    let lazy = serde_json::to_string(&rendered).unwrap();
    assert_eq!(
        rendered.into_value(),
        serde_json::from_str::<Value>(&eager).unwrap(),
        "into_value is the same value"
    );
    let text = serde_json::to_string(doc).unwrap();
    let rendered = render_text(&text, &ctx, &Projection::Default).unwrap();
    let text_streamed = rendered.is_from_text();
    let from_text = serde_json::to_string(&rendered).unwrap();
    assert_eq!(
        rendered.into_value(),
        serde_json::from_str::<Value>(&eager).unwrap(),
        "into_value of the text's rendering is the same value"
    );
    Renderings {
        eager,
        lazy,
        streamed,
        from_text,
        text_streamed,
    }
}

fn object(value: Value) -> Document {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn a_stored_user_is_streamed_and_matches() {
    let registry = registry();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, CUSTOM],
        "userName": "bjensen@example.com",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7a2b3d5e1f00",
        "active": "True",
        "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "password": "hunter2",
        ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
        CUSTOM: {"badge": "B-1", "pin": "1234", "region": "EU", "tier": 3, "vip": "false",
                 "desk": [{"value": "D1", "code": "x", "floor": 2, "note": "window"}]}
    });
    let stored = normalize_for_write(&body, &registry, ResourceKind::User, WriteMode::Create)
        .expect("a valid user")
        .document;
    let groups = [
        GroupRef {
            value: "g-1".into(),
            display: Some("Engineering".into()),
        },
        GroupRef {
            value: "g-2".into(),
            display: None,
        },
    ];
    let r = renderings(&registry, ResourceKind::User, &stored, &[], &groups);
    assert!(
        r.streamed && r.text_streamed,
        "a document the store wrote takes the streamed ways"
    );
    assert_eq!(r.eager, r.lazy);
    assert_eq!(r.eager, r.from_text);
    let out: Value = serde_json::from_str(&r.from_text).unwrap();
    // What the default projection must and must not show (RFC 7643 §7).
    assert_eq!(
        out[CUSTOM],
        json!({"region": "EU", "tier": 3, "vip": false, "desk": [{"value": "D1", "floor": 2, "note": "window"}]})
    );
    assert!(out.get("password").is_none());
    assert_eq!(
        out["schemas"],
        json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE,
            CUSTOM
        ])
    );
    assert_eq!(
        out["groups"][1],
        json!({"value": "g-2", "$ref": format!("{BASE}/Groups/g-2"), "type": "direct"})
    );
    assert_eq!(out["meta"]["version"], "W/\"9\"");
}

#[test]
fn a_stored_group_is_streamed_and_matches() {
    let registry = registry();
    let stored = object(json!({"displayName": "Engineering", "externalId": "eng"}));
    let members = [
        Member {
            value: "u-1".into(),
            kind: ResourceKind::User,
            display: Some("Barbara".into()),
        },
        Member {
            value: "g-9".into(),
            kind: ResourceKind::Group,
            display: None,
        },
    ];
    let r = renderings(&registry, ResourceKind::Group, &stored, &members, &[]);
    assert!(r.streamed && r.text_streamed);
    assert_eq!(r.eager, r.lazy);
    assert_eq!(r.eager, r.from_text);
    let r = renderings(&registry, ResourceKind::Group, &stored, &[], &[]);
    assert_eq!(r.eager, r.lazy);
    assert_eq!(r.eager, r.from_text);
    assert!(!r.from_text.contains("members"));
}

#[test]
fn documents_not_in_the_stored_shape_fall_back() {
    let registry = registry();
    for doc in [
        // A key spelt otherwise than the schema spells it.
        json!({"USERNAME": "a"}),
        // Two spellings of one attribute.
        json!({"userName": "a", "username": "b"}),
        // A sub-attribute spelt otherwise.
        json!({"userName": "a", "name": {"GivenName": "x"}}),
        // A key the server writes itself.
        json!({"userName": "a", "groups": [{"value": "g"}]}),
        json!({CUSTOM: {"Region": "EU"}}),
    ] {
        let r = renderings(
            &registry,
            ResourceKind::User,
            &object(doc.clone()),
            &[],
            &[],
        );
        assert!(
            !r.streamed && !r.text_streamed,
            "{doc} is not in the stored shape"
        );
        assert_eq!(r.eager, r.lazy, "{doc}");
        assert_eq!(r.eager, r.from_text, "{doc}");
    }
}

#[test]
fn values_rendering_rewrites_are_parsed_alone() {
    let registry = registry();
    // Written by hand or by an older version: a string boolean, a bare manager, a
    // single value of a multi-valued attribute, a null inside a complex value.
    let doc = object(json!({
        "userName": "a",
        "active": "True",
        "emails": {"value": "a@example.com", "type": "work"},
        "name": {"givenName": "A", "familyName": null},
        ENTERPRISE: {"manager": "26118915-6090-4610-87e4-49d8ca9f808d", "department": "R&D"},
        CUSTOM: {"desk": [{"value": "D1", "code": "secret"}], "vip": false}
    }));
    let r = renderings(&registry, ResourceKind::User, &doc, &[], &[]);
    assert!(
        r.text_streamed,
        "rewritten values do not make the document unfit"
    );
    assert_eq!(r.eager, r.from_text);
    let out: Value = serde_json::from_str(&r.from_text).unwrap();
    assert_eq!(out["active"], json!(true));
    assert_eq!(
        out["emails"],
        json!([{"value": "a@example.com", "type": "work"}])
    );
    assert_eq!(out["name"], json!({"givenName": "A"}));
    assert_eq!(
        out[ENTERPRISE]["manager"],
        json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d"})
    );
    assert_eq!(out[CUSTOM]["desk"], json!([{"value": "D1"}]));
}

#[test]
fn texts_a_parse_would_change_are_parsed_whole() {
    let registry = registry();
    let meta = meta();
    let ctx = RenderContext {
        registry: &registry,
        kind: ResourceKind::User,
        id: "r-1",
        meta: &meta,
        base_url: BASE,
        members: None,
        groups: None,
    };
    // A key twice: a parse keeps the last value at the first one's place.
    for text in [
        r#"{"userName":"a","nickName":"x","userName":"b"}"#,
        r#"{"userName":"a","name":{"givenName":"x","givenName":"y"}}"#,
    ] {
        let doc: Document = serde_json::from_str(text).unwrap();
        let eager = serde_json::to_string(&render(&doc, &ctx, &Projection::Default)).unwrap();
        let rendered = render_text(text, &ctx, &Projection::Default).unwrap();
        assert!(!rendered.is_from_text(), "{text}");
        assert_eq!(serde_json::to_string(&rendered).unwrap(), eager, "{text}");
    }
    // Not a JSON object: an error for the caller, never a response.
    for text in ["[1]", "", "{\"userName\":"] {
        assert!(
            render_text(text, &ctx, &Projection::Default).is_err(),
            "{text}"
        );
    }
    // Another projection parses the text and applies it.
    let text = r#"{"userName":"a","nickName":"x","title":"t"}"#;
    let projection =
        Projection::parse(None, Some("nickName"), &registry, ResourceKind::User).unwrap();
    let doc: Document = serde_json::from_str(text).unwrap();
    let rendered = render_text(text, &ctx, &projection).unwrap();
    assert!(!rendered.is_from_text());
    assert_eq!(
        rendered.into_value(),
        render(&doc, &ctx, &projection),
        "the projection applies"
    );
}

/// Keys from the schemas, misspelt ones, unknown ones and server-written ones.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "userName",
        "UserName",
        "name",
        "displayName",
        "nickName",
        "active",
        "emails",
        "phoneNumbers",
        "addresses",
        "roles",
        "x509Certificates",
        "password",
        "externalId",
        "ExternalId",
        "id",
        "meta",
        "schemas",
        "groups",
        "members",
        "unknownThing",
        ENTERPRISE,
        CUSTOM,
    ])
    .prop_map(str::to_owned)
}

fn sub_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "value",
        "Value",
        "type",
        "primary",
        "display",
        "givenName",
        "familyName",
        "formatted",
        "$ref",
        "code",
        "floor",
        "note",
        "other",
        "manager",
        "employeeNumber",
        "badge",
        "pin",
        "region",
        "tier",
        "vip",
        "desk",
        "streetAddress",
    ])
    .prop_map(str::to_owned)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(vec!["True", "false", "", "x", " TRUE "]).prop_map(|s| json!(s)),
        any::<i32>().prop_map(|n| json!(n)),
        Just(json!(1.5)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((sub_key(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// The test extension's attributes, some misspelt.
fn extension_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "badge", "pin", "region", "Region", "tier", "vip", "desk", "other",
    ])
    .prop_map(str::to_owned)
}

/// Any keys, and often the test extension with its own attributes in any order.
fn document() -> impl Strategy<Value = Document> {
    let extension = prop::collection::vec((extension_key(), value()), 0..6)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()));
    (
        prop::collection::vec((key(), value()), 0..8),
        prop::option::weighted(0.7, extension),
    )
        .prop_map(|(entries, extension)| {
            let mut doc: Document = entries.into_iter().collect();
            if let Some(extension) = extension {
                doc.insert(CUSTOM.to_owned(), extension);
            }
            doc
        })
}

proptest! {
    // Many cases: the interesting documents (an extension with attributes returned
    // every way, in the store's shape) are a small part of what the strategy makes.
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_document_renders_the_same(
        doc in document(),
        group in any::<bool>(),
        related in prop::collection::vec((any::<bool>(), any::<bool>()), 0..3),
    ) {
        let registry = registry();
        let kind = if group { ResourceKind::Group } else { ResourceKind::User };
        let members: Vec<Member> = related.iter().enumerate().map(|(i, (display, is_group))| Member {
            value: format!("m-{i}"),
            kind: if *is_group { ResourceKind::Group } else { ResourceKind::User },
            display: display.then(|| format!("Member \"{i}\"")),
        }).collect();
        let groups: Vec<GroupRef> = related.iter().enumerate().map(|(i, (display, _))| GroupRef {
            value: format!("g-{i}"),
            display: display.then(|| format!("Group {i}")),
        }).collect();
        let r = renderings(&registry, kind, &doc, &members, &groups);
        prop_assert_eq!(&r.eager, &r.lazy);
        prop_assert_eq!(&r.eager, &r.from_text);
    }

    #[test]
    fn any_document_the_store_writes_is_streamed(doc in document()) {
        let registry = registry();
        let mut body = Value::Object(doc);
        body["userName"] = json!("someone");
        // Whatever normalisation accepts is what the store writes.
        if let Ok(normalized) = normalize_for_write(&body, &registry, ResourceKind::User, WriteMode::Create) {
            let r = renderings(&registry, ResourceKind::User, &normalized.document, &[], &[]);
            prop_assert!(r.streamed && r.text_streamed, "{}", serde_json::to_string(&normalized.document).unwrap());
            prop_assert_eq!(&r.eager, &r.lazy);
            prop_assert_eq!(&r.eager, &r.from_text);
        }
    }
}
