//! Users and groups: create, read, update, delete and list.

use super::tenants::{tenant_exists, unknown_tenant};
use super::{bind_all, members, write_error, DIALECT};
use crate::columns::{self, ResourceColumns};
use crate::sql::{self, Binds, Cursor, CursorKey, SortKey};
use crate::timestamp;
use crate::{
    Fetch, ListPage, ListQuery, NewResource, StoreError, StoreResult, StoredResource, UpdateFn,
};
use scimd_protocol::paging::PageRequest;
use scimd_protocol::resource::{Document, Meta};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, TypeInfo, ValueRef};

const RESOURCE_COLUMNS: &str = "r.id, r.doc, r.created, r.last_modified, r.version";

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::not_found(format!("{} '{id}' not found", kind.name()))
}

fn resource_from_row(kind: ResourceKind, row: &SqliteRow) -> StoreResult<StoredResource> {
    let doc_text: &str = row.try_get("doc")?;
    let document: Document = serde_json::from_str(doc_text)
        .map_err(|e| StoreError::Database(format!("stored document is not a JSON object: {e}")))?;
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

/// Loads what `fetch` asks for. `members` is only read for groups and `groups` only for
/// users; with `Fetch::NONE` no membership row is touched (idp-clients.md R11).
async fn load_related(
    conn: &mut SqliteConnection,
    tenant: &str,
    resource: &mut StoredResource,
    fetch: Fetch,
) -> StoreResult<()> {
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

async fn read_row(
    conn: &mut SqliteConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
) -> StoreResult<Option<StoredResource>> {
    let row = sqlx::query(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM {} r WHERE r.tenant_id = $1 AND r.id = $2",
        sql::table_of(kind)
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(|r| resource_from_row(kind, r)).transpose()
}

pub(super) async fn get(
    conn: &mut SqliteConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    fetch: Fetch,
) -> StoreResult<Option<StoredResource>> {
    let Some(mut resource) = read_row(conn, tenant, kind, id).await? else {
        return Ok(None);
    };
    load_related(conn, tenant, &mut resource, fetch).await?;
    Ok(Some(resource))
}

fn document_text(doc: &Document) -> StoreResult<String> {
    serde_json::to_string(doc)
        .map_err(|e| StoreError::Database(format!("document cannot be serialised: {e}")))
}

/// Rewrites a user's rows in the multi-valued attribute index.
async fn write_values(
    conn: &mut SqliteConnection,
    tenant: &str,
    user_id: &str,
    cols: &ResourceColumns,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM user_values WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for row in &cols.values {
        sqlx::query(
            "INSERT INTO user_values (tenant_id, user_id, attr, type_norm, value_norm, is_primary) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant)
        .bind(user_id)
        .bind(&row.attr)
        .bind(&row.type_norm)
        .bind(&row.value_norm)
        .bind(row.primary)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(super) async fn create(
    conn: &mut SqliteConnection,
    uniqueness: &crate::UniquenessOptions,
    tenant: &str,
    kind: ResourceKind,
    new: NewResource,
    fetch: Fetch,
) -> StoreResult<StoredResource> {
    if !tenant_exists(conn, tenant).await? {
        return Err(unknown_tenant(tenant).into());
    }
    let cols = columns::derive(kind, &new.document)?;
    if kind == ResourceKind::User && !new.members.is_empty() {
        return Err(ScimError::invalid_value("users have no members").into());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = timestamp::format(timestamp::now());
    let doc = document_text(&new.document)?;
    let external = cols.external_id.as_ref();
    let external_key = external
        .filter(|_| uniqueness.external_id)
        .map(|f| f.norm.as_str());
    match kind {
        ResourceKind::User => {
            let display = cols.display_name.as_ref();
            sqlx::query(
                "INSERT INTO users (tenant_id, id, user_name, user_name_norm, external_id, \
                 external_id_norm, display_name, display_name_norm, active, doc, created, \
                 last_modified, version, external_id_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1, $12)",
            )
            .bind(tenant)
            .bind(&id)
            .bind(&cols.name.raw)
            .bind(&cols.name.norm)
            .bind(external.map(|f| f.raw.as_str()))
            .bind(external.map(|f| f.norm.as_str()))
            .bind(display.map(|f| f.raw.as_str()))
            .bind(display.map(|f| f.norm.as_str()))
            .bind(cols.active)
            .bind(&doc)
            .bind(&now)
            .bind(external_key)
            .execute(&mut *conn)
            .await
            .map_err(write_error)?;
            write_values(conn, tenant, &id, &cols).await?;
        }
        ResourceKind::Group => {
            sqlx::query(
                "INSERT INTO groups (tenant_id, id, display_name, display_name_norm, \
                 external_id, external_id_norm, doc, created, last_modified, version, \
                 external_id_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, $9)",
            )
            .bind(tenant)
            .bind(&id)
            .bind(&cols.name.raw)
            .bind(&cols.name.norm)
            .bind(external.map(|f| f.raw.as_str()))
            .bind(external.map(|f| f.norm.as_str()))
            .bind(&doc)
            .bind(&now)
            .bind(external_key)
            .execute(&mut *conn)
            .await
            .map_err(write_error)?;
            members::apply(
                conn,
                tenant,
                &id,
                &[scimd_protocol::resource::MemberChange::Add(new.members)],
            )
            .await?;
        }
    }
    get(conn, tenant, kind, &id, fetch)
        .await?
        .ok_or_else(|| StoreError::Database("created resource vanished".into()))
}

fn check_version(
    kind: ResourceKind,
    id: &str,
    stored: u64,
    if_match: Option<u64>,
) -> StoreResult<()> {
    match if_match {
        Some(expected) if expected != stored => Err(ScimError::precondition_failed(format!(
            "{} '{id}' is at version {stored}, not {expected} (RFC 7644 §3.14)",
            kind.name()
        ))
        .into()),
        _ => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn update(
    conn: &mut SqliteConnection,
    uniqueness: &crate::UniquenessOptions,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    if_match: Option<u64>,
    change: UpdateFn,
    fetch: Fetch,
) -> StoreResult<StoredResource> {
    let current = read_row(conn, tenant, kind, id)
        .await?
        .ok_or_else(|| not_found(kind, id))?;
    check_version(kind, id, current.meta.version, if_match)?;
    let update = change(&current)?;
    let document_changed = update.document != current.document;
    let members_changed = match kind {
        ResourceKind::Group => members::apply(conn, tenant, id, &update.members).await?,
        ResourceKind::User if update.members.is_empty() => false,
        ResourceKind::User => return Err(ScimError::invalid_value("users have no members").into()),
    };
    if document_changed {
        let cols = columns::derive(kind, &update.document)?;
        let doc = document_text(&update.document)?;
        let now = timestamp::format(timestamp::now());
        let external = cols.external_id.as_ref();
        let external_key = external
            .filter(|_| uniqueness.external_id)
            .map(|f| f.norm.as_str());
        match kind {
            ResourceKind::User => {
                let display = cols.display_name.as_ref();
                sqlx::query(
                    "UPDATE users SET user_name = $3, user_name_norm = $4, external_id = $5, \
                     external_id_norm = $6, display_name = $7, display_name_norm = $8, \
                     active = $9, doc = $10, last_modified = $11, version = version + 1, \
                     external_id_key = $12 \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant)
                .bind(id)
                .bind(&cols.name.raw)
                .bind(&cols.name.norm)
                .bind(external.map(|f| f.raw.as_str()))
                .bind(external.map(|f| f.norm.as_str()))
                .bind(display.map(|f| f.raw.as_str()))
                .bind(display.map(|f| f.norm.as_str()))
                .bind(cols.active)
                .bind(&doc)
                .bind(&now)
                .bind(external_key)
                .execute(&mut *conn)
                .await
                .map_err(write_error)?;
                write_values(conn, tenant, id, &cols).await?;
            }
            ResourceKind::Group => {
                sqlx::query(
                    "UPDATE groups SET display_name = $3, display_name_norm = $4, \
                     external_id = $5, external_id_norm = $6, doc = $7, last_modified = $8, \
                     version = version + 1, external_id_key = $9 \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant)
                .bind(id)
                .bind(&cols.name.raw)
                .bind(&cols.name.norm)
                .bind(external.map(|f| f.raw.as_str()))
                .bind(external.map(|f| f.norm.as_str()))
                .bind(&doc)
                .bind(&now)
                .bind(external_key)
                .execute(&mut *conn)
                .await
                .map_err(write_error)?;
            }
        }
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
    conn: &mut SqliteConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    if_match: Option<u64>,
) -> StoreResult<()> {
    let version: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT version FROM {} WHERE tenant_id = $1 AND id = $2",
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
fn cursor_key(row: &SqliteRow) -> StoreResult<CursorKey> {
    let raw = row.try_get_raw("sort_key")?;
    if raw.is_null() {
        return Ok(CursorKey::Null);
    }
    let type_name = raw.type_info().name().to_owned();
    Ok(match type_name.as_str() {
        "INTEGER" | "BOOLEAN" => CursorKey::Int(row.try_get("sort_key")?),
        "REAL" => CursorKey::Real(row.try_get("sort_key")?),
        _ => CursorKey::Text(row.try_get("sort_key")?),
    })
}

/// The statements of one list request, compiled but not yet run.
pub(super) struct ListPlan {
    /// `SELECT COUNT(*)` over the filter.
    pub(super) count_sql: String,
    pub(super) count_binds: Binds,
    /// The page itself.
    pub(super) page_sql: String,
    pub(super) page_binds: Binds,
    sort: SortKey,
    /// For cursor paging: the page size (the statement fetches one more row).
    cursor_page_size: Option<u64>,
}

pub(super) fn plan_list(
    tenant: &str,
    kind: ResourceKind,
    registry: &SchemaRegistry,
    query: &ListQuery<'_>,
) -> StoreResult<ListPlan> {
    let table = sql::table_of(kind);
    let mut binds = Binds::new();
    let tenant_ph = binds.text(tenant);
    let mut condition = format!("r.tenant_id = {tenant_ph}");
    if let Some(filter) = query.filter {
        let compiled =
            sql::compile_filter(&DIALECT, registry, kind, &tenant_ph, filter, &mut binds)?;
        condition = format!("{condition} AND {compiled}");
    }
    let count_sql = format!("SELECT COUNT(*) FROM {table} r WHERE {condition}");
    let count_binds = binds.clone();

    let sort = sql::compile_sort(&DIALECT, registry, kind, &tenant_ph, query.sort, &mut binds)?;
    let (limit, offset, cursor_page_size) = match &query.page {
        PageRequest::Index { start_index, count } => {
            // RFC 7644 §3.4.2.4: startIndex is 1-based; below 1 means 1.
            (*count, start_index.saturating_sub(1), None)
        }
        PageRequest::Cursor { cursor, count } => {
            if let Some(text) = cursor {
                let position = Cursor::decode(text, &sort.signature)?;
                let after = sql::keyset_after(&sort, &position, &mut binds);
                condition = format!("{condition} AND {after}");
            }
            // One row more than asked tells whether there is a next page.
            (count.saturating_add(1), 0, Some(*count))
        }
    };
    let limit_ph = binds.push(sql::Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
    let offset_ph = binds.push(sql::Bind::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    let page_sql = format!(
        "SELECT {RESOURCE_COLUMNS}, {expr} AS sort_key FROM {table} r WHERE {condition} \
         ORDER BY {order} LIMIT {limit_ph} OFFSET {offset_ph}",
        expr = sort.expr,
        order = sort.order_by(),
    );
    Ok(ListPlan {
        count_sql,
        count_binds,
        page_sql,
        page_binds: binds,
        sort,
        cursor_page_size,
    })
}

pub(super) async fn list(
    conn: &mut SqliteConnection,
    tenant: &str,
    kind: ResourceKind,
    registry: &SchemaRegistry,
    query: &ListQuery<'_>,
) -> StoreResult<ListPage> {
    let plan = plan_list(tenant, kind, registry, query)?;
    let total: i64 = bind_all(sqlx::query(&plan.count_sql), plan.count_binds.values())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let rows = bind_all(sqlx::query(&plan.page_sql), plan.page_binds.values())
        .fetch_all(&mut *conn)
        .await?;

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
        total_results: u64::try_from(total).unwrap_or(0),
        resources,
        next_cursor,
    })
}
