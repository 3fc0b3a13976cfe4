//! `/healthz`, `/readyz`, `/metrics`, request ids and panic recovery, over real HTTP.

mod ops_support;

use axum::routing::get;
use axum::Router;
use ops_support::database::Backend;
use ops_support::{samples, serve_router, OpsServer};
use scimd_server::config::ServerConfig;
use scimd_server::ops;
use scimd_server::state::AppState;

const REQUESTS_TOTAL: &str = "scimd_http_requests_total";

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn assert_scim_error(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(header(&resp, "content-type"), "application/scim+json");
    let body: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(body["status"], status.to_string());
    body
}

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let server = OpsServer::start().await;
    let resp = server.get("/healthz").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_follows_the_database() {
    let server = OpsServer::start().await;
    let resp = server.get("/readyz").await;
    assert_eq!(resp.status().as_u16(), 200);

    server.lose_database().await;
    let resp = server.get("/readyz").await;
    assert_eq!(header(&resp, "retry-after"), "5");
    let body = assert_scim_error(resp, 503).await;
    assert!(
        body["detail"].as_str().unwrap().contains("database"),
        "{body}"
    );
    // Liveness is about the process, not the database.
    assert_eq!(server.get("/healthz").await.status().as_u16(), 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_never_by_tenant_or_path() {
    let server = OpsServer::start().await;
    // A raw path with a tenant and a resource id, and a query with personal data.
    let resp = server
        .client
        .get(format!(
            "{}/scim/v2/acme/Users/2819c223-7f76-453a-919d-413861904646?filter=userName%20eq%20%22jane%40example.com%22",
            server.origin
        ))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404, "no such user");
    assert_eq!(server.get("/healthz").await.status().as_u16(), 200);
    assert_eq!(
        server.get("/no-such-place-5e1f").await.status().as_u16(),
        404
    );

    let resp = server.get("/metrics").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(header(&resp, "content-type").starts_with("text/plain; version=0.0.4"));
    let text = resp.text().await.unwrap();

    let counters = samples(&text, REQUESTS_TOTAL);
    assert!(
        counters.iter().any(|l| l.contains(r#"method="GET""#)
            && l.contains(r#"route="/healthz""#)
            && l.contains(r#"status="200""#)),
        "{text}"
    );
    assert!(
        counters
            .iter()
            .any(|l| l.contains(r#"route="unmatched""#) && l.contains(r#"status="404""#)),
        "{text}"
    );
    // The database pools are reported, each with its size.
    let pool_line = |pool: &str, metric: &str| {
        text.lines()
            .find(|l| l.starts_with(metric) && l.contains(&format!(r#"pool="{pool}""#)))
            .map(str::to_owned)
    };
    let pools = server.store.pool_status();
    assert!(!pools.is_empty());
    for pool in &pools {
        let max = pool_line(pool.name, "scimd_db_pool_max_connections").unwrap_or_default();
        assert!(
            max.ends_with(&format!(" {}", pool.max)),
            "{}: {text}",
            pool.name
        );
        assert!(
            pool_line(pool.name, "scimd_db_pool_connections").is_some(),
            "{text}"
        );
    }
    if server.backend() == Backend::Sqlite {
        // SQLite: the one writer connection, and the readers.
        let writer_max = pool_line("writer", "scimd_db_pool_max_connections").unwrap_or_default();
        assert!(writer_max.ends_with(" 1"), "one writer connection: {text}");
        assert!(
            pool_line("readers", "scimd_db_pool_connections").is_some(),
            "{text}"
        );
    }
    // The SCIM request is counted under its template, whatever its outcome.
    assert!(
        counters
            .iter()
            .any(|l| l.contains(r#"route="/scim/v2/{tenant}/Users/{id}""#)),
        "{text}"
    );
    for private in [
        "acme",
        "2819c223",
        "jane",
        "example.com",
        "no-such-place-5e1f",
        &server.token,
    ] {
        assert!(
            !text.contains(private),
            "{private} leaked into /metrics:\n{text}"
        );
    }
    assert!(
        samples(&text, "scimd_http_request_duration_seconds_bucket")
            .iter()
            .any(|l| l.contains(r#"route="/healthz""#) && l.contains(r#"le="+Inf""#)),
        "{text}"
    );
}

#[tokio::test]
async fn request_ids_are_generated_or_kept_when_sane() {
    let server = OpsServer::start().await;

    let generated = server.get("/healthz").await;
    let id = header(&generated, "x-request-id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "generated id {id:?}");

    let kept = server
        .client
        .get(format!("{}/healthz", server.origin))
        .header("x-request-id", "lb-7f3a.42")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&kept, "x-request-id"), "lb-7f3a.42");

    let replaced = server
        .client
        .get(format!("{}/healthz", server.origin))
        .header("x-request-id", "forged\" log=line")
        .send()
        .await
        .unwrap();
    let id = header(&replaced, "x-request-id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "replacement id {id:?}");

    // Errors carry an id too.
    let missing = server.get("/nowhere").await;
    assert!(!header(&missing, "x-request-id").is_empty());
}

/// A SCIM handler that panics is answered with the SCIM 500 and recorded in the
/// tenant's provisioning log like any failed request, with its request id; the panic
/// message is in neither.
#[tokio::test]
async fn a_panicking_scim_handler_is_in_the_provisioning_log() {
    let database = ops_support::database::TestDatabase::fresh().await;
    let store = database.connect().await;
    scimd_server::tenants::create_tenant_with_token(store.as_ref(), "acme", "Acme")
        .await
        .unwrap();
    let config = ServerConfig {
        provisioning_log: scimd_server::config::ProvisioningLogConfig {
            flush_interval: std::time::Duration::from_millis(20),
            ..Default::default()
        },
        ..ServerConfig::default()
    };
    let state = AppState::new(store.clone(), config);
    let writer = scimd_server::provisioning_log::start_writer(&state).unwrap();
    let scim: Router<AppState> = Router::new()
        .route(
            "/Users/{id}",
            get(|| async {
                if true {
                    panic!("deliberate test panic");
                }
                "unreachable"
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            scimd_server::provisioning_log::record_scim_request,
        ));
    let router = Router::new().nest("/scim/v2/{tenant}", scim);
    let (origin, _shutdown) = serve_router(ops::instrument(router).with_state(state)).await;

    let resp = reqwest::Client::new()
        .get(format!("{origin}/scim/v2/acme/Users/boom"))
        .header("user-agent", "Azure AD SCIM Client")
        .send()
        .await
        .unwrap();
    let request_id = header(&resp, "x-request-id").to_owned();
    let body = assert_scim_error(resp, 500).await;
    assert!(!body.to_string().contains("deliberate"));

    writer.flush_and_stop().await;
    let entries = store
        .list_request_logs("acme", &scimd_store::LogQuery::default())
        .await
        .unwrap()
        .entries;
    let entry = &entries
        .iter()
        .find(|e| e.entry.request_id == request_id)
        .unwrap_or_else(|| panic!("no entry for {request_id}: {entries:#?}"))
        .entry;
    assert_eq!(entry.status, 500);
    assert_eq!(entry.method, "GET");
    assert_eq!(entry.path, "/scim/v2/acme/Users/boom");
    assert_eq!(entry.resource_id.as_deref(), Some("boom"));
    assert_eq!(entry.client, scimd_store::LogClient::Entra);
    let detail = entry.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("internal error"), "{detail}");
    assert!(!format!("{entry:?}").contains("deliberate"), "{entry:?}");
}

#[tokio::test]
async fn a_panicking_handler_gives_a_scim_500_and_is_counted() {
    let database = ops_support::database::TestDatabase::fresh().await;
    let state = AppState::new(database.connect().await, ServerConfig::default());
    let router: Router<AppState> = Router::new().route(
        "/boom/{id}",
        get(|| async {
            if true {
                panic!("deliberate test panic");
            }
            "unreachable"
        }),
    );
    let (origin, _shutdown) = serve_router(ops::instrument(router).with_state(state)).await;
    let client = reqwest::Client::new();

    let resp = client.get(format!("{origin}/boom/1")).send().await.unwrap();
    assert!(!header(&resp, "x-request-id").is_empty());
    let body = assert_scim_error(resp, 500).await;
    assert!(
        !body.to_string().contains("deliberate"),
        "panic text must stay in the log"
    );

    // The server survived and counted the failure under the route template.
    let resp = client.get(format!("{origin}/boom/2")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    let text = ops::metrics::render();
    assert!(
        samples(&text, REQUESTS_TOTAL)
            .iter()
            .any(|l| l.contains(r#"route="/boom/{id}""#) && l.contains(r#"status="500""#)),
        "{text}"
    );
}
