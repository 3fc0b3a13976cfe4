//! Users and groups: create, read, update, delete and list.

use super::db::{args_of, execute, query_all, query_opt, query_scalar, write_error};
use super::known_names::KnownNames;
use super::members;
use super::tenants::unknown_tenant;
use crate::columns::{self, Folded, ResourceColumns, ValueRow};
use crate::sql::{self, Cursor, CursorKey, Dialect, ListPlan, RESOURCE_COLUMNS};
use crate::timestamp;
use crate::{Fetch, ListPage, NewResource, StoreError, StoreResult, StoredResource, UpdateFn};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use scimd_protocol::resource::{Document, GroupRef, Meta};
use scimd_protocol::{ResourceKind, ScimError};
use std::sync::LazyLock;

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::not_found(format!("{} '{id}' not found", kind.name()))
}

/// Where [`RESOURCE_COLUMNS`] put each column: they lead every row read here, so the
/// columns are read by position. By name, rusqlite compares the name with every
/// column's, case-insensitively, on every call: five names a row.
mod column {
    pub(super) const ID: usize = 0;
    pub(super) const DOC: usize = 1;
    pub(super) const CREATED: usize = 2;
    pub(super) const LAST_MODIFIED: usize = 3;
    pub(super) const VERSION: usize = 4;
}

fn resource_from_row(kind: ResourceKind, row: &Row<'_>) -> StoreResult<StoredResource> {
    resource_from_row_as(kind, row, Fetch::NONE)
}

/// [`resource_from_row`], with the document left as text when `fetch` asks for it.
fn resource_from_row_as(
    kind: ResourceKind,
    row: &Row<'_>,
    fetch: Fetch,
) -> StoreResult<StoredResource> {
    let ValueRef::Text(bytes) = row.get_ref(column::DOC)? else {
        return Err(StoreError::Database("stored document is not text".into()));
    };
    let (document, document_text) = if fetch.document_text {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| StoreError::Database(format!("stored document is not UTF-8: {e}")))?;
        (Document::new(), Some(text.to_owned()))
    } else {
        let document = serde_json::from_slice(bytes).map_err(|e| {
            StoreError::Database(format!("stored document is not a JSON object: {e}"))
        })?;
        (document, None)
    };
    let version: i64 = row.get(column::VERSION)?;
    Ok(StoredResource {
        id: row.get(column::ID)?,
        kind,
        document,
        document_text,
        meta: Meta {
            created: timestamp::parse(text_at(row, column::CREATED)?)?,
            last_modified: timestamp::parse(text_at(row, column::LAST_MODIFIED)?)?,
            version: u64::try_from(version)
                .map_err(|_| StoreError::Database(format!("negative version {version}")))?,
        },
        members: None,
        groups: None,
    })
}

/// The text at `index`, borrowed from the row.
fn text_at<'row>(row: &'row Row<'_>, index: usize) -> StoreResult<&'row str> {
    row.get_ref(index)?
        .as_str()
        .map_err(|e| StoreError::Database(format!("column {index} is not text: {e}")))
}

/// Loads what `fetch` asks for. `members` is only read for groups and `groups` only for
/// users; with `Fetch::NONE` no membership row is touched (idp-clients.md R11).
fn load_related(
    conn: &Connection,
    tenant: &str,
    resource: &mut StoredResource,
    fetch: Fetch,
) -> StoreResult<()> {
    match resource.kind {
        ResourceKind::Group if fetch.members => {
            resource.members = Some(members::load_members(conn, tenant, &resource.id)?);
        }
        ResourceKind::User if fetch.groups => {
            resource.groups = Some(members::load_groups(conn, tenant, &resource.id)?);
        }
        _ => {}
    }
    Ok(())
}

/// The point read of one resource of `kind`, written once: every GET by id runs it.
fn point_read_sql(kind: ResourceKind) -> &'static str {
    fn build(kind: ResourceKind) -> String {
        format!(
            "SELECT {RESOURCE_COLUMNS} FROM {} r WHERE r.tenant_id = $1 AND r.id = $2",
            sql::table_of(kind)
        )
    }
    static USERS: LazyLock<String> = LazyLock::new(|| build(ResourceKind::User));
    static GROUPS: LazyLock<String> = LazyLock::new(|| build(ResourceKind::Group));
    match kind {
        ResourceKind::User => &USERS,
        ResourceKind::Group => &GROUPS,
    }
}

