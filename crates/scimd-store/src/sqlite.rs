//! The SQLite backend, on rusqlite (bundled SQLite).
//!
//! One database file in WAL mode, and the provisioning log in a second one, attached
//! as `logs` on every connection (see `db::log_path` for why). Writes go to one writer connection, in `BEGIN
//! IMMEDIATE` transactions: SQLite allows one writer at a time anyway, and taking the
//! write lock up front means a transaction never fails half-way with SQLITE_BUSY when
//! it upgrades from reading to writing. Concurrent writes share a transaction (group
//! commit), each in its own savepoint, so each is still atomic on its own. Reads use a bounded pool of
//! read-only connections, which WAL lets run alongside the writer.
//!
//! Connections run with `synchronous=NORMAL` (durable at checkpoints, safe against
//! corruption in WAL mode), foreign keys on, a busy timeout, and a prepared-statement
//! cache (every statement goes through `prepare_cached`).
//!
//! ## Execution model
//!
//! rusqlite is synchronous, so every [`Store`] method runs *all* its statements as one
//! closure on one connection: there is no await between statements. (sqlx's SQLite
//! driver ran each connection on a worker thread and crossed threads through a channel
//! for every statement and every row; that hand-off was most of the CPU of a read.)
//!
//! - **Writes** go to the writer thread ([`writer`]), which owns the writer connection
//!   and commits writes in groups: the first queued write and those waiting behind it
//!   run in one `BEGIN IMMEDIATE` transaction, each in its own savepoint, and each is
//!   answered after the commit (or at once with its own error). A write waits in the
//!   queue at most `acquire_timeout`, else [`StoreError::Unavailable`]. Waiting for
//!   SQLite's write lock (another process on the same file) happens on that thread,
//!   under `busy_timeout`, never on the async runtime. An error or a panic rolls the
//!   write back to its savepoint; a panic is [`StoreError::Database`], never a panic in
//!   the caller.
//! - **Reads** take a read-only connection (a semaphore bounds them to `readers`,
//!   waited for at most `acquire_timeout`), run all their statements in one deferred
//!   transaction (one snapshot: a resource and its groups, a count and its page,
//!   agree), and run in one of two ways, chosen per call
//!   with [`Hop`]: point reads (a tenant, a token, one resource without a group's
//!   members, `userName eq`-style lookups with small pages) run inline on the calling
//!   task, because a WAL read never waits for the writer and costs microseconds, less
//!   than the hop itself; reads that can be large (a group's members, list pages,
//!   counts over a tenant, logs) hop to a blocking thread so they cannot stall the
//!   runtime's workers.
//! - **Authentication's read** (a tenant with one of its tokens) is answered from
//!   memory when it can ([`credential_cache`]): the writer empties that cache when a
//!   tenant or token changes, and the checkpoint thread when another process changed
//!   one.
//! - **A lookup of a name no row has** (`userName eq`, a group's `displayName eq`) is
//!   answered from memory by the file's one server ([`known_names`],
//!   [`SqliteOptions::sole_server`]).
//! - **A user read again** (`GET /Users/{id}`, a `userName eq` lookup of a name a row
//!   has) is answered from memory by the file's one server ([`resource_cache`]): the
//!   writer removes a user from it after a write that changes it commits, and before
//!   that write is answered.

mod checkpoint;
mod credential_cache;
mod credentials;
mod db;
mod known_names;
mod logs;
mod members;
mod migrate;
mod read_anchor;
mod resource_cache;
mod resources;
mod tenants;
mod writer;

pub use credential_cache::CredentialCacheStats;
pub use resource_cache::ResourceCacheStats;
/// The rusqlite this backend is built on, for the test hooks [`SqliteStore::with_reader`]
/// and [`SqliteStore::with_writer`].
pub use rusqlite;
pub use writer::WriterStats;

