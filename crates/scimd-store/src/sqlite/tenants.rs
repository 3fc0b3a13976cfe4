//! Tenants and their API tokens.

use super::db::{execute, query_all, query_opt, write_error};
use crate::timestamp;
use crate::{NewTenant, StoreResult, Tenant, TenantLogSettings, TenantUpdate, TokenRecord};
use rusqlite::{Connection, Row};
use scimd_protocol::ScimError;
use time::OffsetDateTime;

use crate::sql::{TENANT_COLUMNS, TENANT_COLUMN_COUNT, TENANT_WITH_TOKEN, TOKEN_COLUMNS};

/// A tenant from [`TENANT_COLUMNS`], by position (a join with tokens repeats names
/// like `id` and `created`).
fn tenant_from_row(row: &Row<'_>) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: row.get(0)?,
        display_name: row.get(1)?,
        provisioning_enabled: row.get(2)?,
        created: timestamp::parse(&row.get::<_, String>(3)?)?,
        updated: timestamp::parse(&row.get::<_, String>(4)?)?,
        log: TenantLogSettings {
            bodies: row.get(5)?,
            retention_days: u32::try_from(row.get::<_, i64>(6)?).unwrap_or(u32::MAX),
            max_entries: u64::try_from(row.get::<_, i64>(7)?).unwrap_or(0),
        },
    })
}

pub(super) fn token_from_row(row: &Row<'_>) -> StoreResult<TokenRecord> {
    token_from_columns(row, 0)
}

/// A token from [`TOKEN_COLUMNS`] at positions `first..first + 8` of the row.
fn token_from_columns(row: &Row<'_>, first: usize) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: row.get(first)?,
        tenant_id: row.get(first + 1)?,
        name: row.get(first + 2)?,
        secret_hash: row.get(first + 3)?,
        created: timestamp::parse(&row.get::<_, String>(first + 4)?)?,
        last_used: timestamp::parse_opt(row.get(first + 5)?)?,
        expires: timestamp::parse_opt(row.get(first + 6)?)?,
        revoked: timestamp::parse_opt(row.get(first + 7)?)?,
    })
}

/// The tenant and its token `token_id`, in one statement ([`TENANT_WITH_TOKEN`]).
pub(super) fn get_tenant_with_token(
    conn: &Connection,
    tenant: &str,
    token_id: &str,
) -> StoreResult<Option<(Tenant, Option<TokenRecord>)>> {
    query_opt(conn, &TENANT_WITH_TOKEN, &[&tenant, &token_id], |row| {
        let tenant = tenant_from_row(row)?;
        let token_found: Option<String> = row.get(TENANT_COLUMN_COUNT)?;
        let token = match token_found {
            Some(_) => Some(token_from_columns(row, TENANT_COLUMN_COUNT)?),
            None => None,
        };
        Ok((tenant, token))
    })
}

/// Whether the tenant exists (a primary-key lookup).
pub(super) fn tenant_exists(conn: &Connection, id: &str) -> StoreResult<bool> {
    let found = query_opt(conn, "SELECT 1 FROM tenants WHERE id = $1", &[&id], |_| {
        Ok(())
    })?;
    Ok(found.is_some())
}

pub(super) fn unknown_tenant(id: &str) -> ScimError {
    ScimError::not_found(format!("tenant '{id}' does not exist"))
}

