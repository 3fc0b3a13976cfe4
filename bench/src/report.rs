//! Results to markdown: a table per scenario and size with the median of each metric
//! over rounds, ratios against scim2-server and the bare endpoint, the targets
//! checked one by one, and how scimd grows with data size.

use crate::result::ScenarioResult;
use crate::stats::median;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The label of the comparison server in results.
pub const SCIM2_SERVER: &str = "scim2-server";
/// The label of the bare endpoint in results.
pub const BARE: &str = "bare";

/// The label of the SQLite floor in results (`scimd-bench floor`).
pub const SQLITE_FLOOR: &str = "sqlite-floor";
/// The label of scimd on SQLite.
pub const SCIMD_SQLITE: &str = "scimd-sqlite";

const SCENARIO_ORDER: [&str; 6] = [
    "entra-cycle",
    "mixed",
    "get-by-id",
    "big-group",
    "import",
    "startup",
];

/// Whether a bigger value of `metric` is better (rates), or a smaller one (times, memory).
pub fn higher_is_better(metric: &str) -> bool {
    metric.ends_with("per_s")
}

/// Results of one scenario with the same sizes, by target.
struct Group<'a> {
    scenario: String,
    params: Value,
    by_target: Vec<(String, Vec<&'a ScenarioResult>)>,
}

fn params_key(params: &Value) -> Value {
    // Rounds and samples differ between runs of the same sizes.
    let mut p = params.clone();
    if let Value::Object(map) = &mut p {
        map.remove("samples_ms");
    }
    p
}

fn groups(results: &[ScenarioResult]) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    for scenario in SCENARIO_ORDER {
        for r in results.iter().filter(|r| r.scenario == scenario) {
            let key = params_key(&r.params);
            let group = match out.iter_mut().position(|g| {
                g.scenario == scenario && (g.params == key || (scenario == "get-by-id"))
            }) {
                Some(i) => out.get_mut(i),
                None => {
                    out.push(Group {
                        scenario: scenario.to_string(),
                        params: key,
                        by_target: Vec::new(),
                    });
                    out.last_mut()
                }
            };
            let Some(group) = group else { continue };
            match group.by_target.iter_mut().find(|(t, _)| *t == r.target) {
                Some((_, list)) => list.push(r),
                None => group.by_target.push((r.target.clone(), vec![r])),
            }
        }
    }
    out
}

/// The metric a scenario's target is judged by, where the issue sets a target on it.
fn deciding_metric(scenario: &str) -> Option<&'static str> {
    match scenario {
        "entra-cycle" => Some("end_to_end_s"),
        "mixed" | "get-by-id" => Some("throughput_ops_per_s"),
        _ => None,
    }
}

/// One target's runs of one scenario and size under each load-generator setup, and
/// the setup kept.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupChoice {
    /// The scenario.
    pub scenario: String,
    /// Its sizes.
    pub params: Value,
    /// The target.
    pub target: String,
    /// The deciding metric.
    pub metric: &'static str,
    /// Per setup (the load generator's threads; `None`: not recorded): the metric's
    /// median and the rounds it is over, fewest threads first.
    pub setups: Vec<(Option<u32>, f64, usize)>,
    /// The setup whose runs the report uses (`None`: not recorded).
    pub kept: Option<u32>,
}

