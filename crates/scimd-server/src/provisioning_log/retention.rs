//! Retention: each tenant's log keeps entries for its `log_retention_days` and at most
//! its `log_max_entries` newest ones. Enforced by a background task (at start and
//! hourly), never on the request path.

use scimd_store::{Store, StoreError};
use time::OffsetDateTime;

/// How often retention runs.
pub const RETENTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Prunes every tenant's log by its own settings, as of `now`. Returns how many
/// entries were deleted in all. One tenant's failure does not stop the others.
pub async fn enforce_retention(store: &dyn Store, now: OffsetDateTime) -> Result<u64, StoreError> {
    let mut deleted = 0;
    for tenant in store.list_tenants().await? {
        let cutoff = now - time::Duration::days(i64::from(tenant.log.retention_days));
        match store
            .prune_request_logs(&tenant.id, cutoff, tenant.log.max_entries)
            .await
        {
            Ok(n) => deleted += n,
            Err(e) => {
                tracing::warn!(tenant = %tenant.id, error = %e, "could not prune the provisioning log");
            }
        }
    }
    Ok(deleted)
}
