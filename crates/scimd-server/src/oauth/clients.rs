//! OAuth 2.0 clients of a tenant and the client credentials grant (RFC 6749 §4.4).
//!
//! A client has a public id (`scimdoc_<8 chars>`) and a secret
//! (`scimdcs_<8 chars>_<43 chars>`, shown once, stored as SHA-256 of its random part).
//! The grant issues an ordinary bearer token of the tenant that expires after the
//! configured lifetime and is recorded as the client's, so revoking the client revokes
//! it, and verifying it costs the same one lookup as any token.

use crate::tokens::{self, split_prefixed, IssuedToken};
use rand::distributions::{Alphanumeric, DistString};
use scimd_protocol::ScimError;
use scimd_store::{OAuthClientRecord, Store, StoreError};
use time::OffsetDateTime;

/// The fixed prefix of client ids.
pub const CLIENT_ID_PREFIX: &str = "scimdoc_";
/// The fixed prefix of client secrets.
pub const CLIENT_SECRET_PREFIX: &str = "scimdcs_";

/// A client just created: the record stored and the secret, shown once.
#[derive(Debug)]
pub struct IssuedClient {
    /// What is stored.
    pub record: OAuthClientRecord,
    /// The client secret. Never log it.
    pub secret: String,
}

/// Creates and stores an OAuth client for an existing tenant (404 otherwise).
pub async fn create_client(
    store: &dyn Store,
    tenant_id: &str,
    name: &str,
    now: OffsetDateTime,
) -> Result<IssuedClient, StoreError> {
    let client_id = format!(
        "{CLIENT_ID_PREFIX}{}",
        Alphanumeric
            .sample_string(&mut rand::thread_rng(), 8)
            .to_ascii_lowercase()
    );
    let generated = tokens::generate(CLIENT_SECRET_PREFIX);
    let record = OAuthClientRecord {
        tenant_id: tenant_id.to_owned(),
        client_id,
        name: name.to_owned(),
        secret_hash: generated.secret_hash,
        created: now,
        revoked: None,
    };
    store.insert_oauth_client(&record).await?;
    Ok(IssuedClient {
        record,
        secret: generated.full,
    })
}

/// Revokes a client and its live access tokens. Unknown client: 404.
pub async fn revoke_client(
    store: &dyn Store,
    tenant_id: &str,
    client_id: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    if store.revoke_oauth_client(tenant_id, client_id, now).await? {
        Ok(())
    } else {
        Err(ScimError::not_found(format!(
            "tenant '{}' has no OAuth client '{}'",
            crate::tenants::printable_id(tenant_id),
            crate::tenants::printable_id(client_id)
        ))
        .into())
    }
}

/// Why a client credentials exchange was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Unknown tenant or client, wrong secret, or revoked client: one answer for all
    /// (RFC 6749 §5.2 `invalid_client`), so nothing can be probed.
    #[error("client authentication failed")]
    InvalidClient,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Exchanges a client's credentials for an access token of its tenant that expires
/// `lifetime` after `now`.
pub async fn exchange(
    store: &dyn Store,
    tenant_id: &str,
    client_id: &str,
    client_secret: &str,
    lifetime: time::Duration,
    now: OffsetDateTime,
) -> Result<IssuedToken, ExchangeError> {
    let client = store.get_oauth_client(tenant_id, client_id).await?;
    let Some(client) = client else {
        return Err(ExchangeError::InvalidClient);
    };
    let matches = split_prefixed(CLIENT_SECRET_PREFIX, client_secret)
        .is_some_and(|(_, secret)| tokens::secret_matches(secret, &client.secret_hash));
    if !matches || client.revoked.is_some_and(|at| at <= now) {
        return Err(ExchangeError::InvalidClient);
    }
    let issued = tokens::issue(
        tenant_id,
        &format!("oauth:{client_id}"),
        Some(now + lifetime),
        now,
    );
    match store.insert_access_token(&issued.record, client_id).await {
        Ok(()) => Ok(issued),
        // The client was revoked (or its tenant deleted) since it was read.
        Err(StoreError::Scim(e)) if e.status == 404 => Err(ExchangeError::InvalidClient),
        Err(e) => Err(e.into()),
    }
}
