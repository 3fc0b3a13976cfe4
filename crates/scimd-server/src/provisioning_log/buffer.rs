//! The buffer between the request path and the database.
//!
//! Requests hand entries to a bounded channel with `try_send`, which never waits: when
//! the buffer is full the entry is dropped and counted ([`super::DROPPED_TOTAL`]), so a
//! slow or locked database can delay the log but never a SCIM response. One writer
//! task drains the channel in batches (one transaction per batch), writing when a batch
//! is full or its oldest entry has waited `flush_interval`, and drains what is left
//! when told to stop (graceful shutdown).

use crate::config::ProvisioningLogConfig;
use crate::state::AppState;
use scimd_store::{NewLogEntry, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How often a filling batch collects the entries that arrived. Waiting for each entry
/// instead cost the writer task a wake-up (and a timer) per SCIM request.
const FILL_TICK: Duration = Duration::from_millis(20);

/// The request side of the provisioning log: where entries are put.
#[derive(Debug)]
pub struct ProvisioningLog {
    sender: mpsc::Sender<NewLogEntry>,
    /// Taken by the one writer ([`start_writer`]).
    receiver: Mutex<Option<mpsc::Receiver<NewLogEntry>>>,
    dropped: AtomicU64,
    batch_size: usize,
    flush_interval: Duration,
}

impl ProvisioningLog {
    /// A buffer of `config.buffer_capacity` entries (at least one).
    pub fn new(config: &ProvisioningLogConfig) -> Self {
        let (sender, receiver) = mpsc::channel(config.buffer_capacity.max(1));
        ProvisioningLog {
            sender,
            receiver: Mutex::new(Some(receiver)),
            dropped: AtomicU64::new(0),
            batch_size: config.batch_size.max(1),
            flush_interval: config.flush_interval,
        }
    }

    /// Buffers an entry without waiting; drops and counts it when the buffer is full.
    pub fn record(&self, entry: NewLogEntry) {
        if self.sender.try_send(entry).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            crate::ops::metrics::install();
            metrics::counter!(super::DROPPED_TOTAL).increment(1);
        }
    }

    /// Entries this buffer has dropped since it was created.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Entries waiting to be written.
    pub fn buffered(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    fn take_receiver(&self) -> Option<mpsc::Receiver<NewLogEntry>> {
        match self.receiver.lock() {
            Ok(mut slot) => slot.take(),
            // A panic while holding this lock cannot leave the Option half-taken.
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

/// The running writer task.
#[derive(Debug)]
pub struct LogWriter {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl LogWriter {
    /// Writes everything buffered so far, then ends the task.
    pub async fn flush_and_stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the provisioning log writer ended abnormally");
        }
    }
}

/// Starts the writer for the state's buffer. `None` when one was already started:
/// there is exactly one reader of the buffer per process.
pub fn start_writer(state: &AppState) -> Option<LogWriter> {
    let log = state.provisioning_log();
    let receiver = log.take_receiver()?;
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(run_writer(
        state.store_arc(),
        receiver,
        stop_rx,
        log.batch_size,
        log.flush_interval,
    ));
    Some(LogWriter { stop, task })
}

async fn run_writer(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<NewLogEntry>,
    mut stop: watch::Receiver<bool>,
    batch_size: usize,
    flush_interval: Duration,
) {
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        // Wait for the first entry of a batch (or the stop signal).
        let stopping = tokio::select! {
            biased;
            _ = stop.changed() => true,
            received = receiver.recv_many(&mut batch, batch_size) => {
                if received == 0 {
                    // Every sender is gone: nothing more can arrive.
                    return;
                }
                false
            }
        };
        let mut stopping = stopping;
        // Let the batch fill until it is full or its first entry has waited long enough,
        // collecting what arrived once per FILL_TICK rather than waking per entry.
        let deadline = tokio::time::Instant::now() + flush_interval;
        while !stopping && batch.len() < batch_size {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            tokio::select! {
                biased;
                _ = stop.changed() => stopping = true,
                () = tokio::time::sleep_until((now + FILL_TICK).min(deadline)) => {}
            }
            while batch.len() < batch_size {
                match receiver.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(_) => break,
                }
            }
        }
        write_batch(store.as_ref(), &mut batch).await;
        if stopping {
            // Drain what requests buffered before the stop, batch by batch.
            while let Ok(entry) = receiver.try_recv() {
                batch.push(entry);
                if batch.len() >= batch_size {
                    write_batch(store.as_ref(), &mut batch).await;
                }
            }
            write_batch(store.as_ref(), &mut batch).await;
            return;
        }
    }
}

/// Writes and empties a batch. A failure loses the batch (counted and logged, without
/// the entries' content): the log must not grow without bound while the database is
/// down, and retrying would delay every later entry.
async fn write_batch(store: &dyn Store, batch: &mut Vec<NewLogEntry>) {
    if batch.is_empty() {
        return;
    }
    // Handed over whole (the store moves it to its writer); the next batch fills a
    // new buffer of the same size.
    let entries = std::mem::replace(batch, Vec::with_capacity(batch.capacity()));
    let count = entries.len();
    if let Err(e) = store.append_request_logs(entries).await {
        tracing::warn!(error = %e, entries = count, "could not write provisioning log entries");
        crate::ops::metrics::install();
        metrics::counter!(super::WRITE_FAILURES_TOTAL).increment(count as u64);
    }
}
