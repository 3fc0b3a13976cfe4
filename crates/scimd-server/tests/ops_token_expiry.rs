//! Tokens expiring within 14 days are reported at start-up: a log warning (tested in
//! the unit of `tokens::expiring_soon` below) and the `scimd_tokens_expiring_soon`
//! gauge. Its own test binary, so the process-wide metrics recorder holds only this.

mod common;

use common::TestServer;
use scimd_server::tenants;
use scimd_server::tokens::expiring_soon;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn tokens_expiring_within_two_weeks_are_found_and_counted() {
    let ts = TestServer::start().await;
    let store = ts.store.as_ref();
    // The server checks once at start, when acme's only token never expires. Waiting for
    // that check's gauge proves it ran, and keeps it from landing after the check below.
    let mut at_start = String::new();
    for _ in 0..200 {
        at_start = expiring_soon_line(&ts).await;
        if !at_start.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(at_start, "scimd_tokens_expiring_soon 0");
    let now = OffsetDateTime::now_utc();
    let soon = tenants::create_token(store, "acme", "soon", Some(now + Duration::days(3)))
        .await
        .unwrap();
    tenants::create_token(store, "acme", "later", Some(now + Duration::days(60)))
        .await
        .unwrap();
    tenants::create_token(store, "acme", "gone", Some(now - Duration::days(1)))
        .await
        .unwrap();
    let revoked = tenants::create_token(store, "acme", "revoked", Some(now + Duration::days(2)))
        .await
        .unwrap();
    store
        .revoke_token("acme", &revoked.record.id, now)
        .await
        .unwrap();

    let found = expiring_soon(store, now).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|t| t.token_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![soon.record.id.as_str()],
        "only the usable token expiring soon"
    );
    assert_eq!(found[0].tenant_id, "acme");

    // The server's next periodic check is an hour away: run the same check it runs.
    scimd_server::tokens::warn_about_expiring_tokens(store).await;
    assert_eq!(
        expiring_soon_line(&ts).await,
        "scimd_tokens_expiring_soon 1"
    );
    // The metric never names a tenant or a token.
    let text = metrics_text(&ts).await;
    assert!(!text.contains(&soon.record.id));
    assert!(!text.contains("acme"));
}

async fn metrics_text(ts: &TestServer) -> String {
    let resp = ts
        .client
        .get(format!("{}/metrics", ts.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// The gauge's line in `/metrics`, or "" when it has not been set yet.
async fn expiring_soon_line(ts: &TestServer) -> String {
    metrics_text(ts)
        .await
        .lines()
        .find(|l| l.starts_with("scimd_tokens_expiring_soon"))
        .unwrap_or_default()
        .to_owned()
}
