//! WAL checkpoints off the write path.
//!
//! By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 pages:
//! that commit copies pages into the database file and, with `synchronous=NORMAL`,
//! fsyncs it, while holding our one writer. Profiles of the `mixed` benchmark showed
//! checkpoints at 7% of the server's CPU and as the tail of write latency. So a
//! background thread runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection every
//! [`CHECKPOINT_INTERVAL`]: a passive checkpoint never waits for readers or writers
//! (SQLite docs, "Checkpoint a database"), and writers go on appending to the WAL while
//! it copies. The writer keeps an automatic checkpoint at [`BACKSTOP_PAGES`] as a
//! backstop, in case this thread falls behind.
//!
//! A passive checkpoint copies pages but does not make the WAL start over: SQLite
//! rewinds the WAL only when a write transaction begins after every frame has been
//! copied *and* no reader is still reading from the WAL. Under steady load (a write
//! every millisecond, eight connections reading) that moment never came, so the WAL
//! grew to the backstop and from then on the writer checkpointed on its commits, an
//! fsync each time, with every write waiting: 32 fsyncs and 0.46 s of the writer's
//! time in 10 s of `mixed`, and the writes' p99 at 40 ms (docs/benchmarks.md, item
//! 33). So once the WAL holds [`SqliteOptions::wal_restart_pages`] and a passive
//! checkpoint has copied all of it, this thread runs a RESTART checkpoint: it holds
//! the write lock while it copies the few frames committed since, then waits for
//! the readers still in the WAL to finish (microseconds), so that the next write
//! starts the WAL over. Writes wait for that once per restart, not on every commit.
//!
//! [`SqliteOptions::wal_restart_pages`]: super::SqliteOptions::wal_restart_pages

use super::db;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the background checkpoint runs.
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// The default WAL length (in 4 KiB pages, so 16 MiB) past which a fully copied WAL is
/// made to start over ([`super::SqliteOptions::wal_restart_pages`]); well under
/// [`BACKSTOP_PAGES`], so the writer's own checkpoint stays a backstop.
pub(super) const RESTART_PAGES: u32 = 4_000;

/// The writer's own automatic checkpoint threshold, in WAL pages (4 KiB each): ten
/// times SQLite's default, reached only when the background checkpoint cannot keep up.
pub(super) const BACKSTOP_PAGES: u32 = 10_000;

/// How long the RESTART checkpoint waits for a lock (the write lock, then the readers)
/// between tries. SQLite's own busy handler sleeps whole milliseconds, growing; the
/// write lock is held while waiting for readers, so waits here are short.
const RESTART_RETRY: Duration = Duration::from_micros(100);

/// Tries of the RESTART checkpoint before it gives up until the next round (some 10-20
/// ms: a reader that takes longer keeps the WAL as it is until then, and writes do not
/// wait for it longer than that).
const RESTART_TRIES: i32 = 100;

/// What `PRAGMA wal_checkpoint` reports: frames in the WAL and frames copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CheckpointResult {
    /// Whether it could not finish (a lock was busy).
    busy: bool,
    /// Frames in the WAL (-1 when the database is not in WAL mode).
    log: i64,
    /// Frames copied to the database file, this time or before.
    checkpointed: i64,
}

fn checkpoint(
    conn: &rusqlite::Connection,
    schema: &str,
    mode: &str,
) -> rusqlite::Result<CheckpointResult> {
    conn.query_row(
        &format!("PRAGMA {schema}.wal_checkpoint({mode})"),
        [],
        |row| {
            Ok(CheckpointResult {
                busy: row.get::<_, i64>(0)? != 0,
                log: row.get(1)?,
                checkpointed: row.get(2)?,
            })
        },
    )
}

/// The checkpoint connection's busy handler: short sleeps, a bounded number of them.
fn retry_briefly(tries: i32) -> bool {
    if tries >= RESTART_TRIES {
        return false;
    }
    std::thread::sleep(RESTART_RETRY);
    true
}

/// One round, for the main file and then the provisioning log's (each has its WAL).
fn run_round(conn: &rusqlite::Connection, restart_pages: u32) -> rusqlite::Result<()> {
    let main = run_round_of(conn, "main", restart_pages);
    let log = run_round_of(conn, db::LOG_SCHEMA, restart_pages);
    main.and(log)
}

/// A passive checkpoint of `schema`, then a restart when its WAL is long and all copied.
fn run_round_of(
    conn: &rusqlite::Connection,
    schema: &str,
    restart_pages: u32,
) -> rusqlite::Result<()> {
    let passive = checkpoint(conn, schema, "PASSIVE")?;
    let copied_all = !passive.busy && passive.log > 0 && passive.checkpointed == passive.log;
    if copied_all && passive.log >= i64::from(restart_pages) {
        let restart = checkpoint(conn, schema, "RESTART")?;
        tracing::debug!(
            schema,
            pages = passive.log,
            restarted = !restart.busy,
            "SQLite WAL restart checkpoint"
        );
    }
    Ok(())
}

/// The running checkpoint thread. Dropping it (or [`Checkpointer::stop`]) ends the
/// thread at its next wake-up.
#[derive(Debug)]
pub(super) struct Checkpointer {
    stop: std::sync::Mutex<Option<Sender<()>>>,
}

