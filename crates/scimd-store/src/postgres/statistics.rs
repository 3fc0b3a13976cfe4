//! Fresh planner statistics for the tables a provisioning cycle fills.
//!
//! PostgreSQL keeps one plan per statement and connection, for our prepared
//! statements and for the foreign-key checks it runs on every insert (`SELECT 1 FROM
//! users WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE`). Every index of a resource
//! table starts with `tenant_id`, so while the planner believes a tenant has almost no
//! rows (a fresh table, or a tenant that was small at the last `ANALYZE`), a range
//! scan of any of them costs as little as the primary key lookup, and on a tie it
//! takes the index created last. Measured on `entra-cycle` against a fresh database:
//! each foreign-key check of a user's value rows scanned the tenant's whole
//! `users_last_modified` range, and those scans were 40% of PostgreSQL's CPU, growing
//! with every user added (the cycle was quadratic).
//!
//! Autovacuum re-analyzes a table only after a tenth of it changed, and looks once a
//! minute: an initial Entra cycle of a 100,000-person company is over before then, and
//! a new tenant on a large table never reaches a tenth. So each node counts the rows
//! it adds to each table and runs `ANALYZE` itself, in the background, after its
//! first [`ANALYZE_AFTER_ROWS`] rows and then each time its rows have doubled: at
//! once, or [`MIN_INTERVAL`] after the previous one if that was more recent. A new
//! `ANALYZE` also makes every connection plan its statements again (PostgreSQL
//! re-plans a cached plan whose tables' statistics changed).

use sqlx::PgPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Rows added to a table (by this node) before its first `ANALYZE`; later ones come
/// when the rows this node added have doubled since the last, so that the statistics
/// are never off by more than a factor of two for what this node fills, at a cost of
/// one `ANALYZE` per doubling.
pub(crate) const ANALYZE_AFTER_ROWS: u64 = 1_000;

/// The shortest time between two `ANALYZE`s of one table by this node. An `ANALYZE`
/// samples at most 30,000 rows (the default statistics target), whatever the table's
/// size: up to a second of one connection with 100,000 users.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// How long an `ANALYZE` waits for its lock (another node's `ANALYZE` or a vacuum of
/// the same table holds a conflicting one) before this round is skipped.
const LOCK_TIMEOUT: &str = "2s";

/// The tables that grow with provisioning, each analyzed with the tables that grow
/// with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grown {
    /// A user's row and its rows in the multi-valued attribute index.
    Users,
    /// A group's row.
    Groups,
    /// Memberships.
    Members,
}

impl Grown {
    fn tables(self) -> &'static str {
        match self {
            Grown::Users => "users, user_values",
            Grown::Groups => "groups",
            Grown::Members => "group_members",
        }
    }
}

#[derive(Debug, Default)]
struct Watch {
    /// Rows added since the last `ANALYZE` began.
    added: AtomicU64,
    /// Rows added in all, when the last `ANALYZE` began.
    added_before: AtomicU64,
    state: Mutex<WatchState>,
}

#[derive(Debug, Default)]
struct WatchState {
    /// An `ANALYZE` is scheduled or running: rows noted meanwhile wait for the next.
    pending: bool,
    last_started: Option<Instant>,
}

/// The row counts of one node, and the `ANALYZE`s they start.
#[derive(Debug)]
pub(crate) struct Freshness {
    pool: PgPool,
    watches: [Watch; 3],
    /// `ANALYZE`s started, for tests.
    started: AtomicU64,
}

impl Freshness {
    pub(crate) fn new(pool: PgPool) -> Self {
        Freshness {
            pool,
            watches: Default::default(),
            started: AtomicU64::new(0),
        }
    }

    fn watch(&self, table: Grown) -> &Watch {
        let [users, groups, members] = &self.watches;
        match table {
            Grown::Users => users,
            Grown::Groups => groups,
            Grown::Members => members,
        }
    }

    /// How many `ANALYZE`s this node has started.
    pub(crate) fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Counts `rows` added to `table`; past the threshold, schedules an `ANALYZE` of
    /// it in the background (on the async runtime this is called on): at once, or as
    /// soon as [`MIN_INTERVAL`] has passed since the last one. It is scheduled rather
    /// than left to the next write: a table filled in a burst (a 100,000-member group,
    /// 1,000 members a PATCH, in a few seconds) must not keep the plans of its first
    /// rows for as long as no more rows come. Never waits.
    pub(crate) fn note(self: &std::sync::Arc<Self>, table: Grown, rows: u64) {
        if rows == 0 {
            return;
        }
        let watch = self.watch(table);
        let added = watch.added.fetch_add(rows, Ordering::Relaxed) + rows;
        if added < ANALYZE_AFTER_ROWS.max(watch.added_before.load(Ordering::Relaxed)) {
            return;
        }
        // Store calls run on a tokio runtime; without one there is nowhere to run the
        // ANALYZE, and autovacuum will do.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let delay = {
            let mut state = watch.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.pending {
                return;
            }
            state.pending = true;
            state.last_started.map_or(Duration::ZERO, |at| {
                MIN_INTERVAL.saturating_sub(at.elapsed())
            })
        };
        let this = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            let watch = this.watch(table);
            // Rows added from here on count toward the next ANALYZE.
            let added = watch.added.swap(0, Ordering::Relaxed);
            watch.added_before.fetch_add(added, Ordering::Relaxed);
            watch
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .last_started = Some(Instant::now());
            this.started.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = analyze(&this.pool, table).await {
                // Not fatal: autovacuum analyzes later; the plans are slower meanwhile.
                tracing::warn!(error = %e, tables = table.tables(), "could not ANALYZE");
            }
            watch
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pending = false;
        });
    }
}

/// `ANALYZE` in a transaction, so that the lock timeout is its own (`SET LOCAL`). A
/// role that does not own the tables gets a warning from PostgreSQL and no error:
/// then only autovacuum keeps the statistics.
async fn analyze(pool: &PgPool, table: Grown) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("ANALYZE {}", table.tables()))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
