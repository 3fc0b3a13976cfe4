//! Server configuration: what the binary's flags, `SCIMD_*` variables and TOML file
//! end up as. Every limit is explicit here and documented in the README.

use serde::{Deserialize, Serialize};

/// Request limits. Each one produces a SCIM error with a clear detail when exceeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct Limits {
    /// Largest request body accepted, in bytes (413 beyond). Also the Bulk `maxPayloadSize`.
    pub max_body_bytes: usize,
    /// Largest body of a Group's POST, PUT or PATCH, in bytes (413 beyond); never less
    /// than `max_body_bytes`. A group's members travel whole in these: Okta's custom
    /// apps PUT a group with every member (~80 bytes each), so 1 MiB would refuse any
    /// group past about 13,000 members.
    pub max_group_body_bytes: usize,
    /// Longest `filter` accepted, in bytes (400 `invalidFilter` beyond).
    pub max_filter_length: usize,
    /// Deepest filter nesting accepted (400 `invalidFilter` beyond).
    pub max_filter_depth: usize,
    /// Most operations in one PATCH request (400 `tooMany` beyond).
    pub max_patch_operations: usize,
    /// Most operations in one Bulk request, the Bulk `maxOperations` (413 beyond).
    pub max_bulk_operations: usize,
    /// `count` used when a list request gives none.
    pub default_page_size: u64,
    /// Largest `count` honoured; larger values are lowered to it (RFC 7644 §3.4.2.4).
    pub max_page_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_group_body_bytes: 16 * 1024 * 1024,
            max_filter_length: 4096,
            max_filter_depth: 32,
            max_patch_operations: 1000,
            max_bulk_operations: 1000,
            default_page_size: 100,
            max_page_size: 1000,
        }
    }
}

impl Limits {
    /// The body limit of a Group's POST, PUT and PATCH: `max_group_body_bytes`, or
    /// `max_body_bytes` when that is larger.
    pub fn group_body_bytes(&self) -> usize {
        self.max_group_body_bytes.max(self.max_body_bytes)
    }

    /// The largest body any route accepts: what the provisioning log may read to
    /// record it, before the route's own limit applies.
    pub fn largest_body_bytes(&self) -> usize {
        self.group_body_bytes()
    }
}

/// Configuration of the HTTP service (the listener itself is the binary's business).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The externally visible base URL, e.g. `https://scim.example.com`, used in SCIM
    /// URLs, `Location` and `meta.location`. When `None`, it is derived from the
    /// request's `Host` header with the `http` scheme.
    pub public_url: Option<String>,
    /// Request limits.
    pub limits: Limits,
    /// The provisioning log's buffer and writer.
    pub provisioning_log: ProvisioningLogConfig,
    /// How long an OAuth access token lives (one hour; shorter in tests).
    pub oauth_access_token_lifetime: std::time::Duration,
}

/// The lifetime of OAuth access tokens: one hour, as Microsoft's gallery onboarding
/// expects of a client credentials grant.
pub const OAUTH_ACCESS_TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3600);

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            public_url: None,
            limits: Limits::default(),
            provisioning_log: ProvisioningLogConfig::default(),
            oauth_access_token_lifetime: OAUTH_ACCESS_TOKEN_LIFETIME,
        }
    }
}

/// How provisioning-log entries travel from the request path to the database.
///
/// Requests put entries into a bounded buffer without waiting; a writer task takes
/// them out in batches. When the buffer is full, entries are dropped and counted
/// (`scimd_provisioning_log_dropped_total`): a slow database must never slow SCIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningLogConfig {
    /// Entries the buffer holds (at least 1).
    pub buffer_capacity: usize,
    /// Most entries written in one transaction.
    pub batch_size: usize,
    /// Longest an entry waits in the buffer for its batch to fill.
    pub flush_interval: std::time::Duration,
}

impl Default for ProvisioningLogConfig {
    fn default() -> Self {
        ProvisioningLogConfig {
            buffer_capacity: 10_000,
            batch_size: 500,
            flush_interval: std::time::Duration::from_secs(1),
        }
    }
}
