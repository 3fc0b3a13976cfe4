//! Admin keys, OAuth clients and the access tokens issued to them: the statements,
//! written once for both backends. The SQL ([`sql`]) is the same on SQLite and
//! PostgreSQL (`$n` placeholders, standard SQL, timestamps as fixed-width UTC text);
//! what differs is the driver (rusqlite, synchronous, on SQLite; sqlx on PostgreSQL)
//! and how a tenant is checked (PostgreSQL holds it `FOR KEY SHARE`, so a tenant being
//! deleted gets no new client). `sqlite/credentials.rs` runs [`sql`] on rusqlite;
//! PostgreSQL's `credentials` module brings these into scope and invokes
//! [`credential_statements!`]:
//!
//! - `Connection`, `Row`: the backend's connection and row types;
//! - `DbResult<T>`: its result type (`sqlx::Error`, `StoreError` and `ScimError` convert
//!   into its error with `?`);
//! - `tenant_exists(conn, id)`, `unknown_tenant(id)`, `write_error(err)`,
//!   `insert_token(conn, token, oauth_client_id)` and `token_from_row(row)` from its
//!   tenants module.

/// An access token is issued only to a client of its tenant that is not revoked; the
/// rule both backends apply before inserting one (RFC 6749 §2.3: a revoked client can
/// no longer authenticate).
pub(crate) fn require_usable_client(
    client: Option<&crate::OAuthClientRecord>,
    tenant: &str,
    client_id: &str,
) -> Result<(), scimd_protocol::ScimError> {
    match client {
        Some(client) if client.revoked.is_none() => Ok(()),
        _ => Err(scimd_protocol::ScimError::not_found(format!(
            "tenant '{tenant}' has no usable OAuth client '{client_id}'"
        ))),
    }
}

/// The statements, shared by both backends.
pub(crate) mod sql {
    /// `$1..$6`: id, name, secret_hash, created, last_used, revoked.
    pub(crate) const INSERT_ADMIN_KEY: &str =
        "INSERT INTO admin_keys (id, name, secret_hash, created, last_used, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub(crate) const GET_ADMIN_KEY: &str =
        "SELECT id, name, secret_hash, created, last_used, revoked FROM admin_keys WHERE id = $1";
    pub(crate) const LIST_ADMIN_KEYS: &str =
        "SELECT id, name, secret_hash, created, last_used, revoked FROM admin_keys \
         ORDER BY created DESC, id DESC";
    pub(crate) const COUNT_ADMIN_KEY: &str = "SELECT COUNT(*) FROM admin_keys WHERE id = $1";
    /// Keeps the first revocation time: revoking twice does not move it.
    pub(crate) const REVOKE_ADMIN_KEY: &str =
        "UPDATE admin_keys SET revoked = $2 WHERE id = $1 AND revoked IS NULL";
    pub(crate) const TOUCH_ADMIN_KEY: &str =
        "UPDATE admin_keys SET last_used = $2 WHERE id = $1 AND (last_used IS NULL OR last_used < $2)";
    /// `$1..$6`: tenant_id, client_id, name, secret_hash, created, revoked.
    pub(crate) const INSERT_CLIENT: &str =
        "INSERT INTO oauth_clients (tenant_id, client_id, name, secret_hash, created, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub(crate) const GET_CLIENT: &str =
        "SELECT tenant_id, client_id, name, secret_hash, created, revoked FROM oauth_clients \
         WHERE tenant_id = $1 AND client_id = $2";
    pub(crate) const LIST_CLIENTS: &str =
        "SELECT tenant_id, client_id, name, secret_hash, created, revoked FROM oauth_clients \
         WHERE tenant_id = $1 ORDER BY created DESC, client_id DESC";
    pub(crate) const REVOKE_CLIENT: &str = "UPDATE oauth_clients SET revoked = $3 \
         WHERE tenant_id = $1 AND client_id = $2 AND revoked IS NULL";
    pub(crate) const REVOKE_CLIENT_TOKENS: &str = "UPDATE tokens SET revoked = $3 \
         WHERE tenant_id = $1 AND oauth_client_id = $2 AND (revoked IS NULL OR revoked > $3)";
    /// The token columns (`TOKEN_COLUMNS`) and `oauth_client_id`, newest first.
    pub(crate) const LIST_ACCESS_TOKENS: &str =
        "SELECT id, tenant_id, name, secret_hash, created, last_used, expires, revoked, \
         oauth_client_id FROM tokens \
         WHERE tenant_id = $1 AND oauth_client_id IS NOT NULL \
         ORDER BY created DESC, id DESC";
    /// Timestamps are fixed-width UTC text, so text order is time order.
    pub(crate) const PRUNE_ACCESS_TOKENS: &str = "DELETE FROM tokens \
         WHERE oauth_client_id IS NOT NULL AND expires IS NOT NULL AND expires < $1";
}

