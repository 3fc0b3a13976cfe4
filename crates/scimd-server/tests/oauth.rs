//! OAuth 2.0 client credentials (RFC 6749 §4.4) over loopback HTTP: clients are made
//! through the admin API, exchanged at /oauth/{tenant}/token, and the access token
//! works on SCIM, stays in its tenant, expires, and dies with its client.

mod admin_support;

use admin_support::AdminServer;
use reqwest::{Method, StatusCode};
use scimd_server::config::ServerConfig;
use serde_json::json;
use std::time::Duration;

async fn new_client(server: &AdminServer, tenant: &str) -> (String, String) {
    let created = server
        .admin(
            Method::POST,
            &format!("/tenants/{tenant}/oauth-clients"),
            Some(json!({"name": "entra-gallery"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    assert!(body["token_endpoint"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/oauth/{tenant}/token")));
    (
        body["client_id"].as_str().unwrap().to_owned(),
        body["client_secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn client_credentials_give_a_one_hour_bearer_token_for_its_tenant_only() {
    let server = AdminServer::start().await;
    server.create_tenant("acme").await;
    server.create_tenant("other").await;
    let (id, secret) = new_client(&server, "acme").await;

    // HTTP Basic (RFC 6749 §2.3.1).
    let granted = server
        .oauth_token(
            "acme",
            "grant_type=client_credentials",
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.text);
    assert_eq!(granted.headers["cache-control"], "no-store");
    assert!(granted.content_type().starts_with("application/json"));
    let body = granted.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server.scim_users("acme", &access).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.scim_users("other", &access).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Body parameters work too.
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let second = server.oauth_token("acme", &form, None).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);

    // Access tokens are hidden from the token list unless asked for.
    let listed = server
        .admin(Method::GET, "/tenants/acme/tokens", None)
        .await
        .json();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t.get("oauth_client_id").is_none()));
    let all = server
        .admin(Method::GET, "/tenants/acme/tokens?all=true", None)
        .await
        .json();
    let oauth: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["oauth_client_id"] == id.as_str())
        .collect();
    assert_eq!(oauth.len(), 2, "{all}");
    let record = server
        .store
        .list_access_tokens("acme")
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let lifetime = record.token.expires.unwrap() - record.token.created;
    assert_eq!(lifetime.whole_seconds(), 3600);

    let clients = server
        .admin(Method::GET, "/tenants/acme/oauth-clients", None)
        .await
        .json();
    assert_eq!(clients[0]["client_id"], id.as_str());
    assert!(clients[0].get("client_secret").is_none());

    // Revoking the client revokes its live access tokens and refuses new ones.
    let revoked = server
        .admin(
            Method::DELETE,
            &format!("/tenants/acme/oauth-clients/{id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    assert_eq!(
        server.scim_users("acme", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = server
        .oauth_token(
            "acme",
            "grant_type=client_credentials",
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error"], "invalid_client");
    server
        .admin(Method::DELETE, "/tenants/acme/oauth-clients/nope", None)
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn access_tokens_expire() {
    let config = ServerConfig {
        oauth_access_token_lifetime: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let server = AdminServer::start_with(config).await;
    server.create_tenant("acme").await;
    let (id, secret) = new_client(&server, "acme").await;
    let granted = server
        .oauth_token(
            "acme",
            "grant_type=client_credentials",
            Some((&id, &secret)),
        )
        .await
        .json();
    assert_eq!(granted["expires_in"], 1);
    let access = granted["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server.scim_users("acme", &access).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = server.scim_users("acme", &access).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.json()["detail"]
        .as_str()
        .unwrap()
        .contains("expired"));
    // Expired access tokens are pruned by the store's cleanup.
    let pruned = server
        .store
        .prune_access_tokens(time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert!(server
        .store
        .list_access_tokens("acme")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749_5_2() {
    let server = AdminServer::start().await;
    server.create_tenant("acme").await;
    server.create_tenant("other").await;
    let (id, secret) = new_client(&server, "acme").await;

    let wrong_secret = server
        .oauth_token(
            "acme",
            "grant_type=client_credentials",
            Some((&id, "scimdcs_x")),
        )
        .await;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
    assert!(wrong_secret.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(wrong_secret.json()["error"], "invalid_client");

    // The client of another tenant, or an unknown tenant: the same answer.
    for tenant in ["other", "nope"] {
        let crossed = server
            .oauth_token(
                tenant,
                "grant_type=client_credentials",
                Some((&id, &secret)),
            )
            .await;
        assert_eq!(crossed.status, StatusCode::UNAUTHORIZED, "{tenant}");
        assert_eq!(crossed.json()["error"], "invalid_client");
    }
    // Body credentials that fail: 400 invalid_client (no Basic challenge to answer).
    let body_fail = server
        .oauth_token(
            "acme",
            &format!("grant_type=client_credentials&client_id={id}&client_secret=nope"),
            None,
        )
        .await;
    assert_eq!(body_fail.status, StatusCode::BAD_REQUEST);
    assert_eq!(body_fail.json()["error"], "invalid_client");

    let cases = [
        ("grant_type=password", "unsupported_grant_type"),
        ("client_id=x", "invalid_request"),
        (
            "grant_type=client_credentials&grant_type=client_credentials",
            "invalid_request",
        ),
    ];
    for (form, error) in cases {
        let resp = server.oauth_token("acme", form, Some((&id, &secret))).await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{form}: {}",
            resp.text
        );
        assert_eq!(resp.json()["error"], error, "{form}");
        assert_eq!(resp.headers["cache-control"], "no-store");
    }
    // Two authentication methods at once.
    let both = server
        .oauth_token(
            "acme",
            &format!("grant_type=client_credentials&client_secret={secret}"),
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(both.json()["error"], "invalid_request");
    // Not a form.
    let json_body = server
        .client
        .post(format!("{}/oauth/acme/token", server.origin))
        .header("content-type", "application/json")
        .body("{\"grant_type\":\"client_credentials\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    // No credentials.
    let anonymous = server
        .oauth_token("acme", "grant_type=client_credentials", None)
        .await;
    assert_eq!(anonymous.json()["error"], "invalid_client");

    // A disabled tenant still gets tokens; SCIM answers 403 with the reason.
    server
        .admin(
            Method::PUT,
            "/tenants/acme/provisioning",
            Some(json!({"enabled": false})),
        )
        .await;
    let granted = server
        .oauth_token(
            "acme",
            "grant_type=client_credentials",
            Some((&id, &secret)),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK);
    let access = granted.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server.scim_users("acme", &access).await.status,
        StatusCode::FORBIDDEN
    );
}
