//! Single-resource endpoints over HTTP (RFC 7644 §3.3, §3.4.1, §3.5, §3.6, §3.14):
//! create, read, replace, modify, delete, ETags and preconditions, and the IdP
//! behaviours of docs/idp-clients.md that concern one resource.

mod common;

use common::{Response, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Sends a request with extra headers and an optional raw body (no Content-Type
/// unless given in `headers`).
async fn send(
    ts: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Response {
    let mut req = ts
        .client
        .request(method, format!("{}{path}", ts.base))
        .bearer_auth(&ts.token);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Response {
        status,
        headers,
        text,
    }
}

fn assert_scim_content_type(r: &Response) {
    assert!(
        r.content_type().starts_with("application/scim+json"),
        "content-type {:?} for {}",
        r.content_type(),
        r.status
    );
}

fn etag_of(r: &Response) -> String {
    r.headers
        .get("etag")
        .expect("ETag header")
        .to_str()
        .unwrap()
        .to_owned()
}

fn entra_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": format!("ext-{user_name}"),
        "userName": user_name,
        "active": true,
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": format!("{user_name}.mail@contoso.com")}],
        "name": {"formatted": "Test User", "familyName": "User", "givenName": "Test"},
        ENTERPRISE: {"department": "Sales", "employeeNumber": "1234"},
        "meta": {"resourceType": "User"},
        "roles": [],
        "password": "Throwaway1!"
    })
}

