//! Request ids: one per request, in the `x-request-id` header both ways and on every
//! log line of the request.
//!
//! A client-sent id is kept when it is sane, so a reverse proxy's or an IdP's id can
//! be followed across systems. "Sane" is short and made of token characters: the id
//! ends up in logs, and a free-form header would let a client forge log content.

use axum::http::{HeaderMap, HeaderName};

/// The header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-sent id kept.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The id of the request being served; also stored in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether a client-sent id may be kept: 1 to 128 characters of `A-Z a-z 0-9 - _ . :`.
pub fn is_sane(candidate: &str) -> bool {
    !candidate.is_empty()
        && candidate.len() <= MAX_REQUEST_ID_LEN
        && candidate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The request's id: the client's when sane, else a new random UUID.
pub fn for_request(headers: &HeaderMap) -> RequestId {
    let sent = headers
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_sane(value));
    match sent {
        Some(value) => RequestId(value.to_owned()),
        None => RequestId(uuid::Uuid::new_v4().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn sane_ids_are_short_token_characters() {
        for good in [
            "abc",
            "7d420df3-9995-4831-a406-ecf8166f5f6a",
            "req.1:2_3",
            &"a".repeat(128),
        ] {
            assert!(is_sane(good), "{good}");
        }
        for bad in ["", "a b", "a\nb", "a\"b", "é", &"a".repeat(129), "x=1&y=2"] {
            assert!(!is_sane(bad), "{bad}");
        }
    }

    #[test]
    fn a_sane_client_id_is_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("from-proxy-1"));
        assert_eq!(for_request(&headers).0, "from-proxy-1");
    }

    #[test]
    fn an_insane_or_missing_id_is_replaced_by_a_uuid() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("has spaces"));
        let replaced = for_request(&headers).0;
        assert!(uuid::Uuid::parse_str(&replaced).is_ok(), "{replaced}");
        let generated = for_request(&HeaderMap::new()).0;
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
        assert_ne!(replaced, generated);
    }
}
