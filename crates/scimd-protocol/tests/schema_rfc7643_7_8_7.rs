//! Schema definitions (RFC 7643 §7, §8.7.1), discovery (RFC 7644 §4) and custom
//! extensions registered at run time.

use scimd_protocol::projection::Projection;
use scimd_protocol::resource::{normalize_for_write, render, Meta, RenderContext, WriteMode};
use scimd_protocol::schema::{
    resource_type_json, resource_types_json, schema_json, schemas_json, Attribute, AttributeType,
    Mutability, Returned, Schema, Uniqueness, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA,
};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimType};
use serde_json::json;
use time::macros::datetime;

const BASE: &str = "https://example.com/v2";

/// (name, type, multiValued, required, caseExact, mutability, returned, uniqueness)
type Row = (
    &'static str,
    AttributeType,
    bool,
    bool,
    bool,
    Mutability,
    Returned,
    Uniqueness,
);

fn check(attr: &Attribute, row: &Row, context: &str) {
    let (name, kind, multi, required, case_exact, mutability, returned, uniqueness) = *row;
    assert_eq!(attr.name, name, "{context}");
    assert_eq!(attr.kind, kind, "{context}.{name} type");
    assert_eq!(attr.multi_valued, multi, "{context}.{name} multiValued");
    assert_eq!(attr.required, required, "{context}.{name} required");
    assert_eq!(attr.case_exact, case_exact, "{context}.{name} caseExact");
    assert_eq!(attr.mutability, mutability, "{context}.{name} mutability");
    assert_eq!(attr.returned, returned, "{context}.{name} returned");
    assert_eq!(attr.uniqueness, uniqueness, "{context}.{name} uniqueness");
}

mod rfc7643_8_7_1_user_schema {
    use super::*;
    use AttributeType::*;
    use Mutability::*;

    const RW: Mutability = ReadWrite;
    const D: Returned = Returned::Default;
    const N: Uniqueness = Uniqueness::None;

    #[test]
    fn top_level_attributes_and_characteristics() {
        let r = SchemaRegistry::with_core();
        let user = r.schema(USER_SCHEMA).unwrap();
        let rows: Vec<Row> = vec![
            (
                "userName",
                String,
                false,
                true,
                false,
                RW,
                D,
                Uniqueness::Server,
            ),
            ("name", Complex, false, false, false, RW, D, N),
            ("displayName", String, false, false, false, RW, D, N),
            ("nickName", String, false, false, false, RW, D, N),
            ("profileUrl", Reference, false, false, false, RW, D, N),
            ("title", String, false, false, false, RW, D, N),
            ("userType", String, false, false, false, RW, D, N),
            ("preferredLanguage", String, false, false, false, RW, D, N),
            ("locale", String, false, false, false, RW, D, N),
            ("timezone", String, false, false, false, RW, D, N),
            ("active", Boolean, false, false, false, RW, D, N),
            (
                "password",
                String,
                false,
                false,
                false,
                WriteOnly,
                Returned::Never,
                N,
            ),
            ("emails", Complex, true, false, false, RW, D, N),
            ("phoneNumbers", Complex, true, false, false, RW, D, N),
            ("ims", Complex, true, false, false, RW, D, N),
            ("photos", Complex, true, false, false, RW, D, N),
            ("addresses", Complex, true, false, false, RW, D, N),
            ("groups", Complex, true, false, false, ReadOnly, D, N),
            ("entitlements", Complex, true, false, false, RW, D, N),
            ("roles", Complex, true, false, false, RW, D, N),
            ("x509Certificates", Complex, true, false, false, RW, D, N),
        ];
        let names: Vec<&str> = user.attributes.iter().map(|a| a.name.as_str()).collect();
        let expected: Vec<&str> = rows.iter().map(|r| r.0).collect();
        assert_eq!(names, expected);
        for (attr, row) in user.attributes.iter().zip(&rows) {
            check(attr, row, "User");
        }
    }

