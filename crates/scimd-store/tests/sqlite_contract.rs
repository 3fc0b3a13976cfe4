//! The storage contract on SQLite, on real database files in a temporary directory,
//! plus SQLite-specific checks: query plans use indexes, and one membership change in
//! a huge group touches one row.

use scimd_protocol::filter::{CompareOp, Filter, Literal, Span};
use scimd_protocol::paging::PageRequest;
use scimd_protocol::path::AttrPath;
use scimd_protocol::resource::{MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use scimd_store::contract;
use scimd_store::sqlite::SqliteStore;
use scimd_store::{Fetch, ListQuery, NewResource, NewTenant, Store, Update};
use serde_json::json;
use tempfile::TempDir;

async fn fresh() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("scimd.db"))
        .await
        .unwrap();
    (dir, store)
}

/// A fresh database opened as its server (`SqliteOptions::sole_server`): lookups of
/// names no row has are answered from memory (`sqlite/known_names.rs`), so the whole
/// contract runs against that path too.
async fn fresh_server() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let options = scimd_store::sqlite::SqliteOptions {
        sole_server: true,
        ..Default::default()
    };
    let store = SqliteStore::open_with(&dir.path().join("scimd.db"), &options)
        .await
        .unwrap();
    (dir, store)
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_dir, store) = fresh().await;
                contract::$name(&store).await.unwrap();
            }
        )*
        mod as_sole_server {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let (_dir, store) = fresh_server().await;
                    contract::$name(&store).await.unwrap();
                }
            )*
        }
    };
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
    log_settings,
    provisioning_logs,
    log_pruning,
    typed_document_values,
);

#[tokio::test]
async fn all_checks_share_one_database() {
    let (_dir, store) = fresh().await;
    contract::run_all(&store).await.unwrap();
}

#[tokio::test]
async fn data_survives_reopening_and_migrations_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let store = SqliteStore::open(&path).await.unwrap();
    create_tenant_t(&store).await;
    store.close().await;
    let reopened = SqliteStore::open(&path).await.unwrap();
    assert!(reopened.get_tenant("t").await.unwrap().is_some());
    let mode: String = reopened
        .with_reader(|conn| conn.query_row("PRAGMA journal_mode", [], |row| row.get(0)))
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let versions: i64 = reopened
        .with_reader(|conn| {
            conn.query_row("SELECT COUNT(*) FROM schema_migrations", [], |row| {
                row.get(0)
            })
        })
        .await
        .unwrap();
    // One row per migration file: each ran exactly once.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    assert_eq!(versions, i64::try_from(files).unwrap());
    reopened.ping().await.unwrap();
}

/// The bundled SQLite is built as `.cargo/config.toml` asks: no memory statistics and
/// no shared page-cache group, the two process-wide mutexes every page fetch and free
/// took (docs/benchmarks.md, item 59). A build that lost the setting (cargo run from
/// outside the repository, a changed libsqlite3-sys) fails here, not in a benchmark.
#[tokio::test]
async fn sqlite_is_built_without_its_process_wide_memory_mutexes() {
    let (_dir, store) = fresh().await;
    let options: Vec<String> = store
        .with_reader(|conn| {
            let mut stmt = conn.prepare("PRAGMA compile_options")?;
            let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
            rows.collect()
        })
        .await
        .unwrap();
    assert!(
        options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
        "{options:?}"
    );
    assert!(
        !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
        "{options:?}"
    );
    // The options libsqlite3-sys sets and we keep.
    assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
}

/// An integer `PRAGMA` as the writer connection and a reader connection see it.
async fn pragma_on_writer_and_reader(store: &SqliteStore, pragma: &'static str) -> (i64, i64) {
    let read = move |conn: &scimd_store::sqlite::rusqlite::Connection| {
        conn.query_row(&format!("PRAGMA {pragma}"), [], |row| row.get::<_, i64>(0))
    };
    let writer = store.with_writer(read).await.unwrap();
    let reader = store.with_reader(read).await.unwrap();
    (writer, reader)
}

/// The writer keeps a write's savepoint journal in memory (`db::open_writer`: spilled
/// to a temporary file it was a fifth of the writer thread's samples); readers keep
/// SQLite's default, so a large sort can still spill to disk instead of growing memory.
#[tokio::test]
async fn only_the_writer_keeps_temporary_storage_in_memory() {
    let (_dir, store) = fresh().await;
    // 0 = DEFAULT (a file unless SQLite was built otherwise), 2 = MEMORY.
    assert_eq!(
        pragma_on_writer_and_reader(&store, "temp_store").await,
        (2, 0)
    );
}

