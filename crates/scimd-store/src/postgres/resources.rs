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
use super::statistics::{Freshness, Grown};
use super::tenants::{lock_tenant, unknown_tenant};
use crate::columns::{self, ResourceColumns};
use crate::sql::{
    self, Bind, Cursor, CursorKey, Dialect, ListPlan, PostgresDialect, RESOURCE_COLUMNS,
};
use crate::timestamp;
use crate::{Fetch, ListPage, NewResource, StoreError, StoredResource, Update, UpdateFn};
use scimd_protocol::resource::{Document, GroupRef, Meta};
use scimd_protocol::{ResourceKind, ScimError};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Row, TypeInfo, ValueRef};
use std::sync::{Arc, LazyLock};

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
        // PostgreSQL keeps the document as `jsonb`, not as the text it was sent as.
        document_text: None,
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
    load_related_of_all(conn, tenant, std::slice::from_mut(resource), fetch).await
}

/// [`load_related`] for a page of resources of one kind, in one statement: a round
/// trip per resource made a page of 100 users 101 round trips.
async fn load_related_of_all(
    conn: &mut PgConnection,
    tenant: &str,
    resources: &mut [StoredResource],
    fetch: Fetch,
) -> PgResult<()> {
    let Some(kind) = resources.first().map(|r| r.kind) else {
        return Ok(());
    };
    let ids: Vec<&str> = resources.iter().map(|r| r.id.as_str()).collect();
    match kind {
        ResourceKind::Group if fetch.members => {
            let mut members = members::load_members(conn, tenant, &ids).await?;
            for resource in resources {
                resource.members = Some(members.remove(&resource.id).unwrap_or_default());
            }
        }
        ResourceKind::User if fetch.groups => {
            let mut groups = members::load_groups(conn, tenant, &ids).await?;
            for resource in resources {
                resource.groups = Some(groups.remove(&resource.id).unwrap_or_default());
            }
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
    if kind == ResourceKind::User && fetch.groups {
        return get_user_with_groups(conn, tenant, id).await;
    }
    let Some(mut resource) = read_row(conn, tenant, kind, id, false).await? else {
        return Ok(None);
    };
    load_related(conn, tenant, &mut resource, fetch).await?;
    Ok(Some(resource))
}

/// A user and its groups in one statement (a GET of a user returns its groups): the
/// groups as one JSON array of `[id, displayName]` pairs
/// ([`Dialect::user_groups_json`], ordered by id). A user is in few groups, unlike a
/// group's members, which stay a separate range scan.
async fn get_user_with_groups(
    conn: &mut PgConnection,
    tenant: &str,
    id: &str,
) -> PgResult<Option<StoredResource>> {
    static USER_WITH_GROUPS: LazyLock<String> = LazyLock::new(|| {
        let groups = DIALECT
            .user_groups_json("r.tenant_id", "r")
            .unwrap_or_else(|| "NULL::json".into());
        format!(
            "SELECT {RESOURCE_COLUMNS}, {groups} AS groups_json \
             FROM users r WHERE r.tenant_id = $1 AND r.id = $2"
        )
    });
    let row = sqlx::query(&USER_WITH_GROUPS)
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut user = resource_from_row(ResourceKind::User, &row)?;
    user.groups = Some(groups_from_row(&row)?);
    Ok(Some(user))
}

/// A user's groups as `groups_json` holds them: `[id, displayName]` pairs.
type GroupPairs = Vec<(String, Option<String>)>;

/// The groups a row carries in `groups_json`, in the order the aggregate gave them.
fn groups_from_row(row: &PgRow) -> PgResult<Vec<GroupRef>> {
    // A user in no group: the aggregate over no rows is NULL.
    let groups: Option<Json<GroupPairs>> = row.try_get("groups_json")?;
    Ok(groups
        .map(|Json(groups)| groups)
        .unwrap_or_default()
        .into_iter()
        .map(|(value, display)| GroupRef { value, display })
        .collect())
}

/// A user's rows in the multi-valued attribute index, as four arrays (attribute,
/// type, value, primary) for one `UNNEST`.
#[allow(clippy::type_complexity)]
fn value_arrays(
    cols: &ResourceColumns,
) -> (Vec<&str>, Vec<Option<&str>>, Vec<Option<&str>>, Vec<bool>) {
    let values = &cols.values;
    (
        values.iter().map(|v| v.attr.as_str()).collect(),
        values.iter().map(|v| v.type_norm.as_deref()).collect(),
        values.iter().map(|v| v.value_norm.as_deref()).collect(),
        values.iter().map(|v| v.primary).collect(),
    )
}

/// Binds a resource row's columns in the order of [`write_row`]'s statements: `$1`
/// tenant, `$2` id, `$3`/`$4` name, `$5`..`$7` externalId (raw, normalised, unique
/// key), `$8` the document, `$9` now; for users also `$10`/`$11` displayName and `$12`
/// active.
fn row_binds<'q>(
    query: sqlx::query::Query<'q, Postgres, PgArguments>,
    kind: ResourceKind,
    tenant: &'q str,
    id: &'q str,
    cols: &'q ResourceColumns,
    document: &'q Document,
    external_id_unique: bool,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    let external = cols.external_id.as_ref();
    let external_key = external
        .filter(|_| external_id_unique)
        .map(|f| f.norm.as_str());
    let query = query
        .bind(tenant)
        .bind(id)
        .bind(cols.name.raw.as_str())
        .bind(cols.name.norm.as_str())
        .bind(external.map(|f| f.raw.as_str()))
        .bind(external.map(|f| f.norm.as_str()))
        .bind(external_key)
        .bind(Json(document))
        .bind(timestamp::format(timestamp::now()));
    if kind == ResourceKind::User {
        let display = cols.display_name.as_ref();
        query
            .bind(display.map(|f| f.raw.as_str()))
            .bind(display.map(|f| f.norm.as_str()))
            .bind(cols.active)
    } else {
        query
    }
}

/// A new user's row; its binds are the ones [`row_binds`] makes, `$1` to `$12`.
const USER_INSERT: &str = "INSERT INTO users (tenant_id, id, user_name, user_name_norm, \
     external_id, external_id_norm, external_id_key, doc, created, last_modified, version, \
     display_name, display_name_norm, active) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1, $10, $11, $12)";

/// Writes a resource's row, and for a user its rows in the multi-valued attribute
/// index, in **one statement** that answers with the row as stored: an INSERT for a
/// new resource (version 1), else an UPDATE that moves the version. `RETURNING`
/// hands back the document as PostgreSQL keeps it (JSONB orders keys its own way),
/// which is what a later read returns, so nothing is read back.
///
/// A user's value rows are replaced by a DELETE and an INSERT in the same statement
/// (data-modifying `WITH`): both see the snapshot from before it, so the DELETE removes
/// exactly the old rows. Their foreign key to the user is checked at the end of the
/// statement, when the user's row is there.
///
/// `None` when an UPDATE found no row.
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
) -> PgResult<Option<StoredResource>> {
    let row_statement = match (kind, insert) {
        (ResourceKind::User, true) => USER_INSERT,
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
    let returning = "RETURNING id, doc, created, last_modified, version";
    let statement = match kind {
        ResourceKind::User => format!(
            "WITH r AS ({row_statement} {returning}), \
             old AS (DELETE FROM user_values WHERE tenant_id = $1 AND user_id = $2), \
             new AS (INSERT INTO user_values (tenant_id, user_id, attr, type_norm, \
                     value_norm, is_primary) \
                     SELECT $1, $2, x.attr, x.type_norm, x.value_norm, x.is_primary \
                     FROM UNNEST($13::text[], $14::text[], $15::text[], $16::bool[]) \
                       AS x(attr, type_norm, value_norm, is_primary) \
                     WHERE EXISTS (SELECT 1 FROM r)) \
             SELECT {RESOURCE_COLUMNS} FROM r"
        ),
        ResourceKind::Group => format!("{row_statement} {returning}"),
    };
    let mut query = row_binds(
        sqlx::query(&statement),
        kind,
        tenant,
        id,
        cols,
        document,
        external_id_unique,
    );
    if kind == ResourceKind::User {
        let (attrs, types, values, primaries) = value_arrays(cols);
        query = query.bind(attrs).bind(types).bind(values).bind(primaries);
    }
    let query = query.fetch_optional(&mut *conn).await;
    let row = query.map_err(|err| match &err {
        // On an INSERT, the row's only foreign key is its tenant's.
        sqlx::Error::Database(db) if insert && db.is_foreign_key_violation() => {
            unknown_tenant(tenant).into()
        }
        _ => write_error(err),
    })?;
    row.map(|row| resource_from_row(kind, &row)).transpose()
}

/// Creates a group: its row (answered as stored), then its members, then what `fetch`
/// asks for.
pub(super) async fn create_group(
    conn: &mut PgConnection,
    freshness: &Arc<Freshness>,
    uniqueness: &crate::UniquenessOptions,
    tenant: &str,
    new: &NewResource,
    fetch: Fetch,
) -> PgResult<StoredResource> {
    let kind = ResourceKind::Group;
    if !lock_tenant(conn, tenant).await? {
        return Err(unknown_tenant(tenant).into());
    }
    let mut created = insert_row(conn, uniqueness, tenant, kind, new).await?;
    let applied = members::apply(
        conn,
        tenant,
        &created.id,
        &[scimd_protocol::resource::MemberChange::Add(
            new.members.clone(),
        )],
    )
    .await?;
    freshness.note(Grown::Groups, 1);
    freshness.note(Grown::Members, applied.added);
    load_related(conn, tenant, &mut created, fetch).await?;
    Ok(created)
}

/// Creates a user in **one statement** (see [`write_row`]), so outside any
/// transaction: it was eight round trips (six statements between `BEGIN` and
/// `COMMIT`: a tenant lock, the INSERT, a DELETE of value rows a new user cannot have,
/// the value rows, a read-back, a read of the groups it cannot be in yet), and on
/// `entra-cycle` a user's POST is every other request. The user's
/// foreign key to `tenants` stands in for the tenant lock: it takes the same `FOR KEY
/// SHARE`, and its violation means the tenant does not exist.
pub(super) async fn create_user(
    conn: &mut PgConnection,
    freshness: &Arc<Freshness>,
    uniqueness: &crate::UniquenessOptions,
    tenant: &str,
    new: &NewResource,
    fetch: Fetch,
) -> PgResult<StoredResource> {
    let kind = ResourceKind::User;
    if !new.members.is_empty() {
        return Err(ScimError::invalid_value("users have no members").into());
    }
    let mut created = insert_row(conn, uniqueness, tenant, kind, new).await?;
    freshness.note(Grown::Users, 1);
    // A user is born in no group.
    created.groups = fetch.groups.then(Vec::new);
    Ok(created)
}

/// Inserts a new resource's row (a new id, version 1) with [`write_row`].
async fn insert_row(
    conn: &mut PgConnection,
    uniqueness: &crate::UniquenessOptions,
    tenant: &str,
    kind: ResourceKind,
    new: &NewResource,
) -> PgResult<StoredResource> {
    let cols = columns::derive(kind, &new.document)?;
    write_row(
        conn,
        tenant,
        kind,
        &new_id(),
        &cols,
        &new.document,
        uniqueness.external_id,
        true,
    )
    .await?
    .ok_or_else(|| StoreError::Database("an INSERT returned no row".into()).into())
}

/// A new resource id: UUIDv7 (RFC 9562 §5.7), time-ordered, so the id indexes (the
/// primary key, the value index's user column, memberships) grow at their right edge
/// instead of dirtying a random leaf page per insert. The id stays opaque to clients;
/// the creation time it encodes is `meta.created` anyway.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
    freshness: &Arc<Freshness>,
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
        ResourceKind::Group => {
            let applied = members::apply(conn, tenant, id, &update.members).await?;
            freshness.note(Grown::Members, applied.added);
            applied.changed
        }
        ResourceKind::User if update.members.is_empty() => false,
        ResourceKind::User => {
            return Err(ScimError::invalid_value("users have no members").into());
        }
    };
    // The row is locked, so each statement below finds it; what they return is the
    // resource as stored, and nothing is read back.
    let mut stored = if document_changed {
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
        .await?
    } else if members_changed {
        let row = sqlx::query(&format!(
            "UPDATE {} r SET last_modified = $3, version = version + 1 \
             WHERE tenant_id = $1 AND id = $2 RETURNING {RESOURCE_COLUMNS}",
            sql::table_of(kind)
        ))
        .bind(tenant)
        .bind(id)
        .bind(timestamp::format(timestamp::now()))
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|row| resource_from_row(kind, &row)).transpose()?
    } else {
        Some(current)
    }
    .ok_or_else(|| not_found(kind, id))?;
    load_related(conn, tenant, &mut stored, fetch).await?;
    Ok(stored)
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

