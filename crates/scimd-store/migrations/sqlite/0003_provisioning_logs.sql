-- scimd schema, version 3: provisioning logs (one row per SCIM request) and the
-- per-tenant settings that govern them.
--
-- Portability notes (the PostgreSQL migration mirrors this file):
-- * `seq` is assigned by the store per tenant (MAX + 1 inside the batch's write
--   transaction), so the key starts with tenant_id like every other key.
-- * `at` is the time the request arrived, in the fixed-width timestamp text of 0001, so
--   text order is time order; the listing order is (at DESC, seq DESC).
-- * Bodies are stored only when the tenant turned body logging on, already redacted
--   (no password, token or secret values) and bounded in length by the server.

ALTER TABLE tenants ADD COLUMN log_bodies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN log_retention_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE tenants ADD COLUMN log_max_entries INTEGER NOT NULL DEFAULT 100000;

CREATE TABLE provisioning_logs (
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    at            TEXT    NOT NULL,
    method        TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    status        INTEGER NOT NULL,
    latency_us    INTEGER NOT NULL,
    scim_type     TEXT,
    detail        TEXT,
    client        TEXT    NOT NULL CHECK (client IN ('entra', 'okta', 'other')),
    resource_id   TEXT,
    request_id    TEXT    NOT NULL,
    request_body  TEXT,
    response_body TEXT,
    PRIMARY KEY (tenant_id, seq)
);
-- Listing newest first, time-range filters and age-based pruning.
CREATE INDEX provisioning_logs_at ON provisioning_logs (tenant_id, at DESC, seq DESC);
-- "Everything that happened to this user": the resource filter.
CREATE INDEX provisioning_logs_resource ON provisioning_logs (tenant_id, resource_id, at DESC)
    WHERE resource_id IS NOT NULL;
