//! The command line, as clap sees it. Settings shared by every command are global
//! flags (also `SCIMD_*` variables); none has a clap default, so that a TOML file can
//! sit between the environment and the built-in defaults (see [`crate::config`]).

use crate::duration::parse_duration;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// scimd: a multi-tenant SCIM 2.0 service provider for Entra ID and Okta.
#[derive(Debug, Parser)]
#[command(name = "scimd", version, about, propagate_version = true)]
pub struct Cli {
    /// Settings shared by every command.
    #[command(
        flatten,
        next_help_heading = "Settings (flag > SCIMD_* variable > --config file > default)"
    )]
    pub settings: SettingsArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Settings from flags and environment; unset ones come from the file or defaults.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsArgs {
    /// TOML configuration file (flags and environment override it).
    #[arg(long, global = true, env = "SCIMD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding the database (scimd.db) [default: ./scimd-data].
    #[arg(long, global = true, env = "SCIMD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "SCIMD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Externally visible base URL, e.g. https://scim.example.com (behind a proxy).
    #[arg(long, global = true, env = "SCIMD_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Log format on stderr [default: human].
    #[arg(long, global = true, env = "SCIMD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log level or tracing filter, e.g. `info` or `scimd_server=debug,info` [default: info].
    #[arg(long, global = true, env = "SCIMD_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Whether externalId must be unique per tenant and resource type [default: true].
    #[arg(
        long,
        global = true,
        env = "SCIMD_UNIQUE_EXTERNAL_ID",
        value_name = "BOOL"
    )]
    pub unique_external_id: Option<bool>,
    /// Database: postgres://user:pass@host/db, sqlite:///path or a file path
    /// [default: scimd.db in the data directory].
    #[arg(long, global = true, env = "SCIMD_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Most connections this process opens to PostgreSQL [default: 10].
    #[arg(
        long,
        global = true,
        env = "SCIMD_DB_MAX_CONNECTIONS",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub db_max_connections: Option<u32>,
    /// How long a request waits for a free connection before it gets 503, e.g. 5s [default: 5s].
    #[arg(long, global = true, env = "SCIMD_DB_ACQUIRE_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    pub db_acquire_timeout: Option<time::Duration>,
    /// Longest a single SQL statement may run (PostgreSQL), e.g. 30s [default: 30s].
    #[arg(long, global = true, env = "SCIMD_DB_STATEMENT_TIMEOUT", value_name = "DURATION", value_parser = parse_duration)]
    pub db_statement_timeout: Option<time::Duration>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per event, with the request span's fields.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve SCIM; on first start, create tenant `default` and print its URL and token.
    Serve(ServeArgs),
    /// Apply pending database migrations and print which were applied.
    Migrate {
        /// Print {"applied": [versions]} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage tenants (one per customer, each with its own SCIM URL).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage a tenant's bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `scimd serve` options.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Do not apply pending migrations on start (run `scimd migrate` as a deploy
    /// step instead).
    #[arg(long)]
    pub no_migrate: bool,
}

/// `scimd tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant with provisioning enabled and its first token.
    Create {
        /// Tenant id: 1-63 of a-z, 0-9 and '-' (part of the SCIM URL).
        name: String,
        /// Human-readable name [default: the id].
        #[arg(long)]
        display_name: Option<String>,
        /// Print {"id", "scim_url", "token"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn provisioning on and issue a new token (shown once).
    Enable {
        /// Tenant id.
        name: String,
        /// Print {"id", "scim_url", "token"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn provisioning off: SCIM requests get 403; data and tokens are kept.
    Disable {
        /// Tenant id.
        name: String,
    },
    /// Delete a tenant with all its users, groups and tokens. Cannot be undone.
    Delete {
        /// Tenant id.
        name: String,
        /// The tenant id again, to confirm.
        #[arg(long, value_name = "NAME")]
        confirm: Option<String>,
    },
}

/// `scimd token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token (shown once).
    Create {
        /// Tenant id.
        tenant: String,
        /// A label for the token, e.g. "entra" or "okta-2025".
        #[arg(long, default_value = "cli")]
        name: String,
        /// Lifetime, e.g. 90d, 12h, 30m, 2w [default: never expires].
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<time::Duration>,
        /// Print {"id", "tenant", "token", "expires"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's tokens (never their secrets).
    List {
        /// Tenant id.
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rotate without downtime: create a new token, and revoke every other usable token
    /// of the tenant after a grace period (at once without --grace).
    Rotate {
        /// Tenant id.
        tenant: String,
        /// A label for the new token.
        #[arg(long, default_value = "rotated")]
        name: String,
        /// How long the old tokens keep working, e.g. 24h [default: 0, revoke now].
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        grace: Option<time::Duration>,
        /// Lifetime of the new token, e.g. 90d [default: never expires].
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires_in: Option<time::Duration>,
        /// Print {"id", "tenant", "token", "expires", "revokes": [{"id", "at"}]} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token now; the next request using it is refused.
    Revoke {
        /// Tenant id.
        tenant: String,
        /// The token's id (the 8 characters after `scimd_`, as in `token list`).
        token_id: String,
    },
}
