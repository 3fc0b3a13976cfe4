//! PATCH paths (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`.

use scimd_protocol::filter::{parse, FilterLimits};
use scimd_protocol::path::{AttrPath, PatchPath};
use scimd_protocol::ScimType;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn ok(input: &str) -> PatchPath {
    PatchPath::parse(input, &FilterLimits::default()).unwrap_or_else(|e| panic!("{input}: {e}"))
}

fn err(input: &str) -> String {
    let e = PatchPath::parse(input, &FilterLimits::default()).expect_err(input);
    assert_eq!(e.status, 400);
    assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{input}");
    e.detail
}

fn inner(filter: &str) -> scimd_protocol::filter::Filter {
    parse(filter, &FilterLimits::default()).unwrap()
}

mod rfc7644_3_5_2_paths {
    use super::*;

    #[test]
    fn attribute_paths() {
        assert_eq!(
            ok("members"),
            PatchPath {
                attr: AttrPath::simple("members"),
                filter: None,
                sub_attr: None
            }
        );
        assert_eq!(
            ok("name.familyName"),
            PatchPath {
                attr: AttrPath::with_sub("name", "familyName"),
                filter: None,
                sub_attr: None
            }
        );
        let manager = ok(&format!("{ENTERPRISE}:manager"));
        assert_eq!(manager.attr.urn.as_deref(), Some(ENTERPRISE));
        assert_eq!(manager.attr.name, "manager");
        let manager_value = ok(&format!("{ENTERPRISE}:manager.value"));
        assert_eq!(manager_value.attr.sub_attr.as_deref(), Some("value"));
        assert!(manager_value.filter.is_none());
    }

    #[test]
    fn value_paths() {
        let p = ok(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#);
        assert_eq!(p.attr, AttrPath::simple("members"));
        assert_eq!(
            p.filter,
            Some(inner(r#"value eq "2819c223-7f76-453a-919d-413861904646""#))
        );
        assert_eq!(p.sub_attr, None);
    }

    #[test]
    fn value_paths_with_sub_attribute() {
        for (input, attr, filter, sub) in [
            (
                r#"emails[type eq "work"].value"#,
                "emails",
                r#"type eq "work""#,
                "value",
            ),
            (
                r#"addresses[type eq "work"].locality"#,
                "addresses",
                r#"type eq "work""#,
                "locality",
            ),
            (
                r#"phoneNumbers[type eq "mobile"].value"#,
                "phoneNumbers",
                r#"type eq "mobile""#,
                "value",
            ),
            (
                r#"addresses[type eq "work"].formatted"#,
                "addresses",
                r#"type eq "work""#,
                "formatted",
            ),
        ] {
            let p = ok(input);
            assert_eq!(p.attr, AttrPath::simple(attr), "{input}");
            assert_eq!(
                p.attr.sub_attr, None,
                "sub-attribute lives in PatchPath::sub_attr"
            );
            assert_eq!(p.filter, Some(inner(filter)), "{input}");
            assert_eq!(p.sub_attr.as_deref(), Some(sub), "{input}");
        }
    }

    #[test]
    fn entra_manager_removal_path() {
        let p = ok(r#"manager[value eq "26118915-6090-4610-87e4-49d8ca9f808d"]"#);
        assert_eq!(p.attr.name, "manager");
        assert!(p.filter.is_some());
    }

    #[test]
    fn lenient_filter_inside_brackets() {
        let p = ok("members[value EQ 2819c223-7f76-453a-919d-413861904646]");
        assert_eq!(
            p.filter,
            Some(inner(r#"value eq "2819c223-7f76-453a-919d-413861904646""#))
        );
        assert_eq!(ok("  members  ").attr, AttrPath::simple("members"));
    }

    #[test]
    fn display_round_trips() {
        for input in [
            "members",
            "name.familyName",
            r#"emails[type eq "work"].value"#,
            r#"members[value eq "id"]"#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            r#"addresses[type eq "work" and primary eq true].locality"#,
        ] {
            let p = ok(input);
            assert_eq!(p.to_string(), input);
            assert_eq!(ok(&p.to_string()), p);
        }
        assert_eq!(
            ok(r#"emails[TYPE Eq work].Value"#).to_string(),
            r#"emails[TYPE eq "work"].Value"#
        );
    }
}

mod rfc7644_3_12_invalid_path {
    use super::*;

    #[test]
    fn malformed_paths() {
        assert_eq!(
            err(""),
            "unexpected end of path at 0, expected an attribute path"
        );
        assert_eq!(
            err("members members"),
            "unexpected 'members' at 8, expected '[' or end of path"
        );
        assert_eq!(err("1members"), "invalid attribute path '1members' at 0");
        assert!(err(r#"emails[type eq "work""#).starts_with("unexpected end of path at 21"));
        assert!(err(r#"emails[type eq "work"] .value"#).starts_with("unexpected '.value' at 23"));
        assert!(err(r#"emails[type eq "work"].value.x"#).starts_with("invalid sub-attribute"));
        assert!(err(r#"emails[type eq "work"].value eq "x""#).starts_with("unexpected 'eq'"));
        assert!(err(r#"name.givenName[value eq "x"]"#).contains("is a sub-attribute"));
        assert!(err(r#"emails[value[type eq "x"] pr]"#).starts_with("unexpected '['"));
        assert!(err("(members)").starts_with("unexpected '('"));
        assert!(err(r#"emails[type eq "x"]]"#).starts_with("unexpected ']'"));
    }

    #[test]
    fn limits_apply() {
        let tight = FilterLimits {
            max_length: 10,
            max_depth: 1,
        };
        let e = PatchPath::parse(r#"members[value eq "x"]"#, &tight).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
        assert!(e.detail.contains("max_length 10"));
        let shallow = FilterLimits {
            max_length: 100,
            max_depth: 1,
        };
        assert!(PatchPath::parse(r#"members[value eq "x"]"#, &shallow).is_ok());
        assert!(PatchPath::parse(r#"members[(value eq "x")]"#, &shallow).is_err());
    }
}
