-- scimd schema, version 5: one index on externalId per table instead of two (SQLite's
-- migration 0008 does the same and says why: every create wrote both B-trees).
--
-- The unique index on (tenant_id, external_id_norm, external_id_key) serves
-- `externalId eq` filters by its first two columns and enforces the
-- `unique_external_id` setting by its third: external_id_key is external_id_norm when
-- externalId must be unique, else NULL, and PostgreSQL's unique indexes treat NULLs
-- as distinct by default (docs, "Unique Indexes"). `failure::write_error` maps its
-- name to the attribute a 409 names.
DROP INDEX users_external_id_norm;
DROP INDEX users_external_id_key_uq;
CREATE UNIQUE INDEX users_external_id_uq
    ON users (tenant_id, external_id_norm, external_id_key)
    WHERE external_id_norm IS NOT NULL;

DROP INDEX groups_external_id_norm;
DROP INDEX groups_external_id_key_uq;
CREATE UNIQUE INDEX groups_external_id_uq
    ON groups (tenant_id, external_id_norm, external_id_key)
    WHERE external_id_norm IS NOT NULL;