/// A list answered by its page statement alone, or `None` when it needs more: a count
/// (the page cannot tell its total) or a group's members.
pub(super) async fn list_in_one_statement(
    conn: &mut PgConnection,
    kind: ResourceKind,
    plan: &ListPlan,
    fetch: Fetch,
) -> PgResult<Option<ListPage>> {
    if plan.needs_related_reads(kind, fetch) {
        return Ok(None);
    }
    let rows = bind_all(sqlx::query(&plan.page_sql), plan.page_binds.values())
        .fetch_all(&mut *conn)
        .await?;
    match plan.total_from_page(rows.len()) {
        Some(total) => Ok(Some(page_of(kind, plan, &rows, total)?)),
        None => Ok(None),
    }
}

/// A list page: the page statement, a count when the page cannot tell the total, and
/// a group's members. Run in one snapshot (`snapshot!`) when it is several statements.
pub(super) async fn list(
    conn: &mut PgConnection,
    tenant: &str,
    kind: ResourceKind,
    plan: &ListPlan,
    fetch: Fetch,
) -> PgResult<ListPage> {
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
    let mut page = page_of(kind, plan, &rows, total)?;
    // Users' groups came with the page (so an IdP's `userName eq` lookup is one
    // statement); a group's members are a statement of their own.
    let related = Fetch {
        groups: fetch.groups && !plan.groups_in_page,
        ..fetch
    };
    load_related_of_all(conn, tenant, &mut page.resources, related).await?;
    Ok(page)
}

/// The page's resources (with their groups when the page carries them), its total and
/// the cursor to the next page.
fn page_of(kind: ResourceKind, plan: &ListPlan, rows: &[PgRow], total: u64) -> PgResult<ListPage> {
    let mut next_cursor = None;
    let mut kept = rows;
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
    let resources = kept
        .iter()
        .map(|row| {
            let mut resource = resource_from_row(kind, row)?;
            if plan.groups_in_page {
                resource.groups = Some(groups_from_row(row)?);
            }
            Ok(resource)
        })
        .collect::<PgResult<Vec<_>>>()?;
    Ok(ListPage {
        total_results: total,
        resources,
        next_cursor,
    })
}
