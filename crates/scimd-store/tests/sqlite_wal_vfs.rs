//! The SQLite store writes through `scimd_sqlite_vfs`, which writes each commit's WAL
//! frames in one system call (docs/benchmarks.md, item 60). Its counters are
//! process-wide, so this file holds one test: no other test's writes land in between.

use scimd_sqlite_vfs::WalWriteStats;
use scimd_store::sqlite::SqliteStore;
use scimd_store::NewTenant;
use scimd_store::Store;

#[tokio::test]
async fn the_stores_commits_reach_the_wal_in_one_write_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("scimd.db"))
        .await
        .unwrap();

    // A write through the Store API: the tenant's row, its indexes, the credential
    // epoch's row.
    let before = scimd_sqlite_vfs::stats();
    store
        .create_tenant(&NewTenant::enabled("acme", "Acme"))
        .await
        .unwrap();
    let WalWriteStats { requested, written } = scimd_sqlite_vfs::stats().since(before);
    assert!(
        requested >= 4,
        "{requested} writes requested: frames expected"
    );
    assert_eq!(written, 1, "{requested} writes requested");

    // A larger commit on the writer connection, and in the attached log file.
    let WalWriteStats { requested, written } = store
        .with_writer(|conn| {
            conn.execute_batch(
                "CREATE TABLE scratch (k TEXT PRIMARY KEY, v TEXT);
                 CREATE TABLE logs.scratch (k TEXT PRIMARY KEY, v TEXT);",
            )?;
            let before = scimd_sqlite_vfs::stats();
            conn.execute_batch(
                "BEGIN IMMEDIATE;
                 WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60)
                 INSERT INTO scratch SELECT hex(randomblob(30)), hex(randomblob(30)) FROM s;
                 WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60)
                 INSERT INTO logs.scratch SELECT hex(randomblob(30)), hex(randomblob(30)) FROM s;
                 COMMIT;",
            )?;
            Ok(scimd_sqlite_vfs::stats().since(before))
        })
        .await
        .unwrap();
    assert!(requested >= 8, "{requested} writes requested");
    assert_eq!(written, 2, "one per file: {requested} writes requested");

    // Readers, on their own connections, see what was committed.
    let tenant = store.get_tenant("acme").await.unwrap();
    assert!(tenant.is_some());
    let rows: i64 = store
        .with_reader(|conn| {
            conn.query_row(
                "SELECT (SELECT count(*) FROM scratch) + (SELECT count(*) FROM logs.scratch)",
                [],
                |row| row.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(rows, 120);
}
