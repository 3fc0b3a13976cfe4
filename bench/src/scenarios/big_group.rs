//! `big-group`: one group per size K (e.g. 1,000 and 100,000 members). After filling
//! it, R rounds of: add one member, read the group with `excludedAttributes=members`,
//! remove that member (Entra's `members[value eq "id"]`). A one-member change and a
//! read without members should cost the same whatever K is.

use super::{group_member_ids, seed_users, Outcome, RunSettings};
use crate::bodies;
use crate::client::{created_id, expect_status, ScimClient};
use crate::result::{Phase, Verification};
use crate::stats::Recorder;
use crate::BenchError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// Sizes of the run.
#[derive(Debug, Clone, Serialize)]
pub struct BigGroupParams {
    /// Group sizes, e.g. [1000, 100000].
    pub sizes: Vec<usize>,
    /// Add/read/remove rounds per size.
    pub rounds: usize,
    /// Member values per PATCH while filling (not measured).
    pub fill_batch: usize,
}

/// Runs the scenario.
pub async fn run(
    client: &ScimClient,
    settings: &RunSettings,
    params: &BigGroupParams,
) -> Result<Outcome, BenchError> {
    let deadline = Instant::now() + settings.cap;
    let tag = settings.run_tag.as_str();
    let largest = params.sizes.iter().copied().max().unwrap_or(0);
    let rounds = params.rounds.max(1);
    // Members are users 0..K; the probe users that come and go are the `rounds` after
    // the largest group.
    let seeded = seed_users(
        &crate::tenants::Tenants::single(client),
        tag,
        largest + rounds,
        settings.connections,
        deadline,
    )
    .await;
    let ids = seeded.ids.clone();
    let probes: Vec<String> = ids.iter().skip(largest).flatten().cloned().collect();

    let mut phases = vec![seeded.phase.clone()];
    let mut recorder = Recorder::default();
    let mut metrics = BTreeMap::new();
    let mut verification = Verification::default();
    verification.check(
        seeded.phase.errors == 0 && !seeded.phase.capped,
        format!(
            "every user seeded ({} of {})",
            seeded.phase.ops,
            largest + rounds
        ),
    );
    let mut sizes_done = 0usize;
    let mut measured_s = 0.0;
    for (group_index, &size) in params.sizes.iter().enumerate() {
        let members: Vec<&String> = ids.iter().take(size).flatten().collect();
        if members.len() < size || probes.len() < rounds || Instant::now() >= deadline {
            verification.check(false, format!("K={size}: not reached before the cap"));
            continue;
        }
        let group_id = created_id(
            "POST /Groups",
            &client
                .post("/Groups", &bodies::entra_group(tag, group_index))
                .await?,
        )?;

        // Fill (not measured, but its rate is reported).
        let fill_started = Instant::now();
        let mut fill_errors = 0u64;
        let mut filled = 0u64;
        let mut fill_capped = false;
        for chunk in members.chunks(params.fill_batch.max(1)) {
            if Instant::now() >= deadline {
                fill_capped = true;
                break;
            }
            let reply = client
                .patch(&format!("/Groups/{group_id}"), &bodies::add_members(chunk))
                .await?;
            if expect_status("fill PATCH", &reply, &[200, 204]).is_ok() {
                filled += chunk.len() as u64;
            } else {
                fill_errors += 1;
            }
        }
        phases.push(Phase::new(
            &format!("fill-{size}"),
            size as u64,
            filled,
            fill_errors,
            fill_started.elapsed().as_secs_f64(),
            fill_capped,
        ));
        if fill_capped {
            verification.check(
                false,
                format!("K={size}: group not filled before the cap ({filled} members)"),
            );
            continue;
        }

        // Measure.
        let add = format!("add-{size}");
        let read = format!("read-{size}");
        let remove = format!("remove-{size}");
        let measure_started = Instant::now();
        let mut completed_rounds = 0;
        for probe in probes.iter().take(rounds) {
            if Instant::now() >= deadline {
                break;
            }
            let path = format!("/Groups/{group_id}");
            let began = Instant::now();
            let r = client.patch(&path, &bodies::add_members(&[probe])).await;
            recorder.record(
                &add,
                began,
                r.and_then(|r| expect_status("add one member", &r, &[200, 204]))
                    .map_err(|e| e.to_string()),
            );
            let began = Instant::now();
            let r = client
                .get(&format!("{path}?excludedAttributes=members"))
                .await;
            let read_ok = r.and_then(|r| {
                expect_status("read without members", &r, &[200])?;
                match r.json() {
                    Some(body) if body.get("members").is_none() => Ok(()),
                    _ => Err(BenchError::Measurement(
                        "members returned despite excludedAttributes".into(),
                    )),
                }
            });
            recorder.record(&read, began, read_ok.map_err(|e| e.to_string()));
            let began = Instant::now();
            let r = client.patch(&path, &bodies::remove_member(probe)).await;
            recorder.record(
                &remove,
                began,
                r.and_then(|r| expect_status("remove one member", &r, &[200, 204]))
                    .map_err(|e| e.to_string()),
            );
            completed_rounds += 1;
        }
        measured_s += measure_started.elapsed().as_secs_f64();

        // Every add was undone: the group holds exactly its K members.
        let count = group_member_ids(client, &group_id).await.map(|m| m.len());
        verification.check(
            count == Some(size) && completed_rounds == rounds,
            format!("K={size}: {count:?} members after {completed_rounds} add/remove rounds"),
        );
        sizes_done += 1;
    }

    let operations = recorder.summaries(std::time::Duration::from_secs_f64(measured_s.max(1e-9)));
    for summary in operations.iter().filter(|s| s.op != "all") {
        metrics.insert(format!("{}_p50_ms", summary.op), summary.p50_ms);
        metrics.insert(format!("{}_p99_ms", summary.op), summary.p99_ms);
    }
    verification.check(
        recorder.errors() == 0,
        format!(
            "no failed operation ({} failed{})",
            recorder.errors(),
            recorder
                .first_error()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ),
    );
    Ok(Outcome {
        scenario: "big-group",
        params: serde_json::to_value(params).unwrap_or_default(),
        elapsed_s: measured_s,
        completed_fraction: sizes_done as f64 / params.sizes.len().max(1) as f64,
        phases,
        operations,
        metrics,
        verification: verification.finish(),
    })
}