async fn create_user(ts: &TestServer, user_name: &str) -> Value {
    let r = ts
        .call(Method::POST, "/Users", Some(entra_user(user_name)))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

async fn create_group(ts: &TestServer, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    let r = ts
        .call(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": name,
                "members": members
            })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

// ---- RFC 7644 §3.3: create ------------------------------------------------------

#[tokio::test]
async fn post_user_answers_201_with_full_resource_location_and_etag() {
    let ts = TestServer::start().await;
    let r = ts
        .call(
            Method::POST,
            "/Users",
            Some(entra_user("alice@contoso.com")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_scim_content_type(&r);
    let body = r.json();
    let id = body["id"].as_str().expect("id");
    assert_eq!(body["userName"], "alice@contoso.com");
    assert_eq!(body["active"], true);
    assert_eq!(body[ENTERPRISE]["department"], "Sales");
    assert!(body.get("password").is_none(), "password never returned");
    let location = format!("{}/Users/{id}", ts.base);
    assert_eq!(r.headers["location"], location.as_str());
    assert_eq!(body["meta"]["location"], location);
    assert_eq!(body["meta"]["resourceType"], "User");
    assert_eq!(etag_of(&r), body["meta"]["version"].as_str().unwrap());
    assert!(etag_of(&r).starts_with("W/\""));
}

#[tokio::test]
async fn r15_post_without_content_type_and_with_json_charset_works() {
    let ts = TestServer::start().await;
    let r = send(
        &ts,
        Method::POST,
        "/Users",
        &[],
        Some(json!({"userName": "nohdr"}).to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = send(
        &ts,
        Method::POST,
        "/Users",
        &[("content-type", "application/json; charset=utf-8")],
        Some(json!({"userName": "charset"}).to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn r13_duplicate_user_name_case_insensitive_is_409_and_findable() {
    let ts = TestServer::start().await;
    create_user(&ts, "Bob@Contoso.com").await;
    let r = ts
        .call(
            Method::POST,
            "/Users",
            Some(json!({"userName": "bob@contoso.COM"})),
        )
        .await;
    r.assert_scim_error(409, Some("uniqueness"));
    let r = ts
        .call(
            Method::GET,
            "/Users?filter=userName+eq+%22bob%40contoso.com%22",
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["totalResults"], 1);
}

#[tokio::test]
async fn duplicate_group_display_name_is_409_uniqueness() {
    let ts = TestServer::start().await;
    create_group(&ts, "Sales", &[]).await;
    let r = ts
        .call(
            Method::POST,
            "/Groups",
            Some(json!({"displayName": "SALES"})),
        )
        .await;
    r.assert_scim_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn bad_bodies_are_400_scim_errors() {
    let ts = TestServer::start().await;
    // Malformed JSON.
    let r = send(
        &ts,
        Method::POST,
        "/Users",
        &[],
        Some("{\"userName\": ".into()),
    )
    .await;
    r.assert_scim_error(400, Some("invalidSyntax"));
    // Empty body.
    let r = send(&ts, Method::POST, "/Users", &[], Some(String::new())).await;
    r.assert_scim_error(400, Some("invalidSyntax"));
    // Missing userName (Microsoft validator).
    let r = ts
        .call(Method::POST, "/Users", Some(json!({"displayName": "x"})))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    r.assert_scim_error(400, Some("invalidValue"));
    // Not an object.
    let r = ts.call(Method::POST, "/Users", Some(json!([1, 2]))).await;
    assert_eq!(r.status, 400);
    assert_scim_content_type(&r);
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let mut config = scimd_server::config::ServerConfig::default();
    config.limits.max_body_bytes = 2048;
    let ts = TestServer::start_with(config).await;
    let big = json!({"userName": "big", "displayName": "x".repeat(4096)});
    let r = ts.call(Method::POST, "/Users", Some(big)).await;
    r.assert_scim_error(413, None);
}

/// U+0000 is refused wherever a request can carry it (`scimd_protocol::nul`): in a
/// body, in a filter's string, in the URL. PostgreSQL cannot store or compare it, so
/// without this the same request was a 201 on SQLite and a 500 on PostgreSQL. Runs on
/// both backends (SCIMD_TEST_BACKEND); nothing is stored half-way.
#[tokio::test]
async fn nul_is_refused_everywhere_and_nothing_is_stored() {
    let ts = TestServer::start().await;
    let r = ts
        .call(
            Method::POST,
            "/Users",
            Some(json!({"userName": "kept@contoso.com"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let kept = r.json();
    let id = kept["id"].as_str().unwrap().to_owned();

    let nul = "a\u{0}b";
    let bodies = [
        (Method::POST, "/Users".to_owned(), json!({"userName": nul})),
        (
            Method::POST,
            "/Users".to_owned(),
            json!({"userName": "ok@contoso.com", "emails": [{"value": nul, "primary": true}]}),
        ),
        (
            Method::POST,
            "/Users".to_owned(),
            json!({"userName": "ok@contoso.com", ENTERPRISE: {"department": nul}}),
        ),
        (
            Method::PUT,
            format!("/Users/{id}"),
            json!({"userName": "kept@contoso.com", "displayName": nul}),
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [
                    {"op": "replace", "path": "displayName", "value": "fine"},
                    {"op": "replace", "path": "title", "value": nul},
                ],
            }),
        ),
        (
            Method::POST,
            "/Groups".to_owned(),
            json!({"displayName": nul}),
        ),
    ];
    for (method, path, body) in bodies {
        let r = ts.call(method.clone(), &path, Some(body)).await;
        r.assert_scim_error(400, Some("invalidValue"));
        assert!(r.text.contains("U+0000"), "{method} {path}: {}", r.text);
    }

    // A filter's string literal written `\u0000`: in a query, in a .search body, and
    // in a PATCH path's value filter (the body itself holds no NUL: `\\u0000`).
    let r = ts
        .call(
            Method::GET,
            "/Users?filter=userName%20eq%20%22a%5Cu0000b%22",
            None,
        )
        .await;
    r.assert_scim_error(400, Some("invalidFilter"));
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName eq \"a\\u0000b\"",
    });
    let r = ts.call(Method::POST, "/Users/.search", Some(search)).await;
    r.assert_scim_error(400, Some("invalidFilter"));
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "emails[value eq \"\\u0000\"]"}],
    });
    let r = ts
        .call(Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_ne!(r.json()["scimType"], "invalidValue", "{}", r.text);

    // `%00` in the URL: a resource id, the tenant, any query parameter.
    for path in [
        "/Users/a%00b",
        "/Users?filter=userName%20eq%20%22a%00b%22",
        "/Users?attributes=user%00Name",
        "/Groups?excludedAttributes=members%00",
    ] {
        let r = ts.call(Method::GET, path, None).await;
        r.assert_scim_error(400, Some("invalidValue"));
    }
    let r = ts
        .call_as(
            &format!("{}/scim/v2/ac%00me", ts.origin),
            &ts.token,
            Method::GET,
            "/Users",
            None,
        )
        .await;
    r.assert_scim_error(400, Some("invalidValue"));

    // Bulk: the whole request is refused before any operation runs.
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "bulk1"}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": nul}},
        ],
    });
    let r = ts.call(Method::POST, "/Bulk", Some(bulk)).await;
    r.assert_scim_error(400, Some("invalidValue"));

    // Nothing was stored: one user, unchanged (the PATCH's first operation too), no group.
    let users = ts.call(Method::GET, "/Users", None).await.json();
    assert_eq!(users["totalResults"], 1, "{users}");
    let now = ts
        .call(Method::GET, &format!("/Users/{id}"), None)
        .await
        .json();
    assert_eq!(now, kept);
    let groups = ts.call(Method::GET, "/Groups", None).await.json();
    assert_eq!(groups["totalResults"], 0, "{groups}");
}

/// A group's members travel whole in its POST, PUT and PATCH (Okta's custom apps PUT
/// the group with every member: docs/idp-clients.md R19), so Groups' writes have their
/// own, larger limit; Users' keep `max_body_bytes`.
#[tokio::test]
async fn groups_writes_have_their_own_body_limit() {
    let mut config = scimd_server::config::ServerConfig::default();
    config.limits.max_body_bytes = 2048;
    config.limits.max_group_body_bytes = 64 * 1024;
    let ts = TestServer::start_with(config).await;
    // With body logging on, the provisioning log reads a body before the route's own
    // limit applies: it must not refuse what the route accepts.
    ts.store
        .update_tenant(
            &ts.tenant,
            &scimd_store::TenantUpdate {
                log_bodies: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut members = Vec::new();
    for i in 0..60 {
        let r = ts
            .call(
                Method::POST,
                "/Users",
                Some(json!({"userName": format!("member{i:03}@contoso.com")})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.json()["id"].as_str().unwrap().to_owned();
        members.push(json!({"value": id, "display": format!("Member number {i:03}")}));
    }
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Everyone",
        "members": members,
    });
    assert!(
        group.to_string().len() > 2048,
        "the body must exceed max_body_bytes"
    );

    let r = ts.call(Method::POST, "/Groups", Some(group.clone())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    // ...and the provisioning log recorded that body (bounded wait for its writer).
    let mut logged = None;
    for _ in 0..200 {
        let page = ts
            .store
            .list_request_logs(
                &ts.tenant,
                &scimd_store::LogQuery {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        logged = page
            .entries
            .into_iter()
            .find(|e| e.entry.method == "POST" && e.entry.path.ends_with("/Groups"))
            .and_then(|e| e.entry.request_body);
        if logged.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let logged = logged.expect("the group's POST is logged with its body");
    assert!(logged.contains("Member number 059"), "{logged}");
    let mut renamed = group.clone();
    renamed["displayName"] = json!("Everyone, renamed");
    let r = ts
        .call(Method::PUT, &format!("/Groups/{id}"), Some(renamed))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["members"].as_array().map(Vec::len), Some(60));
    let r = ts
        .call(
            Method::PATCH,
            &format!("/Groups/{id}"),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "members", "value": members[..59]}],
            })),
        )
        .await;
    assert!(matches!(r.status.as_u16(), 200 | 204), "{}", r.text);
    let r = ts.call(Method::GET, &format!("/Groups/{id}"), None).await;
    assert_eq!(r.json()["members"].as_array().map(Vec::len), Some(59));

    // A User's body of that size is still refused, and so is a Group's past its limit.
    let big_user = json!({"userName": "big", "displayName": "x".repeat(4096)});
    ts.call(Method::POST, "/Users", Some(big_user))
        .await
        .assert_scim_error(413, None);
    let huge_group = json!({"displayName": "Huge", "members": [{"value": "x".repeat(70 * 1024)}]});
    ts.call(Method::POST, "/Groups", Some(huge_group.clone()))
        .await
        .assert_scim_error(413, None);
    ts.call(Method::PUT, &format!("/Groups/{id}"), Some(huge_group))
        .await
        .assert_scim_error(413, None);
}

// ---- RFC 7644 §3.4.1: read ------------------------------------------------------

#[tokio::test]
async fn get_unknown_id_is_404_scim_error() {
    let ts = TestServer::start().await;
    for path in [
        "/Users/00000000-0000-4000-8000-000000000000",
        "/Groups/not-a-uuid",
        "/Users/%22%3Cscript%3E",
    ] {
        let r = ts.call(Method::GET, path, None).await;
        r.assert_scim_error(404, None);
    }
}

#[tokio::test]
async fn get_returns_the_resource_with_etag_and_projection() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "carol").await;
    let id = created["id"].as_str().unwrap();
    let r = ts.call(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(r.status, 200);
    assert_scim_content_type(&r);
    assert_eq!(r.json(), created);
    assert_eq!(etag_of(&r), created["meta"]["version"].as_str().unwrap());

    let r = ts
        .call(
            Method::GET,
            &format!("/Users/{id}?attributes=userName"),
            None,
        )
        .await;
    let body = r.json();
    assert_eq!(body["userName"], "carol");
    assert_eq!(body["id"], id);
    assert!(body.get("emails").is_none(), "{body}");
    assert!(body.get("displayName").is_none(), "{body}");

    let r = ts
        .call(
            Method::GET,
            &format!("/Users/{id}?excludedAttributes=emails,name"),
            None,
        )
        .await;
    let body = r.json();
    assert!(body.get("emails").is_none() && body.get("name").is_none());
    assert_eq!(body["displayName"], "Test User");
}

#[tokio::test]
async fn if_none_match_with_current_etag_is_304_and_stale_is_200() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "dave").await;
    let id = created["id"].as_str().unwrap();
    let tag = created["meta"]["version"].as_str().unwrap();
    let path = format!("/Users/{id}");
    let r = send(&ts, Method::GET, &path, &[("if-none-match", tag)], None).await;
    assert_eq!(r.status, 304);
    assert!(r.text.is_empty());
    assert_eq!(etag_of(&r), tag);
    let r = send(
        &ts,
        Method::GET,
        &path,
        &[("if-none-match", "W/\"999\"")],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(&ts, Method::GET, &path, &[("if-none-match", "*")], None).await;
    assert_eq!(r.status, 304);
}

