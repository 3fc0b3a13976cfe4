//! Fresh databases for tests, on the backend `SCIMD_TEST_BACKEND` names, and the
//! outage switch for PostgreSQL (no connection admitted, existing ones terminated).

use scimd_store::connect::{self, ConnectOptions, DatabaseTarget};
use scimd_store::testing::{fresh_postgres_database, postgres_admin_url};
use scimd_store::Store;
use sqlx::Connection;
use std::sync::Arc;

/// Which database the HTTP tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `SCIMD_TEST_BACKEND`: `sqlite` (default) or `postgres`. Anything else is a
    /// mistake worth stopping for, not a reason to fall back silently.
    pub fn from_env() -> Backend {
        match std::env::var("SCIMD_TEST_BACKEND").as_deref() {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => Backend::Postgres,
            Ok(other) => panic!("SCIMD_TEST_BACKEND={other}: expected sqlite or postgres"),
        }
    }
}

/// A database no other test uses: a SQLite file in a temporary directory, or a
/// database created for this test on the throwaway PostgreSQL cluster.
pub struct TestDatabase {
    pub backend: Backend,
    pub target: DatabaseTarget,
    /// PostgreSQL: the database, dropped when this is.
    postgres: Option<scimd_store::testing::TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A fresh database on the backend `SCIMD_TEST_BACKEND` names.
    pub async fn fresh() -> TestDatabase {
        Self::fresh_on(Backend::from_env()).await
    }

    /// A fresh database on `backend`.
    pub async fn fresh_on(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                TestDatabase {
                    backend,
                    target: DatabaseTarget::Sqlite(dir.path().join("scimd.db")),
                    postgres: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let database = fresh_postgres_database().await;
                TestDatabase {
                    backend,
                    target: DatabaseTarget::Postgres(database.url.clone()),
                    postgres: Some(database),
                    _dir: None,
                }
            }
        }
    }

    /// A new store (its own connection pool) on this database, migrations applied.
    pub async fn connect(&self) -> Arc<dyn Store> {
        self.connect_with(&ConnectOptions::default()).await
    }

    /// A new store with these options.
    pub async fn connect_with(&self, options: &ConnectOptions) -> Arc<dyn Store> {
        connect::connect(&self.target, options)
            .await
            .unwrap_or_else(|e| panic!("connect to the test database: {e}"))
    }

    /// The PostgreSQL URL of this database (panics on SQLite).
    pub fn postgres_url(&self) -> &str {
        match &self.target {
            DatabaseTarget::Postgres(url) => url,
            other => panic!("not a PostgreSQL database: {other:?}"),
        }
    }

    /// PostgreSQL: an outage as clients see it. The database admits no new
    /// connection, even a superuser's, and every open one is terminated.
    pub async fn refuse_connections(&self) {
        let name = self.admin_name();
        self.admin_sql(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid();"
        ))
        .await;
    }

    /// PostgreSQL: the end of the outage.
    pub async fn allow_connections(&self) {
        let name = self.admin_name();
        self.admin_sql(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            .await;
    }

    fn admin_name(&self) -> &str {
        &self
            .postgres
            .as_ref()
            .expect("a PostgreSQL test database")
            .name
    }

    async fn admin_sql(&self, sql: &str) {
        let mut admin = sqlx::PgConnection::connect(&postgres_admin_url())
            .await
            .expect("connect to SCIMD_TEST_POSTGRES_URL");
        sqlx::raw_sql(sql)
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = admin.close().await;
    }
}