/// Expands to the credential statements for the backend whose names are in scope.
macro_rules! credential_statements {
    () => {
        use sqlx::Row as _;
        use time::OffsetDateTime;
        use $crate::timestamp;
        use $crate::{AccessTokenRecord, AdminKeyRecord, OAuthClientRecord, TokenRecord};

        fn stamp(at: Option<OffsetDateTime>) -> Option<String> {
            at.map(timestamp::format)
        }

        fn admin_key_from_row(row: &Row) -> DbResult<AdminKeyRecord> {
            Ok(AdminKeyRecord {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                secret_hash: row.try_get("secret_hash")?,
                created: timestamp::parse(row.try_get("created")?)?,
                last_used: timestamp::parse_opt(row.try_get("last_used")?)?,
                revoked: timestamp::parse_opt(row.try_get("revoked")?)?,
            })
        }

        fn client_from_row(row: &Row) -> DbResult<OAuthClientRecord> {
            Ok(OAuthClientRecord {
                tenant_id: row.try_get("tenant_id")?,
                client_id: row.try_get("client_id")?,
                name: row.try_get("name")?,
                secret_hash: row.try_get("secret_hash")?,
                created: timestamp::parse(row.try_get("created")?)?,
                revoked: timestamp::parse_opt(row.try_get("revoked")?)?,
            })
        }

        // ---- admin keys -------------------------------------------------------------

        pub(crate) async fn insert_admin_key(
            conn: &mut Connection,
            key: &AdminKeyRecord,
        ) -> DbResult<()> {
            sqlx::query($crate::credential_sql::sql::INSERT_ADMIN_KEY)
                .bind(&key.id)
                .bind(&key.name)
                .bind(&key.secret_hash)
                .bind(timestamp::format(key.created))
                .bind(stamp(key.last_used))
                .bind(stamp(key.revoked))
                .execute(&mut *conn)
                .await
                .map_err(write_error)?;
            Ok(())
        }

        pub(crate) async fn get_admin_key(
            conn: &mut Connection,
            key_id: &str,
        ) -> DbResult<Option<AdminKeyRecord>> {
            let row = sqlx::query($crate::credential_sql::sql::GET_ADMIN_KEY)
                .bind(key_id)
                .fetch_optional(&mut *conn)
                .await?;
            row.as_ref().map(admin_key_from_row).transpose()
        }

        pub(crate) async fn list_admin_keys(
            conn: &mut Connection,
        ) -> DbResult<Vec<AdminKeyRecord>> {
            let rows = sqlx::query($crate::credential_sql::sql::LIST_ADMIN_KEYS)
                .fetch_all(&mut *conn)
                .await?;
            rows.iter().map(admin_key_from_row).collect()
        }

        /// Keeps the first revocation time: revoking twice does not move it.
        pub(crate) async fn revoke_admin_key(
            conn: &mut Connection,
            key_id: &str,
            at: OffsetDateTime,
        ) -> DbResult<bool> {
            let exists: i64 = sqlx::query_scalar($crate::credential_sql::sql::COUNT_ADMIN_KEY)
                .bind(key_id)
                .fetch_one(&mut *conn)
                .await?;
            if exists == 0 {
                return Ok(false);
            }
            sqlx::query($crate::credential_sql::sql::REVOKE_ADMIN_KEY)
                .bind(key_id)
                .bind(timestamp::format(at))
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }

        pub(crate) async fn touch_admin_key(
            conn: &mut Connection,
            key_id: &str,
            at: OffsetDateTime,
        ) -> DbResult<()> {
            sqlx::query($crate::credential_sql::sql::TOUCH_ADMIN_KEY)
                .bind(key_id)
                .bind(timestamp::format(at))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        // ---- OAuth clients ----------------------------------------------------------

        pub(crate) async fn insert_oauth_client(
            conn: &mut Connection,
            client: &OAuthClientRecord,
        ) -> DbResult<()> {
            if !tenant_exists(conn, &client.tenant_id).await? {
                return Err(unknown_tenant(&client.tenant_id).into());
            }
            sqlx::query($crate::credential_sql::sql::INSERT_CLIENT)
                .bind(&client.tenant_id)
                .bind(&client.client_id)
                .bind(&client.name)
                .bind(&client.secret_hash)
                .bind(timestamp::format(client.created))
                .bind(stamp(client.revoked))
                .execute(&mut *conn)
                .await
                .map_err(write_error)?;
            Ok(())
        }

        pub(crate) async fn get_oauth_client(
            conn: &mut Connection,
            tenant: &str,
            client_id: &str,
        ) -> DbResult<Option<OAuthClientRecord>> {
            let row = sqlx::query($crate::credential_sql::sql::GET_CLIENT)
                .bind(tenant)
                .bind(client_id)
                .fetch_optional(&mut *conn)
                .await?;
            row.as_ref().map(client_from_row).transpose()
        }

        pub(crate) async fn list_oauth_clients(
            conn: &mut Connection,
            tenant: &str,
        ) -> DbResult<Vec<OAuthClientRecord>> {
            let rows = sqlx::query($crate::credential_sql::sql::LIST_CLIENTS)
                .bind(tenant)
                .fetch_all(&mut *conn)
                .await?;
            rows.iter().map(client_from_row).collect()
        }

        /// Revokes the client and its live access tokens; the caller's transaction makes
        /// the two one change.
        pub(crate) async fn revoke_oauth_client(
            conn: &mut Connection,
            tenant: &str,
            client_id: &str,
            at: OffsetDateTime,
        ) -> DbResult<bool> {
            if get_oauth_client(conn, tenant, client_id).await?.is_none() {
                return Ok(false);
            }
            let at = timestamp::format(at);
            sqlx::query($crate::credential_sql::sql::REVOKE_CLIENT)
                .bind(tenant)
                .bind(client_id)
                .bind(&at)
                .execute(&mut *conn)
                .await?;
            sqlx::query($crate::credential_sql::sql::REVOKE_CLIENT_TOKENS)
                .bind(tenant)
                .bind(client_id)
                .bind(&at)
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }

        pub(crate) async fn insert_access_token(
            conn: &mut Connection,
            token: &TokenRecord,
            client_id: &str,
        ) -> DbResult<()> {
            let client = get_oauth_client(conn, &token.tenant_id, client_id).await?;
            $crate::credential_sql::require_usable_client(
                client.as_ref(),
                &token.tenant_id,
                client_id,
            )?;
            insert_token(conn, token, Some(client_id)).await
        }

        pub(crate) async fn list_access_tokens(
            conn: &mut Connection,
            tenant: &str,
        ) -> DbResult<Vec<AccessTokenRecord>> {
            let rows = sqlx::query($crate::credential_sql::sql::LIST_ACCESS_TOKENS)
                .bind(tenant)
                .fetch_all(&mut *conn)
                .await?;
            rows.iter()
                .map(|row| {
                    Ok(AccessTokenRecord {
                        token: token_from_row(row)?,
                        client_id: row.try_get("oauth_client_id")?,
                    })
                })
                .collect()
        }

        /// Timestamps are fixed-width UTC text, so text order is time order.
        pub(crate) async fn prune_access_tokens(
            conn: &mut Connection,
            before: OffsetDateTime,
        ) -> DbResult<u64> {
            let done = sqlx::query($crate::credential_sql::sql::PRUNE_ACCESS_TOKENS)
                .bind(timestamp::format(before))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected())
        }
    };
}

pub(crate) use credential_statements;
