//! Bearer tokens: their format, issuing, verification and last-used bookkeeping.
//!
//! A token looks like `scimd_k3j9x2ab_<43 chars>`:
//! - `scimd_` is a fixed prefix, so secret scanners can recognise leaked tokens;
//! - `k3j9x2ab` is the token's public id (8 chars of `[a-z0-9]`), shown in lists and
//!   used to find the record without scanning;
//! - the rest is 32 random bytes (256 bits) in unpadded base64url.
//!
//! Only SHA-256 of the secret part is stored. A fast hash is right here: the secret is
//! 256 random bits, so there is nothing to brute-force, and verification must be cheap
//! because it runs on every request. The comparison is constant-time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::distributions::{Alphanumeric, DistString};
use rand::RngCore;
use scimd_store::{Store, StoreError, TokenRecord};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// The fixed prefix of every scimd token.
pub const TOKEN_PREFIX: &str = "scimd_";
const ID_LEN: usize = 8;
const SECRET_BYTES: usize = 32;

/// A token just issued: the record to store and the full token string, which is shown
/// to the admin once and never again.
#[derive(Debug)]
pub struct IssuedToken {
    /// What is stored.
    pub record: TokenRecord,
    /// The bearer token string. Never log it.
    pub token: String,
}

/// A freshly generated credential string `<prefix><id>_<secret>`: a public id to find
/// the record by, and 256 random bits shown once. Tokens, admin keys and OAuth client
/// secrets are all made here, so they share one format and one verification.
#[derive(Debug)]
pub struct GeneratedSecret {
    /// The public id: 8 characters of `[a-z0-9]`.
    pub id: String,
    /// SHA-256 of the secret part, the only thing stored.
    pub secret_hash: Vec<u8>,
    /// The whole string. Never log it.
    pub full: String,
}

/// Generates `<prefix><8-char id>_<43-char base64url secret>`.
pub fn generate(prefix: &str) -> GeneratedSecret {
    let mut rng = rand::thread_rng();
    let id = Alphanumeric
        .sample_string(&mut rng, ID_LEN)
        .to_ascii_lowercase();
    let mut secret_bytes = [0u8; SECRET_BYTES];
    rng.fill_bytes(&mut secret_bytes);
    let secret = URL_SAFE_NO_PAD.encode(secret_bytes);
    GeneratedSecret {
        full: format!("{prefix}{id}_{secret}"),
        secret_hash: hash_secret(&secret),
        id,
    }
}

/// Splits `<prefix><id>_<secret>` into (id, secret); `None` when it is not shaped so.
pub fn split_prefixed<'a>(prefix: &str, presented: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = presented.strip_prefix(prefix)?;
    let id = rest.get(..ID_LEN)?;
    let secret = rest.get(ID_LEN..)?.strip_prefix('_')?;
    let id_ok = id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !id_ok || secret.is_empty() {
        return None;
    }
    Some((id, secret))
}

/// Whether a presented secret hashes to the stored hash, compared in constant time.
pub fn secret_matches(secret: &str, stored_hash: &[u8]) -> bool {
    hash_secret(secret).as_slice().ct_eq(stored_hash).into()
}

/// Creates a new token for a tenant (not yet stored).
pub fn issue(
    tenant_id: &str,
    name: &str,
    expires: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> IssuedToken {
    let generated = generate(TOKEN_PREFIX);
    IssuedToken {
        record: TokenRecord {
            id: generated.id,
            tenant_id: tenant_id.to_owned(),
            name: name.to_owned(),
            secret_hash: generated.secret_hash,
            created: now,
            last_used: None,
            expires,
            revoked: None,
        },
        token: generated.full,
    }
}

/// SHA-256 of a token's secret part.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Splits a presented token into (public id, secret). `None` when it is not shaped
/// like a scimd token.
pub fn split_token(presented: &str) -> Option<(&str, &str)> {
    split_prefixed(TOKEN_PREFIX, presented)
}

/// Why a presented token was refused. The messages say what an admin can fix, and
/// never repeat the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenRejection {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token: send 'Authorization: Bearer <token>'")]
    Missing,
    /// Unknown, malformed, wrong secret, or another tenant's token. One message for all,
    /// so a caller cannot probe which tokens exist.
    #[error("invalid bearer token for this tenant")]
    Invalid,
    /// The token was revoked.
    #[error("the bearer token has been revoked; create a new one with 'scimd token create'")]
    Revoked,
    /// The token expired.
    #[error("the bearer token has expired; create a new one with 'scimd token create'")]
    Expired,
}

/// Verifies a presented bearer token for a tenant.
pub async fn verify(
    store: &dyn Store,
    tenant_id: &str,
    presented: &str,
    now: OffsetDateTime,
) -> Result<Result<TokenRecord, TokenRejection>, StoreError> {
    let Some((id, _)) = split_token(presented) else {
        return Ok(Err(TokenRejection::Invalid));
    };
    // Looked up within the tenant of the URL: a token of tenant A used on tenant B's
    // URL is simply not found, the same answer as a wrong secret.
    let record = store.get_token(tenant_id, id).await?;
    Ok(check_record(presented, record, now))
}

/// Checks a presented bearer token against the record stored under its id in the
/// request's tenant (`None`: no such token there): the secret, in constant time, then
/// revocation and expiry.
pub fn check_record(
    presented: &str,
    record: Option<TokenRecord>,
    now: OffsetDateTime,
) -> Result<TokenRecord, TokenRejection> {
    let Some((id, secret)) = split_token(presented) else {
        return Err(TokenRejection::Invalid);
    };
    let Some(record) = record.filter(|r| r.id == id) else {
        return Err(TokenRejection::Invalid);
    };
    if !secret_matches(secret, &record.secret_hash) {
        return Err(TokenRejection::Invalid);
    }
    if record.revoked.is_some_and(|at| at <= now) {
        return Err(TokenRejection::Revoked);
    }
    if record.expires.is_some_and(|at| at <= now) {
        return Err(TokenRejection::Expired);
    }
    Ok(record)
}