    #[test]
    fn sub_attributes() {
        let r = SchemaRegistry::with_core();
        let user = r.schema(USER_SCHEMA).unwrap();
        let subs = |a: &str| -> Vec<std::string::String> {
            user.attribute(a)
                .unwrap()
                .sub_attributes
                .iter()
                .map(|s| s.name.clone())
                .collect()
        };
        assert_eq!(
            subs("name"),
            [
                "formatted",
                "familyName",
                "givenName",
                "middleName",
                "honorificPrefix",
                "honorificSuffix"
            ]
        );
        for multi in [
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "entitlements",
            "roles",
            "x509Certificates",
        ] {
            assert_eq!(
                subs(multi),
                ["value", "display", "type", "primary"],
                "{multi}"
            );
        }
        assert_eq!(
            subs("addresses"),
            [
                "formatted",
                "streetAddress",
                "locality",
                "region",
                "postalCode",
                "country",
                "type",
                "primary"
            ]
        );
        assert_eq!(subs("groups"), ["value", "$ref", "display", "type"]);
        let groups = user.attribute("groups").unwrap();
        assert!(groups
            .sub_attributes
            .iter()
            .all(|s| s.mutability == ReadOnly));
        assert_eq!(
            groups.sub_attribute("$ref").unwrap().reference_types,
            ["User", "Group"]
        );
        assert_eq!(
            groups.sub_attribute("type").unwrap().canonical_values,
            ["direct", "indirect"]
        );
        let emails = user.attribute("emails").unwrap();
        assert_eq!(
            emails.sub_attribute("type").unwrap().canonical_values,
            ["work", "home", "other"]
        );
        assert_eq!(emails.sub_attribute("primary").unwrap().kind, Boolean);
        let phones = user.attribute("phoneNumbers").unwrap();
        assert_eq!(
            phones.sub_attribute("type").unwrap().canonical_values,
            ["work", "home", "mobile", "fax", "pager", "other"]
        );
        assert_eq!(
            user.attribute("photos")
                .unwrap()
                .sub_attribute("value")
                .unwrap()
                .kind,
            Reference
        );
        assert_eq!(
            user.attribute("x509Certificates")
                .unwrap()
                .sub_attribute("value")
                .unwrap()
                .kind,
            Binary
        );
        assert_eq!(
            user.attribute("profileUrl").unwrap().reference_types,
            ["external"]
        );
    }

    #[test]
    fn group_schema() {
        let r = SchemaRegistry::with_core();
        let group = r.schema(GROUP_SCHEMA).unwrap();
        // displayName: scimd requires it and keeps it unique per tenant (Entra R13),
        // which is stricter than RFC 7643 §8.7.1 and is what /Schemas says.
        check(
            &group.attributes[0],
            &(
                "displayName",
                String,
                false,
                true,
                false,
                RW,
                D,
                Uniqueness::Server,
            ),
            "Group",
        );
        check(
            &group.attributes[1],
            &("members", Complex, true, false, false, RW, D, N),
            "Group",
        );
        let members = &group.attributes[1];
        for sub in ["value", "$ref", "type"] {
            assert_eq!(
                members.sub_attribute(sub).unwrap().mutability,
                Immutable,
                "members.{sub}"
            );
        }
        assert_eq!(
            members.sub_attribute("type").unwrap().canonical_values,
            ["User", "Group"]
        );
    }

    #[test]
    fn enterprise_user_schema() {
        let r = SchemaRegistry::with_core();
        let ext = r.schema(ENTERPRISE_USER_SCHEMA).unwrap();
        let names: Vec<&str> = ext.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "employeeNumber",
                "costCenter",
                "organization",
                "division",
                "department",
                "manager"
            ]
        );
        let manager = ext.attribute("manager").unwrap();
        assert_eq!(manager.kind, Complex);
        assert!(!manager.multi_valued);
        assert_eq!(
            manager.sub_attribute("$ref").unwrap().reference_types,
            ["User"]
        );
        assert_eq!(
            manager.sub_attribute("displayName").unwrap().mutability,
            ReadOnly
        );
    }
}

mod rfc7644_4_discovery {
    use super::*;

