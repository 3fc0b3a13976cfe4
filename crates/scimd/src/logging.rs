//! Logs go to stderr, so stdout stays for what the admin must read (URLs, tokens) and
//! for `--json` output that scripts parse.

use crate::cli::LogFormat;
use crate::error::CliError;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `filter` is a level (`info`) or a tracing filter
/// (`scimd_server=debug,info`).
pub fn init(format: LogFormat, filter: &str) -> Result<(), CliError> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| CliError::Config(format!("log level '{filter}': {e}")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        // The current span (the request: id, method, route, status, latency) goes on
        // every line, so one request's lines can be found by its id.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| CliError::Config(format!("could not install the logger: {e}")))
}