/// A user and the groups it is a direct member of, in one statement
/// ([`Dialect::user_groups_json`](crate::sql::Dialect::user_groups_json); the groups
/// are read back by [`groups_from_row`]).
static USER_WITH_GROUPS: LazyLock<String> = LazyLock::new(|| {
    let groups = super::DIALECT
        .user_groups_json("$1", "r")
        .unwrap_or_else(|| "NULL".into());
    format!(
        "SELECT {RESOURCE_COLUMNS}, {groups} AS groups_json \
         FROM users r WHERE r.tenant_id = $1 AND r.id = $2"
    )
});

/// The groups a row carries in `groups_json`, ordered by id as
/// [`members::load_groups`] orders them.
fn groups_from_row(row: &Row<'_>) -> StoreResult<Vec<GroupRef>> {
    let mut groups: Vec<(String, Option<String>)> = match row.get_ref("groups_json")? {
        ValueRef::Text(bytes) => serde_json::from_slice(bytes).map_err(|e| {
            StoreError::Database(format!("a user's groups are not a JSON array: {e}"))
        })?,
        // No membership row: some SQLite versions give NULL rather than `[]`.
        ValueRef::Null => Vec::new(),
        _ => return Err(StoreError::Database("a user's groups are not text".into())),
    };
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(groups
        .into_iter()
        .map(|(value, display)| GroupRef { value, display })
        .collect())
}

/// [`get`] in a single statement, which needs no transaction around it to read one
/// snapshot (see `SqliteStore::read_one_statement`). A GET of a user is the most
/// common read there is; done as [`get`] does it, it is four statements (`BEGIN`, the
/// row, its groups, `COMMIT`). Only for what [`sql::get_is_one_statement`] accepts.
pub(super) fn get_in_one_statement(
    conn: &Connection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    fetch: Fetch,
) -> StoreResult<Option<StoredResource>> {
    if !sql::get_is_one_statement(kind, fetch) {
        return Err(StoreError::Database(
            "a group's members are not read in one statement".into(),
        ));
    }
    if kind == ResourceKind::Group || !fetch.groups {
        return read_row(conn, tenant, kind, id, fetch);
    }
    query_opt(conn, &USER_WITH_GROUPS, &[&tenant, &id], |row| {
        let mut user = resource_from_row_as(kind, row, fetch)?;
        user.groups = Some(groups_from_row(row)?);
        Ok(user)
    })
}

fn read_row(
    conn: &Connection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    fetch: Fetch,
) -> StoreResult<Option<StoredResource>> {
    query_opt(conn, point_read_sql(kind), &[&tenant, &id], |row| {
        resource_from_row_as(kind, row, fetch)
    })
}

/// The indexed columns a resource's row holds, as an update reads them to compare with
/// the new document's (see [`ChangedColumns`]). What the row holds, not what the old
/// document derives: if a later release derives a column differently, the first update
/// of a resource still rewrites it.
struct StoredColumns {
    kind: ResourceKind,
    name: Option<Folded>,
    external: Option<Folded>,
    external_key: Option<String>,
    display: Option<Folded>,
}

impl StoredColumns {
    fn from_row(kind: ResourceKind, row: &Row<'_>) -> StoreResult<Self> {
        let folded = |raw: &str, norm: &str| -> StoreResult<Option<Folded>> {
            let raw: Option<String> = row.get(raw)?;
            let norm: Option<String> = row.get(norm)?;
            Ok(raw.zip(norm).map(|(raw, norm)| Folded { raw, norm }))
        };
        Ok(StoredColumns {
            kind,
            name: folded("c_name", "c_name_norm")?,
            external: folded("c_external", "c_external_norm")?,
            external_key: row.get("c_external_key")?,
            display: folded("c_display", "c_display_norm")?,
        })
    }

