//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) and the `returned`
//! characteristic (RFC 7643 §7).

use scimd_protocol::path::AttrPath;
use scimd_protocol::projection::Projection;
use scimd_protocol::resource::{render, Document, GroupRef, Member, Meta, RenderContext};
use scimd_protocol::schema::{Schema, ENTERPRISE_USER_SCHEMA};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Value};
use time::macros::datetime;

fn user_doc() -> Document {
    json!({
        "userName": "bjensen", "displayName": "Babs", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@work", "type": "work", "primary": true}, {"value": "b@home", "type": "home"}],
        ENTERPRISE_USER_SCHEMA: {"department": "Tours", "employeeNumber": "7"}
    })
    .as_object()
    .unwrap()
    .clone()
}

fn project(registry: &SchemaRegistry, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let p = Projection::parse(attributes, excluded, registry, ResourceKind::User).unwrap();
    let m = Meta {
        created: datetime!(2020-01-01 0:00 UTC),
        last_modified: datetime!(2020-01-01 0:00 UTC),
        version: 1,
    };
    let groups = [GroupRef {
        value: "g1".into(),
        display: None,
    }];
    let ctx = RenderContext {
        registry,
        kind: ResourceKind::User,
        id: "u1",
        meta: &m,
        base_url: "https://x",
        members: None,
        groups: Some(&groups),
    };
    render(&user_doc(), &ctx, &p)
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

mod attributes_parameter {
    use super::*;

    #[test]
    fn only_named_plus_always_returned() {
        let r = SchemaRegistry::with_core();
        let out = project(&r, Some("userName"), None);
        // RFC 7644 §3.9 example: schemas, id and the named attribute.
        assert_eq!(
            out,
            json!({"schemas": [scimd_protocol::schema::USER_SCHEMA], "id": "u1", "userName": "bjensen"})
        );
    }

    #[test]
    fn names_are_case_insensitive_and_urn_qualified() {
        let r = SchemaRegistry::with_core();
        let out = project(
            &r,
            Some("USERNAME,urn:ietf:params:scim:schemas:core:2.0:User:displayName"),
            None,
        );
        assert_eq!(keys(&out), ["schemas", "id", "userName", "displayName"]);
    }

    #[test]
    fn sub_attribute_projection() {
        let r = SchemaRegistry::with_core();
        let out = project(&r, Some("name.givenName,emails.value"), None);
        assert_eq!(out["name"], json!({"givenName": "Barbara"}));
        assert_eq!(
            out["emails"],
            json!([{"value": "b@work"}, {"value": "b@home"}])
        );
    }

    #[test]
    fn value_filter_form_is_read_as_the_attribute() {
        // Microsoft's validator sends attributes=emails[type eq "work"].
        let r = SchemaRegistry::with_core();
        let out = project(&r, Some("emails[type eq \"work\"]"), None);
        assert_eq!(keys(&out), ["schemas", "id", "emails"]);
        assert_eq!(out["emails"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn extension_attributes_and_whole_extension() {
        let r = SchemaRegistry::with_core();
        let out = project(
            &r,
            Some(&format!("{ENTERPRISE_USER_SCHEMA}:department")),
            None,
        );
        assert_eq!(out[ENTERPRISE_USER_SCHEMA], json!({"department": "Tours"}));
        assert_eq!(
            out["schemas"],
            json!([scimd_protocol::schema::USER_SCHEMA, ENTERPRISE_USER_SCHEMA])
        );
        let out = project(&r, Some(ENTERPRISE_USER_SCHEMA), None);
        assert_eq!(
            out[ENTERPRISE_USER_SCHEMA],
            json!({"department": "Tours", "employeeNumber": "7"})
        );
        // Unqualified extension attribute names resolve too.
        let out = project(&r, Some("department"), None);
        assert_eq!(out[ENTERPRISE_USER_SCHEMA], json!({"department": "Tours"}));
    }

    #[test]
    fn extension_dropped_from_schemas_when_projected_out() {
        let r = SchemaRegistry::with_core();
        let out = project(&r, Some("userName"), None);
        assert_eq!(out["schemas"], json!([scimd_protocol::schema::USER_SCHEMA]));
    }

    #[test]
    fn unknown_names_are_ignored() {
        let r = SchemaRegistry::with_core();
        let out = project(&r, Some("userName,favouriteColour,bad name"), None);
        assert_eq!(keys(&out), ["schemas", "id", "userName"]);
        // Nothing known at all: the default set.
        let all = project(&r, Some("favouriteColour"), None);
        assert!(all.get("meta").is_some() && all.get("displayName").is_some());
    }

    #[test]
    fn attributes_wins_over_excluded() {
        let r = SchemaRegistry::with_core();
        let out = project(&r, Some("userName"), Some("userName"));
        assert_eq!(out["userName"], "bjensen");
    }
}

mod excluded_attributes_parameter {
    use super::*;

    #[test]
    fn default_set_minus_excluded() {
        let r = SchemaRegistry::with_core();
        let out = project(&r, None, Some("emails,NAME.familyName,groups"));
        assert!(out.get("emails").is_none() && out.get("groups").is_none());
        assert_eq!(out["name"], json!({"givenName": "Barbara"}));
        assert_eq!(out["userName"], "bjensen");
        assert!(out.get("meta").is_some());
    }

    #[test]
    fn always_returned_cannot_be_excluded() {
        let r = SchemaRegistry::with_core();
        let out = project(&r, None, Some("id,schemas"));
        assert_eq!(out["id"], "u1");
        assert!(out.get("schemas").is_some());
    }

    #[test]
    fn r11_excluded_members_are_not_loaded() {
        let r = SchemaRegistry::with_core();
        let p = Projection::parse(None, Some("members"), &r, ResourceKind::Group).unwrap();
        assert!(!p.includes_attribute("members"));
        assert!(p.includes_attribute("displayName"));
        let p = Projection::parse(None, Some("members.display"), &r, ResourceKind::Group).unwrap();
        assert!(p.includes_attribute("members"));
        let p = Projection::parse(Some("displayName"), None, &r, ResourceKind::Group).unwrap();
        assert!(!p.includes_attribute("members"));
        let p = Projection::parse(Some("Members.value"), None, &r, ResourceKind::Group).unwrap();
        assert!(p.includes_attribute("members"));
        assert!(Projection::Default.includes_attribute("members"));
    }

    #[test]
    fn r11_rendered_group_has_no_members() {
        let r = SchemaRegistry::with_core();
        let p = Projection::parse(None, Some("members"), &r, ResourceKind::Group).unwrap();
        let m = Meta {
            created: datetime!(2020-01-01 0:00 UTC),
            last_modified: datetime!(2020-01-01 0:00 UTC),
            version: 1,
        };
        let members = [Member {
            value: "u1".into(),
            kind: ResourceKind::User,
            display: None,
        }];
        let d = json!({"displayName": "G"}).as_object().unwrap().clone();
        let ctx = RenderContext {
            registry: &r,
            kind: ResourceKind::Group,
            id: "g",
            meta: &m,
            base_url: "https://x",
            members: Some(&members),
            groups: None,
        };
        let out = render(&d, &ctx, &p);
        assert!(out.get("members").is_none());
        assert_eq!(out["displayName"], "G");
    }
}

mod rfc7643_7_returned_characteristic {
    use super::*;

    fn registry_with_request_only() -> SchemaRegistry {
        let mut r = SchemaRegistry::with_core();
        let schema: Schema = serde_json::from_value(json!({
            "id": "urn:example:secret:1.0:User",
            "attributes": [
                {"name": "badge", "type": "string", "returned": "request"},
                {"name": "pin", "type": "string", "returned": "never"},
                {"name": "region", "type": "string"}
            ]
        }))
        .unwrap();
        r.register_extension(ResourceKind::User, schema, false)
            .unwrap();
        r
    }

    fn render_with(r: &SchemaRegistry, p: &Projection) -> Value {
        let m = Meta {
            created: datetime!(2020-01-01 0:00 UTC),
            last_modified: datetime!(2020-01-01 0:00 UTC),
            version: 1,
        };
        let d = json!({"userName": "a", "urn:example:secret:1.0:User": {"badge": "B", "pin": "1234", "region": "EU"}})
            .as_object().unwrap().clone();
        let ctx = RenderContext {
            registry: r,
            kind: ResourceKind::User,
            id: "u",
            meta: &m,
            base_url: "https://x",
            members: None,
            groups: None,
        };
        render(&d, &ctx, p)
    }

    #[test]
    fn request_only_when_named_and_never_never() {
        let r = registry_with_request_only();
        let ext = "urn:example:secret:1.0:User";
        let out = render_with(&r, &Projection::Default);
        assert_eq!(out[ext], json!({"region": "EU"}));
        let p = Projection::parse(Some("badge,pin"), None, &r, ResourceKind::User).unwrap();
        assert_eq!(render_with(&r, &p)[ext], json!({"badge": "B"}));
        let p = Projection::parse(None, Some("userName"), &r, ResourceKind::User).unwrap();
        assert_eq!(render_with(&r, &p)[ext], json!({"region": "EU"}));
    }

    #[test]
    fn parsed_paths_are_canonical() {
        let r = SchemaRegistry::with_core();
        let p = Projection::parse(
            Some("NAME.GIVENNAME, Department"),
            None,
            &r,
            ResourceKind::User,
        )
        .unwrap();
        assert_eq!(
            p,
            Projection::Include(vec![
                AttrPath::with_sub("name", "givenName"),
                AttrPath {
                    urn: Some(ENTERPRISE_USER_SCHEMA.into()),
                    name: "department".into(),
                    sub_attr: None
                },
            ])
        );
    }
}