use crate::sql::SqliteDialect;
use crate::{
    AccessTokenRecord, AdminKeyRecord, Fetch, ListPage, ListQuery, NewResource, NewTenant,
    OAuthClientRecord, Store, StoreError, StoreResult, StoredResource, Tenant, TenantUpdate,
    TokenRecord, UpdateFn,
};
use async_trait::async_trait;
use rusqlite::Connection;
use scimd_protocol::paging::PageRequest;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Tuning of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// How many read-only connections to keep.
    pub readers: u32,
    /// How long a statement waits for a lock before failing with SQLITE_BUSY
    /// (reported as [`StoreError::Unavailable`]).
    pub busy_timeout: Duration,
    /// How long a request waits for a free connection (then also `Unavailable`).
    pub acquire_timeout: Duration,
    /// Which optional uniqueness rules apply.
    pub uniqueness: crate::UniquenessOptions,
    /// WAL length, in pages, past which the background checkpoint makes the WAL start
    /// over (see the `checkpoint` module). Bounds the WAL file under steady load; a
    /// test setting, the default suits production.
    pub wal_restart_pages: u32,
    /// This store is the file's one server (`scimd serve`), not a short command: it
    /// holds an exclusive lock on `<database>-server.lock` while open (a second server
    /// on the file fails to open with [`StoreError::Unavailable`]), and since no other
    /// process then writes users or groups, it answers lookups of names no row has
    /// from memory ([`known_names`]).
    pub sole_server: bool,
    /// The most user and group names kept in memory when `sole_server` is set (past
    /// it, lookups read the database). A test setting; the default suits production.
    pub known_names_limit: usize,
    /// How many bytes of users the file's one server keeps in memory to answer reads
    /// of them again ([`resource_cache`]); 0 turns the cache off. Only with
    /// `sole_server`.
    pub resource_cache_bytes: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            uniqueness: crate::UniquenessOptions::default(),
            wal_restart_pages: checkpoint::RESTART_PAGES,
            sole_server: false,
            known_names_limit: known_names::MAX_NAMES,
            resource_cache_bytes: resource_cache::DEFAULT_LIMIT_BYTES,
        }
    }
}

/// Provisioning-log entries appended per write (see [`SqliteStore::append_request_logs`]).
const LOG_APPEND_CHUNK: usize = 25;

/// Where a read runs. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    /// On the calling task: for point reads, which cost less than a thread hop.
    Inline,
    /// On a blocking thread: for reads whose size the caller does not bound.
    Blocking,
}

/// How a read's statements share a snapshot of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Snapshot {
    /// Several statements: one deferred transaction around them ([`in_one_snapshot`]).
    Transaction,
    /// Exactly one statement, which autocommit mode gives its own snapshot.
    Statement,
}

/// The SQLite implementation of [`Store`]. Clones share the connections.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    shared: Arc<Shared>,
    uniqueness: crate::UniquenessOptions,
}

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    busy_timeout: Duration,
    acquire_timeout: Duration,
    /// The writer thread, which owns the one writer connection (see [`writer`]).
    writer: writer::Writer,
    /// Idle read-only connections (opened on demand, up to `max_readers`).
    readers: std::sync::Mutex<Readers>,
    /// One permit per reader that may be in use; closed by [`SqliteStore::close`].
    read_permits: Arc<Semaphore>,
    max_readers: u32,
    /// The background WAL checkpoint; stops when the store is closed or dropped.
    checkpointer: Option<checkpoint::Checkpointer>,
    /// Tenants and tokens as authentication reads them; `None` when the checkpoint
    /// thread did not start, since without it another process's changes would go
    /// unseen.
    credentials: Option<Arc<credential_cache::CredentialCache>>,
    /// The names rows may have; `None` unless this store is the file's one server.
    known_names: Option<Arc<known_names::KnownNames>>,
    /// Users as reads found them; `None` unless this store is the file's one server
    /// and the credential cache is on (whose emptying, on any tenant change by any
    /// process, empties this one too).
    resources: Option<Arc<resource_cache::ResourceCache>>,
    /// The server lock (`sole_server`), released when the store is dropped.
    _server_lock: Option<std::fs::File>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop();
        }
    }
}

#[derive(Debug, Default)]
struct Readers {
    idle: Vec<Connection>,
    open: u32,
    closed: bool,
}

/// Takes the exclusive server lock of the database at `path` (a file of its own next
/// to it: SQLite's locks on the database file are POSIX locks, which a second lock of
/// ours on the same file would disturb). Held until the returned file is dropped; the
/// kernel releases it when the process ends, however it ends.
fn lock_as_server(path: &Path) -> StoreResult<std::fs::File> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push("-server.lock");
    let lock_path = PathBuf::from(lock_path);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            StoreError::Unavailable(format!("could not open {}: {e}", lock_path.display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
            "another scimd server is serving {} (it holds {}); one server per SQLite \
             database, use PostgreSQL for several",
            path.display(),
            lock_path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Unavailable(format!(
            "could not lock {}: {e}",
            lock_path.display()
        ))),
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the SQLite store is closed".into())
}

/// Whether `query` asks for the first page with room for at least one resource:
/// then a lookup that matches one resource answers it whole.
fn first_page_of_one_or_more(query: &ListQuery<'_>) -> bool {
    matches!(query.page, PageRequest::Index { start_index, count } if start_index <= 1 && count >= 1)
}

/// Notes in the resource cache, on the writer thread inside the write's transaction,
/// which cached users the write of `id` may change: that user, or for a group every
/// user of its tenant (their `groups`).
fn note_written(
    cache: Option<&resource_cache::ResourceCache>,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
) {
    match (cache, kind) {
        (None, _) => {}
        (Some(cache), ResourceKind::User) => cache.note_user(tenant, id),
        (Some(cache), ResourceKind::Group) => cache.note_tenant(tenant),
    }
}

