-- scimd schema, version 1.
--
-- Portability notes (the PostgreSQL migration mirrors this file):
-- * Every primary key and unique index starts with tenant_id, so one tenant's rows are
--   contiguous in every index and no query can reach another tenant's rows by key.
-- * Timestamps are TEXT in one fixed RFC 3339 form, UTC, microsecond precision
--   (`2024-01-02T03:04:05.000006Z`), so text order is time order.
-- * Documents are JSON as TEXT here (JSONB on PostgreSQL).
-- * *_norm columns hold values lowercased in Rust (Unicode-aware), never by SQL lower(),
--   so that both backends agree on what "case-insensitive" means.

CREATE TABLE tenants (
    id                   TEXT    NOT NULL PRIMARY KEY,
    display_name         TEXT    NOT NULL,
    provisioning_enabled INTEGER NOT NULL,
    created              TEXT    NOT NULL,
    updated              TEXT    NOT NULL
);

CREATE TABLE tokens (
    id          TEXT NOT NULL PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    created     TEXT NOT NULL,
    last_used   TEXT,
    expires     TEXT,
    revoked     TEXT
);
CREATE INDEX tokens_tenant ON tokens (tenant_id, created);

CREATE TABLE users (
    tenant_id         TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                TEXT    NOT NULL,
    user_name         TEXT    NOT NULL,
    user_name_norm    TEXT    NOT NULL,
    external_id       TEXT,
    external_id_norm  TEXT,
    -- external_id_norm when externalId must be unique (the default), else NULL: the
    -- unique index below enforces the option without a read before the write.
    external_id_key   TEXT,
    display_name      TEXT,
    display_name_norm TEXT,
    active            INTEGER,
    doc               TEXT    NOT NULL,
    created           TEXT    NOT NULL,
    last_modified     TEXT    NOT NULL,
    version           INTEGER NOT NULL,
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
    tenant_id         TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                TEXT    NOT NULL,
    display_name      TEXT    NOT NULL,
    display_name_norm TEXT    NOT NULL,
    external_id       TEXT,
    external_id_norm  TEXT,
    -- external_id_norm when externalId must be unique (the default), else NULL: the
    -- unique index below enforces the option without a read before the write.
    external_id_key   TEXT,
    doc               TEXT    NOT NULL,
    created           TEXT    NOT NULL,
    last_modified     TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_display_name_norm_uq ON groups (tenant_id, display_name_norm);
CREATE INDEX groups_external_id_norm ON groups (tenant_id, external_id_norm)
    WHERE external_id_norm IS NOT NULL;
CREATE UNIQUE INDEX groups_external_id_key_uq ON groups (tenant_id, external_id_key)
    WHERE external_id_key IS NOT NULL;
CREATE INDEX groups_created ON groups (tenant_id, created, id);
CREATE INDEX groups_last_modified ON groups (tenant_id, last_modified, id);

-- One row per membership. A member is a user or a group, so member_id has no foreign
-- key; the store deletes memberships naming a resource when it deletes the resource.
-- WITHOUT ROWID: the primary key is the only thing ever looked up, so the table is
-- stored as that B-tree and adding or removing one member touches one entry.
CREATE TABLE group_members (
    tenant_id   TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    member_type TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    -- The `display` the client sent with the member, if any; returned instead of the
    -- member's own name.
    display     TEXT,
    PRIMARY KEY (tenant_id, group_id, member_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_members_member ON group_members (tenant_id, member_id);

-- The index of users' multi-valued attribute values (emails, phoneNumbers, roles, ...):
-- one row per element, rewritten on every user write, so that
-- `emails[type eq "work"].value eq "x"` is an index lookup. `is_primary` is named so
-- because PRIMARY is a reserved word in both SQL dialects.
CREATE TABLE user_values (
    tenant_id  TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    attr       TEXT    NOT NULL,
    type_norm  TEXT,
    value_norm TEXT,
    is_primary INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_values_value ON user_values (tenant_id, attr, value_norm);
CREATE INDEX user_values_user ON user_values (tenant_id, user_id);
