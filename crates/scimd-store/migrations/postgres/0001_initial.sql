-- scimd schema for PostgreSQL, version 1. It mirrors migrations/sqlite/0001_initial.sql.
--
-- * Every primary key and unique index starts with tenant_id, so one tenant's rows are
--   contiguous in every index, no query reaches another tenant's rows by key, and the
--   schema shards by tenant on distributed engines (see ARCHITECTURE.md, PostgreSQL).
-- * Every text column is COLLATE "C": comparisons and ORDER BY are byte order, as on
--   SQLite, so both backends sort alike, a cursor's keyset condition agrees with the
--   ORDER BY that issued it, and `sw` (compiled to `x >= 'ab' AND x < 'ac'`) is a
--   range scan of the ordinary b-tree index whatever the database's locale is.
-- * Timestamps are TEXT in one fixed RFC 3339 form, UTC, microsecond precision
--   (`2024-01-02T03:04:05.000006Z`), exactly as on SQLite: text order is time order,
--   and the shared filter compiler and cursors treat them the same on both backends.
-- * Documents are JSONB; filters on attributes without a column read them with #>.
-- * *_norm columns hold values lowercased in Rust (Unicode-aware), never by SQL lower().
-- * `co` (contains) has no index of its own: it is a scan of one tenant's rows, bounded
--   by the (tenant_id, ...) index, with the LIKE applied as a filter. pg_trgm would need
--   a contrib extension that managed services and distributed engines do not all have.

CREATE TABLE tenants (
    id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    display_name         TEXT             NOT NULL,
    provisioning_enabled BOOLEAN          NOT NULL,
    created              TEXT COLLATE "C" NOT NULL,
    updated              TEXT COLLATE "C" NOT NULL
);

-- Keyed by (tenant, id) like everything else: a token is verified by the tenant of the
-- URL and its id. tokens_id serves the batched last-used update, which records token
-- ids only; ids are random, so the non-unique index finds one row.
CREATE TABLE tokens (
    tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT COLLATE "C" NOT NULL,
    name        TEXT             NOT NULL,
    secret_hash BYTEA            NOT NULL,
    created     TEXT COLLATE "C" NOT NULL,
    last_used   TEXT COLLATE "C",
    expires     TEXT COLLATE "C",
    revoked     TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX tokens_id ON tokens (id);
CREATE INDEX tokens_tenant ON tokens (tenant_id, created);

CREATE TABLE users (
    tenant_id         TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                TEXT COLLATE "C" NOT NULL,
    user_name         TEXT COLLATE "C" NOT NULL,
    user_name_norm    TEXT COLLATE "C" NOT NULL,
    external_id       TEXT COLLATE "C",
    external_id_norm  TEXT COLLATE "C",
    -- external_id_norm when externalId must be unique (the default), else NULL: the
    -- partial unique index below enforces the option without a read before the write.
    external_id_key   TEXT COLLATE "C",
    display_name      TEXT COLLATE "C",
    display_name_norm TEXT COLLATE "C",
    active            BOOLEAN,
    doc               JSONB            NOT NULL,
    created           TEXT COLLATE "C" NOT NULL,
    last_modified     TEXT COLLATE "C" NOT NULL,
    version           BIGINT           NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_user_name_norm_uq ON users (tenant_id, user_name_norm);
CREATE INDEX users_external_id_norm ON users (tenant_id, external_id_norm)
    WHERE external_id_norm IS NOT NULL;
CREATE UNIQUE INDEX users_external_id_key_uq ON users (tenant_id, external_id_key)
    WHERE external_id_key IS NOT NULL;
CREATE INDEX users_display_name_norm ON users (tenant_id, display_name_norm);
CREATE INDEX users_created ON users (tenant_id, created, id);
CREATE INDEX users_last_modified ON users (tenant_id, last_modified, id);

CREATE TABLE groups (
    tenant_id         TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                TEXT COLLATE "C" NOT NULL,
    display_name      TEXT COLLATE "C" NOT NULL,
    display_name_norm TEXT COLLATE "C" NOT NULL,
    external_id       TEXT COLLATE "C",
    external_id_norm  TEXT COLLATE "C",
    external_id_key   TEXT COLLATE "C",
    doc               JSONB            NOT NULL,
    created           TEXT COLLATE "C" NOT NULL,
    last_modified     TEXT COLLATE "C" NOT NULL,
    version           BIGINT           NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_display_name_norm_uq ON groups (tenant_id, display_name_norm);
CREATE INDEX groups_external_id_norm ON groups (tenant_id, external_id_norm)
    WHERE external_id_norm IS NOT NULL;
CREATE UNIQUE INDEX groups_external_id_key_uq ON groups (tenant_id, external_id_key)
    WHERE external_id_key IS NOT NULL;
CREATE INDEX groups_created ON groups (tenant_id, created, id);
CREATE INDEX groups_last_modified ON groups (tenant_id, last_modified, id);

-- One row per membership; adding or removing a member is one INSERT ... ON CONFLICT DO
-- NOTHING or one DELETE of one row, whatever the group's size.
CREATE TABLE group_members (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    group_id    TEXT COLLATE "C" NOT NULL,
    member_id   TEXT COLLATE "C" NOT NULL,
    member_type TEXT COLLATE "C" NOT NULL CHECK (member_type IN ('User', 'Group')),
    display     TEXT,
    PRIMARY KEY (tenant_id, group_id, member_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

-- Users' multi-valued attribute values (emails, phoneNumbers, roles, ...), one row per
-- element, rewritten on every user write.
CREATE TABLE user_values (
    tenant_id  TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    attr       TEXT COLLATE "C" NOT NULL,
    type_norm  TEXT COLLATE "C",
    value_norm TEXT COLLATE "C",
    is_primary BOOLEAN          NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_values_value ON user_values (tenant_id, attr, value_norm);
CREATE INDEX user_values_user ON user_values (tenant_id, user_id);

-- A dateTime held as text in a document, in the fixed stored form, or NULL when the
-- text is not a dateTime (a cast alone would fail the whole query). Filters on
-- dateTime attributes without a column (extensions) compare through it.
CREATE FUNCTION scimd_datetime_norm(value TEXT) RETURNS TEXT
    LANGUAGE plpgsql STABLE
    SET timezone = 'UTC'
AS $$
BEGIN
    RETURN to_char(value::timestamptz, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