/// A panicked or cancelled blocking task: an internal error, reported, not re-raised.
fn join_error(err: tokio::task::JoinError) -> StoreError {
    StoreError::Database(format!("a database task failed: {err}"))
}

fn panicked() -> StoreError {
    StoreError::Database("a database read panicked".into())
}

impl Shared {
    /// An idle reader, or a new one (the caller holds a permit, so at most
    /// `max_readers` are open).
    fn take_reader(&self) -> StoreResult<Connection> {
        {
            let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if readers.closed {
                return Err(closed());
            }
            if let Some(conn) = readers.idle.pop() {
                return Ok(conn);
            }
            readers.open += 1;
        }
        db::open_reader(&self.path, self.busy_timeout).map_err(|err| {
            self.readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .open -= 1;
            err.into()
        })
    }

    /// Returns a reader to the pool; one whose closure panicked is closed instead, as
    /// are all once the store is closed.
    fn give_back(&self, conn: Connection, healthy: bool) {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if healthy && !readers.closed {
            readers.idle.push(conn);
        } else {
            readers.open = readers.open.saturating_sub(1);
            drop(readers);
            drop(conn);
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options and
    /// applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, &SqliteOptions::default()).await
    }

    /// Opens the database at `path` with the given options.
    pub async fn open_with(path: &Path, options: &SqliteOptions) -> StoreResult<Self> {
        // Before anything else: a second server must not even migrate the file.
        let server_lock = if options.sole_server {
            Some(lock_as_server(path)?)
        } else {
            None
        };
        let writer_path = path.to_owned();
        let busy_timeout = options.busy_timeout;
        // Opening creates the file and switches it to WAL; migrations run on the writer.
        // Readers open later, on demand, read-only.
        let (writer, epoch) =
            tokio::task::spawn_blocking(move || -> StoreResult<(Connection, i64)> {
                let mut conn = db::open_writer(&writer_path, busy_timeout)?;
                migrate::run(&mut conn)?;
                // Read before anything can be cached: the poll starts from it.
                let epoch = credential_cache::read_epoch(&conn)?;
                let orphans = logs::remove_orphans(&conn)?;
                if orphans > 0 {
                    tracing::info!(
                        entries = orphans,
                        "removed provisioning-log entries of deleted tenants"
                    );
                }
                Ok((conn, epoch))
            })
            .await
            .map_err(join_error)??;
        let credentials = Arc::new(credential_cache::CredentialCache::default());
        // Without the thread the writer's backstop checkpoints alone: slower, not wrong.
        let (checkpointer, anchor) = match checkpoint::Checkpointer::start(
            path,
            busy_timeout,
            options.wal_restart_pages,
            checkpoint::CHECKPOINT_INTERVAL,
            Some(credential_cache::EpochPoll::new(credentials.clone(), epoch)),
        ) {
            Ok((checkpointer, signal)) => (Some(checkpointer), Some(signal)),
            Err(e) => {
                tracing::warn!(error = %e, "could not start the SQLite checkpoint thread");
                (None, None)
            }
        };
        // The cache is used only with the thread that sees other processes' changes.
        let credentials = checkpointer.is_some().then_some(credentials);
        let resources = credentials
            .as_ref()
            .filter(|_| options.sole_server && options.resource_cache_bytes > 0)
            .map(|credentials| {
                let cache = Arc::new(resource_cache::ResourceCache::new(
                    options.resource_cache_bytes,
                ));
                credentials.also_empty(cache.clone());
                cache
            });
        let on_commit = writer::OnCommit {
            anchor,
            resources: resources.clone(),
            credentials: credentials
                .clone()
                .map(|cache| credential_cache::CredentialWatch::install(&writer, cache)),
        };
        let writer =
            writer::Writer::start(writer, options.acquire_timeout, busy_timeout, on_commit)
                .map_err(|e| {
                    StoreError::Database(format!("could not start the SQLite writer: {e}"))
                })?;
        let max_readers = options.readers.max(1);
        let known_names = options
            .sole_server
            .then(|| Arc::new(known_names::KnownNames::new(options.known_names_limit)));
        let store = SqliteStore {
            shared: Arc::new(Shared {
                path: path.to_owned(),
                busy_timeout,
                acquire_timeout: options.acquire_timeout,
                writer,
                readers: std::sync::Mutex::new(Readers::default()),
                read_permits: Arc::new(Semaphore::new(
                    usize::try_from(max_readers).unwrap_or(usize::MAX),
                )),
                max_readers,
                checkpointer,
                credentials,
                known_names,
                resources,
                _server_lock: server_lock,
            }),
            uniqueness: options.uniqueness,
        };
        if let Some(names) = store.shared.known_names.clone() {
            // Raw work runs between write groups on the writer connection, so the load
            // sees every committed row and no write runs meanwhile (`known_names`'
            // invariant). Until it has run, lookups read the database; nothing waits
            // for it but the writes queued behind it.
            let shared = store.shared.clone();
            tokio::spawn(async move {
                let loaded = shared
                    .writer
                    .raw(move |conn| known_names::load(conn, &names))
                    .await;
                if let Err(e) = loaded {
                    tracing::warn!(error = %e, "could not load the user and group names");
                }
            });
        }
        Ok(store)
    }

    /// Runs `read` on a read-only connection, inline or on a blocking thread.
    async fn read<T, F>(&self, hop: Hop, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.read_in(hop, Snapshot::Transaction, read).await
    }

    /// A read that is one statement, on the calling task. A statement in autocommit
    /// mode already reads one snapshot, so it runs without the `BEGIN` and `COMMIT`
    /// around it: two statements fewer on the hot path (authentication is one).
    async fn read_one_statement<T, F>(&self, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.read_in(Hop::Inline, Snapshot::Statement, read).await
    }

    async fn read_in<T, F>(&self, hop: Hop, snapshot: Snapshot, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let permit = tokio::time::timeout(
            self.shared.acquire_timeout,
            self.shared.read_permits.clone().acquire_owned(),
        )
        .await
        .map_err(|_| {
            StoreError::Unavailable("timed out waiting for an SQLite read connection".into())
        })?
        .map_err(|_| closed())?;
        let conn = self.shared.take_reader()?;
        let run = move |shared: &Shared, conn: Connection| {
            let result = catch_unwind(AssertUnwindSafe(|| match snapshot {
                Snapshot::Transaction => in_one_snapshot(&conn, read),
                Snapshot::Statement => read(&conn),
            }));
            // Only a connection back in autocommit is reused: a later read must not
            // inherit a transaction (and its old snapshot) this one left open.
            let healthy = result.is_ok() && conn.is_autocommit();
            shared.give_back(conn, healthy);
            result.unwrap_or_else(|_| Err(panicked()))
        };
        match hop {
            Hop::Inline => {
                let result = run(&self.shared, conn);
                drop(permit);
                result
            }
            Hop::Blocking => {
                let shared = self.shared.clone();
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    run(&shared, conn)
                })
                .await
                .map_err(join_error)?
            }
        }
    }

    /// Runs `work` on the writer connection, on the writer thread, outside any
    /// transaction.
    async fn on_writer<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let done = self.shared.writer.raw(work).await;
        // Raw work may change anything (test hooks, maintenance).
        if let Some(cache) = &self.shared.resources {
            cache.invalidate();
        }
        done
    }

    /// Runs `write` in the writer's transaction (grouped with other writes, inside its
    /// own savepoint; see [`writer`]): answered once committed, rolled back when it
    /// fails or panics.
    async fn write<T, F>(&self, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.shared.writer.write(write).await
    }

    /// How many write transactions the writer has begun and how many writes ran in
    /// them: `writes / transactions` is the average group size (see [`writer`]).
    pub fn writer_stats(&self) -> WriterStats {
        self.shared.writer.stats()
    }

    /// How many name lookups were answered "no such name" from memory
    /// ([`known_names`]), and whether lookups are answered so now; `None` unless the
    /// store is the file's one server.
    pub fn known_names_stats(&self) -> Option<(u64, bool)> {
        self.shared
            .known_names
            .as_ref()
            .map(|names| (names.answered_absent(), names.is_ready()))
    }

    /// How often authentication's read was answered from memory
    /// ([`credential_cache`]); `None` when the cache is off.
    pub fn credential_cache_stats(&self) -> Option<CredentialCacheStats> {
        self.shared.credentials.as_ref().map(|cache| cache.stats())
    }

    /// The resource cache, for reads of `kind` (users only).
    fn user_cache(&self, kind: ResourceKind) -> Option<&resource_cache::ResourceCache> {
        match kind {
            ResourceKind::User => self.shared.resources.as_deref(),
            ResourceKind::Group => None,
        }
    }

    /// How often a user's read was answered from memory ([`resource_cache`]); `None`
    /// when the cache is off.
    pub fn resource_cache_stats(&self) -> Option<ResourceCacheStats> {
        self.shared.resources.as_ref().map(|cache| cache.stats())
    }

    /// For tests and maintenance: runs `f` on a read-only connection (on a blocking
    /// thread), e.g. to inspect query plans or count rows.
    pub async fn with_reader<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.read(Hop::Blocking, move |conn| Ok(f(conn)?)).await
    }

    /// For tests and maintenance: runs `f` on the writer connection (on the writer
    /// thread, outside any transaction), e.g. `ANALYZE` or raw SQL.
    pub async fn with_writer<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.on_writer(move |conn| Ok(f(conn)?)).await
    }

    /// The migrations applied to the database, in order.
    pub(crate) async fn migration_versions(&self) -> StoreResult<Vec<i64>> {
        self.read(Hop::Inline, migrate::versions).await
    }

    /// The query plans (`EXPLAIN QUERY PLAN` detail lines) of the two statements a
    /// [`Store::list`] call would run: the count, then the page. For tests and for
    /// operators checking that a filter uses an index.
    pub async fn explain_list(
        &self,
        tenant: &str,
        kind: ResourceKind,
        registry: &SchemaRegistry,
        query: &ListQuery<'_>,
    ) -> StoreResult<(Vec<String>, Vec<String>)> {
        let plan = crate::sql::plan_list(&DIALECT, tenant, kind, registry, query)?;
        self.read(Hop::Blocking, move |conn| {
            let count = query_plan(conn, &plan.count_sql, plan.count_binds.values())?;
            let page = query_plan(conn, &plan.page_sql, plan.page_binds.values())?;
            Ok((count, page))
        })
        .await
    }

    /// The query plan of the provisioning-log page [`Store::list_request_logs`] would
    /// run: every filter must walk the tenant's `(at, seq)` index newest first, with
    /// no sort step, so a page stops reading as soon as it is full.
    pub async fn explain_log_list(
        &self,
        tenant: &str,
        query: &crate::LogQuery,
    ) -> StoreResult<Vec<String>> {
        let (sql, binds) = crate::sql::log_query::plan_list(tenant, query)?;
        self.read(Hop::Blocking, move |conn| {
            query_plan(conn, &sql, binds.values())
        })
        .await
    }

    /// Closes every connection (the last one to close checkpoints the WAL). Calls
    /// afterwards fail with [`StoreError::Unavailable`].
    pub async fn close(&self) {
        if let Some(checkpointer) = &self.shared.checkpointer {
            if let Some(thread) = checkpointer.stop_and_take() {
                // Bounded: a round in progress ends within its retries. A panic in the
                // thread has been reported by the panic hook already.
                let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            }
        }
        // Reads still running first, within a bound: a blocking read whose caller was
        // cancelled (a background task aborted at shutdown) keeps its connection, and
        // its permit, until it ends. A reader still open when the writer closes keeps
        // SQLite from folding the WAL into the database file, so a backup of the
        // stopped server's database files would miss what the WAL held.
        let _ = tokio::time::timeout(
            self.shared.acquire_timeout,
            self.shared
                .read_permits
                .acquire_many(self.shared.max_readers),
        )
        .await;
        self.shared.read_permits.close();
        let idle = {
            let mut readers = self
                .shared
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            readers.closed = true;
            readers.open = readers
                .open
                .saturating_sub(u32::try_from(readers.idle.len()).unwrap_or(u32::MAX));
            std::mem::take(&mut readers.idle)
        };
        drop(idle);
        // Closing the last connection checkpoints the WAL, on the writer thread.
        self.shared.writer.close().await;
    }
}

