//! The harness works end to end (not a timed test): a real scimd on a real SQLite file
//! over loopback HTTP, every scenario at tiny sizes, end-state verification passing
//! and results well-formed. Also the bare endpoint and the loopback-only rule.

use scimd_bench::client::{total_results, ScimClient};
use scimd_bench::result::ScenarioResult;
use scimd_bench::scenarios::{big_group, entra_cycle, get_by_id, import, mixed, RunSettings};
use scimd_bench::tenants::Tenants;
use scimd_bench::BenchError;
use scimd_server::config::ServerConfig;
use scimd_server::state::AppState;
use scimd_server::tenants;
use scimd_store::sqlite::SqliteStore;
use scimd_store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// A scimd on a temp SQLite file; stops when dropped.
struct Scimd {
    base: String,
    token: String,
    admin_key: String,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn start_scimd() -> Scimd {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("scimd.db"))
            .await
            .expect("open sqlite"),
    );
    let (_tenant, issued) = tenants::create_tenant_with_token(store.as_ref(), "bench", "Bench")
        .await
        .expect("tenant");
    let admin_key = scimd_server::admin::keys::create_admin_key(
        store.as_ref(),
        "bench",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("admin key")
    .key;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let state = AppState::new(store.clone(), ServerConfig::default());
    tokio::spawn(async move {
        let _ = scimd_server::serve(listener, state, async move {
            let _ = rx.await;
        })
        .await;
    });
    Scimd {
        base: format!("http://{addr}/scim/v2/bench"),
        token: issued.token,
        admin_key,
        _stop: tx,
        _dir: dir,
    }
}

fn settings(target: &str) -> RunSettings {
    RunSettings {
        target: target.into(),
        round: 1,
        connections: 4,
        cap: Duration::from_secs(60),
        server_pid: Some(std::process::id()),
        run_tag: format!("t{:06x}", rand::random::<u32>() & 0xff_ffff),
        client_threads: 2,
    }
}

