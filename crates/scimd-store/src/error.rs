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
