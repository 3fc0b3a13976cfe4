//! The SQLite server's cache of users (`sqlite/resource_cache.rs`): a user read again
//! is answered from memory, and every read answers what the database holds, after any
//! write, by this store or (for tenants) by another process on the same file.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scimd_protocol::filter::{parse, FilterLimits};
use scimd_protocol::paging::PageRequest;
use scimd_protocol::resource::{MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use scimd_store::sqlite::{ResourceCacheStats, SqliteOptions, SqliteStore};
use scimd_store::{
    Fetch, ListPage, ListQuery, NewResource, NewTenant, Store, StoreError, StoredResource, Update,
};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// What the server's reads that render a user ask for (`scim/resources.rs`).
const RENDERED: Fetch = Fetch {
    members: false,
    groups: true,
    document_text: true,
};

const USER: ResourceKind = ResourceKind::User;
const GROUP: ResourceKind = ResourceKind::Group;

async fn open_server(path: &Path) -> SqliteStore {
    let options = SqliteOptions {
        sole_server: true,
        ..SqliteOptions::default()
    };
    SqliteStore::open_with(path, &options).await.unwrap()
}

/// A server on a fresh file with tenant `t`, and a plain store on the same file (as
/// the CLI opens it) that reads the database with no cache.
async fn server_and_plain() -> (tempfile::TempDir, SqliteStore, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let server = open_server(&path).await;
    server
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    let plain = SqliteStore::open(&path).await.unwrap();
    (dir, server, plain)
}

fn stats(store: &SqliteStore) -> ResourceCacheStats {
    store
        .resource_cache_stats()
        .expect("the server caches users")
}

async fn create(store: &SqliteStore, kind: ResourceKind, body: Value) -> String {
    create_with(store, kind, body, vec![]).await.unwrap()
}

async fn create_with(
    store: &SqliteStore,
    kind: ResourceKind,
    body: Value,
    members: Vec<MemberRef>,
) -> Result<String, StoreError> {
    let document = body.as_object().cloned().unwrap_or_default();
    let created = store
        .create("t", kind, NewResource { document, members }, Fetch::NONE)
        .await?;
    Ok(created.id)
}

async fn update(
    store: &SqliteStore,
    kind: ResourceKind,
    id: &str,
    body: Option<Value>,
    members: Vec<MemberChange>,
) -> Result<(), StoreError> {
    store
        .update(
            "t",
            kind,
            id,
            None,
            Box::new(move |current| {
                let document = match body {
                    Some(body) => body.as_object().cloned().unwrap_or_default(),
                    None => current.document.clone(),
                };
                Ok(Update { document, members })
            }),
            Fetch::NONE,
        )
        .await
        .map(|_| ())
}

fn member(id: &str) -> MemberRef {
    MemberRef {
        value: id.into(),
        kind: Some(USER),
        display: None,
    }
}

async fn get(store: &SqliteStore, id: &str) -> Option<StoredResource> {
    store.get("t", USER, id, RENDERED).await.unwrap()
}

async fn lookup(store: &SqliteStore, user_name: &str) -> ListPage {
    let registry = SchemaRegistry::with_core();
    let filter = parse(
        &format!("userName eq {}", json!(user_name)),
        &FilterLimits::default(),
    )
    .unwrap();
    store
        .list(
            "t",
            USER,
            &registry,
            &ListQuery {
                filter: Some(&filter),
                sort: None,
                page: PageRequest::Index {
                    start_index: 1,
                    count: 100,
                },
                fetch: RENDERED,
            },
        )
        .await
        .unwrap()
}

fn group_ids(user: &StoredResource) -> Vec<(String, Option<String>)> {
    user.groups
        .iter()
        .flatten()
        .map(|g| (g.value.clone(), g.display.clone()))
        .collect()
}

#[tokio::test]
async fn a_user_read_again_comes_from_memory_and_follows_every_write() {
    let (_dir, server, plain) = server_and_plain().await;
    let ada = create(&server, USER, json!({"userName": "Ada@X.example"})).await;

    let first = get(&server, &ada).await.expect("ada");
    let before = stats(&server);
    assert_eq!(get(&server, &ada).await.as_ref(), Some(&first));
    assert_eq!(
        stats(&server).hits,
        before.hits + 1,
        "read again from memory"
    );
    assert_eq!(plain.resource_cache_stats(), None, "only the server caches");

    // A lookup by name is kept too, found whatever the case, and is the same user.
    let found = lookup(&server, "ada@x.example").await;
    assert_eq!(found.total_results, 1);
    let before = stats(&server);
    let again = lookup(&server, "ADA@x.example").await;
    assert_eq!(
        stats(&server).hits,
        before.hits + 1,
        "looked up from memory"
    );
    assert_eq!(again, found);
    assert_eq!(
        again.resources[0], first,
        "a lookup finds what a read by id does"
    );

    // Renamed: the old name matches nothing, the new one this user.
    update(
        &server,
        USER,
        &ada,
        Some(json!({"userName": "ada2@x.example"})),
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(lookup(&server, "ada@x.example").await.total_results, 0);
    let renamed = get(&server, &ada).await.expect("ada");
    assert_eq!(renamed.meta.version, first.meta.version + 1);
    assert_eq!(
        lookup(&server, "ada2@x.example").await.resources,
        vec![renamed]
    );

    // A group's writes change its members' `groups`.
    let staff = create_with(
        &server,
        GROUP,
        json!({"displayName": "Staff"}),
        vec![member(&ada)],
    )
    .await
    .unwrap();
    let want = vec![(staff.clone(), Some("Staff".to_owned()))];
    assert_eq!(group_ids(&get(&server, &ada).await.unwrap()), want);
    assert_eq!(group_ids(&get(&server, &ada).await.unwrap()), want, "kept");
    update(
        &server,
        GROUP,
        &staff,
        Some(json!({"displayName": "Crew"})),
        vec![],
    )
    .await
    .unwrap();
    let want = vec![(staff.clone(), Some("Crew".to_owned()))];
    assert_eq!(group_ids(&get(&server, &ada).await.unwrap()), want);
    let lookup_groups = group_ids(&lookup(&server, "ada2@x.example").await.resources[0]);
    assert_eq!(lookup_groups, want);
    update(&server, GROUP, &staff, None, vec![MemberChange::RemoveAll])
        .await
        .unwrap();
    assert_eq!(group_ids(&get(&server, &ada).await.unwrap()), vec![]);
    update(
        &server,
        GROUP,
        &staff,
        None,
        vec![MemberChange::Add(vec![member(&ada)])],
    )
    .await
    .unwrap();
    assert_eq!(group_ids(&get(&server, &ada).await.unwrap()).len(), 1);
    server.delete("t", GROUP, &staff, None).await.unwrap();
    assert_eq!(group_ids(&get(&server, &ada).await.unwrap()), vec![]);

    // Deleted: gone by id and by name.
    get(&server, &ada).await.unwrap();
    lookup(&server, "ada2@x.example").await;
    server.delete("t", USER, &ada, None).await.unwrap();
    assert_eq!(get(&server, &ada).await, None);
    assert_eq!(lookup(&server, "ada2@x.example").await.total_results, 0);
}

#[tokio::test]
async fn a_tenant_deleted_by_another_process_takes_its_users_out_of_memory() {
    let (_dir, server, plain) = server_and_plain().await;
    let ada = create(&server, USER, json!({"userName": "ada@x.example"})).await;
    get(&server, &ada).await.expect("ada");
    get(&server, &ada).await.expect("ada, from memory");

    // The CLI deletes the tenant and creates one of the same id: ada is gone.
    assert!(plain.delete_tenant("t").await.unwrap());
    plain
        .create_tenant(&NewTenant::enabled("t", "T again"))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(&server, &ada).await.is_some() {
        assert!(
            Instant::now() < deadline,
            "a deleted tenant's user is still served from memory"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(lookup(&server, "ada@x.example").await.total_results, 0);
}

/// Random writes of users and groups through the server, each followed by reads of a
/// random user by id and by name through the server (twice, so that the second may
/// come from memory) and through the plain store: the answers must be the same.
#[tokio::test]
async fn every_read_answers_what_the_database_holds() {
    for seed in [1_u64, 2, 3] {
        let (_dir, server, plain) = server_and_plain().await;
        let mut rng = StdRng::seed_from_u64(seed);
        let names: Vec<String> = (0..6).map(|n| format!("user{n}@x.example")).collect();
        let mut users: Vec<String> = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        for step in 0..150 {
            let name = &names[rng.gen_range(0..names.len())];
            match rng.gen_range(0..8) {
                0 | 1 => {
                    // May collide with a name in use: a refused write changes nothing.
                    if let Ok(id) =
                        create_with(&server, USER, json!({"userName": name}), vec![]).await
                    {
                        users.push(id);
                    }
                }
                2 if !users.is_empty() => {
                    let id = &users[rng.gen_range(0..users.len())];
                    let body = json!({"userName": name, "displayName": format!("step {step}")});
                    let _ = update(&server, USER, id, Some(body), vec![]).await;
                }
                3 if !users.is_empty() => {
                    let id = users.swap_remove(rng.gen_range(0..users.len()));
                    server.delete("t", USER, &id, None).await.unwrap();
                }
                4 => {
                    let members = users.iter().take(2).map(|id| member(id)).collect();
                    let body = json!({"displayName": format!("group {step}")});
                    groups.push(create_with(&server, GROUP, body, members).await.unwrap());
                }
                5 if !groups.is_empty() && !users.is_empty() => {
                    let group = &groups[rng.gen_range(0..groups.len())];
                    let user = &users[rng.gen_range(0..users.len())];
                    let change = if rng.gen_bool(0.5) {
                        MemberChange::Add(vec![member(user)])
                    } else {
                        MemberChange::Remove(vec![user.clone()])
                    };
                    update(&server, GROUP, group, None, vec![change])
                        .await
                        .unwrap();
                }
                6 if !groups.is_empty() => {
                    let group = &groups[rng.gen_range(0..groups.len())];
                    let body = json!({"displayName": format!("renamed {step}")});
                    update(&server, GROUP, group, Some(body), vec![])
                        .await
                        .unwrap();
                }
                7 if !groups.is_empty() => {
                    let group = groups.swap_remove(rng.gen_range(0..groups.len()));
                    server.delete("t", GROUP, &group, None).await.unwrap();
                }
                _ => {}
            }
            if let Some(id) = users.get(rng.gen_range(0..users.len().max(1))) {
                let truth = get(&plain, id).await;
                assert_eq!(get(&server, id).await, truth, "seed {seed} step {step}");
                assert_eq!(get(&server, id).await, truth, "seed {seed} step {step}");
            }
            let truth = lookup(&plain, name).await;
            assert_eq!(
                lookup(&server, name).await,
                truth,
                "seed {seed} step {step}"
            );
            assert_eq!(
                lookup(&server, name).await,
                truth,
                "seed {seed} step {step}"
            );
        }
        let used = stats(&server);
        assert!(
            used.hits > 100,
            "seed {seed}: the cache answered ({used:?})"
        );
    }
}
