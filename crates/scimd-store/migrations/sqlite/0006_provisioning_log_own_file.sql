-- scimd schema, version 6: the provisioning log lives in a file of its own, attached as
-- `logs` (src/sqlite/db.rs, `log_path`, says why).
--
-- Before this runs, the migration runner has copied every row into
-- `logs.provisioning_logs`, keeping each `seq`, in a transaction of its own that was
-- made durable (see `move_log_to_its_file` in src/sqlite/migrate.rs). The tenant's
-- foreign key cannot cross files: deleting a tenant deletes its log rows explicitly.
DROP TABLE main.provisioning_logs;
