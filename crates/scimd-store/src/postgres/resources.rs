//! Users and groups: create, read, update, delete and list.
//!
//! Transactions run at READ COMMITTED, and every read-modify-write locks the one row it
//! modifies with `SELECT ... FOR UPDATE` first. Why not SERIALIZABLE: the only
//! invariants spanning rows are uniqueness (decided by unique indexes, whatever the
//! isolation level) and memberships (held by row locks, see `members`); everything
//! else is one row. SERIALIZABLE would add predicate-lock conflicts between unrelated
//! writes of busy tenants, each one a retry, and an update can only be retried while
//! the resource has not changed (the caller's change function runs once, see
//! [`ChangeOnce`]). Row locks make concurrent writers of one resource wait instead.

use super::failure::{write_error, PgFailure, PgResult};
use super::members;
use super::tenants::{lock_tenant, unknown_tenant};
use crate::columns::{self, ResourceColumns};
use crate::sql::{self, Bind, Cursor, CursorKey, PostgresDialect, RESOURCE_COLUMNS};
use crate::timestamp;
use crate::{
    Fetch, ListPage, ListQuery, NewResource, StoreError, StoredResource, Update, UpdateFn,
};
use scimd_protocol::resource::{Document, Meta};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Row, TypeInfo, ValueRef};

/// The dialect this backend compiles filters with.
pub(super) const DIALECT: PostgresDialect = PostgresDialect;

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::not_found(format!("{} '{id}' not found", kind.name()))
}

/// Binds compiled values to a query, in placeholder order.
pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Postgres, PgArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
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

fn resource_from_row(kind: ResourceKind, row: &PgRow) -> PgResult<StoredResource> {
    let Json(document): Json<Document> = row.try_get("doc")?;
    let version: i64 = row.try_get("version")?;
    Ok(StoredResource {
        id: row.try_get("id")?,
        kind,
        document,
        meta: Meta {
            created: timestamp::parse(row.try_get("created")?)?,
            last_modified: timestamp::parse(row.try_get("last_modified")?)?,
            version: u64::try_from(version)
                .map_err(|_| StoreError::Database(format!("negative version {version}")))?,
        },
        members: None,
        groups: None,
    })
}

/// Loads what `fetch` asks for; with `Fetch::NONE` no membership row is touched.
async fn load_related(
    conn: &mut PgConnection,
    tenant: &str,
    resource: &mut StoredResource,
    fetch: Fetch,
) -> PgResult<()> {
    match resource.kind {
        ResourceKind::Group if fetch.members => {
            resource.members = Some(members::load_members(conn, tenant, &resource.id).await?);
        }
        ResourceKind::User if fetch.groups => {
            resource.groups = Some(members::load_groups(conn, tenant, &resource.id).await?);
        }
        _ => {}
    }
    Ok(())
}

