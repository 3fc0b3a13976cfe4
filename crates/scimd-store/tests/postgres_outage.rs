//! A database outage seen from one connected store: operations fail promptly with
//! `StoreError::Unavailable` (the server answers 503 with Retry-After), and succeed
//! again once the database is back, without reopening the store.
//!
//! The shared test cluster cannot be stopped, so the outage is made for this test's
//! own role: its backends are killed with pg_terminate_backend and its connection
//! limit set to 0, so every reconnection is refused, exactly as while a server is
//! down or restarting; lifting the limit is the database coming back.

use scimd_protocol::ResourceKind;
use scimd_store::connect::ConnectOptions;
use scimd_store::postgres::PgStore;
use scimd_store::testing::{fresh_postgres_database, postgres_admin_url};
use scimd_store::{Fetch, NewResource, NewTenant, Store, StoreError};
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::time::Duration;

/// A generous bound that only catches a hang; the store's own bound is the 1 s
/// acquire timeout (with at most 2 retries of short backoffs).
const HANG_GUARD: Duration = Duration::from_secs(60);

async fn admin(statement: &str) {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url())
        .await
        .unwrap();
    sqlx::raw_sql(statement).execute(&mut conn).await.unwrap();
}

fn user(name: &str) -> NewResource {
    NewResource {
        document: json!({ "userName": name }).as_object().unwrap().clone(),
        members: vec![],
    }
}

fn assert_unavailable<T: std::fmt::Debug>(outcome: Result<T, StoreError>, what: &str) {
    match outcome {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("{what} during the outage: expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn an_outage_is_unavailable_and_the_store_recovers_by_itself() {
    let db = fresh_postgres_database().await;
    let role = format!("scimd_outage_{}", uuid::Uuid::new_v4().simple());
    admin(&format!(
        "CREATE ROLE {role} LOGIN; ALTER DATABASE \"{}\" OWNER TO {role}",
        db.name
    ))
    .await;
    // The same server and database, as the new (non-superuser) role: connection
    // limits do not apply to superusers.
    let admin_options = PgConnectOptions::from_str(&db.url).unwrap();
    let url = format!(
        "postgres://{role}@{}:{}/{}",
        admin_options.get_host(),
        admin_options.get_port(),
        db.name
    );
    let options = ConnectOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(1),
        transient_retries: 2,
        ..ConnectOptions::default()
    };
    let store = PgStore::connect(&url, &options).await.unwrap();
    store
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    store
        .create("t", ResourceKind::User, user("before"), Fetch::NONE)
        .await
        .unwrap();

    // Dropped connections alone (a failover, an idle timeout in a proxy): the pool
    // replaces them and the next operations just work.
    admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    ))
    .await;
    store.ping().await.unwrap();
    assert!(store.get_tenant("t").await.unwrap().is_some());

    // The outage: every connection killed and none accepted.
    admin(&format!(
        "ALTER ROLE {role} CONNECTION LIMIT 0; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    ))
    .await;
    let during = tokio::time::timeout(HANG_GUARD, async {
        assert_unavailable(store.ping().await, "ping");
        assert_unavailable(store.get_tenant("t").await, "get_tenant");
        assert_unavailable(
            store
                .create("t", ResourceKind::User, user("during"), Fetch::NONE)
                .await,
            "create",
        );
    })
    .await;
    assert!(during.is_ok(), "operations hung during the outage");

    // The database is back: the same store works again, and nothing half-written
    // during the outage appeared.
    admin(&format!("ALTER ROLE {role} CONNECTION LIMIT -1")).await;
    store.ping().await.unwrap();
    assert!(store.get_tenant("t").await.unwrap().is_some());
    store
        .create("t", ResourceKind::User, user("after"), Fetch::NONE)
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT user_name FROM users ORDER BY user_name")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(names, ["after", "before"]);

    store.close().await;
    drop(db);
    admin(&format!("DROP ROLE {role}")).await;
}
