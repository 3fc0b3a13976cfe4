//! Credentials other than tenant bearer tokens: admin keys and OAuth clients.

use crate::TokenRecord;
use time::OffsetDateTime;

/// A key for the `/admin/v1` API, as stored: never the secret, only its SHA-256.
/// Admin keys are global (they manage every tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminKeyRecord {
    /// Short public id (part of the key string, shown in lists).
    pub id: String,
    /// A label chosen by the operator.
    pub name: String,
    /// SHA-256 of the secret part of the key.
    pub secret_hash: Vec<u8>,
    /// Creation time.
    pub created: OffsetDateTime,
    /// Last time a request used it.
    pub last_used: Option<OffsetDateTime>,
    /// Revocation time, if revoked.
    pub revoked: Option<OffsetDateTime>,
}

/// An OAuth 2.0 client of one tenant (RFC 6749 §2), for the client credentials grant
/// (§4.4): its secret is exchanged for short-lived access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientRecord {
    /// The tenant the client belongs to.
    pub tenant_id: String,
    /// The public client identifier (unique within the tenant).
    pub client_id: String,
    /// A label chosen by the admin.
    pub name: String,
    /// SHA-256 of the client secret.
    pub secret_hash: Vec<u8>,
    /// Creation time.
    pub created: OffsetDateTime,
    /// Revocation time, if revoked.
    pub revoked: Option<OffsetDateTime>,
}

/// An access token issued to an OAuth client: a bearer token plus the client it
/// was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRecord {
    /// The bearer token (its `expires` is always set).
    pub token: TokenRecord,
    /// The client that obtained it.
    pub client_id: String,
}
