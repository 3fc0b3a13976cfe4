-- scimd schema, version 8: one index on externalId per table instead of two.
--
-- Version 1 gave users and groups two indexes on externalId: one on
-- (tenant_id, external_id_norm) that `externalId eq` filters use, and a unique one on
-- (tenant_id, external_id_key) that enforces the `unique_external_id` setting
-- (external_id_key is external_id_norm when externalId must be unique, else NULL).
-- Every create wrote both B-trees, and a B-tree written is a page appended to the WAL
-- at the next commit: dropping the duplicate took 3% off entra-cycle's end-to-end
-- time, and this merge about 2% (docs/benchmarks.md, item 68).
--
-- One unique index on (tenant_id, external_id_norm, external_id_key) does both jobs:
-- - filters use its first two columns, as they used the old index;
-- - two rows with the same normalised externalId collide only when both keys are
--   equal, that is when uniqueness is on (key = norm); with it off the key is NULL,
--   and a unique index treats NULLs as distinct (SQLite docs, "CREATE INDEX",
--   "Unique Indexes"), so duplicates are allowed, as before.
-- The columns and what writes put in them do not change, so no row is rewritten.
DROP INDEX users_external_id_norm;
DROP INDEX users_external_id_key_uq;
CREATE UNIQUE INDEX users_external_id_uq ON users (tenant_id, external_id_norm, external_id_key)
    WHERE external_id_norm IS NOT NULL;

DROP INDEX groups_external_id_norm;
DROP INDEX groups_external_id_key_uq;
CREATE UNIQUE INDEX groups_external_id_uq
    ON groups (tenant_id, external_id_norm, external_id_key)
    WHERE external_id_norm IS NOT NULL;
