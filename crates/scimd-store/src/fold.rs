//! Case folding for case-insensitive comparisons (RFC 7643 §2.1: `caseExact` false).
//!
//! Values are folded in Rust with Unicode-aware lowercasing before they are stored in a
//! `*_norm` column or bound as a parameter, never with SQL `lower()`, so SQLite (whose
//! `lower()` only knows ASCII) and PostgreSQL agree on what matches.

/// The folded form of a string, as stored in `*_norm` columns.
pub fn fold_case(value: &str) -> String {
    value.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_beyond_ascii() {
        assert_eq!(fold_case("ÉCOLE@Example.COM"), "école@example.com");
    }
}
