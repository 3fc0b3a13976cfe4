//! The one way the binary and the tests open a store: a [`DatabaseTarget`] (SQLite
//! file or PostgreSQL URL) and [`ConnectOptions`] shared by both backends.

use crate::postgres::PgStore;
use crate::sqlite::{SqliteOptions, SqliteStore};
use crate::{Store, StoreError, StoreResult, UniquenessOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the data lives: `sqlite:///path/scimd.db` / a plain path, or `postgres://...`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// An SQLite database file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl DatabaseTarget {
    /// Parses a database setting:
    /// - `postgres://...` or `postgresql://...`: PostgreSQL;
    /// - `sqlite:///abs/path.db`, `sqlite://rel/path.db` or `sqlite:path.db`: SQLite;
    /// - anything else without a `scheme://` is a path to an SQLite file.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let text = s.trim();
        if text.is_empty() {
            return Err(StoreError::Database("the database setting is empty".into()));
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres(text.to_owned()));
        }
        let path = if lower.starts_with("sqlite://") {
            text.get("sqlite://".len()..).unwrap_or_default()
        } else if lower.starts_with("sqlite:") {
            text.get("sqlite:".len()..).unwrap_or_default()
        } else if let Some((scheme, _)) = text.split_once("://") {
            return Err(StoreError::Database(format!(
                "unsupported database '{scheme}://...': use a path, sqlite:///path or postgres://..."
            )));
        } else {
            text
        };
        // A query string (`?mode=rwc`) is not part of the file name.
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(StoreError::Database(format!(
                "'{text}' names no SQLite file"
            )));
        }
        Ok(DatabaseTarget::Sqlite(PathBuf::from(path)))
    }

    /// The target for logs: PostgreSQL URLs without their password.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseTarget::Postgres(url) => redact_password(url),
        }
    }
}

impl std::fmt::Debug for DatabaseTarget {
    /// Never prints a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Pool/timeout/retry settings shared by both backends.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// PostgreSQL: the pool's size per node. SQLite: the number of read-only
    /// connections (writes always use one connection).
    pub max_connections: u32,
    /// How long a request waits for a free connection (or for the database to accept
    /// one) before failing with [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// PostgreSQL: the server-side `statement_timeout` of every connection (a
    /// statement running longer fails with `Unavailable`). SQLite waits for its lock
    /// for its own busy timeout instead.
    pub statement_timeout: Duration,
    /// PostgreSQL: how many times a transaction that failed for a transient reason
    /// (serialization failure, deadlock, dropped connection) runs again.
    pub transient_retries: u32,
    /// Which optional uniqueness rules apply.
    pub uniqueness: UniquenessOptions,
    /// Apply pending migrations when connecting. PostgreSQL nodes may leave this off
    /// and run `scimd migrate` once per deployment; they then refuse a schema that is
    /// not current. SQLite always migrates on open (one node owns the file).
    pub run_migrations: bool,
    /// The store backs a running server (`scimd serve`), not a short command. On
    /// SQLite it takes the file's server lock, so a second server on the same file
    /// fails to open, and answers lookups of names no row has from memory
    /// ([`SqliteOptions::sole_server`]). PostgreSQL serves many nodes and ignores it.
    pub sole_server: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            transient_retries: 3,
            uniqueness: UniquenessOptions::default(),
            run_migrations: true,
            sole_server: false,
        }
    }
}

fn sqlite_options(options: &ConnectOptions) -> SqliteOptions {
    SqliteOptions {
        readers: options.max_connections.max(1),
        acquire_timeout: options.acquire_timeout,
        uniqueness: options.uniqueness,
        sole_server: options.sole_server,
        ..SqliteOptions::default()
    }
}

/// Opens the store at `target`.
pub async fn connect(
    target: &DatabaseTarget,
    options: &ConnectOptions,
) -> StoreResult<Arc<dyn Store>> {
    Ok(match target {
        DatabaseTarget::Sqlite(path) => {
            let store: Arc<dyn Store> =
                Arc::new(SqliteStore::open_with(path, &sqlite_options(options)).await?);
            store
        }
        DatabaseTarget::Postgres(url) => Arc::new(PgStore::connect(url, options).await?),
    })
}

/// Applies pending migrations (for `scimd migrate`); returns the versions applied.
pub async fn migrate(target: &DatabaseTarget, options: &ConnectOptions) -> StoreResult<Vec<i64>> {
    match target {
        DatabaseTarget::Sqlite(path) => {
            let before = sqlite_versions(path).await?;
            let store = SqliteStore::open_with(path, &sqlite_options(options)).await?;
            let after = store.migration_versions().await;
            store.close().await;
            let after = after?;
            Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
        }
        DatabaseTarget::Postgres(url) => {
            let store = PgStore::connect_without_migrating(url, options).await?;
            let applied = store.migrate().await;
            store.close().await;
            applied
        }
    }
}

/// The migrations an SQLite file has seen (none when it does not exist yet).
async fn sqlite_versions(path: &Path) -> StoreResult<Vec<i64>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || crate::sqlite::recorded_migrations(&path))
        .await
        .map_err(|err| StoreError::Database(format!("reading the migrations failed: {err}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            DatabaseTarget::parse("sqlite:///var/lib/scimd/scimd.db").unwrap(),
            DatabaseTarget::Sqlite("/var/lib/scimd/scimd.db".into())
        );
        assert_eq!(
            DatabaseTarget::parse("data/scimd.db").unwrap(),
            DatabaseTarget::Sqlite("data/scimd.db".into())
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:x.db?mode=rwc").unwrap(),
            DatabaseTarget::Sqlite("x.db".into())
        );
        assert_eq!(
            DatabaseTarget::parse("postgres://u:p@db:5432/scimd").unwrap(),
            DatabaseTarget::Postgres("postgres://u:p@db:5432/scimd".into())
        );
        assert!(matches!(
            DatabaseTarget::parse("postgresql://db/scimd").unwrap(),
            DatabaseTarget::Postgres(_)
        ));
        assert!(DatabaseTarget::parse("mysql://db/x").is_err());
        assert!(DatabaseTarget::parse("  ").is_err());
        assert!(DatabaseTarget::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let target = DatabaseTarget::parse("postgres://scimd:s3cret@db:5432/scimd").unwrap();
        assert_eq!(target.redacted(), "postgres://scimd:***@db:5432/scimd");
        assert!(!format!("{target:?}").contains("s3cret"));
        assert_eq!(
            redact_password("postgres://scimd@db/x"),
            "postgres://scimd@db/x"
        );
    }
}
