//! `entra-cycle`: what Entra ID's initial cycle sends. Per user: a `userName eq` query
//! (expecting no match), then a POST. Per group: a `displayName eq` query with
//! `excludedAttributes=members`, a POST of the empty group, then the members in
//! PATCHes of 50 values. Users first, then groups, as Entra does; the end state is
//! verified afterwards (not timed).

use super::{count_run_users, group_member_ids, Outcome, RunSettings};
use crate::bodies;
use crate::client::{created_id, expect_status, total_results, ScimClient};
use crate::load::{run_workers, Jobs};
use crate::result::{Phase, Verification};
use crate::stats::Recorder;
use crate::BenchError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

/// Sizes of the cycle.
#[derive(Debug, Clone, Serialize)]
pub struct EntraCycleParams {
    /// Users to provision.
    pub users: usize,
    /// Groups to provision.
    pub groups: usize,
    /// Members per group (group `g` gets users `g*m .. g*m+m`, wrapping around).
    pub members_per_group: usize,
    /// Member values per PATCH (Entra: 50).
    pub patch_batch: usize,
}

/// Runs the cycle.
pub async fn run(
    client: &ScimClient,
    settings: &RunSettings,
    params: &EntraCycleParams,
) -> Result<Outcome, BenchError> {
    let deadline = Instant::now() + settings.cap;
    let batch = params.patch_batch.max(1);
    let tag = settings.run_tag.as_str();

    // Users.
    let users_started = Instant::now();
    let jobs = Arc::new(Jobs::new(params.users, deadline));
    let outputs = run_workers(settings.connections, |_| {
        let (client, jobs, tag) = (client.clone(), jobs.clone(), tag.to_string());
        async move {
            let mut recorder = Recorder::default();
            let mut created = Vec::new();
            while let Some(index) = jobs.take() {
                let query = format!(
                    "/Users?{}",
                    bodies::eq_filter("userName", &bodies::user_name(&tag, index))
                );
                let began = Instant::now();
                let found = client.get(&query).await.and_then(|r| {
                    match total_results("userName eq query", &r)? {
                        0 => Ok(()),
                        n => Err(BenchError::Measurement(format!(
                            "{n} users found, expected none"
                        ))),
                    }
                });
                recorder.record("user-query", began, found.map_err(|e| e.to_string()));
                let began = Instant::now();
                let posted = client
                    .post("/Users", &bodies::entra_user(&tag, index))
                    .await
                    .and_then(|r| created_id("POST /Users", &r));
                match posted {
                    Ok(id) => {
                        recorder.record("user-post", began, Ok(()));
                        created.push((index, id));
                    }
                    Err(e) => recorder.record("user-post", began, Err(e.to_string())),
                }
            }
            (recorder, created)
        }
    })
    .await;
    let mut user_ids: Vec<Option<String>> = vec![None; params.users];
    let mut users_recorder = Recorder::default();
    for (r, created) in outputs {
        users_recorder.merge(r);
        for (index, id) in created {
            if let Some(slot) = user_ids.get_mut(index) {
                *slot = Some(id);
            }
        }
    }
    let users_elapsed = users_started.elapsed();
    let users_handed_out = jobs.handed_out();

    // Groups: each group's requests in order, groups in parallel.
    let members_of = |group: usize| -> Vec<String> {
        (0..params.members_per_group)
            .filter_map(|j| {
                let index = (group * params.members_per_group + j) % params.users.max(1);
                user_ids.get(index).cloned().flatten()
            })
            .collect()
    };
    let group_members: Arc<Vec<Vec<String>>> =
        Arc::new((0..params.groups).map(members_of).collect());
    let groups_started = Instant::now();
    let group_jobs = Arc::new(Jobs::new(params.groups, deadline));
    let outputs = run_workers(settings.connections, |_| {
        let (client, jobs, tag) = (client.clone(), group_jobs.clone(), tag.to_string());
        let group_members = group_members.clone();
        async move {
            let mut recorder = Recorder::default();
            let mut created = Vec::new();
            while let Some(index) = jobs.take() {
                let query = format!(
                    "/Groups?excludedAttributes=members&{}",
                    bodies::eq_filter("displayName", &bodies::group_name(&tag, index))
                );
                let began = Instant::now();
                let found = client
                    .get(&query)
                    .await
                    .and_then(|r| total_results("displayName eq query", &r));
                recorder.record(
                    "group-query",
                    began,
                    match found {
                        Ok(0) => Ok(()),
                        Ok(n) => Err(format!("{n} groups found, expected none")),
                        Err(e) => Err(e.to_string()),
                    },
                );
                let began = Instant::now();
                let posted = client
                    .post("/Groups", &bodies::entra_group(&tag, index))
                    .await
                    .and_then(|r| created_id("POST /Groups", &r));
                let group_id = match posted {
                    Ok(id) => {
                        recorder.record("group-post", began, Ok(()));
                        id
                    }
                    Err(e) => {
                        recorder.record("group-post", began, Err(e.to_string()));
                        continue;
                    }
                };
                let members = group_members.get(index).map(Vec::as_slice).unwrap_or(&[]);
                for chunk in members.chunks(batch) {
                    if jobs.expired() {
                        break;
                    }
                    let began = Instant::now();
                    let patched = client
                        .patch(&format!("/Groups/{group_id}"), &bodies::add_members(chunk))
                        .await
                        .and_then(|r| expect_status("PATCH /Groups add members", &r, &[200, 204]));
                    recorder.record("group-patch", began, patched.map_err(|e| e.to_string()));
                }
                created.push((index, group_id));
            }
            (recorder, created)
        }
    })
    .await;
    let mut groups_recorder = Recorder::default();
    let mut group_ids = Vec::new();
    for (r, created) in outputs {
        groups_recorder.merge(r);
        group_ids.extend(created);
    }
    let groups_elapsed = groups_started.elapsed();

    // Planned and completed work, in requests.
    let patches_per_group = params.members_per_group.div_ceil(batch) as u64;
    let planned_user_ops = 2 * params.users as u64;
    let planned_group_ops = params.groups as u64 * (2 + patches_per_group);
    let done_ops = users_recorder.successes()
        + users_recorder.errors()
        + groups_recorder.successes()
        + groups_recorder.errors();
    let planned = planned_user_ops + planned_group_ops;
    let completed_fraction = if planned == 0 {
        1.0
    } else {
        done_ops as f64 / planned as f64
    };
    let users_capped = users_handed_out < params.users;
    let groups_capped = group_jobs.handed_out() < params.groups
        || (groups_recorder.successes() + groups_recorder.errors()) < planned_group_ops;

    let measured = users_elapsed + groups_elapsed;
    let mut metrics = BTreeMap::new();
    let measured_s = measured.as_secs_f64();
    let total_ops_per_s = if measured_s > 0.0 {
        done_ops as f64 / measured_s
    } else {
        0.0
    };
    // A capped run's end-to-end time is extrapolated from its rate (planned requests
    // at the measured request rate); the report says so.
    let end_to_end = if completed_fraction < 1.0 && total_ops_per_s > 0.0 {
        planned as f64 / total_ops_per_s
    } else {
        measured_s
    };
    metrics.insert("end_to_end_s".to_string(), end_to_end);
    metrics.insert("requests_per_s".to_string(), total_ops_per_s);
    let users_phase = Phase::new(
        "users",
        planned_user_ops,
        users_recorder.successes(),
        users_recorder.errors(),
        users_elapsed.as_secs_f64(),
        users_capped,
    );
    let groups_phase = Phase::new(
        "groups",
        planned_group_ops,
        groups_recorder.successes(),
        groups_recorder.errors(),
        groups_elapsed.as_secs_f64(),
        groups_capped,
    );
    metrics.insert(
        "users_phase_requests_per_s".to_string(),
        users_phase.ops_per_s,
    );
    metrics.insert(
        "groups_phase_requests_per_s".to_string(),
        groups_phase.ops_per_s,
    );

    // End state (not timed).
    let mut verification = Verification::default();
    let errors = users_recorder.errors() + groups_recorder.errors();
    verification.check(
        errors == 0,
        format!(
            "no failed requests ({errors} failed{})",
            users_recorder
                .first_error()
                .or(groups_recorder.first_error())
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ),
    );
    let created_users = user_ids.iter().flatten().count() as u64;
    let counted = count_run_users(client, tag).await;
    verification.check(
        counted == Some(created_users) && !users_capped,
        format!(
            "userName sw query finds every created user ({counted:?} of {created_users}, planned {})",
            params.users
        ),
    );
    group_ids.sort();
    let mut groups_ok = 0usize;
    let mut first_bad = None;
    for (index, group_id) in &group_ids {
        let expected: BTreeSet<String> = group_members
            .get(*index)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default();
        let actual = group_member_ids(client, group_id).await;
        let actual: Option<BTreeSet<String>> = actual.map(|a| a.into_iter().collect());
        if actual.as_ref() == Some(&expected) {
            groups_ok += 1;
        } else if first_bad.is_none() {
            first_bad = Some(format!(
                "group {index}: {} members read, {} expected",
                actual.map_or(0, |a| a.len()),
                expected.len()
            ));
        }
    }
    verification.check(
        groups_ok == params.groups,
        format!(
            "every group has exactly its members ({groups_ok} of {} groups{})",
            params.groups,
            first_bad.map(|b| format!("; {b}")).unwrap_or_default()
        ),
    );

    let mut recorder = users_recorder;
    recorder.merge(groups_recorder);
    Ok(Outcome {
        scenario: "entra-cycle",
        params: serde_json::to_value(params).unwrap_or_default(),
        elapsed_s: measured_s,
        completed_fraction,
        phases: vec![users_phase, groups_phase],
        operations: recorder.summaries(measured),
        metrics,
        verification: verification.finish(),
    })
}
