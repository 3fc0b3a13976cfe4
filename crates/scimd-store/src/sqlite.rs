//! The SQLite backend.
//!
//! One database file in WAL mode. Writes go through a pool of exactly one connection
//! and each write is one `BEGIN IMMEDIATE` transaction: SQLite allows one writer at a
//! time anyway, and taking the write lock up front means a transaction never fails
//! half-way with SQLITE_BUSY when it upgrades from reading to writing. Reads use a pool
//! of read-only connections, which WAL lets run alongside the writer.
//!
//! Connections run with `synchronous=NORMAL` (durable at checkpoints, safe against
//! corruption in WAL mode), foreign keys on and a busy timeout.

mod credentials;
mod logs;
mod members;
mod migrate;
mod resources;
mod tenants;

use crate::sql::{Bind, SqliteDialect};
use crate::{
    AccessTokenRecord, AdminKeyRecord, Fetch, ListPage, ListQuery, NewResource, NewTenant,
    OAuthClientRecord, Store, StoreError, StoreResult, StoredResource, Tenant, TenantUpdate,
    TokenRecord, UpdateFn,
};
use async_trait::async_trait;
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use std::path::Path;
use std::time::Duration;

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
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            uniqueness: crate::UniquenessOptions::default(),
        }
    }
}

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
    uniqueness: crate::UniquenessOptions,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options and
    /// applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, &SqliteOptions::default()).await
    }

    /// Opens the database at `path` with the given options.
    pub async fn open_with(path: &Path, options: &SqliteOptions) -> StoreResult<Self> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .synchronous(SqliteSynchronous::Normal);
        // No ping before each acquire (sqlx's default): on SQLite every statement is a
        // round trip to the connection's worker thread, and the ping doubled them; a
        // file connection does not go stale like a network one.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await?;
        migrate::run(&writer).await?;
        // Readers open after the writer has created the file and switched it to WAL;
        // the journal mode is a property of the file, so they do not set it.
        let readers = SqlitePoolOptions::new()
            .max_connections(options.readers.max(1))
            .test_before_acquire(false)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            readers,
            uniqueness: options.uniqueness,
        })
    }

    /// The write pool (one connection), for tests and maintenance that need raw SQL.
    pub fn writer_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// The read-only pool, for tests that inspect query plans.
    pub fn reader_pool(&self) -> &SqlitePool {
        &self.readers
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
        let plan = resources::plan_list(tenant, kind, registry, query)?;
        let mut conn = self.readers.acquire().await?;
        let count = query_plan(&mut conn, &plan.count_sql, &plan.count_binds).await?;
        let page = query_plan(&mut conn, &plan.page_sql, &plan.page_binds).await?;
        Ok((count, page))
    }

    /// Closes both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }

    /// Starts the one kind of write transaction this store uses.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// The `EXPLAIN QUERY PLAN` detail lines of a statement.
async fn query_plan(
    conn: &mut sqlx::SqliteConnection,
    sql: &str,
    binds: &crate::sql::Binds,
) -> StoreResult<Vec<String>> {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let rows = bind_all(sqlx::query(&explain), binds.values())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| Ok(sqlx::Row::try_get::<String, _>(row, "detail")?))
        .collect()
}

/// The dialect this backend compiles filters with.
pub(crate) const DIALECT: SqliteDialect = SqliteDialect;

/// Binds compiled values to a query, in placeholder order.
pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    for bind in binds {
        query = match bind {
            Bind::Text(t) => query.bind(t.as_str()),
            Bind::Int(i) => query.bind(*i),
            Bind::Real(r) => query.bind(*r),
            Bind::Bool(b) => query.bind(*b),
        };
    }
    query
}

/// Maps an error of a write: unique-index violations become 409 `uniqueness` naming
/// the attribute (RFC 7644 §3.12), also when two creates race, because the database's
/// unique index is the arbiter, not a read before the write.
pub(crate) fn write_error(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            let message = db.message();
            let attribute = [
                ("user_name_norm", "userName"),
                ("external_id_key", "externalId"),
                ("display_name_norm", "displayName"),
                ("tenants.id", "tenant id"),
                ("tokens.id", "token id"),
                ("admin_keys.id", "admin key id"),
                ("oauth_clients.client_id", "OAuth client id"),
            ]
            .iter()
            .find(|(column, _)| message.contains(column))
            .map_or("a unique attribute", |(_, attr)| attr);
            return ScimError::uniqueness(format!(
                "{attribute} is already in use (compared case-insensitively)"
            ))
            .into();
        }
    }
    err.into()
}