    /// Which columns `new` changes. A user's value-index rows are read here, only when
    /// the row's columns are being compared anyway: one range read of a few rows
    /// against deleting and inserting them all.
    fn changed_by(
        &self,
        conn: &Connection,
        tenant: &str,
        id: &str,
        new: &ResourceColumns,
        uniqueness: &crate::UniquenessOptions,
    ) -> StoreResult<ChangedColumns> {
        let new_key = new
            .external_id
            .as_ref()
            .filter(|_| uniqueness.external_id)
            .map(|f| &f.norm);
        let values = match self.kind {
            ResourceKind::User => stored_values(conn, tenant, id)? != new.values,
            ResourceKind::Group => false,
        };
        Ok(ChangedColumns {
            name: self.name.as_ref() != Some(&new.name),
            external: self.external != new.external_id || self.external_key.as_ref() != new_key,
            display: self.kind == ResourceKind::User && self.display != new.display_name,
            values,
        })
    }
}

/// A user's rows in the value index, in the order they were written.
fn stored_values(conn: &Connection, tenant: &str, user_id: &str) -> StoreResult<Vec<ValueRow>> {
    query_all(
        conn,
        "SELECT attr, type_norm, value_norm, is_primary FROM user_values \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY rowid",
        &[&tenant, &user_id],
        |row| {
            Ok(ValueRow {
                attr: row.get(0)?,
                type_norm: row.get(1)?,
                value_norm: row.get(2)?,
                primary: row.get(3)?,
            })
        },
    )
}

/// [`read_row`] for an update: the resource and its [`StoredColumns`], in one statement.
fn read_row_to_update(
    conn: &Connection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
) -> StoreResult<Option<(StoredResource, StoredColumns)>> {
    static USERS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {RESOURCE_COLUMNS}, r.user_name AS c_name, r.user_name_norm AS c_name_norm, \
             r.external_id AS c_external, r.external_id_norm AS c_external_norm, \
             r.external_id_key AS c_external_key, r.display_name AS c_display, \
             r.display_name_norm AS c_display_norm \
             FROM users r WHERE r.tenant_id = $1 AND r.id = $2"
        )
    });
    static GROUPS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {RESOURCE_COLUMNS}, r.display_name AS c_name, \
             r.display_name_norm AS c_name_norm, r.external_id AS c_external, \
             r.external_id_norm AS c_external_norm, r.external_id_key AS c_external_key, \
             NULL AS c_display, NULL AS c_display_norm \
             FROM groups r WHERE r.tenant_id = $1 AND r.id = $2"
        )
    });
    let sql = match kind {
        ResourceKind::User => &USERS,
        ResourceKind::Group => &GROUPS,
    };
    query_opt(conn, sql, &[&tenant, &id], |row| {
        Ok((
            resource_from_row(kind, row)?,
            StoredColumns::from_row(kind, row)?,
        ))
    })
}

pub(super) fn get(
    conn: &Connection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    fetch: Fetch,
) -> StoreResult<Option<StoredResource>> {
    let Some(mut resource) = read_row(conn, tenant, kind, id, fetch)? else {
        return Ok(None);
    };
    load_related(conn, tenant, &mut resource, fetch)?;
    Ok(Some(resource))
}

fn document_text(doc: &Document) -> StoreResult<String> {
    serde_json::to_string(doc)
        .map_err(|e| StoreError::Database(format!("document cannot be serialised: {e}")))
}

/// Whether a user already has rows in the multi-valued attribute index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueRows {
    /// A user just inserted: nothing to delete first.
    New,
    /// An existing user's rows, replaced whole.
    Replace,
}

/// Writes a user's rows in the multi-valued attribute index.
fn write_values(
    conn: &Connection,
    tenant: &str,
    user_id: &str,
    cols: &ResourceColumns,
    rows: ValueRows,
) -> StoreResult<()> {
    if rows == ValueRows::Replace {
        execute(
            conn,
            "DELETE FROM user_values WHERE tenant_id = $1 AND user_id = $2",
            &[&tenant, &user_id],
        )?;
    }
    for row in &cols.values {
        execute(
            conn,
            "INSERT INTO user_values (tenant_id, user_id, attr, type_norm, value_norm, is_primary) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &tenant,
                &user_id,
                &row.attr,
                &row.type_norm,
                &row.value_norm,
                &row.primary,
            ],
        )?;
    }
    Ok(())
}

