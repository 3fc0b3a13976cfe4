//! How a PostgreSQL operation fails, kept precise until the retry decision is made.
//!
//! Inside the backend, database errors stay [`sqlx::Error`]s (with their SQLSTATE) so
//! the retry loop can tell a transient failure (a dropped connection, a deadlock
//! victim) from a permanent one; they become [`StoreError`]s only at the `Store` API.

use crate::StoreError;
use scimd_protocol::ScimError;

/// A failure inside the PostgreSQL backend.
#[derive(Debug)]
pub(crate) enum PgFailure {
    /// A database error, not yet classified.
    Sql(sqlx::Error),
    /// An outcome already decided (404, 409, 412, invalid document...).
    Store(StoreError),
}

pub(crate) type PgResult<T> = Result<T, PgFailure>;

impl From<sqlx::Error> for PgFailure {
    fn from(err: sqlx::Error) -> Self {
        PgFailure::Sql(err)
    }
}

impl From<StoreError> for PgFailure {
    fn from(err: StoreError) -> Self {
        PgFailure::Store(err)
    }
}

impl From<ScimError> for PgFailure {
    fn from(err: ScimError) -> Self {
        PgFailure::Store(StoreError::Scim(err))
    }
}

/// SQLSTATEs worth running the whole transaction again for: serialization failures
/// and deadlock victims (class 40: the transaction was rolled back and a retry is
/// expected to succeed), lost connections (class 08) and a server shutting down or
/// starting up (57P01..57P03: the pool reconnects, possibly to a promoted standby).
fn retryable_code(code: &str) -> bool {
    matches!(code, "40001" | "40P01" | "57P01" | "57P02" | "57P03") || code.starts_with("08")
}

/// Whether a database error is transient (see [`retryable_code`]).
fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| retryable_code(&code)),
        _ => false,
    }
}

/// A statement timeout (57014), resource exhaustion (class 53) or a database that
/// does not accept connections right now (55000, `ALLOW_CONNECTIONS false` during
/// maintenance): the database is overloaded or unavailable. Not retried (that would
/// add load), but still "try again later".
fn is_overload(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.code().is_some_and(|code| code == "57014" || code.starts_with("53") || code == "55000"))
}

impl PgFailure {
    /// Whether running the transaction again may succeed. A pool timeout is not
    /// retried: it already waited `acquire_timeout`, and waiting again would turn an
    /// outage into a hang.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self, PgFailure::Sql(err) if is_transient(err))
    }

    /// The error the `Store` API reports: transient trouble and overload are
    /// [`StoreError::Unavailable`] (503 with Retry-After); the rest keeps the
    /// crate-wide mapping (pool timeouts are `Unavailable` there too).
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            PgFailure::Store(err) => err,
            PgFailure::Sql(err) if is_transient(&err) || is_overload(&err) => {
                StoreError::Unavailable(err.to_string())
            }
            PgFailure::Sql(err) => StoreError::from(err),
        }
    }
}

/// Maps an error of a write: unique-index violations (SQLSTATE 23505) become 409
/// `uniqueness` naming the attribute (RFC 7644 §3.12). The unique index decides, also
/// when two creates race; nothing reads before writing.
pub(crate) fn write_error(err: sqlx::Error) -> PgFailure {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            let constraint = db.constraint().unwrap_or_default();
            let attribute = [
                ("user_name_norm", "userName"),
                ("external_id", "externalId"),
                ("display_name_norm", "displayName"),
                ("tenants_pkey", "tenant id"),
                ("tokens_pkey", "token id"),
            ]
            .iter()
            .find(|(name, _)| constraint.contains(name))
            .map_or("a unique attribute", |(_, attr)| attr);
            return ScimError::uniqueness(format!(
                "{attribute} is already in use (compared case-insensitively)"
            ))
            .into();
        }
    }
    err.into()
}
