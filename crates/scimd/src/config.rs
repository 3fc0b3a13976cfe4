//! Resolving settings: flags, then `SCIMD_*` variables (both through clap), then the
//! TOML file, then defaults.
//!
//! The file may hold every setting plus a `[limits]` table (see
//! `scimd_server::config::Limits`). Unknown keys are errors, so a typo is reported
//! instead of silently ignored. A relative `data_dir` is relative to the working
//! directory, like the flag.

use crate::cli::{LogFormat, SettingsArgs};
use crate::duration::parse_duration;
use crate::error::CliError;
use crate::store::{redact_password, redact_secret_in};
use scimd_server::config::{Limits, ProvisioningLogConfig, ServerConfig};
use scimd_store::connect::DatabaseTarget;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Listen address when none is configured: loopback only, safe by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Data directory when none is configured.
pub const DEFAULT_DATA_DIR: &str = "./scimd-data";
/// Log filter when none is configured.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "scimd.db";

/// The TOML configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    log_format: Option<LogFormat>,
    log_level: Option<String>,
    unique_external_id: Option<bool>,
    limits: Option<toml::Table>,
    database_url: Option<String>,
    db_max_connections: Option<u32>,
    db_acquire_timeout: Option<String>,
    db_statement_timeout: Option<String>,
    provisioning_log: Option<ProvisioningLogFile>,
}

/// The file's `[provisioning_log]` table: how request logs are buffered before they
/// are written (unset keys keep the defaults of [`ProvisioningLogConfig`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvisioningLogFile {
    buffer_capacity: Option<usize>,
    batch_size: Option<usize>,
    flush_interval: Option<String>,
}

/// Bounds on `[provisioning_log]`: a buffer must hold something, and a batch larger
/// than this makes one transaction hold the SQLite write lock too long.
const MAX_LOG_BATCH_SIZE: usize = 10_000;
const MAX_LOG_BUFFER_CAPACITY: usize = 10_000_000;

/// Every setting, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where `serve` listens.
    pub listen: SocketAddr,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The externally visible base URL, without a trailing `/`.
    pub public_url: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter; `None` when nothing set it (commands choose their own default).
    pub log_level: Option<String>,
    /// Request limits.
    pub limits: Limits,
    /// Whether `externalId` is unique per tenant and resource type (default true).
    pub unique_external_id: bool,
    /// Which database, and how to use it.
    pub database: DatabaseSettings,
    /// How provisioning-log entries are buffered and written.
    pub provisioning_log: ProvisioningLogConfig,
}

/// The database settings; unset pool settings take the store's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatabaseSettings {
    /// `--database`: a PostgreSQL URL, `sqlite:///path` or a path; `None` means
    /// `scimd.db` in the data directory.
    pub url: Option<String>,
    /// Most connections in the pool.
    pub max_connections: Option<u32>,
    /// How long a request waits for a connection.
    pub acquire_timeout: Option<std::time::Duration>,
    /// Longest a statement may run.
    pub statement_timeout: Option<std::time::Duration>,
}