pub(super) fn create_tenant(conn: &Connection, tenant: &NewTenant) -> StoreResult<Tenant> {
    let now = timestamp::now();
    let stamp = timestamp::format(now);
    execute(
        conn,
        "INSERT INTO tenants (id, display_name, provisioning_enabled, created, updated, \
         log_bodies, log_retention_days, log_max_entries) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
        &[
            &tenant.id,
            &tenant.display_name,
            &tenant.provisioning_enabled,
            &stamp,
            &tenant.log.bodies,
            &i64::from(tenant.log.retention_days),
            &i64::try_from(tenant.log.max_entries).unwrap_or(i64::MAX),
        ],
    )
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

pub(super) fn get_tenant(conn: &Connection, id: &str) -> StoreResult<Option<Tenant>> {
    query_opt(
        conn,
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1"),
        &[&id],
        tenant_from_row,
    )
}

pub(super) fn list_tenants(conn: &Connection) -> StoreResult<Vec<Tenant>> {
    query_all(
        conn,
        &format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id"),
        &[],
        tenant_from_row,
    )
}

pub(super) fn update_tenant(
    conn: &Connection,
    id: &str,
    update: &TenantUpdate,
) -> StoreResult<Tenant> {
    let mut tenant = get_tenant(conn, id)?.ok_or_else(|| unknown_tenant(id))?;
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
    execute(
        conn,
        "UPDATE tenants SET display_name = $2, provisioning_enabled = $3, updated = $4, \
         log_bodies = $5, log_retention_days = $6, log_max_entries = $7 \
         WHERE id = $1",
        &[
            &id,
            &tenant.display_name,
            &tenant.provisioning_enabled,
            &timestamp::format(tenant.updated),
            &tenant.log.bodies,
            &i64::from(tenant.log.retention_days),
            &i64::try_from(tenant.log.max_entries).unwrap_or(i64::MAX),
        ],
    )?;
    Ok(tenant)
}

/// Deletes the tenant; foreign keys with ON DELETE CASCADE remove its tokens, users,
/// groups, memberships and value index rows in the same transaction.
pub(super) fn delete_tenant(conn: &Connection, id: &str) -> StoreResult<bool> {
    let deleted = execute(conn, "DELETE FROM tenants WHERE id = $1", &[&id])? > 0;
    if deleted {
        super::logs::delete_tenant_log(conn, id)?;
    }
    Ok(deleted)
}

/// Inserts a token; `oauth_client_id` names the OAuth client of an access token.
pub(super) fn insert_token(
    conn: &Connection,
    token: &TokenRecord,
    oauth_client_id: Option<&str>,
) -> StoreResult<()> {
    if !tenant_exists(conn, &token.tenant_id)? {
        return Err(unknown_tenant(&token.tenant_id).into());
    }
    let stamp = |at: Option<OffsetDateTime>| at.map(timestamp::format);
    execute(
        conn,
        &format!(
            "INSERT INTO tokens ({TOKEN_COLUMNS}, oauth_client_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ),
        &[
            &token.id,
            &token.tenant_id,
            &token.name,
            &token.secret_hash,
            &timestamp::format(token.created),
            &stamp(token.last_used),
            &stamp(token.expires),
            &stamp(token.revoked),
            &oauth_client_id,
        ],
    )
    .map_err(write_error)?;
    Ok(())
}

pub(super) fn get_token(
    conn: &Connection,
    tenant: &str,
    token_id: &str,
) -> StoreResult<Option<TokenRecord>> {
    query_opt(
        conn,
        &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1 AND tenant_id = $2"),
        &[&token_id, &tenant],
        token_from_row,
    )
}

pub(super) fn list_tokens(conn: &Connection, tenant: &str) -> StoreResult<Vec<TokenRecord>> {
    query_all(
        conn,
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE tenant_id = $1 AND oauth_client_id IS NULL \
             ORDER BY created DESC, id DESC"
        ),
        &[&tenant],
        token_from_row,
    )
}

pub(super) fn revoke_token(
    conn: &Connection,
    tenant: &str,
    token_id: &str,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let done = execute(
        conn,
        "UPDATE tokens SET revoked = $3 WHERE tenant_id = $1 AND id = $2",
        &[&tenant, &token_id, &timestamp::format(at)],
    )?;
    Ok(done > 0)
}

/// Records last-used times; an older time never overwrites a newer one, so batches
/// flushed out of order are harmless.
pub(super) fn touch_tokens(
    conn: &Connection,
    used: &[(String, OffsetDateTime)],
) -> StoreResult<()> {
    for (token_id, at) in used {
        execute(
            conn,
            "UPDATE tokens SET last_used = $2 WHERE id = $1 AND (last_used IS NULL OR last_used < $2)",
            &[token_id, &timestamp::format(*at)],
        )?;
    }
    Ok(())
}
