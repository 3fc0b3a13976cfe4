//! The PostgreSQL backend, for several stateless scimd nodes sharing one database.
//!
//! One connection pool. Every write is one READ COMMITTED transaction that locks the
//! row it changes (see `resources` for why not SERIALIZABLE); a read of several
//! statements is one REPEATABLE READ, READ ONLY transaction (`snapshot!`). Uniqueness
//! is decided by unique indexes, membership changes are row inserts and deletes. A transaction that
//! fails for a transient reason (a dropped connection, a server restart, a deadlock
//! victim, a serialization failure) runs again, up to `transient_retries` times after
//! a short jittered backoff; then the caller gets [`StoreError::Unavailable`] (503
//! with Retry-After). Waiting for a connection is bounded by `acquire_timeout` and is
//! not retried, so an outage answers 503 promptly instead of hanging, and the pool
//! reconnects by itself once the database is back (`test_before_acquire` discards
//! connections the server closed).

mod credentials;
mod failure;
mod logs;
mod members;
mod migrate;
mod resources;
mod statistics;
mod tenants;

use crate::connect::ConnectOptions;
use crate::{
    Fetch, ListPage, ListQuery, NewResource, NewTenant, PoolStatus, Store, StoreError, StoreResult,
    StoredResource, Tenant, TenantUpdate, TokenRecord, UpdateFn,
};
use async_trait::async_trait;
use failure::{PgFailure, PgResult};
use rand::Rng;
use resources::ChangeOnce;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The first backoff step; attempt n waits up to `BACKOFF_BASE * 2^n`, jittered.
const BACKOFF_BASE: Duration = Duration::from_millis(20);

/// The PostgreSQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Rows this node added, and the `ANALYZE`s they start (see `statistics`).
    freshness: Arc<statistics::Freshness>,
    uniqueness: crate::UniquenessOptions,
    transient_retries: u32,
}

/// Runs `$body` (an expression of type `PgResult<T>` using the connection `$conn`)
/// in a transaction, again after transient failures, and converts the outcome to a
/// `StoreResult<T>`. A macro rather than a function taking a closure: the body
/// borrows the caller's arguments, which async closures cannot yet express simply.
macro_rules! transaction {
    ($store:expr, |$conn:ident| $body:expr) => {
        transaction_begun_with!($store, "BEGIN", |$conn| $body)
    };
}

/// The statement that starts a [`snapshot!`].
const SNAPSHOT_BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// Like `transaction!`, for a read of several statements: at READ COMMITTED each
/// statement reads its own snapshot, so a group's row and its members, or a page and
/// its count, could come from either side of a concurrent commit. A REPEATABLE READ
/// transaction gives all its statements the snapshot of its first (PostgreSQL docs,
/// "Transaction Isolation"); READ ONLY, it cannot fail to serialise. It costs the
/// `BEGIN` and `COMMIT` round trips, so reads of one statement do without it.
macro_rules! snapshot {
    ($store:expr, |$conn:ident| $body:expr) => {
        transaction_begun_with!($store, SNAPSHOT_BEGIN, |$conn| $body)
    };
}

/// `transaction!` started by the statement `$begin`.
macro_rules! transaction_begun_with {
    ($store:expr, $begin:expr, |$conn:ident| $body:expr) => {{
        let store: &PgStore = $store;
        let mut attempt: u32 = 0;
        loop {
            let outcome: PgResult<_> = async {
                let mut tx = store.pool.begin_with($begin).await?;
                let value = {
                    let $conn: &mut PgConnection = &mut tx;
                    $body?
                };
                tx.commit().await?;
                Ok(value)
            }
            .await;
            match outcome {
                Ok(value) => break Ok(value),
                Err(failure) if failure.is_retryable() && attempt < store.transient_retries => {
                    attempt += 1;
                    store.back_off(attempt, &failure).await;
                }
                Err(failure) => break Err(failure.into_store()),
            }
        }
    }};
}

