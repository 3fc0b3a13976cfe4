//! Filter parsing and printing, by RFC 7644 section.

use scimd_protocol::filter::{parse, CompareOp, Filter, FilterLimits, Literal, Span};
use scimd_protocol::path::AttrPath;
use scimd_protocol::ScimType;

fn limits() -> FilterLimits {
    FilterLimits::default()
}

fn ok(input: &str) -> Filter {
    parse(input, &limits()).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

fn err(input: &str) -> String {
    let e = parse(input, &limits()).expect_err(input);
    assert_eq!(e.status, 400, "{input}");
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{input}");
    e.detail
}

fn cmp(path: AttrPath, op: CompareOp, value: Literal) -> Filter {
    Filter::Compare {
        path,
        op,
        value,
        span: Span::default(),
    }
}

fn s(text: &str) -> Literal {
    Literal::String(text.into())
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn present(path: AttrPath) -> Filter {
    Filter::Present {
        path,
        span: Span::default(),
    }
}

fn value_path(name: &str, inner: Filter) -> Filter {
    Filter::ValuePath {
        path: AttrPath::simple(name),
        filter: Box::new(inner),
        span: Span::default(),
    }
}

/// Every example filter of RFC 7644 §3.4.2.2 (Figure 2 and the text around it).
const RFC_EXAMPLES: &[&str] = &[
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"userName sw "J""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    r#"title pr"#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"title pr or userType eq "Intern""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType eq "Employee" and (emails.type eq "work")"#,
    r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    r#"displayName eq "Group1""#,
    r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
];

/// What Entra ID and Okta send (idp-clients.md R3) and Microsoft's validator.
const IDP_FILTERS: &[&str] = &[
    r#"userName eq "7d420df3-9995-4831-a406-ecf8166f5f6a""#,
    r#"userName eq "Test_User_00aa00aa@contoso.com""#,
    r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#,
    r#"emails[type eq "work"].value eq "test.user@contoso.com""#,
    r#"displayName eq "Group1""#,
    r#"id eq "2819c223-7f76-453a-919d-413861904646" and manager eq "26118915-6090-4610-87e4-49d8ca9f808d""#,
    r#"userName eq "test.user@okta.local""#,
    r#"DisplayName eq "BobIsAmazing""#,
    r#"meta.Created gt 2015-10-10T14:38:21.8617979-07:00"#,
    r#"name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)"#,
    r#"userName sw O"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#,
];

mod rfc7644_3_4_2_2_examples {
    use super::*;

    #[test]
    fn every_rfc_example_parses_and_round_trips() {
        for input in RFC_EXAMPLES {
            let filter = ok(input);
            let printed = filter.to_string();
            assert_eq!(ok(&printed), filter, "{input} printed as {printed}");
        }
    }

    #[test]
    fn rfc_examples_print_as_written() {
        // The RFC's examples are already canonical, except for redundant parentheses.
        for input in RFC_EXAMPLES {
            let printed = ok(input).to_string();
            if input.contains("(emails.type") {
                assert_eq!(
                    printed,
                    r#"userType eq "Employee" and emails.type eq "work""#
                );
            } else {
                assert_eq!(&printed, input);
            }
        }
    }

    #[test]
    fn simple_comparison() {
        assert_eq!(
            ok(r#"userName eq "bjensen""#),
            cmp(AttrPath::simple("userName"), CompareOp::Eq, s("bjensen"))
        );
    }

    #[test]
    fn urn_qualified_core_path() {
        let f = ok(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#);
        let Filter::Compare { path, op, .. } = f else {
            panic!("not a comparison")
        };
        assert_eq!(
            path.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(path.name, "userName");
        assert_eq!(op, CompareOp::Sw);
    }

    #[test]
    fn not_with_parenthesised_or() {
        let f = ok(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        );
        assert_eq!(
            f,
            and(
                cmp(AttrPath::simple("userType"), CompareOp::Ne, s("Employee")),
                Filter::Not(Box::new(or(
                    cmp(AttrPath::simple("emails"), CompareOp::Co, s("example.com")),
                    cmp(
                        AttrPath::with_sub("emails", "value"),
                        CompareOp::Co,
                        s("example.org")
                    ),
                )))
            )
        );
    }

    #[test]
    fn value_path_with_logical_inner_filter() {
        let f = ok(
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        );
        assert_eq!(
            f,
            or(
                value_path(
                    "emails",
                    and(
                        cmp(AttrPath::simple("type"), CompareOp::Eq, s("work")),
                        cmp(AttrPath::simple("value"), CompareOp::Co, s("@example.com"))
                    )
                ),
                value_path(
                    "ims",
                    and(
                        cmp(AttrPath::simple("type"), CompareOp::Eq, s("xmpp")),
                        cmp(AttrPath::simple("value"), CompareOp::Co, s("@foo.com"))
                    )
                )
            )
        );
    }
}

mod rfc7644_3_4_2_2_grammar {
    use super::*;

    #[test]
    fn all_operators_in_any_case() {
        for (word, op) in [
            ("eq", CompareOp::Eq),
            ("NE", CompareOp::Ne),
            ("Co", CompareOp::Co),
            ("sW", CompareOp::Sw),
            ("EW", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("GE", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("Le", CompareOp::Le),
        ] {
            assert_eq!(
                ok(&format!(r#"title {word} "x""#)),
                cmp(AttrPath::simple("title"), op, s("x"))
            );
        }
        assert_eq!(ok("title PR"), present(AttrPath::simple("title")));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let a = || present(AttrPath::simple("a"));
        let b = || present(AttrPath::simple("b"));
        let c = || present(AttrPath::simple("c"));
        assert_eq!(ok("a pr or b pr and c pr"), or(a(), and(b(), c())));
        assert_eq!(ok("a pr and b pr or c pr"), or(and(a(), b()), c()));
        assert_eq!(ok("(a pr or b pr) and c pr"), and(or(a(), b()), c()));
        assert_eq!(ok("a pr AND b pr And c pr"), and(and(a(), b()), c()));
        assert_eq!(ok("a pr Or b pr OR c pr"), or(or(a(), b()), c()));
    }

    #[test]
    fn not_binds_tighter_than_and() {
        let f = ok(r#"not (a pr) and b pr"#);
        assert_eq!(
            f,
            and(
                Filter::Not(Box::new(present(AttrPath::simple("a")))),
                present(AttrPath::simple("b"))
            )
        );
        // Errata: with or without a space before the parenthesis.
        assert_eq!(ok("NOT(a pr) and b pr"), f);
    }

    #[test]
    fn literals() {
        let value = |input: &str| match ok(&format!("a eq {input}")) {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(value("true"), Literal::Bool(true));
        assert_eq!(value("False"), Literal::Bool(false));
        assert_eq!(value("NULL"), Literal::Null);
        assert_eq!(value("42"), Literal::Number(42.into()));
        assert_eq!(value("-7"), Literal::Number((-7).into()));
        assert_eq!(
            value("1.5"),
            Literal::Number(serde_json::Number::from_f64(1.5).unwrap())
        );
        assert_eq!(
            value("2e3"),
            Literal::Number(serde_json::Number::from_f64(2000.0).unwrap())
        );
        assert_eq!(value(r#""a\"b""#), s("a\"b"));
        assert_eq!(value(r#""tab\tnew\nline""#), s("tab\tnew\nline"));
        assert_eq!(value(r#""\u00e9t\u00e9""#), s("été"));
        assert_eq!(value(r#""\\""#), s("\\"));
        assert_eq!(value(r#""true""#), s("true"));
    }

    #[test]
    fn whitespace_runs_and_tabs() {
        assert_eq!(
            ok("  userName \t eq\t\t\"x\"   and  title  pr "),
            and(
                cmp(AttrPath::simple("userName"), CompareOp::Eq, s("x")),
                present(AttrPath::simple("title"))
            )
        );
    }

    #[test]
    fn extension_urns_with_dots() {
        let f = ok("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr");
        let Filter::Present { path, .. } = f else {
            panic!()
        };
        assert_eq!(
            path.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(path.name, "manager");
        assert_eq!(path.sub_attr.as_deref(), Some("value"));
    }

    #[test]
    fn spans_cover_their_expressions() {
        let input = r#"userName eq "x" and emails[type eq "work"]"#;
        let Filter::And(left, right) = ok(input) else {
            panic!()
        };
        let Filter::Compare { span, .. } = *left else {
            panic!()
        };
        assert_eq!((span.start, span.end), (0, 15));
        let Filter::ValuePath { span, filter, .. } = *right else {
            panic!()
        };
        assert_eq!(&input[span.start..span.end], r#"emails[type eq "work"]"#);
        let Filter::Compare { span, .. } = *filter else {
            panic!()
        };
        assert_eq!(&input[span.start..span.end], r#"type eq "work""#);
        let Filter::Present { span, .. } = ok("  title pr") else {
            panic!()
        };
        assert_eq!((span.start, span.end), (2, 10));
    }
}

mod idp_clients {
    use super::*;

    #[test]
    fn every_idp_filter_parses_and_round_trips() {
        for input in IDP_FILTERS {
            let filter = ok(input);
            assert_eq!(ok(&filter.to_string()), filter, "{input}");
        }
    }

    #[test]
    fn entra_value_path_with_sub_attribute_is_rewritten() {
        let f = ok(r#"emails[type eq "work"].value eq "test.user@contoso.com""#);
        assert_eq!(
            f,
            value_path(
                "emails",
                and(
                    cmp(AttrPath::simple("type"), CompareOp::Eq, s("work")),
                    cmp(
                        AttrPath::simple("value"),
                        CompareOp::Eq,
                        s("test.user@contoso.com")
                    )
                )
            )
        );
        assert_eq!(
            f.to_string(),
            r#"emails[type eq "work" and value eq "test.user@contoso.com"]"#
        );
        // The rewritten inner filter keeps the grouping of the bracket.
        let g = ok(r#"emails[type eq "work" or type eq "home"].value pr"#);
        assert_eq!(
            g.to_string(),
            r#"emails[(type eq "work" or type eq "home") and value pr]"#
        );
        assert_eq!(ok(&g.to_string()), g);
    }

    #[test]
    fn microsoft_bare_words_are_strings() {
        assert_eq!(
            ok("userName sw O"),
            cmp(AttrPath::simple("userName"), CompareOp::Sw, s("O"))
        );
        assert_eq!(
            ok("meta.Created gt 2015-10-10T14:38:21.8617979-07:00"),
            cmp(
                AttrPath::with_sub("meta", "Created"),
                CompareOp::Gt,
                s("2015-10-10T14:38:21.8617979-07:00")
            )
        );
        let f = ok("name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)");
        assert_eq!(
            f.to_string(),
            r#"name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")"#
        );
    }

    #[test]
    fn names_keep_their_spelling() {
        let Filter::Compare { path, .. } = ok(r#"DisplayName eq "BobIsAmazing""#) else {
            panic!()
        };
        assert_eq!(path.name, "DisplayName");
    }
}

mod rfc7644_3_12_errors {
    use super::*;

    #[test]
    fn positions_and_expectations() {
        assert_eq!(
            err(r#"userName eq "x")"#),
            "unexpected ')' at 15, expected 'and', 'or' or end of filter"
        );
        assert_eq!(
            err(r#"(userName eq "x""#),
            "unexpected end of filter at 16, expected 'and', 'or' or ')'"
        );
        assert_eq!(
            err(r#"userName )"#),
            "unexpected ')' at 9, expected a comparison operator or 'pr'"
        );
        assert_eq!(
            err(r#"userName equals "x""#),
            "unexpected 'equals' at 9, expected a comparison operator or 'pr'"
        );
        assert_eq!(
            err("userName eq"),
            "unexpected end of filter at 11, expected a value (string, number, true, false or null)"
        );
        assert_eq!(
            err(r#"userName eq "x" and"#),
            "unexpected end of filter at 19, expected an attribute path, '(' or 'not'"
        );
        assert_eq!(
            err(r#"emails[type eq "work""#),
            "unexpected end of filter at 21, expected 'and', 'or' or ']'"
        );
        assert_eq!(
            err(r#"not userName eq "x""#),
            "unexpected 'userName' at 4, expected '(' after 'not'"
        );
        assert_eq!(err(r#"1abc eq "x""#), "invalid attribute path '1abc' at 0");
        assert_eq!(err(r#"a eq "x"#), "unterminated string starting at 5");
        assert!(err(r#"a eq "\x""#).starts_with("invalid string literal at 5"));
        assert_eq!(err("a eq 1e999"), "number 1e999 at 5 is out of range");
        assert_eq!(err(""), "the filter is empty");
        assert_eq!(err("   "), "the filter is empty");
        assert_eq!(
            err(r#"a eq and b pr"#),
            "unexpected 'and' at 5, expected a value (string, number, true, false or null)"
        );
        assert_eq!(
            err(r#"a eq "x" "y""#),
            "unexpected string \"y\" at 9, expected 'and', 'or' or end of filter"
        );
    }

    #[test]
    fn value_path_misuse() {
        assert!(err(r#"emails[type[value eq "x"] pr]"#).starts_with("unexpected '[' at 11"));
        assert!(
            err(r#"emails[name.givenName eq "x"]"#).contains("must be a plain sub-attribute name")
        );
        assert!(err(r#"name.givenName[value eq "x"]"#).contains("is a sub-attribute"));
        assert!(err(r#"emails[]"#).starts_with("unexpected ']' at 7"));
        assert!(err(r#"emails[type eq "work"].1x eq "y""#)
            .starts_with("invalid sub-attribute '.1x' at 22"));
        assert!(err(r#"emails[type eq "work"].value"#)
            .contains("expected a comparison operator or 'pr'"));
    }

    #[test]
    fn long_input_is_shortened_in_messages() {
        let detail = err(&format!("{} )", "a".repeat(500)));
        assert!(detail.len() < 200, "{detail}");
    }
}

mod limits {
    use super::*;

    #[test]
    fn max_length() {
        let tight = FilterLimits {
            max_length: 20,
            max_depth: 32,
        };
        assert!(parse(r#"userName eq "abcde""#, &tight).is_ok());
        let e = parse(r#"userName eq "abcdefghij""#, &tight).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        assert!(e.detail.contains("max_length 20"), "{}", e.detail);
    }

    #[test]
    fn max_depth_counts_parentheses_not_and_value_paths() {
        let tight = FilterLimits {
            max_length: 4096,
            max_depth: 3,
        };
        assert!(parse("(((a pr)))", &tight).is_ok());
        let e = parse("((((a pr))))", &tight).unwrap_err();
        assert!(e.detail.contains("max_depth 3"), "{}", e.detail);
        assert!(parse("not (not (not (a pr)))", &tight).is_ok());
        assert!(parse("not (not (not (not (a pr))))", &tight).is_err());
        assert!(parse(r#"not (not (emails[type eq "x"]))"#, &tight).is_ok());
        assert!(parse(r#"not (not (not (emails[type eq "x"])))"#, &tight).is_err());
    }

    #[test]
    fn max_depth_counts_and_or_chains() {
        let tight = FilterLimits {
            max_length: 4096,
            max_depth: 3,
        };
        assert!(parse("a pr and b pr and c pr or d pr", &tight).is_ok());
        assert!(parse("a pr and b pr and c pr and d pr and e pr", &tight).is_err());
    }

    #[test]
    fn hostile_nesting_is_refused_not_overflowed() {
        let generous = FilterLimits {
            max_length: usize::MAX,
            max_depth: usize::MAX,
        };
        let deep = format!("{}a pr{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = parse(&deep, &generous).unwrap_err();
        assert!(e.detail.contains("nested too deeply"), "{}", e.detail);
        let nots = "not (".repeat(50_000);
        assert!(parse(&nots, &generous).is_err());
        let chain = vec!["a pr"; 10_000].join(" or ");
        assert!(parse(&chain, &generous).is_err());
        let brackets = "a[".repeat(10_000);
        assert!(parse(&brackets, &generous).is_err());
    }
}
