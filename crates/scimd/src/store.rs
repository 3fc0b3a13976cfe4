//! Opening the database in the data directory.

use crate::config::Settings;
use crate::error::CliError;
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use scimd_store::{Store, UniquenessOptions};
use std::sync::Arc;

/// Whether a command may create the data directory and database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// `serve` and `tenant create`: start from nothing if need be.
    IfMissing,
    /// Other admin commands: a missing database is more likely a wrong `--data-dir`
    /// than an intent to start afresh.
    Never,
}

/// Opens `<data-dir>/scimd.db`. SQLite in WAL mode lets admin commands run while the
/// server has it open.
pub async fn open(settings: &Settings, create: Create) -> Result<Arc<dyn Store>, CliError> {
    let path = settings.database_path();
    match create {
        Create::IfMissing => std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
            CliError::io(
                format!(
                    "creating the data directory {}",
                    settings.data_dir.display()
                ),
                e,
            )
        })?,
        Create::Never if !path.exists() => return Err(CliError::NoDatabase(path)),
        Create::Never => {}
    }
    let options = SqliteOptions {
        uniqueness: UniquenessOptions {
            external_id: settings.unique_external_id,
        },
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(&path, &options).await?;
    Ok(Arc::new(store))
}
