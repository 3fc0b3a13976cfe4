//! The filter lexer: turns filter text into tokens with byte positions.
//!
//! The token set is deliberately small. Everything that is not whitespace, a
//! parenthesis, a bracket or a quoted string is a *word*: attribute paths (which
//! contain `:` and `.` in URNs such as `...:enterprise:2.0:User:manager.value`),
//! keywords (`and`, `eq`, `pr`, ...), numbers and the unquoted bare values that
//! Microsoft's validator sends (`meta.created gt 2015-10-10T14:38:21.86-07:00`). The
//! parser decides what a word means from where it stands.

use super::syntax::SyntaxError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind<'a> {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// A JSON string literal, already unescaped.
    Str(String),
    /// A run of characters that are none of the above and not whitespace.
    Word(&'a str),
}

/// A token and the byte range it covers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind<'a>,
    pub start: usize,
    pub end: usize,
}

/// Whitespace between tokens. RFC 7644 §3.4.2.2 asks for single spaces; clients send
/// runs of spaces and tabs (and the server has already turned `+` into spaces).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Bytes that end a word. All are ASCII, so a word's bounds are char boundaries.
fn ends_word(b: u8) -> bool {
    is_space(b) || matches!(b, b'(' | b')' | b'[' | b']' | b'"')
}

/// Splits `input` into tokens.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token<'_>>, SyntaxError> {
    let bytes = input.as_bytes();
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(nul_at(at));
    }
    let mut tokens = Vec::new();
    let mut pos = 0;
    while let Some(&b) = bytes.get(pos) {
        let start = pos;
        let single = match b {
            b'(' => Some(TokenKind::LParen),
            b')' => Some(TokenKind::RParen),
            b'[' => Some(TokenKind::LBracket),
            b']' => Some(TokenKind::RBracket),
            _ => None,
        };
        if let Some(kind) = single {
            pos += 1;
            tokens.push(Token {
                kind,
                start,
                end: pos,
            });
        } else if is_space(b) {
            pos += 1;
        } else if b == b'"' {
            let end = string_end(bytes, start)?;
            let text = input.get(start..end).unwrap_or_default();
            let value: String = serde_json::from_str(text).map_err(|e| {
                SyntaxError::new(start, format!("invalid string literal at {start}: {e}"))
            })?;
            if value.contains('\0') {
                return Err(nul_at(start));
            }
            pos = end;
            tokens.push(Token {
                kind: TokenKind::Str(value),
                start,
                end,
            });
        } else {
            while bytes.get(pos).is_some_and(|&c| !ends_word(c)) {
                pos += 1;
            }
            let word = input.get(start..pos).unwrap_or_default();
            tokens.push(Token {
                kind: TokenKind::Word(word),
                start,
                end: pos,
            });
        }
    }
    Ok(tokens)
}

/// U+0000 in a filter, raw or as a string literal's `\u0000`: refused like everywhere
/// else (`crate::nul`), since no backend stores or compares it.
fn nul_at(at: usize) -> SyntaxError {
    SyntaxError::new(
        at,
        format!("U+0000 (NUL) at {at}: scimd does not accept it in a filter"),
    )
}

/// The byte just past the closing quote of the string that opens at `start`.
///
/// Scanning bytes is safe for UTF-8: continuation bytes never equal `"` or `\`.
fn string_end(bytes: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let mut pos = start + 1;
    loop {
        match bytes.get(pos) {
            None => {
                return Err(SyntaxError::new(
                    start,
                    format!("unterminated string starting at {start}"),
                ))
            }
            Some(b'"') => return Ok(pos + 1),
            Some(b'\\') => pos += 2,
            Some(_) => pos += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind<'_>> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn words_keep_urn_dots_and_colons() {
        assert_eq!(
            kinds("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr"),
            vec![
                TokenKind::Word(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
                ),
                TokenKind::Word("pr"),
            ]
        );
    }

    #[test]
    fn brackets_and_sub_attribute_after_value_path() {
        assert_eq!(
            kinds("emails[type eq \"work\"].value"),
            vec![
                TokenKind::Word("emails"),
                TokenKind::LBracket,
                TokenKind::Word("type"),
                TokenKind::Word("eq"),
                TokenKind::Str("work".into()),
                TokenKind::RBracket,
                TokenKind::Word(".value"),
            ]
        );
    }

    #[test]
    fn strings_are_json_unescaped() {
        assert_eq!(
            kinds(r#""a\"b\\c\u00e9\ud83d\ude00""#),
            vec![TokenKind::Str("a\"b\\cé😀".into())]
        );
    }

    #[test]
    fn unterminated_and_bad_escapes_are_errors() {
        assert_eq!(tokenize("a eq \"abc").unwrap_err().position, 5);
        assert_eq!(tokenize("a eq \"a\\qb\"").unwrap_err().position, 5);
        assert!(tokenize("a eq \"\\").is_err());
    }

    #[test]
    fn nul_is_refused_raw_and_escaped() {
        assert_eq!(
            tokenize("userName eq \"a\\u0000b\"").unwrap_err().position,
            12
        );
        assert_eq!(tokenize("userName eq a\0b").unwrap_err().position, 13);
        // The text `\u0000` after an escaped backslash is no NUL.
        assert_eq!(
            kinds(r#""a\\u0000""#),
            vec![TokenKind::Str("a\\u0000".into())]
        );
    }

    #[test]
    fn positions_are_byte_offsets() {
        let tokens = tokenize("  é eq\t\"x\"").unwrap();
        assert_eq!((tokens[0].start, tokens[0].end), (2, 4));
        assert_eq!((tokens[2].start, tokens[2].end), (8, 11));
    }
}
