//! `scimd migrate`: apply pending database migrations as a deploy step, before
//! starting servers with `--no-migrate` (or let every `serve` do it: concurrent
//! runs are serialised by the store, so none is applied twice).

use crate::config::Settings;
use crate::error::CliError;
use crate::store;
use serde_json::json;
/// Runs `migrate`: applies pending migrations and says which.
pub async fn run(settings: &Settings, json: bool) -> Result<(), CliError> {
    let applied = store::migrate(settings).await?;
    if json {
        println!("{}", json!({"applied": applied}));
    } else if applied.is_empty() {
        println!(
            "The database schema is up to date ({}).",
            settings.database_display()
        );
    } else {
        let versions: Vec<String> = applied.iter().map(i64::to_string).collect();
        println!(
            "Applied migrations {} to {}.",
            versions.join(", "),
            settings.database_display()
        );
    }
    Ok(())
}