impl Settings {
    /// Resolves settings from flags/environment and the file they (or nothing) name.
    pub fn resolve(args: &SettingsArgs) -> Result<Settings, CliError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let database = resolve_database(args, &file)?;
        let listen = match args.listen.or(file.listen) {
            Some(addr) => addr,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|e| CliError::Config(format!("default listen address: {e}")))?,
        };
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .map(|url| validate_public_url(&url))
            .transpose()?;
        let limits = match file.limits {
            Some(table) => parse_limits(table)?,
            None => Limits::default(),
        };
        let provisioning_log = resolve_provisioning_log(file.provisioning_log.unwrap_or_default())?;
        Ok(Settings {
            provisioning_log,
            database,
            listen,
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            public_url,
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            log_level: args.log_level.clone().or(file.log_level),
            limits,
            unique_external_id: args
                .unique_external_id
                .or(file.unique_external_id)
                .unwrap_or(true),
        })
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// The database to use: `--database`, else `scimd.db` in the data directory.
    pub fn database_target(&self) -> Result<DatabaseTarget, CliError> {
        match &self.database.url {
            Some(url) => DatabaseTarget::parse(url).map_err(|e| {
                CliError::Config(format!(
                    "database '{}': {}",
                    redact_password(url),
                    redact_secret_in(&e.to_string(), url)
                ))
            }),
            None => Ok(DatabaseTarget::Sqlite(self.database_path())),
        }
    }

    /// The database as it may be shown in logs and messages: never with a password.
    pub fn database_display(&self) -> String {
        match &self.database.url {
            Some(url) => redact_password(url),
            None => self.database_path().display().to_string(),
        }
    }

    /// The base URL clients use: the public URL, else `http://` + the listen address
    /// (`bound` when the server knows the real one, e.g. after binding port 0).
    pub fn base_url(&self, bound: Option<SocketAddr>) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", bound.unwrap_or(self.listen)),
        }
    }

    /// What the HTTP service needs.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            public_url: self.public_url.clone(),
            limits: self.limits.clone(),
            provisioning_log: self.provisioning_log.clone(),
            ..ServerConfig::default()
        }
    }
}

/// The database settings: flag or `SCIMD_*` variable, else the file. The URL is
/// checked here so a typo fails before anything starts; errors never show its
/// password.
fn resolve_database(args: &SettingsArgs, file: &FileConfig) -> Result<DatabaseSettings, CliError> {
    let url = args.database.clone().or_else(|| file.database_url.clone());
    if let Some(url) = &url {
        DatabaseTarget::parse(url).map_err(|e| {
            CliError::Config(format!(
                "database '{}': {}",
                redact_password(url),
                redact_secret_in(&e.to_string(), url)
            ))
        })?;
    }
    let max_connections = args.db_max_connections.or(file.db_max_connections);
    if max_connections == Some(0) {
        return Err(CliError::Config(
            "db_max_connections must be at least 1".into(),
        ));
    }
    let file_duration = |key: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(|text| parse_duration(text).map_err(|e| CliError::Config(format!("{key}: {e}"))))
            .transpose()
    };
    let acquire = match args.db_acquire_timeout {
        Some(d) => Some(d),
        None => file_duration("db_acquire_timeout", &file.db_acquire_timeout)?,
    };
    let statement = match args.db_statement_timeout {
        Some(d) => Some(d),
        None => file_duration("db_statement_timeout", &file.db_statement_timeout)?,
    };
    Ok(DatabaseSettings {
        url,
        max_connections,
        acquire_timeout: acquire.map(to_std_duration).transpose()?,
        statement_timeout: statement.map(to_std_duration).transpose()?,
    })
}

/// The `[provisioning_log]` table over the defaults, each value checked.
fn resolve_provisioning_log(file: ProvisioningLogFile) -> Result<ProvisioningLogConfig, CliError> {
    let mut config = ProvisioningLogConfig::default();
    if let Some(capacity) = file.buffer_capacity {
        if !(1..=MAX_LOG_BUFFER_CAPACITY).contains(&capacity) {
            return Err(CliError::Config(format!(
                "provisioning_log.buffer_capacity must be between 1 and {MAX_LOG_BUFFER_CAPACITY}"
            )));
        }
        config.buffer_capacity = capacity;
    }
    if let Some(batch) = file.batch_size {
        if !(1..=MAX_LOG_BATCH_SIZE).contains(&batch) {
            return Err(CliError::Config(format!(
                "provisioning_log.batch_size must be between 1 and {MAX_LOG_BATCH_SIZE}"
            )));
        }
        config.batch_size = batch;
    }
    if let Some(text) = &file.flush_interval {
        let interval = parse_duration(text)
            .map_err(|e| CliError::Config(format!("provisioning_log.flush_interval: {e}")))?;
        config.flush_interval = to_std_duration(interval)?;
    }
    Ok(config)
}

/// `parse_duration` only yields positive durations, so this conversion holds.
fn to_std_duration(duration: time::Duration) -> Result<std::time::Duration, CliError> {
    std::time::Duration::try_from(duration)
        .map_err(|e| CliError::Config(format!("duration {duration}: {e}")))
}

