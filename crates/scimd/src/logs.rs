//! `scimd logs TENANT`: a tenant's provisioning log, newest first, read from the same
//! database a running server writes (entries appear within about a second).

use crate::cli::LogsArgs;
use crate::config::Settings;
use crate::error::CliError;
use crate::output::print_table;
use crate::store::{self, Create};
use scimd_server::provisioning_log::query::{list_logs, page_json, LogListParams, LogQueryError};
use scimd_store::LogEntry;
use time::macros::format_description;

/// Runs `scimd logs`.
pub async fn run(settings: &Settings, args: LogsArgs) -> Result<(), CliError> {
    let store = store::open(settings, Create::Never, crate::store::Migrations::Apply).await?;
    let status = if args.errors {
        Some("errors".to_owned())
    } else {
        args.status.clone()
    };
    let params = LogListParams {
        since: args.since.clone(),
        until: args.until.clone(),
        status,
        client: args.client.clone(),
        resource: args.resource.clone(),
        cursor: args.cursor.clone(),
        limit: args.limit,
    };
    let page = list_logs(store.as_ref(), &args.tenant, &params)
        .await
        .map_err(|e| match e {
            LogQueryError::UnknownTenant(t) => {
                CliError::NotFound(format!("no tenant '{t}' (see: scimd tenant list)"))
            }
            LogQueryError::Store(e) => CliError::Store(e),
            LogQueryError::InvalidParameter(detail) => CliError::InvalidArgument(detail),
        })?;
    if args.json {
        println!("{}", page_json(&page));
        return Ok(());
    }
    if page.entries.is_empty() {
        println!(
            "No provisioning log entries for tenant '{}' match. Entries appear about a second \
             after each SCIM request.",
            args.tenant
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = page.entries.iter().map(row).collect();
    print_table(
        &[
            "TIME (UTC)",
            "METHOD",
            "STATUS",
            "CLIENT",
            "MS",
            "PATH",
            "RESOURCE",
            "ERROR",
        ],
        &rows,
    );
    if let Some(cursor) = &page.next_cursor {
        println!();
        println!("More entries: add --cursor {cursor}");
    }
    Ok(())
}

fn row(entry: &LogEntry) -> Vec<String> {
    let e = &entry.entry;
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let error = match (&e.scim_type, &e.detail) {
        (Some(t), Some(d)) => format!("{t}: {d}"),
        (None, Some(d)) => d.clone(),
        (Some(t), None) => t.clone(),
        (None, None) => String::new(),
    };
    vec![
        e.at.to_offset(time::UtcOffset::UTC)
            .format(&format)
            .unwrap_or_default(),
        e.method.clone(),
        e.status.to_string(),
        e.client.as_str().to_owned(),
        format!("{:.1}", e.latency_us as f64 / 1000.0),
        e.path.clone(),
        e.resource_id.clone().unwrap_or_default(),
        error,
    ]
}
