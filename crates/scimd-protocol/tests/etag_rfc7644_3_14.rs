//! Versioning with weak ETags (RFC 7644 §3.14, RFC 7232 §2.3, §3.1).

use scimd_protocol::etag::{etag, parse_if_match, IfMatch};
use scimd_protocol::ScimType;

#[test]
fn etag_is_weak_version() {
    assert_eq!(etag(0), "W/\"0\"");
    assert_eq!(etag(42), "W/\"42\"");
}

#[test]
fn star_matches_anything() {
    let m = parse_if_match(" * ").unwrap();
    assert_eq!(m, IfMatch::Any);
    assert!(m.matches(1) && m.matches(99));
}

#[test]
fn weak_strong_and_bare_forms() {
    assert_eq!(
        parse_if_match("W/\"3\"").unwrap(),
        IfMatch::Versions(vec![3])
    );
    assert_eq!(parse_if_match("\"3\"").unwrap(), IfMatch::Versions(vec![3]));
    assert_eq!(parse_if_match("3").unwrap(), IfMatch::Versions(vec![3]));
    assert_eq!(
        parse_if_match("W/\"1\", \"2\",W/\"3\"").unwrap(),
        IfMatch::Versions(vec![1, 2, 3])
    );
    // Round trip of what the server sends.
    assert!(parse_if_match(&etag(7)).unwrap().matches(7));
    assert!(!parse_if_match(&etag(7)).unwrap().matches(8));
}

#[test]
fn foreign_tags_match_nothing() {
    let m = parse_if_match("W/\"3694e05e9dff591\"").unwrap();
    assert_eq!(m, IfMatch::Versions(vec![]));
    assert!(!m.matches(3));
}

#[test]
fn malformed_is_invalid_syntax() {
    for bad in ["", "W/\"3", "\"3\" \"4\"", "\"3\",", ",\"3\"", "W/"] {
        let err = parse_if_match(bad).unwrap_err();
        assert_eq!(
            (err.status, err.scim_type),
            (400, Some(ScimType::InvalidSyntax)),
            "{bad:?}"
        );
    }
}
