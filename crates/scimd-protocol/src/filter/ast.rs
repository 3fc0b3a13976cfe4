//! The filter AST (RFC 7644 §3.4.2.2). The storage layer compiles it to SQL; the
//! evaluator runs it against a JSON resource.

use crate::path::AttrPath;

/// A byte range in the filter text, for error messages.
///
/// Spans never take part in equality: two filters are equal when they mean the same
/// thing, wherever they were parsed from. This is what lets the round-trip property
/// (print, parse again, compare) hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

// Hashing must agree with equality (all spans are equal), so a span hashes to nothing;
// a derived `Hash` would break `HashMap` lookups of equal filters.
impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, _state: &mut H) {}
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains (strings).
    Co,
    /// `sw`: starts with (strings).
    Sw,
    /// `ew`: ends with (strings).
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// The operator keyword, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// A comparison value (RFC 7644 §3.4.2.2 `compValue`). dateTime values arrive as
/// strings; whether a string is compared as an instant depends on the attribute's
/// type in the schema, not on the literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A JSON string (also unquoted bare words, which the lenient parser accepts).
    String(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A filter expression.
///
/// Paths inside a [`Filter::ValuePath`]'s inner filter are relative to the elements of
/// the multi-valued attribute: `emails[type eq "work"]` has an inner filter whose path
/// is `type` (no URN, no sub-attribute).
///
/// Entra's `emails[type eq "work"].value eq "x"` is parsed into the equivalent
/// `emails[type eq "work" and value eq "x"]`: one element must satisfy both.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The value compared with.
        value: Literal,
        /// Where it was in the input.
        span: Span,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present {
        /// The attribute tested.
        path: AttrPath,
        /// Where it was in the input.
        span: Span,
    },
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `attr[filter]`: some element of the multi-valued (or complex) attribute `path`
    /// satisfies `filter`. `path` has no sub-attribute.
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The filter each element is tested with.
        filter: Box<Filter>,
        /// Where it was in the input.
        span: Span,
    },
}

/// Limits on filter input, so that a hostile filter costs bounded time and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Maximum length of the filter text in bytes.
    pub max_length: usize,
    /// Maximum nesting depth (parentheses, `not`, value paths and chains of
    /// `and`/`or` operators all count).
    pub max_depth: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            max_length: 4096,
            max_depth: 32,
        }
    }
}
