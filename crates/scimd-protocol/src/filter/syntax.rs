//! The internal syntax error of the lexer and parser.
//!
//! Filters and PATCH paths share one grammar but report errors with different
//! `scimType`s (`invalidFilter` for RFC 7644 §3.4.2.2, `invalidPath` for §3.5.2), so
//! the parser produces this neutral error and each entry point converts it.

use crate::error::ScimError;

/// A syntax error at a byte position of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// The byte offset the error refers to.
    pub position: usize,
    /// The full message, position included.
    pub message: String,
}

impl SyntaxError {
    pub(crate) fn new(position: usize, message: impl Into<String>) -> Self {
        SyntaxError {
            position,
            message: message.into(),
        }
    }

    /// As a 400 `invalidFilter` error.
    pub(crate) fn into_filter_error(self) -> ScimError {
        ScimError::invalid_filter(self.message)
    }

    /// As a 400 `invalidPath` error.
    pub(crate) fn into_path_error(self) -> ScimError {
        ScimError::invalid_path(self.message)
    }
}