impl Checkpointer {
    /// Starts the thread for the database at `path` (which exists and is in WAL mode).
    pub(super) fn start(
        path: &Path,
        busy_timeout: Duration,
        restart_pages: u32,
    ) -> std::io::Result<Checkpointer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let path: PathBuf = path.to_owned();
        std::thread::Builder::new()
            .name("scimd-sqlite-checkpoint".into())
            .spawn(move || {
                let opened = db::open_checkpointer(&path, busy_timeout).and_then(|conn| {
                    conn.busy_handler(Some(retry_briefly))?;
                    Ok(conn)
                });
                let conn = match opened {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not open the SQLite checkpoint connection; the writer checkpoints by itself");
                        return;
                    }
                };
                // Ends when told to, or when the store (and so the sender) is gone.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL)
                {
                    // A busy result (another process is checkpointing) is not an error
                    // worth more than a debug line: the next round tries again.
                    if let Err(e) = run_round(&conn, restart_pages) {
                        tracing::debug!(error = %e, "SQLite WAL checkpoint did not run");
                    }
                }
            })?;
        Ok(Checkpointer {
            stop: std::sync::Mutex::new(Some(stop)),
        })
    }

    /// Ends the thread (it finishes a checkpoint in progress first).
    pub(super) fn stop(&self) {
        let sender = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;
    use std::sync::mpsc;

    /// A database in WAL mode with a table `t`, its writer (which never checkpoints by
    /// itself) and a checkpoint connection with the thread's busy handler.
    fn wal_database() -> (tempfile::TempDir, Connection, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let writer = db::open_writer(&path, Duration::from_secs(5)).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x TEXT); PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
        let checkpointer = db::open_checkpointer(&path, Duration::from_secs(5)).unwrap();
        checkpointer.busy_handler(Some(retry_briefly)).unwrap();
        (dir, writer, checkpointer)
    }

    /// Frames in the WAL now (a passive checkpoint reports it).
    fn wal_frames(conn: &Connection) -> i64 {
        checkpoint(conn, "main", "PASSIVE").unwrap().log
    }

    /// The case a passive checkpoint alone leaves stuck: a reader that began while the
    /// WAL held uncopied frames is still reading when the next write begins, so SQLite
    /// appends to the WAL instead of starting it over, and under steady load there is
    /// always such a reader. The round's RESTART waits for it, and the next write
    /// starts the WAL over.
    #[test]
    fn a_round_makes_the_next_write_start_the_wal_over() {
        let (dir, writer, checkpointer) = wal_database();
        let path = dir.path().join("wal.db");
        // No fsync, so that the passive checkpoint takes microseconds whatever the disk:
        // the reader below must still be reading when it ends.
        checkpointer
            .pragma_update(None, "synchronous", "OFF")
            .unwrap();
        for _ in 0..50 {
            writer
                .execute("INSERT INTO t VALUES (printf('%.4000c', 'x'))", [])
                .unwrap();
        }
        // A reader in the WAL (it begins before any checkpoint has copied the frames),
        // for a few milliseconds from now.
        let (started, reading) = mpsc::channel();
        let reader_path = path.clone();
        let reader = std::thread::spawn(move || {
            let conn = db::open_reader(&reader_path, Duration::from_secs(5)).unwrap();
            conn.execute_batch("BEGIN").unwrap();
            let _: i64 = conn
                .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
                .unwrap();
            started.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(5));
            conn.execute_batch("COMMIT").unwrap();
        });
        reading.recv().unwrap();
        let written = wal_frames(&checkpointer);
        assert!(written >= 50, "the rows went to the WAL ({written} frames)");

        run_round(&checkpointer, 10).unwrap();
        writer.execute("INSERT INTO t VALUES ('next')", []).unwrap();
        let after = wal_frames(&checkpointer);
        reader.join().unwrap();
        assert!(
            after < 10,
            "the write after the round appended to a WAL of {written} frames ({after} now) \
             instead of starting it over"
        );
    }

    /// The provisioning log's file has a WAL of its own, which a round also copies and
    /// starts over.
    #[test]
    fn a_round_starts_the_log_files_wal_over_too() {
        let (_dir, writer, checkpointer) = wal_database();
        writer
            .execute_batch("CREATE TABLE logs.l (x TEXT)")
            .unwrap();
        for _ in 0..50 {
            writer
                .execute("INSERT INTO logs.l VALUES (printf('%.4000c', 'x'))", [])
                .unwrap();
        }
        let log_frames =
            |conn: &Connection| checkpoint(conn, db::LOG_SCHEMA, "PASSIVE").unwrap().log;
        let written = log_frames(&checkpointer);
        assert!(
            written >= 50,
            "the rows went to the log's WAL ({written} frames)"
        );
        run_round(&checkpointer, 10).unwrap();
        writer
            .execute("INSERT INTO logs.l VALUES ('next')", [])
            .unwrap();
        let after = log_frames(&checkpointer);
        assert!(
            after < 10,
            "the log's WAL went on from {written} frames to {after}"
        );
    }

    /// Below the threshold a round only copies: the WAL is left to grow.
    #[test]
    fn a_short_wal_is_only_copied() {
        let (dir, writer, checkpointer) = wal_database();
        let path = dir.path().join("wal.db");
        for _ in 0..5 {
            writer.execute("INSERT INTO t VALUES ('x')", []).unwrap();
        }
        // A reader that stays in the WAL keeps SQLite from starting it over by itself.
        let reader = db::open_reader(&path, Duration::from_secs(5)).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        let written = wal_frames(&checkpointer);
        run_round(&checkpointer, 1_000).unwrap();
        writer.execute("INSERT INTO t VALUES ('next')", []).unwrap();
        reader.execute_batch("COMMIT").unwrap();
        assert!(wal_frames(&checkpointer) > written);
    }
}