/// Keeps, for each target of each scenario and size, only the runs of the
/// load-generator setup under which that target did best (docs/benchmarks.md, item 70).
///
/// Why: the load generator shares the machine's cores with the server it loads, and
/// how it runs changes what each server gets. On one thread it takes the least CPU
/// from the server, but cannot drive more than one core's worth of requests; and
/// scim2-server measured slower under it than under two threads, for reasons not
/// found. A fixed setup would favour one target or the other; so every target runs
/// under each setup `bench/run` lists, in the same run, and is judged by its better
/// median. Scenarios without a target on their medians, and targets run under one
/// setup, are left as they are.
pub fn best_client_setups(results: &[ScenarioResult]) -> (Vec<ScenarioResult>, Vec<SetupChoice>) {
    type Key = (String, Value, String);
    let mut by_key: Vec<(Key, Vec<&ScenarioResult>)> = Vec::new();
    for r in results {
        let key = (r.scenario.clone(), params_key(&r.params), r.target.clone());
        match by_key.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(r),
            None => by_key.push((key, vec![r])),
        }
    }
    let mut dropped: Vec<(Key, Option<u32>)> = Vec::new();
    let mut choices = Vec::new();
    for ((scenario, params, target), list) in by_key {
        let Some(metric) = deciding_metric(&scenario) else {
            continue;
        };
        let mut setups: Vec<Option<u32>> = list.iter().map(|r| r.client_threads).collect();
        setups.sort_unstable();
        setups.dedup();
        if setups.len() < 2 {
            continue;
        }
        let medians: Vec<(Option<u32>, f64, usize)> = setups
            .iter()
            .filter_map(|&setup| {
                let runs: Vec<&ScenarioResult> = list
                    .iter()
                    .copied()
                    .filter(|r| r.client_threads == setup)
                    .collect();
                metric_median(&runs, metric).map(|m| (setup, m, runs.len()))
            })
            .collect();
        // Ties keep the setup with fewer threads, which comes first.
        let kept = match medians.iter().copied().reduce(|best, next| {
            match advantage(metric, next.1, best.1) {
                Some(x) if x > 1.0 => next,
                _ => best,
            }
        }) {
            Some((setup, _, _)) if medians.len() >= 2 => setup,
            // Fewer than two setups measured the metric: nothing to choose.
            _ => continue,
        };
        let key = (scenario.clone(), params.clone(), target.clone());
        for &setup in &setups {
            if setup != kept {
                dropped.push((key.clone(), setup));
            }
        }
        choices.push(SetupChoice {
            scenario,
            params,
            target,
            metric,
            setups: medians,
            kept,
        });
    }
    let kept = results
        .iter()
        .filter(|r| {
            let key = (r.scenario.clone(), params_key(&r.params), r.target.clone());
            !dropped.contains(&(key, r.client_threads))
        })
        .cloned()
        .collect();
    (kept, choices)
}

fn metric_median(results: &[&ScenarioResult], metric: &str) -> Option<f64> {
    let values: Vec<f64> = results
        .iter()
        .filter_map(|r| r.metrics.get(metric).copied())
        .collect();
    (!values.is_empty()).then(|| median(&values))
}

fn rss_median_mb(results: &[&ScenarioResult]) -> Option<f64> {
    let values: Vec<f64> = results
        .iter()
        .filter_map(|r| r.peak_rss_kb)
        .map(|kb| kb as f64 / 1024.0)
        .collect();
    (!values.is_empty()).then(|| median(&values))
}

