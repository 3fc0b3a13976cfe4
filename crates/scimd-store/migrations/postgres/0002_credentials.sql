-- scimd schema for PostgreSQL, version 2: admin keys for the /admin/v1 API and OAuth
-- 2.0 clients (RFC 6749 §4.4) per tenant. Mirrors migrations/sqlite/0002_credentials.sql.
-- Secrets are stored only as SHA-256 hashes, like tokens.
--
-- admin_keys is the one table not keyed by tenant: an admin key is the operator's
-- credential for every tenant. It is small and read by primary key only.

CREATE TABLE admin_keys (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT             NOT NULL,
    secret_hash BYTEA            NOT NULL,
    created     TEXT COLLATE "C" NOT NULL,
    last_used   TEXT COLLATE "C",
    revoked     TEXT COLLATE "C"
);

CREATE TABLE oauth_clients (
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id   TEXT COLLATE "C" NOT NULL,
    name        TEXT             NOT NULL,
    secret_hash BYTEA            NOT NULL,
    created     TEXT COLLATE "C" NOT NULL,
    revoked     TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, client_id)
);

-- OAuth access tokens are ordinary bearer tokens (one lookup by id on the request
-- path) that name the client which obtained them: revoking the client revokes them,
-- and token lists leave them out.
ALTER TABLE tokens ADD COLUMN oauth_client_id TEXT COLLATE "C";
CREATE INDEX tokens_oauth_client ON tokens (tenant_id, oauth_client_id);
