//! The state every handler receives. There is deliberately no "current tenant" in it:
//! the tenant comes from the request path and is passed explicitly to every store call.

use crate::config::ServerConfig;
use crate::provisioning_log::ProvisioningLog;
use crate::tokens::TokenUsage;
use scimd_protocol::SchemaRegistry;
use scimd_store::Store;
use std::sync::Arc;

/// Shared, immutable application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    registry: SchemaRegistry,
    config: ServerConfig,
    token_usage: TokenUsage,
    provisioning_log: ProvisioningLog,
}

impl AppState {
    /// Builds the state from a store and a configuration.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> Self {
        AppState {
            inner: Arc::new(Inner {
                store,
                registry: SchemaRegistry::with_core(),
                token_usage: TokenUsage::default(),
                provisioning_log: ProvisioningLog::new(&config.provisioning_log),
                config,
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The store, shared.
    pub fn store_arc(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    /// The schema registry.
    pub fn registry(&self) -> &SchemaRegistry {
        &self.inner.registry
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Last-used times of tokens, buffered for batch writes.
    pub fn token_usage(&self) -> &TokenUsage {
        &self.inner.token_usage
    }

    /// The provisioning log's buffer (entries are written by its writer task).
    pub fn provisioning_log(&self) -> &ProvisioningLog {
        &self.inner.provisioning_log
    }
}
