//! The SCIM filter language (RFC 7644 §3.4.2.2, with errata 5306 and 5749).
//!
//! - [`parse`] reads filter text into a [`Filter`] tree (grammar and leniency rules are
//!   documented in the `parse` module source and summarised below);
//! - `Display` for [`Filter`] writes the canonical text, which parses back to an
//!   equal tree;
//! - [`validate`] checks a filter against a resource type's schemas (unknown
//!   attributes, operators that cannot apply, literals that cannot match);
//! - [`evaluate`] and [`evaluate_element`] run a filter against a rendered resource or
//!   one element of a multi-valued attribute.
//!
//! Leniency, in short: keywords and operators in any case; runs of whitespace; bare
//! unquoted values read as strings (Microsoft's validator); Entra's
//! `emails[type eq "work"].value eq "x"` read as `emails[type eq "work" and value eq "x"]`.
//!
//! Every failure is a 400 `invalidFilter` [`ScimError`](crate::ScimError) naming the
//! byte position, what was found and what was expected.

mod ast;
mod eval;
mod instant;
mod lex;
mod parse;
mod print;
mod syntax;

pub use ast::{CompareOp, Filter, FilterLimits, Literal, Span};
pub use eval::{evaluate, evaluate_element, validate, validate_element};
pub use parse::DEPTH_CEILING;

use crate::error::ScimResult;
use crate::path::AttrPath;

/// Parses a filter (RFC 7644 §3.4.2.2).
///
/// ```
/// use scimd_protocol::filter::{parse, Filter, FilterLimits};
/// let limits = FilterLimits::default();
/// let f = parse(r#"emails[type eq "work"].value eq "bjensen@example.com""#, &limits).unwrap();
/// assert_eq!(f, parse(r#"emails[type eq "work" and value eq "bjensen@example.com"]"#, &limits).unwrap());
///
/// let err = parse(r#"userName eq "x")"#, &limits).unwrap_err();
/// assert_eq!(err.status, 400);
/// assert_eq!(err.detail, "unexpected ')' at 15, expected 'and', 'or' or end of filter");
/// ```
pub fn parse(input: &str, limits: &FilterLimits) -> ScimResult<Filter> {
    parse::parse_filter(input, limits).map_err(syntax::SyntaxError::into_filter_error)
}

/// Parses a PATCH path into its parts; errors are 400 `invalidPath` (RFC 7644 §3.5.2).
pub(crate) fn parse_patch_path(
    input: &str,
    limits: &FilterLimits,
) -> ScimResult<(AttrPath, Option<Filter>, Option<String>)> {
    parse::parse_patch_path(input, limits).map_err(syntax::SyntaxError::into_path_error)
}
