//! # scimd-bench
//!
//! A SCIM load generator for loopback servers, built to compare scimd with other SCIM
//! servers on the same machine in the same run (issue 6):
//!
//! - [`target`]: the server under test; only loopback URLs are accepted;
//! - [`client`]: one keep-alive HTTP client shared by N concurrent workers;
//! - [`stats`]: per-operation latencies (exact percentiles from every sample);
//! - [`scenarios`]: `entra-cycle`, `mixed`, `big-group`, `import`, `get-by-id`;
//! - [`bare`]: a fixed-JSON axum endpoint on scimd's own stack, the machine's ceiling;
//! - [`floor`]: the same stack reading a user from SQLite with nothing else around it;
//! - [`startup`]: `scimd serve` start to first served request;
//! - [`tenants`]: many tenants on one server, created through scimd's admin API;
//! - [`rss`]: a process's peak resident memory;
//! - [`report`]: results as JSON and a markdown table with ratios and the targets;
//! - [`cpu_latency`]: a CPU latency request (Linux PM QoS) held for a whole run.
//!
//! Every scenario is bounded twice: by its planned operation count and by a wall-clock
//! cap, so a slow server can never make a run unbounded; a capped run says how much it
//! completed.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bare;
pub mod bodies;
pub mod client;
pub mod cpu_latency;
pub mod error;
pub mod floor;
pub mod load;
pub mod report;
pub mod result;
pub mod rss;
pub mod scenarios;
pub mod startup;
pub mod stats;
pub mod target;
pub mod tenants;

pub use error::BenchError;
