//! Test support: a real scimd on a real database, served over loopback HTTP.
//!
//! The backend comes from `SCIMD_TEST_BACKEND`: `sqlite` (the default: a fresh file
//! in a temporary directory) or `postgres` (a fresh database on the cluster named by
//! `SCIMD_TEST_POSTGRES_URL`, which `scripts/test` starts). Every test in this
//! directory runs unchanged on either.
#![allow(dead_code)]

pub mod database;

use reqwest::{Method, StatusCode};
use scimd_server::config::ServerConfig;
use scimd_server::state::AppState;
use scimd_server::tenants;
use scimd_store::Store;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A running server with one tenant and its token.
pub struct TestServer {
    /// e.g. `http://127.0.0.1:41234`
    pub origin: String,
    /// The tenant's SCIM base URL, e.g. `http://127.0.0.1:41234/scim/v2/acme`.
    pub base: String,
    /// The tenant id.
    pub tenant: String,
    /// A valid bearer token for the tenant.
    pub token: String,
    /// The store behind the server, for direct inspection.
    pub store: Arc<dyn Store>,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The database behind the store (to open more connections to it).
    pub database: database::TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with default configuration and a tenant `acme`.
    pub async fn start() -> TestServer {
        Self::start_with(ServerConfig::default()).await
    }

    /// Starts a server with this configuration and a tenant `acme`.
    pub async fn start_with(config: ServerConfig) -> TestServer {
        let database = database::TestDatabase::fresh().await;
        let store = database.connect().await;
        let (_tenant, issued) = tenants::create_tenant_with_token(store.as_ref(), "acme", "Acme")
            .await
            .expect("create tenant");
        let (origin, tx) = spawn_server(store.clone(), config).await;
        TestServer {
            base: format!("{origin}/scim/v2/acme"),
            origin,
            tenant: "acme".into(),
            token: issued.token,
            store,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("client"),
            shutdown: Some(tx),
            database,
        }
    }

    /// Creates another tenant and returns (base URL, token).
    pub async fn add_tenant(&self, id: &str) -> (String, String) {
        let (_t, issued) = tenants::create_tenant_with_token(self.store.as_ref(), id, id)
            .await
            .expect("create tenant");
        (format!("{}/scim/v2/{id}", self.origin), issued.token)
    }

    /// Sends a request with the tenant's token to `base + path`, with an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.call_as(&self.base, &self.token, method, path, body)
            .await
    }

    /// Sends a request to another base URL with another token.
    pub async fn call_as(
        &self,
        base: &str,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        Response::from(req.send().await.expect("request")).await
    }
}

/// Serves `store` on a free loopback port until the returned sender is used or
/// dropped; returns the origin (`http://127.0.0.1:PORT`).
pub async fn spawn_server(
    store: Arc<dyn Store>,
    config: ServerConfig,
) -> (String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let state = AppState::new(store, config);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = scimd_server::serve(listener, state, async move {
            let _ = rx.await;
        })
        .await;
    });
    (format!("http://{addr}"), tx)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A response read whole.
pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Response {
    /// Reads a response whole.
    pub async fn read(resp: reqwest::Response) -> Response {
        Self::from(resp).await
    }

    async fn from(resp: reqwest::Response) -> Response {
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        Response {
            status,
            headers,
            text,
        }
    }

    /// The body as JSON (panics with the body text if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The Content-Type header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts this is a SCIM error with the status and (optional) scimType.
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert!(
            self.content_type().starts_with("application/scim+json"),
            "content-type {:?}",
            self.content_type()
        );
        let body = self.json();
        assert_eq!(
            body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(body["status"], status.to_string());
        match scim_type {
            Some(t) => assert_eq!(body["scimType"], t, "body: {}", self.text),
            None => assert!(body.get("scimType").is_none(), "body: {}", self.text),
        }
    }
}