/// Like `transaction!`, on a plain connection (autocommit): for reads, and for writes
/// that are one statement (atomic by themselves).
macro_rules! autocommit {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let store: &PgStore = $store;
        let mut attempt: u32 = 0;
        loop {
            let outcome: PgResult<_> = async {
                let mut connection = store.pool.acquire().await?;
                let $conn: &mut PgConnection = &mut connection;
                $body
            }
            .await;
            match outcome {
                Ok(value) => break Ok(value),
                Err(failure) if failure.is_retryable() && attempt < store.transient_retries => {
                    attempt += 1;
                    store.back_off(attempt, &failure).await;
                }
                Err(failure) => break Err(failure.into_store()),
            }
        }
    }};
}

/// `autocommit!` for reads: most store calls are one or the other.
macro_rules! read {
    ($($body:tt)*) => {
        autocommit!($($body)*)
    };
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database?...`) and, when
    /// `options.run_migrations` is set, applies pending migrations; otherwise checks
    /// that the schema is current (`scimd migrate` brings it there).
    pub async fn connect(url: &str, options: &ConnectOptions) -> StoreResult<Self> {
        let store = Self::connect_without_migrating(url, options).await?;
        if options.run_migrations {
            store.migrate().await?;
        } else {
            let version = read!(&store, |conn| migrate::current_version(conn).await)?;
            if version != migrate::latest_version() {
                return Err(StoreError::Database(format!(
                    "the database schema is at version {version}, this binary needs version {}: \
                     run `scimd migrate`",
                    migrate::latest_version()
                )));
            }
        }
        Ok(store)
    }

    /// Connects without touching the schema.
    pub async fn connect_without_migrating(
        url: &str,
        options: &ConnectOptions,
    ) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))?
            .application_name("scimd")
            // Sent at connection start: every statement of every connection is bounded.
            .options([(
                "statement_timeout",
                options.statement_timeout.as_millis().to_string(),
            )]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(true)
            .connect_with(connect)
            .await
            .map_err(|e| PgFailure::Sql(e).into_store())?;
        Ok(PgStore {
            freshness: Arc::new(statistics::Freshness::new(pool.clone())),
            pool,
            uniqueness: options.uniqueness,
            transient_retries: options.transient_retries,
        })
    }

    /// Every migration version this binary carries, in order.
    pub fn migration_versions() -> Vec<i64> {
        migrate::versions()
    }

    /// Applies pending migrations; returns the versions this call applied. Safe when
    /// several nodes call it at once (see `migrate`).
    pub async fn migrate(&self) -> StoreResult<Vec<i64>> {
        read!(self, |conn| migrate::run(conn).await)
    }

    /// How many `ANALYZE`s of growing tables this node has started (see
    /// `postgres/statistics.rs`).
    pub fn analyzes_started(&self) -> u64 {
        self.freshness.started()
    }

    /// The connection pool, for tests and maintenance that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The plans (`EXPLAIN` text lines) of the two statements a [`Store::list`] call
    /// would run: the count, then the page. `settings` are `SET LOCAL` for the
    /// explaining transaction only (e.g. `enable_seqscan = off`).
    pub async fn explain_list(
        &self,
        tenant: &str,
        kind: ResourceKind,
        registry: &SchemaRegistry,
        query: &ListQuery<'_>,
        settings: &[(&str, &str)],
    ) -> StoreResult<(Vec<String>, Vec<String>)> {
        let plan = crate::sql::plan_list(&resources::DIALECT, tenant, kind, registry, query)?;
        let explained: PgResult<_> = async {
            let mut tx = self.pool.begin().await?;
            for (name, value) in settings {
                sqlx::query("SELECT set_config($1, $2, true)")
                    .bind(name)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            let count = query_plan(&mut tx, &plan.count_sql, &plan.count_binds).await?;
            let page = query_plan(&mut tx, &plan.page_sql, &plan.page_binds).await?;
            tx.rollback().await?;
            Ok((count, page))
        }
        .await;
        explained.map_err(PgFailure::into_store)
    }

    async fn back_off(&self, attempt: u32, failure: &PgFailure) {
        let ceiling = BACKOFF_BASE.saturating_mul(1 << attempt.min(6));
        let wait = rand::thread_rng().gen_range(ceiling / 2..=ceiling);
        tracing::warn!(attempt, ?wait, error = ?failure, "retrying a PostgreSQL transaction after a transient failure");
        tokio::time::sleep(wait).await;
    }
}

/// The `EXPLAIN` lines of a statement.
async fn query_plan(
    conn: &mut PgConnection,
    sql: &str,
    binds: &crate::sql::Binds,
) -> PgResult<Vec<String>> {
    let explain = format!("EXPLAIN {sql}");
    let rows = resources::bind_all(sqlx::query(&explain), binds.values())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| Ok(row.try_get::<String, _>(0)?))
        .collect()
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| PgFailure::Sql(e).into_store())?;
        Ok(())
    }

    async fn close(&self) {
        PgStore::close(self).await;
    }

    fn pool_status(&self) -> Vec<PoolStatus> {
        vec![PoolStatus {
            name: "postgres",
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }]
    }

    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<Tenant> {
        transaction!(self, |conn| tenants::create_tenant(conn, tenant).await)
    }

    async fn get_tenant(&self, id: &str) -> StoreResult<Option<Tenant>> {
        read!(self, |conn| tenants::get_tenant(conn, id).await)
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        read!(self, |conn| tenants::list_tenants(conn).await)
    }

    async fn update_tenant(&self, id: &str, update: &TenantUpdate) -> StoreResult<Tenant> {
        transaction!(self, |conn| tenants::update_tenant(conn, id, update).await)
    }

    async fn delete_tenant(&self, id: &str) -> StoreResult<bool> {
        transaction!(self, |conn| tenants::delete_tenant(conn, id).await)
    }

    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()> {
        transaction!(self, |conn| tenants::insert_token(conn, token, None).await)
    }

    async fn get_token(&self, tenant: &str, token_id: &str) -> StoreResult<Option<TokenRecord>> {
        read!(self, |conn| tenants::get_token(conn, tenant, token_id)
            .await)
    }

    async fn get_tenant_with_token(
        &self,
        tenant: &str,
        token_id: &str,
    ) -> StoreResult<Option<(Tenant, Option<TokenRecord>)>> {
        read!(self, |conn| tenants::get_tenant_with_token(
            conn, tenant, token_id
        )
        .await)
    }

    async fn list_tokens(&self, tenant: &str) -> StoreResult<Vec<TokenRecord>> {
        read!(self, |conn| tenants::list_tokens(conn, tenant).await)
    }

    async fn revoke_token(
        &self,
        tenant: &str,
        token_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        transaction!(self, |conn| tenants::revoke_token(
            conn, tenant, token_id, at
        )
        .await)
    }

    async fn touch_tokens(&self, used: &[(String, time::OffsetDateTime)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        transaction!(self, |conn| tenants::touch_tokens(conn, used).await)
    }

    async fn create(
        &self,
        tenant: &str,
        kind: ResourceKind,
        new: NewResource,
        fetch: Fetch,
    ) -> StoreResult<StoredResource> {
        let uniqueness = self.uniqueness;
        match kind {
            // One statement (see `resources::create_user`): atomic without a
            // transaction block, so none is opened.
            ResourceKind::User => autocommit!(self, |conn| resources::create_user(
                conn,
                &self.freshness,
                &uniqueness,
                tenant,
                &new,
                fetch
            )
            .await),
            ResourceKind::Group => transaction!(self, |conn| resources::create_group(
                conn,
                &self.freshness,
                &uniqueness,
                tenant,
                &new,
                fetch
            )
            .await),
        }
    }

    async fn get(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        fetch: Fetch,
    ) -> StoreResult<Option<StoredResource>> {
        if crate::sql::get_is_one_statement(kind, fetch) {
            read!(self, |conn| resources::get(conn, tenant, kind, id, fetch)
                .await)
        } else {
            snapshot!(self, |conn| resources::get(conn, tenant, kind, id, fetch)
                .await)
        }
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
        let uniqueness = self.uniqueness;
        let mut change = ChangeOnce::new(change);
        transaction!(self, |conn| resources::update(
            conn,
            &self.freshness,
            &uniqueness,
            tenant,
            kind,
            id,
            if_match,
            &mut change,
            fetch
        )
        .await)
    }

    async fn delete(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        if_match: Option<u64>,
    ) -> StoreResult<()> {
        transaction!(self, |conn| resources::delete(
            conn, tenant, kind, id, if_match
        )
        .await)
    }

    async fn list(
        &self,
        tenant: &str,
        kind: ResourceKind,
        registry: &SchemaRegistry,
        query: &ListQuery<'_>,
    ) -> StoreResult<ListPage> {
        let plan = crate::sql::plan_list(&resources::DIALECT, tenant, kind, registry, query)?;
        let fetch = query.fetch;
        // A point lookup is most often answered by its page statement alone, which is
        // one snapshot by itself; when it is not, the whole read runs again below.
        if crate::sql::is_point_list(kind, query) {
            let answered = read!(self, |conn| resources::list_in_one_statement(
                conn, kind, &plan, fetch
            )
            .await)?;
            if let Some(page) = answered {
                return Ok(page);
            }
        }
        snapshot!(self, |conn| resources::list(
            conn, tenant, kind, &plan, fetch
        )
        .await)
    }

    // ---- provisioning logs ----

    async fn append_request_logs(&self, entries: Vec<crate::NewLogEntry>) -> StoreResult<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        transaction!(self, |conn| logs::append(conn, &entries).await)
    }

    async fn list_request_logs(
        &self,
        tenant: &str,
        query: &crate::LogQuery,
    ) -> StoreResult<crate::LogPage> {
        read!(self, |conn| logs::list(conn, tenant, query).await)
    }

    async fn prune_request_logs(
        &self,
        tenant: &str,
        older_than: time::OffsetDateTime,
        keep_newest: u64,
    ) -> StoreResult<u64> {
        transaction!(self, |conn| logs::prune(
            conn,
            tenant,
            older_than,
            keep_newest
        )
        .await)
    }

    // ---- admin keys and OAuth clients ----

    async fn insert_admin_key(&self, key: &crate::AdminKeyRecord) -> StoreResult<()> {
        transaction!(self, |conn| credentials::insert_admin_key(conn, key).await)
    }

    async fn get_admin_key(&self, key_id: &str) -> StoreResult<Option<crate::AdminKeyRecord>> {
        read!(self, |conn| credentials::get_admin_key(conn, key_id).await)
    }

    async fn list_admin_keys(&self) -> StoreResult<Vec<crate::AdminKeyRecord>> {
        read!(self, |conn| credentials::list_admin_keys(conn).await)
    }

    async fn revoke_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<bool> {
        transaction!(self, |conn| credentials::revoke_admin_key(conn, key_id, at)
            .await)
    }

    async fn touch_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<()> {
        transaction!(self, |conn| credentials::touch_admin_key(conn, key_id, at)
            .await)
    }

    async fn insert_oauth_client(&self, client: &crate::OAuthClientRecord) -> StoreResult<()> {
        transaction!(self, |conn| credentials::insert_oauth_client(conn, client)
            .await)
    }

    async fn get_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
    ) -> StoreResult<Option<crate::OAuthClientRecord>> {
        read!(self, |conn| credentials::get_oauth_client(
            conn, tenant, client_id
        )
        .await)
    }

    async fn list_oauth_clients(&self, tenant: &str) -> StoreResult<Vec<crate::OAuthClientRecord>> {
        read!(self, |conn| credentials::list_oauth_clients(conn, tenant)
            .await)
    }

    async fn revoke_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        transaction!(self, |conn| credentials::revoke_oauth_client(
            conn, tenant, client_id, at
        )
        .await)
    }

    async fn insert_access_token(&self, token: &TokenRecord, client_id: &str) -> StoreResult<()> {
        transaction!(self, |conn| credentials::insert_access_token(
            conn, token, client_id
        )
        .await)
    }

    async fn list_access_tokens(&self, tenant: &str) -> StoreResult<Vec<crate::AccessTokenRecord>> {
        read!(self, |conn| credentials::list_access_tokens(conn, tenant)
            .await)
    }

    async fn prune_access_tokens(&self, before: time::OffsetDateTime) -> StoreResult<u64> {
        transaction!(self, |conn| credentials::prune_access_tokens(conn, before)
            .await)
    }
}