/// No connection spills a transaction's pages to the WAL before its commit: the VFS
/// that gathers each commit's frames (`scimd_sqlite_vfs`) requires it of connections
/// that write, and `db::open_file` sets it on every connection it opens.
#[tokio::test]
async fn no_connection_spills_pages_before_its_commit() {
    let (_dir, store) = fresh().await;
    // 0 = off; otherwise the spill threshold in pages.
    assert_eq!(
        pragma_on_writer_and_reader(&store, "cache_spill").await,
        (0, 0)
    );
}

/// Every connection keeps a small page cache for the log's file: appends touch only
/// the right edge of its B-trees, and with SQLite's default of 2,000 KiB per connection
/// the log's caches added 10 MB to peak RSS under `mixed` (benchmarks item 49). The
/// main file keeps the default.
#[tokio::test]
async fn the_log_file_has_a_small_page_cache() {
    let (_dir, store) = fresh().await;
    let pragma = |conn: &scimd_store::sqlite::rusqlite::Connection| {
        let main: i64 = conn.query_row("PRAGMA main.cache_size", [], |row| row.get(0))?;
        let log: i64 = conn.query_row("PRAGMA logs.cache_size", [], |row| row.get(0))?;
        Ok((main, log))
    };
    let writer = store.with_writer(pragma).await.unwrap();
    let reader = store.with_reader(pragma).await.unwrap();
    // Negative: KiB. -2000 is SQLite's default.
    assert_eq!(writer, (-2000, -256));
    assert_eq!(reader, (-2000, -256));
}

#[tokio::test]
async fn readers_cannot_write() {
    let (_dir, store) = fresh().await;
    let err = store
        .with_reader(|conn| {
            conn.execute(
                "INSERT INTO tenants (id, display_name, provisioning_enabled, created, updated) \
                 VALUES ('x', 'x', 1, 'a', 'a')",
                [],
            )
        })
        .await
        .unwrap_err();
    assert!(err.to_string().to_lowercase().contains("readonly"), "{err}");
}

fn cmp(path: &str, op: CompareOp, value: &str) -> Filter {
    Filter::Compare {
        path: AttrPath::parse(path).unwrap(),
        op,
        value: Literal::String(value.into()),
        span: Span::default(),
    }
}

fn value_path(path: &str, inner: Filter) -> Filter {
    Filter::ValuePath {
        path: AttrPath::parse(path).unwrap(),
        filter: Box::new(inner),
        span: Span::default(),
    }
}

/// Creates tenant "t", provisioning enabled.
async fn create_tenant_t(store: &SqliteStore) {
    store
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
}

/// Creates a resource of `kind` from a whole document in tenant `t`, without members.
async fn create_in_t(
    store: &SqliteStore,
    kind: ResourceKind,
    body: serde_json::Value,
) -> Result<scimd_store::StoredResource, scimd_store::StoreError> {
    let document = body.as_object().cloned().unwrap_or_default();
    store
        .create(
            "t",
            kind,
            NewResource {
                document,
                members: vec![],
            },
            Fetch::NONE,
        )
        .await
}

async fn seeded() -> (TempDir, SqliteStore) {
    let (dir, store) = fresh().await;
    create_tenant_t(&store).await;
    for i in 0..50 {
        let doc = json!({"userName": format!("u{i}"), "externalId": format!("e{i}"),
            "emails": [{"type": "work", "value": format!("u{i}@x.com")}]});
        store
            .create(
                "t",
                ResourceKind::User,
                NewResource {
                    document: doc.as_object().unwrap().clone(),
                    members: vec![],
                },
                Fetch::NONE,
            )
            .await
            .unwrap();
    }
    store
        .with_writer(|conn| conn.execute_batch("ANALYZE"))
        .await
        .unwrap();
    (dir, store)
}

async fn plans(store: &SqliteStore, kind: ResourceKind, filter: &Filter) -> Vec<String> {
    let registry = SchemaRegistry::with_core();
    let (count, page) = store
        .explain_list(
            "t",
            kind,
            &registry,
            &ListQuery {
                filter: Some(filter),
                sort: None,
                page: PageRequest::Index {
                    start_index: 1,
                    count: 100,
                },
                fetch: Fetch::NONE,
            },
        )
        .await
        .unwrap();
    count.into_iter().chain(page).collect()
}

