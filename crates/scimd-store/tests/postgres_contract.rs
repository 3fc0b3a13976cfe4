//! The storage contract on PostgreSQL, each test on a fresh database of the test
//! cluster (`scripts/test test` starts one; see docs/testing.md), plus what only the
//! PostgreSQL backend has: migrations racing between nodes, several stores (nodes) on
//! one database.

use scimd_protocol::filter::{CompareOp, Filter, Literal, Span};
use scimd_protocol::paging::PageRequest;
use scimd_protocol::path::AttrPath;
use scimd_protocol::resource::{MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use scimd_store::connect::{self, ConnectOptions, DatabaseTarget};
use scimd_store::contract;
use scimd_store::postgres::PgStore;
use scimd_store::testing::{fresh_postgres_database, fresh_postgres_store, TestDatabase};
use scimd_store::{Fetch, ListQuery, NewResource, NewTenant, Store, StoreError, Update};
use serde_json::json;

async fn fresh_with(options: &ConnectOptions) -> (TestDatabase, PgStore) {
    let db = fresh_postgres_database().await;
    let store = PgStore::connect(&db.url, options).await.unwrap();
    (db, store)
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (_db, store) = fresh_postgres_store().await;
            contract::$name(&store).await.unwrap();
        }
    )*};
}

contract_tests!(
    tenants,
    tokens,
    resource_lifecycle,
    uniqueness,
    updates_keep_indexes_in_step,
    concurrent_creates,
    reads_of_several_statements_agree,
    tenant_isolation,
    filters,
    filter_errors,
    identity_provider_queries,
    sorting_and_index_paging,
    cursor_paging,
    memberships,
    users_groups_in_reads,
    documents_as_text,
    member_validation,
    delete_removes_memberships,
    if_match,
    typed_document_values,
    log_settings,
    provisioning_logs,
    log_pruning,
    admin_keys,
    oauth_clients,
);

#[tokio::test]
async fn all_checks_share_one_database() {
    let (_db, store) = fresh_postgres_store().await;
    contract::run_all(&store).await.unwrap();
}

#[tokio::test]
async fn connect_opens_postgres_targets_and_reports_the_pool() {
    let db = fresh_postgres_database().await;
    let target = DatabaseTarget::parse(&db.url).unwrap();
    assert!(matches!(target, DatabaseTarget::Postgres(_)));
    let options = ConnectOptions {
        max_connections: 3,
        ..ConnectOptions::default()
    };
    let store = connect::connect(&target, &options).await.unwrap();
    store.ping().await.unwrap();
    let pools = store.pool_status();
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0].max, 3);
    assert!(pools[0].open >= 1);
    // Already migrated by connect: nothing left to apply.
    assert!(connect::migrate(&target, &options)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_node_without_migrations_refuses_an_old_schema() {
    let db = fresh_postgres_database().await;
    let options = ConnectOptions {
        run_migrations: false,
        ..ConnectOptions::default()
    };
    let err = PgStore::connect(&db.url, &options).await.unwrap_err();
    assert!(err.to_string().contains("scimd migrate"), "{err}");
    let target = DatabaseTarget::parse(&db.url).unwrap();
    assert_eq!(
        connect::migrate(&target, &options).await.unwrap(),
        PgStore::migration_versions()
    );
    let store = PgStore::connect(&db.url, &options).await.unwrap();
    store.ping().await.unwrap();
}

/// Nodes starting at once: every migrate call succeeds, each migration is applied
/// exactly once, by one of them.
#[tokio::test]
async fn concurrent_migrations_apply_each_version_once() {
    let db = fresh_postgres_database().await;
    let target = DatabaseTarget::parse(&db.url).unwrap();
    // Four nodes, each with its own pool and connection, polled together: their
    // transactions really overlap in the server (connect()'s future is not `Send`, so
    // they share a task rather than being spawned).
    let options = ConnectOptions::default();
    let (a, b, c, d) = tokio::join!(
        connect::migrate(&target, &options),
        connect::migrate(&target, &options),
        connect::migrate(&target, &options),
        connect::migrate(&target, &options),
    );
    let mut applied = Vec::new();
    for outcome in [a, b, c, d] {
        applied.extend(outcome.unwrap());
    }
    applied.sort_unstable();
    assert_eq!(
        applied,
        PgStore::migration_versions(),
        "each version applied by exactly one node"
    );
    let store = PgStore::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, PgStore::migration_versions().len() as i64);
    contract::tenants(&store).await.unwrap();
}

fn new_user(name: &str) -> NewResource {
    NewResource {
        document: json!({ "userName": name }).as_object().unwrap().clone(),
        members: vec![],
    }
}

async fn tenant(store: &dyn Store, id: &str) {
    store
        .create_tenant(&NewTenant::enabled(id, id.to_uppercase()))
        .await
        .unwrap();
}

/// Creates racing from two stores (two nodes) on one database: one wins, the others
/// get 409 `uniqueness` from the unique index, none a database error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_across_nodes() {
    let (db, first) = fresh_postgres_store().await;
    let second = PgStore::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    tenant(&first, "t").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 { "Racer" } else { "RACER" };
            store
                .create("t", ResourceKind::User, new_user(name), Fetch::NONE)
                .await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::Scim(e)) => {
                assert_eq!(e.status, 409);
                assert_eq!(e.scim_type, Some(scimd_protocol::ScimType::Uniqueness));
                assert!(e.detail.contains("userName"), "{}", e.detail);
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(wins, 1);
}