/// Whether [`write_row`] adds a row or replaces a resource's current one, and then
/// which of its indexed columns change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowWrite {
    Insert,
    Update(ChangedColumns),
}

/// Which groups of indexed columns an update changes. SQLite rewrites an index's entry
/// whenever one of its columns is in an UPDATE's `SET` list, even to the value it
/// already holds, and each rewritten entry dirties a leaf page that the commit writes
/// to the WAL. So an update sets only the groups whose values differ from what the row
/// holds (`meta.lastModified` always changes; so does its index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChangedColumns {
    /// `userName` (users), `displayName` (groups): the unique name index.
    name: bool,
    /// `externalId`: its lookup index and its unique key.
    external: bool,
    /// A user's `displayName` index (groups have none besides the name).
    display: bool,
    /// A user's rows in the `user_values` index.
    values: bool,
}

impl ChangedColumns {
    /// The statement variant for this combination: bit 0 name, 1 external, 2 display
    /// (`values` is a statement of its own).
    fn variant(self) -> usize {
        usize::from(self.name) | usize::from(self.external) << 1 | usize::from(self.display) << 2
    }

    fn from_variant(variant: usize) -> Self {
        ChangedColumns {
            name: variant & 1 != 0,
            external: variant & 2 != 0,
            display: variant & 4 != 0,
            values: false,
        }
    }
}

/// The UPDATE of a resource's row setting only `changed`'s columns (and what every
/// update sets). Parameters as in the kind's INSERT in [`row_statement`], so
/// [`write_row`] binds the same list either way.
fn update_sql(kind: ResourceKind, changed: ChangedColumns) -> String {
    let (name, external, display, always) = match kind {
        ResourceKind::User => (
            "user_name = $3, user_name_norm = $4",
            "external_id = $5, external_id_norm = $6, external_id_key = $12",
            Some("display_name = $7, display_name_norm = $8"),
            "active = $9, doc = $10, last_modified = $11, version = version + 1",
        ),
        // A group's displayName is its name: no index of its own.
        ResourceKind::Group => (
            "display_name = $3, display_name_norm = $4",
            "external_id = $5, external_id_norm = $6, external_id_key = $9",
            None,
            "doc = $7, last_modified = $8, version = version + 1",
        ),
    };
    let set: Vec<&str> = [
        (changed.name, Some(name)),
        (changed.external, Some(external)),
        (changed.display, display),
        (true, Some(always)),
    ]
    .into_iter()
    .filter_map(|(included, columns)| columns.filter(|_| included))
    .collect();
    format!(
        "UPDATE {} SET {} WHERE tenant_id = $1 AND id = $2",
        sql::table_of(kind),
        set.join(", ")
    )
}

/// The statement for a resource row. INSERT and UPDATE of one kind take the same
/// parameters in the same order, so [`write_row`] binds them once.
fn row_statement(kind: ResourceKind, write: RowWrite) -> &'static str {
    // Every UPDATE variant, built once: `prepare_cached` then finds each by its text.
    fn variants(kind: ResourceKind) -> Vec<String> {
        (0..8)
            .map(|variant| update_sql(kind, ChangedColumns::from_variant(variant)))
            .collect()
    }
    static USER_UPDATES: LazyLock<Vec<String>> = LazyLock::new(|| variants(ResourceKind::User));
    static GROUP_UPDATES: LazyLock<Vec<String>> = LazyLock::new(|| variants(ResourceKind::Group));
    match (kind, write) {
        (ResourceKind::User, RowWrite::Insert) => {
            "INSERT INTO users (tenant_id, id, user_name, user_name_norm, external_id, \
             external_id_norm, display_name, display_name_norm, active, doc, created, \
             last_modified, version, external_id_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1, $12)"
        }
        (ResourceKind::User, RowWrite::Update(changed)) => &USER_UPDATES[changed.variant()],
        (ResourceKind::Group, RowWrite::Insert) => {
            "INSERT INTO groups (tenant_id, id, display_name, display_name_norm, \
             external_id, external_id_norm, doc, created, last_modified, version, \
             external_id_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, $9)"
        }
        (ResourceKind::Group, RowWrite::Update(changed)) => &GROUP_UPDATES[changed.variant()],
    }
}