/// No plan line may scan the resource table: every lookup is an index SEARCH.
fn assert_indexed(plan: &[String], table_alias_scan: &str, expected_index: &str) {
    assert!(
        !plan.iter().any(|l| l.starts_with(table_alias_scan)),
        "full scan in {plan:#?}"
    );
    assert!(
        plan.iter().any(|l| l.contains(expected_index)),
        "{expected_index} not used in {plan:#?}"
    );
}

#[tokio::test]
async fn entra_lookups_use_indexes() {
    let (_dir, store) = seeded().await;
    let id: String = store
        .with_reader(|conn| conn.query_row("SELECT id FROM users LIMIT 1", [], |row| row.get(0)))
        .await
        .unwrap();
    let user_cases = [
        (
            cmp("userName", CompareOp::Eq, "U7"),
            "users_user_name_norm_uq",
        ),
        (
            cmp("userName", CompareOp::Sw, "u1"),
            "users_user_name_norm_uq",
        ),
        (
            cmp("externalId", CompareOp::Eq, "E7"),
            "users_external_id_uq",
        ),
        (cmp("id", CompareOp::Eq, &id), "(tenant_id=? AND id=?)"),
        (
            value_path(
                "emails",
                Filter::And(
                    Box::new(cmp("type", CompareOp::Eq, "work")),
                    Box::new(cmp("value", CompareOp::Eq, "u7@x.com")),
                ),
            ),
            "user_values_value",
        ),
        (
            cmp("emails.value", CompareOp::Eq, "u7@x.com"),
            "user_values_value",
        ),
    ];
    for (filter, index) in user_cases {
        let plan = plans(&store, ResourceKind::User, &filter).await;
        assert_indexed(&plan, "SCAN r", index);
    }
    let plan = plans(
        &store,
        ResourceKind::Group,
        &cmp("displayName", CompareOp::Eq, "G"),
    )
    .await;
    assert_indexed(&plan, "SCAN r", "groups_display_name_norm_uq");
}

#[tokio::test]
async fn one_member_change_in_a_huge_group_touches_one_row() {
    let (_dir, store) = seeded().await;
    let group = store
        .create(
            "t",
            ResourceKind::Group,
            NewResource {
                document: json!({"displayName": "Everyone"})
                    .as_object()
                    .unwrap()
                    .clone(),
                members: vec![],
            },
            Fetch::NONE,
        )
        .await
        .unwrap();
    // 100,000 existing members, inserted directly.
    let group_id = group.id.clone();
    store
        .with_writer(move |conn| {
            conn.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) \
                 INSERT INTO group_members (tenant_id, group_id, member_id, member_type) \
                 SELECT 't', ?1, printf('bulk-%06d', i), 'User' FROM n",
                [&group_id],
            )
        })
        .await
        .unwrap();
    let newcomer: String = store
        .with_reader(|conn| {
            conn.query_row("SELECT id FROM users WHERE user_name = 'u3'", [], |row| {
                row.get(0)
            })
        })
        .await
        .unwrap();

    // total_changes() counts rows written by the one writer connection.
    let changes = || async {
        store
            .with_writer(|conn| {
                conn.query_row("SELECT total_changes()", [], |row| row.get::<_, i64>(0))
            })
            .await
            .unwrap()
    };
    let change = |c: MemberChange| -> scimd_store::UpdateFn {
        Box::new(move |current| {
            Ok(Update {
                document: current.document.clone(),
                members: vec![c],
            })
        })
    };
    let before = changes().await;
    let added = store
        .update(
            "t",
            ResourceKind::Group,
            &group.id,
            None,
            change(MemberChange::Add(vec![MemberRef::id(newcomer.clone())])),
            Fetch::NONE,
        )
        .await
        .unwrap();
    // One membership row and the group's version.
    assert_eq!(changes().await - before, 2);
    assert!(added.members.is_none());

    let before = changes().await;
    store
        .update(
            "t",
            ResourceKind::Group,
            &group.id,
            None,
            change(MemberChange::Remove(vec!["bulk-050000".into()])),
            Fetch::NONE,
        )
        .await
        .unwrap();
    assert_eq!(changes().await - before, 2);

    let group_id = group.id.clone();
    let count: i64 = store
        .with_reader(move |conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM group_members WHERE group_id = ?1",
                [&group_id],
                |row| row.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(count, 100_000);

    // The membership filter on a huge group is an index lookup, not a scan.
    let plan = plans(
        &store,
        ResourceKind::Group,
        &cmp("members.value", CompareOp::Eq, &newcomer),
    )
    .await;
    assert_indexed(&plan, "SCAN r", "group_members_member");
}

