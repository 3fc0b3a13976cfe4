//! The writer thread: one connection, and *group commit*.
//!
//! SQLite allows one writer at a time, and most of a small write's cost is the commit
//! itself: taking the write lock, appending every page it dirtied to the WAL (a page
//! written by eight transactions is appended eight times), then the checkpoint copying
//! those frames back. Under load, writes queue for the writer anyway; so the writer
//! thread takes the first queued write, then every write already waiting behind it (up
//! to [`MAX_GROUP`]), and runs them one after the other in *one* `BEGIN IMMEDIATE`
//! transaction, each after the first inside its own `SAVEPOINT` (the first needs none:
//! while it runs, the transaction holds nothing else):
//!
//! - a write that fails is rolled back to its savepoint (the first: the whole
//!   transaction) and answered at once with its error; the others in the group are
//!   unaffected (SQLite docs, "SAVEPOINT");
//! - a write that succeeds is answered only **after the group's `COMMIT`**, so a client
//!   never sees a success that is not committed, and reads issued after the answer see
//!   the write (readers are on other connections);
//! - if the `COMMIT` fails, every write of the group is answered with that error;
//!   if SQLite rolls the whole transaction back by itself (I/O error, disk full), the
//!   writes that had succeeded are answered with an error too, never with a success.
//!
//! Each write still sees the effects of the writes before it, exactly as if they had
//! committed one by one in queue order: the result is a serial execution. Nothing
//! waits on purpose to form a group: a lone write commits at once, and groups appear
//! only when writes arrive while another commit is running.
//!
//! A write waits in the queue at most `acquire_timeout` (counted from when it was
//! queued); one that waited longer is answered [`StoreError::Unavailable`] without
//! running, as a busy writer was before this thread existed.

use super::checkpoint::CommitSignal;
use super::credential_cache::CredentialWatch;
use super::db;
use super::resource_cache::ResourceCache;
use crate::{StoreError, StoreResult};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The most writes committed in one transaction. Bounds how long the first write of a
/// group waits for its answer behind the others.
pub(super) const MAX_GROUP: usize = 32;

/// Writes that may wait in the queue; a full queue makes callers wait (bounded by
/// `acquire_timeout`), which only happens far past any sane load.
const QUEUE_CAPACITY: usize = 4096;

/// How the writer waits for SQLite's write lock while another connection holds it:
/// the background RESTART checkpoint does, for a few milliseconds across an `fsync`,
/// every time the WAL starts over (`super::checkpoint`), and so does another process
/// writing to the same file (the CLI). SQLite's own busy handler sleeps 1, 2, 5, 10
/// ms... in turn, so a lock held for 3 ms kept the writer, and every write queued
/// behind it, asleep for 8. The writer instead retries every [`SHORT_WAIT`] for the
/// first [`SHORT_TRIES`] tries, then every [`LONG_WAIT`], until the store's
/// `busy_timeout` has passed.
const SHORT_WAIT: Duration = Duration::from_micros(100);
const SHORT_TRIES: u32 = 200;
const LONG_WAIT: Duration = Duration::from_millis(1);

std::thread_local! {
    /// The store's `busy_timeout`, on the writer thread (a busy handler is a plain
    /// `fn`, so it cannot capture it).
    static BUSY_TIMEOUT: std::cell::Cell<Duration> =
        const { std::cell::Cell::new(Duration::from_secs(5)) };
}

/// The writer connection's busy handler: whether to try again after `tries` failed
/// tries (it sleeps first). The time counted is a lower bound of the time slept, so
/// it never gives up before `busy_timeout`.
fn wait_for_the_write_lock(tries: i32) -> bool {
    let tries = u32::try_from(tries).unwrap_or(0);
    let (waited, next) = if tries < SHORT_TRIES {
        (SHORT_WAIT * tries, SHORT_WAIT)
    } else {
        (
            SHORT_WAIT * SHORT_TRIES + LONG_WAIT * (tries - SHORT_TRIES),
            LONG_WAIT,
        )
    };
    if waited >= BUSY_TIMEOUT.with(std::cell::Cell::get) {
        return false;
    }
    std::thread::sleep(next);
    true
}

/// Sends the answer of raw work that ran.
type Answer = Box<dyn FnOnce() + Send>;

/// Sends the answer of a write that ran: given the group's commit outcome.
type Deliver = Box<dyn FnOnce(StoreResult<()>) + Send>;

/// A write as the thread sees it: run it on the connection (or refuse it with an
/// error without running it).
type RunWrite = Box<dyn FnOnce(Result<&Connection, StoreError>) -> Ran + Send>;

