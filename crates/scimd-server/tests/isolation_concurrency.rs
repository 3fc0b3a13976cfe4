//! Tenant isolation under concurrent load (idp-clients.md §5: "Tenant stored in shared
//! mutable state: under concurrent requests one tenant's users were written into
//! another tenant").
//!
//! Two tenants, eight concurrent clients each. Every client creates users whose
//! userNames are the same in both tenants, creates a group, and adds and removes
//! members with PATCH (RFC 7644 §3.5.2). At the end each tenant must hold exactly its
//! own resources with exactly the expected memberships, and neither tenant can reach the
//! other's ids: 404 on its own URL (RFC 7644 §3.12), and 401 when its token is used on
//! the other tenant's URL (a token opens exactly one tenant).

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const CLIENTS_PER_TENANT: usize = 8;
const USERS_PER_CLIENT: usize = 10;
const OVERALL_TIMEOUT: Duration = Duration::from_secs(60);

/// One tenant as a client sees it.
#[derive(Clone)]
struct TenantEndpoint {
    name: &'static str,
    base: String,
    token: String,
}

/// What one client created: its group and the members that must remain.
struct ClientOutcome {
    tenant: &'static str,
    group_id: String,
    group_name: String,
    user_ids: Vec<String>,
    user_names: Vec<String>,
    expected_members: BTreeSet<String>,
}

fn user_body(user_name: &str, tenant: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "active": true,
        // Differs per tenant, so a cross-tenant write would be visible in the data too.
        "title": format!("title-{tenant}"),
    })
}

fn patch(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

fn members(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id})).collect())
}

/// One client's workload against one tenant: per user a create and a read-back, then a
/// group create, three membership PATCHes and a group read (25 requests).
async fn run_client(
    server: Arc<TestServer>,
    tenant: TenantEndpoint,
    client: usize,
) -> ClientOutcome {
    let mut user_ids = Vec::new();
    let mut user_names = Vec::new();
    for n in 0..USERS_PER_CLIENT {
        // The same userName is created in both tenants: uniqueness is per tenant.
        let user_name = format!("client{client}.user{n}@example.com");
        let resp = server
            .call_as(
                &tenant.base,
                &tenant.token,
                Method::POST,
                "/Users",
                Some(user_body(&user_name, tenant.name)),
            )
            .await;
        assert_eq!(
            resp.status.as_u16(),
            201,
            "{} create {user_name}: {}",
            tenant.name,
            resp.text
        );
        let body = resp.json();
        assert_eq!(body["title"], format!("title-{}", tenant.name));
        let id = body["id"].as_str().expect("id").to_owned();
        // Read back at once: the write must be visible in this tenant, with this tenant's data.
        let read = server
            .call_as(
                &tenant.base,
                &tenant.token,
                Method::GET,
                &format!("/Users/{id}"),
                None,
            )
            .await;
        assert_eq!(
            read.status.as_u16(),
            200,
            "{} read {id}: {}",
            tenant.name,
            read.text
        );
        assert_eq!(read.json()["userName"], user_name.as_str());
        assert_eq!(read.json()["title"], format!("title-{}", tenant.name));
        user_ids.push(id);
        user_names.push(user_name);
    }

    let group_name = format!("group-{client}");
    let resp = server
        .call_as(
            &tenant.base,
            &tenant.token,
            Method::POST,
            "/Groups",
            Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": group_name})),
        )
        .await;
    assert_eq!(
        resp.status.as_u16(),
        201,
        "{} create group: {}",
        tenant.name,
        resp.text
    );
    let group_id = resp.json()["id"].as_str().expect("group id").to_owned();
    let group_path = format!("/Groups/{group_id}");

    // Add every user of this client, in two requests, then remove the odd ones.
    let (first, second) = user_ids.split_at(USERS_PER_CLIENT / 2);
    for half in [first, second] {
        let resp = server
            .call_as(
                &tenant.base,
                &tenant.token,
                Method::PATCH,
                &group_path,
                Some(patch(
                    json!([{"op": "add", "path": "members", "value": members(half)}]),
                )),
            )
            .await;
        assert!(
            matches!(resp.status.as_u16(), 200 | 204),
            "{} add members: {}",
            tenant.name,
            resp.text
        );
    }
    let odd: Vec<String> = user_ids.iter().skip(1).step_by(2).cloned().collect();
    let resp = server
        .call_as(
            &tenant.base,
            &tenant.token,
            Method::PATCH,
            &group_path,
            Some(patch(
                json!([{"op": "remove", "path": "members", "value": members(&odd)}]),
            )),
        )
        .await;
    assert!(
        matches!(resp.status.as_u16(), 200 | 204),
        "{} remove members: {}",
        tenant.name,
        resp.text
    );

    let expected_members: BTreeSet<String> = user_ids.iter().step_by(2).cloned().collect();
    let read = server
        .call_as(&tenant.base, &tenant.token, Method::GET, &group_path, None)
        .await;
    assert_eq!(
        read.status.as_u16(),
        200,
        "{} read group: {}",
        tenant.name,
        read.text
    );
    assert_eq!(
        member_ids(&read.json()),
        expected_members,
        "{} {group_name}",
        tenant.name
    );
    ClientOutcome {
        tenant: tenant.name,
        group_id,
        group_name,
        user_ids,
        user_names,
        expected_members,
    }
}