/// Reads a resource row; with `lock`, holds it FOR UPDATE until the transaction ends.
async fn read_row(
    conn: &mut PgConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    lock: bool,
) -> PgResult<Option<StoredResource>> {
    let row = sqlx::query(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM {} r WHERE r.tenant_id = $1 AND r.id = $2{}",
        sql::table_of(kind),
        if lock { " FOR UPDATE" } else { "" }
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(|r| resource_from_row(kind, r)).transpose()
}

pub(super) async fn get(
    conn: &mut PgConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    fetch: Fetch,
) -> PgResult<Option<StoredResource>> {
    let Some(mut resource) = read_row(conn, tenant, kind, id, false).await? else {
        return Ok(None);
    };
    load_related(conn, tenant, &mut resource, fetch).await?;
    Ok(Some(resource))
}

/// Rewrites a user's rows in the multi-valued attribute index (one DELETE, one
/// INSERT of all rows).
async fn write_values(
    conn: &mut PgConnection,
    tenant: &str,
    user_id: &str,
    cols: &ResourceColumns,
) -> PgResult<()> {
    sqlx::query("DELETE FROM user_values WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if cols.values.is_empty() {
        return Ok(());
    }
    let attrs: Vec<&str> = cols.values.iter().map(|v| v.attr.as_str()).collect();
    let types: Vec<Option<&str>> = cols.values.iter().map(|v| v.type_norm.as_deref()).collect();
    let values: Vec<Option<&str>> = cols
        .values
        .iter()
        .map(|v| v.value_norm.as_deref())
        .collect();
    let primaries: Vec<bool> = cols.values.iter().map(|v| v.primary).collect();
    sqlx::query(
        "INSERT INTO user_values (tenant_id, user_id, attr, type_norm, value_norm, is_primary) \
         SELECT $1, $2, v.attr, v.type_norm, v.value_norm, v.is_primary \
         FROM UNNEST($3::text[], $4::text[], $5::text[], $6::bool[]) \
           AS v(attr, type_norm, value_norm, is_primary)",
    )
    .bind(tenant)
    .bind(user_id)
    .bind(&attrs)
    .bind(&types)
    .bind(&values)
    .bind(&primaries)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes the row's columns: an INSERT for a new resource (version 1), else an UPDATE
/// that moves the version.
#[allow(clippy::too_many_arguments)]
async fn write_row(
    conn: &mut PgConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    cols: &ResourceColumns,
    document: &Document,
    external_id_unique: bool,
    insert: bool,
) -> PgResult<()> {
    let now = timestamp::format(timestamp::now());
    let external = cols.external_id.as_ref();
    let external_key = external
        .filter(|_| external_id_unique)
        .map(|f| f.norm.as_str());
    let doc = Json(document);
    let statement = match (kind, insert) {
        (ResourceKind::User, true) => {
            "INSERT INTO users (tenant_id, id, user_name, user_name_norm, external_id, \
             external_id_norm, external_id_key, doc, created, last_modified, version, \
             display_name, display_name_norm, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, $10, $11, $12)"
        }
        (ResourceKind::User, false) => {
            "UPDATE users SET user_name = $3, user_name_norm = $4, external_id = $5, \
             external_id_norm = $6, external_id_key = $7, doc = $8, last_modified = $9, \
             version = version + 1, display_name = $10, display_name_norm = $11, \
             active = $12 WHERE tenant_id = $1 AND id = $2"
        }
        (ResourceKind::Group, true) => {
            "INSERT INTO groups (tenant_id, id, display_name, display_name_norm, \
             external_id, external_id_norm, external_id_key, doc, created, last_modified, \
             version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)"
        }
        (ResourceKind::Group, false) => {
            "UPDATE groups SET display_name = $3, display_name_norm = $4, external_id = $5, \
             external_id_norm = $6, external_id_key = $7, doc = $8, last_modified = $9, \
             version = version + 1 WHERE tenant_id = $1 AND id = $2"
        }
    };
    let mut query = sqlx::query(statement)
        .bind(tenant)
        .bind(id)
        .bind(&cols.name.raw)
        .bind(&cols.name.norm)
        .bind(external.map(|f| f.raw.as_str()))
        .bind(external.map(|f| f.norm.as_str()))
        .bind(external_key)
        .bind(doc)
        .bind(&now);
    if kind == ResourceKind::User {
        let display = cols.display_name.as_ref();
        query = query
            .bind(display.map(|f| f.raw.as_str()))
            .bind(display.map(|f| f.norm.as_str()))
            .bind(cols.active);
    }
    query.execute(&mut *conn).await.map_err(write_error)?;
    if kind == ResourceKind::User {
        write_values(conn, tenant, id, cols).await?;
    }
    Ok(())
}

pub(super) async fn create(
    conn: &mut PgConnection,
    uniqueness: &crate::UniquenessOptions,
    tenant: &str,
    kind: ResourceKind,
    new: &NewResource,
    fetch: Fetch,
) -> PgResult<StoredResource> {
    if !lock_tenant(conn, tenant).await? {
        return Err(unknown_tenant(tenant).into());
    }
    let cols = columns::derive(kind, &new.document)?;
    if kind == ResourceKind::User && !new.members.is_empty() {
        return Err(ScimError::invalid_value("users have no members").into());
    }
    // UUIDv7 (RFC 9562 §5.7): time-ordered, so the id indexes (the primary key, the
    // value index's user column, memberships) grow at their right edge instead of
    // dirtying a random leaf page per insert. The id stays opaque to clients; the
    // creation time it encodes is `meta.created` anyway.
    let id = uuid::Uuid::now_v7().to_string();
    write_row(
        conn,
        tenant,
        kind,
        &id,
        &cols,
        &new.document,
        uniqueness.external_id,
        true,
    )
    .await?;
    if kind == ResourceKind::Group {
        members::apply(
            conn,
            tenant,
            &id,
            &[scimd_protocol::resource::MemberChange::Add(
                new.members.clone(),
            )],
        )
        .await?;
    }
    get(conn, tenant, kind, &id, fetch)
        .await?
        .ok_or_else(|| StoreError::Database("created resource vanished".into()).into())
}

fn check_version(kind: ResourceKind, id: &str, stored: u64, if_match: Option<u64>) -> PgResult<()> {
    match if_match {
        Some(expected) if expected != stored => Err(ScimError::precondition_failed(format!(
            "{} '{id}' is at version {stored}, not {expected} (RFC 7644 §3.14)",
            kind.name()
        ))
        .into()),
        _ => Ok(()),
    }
}

/// The caller's change function, which may run only once, across retries of the
/// transaction. A retry (after a dropped connection or a deadlock) that finds the
/// resource at the version the function saw reuses its answer: the function depends
/// only on the resource. If the resource moved meanwhile, the retry gives up with
/// `Unavailable` rather than apply a change computed from an older state.
pub(crate) enum ChangeOnce {
    Pending(UpdateFn),
    Computed { version: u64, update: Update },
    Spent,
}

impl ChangeOnce {
    pub(crate) fn new(change: UpdateFn) -> Self {
        ChangeOnce::Pending(change)
    }

    fn apply(&mut self, current: &StoredResource) -> PgResult<Update> {
        match std::mem::replace(self, ChangeOnce::Spent) {
            ChangeOnce::Pending(change) => {
                let update = change(current)?;
                *self = ChangeOnce::Computed {
                    version: current.meta.version,
                    update: update.clone(),
                };
                Ok(update)
            }
            ChangeOnce::Computed { version, update } if version == current.meta.version => {
                *self = ChangeOnce::Computed {
                    version,
                    update: update.clone(),
                };
                Ok(update)
            }
            ChangeOnce::Computed { .. } | ChangeOnce::Spent => {
                Err(PgFailure::Store(StoreError::Unavailable(
                    "the database failed during the update and the resource changed before \
                     it could be retried; send the request again"
                        .into(),
                )))
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn update(
    conn: &mut PgConnection,
    uniqueness: &crate::UniquenessOptions,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    if_match: Option<u64>,
    change: &mut ChangeOnce,
    fetch: Fetch,
) -> PgResult<StoredResource> {
    let current = read_row(conn, tenant, kind, id, true)
        .await?
        .ok_or_else(|| not_found(kind, id))?;
    check_version(kind, id, current.meta.version, if_match)?;
    let update = change.apply(&current)?;
    let document_changed = update.document != current.document;
    let members_changed = match kind {
        ResourceKind::Group => members::apply(conn, tenant, id, &update.members).await?,
        ResourceKind::User if update.members.is_empty() => false,
        ResourceKind::User => {
            return Err(ScimError::invalid_value("users have no members").into());
        }
    };
    if document_changed {
        let cols = columns::derive(kind, &update.document)?;
        write_row(
            conn,
            tenant,
            kind,
            id,
            &cols,
            &update.document,
            uniqueness.external_id,
            false,
        )
        .await?;
    } else if members_changed {
        sqlx::query(&format!(
            "UPDATE {} SET last_modified = $3, version = version + 1 \
             WHERE tenant_id = $1 AND id = $2",
            sql::table_of(kind)
        ))
        .bind(tenant)
        .bind(id)
        .bind(timestamp::format(timestamp::now()))
        .execute(&mut *conn)
        .await?;
    }
    get(conn, tenant, kind, id, fetch)
        .await?
        .ok_or_else(|| not_found(kind, id).into())
}

pub(super) async fn delete(
    conn: &mut PgConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    if_match: Option<u64>,
) -> PgResult<()> {
    // FOR UPDATE first: a concurrent membership addition naming this resource holds it
    // FOR KEY SHARE, so this waits for it to commit, and the statements below (each
    // with a fresh snapshot at READ COMMITTED) then see and remove its row.
    let version: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT version FROM {} WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        sql::table_of(kind)
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let version = version.ok_or_else(|| not_found(kind, id))?;
    check_version(kind, id, u64::try_from(version).unwrap_or(0), if_match)?;
    let now = timestamp::format(timestamp::now());
    members::forget_member(conn, tenant, id, &now).await?;
    // The resource's own membership rows and value-index rows go by ON DELETE CASCADE.
    sqlx::query(&format!(
        "DELETE FROM {} WHERE tenant_id = $1 AND id = $2",
        sql::table_of(kind)
    ))
    .bind(tenant)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The sort key value of a listed row, for the next cursor.
fn cursor_key(row: &PgRow) -> PgResult<CursorKey> {
    let raw = row.try_get_raw("sort_key")?;
    if raw.is_null() {
        return Ok(CursorKey::Null);
    }
    let type_name = raw.type_info().name().to_owned();
    Ok(match type_name.as_str() {
        "INT4" => CursorKey::Int(i64::from(row.try_get::<i32, _>("sort_key")?)),
        "INT8" => CursorKey::Int(row.try_get("sort_key")?),
        "BOOL" => CursorKey::Int(i64::from(row.try_get::<bool, _>("sort_key")?)),
        "FLOAT8" => CursorKey::Real(row.try_get("sort_key")?),
        _ => CursorKey::Text(row.try_get("sort_key")?),
    })
}

pub(super) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    kind: ResourceKind,
    registry: &SchemaRegistry,
    query: &ListQuery<'_>,
) -> PgResult<ListPage> {
    let plan = sql::plan_list(&DIALECT, tenant, kind, registry, query)?;
    let rows = bind_all(sqlx::query(&plan.page_sql), plan.page_binds.values())
        .fetch_all(&mut *conn)
        .await?;
    let total = match plan.total_from_page(rows.len()) {
        Some(total) => total,
        None => {
            let counted: i64 = bind_all(sqlx::query(&plan.count_sql), plan.count_binds.values())
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            u64::try_from(counted).unwrap_or(0)
        }
    };

    let mut next_cursor = None;
    let mut kept = rows.as_slice();
    if let Some(size) = plan.cursor_page_size {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if rows.len() > size {
            kept = rows.get(..size).unwrap_or_default();
            if let Some(last) = kept.last() {
                next_cursor = Some(
                    Cursor {
                        signature: plan.sort.signature.clone(),
                        key: cursor_key(last)?,
                        id: last.try_get("id")?,
                    }
                    .encode(),
                );
            }
        }
    }
    let mut resources = Vec::with_capacity(kept.len());
    for row in kept {
        let mut resource = resource_from_row(kind, row)?;
        load_related(conn, tenant, &mut resource, query.fetch).await?;
        resources.push(resource);
    }
    Ok(ListPage {
        total_results: total,
        resources,
        next_cursor,
    })
}
