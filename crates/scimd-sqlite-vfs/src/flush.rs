//! Flushing a database's files to disk without a checkpoint and without a lock.
//!
//! A checkpoint that copies the whole WAL (`FULL`, `RESTART`) holds SQLite's write
//! lock from its start to its end, and with `synchronous=NORMAL` its end is two
//! `fsync`s: the WAL's, then the database file's (SQLite docs, "Checkpoint a
//! database"; `walCheckpoint` in `wal.c`). What those calls write is every page written
//! to either file since it was last synced, so when earlier *passive* checkpoints have
//! copied many frames (a passive checkpoint syncs the database file only when it copied
//! the whole WAL, which under steady writes it never does), the restart's `fsync` of the
//! database file writes them all while every write waits.
//!
//! [`flush_files`] asks SQLite's own open files of one schema to sync
//! (`SQLITE_FCNTL_FILE_POINTER`, `SQLITE_FCNTL_JOURNAL_POINTER`, then the file's
//! `xSync`), taking no lock: the data reaches the disk while writers go on, and the
//! `fsync`s a checkpoint then makes under the lock find little left to write. It
//! changes nothing SQLite relies on: a sync only makes durable what is already written.
//!
//! Why through SQLite's file objects and not a file of our own: closing any descriptor
//! of a file drops every POSIX lock the process holds on it, SQLite's included (the
//! reason for `unixInodeInfo` in `os_unix.c`); a descriptor opened here would have to
//! outlive every connection.

use libsqlite3_sys as ffi;
use std::ffi::{c_int, CString};
use std::ptr;

/// Why [`flush_files`] failed.
#[derive(Debug, thiserror::Error)]
pub enum FlushError {
    #[error("schema name {0:?} contains a NUL character")]
    SchemaName(String),
    /// `sqlite3_file_control` failed: SQLITE_ERROR for a schema the connection does
    /// not have.
    #[error("SQLite could not give the files of schema {schema:?} (code {code})")]
    NoSuchFile { schema: String, code: c_int },
    /// A file's `xSync` failed (an I/O error).
    #[error("syncing a file of schema {schema:?} failed (SQLite code {code})")]
    Sync { schema: String, code: c_int },
}

/// Syncs the WAL (or rollback journal) and then the database file of `schema`
/// ("main", or an attached database's name) as `conn` has them open, with
/// `SQLITE_SYNC_NORMAL` (`fdatasync` or `fsync`, as SQLite was built). A file the
/// connection has not opened (no WAL before its first read) is skipped.
///
/// `conn` must not be in use on another thread meanwhile (a rusqlite `Connection` is
/// not `Sync`, so the borrow ensures it).
pub fn flush_files(conn: &rusqlite::Connection, schema: &str) -> Result<(), FlushError> {
    let name = CString::new(schema).map_err(|_| FlushError::SchemaName(schema.to_owned()))?;
    // The WAL first, as a checkpoint does: frames before the pages copied from them.
    for op in [
        ffi::SQLITE_FCNTL_JOURNAL_POINTER,
        ffi::SQLITE_FCNTL_FILE_POINTER,
    ] {
        let mut file: *mut ffi::sqlite3_file = ptr::null_mut();
        // SAFETY: `conn.handle()` is the connection's open `sqlite3*`, used by no other
        // thread while `conn` is borrowed. Both opcodes write one `sqlite3_file*` to
        // the pointer given: the pager's file object, owned by the connection and
        // valid while the connection is open and this thread holds it.
        let code = unsafe {
            ffi::sqlite3_file_control(conn.handle(), name.as_ptr(), op, (&raw mut file).cast())
        };
        if code != ffi::SQLITE_OK {
            return Err(FlushError::NoSuchFile {
                schema: schema.to_owned(),
                code,
            });
        }
        // SAFETY: `file` is null or the file object above; an unopened file object has
        // a null `pMethods` (SQLite's convention, which `xClose` relies on too).
        let sync = unsafe {
            file.as_ref()
                .and_then(|file| file.pMethods.as_ref())
                .and_then(|methods| methods.xSync)
        };
        let Some(sync) = sync else { continue };
        // SAFETY: the file is open (its methods are set) and belongs to this connection.
        let code = unsafe { sync(file, ffi::SQLITE_SYNC_NORMAL) };
        if code != ffi::SQLITE_OK {
            return Err(FlushError::Sync {
                schema: schema.to_owned(),
                code,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn wal_database(dir: &tempfile::TempDir) -> Connection {
        let conn = Connection::open(dir.path().join("f.db")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        conn.execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('x');")
            .unwrap();
        conn
    }

    #[test]
    fn the_files_of_main_and_of_an_attached_database_are_synced() {
        let dir = tempfile::tempdir().unwrap();
        let conn = wal_database(&dir);
        let other = dir.path().join("other.db");
        conn.execute("ATTACH DATABASE ?1 AS other", [other.to_str().unwrap()])
            .unwrap();
        conn.execute_batch("CREATE TABLE other.u (y TEXT)").unwrap();
        flush_files(&conn, "main").unwrap();
        flush_files(&conn, "other").unwrap();
        // Still the same data, and the connection still writes.
        conn.execute("INSERT INTO t VALUES ('y')", []).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 2);
    }

    #[test]
    fn a_connection_that_has_not_read_yet_has_no_wal_to_sync() {
        let dir = tempfile::tempdir().unwrap();
        drop(wal_database(&dir));
        let fresh = Connection::open(dir.path().join("f.db")).unwrap();
        flush_files(&fresh, "main").unwrap();
    }

    #[test]
    fn an_unknown_schema_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let conn = wal_database(&dir);
        assert!(matches!(
            flush_files(&conn, "nowhere"),
            Err(FlushError::NoSuchFile { .. })
        ));
        assert!(matches!(
            flush_files(&conn, "ma\0in"),
            Err(FlushError::SchemaName(_))
        ));
    }
}
