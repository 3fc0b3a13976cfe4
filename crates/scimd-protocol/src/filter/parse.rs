//! The filter parser (RFC 7644 §3.4.2.2 with errata) and the PATCH path parser
//! (RFC 7644 §3.5.2), which share the value-path grammar.
//!
//! # Grammar
//!
//! This is the grammar the parser implements, in ABNF (RFC 5234). It is the RFC's
//! grammar restated with the corrections the errata and real clients need; the
//! comments say where it departs from the RFC text.
//!
//! ```text
//! filter      = or-expr
//! or-expr     = and-expr *( ws "or" ws and-expr )          ; lowest precedence
//! and-expr    = unary *( ws "and" ws unary )
//! unary       = "not" [ws] "(" [ws] or-expr [ws] ")"      ; errata: space after "not"
//!             / "(" [ws] or-expr [ws] ")"
//!             / attr-expr
//!             / value-path [ "." ATTRNAME ws test ]        ; Entra: emails[...].value eq "x"
//! attr-expr   = attr-path ws test
//! test        = "pr" / compare-op ws comp-value
//! compare-op  = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
//! value-path  = attr-path [ws] "[" [ws] val-filter [ws] "]"
//! val-filter  = or-expr with every attr-path a bare ATTRNAME (a sub-attribute of the
//!               value path's attribute) and no nested value-path (RFC 7643 §2.3.8)
//! attr-path   = [ URN ":" ] ATTRNAME [ "." ATTRNAME ]     ; see crate::path
//! comp-value  = "false" / "null" / "true" / json-number / json-string
//!             / bare-word                                   ; lenient, see below
//! ws          = 1*( SP / HTAB / CR / LF )
//! ```
//!
//! Keywords and operators match case-insensitively (`EQ`, `And`, `NOT`, `True`), as
//! RFC 7644 §3.4.2.2 requires for operators and clients assume for the rest.
//!
//! PATCH paths (RFC 7644 §3.5.2, `PATH = attrPath / valuePath [subAttr]`):
//!
//! ```text
//! patch-path  = attr-path / value-path [ "." ATTRNAME ]
//! ```
//!
//! # Leniency
//!
//! - **Bare words.** Microsoft's SCIM validator sends unquoted values
//!   (`name.FamilyName eq Employee`, `userName sw O`,
//!   `meta.Created gt 2015-10-10T14:38:21.8617979-07:00`). A value that is not a JSON
//!   string is read as a number if it is shaped like a JSON number, as `true`, `false`
//!   or `null` (any case), and otherwise as the string it spells. The printer always
//!   quotes strings, so the canonical text is strict RFC syntax.
//! - **Value path with a sub-attribute in a filter.** Entra sends
//!   `emails[type eq "work"].value eq "x"`, which the RFC grammar does not allow. It
//!   is read as `emails[type eq "work" and value eq "x"]`: one element must satisfy
//!   both, which is what Entra means.
//!
//! # Limits
//!
//! Input longer than `max_length` bytes is refused before it is read. Nesting (each
//! `(`, `not (`, `[` and each `and`/`or` node of the tree) may not exceed `max_depth`,
//! nor [`DEPTH_CEILING`] whatever the limits say, so recursion here, in the printer,
//! in the evaluator and in `Drop` stays shallow for any input.

use super::ast::{CompareOp, Filter, FilterLimits, Literal, Span};
use super::lex::{tokenize, Token, TokenKind};
use super::syntax::SyntaxError;
use crate::path::{is_attr_name, AttrPath};

/// The deepest nesting the parser ever accepts, whatever [`FilterLimits::max_depth`]
/// says. It bounds the recursion of every function that walks a parsed filter.
pub const DEPTH_CEILING: usize = 128;

/// Parses a filter (RFC 7644 §3.4.2.2).
pub(crate) fn parse_filter(input: &str, limits: &FilterLimits) -> Result<Filter, SyntaxError> {
    check_length(input, limits, "filter")?;
    let mut parser = Parser::new(input, limits, "filter")?;
    if parser.tokens.is_empty() {
        return Err(SyntaxError::new(0, "the filter is empty"));
    }
    let parsed = parser.parse_or(Scope::Resource)?;
    parser.expect_end("'and', 'or' or end of filter")?;
    Ok(parsed.filter)
}

