//! `get-by-id`: S seconds of `GET /Users/{id}` from C connections over a seeded set,
//! to compare with the bare endpoint (which answers any path with a fixed body, so
//! against it nothing is seeded and the id is a placeholder).

use super::{seed_users, Outcome, RunSettings};
use crate::client::{expect_status, ScimClient};
use crate::load::run_workers;
use crate::result::Verification;
use crate::stats::Recorder;
use crate::BenchError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sizes of the run.
#[derive(Debug, Clone, Serialize)]
pub struct GetByIdParams {
    /// Users seeded (0 against the bare endpoint).
    pub users: usize,
    /// Seconds of load.
    pub duration_s: f64,
}

/// The id read when nothing is seeded (the bare endpoint).
pub const PLACEHOLDER_ID: &str = "bare";

/// Runs the scenario.
pub async fn run(
    client: &ScimClient,
    settings: &RunSettings,
    params: &GetByIdParams,
) -> Result<Outcome, BenchError> {
    let deadline = Instant::now() + settings.cap;
    let seeded = seed_users(
        &crate::tenants::Tenants::single(client),
        &settings.run_tag,
        params.users,
        settings.connections,
        deadline,
    )
    .await;
    let mut ids = seeded.existing();
    if params.users == 0 {
        ids.push(PLACEHOLDER_ID.to_string());
    }
    if ids.is_empty() {
        return Err(BenchError::Measurement(
            "get-by-id: no user could be seeded".into(),
        ));
    }
    let ids = Arc::new(ids);
    let load_deadline = (Instant::now() + Duration::from_secs_f64(params.duration_s)).min(deadline);
    let started = Instant::now();
    let outputs = run_workers(settings.connections, |worker| {
        let (client, ids) = (client.clone(), ids.clone());
        async move {
            let mut rng = StdRng::seed_from_u64(0x9e7 ^ worker as u64);
            let mut recorder = Recorder::default();
            while Instant::now() < load_deadline {
                let Some(id) = ids.get(rng.gen_range(0..ids.len())) else {
                    break;
                };
                let began = Instant::now();
                let r = client.get(&format!("/Users/{id}")).await;
                recorder.record(
                    "get",
                    began,
                    r.and_then(|r| expect_status("GET /Users/{id}", &r, &[200]))
                        .map_err(|e| e.to_string()),
                );
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
    let secs = elapsed.as_secs_f64();
    let mut verification = Verification::default();
    verification.check(
        seeded.phase.errors == 0 && !seeded.phase.capped,
        format!(
            "every user seeded ({} of {})",
            seeded.phase.ops, params.users
        ),
    );
    verification.check(
        recorder.errors() == 0 && recorder.successes() > 0,
        format!(
            "every read answered 200 ({} ok, {} failed{})",
            recorder.successes(),
            recorder.errors(),
            recorder
                .first_error()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ),
    );
    let operations = recorder.summaries(elapsed);
    let mut metrics = BTreeMap::new();
    metrics.insert(
        "throughput_ops_per_s".to_string(),
        if secs > 0.0 {
            recorder.successes() as f64 / secs
        } else {
            0.0
        },
    );
    if let Some(get) = operations.iter().find(|o| o.op == "get") {
        metrics.insert("get_p50_ms".to_string(), get.p50_ms);
        metrics.insert("get_p99_ms".to_string(), get.p99_ms);
    }
    Ok(Outcome {
        scenario: "get-by-id",
        params: serde_json::to_value(params).unwrap_or_default(),
        elapsed_s: secs,
        completed_fraction: if seeded.phase.capped { 0.0 } else { 1.0 },
        phases: vec![seeded.phase],
        operations,
        metrics,
        verification: verification.finish(),
    })
}
