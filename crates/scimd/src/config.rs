//! Resolving settings: flags, then `SCIMD_*` variables (both through clap), then the
//! TOML file, then defaults.
//!
//! The file may hold every setting plus a `[limits]` table (see
//! `scimd_server::config::Limits`). Unknown keys are errors, so a typo is reported
//! instead of silently ignored. A relative `data_dir` is relative to the working
//! directory, like the flag.

use crate::cli::{LogFormat, SettingsArgs};
use crate::error::CliError;
use scimd_server::config::{Limits, ServerConfig};
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
}

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
}

impl Settings {
    /// Resolves settings from flags/environment and the file they (or nothing) name.
    pub fn resolve(args: &SettingsArgs) -> Result<Settings, CliError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
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
        Ok(Settings {
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
            ..ServerConfig::default()
        }
    }
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
}
