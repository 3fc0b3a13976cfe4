//! Support for the ops tests: a server over loopback on an in-memory store whose
//! health can be switched off, so readiness can be tested both ways without depending
//! on a particular database backend.
#![allow(dead_code)]

use async_trait::async_trait;
use scimd_protocol::{ResourceKind, SchemaRegistry};
use scimd_server::config::ServerConfig;
use scimd_server::state::AppState;
use scimd_server::tenants;
use scimd_store::{
    Fetch, ListPage, ListQuery, NewResource, NewTenant, Store, StoreError, StoreResult,
    StoredResource, Tenant, TenantUpdate, TokenRecord, UpdateFn,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::sync::oneshot;

/// Tenants and tokens in memory; resources are out of scope for ops tests and answer
/// a database error. `healthy` drives `ping`.
#[derive(Default)]
pub struct MemoryStore {
    pub unhealthy: AtomicBool,
    tenants: Mutex<Vec<Tenant>>,
    tokens: Mutex<Vec<TokenRecord>>,
}

fn no_resources() -> StoreError {
    StoreError::Database("the ops test store holds no resources".into())
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        if self.unhealthy.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("switched off by the test".into()))
        } else {
            Ok(())
        }
    }
    async fn create_tenant(&self, new: &NewTenant) -> StoreResult<Tenant> {
        let now = OffsetDateTime::now_utc();
        let tenant = Tenant {
            id: new.id.clone(),
            display_name: new.display_name.clone(),
            provisioning_enabled: new.provisioning_enabled,
            created: now,
            updated: now,
        };
        self.tenants.lock().unwrap().push(tenant.clone());
        Ok(tenant)
    }
    async fn get_tenant(&self, id: &str) -> StoreResult<Option<Tenant>> {
        Ok(self
            .tenants
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.id == id)
            .cloned())
    }
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        Ok(self.tenants.lock().unwrap().clone())
    }
    async fn update_tenant(&self, _id: &str, _update: &TenantUpdate) -> StoreResult<Tenant> {
        Err(StoreError::Database("not needed by ops tests".into()))
    }
    async fn delete_tenant(&self, _id: &str) -> StoreResult<bool> {
        Err(StoreError::Database("not needed by ops tests".into()))
    }
    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()> {
        self.tokens.lock().unwrap().push(token.clone());
        Ok(())
    }
    async fn get_token(&self, token_id: &str) -> StoreResult<Option<TokenRecord>> {
        Ok(self
            .tokens
            .lock()
            .unwrap()
            .iter()
            .find(|t| t.id == token_id)
            .cloned())
    }
    async fn list_tokens(&self, tenant: &str) -> StoreResult<Vec<TokenRecord>> {
        let tokens = self.tokens.lock().unwrap();
        Ok(tokens
            .iter()
            .filter(|t| t.tenant_id == tenant)
            .cloned()
            .collect())
    }
    async fn revoke_token(&self, tenant: &str, id: &str, at: OffsetDateTime) -> StoreResult<bool> {
        let mut tokens = self.tokens.lock().unwrap();
        let found = tokens
            .iter_mut()
            .find(|t| t.tenant_id == tenant && t.id == id);
        Ok(found.map(|t| t.revoked = Some(at)).is_some())
    }
    async fn touch_tokens(&self, _used: &[(String, OffsetDateTime)]) -> StoreResult<()> {
        Ok(())
    }
    async fn create(
        &self,
        _tenant: &str,
        _kind: ResourceKind,
        _new: NewResource,
        _fetch: Fetch,
    ) -> StoreResult<StoredResource> {
        Err(no_resources())
    }
    async fn get(
        &self,
        _tenant: &str,
        _kind: ResourceKind,
        _id: &str,
        _fetch: Fetch,
    ) -> StoreResult<Option<StoredResource>> {
        Err(no_resources())
    }
    async fn update(
        &self,
        _tenant: &str,
        _kind: ResourceKind,
        _id: &str,
        _if_match: Option<u64>,
        _change: UpdateFn,
        _fetch: Fetch,
    ) -> StoreResult<StoredResource> {
        Err(no_resources())
    }
    async fn delete(
        &self,
        _tenant: &str,
        _kind: ResourceKind,
        _id: &str,
        _if_match: Option<u64>,
    ) -> StoreResult<()> {
        Err(no_resources())
    }
    async fn list(
        &self,
        _tenant: &str,
        _kind: ResourceKind,
        _registry: &SchemaRegistry,
        _query: &ListQuery<'_>,
    ) -> StoreResult<ListPage> {
        Err(no_resources())
    }
}

/// A server on loopback with tenant `acme` and its token.
pub struct OpsServer {
    pub origin: String,
    pub token: String,
    pub store: Arc<MemoryStore>,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl OpsServer {
    pub async fn start() -> OpsServer {
        let store = Arc::new(MemoryStore::default());
        let (_tenant, issued) = tenants::create_tenant_with_token(store.as_ref(), "acme", "Acme")
            .await
            .unwrap();
        let state = AppState::new(store.clone(), ServerConfig::default());
        let origin = serve_router(scimd_server::app(state)).await;
        OpsServer {
            origin: origin.0,
            token: issued.token,
            store,
            client: reqwest::Client::new(),
            shutdown: Some(origin.1),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.origin))
            .send()
            .await
            .unwrap()
    }
}

impl Drop for OpsServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves any router on loopback; returns its origin and a shutdown trigger.
pub async fn serve_router(router: axum::Router) -> (String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    (origin, tx)
}

/// The Prometheus sample lines of a metric (no comments).
pub fn samples<'a>(text: &'a str, metric: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| line.starts_with(metric))
        .collect()
}