/// Checks what every result must hold, and that it survives a JSON round trip.
fn assert_well_formed(result: &ScenarioResult, scenario: &str) {
    assert_eq!(result.scenario, scenario);
    assert!(
        result.verification.passed,
        "{scenario} verification: {:?}",
        result.verification.failures
    );
    assert!(result.verification.failures.is_empty());
    assert!(!result.capped, "{scenario} capped");
    assert_eq!(result.completed_fraction, 1.0);
    assert!(result.elapsed_s > 0.0);
    assert!(result.peak_rss_kb.is_some_and(|kb| kb > 0));
    assert_eq!(result.params["connections"], 4);
    for op in &result.operations {
        assert_eq!(op.errors, 0, "{scenario} {}: {:?}", op.op, op.first_error);
        assert!(op.count > 0);
        assert!(op.p50_ms <= op.p90_ms && op.p90_ms <= op.p99_ms && op.p99_ms <= op.max_ms);
    }
    let text = serde_json::to_string(result).expect("serialise");
    let back: ScenarioResult = serde_json::from_str(&text).expect("parse");
    // Floats may lose their last bit in text, so compare what the text says.
    let as_text: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(serde_json::to_value(&back).expect("value"), as_text);
    assert_eq!(back.operations.len(), result.operations.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_and_verifies_against_scimd() {
    every_scenario_runs_and_verifies(2).await;
}

/// `bench/run` also runs the scenarios with the whole load generator on one thread
/// (`--client-threads 1`, a current-thread runtime): they finish and verify there too.
#[tokio::test(flavor = "current_thread")]
async fn every_scenario_runs_and_verifies_on_one_thread() {
    every_scenario_runs_and_verifies(1).await;
}

/// Every scenario at tiny sizes, on a runtime of `client_threads` threads (the test's
/// own), whose results say so.
async fn every_scenario_runs_and_verifies(client_threads: u32) {
    let settings = |target: &str| RunSettings {
        client_threads,
        ..settings(target)
    };
    let server = start_scimd().await;
    let client = ScimClient::new(
        &server.base,
        Some(&server.token),
        4,
        Duration::from_secs(30),
    )
    .expect("client");

    let s = settings("scimd-sqlite");
    let entra = entra_cycle::run(
        &client,
        &s,
        &entra_cycle::EntraCycleParams {
            users: 20,
            groups: 2,
            members_per_group: 7,
            patch_batch: 3,
        },
    )
    .await
    .expect("entra-cycle")
    .into_result(&s);
    assert_well_formed(&entra, "entra-cycle");
    let users = entra
        .phases
        .iter()
        .find(|p| p.name == "users")
        .expect("users phase");
    assert_eq!((users.planned_ops, users.ops), (40, 40));
    let groups = entra
        .phases
        .iter()
        .find(|p| p.name == "groups")
        .expect("groups phase");
    // Per group: query, POST, and ceil(7 / 3) = 3 PATCHes.
    assert_eq!((groups.planned_ops, groups.ops), (10, 10));
    assert!(entra.metrics["end_to_end_s"] > 0.0);

    let s = settings("scimd-sqlite");
    let mixed = mixed::run(
        &Tenants::single(&client),
        &s,
        &mixed::MixedParams {
            users: 20,
            duration_s: 1.0,
            max_ops: 100_000,
            tenants: 1,
        },
        Instant::now() + s.cap,
    )
    .await
    .expect("mixed")
    .into_result(&s);
    assert_well_formed(&mixed, "mixed");
    assert!(mixed.metrics["throughput_ops_per_s"] > 0.0);
    assert!(mixed.operations.iter().any(|o| o.op == "query"));
    assert!(mixed.operations.iter().any(|o| o.op == "all"));

    let s = settings("scimd-sqlite");
    let big = big_group::run(
        &client,
        &s,
        &big_group::BigGroupParams {
            sizes: vec![5, 30],
            rounds: 4,
            fill_batch: 8,
        },
    )
    .await
    .expect("big-group")
    .into_result(&s);
    assert_well_formed(&big, "big-group");
    for op in [
        "add-5",
        "read-5",
        "remove-5",
        "add-30",
        "read-30",
        "remove-30",
    ] {
        let summary = big.operations.iter().find(|o| o.op == op).expect(op);
        assert_eq!(summary.count, 4, "{op}");
    }

    let s = settings("scimd-sqlite");
    let imported = import::run(
        &client,
        &s,
        &import::ImportParams {
            users: 25,
            page_size: 10,
        },
    )
    .await
    .expect("import")
    .into_result(&s);
    assert_well_formed(&imported, "import");
    let pages = imported
        .operations
        .iter()
        .find(|o| o.op == "page")
        .expect("pages");
    // Everything created by the earlier scenarios is paged through too, 10 at a time.
    assert!(pages.count >= 3);

    let s = settings("scimd-sqlite");
    let gets = get_by_id::run(
        &client,
        &s,
        &get_by_id::GetByIdParams {
            users: 10,
            duration_s: 0.5,
        },
    )
    .await
    .expect("get-by-id")
    .into_result(&s);
    assert_well_formed(&gets, "get-by-id");

    for result in [&entra, &mixed, &big, &imported, &gets] {
        assert_eq!(
            result.client_threads,
            Some(client_threads),
            "{}",
            result.scenario
        );
    }
    let md = scimd_bench::report::markdown(&[entra, mixed, big, imported, gets]);
    assert!(md.contains("## entra-cycle"), "{md}");
    assert!(md.contains("| throughput_ops_per_s |"), "{md}");
}

/// `--tenants N`: N tenants created through the admin API, the users spread over them
/// (user i in tenant i mod N), each tenant's users found in that tenant only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_spreads_its_users_over_many_tenants() {
    let scimd = start_scimd().await;
    let client = ScimClient::new(&scimd.base, None, 4, Duration::from_secs(30)).expect("client");
    let s = settings("scimd-sqlite");
    let deadline = Instant::now() + s.cap;
    // The admin API refuses a wrong key: no tenant is created.
    assert!(
        Tenants::create(&client, "scimdadm_wrong_key", 2, &s.run_tag, deadline)
            .await
            .is_err()
    );
    let spread = Tenants::create(&client, &scimd.admin_key, 5, &s.run_tag, deadline)
        .await
        .expect("tenants");
    assert_eq!(spread.len(), 5);
    let mixed = mixed::run(
        &spread,
        &s,
        &mixed::MixedParams {
            users: 20,
            duration_s: 1.0,
            max_ops: 2_000,
            tenants: spread.len(),
        },
        deadline,
    )
    .await
    .expect("mixed")
    .into_result(&s);
    assert_well_formed(&mixed, "mixed");
    assert_eq!(mixed.params["tenants"], 5);
    let phase = mixed
        .phases
        .iter()
        .find(|p| p.name == "tenants")
        .expect("tenants phase");
    assert_eq!(phase.ops, 5);
    for (index, tenant) in spread.all().iter().enumerate() {
        assert!(tenant
            .base()
            .ends_with(&format!("/scim/v2/{}-t{index}", s.run_tag)));
        let reply = tenant.get("/Users?count=0").await.expect("count");
        let users = total_results("count", &reply).expect("totalResults");
        // 4 seeded users each (20 over 5), plus what the load posted there.
        assert!(users >= 4, "{}: {users} users", tenant.base());
    }
    // The tenant the client was made for holds none of them.
    let bench = client
        .for_base(&scimd.base, Some(&scimd.token))
        .expect("client")
        .get("/Users?count=0")
        .await
        .expect("count");
    assert_eq!(total_results("count", &bench).expect("totalResults"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_fails_verification_instead_of_passing() {
    let server = start_scimd().await;
    let client = ScimClient::new(
        &server.base,
        Some("scimd_nope_nope"),
        2,
        Duration::from_secs(30),
    )
    .expect("client");
    let s = settings("scimd-sqlite");
    let entra = entra_cycle::run(
        &client,
        &s,
        &entra_cycle::EntraCycleParams {
            users: 3,
            groups: 1,
            members_per_group: 2,
            patch_batch: 50,
        },
    )
    .await
    .expect("runs")
    .into_result(&s);
    assert!(!entra.verification.passed);
    assert!(entra
        .operations
        .iter()
        .all(|o| o.count == 0 && o.errors > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bare_endpoint_answers_get_by_id() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(scimd_bench::bare::serve(listener, async move {
        let _ = rx.await;
    }));
    let client = ScimClient::new(
        &format!("http://{addr}/v2"),
        None,
        4,
        Duration::from_secs(10),
    )
    .expect("client");
    let s = settings("bare");
    let gets = get_by_id::run(
        &client,
        &s,
        &get_by_id::GetByIdParams {
            users: 0,
            duration_s: 0.3,
        },
    )
    .await
    .expect("get-by-id")
    .into_result(&s);
    assert_well_formed(&gets, "get-by-id");
    let reply = client.get("/Users/anything").await.expect("get");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, scimd_bench::bare::BODY.as_bytes());
    let _ = tx.send(());
}

#[test]
fn non_loopback_targets_are_refused() {
    let refused = ScimClient::new(
        "http://192.168.1.10:8080/scim/v2/x",
        None,
        1,
        Duration::from_secs(1),
    );
    assert!(matches!(refused, Err(BenchError::NotLoopback { .. })));
}
