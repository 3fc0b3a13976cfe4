//! The VFS under real SQLite on real files: what a commit leaves in the WAL when it
//! returns must be all of it, for a reader on another connection and for a process
//! that starts after a crash (SQLite rebuilds the WAL index from the frames alone).

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

fn open(path: &Path) -> Connection {
    let vfs = scimd_sqlite_vfs::register().unwrap();
    let conn = Connection::open_with_flags_and_vfs(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        vfs,
    )
    .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // No automatic checkpoint: the WAL keeps every frame written, so the copies
    // below depend on it. No spilling, as the VFS asks of a connection that writes.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA cache_spill = OFF;",
    )
    .unwrap();
    conn
}

fn wal_of(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// The database file and its WAL copied as a process killed right now would leave
/// them (the WAL index, in shared memory, is not copied: SQLite rebuilds it from the
/// WAL's frame headers and checksums), opened with SQLite's own VFS.
fn crash_copy(path: &Path, dir: &Path, name: &str) -> Connection {
    let copy = dir.join(name);
    std::fs::copy(path, &copy).unwrap();
    std::fs::copy(wal_of(path), wal_of(&copy)).unwrap();
    let conn = Connection::open(&copy).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    conn
}

fn rows(conn: &Connection) -> (i64, i64) {
    conn.query_row("SELECT count(*), coalesce(sum(n), 0) FROM t", [], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .unwrap()
}

const SCHEMA: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, k TEXT NOT NULL, body BLOB NOT NULL);
     CREATE INDEX t_k ON t (k);
     CREATE INDEX t_n ON t (n);";

/// A new database `name` in a directory of its own, opened through our VFS, with
/// [`SCHEMA`].
fn with_schema(name: &str) -> (tempfile::TempDir, PathBuf, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let conn = open(&path);
    conn.execute_batch(SCHEMA).unwrap();
    (dir, path, conn)
}

fn insert(conn: &Connection, id: i64, body_len: usize) {
    conn.execute(
        "INSERT INTO t (id, n, k, body) VALUES (?1, ?1, hex(randomblob(16)), zeroblob(?2))",
        rusqlite::params![id, i64::try_from(body_len).unwrap()],
    )
    .unwrap();
}

#[test]
fn every_commit_is_in_the_files_when_it_returns() {
    let (dir, path, conn) = with_schema("w.db");
    for id in 1..=60 {
        insert(&conn, id, 3000);
        if id % 6 == 0 {
            let copy = crash_copy(&path, dir.path(), &format!("copy{id}.db"));
            assert_eq!(rows(&copy), (id, id * (id + 1) / 2), "after commit {id}");
        }
    }
}

#[test]
fn another_connection_reads_each_commit_as_soon_as_it_returns() {
    let (_dir, path, writer) = with_schema("r.db");
    // One reader through SQLite's own VFS, one through ours.
    let plain = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let ours = Connection::open_with_flags_and_vfs(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY,
        scimd_sqlite_vfs::NAME,
    )
    .unwrap();
    for id in 1..=300 {
        writer
            .execute_batch("BEGIN IMMEDIATE")
            .and_then(|()| {
                insert(&writer, id, 200 + usize::try_from(id).unwrap() * 10);
                writer.execute_batch("COMMIT")
            })
            .unwrap();
        for reader in [&plain, &ours] {
            let seen: i64 = reader
                .query_row(
                    "SELECT max(id) FROM t WHERE length(body) = ?1",
                    [200 + id * 10],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(seen, id);
        }
    }
}

/// A transaction larger than the page cache writes pages to the WAL before its
/// commit, then may write some of them again, and SQLite then rewrites the checksums
/// of its frames (`walRewriteChecksums`): the paths where writes are not appends.
/// Spilling is turned back on for this one connection, which is alone on its file
/// (the VFS's requirement guards against another process writing between a spill
/// and its rollback; here, nothing else writes).
#[test]
fn a_transaction_that_spills_and_rewrites_its_pages_recovers_whole() {
    let (dir, path, conn) = with_schema("s.db");
    conn.execute_batch("PRAGMA cache_size = 8; PRAGMA cache_spill = ON;")
        .unwrap();
    conn.execute_batch("BEGIN").unwrap();
    for id in 1..=400 {
        insert(&conn, id, 700);
    }
    conn.execute_batch("UPDATE t SET n = n + 1000000, body = zeroblob(650); COMMIT")
        .unwrap();
    let copy = crash_copy(&path, dir.path(), "copy1.db");
    assert_eq!(rows(&copy), (400, 400 * 1_000_000 + 400 * 401 / 2));

    // A spilled transaction rolled back, then a small commit over its frames.
    conn.execute_batch("BEGIN").unwrap();
    for id in 401..=700 {
        insert(&conn, id, 700);
    }
    conn.execute_batch("ROLLBACK").unwrap();
    insert(&conn, 1000, 10);
    let copy = crash_copy(&path, dir.path(), "copy2.db");
    assert_eq!(rows(&copy), (401, 400 * 1_000_000 + 400 * 401 / 2 + 1000));
}

#[test]
fn a_wal_started_over_holds_the_commits_after_it() {
    let (dir, path, conn) = with_schema("o.db");
    for id in 1..=20 {
        insert(&conn, id, 2000);
    }
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0);
    // The next commit writes a new WAL header at offset 0, then its frames over the
    // old ones.
    for id in 21..=25 {
        insert(&conn, id, 100);
    }
    let copy = crash_copy(&path, dir.path(), "copy.db");
    assert_eq!(rows(&copy), (25, 25 * 26 / 2));
}

/// Files other than WAL files are SQLite's own: a database in rollback-journal mode
/// works through the VFS as without it.
#[test]
fn a_rollback_journal_database_works_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let conn = Connection::open_with_flags_and_vfs(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        scimd_sqlite_vfs::register().unwrap(),
    )
    .unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    for id in 1..=10 {
        insert(&conn, id, 5000);
    }
    conn.execute_batch("BEGIN; DELETE FROM t WHERE id > 5; ROLLBACK;")
        .unwrap();
    drop(conn);
    assert!(!wal_of(&path).exists());
    let plain = Connection::open(&path).unwrap();
    assert_eq!(rows(&plain), (10, 55));
}