/// What running one write left behind.
struct Ran {
    /// Whether its closure returned `Ok` (its savepoint is released, not rolled back).
    succeeded: bool,
    /// Sends its answer: for a success, once the commit outcome is known; for a
    /// failure, its own error (the commit outcome is ignored).
    deliver: Deliver,
}

enum Job {
    /// A write, run in a group's transaction inside its own savepoint.
    Write {
        enqueued_at: Instant,
        run: RunWrite,
        /// Whether it may change the main file (not only the provisioning log's).
        changes_main: bool,
    },
    /// Work outside any transaction (test hooks, maintenance), run alone.
    /// It returns how to send its answer, which waits until the read anchor has been
    /// told about the change.
    Raw(Box<dyn FnOnce(&mut Connection) -> Answer + Send>),
    /// Close the connection (checkpointing the WAL) and end the thread.
    Close(oneshot::Sender<()>),
}

/// How much grouping happened, for diagnostics and tests.
#[derive(Debug, Default)]
struct WriterCounters {
    /// Write transactions begun.
    transactions: AtomicU64,
    /// Writes run in them (failed ones included).
    writes: AtomicU64,
}

/// A snapshot of the writer's counters (see [`super::SqliteStore::writer_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    /// Write transactions begun since the store was opened.
    pub transactions: u64,
    /// Writes run in them, including the ones that failed and were rolled back.
    pub writes: u64,
}

/// The handle to the writer thread. The thread ends when [`Writer::close`] is called
/// or when the handle is dropped (after finishing the writes already queued).
#[derive(Debug)]
pub(super) struct Writer {
    queue: mpsc::Sender<Job>,
    /// True while the thread is running a group or raw work.
    busy: Arc<AtomicBool>,
    counters: Arc<WriterCounters>,
    /// Jobs queued and not yet taken by the thread (see [`Writer::queued`]).
    queued: Arc<AtomicUsize>,
    closed: AtomicBool,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
    acquire_timeout: Duration,
}

fn closed() -> StoreError {
    StoreError::Unavailable("the SQLite store is closed".into())
}

fn timed_out() -> StoreError {
    StoreError::Unavailable("timed out waiting for the SQLite writer".into())
}

fn write_panicked() -> StoreError {
    StoreError::Database("a database write panicked; it was rolled back".into())
}

/// The same error again, for each write of a group whose commit failed.
fn duplicate(err: &StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        other => StoreError::Database(other.to_string()),
    }
}

impl Writer {
    /// Starts the thread that owns `conn` (migrated, in WAL mode). After each
    /// transaction, before it answers, it tells `on_commit` (see [`OnCommit`]).
    pub(super) fn start(
        conn: Connection,
        acquire_timeout: Duration,
        busy_timeout: Duration,
        on_commit: OnCommit,
    ) -> std::io::Result<Writer> {
        let (queue, jobs) = mpsc::channel(QUEUE_CAPACITY);
        let busy = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(WriterCounters::default());
        let queued = Arc::new(AtomicUsize::new(0));
        let thread = {
            let busy = busy.clone();
            let counters = counters.clone();
            let queued = queued.clone();
            std::thread::Builder::new()
                .name("scimd-sqlite-writer".into())
                .spawn(move || {
                    BUSY_TIMEOUT.with(|timeout| timeout.set(busy_timeout));
                    if let Err(e) = conn.busy_handler(Some(wait_for_the_write_lock)) {
                        tracing::warn!(error = %e, "could not set the SQLite writer's busy handler");
                    }
                    let jobs = JobQueue {
                        receiver: jobs,
                        queued,
                    };
                    run_thread(conn, jobs, &busy, &counters, acquire_timeout, &on_commit)
                })?
        };
        Ok(Writer {
            queue,
            busy,
            counters,
            queued,
            closed: AtomicBool::new(false),
            thread: std::sync::Mutex::new(Some(thread)),
            acquire_timeout,
        })
    }

