//! What can make a command fail. Each message says what to do about it.

use scimd_store::StoreError;
use std::path::PathBuf;

/// A command's failure; printed on stderr, exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration file or a setting is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// A file system or network operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// An admin command found no database to work on.
    #[error(
        "no scimd database at {}; start `scimd serve` or `scimd tenant create` first, or check --data-dir",
        .0.display()
    )]
    NoDatabase(PathBuf),
    /// The store refused or failed.
    #[error("{}", store_message(.0))]
    Store(#[from] StoreError),
    /// Something the admin asked for does not exist.
    /// A destructive command given without its confirmation.
    #[error("{0}")]
    NotConfirmed(String),
    #[error("{0}")]
    NotFound(String),
    /// `scimd tenant check` found a problem (the report says which).
    #[error("{0}")]
    CheckFailed(String),
    /// A command's option is invalid.
    #[error("{0}")]
    InvalidArgument(String),
}

impl CliError {
    /// An I/O failure with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            context: context.into(),
            source,
        }
    }
}

/// A SCIM-level store error is shown as its detail (it is written for admins); the
/// others as they are.
fn store_message(error: &StoreError) -> String {
    match error {
        StoreError::Scim(e) => e.detail.clone(),
        other => other.to_string(),
    }
}
