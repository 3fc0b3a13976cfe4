//! WAL checkpoints off the write path.
//!
//! By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 pages:
//! that commit copies pages into the database file and, with `synchronous=NORMAL`,
//! fsyncs it, while holding our one writer. Profiles of the `mixed` benchmark showed
//! checkpoints at 7% of the server's CPU and as the tail of write latency. So a
//! background thread runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection every
//! [`CHECKPOINT_INTERVAL`]: a passive checkpoint never waits for readers or writers
//! (SQLite docs, "Checkpoint a database"), and writers go on appending to the WAL while
//! it copies. The writer keeps an automatic checkpoint at [`BACKSTOP_PAGES`] as a
//! backstop, in case this thread falls behind.

use super::db;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the background checkpoint runs.
pub(super) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// The writer's own automatic checkpoint threshold, in WAL pages (4 KiB each): ten
/// times SQLite's default, reached only when the background checkpoint cannot keep up.
pub(super) const BACKSTOP_PAGES: u32 = 10_000;

/// The running checkpoint thread. Dropping it (or [`Checkpointer::stop`]) ends the
/// thread at its next wake-up.
#[derive(Debug)]
pub(super) struct Checkpointer {
    stop: std::sync::Mutex<Option<Sender<()>>>,
}

impl Checkpointer {
    /// Starts the thread for the database at `path` (which exists and is in WAL mode).
    pub(super) fn start(path: &Path, busy_timeout: Duration) -> std::io::Result<Checkpointer> {
        let (stop, stopped) = mpsc::channel::<()>();
        let path: PathBuf = path.to_owned();
        std::thread::Builder::new()
            .name("scimd-sqlite-checkpoint".into())
            .spawn(move || {
                let conn = match db::open_checkpointer(&path, busy_timeout) {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not open the SQLite checkpoint connection; the writer checkpoints by itself");
                        return;
                    }
                };
                // Ends when told to, or when the store (and so the sender) is gone.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL)
                {
                    // A busy result (another process is checkpointing) is not an error
                    // worth more than a debug line: the next round tries again.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "SQLite WAL checkpoint did not run");
                    }
                }
            })?;
        Ok(Checkpointer {
            stop: std::sync::Mutex::new(Some(stop)),
        })
    }

    /// Ends the thread (it finishes a checkpoint in progress first).
    pub(super) fn stop(&self) {
        let sender = self
            .stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }
}
