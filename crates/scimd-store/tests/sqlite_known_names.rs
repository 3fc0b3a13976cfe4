//! The SQLite server's in-memory names (`sqlite/known_names.rs`): lookups of names no
//! row has are answered without reading, and every lookup still gives the database's
//! answer; a second server on the same file is refused.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scimd_protocol::filter::{parse, FilterLimits};
use scimd_protocol::paging::PageRequest;
use scimd_protocol::sort::SortSpec;
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimType};
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use scimd_store::{Fetch, ListQuery, NewResource, NewTenant, Store, StoreError, Update};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

fn server_options() -> SqliteOptions {
    SqliteOptions {
        sole_server: true,
        ..SqliteOptions::default()
    }
}

/// Opens `path` as its server and waits (at most 10 s) until the names are loaded.
async fn open_server(path: &Path, options: &SqliteOptions) -> SqliteStore {
    let store = SqliteStore::open_with(path, options).await.unwrap();
    wait_until_loaded(&store).await;
    store
}

async fn wait_until_loaded(store: &SqliteStore) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !store.known_names_stats().is_some_and(|(_, loaded)| loaded) {
        assert!(Instant::now() < deadline, "the names were never loaded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A server on a fresh file with one tenant, `t` (the directory lives as long as the
/// returned guard).
async fn server_with_tenant_t() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_server(&dir.path().join("scimd.db"), &server_options()).await;
    store
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    (dir, store)
}

/// Lookups answered "no such name" from memory so far.
fn answered(store: &SqliteStore) -> u64 {
    store
        .known_names_stats()
        .map_or(0, |(answered, _)| answered)
}

async fn create(
    store: &SqliteStore,
    tenant: &str,
    kind: ResourceKind,
    body: Value,
) -> Result<String, StoreError> {
    let document = body.as_object().cloned().unwrap_or_default();
    let created = store
        .create(
            tenant,
            kind,
            NewResource {
                document,
                members: vec![],
            },
            Fetch::NONE,
        )
        .await?;
    Ok(created.id)
}

async fn replace(
    store: &SqliteStore,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    body: Value,
) -> Result<(), StoreError> {
    let document = body.as_object().cloned().unwrap_or_default();
    store
        .update(
            tenant,
            kind,
            id,
            None,
            Box::new(move |_| {
                Ok(Update {
                    document,
                    members: vec![],
                })
            }),
            Fetch::NONE,
        )
        .await
        .map(|_| ())
}

/// The ids `filter` matches among `tenant`'s resources of `kind`, and `totalResults`.
async fn lookup(
    store: &SqliteStore,
    tenant: &str,
    kind: ResourceKind,
    filter: &str,
) -> (Vec<String>, u64) {
    let registry = SchemaRegistry::with_core();
    let filter = parse(filter, &FilterLimits::default()).unwrap();
    let page = store
        .list(
            tenant,
            kind,
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
    let ids = page.resources.into_iter().map(|r| r.id).collect();
    (ids, page.total_results)
}

#[tokio::test]
async fn a_name_no_row_has_is_answered_without_reading() {
    let (_dir, store) = server_with_tenant_t().await;
    let ada = create(
        &store,
        "t",
        ResourceKind::User,
        json!({"userName": "Ada@X.example", "displayName": "Ada"}),
    )
    .await
    .unwrap();
    let staff = create(
        &store,
        "t",
        ResourceKind::Group,
        json!({"displayName": "Staff"}),
    )
    .await
    .unwrap();

    let before = answered(&store);
    let user = ResourceKind::User;
    assert_eq!(
        lookup(&store, "t", user, r#"userName eq "nobody@x.example""#).await,
        (vec![], 0)
    );
    assert_eq!(
        lookup(
            &store,
            "t",
            ResourceKind::Group,
            r#"displayName eq "Nobody""#
        )
        .await,
        (vec![], 0)
    );
    assert_eq!(answered(&store), before + 2, "both answered from memory");

    // Names that exist are read, folded as the column is: found whatever the case.
    let found = lookup(&store, "t", user, r#"userName eq "ada@x.EXAMPLE""#).await;
    assert_eq!(found, (vec![ada.clone()], 1));
    let found = lookup(
        &store,
        "t",
        ResourceKind::Group,
        r#"displayName eq "STAFF""#,
    )
    .await;
    assert_eq!(found, (vec![staff], 1));
    // A name another tenant has is no name here.
    store
        .create_tenant(&NewTenant::enabled("u", "U"))
        .await
        .unwrap();
    assert_eq!(
        lookup(&store, "u", user, r#"userName eq "ada@x.example""#).await,
        (vec![], 0)
    );
    assert_eq!(answered(&store), before + 3);

    // Only a lone `eq` on the unique name is answered so; the rest is read as before.
    for filter in [
        r#"userName eq "nobody@x.example" and active eq true"#,
        r#"not (userName eq "nobody@x.example")"#,
        r#"userName eq "nobody@x.example" or userName eq "ada@x.example""#,
        r#"displayName eq "nobody""#,
        r#"userName sw "nobody""#,
        r#"externalId eq "nobody""#,
    ] {
        let seen = answered(&store);
        let (ids, _) = lookup(&store, "t", user, filter).await;
        assert_eq!(answered(&store), seen, "{filter} was read");
        let expected = if filter.contains(" or ") || filter.starts_with("not") {
            vec![ada.clone()]
        } else {
            vec![]
        };
        assert_eq!(ids, expected, "{filter}");
    }
}

/// A name no row has still gets the errors the rest of the request is due: an
/// unsortable `sortBy` and a malformed cursor fail as they do for names that exist;
/// with a valid `sortBy`, the page is read and is as empty as the memory says.
#[tokio::test]
async fn an_absent_name_does_not_hide_the_errors_of_the_sort_or_the_cursor() {
    let (_dir, store) = server_with_tenant_t().await;
    create(
        &store,
        "t",
        ResourceKind::User,
        json!({"userName": "ada@x.example"}),
    )
    .await
    .unwrap();
    let registry = SchemaRegistry::with_core();
    let user = ResourceKind::User;
    let filter = parse(
        r#"userName eq "nobody@x.example""#,
        &FilterLimits::default(),
    )
    .unwrap();
    let list = |sort_by: Option<&'static str>, page: PageRequest| {
        let (store, registry, filter) = (&store, &registry, &filter);
        async move {
            let sort = SortSpec::parse(sort_by, None, registry, user).unwrap();
            store
                .list(
                    "t",
                    user,
                    registry,
                    &ListQuery {
                        filter: Some(filter),
                        sort: sort.as_ref(),
                        page,
                        fetch: Fetch::NONE,
                    },
                )
                .await
        }
    };
    let first = PageRequest::Index {
        start_index: 1,
        count: 10,
    };

    // `groups` parses as a sort path, but no list can be sorted by it.
    let seen = answered(&store);
    let err = list(Some("groups"), first.clone()).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Scim(e) if e.scim_type == Some(ScimType::InvalidValue)),
        "{err:?}"
    );
    let malformed = PageRequest::Cursor {
        cursor: Some("not a cursor".into()),
        count: 10,
    };
    let err = list(None, malformed).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Scim(e) if e.scim_type == Some(ScimType::InvalidCursor)),
        "{err:?}"
    );
    // A sort that compiles: read, and empty.
    let page = list(Some("displayName"), first.clone()).await.unwrap();
    assert_eq!((page.resources.len(), page.total_results), (0, 0));
    assert_eq!(
        answered(&store),
        seen,
        "none of the three answered from memory"
    );

    // Without a sort, on the first page of either kind: from memory.
    let page = list(None, first).await.unwrap();
    assert_eq!((page.resources.len(), page.total_results), (0, 0));
    let first_cursor_page = PageRequest::Cursor {
        cursor: None,
        count: 10,
    };
    let page = list(None, first_cursor_page).await.unwrap();
    assert_eq!((page.resources.len(), page.next_cursor), (0, None));
    assert_eq!(answered(&store), seen + 2);
}