    /// Whether the connection is open, and whether it is idle right now.
    pub(super) fn status(&self) -> (bool, bool) {
        let open = !self.closed.load(Ordering::Relaxed);
        (open, open && !self.busy.load(Ordering::Relaxed))
    }

    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            transactions: self.counters.transactions.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }

    /// How many jobs are queued and not yet taken by the thread, live. A long write
    /// (a provisioning-log batch) checks it to yield the writer to waiting ones.
    pub(super) fn queued(&self) -> Arc<AtomicUsize> {
        self.queued.clone()
    }

    async fn enqueue(&self, job: Job) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        // Counted before the send so the thread can never see the job before the count;
        // uncounted again unless the send completes (an error, a timeout, or a caller
        // that gave up while the queue was full).
        let counted = QueuedCount::add(&self.queued);
        match tokio::time::timeout(self.acquire_timeout, self.queue.send(job)).await {
            Ok(Ok(())) => {
                counted.keep();
                Ok(())
            }
            Ok(Err(_)) => Err(closed()),
            Err(_) => Err(timed_out()),
        }
    }

    /// Runs `write` in a group transaction (see the module docs) and answers once it
    /// is committed, or with its error.
    pub(super) async fn write<T, F>(&self, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.write_to(true, write).await
    }

    /// [`Writer::write`] for a write that changes only the provisioning log's file.
    /// Such commits leave the read anchor where it is ([`super::read_anchor`]); one
    /// that does change the main file only costs readers their shared lock until the
    /// next checkpoint round.
    pub(super) async fn write_log_only<T, F>(&self, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.write_to(false, write).await
    }

    async fn write_to<T, F>(&self, changes_main: bool, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let run: RunWrite = Box::new(move |conn| {
            let conn = match conn {
                Ok(conn) => conn,
                Err(err) => return Ran::failed(answer, err),
            };
            match catch_unwind(AssertUnwindSafe(|| write(conn))) {
                Ok(Ok(value)) => Ran {
                    succeeded: true,
                    deliver: Box::new(move |committed| {
                        // A caller that went away no longer wants the answer.
                        let _ = answer.send(committed.map(|()| value));
                    }),
                },
                Ok(Err(err)) => Ran::failed(answer, err),
                Err(_) => Ran::failed(answer, write_panicked()),
            }
        });
        self.enqueue(Job::Write {
            enqueued_at: Instant::now(),
            run,
            changes_main,
        })
        .await?;
        // The thread answers every job it takes; a dropped answer means it stopped.
        answered.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Runs `work` on the connection outside any transaction, between groups.
    pub(super) async fn raw<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        self.enqueue(Job::Raw(Box::new(move |conn| {
            let result = catch_unwind(AssertUnwindSafe(|| work(conn)))
                .unwrap_or_else(|_| Err(write_panicked()));
            Box::new(move || {
                let _ = answer.send(result);
            })
        })))
        .await?;
        answered.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Finishes the writes already queued, closes the connection (the last connection
    /// to close checkpoints the WAL) and ends the thread. Later writes fail with
    /// [`StoreError::Unavailable`].
    pub(super) async fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let (done, closed) = oneshot::channel();
        // Bypasses `enqueue`, which refuses work once `closed` is set; counted like any
        // job, since the thread uncounts every job it takes.
        let counted = QueuedCount::add(&self.queued);
        if self.queue.send(Job::Close(done)).await.is_ok() {
            counted.keep();
            let _ = closed.await;
        }
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            // The thread has answered Close; joining it only waits for its exit.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// One job counted in [`Writer::queued`]; the count is taken back on drop unless kept.
struct QueuedCount<'a> {
    queued: &'a AtomicUsize,
    kept: bool,
}

impl<'a> QueuedCount<'a> {
    fn add(queued: &'a AtomicUsize) -> Self {
        queued.fetch_add(1, Ordering::Relaxed);
        QueuedCount {
            queued,
            kept: false,
        }
    }

    /// The job is in the queue: the thread takes the count back when it takes the job.
    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for QueuedCount<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Ran {
    fn failed<T: Send + 'static>(answer: oneshot::Sender<StoreResult<T>>, err: StoreError) -> Ran {
        Ran {
            succeeded: false,
            deliver: Box::new(move |_| {
                let _ = answer.send(Err(err));
            }),
        }
    }
}

/// The thread's end of the queue: taking a job uncounts it from [`Writer::queued`],
/// in this one place.
struct JobQueue {
    receiver: mpsc::Receiver<Job>,
    queued: Arc<AtomicUsize>,
}

impl JobQueue {
    /// Waits for the next job; `None` once every handle is gone.
    fn next_blocking(&mut self) -> Option<Job> {
        let job = self.receiver.blocking_recv()?;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        Some(job)
    }

    /// The next job if one is already waiting.
    fn next_waiting(&mut self) -> Option<Job> {
        let job = self.receiver.try_recv().ok()?;
        self.queued.fetch_sub(1, Ordering::Relaxed);
        Some(job)
    }
}

fn run_thread(
    mut conn: Connection,
    mut jobs: JobQueue,
    busy: &AtomicBool,
    counters: &WriterCounters,
    acquire_timeout: Duration,
    on_commit: &OnCommit,
) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.next_blocking() {
                Some(job) => job,
                // Every handle is gone: close the connection by dropping it.
                None => return,
            },
        };
        busy.store(true, Ordering::Relaxed);
        match job {
            Job::Write {
                enqueued_at,
                run,
                changes_main,
            } => {
                let first = First {
                    enqueued_at,
                    run,
                    changes_main,
                };
                next = commit_group(
                    &conn,
                    first,
                    &mut jobs,
                    counters,
                    acquire_timeout,
                    on_commit,
                );
            }
            Job::Raw(work) => {
                end_open_transaction(&conn);
                let answer = work(&mut conn);
                on_commit.ended(&conn, true);
                answer();
            }
            Job::Close(done) => {
                drop(conn);
                let _ = done.send(());
                return;
            }
        }
        busy.store(false, Ordering::Relaxed);
    }
}

