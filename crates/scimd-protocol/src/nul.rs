//! U+0000 (NUL) in request text, refused everywhere.
//!
//! JSON lets a string hold any code point, U+0000 included, written `\u0000`
//! (RFC 8259 §7), and RFC 7643 §2.3.1 does not exclude it. But PostgreSQL stores it
//! in neither `text` nor `jsonb` (it fails the statement), C strings and SQLite's text
//! functions stop at it, and no identity provider sends it. So scimd refuses it in
//! every part of a request that can carry it (the body, the filter's string literals,
//! the URL), with 400 `invalidValue` before anything is stored, the same on every
//! backend.

use crate::error::ScimError;

/// What a refusal says (no value is repeated: the text around a NUL may be anything).
pub const NUL_REFUSED: &str =
    "a string holds U+0000 (NUL), which scimd does not accept in any value";

/// Whether JSON text holds a string with U+0000 in it.
///
/// Valid JSON can only write U+0000 as the escape `\u0000`: a raw NUL byte is a
/// control character, which JSON strings must escape (RFC 8259 §7), and it is not
/// JSON whitespace either. So for text that parses as JSON it is enough to read its
/// escapes, each starting at a backslash: `\\` is a backslash (whose second half must
/// not start another escape), `\u0000` is NUL, anything else is some other character.
pub fn json_has_nul(json: &[u8]) -> bool {
    let mut rest = json;
    while let Some(at) = rest.iter().position(|&b| b == b'\\') {
        let escape = rest.get(at + 1..).unwrap_or_default();
        if escape.starts_with(b"u0000") {
            return true;
        }
        // Skip the backslash and the character it escapes (for `\uXXXX`, the `u`;
        // hex digits are never a backslash).
        rest = escape.get(1..).unwrap_or_default();
    }
    false
}

/// 400 `invalidValue` for JSON text with U+0000 in a string; `Ok` otherwise.
pub fn refuse_nul_in_json(json: &[u8]) -> Result<(), ScimError> {
    if json_has_nul(json) {
        Err(ScimError::invalid_value(NUL_REFUSED))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_are_read_in_pairs() {
        assert!(json_has_nul(br#"{"userName":"a\u0000b"}"#));
        assert!(json_has_nul(br#"["\u0000"]"#));
        // An escaped backslash followed by the text `u0000` is not NUL...
        assert!(!json_has_nul(br#"{"userName":"a\\u0000b"}"#));
        // ...but an escaped backslash followed by the escape is.
        assert!(json_has_nul(br#"{"userName":"a\\\u0000b"}"#));
        assert!(json_has_nul(br#"{"userName":"\u00e9\u0001\n\"\u0000x"}"#));
        assert!(json_has_nul(br#"{"userName":"\u00000"}"#));
        assert!(!json_has_nul(br#"{"userName":"\u0010","n":0}"#));
        assert!(!json_has_nul(b"{}"));
        // A backslash at the very end (not valid JSON) ends the scan quietly.
        assert!(!json_has_nul(b"\\"));
    }

    #[test]
    fn refusal_is_invalid_value() {
        let err = refuse_nul_in_json(br#"{"a":"\u0000"}"#).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.scim_type.map(|t| t.as_str()), Some("invalidValue"));
        assert!(refuse_nul_in_json(br#"{"a":"b"}"#).is_ok());
    }

    proptest! {
        /// Whatever a string holds, its JSON text (as serde_json writes it, and as
        /// any encoder may: every character escaped) says NUL exactly when the string
        /// holds one.
        #[test]
        fn agrees_with_the_string(s in "(\\PC|\\\\|\"|\u{0}|\u{1}|u0000){0,24}") {
            let compact = serde_json::to_vec(&s).unwrap();
            prop_assert_eq!(json_has_nul(&compact), s.contains('\0'));
            let escaped: String = std::iter::once("\"".to_owned())
                .chain(s.encode_utf16().map(|unit| format!("\\u{unit:04x}")))
                .chain(std::iter::once("\"".to_owned()))
                .collect();
            prop_assert_eq!(serde_json::from_str::<String>(&escaped).unwrap(), s.clone());
            prop_assert_eq!(json_has_nul(escaped.as_bytes()), s.contains('\0'));
        }
    }
}