/// Inserts or updates a resource's row (and a user's value-index rows) from its
/// derived columns.
#[allow(clippy::too_many_arguments)]
fn write_row(
    conn: &Connection,
    kind: ResourceKind,
    write: RowWrite,
    tenant: &str,
    id: &str,
    cols: &ResourceColumns,
    doc: &str,
    now: &str,
    uniqueness: &crate::UniquenessOptions,
    names: Option<&KnownNames>,
) -> StoreResult<()> {
    // Before the statement, so the name is known before any commit shows the row
    // (`known_names`' invariant); a write that fails leaves a harmless extra name. An
    // update that keeps the name needs none: the row's name is known already.
    let name_written = match write {
        RowWrite::Insert => true,
        RowWrite::Update(changed) => changed.name,
    };
    if let Some(names) = names.filter(|_| name_written) {
        names.note(tenant, kind, &cols.name.norm);
    }
    let sql = row_statement(kind, write);
    let external = cols.external_id.as_ref();
    let (external_raw, external_norm) = (
        external.map(|f| f.raw.as_str()),
        external.map(|f| f.norm.as_str()),
    );
    // NULL when externalId need not be unique: the unique index on (tenant, norm, key)
    // treats NULL keys as distinct (migration 0008).
    let external_key = external_norm.filter(|_| uniqueness.external_id);
    match kind {
        ResourceKind::User => {
            let display = cols.display_name.as_ref();
            let (display_raw, display_norm) = (
                display.map(|f| f.raw.as_str()),
                display.map(|f| f.norm.as_str()),
            );
            execute(
                conn,
                sql,
                &[
                    &tenant,
                    &id,
                    &cols.name.raw,
                    &cols.name.norm,
                    &external_raw,
                    &external_norm,
                    &display_raw,
                    &display_norm,
                    &cols.active,
                    &doc,
                    &now,
                    &external_key,
                ],
            )
            .map_err(|e| row_write_error(e, write, tenant))?;
            match write {
                RowWrite::Insert => write_values(conn, tenant, id, cols, ValueRows::New),
                RowWrite::Update(changed) if changed.values => {
                    write_values(conn, tenant, id, cols, ValueRows::Replace)
                }
                RowWrite::Update(_) => Ok(()),
            }
        }
        ResourceKind::Group => {
            execute(
                conn,
                sql,
                &[
                    &tenant,
                    &id,
                    &cols.name.raw,
                    &cols.name.norm,
                    &external_raw,
                    &external_norm,
                    &doc,
                    &now,
                    &external_key,
                ],
            )
            .map_err(|e| row_write_error(e, write, tenant))?;
            Ok(())
        }
    }
}

/// The error of a resource row's INSERT or UPDATE. An INSERT's one foreign key is its
/// tenant's (`tenant_id` → `tenants`, `ON DELETE CASCADE`), so an INSERT that breaks it
/// names a tenant that does not exist (deleted since the request was authenticated):
/// the same 404 a read of the tenant first would give, for one lookup of the tenant
/// per create instead of two (docs/benchmarks.md, item 75).
fn row_write_error(err: rusqlite::Error, write: RowWrite, tenant: &str) -> StoreError {
    let foreign_key = matches!(
        &err,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    );
    match write {
        RowWrite::Insert if foreign_key => unknown_tenant(tenant).into(),
        _ => write_error(err),
    }
}

/// A create with everything that depends only on the request done: the derived
/// columns, the document as JSON text, the id. [`prepare_create`] runs on the caller's
/// task, so the one writer thread every write waits for does only the writing.
pub(super) struct PreparedCreate {
    kind: ResourceKind,
    id: String,
    cols: ResourceColumns,
    doc: String,
    new: NewResource,
}

