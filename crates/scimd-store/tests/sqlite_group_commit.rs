//! Group commit on SQLite (`sqlite/writer.rs`): writes queued behind each other share
//! one transaction, yet each stays atomic on its own. A failing write, or one that
//! panics, is rolled back alone; the others commit and are answered only afterwards.

use scimd_protocol::ResourceKind;
use scimd_store::sqlite::SqliteStore;
use scimd_store::{LogClient, NewLogEntry, NewResource, NewTenant, Store, StoreError, Update};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn user(user_name: &str) -> NewResource {
    let Value::Object(document) = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
    }) else {
        unreachable!("a JSON object literal");
    };
    NewResource {
        document,
        members: Vec::new(),
    }
}

async fn open() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("scimd.db"))
        .await
        .unwrap();
    store
        .create_tenant(&NewTenant::enabled("acme", "Acme"))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

/// Holds the writer thread busy for a moment, so the writes spawned meanwhile queue up
/// behind it and are gathered into one group when it ends.
fn hold_the_writer(store: &Arc<SqliteStore>) -> tokio::task::JoinHandle<()> {
    let store = store.clone();
    tokio::spawn(async move {
        store
            .with_writer(|_| {
                std::thread::sleep(Duration::from_millis(1500));
                Ok(())
            })
            .await
            .unwrap();
    })
}

/// Creates user `name` in a task of its own; the writer queues it behind what came first.
fn spawn_create(
    store: &Arc<SqliteStore>,
    name: &'static str,
) -> tokio::task::JoinHandle<Result<scimd_store::StoredResource, StoreError>> {
    let store = store.clone();
    tokio::spawn(async move {
        store
            .create("acme", ResourceKind::User, user(name), Default::default())
            .await
    })
}

