//! Input normalisation for POST and PUT, by RFC section (RFC 7643 §2, §4, §7;
//! RFC 7644 §3.3, §3.5.1) and by IdP requirement (docs/idp-clients.md R6, R7, R10, R16).

use scimd_protocol::resource::{normalize_for_write, Document, MemberRef, WriteMode};
use scimd_protocol::schema::ENTERPRISE_USER_SCHEMA;
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimType};
use serde_json::{json, Value};

fn user(body: Value) -> Result<Value, scimd_protocol::ScimError> {
    let registry = SchemaRegistry::with_core();
    normalize_for_write(&body, &registry, ResourceKind::User, WriteMode::Create)
        .map(|n| Value::Object(n.document))
}

fn user_ok(body: Value) -> Value {
    user(body).unwrap()
}

fn invalid_value(body: Value) -> String {
    let err = user(body).unwrap_err();
    assert_eq!(err.status, 400);
    assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "{err}");
    err.detail
}

fn group(
    body: Value,
) -> Result<scimd_protocol::resource::NormalizedResource, scimd_protocol::ScimError> {
    let registry = SchemaRegistry::with_core();
    normalize_for_write(&body, &registry, ResourceKind::Group, WriteMode::Create)
}

mod rfc7644_3_3_create {
    use super::*;

    #[test]
    fn body_must_be_an_object() {
        for body in [json!([]), json!("x"), json!(3), Value::Null] {
            let err = user(body).unwrap_err();
            assert_eq!(err.status, 400);
            assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
        }
    }

    #[test]
    fn unknown_attributes_and_schemas_are_ignored() {
        let doc = user_ok(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "http://schemas.microsoft.com/x"],
            "userName": "a", "favouriteColour": "blue", "name": {"nickname2": "x", "givenName": "A"},
            "urn:example:unknown:1.0:User": {"foo": 1}
        }));
        assert_eq!(doc, json!({"userName": "a", "name": {"givenName": "A"}}));
    }

    #[test]
    fn schemas_may_be_absent() {
        assert_eq!(user_ok(json!({"userName": "a"})), json!({"userName": "a"}));
    }

    #[test]
    fn read_only_input_is_ignored() {
        let doc = user_ok(json!({
            "id": "abc", "userName": "a",
            "meta": {"resourceType": "User", "created": "2020-01-01T00:00:00Z"},
            "groups": [{"value": "g1", "display": "G"}]
        }));
        assert_eq!(doc, json!({"userName": "a"}));
    }

    #[test]
    fn password_is_never_kept() {
        let doc = user_ok(json!({"userName": "a", "password": "t1meMa$heen"}));
        assert_eq!(doc, json!({"userName": "a"}));
    }

    #[test]
    fn external_id_is_kept() {
        let doc = user_ok(json!({"userName": "a", "EXTERNALID": "0a21f0f2"}));
        assert_eq!(doc, json!({"userName": "a", "externalId": "0a21f0f2"}));
    }
}

mod rfc7643_2_1_names_are_case_insensitive {
    use super::*;

    #[test]
    fn canonical_spelling_is_stored() {
        let doc = user_ok(json!({
            "USERNAME": "a", "Name": {"GIVENNAME": "B"}, "Emails": [{"VALUE": "x@y", "Type": "work"}]
        }));
        assert_eq!(
            doc,
            json!({"userName": "a", "name": {"givenName": "B"}, "emails": [{"value": "x@y", "type": "work"}]})
        );
    }

    #[test]
    fn extension_urn_is_canonicalised() {
        let doc = user_ok(json!({
            "userName": "a",
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"Department": "Sales"}
        }));
        assert_eq!(
            doc,
            json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"department": "Sales"}})
        );
    }
}

mod rfc7643_2_3_data_types {
    use super::*;

    #[test]
    fn string_rejects_other_types_naming_the_attribute() {
        let detail = invalid_value(json!({"userName": "a", "title": 3}));
        assert!(detail.contains("title"), "{detail}");
        let detail = invalid_value(json!({"userName": "a", "name": {"givenName": true}}));
        assert!(detail.contains("name.givenName"), "{detail}");
    }

    #[test]
    fn boolean_accepts_strings_in_any_case_r6() {
        for (given, want) in [
            ("True", true),
            ("FALSE", false),
            ("true", true),
            ("false", false),
        ] {
            let doc = user_ok(json!({"userName": "a", "active": given}));
            assert_eq!(doc["active"], json!(want));
        }
        assert_eq!(
            user_ok(json!({"userName": "a", "active": false}))["active"],
            json!(false)
        );
        invalid_value(json!({"userName": "a", "active": "yes"}));
        invalid_value(json!({"userName": "a", "active": 1}));
    }

