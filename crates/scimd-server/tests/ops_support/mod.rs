//! Support for the ops tests: a server over loopback on a real database (the backend
//! `SCIMD_TEST_BACKEND` names, see `common/database.rs`), whose database can be taken
//! away to test readiness.
#![allow(dead_code)]

#[path = "../common/database.rs"]
pub mod database;

use database::{Backend, TestDatabase};
use scimd_store::Store;

use scimd_server::config::ServerConfig;
use scimd_server::state::AppState;
use scimd_server::tenants;
use scimd_store::sqlite::SqliteStore;
use std::sync::Arc;
use tokio::sync::oneshot;

pub struct OpsServer {
    pub origin: String,
    pub token: String,
    pub store: Arc<dyn Store>,
    /// SQLite: the same store, whose pools `lose_database` closes.
    sqlite: Option<Arc<SqliteStore>>,
    database: TestDatabase,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl OpsServer {
    /// Makes the database unreachable, as an outage would. SQLite: the store's
    /// connection pools are closed, so every query fails. PostgreSQL: the database
    /// refuses connections and the open ones are terminated.
    pub async fn lose_database(&self) {
        match &self.sqlite {
            Some(sqlite) => sqlite.close().await,
            None => self.database.refuse_connections().await,
        }
    }

    /// The database backend this server runs on.
    pub fn backend(&self) -> Backend {
        self.database.backend
    }

    pub async fn start() -> OpsServer {
        let database = TestDatabase::fresh().await;
        let (store, sqlite): (Arc<dyn Store>, _) = match (&database.backend, &database.target) {
            (Backend::Sqlite, scimd_store::connect::DatabaseTarget::Sqlite(path)) => {
                let sqlite = Arc::new(SqliteStore::open(path).await.unwrap());
                (sqlite.clone(), Some(sqlite))
            }
            _ => (database.connect().await, None),
        };
        let (_tenant, issued) = tenants::create_tenant_with_token(store.as_ref(), "acme", "Acme")
            .await
            .unwrap();
        let state = AppState::new(store.clone(), ServerConfig::default());
        let origin = serve_router(scimd_server::app(state)).await;
        OpsServer {
            origin: origin.0,
            token: issued.token,
            store,
            sqlite,
            database,
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
