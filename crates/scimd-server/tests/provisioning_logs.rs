//! Provisioning logs over real HTTP on loopback, with a real SQLite file: what is
//! recorded per request, what is never recorded, the never-blocking buffer, retention,
//! the query filters and paging, and tenant isolation.

mod common;

use common::TestServer;
use reqwest::Method;
use scimd_server::config::{ProvisioningLogConfig, ServerConfig};
use scimd_server::provisioning_log::{self, query::list_logs, LogListParams};
use scimd_server::state::AppState;
use scimd_store::{LogClient, LogEntry, LogQuery, NewLogEntry, Store, TenantUpdate};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const ENTRA_UA: &str = "Azure AD SCIM Client";
const OKTA_UA: &str = "Okta SCIM Client 1.0.0";

/// A configuration whose writer flushes quickly, so tests wait little.
fn quick_config() -> ServerConfig {
    ServerConfig {
        provisioning_log: ProvisioningLogConfig {
            flush_interval: Duration::from_millis(20),
            ..ProvisioningLogConfig::default()
        },
        ..ServerConfig::default()
    }
}

struct Reply {
    status: u16,
    request_id: String,
    body: Value,
}

async fn send(
    ts: &TestServer,
    base: &str,
    token: &str,
    user_agent: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = ts
        .client
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .header("user-agent", user_agent);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    Reply {
        status,
        request_id,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// Waits (at most 10 s, polling) until the tenant's log holds `count` entries, and
/// returns them newest first.
async fn wait_for_entries(store: &dyn Store, tenant: &str, count: usize) -> Vec<LogEntry> {
    let mut last = Vec::new();
    for _ in 0..200 {
        last = store
            .list_request_logs(
                tenant,
                &LogQuery {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .expect("list logs")
            .entries;
        if last.len() >= count {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} log entries for {tenant}, found {}: {last:#?}",
        last.len()
    );
}

fn by_request_id<'a>(entries: &'a [LogEntry], request_id: &str) -> &'a NewLogEntry {
    &entries
        .iter()
        .find(|e| e.entry.request_id == request_id)
        .unwrap_or_else(|| panic!("no entry for request {request_id}: {entries:#?}"))
        .entry
}

/// Every text column of an entry, for "no secret anywhere" checks.
fn all_text(entry: &NewLogEntry) -> String {
    format!("{entry:?}")
}

#[tokio::test]
async fn requests_are_recorded_with_client_status_scim_type_and_resource() {
    let ts = TestServer::start_with(quick_config()).await;
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jane@example.com",
        "active": true
    });
    let created = send(
        &ts,
        &ts.base,
        &ts.token,
        ENTRA_UA,
        Method::POST,
        "/Users",
        Some(user.clone()),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let read = send(
        &ts,
        &ts.base,
        &ts.token,
        OKTA_UA,
        Method::GET,
        &format!("/Users/{id}"),
        None,
    )
    .await;
    assert_eq!(read.status, 200);
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
    });
    let patched = send(
        &ts,
        &ts.base,
        &ts.token,
        ENTRA_UA,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch),
    )
    .await;
    assert!(
        patched.status == 204 || patched.status == 200,
        "{}",
        patched.status
    );
    let duplicate = send(
        &ts,
        &ts.base,
        &ts.token,
        ENTRA_UA,
        Method::POST,
        "/Users",
        Some(user),
    )
    .await;
    assert_eq!(duplicate.status, 409);
    let search = send(
        &ts,
        &ts.base,
        &ts.token,
        "curl/8.5.0",
        Method::GET,
        "/Users?filter=userName%20eq%20%22nobody%40example.com%22",
        None,
    )
    .await;
    assert_eq!(search.status, 200);

    let entries = wait_for_entries(ts.store.as_ref(), "acme", 5).await;
    assert_eq!(entries.len(), 5);

    let post = by_request_id(&entries, &created.request_id);
    assert_eq!((post.method.as_str(), post.status), ("POST", 201));
    assert_eq!(post.client, LogClient::Entra);
    assert_eq!(
        post.resource_id.as_deref(),
        Some(id.as_str()),
        "the created resource's id"
    );
    assert_eq!(post.path, "/scim/v2/acme/Users");
    assert_eq!(
        (post.scim_type.as_deref(), post.detail.as_deref()),
        (None, None)
    );
    assert_eq!(
        (post.request_body.as_deref(), post.response_body.as_deref()),
        (None, None)
    );

    let get = by_request_id(&entries, &read.request_id);
    assert_eq!(
        (get.method.as_str(), get.status, get.client),
        ("GET", 200, LogClient::Okta)
    );
    assert_eq!(get.resource_id.as_deref(), Some(id.as_str()));

    let patch = by_request_id(&entries, &patched.request_id);
    assert_eq!(
        (patch.method.as_str(), patch.client),
        ("PATCH", LogClient::Entra)
    );
    assert_eq!(patch.resource_id.as_deref(), Some(id.as_str()));

    let conflict = by_request_id(&entries, &duplicate.request_id);
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.scim_type.as_deref(), Some("uniqueness"));
    assert!(
        conflict
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("userName")),
        "{conflict:?}"
    );
    assert_eq!(conflict.resource_id, None);

    let query = by_request_id(&entries, &search.request_id);
    assert_eq!(query.client, LogClient::Other);
    assert_eq!(
        query.path, "/scim/v2/acme/Users?filter=userName%20eq%20%22nobody%40example.com%22",
        "the query string is kept: it explains a failed match"
    );
    for entry in &entries {
        assert!(
            !all_text(&entry.entry).contains(&ts.token),
            "token in {entry:?}"
        );
    }
}

