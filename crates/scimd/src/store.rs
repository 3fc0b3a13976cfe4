//! Opening the database: `--database` (PostgreSQL or a SQLite file), else
//! `scimd.db` in the data directory. Every command goes through [`open`], so the
//! admin commands work on whatever database the server uses.

use crate::config::Settings;
use crate::error::CliError;
use scimd_store::connect::{self, ConnectOptions, DatabaseTarget};
use scimd_store::{Store, StoreError, UniquenessOptions};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Whether a command may create the data directory and database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// `serve` and `tenant create`: start from nothing if need be.
    IfMissing,
    /// Other admin commands: a missing database is more likely a wrong `--data-dir`
    /// than an intent to start afresh.
    Never,
}

/// Whether opening applies pending migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// Apply them (two processes doing so at once is safe: the store serialises it).
    Apply,
    /// Leave the schema alone (`serve --no-migrate`).
    Skip,
}

/// The stores this process opened, for [`close_opened`]. A `scimd` process runs one
/// command, so this is the command's: no command has to remember to close what it
/// opened, on any of its return paths.
static OPENED: Mutex<Vec<Arc<dyn Store>>> = Mutex::new(Vec::new());

/// How long [`close_opened`] waits for one store to close before the process exits
/// anyway: SQLite finishes its queued writes and checkpoints (milliseconds); a
/// PostgreSQL pool waits for its connections to come back, which a stuck server must
/// not turn into a process that never exits. Left open, the data is still safe: SQLite
/// recovers its WAL on the next open.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Closes every store [`open`] returned, once the command has run (`main`). On SQLite
/// the last connection's close folds the WALs into the database files, so what an
/// admin command or a stopped server wrote is in `scimd.db` itself once the process
/// exits, and a backup that copies the database files of a stopped scimd has it.
pub async fn close_opened() {
    let opened = std::mem::take(&mut *OPENED.lock().unwrap_or_else(PoisonError::into_inner));
    for store in opened {
        if tokio::time::timeout(CLOSE_TIMEOUT, store.close())
            .await
            .is_err()
        {
            tracing::warn!(
                timeout_seconds = CLOSE_TIMEOUT.as_secs(),
                "the database did not close in time; exiting anyway"
            );
        }
    }
}

/// Opens the configured database. For a SQLite file the data directory is created
/// when `create` allows; a PostgreSQL database must exist already (creating
/// databases is the operator's business), but its tables are created by migrations.
pub async fn open(
    settings: &Settings,
    create: Create,
    migrations: Migrations,
) -> Result<Arc<dyn Store>, CliError> {
    open_with(settings, create, connect_options(settings, migrations)).await
}

/// [`open`] for `scimd serve`: the store is the database's server
/// ([`ConnectOptions::sole_server`]). On SQLite a second server on the same file
/// fails here, before it migrates or binds.
pub async fn open_for_serving(
    settings: &Settings,
    migrations: Migrations,
) -> Result<Arc<dyn Store>, CliError> {
    let options = ConnectOptions {
        sole_server: true,
        ..connect_options(settings, migrations)
    };
    open_with(settings, Create::IfMissing, options).await
}

async fn open_with(
    settings: &Settings,
    create: Create,
    options: ConnectOptions,
) -> Result<Arc<dyn Store>, CliError> {
    let target = settings.database_target()?;
    if let DatabaseTarget::Sqlite(path) = &target {
        match create {
            Create::IfMissing => {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        CliError::io(format!("creating the data directory {}", dir.display()), e)
                    })?;
                }
            }
            Create::Never if !path.exists() => return Err(CliError::NoDatabase(path.clone())),
            Create::Never => {}
        }
    }
    let store = connect::connect(&target, &options)
        .await
        .map_err(|e| redact_store_error(e, settings))?;
    OPENED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(store.clone());
    Ok(store)
}

/// Applies pending migrations; returns the versions applied (empty when the schema
/// was current).
pub async fn migrate(settings: &Settings) -> Result<Vec<i64>, CliError> {
    let target = settings.database_target()?;
    if let DatabaseTarget::Sqlite(path) = &target {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                CliError::io(format!("creating the data directory {}", dir.display()), e)
            })?;
        }
    }
    connect::migrate(&target, &connect_options(settings, Migrations::Apply))
        .await
        .map_err(|e| redact_store_error(e, settings))
}

/// The store's connection options: the store's defaults, overridden by settings.
pub fn connect_options(settings: &Settings, migrations: Migrations) -> ConnectOptions {
    let defaults = ConnectOptions::default();
    let db = &settings.database;
    ConnectOptions {
        max_connections: db.max_connections.unwrap_or(defaults.max_connections),
        acquire_timeout: db.acquire_timeout.unwrap_or(defaults.acquire_timeout),
        statement_timeout: db.statement_timeout.unwrap_or(defaults.statement_timeout),
        uniqueness: UniquenessOptions {
            external_id: settings.unique_external_id,
        },
        run_migrations: migrations == Migrations::Apply,
        ..defaults
    }
}

/// A driver error may quote the connection string; make sure the password never
/// reaches stderr or a log.
fn redact_store_error(error: StoreError, settings: &Settings) -> CliError {
    let Some(url) = &settings.database.url else {
        return CliError::Store(error);
    };
    CliError::Store(match error {
        StoreError::Unavailable(message) => {
            StoreError::Unavailable(redact_secret_in(&message, url))
        }
        StoreError::Database(message) => StoreError::Database(redact_secret_in(&message, url)),
        scim @ StoreError::Scim(_) => scim,
    })
}

/// The password of a URL's `user:password@` part, if any.
fn password_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password).filter(|p| !p.is_empty())
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`; other strings
/// unchanged.
pub fn redact_password(url: &str) -> String {
    match password_of(url) {
        Some(password) => url.replacen(&format!(":{password}@"), ":***@", 1),
        None => url.to_owned(),
    }
}

/// `text` with every occurrence of `url`'s password replaced by `***` (and the URL
/// itself by its redacted form).
pub fn redact_secret_in(text: &str, url: &str) -> String {
    let text = text.replace(url, &redact_password(url));
    match password_of(url) {
        Some(password) => text.replace(password, "***"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_and_nothing_else_changes() {
        assert_eq!(
            redact_password("postgres://scimd:s3cr3t@db.internal:5432/scimd?sslmode=require"),
            "postgres://scimd:***@db.internal:5432/scimd?sslmode=require"
        );
        assert_eq!(
            redact_password("postgresql://scimd@db/scimd"),
            "postgresql://scimd@db/scimd"
        );
        assert_eq!(
            redact_password("postgres://u:p%40ss@h/d"),
            "postgres://u:***@h/d"
        );
        assert_eq!(redact_password("/var/lib/scimd.db"), "/var/lib/scimd.db");
        let message = "could not connect to postgres://u:hunter2@h/d: password hunter2 refused";
        let redacted = redact_secret_in(message, "postgres://u:hunter2@h/d");
        assert!(!redacted.contains("hunter2"), "{redacted}");
        assert!(redacted.contains("postgres://u:***@h/d"), "{redacted}");
    }
}
