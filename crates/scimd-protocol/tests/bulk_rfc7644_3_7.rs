//! Bulk operations (RFC 7644 §3.7).

use scimd_protocol::bulk::{
    execution_order, substitute_bulk_ids, substitute_in_str, BulkLimits, BulkMethod, BulkOperation,
    BulkOperationResponse, BulkRequest, BulkResponse, BULK_RESPONSE_SCHEMA,
};
use scimd_protocol::ScimType;
use serde_json::{json, Value};
use std::collections::HashMap;

const LIMITS: BulkLimits = BulkLimits {
    max_operations: 3,
    max_payload_size: 4096,
};

fn parse(v: Value) -> Result<BulkRequest, scimd_protocol::ScimError> {
    BulkRequest::parse(v.to_string().as_bytes(), &LIMITS)
}

fn post(bulk_id: &str, path: &str, data: Value) -> BulkOperation {
    BulkOperation {
        method: BulkMethod::Post,
        bulk_id: Some(bulk_id.into()),
        version: None,
        path: path.into(),
        data: Some(data),
    }
}

mod rfc7644_3_7_request {
    use super::*;

    #[test]
    fn parses_the_rfc_shape_with_any_method_case() {
        let req = parse(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": {"userName": "Alice"}},
                {"method": "patch", "path": "/Groups/e9e3", "version": "W/\"1\"",
                 "data": {"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:qwerty"}]}]}},
                {"method": "Delete", "path": "/Users/b7c1"}
            ]
        }))
        .unwrap();
        assert_eq!(req.fail_on_errors, Some(1));
        assert_eq!(req.operations.len(), 3);
        assert_eq!(req.operations[0].bulk_id.as_deref(), Some("qwerty"));
        assert_eq!(req.operations[1].method, BulkMethod::Patch);
        assert_eq!(req.operations[1].version.as_deref(), Some("W/\"1\""));
        assert_eq!(req.operations[2].method, BulkMethod::Delete);
    }

    #[test]
    fn rfc7644_3_7_4_too_many_operations_is_413() {
        let op = json!({"method": "DELETE", "path": "/Users/1"});
        let err = parse(json!({"Operations": [op, op, op, op]})).unwrap_err();
        assert_eq!(err.status, 413);
        assert!(err.detail.contains("maxOperations"));
    }

    #[test]
    fn rfc7644_3_7_4_payload_too_large_is_413() {
        let big = "x".repeat(5000);
        let err = parse(json!({"Operations": [{"method": "POST", "bulkId": "a", "path": "/Users", "data": {"userName": big}}]})).unwrap_err();
        assert_eq!(err.status, 413);
    }

    #[test]
    fn malformed_requests() {
        let err = BulkRequest::parse(b"{not json", &LIMITS).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
        let err =
            parse(json!({"Operations": [{"method": "FETCH", "path": "/Users"}]})).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidSyntax));
        let err = parse(json!({"Operations": [{"method": "POST", "path": "/Users", "data": {}}]}))
            .unwrap_err();
        assert_eq!(
            err.scim_type,
            Some(ScimType::InvalidValue),
            "POST without bulkId"
        );
        let err =
            parse(json!({"Operations": [{"method": "PUT", "path": "/Users/1"}]})).unwrap_err();
        assert_eq!(
            err.scim_type,
            Some(ScimType::InvalidValue),
            "PUT without data"
        );
        let err =
            parse(json!({"Operations": [{"method": "DELETE", "path": "Users/1"}]})).unwrap_err();
        assert_eq!(err.scim_type, Some(ScimType::InvalidValue), "relative path");
    }
}

mod rfc7644_3_7_2_bulk_id_references {
    use super::*;