#[tokio::test]
async fn bodies_are_recorded_only_when_enabled_and_then_redacted() {
    let ts = TestServer::start_with(quick_config()).await;
    let body = |name: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "password": "Hunter2-plaintext-pw",
            "urn:example:ext:2.0:User": {"apiToken": "tok-ABC-123", "note": "visible"}
        })
    };
    let before = send(
        &ts,
        &ts.base,
        &ts.token,
        OKTA_UA,
        Method::POST,
        "/Users",
        Some(body("before")),
    )
    .await;
    assert_eq!(before.status, 201);
    ts.store
        .update_tenant(
            "acme",
            &TenantUpdate {
                log_bodies: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let after = send(
        &ts,
        &ts.base,
        &ts.token,
        OKTA_UA,
        Method::POST,
        "/Users",
        Some(body("after")),
    )
    .await;
    assert_eq!(after.status, 201);
    let id = after.body["id"].as_str().unwrap().to_owned();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "password", "value": "Second-secret-pw"}]
    });
    let patched = send(
        &ts,
        &ts.base,
        &ts.token,
        ENTRA_UA,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(patch),
    )
    .await;
    assert!(patched.status < 300, "{}", patched.status);

    let entries = wait_for_entries(ts.store.as_ref(), "acme", 3).await;
    let off = by_request_id(&entries, &before.request_id);
    assert_eq!(
        (off.request_body.as_deref(), off.response_body.as_deref()),
        (None, None)
    );

    let on = by_request_id(&entries, &after.request_id);
    let request_body = on.request_body.as_deref().expect("request body recorded");
    let logged: Value = serde_json::from_str(request_body).expect("logged body is JSON");
    assert_eq!(logged["userName"], "after");
    assert_eq!(logged["password"], "[redacted]");
    assert_eq!(logged["urn:example:ext:2.0:User"]["apiToken"], "[redacted]");
    assert_eq!(logged["urn:example:ext:2.0:User"]["note"], "visible");
    let response_body = on.response_body.as_deref().expect("response body recorded");
    assert!(response_body.contains(&id), "{response_body}");

    let patch_entry = by_request_id(&entries, &patched.request_id);
    let patch_body = patch_entry.request_body.as_deref().expect("patch body");
    assert!(patch_body.contains("[redacted]"), "{patch_body}");
    for entry in &entries {
        let text = all_text(&entry.entry);
        for secret in [
            "Hunter2-plaintext-pw",
            "tok-ABC-123",
            "Second-secret-pw",
            ts.token.as_str(),
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn unauthenticated_requests_are_logged_for_existing_tenants_only_and_never_with_the_token() {
    let ts = TestServer::start_with(quick_config()).await;
    let forged = "scimd_abcdefgh_this-is-not-the-secret";
    let refused = send(&ts, &ts.base, forged, ENTRA_UA, Method::GET, "/Users", None).await;
    assert_eq!(refused.status, 401);
    let unknown_base = format!("{}/scim/v2/ghost", ts.origin);
    let ghost = send(
        &ts,
        &unknown_base,
        &ts.token,
        ENTRA_UA,
        Method::GET,
        "/Users",
        None,
    )
    .await;
    assert_eq!(ghost.status, 401);
    // A successful request after both: once it is in the log, the 401 (buffered
    // earlier) has been handed to the writer too.
    let ok = send(
        &ts,
        &ts.base,
        &ts.token,
        ENTRA_UA,
        Method::GET,
        "/Schemas",
        None,
    )
    .await;
    assert_eq!(ok.status, 200);

    let entries = wait_for_entries(ts.store.as_ref(), "acme", 2).await;
    let unauthorized = by_request_id(&entries, &refused.request_id);
    assert_eq!(unauthorized.status, 401);
    assert_eq!(unauthorized.client, LogClient::Entra);
    assert!(unauthorized.detail.is_some(), "the reason is recorded");
    for entry in &entries {
        let text = all_text(&entry.entry);
        assert!(
            !text.contains(forged) && !text.contains("this-is-not-the-secret"),
            "{text}"
        );
        assert!(!text.contains(&ts.token), "{text}");
    }
    // The request for a tenant that did not exist was not recorded for anyone: a
    // tenant created under that name afterwards starts with an empty log.
    tokio::time::sleep(Duration::from_millis(100)).await;
    ts.add_tenant("ghost").await;
    let ghost_log = ts
        .store
        .list_request_logs("ghost", &LogQuery::default())
        .await
        .unwrap();
    assert!(ghost_log.entries.is_empty(), "{ghost_log:?}");
}

#[tokio::test]
async fn a_full_buffer_drops_and_counts_entries_instead_of_blocking() {
    // The seam: serve the app without starting the log writer, so nothing drains the
    // buffer; requests must still all be answered, and the overflow counted.
    let database = common::database::TestDatabase::fresh().await;
    let store: Arc<dyn Store> = database.connect().await;
    let (_tenant, issued) =
        scimd_server::tenants::create_tenant_with_token(store.as_ref(), "acme", "Acme")
            .await
            .unwrap();
    let config = ServerConfig {
        provisioning_log: ProvisioningLogConfig {
            buffer_capacity: 3,
            batch_size: 2,
            flush_interval: Duration::from_millis(10),
        },
        ..ServerConfig::default()
    };
    let state = AppState::new(store.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = scimd_server::app(state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for i in 0..10 {
        let response = client
            .get(format!(
                "{origin}/scim/v2/acme/Users?filter=userName%20eq%20%22u{i}%22"
            ))
            .bearer_auth(&issued.token)
            .send()
            .await
            .expect("answered although the log buffer is full");
        assert_eq!(response.status().as_u16(), 200);
    }
    let log = state.provisioning_log();
    assert_eq!(log.buffered(), 3);
    assert_eq!(log.dropped(), 7);
    let metrics = client
        .get(format!("{origin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted: f64 = metrics
        .lines()
        .find(|l| l.starts_with(provisioning_log::DROPPED_TOTAL))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no dropped counter in {metrics}"));
    assert!(counted >= 7.0, "{counted}");

    // Once a writer runs, the buffered entries (the first three) reach the database.
    let writer = provisioning_log::start_writer(&state).expect("first writer");
    assert!(
        provisioning_log::start_writer(&state).is_none(),
        "only one writer"
    );
    writer.flush_and_stop().await;
    let entries = store
        .list_request_logs("acme", &LogQuery::default())
        .await
        .unwrap()
        .entries;
    let mut paths: Vec<&str> = entries.iter().map(|e| e.entry.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [0, 1, 2].map(|i| format!("/scim/v2/acme/Users?filter=userName%20eq%20%22u{i}%22"))
    );
    server.abort();
}

#[tokio::test]
async fn graceful_shutdown_writes_what_is_buffered() {
    let database = common::database::TestDatabase::fresh().await;
    let store: Arc<dyn Store> = database.connect().await;
    let (_t, issued) =
        scimd_server::tenants::create_tenant_with_token(store.as_ref(), "acme", "Acme")
            .await
            .unwrap();
    // Batches would wait an hour to fill: only the shutdown flush can write them.
    let config = ServerConfig {
        provisioning_log: ProvisioningLogConfig {
            flush_interval: Duration::from_secs(3600),
            ..ProvisioningLogConfig::default()
        },
        ..ServerConfig::default()
    };
    let state = AppState::new(store.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(scimd_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    {
        let client = reqwest::Client::new();
        for _ in 0..4 {
            let status = client
                .get(format!("{origin}/scim/v2/acme/Users"))
                .bearer_auth(&issued.token)
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status.as_u16(), 200);
        }
    }
    assert!(store
        .list_request_logs("acme", &LogQuery::default())
        .await
        .unwrap()
        .entries
        .is_empty());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("shutdown finished")
        .unwrap()
        .unwrap();
    let entries = store
        .list_request_logs("acme", &LogQuery::default())
        .await
        .unwrap()
        .entries;
    assert_eq!(entries.len(), 4);
}

fn old_entry(tenant: &str, age: time::Duration, n: usize) -> NewLogEntry {
    NewLogEntry {
        tenant_id: tenant.into(),
        at: time::OffsetDateTime::now_utc() - age,
        method: "GET".into(),
        path: format!("/scim/v2/{tenant}/Users/{n}"),
        status: 200,
        latency_us: 10,
        scim_type: None,
        detail: None,
        client: LogClient::Entra,
        resource_id: Some(n.to_string()),
        request_id: format!("r{n}"),
        request_body: None,
        response_body: None,
    }
}

#[tokio::test]
async fn retention_prunes_each_tenant_by_its_age_and_count() {
    // A store with no server on it: a server runs retention at start in the background,
    // which would race this test's own pass and take some of its deletions.
    let database = common::database::TestDatabase::fresh().await;
    let store = database.connect().await;
    for tenant in ["acme", "beta"] {
        scimd_server::tenants::create_tenant_with_token(store.as_ref(), tenant, tenant)
            .await
            .expect("create tenant");
    }
    let mut batch = Vec::new();
    for n in 0..20 {
        // acme: one entry per day, 0..19 days old; beta: the same.
        batch.push(old_entry(
            "acme",
            time::Duration::days(n as i64) + time::Duration::minutes(1),
            n,
        ));
        batch.push(old_entry(
            "beta",
            time::Duration::days(n as i64) + time::Duration::minutes(1),
            n,
        ));
    }
    store.append_request_logs(batch).await.unwrap();
    // acme keeps 7 days; beta keeps 30 days but at most 4 entries.
    store
        .update_tenant(
            "acme",
            &TenantUpdate {
                log_retention_days: Some(7),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .update_tenant(
            "beta",
            &TenantUpdate {
                log_max_entries: Some(4),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let deleted = provisioning_log::retention::enforce_retention(
        store.as_ref(),
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    assert_eq!(deleted, 13 + 16);
    let ids = |entries: Vec<LogEntry>| -> Vec<String> {
        entries
            .into_iter()
            .filter_map(|e| e.entry.resource_id)
            .collect()
    };
    let acme = store
        .list_request_logs(
            "acme",
            &LogQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(acme.entries), ["0", "1", "2", "3", "4", "5", "6"]);
    let beta = store
        .list_request_logs(
            "beta",
            &LogQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(beta.entries), ["0", "1", "2", "3"]);
}

#[tokio::test]
async fn queries_filter_and_page_newest_first_and_never_cross_tenants() {
    let ts = TestServer::start_with(quick_config()).await;
    let (beta_base, beta_token) = ts.add_tenant("beta").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let ua = if i % 2 == 0 { ENTRA_UA } else { OKTA_UA };
        let reply = send(
            &ts,
            &ts.base,
            &ts.token,
            ua,
            Method::POST,
            "/Users",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("u{i}")})),
        )
        .await;
        assert_eq!(reply.status, 201);
        ids.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    for id in &ids[..2] {
        let reply = send(
            &ts,
            &ts.base,
            &ts.token,
            OKTA_UA,
            Method::GET,
            &format!("/Users/{id}"),
            None,
        )
        .await;
        assert_eq!(reply.status, 200);
    }
    let missing = send(
        &ts,
        &ts.base,
        &ts.token,
        OKTA_UA,
        Method::GET,
        "/Users/does-not-exist",
        None,
    )
    .await;
    assert_eq!(missing.status, 404);
    let bad_filter = send(
        &ts,
        &ts.base,
        &ts.token,
        ENTRA_UA,
        Method::GET,
        "/Users?filter=userName%20zz%20%22x%22",
        None,
    )
    .await;
    assert_eq!(bad_filter.status, 400);
    // Tenant beta reads a resource id of acme's (404 for beta).
    let cross = send(
        &ts,
        &beta_base,
        &beta_token,
        ENTRA_UA,
        Method::GET,
        &format!("/Users/{}", ids[0]),
        None,
    )
    .await;
    assert_eq!(cross.status, 404);

    let all = wait_for_entries(ts.store.as_ref(), "acme", 10).await;
    assert_eq!(all.len(), 10);
    wait_for_entries(ts.store.as_ref(), "beta", 1).await;

    let params = |f: fn(&mut LogListParams)| {
        let mut p = LogListParams {
            limit: Some(100),
            ..Default::default()
        };
        f(&mut p);
        p
    };
    let store = ts.store.as_ref();
    let errors = list_logs(store, "acme", &params(|p| p.status = Some("errors".into())))
        .await
        .unwrap();
    let statuses: Vec<u16> = errors.entries.iter().map(|e| e.entry.status).collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&404) && statuses.contains(&400));
    let bad = errors
        .entries
        .iter()
        .find(|e| e.entry.status == 400)
        .unwrap();
    assert_eq!(bad.entry.scim_type.as_deref(), Some("invalidFilter"));
    let server_errors = list_logs(store, "acme", &params(|p| p.status = Some("5xx".into())))
        .await
        .unwrap();
    assert!(server_errors.entries.is_empty());
    let okta = list_logs(store, "acme", &params(|p| p.client = Some("okta".into())))
        .await
        .unwrap();
    assert_eq!(okta.entries.len(), 3 + 2 + 1);
    let first = ids[0].clone();
    let about_first = list_logs(
        store,
        "acme",
        &LogListParams {
            resource: Some(first.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let methods: Vec<&str> = about_first
        .entries
        .iter()
        .map(|e| e.entry.method.as_str())
        .collect();
    assert_eq!(methods, ["GET", "POST"], "newest first");
    let since_future = list_logs(
        store,
        "acme",
        &params(|p| p.since = Some("2999-01-01T00:00:00Z".into())),
    )
    .await
    .unwrap();
    assert!(since_future.entries.is_empty());
    let last_hour = list_logs(store, "acme", &params(|p| p.since = Some("1h".into())))
        .await
        .unwrap();
    assert_eq!(last_hour.entries.len(), 10);

    // Paging by 3: every entry once, newest first, matching the unpaged order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let page = list_logs(
            store,
            "acme",
            &LogListParams {
                limit: Some(3),
                cursor: cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        seen.extend(page.entries.iter().map(|e| e.seq));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, all.iter().map(|e| e.seq).collect::<Vec<_>>());

    // Isolation: beta's log holds only beta's request, also when asked about acme's id.
    let beta = list_logs(store, "beta", &params(|_| {})).await.unwrap();
    assert_eq!(beta.entries.len(), 1);
    assert_eq!(beta.entries[0].entry.request_id, cross.request_id);
    assert!(beta.entries.iter().all(|e| e.entry.tenant_id == "beta"));
    let acme_about_beta = list_logs(store, "acme", &params(|_| {})).await.unwrap();
    assert!(acme_about_beta
        .entries
        .iter()
        .all(|e| e.entry.request_id != cross.request_id));

    // The JSON shape of the admin endpoint, and its errors.
    let json = provisioning_log::list_logs_json(
        store,
        "acme",
        &LogListParams {
            limit: Some(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 2);
    assert!(json["next_cursor"].is_string());
    assert_eq!(json["entries"][0]["client"], "entra");
    let unknown = provisioning_log::list_logs_json(store, "nobody", &LogListParams::default())
        .await
        .unwrap_err();
    assert_eq!(unknown.status(), 404);
    let bad_cursor = provisioning_log::list_logs_json(
        store,
        "acme",
        &LogListParams {
            cursor: Some("not-a-cursor".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad_cursor.status(), 400);
}
