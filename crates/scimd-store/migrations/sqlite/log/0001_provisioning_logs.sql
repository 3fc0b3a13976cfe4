-- The provisioning log's own file (attached as `logs`), version 1: the table that
-- main-file migrations 0003-0005 shaped, moved out of the main file by its migration
-- 0006 (see `log_path` in src/sqlite/db.rs for why).
--
-- Unchanged from main-file version 5 but for one thing: `client` is checked with `=`
-- and `OR`, not `IN (...)`. SQLite evaluates an IN list of three or more values by
-- building a temporary index on every row it checks; for a table that gains a row per
-- SCIM request that was 1% of the server's CPU under a read load (docs/benchmarks.md,
-- item 49). The rule is the same.
CREATE TABLE IF NOT EXISTS logs.provisioning_logs (
    seq           INTEGER PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    at            TEXT    NOT NULL,
    method        TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    status        INTEGER NOT NULL,
    latency_us    INTEGER NOT NULL,
    scim_type     TEXT,
    detail        TEXT,
    client        TEXT    NOT NULL
                  CHECK (client = 'entra' OR client = 'okta' OR client = 'other'),
    resource_id   TEXT,
    request_id    TEXT    NOT NULL,
    request_body  TEXT,
    response_body TEXT
);
-- Listing newest first, time-range filters, the resource filter and pruning.
CREATE INDEX IF NOT EXISTS logs.provisioning_logs_at
    ON provisioning_logs (tenant_id, at DESC, seq DESC);
