//! Queries over HTTP (RFC 7644 §3.4.2, §3.4.3, RFC 9865): filters as IdPs send them,
//! sorting, index and cursor paging, projection, the `.search` forms.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

async fn create_users(ts: &TestServer, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let r = ts
            .call(
                Method::POST,
                "/Users",
                Some(json!({
                    "userName": format!("user{i:02}@contoso.com"),
                    "externalId": format!("ext-{i:02}"),
                    "displayName": format!("User {i:02}"),
                    "emails": [{"type": "work", "value": format!("Mail{i:02}@Contoso.com"), "primary": true}],
                    "active": i % 2 == 0
                })),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn get_list(ts: &TestServer, path_and_query: &str) -> Value {
    let r = ts.call(Method::GET, path_and_query, None).await;
    assert_eq!(r.status, 200, "{path_and_query}: {}", r.text);
    assert!(r.content_type().starts_with("application/scim+json"));
    r.json()
}

fn ids_of(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---- R2, R3, R4: filters as Entra and Okta send them ------------------------------

#[tokio::test]
async fn r2_no_match_is_200_with_empty_resources_array() {
    let ts = TestServer::start().await;
    // Entra's Test Connection, verbatim.
    let r = ts
        .call(
            Method::GET,
            "/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("\"Resources\":[]"), "{}", r.text);
    let body = r.json();
    assert_eq!(body["totalResults"], 0);
    assert_eq!(body["startIndex"], 1);
    assert_eq!(body["itemsPerPage"], 0);
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    let body = get_list(
        &ts,
        "/Groups?excludedAttributes=members&filter=displayName+eq+%22random%22",
    )
    .await;
    assert_eq!(body["totalResults"], 0);
    assert_eq!(body["Resources"], json!([]));
}

#[tokio::test]
async fn r3_idp_filters_match_case_insensitively() {
    let ts = TestServer::start().await;
    let ids = create_users(&ts, 3).await;
    let cases = [
        "/Users?filter=userName+eq+%22USER01%40contoso.com%22",
        "/Users?filter=externalId+eq+%22ext-01%22",
        "/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22mail01%40contoso.com%22",
        "/Users?filter=displayName%20eq%20%22user%2001%22",
        // Okta's form with %20 and paging parameters; Entra's unknown parameter.
        "/Users?filter=userName%20eq%20%22user01%40contoso.com%22&startIndex=1&count=100",
        "/Users?aadOptscim062020&filter=userName+eq+%22user01%40contoso.com%22",
        // Parameter names in any case.
        "/Users?Filter=userName+EQ+%22user01%40contoso.com%22",
    ];
    for path in cases {
        let body = get_list(&ts, path).await;
        assert_eq!(body["totalResults"], 1, "{path}: {body}");
        assert_eq!(ids_of(&body), vec![ids[1].clone()], "{path}");
    }
    let body = get_list(
        &ts,
        &format!(
            "/Users?filter=id+eq+%22{}%22+and+userName+sw+%22user%22",
            ids[2]
        ),
    )
    .await;
    assert_eq!(ids_of(&body), vec![ids[2].clone()]);
}

/// Sends one raw HTTP/1.1 request line (no client-side URL encoding) and returns the
/// whole response as text.
async fn raw_get(ts: &TestServer, target: &str) -> String {
    let addr = ts.origin.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        ts.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn r4_encoded_quotes_and_plus_spaces_on_the_wire() {
    let ts = TestServer::start().await;
    let ids = create_users(&ts, 2).await;
    let text = raw_get(
        &ts,
        "/scim/v2/acme/Users?filter=userName+eq+%22user01%40contoso.com%22",
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(&ids[1]) && !text.contains(&ids[0]), "{text}");
}

/// A raw `"` in the query never reaches scimd: the `http` crate's URI parser (used by
/// hyper) refuses byte 0x22 in a query and hyper answers a bodiless 400 itself. This
/// test pins that behaviour so a dependency upgrade that starts accepting raw quotes
/// is noticed (the decoder in `scim::query` already handles them; see its unit tests).
#[tokio::test]
async fn r4_raw_quotes_in_the_query_reach_the_filter_parser() {
    let ts = TestServer::start().await;
    let r = ts
        .call(
            Method::POST,
            "/Users",
            Some(json!({"userName": "Raw.Quote@example.com"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Entra sends raw double quotes, which `http` alone would refuse (lenient_http.rs).
    let text = raw_get(
        &ts,
        "/scim/v2/acme/Users?filter=userName+eq+\"raw.quote@EXAMPLE.com\"",
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"totalResults\":1"), "{text}");
    // A malformed filter with raw quotes is a SCIM error, not hyper's bare 400.
    let text = raw_get(&ts, "/scim/v2/acme/Users?filter=userName+eq+\"x").await;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("invalidFilter"), "{text}");
}

#[tokio::test]
async fn bad_filters_are_400_invalid_filter() {
    let ts = TestServer::start().await;
    for path in [
        "/Users?filter=userName+eq",
        "/Users?filter=noSuchAttr+eq+%22x%22",
        "/Users?filter=(userName+eq+%22x%22",
        "/Users?filter=active+gt+true",
        "/Groups?filter=userName+eq+%22x%22",
    ] {
        let r = ts.call(Method::GET, path, None).await;
        r.assert_scim_error(400, Some("invalidFilter"));
    }
}

#[tokio::test]
async fn filter_limits_come_from_the_configuration() {
    let mut config = scimd_server::config::ServerConfig::default();
    config.limits.max_filter_length = 30;
    let ts = TestServer::start_with(config).await;
    let long = "userName+eq+%22".to_owned() + &"a".repeat(40) + "%22";
    let r = ts
        .call(Method::GET, &format!("/Users?filter={long}"), None)
        .await;
    r.assert_scim_error(400, Some("invalidFilter"));
    let r = ts
        .call(Method::GET, "/Users?filter=userName+eq+%22a%22", None)
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn empty_filter_means_no_filter() {
    let ts = TestServer::start().await;
    create_users(&ts, 2).await;
    assert_eq!(get_list(&ts, "/Users?filter=").await["totalResults"], 2);
}

#[tokio::test]
async fn r18_filters_return_deactivated_users() {
    let ts = TestServer::start().await;
    create_users(&ts, 4).await;
    let body = get_list(&ts, "/Users?filter=active+eq+false").await;
    assert_eq!(body["totalResults"], 2);
}

// ---- R17: paging ---------------------------------------------------------------

#[tokio::test]
async fn r17_index_paging_is_stable_with_integers_and_no_overlap() {
    let ts = TestServer::start().await;
    let ids = create_users(&ts, 7).await;
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let r = ts
            .call(
                Method::GET,
                &format!("/Users?startIndex={start}&count=3"),
                None,
            )
            .await;
        // Integers, not strings.
        assert!(r.text.contains("\"totalResults\":7"), "{}", r.text);
        let body = r.json();
        assert_eq!(body["startIndex"], start);
        let page = ids_of(&body);
        assert_eq!(body["itemsPerPage"], page.len());
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        seen.extend(page);
        start += 3;
    }
    assert_eq!(seen.len(), 7);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 7);
    assert_eq!(unique, ids.iter().collect());
    // Same query twice, same order.
    let a = ids_of(&get_list(&ts, "/Users?startIndex=2&count=4").await);
    let b = ids_of(&get_list(&ts, "/Users?startIndex=2&count=4").await);
    assert_eq!(a, b);
    assert_eq!(a, seen[1..5].to_vec());
}

#[tokio::test]
async fn paging_edge_values() {
    let ts = TestServer::start().await;
    create_users(&ts, 3).await;
    let body = get_list(&ts, "/Users?startIndex=0&count=-5").await;
    assert_eq!(body["startIndex"], 1);
    assert_eq!(body["totalResults"], 3);
    assert_eq!(body["Resources"], json!([]));
    let body = get_list(&ts, "/Users?startIndex=99").await;
    assert_eq!(body["totalResults"], 3);
    assert_eq!(body["Resources"], json!([]));
    let r = ts.call(Method::GET, "/Users?count=ten", None).await;
    r.assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn count_is_capped_at_max_page_size() {
    let mut config = scimd_server::config::ServerConfig::default();
    config.limits.max_page_size = 2;
    config.limits.default_page_size = 1;
    let ts = TestServer::start_with(config).await;
    create_users(&ts, 3).await;
    assert_eq!(get_list(&ts, "/Users").await["itemsPerPage"], 1);
    let body = get_list(&ts, "/Users?count=50").await;
    assert_eq!(body["itemsPerPage"], 2);
    assert_eq!(body["totalResults"], 3);
}

#[tokio::test]
async fn cursor_paging_walks_every_resource_once() {
    let ts = TestServer::start().await;
    let ids = create_users(&ts, 5).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let body = get_list(&ts, &format!("/Users?count=2&cursor={cursor}")).await;
        assert_eq!(body["totalResults"], 5);
        assert!(body.get("startIndex").is_none(), "{body}");
        seen.extend(ids_of(&body));
        match body.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), 5);
    assert_eq!(unique, ids.iter().collect());
    let r = ts
        .call(Method::GET, "/Users?count=2&cursor=not-a-cursor", None)
        .await;
    r.assert_scim_error(400, Some("invalidCursor"));
}

// ---- sorting and projection --------------------------------------------------------

#[tokio::test]
async fn sort_by_and_sort_order() {
    let ts = TestServer::start().await;
    let ids = create_users(&ts, 4).await;
    let asc = ids_of(&get_list(&ts, "/Users?sortBy=userName").await);
    assert_eq!(asc, ids);
    let desc = ids_of(&get_list(&ts, "/Users?sortBy=userName&sortOrder=descending").await);
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(desc, reversed);
    let r = ts.call(Method::GET, "/Users?sortBy=nope", None).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = ts
        .call(
            Method::GET,
            "/Users?sortBy=userName&sortOrder=sideways",
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn list_projection_applies_to_every_resource() {
    let ts = TestServer::start().await;
    create_users(&ts, 2).await;
    let body = get_list(&ts, "/Users?attributes=userName").await;
    for r in body["Resources"].as_array().unwrap() {
        assert!(r.get("userName").is_some() && r.get("id").is_some());
        assert!(
            r.get("emails").is_none() && r.get("displayName").is_none(),
            "{r}"
        );
    }
    let body = get_list(&ts, "/Users?attributes=emails%5Btype+eq+%22work%22%5D").await;
    assert!(body["Resources"][0].get("emails").is_some(), "{body}");
}

// ---- RFC 7644 §3.4.3: POST .search ------------------------------------------------

#[tokio::test]
async fn users_search_with_body() {
    let ts = TestServer::start().await;
    let ids = create_users(&ts, 5).await;
    let r = ts
        .call(
            Method::POST,
            "/Users/.search",
            Some(json!({
                "schemas": [SEARCH],
                "attributes": ["userName", "displayName"],
                "filter": "userName sw \"user0\"",
                "sortBy": "userName",
                "sortOrder": "descending",
                "startIndex": 2,
                "count": 2
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type().starts_with("application/scim+json"));
    let body = r.json();
    assert_eq!(body["totalResults"], 5);
    assert_eq!(body["startIndex"], 2);
    assert_eq!(ids_of(&body), vec![ids[3].clone(), ids[2].clone()]);
    assert!(body["Resources"][0].get("emails").is_none());
    // A search body that is not a SearchRequest.
    let r = ts
        .call(
            Method::POST,
            "/Users/.search",
            Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})),
        )
        .await;
    r.assert_scim_error(400, Some("invalidSyntax"));
    let r = ts
        .call(
            Method::POST,
            "/Groups/.search",
            Some(json!({"filter": "displayName eq"})),
        )
        .await;
    r.assert_scim_error(400, Some("invalidFilter"));
}

#[tokio::test]
async fn root_search_covers_users_then_groups() {
    let ts = TestServer::start().await;
    let users = create_users(&ts, 3).await;
    let mut groups = Vec::new();
    for name in ["G1", "G2"] {
        let r = ts
            .call(Method::POST, "/Groups", Some(json!({"displayName": name})))
            .await;
        groups.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let search = |body: Value| async {
        let r = ts.call(Method::POST, "/.search", Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    };
    let all = search(json!({"schemas": [SEARCH]})).await;
    assert_eq!(all["totalResults"], 5);
    let mut expected = users.clone();
    expected.extend(groups.clone());
    assert_eq!(ids_of(&all), expected);
    // Paging over the concatenation.
    let page = search(json!({"startIndex": 3, "count": 2})).await;
    assert_eq!(page["totalResults"], 5);
    assert_eq!(ids_of(&page), vec![users[2].clone(), groups[0].clone()]);
    let page = search(json!({"startIndex": 5, "count": 2})).await;
    assert_eq!(ids_of(&page), vec![groups[1].clone()]);
    // A filter that only one type understands.
    let only_users = search(json!({"filter": "userName sw \"user\""})).await;
    assert_eq!(only_users["totalResults"], 3);
    let both =
        search(json!({"filter": "displayName eq \"G2\" or displayName eq \"User 00\""})).await;
    assert_eq!(ids_of(&both), vec![users[0].clone(), groups[1].clone()]);
    let r = ts
        .call(
            Method::POST,
            "/.search",
            Some(json!({"filter": "nothing eq 1"})),
        )
        .await;
    r.assert_scim_error(400, Some("invalidFilter"));
    let r = ts
        .call(Method::POST, "/.search", Some(json!({"cursor": ""})))
        .await;
    r.assert_scim_error(400, Some("invalidValue"));
}
