//! Filter evaluation and validation (RFC 7644 §3.4.2.2) against rendered resources.

use scimd_protocol::filter::{
    evaluate, evaluate_element, parse, validate, validate_element, FilterLimits,
};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimType};
use serde_json::{json, Value};

fn user() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "0a21f0f2-8D2A-4f8e-bf98-7363c4aed4ef",
        "meta": {
            "resourceType": "User",
            "created": "2011-05-13T04:42:34Z",
            "lastModified": "2015-10-10T21:38:21.8617979Z",
            "version": "W/\"3\""
        },
        "userName": "BJensen@Example.com",
        "name": {"familyName": "O'Malley", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "babs@foo.com", "type": "xmpp"}],
        "addresses": [{"type": "work", "locality": "Hollywood", "postalCode": "91608"}],
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        }
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge", "type": "User"}
        ],
        "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z"}
    })
}

fn matches_user(filter: &str) -> bool {
    matches(filter, &user(), ResourceKind::User)
}

fn matches(filter: &str, resource: &Value, kind: ResourceKind) -> bool {
    let registry = SchemaRegistry::with_core();
    let parsed = parse(filter, &FilterLimits::default()).unwrap();
    evaluate(&parsed, resource, &registry, kind).unwrap_or_else(|e| panic!("{filter}: {e}"))
}

fn invalid(filter: &str, kind: ResourceKind) -> String {
    let registry = SchemaRegistry::with_core();
    let parsed = parse(filter, &FilterLimits::default()).unwrap();
    let e = validate(&parsed, &registry, kind).expect_err(filter);
    assert_eq!(e.status, 400);
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    // evaluate refuses the same filters.
    assert_eq!(
        evaluate(&parsed, &user(), &registry, kind).unwrap_err(),
        e,
        "{filter}"
    );
    e.detail
}

mod rfc7644_3_4_2_2_examples {
    use super::*;

