//! Rendering (RFC 7643 §3.1 common attributes and meta, §8 examples) and the
//! normalise-then-render round trip of the RFC's example users.

use scimd_protocol::projection::Projection;
use scimd_protocol::resource::{
    normalize_for_write, render, Document, GroupRef, Member, Meta, RenderContext, WriteMode,
};
use scimd_protocol::schema::ENTERPRISE_USER_SCHEMA;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Value};
use time::macros::datetime;

const BASE: &str = "https://example.com/v2";

fn meta() -> Meta {
    Meta {
        created: datetime!(2010-01-23 04:56:22 UTC),
        last_modified: datetime!(2011-05-13 04:42:34.25 +02:00),
        version: 3,
    }
}

fn doc(v: Value) -> Document {
    v.as_object().unwrap().clone()
}

fn render_user(
    registry: &SchemaRegistry,
    d: &Document,
    groups: Option<&[GroupRef]>,
    p: &Projection,
) -> Value {
    let m = meta();
    let ctx = RenderContext {
        registry,
        kind: ResourceKind::User,
        id: "2819c223-7f76-453a-919d-413861904646",
        meta: &m,
        base_url: BASE,
        members: None,
        groups,
    };
    render(d, &ctx, p)
}

fn without(mut v: Value, keys: &[&str]) -> Value {
    for k in keys {
        v.as_object_mut().unwrap().remove(*k);
    }
    v
}

/// RFC 7643 §8.2, the full User representation.
fn rfc_full_user() -> Value {
    json!({
      "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
      "id": "2819c223-7f76-453a-919d-413861904646",
      "externalId": "701984",
      "userName": "bjensen@example.com",
      "name": {
        "formatted": "Ms. Barbara J Jensen, III",
        "familyName": "Jensen",
        "givenName": "Barbara",
        "middleName": "Jane",
        "honorificPrefix": "Ms.",
        "honorificSuffix": "III"
      },
      "displayName": "Babs Jensen",
      "nickName": "Babs",
      "profileUrl": "https://login.example.com/bjensen",
      "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": true},
        {"value": "babs@jensen.org", "type": "home"}
      ],
      "addresses": [
        {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
         "region": "CA", "postalCode": "91608", "country": "USA",
         "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA", "primary": true},
        {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood",
         "region": "CA", "postalCode": "91608", "country": "USA",
         "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"}
      ],
      "phoneNumbers": [
        {"value": "555-555-5555", "type": "work"},
        {"value": "555-555-4444", "type": "mobile"}
      ],
      "ims": [{"value": "someaimhandle", "type": "aim"}],
      "photos": [
        {"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"},
        {"value": "https://photos.example.com/profilephoto/72930000000Ccne/T", "type": "thumbnail"}
      ],
      "userType": "Employee",
      "title": "Tour Guide",
      "preferredLanguage": "en-US",
      "locale": "en-US",
      "timezone": "America/Los_Angeles",
      "active": true,
      "password": "t1meMa$heen",
      "groups": [
        {"value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
         "$ref": "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
         "display": "Tour Guides"}
      ],
      "x509Certificates": [
        {"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}
      ],
      "meta": {
        "resourceType": "User",
        "created": "2010-01-23T04:56:22Z",
        "lastModified": "2011-05-13T04:42:34Z",
        "version": "W/\"3694e05e9dff591\"",
        "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
      }
    })
}

mod rfc7643_8_examples_round_trip {
    use super::*;

    #[test]
    fn minimal_user_8_1() {
        let registry = SchemaRegistry::with_core();
        let body = json!({
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
          "id": "2819c223-7f76-453a-919d-413861904646",
          "userName": "bjensen@example.com",
          "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"}
        });
        let n =
            normalize_for_write(&body, &registry, ResourceKind::User, WriteMode::Create).unwrap();
        let out = render_user(&registry, &n.document, None, &Projection::Default);
        assert_eq!(without(out, &["meta"]), without(body, &["meta"]));
    }

    #[test]
    fn full_user_8_2() {
        let registry = SchemaRegistry::with_core();
        let body = rfc_full_user();
        let n =
            normalize_for_write(&body, &registry, ResourceKind::User, WriteMode::Create).unwrap();
        let out = render_user(&registry, &n.document, None, &Projection::Default);
        assert_eq!(
            without(out, &["meta"]),
            without(body, &["meta", "password", "groups"])
        );
    }

    #[test]
    fn enterprise_user_8_3() {
        let registry = SchemaRegistry::with_core();
        let mut body = rfc_full_user();
        body["schemas"] = json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE_USER_SCHEMA
        ]);
        body[ENTERPRISE_USER_SCHEMA] = json!({
            "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
            "division": "Theme Park", "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d",
                        "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        });
        let n =
            normalize_for_write(&body, &registry, ResourceKind::User, WriteMode::Create).unwrap();
        let out = render_user(&registry, &n.document, None, &Projection::Default);
        // manager.displayName is readOnly: dropped on input, so not rendered back.
        let mut expected = without(body, &["meta", "password", "groups"]);
        expected[ENTERPRISE_USER_SCHEMA]["manager"]
            .as_object_mut()
            .unwrap()
            .remove("displayName");
        assert_eq!(without(out.clone(), &["meta"]), expected);
        assert_eq!(
            out["schemas"],
            json!([scimd_protocol::schema::USER_SCHEMA, ENTERPRISE_USER_SCHEMA])
        );
    }
}

