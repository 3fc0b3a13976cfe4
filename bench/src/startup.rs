//! Start-up time: from spawning `scimd serve` on an existing data directory to the
//! first 200 on `GET /Users/{id}`. Spawned fresh each round, polled in a bounded
//! loop, stopped with SIGTERM; the median of the rounds is reported.

use crate::client::ScimClient;
use crate::result::{ScenarioResult, Verification};
use crate::rss::peak_rss_kb;
use crate::stats::median;
use crate::BenchError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to start.
#[derive(Debug, Clone)]
pub struct StartupParams {
    /// The scimd binary.
    pub scimd: PathBuf,
    /// Extra arguments before `serve` (e.g. `--data-dir DIR` or `--database URL`).
    pub args: Vec<String>,
    /// The tenant to read from.
    pub tenant: String,
    /// A token of that tenant.
    pub token: String,
    /// Rounds (the median is reported).
    pub rounds: usize,
    /// How long one start may take before it counts as failed.
    pub timeout: Duration,
    /// The label of the data size (users in the database), for the report.
    pub users: u64,
    /// The target's label.
    pub target: String,
}

/// How often the server is polled while it starts.
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Measures the start-up rounds.
pub async fn measure(params: &StartupParams) -> Result<ScenarioResult, BenchError> {
    // A first start finds a user id to read (and warms the page cache, as a restart
    // of a running service would find it).
    let (mut child, base) = spawn(params)?;
    let id = first_user_id(&base, &params.token, params.timeout).await;
    stop(&mut child);
    let id = id?;

    let mut samples_ms = Vec::new();
    let mut rss_kb = Vec::new();
    let mut verification = Verification::default();
    for _ in 0..params.rounds.max(1) {
        let started = Instant::now();
        let (mut child, base) = spawn(params)?;
        let served = wait_for_200(&base, &params.token, &id, params.timeout).await;
        let took = started.elapsed();
        rss_kb.extend(peak_rss_kb(child.id()));
        stop(&mut child);
        match served {
            Ok(()) => samples_ms.push(took.as_secs_f64() * 1000.0),
            Err(e) => verification.check(false, format!("a start did not serve: {e}")),
        }
    }
    verification.check(
        samples_ms.len() == params.rounds.max(1),
        format!(
            "{} of {} starts served GET /Users/{{id}}",
            samples_ms.len(),
            params.rounds.max(1)
        ),
    );
    let mut metrics = BTreeMap::new();
    let median_ms = median(&samples_ms);
    metrics.insert("start_to_first_request_ms".to_string(), median_ms);
    Ok(ScenarioResult {
        scenario: "startup".into(),
        target: params.target.clone(),
        round: 1,
        params: json!({"users": params.users, "rounds": params.rounds, "samples_ms": samples_ms}),
        elapsed_s: median_ms / 1000.0,
        capped: false,
        completed_fraction: 1.0,
        phases: Vec::new(),
        operations: Vec::new(),
        metrics,
        verification: verification.finish(),
        peak_rss_kb: rss_kb.into_iter().max(),
        client_threads: None,
        cpu_latency_us: None,
    })
}

/// A free loopback port (bound, read, released: the tiny race is harmless here).
fn free_port() -> Result<u16, BenchError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::io("finding a free port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| BenchError::io("finding a free port", e))
}

fn spawn(params: &StartupParams) -> Result<(Child, String), BenchError> {
    let port = free_port()?;
    let child = Command::new(&params.scimd)
        .args(&params.args)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-level",
            "warn",
            "serve",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BenchError::io(format!("spawning {}", params.scimd.display()), e))?;
    Ok((
        child,
        format!("http://127.0.0.1:{port}/scim/v2/{}", params.tenant),
    ))
}

/// SIGTERM, then a bounded wait, then SIGKILL.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..500 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

async fn wait_for_200(
    base: &str,
    token: &str,
    id: &str,
    timeout: Duration,
) -> Result<(), BenchError> {
    // A fresh connection per poll: the server is not listening yet at first.
    let client = ScimClient::new(base, Some(token), 1, Duration::from_secs(5))?;
    let deadline = Instant::now() + timeout;
    let mut last = String::from("never answered");
    while Instant::now() < deadline {
        match client.get(&format!("/Users/{id}")).await {
            Ok(r) if r.status == 200 => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    Err(BenchError::Measurement(format!(
        "no 200 within {timeout:?}: {last}"
    )))
}

async fn first_user_id(base: &str, token: &str, timeout: Duration) -> Result<String, BenchError> {
    let client = ScimClient::new(base, Some(token), 1, Duration::from_secs(5))?;
    let deadline = Instant::now() + timeout;
    let mut last = String::from("never answered");
    while Instant::now() < deadline {
        match client.get("/Users?count=1").await {
            Ok(r) if r.status == 200 => {
                return r
                    .json()
                    .and_then(|v| {
                        v.pointer("/Resources/0/id")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .ok_or_else(|| {
                        BenchError::Measurement("the database has no user to read".into())
                    });
            }
            Ok(r) => last = format!("HTTP {}", r.status),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    Err(BenchError::Measurement(format!(
        "scimd did not start within {timeout:?}: {last}"
    )))
}
