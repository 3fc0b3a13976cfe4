//! Per-operation latencies. Every sample is kept (microseconds, 4 bytes each), so
//! percentiles are exact: a million operations take 4 MB.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The samples of one operation kind.
#[derive(Debug, Default, Clone)]
pub struct OpLog {
    /// Latencies of the successful operations, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Failed operations (wrong status or transport error).
    pub errors: u64,
    /// The first failure, to tell what went wrong.
    pub first_error: Option<String>,
}

/// The logs of every operation kind of one worker (merged at the end: no locks while
/// the load runs).
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    logs: BTreeMap<String, OpLog>,
}

impl Recorder {
    /// Records one operation of kind `op` that started at `started`.
    pub fn record(&mut self, op: &str, started: Instant, outcome: Result<(), String>) {
        let elapsed = started.elapsed();
        let log = self.logs.entry(op.to_string()).or_default();
        match outcome {
            Ok(()) => log.latencies_us.push(micros(elapsed)),
            Err(e) => {
                log.errors += 1;
                if log.first_error.is_none() {
                    log.first_error = Some(e);
                }
            }
        }
    }

    /// Adds another worker's samples.
    pub fn merge(&mut self, other: Recorder) {
        for (op, log) in other.logs {
            let mine = self.logs.entry(op).or_default();
            mine.latencies_us.extend(log.latencies_us);
            mine.errors += log.errors;
            if mine.first_error.is_none() {
                mine.first_error = log.first_error;
            }
        }
    }

    /// Successful operations of every kind.
    pub fn successes(&self) -> u64 {
        self.logs
            .values()
            .map(|l| l.latencies_us.len() as u64)
            .sum()
    }

    /// Failed operations of every kind.
    pub fn errors(&self) -> u64 {
        self.logs.values().map(|l| l.errors).sum()
    }

    /// The first failure of any kind.
    pub fn first_error(&self) -> Option<String> {
        self.logs
            .iter()
            .find_map(|(op, l)| l.first_error.as_ref().map(|e| format!("{op}: {e}")))
    }

    /// One summary per operation kind, plus `all` when there is more than one kind;
    /// rates are over `elapsed`.
    pub fn summaries(&self, elapsed: Duration) -> Vec<OpSummary> {
        let mut out: Vec<OpSummary> = self
            .logs
            .iter()
            .map(|(op, log)| OpSummary::of(op, log, elapsed))
            .collect();
        if self.logs.len() > 1 {
            let mut all = OpLog::default();
            for log in self.logs.values() {
                all.latencies_us.extend_from_slice(&log.latencies_us);
                all.errors += log.errors;
            }
            out.push(OpSummary::of("all", &all, elapsed));
        }
        out
    }
}

/// The numbers reported for one operation kind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpSummary {
    /// Operation kind, e.g. `query`, `get`, `patch`, `post`.
    pub op: String,
    /// Successful operations.
    pub count: u64,
    /// Failed operations.
    pub errors: u64,
    /// Successful operations per second of the run.
    pub ops_per_s: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 90th percentile latency.
    pub p90_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Slowest operation.
    pub max_ms: f64,
    /// The first failure, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl OpSummary {
    fn of(op: &str, log: &OpLog, elapsed: Duration) -> OpSummary {
        let mut sorted = log.latencies_us.clone();
        sorted.sort_unstable();
        let secs = elapsed.as_secs_f64();
        OpSummary {
            op: op.to_string(),
            count: sorted.len() as u64,
            errors: log.errors,
            ops_per_s: if secs > 0.0 {
                sorted.len() as f64 / secs
            } else {
                0.0
            },
            p50_ms: percentile_ms(&sorted, 50.0),
            p90_ms: percentile_ms(&sorted, 90.0),
            p99_ms: percentile_ms(&sorted, 99.0),
            max_ms: sorted.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
            first_error: log.first_error.clone(),
        }
    }
}

/// The nearest-rank percentile of sorted microsecond samples, in milliseconds
/// (0 for no samples).
pub fn percentile_ms(sorted_us: &[u32], pct: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((pct / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    sorted_us
        .get(index)
        .map_or(0.0, |&us| f64::from(us) / 1000.0)
}

/// The median of some values (0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v.get(mid).copied().unwrap_or(0.0)
    } else {
        let a = v.get(mid - 1).copied().unwrap_or(0.0);
        let b = v.get(mid).copied().unwrap_or(0.0);
        (a + b) / 2.0
    }
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let us: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&us, 50.0), 50.0);
        assert_eq!(percentile_ms(&us, 99.0), 99.0);
        assert_eq!(percentile_ms(&us, 100.0), 100.0);
        assert_eq!(percentile_ms(&[], 50.0), 0.0);
        assert_eq!(percentile_ms(&[7000], 99.0), 7.0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn recorders_merge_and_count_errors() {
        let start = Instant::now();
        let mut a = Recorder::default();
        a.record("get", start, Ok(()));
        a.record("get", start, Err("HTTP 500".into()));
        let mut b = Recorder::default();
        b.record("get", start, Ok(()));
        b.record("post", start, Ok(()));
        a.merge(b);
        assert_eq!(a.successes(), 3);
        assert_eq!(a.errors(), 1);
        assert_eq!(a.first_error().as_deref(), Some("get: HTTP 500"));
        let s = a.summaries(Duration::from_secs(1));
        assert_eq!(
            s.iter().map(|o| o.op.as_str()).collect::<Vec<_>>(),
            ["get", "post", "all"]
        );
        assert_eq!(s.iter().find(|o| o.op == "all").map(|o| o.count), Some(3));
    }
}
