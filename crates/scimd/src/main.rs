//! The `scimd` binary: `scimd serve` and the admin commands.
//!
//! Exit codes: 0 on success, 1 when a command fails (message on stderr), 2 for a
//! usage error (clap's convention).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod admin;
mod check;
mod cli;
mod config;
mod credentials;
mod duration;
mod error;
mod logging;
mod logs;
mod migrate;
mod output;
mod serve;
mod store;

use clap::Parser;
use cli::{Cli, Command};
use config::{Settings, DEFAULT_LOG_LEVEL};
use error::CliError;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: a request allocates many small, short-lived
/// values (JSON trees, headers, rows), which glibc's malloc served at 12% of the
/// server's CPU. Measured in `docs/benchmarks.md` (findings).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Admin commands log only problems unless a level is set: their stdout is the
/// output, and progress lines on stderr would be noise.
const ADMIN_LOG_LEVEL: &str = "warn";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::resolve(&cli.settings)?;
    let default_level = match cli.command {
        Command::Serve(_) => DEFAULT_LOG_LEVEL,
        Command::Tenant(_)
        | Command::Token(_)
        | Command::Logs(_)
        | Command::AdminKey(_)
        | Command::OauthClient(_)
        | Command::Migrate { .. } => ADMIN_LOG_LEVEL,
    };
    logging::init(
        settings.log_format,
        settings.log_level.as_deref().unwrap_or(default_level),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::io("starting the async runtime", e))?;
    runtime.block_on(async {
        let outcome = match cli.command {
            Command::Serve(args) => serve::run(&settings, &args).await,
            Command::Migrate { json } => migrate::run(&settings, json).await,
            Command::Tenant(command) => admin::tenant(&settings, command).await,
            Command::Token(command) => admin::token(&settings, command).await,
            Command::Logs(args) => logs::run(&settings, args).await,
            Command::AdminKey(command) => credentials::admin_key(&settings, command).await,
            Command::OauthClient(command) => credentials::oauth_client(&settings, command).await,
        };
        store::close_opened().await;
        outcome
    })
}