    #[test]
    fn nested_boolean_strings_become_booleans_r6() {
        let doc = user_ok(json!({"userName": "a",
            "roles": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]}));
        assert_eq!(doc["roles"][0]["primary"], json!(true));
    }

    #[test]
    fn binary_must_be_base64() {
        let doc = user_ok(json!({"userName": "a", "x509Certificates": [{"value": "TUlJRA=="}]}));
        assert_eq!(doc["x509Certificates"][0]["value"], "TUlJRA==");
        let detail =
            invalid_value(json!({"userName": "a", "x509Certificates": [{"value": "not base64!"}]}));
        assert!(detail.contains("x509Certificates.value"), "{detail}");
    }

    #[test]
    fn complex_must_be_an_object() {
        invalid_value(json!({"userName": "a", "name": "Barbara"}));
        invalid_value(json!({"userName": "a", "emails": ["x@y"]}));
    }

    #[test]
    fn reference_must_be_a_string() {
        invalid_value(json!({"userName": "a", "profileUrl": {"x": 1}}));
        let doc = user_ok(json!({"userName": "a", "profileUrl": "https://x/y"}));
        assert_eq!(doc["profileUrl"], "https://x/y");
    }
}

mod custom_types {
    use super::*;
    use scimd_protocol::schema::Schema;

    fn registry() -> SchemaRegistry {
        let mut r = SchemaRegistry::with_core();
        let schema: Schema = serde_json::from_value(json!({
            "id": "urn:example:typed:1.0:User",
            "attributes": [
                {"name": "hired", "type": "dateTime"},
                {"name": "level", "type": "integer"},
                {"name": "ratio", "type": "decimal"},
                {"name": "tags", "type": "string", "multiValued": true},
                {"name": "badge", "type": "string", "mutability": "immutable"}
            ]
        }))
        .unwrap();
        r.register_extension(ResourceKind::User, schema, false)
            .unwrap();
        r
    }

    fn run(ext: Value) -> Result<Value, scimd_protocol::ScimError> {
        let r = registry();
        let body = json!({"userName": "a", "urn:example:typed:1.0:User": ext});
        normalize_for_write(&body, &r, ResourceKind::User, WriteMode::Create)
            .map(|n| n.document["urn:example:typed:1.0:User"].clone())
    }

    #[test]
    fn date_time_is_normalised_to_rfc3339_utc() {
        assert_eq!(
            run(json!({"hired": "2010-01-23T04:56:22+02:00"})).unwrap()["hired"],
            "2010-01-23T02:56:22Z"
        );
        assert_eq!(
            run(json!({"hired": "2010-01-23T04:56:22.5Z"})).unwrap()["hired"],
            "2010-01-23T04:56:22.5Z"
        );
        // xsd:dateTime without an offset is taken as UTC.
        assert_eq!(
            run(json!({"hired": "2010-01-23T04:56:22"})).unwrap()["hired"],
            "2010-01-23T04:56:22Z"
        );
        let err = run(json!({"hired": "yesterday"})).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        assert!(err.detail.contains("hired"));
    }

