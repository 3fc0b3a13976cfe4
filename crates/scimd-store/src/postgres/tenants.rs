//! Tenants and their API tokens.

use super::failure::{write_error, PgResult};
use crate::timestamp;
use crate::{NewTenant, Tenant, TenantLogSettings, TenantUpdate, TokenRecord};
use scimd_protocol::ScimError;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;

pub(super) use crate::sql::TOKEN_COLUMNS;
use crate::sql::{TENANT_COLUMNS, TENANT_COLUMN_COUNT, TENANT_WITH_TOKEN};

/// A tenant from [`TENANT_COLUMNS`], by position (a join with tokens repeats names
/// like `id` and `created`).
fn tenant_from_row(row: &PgRow) -> PgResult<Tenant> {
    Ok(Tenant {
        id: row.try_get(0)?,
        display_name: row.try_get(1)?,
        provisioning_enabled: row.try_get(2)?,
        created: timestamp::parse(row.try_get(3)?)?,
        updated: timestamp::parse(row.try_get(4)?)?,
        log: TenantLogSettings {
            bodies: row.try_get(5)?,
            retention_days: u32::try_from(row.try_get::<i64, _>(6)?).unwrap_or(u32::MAX),
            max_entries: u64::try_from(row.try_get::<i64, _>(7)?).unwrap_or(0),
        },
    })
}

pub(super) fn token_from_row(row: &PgRow) -> PgResult<TokenRecord> {
    token_from_columns(row, 0)
}

/// A token from [`TOKEN_COLUMNS`] at positions `first..first + 8` of the row (a join
/// selects them after the tenant's columns, whose names they share).
fn token_from_columns(row: &PgRow, first: usize) -> PgResult<TokenRecord> {
    Ok(TokenRecord {
        id: row.try_get(first)?,
        tenant_id: row.try_get(first + 1)?,
        name: row.try_get(first + 2)?,
        secret_hash: row.try_get(first + 3)?,
        created: timestamp::parse(row.try_get(first + 4)?)?,
        last_used: timestamp::parse_opt(row.try_get(first + 5)?)?,
        expires: timestamp::parse_opt(row.try_get(first + 6)?)?,
        revoked: timestamp::parse_opt(row.try_get(first + 7)?)?,
    })
}

/// Whether the tenant exists. `FOR KEY SHARE` keeps it from being deleted until the
/// caller's transaction ends, so nothing is written for a tenant being deleted.
pub(super) async fn lock_tenant(conn: &mut PgConnection, id: &str) -> PgResult<bool> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM tenants WHERE id = $1 FOR KEY SHARE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(found.is_some())
}

pub(super) fn unknown_tenant(id: &str) -> ScimError {
    ScimError::not_found(format!("tenant '{id}' does not exist"))
}