#[tokio::test]
async fn r18_deactivated_user_is_still_returned() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "erin").await;
    let id = created["id"].as_str().unwrap();
    let r = ts
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = ts.call(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["active"], false);
    let r = ts
        .call(Method::GET, "/Users?filter=userName+eq+%22erin%22", None)
        .await;
    assert_eq!(r.json()["totalResults"], 1);
}

// ---- RFC 7644 §3.5.1: replace ---------------------------------------------------

#[tokio::test]
async fn r19_put_replaces_and_ignores_echoed_read_only_attributes() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "frank").await;
    let id = created["id"].as_str().unwrap().to_owned();
    // Okta: GET, then PUT the whole user back with a change (id, meta, groups echoed).
    let mut body = ts
        .call(Method::GET, &format!("/Users/{id}"), None)
        .await
        .json();
    body["active"] = json!(false);
    body["displayName"] = json!("Frank Changed");
    body["groups"] = json!([{"value": "whatever"}]);
    body.as_object_mut().unwrap().remove("emails");
    let r = ts
        .call(Method::PUT, &format!("/Users/{id}"), Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_scim_content_type(&r);
    let replaced = r.json();
    assert_eq!(replaced["id"], id.as_str());
    assert_eq!(replaced["active"], false);
    assert_eq!(replaced["displayName"], "Frank Changed");
    assert!(replaced.get("emails").is_none(), "PUT replaces: {replaced}");
    assert_ne!(replaced["meta"]["version"], created["meta"]["version"]);
    assert_eq!(etag_of(&r), replaced["meta"]["version"].as_str().unwrap());
}

