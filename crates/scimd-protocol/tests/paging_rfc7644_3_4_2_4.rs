//! Paging (RFC 7644 §3.4.2.4, RFC 9865 cursors) and the ListResponse (RFC 7644 §3.4.2).

use scimd_protocol::paging::{list_response, PageRequest, PagingLimits, LIST_RESPONSE_SCHEMA};
use scimd_protocol::ScimType;
use serde_json::json;

const LIMITS: PagingLimits = PagingLimits {
    default_count: 100,
    max_count: 500,
};

fn index(start: Option<&str>, count: Option<&str>) -> PageRequest {
    PageRequest::parse(start, count, None, &LIMITS).unwrap()
}

#[test]
fn defaults() {
    assert_eq!(
        index(None, None),
        PageRequest::Index {
            start_index: 1,
            count: 100
        }
    );
}

#[test]
fn start_index_is_one_based_and_below_one_is_one() {
    assert_eq!(
        index(Some("101"), Some("100")),
        PageRequest::Index {
            start_index: 101,
            count: 100
        }
    );
    assert_eq!(
        index(Some("0"), None),
        PageRequest::Index {
            start_index: 1,
            count: 100
        }
    );
    assert_eq!(
        index(Some("-5"), None),
        PageRequest::Index {
            start_index: 1,
            count: 100
        }
    );
}

#[test]
fn count_negative_is_zero_and_capped_at_max() {
    assert_eq!(index(None, Some("-1")).count(), 0);
    assert_eq!(index(None, Some("0")).count(), 0);
    assert_eq!(index(None, Some("10000")).count(), 500);
    assert_eq!(index(None, Some("99999999999999999999999")).count(), 500);
}

#[test]
fn non_integers_are_invalid_value() {
    for (s, c) in [
        (Some("one"), None),
        (None, Some("1.5")),
        (None, Some("")),
        (Some("1e3"), None),
    ] {
        let err = PageRequest::parse(s, c, None, &LIMITS).unwrap_err();
        assert_eq!(
            (err.status, err.scim_type),
            (400, Some(ScimType::InvalidValue))
        );
    }
}

#[test]
fn rfc9865_cursor_parameter_selects_cursor_paging() {
    assert_eq!(
        PageRequest::parse(Some("5"), Some("10"), Some(""), &LIMITS).unwrap(),
        PageRequest::Cursor {
            cursor: None,
            count: 10
        }
    );
    assert_eq!(
        PageRequest::parse(None, None, Some("abc"), &LIMITS).unwrap(),
        PageRequest::Cursor {
            cursor: Some("abc".into()),
            count: 100
        }
    );
}

#[test]
fn list_response_index_paging() {
    let body = list_response(
        vec![json!({"id": "1"}), json!({"id": "2"})],
        7,
        Some(3),
        None,
    );
    assert_eq!(
        body,
        json!({"schemas": [LIST_RESPONSE_SCHEMA], "totalResults": 7, "itemsPerPage": 2,
               "startIndex": 3, "Resources": [{"id": "1"}, {"id": "2"}]})
    );
    assert!(body["totalResults"].is_u64() && body["startIndex"].is_u64());
}

#[test]
fn r2_empty_list_has_empty_resources() {
    let body = list_response(vec![], 0, Some(1), None);
    assert_eq!(body["Resources"], json!([]));
    assert_eq!(body["totalResults"], 0);
    assert_eq!(body["itemsPerPage"], 0);
}

#[test]
fn list_response_cursor_paging() {
    let body = list_response(vec![json!({"id": "1"})], 2, None, Some("next".into()));
    assert_eq!(body["nextCursor"], "next");
    assert!(body.get("startIndex").is_none());
    let last = list_response(vec![json!({"id": "2"})], 2, None, None);
    assert!(last.get("nextCursor").is_none());
}