/// Who hears of the writer's transactions, after each one ends and before its writes
/// are answered, so that what they keep is up to date by the time a writer's caller
/// can act on the answer.
#[derive(Debug, Default)]
pub(super) struct OnCommit {
    /// The read anchor, which lets go of its snapshot when the main file changes
    /// ([`super::read_anchor`]).
    pub(super) anchor: Option<CommitSignal>,
    /// The credential cache, emptied when a tenant or a token changed
    /// ([`super::credential_cache`]).
    pub(super) credentials: Option<CredentialWatch>,
    /// The resource cache, which removes the users the transaction's writes noted
    /// ([`super::resource_cache`]).
    pub(super) resources: Option<Arc<ResourceCache>>,
}

impl OnCommit {
    /// A transaction on `conn` ended; `may_change_main` unless it only appended to
    /// the log. Told after a failed write too: telling costs less than knowing.
    fn ended(&self, conn: &Connection, may_change_main: bool) {
        if may_change_main {
            if let Some(signal) = &self.anchor {
                signal.main_changed();
            }
        }
        if let Some(credentials) = &self.credentials {
            credentials.after_commit(conn);
        }
        if let Some(resources) = &self.resources {
            resources.after_transaction();
        }
    }
}

/// The write that starts a group.
struct First {
    enqueued_at: Instant,
    run: RunWrite,
    changes_main: bool,
}

/// A transaction left open (a rollback that failed) is ended before new work.
fn end_open_transaction(conn: &Connection) {
    if !conn.is_autocommit() {
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            tracing::warn!(error = %e, "could not roll back a transaction left open");
        }
    }
}

fn execute_cached(conn: &Connection, sql: &str) -> StoreResult<()> {
    db::execute(conn, sql, &[])
        .map(|_| ())
        .map_err(StoreError::from)
}

/// Runs `first` and the writes queued behind it in one transaction and answers them.
/// Returns a non-write job met while gathering, to run next.
fn commit_group(
    conn: &Connection,
    first: First,
    jobs: &mut JobQueue,
    counters: &WriterCounters,
    acquire_timeout: Duration,
    on_commit: &OnCommit,
) -> Option<Job> {
    let First {
        enqueued_at,
        run: first,
        mut changes_main,
    } = first;
    end_open_transaction(conn);
    if enqueued_at.elapsed() > acquire_timeout {
        (first(Err(timed_out())).deliver)(Ok(()));
        return None;
    }
    // BEGIN IMMEDIATE waits (busy_timeout) for another process holding the write lock.
    if let Err(err) = execute_cached(conn, "BEGIN IMMEDIATE") {
        (first(Err(err)).deliver)(Ok(()));
        return None;
    }
    counters.transactions.fetch_add(1, Ordering::Relaxed);
    counters.writes.fetch_add(1, Ordering::Relaxed);
    // The first write runs without a savepoint: if it fails, the transaction holds
    // nothing else, so rolling all of it back is the same, and a savepoint costs a copy
    // of every page the write touches (the statement journal).
    let ran = first(Ok(conn));
    if !ran.succeeded || conn.is_autocommit() {
        let lost_too = ran.succeeded;
        end_open_transaction(conn);
        (ran.deliver)(if lost_too { Err(lost()) } else { Ok(()) });
        return None;
    }
    let mut committed_answers: Vec<Deliver> = vec![ran.deliver];
    let mut left_over = None;
    while committed_answers.len() < MAX_GROUP {
        let (enqueued_at, run) = match jobs.next_waiting() {
            Some(Job::Write {
                enqueued_at,
                run,
                changes_main: changes,
            }) => {
                changes_main |= changes;
                (enqueued_at, run)
            }
            Some(other) => {
                left_over = Some(other);
                break;
            }
            None => break,
        };
        counters.writes.fetch_add(1, Ordering::Relaxed);
        if enqueued_at.elapsed() > acquire_timeout {
            (run(Err(timed_out())).deliver)(Ok(()));
        } else if let Err(err) = run_in_savepoint(conn, run, &mut committed_answers) {
            // SQLite rolled the whole transaction back: nothing of the group stands.
            for answer in committed_answers.drain(..) {
                answer(Err(duplicate(&err)));
            }
            return left_over;
        }
    }
    let committed = execute_cached(conn, "COMMIT");
    if committed.is_err() {
        end_open_transaction(conn);
    }
    // Told before the answers: the anchor lets go as early as it can, and a revoked
    // token is out of the credential cache before the revocation is answered.
    on_commit.ended(conn, changes_main);
    for answer in committed_answers {
        answer(match &committed {
            Ok(()) => Ok(()),
            Err(err) => Err(duplicate(err)),
        });
    }
    left_over
}

