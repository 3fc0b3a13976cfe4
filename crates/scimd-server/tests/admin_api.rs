//! The /admin/v1 API over loopback HTTP on a real SQLite file: admin-key
//! authentication, tenant CRUD, the provisioning switch, token lifecycle (tenant
//! isolation, revocation, expiry, rotation with grace), problem+json errors and the
//! generated OpenAPI document.

mod admin_support;

use admin_support::AdminServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn the_admin_api_needs_a_valid_unrevoked_admin_key() {
    let server = AdminServer::start().await;
    server
        .admin_as(None, Method::GET, "/tenants", None)
        .await
        .assert_problem(401);
    let garbage = server
        .admin_as(
            Some("scimdadm_abcdefgh_nope"),
            Method::GET,
            "/tenants",
            None,
        )
        .await;
    garbage.assert_problem(401);
    assert_eq!(garbage.headers["www-authenticate"], "Bearer");
    // A tenant's SCIM token is not an admin key.
    let tenant_token = server.create_tenant("acme").await;
    server
        .admin_as(Some(&tenant_token), Method::GET, "/tenants", None)
        .await
        .assert_problem(401);
    // A right id with a wrong secret.
    let (id, _) = scimd_server::tokens::split_prefixed("scimdadm_", &server.admin_key).unwrap();
    let forged = format!("scimdadm_{id}_{}", "A".repeat(43));
    server
        .admin_as(Some(&forged), Method::GET, "/tenants", None)
        .await
        .assert_problem(401);

    let second = scimd_server::admin::keys::create_admin_key(
        server.store.as_ref(),
        "second",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap();
    let ok = server
        .admin_as(Some(&second.key), Method::GET, "/tenants", None)
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert!(server
        .store
        .revoke_admin_key(&second.record.id, time::OffsetDateTime::now_utc())
        .await
        .unwrap());
    server
        .admin_as(Some(&second.key), Method::GET, "/tenants", None)
        .await
        .assert_problem(401);
    // The first key is unaffected, and its use was recorded.
    let listed = server.admin(Method::GET, "/tenants", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let keys = server.store.list_admin_keys().await.unwrap();
    assert!(keys.iter().any(|k| k.id == id && k.last_used.is_some()));
}

#[tokio::test]
async fn tenants_can_be_created_read_renamed_listed_and_deleted() {
    let server = AdminServer::start().await;
    let created = server
        .admin(Method::POST, "/tenants", Some(json!({"id": "acme"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    assert_eq!(body["tenant"]["id"], "acme");
    assert_eq!(body["tenant"]["display_name"], "acme");
    assert_eq!(body["tenant"]["provisioning_enabled"], true);
    assert!(body["tenant"]["scim_url"]
        .as_str()
        .unwrap()
        .ends_with("/scim/v2/acme"));
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("scimd_"));
    assert_eq!(
        server.scim_users("acme", token).await.status,
        StatusCode::OK
    );

    server
        .admin(Method::POST, "/tenants", Some(json!({"id": "acme"})))
        .await
        .assert_problem(409);
    server
        .admin(Method::POST, "/tenants", Some(json!({"id": "Not A Slug"})))
        .await
        .assert_problem(422);
    server
        .admin(Method::POST, "/tenants", Some(json!({"name": "no id"})))
        .await
        .assert_problem(422);
    let malformed = server
        .client
        .post(format!("{}/admin/v1/tenants", server.origin))
        .bearer_auth(&server.admin_key)
        .header("content-type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        malformed.headers()["content-type"],
        "application/problem+json"
    );
    let wrong_type = server
        .client
        .post(format!("{}/admin/v1/tenants", server.origin))
        .bearer_auth(&server.admin_key)
        .header("content-type", "text/plain")
        .body("{\"id\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // U+0000, in the body or the URL: refused on every backend (PostgreSQL cannot
    // store it), never a 500.
    for (method, path, body) in [
        (
            Method::POST,
            "/tenants",
            Some(json!({"id": "nul", "display_name": "a\u{0}b"})),
        ),
        (
            Method::PATCH,
            "/tenants/acme",
            Some(json!({"display_name": "a\u{0}b"})),
        ),
    ] {
        let refused = server.admin(method, path, body).await;
        refused.assert_problem(422);
        assert!(refused.text.contains("U+0000"), "{}", refused.text);
    }
    let refused = server.admin(Method::GET, "/tenants/ac%00me", None).await;
    refused.assert_problem(400);
    assert!(refused.text.contains("U+0000"), "{}", refused.text);
    // Nothing was stored by the refused requests.
    let listed = server.admin(Method::GET, "/tenants", None).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    let got = server.admin(Method::GET, "/tenants/acme", None).await;
    assert_eq!(got.json()["id"], "acme");
    assert_eq!(got.json()["display_name"], "acme", "the refused rename");
    server
        .admin(Method::GET, "/tenants/nope", None)
        .await
        .assert_problem(404);

    let renamed = server
        .admin(
            Method::PATCH,
            "/tenants/acme",
            Some(json!({"display_name": "Acme Corp"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.json()["display_name"], "Acme Corp");
    server
        .admin(
            Method::PATCH,
            "/tenants/acme",
            Some(json!({"display_name": " "})),
        )
        .await
        .assert_problem(422);
    server
        .admin(
            Method::PATCH,
            "/tenants/nope",
            Some(json!({"display_name": "x"})),
        )
        .await
        .assert_problem(404);
    let listed = server.admin(Method::GET, "/tenants", None).await.json();
    assert_eq!(listed[0]["display_name"], "Acme Corp");

    server
        .admin(Method::DELETE, "/tenants/acme", None)
        .await
        .assert_problem(400);
    server
        .admin(Method::DELETE, "/tenants/acme?confirm=other", None)
        .await
        .assert_problem(400);
    assert_eq!(
        server
            .admin(Method::GET, "/tenants/acme", None)
            .await
            .status,
        StatusCode::OK
    );
    let deleted = server
        .admin(Method::DELETE, "/tenants/acme?confirm=acme", None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    server
        .admin(Method::GET, "/tenants/acme", None)
        .await
        .assert_problem(404);
    server
        .admin(Method::DELETE, "/tenants/acme?confirm=acme", None)
        .await
        .assert_problem(404);
    // The deleted tenant's token is refused.
    assert_eq!(
        server.scim_users("acme", token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_provisioning_switch_gives_403_when_off_and_a_url_and_token_when_on() {
    let server = AdminServer::start().await;
    let token = server.create_tenant("acme").await;
    let off = server
        .admin(
            Method::PUT,
            "/tenants/acme/provisioning",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(off.json()["enabled"], false);
    assert!(off.json().get("token").is_none());
    let refused = server.scim_users("acme", &token).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.content_type().starts_with("application/scim+json"));
    assert_eq!(
        refused.json()["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );

    let on = server
        .admin(
            Method::PUT,
            "/tenants/acme/provisioning",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    let body = on.json();
    assert_eq!(body["enabled"], true);
    assert!(body["scim_url"]
        .as_str()
        .unwrap()
        .ends_with("/scim/v2/acme"));
    assert!(body["token_id"].is_string());
    assert_eq!(body["expires"], Value::Null);
    let new_token = body["token"].as_str().unwrap();
    assert_eq!(
        server.scim_users("acme", new_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.scim_users("acme", &token).await.status,
        StatusCode::OK
    );

    server
        .admin(
            Method::PUT,
            "/tenants/nope/provisioning",
            Some(json!({"enabled": true})),
        )
        .await
        .assert_problem(404);
    server
        .admin(
            Method::PUT,
            "/tenants/acme/provisioning",
            Some(json!({"enabled": "yes"})),
        )
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn token_lifecycle_isolation_revocation_expiry_and_rotation() {
    let server = AdminServer::start().await;
    let token_a = server.create_tenant("tenant-a").await;
    let token_b = server.create_tenant("tenant-b").await;

    // A token of tenant A on tenant B is 401.
    let crossed = server.scim_users("tenant-b", &token_a).await;
    assert_eq!(crossed.status, StatusCode::UNAUTHORIZED);
    assert!(crossed.content_type().starts_with("application/scim+json"));
    assert_eq!(
        server.scim_users("tenant-b", &token_b).await.status,
        StatusCode::OK
    );

    // Created tokens work; revoked ones are 401 on the next request.
    let created = server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens",
            Some(json!({"name": "entra", "expires_in": "90d"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    let extra = created["token"].as_str().unwrap().to_owned();
    let extra_id = created["id"].as_str().unwrap().to_owned();
    assert!(created["expires"].is_string());
    assert_eq!(
        server.scim_users("tenant-a", &extra).await.status,
        StatusCode::OK
    );
    let revoked = server
        .admin(
            Method::DELETE,
            &format!("/tenants/tenant-a/tokens/{extra_id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    assert_eq!(
        server.scim_users("tenant-a", &extra).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Revoking again is harmless; another tenant's token id is 404 there.
    assert_eq!(
        server
            .admin(
                Method::DELETE,
                &format!("/tenants/tenant-a/tokens/{extra_id}"),
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    server
        .admin(
            Method::DELETE,
            &format!("/tenants/tenant-b/tokens/{extra_id}"),
            None,
        )
        .await
        .assert_problem(404);
    server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens",
            Some(json!({"expires_in": "soon"})),
        )
        .await
        .assert_problem(422);
    server
        .admin(Method::POST, "/tenants/nope/tokens", None)
        .await
        .assert_problem(404);

    // An expired token is 401 on the next request.
    let short = server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens",
            Some(json!({"expires_in": "1s"})),
        )
        .await
        .json();
    let short = short["token"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = server.scim_users("tenant-a", &short).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.json()["detail"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // Tokens expiring within 14 days are flagged.
    server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens",
            Some(json!({"name": "week", "expires_in": "7d"})),
        )
        .await;
    let listed = server
        .admin(Method::GET, "/tenants/tenant-a/tokens", None)
        .await
        .json();
    let week = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "week")
        .unwrap();
    assert_eq!(week["expiring_soon"], true);
    assert_eq!(week["status"], "expiring_soon");
    for t in listed.as_array().unwrap() {
        assert!(
            t.get("token").is_none() && t.get("secret_hash").is_none(),
            "{t}"
        );
    }

    // Rotation: both work during the grace period, the old one is 401 after it.
    let rotated = server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens/rotate",
            Some(json!({"grace": "1s"})),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.text);
    let rotated = rotated.json();
    let new_token = rotated["token"].as_str().unwrap().to_owned();
    assert!(!rotated["revokes"].as_array().unwrap().is_empty());
    assert_eq!(
        server.scim_users("tenant-a", &new_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.scim_users("tenant-a", &token_a).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        server.scim_users("tenant-a", &token_a).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.scim_users("tenant-a", &new_token).await.status,
        StatusCode::OK
    );
    // Tenant B was not touched by A's rotation.
    assert_eq!(
        server.scim_users("tenant-b", &token_b).await.status,
        StatusCode::OK
    );
    server
        .admin(
            Method::POST,
            "/tenants/tenant-a/tokens/rotate",
            Some(json!({"grace": "-1h"})),
        )
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn unknown_admin_paths_are_problems() {
    let server = AdminServer::start().await;
    server
        .admin(Method::GET, "/nothing/here", None)
        .await
        .assert_problem(404);
}

/// Every admin route, as (method, OpenAPI path).
const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("get", "/admin/v1/tenants"),
    ("post", "/admin/v1/tenants"),
    ("get", "/admin/v1/tenants/{tenant}"),
    ("patch", "/admin/v1/tenants/{tenant}"),
    ("delete", "/admin/v1/tenants/{tenant}"),
    ("put", "/admin/v1/tenants/{tenant}/provisioning"),
    ("get", "/admin/v1/tenants/{tenant}/tokens"),
    ("post", "/admin/v1/tenants/{tenant}/tokens"),
    ("post", "/admin/v1/tenants/{tenant}/tokens/rotate"),
    ("delete", "/admin/v1/tenants/{tenant}/tokens/{token_id}"),
    ("get", "/admin/v1/tenants/{tenant}/oauth-clients"),
    ("post", "/admin/v1/tenants/{tenant}/oauth-clients"),
    (
        "delete",
        "/admin/v1/tenants/{tenant}/oauth-clients/{client_id}",
    ),
    ("get", "/admin/v1/tenants/{tenant}/logs"),
];

#[tokio::test]
async fn the_openapi_document_lists_every_admin_route() {
    let server = AdminServer::start().await;
    let resp = server
        .client
        .get(format!("{}/admin/v1/openapi.json", server.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    assert_eq!(doc["info"]["title"], "scimd admin API");
    assert!(doc["components"]["securitySchemes"]["admin_key"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                ADMIN_ROUTES.contains(&(method.as_str(), path.as_str())),
                "undocumented in the test: {method} {path}"
            );
            documented += 1;
        }
    }
    assert_eq!(documented, ADMIN_ROUTES.len());
    for (method, path) in ADMIN_ROUTES {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "missing {method} {path}");
        assert!(op["responses"]["401"].is_object(), "{method} {path}");
        // Every documented route is served: with no key it is 401, never 404/405.
        let concrete = path
            .replace("{tenant}", "acme")
            .replace("{token_id}", "abcdefgh")
            .replace("{client_id}", "x");
        let resp = server
            .client
            .request(
                method.to_uppercase().parse().unwrap(),
                format!("{}{concrete}", server.origin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {concrete}"
        );
    }
}

/// A tenant's provisioning-log settings change through PATCH (only the fields given),
/// bad values are 422, and the log itself is readable with its filters and cursor.
#[tokio::test]
async fn provisioning_log_settings_and_entries_through_the_admin_api() {
    let server = AdminServer::start().await;
    let token = server.create_tenant("acme").await;

    let patched = server
        .admin(
            Method::PATCH,
            "/tenants/acme",
            Some(json!({"log_bodies": true, "log_retention_days": 7})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let tenant = patched.json();
    assert_eq!(tenant["log"]["bodies"], true);
    assert_eq!(tenant["log"]["retention_days"], 7);
    assert_eq!(tenant["log"]["max_entries"], 100_000, "untouched");
    assert_eq!(tenant["display_name"], "Tenant acme", "untouched");
    for bad in [
        json!({"log_retention_days": 0}),
        json!({"log_max_entries": 0}),
        json!({"display_name": "  "}),
    ] {
        server
            .admin(Method::PATCH, "/tenants/acme", Some(bad))
            .await
            .assert_problem(422);
    }
    server
        .admin(
            Method::PATCH,
            "/tenants/acme",
            Some(json!({"log_bodies": "yes"})),
        )
        .await
        .assert_problem(422);

    // Two SCIM requests: one success, one 404.
    assert_eq!(
        server.scim_users("acme", &token).await.status,
        StatusCode::OK
    );
    let missing = server
        .client
        .get(format!("{}/scim/v2/acme/Users/no-such-id", server.origin))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The writer flushes about every second: poll, bounded.
    let mut entries = Vec::new();
    for _ in 0..50 {
        let page = server.admin(Method::GET, "/tenants/acme/logs", None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        entries = page.json()["entries"].as_array().unwrap().clone();
        if entries.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["status"], 404, "newest first");
    assert_eq!(entries[1]["status"], 200);

    let errors = server
        .admin(Method::GET, "/tenants/acme/logs?status=errors", None)
        .await
        .json();
    let errors = errors["entries"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["status"], 404);

    let first = server
        .admin(Method::GET, "/tenants/acme/logs?limit=1", None)
        .await
        .json();
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = server
        .admin(
            Method::GET,
            &format!("/tenants/acme/logs?limit=1&cursor={cursor}"),
            None,
        )
        .await
        .json();
    assert_eq!(second["entries"][0]["status"], 200);
    assert!(second["next_cursor"].is_null());

    server
        .admin(Method::GET, "/tenants/acme/logs?status=3xx", None)
        .await
        .assert_problem(400);
    server
        .admin(Method::GET, "/tenants/acme/logs?cursor=garbage", None)
        .await
        .assert_problem(400);
    server
        .admin(Method::GET, "/tenants/nobody/logs", None)
        .await
        .assert_problem(404);
}
