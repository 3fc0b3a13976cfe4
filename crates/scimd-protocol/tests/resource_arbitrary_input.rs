//! Arbitrary input never panics: every entry point either succeeds or returns a
//! ScimError with a 4xx status.

use proptest::prelude::*;
use scimd_protocol::bulk::{execution_order, BulkLimits, BulkRequest};
use scimd_protocol::etag::parse_if_match;
use scimd_protocol::paging::{PageRequest, PagingLimits};
use scimd_protocol::projection::Projection;
use scimd_protocol::resource::{normalize_for_write, WriteMode};
use scimd_protocol::sort::SortSpec;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::{json, Map, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("userName".to_string()),
        Just("name".to_string()),
        Just("emails".to_string()),
        Just("members".to_string()),
        Just("active".to_string()),
        Just("value".to_string()),
        Just("primary".to_string()),
        Just("name.givenName".to_string()),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string()),
        Just("manager".to_string()),
        Just("x509Certificates".to_string()),
        "[a-zA-Z.:$]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #[test]
    fn normalize_never_panics(body in arb_json()) {
        let r = SchemaRegistry::with_core();
        for kind in [ResourceKind::User, ResourceKind::Group] {
            if let Err(e) = normalize_for_write(&body, &r, kind, WriteMode::Create) {
                prop_assert_eq!(e.status, 400);
            }
            let existing = Map::new();
            let _ = normalize_for_write(&body, &r, kind, WriteMode::Replace { existing: &existing });
        }
    }

    #[test]
    fn query_parameters_never_panic(a in "\\PC{0,40}", b in "\\PC{0,20}") {
        let r = SchemaRegistry::with_core();
        let _ = Projection::parse(Some(&a), Some(&b), &r, ResourceKind::User);
        let _ = SortSpec::parse(Some(&a), Some(&b), &r, ResourceKind::User);
        let _ = PageRequest::parse(Some(&a), Some(&b), None, &PagingLimits::default());
        let _ = parse_if_match(&a);
    }

    #[test]
    fn bulk_never_panics(body in arb_json(), refs in prop::collection::vec("bulkId:[a-c]{0,2}/?", 0..6)) {
        let _ = BulkRequest::from_json(&body, &BulkLimits::default());
        let ops: Vec<Value> = refs.iter().enumerate().map(|(i, r)| json!({
            "method": "POST", "bulkId": format!("{}", ["a", "b", "c"][i % 3]), "path": "/Users",
            "data": {"x": r}
        })).collect();
        if let Ok(req) = BulkRequest::from_json(&json!({"Operations": ops}), &BulkLimits::default()) {
            let _ = execution_order(&req.operations);
        }
    }
}