mod rfc7643_3_1_common_attributes {
    use super::*;

    #[test]
    fn meta_is_server_generated() {
        let registry = SchemaRegistry::with_core();
        let out = render_user(
            &registry,
            &doc(json!({"userName": "a"})),
            None,
            &Projection::Default,
        );
        assert_eq!(
            out["meta"],
            json!({
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T02:42:34.25Z",
                "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
                "version": "W/\"3\""
            })
        );
        assert_eq!(out["id"], "2819c223-7f76-453a-919d-413861904646");
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("schemas"));
    }

    #[test]
    fn extension_schema_listed_only_when_present() {
        let registry = SchemaRegistry::with_core();
        let out = render_user(
            &registry,
            &doc(json!({"userName": "a"})),
            None,
            &Projection::Default,
        );
        assert_eq!(out["schemas"], json!([scimd_protocol::schema::USER_SCHEMA]));
    }
}

mod rfc7643_4_strict_output {
    use super::*;

    #[test]
    fn never_returns_password_and_booleans_are_booleans() {
        let registry = SchemaRegistry::with_core();
        // A document written by hand or an older version: still rendered strictly.
        let d = doc(
            json!({"userName": "a", "password": "secret", "active": "True",
            "roles": [{"value": "r", "primary": "false"}],
            ENTERPRISE_USER_SCHEMA: {"manager": "m1"}}),
        );
        let out = render_user(&registry, &d, None, &Projection::Default);
        assert!(out.get("password").is_none());
        assert_eq!(out["active"], json!(true));
        assert_eq!(out["roles"][0]["primary"], json!(false));
        assert_eq!(
            out[ENTERPRISE_USER_SCHEMA]["manager"],
            json!({"value": "m1"})
        );
    }

    #[test]
    fn user_groups_from_context() {
        let registry = SchemaRegistry::with_core();
        let groups = [GroupRef {
            value: "g1".into(),
            display: Some("Tour Guides".into()),
        }];
        let out = render_user(
            &registry,
            &doc(json!({"userName": "a"})),
            Some(&groups),
            &Projection::Default,
        );
        assert_eq!(
            out["groups"],
            json!([{"value": "g1", "display": "Tour Guides",
                    "$ref": "https://example.com/v2/Groups/g1", "type": "direct"}])
        );
    }

    #[test]
    fn group_members_from_context() {
        let registry = SchemaRegistry::with_core();
        let m = meta();
        let members = [
            Member {
                value: "u1".into(),
                kind: ResourceKind::User,
                display: Some("Babs".into()),
            },
            Member {
                value: "g2".into(),
                kind: ResourceKind::Group,
                display: None,
            },
        ];
        let d = doc(json!({"displayName": "Tour Guides"}));
        let ctx = RenderContext {
            registry: &registry,
            kind: ResourceKind::Group,
            id: "g1",
            meta: &m,
            base_url: "https://example.com/v2/",
            members: Some(&members),
            groups: None,
        };
        let out = render(&d, &ctx, &Projection::Default);
        assert_eq!(
            out["members"],
            json!([
                {"value": "u1", "display": "Babs", "type": "User", "$ref": "https://example.com/v2/Users/u1"},
                {"value": "g2", "type": "Group", "$ref": "https://example.com/v2/Groups/g2"}
            ])
        );
        assert_eq!(out["meta"]["resourceType"], "Group");
        assert_eq!(out["meta"]["location"], "https://example.com/v2/Groups/g1");
        assert_eq!(
            out["schemas"],
            json!([scimd_protocol::schema::GROUP_SCHEMA])
        );
        // Members not loaded: not rendered.
        let ctx = RenderContext {
            members: None,
            ..ctx
        };
        assert!(render(&d, &ctx, &Projection::Default)
            .get("members")
            .is_none());
    }
}
