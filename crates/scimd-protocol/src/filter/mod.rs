//! The SCIM filter language (RFC 7644 §3.4.2.2, with errata 5306 and 5749).
//!
//! TODO(helper: filter): implement parser (parse.rs), printer (print.rs), evaluator (eval.rs).

mod ast;

pub use ast::{CompareOp, Filter, FilterLimits, Literal, Span};

use crate::error::{ScimError, ScimResult};

/// Parses a filter.
pub fn parse(input: &str, limits: &FilterLimits) -> ScimResult<Filter> {
    let _ = (input, limits);
    Err(ScimError::new(501, None, "not implemented"))
}
