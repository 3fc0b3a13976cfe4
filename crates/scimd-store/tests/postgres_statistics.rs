//! Planner statistics on PostgreSQL: a node that fills a fresh table analyzes it by
//! itself (see `postgres/statistics.rs`), and from then on the lookup every foreign-key
//! check of a new row runs (`tenant_id = $1 AND id = $2`) is planned on the primary
//! key, not as a range scan of the tenant in another index.

use scimd_protocol::resource::{Document, MemberChange, MemberRef};
use scimd_protocol::ResourceKind;
use scimd_store::postgres::PgStore;
use scimd_store::testing::fresh_postgres_store;
use scimd_store::{Fetch, NewResource, NewTenant, Store, Update};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use std::time::{Duration, Instant};

/// Well past the threshold of `ANALYZE_AFTER_ROWS` (1,000).
const USERS: usize = 1_100;

fn document(value: serde_json::Value) -> Document {
    match value {
        serde_json::Value::Object(map) => map,
        _ => Document::new(),
    }
}

/// How many times `table` was analyzed by hand (not by autovacuum).
async fn analyze_count(store: &PgStore, table: &str) -> i64 {
    sqlx::query_scalar("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = $1")
        .bind(table)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Polls (bounded) until `table` was analyzed by hand at least once.
async fn wait_for_analyze(store: &PgStore, table: &str) {
    wait_for_analyze_count(store, table, 1).await;
}

/// Polls (bounded) until `table` was analyzed by hand at least `count` times.
async fn wait_for_analyze_count(store: &PgStore, table: &str, count: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    // The statistics collector's view lags its backends a little: poll, bounded.
    while analyze_count(store, table).await < count {
        assert!(
            Instant::now() < deadline,
            "{table} was not analyzed {count} time(s) within 30 s"
        );
        sqlx::query("SELECT pg_stat_clear_snapshot()")
            .execute(store.pool())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A connection of its own holding the foreign-key check's lookup prepared as
/// PostgreSQL's RI triggers prepare it (parameters, one cached plan for every row),
/// planned once now, while the table is empty, as it is on a fresh database.
async fn prepared_foreign_key_check(url: &str) -> PgConnection {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(
        "SET plan_cache_mode = force_generic_plan;
         PREPARE fk_check(text, text) AS
           SELECT 1 FROM ONLY users x WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE OF x",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}

/// The plan the connection would run the lookup with now: the cached one, unless
/// PostgreSQL invalidated it.
async fn foreign_key_check_plan(conn: &mut PgConnection) -> String {
    let lines: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE fk_check('stats', 'x')")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    lines.join("\n")
}

#[tokio::test]
async fn growing_tables_are_analyzed_and_lookups_use_the_primary_key() {
    let (db, store) = fresh_postgres_store().await;
    store
        .create_tenant(&NewTenant::enabled("stats", "Stats"))
        .await
        .unwrap();
    assert_eq!(analyze_count(&store, "users").await, 0);
    let mut checker = prepared_foreign_key_check(&db.url).await;
    let before = foreign_key_check_plan(&mut checker).await;

    let mut ids = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let user = store
            .create(
                "stats",
                ResourceKind::User,
                NewResource {
                    document: document(json!({
                        "userName": format!("user{i}@example.com"),
                        "emails": [{"value": format!("user{i}@example.com"), "type": "work"}],
                    })),
                    members: vec![],
                },
                Fetch::NONE,
            )
            .await
            .unwrap();
        ids.push(user.id);
    }
    wait_for_analyze(&store, "users").await;
    wait_for_analyze(&store, "user_values").await;
    // The plan cached while the table was empty is replaced: ANALYZE invalidated it.
    let after = foreign_key_check_plan(&mut checker).await;
    assert!(
        after.contains("users_pkey"),
        "after ANALYZE the lookup should use the primary key; plan before:\n{before}\nafter:\n{after}"
    );

    // A second burst right after the first: its ANALYZE is due at once but held back
    // by the minimum interval, and still comes, with no write after the burst.
    let analyzed = analyze_count(&store, "users").await;
    for i in USERS..2 * USERS {
        store
            .create(
                "stats",
                ResourceKind::User,
                NewResource {
                    document: document(json!({"userName": format!("user{i}@example.com")})),
                    members: vec![],
                },
                Fetch::NONE,
            )
            .await
            .unwrap();
    }
    wait_for_analyze_count(&store, "users", analyzed + 1).await;

    // Memberships count too: one PATCH-sized change of 1,100 members.
    let group = store
        .create(
            "stats",
            ResourceKind::Group,
            NewResource {
                document: document(json!({"displayName": "Everyone"})),
                members: vec![],
            },
            Fetch::NONE,
        )
        .await
        .unwrap();
    let members: Vec<MemberRef> = ids.iter().map(MemberRef::id).collect();
    let updated = store
        .update(
            "stats",
            ResourceKind::Group,
            &group.id,
            None,
            Box::new(move |current| {
                Ok(Update {
                    document: current.document.clone(),
                    members: vec![MemberChange::Add(members)],
                })
            }),
            Fetch::ALL,
        )
        .await
        .unwrap();
    assert_eq!(updated.members.map(|m| m.len()), Some(USERS));
    wait_for_analyze(&store, "group_members").await;
    // Users twice, then memberships; groups (one row) are not due yet.
    assert_eq!(store.analyzes_started(), 3);
    assert_eq!(analyze_count(&store, "groups").await, 0);
    store.close().await;
}