/// How much better `a` is than `b` for `metric` (>1: `a` is better).
pub fn advantage(metric: &str, a: f64, b: f64) -> Option<f64> {
    let (num, den) = if higher_is_better(metric) {
        (a, b)
    } else {
        (b, a)
    };
    (den > 0.0 && num.is_finite()).then(|| num / den)
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A ratio judged against `threshold`, shown as [`fmt_num`] does unless that rounding
/// would show a miss as the threshold itself (19.96 as "20.0"): then two decimals.
fn fmt_ratio(ratio: f64, threshold: f64) -> String {
    let shown = fmt_num(ratio);
    if ratio < threshold && shown.parse::<f64>().is_ok_and(|s| s >= threshold) {
        format!("{ratio:.2}")
    } else {
        shown
    }
}

/// A load-generator setup as the report names it.
fn setup_label(threads: Option<u32>) -> String {
    match threads {
        Some(1) => "1 thread".into(),
        Some(n) => format!("{n} threads"),
        None => "not recorded".into(),
    }
}

fn status_cell(results: &[&ScenarioResult]) -> String {
    let verified = results.iter().all(|r| r.verification.passed);
    let capped: Vec<f64> = results
        .iter()
        .filter(|r| r.capped)
        .map(|r| r.completed_fraction)
        .collect();
    let mut cell = if verified {
        "verified".to_string()
    } else {
        "NOT verified".to_string()
    };
    if let Some(f) = capped.first() {
        let _ = write!(
            cell,
            ", capped at {:.0}% done (rates extrapolated)",
            f * 100.0
        );
    }
    let _ = write!(cell, ", {} round(s)", results.len());
    cell
}

/// What the results say of the CPU latency request held while they ran
/// ([`crate::cpu_latency`]): one sentence for the report's head. Rounds measured under
/// different requests do not compare, so a mix is called out.
pub fn cpu_latency_note(results: &[ScenarioResult]) -> String {
    let mut settings: Vec<Option<u32>> = results.iter().map(|r| r.cpu_latency_us).collect();
    settings.sort_unstable();
    settings.dedup();
    match settings.as_slice() {
        [] => "No rounds.".to_string(),
        [Some(us)] => format!(
            "Machine: every round ran with a CPU latency request of {us} µs held \
             (`/dev/cpu_dma_latency`; at 0 idle CPUs poll instead of halting; \
             docs/benchmarks.md, item 74)."
        ),
        [None] => "Machine: no CPU latency request was held (idle CPUs as the machine \
                   has them; docs/benchmarks.md, item 74)."
            .to_string(),
        mixed => {
            let labels: Vec<String> = mixed
                .iter()
                .map(|s| match s {
                    Some(us) => format!("{us} µs"),
                    None => "none".to_string(),
                })
                .collect();
            format!(
                "Machine: **rounds ran under different CPU latency requests ({})**: \
                 compare only rounds run under the same one.",
                labels.join(", ")
            )
        }
    }
}

/// The markdown report.
pub fn markdown(results: &[ScenarioResult]) -> String {
    let (kept, choices) = best_client_setups(results);
    let results = kept.as_slice();
    let mut md = String::new();
    let _ = writeln!(md, "# scimd-bench results\n");
    let _ = writeln!(
        md,
        "Medians over rounds. Ratios say how many times better scimd is (higher rate or \
         lower time); `capped` means the wall-clock cap stopped that target early, and its \
         times are extrapolated from its measured rate.\n"
    );
    let _ = writeln!(md, "{}\n", cpu_latency_note(results));
    let _ = writeln!(md, "## Targets of issue 6\n");
    for line in targets(results) {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(md);
    if !choices.is_empty() {
        let _ = writeln!(md, "## Load generator setups\n");
        let _ = writeln!(
            md,
            "Each target ran these scenarios under each setup of the load generator \
             (its threads); the tables use the setup it did best under.\n"
        );
        let _ = writeln!(
            md,
            "| scenario | target | metric | median per setup (rounds) | used |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|");
        for c in &choices {
            let setups: Vec<String> = c
                .setups
                .iter()
                .map(|(setup, median, rounds)| {
                    format!("{}: {} ({rounds})", setup_label(*setup), fmt_num(*median))
                })
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                c.scenario,
                c.target,
                c.metric,
                setups.join(", "),
                setup_label(c.kept)
            );
        }
        let _ = writeln!(md);
    }
    for group in groups(results) {
        let _ = writeln!(md, "## {} {}\n", group.scenario, group.params);
        let targets: Vec<&str> = group.by_target.iter().map(|(t, _)| t.as_str()).collect();
        let refs: Vec<&str> = [SCIM2_SERVER, SQLITE_FLOOR, BARE]
            .into_iter()
            .filter(|r| targets.contains(r))
            .collect();
        let scimds: Vec<&str> = targets
            .iter()
            .copied()
            .filter(|t| t.starts_with("scimd"))
            .collect();
        let mut header = String::from("| metric |");
        let mut rule = String::from("|---|");
        for t in &targets {
            let _ = write!(header, " {t} |");
            rule.push_str("---:|");
        }
        for s in &scimds {
            for r in &refs {
                let _ = write!(header, " {s} vs {r} |");
                rule.push_str("---:|");
            }
        }
        let _ = writeln!(md, "{header}\n{rule}");
        let mut metrics: Vec<String> = Vec::new();
        for (_, list) in &group.by_target {
            for r in list {
                for m in r.metrics.keys() {
                    if !metrics.contains(m) {
                        metrics.push(m.clone());
                    }
                }
            }
        }
        let lookup = |t: &str| {
            group
                .by_target
                .iter()
                .find(|(n, _)| n == t)
                .map(|(_, l)| l.as_slice())
        };
        for m in &metrics {
            let mut row = format!("| {m} |");
            for t in &targets {
                let v = lookup(t).and_then(|l| metric_median(l, m));
                let _ = write!(row, " {} |", v.map(fmt_num).unwrap_or_else(|| "–".into()));
            }
            for s in &scimds {
                for r in &refs {
                    let a = lookup(s).and_then(|l| metric_median(l, m));
                    let b = lookup(r).and_then(|l| metric_median(l, m));
                    let ratio = a.zip(b).and_then(|(a, b)| advantage(m, a, b));
                    let _ = write!(
                        row,
                        " {} |",
                        ratio
                            .map(|x| format!("{}×", fmt_num(x)))
                            .unwrap_or_else(|| "–".into())
                    );
                }
            }
            let _ = writeln!(md, "{row}");
        }
        let mut row = String::from("| peak RSS (MB) |");
        for t in &targets {
            let v = lookup(t).and_then(rss_median_mb);
            let _ = write!(row, " {} |", v.map(fmt_num).unwrap_or_else(|| "–".into()));
        }
        for _ in 0..scimds.len() * refs.len() {
            row.push_str(" |");
        }
        let _ = writeln!(md, "{row}");
        let mut row = String::from("| status |");
        for t in &targets {
            let _ = write!(row, " {} |", lookup(t).map(status_cell).unwrap_or_default());
        }
        for _ in 0..scimds.len() * refs.len() {
            row.push_str(" |");
        }
        let _ = writeln!(md, "{row}\n");
    }
    let _ = writeln!(md, "## Growth with data size (scimd)\n");
    let _ = writeln!(md, "| target | users | mixed ops/s | mixed p99 (ms) | peak RSS under mixed (MB) | start-up (ms) |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    for (target, users, row) in growth(results) {
        let cell = |v: Option<f64>| v.map(fmt_num).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            md,
            "| {target} | {users} | {} | {} | {} | {} |",
            cell(row[0]),
            cell(row[1]),
            cell(row[2]),
            cell(row[3])
        );
    }
    let many = many_tenants(results);
    if !many.is_empty() {
        let _ = writeln!(md, "\n## Many tenants (scimd)\n");
        let _ = writeln!(md, "mixed with its users spread over many tenants (user i in tenant i mod N), against the same target's mixed in one tenant, same users and connections.\n");
        let _ = writeln!(md, "| target | tenants | users | ops/s | ops/s in one tenant | ratio | p99 (ms) | p99 in one tenant (ms) | peak RSS (MB) | peak RSS in one tenant (MB) |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for row in many {
            let cell = |v: Option<f64>| v.map(fmt_num).unwrap_or_else(|| "–".into());
            let ratio = row
                .ops
                .zip(row.one_ops)
                .map(|(a, b)| if b > 0.0 { a / b } else { 0.0 });
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.target,
                row.tenants,
                row.users,
                cell(row.ops),
                cell(row.one_ops),
                ratio
                    .map(|r| format!("{}×", fmt_num(r)))
                    .unwrap_or_else(|| "–".into()),
                cell(row.p99),
                cell(row.one_p99),
                cell(row.rss),
                cell(row.one_rss),
            );
        }
    }
    md
}

