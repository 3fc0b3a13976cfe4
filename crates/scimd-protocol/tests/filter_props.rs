//! Property tests for the filter language (RFC 7644 §3.4.2.2): printing then parsing
//! gives back the same tree, and no input makes the parser or evaluator panic.

use proptest::prelude::*;
use scimd_protocol::filter::{evaluate, parse, CompareOp, Filter, FilterLimits, Literal, Span};
use scimd_protocol::path::{AttrPath, PatchPath};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::json;

const OPS: [CompareOp; 9] = [
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

/// ATTRNAME (RFC 7643 §2.1), except `not`, which before `(` is the keyword.
fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        Just("$ref".to_owned()),
        Just("and".to_owned()),
        Just("pr".to_owned()),
    ]
    .prop_filter("`not` is a keyword", |n| !n.eq_ignore_ascii_case("not"))
}

fn urn() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some("urn:ietf:params:scim:schemas:core:2.0:User".to_owned())),
        1 => Just(Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned())),
        1 => Just(Some("urn:acme:ext:1.5:Thing".to_owned())),
    ]
}

fn resource_path() -> impl Strategy<Value = AttrPath> {
    (urn(), attr_name(), proptest::option::of(attr_name())).prop_map(|(urn, name, sub_attr)| {
        AttrPath {
            urn,
            name,
            sub_attr,
        }
    })
}

fn element_path() -> impl Strategy<Value = AttrPath> {
    attr_name().prop_map(AttrPath::simple)
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<String>().prop_map(Literal::String),
        "[a-zA-Z0-9 \"\\\\:.()\\[\\]-]{0,12}".prop_map(Literal::String),
        any::<i64>().prop_map(|n| Literal::Number(n.into())),
        any::<u64>().prop_map(|n| Literal::Number(n.into())),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(Literal::Number),
        any::<bool>().prop_map(Literal::Bool),
        Just(Literal::Null),
    ]
}

fn leaf(path: BoxedStrategy<AttrPath>) -> BoxedStrategy<Filter> {
    prop_oneof![
        (
            path.clone(),
            proptest::sample::select(OPS.to_vec()),
            literal()
        )
            .prop_map(|(path, op, value)| Filter::Compare {
                path,
                op,
                value,
                span: Span::default()
            }),
        path.prop_map(|path| Filter::Present {
            path,
            span: Span::default()
        }),
    ]
    .boxed()
}

/// Logical combinations of `base`.
fn combine(base: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    base.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
    .boxed()
}

fn element_filter() -> BoxedStrategy<Filter> {
    combine(leaf(element_path().boxed()))
}

fn filter() -> BoxedStrategy<Filter> {
    let value_path =
        (urn(), attr_name(), element_filter()).prop_map(|(urn, name, inner)| Filter::ValuePath {
            path: AttrPath {
                urn,
                name,
                sub_attr: None,
            },
            filter: Box::new(inner),
            span: Span::default(),
        });
    combine(prop_oneof![3 => leaf(resource_path().boxed()), 1 => value_path].boxed())
}

/// Filters over attributes the User schema has, to exercise the evaluator.
fn user_filter() -> BoxedStrategy<Filter> {
    let path = proptest::sample::select(vec![
        "userName",
        "name.familyName",
        "emails",
        "emails.value",
        "emails.primary",
        "active",
        "meta.created",
        "externalId",
        "title",
        "manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ])
    .prop_map(|p| AttrPath::parse(p).unwrap());
    combine(leaf(path.boxed()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_gives_the_same_filter(f in filter()) {
        let text = f.to_string();
        let parsed = parse(&text, &FilterLimits::default());
        prop_assert!(parsed.is_ok(), "{text}: {:?}", parsed);
        prop_assert_eq!(parsed.unwrap(), f, "{}", text);
    }

    #[test]
    fn patch_paths_round_trip(
        path in resource_path(),
        inner in proptest::option::of(element_filter()),
        sub in proptest::option::of(attr_name()),
    ) {
        let (path, sub) = match &inner {
            Some(_) => (AttrPath { sub_attr: None, ..path }, sub),
            None => (path, None),
        };
        let p = PatchPath { attr: path, filter: inner, sub_attr: sub };
        let text = p.to_string();
        let parsed = PatchPath::parse(&text, &FilterLimits::default());
        prop_assert!(parsed.is_ok(), "{text}: {:?}", parsed);
        prop_assert_eq!(parsed.unwrap(), p, "{}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(f) = parse(&text, &FilterLimits::default()) {
            prop_assert_eq!(parse(&f.to_string(), &FilterLimits::default()).unwrap(), f);
        }
        let _ = PatchPath::parse(&text, &FilterLimits::default());
    }

    #[test]
    fn filter_like_text_never_panics(text in "[a-zA-Z0-9 \"\\\\()\\[\\].:$_-]{0,80}") {
        if let Ok(f) = parse(&text, &FilterLimits::default()) {
            let printed = f.to_string();
            let again = parse(&printed, &FilterLimits::default());
            prop_assert!(again.is_ok(), "{} printed as {}", text, printed);
            prop_assert_eq!(again.unwrap(), f);
        }
        if let Ok(p) = PatchPath::parse(&text, &FilterLimits::default()) {
            prop_assert_eq!(PatchPath::parse(&p.to_string(), &FilterLimits::default()).unwrap(), p);
        }
    }

    #[test]
    fn not_negates_and_evaluation_never_panics(f in user_filter()) {
        let registry = SchemaRegistry::with_core();
        let user = json!({
            "userName": "bjensen", "active": true, "title": "",
            "name": {"familyName": "Jensen"},
            "emails": [{"value": "a@x.com", "primary": true}, {"value": "b@y.org"}],
            "meta": {"created": "2011-05-13T04:42:34Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}}
        });
        let direct = evaluate(&f, &user, &registry, ResourceKind::User);
        let negated = evaluate(&Filter::Not(Box::new(f.clone())), &user, &registry, ResourceKind::User);
        match (direct, negated) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, !b),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
        }
    }
}