pub(super) async fn create_tenant(conn: &mut PgConnection, tenant: &NewTenant) -> PgResult<Tenant> {
    let now = timestamp::now();
    sqlx::query(
        "INSERT INTO tenants (id, display_name, provisioning_enabled, created, updated, \
         log_bodies, log_retention_days, log_max_entries) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
    )
    .bind(&tenant.id)
    .bind(&tenant.display_name)
    .bind(tenant.provisioning_enabled)
    .bind(timestamp::format(now))
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

pub(super) async fn get_tenant(conn: &mut PgConnection, id: &str) -> PgResult<Option<Tenant>> {
    let row = sqlx::query(&format!(
        "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(tenant_from_row).transpose()
}

pub(super) async fn list_tenants(conn: &mut PgConnection) -> PgResult<Vec<Tenant>> {
    let rows = sqlx::query(&format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id"))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(tenant_from_row).collect()
}

/// One statement: `None` fields keep their value (COALESCE), so concurrent updates
/// of different fields do not undo each other.
pub(super) async fn update_tenant(
    conn: &mut PgConnection,
    id: &str,
    update: &TenantUpdate,
) -> PgResult<Tenant> {
    let row = sqlx::query(&format!(
        "UPDATE tenants SET display_name = COALESCE($2, display_name), \
         provisioning_enabled = COALESCE($3, provisioning_enabled), updated = $4, \
         log_bodies = COALESCE($5, log_bodies), \
         log_retention_days = COALESCE($6, log_retention_days), \
         log_max_entries = COALESCE($7, log_max_entries) \
         WHERE id = $1 RETURNING {TENANT_COLUMNS}"
    ))
    .bind(id)
    .bind(update.display_name.as_deref())
    .bind(update.provisioning_enabled)
    .bind(timestamp::format(timestamp::now()))
    .bind(update.log_bodies)
    .bind(update.log_retention_days.map(i64::from))
    .bind(
        update
            .log_max_entries
            .map(|max| i64::try_from(max).unwrap_or(i64::MAX)),
    )
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => tenant_from_row(&row),
        None => Err(unknown_tenant(id).into()),
    }
}

/// Deletes the tenant; ON DELETE CASCADE removes its tokens, users, groups,
/// memberships and value-index rows in the same transaction.
pub(super) async fn delete_tenant(conn: &mut PgConnection, id: &str) -> PgResult<bool> {
    let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Inserts a token; `oauth_client_id` names the OAuth client of an access token.
pub(super) async fn insert_token(
    conn: &mut PgConnection,
    token: &TokenRecord,
    oauth_client_id: Option<&str>,
) -> PgResult<()> {
    if !lock_tenant(conn, &token.tenant_id).await? {
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

/// By primary key (tenant, id).
pub(super) async fn get_token(
    conn: &mut PgConnection,
    tenant: &str,
    token_id: &str,
) -> PgResult<Option<TokenRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(token_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(token_from_row).transpose()
}

/// The tenant and its token `token_id`, in one statement ([`TENANT_WITH_TOKEN`]).
pub(super) async fn get_tenant_with_token(
    conn: &mut PgConnection,
    tenant: &str,
    token_id: &str,
) -> PgResult<Option<(Tenant, Option<TokenRecord>)>> {
    let row = sqlx::query(&TENANT_WITH_TOKEN)
        .bind(tenant)
        .bind(token_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let tenant = tenant_from_row(&row)?;
    let token_found: Option<String> = row.try_get(TENANT_COLUMN_COUNT)?;
    let token = match token_found {
        Some(_) => Some(token_from_columns(&row, TENANT_COLUMN_COUNT)?),
        None => None,
    };
    Ok(Some((tenant, token)))
}

pub(super) async fn list_tokens(
    conn: &mut PgConnection,
    tenant: &str,
) -> PgResult<Vec<TokenRecord>> {
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
    conn: &mut PgConnection,
    tenant: &str,
    token_id: &str,
    at: OffsetDateTime,
) -> PgResult<bool> {
    let done = sqlx::query("UPDATE tokens SET revoked = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(token_id)
        .bind(timestamp::format(at))
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records last-used times in one statement; an older time never overwrites a newer
/// one, so batches flushed out of order (by several nodes) are harmless.
pub(super) async fn touch_tokens(
    conn: &mut PgConnection,
    used: &[(String, OffsetDateTime)],
) -> PgResult<()> {
    let ids: Vec<&str> = used.iter().map(|(id, _)| id.as_str()).collect();
    let times: Vec<String> = used.iter().map(|(_, at)| timestamp::format(*at)).collect();
    sqlx::query(
        "UPDATE tokens t SET last_used = u.at \
         FROM (SELECT id, MAX(at) AS at FROM UNNEST($1::text[], $2::text[]) AS x(id, at) \
               GROUP BY id) u \
         WHERE t.id = u.id COLLATE \"C\" AND (t.last_used IS NULL OR t.last_used < u.at COLLATE \"C\")",
    )
    .bind(&ids)
    .bind(&times)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
