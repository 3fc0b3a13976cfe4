//! Support for the admin API and OAuth tests: a real server on a real database
//! (`SCIMD_TEST_BACKEND`: a SQLite file, or PostgreSQL) over loopback, an admin key, and helpers that keep every response for the
//! secret-leak checks.
#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use scimd_server::admin::keys::create_admin_key;
use scimd_server::config::ServerConfig;
use scimd_server::state::AppState;
use scimd_store::Store;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

#[path = "../common/database.rs"]
mod database;

pub struct AdminServer {
    pub origin: String,
    pub admin_key: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    /// Every error response body received (status >= 400), for leak checks.
    pub error_bodies: Mutex<Vec<String>>,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: database::TestDatabase,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// Asserts an RFC 9457 problem with this status.
    pub fn assert_problem(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["type"], "about:blank");
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
    }
}

impl AdminServer {
    pub async fn start() -> AdminServer {
        Self::start_with(ServerConfig::default()).await
    }

    pub async fn start_with(config: ServerConfig) -> AdminServer {
        let dir = database::TestDatabase::fresh().await;
        let store: Arc<dyn Store> = dir.connect().await;
        let key = create_admin_key(store.as_ref(), "tests", time::OffsetDateTime::now_utc())
            .await
            .expect("admin key");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let state = AppState::new(store.clone(), config);
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = scimd_server::serve(listener, state, async move {
                let _ = rx.await;
            })
            .await;
        });
        AdminServer {
            origin,
            admin_key: key.key,
            store,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("client"),
            error_bodies: Mutex::new(Vec::new()),
            shutdown: Some(tx),
            _dir: dir,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        if !status.is_success() {
            self.error_bodies.lock().unwrap().push(text.clone());
        }
        Reply {
            status,
            headers,
            text,
        }
    }

    /// An admin API call with this server's admin key.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let key = self.admin_key.clone();
        self.admin_as(Some(&key), method, path, body).await
    }

    /// An admin API call with another key (or none).
    pub async fn admin_as(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}/admin/v1{path}", self.origin));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        self.send(req).await
    }

    /// GET /scim/v2/{tenant}/Users with a bearer token.
    pub async fn scim_users(&self, tenant: &str, token: &str) -> Reply {
        let req = self
            .client
            .get(format!("{}/scim/v2/{tenant}/Users", self.origin))
            .bearer_auth(token);
        self.send(req).await
    }

    /// POST /oauth/{tenant}/token with a form body and optional Basic credentials.
    pub async fn oauth_token(
        &self,
        tenant: &str,
        form: &str,
        basic: Option<(&str, &str)>,
    ) -> Reply {
        let mut req = self
            .client
            .post(format!("{}/oauth/{tenant}/token", self.origin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        self.send(req).await
    }

    /// GET /metrics text.
    pub async fn metrics(&self) -> String {
        let req = self.client.get(format!("{}/metrics", self.origin));
        self.send(req).await.text
    }

    /// Creates a tenant through the admin API; returns its first token.
    pub async fn create_tenant(&self, id: &str) -> String {
        let created = self
            .admin(
                Method::POST,
                "/tenants",
                Some(serde_json::json!({"id": id, "display_name": format!("Tenant {id}")})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        created.json()["token"].as_str().unwrap().to_owned()
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
