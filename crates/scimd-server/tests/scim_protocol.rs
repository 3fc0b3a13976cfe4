//! Cross-cutting SCIM behaviour over HTTP: authentication (R1), discovery (RFC 7644
//! §4, R20), `/Me` (§3.11), wrong methods, Bulk (§3.7) and content types (R14).

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

// ---- R1: authentication ---------------------------------------------------------

#[tokio::test]
async fn r1_missing_or_wrong_token_is_401_with_scim_body_on_every_endpoint() {
    let ts = TestServer::start().await;
    let (_other_base, other_token) = ts.add_tenant("globex").await;
    let paths = [
        "/Users",
        "/Groups",
        "/Users/00000000-0000-4000-8000-000000000000",
        "/ServiceProviderConfig",
        "/Schemas",
        "/ResourceTypes",
        "/Me",
    ];
    for path in paths {
        let r = ts
            .client
            .get(format!("{}{path}", ts.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/scim+json"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "401");
        // Another tenant's valid token.
        let r = ts
            .call_as(&ts.base, &other_token, Method::GET, path, None)
            .await;
        r.assert_scim_error(401, None);
        let r = ts
            .call_as(&ts.base, "scimd_abcdefgh_notreal", Method::GET, path, None)
            .await;
        r.assert_scim_error(401, None);
    }
    // Writes are refused before the body is even read.
    let r = ts
        .call_as(
            &ts.base,
            &other_token,
            Method::POST,
            "/Users",
            Some(json!({"userName": "x"})),
        )
        .await;
    r.assert_scim_error(401, None);
    let r = ts.call(Method::GET, "/Users", None).await;
    assert_eq!(r.json()["totalResults"], 0);
}

#[tokio::test]
async fn disabled_tenant_is_403() {
    let ts = TestServer::start().await;
    ts.store
        .update_tenant(
            "acme",
            &scimd_store::TenantUpdate {
                display_name: None,
                provisioning_enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    ts.call(Method::GET, "/Users", None)
        .await
        .assert_scim_error(403, None);
}

// ---- R20: discovery ---------------------------------------------------------------

#[tokio::test]
async fn service_provider_config_tells_the_truth() {
    let mut config = scimd_server::config::ServerConfig::default();
    config.limits.max_bulk_operations = 7;
    config.limits.max_body_bytes = 65536;
    config.limits.max_page_size = 250;
    config.limits.default_page_size = 25;
    let ts = TestServer::start_with(config).await;
    for path in ["/ServiceProviderConfig", "/serviceConfiguration"] {
        let r = ts.call(Method::GET, path, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.content_type().starts_with("application/scim+json"));
        let spc = r.json();
        assert_eq!(
            spc["schemas"][0],
            "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
        );
        assert_eq!(spc["patch"]["supported"], true);
        assert_eq!(spc["bulk"]["supported"], true);
        assert_eq!(spc["bulk"]["maxOperations"], 7);
        assert_eq!(spc["bulk"]["maxPayloadSize"], 65536);
        assert_eq!(spc["filter"]["supported"], true);
        assert_eq!(spc["filter"]["maxResults"], 250);
        assert_eq!(spc["changePassword"]["supported"], false);
        assert_eq!(spc["sort"]["supported"], true);
        assert_eq!(spc["etag"]["supported"], true);
        assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(spc["authenticationSchemes"][0]["primary"], true);
        assert_eq!(spc["pagination"]["cursor"], true);
        assert_eq!(spc["pagination"]["index"], true);
        assert_eq!(spc["pagination"]["defaultPaginationMethod"], "index");
        assert_eq!(spc["pagination"]["defaultPageSize"], 25);
        assert_eq!(spc["pagination"]["maxPageSize"], 250);
        assert_eq!(
            spc["meta"]["location"],
            format!("{}/ServiceProviderConfig", ts.base)
        );
    }
}

#[tokio::test]
async fn schemas_and_resource_types_are_listed_and_readable() {
    let ts = TestServer::start().await;
    let schemas = ts.call(Method::GET, "/Schemas", None).await.json();
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for urn in [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ] {
        assert!(ids.contains(&urn), "{ids:?}");
        let r = ts.call(Method::GET, &format!("/Schemas/{urn}"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["id"], urn);
    }
    assert_eq!(schemas["totalResults"], ids.len());
    ts.call(Method::GET, "/Schemas/urn:nope", None)
        .await
        .assert_scim_error(404, None);

    let types = ts.call(Method::GET, "/ResourceTypes", None).await.json();
    assert_eq!(types["totalResults"], 2);
    let user = ts.call(Method::GET, "/ResourceTypes/User", None).await;
    assert_eq!(user.status, 200);
    assert_eq!(user.json()["endpoint"], "/Users");
    ts.call(Method::GET, "/ResourceTypes/Printer", None)
        .await
        .assert_scim_error(404, None);
}

// ---- wrong methods, /Me, unknown endpoints ------------------------------------------

#[tokio::test]
async fn wrong_methods_are_405_scim_errors() {
    let ts = TestServer::start().await;
    let cases = [
        (Method::POST, "/ServiceProviderConfig"),
        (Method::POST, "/Schemas"),
        (Method::POST, "/ResourceTypes"),
        (Method::DELETE, "/Schemas"),
        (Method::PUT, "/Users"),
        (Method::DELETE, "/Groups"),
        (Method::POST, "/Users/00000000-0000-4000-8000-000000000000"),
        (Method::GET, "/Bulk"),
        (Method::GET, "/.search"),
        (Method::GET, "/Users/.search"),
    ];
    for (method, path) in cases {
        let r = ts.call(method.clone(), path, Some(json!({}))).await;
        assert_eq!(r.status, 405, "{method} {path}: {}", r.text);
        r.assert_scim_error(405, None);
    }
}

#[tokio::test]
async fn me_is_501_for_every_method() {
    let ts = TestServer::start().await;
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ] {
        let r = ts.call(method, "/Me", None).await;
        r.assert_scim_error(501, None);
        assert!(r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("no authenticated subject"));
    }
}

#[tokio::test]
async fn unknown_endpoint_is_404_scim_error() {
    let ts = TestServer::start().await;
    ts.call(Method::GET, "/Printers", None)
        .await
        .assert_scim_error(404, None);
}

// ---- RFC 7644 §3.7: Bulk ------------------------------------------------------------

async fn bulk(ts: &TestServer, body: Value) -> common::Response {
    ts.call(Method::POST, "/Bulk", Some(body)).await
}

#[tokio::test]
async fn bulk_resolves_bulk_ids_in_dependency_order() {
    let ts = TestServer::start().await;
    // The group comes first in the request but references the user's bulkId.
    let r = bulk(
        &ts,
        json!({
            "schemas": [BULK_REQUEST],
            "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "g1",
                 "data": {"displayName": "Bulk Group", "members": [{"type": "User", "value": "bulkId:u1"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "u1",
                 "data": {"userName": "bulk.user"}},
                {"method": "PATCH", "path": "/Users/bulkId:u1",
                 "data": {"Operations": [{"op": "replace", "path": "displayName", "value": "Patched"}]}}
            ]
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type().starts_with("application/scim+json"));
    let body = r.json();
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
    );
    let ops = body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[0]["bulkId"], "g1");
    assert_eq!(ops[0]["status"], "201");
    assert_eq!(ops[1]["status"], "201");
    assert_eq!(ops[2]["status"], "200");
    let user_location = ops[1]["location"].as_str().unwrap();
    assert!(user_location.starts_with(&format!("{}/Users/", ts.base)));
    assert_eq!(ops[2]["location"], user_location);
    assert!(ops[1]["version"].as_str().unwrap().starts_with("W/"));
    let user_id = user_location.rsplit('/').next().unwrap();
    let group_path = ops[0]["location"].as_str().unwrap().replace(&ts.base, "");
    let group = ts.call(Method::GET, &group_path, None).await.json();
    assert_eq!(group["members"][0]["value"], user_id);
    let user = ts
        .call(Method::GET, &format!("/Users/{user_id}"), None)
        .await
        .json();
    assert_eq!(user["displayName"], "Patched");
}

#[tokio::test]
async fn bulk_reports_per_operation_errors_and_honours_fail_on_errors() {
    let ts = TestServer::start().await;
    let r = bulk(
        &ts,
        json!({
            "schemas": [BULK_REQUEST],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "dup"}},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "DUP"}},
                {"method": "DELETE", "path": "/Users/00000000-0000-4000-8000-000000000000"},
                {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "never"}}
            ],
            "failOnErrors": 2
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ops = r.json()["Operations"].as_array().unwrap().clone();
    assert_eq!(ops.len(), 3, "stopped after two errors: {ops:?}");
    assert_eq!(ops[1]["status"], "409");
    assert_eq!(ops[1]["response"]["scimType"], "uniqueness");
    assert_eq!(ops[2]["status"], "404");
    assert_eq!(ops[2]["response"]["status"], "404");
    let r = ts
        .call(Method::GET, "/Users?filter=userName+eq+%22never%22", None)
        .await;
    assert_eq!(r.json()["totalResults"], 0);
}

#[tokio::test]
async fn bulk_operation_depending_on_a_failed_post_fails_with_409() {
    let ts = TestServer::start().await;
    let r = bulk(
        &ts,
        json!({"Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"displayName": "no userName"}},
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"displayName": "G", "members": [{"value": "bulkId:bad"}]}}
        ]}),
    )
    .await;
    let ops = r.json()["Operations"].as_array().unwrap().clone();
    assert_eq!(ops[0]["status"], "400");
    assert_eq!(ops[1]["status"], "409");
}