    #[test]
    fn rfc_examples_against_babs() {
        let cases: &[(&str, bool)] = &[
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"name.familyName co "O'Malley""#, true),
            (r#"userName sw "J""#, false),
            (r#"userName sw "B""#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#,
                true,
            ),
            (r#"title pr"#, true),
            (r#"nickName pr"#, false),
            (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, true),
            (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, true),
            (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, false),
            (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, false),
            (r#"meta.created ge "2011-05-13T04:42:34Z""#, true),
            (r#"meta.created le "2011-05-13T04:42:34Z""#, true),
            (r#"title pr and userType eq "Employee""#, true),
            (r#"title pr or userType eq "Intern""#, true),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                true,
            ),
            (
                r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
                true,
            ),
            (
                r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
                false,
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                true,
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
                true,
            ),
            (
                r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
                true,
            ),
            (
                r#"emails[type eq "home" and value co "@example.com"]"#,
                false,
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(matches_user(filter), *expected, "{filter}");
        }
    }

    #[test]
    fn group_filters() {
        let g = group();
        assert!(matches(
            r#"displayName eq "tour guides""#,
            &g,
            ResourceKind::Group
        ));
        assert!(matches(
            r#"members[value eq "902c246b-6245-4190-8e05-00816be7344a"]"#,
            &g,
            ResourceKind::Group
        ));
        assert!(matches(
            r#"members eq "902c246b-6245-4190-8e05-00816be7344a""#,
            &g,
            ResourceKind::Group
        ));
        assert!(!matches(
            r#"members[value eq "nobody"]"#,
            &g,
            ResourceKind::Group
        ));
        assert!(!matches(
            r#"members pr"#,
            &json!({"displayName": "x", "members": []}),
            ResourceKind::Group
        ));
    }
}

mod rfc7644_3_4_2_2_semantics {
    use super::*;

    #[test]
    fn multi_valued_any_value_matches() {
        assert!(matches_user(r#"emails.value eq "babs@jensen.org""#));
        assert!(matches_user(r#"emails.type eq "home""#));
        assert!(matches_user(r#"emails ew "jensen.org""#));
        // One element must satisfy the whole bracket; across elements it need not.
        assert!(matches_user(
            r#"emails.type eq "home" and emails.value co "example.com""#
        ));
        assert!(!matches_user(
            r#"emails[type eq "home" and value co "example.com"]"#
        ));
    }

    #[test]
    fn case_exact_from_schema() {
        // userName, emails and externalId are caseExact=false.
        assert!(matches_user(r#"userName eq "bjensen@EXAMPLE.com""#));
        assert!(matches_user(
            r#"externalId eq "0A21F0F2-8d2a-4F8E-BF98-7363C4AED4EF""#
        ));
        assert!(matches_user(
            r#"emails[type eq "WORK"].value eq "BJENSEN@example.com""#
        ));
        // id is caseExact.
        assert!(matches_user(
            r#"id eq "2819c223-7f76-453a-919d-413861904646""#
        ));
        assert!(!matches_user(
            r#"id eq "2819C223-7F76-453A-919D-413861904646""#
        ));
        assert!(!matches_user(r#"meta.resourceType eq "user""#));
    }

    #[test]
    fn string_ordering_is_lexicographic() {
        assert!(matches_user(r#"title gt "Tour""#));
        assert!(matches_user(r#"title lt "tpz""#));
        assert!(!matches_user(r#"title lt "Tour Guide""#));
        assert!(matches_user(r#"title le "tour guide""#));
    }

    #[test]
    fn date_times_compare_as_instants() {
        // lastModified is 21:38:21.8617979Z; the literal is the same instant at -07:00.
        assert!(matches_user(
            "meta.lastModified eq 2015-10-10T14:38:21.8617979-07:00"
        ));
        assert!(matches_user(
            r#"meta.lastModified gt "2015-10-10T14:38:21.86-07:00""#
        ));
        assert!(!matches_user(
            r#"meta.lastModified gt "2015-10-10T23:38:22+02:00""#
        ));
        assert!(matches_user(
            "meta.Created gt 2010-10-10T14:38:21.8617979-07:00"
        ));
        assert!(!matches_user(
            r#"meta.created ne "2011-05-13T06:42:34+02:00""#
        ));
    }

    #[test]
    fn numbers_compare_numerically() {
        let mut u = user();
        u["urn:acme"] = json!({});
        let registry = {
            let mut r = SchemaRegistry::with_core();
            let schema = serde_json::from_value(json!({
                "id": "urn:acme:2.0:User",
                "attributes": [
                    {"name": "level", "type": "integer"},
                    {"name": "score", "type": "decimal"},
                    {"name": "badge", "type": "binary"}
                ]
            }))
            .unwrap();
            r.register_extension(ResourceKind::User, schema, false)
                .unwrap();
            r
        };
        let resource = json!({"urn:acme:2.0:User": {"level": 10, "score": 2.5, "badge": "QUJD"}});
        let check = |filter: &str| {
            let f = parse(filter, &FilterLimits::default()).unwrap();
            evaluate(&f, &resource, &registry, ResourceKind::User).unwrap()
        };
        assert!(check("level gt 9"));
        assert!(!check("level gt 10"));
        assert!(check("level ge 10"));
        assert!(check("level eq 10.0"));
        assert!(check("level lt 1e2"));
        assert!(check(r#"level eq "10""#));
        assert!(check("score gt 2.25"));
        assert!(check("score lt 3"));
        assert!(check("urn:acme:2.0:User:score le 2.5"));
        assert!(check(r#"badge eq "QUJD""#));
        assert!(!check(r#"badge eq "qujd""#));
        let bad = |filter: &str| {
            let f = parse(filter, &FilterLimits::default()).unwrap();
            validate(&f, &registry, ResourceKind::User)
                .unwrap_err()
                .detail
        };
        assert!(bad(r#"level eq "abc""#).contains("expected a number"));
        assert!(bad(r#"level co 1"#).contains("operator 'co'"));
        assert!(bad(r#"badge gt "QUJD""#).contains("operator 'gt'"));
        assert!(bad(r#"badge sw "QU""#).contains("operator 'sw'"));
    }

    #[test]
    fn booleans_including_entra_strings() {
        assert!(matches_user("active eq true"));
        assert!(matches_user("active eq True"));
        assert!(matches_user(r#"active eq "True""#));
        assert!(!matches_user("active eq false"));
        assert!(matches_user("active ne false"));
        assert!(matches_user(
            "emails[primary eq true].value co \"example.com\""
        ));
        let mut u = user();
        u["emails"][0]["primary"] = json!("True");
        assert!(matches("emails[primary eq true]", &u, ResourceKind::User));
    }

    #[test]
    fn present_semantics() {
        assert!(matches_user("emails pr"));
        assert!(matches_user("name pr"));
        assert!(matches_user("name.givenName pr"));
        assert!(!matches_user("name.middleName pr"));
        assert!(!matches_user("roles pr"), "empty array is not present");
        let u = json!({"userName": "x", "title": "", "nickName": null, "name": {}});
        assert!(!matches("title pr", &u, ResourceKind::User), "empty string");
        assert!(!matches("nickName pr", &u, ResourceKind::User), "null");
        assert!(!matches("name pr", &u, ResourceKind::User), "empty object");
        assert!(matches("userName pr", &u, ResourceKind::User));
    }

    #[test]
    fn ne_and_null_on_missing_attributes() {
        assert!(matches_user(r#"nickName ne "x""#), "ne on missing is true");
        assert!(!matches_user(r#"nickName eq "x""#));
        assert!(matches_user("nickName eq null"), "eq null when absent");
        assert!(!matches_user("nickName ne null"));
        assert!(!matches_user("title eq null"));
        assert!(matches_user("title ne null"));
        assert!(
            !matches_user(r#"emails.type ne "home""#),
            "ne is not (eq) over all values"
        );
        assert!(matches_user(r#"not (nickName pr)"#));
    }

    #[test]
    fn names_and_keys_case_insensitive() {
        assert!(matches_user(r#"USERNAME eq "bjensen@example.com""#));
        assert!(matches_user(r#"name.FamilyName co "malley""#));
        assert!(matches_user(r#"EMAILS[TYPE eq "work"].VALUE pr"#));
        let u = json!({"UserName": "lower", "Name": {"GIVENNAME": "Ann"}});
        assert!(matches(r#"userName eq "LOWER""#, &u, ResourceKind::User));
        assert!(matches(
            r#"name.givenName eq "ann""#,
            &u,
            ResourceKind::User
        ));
    }

    #[test]
    fn extension_attributes_qualified_or_not() {
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert!(matches_user(&format!(
            r#"{ext}:department eq "tour operations""#
        )));
        assert!(matches_user(r#"department sw "Tour""#));
        assert!(matches_user(&format!(
            r#"{ext}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#
        )));
        // Entra's legacy `manager eq "<id>"` compares manager.value.
        assert!(matches_user(
            r#"id eq "2819c223-7f76-453a-919d-413861904646" and manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#
        ));
        assert!(matches_user(&format!(
            r#"{ext}:manager[displayName sw "john"]"#
        )));
        assert!(matches_user(&format!(
            r#"{}:department pr"#,
            ext.to_uppercase()
        )));
    }
}

mod idp_clients {
    use super::*;

    #[test]
    fn entra_and_okta_lookups() {
        assert!(matches_user(r#"userName eq "bjensen@example.com""#));
        assert!(!matches_user(
            r#"userName eq "7d420df3-9995-4831-a406-ecf8166f5f6a""#
        ));
        assert!(matches_user(
            r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#
        ));
        assert!(matches_user(
            r#"emails[type eq "work"].value eq "bjensen@example.com""#
        ));
        assert!(!matches_user(
            r#"emails[type eq "home"].value eq "bjensen@example.com""#
        ));
    }

    #[test]
    fn microsoft_validator_filters() {
        let u = json!({
            "userName": "OMalley",
            "name": {"familyName": "employee"},
            "emails": [{"value": "x@example.org"}],
            "meta": {"created": "2020-01-01T00:00:00Z"}
        });
        assert!(matches("userName sw O", &u, ResourceKind::User));
        assert!(matches(
            "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
            &u,
            ResourceKind::User
        ));
        assert!(matches(
            "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)",
            &u,
            ResourceKind::User
        ));
        assert!(matches(
            r#"DisplayName eq "BobIsAmazing""#,
            &json!({"displayName": "bobisamazing"}),
            ResourceKind::Group
        ));
    }

    #[test]
    fn numbers_against_string_attributes_compare_as_text() {
        let u = json!({"externalId": "12345"});
        assert!(matches("externalId eq 12345", &u, ResourceKind::User));
        assert!(matches("externalId sw 123", &u, ResourceKind::User));
    }
}

mod validation {
    use super::*;

    #[test]
    fn unknown_attributes() {
        assert!(
            invalid(r#"nosuch eq "x""#, ResourceKind::User).contains("unknown attribute 'nosuch'")
        );
        assert!(invalid(r#"name.nosuch eq "x""#, ResourceKind::User).contains("unknown attribute"));
        assert!(invalid(r#"userName eq "x""#, ResourceKind::Group).contains("for Group"));
        assert!(invalid(r#"urn:x:y:department eq "x""#, ResourceKind::User)
            .contains("unknown attribute"));
        assert!(invalid(r#"emails[nosuch eq "x"]"#, ResourceKind::User)
            .contains("not a sub-attribute of 'emails'"));
    }

    #[test]
    fn never_returned_attributes_cannot_be_filtered() {
        assert!(invalid(r#"password eq "secret""#, ResourceKind::User).contains("never returned"));
        assert!(invalid(r#"password pr"#, ResourceKind::User).contains("never returned"));
    }

    #[test]
    fn operators_that_cannot_apply() {
        assert!(invalid("active gt true", ResourceKind::User)
            .contains("operator 'gt' cannot be used on boolean"));
        assert!(invalid(r#"active co "t""#, ResourceKind::User).contains("operator 'co'"));
        assert!(invalid(r#"meta.created sw "2011""#, ResourceKind::User)
            .contains("operator 'sw' cannot be used on dateTime"));
        assert!(invalid(r#"name eq "x""#, ResourceKind::User).contains("'name' is complex"));
        assert!(invalid(r#"meta gt "x""#, ResourceKind::User).contains("'meta' is complex"));
        assert!(invalid(r#"x509Certificates gt "x""#, ResourceKind::User)
            .contains("operator 'gt' cannot be used on binary"));
    }

    #[test]
    fn literals_that_cannot_match() {
        assert!(invalid(r#"meta.created gt "yesterday""#, ResourceKind::User).contains("RFC 3339"));
        assert!(invalid("meta.created gt 42", ResourceKind::User).contains("RFC 3339"));
        assert!(invalid(r#"active eq "maybe""#, ResourceKind::User).contains("true or false"));
        assert!(invalid("active eq 1", ResourceKind::User).contains("true or false"));
        assert!(invalid("title gt null", ResourceKind::User).contains("null can only be compared"));
    }

    #[test]
    fn value_paths_need_complex_attributes() {
        assert!(invalid(r#"userName[value eq "x"]"#, ResourceKind::User)
            .contains("needs a complex one"));
        assert!(
            invalid(r#"active[value eq "x"]"#, ResourceKind::User).contains("needs a complex one")
        );
    }

    #[test]
    fn valid_filters_validate() {
        let registry = SchemaRegistry::with_core();
        for filter in [
            r#"userName eq "x" and emails[type eq "work"].value eq "y""#,
            r#"members[value eq "x"] or displayName sw "T""#,
            "meta.lastModified gt 2011-05-13T04:42:34Z",
        ] {
            let f = parse(filter, &FilterLimits::default()).unwrap();
            let kind = if filter.starts_with("members") {
                ResourceKind::Group
            } else {
                ResourceKind::User
            };
            validate(&f, &registry, kind).unwrap_or_else(|e| panic!("{filter}: {e}"));
        }
    }
}

mod elements {
    use super::*;

    fn emails_attr() -> scimd_protocol::schema::Attribute {
        SchemaRegistry::with_core()
            .core_schema(ResourceKind::User)
            .attribute("emails")
            .unwrap()
            .clone()
    }

    #[test]
    fn evaluate_element_tests_one_element() {
        let attr = emails_attr();
        let f = parse(
            r#"type eq "WORK" and not (primary eq false)"#,
            &FilterLimits::default(),
        )
        .unwrap();
        assert!(evaluate_element(
            &f,
            &json!({"type": "work", "value": "a", "primary": true}),
            &attr
        )
        .unwrap());
        assert!(!evaluate_element(&f, &json!({"type": "home", "value": "a"}), &attr).unwrap());
        assert!(evaluate_element(&f, &json!({"type": "work"}), &attr).unwrap());
        assert!(!evaluate_element(&f, &json!("not an object"), &attr).unwrap());
    }

    #[test]
    fn element_filters_are_validated_against_sub_attributes() {
        let attr = emails_attr();
        let bad = parse(r#"nosuch eq "x""#, &FilterLimits::default()).unwrap();
        let e = evaluate_element(&bad, &json!({}), &attr).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        let gt_on_bool = parse("primary gt true", &FilterLimits::default()).unwrap();
        assert!(validate_element(&gt_on_bool, &attr).is_err());
        let ok = parse(r#"value ew ".com""#, &FilterLimits::default()).unwrap();
        assert!(validate_element(&ok, &attr).is_ok());
        let user_name = SchemaRegistry::with_core()
            .core_schema(ResourceKind::User)
            .attribute("userName")
            .unwrap()
            .clone();
        assert!(validate_element(&ok, &user_name).is_err());
    }

    #[test]
    fn odd_resource_shapes_never_panic() {
        let registry = SchemaRegistry::with_core();
        let f = parse(
            r#"emails[type eq "work"].value eq "x" or name.givenName sw "a" or meta.created gt "2011-01-01T00:00:00Z" or manager eq "m""#,
            &FilterLimits::default(),
        )
        .unwrap();
        for resource in [
            json!(null),
            json!([]),
            json!("string"),
            json!({"emails": "not-an-array", "name": [1, 2], "meta": {"created": 5}}),
            json!({"emails": [null, 1, "x", {"type": ["work"], "value": {"a": 1}}]}),
            json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "flat"}),
        ] {
            assert!(!evaluate(&f, &resource, &registry, ResourceKind::User).unwrap());
        }
    }
}
