//! Running N workers against a shared, bounded list of jobs.
//!
//! Every load is bounded twice: by its number of jobs and by a deadline. A worker
//! takes the next job only while both allow, so a slow server ends a phase at the
//! deadline with a known completed fraction instead of running on.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

/// Jobs `0..total`, handed out in order until `deadline`.
#[derive(Debug)]
pub struct Jobs {
    next: AtomicUsize,
    total: usize,
    deadline: Instant,
}

impl Jobs {
    /// `total` jobs that may start until `deadline`.
    pub fn new(total: usize, deadline: Instant) -> Jobs {
        Jobs {
            next: AtomicUsize::new(0),
            total,
            deadline,
        }
    }

    /// The next job, or `None` when all were handed out or the deadline passed.
    pub fn take(&self) -> Option<usize> {
        if Instant::now() >= self.deadline {
            return None;
        }
        let job = self.next.fetch_add(1, Ordering::Relaxed);
        (job < self.total).then_some(job)
    }

    /// Whether the deadline passed.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// How many jobs were handed out (at most `total`).
    pub fn handed_out(&self) -> usize {
        self.next.load(Ordering::Relaxed).min(self.total)
    }
}

/// Runs `workers` copies of `work(worker_index)` concurrently and returns their
/// outputs (in no particular order). A worker that panicked is dropped from the
/// output; the scenario sees fewer completed jobs and reports it.
pub async fn run_workers<F, Fut, T>(workers: usize, work: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut set = JoinSet::new();
    for index in 0..workers.max(1) {
        set.spawn(work(index));
    }
    let mut out = Vec::with_capacity(workers);
    while let Some(joined) = set.join_next().await {
        if let Ok(value) = joined {
            out.push(value);
        }
    }
    out
}

/// A value shared by workers.
pub type Shared<T> = Arc<T>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jobs_stop_at_total() {
        let jobs = Jobs::new(3, Instant::now() + Duration::from_secs(60));
        let taken: Vec<_> = std::iter::from_fn(|| jobs.take()).collect();
        assert_eq!(taken, [0, 1, 2]);
        assert_eq!(jobs.handed_out(), 3);
    }

    #[test]
    fn jobs_stop_at_deadline() {
        let jobs = Jobs::new(1000, Instant::now());
        assert_eq!(jobs.take(), None);
        assert!(jobs.expired());
        assert_eq!(jobs.handed_out(), 0);
    }

    #[tokio::test]
    async fn every_worker_runs() {
        let mut out = run_workers(4, |i| async move { i * 10 }).await;
        out.sort_unstable();
        assert_eq!(out, [0, 10, 20, 30]);
    }
}
