-- scimd schema, version 7: a counter that moves on with every change to a tenant or to
-- a token, so that a server can keep what authentication reads in memory and still
-- see changes made by another process on the same file (the CLI revoking a token while
-- the server runs).
--
-- Authenticating a SCIM request read the tenant and the token from the database every
-- time: 12% of the server's CPU under `mixed` (docs/benchmarks.md, item 54), most of it
-- SQLite's read lock and page cache, which every commit invalidates. The server now
-- keeps those rows in memory (src/sqlite/credential_cache.rs). Its own changes reach
-- the cache as they commit (the writer watches this table's row change); another
-- process's changes are seen when the checkpoint thread next reads this row (20 ms).
--
-- A token's last use is written in batches and changes nothing authentication
-- decides, so it does not move the counter: the token trigger names every other
-- column, and a column added to `tokens` later must be added to it.

CREATE TABLE credential_epoch (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO credential_epoch (id, value) VALUES (1, 0);

CREATE TRIGGER tenants_inserted_epoch AFTER INSERT ON tenants
BEGIN
    UPDATE credential_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER tenants_updated_epoch AFTER UPDATE ON tenants
BEGIN
    UPDATE credential_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER tenants_deleted_epoch AFTER DELETE ON tenants
BEGIN
    UPDATE credential_epoch SET value = value + 1 WHERE id = 1;
END;

CREATE TRIGGER tokens_inserted_epoch AFTER INSERT ON tokens
BEGIN
    UPDATE credential_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER tokens_updated_epoch
AFTER UPDATE OF id, tenant_id, name, secret_hash, created, expires, revoked, oauth_client_id
ON tokens
BEGIN
    UPDATE credential_epoch SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER tokens_deleted_epoch AFTER DELETE ON tokens
BEGIN
    UPDATE credential_epoch SET value = value + 1 WHERE id = 1;
END;