/// How long before its expiry a token is reported as expiring soon: two weeks gives an
/// admin time to renew before Entra quarantines the provisioning job.
pub const EXPIRY_WARNING: time::Duration = time::Duration::days(14);

/// A usable token that expires within [`EXPIRY_WARNING`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringToken {
    /// The tenant.
    pub tenant_id: String,
    /// The token's public id (never the secret).
    pub token_id: String,
    /// When it expires.
    pub expires: OffsetDateTime,
}

/// Every usable token, in every tenant, that expires within [`EXPIRY_WARNING`] of `now`.
/// Tokens already expired or revoked are not listed: they are past warning.
pub async fn expiring_soon(
    store: &dyn Store,
    now: OffsetDateTime,
) -> Result<Vec<ExpiringToken>, StoreError> {
    let mut found = Vec::new();
    for tenant in store.list_tenants().await? {
        for token in store.list_tokens(&tenant.id).await? {
            let usable = token.revoked.is_none_or(|at| at > now);
            if let Some(expires) = token.expires {
                if usable && expires > now && expires - now <= EXPIRY_WARNING {
                    found.push(ExpiringToken {
                        tenant_id: tenant.id.clone(),
                        token_id: token.id.clone(),
                        expires,
                    });
                }
            }
        }
    }
    Ok(found)
}

/// Where a token stands at `now` (shown by `scimd token list` and the admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Usable, and not expiring within [`EXPIRY_WARNING`].
    Active,
    /// Usable, but expiring within [`EXPIRY_WARNING`].
    ExpiringSoon,
    /// Usable until a revocation already scheduled (a rotation's grace period).
    RevocationScheduled,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
}

impl TokenStatus {
    /// The token's status at `now`.
    pub fn of(token: &TokenRecord, now: OffsetDateTime) -> TokenStatus {
        match (token.revoked, token.expires) {
            (Some(at), _) if at <= now => TokenStatus::Revoked,
            (_, Some(at)) if at <= now => TokenStatus::Expired,
            (Some(_), _) => TokenStatus::RevocationScheduled,
            (None, Some(at)) if at - now <= EXPIRY_WARNING => TokenStatus::ExpiringSoon,
            _ => TokenStatus::Active,
        }
    }

    /// Whether a request may use the token at `now`.
    pub fn is_usable(self) -> bool {
        matches!(
            self,
            TokenStatus::Active | TokenStatus::ExpiringSoon | TokenStatus::RevocationScheduled
        )
    }

    /// The machine-readable name, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::ExpiringSoon => "expiring_soon",
            TokenStatus::RevocationScheduled => "revocation_scheduled",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

/// Logs a warning per token expiring soon and sets the gauge
/// `scimd_tokens_expiring_soon` (no labels: tenants are unbounded).
pub async fn warn_about_expiring_tokens(store: &dyn Store) {
    match expiring_soon(store, OffsetDateTime::now_utc()).await {
        Ok(tokens) => {
            for t in &tokens {
                tracing::warn!(
                    tenant = %t.tenant_id,
                    token_id = %t.token_id,
                    expires = %t.expires,
                    "token expires soon; rotate it with: scimd token rotate {} --grace 24h",
                    t.tenant_id
                );
            }
            metrics::gauge!("scimd_tokens_expiring_soon").set(tokens.len() as f64);
        }
        Err(e) => tracing::warn!(error = %e, "could not check token expiry"),
    }
}

/// Last-used times, collected in memory and written in batches, so that using a token
/// never costs a database write.
#[derive(Debug, Default)]
pub struct TokenUsage {
    pending: Mutex<HashMap<String, OffsetDateTime>>,
}

impl TokenUsage {
    /// Notes that a token was used at `at`.
    pub fn record(&self, token_id: &str, at: OffsetDateTime) {
        if let Ok(mut map) = self.pending.lock() {
            map.insert(token_id.to_owned(), at);
        }
    }

    /// Takes everything recorded since the last call.
    pub fn drain(&self) -> Vec<(String, OffsetDateTime)> {
        match self.pending.lock() {
            Ok(mut map) => map.drain().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Writes pending last-used times to the store.
    pub async fn flush(&self, store: &dyn Store) -> Result<(), StoreError> {
        let batch = self.drain();
        if batch.is_empty() {
            return Ok(());
        }
        store.touch_tokens(&batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_have_prefix_id_and_256_bit_secret() {
        let now = OffsetDateTime::now_utc();
        let issued = issue("acme", "entra", None, now);
        let (id, secret) = split_token(&issued.token).unwrap();
        assert_eq!(id, issued.record.id);
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
        assert_eq!(issued.record.secret_hash, hash_secret(secret));
        assert!(!issued.record.secret_hash.is_empty());
        assert!(issued
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    }

    #[test]
    fn two_tokens_differ() {
        let now = OffsetDateTime::now_utc();
        assert_ne!(
            issue("a", "x", None, now).token,
            issue("a", "x", None, now).token
        );
    }

    #[test]
    fn malformed_tokens_do_not_split() {
        for bad in [
            "",
            "scimd_",
            "scimd_abc",
            "scimd_ABCDEFGH_xyz",
            "other_abcdefgh_xyz",
            "scimd_abcdefgh_",
            "scimd_abcdefghxyz",
        ] {
            assert_eq!(split_token(bad), None, "{bad}");
        }
    }
}