    #[test]
    fn schemas_list() {
        let r = SchemaRegistry::with_core();
        let body = schemas_json(&r, BASE);
        assert_eq!(body["totalResults"], 3);
        assert_eq!(body["itemsPerPage"], 3);
        let user = &body["Resources"][0];
        assert_eq!(
            user["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"])
        );
        assert_eq!(user["id"], USER_SCHEMA);
        assert_eq!(user["name"], "User");
        assert_eq!(user["meta"]["resourceType"], "Schema");
        assert_eq!(
            user["meta"]["location"],
            format!("{BASE}/Schemas/{USER_SCHEMA}")
        );
        let user_name = &user["attributes"][0];
        assert_eq!(user_name["name"], "userName");
        assert_eq!(user_name["multiValued"], false);
        assert_eq!(user_name["uniqueness"], "server");
        // The representation round-trips into the model.
        let parsed: Schema = serde_json::from_value(user.clone()).unwrap();
        assert_eq!(&parsed, r.schema(USER_SCHEMA).unwrap());
    }

    #[test]
    fn one_schema_and_unknown_is_404() {
        let r = SchemaRegistry::with_core();
        let body = schema_json(&r, &ENTERPRISE_USER_SCHEMA.to_uppercase(), BASE).unwrap();
        assert_eq!(body["id"], ENTERPRISE_USER_SCHEMA);
        let err = schema_json(&r, "urn:nope", BASE).unwrap_err();
        assert_eq!(err.status, 404);
    }

    #[test]
    fn resource_types() {
        let r = SchemaRegistry::with_core();
        let body = resource_types_json(&r, BASE);
        assert_eq!(body["totalResults"], 2);
        let user = &body["Resources"][0];
        assert_eq!(
            user["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:ResourceType"])
        );
        assert_eq!(user["id"], "User");
        assert_eq!(user["endpoint"], "/Users");
        assert_eq!(user["schema"], USER_SCHEMA);
        assert_eq!(
            user["schemaExtensions"],
            json!([{"schema": ENTERPRISE_USER_SCHEMA, "required": false}])
        );
        assert_eq!(
            user["meta"],
            json!({"resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/User")})
        );
        assert_eq!(
            resource_type_json(&r, "group", BASE).unwrap()["endpoint"],
            "/Groups"
        );
        assert_eq!(
            resource_type_json(&r, "Device", BASE).unwrap_err().status,
            404
        );
    }
}

mod custom_extension {
    use super::*;

    const ACME: &str = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";

    fn registry() -> SchemaRegistry {
        let mut r = SchemaRegistry::with_core();
        let schema: Schema = serde_json::from_value(json!({
            "id": ACME, "name": "AcmeUser", "description": "Acme additions",
            "attributes": [{"name": "employeeRegion", "type": "string", "multiValued": false,
                            "required": false, "caseExact": false, "mutability": "readWrite",
                            "returned": "default", "uniqueness": "none"}]
        }))
        .unwrap();
        r.register_extension(ResourceKind::User, schema, false)
            .unwrap();
        r
    }

    #[test]
    fn normalise_and_render_a_user_with_the_extension() {
        let r = registry();
        let body = json!({
            "schemas": [USER_SCHEMA],
            "userName": "bjensen",
            ACME.to_uppercase(): {"EMPLOYEEREGION": "EMEA"},
            ENTERPRISE_USER_SCHEMA: {"department": "Tours"}
        });
        let n = normalize_for_write(&body, &r, ResourceKind::User, WriteMode::Create).unwrap();
        assert_eq!(n.document[ACME], json!({"employeeRegion": "EMEA"}));
        let m = Meta {
            created: datetime!(2020-01-01 0:00 UTC),
            last_modified: datetime!(2020-01-01 0:00 UTC),
            version: 1,
        };
        let ctx = RenderContext {
            registry: &r,
            kind: ResourceKind::User,
            id: "u1",
            meta: &m,
            base_url: BASE,
            members: None,
            groups: None,
        };
        let out = render(&n.document, &ctx, &Projection::Default);
        assert_eq!(out[ACME], json!({"employeeRegion": "EMEA"}));
        assert_eq!(
            out["schemas"],
            json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, ACME])
        );
        // Path keys and projection work for it too.
        let n = normalize_for_write(
            &json!({"userName": "b", format!("{ACME}:employeeRegion"): "APAC"}),
            &r,
            ResourceKind::User,
            WriteMode::Create,
        )
        .unwrap();
        let p = Projection::parse(Some("employeeRegion"), None, &r, ResourceKind::User).unwrap();
        let out = render(&n.document, &ctx, &p);
        assert_eq!(
            out,
            json!({"schemas": [USER_SCHEMA, ACME], "id": "u1", ACME: {"employeeRegion": "APAC"}})
        );
        // And /Schemas lists it.
        assert_eq!(schemas_json(&r, BASE)["totalResults"], 4);
        assert_eq!(
            resource_types_json(&r, BASE)["Resources"][0]["schemaExtensions"][1]["schema"],
            ACME
        );
    }

    #[test]
    fn wrong_type_in_the_extension_is_invalid_value() {
        let r = registry();
        let body = json!({"userName": "b", ACME: {"employeeRegion": ["EMEA", "APAC"]}});
        let err =
            normalize_for_write(&body, &r, ResourceKind::User, WriteMode::Create).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        assert!(err.detail.contains("employeeRegion"));
    }
}
