//! How many writes a commit costs, counted by the VFS's process-wide counters: this
//! file holds one test, so no other test's writes land in between.

use rusqlite::{Connection, OpenFlags};
use scimd_sqlite_vfs::WalWriteStats;

#[test]
fn a_commit_of_several_pages_is_one_write_in_the_main_and_in_an_attached_file() {
    let dir = tempfile::tempdir().unwrap();
    let vfs = scimd_sqlite_vfs::register().unwrap();
    let conn = Connection::open_with_flags_and_vfs(
        dir.path().join("main.db"),
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        vfs,
    )
    .unwrap();
    let attached = dir.path().join("other.db");
    conn.execute("ATTACH DATABASE ?1 AS other", [attached.to_str().unwrap()])
        .unwrap();
    conn.execute_batch(
        "PRAGMA main.journal_mode = WAL; PRAGMA other.journal_mode = WAL;
         PRAGMA main.synchronous = NORMAL; PRAGMA other.synchronous = NORMAL;
         PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE main.t (k TEXT PRIMARY KEY, v TEXT);
         CREATE INDEX main.t_v ON t (v);
         CREATE TABLE other.t (k TEXT PRIMARY KEY, v TEXT);
         CREATE INDEX other.t_v ON t (v);",
    )
    .unwrap();
    for schema in ["main", "other"] {
        // Enough rows with random keys that the commit dirties several pages of three
        // B-trees.
        let before = scimd_sqlite_vfs::stats();
        conn.execute_batch(&format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 100)
             INSERT INTO {schema}.t SELECT hex(randomblob(40)), hex(randomblob(40)) FROM s;"
        ))
        .unwrap();
        let WalWriteStats { requested, written } = scimd_sqlite_vfs::stats().since(before);
        assert!(
            requested >= 6,
            "{schema}: SQLite wrote {requested} times: several frames expected"
        );
        assert_eq!(written, 1, "{schema}: {requested} writes requested");
    }

    // A reader on its own connection sees the rows (the commit is in the file).
    let reader =
        Connection::open_with_flags(dir.path().join("main.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let count: i64 = reader
        .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 100);
}
