//! A small versioned migration runner: the SQL files under `migrations/sqlite/` are
//! embedded at compile time and applied in order on the writer connection, each in its
//! own transaction, and recorded in `schema_migrations`.
//!
//! The provisioning log's file (attached as `logs`, see [`super::db::log_path`]) has a
//! schema of its own, versioned by its `user_version` and created before the main
//! file's migrations run, since main-file version 6 moves the log into it.

use super::db::{execute, query_opt, query_scalar, LOG_SCHEMA};
use crate::timestamp;
use crate::{StoreError, StoreResult};
use rusqlite::{Connection, TransactionBehavior};

/// One migration of the main file.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
    /// Work done before the migration's own transaction, in transactions of its own;
    /// it must be safe to run again (an interrupted upgrade runs it twice).
    before: Option<fn(&Connection) -> StoreResult<()>>,
}

impl Migration {
    const fn sql(version: i64, name: &'static str, sql: &'static str) -> Self {
        Migration {
            version,
            name,
            sql,
            before: None,
        }
    }

    /// The same migration with work to do before its transaction.
    const fn after(self, before: fn(&Connection) -> StoreResult<()>) -> Self {
        Migration {
            before: Some(before),
            ..self
        }
    }
}

/// The main file's migrations, in version order.
const MIGRATIONS: &[Migration] = &[
    Migration::sql(
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    Migration::sql(
        2,
        "credentials",
        include_str!("../../migrations/sqlite/0002_credentials.sql"),
    ),
    Migration::sql(
        3,
        "provisioning_logs",
        include_str!("../../migrations/sqlite/0003_provisioning_logs.sql"),
    ),
    Migration::sql(
        4,
        "log_write_cost",
        include_str!("../../migrations/sqlite/0004_log_write_cost.sql"),
    ),
    Migration::sql(
        5,
        "log_seq_is_rowid",
        include_str!("../../migrations/sqlite/0005_log_seq_is_rowid.sql"),
    ),
    Migration::sql(
        6,
        "provisioning_log_own_file",
        include_str!("../../migrations/sqlite/0006_provisioning_log_own_file.sql"),
    )
    .after(move_log_to_its_file),
    Migration::sql(
        7,
        "credential_epoch",
        include_str!("../../migrations/sqlite/0007_credential_epoch.sql"),
    ),
    Migration::sql(
        8,
        "external_id_one_index",
        include_str!("../../migrations/sqlite/0008_external_id_one_index.sql"),
    ),
];

/// The log file's schema versions (`PRAGMA logs.user_version`), in order.
const LOG_MIGRATIONS: &[&str] = &[include_str!(
    "../../migrations/sqlite/log/0001_provisioning_logs.sql"
)];

/// Applies every migration the two files have not seen yet.
pub(super) fn run(conn: &mut Connection) -> StoreResult<()> {
    apply_log(conn)?;
    apply(conn, MIGRATIONS)
}

/// Brings the log file's schema up to date.
fn apply_log(conn: &mut Connection) -> StoreResult<()> {
    let pragma = format!("PRAGMA {LOG_SCHEMA}.user_version");
    for (index, sql) in LOG_MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row(&pragma, [], |row| row.get(0))?;
        if current < version {
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("{pragma} = {version}"))?;
        }
        tx.commit()?;
    }
    let current: i64 = conn.query_row(&pragma, [], |row| row.get(0))?;
    let known = i64::try_from(LOG_MIGRATIONS.len()).unwrap_or(i64::MAX);
    if current > known {
        return Err(StoreError::Database(format!(
            "the provisioning log file's schema (version {current}) is newer than this binary knows (version {known})"
        )));
    }
    Ok(())
}

/// Before main-file version 6: copies the main file's log rows into the log file,
/// keeping each `seq` (so cursors and order survive), and makes the copy durable
/// before version 6 drops the originals. `OR IGNORE` on the key makes it safe to run
/// again after an upgrade stopped between the two.
fn move_log_to_its_file(conn: &Connection) -> StoreResult<()> {
    let in_main = query_opt(
        conn,
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'provisioning_logs'",
        &[],
        |_| Ok(()),
    )?;
    if in_main.is_none() {
        return Ok(());
    }
    // A commit in WAL mode with synchronous=NORMAL is durable only at the next
    // checkpoint; this one must be durable before the originals go.
    conn.execute_batch(&format!("PRAGMA {LOG_SCHEMA}.synchronous = FULL"))?;
    let copied = copy_log_rows(conn);
    let restored = conn.execute_batch(&format!("PRAGMA {LOG_SCHEMA}.synchronous = NORMAL"));
    copied?;
    Ok(restored?)
}

