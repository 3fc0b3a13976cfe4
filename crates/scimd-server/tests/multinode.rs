//! Several scimd nodes on one database (issue 5): three in-process servers, each with
//! its own `AppState` and its own connection pool (as three processes would have), on
//! three loopback ports, with requests spread round-robin. Nothing is shared between
//! the nodes but the database, so whatever holds here holds because the database
//! enforces it.
//!
//! Each scenario runs on PostgreSQL (a fresh database on `SCIMD_TEST_POSTGRES_URL`)
//! and on one shared SQLite file (three stores, each with its own writer connection:
//! every write is `BEGIN IMMEDIATE`, so that too is a valid multi-node setup).

mod common;

use common::database::{Backend, TestDatabase};
use common::{spawn_server, Response};
use reqwest::Method;
use scimd_server::config::ServerConfig;
use scimd_server::tenants;
use scimd_store::Store;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::oneshot;

const NODES: usize = 3;
const TENANT: &str = "acme";
const SCIM_JSON: &str = "application/scim+json";

/// One scimd "process": its own store (pool) and server.
struct Node {
    origin: String,
    store: Arc<dyn Store>,
    _shutdown: oneshot::Sender<()>,
}

struct Cluster {
    nodes: Vec<Node>,
    token: String,
    client: reqwest::Client,
    _database: TestDatabase,
}

impl Cluster {
    async fn start(backend: Backend) -> Cluster {
        let database = TestDatabase::fresh_on(backend).await;
        let mut nodes = Vec::new();
        for _ in 0..NODES {
            let store = database.connect().await;
            let (origin, shutdown) = spawn_server(store.clone(), ServerConfig::default()).await;
            nodes.push(Node {
                origin,
                store,
                _shutdown: shutdown,
            });
        }
        let (_tenant, issued) =
            tenants::create_tenant_with_token(nodes[0].store.as_ref(), TENANT, "Acme")
                .await
                .expect("create tenant");
        Cluster {
            nodes,
            token: issued.token,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("client"),
            _database: database,
        }
    }

    /// The tenant's SCIM base URL on node `n % NODES` (round-robin by request number).
    fn base(&self, n: usize) -> String {
        format!("{}/scim/v2/{TENANT}", self.nodes[n % NODES].origin)
    }

    async fn call(
        &self,
        n: usize,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Response {
        self.call_with_token(n, &self.token, method, path, headers, body)
            .await
    }

    async fn call_with_token(
        &self,
        n: usize,
        token: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base(n)))
            .bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", SCIM_JSON)
                .body(body.to_string());
        }
        Response::read(request.send().await.expect("request")).await
    }

    async fn create_user(&self, n: usize, user_name: &str) -> Value {
        let r = self
            .call(
                n,
                Method::POST,
                "/Users",
                &[],
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name,
                })),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
        r.json()
    }
}

// ---- 32 concurrent creates of one userName: one 201, 31 x 409 -------------------

