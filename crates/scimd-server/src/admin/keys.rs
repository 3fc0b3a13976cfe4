//! Admin keys: the credentials of the `/admin/v1` API, `scimdadm_<id>_<secret>`.
//!
//! Same format and storage as tenant tokens (see [`crate::tokens`]): a public id to
//! find the record, 256 random bits of secret, only SHA-256 stored, constant-time
//! comparison. The distinct prefix means a tenant token can never pass as an admin
//! key (or the other way round), and secret scanners can tell them apart.

use crate::tokens::{self, split_prefixed};
use scimd_store::{AdminKeyRecord, Store, StoreError};
use time::OffsetDateTime;

/// The fixed prefix of every admin key.
pub const ADMIN_KEY_PREFIX: &str = "scimdadm_";

/// An admin key just created: the record stored and the key, shown once.
#[derive(Debug)]
pub struct IssuedAdminKey {
    /// What is stored.
    pub record: AdminKeyRecord,
    /// The key string. Never log it.
    pub key: String,
}

/// Creates and stores an admin key.
pub async fn create_admin_key(
    store: &dyn Store,
    name: &str,
    now: OffsetDateTime,
) -> Result<IssuedAdminKey, StoreError> {
    let generated = tokens::generate(ADMIN_KEY_PREFIX);
    let record = AdminKeyRecord {
        id: generated.id,
        name: name.to_owned(),
        secret_hash: generated.secret_hash,
        created: now,
        last_used: None,
        revoked: None,
    };
    store.insert_admin_key(&record).await?;
    Ok(IssuedAdminKey {
        record,
        key: generated.full,
    })
}

/// Why a presented admin key was refused; the messages never repeat the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdminKeyRejection {
    /// No `Authorization: Bearer` header.
    #[error("missing admin key: send 'Authorization: Bearer scimdadm_...' (create one with 'scimd admin-key create')")]
    Missing,
    /// Unknown, malformed or wrong secret: one answer, so nothing can be probed.
    #[error("invalid admin key")]
    Invalid,
    /// The key was revoked.
    #[error("the admin key has been revoked")]
    Revoked,
}

/// Verifies a presented admin key.
pub async fn verify_admin_key(
    store: &dyn Store,
    presented: &str,
    now: OffsetDateTime,
) -> Result<Result<AdminKeyRecord, AdminKeyRejection>, StoreError> {
    let Some((id, secret)) = split_prefixed(ADMIN_KEY_PREFIX, presented) else {
        return Ok(Err(AdminKeyRejection::Invalid));
    };
    let Some(record) = store.get_admin_key(id).await? else {
        return Ok(Err(AdminKeyRejection::Invalid));
    };
    if !tokens::secret_matches(secret, &record.secret_hash) {
        return Ok(Err(AdminKeyRejection::Invalid));
    }
    if record.revoked.is_some_and(|at| at <= now) {
        return Ok(Err(AdminKeyRejection::Revoked));
    }
    Ok(Ok(record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_keys_and_tokens_do_not_pass_for_each_other() {
        let key = tokens::generate(ADMIN_KEY_PREFIX).full;
        assert!(split_prefixed(ADMIN_KEY_PREFIX, &key).is_some());
        assert!(tokens::split_token(&key).is_none());
        let token = tokens::generate(tokens::TOKEN_PREFIX).full;
        assert!(split_prefixed(ADMIN_KEY_PREFIX, &token).is_none());
    }
}