/// Every resource of a listing endpoint, read with paging (RFC 7644 §3.4.2.4).
async fn list_all(
    server: &TestServer,
    tenant: &TenantEndpoint,
    endpoint: &str,
    query: &str,
) -> Vec<Value> {
    let mut all = Vec::new();
    let mut start = 1;
    loop {
        let path = format!("{endpoint}?startIndex={start}&count=50{query}");
        let resp = server
            .call_as(&tenant.base, &tenant.token, Method::GET, &path, None)
            .await;
        assert_eq!(
            resp.status.as_u16(),
            200,
            "{} list {path}: {}",
            tenant.name,
            resp.text
        );
        let body = resp.json();
        let page = body["Resources"].as_array().cloned().unwrap_or_default();
        let total = body["totalResults"]
            .as_u64()
            .expect("totalResults is an integer");
        let got = page.len();
        all.extend(page);
        if got == 0 || all.len() as u64 >= total {
            assert_eq!(
                all.len() as u64,
                total,
                "{} {endpoint}: paging lost or repeated resources",
                tenant.name
            );
            return all;
        }
        start += got;
    }
}

/// The member ids of a group resource (an absent `members` is the empty set).
fn member_ids(group: &Value) -> BTreeSet<String> {
    group["members"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|m| m["value"].as_str().expect("member value").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn id_of(resource: &Value) -> String {
    resource["id"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_under_concurrent_clients_stay_isolated() {
    let server = Arc::new(TestServer::start().await);
    let (globex_base, globex_token) = server.add_tenant("globex").await;
    let tenants = [
        TenantEndpoint {
            name: "acme",
            base: server.base.clone(),
            token: server.token.clone(),
        },
        TenantEndpoint {
            name: "globex",
            base: globex_base,
            token: globex_token,
        },
    ];

    // 16 clients, interleaved across tenants so requests of both tenants overlap.
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..CLIENTS_PER_TENANT {
        for tenant in &tenants {
            tasks.spawn(run_client(server.clone(), tenant.clone(), client));
        }
    }
    let outcomes = tokio::time::timeout(OVERALL_TIMEOUT, async {
        let mut outcomes = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            outcomes.push(joined.expect("client task panicked"));
        }
        outcomes
    })
    .await
    .expect("the concurrent clients did not finish within 60 s");
    assert_eq!(outcomes.len(), 2 * CLIENTS_PER_TENANT);

    let mut by_tenant: BTreeMap<&str, Vec<&ClientOutcome>> = BTreeMap::new();
    for outcome in &outcomes {
        by_tenant.entry(outcome.tenant).or_default().push(outcome);
    }

    for tenant in &tenants {
        let mine = by_tenant.get(tenant.name).expect("outcomes for tenant");

        // Users: exactly this tenant's, by count, ids and names, and with this tenant's data.
        let users = list_all(&server, tenant, "/Users", "").await;
        assert_eq!(
            users.len(),
            CLIENTS_PER_TENANT * USERS_PER_CLIENT,
            "{} user count",
            tenant.name
        );
        let listed_ids: BTreeSet<String> = users.iter().map(id_of).collect();
        let expected_ids: BTreeSet<String> = mine
            .iter()
            .flat_map(|o| o.user_ids.iter().cloned())
            .collect();
        assert_eq!(listed_ids, expected_ids, "{} user ids", tenant.name);
        let listed_names: BTreeSet<String> = users
            .iter()
            .map(|u| u["userName"].as_str().expect("userName").to_owned())
            .collect();
        let expected_names: BTreeSet<String> = mine
            .iter()
            .flat_map(|o| o.user_names.iter().cloned())
            .collect();
        assert_eq!(listed_names, expected_names, "{} userNames", tenant.name);
        for user in &users {
            assert_eq!(
                user["title"],
                format!("title-{}", tenant.name),
                "{} user {user}",
                tenant.name
            );
        }

        // Groups: exactly this tenant's, with exactly the expected members.
        let groups = list_all(&server, tenant, "/Groups", "").await;
        assert_eq!(
            groups.len(),
            CLIENTS_PER_TENANT,
            "{} group count",
            tenant.name
        );
        let listed_groups: BTreeSet<(String, String)> = groups
            .iter()
            .map(|g| {
                (
                    id_of(g),
                    g["displayName"].as_str().expect("displayName").to_owned(),
                )
            })
            .collect();
        let expected_groups: BTreeSet<(String, String)> = mine
            .iter()
            .map(|o| (o.group_id.clone(), o.group_name.clone()))
            .collect();
        assert_eq!(listed_groups, expected_groups, "{} groups", tenant.name);
        for outcome in mine {
            let resp = server
                .call_as(
                    &tenant.base,
                    &tenant.token,
                    Method::GET,
                    &format!("/Groups/{}", outcome.group_id),
                    None,
                )
                .await;
            assert_eq!(resp.status.as_u16(), 200, "{}", resp.text);
            assert_eq!(
                member_ids(&resp.json()),
                outcome.expected_members,
                "{} {} members",
                tenant.name,
                outcome.group_name
            );
        }
    }

    // Cross-tenant access: the other tenant's ids do not exist here (404), and a token
    // only opens its own tenant (401).
    for (own, other) in [(&tenants[0], &tenants[1]), (&tenants[1], &tenants[0])] {
        let theirs = by_tenant.get(other.name).expect("other outcomes");
        let sample = theirs.first().expect("a client of the other tenant");
        for path in [
            format!("/Users/{}", sample.user_ids[0]),
            format!("/Groups/{}", sample.group_id),
        ] {
            let resp = server
                .call_as(&own.base, &own.token, Method::GET, &path, None)
                .await;
            resp.assert_scim_error(404, None);
            let resp = server
                .call_as(&other.base, &own.token, Method::GET, &path, None)
                .await;
            resp.assert_scim_error(401, None);
        }
        // Filters never reach across either: the shared userName matches only our own user.
        let shared_name = &sample.user_names[0];
        let filter = format!(
            "/Users?filter=userName%20eq%20%22{}%22",
            shared_name.replace('@', "%40")
        );
        let resp = server
            .call_as(&own.base, &own.token, Method::GET, &filter, None)
            .await;
        assert_eq!(resp.status.as_u16(), 200, "{}", resp.text);
        let body = resp.json();
        assert_eq!(
            body["totalResults"], 1,
            "{} filter {shared_name}: {body}",
            own.name
        );
        let found = id_of(&body["Resources"][0]);
        assert!(
            !sample.user_ids.contains(&found),
            "{} filter returned the other tenant's user",
            own.name
        );
    }
}