/// Creates racing on threads, through two stores opened on the same file (as two
/// processes would): one wins, the others get 409 `uniqueness`, none a database error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_creates_across_connections_and_threads() {
    let (dir, first) = fresh().await;
    let second = SqliteStore::open(&dir.path().join("scimd.db"))
        .await
        .unwrap();
    first
        .create_tenant(&NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 { "Racer" } else { "RACER" };
            store
                .create(
                    "t",
                    ResourceKind::User,
                    NewResource {
                        document: json!({ "userName": name }).as_object().unwrap().clone(),
                        members: vec![],
                    },
                    Fetch::NONE,
                )
                .await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(scimd_store::StoreError::Scim(e)) => {
                assert_eq!(e.status, 409);
                assert_eq!(e.scim_type, Some(scimd_protocol::ScimType::Uniqueness));
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn external_id_uniqueness_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let options = scimd_store::sqlite::SqliteOptions {
        uniqueness: scimd_store::UniquenessOptions { external_id: false },
        ..Default::default()
    };
    let store = SqliteStore::open_with(&dir.path().join("scimd.db"), &options)
        .await
        .unwrap();
    create_tenant_t(&store).await;
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
        create_in_t(&store, kind, doc)
            .await
            .unwrap_or_else(|e| panic!("{kind:?} with a shared externalId: {e}"));
    }
    // userName stays unique whatever the option says.
    let err = create_in_t(
        &store,
        ResourceKind::User,
        json!({"userName": "A", "externalId": "other"}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("userName"), "{err}");
    // Both users are found by the matching filter.
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

/// The externalId rule applies to writes made while it is set: a user written without
/// it gets its unique key at its next update, even one that changes no indexed
/// attribute (an update that rewrites only changed columns must count the key as one).
#[tokio::test]
async fn an_update_under_external_id_uniqueness_claims_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let lenient = scimd_store::sqlite::SqliteOptions {
        uniqueness: scimd_store::UniquenessOptions { external_id: false },
        ..Default::default()
    };
    let store = SqliteStore::open_with(&path, &lenient).await.unwrap();
    create_tenant_t(&store).await;
    let created = create_in_t(
        &store,
        ResourceKind::User,
        json!({"userName": "a", "externalId": "E-1"}),
    )
    .await
    .unwrap();
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let changed = json!({"userName": "a", "externalId": "E-1", "title": "t"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    store
        .update(
            "t",
            ResourceKind::User,
            &created.id,
            None,
            Box::new(move |_| {
                Ok(Update {
                    document: changed,
                    members: vec![],
                })
            }),
            Fetch::NONE,
        )
        .await
        .unwrap();
    let err = create_in_t(
        &store,
        ResourceKind::User,
        json!({"userName": "b", "externalId": "e-1"}),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("externalId"), "{err}");
}

/// R11: a group read without members must not touch `group_members` at all. The test
/// hides the table; reads that do not fetch members still work, one that does fails.
#[tokio::test]
async fn reads_without_members_never_touch_the_member_table() {
    let (_dir, store) = fresh().await;
    create_tenant_t(&store).await;
    let user = store
        .create(
            "t",
            ResourceKind::User,
            NewResource {
                document: json!({"userName": "u"}).as_object().unwrap().clone(),
                members: vec![],
            },
            Fetch::NONE,
        )
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
    store
        .with_writer(|conn| {
            conn.execute_batch("ALTER TABLE group_members RENAME TO group_members_hidden")
        })
        .await
        .unwrap();

    let read = store
        .get("t", ResourceKind::Group, &group.id, Fetch::NONE)
        .await
        .unwrap();
    assert_eq!(read.unwrap().members, None);
    let registry = SchemaRegistry::with_core();
    let filter = cmp("displayName", CompareOp::Eq, "g");
    let page = store
        .list(
            "t",
            ResourceKind::Group,
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
    assert_eq!(page.total_results, 1);
    // The table really is gone: fetching members fails.
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
    assert!(
        with_members.is_err(),
        "members were read from somewhere: {with_members:?}"
    );
}

/// Every provisioning-log listing walks the tenant's `(at DESC, seq DESC)` index with
/// no sort step, whatever the filters, so a page stops reading when it is full. The
/// resource filter in particular has no index of its own (migration 0004 dropped it:
/// its random inserts were half the log writer's cost); it must still not sort.
#[tokio::test]
async fn log_listings_walk_the_time_index_without_sorting() {
    use scimd_store::{LogClient, LogQuery, NewLogEntry, StatusClass};
    let (_dir, store) = fresh().await;
    create_tenant_t(&store).await;
    let now = time::OffsetDateTime::now_utc();
    let entries: Vec<NewLogEntry> = (0..300)
        .map(|n| {
            let status = if n % 7 == 0 { 404 } else { 200 };
            let resource = format!("u{}", n % 30);
            let at = now - time::Duration::seconds(n);
            contract::log_entry("t", at, status, LogClient::Entra, Some(&resource))
        })
        .collect();
    store.append_request_logs(entries).await.unwrap();
    let first = store
        .list_request_logs(
            "t",
            &LogQuery {
                limit: 10,
                ..LogQuery::default()
            },
        )
        .await
        .unwrap();
    let cursor = first
        .next_cursor
        .expect("300 entries fill more than a page");
    let since = time::OffsetDateTime::now_utc() - time::Duration::seconds(100);
    let queries = [
        LogQuery::default(),
        LogQuery {
            resource_id: Some("u7".into()),
            ..LogQuery::default()
        },
        LogQuery {
            resource_id: Some("u7".into()),
            cursor: Some(cursor.clone()),
            ..LogQuery::default()
        },
        LogQuery {
            status: Some(StatusClass::Errors),
            client: Some(LogClient::Entra),
            since: Some(since),
            ..LogQuery::default()
        },
    ];
    for query in &queries {
        let plan = store.explain_log_list("t", query).await.unwrap();
        assert!(
            plan.iter().any(|l| l.contains("provisioning_logs_at")),
            "{query:?} does not walk the time index: {plan:#?}"
        );
        assert!(
            !plan.iter().any(|l| l.contains("TEMP B-TREE")),
            "{query:?} sorts: {plan:#?}"
        );
    }
    // And the resource filter still finds exactly that resource's entries, in order.
    let page = store
        .list_request_logs(
            "t",
            &LogQuery {
                resource_id: Some("u7".into()),
                ..LogQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 10);
    assert!(page
        .entries
        .iter()
        .all(|e| e.entry.resource_id.as_deref() == Some("u7")));
    assert!(page
        .entries
        .windows(2)
        .all(|pair| pair[0].entry.at >= pair[1].entry.at));
}

/// Every statement of one read sees the same snapshot: a commit by another
/// connection between two statements of the read is not seen by the second. (In
/// autocommit each statement would take a fresh snapshot, and a list's count and page,
/// or a user and its groups, could disagree.)
#[tokio::test]
async fn a_read_sees_one_snapshot_across_its_statements() {
    use scimd_store::sqlite::rusqlite;
    let (dir, store) = fresh().await;
    let path = dir.path().join("scimd.db");
    let (before, after, outside) = store
        .with_reader(move |conn| {
            let count = |conn: &rusqlite::Connection| -> rusqlite::Result<i64> {
                conn.query_row("SELECT COUNT(*) FROM tenants", [], |row| row.get(0))
            };
            let before = count(conn)?;
            // Another connection commits a tenant while the read is still going on.
            let other = rusqlite::Connection::open(&path)?;
            other.busy_timeout(std::time::Duration::from_secs(5))?;
            other.execute(
                "INSERT INTO tenants (id, display_name, provisioning_enabled, created, updated) \
                 VALUES ('late', 'Late', 1, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
                [],
            )?;
            let outside = count(&other)?;
            Ok((before, count(conn)?, outside))
        })
        .await
        .unwrap();
    assert_eq!(outside, before + 1, "the other connection committed");
    assert_eq!(after, before, "the read saw a commit made after it started");
    // The next read starts a new snapshot and sees it.
    let tenant = store.get_tenant("late").await.unwrap();
    assert!(tenant.is_some());
}

/// `PRAGMA <schema>.data_version` on one connection: it changes when another
/// connection has committed to that file since the last call.
async fn data_versions(store: &SqliteStore) -> (i64, i64) {
    store
        .with_reader(|conn| {
            let main = conn.query_row("PRAGMA main.data_version", [], |row| row.get(0))?;
            let log = conn.query_row("PRAGMA logs.data_version", [], |row| row.get(0))?;
            Ok((main, log))
        })
        .await
        .unwrap()
}

/// The provisioning log is in a file of its own (`db::log_path`), so that the commits
/// of a log's appends, one batch after another under any load, leave the main file
/// unchanged: a reader's page cache of users and groups is discarded only when those
/// change (docs/benchmarks.md, item 49).
#[tokio::test]
async fn log_appends_leave_the_main_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    // One reader, so every read below is on the same connection.
    let options = scimd_store::sqlite::SqliteOptions {
        readers: 1,
        ..Default::default()
    };
    let store = SqliteStore::open_with(&path, &options).await.unwrap();
    assert!(dir.path().join("scimd-provisioning-log.db").exists());
    create_tenant_t(&store).await;
    let before = data_versions(&store).await;
    let entry = contract::log_entry(
        "t",
        time::OffsetDateTime::now_utc(),
        200,
        scimd_store::LogClient::Entra,
        None,
    );
    assert_eq!(store.append_request_logs(vec![entry]).await.unwrap(), 1);
    let after_log = data_versions(&store).await;
    assert_eq!(
        after_log.0, before.0,
        "a log append committed to the main file"
    );
    assert_ne!(
        after_log.1, before.1,
        "the append did not reach the log's file"
    );
    // And a SCIM write is seen as a change of the main file.
    create_in_t(&store, ResourceKind::User, json!({"userName": "a"}))
        .await
        .unwrap();
    let after_write = data_versions(&store).await;
    assert_ne!(after_write.0, after_log.0);
}

/// A commit is atomic per file only, so a crash while a tenant is deleted could leave
/// its log rows behind. Opening the store removes the rows of tenants that no longer
/// exist, and only those: a new tenant given the id must not inherit them.
#[tokio::test]
async fn opening_removes_log_rows_of_deleted_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let mut entries = Vec::new();
    for id in ["a", "b", "c"] {
        store
            .create_tenant(&NewTenant::enabled(id, id))
            .await
            .unwrap();
        for status in [200, 201] {
            entries.push(contract::log_entry(
                id,
                now,
                status,
                scimd_store::LogClient::Okta,
                None,
            ));
        }
    }
    assert_eq!(store.append_request_logs(entries).await.unwrap(), 6);
    // As a crash between the two files' commits would leave it: the tenants gone from
    // the main file, their rows still in the log's.
    store
        .with_writer(|conn| conn.execute("DELETE FROM tenants WHERE id IN ('a', 'c')", []))
        .await
        .unwrap();
    store.close().await;

    let reopened = SqliteStore::open(&path).await.unwrap();
    let left: Vec<String> = reopened
        .with_reader(|conn| {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT tenant_id FROM logs.provisioning_logs ORDER BY tenant_id",
            )?;
            let rows = stmt.query_map([], |row| row.get(0))?;
            rows.collect()
        })
        .await
        .unwrap();
    assert_eq!(left, ["b"]);
}

/// SQLite keeps documents as the JSON text it wrote, so a read that asks for the text
/// gets exactly that text, unparsed, and no parsed document besides.
#[tokio::test]
async fn reads_asking_for_the_text_get_the_stored_text() {
    let (_dir, store) = fresh().await;
    create_tenant_t(&store).await;
    let body = json!({"userName": "a\"b", "name": {"givenName": "A"}, "active": true});
    let user = create_in_t(&store, ResourceKind::User, body.clone())
        .await
        .unwrap();
    let as_text = Fetch {
        document_text: true,
        groups: true,
        ..Fetch::NONE
    };
    let read = store
        .get("t", ResourceKind::User, &user.id, as_text)
        .await
        .unwrap()
        .unwrap();
    assert!(read.document.is_empty());
    assert_eq!(
        read.document_text.as_deref(),
        Some(serde_json::to_string(&body).unwrap().as_str()),
        "the text as the store wrote it"
    );
    let registry = SchemaRegistry::with_core();
    let page = store
        .list(
            "t",
            ResourceKind::User,
            &registry,
            &ListQuery {
                filter: None,
                sort: None,
                page: PageRequest::Index {
                    start_index: 1,
                    count: 10,
                },
                fetch: as_text,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.resources[0].document_text, read.document_text);
    assert!(page.resources[0].document.is_empty());
}