fn read_file(path: &Path) -> Result<FileConfig, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("reading {}", path.display()), e))?;
    toml::from_str(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))
}

/// Checks the `[limits]` table against the known limits before deserialising it:
/// `Limits` fills in defaults and would ignore a misspelt key.
fn parse_limits(table: toml::Table) -> Result<Limits, CliError> {
    let known = toml::Value::try_from(Limits::default())
        .map_err(|e| CliError::Config(format!("limits: {e}")))?;
    let known_keys: Vec<&str> = known
        .as_table()
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if let Some(unknown) = table.keys().find(|k| !known_keys.contains(&k.as_str())) {
        return Err(CliError::Config(format!(
            "unknown limit '{unknown}' in [limits]; known limits: {}",
            known_keys.join(", ")
        )));
    }
    toml::Value::Table(table)
        .try_into()
        .map_err(|e| CliError::Config(format!("[limits]: {e}")))
}

/// A public URL must be an absolute http(s) URL; the trailing `/` is dropped so
/// `scim_base_url` joins cleanly.
fn validate_public_url(url: &str) -> Result<String, CliError> {
    let trimmed = url.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match host {
        Some(rest) if !rest.is_empty() && !rest.contains(['?', '#', ' ']) => Ok(trimmed.to_owned()),
        _ => Err(CliError::Config(format!(
            "public URL '{url}' must look like https://scim.example.com (http or https, no query)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    fn args_with_config(file: &tempfile::NamedTempFile) -> SettingsArgs {
        SettingsArgs {
            config: Some(file.path().to_owned()),
            ..SettingsArgs::default()
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let settings = Settings::resolve(&SettingsArgs::default()).unwrap();
        assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(settings.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert_eq!(settings.public_url, None);
        assert_eq!(settings.log_format, LogFormat::Human);
        assert_eq!(settings.limits, Limits::default());
        assert_eq!(settings.base_url(None), "http://127.0.0.1:8080");
    }

    #[test]
    fn the_file_fills_what_flags_leave_unset() {
        let file = file_with(
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/scimd\"\npublic_url = \"https://scim.example.com/\"\nlog_format = \"json\"\n[limits]\nmax_page_size = 50\n",
        );
        let mut args = args_with_config(&file);
        let settings = Settings::resolve(&args).unwrap();
        assert_eq!(settings.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(settings.data_dir, PathBuf::from("/srv/scimd"));
        assert_eq!(settings.base_url(None), "https://scim.example.com");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(settings.limits.max_page_size, 50);
        assert_eq!(
            settings.limits.max_body_bytes,
            Limits::default().max_body_bytes
        );

        args.listen = Some("127.0.0.1:7000".parse().unwrap());
        args.log_format = Some(LogFormat::Human);
        let settings = Settings::resolve(&args).unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(settings.log_format, LogFormat::Human);
    }

    #[test]
    fn typos_in_the_file_are_errors() {
        let file = file_with("listne = \"0.0.0.0:9000\"\n");
        let err = Settings::resolve(&args_with_config(&file)).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");

        let file = file_with("[limits]\nmax_page_sise = 5\n");
        let err = Settings::resolve(&args_with_config(&file)).unwrap_err();
        assert!(err.to_string().contains("max_page_sise"), "{err}");
        assert!(err.to_string().contains("max_page_size"), "{err}");

        let file = file_with("[limits]\nmax_page_size = \"many\"\n");
        assert!(Settings::resolve(&args_with_config(&file)).is_err());
    }

    #[test]
    fn public_urls_must_be_http_or_https() {
        assert_eq!(
            validate_public_url("https://a.example/").unwrap(),
            "https://a.example"
        );
        assert_eq!(
            validate_public_url("http://a.example:8080/base").unwrap(),
            "http://a.example:8080/base"
        );
        for bad in [
            "a.example",
            "ftp://a.example",
            "https://",
            "https://a.example?x=1",
        ] {
            assert!(validate_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let args = SettingsArgs {
            config: Some(PathBuf::from("/nonexistent/scimd.toml")),
            ..SettingsArgs::default()
        };
        let err = Settings::resolve(&args).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/scimd.toml"), "{err}");
    }

    #[test]
    fn ipv6_listen_addresses_make_bracketed_urls() {
        let args = SettingsArgs {
            listen: Some("[::1]:8080".parse().unwrap()),
            ..SettingsArgs::default()
        };
        assert_eq!(
            Settings::resolve(&args).unwrap().base_url(None),
            "http://[::1]:8080"
        );
    }

    #[test]
    fn database_settings_come_from_flags_then_the_file() {
        let settings = Settings::resolve(&SettingsArgs::default()).unwrap();
        assert_eq!(settings.database, DatabaseSettings::default());
        assert_eq!(
            settings.database_target().unwrap(),
            DatabaseTarget::Sqlite(PathBuf::from(DEFAULT_DATA_DIR).join(DATABASE_FILE))
        );

        let file = file_with(
            "database_url = \"postgres://scimd:filepw@db/scimd\"\ndb_max_connections = 20\ndb_acquire_timeout = \"3s\"\ndb_statement_timeout = \"1m\"\n",
        );
        let mut args = args_with_config(&file);
        let settings = Settings::resolve(&args).unwrap();
        assert_eq!(
            settings.database_target().unwrap(),
            DatabaseTarget::Postgres("postgres://scimd:filepw@db/scimd".into())
        );
        assert_eq!(settings.database.max_connections, Some(20));
        assert_eq!(
            settings.database.acquire_timeout,
            Some(std::time::Duration::from_secs(3))
        );
        assert_eq!(
            settings.database.statement_timeout,
            Some(std::time::Duration::from_secs(60))
        );
        assert_eq!(settings.database_display(), "postgres://scimd:***@db/scimd");

        args.database = Some("sqlite:///tmp/x.db".into());
        args.db_max_connections = Some(3);
        let settings = Settings::resolve(&args).unwrap();
        assert_eq!(
            settings.database_target().unwrap(),
            DatabaseTarget::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(settings.database.max_connections, Some(3));
    }

    #[test]
    fn provisioning_log_buffering_comes_from_the_file_and_is_checked() {
        let defaults = Settings::resolve(&SettingsArgs::default()).unwrap();
        assert_eq!(
            defaults.server_config().provisioning_log,
            ProvisioningLogConfig::default()
        );
        let file = file_with(
            "[provisioning_log]\nbuffer_capacity = 50000\nbatch_size = 200\nflush_interval = \"5s\"\n",
        );
        let settings = Settings::resolve(&args_with_config(&file)).unwrap();
        let config = settings.server_config().provisioning_log;
        assert_eq!(config.buffer_capacity, 50_000);
        assert_eq!(config.batch_size, 200);
        assert_eq!(config.flush_interval, std::time::Duration::from_secs(5));

        for (bad, key) in [
            ("buffer_capacity = 0", "buffer_capacity"),
            ("batch_size = 0", "batch_size"),
            ("batch_size = 20000", "batch_size"),
            ("flush_interval = \"now\"", "flush_interval"),
            ("buffer_size = 5", "buffer_size"),
        ] {
            let file = file_with(&format!("[provisioning_log]\n{bad}\n"));
            let err = Settings::resolve(&args_with_config(&file))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{bad}: {err}");
        }
    }

    #[test]
    fn bad_database_settings_are_errors_without_the_password() {
        let args = SettingsArgs {
            database: Some("mysql://root:topsecret@db/scimd".into()),
            ..SettingsArgs::default()
        };
        let err = Settings::resolve(&args).unwrap_err().to_string();
        assert!(err.contains("mysql://root:***@db/scimd"), "{err}");
        assert!(!err.contains("topsecret"), "{err}");

        let file = file_with("db_acquire_timeout = \"soon\"\n");
        let err = Settings::resolve(&args_with_config(&file)).unwrap_err();
        assert!(err.to_string().contains("db_acquire_timeout"), "{err}");

        let file = file_with("db_max_connections = 0\n");
        assert!(Settings::resolve(&args_with_config(&file)).is_err());
    }
}
