//! Store errors. SCIM-level outcomes (404, 409 `uniqueness`, 412, `invalidFilter`)
//! travel as [`ScimError`]; database trouble is kept apart so the server can answer
//! 503 with `Retry-After` when the database is unreachable.

use scimd_protocol::ScimError;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A SCIM-level outcome the client caused (not found, uniqueness, precondition,
    /// invalid filter, unknown member...).
    #[error(transparent)]
    Scim(#[from] ScimError),
    /// The database cannot be reached or is overloaded; retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure (a bug, corruption, a migration problem).
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    /// Sorts database failures into "try again later" and "broken". Busy/locked
    /// databases, pool timeouts and I/O failures are [`StoreError::Unavailable`] (the
    /// server answers 503 with `Retry-After`); everything else is
    /// [`StoreError::Database`]. Messages come from the driver and carry no bound
    /// values, so no secret can leak through them.
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.code().is_some_and(|code| is_unstorable_text_code(&code)) {
                // The server refuses U+0000 before it reaches a store; should a
                // value still carry one, the client hears why (400), not 500.
                return StoreError::Scim(ScimError::invalid_value(
                    scimd_protocol::nul::NUL_REFUSED,
                ));
            }
        }
        let transient = match &err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| is_transient_code(&code)),
            _ => false,
        };
        if transient {
            StoreError::Unavailable(err.to_string())
        } else {
            StoreError::Database(err.to_string())
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// SQLite failures sorted the same way: SQLITE_BUSY and SQLITE_LOCKED (and their
    /// extended codes) are [`StoreError::Unavailable`], everything else
    /// [`StoreError::Database`]. rusqlite's messages are SQLite's, without bound values.
    fn from(err: rusqlite::Error) -> Self {
        let transient = match &err {
            rusqlite::Error::SqliteFailure(failure, _) => {
                is_transient_code(&failure.extended_code.to_string())
            }
            _ => false,
        };
        if transient {
            StoreError::Unavailable(err.to_string())
        } else {
            StoreError::Database(err.to_string())
        }
    }
}

/// PostgreSQL's refusals of text it cannot hold: 22021 `character_not_in_repertoire`
/// (a `text` value with U+0000) and 22P05 `untranslatable_character` (`jsonb` with
/// `\u0000`).
fn is_unstorable_text_code(code: &str) -> bool {
    matches!(code, "22021" | "22P05")
}

/// PostgreSQL reports five-character SQLSTATEs: connection exceptions (class 08),
/// admin shutdowns (57P0x) and resource exhaustion (class 53) are transient. SQLite
/// reports numeric result codes of at most four digits: SQLITE_BUSY (5) and
/// SQLITE_LOCKED (6), with their extended codes (whose low byte is the primary code).
fn is_transient_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("08") || code.starts_with("57P0") || code.starts_with("53");
    }
    code.parse::<u32>()
        .is_ok_and(|number| matches!(number & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_locked_are_transient() {
        assert!(is_transient_code("5"));
        assert!(is_transient_code("517"));
        assert!(is_transient_code("262"));
        assert!(is_transient_code("08006"));
        assert!(!is_transient_code("2067"));
        assert!(!is_transient_code("23505"));
        assert!(is_transient_code("53300"));
    }

    #[test]
    fn pool_timeout_is_unavailable() {
        assert!(matches!(
            StoreError::from(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            StoreError::from(sqlx::Error::RowNotFound),
            StoreError::Database(_)
        ));
    }

    #[test]
    fn sqlite_busy_is_unavailable() {
        let failure = |code| {
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("x".into()))
        };
        assert!(matches!(
            StoreError::from(failure(rusqlite::ffi::SQLITE_BUSY)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            StoreError::from(failure(rusqlite::ffi::SQLITE_LOCKED_SHAREDCACHE)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            StoreError::from(failure(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)),
            StoreError::Database(_)
        ));
    }
}