    #[test]
    fn referenced_posts_run_first_otherwise_request_order() {
        // RFC 7644 §3.7.2: a group whose members are users created in the same request.
        let ops = vec![
            post(
                "g",
                "/Groups",
                json!({"displayName": "G", "members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}),
            ),
            BulkOperation {
                method: BulkMethod::Delete,
                bulk_id: None,
                version: None,
                path: "/Users/x".into(),
                data: None,
            },
            post("u1", "/Users", json!({"userName": "a"})),
            post("u2", "/Users", json!({"userName": "b"})),
        ];
        assert_eq!(execution_order(&ops).unwrap(), vec![1, 2, 3, 0]);
    }

    #[test]
    fn references_in_path_count() {
        let ops = vec![
            BulkOperation {
                method: BulkMethod::Patch,
                bulk_id: None,
                version: None,
                path: "/Groups/bulkId:g".into(),
                data: Some(json!({"Operations": []})),
            },
            post("g", "/Groups", json!({"displayName": "G"})),
        ];
        assert_eq!(execution_order(&ops).unwrap(), vec![1, 0]);
    }

    #[test]
    fn rfc7644_3_7_1_cycles_are_409() {
        let ops = vec![
            post(
                "a",
                "/Groups",
                json!({"displayName": "A", "members": [{"value": "bulkId:b"}]}),
            ),
            post(
                "b",
                "/Groups",
                json!({"displayName": "B", "members": [{"value": "bulkId:a"}]}),
            ),
            post("c", "/Users", json!({"userName": "c"})),
        ];
        let err = execution_order(&ops).unwrap_err();
        assert_eq!(err.status, 409);
        let self_ref = vec![post(
            "s",
            "/Users",
            json!({"userName": "s",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "bulkId:s"}}}),
        )];
        assert_eq!(execution_order(&self_ref).unwrap_err().status, 409);
    }

    #[test]
    fn unknown_and_duplicate_bulk_ids_are_invalid_value() {
        let ops = vec![post(
            "a",
            "/Groups",
            json!({"displayName": "A", "members": [{"value": "bulkId:nope"}]}),
        )];
        let err = execution_order(&ops).unwrap_err();
        assert_eq!(
            (err.status, err.scim_type),
            (400, Some(ScimType::InvalidValue))
        );
        let ops = vec![
            post("a", "/Users", json!({"userName": "a"})),
            post("a", "/Users", json!({"userName": "b"})),
        ];
        assert_eq!(
            execution_order(&ops).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn substitution_replaces_whole_and_embedded_references() {
        let resolved: HashMap<String, String> = [
            ("u1".to_string(), "92b7".to_string()),
            ("g".to_string(), "e9e3".to_string()),
        ]
        .into();
        let mut data = json!({"members": [{"value": "bulkId:u1"}, {"value": "bulkId:other"}], "n": 1,
                              "note": "see bulkId:g/x"});
        substitute_bulk_ids(&mut data, &resolved);
        assert_eq!(
            data,
            json!({"members": [{"value": "92b7"}, {"value": "bulkId:other"}], "n": 1,
                                "note": "see e9e3/x"})
        );
        assert_eq!(
            substitute_in_str("/Groups/bulkId:g", &resolved).as_deref(),
            Some("/Groups/e9e3")
        );
        assert_eq!(substitute_in_str("/Groups/abc", &resolved), None);
    }
}

mod rfc7644_3_7_3_response {
    use super::*;

    #[test]
    fn renders_statuses_as_strings() {
        let response = BulkResponse {
            operations: vec![
                BulkOperationResponse {
                    method: BulkMethod::Post,
                    bulk_id: Some("qwerty".into()),
                    version: Some("W/\"1\"".into()),
                    location: Some("https://example.com/v2/Users/92b7".into()),
                    status: 201,
                    response: None,
                },
                BulkOperationResponse {
                    method: BulkMethod::Delete,
                    bulk_id: None,
                    version: None,
                    location: None,
                    status: 404,
                    response: Some(scimd_protocol::ScimError::not_found("no such user").to_json()),
                },
            ],
        };
        let body = response.to_json();
        assert_eq!(body["schemas"], json!([BULK_RESPONSE_SCHEMA]));
        assert_eq!(
            body["Operations"][0],
            json!({"location": "https://example.com/v2/Users/92b7", "method": "POST", "bulkId": "qwerty",
                   "version": "W/\"1\"", "status": "201"})
        );
        assert_eq!(body["Operations"][1]["status"], "404");
        assert_eq!(body["Operations"][1]["response"]["status"], "404");
    }
}
