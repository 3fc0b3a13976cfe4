//! rusqlite plumbing shared by the SQLite modules: opening connections, binding the
//! compiler's `$n` placeholders, running cached statements, and telling unique-index
//! violations apart.
//!
//! Every statement goes through [`Connection::prepare_cached`]: the SQL texts are a
//! fixed set (plus the filter shapes clients send), so after warm-up a statement is a
//! cache hit, a bind and a step.

use crate::sql::Bind;
use crate::{StoreError, StoreResult};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags, Row, Statement, ToSql};
use scimd_protocol::ScimError;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

impl ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Bind::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Bind::Int(int) => ToSqlOutput::Owned(Value::Integer(*int)),
            Bind::Real(real) => ToSqlOutput::Owned(Value::Real(*real)),
            // SQLite has no boolean type: 0 and 1, as JSON true/false extract to.
            Bind::Bool(flag) => ToSqlOutput::Owned(Value::Integer(i64::from(*flag))),
        })
    }
}

/// The bound values of one statement, in placeholder order (`$1` is the first).
pub(super) type Args<'a> = &'a [&'a dyn ToSql];

/// Compiled binds as [`Args`].
pub(super) fn args_of(binds: &[Bind]) -> Vec<&dyn ToSql> {
    binds.iter().map(|bind| bind as &dyn ToSql).collect()
}

/// The schema name the provisioning log's file is attached under on every connection.
pub(super) const LOG_SCHEMA: &str = "logs";

/// Page cache per connection for the log's file, in KiB. Appends touch only the right
/// edge of two B-trees and listings are occasional, so SQLite's default (2,000 KiB per
/// connection, on top of the main file's) would only hold pages nobody reads again.
const LOG_CACHE_KIB: u32 = 256;

/// The provisioning log's own file, next to the database at `main`: `scimd.db` keeps
/// its log in `scimd-provisioning-log.db`.
///
/// Why a file of its own: every SCIM request appends a log row, and in WAL mode a
/// reader's page cache is discarded whenever its database has had a commit since the
/// reader's last read. With the log in the main file, each log commit cost every
/// reader its cache, under a read-only load too (docs/benchmarks.md, item 49). SQLite
/// keeps one page cache and one WAL per attached file, so log commits now leave the
/// readers of users and groups alone.
pub(super) fn log_path(main: &Path) -> PathBuf {
    let stem = main.file_stem().map_or_else(
        || "scimd".into(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    let mut name = format!("{stem}-provisioning-log");
    if let Some(extension) = main.extension() {
        name.push('.');
        name.push_str(&extension.to_string_lossy());
    }
    main.with_file_name(name)
}

/// Attaches the provisioning log's file (see [`log_path`]) as [`LOG_SCHEMA`], with the
/// main file's durability setting (`synchronous` is per attached file). A read-only
/// connection attaches it read-only.
fn attach_log(conn: &Connection, main: &Path) -> rusqlite::Result<()> {
    let log = log_path(main);
    let log = log
        .to_str()
        .ok_or_else(|| rusqlite::Error::InvalidPath(log.clone()))?;
    conn.execute(&format!("ATTACH DATABASE ?1 AS {LOG_SCHEMA}"), [log])?;
    conn.execute_batch(&format!(
        "PRAGMA {LOG_SCHEMA}.synchronous = NORMAL; PRAGMA {LOG_SCHEMA}.cache_size = -{LOG_CACHE_KIB};"
    ))
}

/// Opens `path` with `flags` through [`scimd_sqlite_vfs`], which writes each commit's
/// WAL frames in one system call instead of two per page (docs/benchmarks.md, item
/// 60). Should it ever fail to register, SQLite's default VFS does the same work.
///
/// Every connection is opened with `cache_spill` off, as that VFS requires of the
/// connections that write through it: a transaction never writes frames to the WAL
/// before its commit, so the VFS never holds frames of a transaction that could
/// still roll back (and a later write of them could land over frames another
/// process committed meanwhile). A transaction larger than the page cache grows the
/// cache instead, until its commit.
pub(super) fn open_file(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = match scimd_sqlite_vfs::register() {
        Ok(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs)?,
        Err(e) => {
            tracing::warn!(error = %e, "could not register the WAL-gathering SQLite VFS");
            Connection::open_with_flags(path, flags)?
        }
    };
    conn.pragma_update(None, "cache_spill", false)?;
    Ok(conn)
}

/// Opens the one writer connection, creating the files and switching them to WAL.
pub(super) fn open_writer(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = open_file(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, busy_timeout)?;
    // A write's savepoint keeps the pages it changes in a sub-journal, which SQLite
    // spills to a temporary file past 64 KiB unless temporary storage is in memory;
    // a group of writes got past that, and the sub-journal was a fifth of the writer
    // thread's samples under entra-cycle (docs/benchmarks.md, item 28). Only the
    // writer: readers' sorts may be large, and spilling those to disk is right.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // The journal mode is a property of the file: set once here, readers inherit it.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    attach_log(&conn, path)?;
    let _mode: String = conn.query_row(
        &format!("PRAGMA {LOG_SCHEMA}.journal_mode = WAL"),
        [],
        |row| row.get(0),
    )?;
    // Checkpoints run in the background (see `checkpoint`); this is the backstop.
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        super::checkpoint::BACKSTOP_PAGES,
    )?;
    Ok(conn)
}

/// Opens the background checkpoint's connection (read-write: a checkpoint writes the
/// database file); it never starts a transaction.
pub(super) fn open_checkpointer(
    path: &Path,
    busy_timeout: Duration,
) -> rusqlite::Result<Connection> {
    let conn = open_file(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, busy_timeout)?;
    attach_log(&conn, path)?;
    // Only the writer's commits should ever checkpoint automatically (the backstop).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
}

/// Opens a read-only connection; the writer has created the file and set WAL.
pub(super) fn open_reader(path: &Path, busy_timeout: Duration) -> rusqlite::Result<Connection> {
    let conn = open_file(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, busy_timeout)?;
    attach_log(&conn, path)?;
    Ok(conn)
}

/// `synchronous=NORMAL` (durable at checkpoints, safe against corruption in WAL
/// mode), foreign keys on, a busy timeout, a statement cache.
fn configure(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Binds `args` to the statement's placeholders. The SQL is written (and compiled by
/// [`crate::sql`]) with PostgreSQL-style `$n`, which SQLite treats as *named*
/// parameters numbered in order of first appearance; so each parameter's value is
/// chosen by its name: `$3` gets `args[2]`, wherever it appears and however often.
fn bind(stmt: &mut Statement<'_>, args: Args<'_>) -> rusqlite::Result<()> {
    for index in 1..=stmt.parameter_count() {
        let position = stmt
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$').or_else(|| name.strip_prefix('?')))
            .and_then(|number| number.parse::<usize>().ok())
            .unwrap_or(index);
        let value = position
            .checked_sub(1)
            .and_then(|at| args.get(at))
            .ok_or_else(|| rusqlite::Error::InvalidParameterCount(position, args.len()))?;
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

/// Runs a statement that returns no rows; returns how many rows it changed.
pub(super) fn execute(conn: &Connection, sql: &str, args: Args<'_>) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    stmt.raw_execute()
}

/// Runs a query and maps every row.
pub(super) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    args: Args<'_>,
    mut map: impl FnMut(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// Runs a query and maps its first row, if any.
pub(super) fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    args: Args<'_>,
    map: impl FnOnce(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    let mut rows = stmt.raw_query();
    match rows.next()? {
        Some(row) => Ok(Some(map(row)?)),
        None => Ok(None),
    }
}

/// Runs a query that always returns one row (an aggregate) and reads column 0.
pub(super) fn query_scalar<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    args: Args<'_>,
) -> StoreResult<T> {
    query_opt(conn, sql, args, |row| Ok(row.get(0)?))?
        .ok_or_else(|| StoreError::Database(format!("no row from '{sql}'")))
}

/// Maps an error of a write: unique-index violations become 409 `uniqueness` naming
/// the attribute (RFC 7644 §3.12), also when two creates race, because the database's
/// unique index is the arbiter, not a read before the write.
pub(crate) fn write_error(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, message) = &err {
        let unique = matches!(
            failure.extended_code,
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        );
        if unique {
            let message = message.as_deref().unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::log_path;
    use std::path::Path;

    /// The log's file is named after the database's, in the same directory, as the
    /// README documents.
    #[test]
    fn the_log_file_is_named_after_the_database() {
        let cases = [
            (
                "/var/lib/scimd/scimd.db",
                "/var/lib/scimd/scimd-provisioning-log.db",
            ),
            ("data/acme.sqlite", "data/acme-provisioning-log.sqlite"),
            ("/srv/store", "/srv/store-provisioning-log"),
        ];
        for (main, log) in cases {
            assert_eq!(log_path(Path::new(main)), Path::new(log), "{main}");
        }
    }
}
