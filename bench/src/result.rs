//! What a scenario run produces: one JSON object per (target, scenario, round).

use crate::stats::OpSummary;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The result of one scenario against one target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioResult {
    /// `entra-cycle`, `mixed`, `big-group`, `import`, `get-by-id` or `startup`.
    pub scenario: String,
    /// The target's label, e.g. `scimd-sqlite`, `scim2-server`, `bare`.
    pub target: String,
    /// The round (targets are interleaved round by round).
    pub round: u32,
    /// The sizes and settings of the run.
    pub params: Value,
    /// Wall time of the measured part, in seconds.
    pub elapsed_s: f64,
    /// Whether the wall-clock cap ended the run before its planned work.
    pub capped: bool,
    /// Completed share of the planned work (1 when not capped).
    pub completed_fraction: f64,
    /// Phases with their own rate (e.g. `users`, `groups`, `seed`).
    pub phases: Vec<Phase>,
    /// Per-operation latencies and rates.
    pub operations: Vec<OpSummary>,
    /// Headline numbers, by name. Names ending in `per_s` are better higher; every
    /// other number (`_ms`, `_s`, `_mb`) is better lower.
    pub metrics: BTreeMap<String, f64>,
    /// End-state checks.
    pub verification: Verification,
    /// Peak resident memory (VmHWM) of the server process after the run, in KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_kb: Option<u64>,
    /// Worker threads of the load generator's runtime in this run (1: one thread ran
    /// every connection). The report compares a target's setups and keeps its better
    /// one (`report::best_client_setups`). Absent where it does not apply (start-up)
    /// and in rows written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_threads: Option<u32>,
    /// The CPU latency request held on the machine during the run, in microseconds
    /// (`bench/run` holds one: docs/benchmarks.md, item 74); absent when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_latency_us: Option<u32>,
}

/// One phase of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Phase {
    /// Name, e.g. `users`.
    pub name: String,
    /// Planned operations.
    pub planned_ops: u64,
    /// Successful operations.
    pub ops: u64,
    /// Failed operations.
    pub errors: u64,
    /// Wall time, in seconds.
    pub elapsed_s: f64,
    /// Successful operations per second.
    pub ops_per_s: f64,
    /// Whether the cap ended it.
    pub capped: bool,
}

impl Phase {
    /// A phase from its counts.
    pub fn new(
        name: &str,
        planned_ops: u64,
        ops: u64,
        errors: u64,
        elapsed_s: f64,
        capped: bool,
    ) -> Phase {
        Phase {
            name: name.to_string(),
            planned_ops,
            ops,
            errors,
            elapsed_s,
            ops_per_s: if elapsed_s > 0.0 {
                ops as f64 / elapsed_s
            } else {
                0.0
            },
            capped,
        }
    }
}

/// End-state checks: what was verified and what did not hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Verification {
    /// Whether every check held (and none was skipped for lack of data).
    pub passed: bool,
    /// The checks that held.
    pub checks: Vec<String>,
    /// The checks that did not.
    pub failures: Vec<String>,
}

impl Verification {
    /// Records a check.
    pub fn check(&mut self, ok: bool, what: impl Into<String>) {
        if ok {
            self.checks.push(what.into());
        } else {
            self.failures.push(what.into());
        }
    }

    /// Seals the verdict: passed when there were checks and none failed.
    pub fn finish(mut self) -> Verification {
        self.passed = self.failures.is_empty() && !self.checks.is_empty();
        self
    }
}
