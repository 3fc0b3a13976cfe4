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
//! 33). So once the WAL holds [`SqliteOptions::wal_restart_pages`], this thread runs
//! a RESTART checkpoint after its passive one: it holds the write lock while it copies
//! the frames committed since, syncs, then waits for the readers still in the WAL to
//! finish (microseconds), so that the next write starts the WAL over. Writes wait for
//! that once per restart, not on every commit.
//!
//! Two things keep that wait short (docs/benchmarks.md, item 64):
//!
//! - The RESTART does not wait for a passive checkpoint to have copied *all* of the
//!   WAL. Under steady writes one never does (frames land while it copies), so the
//!   WAL grew to the backstop and the writer checkpointed inside its commits again:
//!   35 times in 10 s of `mixed`, 11 ms each with every write waiting.
//! - Before the RESTART, the thread syncs the WAL and the database file itself,
//!   holding no lock ([`scimd_sqlite_vfs::flush_files`]), copies what was committed
//!   meanwhile and syncs again. A passive checkpoint that does not copy the whole WAL
//!   never syncs the database file, so the RESTART's own `fsync` had the whole cycle's
//!   pages to write under the lock: it held writes 10.5 ms (median) without the
//!   flushes, 3.4 ms after one, 1.4 ms after two.
//!
//! The thread also owns the read anchor ([`super::read_anchor`]): after each round it
//! takes the newest snapshot and keeps it until the writer next changes the main file
//! ([`CommitSignal`]), and it lets go of it for the length of each round. And every
//! [`EPOCH_POLL_INTERVAL`] it reads the credential epoch, to see tenants and tokens
//! changed by another process ([`super::credential_cache`]).
//!
//! [`SqliteOptions::wal_restart_pages`]: super::SqliteOptions::wal_restart_pages

use super::credential_cache::EpochPoll;
use super::db;
use super::read_anchor::ReadAnchor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the background checkpoint runs. A round copies each page once however
/// many times the WAL holds it since the last round, so longer rounds copy less: at
/// 250 ms instead of 100, entra-cycle took 8% less time and mixed ran 4% faster, the
/// WAL peaking at 100 MiB instead of 65 under mixed (docs/benchmarks.md, item 65).
/// Under `mixed` the WAL grows by up to 40,000 pages a second; every 500 ms (the
/// value until item 53) let it reach the backstop of then (10,000 pages) between
/// rounds, so the writer copied pages and fsynced inside its commits again (3.7% of
/// the server's CPU, on the one thread every write waits for); [`BACKSTOP_PAGES`] now
/// leaves room for a round's growth. A round with nothing to copy costs a few system
/// calls.
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// The default WAL length (in 4 KiB pages, so 32 MiB) past which the WAL is made to
/// start over ([`super::SqliteOptions::wal_restart_pages`]); under
/// [`BACKSTOP_PAGES`], so the writer's own checkpoint stays a backstop. A RESTART
/// checkpoint holds writes across an `fsync`, so with rounds every 100 ms (as then) a
/// shorter threshold made them frequent: at 4,000 pages the writes' p99 under `mixed` was
/// 30-35 ms (item 53).
pub(super) const RESTART_PAGES: u32 = 8_000;

/// The writer's own automatic checkpoint threshold, in WAL pages (4 KiB each, so 160
/// MiB): reached only when the background checkpoint does not run or cannot keep up.
/// Five times [`RESTART_PAGES`]: under `mixed` the WAL grew by up to 4,000 pages
/// between two rounds 100 ms apart (10,000 at 250 ms), so at 10,000 (its value until
/// item 64) the writer's backstop often came before the round that would have
/// restarted the WAL.
/// It bounds the WAL file too, which keeps the largest length it reached.
pub(super) const BACKSTOP_PAGES: u32 = 40_000;

/// How often the thread reads the credential epoch between rounds: the longest a
/// change to a tenant or token made by another process (the CLI) goes unseen by the
/// credential cache ([`super::credential_cache`]). A read of one cached row, some
/// microseconds, 50 times a second.
pub(super) const EPOCH_POLL_INTERVAL: Duration = Duration::from_millis(20);

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

