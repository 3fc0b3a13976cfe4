//! The canonical text of a filter.
//!
//! The printer writes strict RFC 7644 §3.4.2.2 syntax that [`super::parse`] reads back
//! into an equal tree: lowercase keywords, single spaces, strings as JSON strings
//! (escaped), and only the parentheses the tree needs. Because `and` binds tighter
//! than `or` and both group to the left, parentheses are needed exactly for an `or`
//! under an `and`, and for a right operand of the same or lower precedence
//! (`a or (b or c)`). `not` is always written `not (...)`, as the RFC requires.

use super::ast::{Filter, Literal};
use std::fmt;

/// Binding strength, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Atom,
}

fn precedence(filter: &Filter) -> Precedence {
    match filter {
        Filter::Or(..) => Precedence::Or,
        Filter::And(..) => Precedence::And,
        _ => Precedence::Atom,
    }
}

/// Writes `filter`, in parentheses if it binds less tightly than `context` needs.
fn write_in(f: &mut fmt::Formatter<'_>, filter: &Filter, context: Precedence) -> fmt::Result {
    let parenthesise = precedence(filter) < context;
    if parenthesise {
        f.write_str("(")?;
    }
    match filter {
        Filter::Compare {
            path, op, value, ..
        } => write!(f, "{path} {} {value}", op.as_str())?,
        Filter::Present { path, .. } => write!(f, "{path} pr")?,
        Filter::Or(left, right) => {
            write_in(f, left, Precedence::Or)?;
            f.write_str(" or ")?;
            write_in(f, right, Precedence::And)?;
        }
        Filter::And(left, right) => {
            write_in(f, left, Precedence::And)?;
            f.write_str(" and ")?;
            write_in(f, right, Precedence::Atom)?;
        }
        Filter::Not(inner) => {
            f.write_str("not (")?;
            write_in(f, inner, Precedence::Or)?;
            f.write_str(")")?;
        }
        Filter::ValuePath { path, filter, .. } => {
            write!(f, "{path}[")?;
            write_in(f, filter, Precedence::Or)?;
            f.write_str("]")?;
        }
    }
    if parenthesise {
        f.write_str(")")?;
    }
    Ok(())
}

impl fmt::Display for Filter {
    /// ```
    /// use scimd_protocol::filter::{parse, FilterLimits};
    /// let f = parse(r#"userType EQ "Employee" AND (emails CO "x" OR title PR)"#, &FilterLimits::default()).unwrap();
    /// assert_eq!(f.to_string(), r#"userType eq "Employee" and (emails co "x" or title pr)"#);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_in(f, self, Precedence::Or)
    }
}

impl fmt::Display for Literal {
    /// A JSON value: strings quoted and escaped, numbers as serde_json writes them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => {
                let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
                f.write_str(&quoted)
            }
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}