/// A parsed PATCH path: the attribute, the bracketed filter, the trailing sub-attribute.
pub(crate) type PatchPathParts = (AttrPath, Option<Filter>, Option<String>);

/// Parses a PATCH `path` (RFC 7644 §3.5.2).
pub(crate) fn parse_patch_path(
    input: &str,
    limits: &FilterLimits,
) -> Result<PatchPathParts, SyntaxError> {
    check_length(input, limits, "path")?;
    let mut parser = Parser::new(input, limits, "path")?;
    let (word, start) = match parser.peek().map(|t| (&t.kind, t.start)) {
        Some((TokenKind::Word(w), start)) => (*w, start),
        _ => return Err(parser.unexpected("an attribute path")),
    };
    parser.advance();
    let attr = parse_attr_path(word, start, Scope::Resource)?;
    if !parser.peek_is(&TokenKind::LBracket) {
        parser.expect_end("'[' or end of path")?;
        return Ok((attr, None, None));
    }
    let (inner, close_end) = parser.parse_bracket(&attr, start)?;
    let sub = parser
        .take_adjacent_sub_attr(close_end)?
        .map(|(name, _, _)| name.to_owned());
    parser.expect_end("end of path")?;
    Ok((attr, Some(inner.filter), sub))
}

fn check_length(input: &str, limits: &FilterLimits, what: &str) -> Result<(), SyntaxError> {
    if input.len() > limits.max_length {
        return Err(SyntaxError::new(
            limits.max_length,
            format!(
                "the {what} is {} bytes long, more than max_length {}",
                input.len(),
                limits.max_length
            ),
        ));
    }
    Ok(())
}

/// Whether attribute paths name resource attributes or, inside `[...]`, the
/// sub-attributes of one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Resource,
    Element,
}