/// A passive checkpoint of `schema`, then, when its WAL is long, a flush of its files
/// and a restart (see the module docs).
fn run_round_of(
    conn: &rusqlite::Connection,
    schema: &str,
    restart_pages: u32,
) -> rusqlite::Result<()> {
    let passive = checkpoint(conn, schema, "PASSIVE")?;
    // Busy: another connection is checkpointing (the writer's backstop, another
    // process); the next round looks again.
    if !passive.busy && passive.log >= i64::from(restart_pages) {
        // Twice: writes go on during the first flush (milliseconds), and the second
        // pass copies and syncs what they added, so the RESTART is left about a
        // millisecond of work under the lock.
        flush_files(conn, schema);
        checkpoint(conn, schema, "PASSIVE")?;
        flush_files(conn, schema);
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

/// Syncs `schema`'s WAL and database file without a lock. A failure is not worth
/// failing the round for: the RESTART syncs everything anyway, only under the lock.
fn flush_files(conn: &rusqlite::Connection, schema: &str) {
    if let Err(e) = scimd_sqlite_vfs::flush_files(conn, schema) {
        tracing::warn!(schema, error = %e, "could not sync the SQLite files before a WAL restart");
    }
}

/// What the checkpoint thread is told.
enum Signal {
    /// The writer changed the main file: the anchor's snapshot is no longer the
    /// newest, and holding it would keep the WAL from starting over.
    MainChanged,
    /// End the thread.
    Stop,
}

/// What the writer thread and the checkpoint thread share about the anchor.
#[derive(Debug, Default)]
struct AnchorState {
    /// Whether the anchor holds a snapshot no change has overtaken yet.
    held: AtomicBool,
    /// Changes of the main file so far (to catch one made while the anchor takes
    /// its snapshot).
    changes: AtomicU64,
}

/// The writer thread's handle for telling the checkpoint thread that the main file
/// changed. It sends only while the anchor is held, so a busy writer wakes the thread
/// once per checkpoint round at most.
#[derive(Debug, Clone)]
pub(super) struct CommitSignal {
    sender: Sender<Signal>,
    anchor: Arc<AnchorState>,
}

impl CommitSignal {
    /// Tells the checkpoint thread that the main file changed.
    pub(super) fn main_changed(&self) {
        // Sequentially consistent, with the thread's side in `Rounds::mark_held_around`: either
        // the thread sees this change after taking its snapshot, or this sees the
        // anchor held.
        self.anchor.changes.fetch_add(1, Ordering::SeqCst);
        if self.anchor.held.swap(false, Ordering::SeqCst) {
            // A thread that has ended holds no anchor.
            let _ = self.sender.send(Signal::MainChanged);
        }
    }

    /// A signal no thread listens to, and the changes it has counted: for tests of
    /// the writer.
    #[cfg(test)]
    pub(super) fn unheard() -> CommitSignal {
        CommitSignal {
            sender: mpsc::channel().0,
            anchor: Arc::default(),
        }
    }

    #[cfg(test)]
    pub(super) fn changes(&self) -> u64 {
        self.anchor.changes.load(Ordering::SeqCst)
    }
}

/// The running checkpoint thread, which also owns the read anchor
/// ([`super::read_anchor`]). Dropping it (or [`Checkpointer::stop`]) ends the thread
/// at its next wake-up.
#[derive(Debug)]
pub(super) struct Checkpointer {
    stop: std::sync::Mutex<Option<Sender<Signal>>>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Starts the thread for the database at `path` (which exists and is in WAL
    /// mode), with a round every `interval` ([`CHECKPOINT_INTERVAL`] but in tests),
    /// and returns the signal the writer gives it after each commit. `epoch_poll`
    /// runs after every round.
    pub(super) fn start(
        path: &Path,
        busy_timeout: Duration,
        restart_pages: u32,
        interval: Duration,
        epoch_poll: Option<EpochPoll>,
    ) -> std::io::Result<(Checkpointer, CommitSignal)> {
        let (sender, signals) = mpsc::channel::<Signal>();
        let anchor_state = Arc::new(AnchorState::default());
        let commit_signal = CommitSignal {
            sender: sender.clone(),
            anchor: anchor_state.clone(),
        };
        let path: PathBuf = path.to_owned();
        let thread = std::thread::Builder::new()
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
                // Without the anchor readers lock as they always did: slower, not wrong.
                let anchor = ReadAnchor::open(&path, busy_timeout)
                    .map_err(|e| {
                        tracing::warn!(error = %e, "could not open the SQLite read anchor");
                    })
                    .ok();
                let mut rounds = Rounds {
                    conn: &conn,
                    restart_pages,
                    interval,
                    state: &anchor_state,
                    epoch_poll,
                };
                rounds.run(&signals, anchor);
            })?;
        Ok((
            Checkpointer {
                stop: std::sync::Mutex::new(Some(sender)),
                thread: std::sync::Mutex::new(Some(thread)),
            },
            commit_signal,
        ))
    }

    /// Tells the thread to end (it finishes a checkpoint in progress first).
    pub(super) fn stop(&self) {
        let sender = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(Signal::Stop);
        }
    }

    /// Tells the thread to end and hands over its handle, to wait for it: once it has
    /// ended its connections are closed (the last connection to close checkpoints the
    /// WAL and removes it). `None` the second time.
    pub(super) fn stop_and_take(&self) -> Option<JoinHandle<()>> {
        self.stop();
        self.thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// The thread's loop: a checkpoint round every `interval`, after which the anchor
/// takes the newest snapshot; it lets go as soon as the main file changes.
///
/// Why not follow every commit instead: SQLite starts the WAL over at the first write
/// after a checkpoint has copied all of it, but only if no reader holds a read mark
/// in the WAL then. An anchor that moved to each new snapshot always held one, and
/// under `mixed` the WAL was started over only by the RESTART checkpoint or the
/// writer's backstop at 10,000 pages, each holding the writes across an `fsync`: the
/// writes' p99 went from 4-6 to 25-30 ms (docs/benchmarks.md, item 51). Anchored
/// only between a round and the next change, reads gain under read-mostly loads, and
/// writes find the WAL as they would without the anchor.
struct Rounds<'a> {
    conn: &'a rusqlite::Connection,
    restart_pages: u32,
    interval: Duration,
    state: &'a AnchorState,
    epoch_poll: Option<EpochPoll>,
}

impl Rounds<'_> {
    fn run(&mut self, signals: &mpsc::Receiver<Signal>, mut anchor: Option<ReadAnchor>) {
        loop {
            // Before the anchor is held: the poll must read the newest commit, which
            // it does on the checkpoint connection (the anchor only holds a mark).
            if let Some(poll) = self.epoch_poll.as_mut() {
                poll.poll(self.conn);
            }
            if let Some(anchor) = anchor.as_mut() {
                self.hold(anchor);
            }
            let next_round = Instant::now() + self.interval;
            let mut next_poll = Instant::now() + EPOCH_POLL_INTERVAL;
            loop {
                let wake = match self.epoch_poll {
                    Some(_) => next_round.min(next_poll),
                    None => next_round,
                };
                match signals.recv_timeout(wake.saturating_duration_since(Instant::now())) {
                    Ok(Signal::MainChanged) => {
                        if let Some(anchor) = anchor.as_mut() {
                            anchor.release();
                        }
                    }
                    Err(RecvTimeoutError::Timeout) if Instant::now() >= next_round => break,
                    Err(RecvTimeoutError::Timeout) => {
                        if let Some(poll) = self.epoch_poll.as_mut() {
                            poll.poll(self.conn);
                        }
                        next_poll = Instant::now() + EPOCH_POLL_INTERVAL;
                    }
                    // Told to stop, or the store (every sender) is gone.
                    Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            // The RESTART checkpoint waits for every reader to leave the WAL.
            self.state.held.store(false, Ordering::SeqCst);
            if let Some(anchor) = anchor.as_mut() {
                anchor.release();
            }
            // A busy result (another process is checkpointing) is not an error worth
            // more than a debug line: the next round tries again.
            if let Err(e) = run_round(self.conn, self.restart_pages) {
                tracing::debug!(error = %e, "SQLite WAL checkpoint did not run");
            }
        }
    }

    /// Takes the newest snapshot, and lets go of it again if the main file changed
    /// meanwhile (that change's signal may have found the anchor not yet held).
    fn hold(&self, anchor: &mut ReadAnchor) {
        let kept = self.mark_held_around(|| {
            anchor.hold();
            anchor.is_held()
        });
        if !kept {
            anchor.release();
        }
    }

    /// Runs `take_snapshot` (which says whether it took one) and marks the anchor
    /// held, unless the main file changed while it ran. Returns whether the anchor
    /// may stay held.
    fn mark_held_around(&self, take_snapshot: impl FnOnce() -> bool) -> bool {
        let changes = self.state.changes.load(Ordering::SeqCst);
        if !take_snapshot() {
            return false;
        }
        self.state.held.store(true, Ordering::SeqCst);
        if self.state.changes.load(Ordering::SeqCst) != changes {
            self.state.held.store(false, Ordering::SeqCst);
            return false;
        }
        true
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

    /// A reader on `path` that begins a read transaction (its snapshot: the WAL as it
    /// is now), and ends it once `hold` returns. Returns when the reader has read.
    fn spawn_reader(
        path: std::path::PathBuf,
        hold: impl FnOnce() + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        let (started, reading) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let conn = db::open_reader(&path, Duration::from_secs(5)).unwrap();
            conn.execute_batch("BEGIN").unwrap();
            let _: i64 = conn
                .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
                .unwrap();
            started.send(()).unwrap();
            hold();
            conn.execute_batch("COMMIT").unwrap();
        });
        reading.recv().unwrap();
        reader
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
        let reader = spawn_reader(path, || std::thread::sleep(Duration::from_millis(5)));
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

    /// Under steady writes a passive checkpoint never copies the whole WAL: a reader
    /// that began before the latest commits keeps it from copying them. The round
    /// restarts the WAL all the same (waiting for that reader), where a round that
    /// waited for a passive checkpoint to have copied everything left the WAL to grow
    /// to the writer's backstop.
    #[test]
    fn a_round_restarts_a_wal_a_passive_checkpoint_could_not_copy_whole() {
        let (dir, writer, checkpointer) = wal_database();
        let path = dir.path().join("wal.db");
        let write_pages = |n: usize| {
            for _ in 0..n {
                writer
                    .execute("INSERT INTO t VALUES (printf('%.4000c', 'x'))", [])
                    .unwrap();
            }
        };
        write_pages(50);
        // A reader whose snapshot ends at those 50 commits, until told to finish (and
        // a few milliseconds more, which the RESTART waits for).
        let (go_on, wait) = mpsc::channel::<()>();
        let reader = spawn_reader(path, move || {
            wait.recv().unwrap();
            std::thread::sleep(Duration::from_millis(5));
        });
        write_pages(50);
        let passive = checkpoint(&checkpointer, "main", "PASSIVE").unwrap();
        assert!(
            passive.checkpointed < passive.log,
            "the reader kept the passive checkpoint from copying it all ({passive:?})"
        );

        go_on.send(()).unwrap();
        run_round(&checkpointer, 10).unwrap();
        reader.join().unwrap();
        writer.execute("INSERT INTO t VALUES ('next')", []).unwrap();
        let after = wal_frames(&checkpointer);
        assert!(
            after < 10,
            "the write after the round appended to a WAL of {} frames ({after} now)",
            passive.log
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

    /// Polls `done` every 10 ms for at most `PATIENCE`: a safety net, not a timing
    /// assertion.
    fn eventually(mut done: impl FnMut() -> bool) -> bool {
        const PATIENCE: Duration = Duration::from_secs(20);
        let started = Instant::now();
        while started.elapsed() < PATIENCE {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        done()
    }

    /// Whether a reader holds a mark in the WAL: a RESTART checkpoint (after a few
    /// tries) is busy then.
    fn a_reader_is_in_the_wal(probe: &Connection) -> bool {
        checkpoint(probe, "main", "RESTART").unwrap().busy
    }

    /// The thread takes the anchor at once (and after each round), and lets go of it
    /// at the first change of the main file; a later change is only counted.
    #[test]
    fn the_anchor_is_held_until_the_main_file_changes() {
        let (dir, writer, probe) = wal_database();
        let path = dir.path().join("wal.db");
        for _ in 0..20 {
            writer
                .execute("INSERT INTO t VALUES (printf('%.3000c', 'x'))", [])
                .unwrap();
        }
        // No round during the test: the anchor is held from the start.
        let (checkpointer, signal) = Checkpointer::start(
            &path,
            Duration::from_secs(5),
            10,
            Duration::from_secs(3600),
            None,
        )
        .unwrap();
        assert!(
            eventually(|| signal.anchor.held.load(Ordering::SeqCst)),
            "the anchor was never held"
        );
        assert!(
            a_reader_is_in_the_wal(&probe),
            "the held anchor keeps a read mark in the WAL"
        );

        signal.main_changed();
        assert!(!signal.anchor.held.load(Ordering::SeqCst));
        assert!(
            eventually(|| !a_reader_is_in_the_wal(&probe)),
            "the anchor did not let go after the change"
        );
        signal.main_changed();
        assert_eq!(signal.anchor.changes.load(Ordering::SeqCst), 2);
        assert!(!signal.anchor.held.load(Ordering::SeqCst));

        let thread = checkpointer.stop_and_take().unwrap();
        thread.join().unwrap();
        assert!(checkpointer.stop_and_take().is_none());
    }

    /// A change made while the anchor takes its snapshot is not lost: the anchor does
    /// not stay held on a snapshot that may be older than the change.
    #[test]
    fn a_change_while_the_snapshot_is_taken_lets_go_again() {
        let (dir, _writer, conn) = wal_database();
        let state = AnchorState::default();
        let rounds = Rounds {
            conn: &conn,
            restart_pages: 10,
            interval: Duration::from_secs(3600),
            state: &state,
            epoch_poll: None,
        };
        let mut anchor =
            ReadAnchor::open(&dir.path().join("wal.db"), Duration::from_secs(5)).unwrap();
        rounds.hold(&mut anchor);
        assert!(anchor.is_held() && state.held.load(Ordering::SeqCst));
        anchor.release();

        let kept = rounds.mark_held_around(|| {
            anchor.hold();
            state.changes.fetch_add(1, Ordering::SeqCst);
            anchor.is_held()
        });
        assert!(!kept, "kept a snapshot that may predate a change");
        assert!(!state.held.load(Ordering::SeqCst));
        assert!(
            rounds.mark_held_around(|| true),
            "with no change it is kept"
        );
        assert!(
            !rounds.mark_held_around(|| false),
            "no snapshot, nothing held"
        );
    }
}
