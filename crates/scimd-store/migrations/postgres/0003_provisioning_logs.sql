-- scimd schema for PostgreSQL, version 3: provisioning logs and the per-tenant
-- settings that govern them. Mirrors migrations/sqlite/0003_provisioning_logs.sql.
--
-- * `seq` is an identity column rather than the per-tenant MAX + 1 SQLite uses: several
--   nodes append at once, and a sequence needs no lock. It only breaks ties between
--   entries with the same `at`, so gaps and cross-tenant numbering do not matter. The
--   key still starts with tenant_id.
-- * `at` is timestamp text in the fixed form of 0001, so text order is time order.

ALTER TABLE tenants ADD COLUMN log_bodies BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE tenants ADD COLUMN log_retention_days BIGINT NOT NULL DEFAULT 30;
ALTER TABLE tenants ADD COLUMN log_max_entries BIGINT NOT NULL DEFAULT 100000;

CREATE TABLE provisioning_logs (
    tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    at            TEXT COLLATE "C" NOT NULL,
    method        TEXT             NOT NULL,
    path          TEXT             NOT NULL,
    status        BIGINT           NOT NULL,
    latency_us    BIGINT           NOT NULL,
    scim_type     TEXT,
    detail        TEXT,
    client        TEXT COLLATE "C" NOT NULL CHECK (client IN ('entra', 'okta', 'other')),
    resource_id   TEXT COLLATE "C",
    request_id    TEXT             NOT NULL,
    request_body  TEXT,
    response_body TEXT,
    PRIMARY KEY (tenant_id, seq)
);
-- Listing newest first, time-range filters and age-based pruning.
CREATE INDEX provisioning_logs_at ON provisioning_logs (tenant_id, at DESC, seq DESC);
-- "Everything that happened to this user": the resource filter.
CREATE INDEX provisioning_logs_resource ON provisioning_logs (tenant_id, resource_id, at DESC)
    WHERE resource_id IS NOT NULL;
