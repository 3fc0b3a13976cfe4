//! `scimd serve`: open the database, bind, print where to connect, serve until
//! SIGTERM or SIGINT, then let in-flight requests finish. `main` closes the database
//! once this returns (`store::close_opened`), when the server, its in-flight requests
//! and the provisioning log's last entries are done with it.

use crate::cli::ServeArgs;
use crate::config::Settings;
use crate::error::CliError;
use crate::output::print_credentials;
use crate::store::{self, Migrations};
use scimd_server::state::AppState;
use scimd_server::tenants::{create_tenant_with_token, scim_base_url};
use scimd_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// The tenant created on first start.
pub const DEFAULT_TENANT: &str = "default";

/// After a stop signal, in-flight requests get this long before the process exits
/// anyway (a stuck client must not block a deploy forever).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Tenant URLs printed at start; the rest are left to `scimd tenant list`.
const MAX_URLS_SHOWN: usize = 10;

/// Runs the server until a stop signal.
pub async fn run(settings: &Settings, args: &ServeArgs) -> Result<(), CliError> {
    let stop = StopSignals::register()?;
    let migrations = if args.no_migrate {
        Migrations::Skip
    } else {
        Migrations::Apply
    };
    let store = store::open_for_serving(settings, migrations).await?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| CliError::io(format!("listening on {}", settings.listen), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::io("reading the bound address", e))?;
    tracing::info!(address = %bound, database = %settings.database_display(), "listening");

    let base = settings.base_url(Some(bound));
    println!(
        "scimd {} listening on http://{bound}",
        env!("CARGO_PKG_VERSION")
    );
    if settings.public_url.is_none() && bound.ip().is_unspecified() {
        println!(
            "(listening on all interfaces; set --public-url to the address identity providers reach)"
        );
    }
    announce(store.as_ref(), &base).await?;

    let state = AppState::new(store, settings.server_config());
    let stopping = Arc::new(Notify::new());
    let shutdown = {
        let stopping = stopping.clone();
        async move {
            stop.received().await;
            stopping.notify_one();
        }
    };
    let server = scimd_server::serve(listener, state, shutdown);
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result.map_err(|e| CliError::io("serving", e))?,
        () = async {
            stopping.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!(
                grace_seconds = SHUTDOWN_GRACE.as_secs(),
                "in-flight requests did not finish in time; exiting anyway"
            );
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Prints, on stdout, what an admin needs to connect an identity provider: on first
/// start a new tenant's URL and token, later the URLs.
async fn announce(store: &dyn Store, base: &str) -> Result<(), CliError> {
    let tenants = store.list_tenants().await?;
    if tenants.is_empty() {
        let (tenant, issued) =
            create_tenant_with_token(store, DEFAULT_TENANT, "Default tenant").await?;
        println!("First start: created tenant '{}'.", tenant.id);
        print_credentials(&scim_base_url(base, &tenant.id), &issued.token);
        return Ok(());
    }
    println!();
    for tenant in tenants.iter().take(MAX_URLS_SHOWN) {
        println!(
            "  SCIM URL ({}):  {}",
            tenant.id,
            scim_base_url(base, &tenant.id)
        );
    }
    if tenants.len() > MAX_URLS_SHOWN {
        println!(
            "  ... and {} more (scimd tenant list)",
            tenants.len() - MAX_URLS_SHOWN
        );
    }
    let example = tenants
        .iter()
        .find(|t| t.id == DEFAULT_TENANT)
        .or_else(|| tenants.first())
        .map_or(DEFAULT_TENANT, |t| t.id.as_str());
    println!();
    println!(
        "Tokens are shown only when created; get a new token with: scimd token create {example}"
    );
    Ok(())
}

/// The stop signals, registered before anything is printed: a SIGTERM sent as soon
/// as the URL appears must stop the server gracefully, not kill it with the default
/// disposition.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn register() -> Result<StopSignals, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let register = |kind: SignalKind, name: &str| {
                signal(kind).map_err(|e| CliError::io(format!("listening for {name}"), e))
            };
            Ok(StopSignals {
                terminate: register(SignalKind::terminate(), "SIGTERM")?,
                interrupt: register(SignalKind::interrupt(), "SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Completes on SIGTERM (orchestrators) or SIGINT (Ctrl-C).
    async fn received(mut self) {
        #[cfg(unix)]
        let name = tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        };
        #[cfg(not(unix))]
        let name = match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        };
        tracing::info!(signal = name, "stopping: finishing in-flight requests");
    }
}
