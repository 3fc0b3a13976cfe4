//! Provisioning logs: every SCIM request recorded per tenant, so an admin can see what
//! an identity provider sent, what scimd answered and why a request failed.
//!
//! - [`middleware`]: builds one entry per SCIM request, after the response;
//! - [`buffer`]: the bounded, never-blocking buffer and the batching writer task;
//! - [`classify`]: which client sent a request (Entra, Okta, other);
//! - [`redact`]: bodies and query strings without passwords, tokens or secrets;
//! - [`retention`]: pruning each tenant's log by age and count;
//! - [`query`]: the admin-facing listing (JSON), shared by the admin API.
//!
//! What is never recorded: the `Authorization` header or any other header, bodies of
//! tenants that did not turn body logging on, and requests naming a tenant that does
//! not exist (nobody could read them, and a scanner would fill the log).

pub mod buffer;
pub mod classify;
pub mod middleware;
pub mod query;
pub mod redact;
pub mod retention;

pub use buffer::{start_writer, LogWriter, ProvisioningLog};
pub use middleware::record_scim_request;
pub use query::{list_logs_json, LogListParams};

/// Counter of entries dropped because the buffer was full (or the writer gone).
pub const DROPPED_TOTAL: &str = "scimd_provisioning_log_dropped_total";
/// Counter of entries lost because a batch could not be written.
pub const WRITE_FAILURES_TOTAL: &str = "scimd_provisioning_log_write_failures_total";