    #[test]
    fn integer_and_decimal() {
        let out = run(json!({"level": 3, "ratio": 0.5})).unwrap();
        assert_eq!(out, json!({"level": 3, "ratio": 0.5}));
        assert_eq!(
            run(json!({"level": 2.5})).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
        // Numbers in strings are read as numbers, like booleans in strings (R6).
        assert_eq!(
            run(json!({"level": "3", "ratio": " 0.25"})).unwrap(),
            json!({"level": 3, "ratio": 0.25})
        );
        assert_eq!(
            run(json!({"level": "three"})).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            run(json!({"ratio": "x"})).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn multi_valued_simple_accepts_a_scalar() {
        assert_eq!(run(json!({"tags": "a"})).unwrap()["tags"], json!(["a"]));
        assert_eq!(
            run(json!({"tags": ["a", null, "b"]})).unwrap()["tags"],
            json!(["a", "b"])
        );
    }

    #[test]
    fn rfc7644_3_5_1_immutable_attribute_cannot_change_on_replace() {
        let r = registry();
        let existing: Document =
            json!({"userName": "a", "urn:example:typed:1.0:User": {"badge": "B1"}})
                .as_object()
                .unwrap()
                .clone();
        let mode = WriteMode::Replace {
            existing: &existing,
        };
        let changed = json!({"userName": "a", "urn:example:typed:1.0:User": {"badge": "B2"}});
        let err = normalize_for_write(&changed, &r, ResourceKind::User, mode).unwrap_err();
        assert_eq!(
            (err.status, err.scim_type),
            (400, Some(ScimType::Mutability))
        );
        let same = json!({"userName": "b", "urn:example:typed:1.0:User": {"badge": "B1"}});
        assert!(normalize_for_write(&same, &r, ResourceKind::User, mode).is_ok());
        // Omitted: the stored value is kept.
        let omitted = json!({"userName": "b"});
        let out = normalize_for_write(&omitted, &r, ResourceKind::User, mode).unwrap();
        assert_eq!(out.document["urn:example:typed:1.0:User"]["badge"], "B1");
        // Not set before: may be set now.
        let fresh: Document = json!({"userName": "a"}).as_object().unwrap().clone();
        let mode = WriteMode::Replace { existing: &fresh };
        assert!(normalize_for_write(&changed, &r, ResourceKind::User, mode).is_ok());
    }
}

mod rfc7643_2_4_multi_valued {
    use super::*;

    #[test]
    fn single_object_is_one_element() {
        let doc = user_ok(json!({"userName": "a", "emails": {"value": "x@y", "type": "work"}}));
        assert_eq!(doc["emails"], json!([{"value": "x@y", "type": "work"}]));
    }

    #[test]
    fn only_the_first_primary_stays_primary() {
        let doc = user_ok(json!({"userName": "a", "emails": [
            {"value": "a@x", "primary": false},
            {"value": "b@x", "primary": true},
            {"value": "c@x", "primary": "true"}
        ]}));
        assert_eq!(doc["emails"][1]["primary"], json!(true));
        assert_eq!(doc["emails"][2]["primary"], json!(false));
    }

    #[test]
    fn roles_with_json_encoded_value_are_kept_as_given() {
        let encoded = "{\"id\":\"06b0\",\"value\":\"25\",\"displayName\":\"Role1234\"}";
        let doc = user_ok(json!({"userName": "a", "roles": [{"value": encoded}]}));
        assert_eq!(doc["roles"][0]["value"], encoded);
    }
}

mod rfc7643_2_5_unassigned {
    use super::*;

    #[test]
    fn nulls_empty_strings_and_empty_arrays_are_dropped_r16() {
        let doc = user_ok(json!({
            "userName": "a", "title": null, "nickName": "", "roles": [], "emails": [null],
            "name": {"givenName": null}, ENTERPRISE_USER_SCHEMA: {"department": null}
        }));
        assert_eq!(doc, json!({"userName": "a"}));
    }
}

mod rfc7643_4_1_required {
    use super::*;

    #[test]
    fn user_name_is_required() {
        let detail = invalid_value(json!({"displayName": "x"}));
        assert!(detail.contains("userName"), "{detail}");
        invalid_value(json!({"userName": ""}));
        invalid_value(json!({"userName": null}));
    }

    #[test]
    fn group_display_name_is_required() {
        let err = group(json!({"members": []})).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        assert!(err.detail.contains("displayName"));
    }
}

mod rfc7643_4_2_group_members {
    use super::*;

    #[test]
    fn members_are_parsed_and_deduplicated() {
        let out = group(json!({
            "displayName": "G",
            "members": [
                {"value": "u1", "type": "User", "display": "U", "$ref": null},
                {"value": "g1", "type": "group"},
                {"value": "u1"},
                {"value": "u2"}
            ]
        }))
        .unwrap();
        assert_eq!(Value::Object(out.document), json!({"displayName": "G"}));
        assert_eq!(
            out.members,
            Some(vec![
                MemberRef {
                    value: "u1".into(),
                    kind: Some(ResourceKind::User),
                    display: Some("U".into()),
                },
                MemberRef {
                    value: "g1".into(),
                    kind: Some(ResourceKind::Group),
                    display: None,
                },
                MemberRef::id("u2"),
            ])
        );
    }

    #[test]
    fn empty_and_absent_members_differ() {
        assert_eq!(
            group(json!({"displayName": "G", "members": []}))
                .unwrap()
                .members,
            Some(vec![])
        );
        assert_eq!(group(json!({"displayName": "G"})).unwrap().members, None);
    }

    #[test]
    fn member_without_string_value_is_invalid() {
        for bad in [
            json!([{"display": "x"}]),
            json!([{"value": 3}]),
            json!([{"value": ""}]),
            json!([7]),
        ] {
            let err = group(json!({"displayName": "G", "members": bad})).unwrap_err();
            assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
        }
    }

    #[test]
    fn entra_group_create_shape() {
        let out = group(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "externalId": "8aa1a0c0", "displayName": "Group1", "meta": {"resourceType": "Group"}
        }))
        .unwrap();
        assert_eq!(
            Value::Object(out.document),
            json!({"externalId": "8aa1a0c0", "displayName": "Group1"})
        );
    }
}

mod rfc7643_4_3_enterprise_extension {
    use super::*;

