-- scimd schema, version 5: a provisioning-log row is one B-tree entry fewer.
--
-- Until now `seq` was numbered per tenant (MAX + 1 in the batch's transaction) and the
-- key (tenant_id, seq) was a separate index next to the table's own rowid B-tree, so
-- every row was written three times: the table, that key, and the listing index. Now
-- `seq` is the rowid itself, numbered across tenants as PostgreSQL's identity column
-- already is (its 0003 explains why that is enough: `seq` only breaks ties between
-- entries of one tenant with the same `at`). A row is written to the table, which
-- only ever grows at its end, and to the listing index; the batch no longer reads
-- MAX(seq) per tenant; and with many tenants a batch touches one leaf of the table
-- instead of one per tenant in the key (docs/benchmarks.md, item 38).
--
-- SQLite gives a new row the largest rowid + 1, so deleting a tenant whose entries
-- were the newest lets their numbers be given again, to other tenants' later entries:
-- harmless, since an entry is only ever ordered among its own tenant's.
--
-- Existing entries keep their order within each tenant and are renumbered in time
-- order; a listing cursor issued before the upgrade may then repeat or skip entries
-- that share its `at`.

CREATE TABLE provisioning_logs_v5 (
    seq           INTEGER PRIMARY KEY,
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
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
    response_body TEXT
);
INSERT INTO provisioning_logs_v5 (
    tenant_id, at, method, path, status, latency_us, scim_type, detail, client,
    resource_id, request_id, request_body, response_body
)
SELECT tenant_id, at, method, path, status, latency_us, scim_type, detail, client,
       resource_id, request_id, request_body, response_body
FROM provisioning_logs
ORDER BY at, tenant_id, seq;
DROP TABLE provisioning_logs;
ALTER TABLE provisioning_logs_v5 RENAME TO provisioning_logs;
-- Listing newest first, time-range filters, the resource filter and pruning.
CREATE INDEX provisioning_logs_at ON provisioning_logs (tenant_id, at DESC, seq DESC);