/// A parsed sub-expression and the depth of its tree (0 for a comparison).
struct Parsed {
    filter: Filter,
    depth: usize,
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    next: usize,
    input_len: usize,
    max_depth: usize,
    nesting: usize,
    /// "filter" or "path", for messages.
    what: &'static str,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str, limits: &FilterLimits, what: &'static str) -> Result<Self, SyntaxError> {
        Ok(Parser {
            tokens: tokenize(input)?,
            next: 0,
            input_len: input.len(),
            max_depth: limits.max_depth.min(DEPTH_CEILING),
            nesting: 0,
            what,
        })
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.next)
    }

    fn peek_second(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.next + 1)
    }

    fn advance(&mut self) {
        self.next += 1;
    }

    fn peek_is(&self, kind: &TokenKind<'_>) -> bool {
        self.peek().is_some_and(|t| &t.kind == kind)
    }

    fn peek_keyword(&self, keyword: &str) -> Option<usize> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::Word(w),
                start,
                ..
            }) if w.eq_ignore_ascii_case(keyword) => Some(*start),
            _ => None,
        }
    }

    /// "unexpected X at N, expected Y".
    fn unexpected(&self, expected: &str) -> SyntaxError {
        match self.peek() {
            Some(token) => SyntaxError::new(
                token.start,
                format!(
                    "unexpected {} at {}, expected {expected}",
                    describe(&token.kind),
                    token.start
                ),
            ),
            None => SyntaxError::new(
                self.input_len,
                format!(
                    "unexpected end of {} at {}, expected {expected}",
                    self.what, self.input_len
                ),
            ),
        }
    }

    fn expect_end(&self, expected: &str) -> Result<(), SyntaxError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.unexpected(expected)),
        }
    }

    /// Consumes a closing token or reports what was found instead.
    fn expect_close(&mut self, kind: &TokenKind<'_>, expected: &str) -> Result<usize, SyntaxError> {
        match self.peek() {
            Some(token) if &token.kind == kind => {
                let end = token.end;
                self.advance();
                Ok(end)
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    fn too_deep(&self, position: usize) -> SyntaxError {
        SyntaxError::new(
            position,
            format!(
                "the {} is nested too deeply at {position}: more than max_depth {} levels",
                self.what, self.max_depth
            ),
        )
    }

    /// Enters a bracketing construct (`(`, `not (`, `[`).
    fn enter(&mut self, position: usize) -> Result<(), SyntaxError> {
        self.nesting += 1;
        if self.nesting > self.max_depth {
            return Err(self.too_deep(position));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// Wraps a node over children of depth `child_depth`, checking the depth limit.
    fn node(
        &self,
        filter: Filter,
        child_depth: usize,
        position: usize,
    ) -> Result<Parsed, SyntaxError> {
        let depth = child_depth + 1;
        if depth > self.max_depth {
            return Err(self.too_deep(position));
        }
        Ok(Parsed { filter, depth })
    }

    /// `or-expr = and-expr *( ws "or" ws and-expr )`
    fn parse_or(&mut self, scope: Scope) -> Result<Parsed, SyntaxError> {
        let mut left = self.parse_and(scope)?;
        while let Some(position) = self.peek_keyword("or") {
            self.advance();
            let right = self.parse_and(scope)?;
            let depth = left.depth.max(right.depth);
            left = self.node(
                Filter::Or(Box::new(left.filter), Box::new(right.filter)),
                depth,
                position,
            )?;
        }
        Ok(left)
    }

    /// `and-expr = unary *( ws "and" ws unary )`
    fn parse_and(&mut self, scope: Scope) -> Result<Parsed, SyntaxError> {
        let mut left = self.parse_unary(scope)?;
        while let Some(position) = self.peek_keyword("and") {
            self.advance();
            let right = self.parse_unary(scope)?;
            let depth = left.depth.max(right.depth);
            left = self.node(
                Filter::And(Box::new(left.filter), Box::new(right.filter)),
                depth,
                position,
            )?;
        }
        Ok(left)
    }

    /// `unary = "not" [ws] "(" or-expr ")" / "(" or-expr ")" / attr-expr / value-path...`
    fn parse_unary(&mut self, scope: Scope) -> Result<Parsed, SyntaxError> {
        let Some(token) = self.peek() else {
            return Err(self.unexpected("an attribute path, '(' or 'not'"));
        };
        let start = token.start;
        match &token.kind {
            TokenKind::LParen => {
                self.enter(start)?;
                self.advance();
                let inner = self.parse_or(scope)?;
                self.expect_close(&TokenKind::RParen, "'and', 'or' or ')'")?;
                self.leave();
                Ok(inner)
            }
            TokenKind::Word(w) if w.eq_ignore_ascii_case("not") => {
                if !self
                    .peek_second()
                    .is_some_and(|t| t.kind == TokenKind::LParen)
                {
                    self.advance();
                    return Err(self.unexpected("'(' after 'not'"));
                }
                self.enter(start)?;
                self.advance();
                self.advance();
                let inner = self.parse_or(scope)?;
                self.expect_close(&TokenKind::RParen, "'and', 'or' or ')'")?;
                self.leave();
                self.node(Filter::Not(Box::new(inner.filter)), inner.depth, start)
            }
            TokenKind::Word(w) => {
                let word = *w;
                self.advance();
                self.parse_attr_expr(word, start, scope)
            }
            _ => Err(self.unexpected("an attribute path, '(' or 'not'")),
        }
    }

    /// After an attribute path: a test (`pr`, `op value`) or a value path.
    fn parse_attr_expr(
        &mut self,
        word: &str,
        start: usize,
        scope: Scope,
    ) -> Result<Parsed, SyntaxError> {
        let path = parse_attr_path(word, start, scope)?;
        if !self.peek_is(&TokenKind::LBracket) {
            return self.parse_test(path, start);
        }
        if scope == Scope::Element {
            return Err(self.nested_value_path());
        }
        let (inner, close_end) = self.parse_bracket(&path, start)?;
        match self.take_adjacent_sub_attr(close_end)? {
            None => self.node(
                Filter::ValuePath {
                    path,
                    filter: Box::new(inner.filter),
                    span: Span {
                        start,
                        end: close_end,
                    },
                },
                inner.depth,
                start,
            ),
            Some((sub, sub_start, _)) => {
                // Entra's `attr[f].sub op v` means `attr[f and sub op v]` (see module docs).
                let test = self.parse_test(AttrPath::simple(sub), sub_start)?;
                let end = span_end(&test.filter).unwrap_or(close_end);
                let both = self.node(
                    Filter::And(Box::new(inner.filter), Box::new(test.filter)),
                    inner.depth,
                    sub_start,
                )?;
                self.node(
                    Filter::ValuePath {
                        path,
                        filter: Box::new(both.filter),
                        span: Span { start, end },
                    },
                    both.depth,
                    start,
                )
            }
        }
    }

    fn nested_value_path(&self) -> SyntaxError {
        let position = self.peek().map_or(self.input_len, |t| t.start);
        SyntaxError::new(
            position,
            format!(
                "unexpected '[' at {position}: a value filter cannot contain another \
                 (complex attributes have no complex sub-attributes, RFC 7643 §2.3.8)"
            ),
        )
    }

    /// `"[" val-filter "]"`, with the cursor on the `[`. Returns the inner filter and
    /// the byte after the `]`.
    fn parse_bracket(
        &mut self,
        path: &AttrPath,
        path_start: usize,
    ) -> Result<(Parsed, usize), SyntaxError> {
        let open = self.peek().map_or(self.input_len, |t| t.start);
        if path.sub_attr.is_some() {
            return Err(SyntaxError::new(
                open,
                format!(
                    "unexpected '[' at {open}: '{path}' at {path_start} is a sub-attribute, \
                     and value filters apply to multi-valued attributes"
                ),
            ));
        }
        self.enter(open)?;
        self.advance();
        let inner = self.parse_or(Scope::Element)?;
        let close_end = self.expect_close(&TokenKind::RBracket, "'and', 'or' or ']'")?;
        self.leave();
        Ok((inner, close_end))
    }

    /// A `.subAttr` word directly after `]` (no space between), if there is one.
    fn take_adjacent_sub_attr(
        &mut self,
        close_end: usize,
    ) -> Result<Option<(&'a str, usize, usize)>, SyntaxError> {
        let Some(token) = self.peek() else {
            return Ok(None);
        };
        let TokenKind::Word(word) = token.kind else {
            return Ok(None);
        };
        let Some(name) = word.strip_prefix('.') else {
            return Ok(None);
        };
        if token.start != close_end {
            return Ok(None);
        }
        let (start, end) = (token.start, token.end);
        if !is_attr_name(name) {
            return Err(SyntaxError::new(
                start,
                format!("invalid sub-attribute '{word}' at {start}"),
            ));
        }
        self.advance();
        Ok(Some((name, start, end)))
    }

    /// `test = "pr" / compare-op ws comp-value`, after the attribute path.
    fn parse_test(&mut self, path: AttrPath, start: usize) -> Result<Parsed, SyntaxError> {
        const EXPECTED: &str = "a comparison operator or 'pr'";
        let (word, op_end) = match self.peek() {
            Some(Token {
                kind: TokenKind::Word(w),
                end,
                ..
            }) => (*w, *end),
            _ => return Err(self.unexpected(EXPECTED)),
        };
        if word.eq_ignore_ascii_case("pr") {
            self.advance();
            return Ok(Parsed {
                filter: Filter::Present {
                    path,
                    span: Span { start, end: op_end },
                },
                depth: 0,
            });
        }
        let Some(op) = compare_op(word) else {
            return Err(self.unexpected(EXPECTED));
        };
        self.advance();
        let (value, end) = self.parse_value()?;
        Ok(Parsed {
            filter: Filter::Compare {
                path,
                op,
                value,
                span: Span { start, end },
            },
            depth: 0,
        })
    }

    /// `comp-value`, strict JSON or a lenient bare word.
    fn parse_value(&mut self) -> Result<(Literal, usize), SyntaxError> {
        const EXPECTED: &str = "a value (string, number, true, false or null)";
        let Some(token) = self.peek() else {
            return Err(self.unexpected(EXPECTED));
        };
        let (start, end) = (token.start, token.end);
        let literal = match &token.kind {
            TokenKind::Str(s) => Literal::String(s.clone()),
            TokenKind::Word(w) if w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or") => {
                return Err(self.unexpected(EXPECTED))
            }
            TokenKind::Word(w) => bare_word_literal(w, start)?,
            _ => return Err(self.unexpected(EXPECTED)),
        };
        self.advance();
        Ok((literal, end))
    }
}

/// Reads an unquoted value (see "Leniency" in the module docs).
fn bare_word_literal(word: &str, start: usize) -> Result<Literal, SyntaxError> {
    if word.eq_ignore_ascii_case("true") {
        return Ok(Literal::Bool(true));
    }
    if word.eq_ignore_ascii_case("false") {
        return Ok(Literal::Bool(false));
    }
    if word.eq_ignore_ascii_case("null") {
        return Ok(Literal::Null);
    }
    if is_json_number(word) {
        return parse_json_number(word).map(Literal::Number).ok_or_else(|| {
            SyntaxError::new(start, format!("number {word} at {start} is out of range"))
        });
    }
    Ok(Literal::String(word.to_owned()))
}

/// Reads a JSON number: integers exactly when they fit 64 bits, anything else as
/// the nearest `f64` (Rust's parser rounds correctly, so printing and reading back
/// gives the same value). `None` when not a JSON number or not finite.
pub(crate) fn parse_json_number(word: &str) -> Option<serde_json::Number> {
    if !is_json_number(word) {
        return None;
    }
    if let Ok(n) = word.parse::<i64>() {
        return Some(n.into());
    }
    if let Ok(n) = word.parse::<u64>() {
        return Some(n.into());
    }
    word.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

/// Whether `word` is a JSON number (RFC 8259 §6):
/// `[ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]`.
fn is_json_number(word: &str) -> bool {
    let bytes = word.as_bytes();
    let mut pos = 0;
    let digits_from = |pos: &mut usize| {
        let begin = *pos;
        while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
            *pos += 1;
        }
        *pos > begin
    };
    if bytes.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match bytes.get(pos) {
        Some(b'0') => pos += 1,
        Some(b) if b.is_ascii_digit() => {
            digits_from(&mut pos);
        }
        _ => return false,
    }
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        if !digits_from(&mut pos) {
            return false;
        }
    }
    if matches!(bytes.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(bytes.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        if !digits_from(&mut pos) {
            return false;
        }
    }
    pos == bytes.len()
}

fn compare_op(word: &str) -> Option<CompareOp> {
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
    OPS.into_iter()
        .find(|op| op.as_str().eq_ignore_ascii_case(word))
}

/// Parses an attribute path word; inside `[...]` only a bare sub-attribute name.
fn parse_attr_path(word: &str, start: usize, scope: Scope) -> Result<AttrPath, SyntaxError> {
    let path = AttrPath::parse(word).map_err(|_| {
        SyntaxError::new(
            start,
            format!("invalid attribute path '{}' at {start}", shorten(word)),
        )
    })?;
    if scope == Scope::Element && (path.urn.is_some() || path.sub_attr.is_some()) {
        return Err(SyntaxError::new(
            start,
            format!(
                "'{}' at {start} must be a plain sub-attribute name inside a value filter",
                shorten(word)
            ),
        ));
    }
    Ok(path)
}

fn span_end(filter: &Filter) -> Option<usize> {
    match filter {
        Filter::Compare { span, .. } | Filter::Present { span, .. } => Some(span.end),
        _ => None,
    }
}

/// How a token is named in an error message.
fn describe(kind: &TokenKind<'_>) -> String {
    match kind {
        TokenKind::LParen => "'('".into(),
        TokenKind::RParen => "')'".into(),
        TokenKind::LBracket => "'['".into(),
        TokenKind::RBracket => "']'".into(),
        TokenKind::Str(s) => format!("string \"{}\"", shorten(s)),
        TokenKind::Word(w) => format!("'{}'", shorten(w)),
    }
}

/// At most 40 characters of user input in a message.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_number_shapes() {
        for yes in ["0", "-0", "12", "-12", "1.5", "1e5", "1E+5", "2.5e-3"] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in [
            "",
            "-",
            "01",
            "1.",
            ".5",
            "1e",
            "1e+",
            "2015-10-10",
            "0x10",
            "+1",
            "1.5.5",
        ] {
            assert!(!is_json_number(no), "{no}");
        }
    }

    #[test]
    fn bare_words() {
        assert_eq!(bare_word_literal("TRUE", 0).unwrap(), Literal::Bool(true));
        assert_eq!(bare_word_literal("Null", 0).unwrap(), Literal::Null);
        assert_eq!(
            bare_word_literal("007", 0).unwrap(),
            Literal::String("007".into())
        );
        assert!(bare_word_literal("1e999", 3).is_err());
    }

    #[test]
    fn long_words_are_shortened_in_messages() {
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), 41);
    }
}
