//! Tenants and their API tokens.

use super::write_error;
use crate::timestamp;
use crate::{NewTenant, StoreResult, Tenant, TenantLogSettings, TenantUpdate, TokenRecord};
use scimd_protocol::ScimError;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

const TENANT_COLUMNS: &str = "id, display_name, provisioning_enabled, created, updated, \
     log_bodies, log_retention_days, log_max_entries";
pub(super) const TOKEN_COLUMNS: &str =
    "id, tenant_id, name, secret_hash, created, last_used, expires, revoked";

fn tenant_from_row(row: &SqliteRow) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        provisioning_enabled: row.try_get("provisioning_enabled")?,
        created: timestamp::parse(row.try_get("created")?)?,
        updated: timestamp::parse(row.try_get("updated")?)?,
        log: TenantLogSettings {
            bodies: row.try_get("log_bodies")?,
            retention_days: u32::try_from(row.try_get::<i64, _>("log_retention_days")?)
                .unwrap_or(u32::MAX),
            max_entries: u64::try_from(row.try_get::<i64, _>("log_max_entries")?).unwrap_or(0),
        },
    })
}

pub(super) fn token_from_row(row: &SqliteRow) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        created: timestamp::parse(row.try_get("created")?)?,
        last_used: timestamp::parse_opt(row.try_get("last_used")?)?,
        expires: timestamp::parse_opt(row.try_get("expires")?)?,
        revoked: timestamp::parse_opt(row.try_get("revoked")?)?,
    })
}

/// Whether the tenant exists (a primary-key lookup).
pub(super) async fn tenant_exists(conn: &mut SqliteConnection, id: &str) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

pub(super) fn unknown_tenant(id: &str) -> ScimError {
    ScimError::not_found(format!("tenant '{id}' does not exist"))
}

pub(super) async fn create_tenant(
    conn: &mut SqliteConnection,
    tenant: &NewTenant,
) -> StoreResult<Tenant> {
    let now = timestamp::now();
    let stamp = timestamp::format(now);
    sqlx::query(
        "INSERT INTO tenants (id, display_name, provisioning_enabled, created, updated, \
         log_bodies, log_retention_days, log_max_entries) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
    )
    .bind(&tenant.id)
    .bind(&tenant.display_name)
    .bind(tenant.provisioning_enabled)
    .bind(&stamp)
    .bind(tenant.log.bodies)
    .bind(i64::from(tenant.log.retention_days))
    .bind(i64::try_from(tenant.log.max_entries).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await
    .map_err(write_error)?;
    Ok(Tenant {
        id: tenant.id.clone(),
        display_name: tenant.display_name.clone(),
        provisioning_enabled: tenant.provisioning_enabled,
        created: now,
        updated: now,
        log: tenant.log,
    })
}

pub(super) async fn get_tenant(
    conn: &mut SqliteConnection,
    id: &str,
) -> StoreResult<Option<Tenant>> {
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(tenant_from_row).transpose()
}

pub(super) async fn list_tenants(conn: &mut SqliteConnection) -> StoreResult<Vec<Tenant>> {
    let rows = sqlx::query(&format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id"))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(tenant_from_row).collect()
}

pub(super) async fn update_tenant(
    conn: &mut SqliteConnection,
    id: &str,
    update: &TenantUpdate,
) -> StoreResult<Tenant> {
    let mut tenant = get_tenant(conn, id)
        .await?
        .ok_or_else(|| unknown_tenant(id))?;
    if let Some(name) = &update.display_name {
        tenant.display_name = name.clone();
    }
    if let Some(enabled) = update.provisioning_enabled {
        tenant.provisioning_enabled = enabled;
    }
    if let Some(bodies) = update.log_bodies {
        tenant.log.bodies = bodies;
    }
    if let Some(days) = update.log_retention_days {
        tenant.log.retention_days = days;
    }
    if let Some(max) = update.log_max_entries {
        tenant.log.max_entries = max;
    }
    tenant.updated = timestamp::now();
    sqlx::query(
        "UPDATE tenants SET display_name = $2, provisioning_enabled = $3, updated = $4, \
         log_bodies = $5, log_retention_days = $6, log_max_entries = $7 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(&tenant.display_name)
    .bind(tenant.provisioning_enabled)
    .bind(timestamp::format(tenant.updated))
    .bind(tenant.log.bodies)
    .bind(i64::from(tenant.log.retention_days))
    .bind(i64::try_from(tenant.log.max_entries).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    Ok(tenant)
}

/// Deletes the tenant; foreign keys with ON DELETE CASCADE remove its tokens, users,
/// groups, memberships and value index rows in the same transaction.
pub(super) async fn delete_tenant(conn: &mut SqliteConnection, id: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Inserts a token; `oauth_client_id` names the OAuth client of an access token.
pub(super) async fn insert_token(
    conn: &mut SqliteConnection,
    token: &TokenRecord,
    oauth_client_id: Option<&str>,
) -> StoreResult<()> {
    if !tenant_exists(conn, &token.tenant_id).await? {
        return Err(unknown_tenant(&token.tenant_id).into());
    }
    let stamp = |at: Option<OffsetDateTime>| at.map(timestamp::format);
    sqlx::query(&format!(
        "INSERT INTO tokens ({TOKEN_COLUMNS}, oauth_client_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&token.id)
    .bind(&token.tenant_id)
    .bind(&token.name)
    .bind(&token.secret_hash)
    .bind(timestamp::format(token.created))
    .bind(stamp(token.last_used))
    .bind(stamp(token.expires))
    .bind(stamp(token.revoked))
    .bind(oauth_client_id)
    .execute(&mut *conn)
    .await
    .map_err(write_error)?;
    Ok(())
}

pub(super) async fn get_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    token_id: &str,
) -> StoreResult<Option<TokenRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(token_id)
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(token_from_row).transpose()
}

pub(super) async fn list_tokens(
    conn: &mut SqliteConnection,
    tenant: &str,
) -> StoreResult<Vec<TokenRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE tenant_id = $1 AND oauth_client_id IS NULL \
         ORDER BY created DESC, id DESC"
    ))
    .bind(tenant)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(token_from_row).collect()
}

pub(super) async fn revoke_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    token_id: &str,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE tokens SET revoked = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(token_id)
        .bind(timestamp::format(at))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records last-used times; an older time never overwrites a newer one, so batches
/// flushed out of order are harmless.
pub(super) async fn touch_tokens(
    conn: &mut SqliteConnection,
    used: &[(String, OffsetDateTime)],
) -> StoreResult<()> {
    for (token_id, at) in used {
        sqlx::query(
            "UPDATE tokens SET last_used = $2 WHERE id = $1 AND (last_used IS NULL OR last_used < $2)",
        )
        .bind(token_id)
        .bind(timestamp::format(*at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
