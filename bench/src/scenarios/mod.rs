//! The scenarios of issue 6. Each takes a client bound to one target and returns a
//! [`ScenarioResult`]; all of them share a deadline (the wall-clock cap) across their
//! phases.

pub mod big_group;
pub mod entra_cycle;
pub mod get_by_id;
pub mod import;
pub mod mixed;

use crate::bodies;
use crate::client::{created_id, ScimClient};
use crate::load::{run_workers, Jobs};
use crate::result::{Phase, ScenarioResult, Verification};
use crate::rss::peak_rss_kb;
use crate::stats::{OpSummary, Recorder};
use crate::tenants::Tenants;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every scenario run is told besides its own sizes.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// The target's label in the results.
    pub target: String,
    /// The round number.
    pub round: u32,
    /// Concurrent connections (workers).
    pub connections: usize,
    /// Wall-clock cap of the whole scenario, set-up included.
    pub cap: Duration,
    /// The server's process id, to read its peak memory after the run.
    pub server_pid: Option<u32>,
    /// A tag that makes this run's names unique on a shared server.
    pub run_tag: String,
    /// Worker threads of the load generator's runtime (1: everything on one thread).
    pub client_threads: u32,
}

/// Users created for a scenario, by index (`None` where the create failed or the cap
/// came first).
pub struct Seeded {
    /// Ids by index.
    pub ids: Vec<Option<String>>,
    /// The seeding phase, for the results.
    pub phase: Phase,
    /// The first failure.
    pub first_error: Option<String>,
}

impl Seeded {
    /// The ids that exist.
    pub fn existing(&self) -> Vec<String> {
        self.ids.iter().flatten().cloned().collect()
    }
}

/// Creates users `0..count` (Entra-shaped) with `connections` workers until
/// `deadline`.
pub async fn seed_users(
    tenants: &Tenants,
    run_tag: &str,
    count: usize,
    connections: usize,
    deadline: Instant,
) -> Seeded {
    let started = Instant::now();
    let jobs = Arc::new(Jobs::new(count, deadline));
    let outputs = run_workers(connections, |_| {
        let tenants = tenants.clone();
        let jobs = jobs.clone();
        let run_tag = run_tag.to_string();
        async move {
            let mut recorder = Recorder::default();
            let mut created = Vec::new();
            while let Some(index) = jobs.take() {
                let began = Instant::now();
                let reply = tenants
                    .for_user(index)
                    .post("/Users", &bodies::entra_user(&run_tag, index))
                    .await;
                match reply.and_then(|r| created_id("seed POST /Users", &r)) {
                    Ok(id) => {
                        recorder.record("seed", began, Ok(()));
                        created.push((index, id));
                    }
                    Err(e) => recorder.record("seed", began, Err(e.to_string())),
                }
            }
            (recorder, created)
        }
    })
    .await;
    let mut ids = vec![None; count];
    let mut recorder = Recorder::default();
    for (r, created) in outputs {
        recorder.merge(r);
        for (index, id) in created {
            if let Some(slot) = ids.get_mut(index) {
                *slot = Some(id);
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Seeded {
        ids,
        phase: Phase::new(
            "seed",
            count as u64,
            recorder.successes(),
            recorder.errors(),
            elapsed,
            jobs.handed_out() < count,
        ),
        first_error: recorder.first_error(),
    }
}

/// Counts the users of this run with `userName sw "<run_tag>."`.
pub async fn count_run_users(client: &ScimClient, run_tag: &str) -> Option<u64> {
    let filter = format!("userName sw \"{run_tag}.\"");
    let reply = client
        .get(&format!(
            "/Users?count=1&filter={}",
            bodies::percent_encode(&filter)
        ))
        .await
        .ok()?;
    crate::client::total_results("count users", &reply).ok()
}

/// The member ids of a group, read with its members.
pub async fn group_member_ids(client: &ScimClient, group_id: &str) -> Option<Vec<String>> {
    let reply = client
        .get(&format!("/Groups/{group_id}?attributes=members"))
        .await
        .ok()?;
    if reply.status != 200 {
        return None;
    }
    let body = reply.json()?;
    let members = match body.get("members") {
        Some(Value::Array(members)) => members,
        // No `members` attribute: an empty group (RFC 7643 §2.5 omits empty values).
        None => return Some(Vec::new()),
        Some(_) => return None,
    };
    Some(
        members
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
            .collect(),
    )
}

/// Everything a scenario hands back, before the settings are added.
pub struct Outcome {
    /// Scenario name.
    pub scenario: &'static str,
    /// Sizes and settings.
    pub params: Value,
    /// Measured wall time.
    pub elapsed_s: f64,
    /// Completed share of the planned work.
    pub completed_fraction: f64,
    /// Phases.
    pub phases: Vec<Phase>,
    /// Operations.
    pub operations: Vec<OpSummary>,
    /// Headline numbers.
    pub metrics: BTreeMap<String, f64>,
    /// Checks.
    pub verification: Verification,
}

impl Outcome {
    /// The result, with the target's label and peak memory.
    pub fn into_result(self, settings: &RunSettings) -> ScenarioResult {
        let completed_fraction = self.completed_fraction.clamp(0.0, 1.0);
        let mut params = self.params;
        if let Value::Object(map) = &mut params {
            map.insert("connections".into(), settings.connections.into());
        }
        ScenarioResult {
            scenario: self.scenario.to_string(),
            target: settings.target.clone(),
            round: settings.round,
            params,
            elapsed_s: self.elapsed_s,
            capped: completed_fraction < 1.0,
            completed_fraction,
            phases: self.phases,
            operations: self.operations,
            metrics: self.metrics,
            verification: self.verification,
            peak_rss_kb: settings.server_pid.and_then(peak_rss_kb),
            client_threads: Some(settings.client_threads),
            cpu_latency_us: None,
        }
    }
}
