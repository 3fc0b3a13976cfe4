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
    /// PostgreSQL: the login role `target` connects as, when not the superuser.
    own_role: Option<String>,
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
                    own_role: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let database = fresh_postgres_database().await;
                TestDatabase {
                    backend,
                    target: DatabaseTarget::Postgres(database.url.clone()),
                    postgres: Some(database),
                    own_role: None,
                    _dir: None,
                }
            }
        }
    }

    /// A fresh PostgreSQL database owned by a login role of its own, which `target`
    /// connects as: an outage can then be made for that role alone
    /// ([`TestDatabase::refuse_role`]) without touching the shared cluster. The role
    /// stays behind in the throwaway cluster, which is deleted after the run.
    pub async fn fresh_postgres_with_own_role() -> TestDatabase {
        let mut database = Self::fresh_on(Backend::Postgres).await;
        let name = database.admin_name().to_owned();
        database
            .admin_sql(&format!(
                "CREATE ROLE {name} LOGIN; ALTER DATABASE {name} OWNER TO {name}"
            ))
            .await;
        database.target = DatabaseTarget::Postgres(with_user(database.postgres_url(), &name));
        database.own_role = Some(name);
        database
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

    /// PostgreSQL, own role: an outage as this database's clients see it. The role
    /// may open no connection (`CONNECTION LIMIT 0`: "too many connections", as from
    /// a server at its limit) and every open one is terminated.
    pub async fn refuse_role(&self) {
        let role = self
            .own_role
            .as_deref()
            .expect("a database with its own role");
        self.admin_sql(&format!(
            "ALTER ROLE {role} CONNECTION LIMIT 0; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}';"
        ))
        .await;
    }

    /// PostgreSQL, own role: the end of the outage.
    pub async fn admit_role(&self) {
        let role = self
            .own_role
            .as_deref()
            .expect("a database with its own role");
        self.admin_sql(&format!("ALTER ROLE {role} CONNECTION LIMIT -1"))
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

/// `postgres://old@host/db` -> `postgres://user@host/db`.
fn with_user(url: &str, user: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{user}@{host}{tail}")
}