#[tokio::test]
async fn names_written_before_the_server_opened_are_known() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let plain = SqliteStore::open(&path).await.unwrap();
    plain
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    let ada = create(&plain, "t", ResourceKind::User, json!({"userName": "ada"}))
        .await
        .unwrap();
    let group = create(
        &plain,
        "t",
        ResourceKind::Group,
        json!({"displayName": "g"}),
    )
    .await
    .unwrap();
    plain.close().await;
    drop(plain);

    let store = open_server(&path, &server_options()).await;
    assert_eq!(
        lookup(&store, "t", ResourceKind::User, r#"userName eq "ADA""#).await,
        (vec![ada], 1)
    );
    assert_eq!(
        lookup(&store, "t", ResourceKind::Group, r#"displayName eq "G""#).await,
        (vec![group], 1)
    );
    assert_eq!(
        lookup(&store, "t", ResourceKind::User, r#"userName eq "bob""#).await,
        (vec![], 0)
    );
    assert_eq!(answered(&store), 1);
}

/// Creates, renames (by replace) and deletes, some of them refused (a taken name),
/// over two tenants and a small pool of names in mixed case; after every step a
/// lookup of a random name must give what a map of the expected rows says.
#[tokio::test]
async fn every_lookup_agrees_with_the_rows_written() {
    const NAMES: [&str; 6] = ["ada", "bob", "carol", "dan", "eve", "fay"];
    for seed in [7_u64, 42, 2026] {
        let dir = tempfile::tempdir().unwrap();
        let store = open_server(&dir.path().join("scimd.db"), &server_options()).await;
        let tenants = ["t1", "t2"];
        for t in tenants {
            store
                .create_tenant(&NewTenant::enabled(t, t))
                .await
                .unwrap();
        }
        let mut rng = StdRng::seed_from_u64(seed);
        // (tenant, kind, folded name) -> id
        let mut rows: BTreeMap<(&str, bool, &str), String> = BTreeMap::new();
        let cased = |rng: &mut StdRng, name: &str| -> String {
            name.chars()
                .map(|c| {
                    if rng.gen_bool(0.5) {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        };
        for step in 0..150 {
            let tenant = tenants[rng.gen_range(0..2)];
            let is_user = rng.gen_bool(0.5);
            let kind = if is_user {
                ResourceKind::User
            } else {
                ResourceKind::Group
            };
            let body = |name: String| {
                if is_user {
                    json!({ "userName": name })
                } else {
                    json!({ "displayName": name })
                }
            };
            let name = NAMES[rng.gen_range(0..NAMES.len())];
            let taken = rows.contains_key(&(tenant, is_user, name));
            let existing: Vec<(&str, String)> = rows
                .iter()
                .filter(|((t, u, _), _)| *t == tenant && *u == is_user)
                .map(|((_, _, n), id)| (*n, id.clone()))
                .collect();
            match rng.gen_range(0..3) {
                0 => {
                    let created = create(&store, tenant, kind, body(cased(&mut rng, name))).await;
                    assert_eq!(created.is_ok(), !taken, "seed {seed} step {step}: create");
                    if let Ok(id) = created {
                        rows.insert((tenant, is_user, name), id);
                    }
                }
                1 if !existing.is_empty() => {
                    let (old, id) = &existing[rng.gen_range(0..existing.len())];
                    let renamed =
                        replace(&store, tenant, kind, id, body(cased(&mut rng, name))).await;
                    let allowed = !taken || *old == name;
                    assert_eq!(renamed.is_ok(), allowed, "seed {seed} step {step}: rename");
                    if renamed.is_ok() {
                        rows.remove(&(tenant, is_user, *old));
                        rows.insert((tenant, is_user, name), id.clone());
                    }
                }
                _ if !existing.is_empty() => {
                    let (old, id) = &existing[rng.gen_range(0..existing.len())];
                    store.delete(tenant, kind, id, None).await.unwrap();
                    rows.remove(&(tenant, is_user, *old));
                }
                _ => {}
            }
            let (t, is_user, name) = (
                tenants[rng.gen_range(0..2)],
                rng.gen_bool(0.5),
                NAMES[rng.gen_range(0..NAMES.len())],
            );
            let (kind, attribute) = if is_user {
                (ResourceKind::User, "userName")
            } else {
                (ResourceKind::Group, "displayName")
            };
            let asked = cased(&mut rng, name);
            let got = lookup(&store, t, kind, &format!("{attribute} eq \"{asked}\"")).await;
            let expected: Vec<String> =
                rows.get(&(t, is_user, name)).cloned().into_iter().collect();
            let total = u64::try_from(expected.len()).unwrap();
            assert_eq!(
                got,
                (expected, total),
                "seed {seed} step {step}: {t} {attribute} {asked}"
            );
        }
        assert!(
            answered(&store) > 0,
            "seed {seed}: some lookups were answered from memory"
        );
    }
}

#[tokio::test]
async fn past_its_limit_the_set_is_dropped_and_lookups_read() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        known_names_limit: 3,
        ..server_options()
    };
    let store = open_server(&dir.path().join("scimd.db"), &options).await;
    store
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            create(
                &store,
                "t",
                ResourceKind::User,
                json!({ "userName": format!("u{n}") }),
            )
            .await
            .unwrap(),
        );
    }
    assert_eq!(store.known_names_stats(), Some((0, false)));
    for (n, id) in ids.iter().enumerate() {
        let filter = format!("userName eq \"u{n}\"");
        assert_eq!(
            lookup(&store, "t", ResourceKind::User, &filter).await,
            (vec![id.clone()], 1)
        );
    }
    assert_eq!(
        lookup(&store, "t", ResourceKind::User, r#"userName eq "u9""#).await,
        (vec![], 0)
    );
    assert_eq!(store.known_names_stats(), Some((0, false)), "all read");
}

#[tokio::test]
async fn one_server_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let first = open_server(&path, &server_options()).await;
    let second = SqliteStore::open_with(&path, &server_options()).await;
    match second {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("another scimd server"), "{message}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a second server opened the file"),
    }
    // Commands (not servers) still open the file alongside the server.
    let command = SqliteStore::open(&path).await.unwrap();
    command
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    command.close().await;
    assert!(first.known_names_stats().is_some());
    assert!(command.known_names_stats().is_none());
    // The lock goes with the store.
    first.close().await;
    drop(first);
    let next = open_server(&path, &server_options()).await;
    assert!(next.get_tenant("t").await.unwrap().is_some());
}
