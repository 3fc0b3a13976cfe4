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
    /// Show a tenant's provisioning log (every SCIM request), newest first.
    Logs(LogsArgs),
    /// Manage admin keys for the /admin/v1 API.
    #[command(subcommand)]
    AdminKey(AdminKeyCommand),
    /// Manage a tenant's OAuth 2.0 clients (client credentials grant).
    #[command(subcommand)]
    OauthClient(OAuthClientCommand),
}

/// `scimd logs TENANT ...`
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Tenant id.
    pub tenant: String,
    /// Only failed requests (status 400 and above); same as --status errors.
    #[arg(long, conflicts_with = "status")]
    pub errors: bool,
    /// Only this status class: 2xx, 4xx, 5xx or errors.
    #[arg(long, value_name = "CLASS")]
    pub status: Option<String>,
    /// Only requests at or after this time: an age (1h, 30m, 7d) or RFC 3339.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only requests before this time: an age or RFC 3339.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only requests from this client: entra, okta or other.
    #[arg(long, value_name = "CLIENT")]
    pub client: Option<String>,
    /// Only requests about this resource id.
    #[arg(long, value_name = "ID")]
    pub resource: Option<String>,
    /// Entries per page [default: 50, at most 1000].
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// Print {"entries": [...], "next_cursor"} as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// Parses a log retention: whole days, written like a duration (`30d`, `2w`).
pub fn parse_retention_days(text: &str) -> Result<u32, String> {
    let duration = parse_duration(text)?;
    let seconds = duration.whole_seconds();
    if seconds % 86_400 != 0 {
        return Err(format!(
            "'{text}' is not a whole number of days; write e.g. 30d or 2w"
        ));
    }
    u32::try_from(seconds / 86_400)
        .ok()
        .filter(|days| (1..=3650).contains(days))
        .ok_or_else(|| format!("'{text}' must be between 1d and 3650d"))
}

/// `scimd serve` options.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Do not apply pending migrations on start (run `scimd migrate` as a deploy
    /// step instead).
    #[arg(long, env = "SCIMD_NO_MIGRATE")]
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
        /// Print {"id", "provisioning_enabled"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a tenant's settings; only the options given change.
    Update {
        /// Tenant id.
        name: String,
        /// The new human-readable name.
        #[arg(long)]
        display_name: Option<String>,
        /// Record (redacted) request and response bodies in the provisioning log.
        #[arg(long, value_enum, value_name = "on|off")]
        log_bodies: Option<OnOff>,
        /// Keep provisioning log entries this long, in days: e.g. 30d, 2w.
        #[arg(long, value_name = "DAYS", value_parser = parse_retention_days)]
        log_retention: Option<u32>,
        /// Keep at most this many provisioning log entries (the newest).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        log_max_entries: Option<u64>,
        /// Print the tenant as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Test the connection the way Entra's "Test Connection" does, and explain failures.
    Check {
        /// Tenant id.
        name: String,
        /// The tenant URL as pasted into the identity provider, e.g.
        /// https://scim.example.com/scim/v2/acme [default: the public URL or listen
        /// address + /scim/v2/TENANT].
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// The bearer token to test [default: a temporary token, revoked afterwards].
        #[arg(
            long,
            env = "SCIMD_CHECK_TOKEN",
            value_name = "TOKEN",
            hide_env_values = true
        )]
        token: Option<String>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a tenant with all its users, groups and tokens. Cannot be undone.
    Delete {
        /// Tenant id.
        name: String,
        /// The tenant id again, to confirm.
        #[arg(long, value_name = "NAME")]
        confirm: Option<String>,
        /// Print {"id", "deleted"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant.
    Get {
        /// Tenant id.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
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
        /// Also list OAuth access tokens.
        #[arg(long)]
        all: bool,
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
        /// Print {"id", "tenant", "revoked"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `scimd admin-key ...`
#[derive(Debug, Subcommand)]
pub enum AdminKeyCommand {
    /// Create an admin key for the /admin/v1 API (shown once).
    Create {
        /// A label, e.g. "provisioning-portal".
        #[arg(long, default_value = "cli")]
        name: String,
        /// Print {"id", "name", "key"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List admin keys (never their secrets).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an admin key now.
    Revoke {
        /// The key's id (the 8 characters after `scimdadm_`).
        key_id: String,
        /// Print {"id", "revoked"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `scimd oauth-client ...`
#[derive(Debug, Subcommand)]
pub enum OAuthClientCommand {
    /// Create an OAuth client for a tenant (its secret is shown once).
    Create {
        /// Tenant id.
        tenant: String,
        /// A label, e.g. "entra-gallery".
        #[arg(long, default_value = "oauth")]
        name: String,
        /// Print {"client_id", "client_secret", "token_endpoint", "scim_url"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's OAuth clients (never their secrets).
    List {
        /// Tenant id.
        tenant: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an OAuth client and every access token it obtained.
    Revoke {
        /// Tenant id.
        tenant: String,
        /// The client id.
        client_id: String,
        /// Print {"client_id", "tenant", "revoked"} as JSON.
        #[arg(long)]
        json: bool,
    },
}