#[tokio::test]
async fn put_unknown_id_is_404() {
    let ts = TestServer::start().await;
    let r = ts
        .call(
            Method::PUT,
            "/Users/00000000-0000-4000-8000-000000000000",
            Some(json!({"userName": "x"})),
        )
        .await;
    r.assert_scim_error(404, None);
}

#[tokio::test]
async fn r19_put_group_members_replace_membership_and_absent_members_keep_it() {
    let ts = TestServer::start().await;
    let u1 = create_user(&ts, "m1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let u2 = create_user(&ts, "m2").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = create_group(&ts, "Team", &[&u1]).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    let r = ts
        .call(
            Method::PUT,
            &format!("/Groups/{gid}"),
            Some(json!({"displayName": "Team", "members": [{"value": u2}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let members: Vec<String> = r.json()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(members, vec![u2.clone()]);
    // A PUT without `members` renames and leaves the membership alone.
    let r = ts
        .call(
            Method::PUT,
            &format!("/Groups/{gid}"),
            Some(json!({"displayName": "Team Renamed"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["displayName"], "Team Renamed");
    assert_eq!(r.json()["members"].as_array().map(Vec::len), Some(1));
    // `"members": []` empties it.
    let r = ts
        .call(
            Method::PUT,
            &format!("/Groups/{gid}"),
            Some(json!({"displayName": "Team Renamed", "members": []})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let members = r.json().get("members").cloned().unwrap_or(json!([]));
    assert_eq!(members, json!([]));
}

// ---- RFC 7644 §3.5.2: modify ----------------------------------------------------

#[tokio::test]
async fn patch_user_entra_default_dialect_answers_204_or_200_with_attributes() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "gina").await;
    let id = created["id"].as_str().unwrap();
    // Without `attributes`: 204 and the new ETag (RFC 7644 §3.5.2).
    let r = ts
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [{"op": "Replace", "path": "title", "value": "Engineer"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_eq!(etag_of(&r), "W/\"2\"");
    // With `attributes`: 200 and the projected resource.
    let r = ts
        .call(
            Method::PATCH,
            &format!("/Users/{id}?attributes=emails,name,{ENTERPRISE}:department"),
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
              "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
                {"op": "Replace", "path": "name.familyName", "value": "Smith"},
                {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Retail"}
              ]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_scim_content_type(&r);
    let body = r.json();
    assert_eq!(body["emails"][0]["value"], "new@contoso.com");
    assert_eq!(body["name"]["familyName"], "Smith");
    assert_eq!(body[ENTERPRISE]["department"], "Retail");
    assert!(body.get("title").is_none(), "projected away: {body}");
    assert_eq!(etag_of(&r), "W/\"3\"");
}

#[tokio::test]
async fn bad_patches_are_400_with_the_right_scim_type() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "hank").await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let cases = [
        (
            json!({"Operations": [{"op": "explode", "path": "active", "value": true}]}),
            "invalidSyntax",
        ),
        (json!({"Operations": [{"op": "remove"}]}), "noTarget"),
        (
            json!({"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}),
            "invalidPath",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "noSuchAttribute", "value": "x"}]}),
            "invalidPath",
        ),
        (json!({"nothing": []}), "invalidSyntax"),
    ];
    for (body, scim_type) in cases {
        let r = ts.call(Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        r.assert_scim_error(400, Some(scim_type));
    }
    // Nothing changed.
    let r = ts.call(Method::GET, &path, None).await;
    assert_eq!(r.json(), created);
}

#[tokio::test]
async fn too_many_patch_operations_is_400_too_many() {
    let mut config = scimd_server::config::ServerConfig::default();
    config.limits.max_patch_operations = 2;
    let ts = TestServer::start_with(config).await;
    let created = create_user(&ts, "ivan").await;
    let op = json!({"op": "replace", "path": "displayName", "value": "x"});
    let r = ts
        .call(
            Method::PATCH,
            &format!("/Users/{}", created["id"].as_str().unwrap()),
            Some(json!({"Operations": [op, op, op]})),
        )
        .await;
    r.assert_scim_error(400, Some("tooMany"));
}

#[tokio::test]
async fn r12_patch_group_is_204_unless_attributes_are_asked_for() {
    let ts = TestServer::start().await;
    let u1 = create_user(&ts, "p1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let u2 = create_user(&ts, "p2").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = create_group(&ts, "PatchMe", &[]).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": u1}, {"value": u2, "$ref": null}]}]});
    let r = ts
        .call(Method::PATCH, &format!("/Groups/{gid}"), Some(add))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let tag = etag_of(&r);
    assert_ne!(tag, g["meta"]["version"].as_str().unwrap());
    let r = ts.call(Method::GET, &format!("/Groups/{gid}"), None).await;
    assert_eq!(etag_of(&r), tag);
    assert_eq!(r.json()["members"].as_array().map(Vec::len), Some(2));

    let remove =
        json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{u1}\"]")}]});
    let r = ts
        .call(
            Method::PATCH,
            &format!("/Groups/{gid}?attributes=members"),
            Some(remove),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["members"][0]["value"], u2.as_str());
    assert!(body.get("displayName").is_none(), "projected: {body}");

    let r = ts
        .call(
            Method::PATCH,
            &format!("/Groups/{gid}?excludedAttributes=members"),
            Some(json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["displayName"], "Renamed");
    assert!(body.get("members").is_none());
}