/// The copy of [`move_log_to_its_file`], in a transaction of its own (rolled back when
/// dropped uncommitted).
fn copy_log_rows(conn: &Connection) -> rusqlite::Result<()> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    tx.execute(
        &format!(
            "INSERT OR IGNORE INTO {LOG_SCHEMA}.provisioning_logs (
                 seq, tenant_id, at, method, path, status, latency_us, scim_type, detail,
                 client, resource_id, request_id, request_body, response_body)
             SELECT seq, tenant_id, at, method, path, status, latency_us, scim_type, detail,
                    client, resource_id, request_id, request_body, response_body
             FROM main.provisioning_logs ORDER BY seq"
        ),
        [],
    )?;
    tx.commit()
}

/// Applies those of `migrations` the database has not seen yet (tests stop early to
/// build a database of an older version).
fn apply(conn: &mut Connection, migrations: &[Migration]) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER NOT NULL PRIMARY KEY,
            name    TEXT    NOT NULL,
            applied TEXT    NOT NULL
        )",
    )?;
    for migration in migrations {
        let version = &migration.version;
        if let Some(before) = migration.before {
            if !is_applied(conn, *version)? {
                before(conn)?;
            }
        }
        // BEGIN IMMEDIATE: two processes opening the same file at once serialise here,
        // and the second sees the first one's row.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if !is_applied(&tx, *version)? {
            tx.execute_batch(migration.sql)?;
            execute(
                &tx,
                "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)",
                &[
                    version,
                    &migration.name,
                    &timestamp::format(timestamp::now()),
                ],
            )?;
        }
        tx.commit()?;
    }
    let newest: Option<i64> =
        query_scalar(conn, "SELECT MAX(version) FROM schema_migrations", &[])?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if newest.unwrap_or(0) > known {
        return Err(StoreError::Database(format!(
            "the database schema (version {}) is newer than this binary knows (version {known})",
            newest.unwrap_or(0)
        )));
    }
    Ok(())
}

fn is_applied(conn: &Connection, version: i64) -> StoreResult<bool> {
    let found = query_opt(
        conn,
        "SELECT version FROM schema_migrations WHERE version = $1",
        &[&version],
        |_| Ok(()),
    )?;
    Ok(found.is_some())
}

/// The versions recorded in `schema_migrations`, in order.
pub(super) fn versions(conn: &Connection) -> StoreResult<Vec<i64>> {
    super::db::query_all(
        conn,
        "SELECT version FROM schema_migrations ORDER BY version",
        &[],
        |row| Ok(row.get(0)?),
    )
}

