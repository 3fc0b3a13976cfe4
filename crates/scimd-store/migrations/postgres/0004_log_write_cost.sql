-- scimd schema for PostgreSQL, version 4: a provisioning-log row costs less to write.
-- Mirrors migrations/sqlite/0004_log_write_cost.sql, which has the measurements.
--
-- The index on (tenant_id, resource_id, at) was the log's only index whose inserts
-- land at random places (resource ids are random): each appended row dirtied its own
-- leaf page, and after every checkpoint each such page costs a full-page image in the
-- WAL. The resource filter now walks (tenant_id, at DESC, seq DESC) newest first and
-- stops when the page is full, reading at most the tenant's retained entries.
DROP INDEX provisioning_logs_resource;