/// How many tenants a scenario's users were spread over (1 when not said).
fn tenants_of(params: &Value) -> u64 {
    params.get("tenants").and_then(Value::as_u64).unwrap_or(1)
}

/// A many-tenant mixed result next to the same target's one-tenant figures.
struct ManyTenantsRow {
    target: String,
    tenants: u64,
    users: u64,
    ops: Option<f64>,
    one_ops: Option<f64>,
    p99: Option<f64>,
    one_p99: Option<f64>,
    rss: Option<f64>,
    one_rss: Option<f64>,
}

fn many_tenants(results: &[ScenarioResult]) -> Vec<ManyTenantsRow> {
    let mut keys: Vec<(String, u64, u64, Option<u64>)> = results
        .iter()
        .filter(|r| r.scenario == "mixed" && tenants_of(&r.params) > 1)
        .filter_map(|r| {
            let users = r.params.get("users").and_then(Value::as_u64)?;
            let conns = r.params.get("connections").and_then(Value::as_u64);
            Some((r.target.clone(), tenants_of(&r.params), users, conns))
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(target, tenants, users, conns)| {
            let same = |p: &Value, n: u64| {
                tenants_of(p) == n
                    && p.get("users").and_then(Value::as_u64) == Some(users)
                    && p.get("connections").and_then(Value::as_u64) == conns
            };
            let many = pick(results, "mixed", &target, |p| same(p, tenants));
            let one = pick(results, "mixed", &target, |p| same(p, 1));
            ManyTenantsRow {
                tenants,
                users,
                ops: metric_median(&many, "throughput_ops_per_s"),
                one_ops: metric_median(&one, "throughput_ops_per_s"),
                p99: metric_median(&many, "all_p99_ms"),
                one_p99: metric_median(&one, "all_p99_ms"),
                rss: rss_median_mb(&many),
                one_rss: rss_median_mb(&one),
                target,
            }
        })
        .collect()
}

type GrowthRow = (String, u64, [Option<f64>; 4]);

fn growth(results: &[ScenarioResult]) -> Vec<GrowthRow> {
    let mut rows: BTreeMap<(String, u64), [Vec<f64>; 4]> = BTreeMap::new();
    let relevant = |r: &&ScenarioResult| {
        r.target.starts_with("scimd") && (r.scenario == "mixed" || r.scenario == "startup")
    };
    for r in results.iter().filter(relevant) {
        let Some(users) = r.params.get("users").and_then(Value::as_u64) else {
            continue;
        };
        if tenants_of(&r.params) != 1 {
            continue;
        }
        let entry = rows.entry((r.target.clone(), users)).or_default();
        match r.scenario.as_str() {
            "mixed" => {
                let [ops, p99, rss, _] = entry;
                ops.extend(r.metrics.get("throughput_ops_per_s"));
                p99.extend(r.metrics.get("all_p99_ms"));
                rss.extend(r.peak_rss_kb.map(|kb| kb as f64 / 1024.0));
            }
            "startup" => {
                let [_, _, _, start] = entry;
                start.extend(r.metrics.get("start_to_first_request_ms"));
            }
            _ => {}
        }
    }
    rows.into_iter()
        .map(|((t, u), cols)| {
            let m = |v: &Vec<f64>| (!v.is_empty()).then(|| median(v));
            let [a, b, c, d] = &cols;
            (t, u, [m(a), m(b), m(c), m(d)])
        })
        .collect()
}

fn pick<'a>(
    results: &'a [ScenarioResult],
    scenario: &str,
    target: &str,
    filter: impl Fn(&Value) -> bool,
) -> Vec<&'a ScenarioResult> {
    results
        .iter()
        .filter(|r| r.scenario == scenario && r.target == target && filter(&r.params))
        .collect()
}

fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "**met**",
        Some(false) => "**missed**",
        None => "not measured",
    }
}

/// The targets, one line each.
pub fn targets(results: &[ScenarioResult]) -> Vec<String> {
    let mut lines = Vec::new();
    let conns8 =
        |p: &Value| p.get("connections").and_then(Value::as_u64) == Some(8) && tenants_of(p) == 1;
    // Mixed at the size both servers ran.
    let scim2_mixed = pick(results, "mixed", SCIM2_SERVER, conns8);
    let users = scim2_mixed
        .first()
        .and_then(|r| r.params.get("users").cloned());
    let same_users = |p: &Value| conns8(p) && p.get("users") == users.as_ref();
    let scimd_mixed = pick(results, "mixed", SCIMD_SQLITE, same_users);
    let a = metric_median(&scimd_mixed, "throughput_ops_per_s");
    let b = metric_median(&scim2_mixed, "throughput_ops_per_s");
    let p99 = metric_median(&scimd_mixed, "all_p99_ms");
    let ratio = a
        .zip(b)
        .and_then(|(a, b)| advantage("throughput_ops_per_s", a, b));
    lines.push(format!(
        "mixed throughput ≥ 20× scim2-server with p99 < 10 ms (8 connections): {} — {} vs {} ops/s = {}×, p99 {} ms",
        verdict(ratio.zip(p99).map(|(r, p)| r >= 20.0 && p < 10.0)),
        a.map(fmt_num).unwrap_or_default(),
        b.map(fmt_num).unwrap_or_default(),
        ratio.map(|r| fmt_ratio(r, 20.0)).unwrap_or_default(),
        p99.map(fmt_num).unwrap_or_default()
    ));
    // Entra cycle.
    let entra_a = pick(results, "entra-cycle", SCIMD_SQLITE, |_| true);
    let entra_b = pick(results, "entra-cycle", SCIM2_SERVER, |_| true);
    let a = metric_median(&entra_a, "end_to_end_s");
    let b = metric_median(&entra_b, "end_to_end_s");
    let ratio = a.zip(b).and_then(|(a, b)| advantage("end_to_end_s", a, b));
    lines.push(format!(
        "entra-cycle ≥ 20× faster end to end: {} — {} s vs {} s{} = {}×",
        verdict(ratio.map(|r| r >= 20.0)),
        a.map(fmt_num).unwrap_or_default(),
        b.map(fmt_num).unwrap_or_default(),
        if entra_b.iter().any(|r| r.capped) {
            " (scim2-server capped, extrapolated from its rate)"
        } else {
            ""
        },
        ratio.map(|r| fmt_ratio(r, 20.0)).unwrap_or_default()
    ));
    // Big group flatness.
    let big = pick(results, "big-group", SCIMD_SQLITE, |_| true);
    let sizes: Vec<u64> = big
        .first()
        .and_then(|r| r.params.get("sizes").and_then(Value::as_array))
        .map(|s| s.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if let (Some(small), Some(large)) = (sizes.iter().min(), sizes.iter().max()) {
        for op in ["add", "remove", "read"] {
            let s = metric_median(&big, &format!("{op}-{small}_p50_ms"));
            let l = metric_median(&big, &format!("{op}-{large}_p50_ms"));
            let growth = s.zip(l).map(|(s, l)| l / s);
            lines.push(format!(
                "big-group {op} p50 at K={large} ≤ 1.5× K={small}: {} — {} ms vs {} ms ({}×)",
                verdict(growth.map(|g| g <= 1.5)),
                l.map(fmt_num).unwrap_or_default(),
                s.map(fmt_num).unwrap_or_default(),
                growth.map(fmt_num).unwrap_or_default()
            ));
        }
    } else {
        lines.push("big-group flatness: not measured".into());
    }
    // GET by id vs bare.
    let a = metric_median(
        &pick(results, "get-by-id", SCIMD_SQLITE, |_| true),
        "throughput_ops_per_s",
    );
    let b = metric_median(
        &pick(results, "get-by-id", BARE, |_| true),
        "throughput_ops_per_s",
    );
    let share = a.zip(b).map(|(a, b)| a / b);
    lines.push(format!(
        "GET by id ≥ half the bare endpoint: {} — {} vs {} req/s ({:.0}%)",
        verdict(share.map(|s| s >= 0.5)),
        a.map(fmt_num).unwrap_or_default(),
        b.map(fmt_num).unwrap_or_default(),
        share.unwrap_or(0.0) * 100.0
    ));
    // Memory and start-up at 100k users.
    let users_100k = |p: &Value| p.get("users").and_then(Value::as_u64) == Some(100_000);
    let rss = rss_median_mb(&pick(results, "mixed", SCIMD_SQLITE, users_100k));
    lines.push(format!(
        "peak RSS < 100 MB serving 100,000 users under mixed (SQLite): {} — {} MB",
        verdict(rss.map(|m| m < 100.0)),
        rss.map(fmt_num).unwrap_or_default()
    ));
    let start = metric_median(
        &pick(results, "startup", SCIMD_SQLITE, users_100k),
        "start_to_first_request_ms",
    );
    lines.push(format!(
        "start to first served request < 200 ms with 100,000 users (SQLite): {} — {} ms",
        verdict(start.map(|m| m < 200.0)),
        start.map(fmt_num).unwrap_or_default()
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Verification;
    use serde_json::json;

    fn result(
        scenario: &str,
        target: &str,
        params: Value,
        metrics: &[(&str, f64)],
    ) -> ScenarioResult {
        ScenarioResult {
            scenario: scenario.into(),
            target: target.into(),
            round: 1,
            params,
            elapsed_s: 1.0,
            capped: false,
            completed_fraction: 1.0,
            phases: Vec::new(),
            operations: Vec::new(),
            metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            verification: Verification {
                passed: true,
                checks: vec!["x".into()],
                failures: Vec::new(),
            },
            peak_rss_kb: Some(50 * 1024),
            client_threads: None,
            cpu_latency_us: None,
        }
    }

    #[test]
    fn many_tenant_runs_are_compared_with_one_tenant_and_kept_out_of_the_rest() {
        let one = json!({"users": 10000, "connections": 8, "duration_s": 1.0});
        let many = json!({"users": 10000, "connections": 8, "duration_s": 1.0, "tenants": 1000});
        let results = vec![
            result(
                "mixed",
                SCIMD_SQLITE,
                one.clone(),
                &[("throughput_ops_per_s", 5000.0), ("all_p99_ms", 4.0)],
            ),
            result(
                "mixed",
                SCIMD_SQLITE,
                many.clone(),
                &[("throughput_ops_per_s", 4000.0), ("all_p99_ms", 5.0)],
            ),
            result(
                "mixed",
                SCIM2_SERVER,
                one,
                &[("throughput_ops_per_s", 250.0), ("all_p99_ms", 40.0)],
            ),
        ];
        let rows = many_tenants(&results);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].tenants, rows[0].users), (1000, 10000));
        assert_eq!((rows[0].ops, rows[0].one_ops), (Some(4000.0), Some(5000.0)));
        // The mixed target and the growth series see the one-tenant run only.
        let lines = targets(&results);
        assert!(lines[0].contains("5000 vs 250"), "{}", lines[0]);
        let growth_rows = growth(&results);
        assert_eq!(growth_rows.len(), 1);
        assert_eq!(growth_rows[0].2[0], Some(5000.0));
        let md = markdown(&results);
        assert!(
            md.contains("| scimd-sqlite | 1000 | 10000 | 4000 | 5000 | 0.80× |"),
            "{md}"
        );
    }

    /// A ratio just under its target is never shown as the target itself.
    #[test]
    fn a_missed_ratio_is_not_rounded_up_to_its_target() {
        assert_eq!(fmt_ratio(19.96, 20.0), "19.96");
        assert_eq!(fmt_ratio(19.94, 20.0), "19.9");
        assert_eq!(fmt_ratio(20.04, 20.0), "20.0");
        assert_eq!(fmt_ratio(21.5, 20.0), "21.5");
        let params = json!({"users": 10000, "connections": 8});
        let lines = targets(&[
            result(
                "entra-cycle",
                SCIMD_SQLITE,
                params.clone(),
                &[("end_to_end_s", 0.672)],
            ),
            result(
                "entra-cycle",
                SCIM2_SERVER,
                params,
                &[("end_to_end_s", 13.41)],
            ),
        ]);
        let entra = lines.iter().find(|l| l.starts_with("entra-cycle")).unwrap();
        assert!(
            entra.contains("**missed**") && entra.ends_with("= 19.96×"),
            "{entra}"
        );
    }

    /// The report's head says which CPU latency request the rounds ran under, and
    /// calls out rounds that ran under different ones.
    #[test]
    fn the_report_says_under_which_cpu_latency_request_the_rounds_ran() {
        let params = json!({"users": 10000, "connections": 8});
        let at = |us: Option<u32>| ScenarioResult {
            cpu_latency_us: us,
            ..result(
                "entra-cycle",
                SCIMD_SQLITE,
                params.clone(),
                &[("end_to_end_s", 1.0)],
            )
        };
        let held = markdown(&[at(Some(0)), at(Some(0))]);
        assert!(
            held.contains("every round ran with a CPU latency request of 0 µs held"),
            "{held}"
        );
        let none = markdown(&[at(None)]);
        assert!(none.contains("no CPU latency request was held"), "{none}");
        let mixed = cpu_latency_note(&[at(Some(0)), at(None), at(Some(0))]);
        assert!(
            mixed.contains("different CPU latency requests (none, 0 µs)"),
            "{mixed}"
        );
        // Recorded rows keep the setting; rows written before it read as none.
        let line = serde_json::to_string(&at(Some(0))).unwrap();
        let back: ScenarioResult = serde_json::from_str(&line).unwrap();
        assert_eq!(back.cpu_latency_us, Some(0));
        let older = line.replace(",\"cpu_latency_us\":0", "");
        assert_ne!(older, line);
        let back: ScenarioResult = serde_json::from_str(&older).unwrap();
        assert_eq!(back.cpu_latency_us, None);
    }

    fn under(threads: u32, mut r: ScenarioResult) -> ScenarioResult {
        r.client_threads = Some(threads);
        r
    }

    fn entra(target: &str, threads: u32, seconds: f64) -> ScenarioResult {
        under(
            threads,
            result(
                "entra-cycle",
                target,
                json!({"users": 10000, "connections": 8}),
                &[("end_to_end_s", seconds)],
            ),
        )
    }

    #[test]
    fn each_target_is_judged_under_its_better_load_generator_setup() {
        let mut results = Vec::new();
        for (one, two) in [(0.80, 0.90), (0.82, 0.88), (0.79, 0.91)] {
            results.push(entra(SCIMD_SQLITE, 1, one));
            results.push(entra(SCIMD_SQLITE, 2, two));
        }
        for (one, two) in [(16.5, 15.9), (16.2, 16.0), (16.8, 15.5)] {
            results.push(entra(SCIM2_SERVER, 1, one));
            results.push(entra(SCIM2_SERVER, 2, two));
        }
        let mixed = json!({"users": 10000, "connections": 8, "duration_s": 1.0});
        for (threads, ops) in [(1, 900.0), (2, 1000.0), (1, 950.0), (2, 1100.0)] {
            results.push(under(
                threads,
                result(
                    "mixed",
                    SCIM2_SERVER,
                    mixed.clone(),
                    &[("throughput_ops_per_s", ops)],
                ),
            ));
        }
        // One setup only, and a scenario without a target on its medians: kept whole.
        results.push(under(
            2,
            result(
                "mixed",
                SCIMD_SQLITE,
                mixed.clone(),
                &[("throughput_ops_per_s", 9e4)],
            ),
        ));
        for threads in [1, 2] {
            results.push(under(
                threads,
                result("import", SCIMD_SQLITE, json!({}), &[("end_to_end_s", 1.0)]),
            ));
        }

        let (kept, choices) = best_client_setups(&results);
        let kept_setups = |scenario: &str, target: &str| -> Vec<Option<u32>> {
            kept.iter()
                .filter(|r| r.scenario == scenario && r.target == target)
                .map(|r| r.client_threads)
                .collect()
        };
        assert_eq!(kept_setups("entra-cycle", SCIMD_SQLITE), [Some(1); 3]);
        assert_eq!(kept_setups("entra-cycle", SCIM2_SERVER), [Some(2); 3]);
        assert_eq!(
            kept_setups("mixed", SCIM2_SERVER),
            [Some(2); 2],
            "higher is better"
        );
        assert_eq!(kept_setups("mixed", SCIMD_SQLITE), [Some(2)]);
        assert_eq!(kept_setups("import", SCIMD_SQLITE), [Some(1), Some(2)]);
        assert_eq!(choices.len(), 3, "{choices:?}");
        assert_eq!(
            choices[0].setups,
            [(Some(1), 0.80, 3), (Some(2), 0.90, 3)],
            "{choices:?}"
        );

        // The target compares the better medians: 15.9 s against 0.80 s.
        let lines = targets(&kept);
        assert!(
            lines[1].contains("0.80 s vs 15.9 s") && lines[1].contains("19.9×"),
            "{}",
            lines[1]
        );
        let md = markdown(&results);
        assert!(md.contains("19.9×"), "{md}");
        assert!(
            md.contains("| entra-cycle | scim2-server | end_to_end_s | 1 thread: 16.5 (3), 2 threads: 15.9 (3) | 2 threads |"),
            "{md}"
        );
    }

    #[test]
    fn a_tie_keeps_the_setup_with_fewer_threads() {
        let results = vec![entra(SCIMD_SQLITE, 2, 1.0), entra(SCIMD_SQLITE, 1, 1.0)];
        let (kept, choices) = best_client_setups(&results);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].client_threads, Some(1));
        assert_eq!(choices[0].kept, Some(1));
    }

    #[test]
    fn advantage_follows_the_metric_direction() {
        assert_eq!(advantage("throughput_ops_per_s", 200.0, 10.0), Some(20.0));
        assert_eq!(advantage("end_to_end_s", 2.0, 40.0), Some(20.0));
        assert_eq!(advantage("end_to_end_s", 0.0, 40.0), None);
    }

    #[test]
    fn targets_are_checked_from_medians() {
        let p = json!({"users": 100000, "connections": 8, "duration_s": 1.0});
        let results = vec![
            result(
                "mixed",
                SCIMD_SQLITE,
                p.clone(),
                &[("throughput_ops_per_s", 5000.0), ("all_p99_ms", 4.0)],
            ),
            result(
                "mixed",
                SCIMD_SQLITE,
                p.clone(),
                &[("throughput_ops_per_s", 7000.0), ("all_p99_ms", 6.0)],
            ),
            result(
                "mixed",
                SCIM2_SERVER,
                p.clone(),
                &[("throughput_ops_per_s", 200.0), ("all_p99_ms", 40.0)],
            ),
            result(
                "entra-cycle",
                SCIMD_SQLITE,
                json!({"users": 500}),
                &[("end_to_end_s", 10.0)],
            ),
            result(
                "entra-cycle",
                SCIM2_SERVER,
                json!({}),
                &[("end_to_end_s", 100.0)],
            ),
        ];
        let lines = targets(&results);
        assert!(
            lines[0].contains("**met**") && lines[0].contains("30.0×"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("**missed**") && lines[1].contains("10.0×"),
            "{}",
            lines[1]
        );
        assert!(lines
            .iter()
            .any(|l| l.starts_with("peak RSS") && l.contains("**met**")));
        let md = markdown(&results);
        assert!(
            md.contains("| throughput_ops_per_s | 6000 | 200 | 30.0× |"),
            "{md}"
        );
        assert!(
            md.contains("| scimd-sqlite | 100000 | 6000 | 5.00 | 50.0 | – |"),
            "{md}"
        );
        // Only mixed and start-up runs make the growth table.
        assert!(!md.contains("| scimd-sqlite | 500 |"), "{md}");
    }
}
