-- Credentials beyond per-tenant bearer tokens (issue 4): admin keys for the
-- /admin/v1 API, and OAuth 2.0 clients (RFC 6749 §4.4) per tenant. Secrets are
-- stored only as SHA-256 hashes, like tokens.

CREATE TABLE admin_keys (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    created     TEXT NOT NULL,
    last_used   TEXT,
    revoked     TEXT
);

CREATE TABLE oauth_clients (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    created     TEXT NOT NULL,
    revoked     TEXT,
    PRIMARY KEY (tenant_id, client_id)
);

-- OAuth access tokens are ordinary bearer tokens (one lookup by id on the request
-- path) that name the client which obtained them: revoking the client revokes them,
-- and token lists leave them out.
ALTER TABLE tokens ADD COLUMN oauth_client_id TEXT;
CREATE INDEX tokens_oauth_client ON tokens (tenant_id, oauth_client_id);
