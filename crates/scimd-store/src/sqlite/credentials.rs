//! Admin keys, OAuth clients and their access tokens on SQLite: the statements shared
//! with PostgreSQL ([`crate::credential_sql::sql`]), run on rusqlite.

use super::db::{execute, query_all, query_opt, query_scalar, write_error};
use super::tenants::{insert_token, tenant_exists, token_from_row, unknown_tenant};
use crate::credential_sql::sql;
use crate::timestamp;
use crate::{AccessTokenRecord, AdminKeyRecord, OAuthClientRecord, StoreResult, TokenRecord};
use rusqlite::{Connection, Row};
use time::OffsetDateTime;

fn stamp(at: Option<OffsetDateTime>) -> Option<String> {
    at.map(timestamp::format)
}

fn admin_key_from_row(row: &Row<'_>) -> StoreResult<AdminKeyRecord> {
    Ok(AdminKeyRecord {
        id: row.get("id")?,
        name: row.get("name")?,
        secret_hash: row.get("secret_hash")?,
        created: timestamp::parse(&row.get::<_, String>("created")?)?,
        last_used: timestamp::parse_opt(row.get("last_used")?)?,
        revoked: timestamp::parse_opt(row.get("revoked")?)?,
    })
}

fn client_from_row(row: &Row<'_>) -> StoreResult<OAuthClientRecord> {
    Ok(OAuthClientRecord {
        tenant_id: row.get("tenant_id")?,
        client_id: row.get("client_id")?,
        name: row.get("name")?,
        secret_hash: row.get("secret_hash")?,
        created: timestamp::parse(&row.get::<_, String>("created")?)?,
        revoked: timestamp::parse_opt(row.get("revoked")?)?,
    })
}

// ---- admin keys -------------------------------------------------------------------

pub(super) fn insert_admin_key(conn: &Connection, key: &AdminKeyRecord) -> StoreResult<()> {
    execute(
        conn,
        sql::INSERT_ADMIN_KEY,
        &[
            &key.id,
            &key.name,
            &key.secret_hash,
            &timestamp::format(key.created),
            &stamp(key.last_used),
            &stamp(key.revoked),
        ],
    )
    .map_err(write_error)?;
    Ok(())
}

pub(super) fn get_admin_key(
    conn: &Connection,
    key_id: &str,
) -> StoreResult<Option<AdminKeyRecord>> {
    query_opt(conn, sql::GET_ADMIN_KEY, &[&key_id], admin_key_from_row)
}

pub(super) fn list_admin_keys(conn: &Connection) -> StoreResult<Vec<AdminKeyRecord>> {
    query_all(conn, sql::LIST_ADMIN_KEYS, &[], admin_key_from_row)
}

/// Keeps the first revocation time: revoking twice does not move it.
pub(super) fn revoke_admin_key(
    conn: &Connection,
    key_id: &str,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let exists: i64 = query_scalar(conn, sql::COUNT_ADMIN_KEY, &[&key_id])?;
    if exists == 0 {
        return Ok(false);
    }
    execute(
        conn,
        sql::REVOKE_ADMIN_KEY,
        &[&key_id, &timestamp::format(at)],
    )?;
    Ok(true)
}

pub(super) fn touch_admin_key(
    conn: &Connection,
    key_id: &str,
    at: OffsetDateTime,
) -> StoreResult<()> {
    execute(
        conn,
        sql::TOUCH_ADMIN_KEY,
        &[&key_id, &timestamp::format(at)],
    )?;
    Ok(())
}

// ---- OAuth clients ----------------------------------------------------------------

pub(super) fn insert_oauth_client(
    conn: &Connection,
    client: &OAuthClientRecord,
) -> StoreResult<()> {
    if !tenant_exists(conn, &client.tenant_id)? {
        return Err(unknown_tenant(&client.tenant_id).into());
    }
    execute(
        conn,
        sql::INSERT_CLIENT,
        &[
            &client.tenant_id,
            &client.client_id,
            &client.name,
            &client.secret_hash,
            &timestamp::format(client.created),
            &stamp(client.revoked),
        ],
    )
    .map_err(write_error)?;
    Ok(())
}

pub(super) fn get_oauth_client(
    conn: &Connection,
    tenant: &str,
    client_id: &str,
) -> StoreResult<Option<OAuthClientRecord>> {
    query_opt(
        conn,
        sql::GET_CLIENT,
        &[&tenant, &client_id],
        client_from_row,
    )
}

pub(super) fn list_oauth_clients(
    conn: &Connection,
    tenant: &str,
) -> StoreResult<Vec<OAuthClientRecord>> {
    query_all(conn, sql::LIST_CLIENTS, &[&tenant], client_from_row)
}

/// Revokes the client and its live access tokens; the caller's transaction makes the
/// two one change.
pub(super) fn revoke_oauth_client(
    conn: &Connection,
    tenant: &str,
    client_id: &str,
    at: OffsetDateTime,
) -> StoreResult<bool> {
    if get_oauth_client(conn, tenant, client_id)?.is_none() {
        return Ok(false);
    }
    let at = timestamp::format(at);
    execute(conn, sql::REVOKE_CLIENT, &[&tenant, &client_id, &at])?;
    execute(conn, sql::REVOKE_CLIENT_TOKENS, &[&tenant, &client_id, &at])?;
    Ok(true)
}

pub(super) fn insert_access_token(
    conn: &Connection,
    token: &TokenRecord,
    client_id: &str,
) -> StoreResult<()> {
    let client = get_oauth_client(conn, &token.tenant_id, client_id)?;
    crate::credential_sql::require_usable_client(client.as_ref(), &token.tenant_id, client_id)?;
    insert_token(conn, token, Some(client_id))
}

pub(super) fn list_access_tokens(
    conn: &Connection,
    tenant: &str,
) -> StoreResult<Vec<AccessTokenRecord>> {
    query_all(conn, sql::LIST_ACCESS_TOKENS, &[&tenant], |row| {
        Ok(AccessTokenRecord {
            token: token_from_row(row)?,
            client_id: row.get("oauth_client_id")?,
        })
    })
}

/// Deletes access tokens that expired before `before`, in every tenant.
pub(super) fn prune_access_tokens(conn: &Connection, before: OffsetDateTime) -> StoreResult<u64> {
    let done = execute(
        conn,
        sql::PRUNE_ACCESS_TOKENS,
        &[&timestamp::format(before)],
    )?;
    Ok(u64::try_from(done).unwrap_or(u64::MAX))
}
