//! No secret appears in any log line, metric or error body: a full lifecycle through
//! the admin API, the OAuth token endpoint and SCIM, with every log event captured
//! (all fields of every span and event, stricter than any formatter), then every
//! admin key, token, client secret and access token issued is searched for, whole
//! and by its secret part.

mod admin_support;

use admin_support::AdminServer;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

struct FieldText<'a>(&'a mut String);

impl Visit for FieldText<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={}", field.name(), value));
    }
}

/// Records every span's fields and every event's fields as text lines.
#[derive(Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: Arc<AtomicU64>,
    spans: Arc<Mutex<HashMap<u64, String>>>,
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut text = attrs.metadata().name().to_owned();
        attrs.record(&mut FieldText(&mut text));
        self.lines.lock().unwrap().push(format!("span {text}"));
        self.spans.lock().unwrap().insert(id, text);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut text = String::new();
        values.record(&mut FieldText(&mut text));
        self.lines
            .lock()
            .unwrap()
            .push(format!("span {} record{text}", span.into_u64()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("{}:", event.metadata().target());
        event.record(&mut FieldText(&mut line));
        self.lines.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The whole string and the part after the last `<id>_` (the random secret).
fn secret_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    for prefix in ["scimd_", "scimdadm_", "scimdcs_"] {
        if let Some((_, part)) = scimd_server::tokens::split_prefixed(prefix, secret) {
            forms.push(part.to_owned());
        }
    }
    assert!(forms.len() >= 2, "not a scimd secret: {secret}");
    forms
}

// One test in this file: the subscriber is process-global.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_issued_in_a_full_lifecycle_appears_in_logs_metrics_or_errors() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();
    let server = AdminServer::start().await;
    let mut secrets = vec![server.admin_key.clone()];

    // Tenants, the provisioning switch, tokens, rotation, revocation.
    let token_a = server.create_tenant("tenant-a").await;
    let token_b = server.create_tenant("tenant-b").await;
    // Body logging on for both: the provisioning log must redact what it stores.
    for tenant in ["tenant-a", "tenant-b"] {
        server
            .admin(
                Method::PATCH,
                &format!("/tenants/{tenant}"),
                Some(json!({"log_bodies": true})),
            )
            .await;
    }
    secrets.extend([token_a.clone(), token_b.clone()]);
    assert_eq!(
        server.scim_users("tenant-a", &token_a).await.status,
        StatusCode::OK
    );
    server.scim_users("tenant-b", &token_a).await; // 401: wrong tenant
    let created = server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens",
            Some(json!({"expires_in": "7d"})),
        )
        .await
        .json();
    let extra = created["token"].as_str().unwrap().to_owned();
    secrets.push(extra.clone());
    let rotated = server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens/rotate",
            Some(json!({"grace": "1h"})),
        )
        .await
        .json();
    secrets.push(rotated["token"].as_str().unwrap().to_owned());
    let extra_id = created["id"].as_str().unwrap();
    server
        .admin(
            Method::DELETE,
            &format!("/tenants/tenant-a/tokens/{extra_id}"),
            None,
        )
        .await;
    server.scim_users("tenant-a", &extra).await; // 401: revoked
    server
        .admin(
            Method::PUT,
            "/tenants/tenant-b/provisioning",
            Some(json!({"enabled": false})),
        )
        .await;
    server.scim_users("tenant-b", &token_b).await; // 403
    let enabled = server
        .admin(
            Method::PUT,
            "/tenants/tenant-b/provisioning",
            Some(json!({"enabled": true})),
        )
        .await
        .json();
    secrets.push(enabled["token"].as_str().unwrap().to_owned());

    // OAuth: client, access tokens (Basic and body), failures, revocation.
    let client = server
        .admin(Method::POST, "/tenants/tenant-a/oauth-clients", None)
        .await
        .json();
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let client_secret = client["client_secret"].as_str().unwrap().to_owned();
    secrets.push(client_secret.clone());
    let access = server
        .oauth_token(
            "tenant-a",
            "grant_type=client_credentials",
            Some((&client_id, &client_secret)),
        )
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(access.clone());
    let access_body = server
        .oauth_token(
            "tenant-a",
            &format!(
                "grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}"
            ),
            None,
        )
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(access_body.clone());
    assert_eq!(
        server.scim_users("tenant-a", &access).await.status,
        StatusCode::OK
    );
    server.scim_users("tenant-b", &access).await; // 401
                                                  // Failing exchanges that carry the real secret on the wrong tenant or twice.
    server
        .oauth_token(
            "tenant-b",
            "grant_type=client_credentials",
            Some((&client_id, &client_secret)),
        )
        .await;
    server
        .oauth_token(
            "tenant-a",
            &format!("grant_type=client_credentials&client_secret={client_secret}"),
            Some((&client_id, &client_secret)),
        )
        .await;
    server
        .oauth_token(
            "tenant-a",
            &format!("grant_type=password&client_secret={client_secret}"),
            Some((&client_id, &client_secret)),
        )
        .await;
    server
        .admin(
            Method::DELETE,
            &format!("/tenants/tenant-a/oauth-clients/{client_id}"),
            None,
        )
        .await;
    server.scim_users("tenant-a", &access).await; // 401: client revoked

    // Admin keys: a second one, revoked, then used; tenant tokens used as admin keys.
    let second = scimd_server::admin::keys::create_admin_key(
        server.store.as_ref(),
        "second",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    secrets.push(second.key.clone());
    server
        .store
        .revoke_admin_key(&second.record.id, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    server
        .admin_as(Some(&second.key), Method::GET, "/tenants", None)
        .await
        .assert_problem(401);
    server
        .admin_as(Some(&token_a), Method::GET, "/tenants", None)
        .await
        .assert_problem(401);
    // Secrets in places they do not belong: URLs and bodies of failing requests.
    server
        .admin(Method::GET, &format!("/tenants/{}", access), None)
        .await;
    server
        .admin(
            Method::POST,
            "/tenants",
            Some(json!({"id": client_secret, "display_name": access})),
        )
        .await;
    server
        .admin(Method::POST, "/tenants", Some(json!({"id": token_b})))
        .await;
    server
        .admin(
            Method::PUT,
            "/tenants/tenant-a/provisioning",
            Some(json!({"enabled": token_a, &client_secret: true})),
        )
        .await;
    server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens",
            Some(json!({&access: 1})),
        )
        .await;
    server
        .admin(
            Method::DELETE,
            &format!("/tenants/tenant-a/tokens/{access_body}"),
            None,
        )
        .await;
    server
        .admin(
            Method::DELETE,
            &format!("/tenants/tenant-a/oauth-clients/{client_secret}"),
            None,
        )
        .await;

    // SCIM requests carrying secrets in their bodies (a password, a token pasted
    // into an attribute) and in the query: the log records them redacted.
    for (token, secret) in [(&token_a, &client_secret), (&access, &token_b)] {
        server
            .client
            .post(format!("{}/scim/v2/tenant-a/Users", server.origin))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("user-{}", secret.len()),
                    "password": secret,
                    "x-token": secret,
                })
                .to_string(),
            )
            .send()
            .await
            .unwrap();
    }

    // The provisioning log's rows, once the writer has flushed (about every second).
    let mut log_rows = Vec::new();
    for _ in 0..50 {
        log_rows.clear();
        for tenant in ["tenant-a", "tenant-b"] {
            let page = server
                .store
                .list_request_logs(
                    tenant,
                    &scimd_store::LogQuery {
                        limit: 1000,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            log_rows.extend(page.entries.iter().map(|e| format!("{:?}", e.entry)));
        }
        if log_rows.iter().any(|row| row.contains("user-")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        log_rows.iter().any(|row| row.contains("[redacted]")),
        "bodies were logged, redacted: {log_rows:?}"
    );

    let metrics = server.metrics().await;
    assert!(metrics.contains("scimd_"), "{metrics}");
    let lines = capture.lines.lock().unwrap().clone();
    assert!(
        lines.len() > 20,
        "too few log lines captured: {}",
        lines.len()
    );
    let errors = server.error_bodies.lock().unwrap().clone();
    assert!(errors.len() >= 10, "too few error bodies: {}", errors.len());
    assert!(secrets.len() >= 10);
    for secret in &secrets {
        for form in secret_forms(secret) {
            for line in &lines {
                assert!(!line.contains(&form), "secret in a log line: {line}");
            }
            assert!(!metrics.contains(&form), "secret in /metrics");
            for body in &errors {
                assert!(!body.contains(&form), "secret in an error body: {body}");
            }
            for row in &log_rows {
                assert!(
                    !row.contains(&form),
                    "secret in a provisioning-log row: {row}"
                );
            }
        }
    }
}
