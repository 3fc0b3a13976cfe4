//! `mixed`: after seeding N users, S seconds of steady-state traffic from C
//! connections: 60% `userName eq` queries, 20% GET by id, 10% PATCH (Entra's user
//! update), 10% POST. Reports throughput and p50/p90/p99 per operation.

use super::{count_run_users, seed_users, Outcome, RunSettings};
use crate::bodies;
use crate::client::{created_id, expect_status, total_results};
use crate::load::run_workers;
use crate::result::Verification;
use crate::stats::Recorder;
use crate::tenants::Tenants;
use crate::BenchError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sizes of the run.
#[derive(Debug, Clone, Serialize)]
pub struct MixedParams {
    /// Users seeded before the load.
    pub users: usize,
    /// Seconds of load.
    pub duration_s: f64,
    /// Most operations of the load (a second bound besides the duration).
    pub max_ops: u64,
    /// Tenants the users are spread over (user `i` in tenant `i mod tenants`); left
    /// out of the results when 1, so single-tenant runs keep their section.
    #[serde(skip_serializing_if = "is_one")]
    pub tenants: usize,
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

/// One operation of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Query,
    Get,
    Patch,
    Post,
}

/// Picks the operation for a roll in 0..100: 60 / 20 / 10 / 10.
fn pick(roll: u32) -> Op {
    match roll {
        0..=59 => Op::Query,
        60..=79 => Op::Get,
        80..=89 => Op::Patch,
        _ => Op::Post,
    }
}

/// Runs the scenario.
pub async fn run(
    tenants: &Tenants,
    settings: &RunSettings,
    params: &MixedParams,
    deadline: Instant,
) -> Result<Outcome, BenchError> {
    let tag = settings.run_tag.as_str();
    let seeded = seed_users(tenants, tag, params.users, settings.connections, deadline).await;
    // Only users that exist are queried, read and patched.
    let population: Arc<Vec<(usize, String)>> = Arc::new(
        seeded
            .ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| id.clone().map(|id| (i, id)))
            .collect(),
    );
    if population.is_empty() {
        return Err(BenchError::Measurement(format!(
            "mixed: no user could be seeded ({})",
            seeded.first_error.unwrap_or_else(|| "cap reached".into())
        )));
    }

    let load_deadline = (Instant::now() + Duration::from_secs_f64(params.duration_s)).min(deadline);
    let ops_left = Arc::new(AtomicU64::new(params.max_ops));
    let next_new_user = Arc::new(AtomicUsize::new(params.users));
    let posted = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let outputs = run_workers(settings.connections, |worker| {
        let tenants = tenants.clone();
        let population = population.clone();
        let (ops_left, next_new_user, posted) =
            (ops_left.clone(), next_new_user.clone(), posted.clone());
        let tag = tag.to_string();
        async move {
            let mut rng = StdRng::seed_from_u64(0x5c1d ^ worker as u64);
            let mut recorder = Recorder::default();
            let mut serial = worker as u64 * 1_000_000_000;
            while Instant::now() < load_deadline
                && ops_left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
            {
                let (index, id) = match population.get(rng.gen_range(0..population.len())) {
                    Some(picked) => picked,
                    None => break,
                };
                serial += 1;
                let client = tenants.for_user(*index);
                let op = pick(rng.gen_range(0..100));
                let began = Instant::now();
                let (name, outcome) = match op {
                    Op::Query => {
                        let q = format!(
                            "/Users?{}",
                            bodies::eq_filter("userName", &bodies::user_name(&tag, *index))
                        );
                        let r = client.get(&q).await.and_then(|r| {
                            match total_results("userName eq query", &r)? {
                                1 => Ok(()),
                                n => Err(BenchError::Measurement(format!(
                                    "{n} users found, expected 1"
                                ))),
                            }
                        });
                        ("query", r)
                    }
                    Op::Get => {
                        let r = client
                            .get(&format!("/Users/{id}"))
                            .await
                            .and_then(|r| expect_status("GET /Users/{id}", &r, &[200]));
                        ("get", r)
                    }
                    Op::Patch => {
                        let r = client
                            .patch(&format!("/Users/{id}"), &bodies::entra_user_update(serial))
                            .await
                            .and_then(|r| expect_status("PATCH /Users/{id}", &r, &[200, 204]));
                        ("patch", r)
                    }
                    Op::Post => {
                        let new_index = next_new_user.fetch_add(1, Ordering::Relaxed);
                        let r = tenants
                            .for_user(new_index)
                            .post("/Users", &bodies::entra_user(&tag, new_index))
                            .await
                            .and_then(|r| created_id("POST /Users", &r))
                            .map(|_| {
                                posted.fetch_add(1, Ordering::Relaxed);
                            });
                        ("post", r)
                    }
                };
                recorder.record(name, began, outcome.map_err(|e| e.to_string()));
            }
            recorder
        }
    })
    .await;
    let elapsed = started.elapsed();
    let mut recorder = Recorder::default();
    for r in outputs {
        recorder.merge(r);
    }

    let operations = recorder.summaries(elapsed);
    let mut metrics = BTreeMap::new();
    let secs = elapsed.as_secs_f64();
    metrics.insert(
        "throughput_ops_per_s".to_string(),
        if secs > 0.0 {
            recorder.successes() as f64 / secs
        } else {
            0.0
        },
    );
    for summary in &operations {
        metrics.insert(format!("{}_p50_ms", summary.op), summary.p50_ms);
        metrics.insert(format!("{}_p99_ms", summary.op), summary.p99_ms);
    }

    let mut verification = Verification::default();
    let seed_ok = seeded.phase.errors == 0 && !seeded.phase.capped;
    verification.check(
        seed_ok,
        format!(
            "every user seeded ({} of {}{})",
            seeded.phase.ops,
            params.users,
            seeded
                .first_error
                .map(|e| format!("; first failure: {e}"))
                .unwrap_or_default()
        ),
    );
    verification.check(
        recorder.errors() == 0 && recorder.successes() > 0,
        format!(
            "no failed operation ({} ok, {} failed{})",
            recorder.successes(),
            recorder.errors(),
            recorder
                .first_error()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ),
    );
    let expected = seeded.phase.ops + posted.load(Ordering::Relaxed);
    let mut counted = Some(0);
    for client in tenants.all() {
        counted = match (counted, count_run_users(client, tag).await) {
            (Some(sum), Some(n)) => Some(sum + n),
            _ => None,
        };
    }
    verification.check(
        counted == Some(expected),
        format!("seeded plus posted users all exist ({counted:?} counted, {expected} expected)"),
    );

    // The load ran for its duration; only a cap during seeding makes it incomplete.
    let completed_fraction = if seeded.phase.capped {
        seeded.phase.ops as f64 / params.users.max(1) as f64
    } else {
        1.0
    };
    metrics.insert("seed_users_per_s".to_string(), seeded.phase.ops_per_s);
    Ok(Outcome {
        scenario: "mixed",
        params: serde_json::to_value(params).unwrap_or_default(),
        elapsed_s: secs,
        completed_fraction,
        phases: tenants.phase().into_iter().chain([seeded.phase]).collect(),
        operations,
        metrics,
        verification: verification.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_60_20_10_10() {
        let count = |op| (0..100).filter(|&r| pick(r) == op).count();
        assert_eq!(count(Op::Query), 60);
        assert_eq!(count(Op::Get), 20);
        assert_eq!(count(Op::Patch), 10);
        assert_eq!(count(Op::Post), 10);
    }
}