/// Runs one write inside a savepoint. Its answer is sent now if it failed, else kept in
/// `committed_answers` until the commit. `Err` means the enclosing transaction is gone.
fn run_in_savepoint(
    conn: &Connection,
    run: RunWrite,
    committed_answers: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    if let Err(err) = execute_cached(conn, "SAVEPOINT scimd_write") {
        (run(Err(duplicate(&err))).deliver)(Ok(()));
        return if conn.is_autocommit() {
            Err(err)
        } else {
            Ok(())
        };
    }
    let ran = run(Ok(conn));
    if conn.is_autocommit() {
        // Some errors (I/O, full disk, out of memory) make SQLite roll back the whole
        // transaction, savepoints included.
        (ran.deliver)(Err(lost()));
        return Err(lost());
    }
    let ended = if ran.succeeded {
        execute_cached(conn, "RELEASE scimd_write")
    } else {
        execute_cached(conn, "ROLLBACK TO scimd_write")
            .and_then(|()| execute_cached(conn, "RELEASE scimd_write"))
    };
    match ended {
        Ok(()) if ran.succeeded => committed_answers.push(ran.deliver),
        Ok(()) => (ran.deliver)(Ok(())),
        Err(err) => {
            // The savepoint could not be ended, so what the transaction holds cannot be
            // vouched for: roll all of it back and fail the group.
            (ran.deliver)(Err(duplicate(&err)));
            end_open_transaction(conn);
            return Err(err);
        }
    }
    Ok(())
}

fn lost() -> StoreError {
    StoreError::Database(
        "SQLite rolled the write transaction back (I/O error or full disk); nothing was written"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer retries in short steps first, then in longer ones, and gives up
    /// once the time it has slept reaches `busy_timeout`, not before.
    #[test]
    fn the_busy_handler_gives_up_at_the_busy_timeout() {
        BUSY_TIMEOUT.with(|timeout| timeout.set(Duration::from_millis(2)));
        assert!(wait_for_the_write_lock(0));
        assert!(wait_for_the_write_lock(19), "1.9 ms slept");
        assert!(!wait_for_the_write_lock(20), "2 ms slept");
        BUSY_TIMEOUT.with(|timeout| timeout.set(Duration::from_millis(30)));
        assert!(
            wait_for_the_write_lock(199),
            "19.9 ms slept, in short steps"
        );
        assert!(wait_for_the_write_lock(209), "29 ms slept");
        assert!(!wait_for_the_write_lock(210), "30 ms slept");
        assert!(!wait_for_the_write_lock(i32::MAX));
    }

    /// Writes tell the read anchor that the main file changed; the provisioning log's
    /// appends, which change only the log's file, do not.
    #[tokio::test]
    async fn only_writes_that_may_change_the_main_file_are_signalled() {
        let dir = tempfile::tempdir().unwrap();
        let conn = db::open_writer(&dir.path().join("w.db"), Duration::from_secs(5)).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER); CREATE TABLE logs.l (x INTEGER);")
            .unwrap();
        let signal = CommitSignal::unheard();
        let on_commit = OnCommit {
            anchor: Some(signal.clone()),
            credentials: None,
            resources: None,
        };
        let writer = Writer::start(
            conn,
            Duration::from_secs(5),
            Duration::from_secs(5),
            on_commit,
        )
        .unwrap();

        writer
            .write_log_only(|conn| Ok(conn.execute("INSERT INTO logs.l VALUES (1)", [])?))
            .await
            .unwrap();
        assert_eq!(signal.changes(), 0);
        writer
            .write(|conn| Ok(conn.execute("INSERT INTO t VALUES (1)", [])?))
            .await
            .unwrap();
        assert_eq!(signal.changes(), 1);
        writer.raw(|_| Ok(())).await.unwrap();
        assert_eq!(signal.changes(), 2, "raw work may change anything");
        writer.close().await;
    }
}