/// A new database file with the migrations up to `version` applied, on a writer
/// connection, for unit tests of the schema. The directory goes with the first value.
#[cfg(test)]
pub(super) fn database_at_version(version: i64) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut conn = super::db::open_writer(&dir.path().join("scimd.db"), Default::default())
        .expect("open the database");
    let upto = MIGRATIONS.partition_point(|m| m.version <= version);
    apply_log(&mut conn).expect("the log file's schema");
    apply(&mut conn, &MIGRATIONS[..upto]).expect("migrations");
    (dir, conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LogClient, NewLogEntry};

    const AT_1: &str = "2026-01-01T00:00:01.000000Z";
    const AT_2: &str = "2026-01-01T00:00:02.000000Z";

    /// Tenants `a` and `b`, straight into the table (any schema version has it).
    fn tenants_a_and_b(conn: &Connection) {
        for tenant in ["a", "b"] {
            execute(
                conn,
                "INSERT INTO tenants (id, display_name, provisioning_enabled, created, updated) \
                 VALUES ($1, $1, 1, $2, $2)",
                &[&tenant, &AT_1],
            )
            .expect("tenant");
        }
    }

    /// Migration 0005 renumbers the log across tenants and keeps each tenant's order,
    /// including entries that share an `at`; 0006 moves it, numbers and all, to its
    /// own file; later appends come after them.
    #[test]
    fn versions_5_and_6_renumber_the_log_and_move_it_to_its_file() {
        let (_dir, mut conn) = database_at_version(4);
        tenants_a_and_b(&conn);
        // Version 4 numbered per tenant: a has 1-3, b has 1-2; a's 1 and 2 share an `at`.
        let old_rows = [
            ("a", 1, AT_1, "a-first"),
            ("a", 2, AT_1, "a-second"),
            ("b", 1, AT_1, "b-first"),
            ("a", 3, AT_2, "a-third"),
            ("b", 2, AT_2, "b-second"),
        ];
        for (tenant, seq, at, request_id) in old_rows {
            execute(
                &conn,
                "INSERT INTO provisioning_logs (seq, tenant_id, at, method, path, status, \
                 latency_us, client, request_id) VALUES ($1, $2, $3, 'GET', '/Users', 200, 1, \
                 'other', $4)",
                &[&seq, &tenant, &at, &request_id],
            )
            .expect("old entry");
        }

        run(&mut conn).expect("versions 5 and 6");
        let in_main: Option<()> = query_opt(
            &conn,
            "SELECT 1 FROM main.sqlite_master WHERE name = 'provisioning_logs'",
            &[],
            |_| Ok(()),
        )
        .expect("main schema");
        assert!(in_main.is_none(), "the main file no longer holds the log");

        fn listing(conn: &Connection, tenant: &str) -> Vec<(i64, String)> {
            super::super::db::query_all(
                conn,
                "SELECT seq, request_id FROM provisioning_logs WHERE tenant_id = $1 \
                 ORDER BY at DESC, seq DESC",
                &[&tenant],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("listing")
        }
        let ids = |rows: &[(i64, String)]| rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&listing(&conn, "a")),
            ["a-third", "a-second", "a-first"]
        );
        assert_eq!(ids(&listing(&conn, "b")), ["b-second", "b-first"]);
        let mut seqs: Vec<i64> = listing(&conn, "a")
            .iter()
            .chain(&listing(&conn, "b"))
            .map(|r| r.0)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), 5, "every entry has its own number");

        // The key is the rowid: the listing index is the table's only index.
        let indexes: Vec<String> = super::super::db::query_all(
            &conn,
            "SELECT name FROM logs.sqlite_master \
             WHERE type = 'index' AND tbl_name = 'provisioning_logs'",
            &[],
            |row| Ok(row.get(0)?),
        )
        .expect("indexes");
        assert_eq!(indexes, ["provisioning_logs_at"]);

        // An entry appended now is numbered after all of them.
        let entry = NewLogEntry {
            tenant_id: "b".into(),
            at: crate::timestamp::parse(AT_2).expect("timestamp"),
            method: "POST".into(),
            path: "/Users".into(),
            status: 201,
            latency_us: 1,
            scim_type: None,
            detail: None,
            client: LogClient::Entra,
            resource_id: None,
            request_id: "b-third".into(),
            request_body: None,
            response_body: None,
        };
        let tx = conn.transaction().expect("transaction");
        assert_eq!(
            super::super::logs::append(&tx, &[entry]).expect("append"),
            1
        );
        tx.commit().expect("commit");
        let b = listing(&conn, "b");
        assert_eq!(ids(&b), ["b-third", "b-second", "b-first"]);
        assert!(b[0].0 > *seqs.last().expect("numbers"));
    }

    /// Version 5's log, with rows of two tenants.
    fn version_5_with_log_rows() -> (tempfile::TempDir, Connection) {
        let (dir, conn) = database_at_version(5);
        tenants_a_and_b(&conn);
        for (tenant, at, request_id) in [("a", AT_1, "a-1"), ("b", AT_1, "b-1"), ("a", AT_2, "a-2")]
        {
            execute(
                &conn,
                "INSERT INTO main.provisioning_logs (tenant_id, at, method, path, status, \
                 latency_us, client, request_id) VALUES ($1, $2, 'GET', '/Users', 200, 1, \
                 'okta', $3)",
                &[&tenant, &at, &request_id],
            )
            .expect("entry");
        }
        (dir, conn)
    }

    fn log_rows(conn: &Connection, schema: &str) -> Vec<(i64, String, String)> {
        super::super::db::query_all(
            conn,
            &format!(
                "SELECT seq, tenant_id, request_id FROM {schema}.provisioning_logs ORDER BY seq"
            ),
            &[],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("log rows")
    }

    /// An upgrade interrupted after the copy (the originals still in the main file)
    /// copies again without duplicating a row, and every row lands in the log's own
    /// file with its number, as a connection to that file alone sees.
    #[test]
    fn the_log_move_can_run_again() {
        let (dir, mut conn) = version_5_with_log_rows();
        let before = log_rows(&conn, "main");
        assert_eq!(before.len(), 3);
        move_log_to_its_file(&conn).expect("first copy");
        move_log_to_its_file(&conn).expect("second copy");
        run(&mut conn).expect("version 6");
        assert_eq!(log_rows(&conn, LOG_SCHEMA), before);
        drop(conn);
        let log_file = Connection::open(super::super::db::log_path(&dir.path().join("scimd.db")))
            .expect("open the log file");
        assert_eq!(log_rows(&log_file, "main"), before);
        let version: i64 = log_file
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, 1);
    }

    /// The log file's schema refuses a `client` outside the three kinds, as the main
    /// file's did (the check is written without `IN`, not dropped).
    #[test]
    fn the_log_file_checks_the_client() {
        let (_dir, mut conn) = database_at_version(5);
        run(&mut conn).expect("version 6");
        let refused = execute(
            &conn,
            "INSERT INTO logs.provisioning_logs (tenant_id, at, method, path, status, \
             latency_us, client, request_id) VALUES ('a', $1, 'GET', '/Users', 200, 1, \
             'azure', 'r')",
            &[&AT_1],
        );
        assert!(refused.is_err(), "{refused:?}");
        for client in ["entra", "okta", "other"] {
            execute(
                &conn,
                "INSERT INTO logs.provisioning_logs (tenant_id, at, method, path, status, \
                 latency_us, client, request_id) VALUES ('a', $1, 'GET', '/Users', 200, 1, \
                 $2, 'r')",
                &[&AT_1, &client],
            )
            .expect("a known client");
        }
    }

    /// Migration 0008 replaces each table's two externalId indexes by one and keeps
    /// what they enforced: with a key (uniqueness on) a second equal externalId is
    /// refused; without one (uniqueness off) it is not; filters use the new index.
    #[test]
    fn version_8_keeps_one_external_id_index_that_still_enforces_the_option() {
        let (_dir, mut conn) = database_at_version(7);
        tenants_a_and_b(&conn);
        let insert_user = |conn: &Connection, id: &str, key: Option<&str>| {
            execute(
                conn,
                "INSERT INTO users (tenant_id, id, user_name, user_name_norm, external_id, \
                 external_id_norm, external_id_key, doc, created, last_modified, version) \
                 VALUES ('a', $1, $1, $1, 'E', 'e', $2, '{}', $3, $3, 1)",
                &[&id, &key, &AT_1],
            )
        };
        // Written before the upgrade: one with a key, two without (uniqueness was off).
        insert_user(&conn, "u1", Some("e")).expect("keyed user");
        insert_user(&conn, "u2", None).expect("unkeyed user");
        insert_user(&conn, "u3", None).expect("second unkeyed user");

        run(&mut conn).expect("version 8");
        let indexes: Vec<String> = super::super::db::query_all(
            &conn,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%external_id%' \
             ORDER BY name",
            &[],
            |row| Ok(row.get(0)?),
        )
        .expect("index names");
        assert_eq!(indexes, ["groups_external_id_uq", "users_external_id_uq"]);
        let users: i64 =
            query_scalar(&conn, "SELECT COUNT(*) FROM users", &[]).expect("user count");
        assert_eq!(users, 3, "no row is lost");

        let refused = insert_user(&conn, "u4", Some("e")).map_err(super::super::db::write_error);
        assert!(
            matches!(&refused, Err(StoreError::Scim(e)) if e.detail.contains("externalId")),
            "a second keyed 'e' is a 409 naming externalId: {refused:?}"
        );
        insert_user(&conn, "u5", None).expect("without a key, duplicates stay allowed");

        let plan: Vec<String> = super::super::db::query_all(
            &conn,
            "EXPLAIN QUERY PLAN SELECT id FROM users WHERE tenant_id = 'a' \
             AND external_id_norm = 'e'",
            &[],
            |row| Ok(row.get(3)?),
        )
        .expect("plan");
        assert!(
            plan.iter()
                .any(|step| step.contains("users_external_id_uq")),
            "{plan:?}"
        );
    }
}