/// Prepares a create (see [`PreparedCreate`]).
pub(super) fn prepare_create(kind: ResourceKind, new: NewResource) -> StoreResult<PreparedCreate> {
    let cols = columns::derive(kind, &new.document)?;
    if kind == ResourceKind::User && !new.members.is_empty() {
        return Err(ScimError::invalid_value("users have no members").into());
    }
    let doc = document_text(&new.document)?;
    // UUIDv7 (RFC 9562 §5.7): time-ordered, so the id indexes (the primary key, the
    // value index's user column, memberships) grow at their right edge instead of
    // dirtying a random leaf page per insert. The id stays opaque to clients; the
    // creation time it encodes is `meta.created` anyway.
    let id = uuid::Uuid::now_v7().to_string();
    Ok(PreparedCreate {
        kind,
        id,
        cols,
        doc,
        new,
    })
}

pub(super) fn create(
    conn: &Connection,
    uniqueness: &crate::UniquenessOptions,
    names: Option<&KnownNames>,
    tenant: &str,
    prepared: PreparedCreate,
    fetch: Fetch,
) -> StoreResult<StoredResource> {
    let PreparedCreate {
        kind,
        id,
        cols,
        doc,
        new,
    } = prepared;
    // No read of the tenant first: the row's foreign key checks it (`row_write_error`).
    let now = timestamp::now();
    write_row(
        conn,
        kind,
        RowWrite::Insert,
        tenant,
        &id,
        &cols,
        &doc,
        &timestamp::format(now),
        uniqueness,
        names,
    )?;
    if kind == ResourceKind::Group {
        members::apply(
            conn,
            tenant,
            &id,
            &[scimd_protocol::resource::MemberChange::Add(new.members)],
        )?;
    }
    // The answer is built from what was just written rather than read back: reading
    // would parse the document this function serialised a moment ago, on the one
    // writer thread every write waits for. `now` is already at stored precision.
    let mut created = StoredResource {
        id,
        kind,
        document: new.document,
        document_text: None,
        meta: Meta {
            created: now,
            last_modified: now,
            version: 1,
        },
        members: None,
        groups: None,
    };
    match kind {
        // A user that did not exist a moment ago is in no group: nothing to read.
        ResourceKind::User => created.groups = fetch.groups.then(Vec::new),
        ResourceKind::Group => load_related(conn, tenant, &mut created, fetch)?,
    }
    Ok(created)
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
pub(super) fn update(
    conn: &Connection,
    uniqueness: &crate::UniquenessOptions,
    names: Option<&KnownNames>,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    if_match: Option<u64>,
    change: UpdateFn,
    fetch: Fetch,
) -> StoreResult<StoredResource> {
    let (current, stored) =
        read_row_to_update(conn, tenant, kind, id)?.ok_or_else(|| not_found(kind, id))?;
    check_version(kind, id, current.meta.version, if_match)?;
    let update = change(&current)?;
    let document_changed = update.document != current.document;
    let members_changed = match kind {
        ResourceKind::Group => members::apply(conn, tenant, id, &update.members)?,
        ResourceKind::User if update.members.is_empty() => false,
        ResourceKind::User => return Err(ScimError::invalid_value("users have no members").into()),
    };
    let now = timestamp::now();
    let mut updated = current;
    if document_changed {
        let cols = columns::derive(kind, &update.document)?;
        let doc = document_text(&update.document)?;
        let changed = stored.changed_by(conn, tenant, id, &cols, uniqueness)?;
        write_row(
            conn,
            kind,
            RowWrite::Update(changed),
            tenant,
            id,
            &cols,
            &doc,
            &timestamp::format(now),
            uniqueness,
            names,
        )?;
        updated.document = update.document;
    } else if members_changed {
        execute(
            conn,
            &format!(
                "UPDATE {} SET last_modified = $3, version = version + 1 \
                 WHERE tenant_id = $1 AND id = $2",
                sql::table_of(kind)
            ),
            &[&tenant, &id, &timestamp::format(now)],
        )?;
    }
    // As in `create`: the answer is what was written (the row's `version = version +
    // 1` and `last_modified = now`), not a second read and parse on the writer thread.
    if document_changed || members_changed {
        updated.meta.last_modified = now;
        updated.meta.version += 1;
    }
    updated.members = None;
    updated.groups = None;
    load_related(conn, tenant, &mut updated, fetch)?;
    Ok(updated)
}

pub(super) fn delete(
    conn: &Connection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
    if_match: Option<u64>,
) -> StoreResult<()> {
    let version: Option<i64> = query_opt(
        conn,
        &format!(
            "SELECT version FROM {} WHERE tenant_id = $1 AND id = $2",
            sql::table_of(kind)
        ),
        &[&tenant, &id],
        |row| Ok(row.get(0)?),
    )?;
    let version = version.ok_or_else(|| not_found(kind, id))?;
    check_version(kind, id, u64::try_from(version).unwrap_or(0), if_match)?;
    let now = timestamp::format(timestamp::now());
    members::forget_member(conn, tenant, id, &now)?;
    // The resource's own membership rows and value-index rows go by ON DELETE CASCADE.
    execute(
        conn,
        &format!(
            "DELETE FROM {} WHERE tenant_id = $1 AND id = $2",
            sql::table_of(kind)
        ),
        &[&tenant, &id],
    )?;
    Ok(())
}

/// The sort key value of a listed row, for the next cursor.
fn cursor_key(row: &Row<'_>) -> StoreResult<CursorKey> {
    Ok(match row.get_ref("sort_key")? {
        ValueRef::Null => CursorKey::Null,
        ValueRef::Integer(int) => CursorKey::Int(int),
        ValueRef::Real(real) => CursorKey::Real(real),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => CursorKey::Text(
            String::from_utf8(bytes.to_vec())
                .map_err(|_| StoreError::Database("sort key is not UTF-8 text".into()))?,
        ),
    })
}

/// Runs a compiled list request: the page, the count when the page cannot tell it, and
/// what `fetch` asks for that the page did not bring.
pub(super) fn list(
    conn: &Connection,
    tenant: &str,
    kind: ResourceKind,
    plan: &ListPlan,
    fetch: Fetch,
) -> StoreResult<ListPage> {
    let rows = read_page(conn, kind, plan, fetch)?;
    let total = match plan.total_from_page(rows.len()) {
        Some(total) => total,
        None => {
            let counted: i64 =
                query_scalar(conn, &plan.count_sql, &args_of(plan.count_binds.values()))?;
            u64::try_from(counted).unwrap_or(0)
        }
    };
    let mut page = page_of(plan, rows, total);
    if plan.needs_related_reads(kind, fetch) {
        for resource in &mut page.resources {
            load_related(conn, tenant, resource, fetch)?;
        }
    }
    Ok(page)
}

/// [`list`] in its page statement alone, which needs no transaction around it
/// (`SqliteStore::read_one_statement`): when the page brings everything `fetch` asks
/// for and tells the total itself, as it does for an IdP's `userName eq` query.
/// `None` when another statement is needed; the caller then runs [`list`].
pub(super) fn list_in_one_statement(
    conn: &Connection,
    kind: ResourceKind,
    plan: &ListPlan,
    fetch: Fetch,
) -> StoreResult<Option<ListPage>> {
    if plan.needs_related_reads(kind, fetch) {
        return Ok(None);
    }
    let rows = read_page(conn, kind, plan, fetch)?;
    Ok(plan
        .total_from_page(rows.len())
        .map(|total| page_of(plan, rows, total)))
}

/// The page statement's rows, with their groups when the page carries them.
fn read_page(
    conn: &Connection,
    kind: ResourceKind,
    plan: &ListPlan,
    fetch: Fetch,
) -> StoreResult<Vec<(StoredResource, CursorKey)>> {
    query_all(
        conn,
        &plan.page_sql,
        &args_of(plan.page_binds.values()),
        |row| {
            let mut resource = resource_from_row_as(kind, row, fetch)?;
            if plan.groups_in_page {
                resource.groups = Some(groups_from_row(row)?);
            }
            Ok((resource, cursor_key(row)?))
        },
    )
}

/// The page of `rows`: for cursor paging, the extra row that told whether there is a
/// next page is dropped and the next cursor made from the last row kept.
fn page_of(plan: &ListPlan, mut rows: Vec<(StoredResource, CursorKey)>, total: u64) -> ListPage {
    let mut next_cursor = None;
    if let Some(size) = plan.cursor_page_size {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if rows.len() > size {
            rows.truncate(size);
            if let Some((last, key)) = rows.last() {
                next_cursor = Some(
                    Cursor {
                        signature: plan.sort.signature.clone(),
                        key: key.clone(),
                        id: last.id.clone(),
                    }
                    .encode(),
                );
            }
        }
    }
    ListPage {
        total_results: total,
        resources: rows.into_iter().map(|(resource, _)| resource).collect(),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows are read by position ([`column`]): the positions must be those of
    /// [`RESOURCE_COLUMNS`].
    #[test]
    fn the_column_positions_are_those_of_the_resource_columns() {
        let names: Vec<&str> = RESOURCE_COLUMNS
            .split(", ")
            .map(|c| c.trim_start_matches("r."))
            .collect();
        assert_eq!(names[column::ID], "id");
        assert_eq!(names[column::DOC], "doc");
        assert_eq!(names[column::CREATED], "created");
        assert_eq!(names[column::LAST_MODIFIED], "last_modified");
        assert_eq!(names[column::VERSION], "version");
        assert_eq!(names.len(), 5);
    }

    /// The user's point read with its groups reads by key and by the member index:
    /// its cost does not grow with the tenant's users, groups or memberships.
    #[test]
    fn the_user_with_its_groups_is_read_through_indexes() {
        let (_dir, conn) = super::super::migrate::database_at_version(i64::MAX);
        let binds = [sql::Bind::Text("t".into()), sql::Bind::Text("u".into())];
        let plan = super::super::query_plan(&conn, &USER_WITH_GROUPS, &binds).expect("plan");
        assert!(
            plan.iter()
                .all(|line| !line.starts_with("SCAN") && !line.contains("TEMP B-TREE")),
            "{plan:#?}"
        );
        assert!(
            plan.iter()
                .any(|line| line.contains("group_members_member")),
            "{plan:#?}"
        );
    }

    /// Each UPDATE variant sets exactly its groups' columns (an unchanged index is not
    /// rewritten), always the document, `lastModified` and version, and compiles.
    #[test]
    fn an_update_sets_only_the_columns_that_changed() {
        let (_dir, conn) = super::super::migrate::database_at_version(i64::MAX);
        let groups: [(&str, &[&str]); 3] = [
            ("name", &["user_name", "user_name_norm"]),
            (
                "external",
                &["external_id", "external_id_norm", "external_id_key"],
            ),
            ("display", &["display_name", "display_name_norm"]),
        ];
        for variant in 0..8 {
            let changed = ChangedColumns::from_variant(variant);
            assert_eq!(changed.variant(), variant);
            let sql = row_statement(ResourceKind::User, RowWrite::Update(changed));
            let set = sql.split(" WHERE ").next().unwrap_or_default().to_owned();
            let included = [changed.name, changed.external, changed.display];
            for ((group, columns), included) in groups.iter().zip(included) {
                for column in *columns {
                    assert_eq!(
                        set.contains(&format!(" {column} = ")),
                        included,
                        "{group} in variant {variant}: {sql}"
                    );
                }
            }
            for always in [
                "doc = ",
                "last_modified = ",
                "version = version + 1",
                "active = ",
            ] {
                assert!(set.contains(always), "{always} in {sql}");
            }
            conn.prepare(sql).expect("the user UPDATE compiles");
            let sql = row_statement(ResourceKind::Group, RowWrite::Update(changed));
            assert_eq!(sql.contains(" display_name = "), changed.name, "{sql}");
            assert_eq!(
                sql.contains(" external_id_key = "),
                changed.external,
                "{sql}"
            );
            conn.prepare(sql).expect("the group UPDATE compiles");
        }
    }
}