#[tokio::test]
async fn bulk_cycle_is_409_and_nothing_is_created() {
    let ts = TestServer::start().await;
    let r = bulk(
        &ts,
        json!({"Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "a",
             "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "b",
             "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}}
        ]}),
    )
    .await;
    r.assert_scim_error(409, None);
    let r = ts.call(Method::GET, "/Groups", None).await;
    assert_eq!(r.json()["totalResults"], 0);
}

#[tokio::test]
async fn bulk_limits_and_malformed_requests() {
    let mut config = scimd_server::config::ServerConfig::default();
    config.limits.max_bulk_operations = 2;
    let ts = TestServer::start_with(config).await;
    let op = json!({"method": "DELETE", "path": "/Users/x"});
    bulk(&ts, json!({"Operations": [op, op, op]}))
        .await
        .assert_scim_error(413, None);
    let r = bulk(
        &ts,
        json!({"Operations": [{"method": "FETCH", "path": "/Users"}]}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = bulk(
        &ts,
        json!({"Operations": [{"method": "POST", "path": "/Users", "data": {"userName": "x"}}]}),
    )
    .await;
    r.assert_scim_error(400, Some("invalidValue"));
    let r = bulk(
        &ts,
        json!({"Operations": [{"method": "DELETE", "path": "/Printers/1"}]}),
    )
    .await;
    assert_eq!(r.json()["Operations"][0]["status"], "400");
    let r = bulk(
        &ts,
        json!({"Operations": [{"method": "PATCH", "path": "/Users/bulkId:ghost", "data": {"Operations": []}}]}),
    )
    .await;
    r.assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn endpoint_names_are_case_insensitive() {
    let ts = TestServer::start().await;
    let created = ts
        .call(
            Method::POST,
            "/users",
            Some(serde_json::json!({"userName": "lower"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let listed = ts.call(Method::GET, "/users", None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json()["totalResults"], 1);
    let read = ts.call(Method::GET, &format!("/USERS/{id}"), None).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["id"], id.as_str());
    let config = ts.call(Method::GET, "/serviceproviderconfig", None).await;
    assert_eq!(config.status, 200, "{}", config.text);
    // Ids are not endpoint names: only the endpoint segment is rewritten.
    let other = ts
        .call(Method::GET, &format!("/Users/{}", id.to_uppercase()), None)
        .await;
    other.assert_scim_error(404, None);
}

#[tokio::test]
async fn an_expired_token_is_refused_at_once() {
    let ts = TestServer::start().await;
    let now = time::OffsetDateTime::now_utc();
    let expired = scimd_server::tenants::create_token(
        ts.store.as_ref(),
        "acme",
        "old",
        Some(now - time::Duration::seconds(1)),
    )
    .await
    .unwrap();
    let r = ts
        .call_as(&ts.base, &expired.token, Method::GET, "/Users", None)
        .await;
    r.assert_scim_error(401, None);
    assert!(
        r.json()["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains(&expired.token),
        "the token is never echoed"
    );
}
