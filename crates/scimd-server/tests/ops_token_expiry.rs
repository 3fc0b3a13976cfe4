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

    // The server's periodic check runs at once on start: this server was started before
    // the tokens existed, so run the same check the server runs and read the gauge.
    scimd_server::tokens::warn_about_expiring_tokens(store).await;
    let text = ts
        .client
        .get(format!("{}/metrics", ts.origin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("scimd_tokens_expiring_soon"))
        .unwrap_or_default();
    assert_eq!(line, "scimd_tokens_expiring_soon 1", "{text}");
    // The metric never names a tenant or a token.
    assert!(!text.contains(&soon.record.id));
}
