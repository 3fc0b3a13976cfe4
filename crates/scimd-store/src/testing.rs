//! Test support: a fresh PostgreSQL database per test.
//!
//! The tests run against a real PostgreSQL server (never skipped): `scripts/test test`
//! starts a throwaway cluster (scripts/lib/postgres.sh) and sets
//! `SCIMD_TEST_POSTGRES_URL` to a superuser URL; each test then gets its own database
//! with a random name, dropped again when the [`TestDatabase`] is dropped.

use std::time::Duration;

/// The variable holding the superuser URL of the test cluster.
pub const POSTGRES_URL_VARIABLE: &str = "SCIMD_TEST_POSTGRES_URL";

/// A database created for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// URL of the new database (same server and user as the cluster URL).
    pub url: String,
    /// Its name.
    pub name: String,
    admin_url: String,
}

/// The superuser URL of the test cluster. Panics, failing the test, when it is not
/// set: PostgreSQL tests are never skipped.
pub fn postgres_admin_url() -> String {
    match std::env::var(POSTGRES_URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{POSTGRES_URL_VARIABLE} is not set. The PostgreSQL tests need a server: run them \
             with `scripts/test test`, which starts a throwaway cluster and sets it, or set \
             {POSTGRES_URL_VARIABLE} to a superuser URL such as \
             postgres://postgres@127.0.0.1:5432/postgres (see docs/testing.md)"
        ),
    }
}

/// `url` with its database (the path) replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |at| at + 3);
    let host_end = base
        .get(scheme_end..)
        .and_then(|rest| rest.find('/'))
        .map_or(base.len(), |at| scheme_end + at);
    let mut out = format!("{}/{database}", base.get(..host_end).unwrap_or(base));
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn admin_execute(admin_url: &str, statement: &str) -> Result<(), sqlx::Error> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin_url).await?;
    sqlx::raw_sql(statement).execute(&mut conn).await?;
    sqlx::Connection::close(conn).await
}

/// Creates an empty database with a random name on the test cluster.
pub async fn fresh_postgres_database() -> TestDatabase {
    let admin_url = postgres_admin_url();
    let name = format!("scimd_test_{}", uuid::Uuid::new_v4().simple());
    if let Err(err) = admin_execute(&admin_url, &format!("CREATE DATABASE \"{name}\"")).await {
        panic!("cannot create test database {name} through {POSTGRES_URL_VARIABLE}: {err}");
    }
    TestDatabase {
        url: with_database(&admin_url, &name),
        name,
        admin_url,
    }
}

/// A fresh database (see [`fresh_postgres_database`]) with a store connected to it
/// with the default options (which migrates it). Keep the [`TestDatabase`] alive as
/// long as the store: dropping it drops the database.
pub async fn fresh_postgres_store() -> (TestDatabase, crate::postgres::PgStore) {
    let db = fresh_postgres_database().await;
    match crate::postgres::PgStore::connect(&db.url, &crate::connect::ConnectOptions::default())
        .await
    {
        Ok(store) => (db, store),
        Err(err) => panic!("cannot connect to test database {}: {err}", db.name),
    }
}

impl Drop for TestDatabase {
    /// Drops the database (closing whatever connections remain), on a thread of its
    /// own because Drop cannot await. Failures only leave a database behind in a
    /// throwaway cluster.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let _ = tokio::time::timeout(
                    Duration::from_secs(10),
                    admin_execute(&admin_url, &statement),
                )
                .await;
            });
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h:1/db?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }
}
