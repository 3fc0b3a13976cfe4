//! TEMPORARY: stand-ins for `path::PatchPath` and `filter::evaluate_element`, which
//! the filter helper is writing in parallel. This module is deleted once those land
//! on `main`; nothing outside `patch/` may use it.
//!
//! It understands just enough of RFC 7644 §3.4.2.2 for value paths: comparisons
//! joined by `and` / `or`, `not (...)`, parentheses and `pr`.

use crate::error::{ScimError, ScimResult};
use crate::filter::{CompareOp, Filter, FilterLimits, Literal, Span};
use crate::path::AttrPath;
use crate::schema::{Attribute, AttributeType};
use serde_json::Value;

/// A PATCH path (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (for `attr[filter].sub`, `attr.sub_attr` is `None`).
    pub attr: AttrPath,
    /// The value filter, for `attr[filter]`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter.
    pub sub_attr: Option<String>,
}

impl PatchPath {
    /// Parses a PATCH path.
    pub fn parse(input: &str, limits: &FilterLimits) -> ScimResult<PatchPath> {
        if input.len() > limits.max_length {
            return Err(ScimError::invalid_path("path is too long"));
        }
        let Some(open) = input.find('[') else {
            return Ok(PatchPath {
                attr: AttrPath::parse(input)?,
                filter: None,
                sub_attr: None,
            });
        };
        let bad = || ScimError::invalid_path(format!("'{input}' is not a valid PATCH path"));
        let close = input.rfind(']').ok_or_else(bad)?;
        let attr_text = input.get(..open).ok_or_else(bad)?;
        let inner = input.get(open + 1..close).ok_or_else(bad)?;
        let rest = input.get(close + 1..).ok_or_else(bad)?;
        let attr = AttrPath::parse(attr_text)?;
        if attr.sub_attr.is_some() {
            return Err(bad());
        }
        let sub_attr = match rest {
            "" => None,
            r => {
                let sub = r.strip_prefix('.').ok_or_else(bad)?;
                if !crate::path::is_attr_name(sub) {
                    return Err(bad());
                }
                Some(sub.to_owned())
            }
        };
        let tokens = tokenize(inner)?;
        let mut parser = Parser { tokens, pos: 0 };
        let filter = parser.or_expr(0, limits.max_depth)?;
        if parser.pos != parser.tokens.len() {
            return Err(ScimError::invalid_filter("trailing input in value filter"));
        }
        Ok(PatchPath {
            attr,
            filter: Some(filter),
            sub_attr,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokenize(input: &str) -> ScimResult<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            '"' => {
                let mut end = None;
                let mut escaped = false;
                for (j, d) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == '"' {
                        end = Some(j);
                        break;
                    }
                }
                let end = end.ok_or_else(|| ScimError::invalid_filter("unterminated string"))?;
                let raw = input
                    .get(i..=end)
                    .ok_or_else(|| ScimError::invalid_filter("bad string"))?;
                let s: String = serde_json::from_str(raw)
                    .map_err(|_| ScimError::invalid_filter("bad string literal"))?;
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut word = String::from(c);
                while let Some(&(_, d)) = chars.peek() {
                    if d == ' ' || d == '(' || d == ')' || d == '"' {
                        break;
                    }
                    word.push(d);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(x)) if x.eq_ignore_ascii_case(w))
    }
    fn or_expr(&mut self, depth: usize, max: usize) -> ScimResult<Filter> {
        if depth > max {
            return Err(ScimError::invalid_filter("filter nests too deeply"));
        }
        let mut left = self.and_expr(depth + 1, max)?;
        while self.peek_word("or") {
            self.pos += 1;
            let right = self.and_expr(depth + 1, max)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn and_expr(&mut self, depth: usize, max: usize) -> ScimResult<Filter> {
        let mut left = self.factor(depth + 1, max)?;
        while self.peek_word("and") {
            self.pos += 1;
            let right = self.factor(depth + 1, max)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn factor(&mut self, depth: usize, max: usize) -> ScimResult<Filter> {
        let bad = || ScimError::invalid_filter("malformed value filter");
        match self.next() {
            Some(Token::Open) => {
                let f = self.or_expr(depth + 1, max)?;
                match self.next() {
                    Some(Token::Close) => Ok(f),
                    _ => Err(bad()),
                }
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => {
                let f = self.factor(depth + 1, max)?;
                Ok(Filter::Not(Box::new(f)))
            }
            Some(Token::Word(name)) => {
                let path = AttrPath::parse(&name).map_err(|_| bad())?;
                let op = match self.next() {
                    Some(Token::Word(op)) => op.to_ascii_lowercase(),
                    _ => return Err(bad()),
                };
                if op == "pr" {
                    return Ok(Filter::Present {
                        path,
                        span: Span::default(),
                    });
                }
                let op = match op.as_str() {
                    "eq" => CompareOp::Eq,
                    "ne" => CompareOp::Ne,
                    "co" => CompareOp::Co,
                    "sw" => CompareOp::Sw,
                    "ew" => CompareOp::Ew,
                    "gt" => CompareOp::Gt,
                    "ge" => CompareOp::Ge,
                    "lt" => CompareOp::Lt,
                    "le" => CompareOp::Le,
                    _ => return Err(bad()),
                };
                let value = match self.next() {
                    Some(Token::Str(s)) => Literal::String(s),
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => Literal::Null,
                    Some(Token::Word(w)) => match serde_json::from_str::<serde_json::Number>(&w) {
                        Ok(n) => Literal::Number(n),
                        Err(_) => Literal::String(w),
                    },
                    _ => return Err(bad()),
                };
                Ok(Filter::Compare {
                    path,
                    op,
                    value,
                    span: Span::default(),
                })
            }
            _ => Err(bad()),
        }
    }
}

/// Tests one element of a multi-valued complex attribute against a filter whose
/// paths are relative to the element.
pub fn evaluate_element(filter: &Filter, element: &Value, attr: &Attribute) -> ScimResult<bool> {
    match filter {
        Filter::And(a, b) => {
            Ok(evaluate_element(a, element, attr)? && evaluate_element(b, element, attr)?)
        }
        Filter::Or(a, b) => {
            Ok(evaluate_element(a, element, attr)? || evaluate_element(b, element, attr)?)
        }
        Filter::Not(a) => Ok(!evaluate_element(a, element, attr)?),
        Filter::ValuePath { .. } => Err(ScimError::invalid_filter("nested value filter")),
        Filter::Present { path, .. } => {
            let sub = sub_of(attr, path)?;
            Ok(field(element, &sub.name).is_some_and(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            }))
        }
        Filter::Compare {
            path, op, value, ..
        } => {
            let sub = sub_of(attr, path)?;
            let actual = field(element, &sub.name);
            Ok(compare(actual, *op, value, sub))
        }
    }
}

fn sub_of<'a>(attr: &'a Attribute, path: &AttrPath) -> ScimResult<&'a Attribute> {
    attr.sub_attribute(&path.name).ok_or_else(|| {
        ScimError::invalid_filter(format!("'{}' has no sub-attribute '{}'", attr.name, path))
    })
}

fn field<'v>(element: &'v Value, name: &str) -> Option<&'v Value> {
    element
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn compare(actual: Option<&Value>, op: CompareOp, expected: &Literal, sub: &Attribute) -> bool {
    match (actual, expected) {
        (None | Some(Value::Null), Literal::Null) => op == CompareOp::Eq,
        (None | Some(Value::Null), _) => op == CompareOp::Ne,
        (Some(Value::Bool(a)), Literal::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        (Some(Value::String(a)), Literal::String(b)) => {
            let fold = |s: &str| {
                if sub.case_exact || sub.kind != AttributeType::String {
                    s.to_owned()
                } else {
                    s.to_lowercase()
                }
            };
            let (a, b) = (fold(a), fold(b));
            match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
            }
        }
        _ => op == CompareOp::Ne,
    }
}