fn change(c: MemberChange) -> scimd_store::UpdateFn {
    Box::new(move |current| {
        Ok(Update {
            document: current.document.clone(),
            members: vec![c],
        })
    })
}

/// Many connections of two nodes add and remove members of one group at once: every
/// addition lands, every removal too, and the version moved once per change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_membership_changes_on_one_group() {
    let (db, first) = fresh_postgres_store().await;
    let second = PgStore::connect(&db.url, &ConnectOptions::default())
        .await
        .unwrap();
    tenant(&first, "t").await;
    let mut users = Vec::new();
    for i in 0..40 {
        let user = first
            .create(
                "t",
                ResourceKind::User,
                new_user(&format!("u{i}")),
                Fetch::NONE,
            )
            .await
            .unwrap();
        users.push(user.id);
    }
    let group = first
        .create(
            "t",
            ResourceKind::Group,
            NewResource {
                document: json!({"displayName": "Everyone"})
                    .as_object()
                    .unwrap()
                    .clone(),
                // The last ten start as members and are removed concurrently.
                members: users[30..]
                    .iter()
                    .map(|id| MemberRef::id(id.clone()))
                    .collect(),
            },
            Fetch::NONE,
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let group_id = group.id.clone();
        let delta = if i < 30 {
            MemberChange::Add(vec![MemberRef::id(user.clone())])
        } else {
            MemberChange::Remove(vec![user.clone()])
        };
        tasks.push(tokio::spawn(async move {
            store
                .update(
                    "t",
                    ResourceKind::Group,
                    &group_id,
                    None,
                    change(delta),
                    Fetch::NONE,
                )
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let after = first
        .get("t", ResourceKind::Group, &group.id, Fetch::ALL)
        .await
        .unwrap()
        .unwrap();
    let mut expected: Vec<String> = users[..30].to_vec();
    expected.sort();
    let members: Vec<String> = after
        .members
        .unwrap()
        .into_iter()
        .map(|m| m.value)
        .collect();
    assert_eq!(members, expected);
    assert_eq!(after.meta.version, group.meta.version + 40);
}

fn cmp(path: &str, op: CompareOp, value: &str) -> Filter {
    Filter::Compare {
        path: AttrPath::parse(path).unwrap(),
        op,
        value: Literal::String(value.into()),
        span: Span::default(),
    }
}

#[tokio::test]
async fn external_id_uniqueness_can_be_turned_off() {
    let options = ConnectOptions {
        uniqueness: scimd_store::UniquenessOptions { external_id: false },
        ..ConnectOptions::default()
    };
    let (_db, store) = fresh_with(&options).await;
    tenant(&store, "t").await;
    for (kind, doc) in [
        (
            ResourceKind::User,
            json!({"userName": "a", "externalId": "same"}),
        ),
        (
            ResourceKind::User,
            json!({"userName": "b", "externalId": "SAME"}),
        ),
        (
            ResourceKind::Group,
            json!({"displayName": "a", "externalId": "same"}),
        ),
        (
            ResourceKind::Group,
            json!({"displayName": "b", "externalId": "same"}),
        ),
    ] {
        store
            .create(
                "t",
                kind,
                NewResource {
                    document: doc.as_object().unwrap().clone(),
                    members: vec![],
                },
                Fetch::NONE,
            )
            .await
            .unwrap_or_else(|e| panic!("{kind:?} with a shared externalId: {e}"));
    }
    let err = store
        .create("t", ResourceKind::User, new_user("A"), Fetch::NONE)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("userName"), "{err}");
    let registry = SchemaRegistry::with_core();
    let filter = cmp("externalId", CompareOp::Eq, "same");
    let page = store
        .list(
            "t",
            ResourceKind::User,
            &registry,
            &ListQuery {
                filter: Some(&filter),
                sort: None,
                page: PageRequest::Index {
                    start_index: 1,
                    count: 10,
                },
                fetch: Fetch::NONE,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.total_results, 2);
}

/// R11: a group read without members never touches `group_members` (the test hides
/// the table; reads that do not fetch members still work, one that does fails).
#[tokio::test]
async fn reads_without_members_never_touch_the_member_table() {
    let (_db, store) = fresh_postgres_store().await;
    tenant(&store, "t").await;
    let user = store
        .create("t", ResourceKind::User, new_user("u"), Fetch::NONE)
        .await
        .unwrap();
    let group = store
        .create(
            "t",
            ResourceKind::Group,
            NewResource {
                document: json!({"displayName": "G"}).as_object().unwrap().clone(),
                members: vec![MemberRef::id(user.id.clone())],
            },
            Fetch::NONE,
        )
        .await
        .unwrap();
    sqlx::query("ALTER TABLE group_members RENAME TO group_members_hidden")
        .execute(store.pool())
        .await
        .unwrap();
    let read = store
        .get("t", ResourceKind::Group, &group.id, Fetch::NONE)
        .await
        .unwrap();
    assert_eq!(read.unwrap().members, None);
    let with_members = store
        .get(
            "t",
            ResourceKind::Group,
            &group.id,
            Fetch {
                members: true,
                ..Fetch::NONE
            },
        )
        .await;
    assert!(with_members.is_err(), "{with_members:?}");
}
