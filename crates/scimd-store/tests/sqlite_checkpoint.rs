//! The SQLite WAL is checkpointed in the background, not by the writer's commits: after
//! a write far below the writer's own automatic-checkpoint threshold, the pages reach
//! the database file within a few checkpoint intervals.

use scimd_store::sqlite::SqliteStore;
use scimd_store::Store;
use std::time::{Duration, Instant};

/// Upper bound on waiting for the checkpoint; a safety net, not a timing assertion.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn committed_pages_reach_the_database_file_without_a_writer_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let store = SqliteStore::open(&path).await.unwrap();
    // Let the migrations' own WAL pages be checkpointed first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = std::fs::metadata(&path).unwrap().len();

    // About 2 MB in one transaction: some 500 WAL pages, well under both SQLite's default
    // threshold (1,000) and the writer's backstop (10,000), so no commit checkpoints.
    store
        .with_writer(|conn| {
            conn.execute_batch(
                "CREATE TABLE filler (x TEXT); \
                 BEGIN; \
                 INSERT INTO filler \
                   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
                   SELECT printf('%.1000c', 'x') FROM n; \
                 COMMIT;",
            )
        })
        .await
        .unwrap();
    let wal = dir.path().join("scimd.db-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 1_000_000,
        "the write went to the WAL"
    );

    let started = Instant::now();
    let mut grown = std::fs::metadata(&path).unwrap().len();
    while grown < before + 1_000_000 && started.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(100)).await;
        grown = std::fs::metadata(&path).unwrap().len();
    }
    assert!(
        grown >= before + 1_000_000,
        "the database file grew from {before} to only {grown} bytes in {PATIENCE:?}: no \
         background checkpoint"
    );
    store.close().await;
}

/// A read whose caller went away (a background task aborted at shutdown) still holds
/// its connection until it ends; closing waits for it, so the last connection to
/// close is the writer's and the WAL is folded into the database file and removed.
#[tokio::test]
async fn closing_waits_for_a_read_whose_caller_was_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .create_tenant(&scimd_store::NewTenant::enabled("t", "T"))
        .await
        .unwrap();
    let reading = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .with_reader(|conn| {
                    std::thread::sleep(Duration::from_millis(400));
                    conn.query_row("SELECT count(*) FROM tenants", [], |row| {
                        row.get::<_, i64>(0)
                    })
                })
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    reading.abort();
    store.close().await;
    let left: Vec<_> = ["scimd.db-wal", "scimd.db-shm"]
        .into_iter()
        .filter(|name| dir.path().join(name).exists())
        .collect();
    assert!(left.is_empty(), "left behind after close: {left:?}");
}