#[async_trait]
impl Store for SqliteStore {
    fn pool_status(&self) -> Vec<crate::PoolStatus> {
        let status = |name, pool: &SqlitePool| crate::PoolStatus {
            name,
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        };
        vec![
            status("writer", &self.writer),
            status("readers", &self.readers),
        ]
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<Tenant> {
        let mut tx = self.begin_write().await?;
        let created = tenants::create_tenant(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn get_tenant(&self, id: &str) -> StoreResult<Option<Tenant>> {
        let mut conn = self.readers.acquire().await?;
        tenants::get_tenant(&mut conn, id).await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let mut conn = self.readers.acquire().await?;
        tenants::list_tenants(&mut conn).await
    }

    async fn update_tenant(&self, id: &str, update: &TenantUpdate) -> StoreResult<Tenant> {
        let mut tx = self.begin_write().await?;
        let updated = tenants::update_tenant(&mut tx, id, update).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_tenant(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let existed = tenants::delete_tenant(&mut tx, id).await?;
        tx.commit().await?;
        Ok(existed)
    }

    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        tenants::insert_token(&mut tx, token, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_token(&self, tenant: &str, token_id: &str) -> StoreResult<Option<TokenRecord>> {
        let mut conn = self.readers.acquire().await?;
        tenants::get_token(&mut conn, tenant, token_id).await
    }

    async fn list_tokens(&self, tenant: &str) -> StoreResult<Vec<TokenRecord>> {
        let mut conn = self.readers.acquire().await?;
        tenants::list_tokens(&mut conn, tenant).await
    }

    async fn revoke_token(
        &self,
        tenant: &str,
        token_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let found = tenants::revoke_token(&mut tx, tenant, token_id, at).await?;
        tx.commit().await?;
        Ok(found)
    }

    async fn touch_tokens(&self, used: &[(String, time::OffsetDateTime)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        tenants::touch_tokens(&mut tx, used).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create(
        &self,
        tenant: &str,
        kind: ResourceKind,
        new: NewResource,
        fetch: Fetch,
    ) -> StoreResult<StoredResource> {
        let mut tx = self.begin_write().await?;
        let created =
            resources::create(&mut tx, &self.uniqueness, tenant, kind, new, fetch).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn get(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        fetch: Fetch,
    ) -> StoreResult<Option<StoredResource>> {
        let mut conn = self.readers.acquire().await?;
        resources::get(&mut conn, tenant, kind, id, fetch).await
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
        let mut tx = self.begin_write().await?;
        let updated = resources::update(
            &mut tx,
            &self.uniqueness,
            tenant,
            kind,
            id,
            if_match,
            change,
            fetch,
        )
        .await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete(
        &self,
        tenant: &str,
        kind: ResourceKind,
        id: &str,
        if_match: Option<u64>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        resources::delete(&mut tx, tenant, kind, id, if_match).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list(
        &self,
        tenant: &str,
        kind: ResourceKind,
        registry: &SchemaRegistry,
        query: &ListQuery<'_>,
    ) -> StoreResult<ListPage> {
        let mut conn = self.readers.acquire().await?;
        resources::list(&mut conn, tenant, kind, registry, query).await
    }

    // ---- provisioning logs ----

    async fn append_request_logs(&self, entries: &[crate::NewLogEntry]) -> StoreResult<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let written = logs::append(&mut tx, entries).await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn list_request_logs(
        &self,
        tenant: &str,
        query: &crate::LogQuery,
    ) -> StoreResult<crate::LogPage> {
        let mut conn = self.readers.acquire().await?;
        logs::list(&mut conn, tenant, query).await
    }

    async fn prune_request_logs(
        &self,
        tenant: &str,
        older_than: time::OffsetDateTime,
        keep_newest: u64,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let deleted = logs::prune(&mut tx, tenant, older_than, keep_newest).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    // ---- admin keys and OAuth clients ----

    async fn insert_admin_key(&self, key: &AdminKeyRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        credentials::insert_admin_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_admin_key(&self, key_id: &str) -> StoreResult<Option<AdminKeyRecord>> {
        let mut conn = self.readers.acquire().await?;
        credentials::get_admin_key(&mut conn, key_id).await
    }

    async fn list_admin_keys(&self) -> StoreResult<Vec<AdminKeyRecord>> {
        let mut conn = self.readers.acquire().await?;
        credentials::list_admin_keys(&mut conn).await
    }

    async fn revoke_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let found = credentials::revoke_admin_key(&mut tx, key_id, at).await?;
        tx.commit().await?;
        Ok(found)
    }

    async fn touch_admin_key(&self, key_id: &str, at: time::OffsetDateTime) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        credentials::touch_admin_key(&mut tx, key_id, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_oauth_client(&self, client: &OAuthClientRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        credentials::insert_oauth_client(&mut tx, client).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
    ) -> StoreResult<Option<OAuthClientRecord>> {
        let mut conn = self.readers.acquire().await?;
        credentials::get_oauth_client(&mut conn, tenant, client_id).await
    }

    async fn list_oauth_clients(&self, tenant: &str) -> StoreResult<Vec<OAuthClientRecord>> {
        let mut conn = self.readers.acquire().await?;
        credentials::list_oauth_clients(&mut conn, tenant).await
    }

    async fn revoke_oauth_client(
        &self,
        tenant: &str,
        client_id: &str,
        at: time::OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let found = credentials::revoke_oauth_client(&mut tx, tenant, client_id, at).await?;
        tx.commit().await?;
        Ok(found)
    }

    async fn insert_access_token(&self, token: &TokenRecord, client_id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        credentials::insert_access_token(&mut tx, token, client_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_access_tokens(&self, tenant: &str) -> StoreResult<Vec<AccessTokenRecord>> {
        let mut conn = self.readers.acquire().await?;
        credentials::list_access_tokens(&mut conn, tenant).await
    }

    async fn prune_access_tokens(&self, before: time::OffsetDateTime) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let pruned = credentials::prune_access_tokens(&mut tx, before).await?;
        tx.commit().await?;
        Ok(pruned)
    }
}