/// Runs a read inside one deferred transaction, so all its statements see one
/// snapshot of the database. In autocommit each statement takes its own snapshot: a
/// user and its groups, or a list's `totalResults` and its page, could then come from
/// either side of a concurrent commit. It is also cheaper: the WAL read lock (a shared
/// memory lock, often an `fcntl`) is taken and released once per read, not once per
/// statement.
fn in_one_snapshot<T>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    db::execute(conn, "BEGIN DEFERRED", &[])?;
    let result = read(conn);
    if conn.is_autocommit() {
        // SQLite already ended the transaction (some errors roll it back).
        return result;
    }
    let ended = db::execute(conn, "COMMIT", &[]);
    match (result, ended) {
        (Ok(value), Ok(_)) => Ok(value),
        (Ok(_), Err(err)) => Err(err.into()),
        (Err(err), _) => Err(err),
    }
}

/// The `EXPLAIN QUERY PLAN` detail lines of a statement.
fn query_plan(
    conn: &Connection,
    sql: &str,
    binds: &[crate::sql::Bind],
) -> StoreResult<Vec<String>> {
    db::query_all(
        conn,
        &format!("EXPLAIN QUERY PLAN {sql}"),
        &db::args_of(binds),
        |row| Ok(row.get("detail")?),
    )
}

