//! A read transaction held open on the newest snapshot, so that readers in this
//! process take the WAL read lock without a system call.
//!
//! In WAL mode every read transaction takes a shared lock on one of the WAL-index's
//! read-mark slots, and releases it when it ends (SQLite docs, "WAL-mode File
//! Format", §2.3). On Unix that lock is an `fcntl` on the `-shm` file, made while
//! holding a mutex shared by every connection of the process to that file. But SQLite
//! counts the shared locks its connections hold on each slot within the process, and
//! only the first lock and the last unlock of a slot reach the kernel (`unixShmLock`
//! in `os_unix.c`). A GET by id made about three `fcntl`s (two reads, each a lock and
//! an unlock, some overlapping), and they, with the threads waiting on that mutex, were
//! 7% of the server's CPU (docs/benchmarks.md, item 51).
//!
//! So one connection of our own keeps a read transaction open on the newest snapshot.
//! Readers that begin on that snapshot choose the same slot (the one whose mark is
//! the WAL's last frame, or slot 0 when the WAL has been copied whole), find it held,
//! and only count. Readers never read through the anchor: one that begins after a
//! newer commit locks a slot of its own as before, so a stale anchor costs system
//! calls, never a stale read.
//!
//! When it holds: the checkpoint thread owns it (`checkpoint::Rounds`). It takes the
//! newest snapshot after each checkpoint round and lets go at the first change of the
//! main file after that (the writer thread tells it; commits of the provisioning
//! log's file, every few milliseconds under any load, do not count). A held read
//! mark would keep SQLite from starting the WAL over at the next write, and would
//! make the round's RESTART checkpoint wait; so under a steady write load the anchor
//! is gone within a commit of each round, and reads gain under read-mostly loads
//! (GET by id: about 7% of the server's CPU, item 51). Another process's commits
//! are noticed at the next round.

use super::db;
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// The statement that begins the read transaction: it reads the main file's header
/// only (one page, always cached), which is enough to take a snapshot of it.
const TAKE_SNAPSHOT: &str = "PRAGMA main.schema_version";

/// One read-only connection and whether its read transaction is open.
pub(super) struct ReadAnchor {
    conn: Connection,
    held: bool,
}

impl ReadAnchor {
    /// Opens the anchor's connection (not holding anything yet).
    pub(super) fn open(path: &Path, busy_timeout: Duration) -> rusqlite::Result<ReadAnchor> {
        Ok(ReadAnchor {
            conn: db::open_reader(path, busy_timeout)?,
            held: false,
        })
    }

    /// Whether a read transaction is open.
    pub(super) fn is_held(&self) -> bool {
        self.held
    }

    /// Opens a read transaction on the newest snapshot. A failure (a lock busy during
    /// another process's recovery, say) leaves the anchor released: readers then lock
    /// as they would without it.
    pub(super) fn hold(&mut self) {
        if self.held {
            return;
        }
        let begun = db::execute(&self.conn, "BEGIN DEFERRED", &[]).and_then(|_| {
            let mut statement = self.conn.prepare_cached(TAKE_SNAPSHOT)?;
            statement.query_row([], |row| row.get::<_, i64>(0))
        });
        match begun {
            Ok(_) => self.held = true,
            Err(e) => {
                tracing::debug!(error = %e, "could not hold the SQLite read anchor");
                self.end();
            }
        }
    }

    /// Ends the read transaction, if one is open.
    pub(super) fn release(&mut self) {
        if self.held {
            self.end();
        }
    }

    fn end(&mut self) {
        self.held = false;
        if !self.conn.is_autocommit() {
            if let Err(e) = db::execute(&self.conn, "COMMIT", &[]) {
                tracing::debug!(error = %e, "could not release the SQLite read anchor");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in WAL mode with one table and a row, and its writer.
    fn wal_database() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let writer = db::open_writer(&dir.path().join("a.db"), Duration::from_secs(5)).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        (dir, writer)
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    /// The anchor's snapshot is the one it took: while it holds, it does not see a
    /// later commit; held again, it does. (Readers of the store never read
    /// through the anchor, but this is what "holds a snapshot" means.)
    #[test]
    fn holding_keeps_a_snapshot_until_released() {
        let (dir, writer) = wal_database();
        let mut anchor =
            ReadAnchor::open(&dir.path().join("a.db"), Duration::from_secs(5)).unwrap();
        anchor.hold();
        assert!(anchor.is_held());
        assert!(!anchor.conn.is_autocommit(), "a transaction is open");
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_eq!(
            count(&anchor.conn),
            1,
            "the held snapshot predates the insert"
        );
        anchor.release();
        anchor.hold();
        assert!(anchor.is_held());
        assert_eq!(count(&anchor.conn), 2);
        anchor.release();
        assert!(!anchor.is_held());
        assert!(anchor.conn.is_autocommit());
    }

    /// Why the anchor lets go when the main file changes: while it holds a read mark
    /// in the WAL, a write after a checkpoint that copied the whole WAL appends to it
    /// instead of starting it over (SQLite's `walRestartLog` needs every read mark
    /// free); released, the same sequence starts the WAL over.
    #[test]
    fn a_held_mark_keeps_the_wal_from_starting_over() {
        let (dir, writer) = wal_database();
        let path = dir.path().join("a.db");
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        let checkpointer = db::open_checkpointer(&path, Duration::from_secs(5)).unwrap();
        let frames = |conn: &Connection| -> i64 {
            conn.query_row("PRAGMA main.wal_checkpoint(PASSIVE)", [], |row| row.get(1))
                .unwrap()
        };
        let fill = |n: usize| {
            for _ in 0..n {
                writer
                    .execute("INSERT INTO t VALUES (randomblob(3000))", [])
                    .unwrap();
            }
        };
        let mut anchor = ReadAnchor::open(&path, Duration::from_secs(5)).unwrap();

        fill(20);
        anchor.hold(); // a mark on the WAL's last frame
        let before = frames(&checkpointer); // copies every frame
        fill(1);
        let held = frames(&checkpointer);
        assert!(
            held > before,
            "with the anchor held the write appended ({before} then {held} frames)"
        );

        anchor.release();
        let copied = frames(&checkpointer);
        fill(1);
        let released = frames(&checkpointer);
        assert!(
            released < copied,
            "released, the write started the WAL over ({copied} then {released} frames)"
        );
    }

    /// Other readers never read the anchor's snapshot: one that begins after a commit
    /// sees it, though the anchor still holds an older snapshot.
    #[test]
    fn other_readers_see_commits_the_anchor_has_not_followed() {
        let (dir, writer) = wal_database();
        let path = dir.path().join("a.db");
        let mut anchor = ReadAnchor::open(&path, Duration::from_secs(5)).unwrap();
        anchor.hold();
        let reader = db::open_reader(&path, Duration::from_secs(5)).unwrap();
        assert_eq!(count(&reader), 1);
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        assert_eq!(count(&reader), 2);
        anchor.release();
    }
}