async fn racing_creates_of_one_user_name_store_exactly_one(backend: Backend) {
    const CLIENTS: usize = 32;
    let cluster = Arc::new(Cluster::start(backend).await);
    let start = Arc::new(tokio::sync::Barrier::new(CLIENTS));
    let mut clients = Vec::new();
    for n in 0..CLIENTS {
        let cluster = cluster.clone();
        let start = start.clone();
        clients.push(tokio::spawn(async move {
            start.wait().await;
            // The same name, spelt differently: uniqueness is case-insensitive.
            let user_name = if n % 2 == 0 {
                "racer@example.com"
            } else {
                "Racer@Example.com"
            };
            cluster
                .call(
                    n,
                    Method::POST,
                    "/Users",
                    &[],
                    Some(json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": user_name,
                    })),
                )
                .await
        }));
    }
    let mut created = 0;
    for client in clients {
        let r = client.await.expect("client task");
        if r.status.as_u16() == 201 {
            created += 1;
        } else {
            r.assert_scim_error(409, Some("uniqueness"));
        }
    }
    assert_eq!(created, 1, "exactly one create wins");
    for n in 0..NODES {
        let r = cluster
            .call(
                n,
                Method::GET,
                "/Users?filter=userName%20eq%20%22racer%40example.com%22",
                &[],
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        assert_eq!(r.json()["totalResults"], 1, "node {n}: {}", r.text);
    }
    let r = cluster.call(0, Method::GET, "/Users", &[], None).await;
    assert_eq!(r.json()["totalResults"], 1, "one stored user: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_user_name_store_exactly_one_on_postgres() {
    racing_creates_of_one_user_name_store_exactly_one(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_of_one_user_name_store_exactly_one_on_shared_sqlite() {
    racing_creates_of_one_user_name_store_exactly_one(Backend::Sqlite).await;
}

// ---- 16 clients changing one group's members through different nodes ------------

async fn concurrent_member_changes_end_in_the_expected_set(backend: Backend) {
    const CLIENTS: usize = 16;
    const USERS_PER_CLIENT: usize = 4;
    // Each client adds its users one PATCH at a time, then removes the first two:
    // the final membership is every client's last two users.
    const REMOVED_PER_CLIENT: usize = 2;
    let cluster = Arc::new(Cluster::start(backend).await);
    let mut users: Vec<Vec<String>> = Vec::new();
    for client in 0..CLIENTS {
        let mut own = Vec::new();
        for k in 0..USERS_PER_CLIENT {
            let user = cluster
                .create_user(client * USERS_PER_CLIENT + k, &format!("m{client}-{k}"))
                .await;
            own.push(user["id"].as_str().expect("id").to_owned());
        }
        users.push(own);
    }
    let r = cluster
        .call(
            1,
            Method::POST,
            "/Groups",
            &[],
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Contended",
            })),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let group_path = format!("/Groups/{}", r.json()["id"].as_str().expect("group id"));

    let start = Arc::new(tokio::sync::Barrier::new(CLIENTS));
    let mut clients = Vec::new();
    for (client, own) in users.iter().cloned().enumerate() {
        let cluster = cluster.clone();
        let start = start.clone();
        let group_path = group_path.clone();
        clients.push(tokio::spawn(async move {
            start.wait().await;
            let mut request = client;
            let mut patch = |op: &'static str, id: &str| {
                request += 1;
                let body = if op == "add" {
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                           "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]})
                } else {
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                           "Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]})
                };
                (request, body)
            };
            let mut statuses = Vec::new();
            let steps: Vec<(&'static str, String)> = own
                .iter()
                .map(|id| ("add", id.clone()))
                .chain(
                    own.iter()
                        .take(REMOVED_PER_CLIENT)
                        .map(|id| ("remove", id.clone())),
                )
                .collect();
            for (op, id) in steps {
                let (node, body) = patch(op, &id);
                let r = cluster
                    .call(node, Method::PATCH, &group_path, &[], Some(body))
                    .await;
                statuses.push((op, r.status.as_u16(), r.text));
            }
            statuses
        }));
    }
    for client in clients {
        for (op, status, text) in client.await.expect("client task") {
            assert!(
                status == 204 || status == 200,
                "{op} answered {status}: {text}"
            );
        }
    }

    let expected: BTreeSet<String> = users
        .iter()
        .flat_map(|own| own.iter().skip(REMOVED_PER_CLIENT).cloned())
        .collect();
    assert_eq!(
        expected.len(),
        CLIENTS * (USERS_PER_CLIENT - REMOVED_PER_CLIENT)
    );
    for n in 0..NODES {
        let r = cluster.call(n, Method::GET, &group_path, &[], None).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        let members: BTreeSet<String> = r.json()["members"]
            .as_array()
            .map(|members| {
                members
                    .iter()
                    .filter_map(|m| m["value"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(members, expected, "node {n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_changes_end_in_the_expected_set_on_postgres() {
    concurrent_member_changes_end_in_the_expected_set(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_changes_end_in_the_expected_set_on_shared_sqlite() {
    concurrent_member_changes_end_in_the_expected_set(Backend::Sqlite).await;
}

// ---- RFC 7644 §3.14: a stale If-Match is 412 whichever node answers ---------------

async fn stale_versions_are_412_on_every_node(backend: Backend) {
    let cluster = Cluster::start(backend).await;
    let user = cluster.create_user(0, "versioned").await;
    let path = format!("/Users/{}", user["id"].as_str().expect("id"));
    let stale = user["meta"]["version"]
        .as_str()
        .expect("version")
        .to_owned();

    // Node 1 changes the user: the version node 0 handed out is now stale.
    let replace = |value: &str| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "replace", "path": "displayName", "value": value}]})
    };
    let r = cluster
        .call(
            1,
            Method::PATCH,
            &path,
            &[("if-match", &stale)],
            Some(replace("First")),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let current = r
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("etag")
        .to_owned();
    assert_ne!(current, stale);

    for n in 0..NODES {
        let r = cluster
            .call(
                n,
                Method::PATCH,
                &path,
                &[("if-match", &stale)],
                Some(replace("Lost")),
            )
            .await;
        r.assert_scim_error(412, None);
        let r = cluster
            .call(
                n,
                Method::PUT,
                &path,
                &[("if-match", &stale)],
                Some(
                    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": "versioned", "displayName": "Lost"}),
                ),
            )
            .await;
        r.assert_scim_error(412, None);
        let r = cluster
            .call(n, Method::DELETE, &path, &[("if-match", &stale)], None)
            .await;
        r.assert_scim_error(412, None);
    }
    // Nothing stale got through, and the current version still works on another node.
    let r = cluster.call(2, Method::GET, &path, &[], None).await;
    assert_eq!(r.json()["displayName"], "First", "{}", r.text);
    let r = cluster
        .call(
            2,
            Method::PATCH,
            &path,
            &[("if-match", &current)],
            Some(replace("Second")),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
}

#[tokio::test]
async fn stale_versions_are_412_on_every_node_on_postgres() {
    stale_versions_are_412_on_every_node(Backend::Postgres).await;
}

#[tokio::test]
async fn stale_versions_are_412_on_every_node_on_shared_sqlite() {
    stale_versions_are_412_on_every_node(Backend::Sqlite).await;
}

// ---- a token revoked through one node is refused by every node -------------------

async fn a_token_revoked_through_one_node_is_refused_by_all(backend: Backend) {
    let cluster = Cluster::start(backend).await;
    // Issued and revoked through node 0's store, as `scimd token ...` does.
    let admin = cluster.nodes[0].store.as_ref();
    let issued = tenants::create_token(admin, TENANT, "doomed", None)
        .await
        .expect("create token");
    for n in 0..NODES {
        let r = cluster
            .call_with_token(n, &issued.token, Method::GET, "/Users", &[], None)
            .await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "node {n} before revocation: {}",
            r.text
        );
    }
    let revoked = admin
        .revoke_token(TENANT, &issued.record.id, time::OffsetDateTime::now_utc())
        .await
        .expect("revoke");
    assert!(revoked);
    for n in [1, 2, 0] {
        let mut r = cluster
            .call_with_token(n, &issued.token, Method::GET, "/Users", &[], None)
            .await;
        // On PostgreSQL every node reads the token on every request. On SQLite a node
        // keeps tokens in memory and sees another node's change within its epoch poll
        // (20 ms; the store's credential cache), the node that made it at once. The
        // seconds are a safety net, not the promise.
        if backend == Backend::Sqlite && n != 0 {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while r.status.as_u16() != 401 && std::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                r = cluster
                    .call_with_token(n, &issued.token, Method::GET, "/Users", &[], None)
                    .await;
            }
        }
        r.assert_scim_error(401, None);
    }
    // The tenant's other token is untouched on every node.
    for n in 0..NODES {
        let r = cluster.call(n, Method::GET, "/Users", &[], None).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    }
}

#[tokio::test]
async fn a_token_revoked_through_one_node_is_refused_by_all_on_postgres() {
    a_token_revoked_through_one_node_is_refused_by_all(Backend::Postgres).await;
}

#[tokio::test]
async fn a_token_revoked_through_one_node_is_refused_by_all_on_shared_sqlite() {
    a_token_revoked_through_one_node_is_refused_by_all(Backend::Sqlite).await;
}