/// The migrations recorded in the SQLite file at `path` (none before the first),
/// read through a read-only connection of its own, without migrating.
pub(crate) fn recorded_migrations(path: &Path) -> StoreResult<Vec<i64>> {
    let conn = db::open_file(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let known = db::query_opt(
        &conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        &[],
        |_| Ok(()),
    )?;
    match known {
        Some(()) => migrate::versions(&conn),
        None => Ok(Vec::new()),
    }
}

/// The dialect this backend compiles filters with.
pub(crate) const DIALECT: SqliteDialect = SqliteDialect;

/// Where a read of one resource runs: a group's members can be many rows.
fn get_hop(kind: ResourceKind, fetch: Fetch) -> Hop {
    if kind == ResourceKind::Group && fetch.members {
        Hop::Blocking
    } else {
        Hop::Inline
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn close(&self) {
        SqliteStore::close(self).await;
    }

    fn pool_status(&self) -> Vec<crate::PoolStatus> {
        let writer_open = {
            let (open, idle) = self.shared.writer.status();
            (u32::from(open), u32::from(idle))
        };
        let readers = self
            .shared
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        vec![
            crate::PoolStatus {
                name: "writer",
                open: writer_open.0,
                idle: writer_open.1,
                max: 1,
            },
            crate::PoolStatus {
                name: "readers",
                open: readers.open,
                idle: u32::try_from(readers.idle.len()).unwrap_or(u32::MAX),
                max: self.shared.max_readers,
            },
        ]
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(Hop::Inline, |conn| {
            db::query_scalar::<i64>(conn, "SELECT 1", &[])?;
            Ok(())
        })
        .await
    }

    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<Tenant> {
        let tenant = tenant.clone();
        self.write(move |conn| tenants::create_tenant(conn, &tenant))
            .await
    }

    async fn get_tenant(&self, id: &str) -> StoreResult<Option<Tenant>> {
        let id = id.to_owned();
        self.read_one_statement(move |conn| tenants::get_tenant(conn, &id))
            .await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.read(Hop::Blocking, tenants::list_tenants).await
    }

    async fn update_tenant(&self, id: &str, update: &TenantUpdate) -> StoreResult<Tenant> {
        let (id, update) = (id.to_owned(), update.clone());
        self.write(move |conn| tenants::update_tenant(conn, &id, &update))
            .await
    }

    async fn delete_tenant(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.write(move |conn| tenants::delete_tenant(conn, &id))
            .await
    }

    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()> {
        let token = token.clone();
        self.write(move |conn| tenants::insert_token(conn, &token, None))
            .await
    }

    async fn get_token(&self, tenant: &str, token_id: &str) -> StoreResult<Option<TokenRecord>> {
        let (tenant, token_id) = (tenant.to_owned(), token_id.to_owned());
        self.read(Hop::Inline, move |conn| {
            tenants::get_token(conn, &tenant, &token_id)
        })
        .await
    }

    async fn get_tenant_with_token(
        &self,
        tenant: &str,
        token_id: &str,
    ) -> StoreResult<Option<(Tenant, Option<TokenRecord>)>> {
        let cache = self.shared.credentials.as_ref();
        // Taken before the read: see `credential_cache` on why.
        let generation = cache.map(|cache| cache.generation());
        if let Some(cached) = cache.and_then(|cache| cache.get(tenant, token_id)) {
            return Ok(Some(cached));
        }
        let (tenant, token_id) = (tenant.to_owned(), token_id.to_owned());
        let read = self
            .read_one_statement(move |conn| {
                tenants::get_tenant_with_token(conn, &tenant, &token_id)
            })
            .await?;
        if let (Some(cache), Some(generation)) = (cache, generation) {
            cache.insert(generation, &read);
        }
        Ok(read)
    }

    async fn list_tokens(&self, tenant: &str) -> StoreResult<Vec<TokenRecord>> {
        let tenant = tenant.to_owned();
        self.read(Hop::Blocking, move |conn| {
            tenants::list_tokens(conn, &tenant)
        })
        .await
    }

    async fn revoke_token(
        &self,
        tenant: &str,
        token_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        let (tenant, token_id) = (tenant.to_owned(), token_id.to_owned());
        self.write(move |conn| tenants::revoke_token(conn, &tenant, &token_id, at))
            .await
    }

    async fn touch_tokens(&self, used: &[(String, time::OffsetDateTime)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        let used = used.to_vec();
        self.write(move |conn| tenants::touch_tokens(conn, &used))
            .await
    }

    async fn create(
        &self,
        tenant: &str,
        kind: ResourceKind,
        new: NewResource,
        fetch: Fetch,
    ) -> StoreResult<StoredResource> {
        let (tenant, uniqueness) = (tenant.to_owned(), self.uniqueness);
        let names = self.shared.known_names.clone();
        let cache = self.shared.resources.clone();
        let prepared = resources::prepare_create(kind, new)?;
        self.write(move |conn| {
            let names = names.as_deref();
            let created = resources::create(conn, &uniqueness, names, &tenant, prepared, fetch)?;
            note_written(cache.as_deref(), &tenant, kind, &created.id);
            Ok(created)
        })
        .await
    }

    async fn get(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        fetch: Fetch,
    ) -> StoreResult<Option<StoredResource>> {
        if crate::sql::get_is_one_statement(kind, fetch) {
            let cache = self.user_cache(kind);
            if let Some(hit) = cache.and_then(|cache| cache.get(tenant, id, fetch)) {
                return Ok(Some(hit));
            }
            let generation = cache.map(|cache| cache.generation());
            let (owned_tenant, owned_id) = (tenant.to_owned(), id.to_owned());
            let found = self
                .read_one_statement(move |conn| {
                    resources::get_in_one_statement(conn, &owned_tenant, kind, &owned_id, fetch)
                })
                .await?;
            if let (Some(cache), Some(generation), Some(user)) = (cache, generation, &found) {
                cache.insert(generation, tenant, fetch, user, None);
            }
            return Ok(found);
        }
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        self.read(get_hop(kind, fetch), move |conn| {
            resources::get(conn, &tenant, kind, &id, fetch)
        })
        .await
    }

    async fn update(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        if_match: Option<u64>,
        change: UpdateFn,
        fetch: Fetch,
    ) -> StoreResult<StoredResource> {
        let (tenant, id, uniqueness) = (tenant.to_owned(), id.to_owned(), self.uniqueness);
        let names = self.shared.known_names.clone();
        let cache = self.shared.resources.clone();
        self.write(move |conn| {
            note_written(cache.as_deref(), &tenant, kind, &id);
            resources::update(
                conn,
                &uniqueness,
                names.as_deref(),
                &tenant,
                kind,
                &id,
                if_match,
                change,
                fetch,
            )
        })
        .await
    }

    async fn delete(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        if_match: Option<u64>,
    ) -> StoreResult<()> {
        let (tenant, id) = (tenant.to_owned(), id.to_owned());
        let cache = self.shared.resources.clone();
        self.write(move |conn| {
            note_written(cache.as_deref(), &tenant, kind, &id);
            resources::delete(conn, &tenant, kind, &id, if_match)
        })
        .await
    }

    async fn list(
        &self,
        tenant: &str,
        kind: ResourceKind,
        registry: &SchemaRegistry,
        query: &ListQuery<'_>,
    ) -> StoreResult<ListPage> {
        // Compiled here, on the caller's task: the closure owns only SQL and values.
        let filtered = crate::sql::filter_list(&DIALECT, tenant, kind, registry, query)?;
        if let (Some(name), Some(names)) = (filtered.unique_name(), &self.shared.known_names) {
            // In this order: `may_exist` counts the lookups it answers.
            if crate::sql::FilteredList::empty_answer_is_complete(query)
                && !names.may_exist(tenant, kind, name)
            {
                // No row has this name: the filter matches nothing, on any page (item 73
                // of docs/benchmarks.md: Entra asks this before every user it creates).
                return Ok(ListPage {
                    total_results: 0,
                    resources: Vec::new(),
                    next_cursor: None,
                });
            }
        }
        let fetch = query.fetch;
        // A `userName eq` lookup whose whole answer is the one user of that name, if any.
        let cached_name = filtered
            .unique_name()
            .filter(|_| first_page_of_one_or_more(query) && query.sort.is_none())
            .map(str::to_owned)
            .zip(self.user_cache(kind));
        if let Some((name, cache)) = &cached_name {
            if let Some(user) = cache.get_by_name(tenant, name, fetch) {
                return Ok(ListPage {
                    total_results: 1,
                    resources: vec![user],
                    next_cursor: None,
                });
            }
        }
        let generation = cached_name.as_ref().map(|(_, cache)| cache.generation());
        let plan = filtered.plan(&DIALECT, kind, registry, query)?;
        let (hop, plan) = if crate::sql::is_point_list(kind, query) {
            // Most point lookups are answered by their page statement alone; the plan
            // comes back when they are not, for the read below.
            let answered = self
                .read_one_statement(move |conn| {
                    Ok(
                        match resources::list_in_one_statement(conn, kind, &plan, fetch)? {
                            Some(page) => Ok(page),
                            None => Err(plan),
                        },
                    )
                })
                .await?;
            match answered {
                Ok(page) => {
                    if let (Some((name, cache)), Some(generation), [user]) =
                        (&cached_name, generation, page.resources.as_slice())
                    {
                        if page.total_results == 1 {
                            cache.insert(generation, tenant, fetch, user, Some(name));
                        }
                    }
                    return Ok(page);
                }
                Err(plan) => (Hop::Inline, plan),
            }
        } else {
            (Hop::Blocking, plan)
        };
        let tenant = tenant.to_owned();
        self.read(hop, move |conn| {
            resources::list(conn, &tenant, kind, &plan, fetch)
        })
        .await
    }

    // ---- provisioning logs ----

    async fn append_request_logs(&self, entries: Vec<crate::NewLogEntry>) -> StoreResult<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        // Appended LOG_APPEND_CHUNK rows at a time, and the batch yields the writer
        // as soon as other writes are queued: the rest goes in a later write, queued
        // behind them. A whole batch of 500 rows in one write held SCIM writes for
        // 10-15 ms (the tail of write latency); committing every 25 rows even with
        // nobody waiting cost readers their page caches (every commit discards them).
        let entries: Arc<[crate::NewLogEntry]> = entries.into();
        let queued = self.shared.writer.queued();
        let mut offset = 0;
        let mut written = 0;
        while offset < entries.len() {
            let (batch, start, queued) = (entries.clone(), offset, queued.clone());
            let (end, appended) = self
                .shared
                .writer
                .write_log_only(move |conn| {
                    let (mut end, mut appended) = (start, 0);
                    while end < batch.len() {
                        let stop = (end + LOG_APPEND_CHUNK).min(batch.len());
                        appended += logs::append(conn, &batch[end..stop])?;
                        end = stop;
                        if queued.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                            break;
                        }
                    }
                    Ok((end, appended))
                })
                .await?;
            offset = end;
            written += appended;
        }
        Ok(written)
    }

    async fn list_request_logs(
        &self,
        tenant: &str,
        query: &crate::LogQuery,
    ) -> StoreResult<crate::LogPage> {
        let (tenant, query) = (tenant.to_owned(), query.clone());
        self.read(Hop::Blocking, move |conn| logs::list(conn, &tenant, &query))
            .await
    }

    async fn prune_request_logs(
        &self,
        tenant: &str,
        older_than: time::OffsetDateTime,
        keep_newest: u64,
    ) -> StoreResult<u64> {
        let tenant = tenant.to_owned();
        self.write(move |conn| logs::prune(conn, &tenant, older_than, keep_newest))
            .await
    }

    // ---- admin keys and OAuth clients ----

    async fn insert_admin_key(&self, key: &AdminKeyRecord) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |conn| credentials::insert_admin_key(conn, &key))
            .await
    }

    async fn get_admin_key(&self, key_id: &str) -> StoreResult<Option<AdminKeyRecord>> {
        let key_id = key_id.to_owned();
        self.read(Hop::Inline, move |conn| {
            credentials::get_admin_key(conn, &key_id)
        })
        .await
    }

    async fn list_admin_keys(&self) -> StoreResult<Vec<AdminKeyRecord>> {
        self.read(Hop::Blocking, credentials::list_admin_keys).await
    }

    async fn revoke_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<bool> {
        let key_id = key_id.to_owned();
        self.write(move |conn| credentials::revoke_admin_key(conn, &key_id, at))
            .await
    }

    async fn touch_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<()> {
        let key_id = key_id.to_owned();
        self.write(move |conn| credentials::touch_admin_key(conn, &key_id, at))
            .await
    }

    async fn insert_oauth_client(&self, client: &OAuthClientRecord) -> StoreResult<()> {
        let client = client.clone();
        self.write(move |conn| credentials::insert_oauth_client(conn, &client))
            .await
    }

    async fn get_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
    ) -> StoreResult<Option<OAuthClientRecord>> {
        let (tenant, client_id) = (tenant.to_owned(), client_id.to_owned());
        self.read(Hop::Inline, move |conn| {
            credentials::get_oauth_client(conn, &tenant, &client_id)
        })
        .await
    }

    async fn list_oauth_clients(&self, tenant: &str) -> StoreResult<Vec<OAuthClientRecord>> {
        let tenant = tenant.to_owned();
        self.read(Hop::Blocking, move |conn| {
            credentials::list_oauth_clients(conn, &tenant)
        })
        .await
    }

    async fn revoke_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        let (tenant, client_id) = (tenant.to_owned(), client_id.to_owned());
        self.write(move |conn| credentials::revoke_oauth_client(conn, &tenant, &client_id, at))
            .await
    }

    async fn insert_access_token(&self, token: &TokenRecord, client_id: &str) -> StoreResult<()> {
        let (token, client_id) = (token.clone(), client_id.to_owned());
        self.write(move |conn| credentials::insert_access_token(conn, &token, &client_id))
            .await
    }

    async fn list_access_tokens(&self, tenant: &str) -> StoreResult<Vec<AccessTokenRecord>> {
        let tenant = tenant.to_owned();
        self.read(Hop::Blocking, move |conn| {
            credentials::list_access_tokens(conn, &tenant)
        })
        .await
    }

    async fn prune_access_tokens(&self, before: time::OffsetDateTime) -> StoreResult<u64> {
        self.write(move |conn| credentials::prune_access_tokens(conn, before))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-statement read runs in autocommit mode and any other read inside one
    /// transaction; after either the connection goes back to the pool.
    #[tokio::test]
    async fn only_one_statement_reads_skip_the_transaction() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("scimd.db"))
            .await
            .expect("open");
        let in_transaction = |conn: &Connection| Ok(!conn.is_autocommit());
        assert!(store.read(Hop::Inline, in_transaction).await.expect("read"));
        assert!(!store
            .read_one_statement(in_transaction)
            .await
            .expect("one-statement read"));
        let readers = store
            .pool_status()
            .into_iter()
            .find(|pool| pool.name == "readers")
            .expect("reader pool");
        assert_eq!(readers.open, readers.idle, "{readers:?}");
    }
}