#[tokio::test]
async fn r11_excluded_members_are_left_out() {
    let ts = TestServer::start().await;
    let u = create_user(&ts, "r11").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = create_group(&ts, "R11", &[&u]).await;
    let gid = g["id"].as_str().unwrap();
    assert_eq!(g["members"][0]["value"], u.as_str());
    let r = ts
        .call(
            Method::GET,
            &format!("/Groups/{gid}?excludedAttributes=members"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert!(body.get("members").is_none(), "{body}");
    assert_eq!(body["displayName"], "R11");
    let r = ts
        .call(
            Method::GET,
            "/Groups?excludedAttributes=members&filter=displayName+eq+%22R11%22",
            None,
        )
        .await;
    let body = r.json();
    assert_eq!(body["totalResults"], 1);
    assert!(body["Resources"][0].get("members").is_none(), "{body}");
}

#[tokio::test]
async fn user_groups_are_returned_read_only() {
    let ts = TestServer::start().await;
    let u = create_user(&ts, "member").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = create_group(&ts, "Readers", &[&u]).await;
    let r = ts.call(Method::GET, &format!("/Users/{u}"), None).await;
    let body = r.json();
    assert_eq!(body["groups"][0]["value"], g["id"]);
    assert_eq!(body["groups"][0]["display"], "Readers");
    let r = ts
        .call(
            Method::GET,
            &format!("/Users/{u}?excludedAttributes=groups"),
            None,
        )
        .await;
    assert!(r.json().get("groups").is_none());
}

// ---- RFC 7644 §3.14: ETags and If-Match ------------------------------------------

#[tokio::test]
async fn if_match_mismatch_is_412_and_match_succeeds() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "jane").await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let tag = created["meta"]["version"].as_str().unwrap().to_owned();
    let patch =
        json!({"Operations": [{"op": "replace", "path": "displayName", "value": "J"}]}).to_string();
    let ct = ("content-type", "application/scim+json");

    let r = send(
        &ts,
        Method::PATCH,
        &path,
        &[ct, ("if-match", "W/\"999\"")],
        Some(patch.clone()),
    )
    .await;
    r.assert_scim_error(412, None);
    let r = send(
        &ts,
        Method::PUT,
        &path,
        &[ct, ("if-match", "W/\"999\"")],
        Some(json!({"userName": "jane"}).to_string()),
    )
    .await;
    r.assert_scim_error(412, None);
    let r = send(
        &ts,
        Method::DELETE,
        &path,
        &[("if-match", "W/\"999\"")],
        None,
    )
    .await;
    r.assert_scim_error(412, None);
    let r = send(
        &ts,
        Method::DELETE,
        &path,
        &[("if-match", "W/\"998\", W/\"999\"")],
        None,
    )
    .await;
    r.assert_scim_error(412, None);

    let r = send(
        &ts,
        Method::PATCH,
        &path,
        &[ct, ("if-match", &tag)],
        Some(patch),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let new_tag = etag_of(&r);
    assert_ne!(new_tag, tag);
    // The old tag no longer matches.
    let r = send(&ts, Method::DELETE, &path, &[("if-match", &tag)], None).await;
    r.assert_scim_error(412, None);
    let r = send(&ts, Method::DELETE, &path, &[("if-match", &new_tag)], None).await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn malformed_if_match_is_400() {
    let ts = TestServer::start().await;
    let created = create_user(&ts, "kim").await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let r = send(&ts, Method::DELETE, &path, &[("if-match", "W/\"1")], None).await;
    r.assert_scim_error(400, Some("invalidSyntax"));
}

// ---- RFC 7644 §3.6: delete ------------------------------------------------------

#[tokio::test]
async fn delete_is_204_then_404() {
    let ts = TestServer::start().await;
    let u = create_user(&ts, "gone").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = create_group(&ts, "Gone", &[&u]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = ts.call(Method::DELETE, &format!("/Users/{u}"), None).await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    ts.call(Method::GET, &format!("/Users/{u}"), None)
        .await
        .assert_scim_error(404, None);
    ts.call(Method::DELETE, &format!("/Users/{u}"), None)
        .await
        .assert_scim_error(404, None);
    // The membership went with the user.
    let r = ts.call(Method::GET, &format!("/Groups/{g}"), None).await;
    let members = r.json().get("members").cloned().unwrap_or(json!([]));
    assert_eq!(members, json!([]));
    let r = ts.call(Method::DELETE, &format!("/Groups/{g}"), None).await;
    assert_eq!(r.status, 204);
}

// ---- tenant isolation ------------------------------------------------------------

#[tokio::test]
async fn another_tenant_cannot_see_or_touch_resources() {
    let ts = TestServer::start().await;
    let u = create_user(&ts, "private").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (other_base, other_token) = ts.add_tenant("globex").await;
    for method in [Method::GET, Method::DELETE] {
        let r = ts
            .call_as(
                &other_base,
                &other_token,
                method,
                &format!("/Users/{u}"),
                None,
            )
            .await;
        r.assert_scim_error(404, None);
    }
    let r = ts
        .call_as(&other_base, &other_token, Method::GET, "/Users", None)
        .await;
    assert_eq!(r.json()["totalResults"], 0);
    // Same userName is fine in another tenant.
    let r = ts
        .call_as(
            &other_base,
            &other_token,
            Method::POST,
            "/Users",
            Some(json!({"userName": "private"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.json()["meta"]["location"]
        .as_str()
        .unwrap()
        .starts_with(&other_base));
}

#[tokio::test]
async fn okta_group_push_flow() {
    let ts = TestServer::start().await;
    let u = create_user(&ts, "okta.member").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Find (nothing), create with `members: []`.
    let r = ts
        .call(
            Method::GET,
            "/Groups?filter=displayName%20eq%20%22Okta%20Push%22",
            None,
        )
        .await;
    assert_eq!(r.json()["Resources"], json!([]));
    let g = create_group(&ts, "Okta Push", &[]).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{gid}");
    // Rename with a path-less replace carrying the id.
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Okta Pushed"}}]});
    assert_eq!(
        ts.call(Method::PATCH, &path, Some(rename)).await.status,
        204
    );
    let add = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": u, "display": "x"}]}]});
    assert_eq!(ts.call(Method::PATCH, &path, Some(add)).await.status, 204);
    let body = ts.call(Method::GET, &path, None).await.json();
    assert_eq!(body["displayName"], "Okta Pushed");
    assert_eq!(body["members"][0]["value"], u.as_str());
    // Push an empty group.
    let empty = json!({"Operations": [{"op": "replace", "path": "members", "value": []}]});
    assert_eq!(ts.call(Method::PATCH, &path, Some(empty)).await.status, 204);
    let body = ts.call(Method::GET, &path, None).await.json();
    assert_eq!(body.get("members").cloned().unwrap_or(json!([])), json!([]));
    // Members naming ids that are not users or groups of the tenant are skipped (an
    // IdP would retry a refused PATCH forever), and never appear as members.
    let ghost = json!({"Operations": [{"op": "add", "path": "members",
        "value": [{"value": "00000000-0000-4000-8000-000000000000"}, {"value": u, "displayName": "new User"}]}]});
    let r = ts.call(Method::PATCH, &path, Some(ghost)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let body = ts.call(Method::GET, &path, None).await.json();
    assert_eq!(body["members"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["members"][0]["value"], u.as_str());
    // The display the client sent is what the group shows (Microsoft's validator).
    assert_eq!(body["members"][0]["display"], "new User");
    assert_eq!(ts.call(Method::DELETE, &path, None).await.status, 204);
}
