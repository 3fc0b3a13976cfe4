//! Opaque cursors for cursor paging (RFC 9865): the position after the last row of a
//! page, as the (sort key, id) pair keyset paging continues from.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use scimd_protocol::{ScimError, ScimType};
use serde_json::{json, Value};

/// The sort key value of the row a cursor points after.
#[derive(Debug, Clone, PartialEq)]
pub enum CursorKey {
    /// The row had no value for the sort attribute.
    Null,
    /// Text (also timestamps, which are stored as fixed-width text).
    Text(String),
    /// An integer (also booleans stored as 0/1).
    Int(i64),
    /// A real number.
    Real(f64),
}

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Which ordering the cursor belongs to (the sort attribute and direction); a
    /// cursor is only valid for the ordering that issued it.
    pub signature: String,
    /// The sort key of the last row.
    pub key: CursorKey,
    /// The id of the last row.
    pub id: String,
}

const FORMAT_VERSION: u64 = 1;

fn invalid(detail: &str) -> ScimError {
    ScimError::new(
        400,
        Some(ScimType::InvalidCursor),
        format!("the cursor is not valid for this request: {detail}"),
    )
}

impl Cursor {
    /// The opaque base64url text handed to clients as `nextCursor`.
    pub fn encode(&self) -> String {
        let key = match &self.key {
            CursorKey::Null => Value::Null,
            CursorKey::Text(t) => Value::String(t.clone()),
            CursorKey::Int(i) => json!(i),
            CursorKey::Real(r) => json!(r),
        };
        let body = json!({"v": FORMAT_VERSION, "s": self.signature, "k": key, "i": self.id});
        URL_SAFE_NO_PAD.encode(body.to_string())
    }

    /// Decodes a client's cursor; anything this server did not issue for `signature`
    /// is 400 `invalidCursor` (RFC 9865 §6).
    pub fn decode(text: &str, signature: &str) -> Result<Cursor, ScimError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| invalid("not base64url"))?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|_| invalid("not JSON"))?;
        if body.get("v").and_then(Value::as_u64) != Some(FORMAT_VERSION) {
            return Err(invalid("unknown format"));
        }
        let issued_for = body.get("s").and_then(Value::as_str).unwrap_or_default();
        if issued_for != signature {
            return Err(invalid("it was issued for another sort order"));
        }
        let id = body
            .get("i")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("no position"))?
            .to_owned();
        let key = match body.get("k") {
            Some(Value::Null) => CursorKey::Null,
            Some(Value::String(s)) => CursorKey::Text(s.clone()),
            Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => CursorKey::Int(i),
                (None, Some(r)) => CursorKey::Real(r),
                (None, None) => return Err(invalid("bad key")),
            },
            _ => return Err(invalid("bad key")),
        };
        Ok(Cursor {
            signature: signature.to_owned(),
            key,
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for key in [
            CursorKey::Null,
            CursorKey::Text("a\"b".into()),
            CursorKey::Int(-3),
            CursorKey::Real(2.0),
        ] {
            let c = Cursor {
                signature: "userName:asc".into(),
                key,
                id: "x".into(),
            };
            assert_eq!(Cursor::decode(&c.encode(), "userName:asc").unwrap(), c);
        }
    }

    #[test]
    fn foreign_cursors_are_invalid_cursor() {
        let c = Cursor {
            signature: "userName:asc".into(),
            key: CursorKey::Null,
            id: "x".into(),
        };
        for (text, sig) in [
            (c.encode(), "userName:desc"),
            ("!!!".to_owned(), "userName:asc"),
            (URL_SAFE_NO_PAD.encode("[1]"), "userName:asc"),
            (String::new(), "userName:asc"),
        ] {
            let err = Cursor::decode(&text, sig).unwrap_err();
            assert_eq!(err.status, 400);
            assert_eq!(err.scim_type, Some(ScimType::InvalidCursor));
        }
    }
}