async fn user_names(store: &SqliteStore) -> Vec<String> {
    let mut names = store
        .with_reader(|conn| {
            let mut stmt = conn.prepare("SELECT user_name FROM users WHERE tenant_id = 'acme'")?;
            let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_writes_share_a_commit_and_a_failure_stays_alone() {
    let (_dir, store) = open().await;
    store
        .create(
            "acme",
            ResourceKind::User,
            user("taken"),
            Default::default(),
        )
        .await
        .unwrap();
    let before = store.writer_stats();

    let hold = hold_the_writer(&store);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Eight good creates, and one that breaks uniqueness in the middle of the queue.
    let mut writes = Vec::new();
    for name in ["u0", "u1", "u2", "u3", "taken", "u4", "u5", "u6", "u7"] {
        // (The writer holds for 1.5 s: ample time for all nine to queue.)
        writes.push(spawn_create(&store, name));
        // Keeps the queue order the order above.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    hold.await.unwrap();
    let mut outcomes = Vec::new();
    for write in writes {
        outcomes.push(write.await.unwrap());
    }

    let names = ["u0", "u1", "u2", "u3", "taken", "u4", "u5", "u6", "u7"];
    for (name, outcome) in names.iter().zip(&outcomes) {
        if *name == "taken" {
            match outcome {
                Err(StoreError::Scim(err)) => assert_eq!(err.status, 409, "{err:?}"),
                other => panic!("the duplicate userName must fail alone: {other:?}"),
            }
        } else {
            assert!(outcome.is_ok(), "creating {name} failed: {outcome:?}");
        }
    }
    assert_eq!(
        user_names(&store).await,
        ["taken", "u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"],
        "every good write is committed, the failed one left nothing"
    );
    let after = store.writer_stats();
    assert_eq!(
        after.writes - before.writes,
        9,
        "nine writes ran: {after:?}"
    );
    assert_eq!(
        after.transactions - before.transactions,
        1,
        "the nine queued writes were committed together: {before:?} -> {after:?}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_panics_is_rolled_back_alone() {
    let (_dir, store) = open().await;
    let victim = store
        .create(
            "acme",
            ResourceKind::User,
            user("victim"),
            Default::default(),
        )
        .await
        .unwrap();

    let hold = hold_the_writer(&store);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let first = spawn_create(&store, "first");
    tokio::time::sleep(Duration::from_millis(5)).await;
    // The update closure runs inside the writer's transaction; its panic must not take
    // the group (or the thread) down.
    let panicking = {
        let store = store.clone();
        let id = victim.id.clone();
        tokio::spawn(async move {
            store
                .update(
                    "acme",
                    ResourceKind::User,
                    &id,
                    None,
                    Box::new(|_current| -> Result<Update, _> { panic!("a bug in a PATCH") }),
                    Default::default(),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    let last = spawn_create(&store, "last");
    hold.await.unwrap();
    assert!(first.await.unwrap().is_ok());
    assert!(matches!(
        panicking.await.unwrap(),
        Err(StoreError::Database(_))
    ));
    assert!(last.await.unwrap().is_ok());
    assert_eq!(user_names(&store).await, ["first", "last", "victim"]);
    // The writer thread survived: a write after the panic still commits.
    store
        .create(
            "acme",
            ResourceKind::User,
            user("after"),
            Default::default(),
        )
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test]
async fn writes_after_close_fail_as_unavailable() {
    let (_dir, store) = open().await;
    store.close().await;
    let outcome = store
        .create("acme", ResourceKind::User, user("late"), Default::default())
        .await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
}

fn log_entries(count: usize) -> Vec<NewLogEntry> {
    (0..count)
        .map(|i| NewLogEntry {
            tenant_id: "acme".into(),
            at: time::OffsetDateTime::now_utc(),
            method: "GET".into(),
            path: format!("/scim/v2/acme/Users/{i}"),
            status: 200,
            latency_us: 100,
            scim_type: None,
            detail: None,
            client: LogClient::Entra,
            resource_id: Some(format!("user-{i}")),
            request_id: format!("req-{i}"),
            request_body: None,
            response_body: None,
        })
        .collect()
}

async fn log_rows(store: &SqliteStore) -> i64 {
    store
        .with_reader(|conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM provisioning_logs WHERE tenant_id = 'acme'",
                [],
                |row| row.get(0),
            )
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_batch_is_one_commit_when_nothing_waits() {
    let (_dir, store) = open().await;
    let before = store.writer_stats();
    assert_eq!(
        store.append_request_logs(log_entries(500)).await.unwrap(),
        500
    );
    let after = store.writer_stats();
    assert_eq!(
        after.transactions - before.transactions,
        1,
        "{before:?} -> {after:?}"
    );
    assert_eq!(log_rows(&store).await, 500);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_batch_yields_the_writer_to_a_queued_write() {
    let (_dir, store) = open().await;
    let before = store.writer_stats();
    let hold = hold_the_writer(&store);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = {
        let store = store.clone();
        tokio::spawn(async move { store.append_request_logs(log_entries(500)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let create = spawn_create(&store, "behind");
    hold.await.unwrap();
    create.await.unwrap().unwrap();
    assert_eq!(logs.await.unwrap().unwrap(), 500);
    assert_eq!(log_rows(&store).await, 500, "every entry is stored once");
    let after = store.writer_stats();
    // Transaction 1: the first chunk of the batch, which then yields, and the create
    // queued behind it; transaction 2: the rest of the batch.
    assert_eq!(
        after.transactions - before.transactions,
        2,
        "{before:?} -> {after:?}"
    );
    assert_eq!(after.writes - before.writes, 3, "{before:?} -> {after:?}");
    store.close().await;
}

/// Holds SQLite's write lock on `path` from another connection (as the CLI or a
/// RESTART checkpoint would) for `held`, on a thread of its own.
fn hold_the_write_lock(path: std::path::PathBuf, held: Duration) -> std::thread::JoinHandle<()> {
    let (locked, is_locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(held);
        conn.execute_batch("COMMIT").unwrap();
    });
    is_locked.recv().unwrap();
    holder
}

#[tokio::test]
async fn a_write_waits_for_another_connections_write_lock() {
    let (dir, store) = open().await;
    let holder = hold_the_write_lock(dir.path().join("scimd.db"), Duration::from_millis(300));
    store
        .create(
            "acme",
            ResourceKind::User,
            user("patient"),
            Default::default(),
        )
        .await
        .expect("the write waited for the lock instead of failing");
    holder.join().unwrap();
    assert_eq!(user_names(&store).await, ["patient"]);
}

#[tokio::test]
async fn a_write_gives_up_after_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let options = scimd_store::sqlite::SqliteOptions {
        busy_timeout: Duration::from_millis(100),
        ..Default::default()
    };
    let store = SqliteStore::open_with(&path, &options).await.unwrap();
    let holder = hold_the_write_lock(path, Duration::from_secs(1));
    let outcome = store
        .create_tenant(&NewTenant::enabled("acme", "Acme"))
        .await;
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
    holder.join().unwrap();
    store.close().await;
}
