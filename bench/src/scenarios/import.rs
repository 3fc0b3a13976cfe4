//! `import`: Okta's import, paging through every user 100 at a time with
//! `startIndex`/`count` (RFC 7644 §3.4.2.4) on one connection, after seeding N users.

use super::{seed_users, Outcome, RunSettings};
use crate::client::{expect_status, ScimClient};
use crate::result::{Phase, Verification};
use crate::stats::Recorder;
use crate::BenchError;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

/// Sizes of the run.
#[derive(Debug, Clone, Serialize)]
pub struct ImportParams {
    /// Users seeded before the import.
    pub users: usize,
    /// Page size (Okta: 100).
    pub page_size: usize,
}

/// Runs the scenario.
pub async fn run(
    client: &ScimClient,
    settings: &RunSettings,
    params: &ImportParams,
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
    let page_size = params.page_size.max(1);
    let mut recorder = Recorder::default();
    let mut seen: HashSet<String> = HashSet::with_capacity(params.users);
    let mut total: Option<u64> = None;
    let mut start_index = 1u64;
    let mut pages = 0u64;
    let started = Instant::now();
    // Bounded by the deadline and by a page count: one page per `page_size` users
    // plus one, from the seeded count until the server has told its totalResults.
    let mut max_pages = params.users / page_size + 2;
    let mut capped = false;
    while pages < max_pages as u64 {
        if Instant::now() >= deadline {
            capped = true;
            break;
        }
        let began = Instant::now();
        let reply = client
            .get(&format!(
                "/Users?startIndex={start_index}&count={page_size}"
            ))
            .await;
        let page = reply.and_then(|r| {
            expect_status("GET /Users page", &r, &[200])?;
            r.json()
                .ok_or_else(|| BenchError::Measurement("page is not JSON".into()))
        });
        pages += 1;
        let page = match page {
            Ok(page) => {
                recorder.record("page", began, Ok(()));
                page
            }
            Err(e) => {
                recorder.record("page", began, Err(e.to_string()));
                break;
            }
        };
        total = page.get("totalResults").and_then(Value::as_u64);
        if let Some(t) = total {
            max_pages = usize::try_from(t).unwrap_or(usize::MAX) / page_size + 2;
        }
        let resources = page
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for r in &resources {
            if let Some(id) = r.get("id").and_then(Value::as_str) {
                seen.insert(id.to_string());
            }
        }
        start_index += resources.len() as u64;
        if resources.is_empty() || total.is_some_and(|t| start_index > t) {
            break;
        }
    }
    let elapsed = started.elapsed();
    let secs = elapsed.as_secs_f64();

    let mut verification = Verification::default();
    verification.check(
        seeded.phase.errors == 0 && !seeded.phase.capped,
        format!(
            "every user seeded ({} of {})",
            seeded.phase.ops, params.users
        ),
    );
    let expected: HashSet<String> = seeded.existing().into_iter().collect();
    verification.check(
        !capped && expected.is_subset(&seen) && total == Some(seen.len() as u64),
        format!(
            "paging saw every user exactly once ({} distinct of totalResults {total:?}; {} seeded)",
            seen.len(),
            expected.len()
        ),
    );
    verification.check(
        recorder.errors() == 0,
        format!("no failed page ({} failed)", recorder.errors()),
    );

    let mut metrics = BTreeMap::new();
    let fraction = if capped {
        seen.len() as f64 / params.users.max(1) as f64
    } else {
        1.0
    };
    let users_per_s = if secs > 0.0 {
        seen.len() as f64 / secs
    } else {
        0.0
    };
    metrics.insert("users_per_s".to_string(), users_per_s);
    metrics.insert(
        "import_s".to_string(),
        if capped && users_per_s > 0.0 {
            params.users as f64 / users_per_s
        } else {
            secs
        },
    );
    let phase = Phase::new(
        "import",
        max_pages as u64,
        recorder.successes(),
        recorder.errors(),
        secs,
        capped,
    );
    let operations = recorder.summaries(elapsed);
    if let Some(page) = operations.iter().find(|o| o.op == "page") {
        metrics.insert("page_p50_ms".to_string(), page.p50_ms);
        metrics.insert("page_p99_ms".to_string(), page.p99_ms);
    }
    Ok(Outcome {
        scenario: "import",
        params: serde_json::to_value(params).unwrap_or_default(),
        elapsed_s: secs,
        completed_fraction: if seeded.phase.capped { 0.0 } else { fraction },
        phases: vec![seeded.phase, phase],
        operations,
        metrics,
        verification: verification.finish(),
    })
}