    #[test]
    fn extension_accepted_without_its_urn_in_schemas_r16() {
        let doc = user_ok(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "a", ENTERPRISE_USER_SCHEMA: {"employeeNumber": "1234"}
        }));
        assert_eq!(doc[ENTERPRISE_USER_SCHEMA]["employeeNumber"], "1234");
    }

    #[test]
    fn manager_shapes_r10() {
        for given in [
            json!("m1"),
            json!({"value": "m1"}),
            json!([{"value": "m1"}]),
        ] {
            let doc = user_ok(json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"manager": given}}));
            assert_eq!(
                doc[ENTERPRISE_USER_SCHEMA]["manager"],
                json!({"value": "m1"})
            );
        }
        for empty in [json!(""), json!({"value": ""}), json!([]), Value::Null] {
            let doc = user_ok(json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"manager": empty}}));
            assert!(doc.get(ENTERPRISE_USER_SCHEMA).is_none(), "{doc}");
        }
    }

    #[test]
    fn manager_display_name_is_read_only() {
        let doc = user_ok(json!({"userName": "a",
            ENTERPRISE_USER_SCHEMA: {"manager": {"value": "m1", "displayName": "Boss"}}}));
        assert_eq!(
            doc[ENTERPRISE_USER_SCHEMA]["manager"],
            json!({"value": "m1"})
        );
    }

    #[test]
    fn extension_must_be_an_object() {
        invalid_value(json!({"userName": "a", ENTERPRISE_USER_SCHEMA: "x"}));
    }
}

mod r7_path_keys {
    use super::*;

    #[test]
    fn dotted_and_urn_keys_are_routed_into_place() {
        let doc = user_ok(json!({
            "userName": "a",
            "name.givenName": "Kkom",
            "name.familyName": "Unua",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "m1",
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Bjfe"
        }));
        assert_eq!(
            doc,
            json!({
                "userName": "a",
                "name": {"givenName": "Kkom", "familyName": "Unua"},
                ENTERPRISE_USER_SCHEMA: {"employeeNumber": "Aklq", "manager": {"value": "m1"}},
                "displayName": "Bjfe"
            })
        );
    }

    #[test]
    fn unqualified_extension_attribute_goes_into_the_extension() {
        let doc = user_ok(json!({"userName": "a", "department": "Retail"}));
        assert_eq!(
            doc,
            json!({"userName": "a", ENTERPRISE_USER_SCHEMA: {"department": "Retail"}})
        );
    }

    #[test]
    fn dotted_key_merges_with_object_form() {
        let doc =
            user_ok(json!({"userName": "a", "name": {"familyName": "F"}, "name.givenName": "G"}));
        assert_eq!(doc["name"], json!({"familyName": "F", "givenName": "G"}));
    }
}

mod entra_and_okta_bodies {
    use super::*;

    #[test]
    fn entra_create_user() {
        let doc = user_ok(
            json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
         "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
         "userName":"Test_User_00aa00aa@contoso.com","active":true,
         "displayName":"Test User","title":"Engineer",
         "emails":[{"primary":true,"type":"work","value":"test.user@contoso.com"}],
         "name":{"formatted":"Test User","familyName":"User","givenName":"Test"},
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
           {"department":"Sales","employeeNumber":"1234"},
         "meta":{"resourceType":"User"},"roles":[]}),
        );
        assert_eq!(doc["userName"], "Test_User_00aa00aa@contoso.com");
        assert!(
            doc.get("meta").is_none() && doc.get("roles").is_none() && doc.get("schemas").is_none()
        );
        assert_eq!(doc[ENTERPRISE_USER_SCHEMA]["department"], "Sales");
    }

    #[test]
    fn okta_put_of_a_read_back_user() {
        let doc = user_ok(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223", "userName": "u@okta.local", "active": false, "locale": "en-US",
            "password": "placeholder", "groups": [],
            "meta": {"resourceType": "User", "version": "W/\"3\"", "location": "https://x/Users/2819c223"}
        }));
        assert_eq!(
            doc,
            json!({"userName": "u@okta.local", "active": false, "locale": "en-US"})
        );
    }
}
