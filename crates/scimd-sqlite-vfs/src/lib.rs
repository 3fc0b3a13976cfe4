//! An SQLite VFS that writes each WAL commit in one system call.
//!
//! SQLite appends a transaction to the WAL one frame at a time, and each frame as two
//! `pwrite`s: its 24-byte header, then its page (`walWriteOneFrame` in `wal.c`). A
//! commit of ten pages is twenty system calls, and each makes the kernel look up,
//! lock and dirty one or two page-cache pages for a few bytes. Profiles of scimd's
//! write-heavy benchmarks had those calls at a third of the writer thread's CPU
//! (docs/benchmarks.md, item 60).
//!
//! [`register`] adds a VFS named [`NAME`] that wraps the platform's default one
//! (`unix` on Linux). Database files, journals and temporary files are the wrapped
//! VFS's own files, untouched. WAL files get a thin layer ([`gather`]'s rules) that
//! holds a transaction's appended frames in memory (up to 256 KiB) and writes them at
//! once when the commit frame arrives, before SQLite goes on to publish the commit in the WAL index.
//! Every other call on a WAL file (read, sync, truncate...) first writes what is
//! held. So another connection, in this process or another, finds every committed
//! frame in the file exactly as before, and a process that dies after a commit
//! returned has lost nothing of it.
//!
//! **What a connection that writes through it must do: `PRAGMA cache_spill = OFF`.**
//! With spilling on, SQLite writes a large transaction's pages to the WAL before its
//! commit. The VFS holds those frames, and if the transaction then rolls back, SQLite
//! makes no call on the WAL file that would tell it: the frames stay held, and the
//! connection's next call on the file writes them, possibly over frames another
//! process committed at the same offsets in between. Without spilling, SQLite writes
//! frames only in a commit, and a commit leaves nothing held once its last write
//! returns. (A connection that only reads never writes frames.)
//!
//! It also lets the background checkpoint sync a database's files without a lock
//! ([`flush_files`], the [`flush`] module says why).
//!
//! This is the one crate of the workspace with `unsafe` code: the C ABI of SQLite's
//! VFS (`sqlite3_vfs`, `sqlite3_io_methods`; SQLite docs, "The OS Interface").

#![deny(unsafe_op_in_unsafe_fn)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod flush;
mod gather;
mod wal_file;

pub use flush::{flush_files, FlushError};

use std::ffi::CStr;
use std::sync::OnceLock;

/// The name to open connections with (`Connection::open_with_flags_and_vfs`).
pub const NAME: &str = "scimd-wal-gather";

/// The same, NUL-terminated, for SQLite.
const C_NAME: &CStr = c"scimd-wal-gather";

/// Why the VFS could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("SQLite has no default VFS to wrap")]
    NoDefaultVfs,
    #[error("sqlite3_vfs_register failed with code {0}")]
    Register(i32),
}

/// What the VFS did with WAL writes since the process started, across all files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalWriteStats {
    /// `xWrite` calls SQLite made on WAL files.
    pub requested: u64,
    /// Writes made to the files in their place.
    pub written: u64,
}

impl WalWriteStats {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: WalWriteStats) -> WalWriteStats {
        WalWriteStats {
            requested: self.requested.saturating_sub(earlier.requested),
            written: self.written.saturating_sub(earlier.written),
        }
    }
}

/// The counters of [`WalWriteStats`], for tests and diagnostics.
pub fn stats() -> WalWriteStats {
    WalWriteStats {
        requested: wal_file::REQUESTED.load(std::sync::atomic::Ordering::Relaxed),
        written: wal_file::WRITTEN.load(std::sync::atomic::Ordering::Relaxed),
    }
}

/// Registers the VFS once per process (later calls return the first outcome) and
/// returns its name. It is not made the default: only connections opened with
/// [`NAME`] use it.
pub fn register() -> Result<&'static str, &'static RegisterError> {
    static REGISTERED: OnceLock<Result<(), RegisterError>> = OnceLock::new();
    REGISTERED
        .get_or_init(wal_file::register)
        .as_ref()
        .map(|()| NAME)
}
