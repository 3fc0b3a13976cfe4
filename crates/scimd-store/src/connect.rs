//! TEMPORARY (branch pg-nodes only): the agreed `connect` API, SQLite only, so the
//! binary and tests can be written before branch pg-store lands. Replaced by
//! pg-store's connect.rs at merge.

use crate::sqlite::{SqliteOptions, SqliteStore};
use crate::{Store, StoreError, StoreResult, UniquenessOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which database to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl DatabaseTarget {
    /// Parses `postgres://…`, `postgresql://…`, `sqlite:///path` or a path.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(StoreError::Database("empty database URL".into()));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres(s.to_owned()));
        }
        if let Some(path) = s.strip_prefix("sqlite://") {
            return Ok(DatabaseTarget::Sqlite(PathBuf::from(path)));
        }
        if s.contains("://") {
            return Err(StoreError::Database("unknown database URL scheme".into()));
        }
        Ok(DatabaseTarget::Sqlite(PathBuf::from(s)))
    }
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    pub transient_retries: u32,
    pub uniqueness: UniquenessOptions,
    pub run_migrations: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            transient_retries: 2,
            uniqueness: UniquenessOptions::default(),
            run_migrations: true,
        }
    }
}

/// Opens the store.
pub async fn connect(
    target: &DatabaseTarget,
    options: &ConnectOptions,
) -> StoreResult<Arc<dyn Store>> {
    match target {
        DatabaseTarget::Sqlite(path) => {
            let sqlite = SqliteOptions {
                acquire_timeout: options.acquire_timeout,
                uniqueness: options.uniqueness,
                ..SqliteOptions::default()
            };
            Ok(Arc::new(SqliteStore::open_with(path, &sqlite).await?))
        }
        DatabaseTarget::Postgres(_) => Err(StoreError::Database(
            "PostgreSQL lands with branch pg-store".into(),
        )),
    }
}

/// Applies pending migrations; returns the versions applied.
pub async fn migrate(target: &DatabaseTarget, options: &ConnectOptions) -> StoreResult<Vec<i64>> {
    connect(target, options).await?;
    Ok(Vec::new())
}
