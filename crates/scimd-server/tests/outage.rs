//! A database outage over HTTP (issue 5): scimd on PostgreSQL, connecting as a role
//! of its own; the database stops admitting that role (`CONNECTION LIMIT 0`, so every
//! reconnection is refused as by a server at its limit) and its open connections are
//! terminated. The shared test cluster cannot be stopped, so this is the outage the
//! node sees. SCIM requests get 503
//! with `Retry-After` and a SCIM error body (never a 500, never a hang: acquiring a
//! connection is bounded); once the database admits connections again, requests
//! succeed without restarting the server, and nothing attempted during the outage
//! was stored.

mod common;

use common::database::TestDatabase;
use common::{spawn_server, Response};
use scimd_server::config::ServerConfig;
use scimd_server::tenants;
use scimd_store::connect::ConnectOptions;
use serde_json::json;
use std::time::Duration;

/// Requests made while the database is away.
const REQUESTS_DURING_OUTAGE: usize = 2;
/// After the outage: how many times, how far apart, to ask before giving up.
const RECOVERY_ATTEMPTS: usize = 60;
const RECOVERY_PAUSE: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_is_503_with_retry_after_then_recovers_by_itself() {
    let database = TestDatabase::fresh_postgres_with_own_role().await;
    let options = ConnectOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(2),
        ..ConnectOptions::default()
    };
    let store = database.connect_with(&options).await;
    let (_tenant, issued) = tenants::create_tenant_with_token(store.as_ref(), "acme", "Acme")
        .await
        .expect("create tenant");
    let (origin, _shutdown) = spawn_server(store, ServerConfig::default()).await;
    let base = format!("{origin}/scim/v2/acme");
    // The client's own timeout only turns a hang into a failure.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let list = || async {
        Response::read(
            client
                .get(format!("{base}/Users"))
                .bearer_auth(&issued.token)
                .send()
                .await
                .expect("an answer, not a hang"),
        )
        .await
    };
    let create = |user_name: &'static str| {
        let (client, base, token) = (&client, &base, &issued.token);
        async move {
            Response::read(
                client
                    .post(format!("{base}/Users"))
                    .bearer_auth(token)
                    .header("content-type", "application/scim+json")
                    .body(
                        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                           "userName": user_name})
                        .to_string(),
                    )
                    .send()
                    .await
                    .expect("an answer, not a hang"),
            )
            .await
        }
    };
    assert_eq!(list().await.status.as_u16(), 200);

    database.refuse_role().await;
    for _ in 0..REQUESTS_DURING_OUTAGE {
        for r in [list().await, create("lost@example.com").await] {
            r.assert_scim_error(503, None);
            let retry_after = r
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            assert!(
                retry_after.is_some_and(|s| s > 0),
                "Retry-After: {:?}",
                r.headers.get("retry-after")
            );
        }
    }

    database.admit_role().await;
    let mut recovered = None;
    for _ in 0..RECOVERY_ATTEMPTS {
        let r = list().await;
        if r.status.as_u16() == 200 {
            recovered = Some(r);
            break;
        }
        // Until the pool reconnects, the answer is still the outage's.
        r.assert_scim_error(503, None);
        tokio::time::sleep(RECOVERY_PAUSE).await;
    }
    let recovered = recovered.expect("requests succeed again once the database is back");
    assert_eq!(
        recovered.json()["totalResults"],
        0,
        "nothing from the outage was stored: {}",
        recovered.text
    );
    assert_eq!(create("after@example.com").await.status.as_u16(), 201);
}
