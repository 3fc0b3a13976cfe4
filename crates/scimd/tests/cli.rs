//! The real `scimd` binary against temporary data directories: admin commands, their
//! JSON output and exit codes, settings precedence, and a served instance (first-start
//! output, tokens accepted and revoked while it runs, clean stop on SIGTERM).

use reqwest::StatusCode;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Upper bound on waiting for the server to say something; a safety net, not a
/// performance assertion.
const PATIENCE: Duration = Duration::from_secs(60);

/// `scimd` with no `SCIMD_*` variables from the outside and `dir` as working directory.
fn scimd(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for var in [
        "SCIMD_LISTEN",
        "SCIMD_DATA_DIR",
        "SCIMD_PUBLIC_URL",
        "SCIMD_CONFIG",
        "SCIMD_LOG_FORMAT",
        "SCIMD_LOG_LEVEL",
        "SCIMD_DATABASE_URL",
        "SCIMD_DB_MAX_CONNECTIONS",
        "SCIMD_DB_ACQUIRE_TIMEOUT",
        "SCIMD_DB_STATEMENT_TIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir);
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    scimd(dir).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must succeed and returns its stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    assert!(
        output.status.success(),
        "scimd {args:?} failed: {}\n{}",
        stderr(&output),
        stdout(&output)
    );
    stdout(&output)
}

/// Runs a command that must print one JSON document.
fn ok_json(dir: &Path, args: &[&str]) -> Value {
    let out = ok(dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Runs a command that must fail with `code` and returns its stderr.
fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let output = run(dir, args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "scimd {args:?}: {}\n{}",
        stderr(&output),
        stdout(&output)
    );
    stderr(&output)
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

// ---- admin commands ----------------------------------------------------------

#[test]
fn tenant_create_json_prints_exactly_id_scim_url_and_token() {
    let tmp = tempfile::tempdir().unwrap();
    let created = ok_json(
        tmp.path(),
        &[
            "tenant",
            "create",
            "acme",
            "--json",
            "--public-url",
            "https://scim.example.com/",
        ],
    );
    assert_eq!(keys(&created), ["id", "scim_url", "token"]);
    assert_eq!(created["id"], "acme");
    assert_eq!(created["scim_url"], "https://scim.example.com/scim/v2/acme");
    assert!(created["token"].as_str().unwrap().starts_with("scimd_"));
    // The default data directory, relative to the working directory.
    assert!(tmp.path().join("scimd-data/scimd.db").exists());

    let listed = ok_json(tmp.path(), &["tenant", "list", "--json"]);
    let tenants = listed.as_array().unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0]["id"], "acme");
    assert_eq!(tenants[0]["display_name"], "acme");
    assert_eq!(tenants[0]["provisioning_enabled"], true);
    assert_eq!(tenants[0]["scim_url"], "http://127.0.0.1:8080/scim/v2/acme");

    let human = ok(tmp.path(), &["tenant", "list"]);
    assert!(
        human.contains("acme") && human.contains("SCIM URL"),
        "{human}"
    );
}

#[test]
fn tenant_create_human_output_explains_where_to_paste() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(
        tmp.path(),
        &[
            "tenant",
            "create",
            "globex",
            "--display-name",
            "Globex Corp",
        ],
    );
    assert!(out.contains("Globex Corp"), "{out}");
    assert!(
        out.contains("http://127.0.0.1:8080/scim/v2/globex"),
        "{out}"
    );
    assert!(out.contains("scimd_"), "{out}");
    assert!(out.contains("shown once"), "{out}");
    assert!(out.contains("Entra ID") && out.contains("Okta"), "{out}");
}

#[test]
fn admin_errors_go_to_stderr_with_exit_code_1_and_usage_errors_2() {
    let tmp = tempfile::tempdir().unwrap();
    let err = fails(tmp.path(), &["tenant", "list"], 1);
    assert!(err.contains("no scimd database"), "{err}");

    ok(tmp.path(), &["tenant", "create", "acme", "--json"]);
    let err = fails(tmp.path(), &["tenant", "create", "acme"], 1);
    assert!(err.starts_with("error: "), "{err}");
    let err = fails(tmp.path(), &["tenant", "create", "Not A Slug"], 1);
    assert!(err.contains("a-z"), "{err}");
    let err = fails(tmp.path(), &["token", "create", "nobody"], 1);
    assert!(err.contains("nobody"), "{err}");
    let err = fails(tmp.path(), &["token", "list", "nobody"], 1);
    assert!(err.contains("nobody"), "{err}");
    let err = fails(tmp.path(), &["token", "revoke", "acme", "zzzzzzzz"], 1);
    assert!(err.contains("zzzzzzzz"), "{err}");

    fails(
        tmp.path(),
        &["token", "create", "acme", "--expires-in", "soon"],
        2,
    );
    fails(tmp.path(), &["tenant"], 2);
    fails(tmp.path(), &["serve", "--listen", "not-an-address"], 2);
    fails(tmp.path(), &["frobnicate"], 2);
}

#[test]
fn tokens_are_created_listed_without_secrets_and_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok_json(dir, &["tenant", "create", "acme", "--json"]);

    let short = ok_json(
        dir,
        &[
            "token",
            "create",
            "acme",
            "--name",
            "okta",
            "--expires-in",
            "7d",
            "--json",
        ],
    );
    assert_eq!(keys(&short), ["id", "tenant", "token", "expires"]);
    assert_eq!(short["tenant"], "acme");
    let short_id = short["id"].as_str().unwrap().to_owned();
    let short_token = short["token"].as_str().unwrap().to_owned();
    assert!(short_token.starts_with(&format!("scimd_{short_id}_")));
    assert!(short["expires"].is_string());

    let forever = ok_json(dir, &["token", "create", "acme", "--json"]);
    assert_eq!(forever["expires"], Value::Null);

    let listed = ok_json(dir, &["token", "list", "acme", "--json"]);
    let tokens = listed.as_array().unwrap();
    assert_eq!(tokens.len(), 3, "initial + two: {listed}");
    for token in tokens {
        assert_eq!(
            keys(token),
            [
                "id",
                "name",
                "created",
                "last_used",
                "expires",
                "revoked",
                "status"
            ]
        );
    }
    let by_id = |id: &str| tokens.iter().find(|t| t["id"] == id).unwrap().clone();
    assert_eq!(by_id(&short_id)["name"], "okta");
    assert_eq!(by_id(&short_id)["status"], "expiring_soon");
    assert_eq!(by_id(forever["id"].as_str().unwrap())["status"], "active");
    // The secret is base64url and may itself contain '_': split as the server does.
    let (_, secret) = scimd_server::tokens::split_token(&short_token).unwrap();
    let human = ok(dir, &["token", "list", "acme"]);
    for out in [listed.to_string(), human.clone()] {
        assert!(!out.contains(secret), "a secret leaked: {out}");
    }
    assert!(
        human.contains("EXPIRES SOON") && human.contains("14 days"),
        "{human}"
    );

    let out = ok(dir, &["token", "revoke", "acme", &short_id]);
    assert!(out.contains("Revoked"), "{out}");
    let listed = ok_json(dir, &["token", "list", "acme", "--json"]);
    let revoked = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == short_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked"].is_string());
    let again = ok(dir, &["token", "revoke", "acme", &short_id]);
    assert!(again.contains("already revoked"), "{again}");
}

// ---- settings precedence -----------------------------------------------------

#[test]
fn settings_come_from_flag_then_env_then_file_then_default() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file_data = dir.join("from-file");
    let config = dir.join("scimd.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\npublic_url = \"https://file.example\"\nlisten = \"127.0.0.1:7001\"\n[limits]\nmax_page_size = 10\n",
            file_data.to_str().unwrap()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    let scim_url = |mut cmd: Command, tenant: &str| -> String {
        let output = cmd
            .args(["tenant", "create", tenant, "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let created: Value = serde_json::from_slice(&output.stdout).unwrap();
        created["scim_url"].as_str().unwrap().to_owned()
    };

    // Flag beats environment beats file.
    let mut cmd = scimd(dir);
    cmd.env("SCIMD_CONFIG", config)
        .env("SCIMD_PUBLIC_URL", "https://env.example")
        .args(["--public-url", "https://flag.example"]);
    assert_eq!(scim_url(cmd, "t1"), "https://flag.example/scim/v2/t1");

    let mut cmd = scimd(dir);
    cmd.env("SCIMD_CONFIG", config)
        .env("SCIMD_PUBLIC_URL", "https://env.example");
    assert_eq!(scim_url(cmd, "t2"), "https://env.example/scim/v2/t2");

    let mut cmd = scimd(dir);
    cmd.args(["--config", config]);
    assert_eq!(scim_url(cmd, "t3"), "https://file.example/scim/v2/t3");
    // The file's data_dir was used for all three.
    assert!(file_data.join("scimd.db").exists());
    assert!(!dir.join("scimd-data").exists());

    // Listen: environment over file, used when there is no public URL.
    let other = dir.join("other.toml");
    std::fs::write(&other, "listen = \"127.0.0.1:7001\"\n").unwrap();
    let mut cmd = scimd(dir);
    cmd.args(["--config", other.to_str().unwrap()]);
    assert_eq!(scim_url(cmd, "t4"), "http://127.0.0.1:7001/scim/v2/t4");
    let mut cmd = scimd(dir);
    cmd.args(["--config", other.to_str().unwrap()])
        .env("SCIMD_LISTEN", "127.0.0.1:7002");
    assert_eq!(scim_url(cmd, "t5"), "http://127.0.0.1:7002/scim/v2/t5");

    // Defaults: ./scimd-data and 127.0.0.1:8080.
    assert_eq!(
        scim_url(scimd(dir), "t6"),
        "http://127.0.0.1:8080/scim/v2/t6"
    );
    assert!(dir.join("scimd-data/scimd.db").exists());
}

#[test]
fn a_bad_config_file_is_reported_with_exit_code_1() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("bad.toml");
    std::fs::write(&config, "[limits]\nmax_bodybytes = 10\n").unwrap();
    let err = fails(
        tmp.path(),
        &["--config", config.to_str().unwrap(), "tenant", "list"],
        1,
    );
    assert!(err.contains("max_bodybytes"), "{err}");
}

// ---- serving -----------------------------------------------------------------

/// A `scimd serve` child: its stdout lines arrive on a channel; stderr goes to a file.
struct Served {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr_path: std::path::PathBuf,
}

impl Served {
    fn start(dir: &Path, extra: &[&str]) -> Served {
        let stderr_path = dir.join(format!("stderr-{}.log", std::process::id()));
        let stderr_file = std::fs::File::create(&stderr_path).unwrap();
        let mut child = scimd(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(stderr_file)
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            seen: Vec::new(),
            stderr_path,
        }
    }

    /// Reads stdout until a line contains `marker`; returns that line.
    fn line_with(&mut self, marker: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(marker)) {
            return line.clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(marker) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no stdout line with {marker:?}; stdout so far:\n{}\nstderr:\n{}",
                    self.seen.join("\n"),
                    self.stderr()
                ),
            }
        }
    }

    /// `http://127.0.0.1:PORT` from the "listening on" line.
    fn origin(&mut self) -> String {
        let line = self.line_with("listening on http://");
        line.rsplit(' ').next().unwrap().to_owned()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "scimd did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn value_after<'a>(line: &'a str, label: &str) -> &'a str {
    line.split_once(label)
        .unwrap_or_else(|| panic!("{label:?} not in {line:?}"))
        .1
        .split_whitespace()
        .next()
        .unwrap()
}

async fn get_users(scim_url: &str, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!("{scim_url}/Users"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// `GET /Users`'s status once it is `expected`, or the last one seen after a few
/// seconds. A running server keeps tokens in memory and sees a change made by
/// another process (this CLI) within 20 ms of its commit (the SQLite credential
/// cache's epoch poll); the seconds are a safety net, not the promise.
async fn get_users_settled(
    scim_url: &str,
    token: &str,
    expected: reqwest::StatusCode,
) -> reqwest::StatusCode {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = get_users(scim_url, token).await;
        if status == expected || Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn first_start_prints_a_url_and_token_that_work_and_sigterm_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut served = Served::start(tmp.path(), &["--log-format", "json"]);
    let origin = served.origin();
    assert!(
        !origin.ends_with(":0"),
        "the real port is printed: {origin}"
    );
    let scim_url = value_after(&served.line_with("SCIM URL"), "(Tenant URL):").to_owned();
    let token =
        value_after(&served.line_with("Token (Secret Token)"), "(Secret Token):").to_owned();
    served.line_with("shown once");
    let paste = served.line_with("Entra ID");
    assert!(
        paste.contains("Okta") && paste.contains("Secret Token"),
        "{paste}"
    );
    assert_eq!(scim_url, format!("{origin}/scim/v2/default"));

    let health = reqwest::get(format!("{origin}/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(get_users(&scim_url, &token).await.as_u16(), 200);
    let bad = format!("{token}x");
    assert_eq!(get_users(&scim_url, &bad).await.as_u16(), 401);

    let status = served.terminate();
    assert_eq!(status.code(), Some(0), "stderr:\n{}", served.stderr());

    // Logs: JSON lines on stderr, request lines tagged with a request id, no token.
    let logs = served.stderr();
    // The secret is base64url and may itself contain '_': split as the server does.
    let (_, secret) = scimd_server::tokens::split_token(&token).unwrap();
    assert!(
        !logs.contains(secret),
        "the token leaked into the logs:\n{logs}"
    );
    let mut request_lines = 0;
    for line in logs.lines() {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if entry["message"] == "request finished" {
            request_lines += 1;
            assert!(entry["span"]["request_id"].is_string(), "{line}");
            assert!(entry["span"]["route"].is_string(), "{line}");
        }
    }
    assert!(request_lines >= 3, "{logs}");
    assert!(logs.contains("SIGTERM"), "{logs}");
}

/// One server per SQLite file: a second `scimd serve` on the same data directory
/// stops at once with an error naming the cause (it would otherwise answer lookups
/// from a name set blind to the first one's writes), while admin commands still run
/// alongside; once the first stops, a server starts again.
#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = Served::start(tmp.path(), &[]);
    let origin = first.origin();

    let mut second = scimd(tmp.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = second.kill();
            panic!("a second server started on the same data directory");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut message = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut message).unwrap();
    assert_eq!(status.code(), Some(1), "{message}");
    assert!(
        message.contains("another scimd server is serving"),
        "{message}"
    );

    ok_json(tmp.path(), &["tenant", "create", "acme", "--json"]);
    let health = reqwest::get(format!("{origin}/healthz")).await.unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "the first server still serves"
    );
    assert_eq!(first.terminate().code(), Some(0));

    let mut again = Served::start(tmp.path(), &[]);
    again.origin();
    assert_eq!(again.terminate().code(), Some(0), "{}", again.stderr());
}

/// The `-wal` and `-shm` files in a data directory.
fn wal_files_in(data: &Path) -> Vec<String> {
    std::fs::read_dir(data)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with("-wal") || name.ends_with("-shm"))
        .collect()
}

/// Copies only the two database files of `from`'s data directory into a new one.
fn copy_database_files(from: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let copied = copy.path().join("scimd-data");
    std::fs::create_dir(&copied).unwrap();
    for file in ["scimd.db", "scimd-provisioning-log.db"] {
        std::fs::copy(from.join("scimd-data").join(file), copied.join(file)).unwrap();
    }
    copy
}

/// An admin command closes the database when it ends, whether it succeeded or not:
/// what it wrote is in the database files, not left in a WAL beside them.
#[test]
fn admin_commands_leave_their_writes_in_the_database_files() {
    let tmp = tempfile::tempdir().unwrap();
    ok_json(tmp.path(), &["tenant", "create", "acme", "--json"]);
    ok_json(tmp.path(), &["token", "create", "acme", "--json"]);
    fails(tmp.path(), &["token", "create", "nobody"], 1);
    let data = tmp.path().join("scimd-data");
    assert_eq!(wal_files_in(&data), Vec::<String>::new());

    let copy = copy_database_files(tmp.path());
    let tokens = ok_json(copy.path(), &["token", "list", "acme", "--json"]);
    assert_eq!(tokens.as_array().unwrap().len(), 2, "{tokens}");
}

/// A graceful stop closes the database: SQLite folds its write-ahead logs into the
/// two database files and removes them, so those two files alone (what the README's
/// backup advice copies from a stopped scimd) hold everything written.
#[tokio::test]
async fn a_stopped_server_leaves_its_data_whole_in_the_database_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mut served = Served::start(tmp.path(), &[]);
    let scim_url = value_after(&served.line_with("SCIM URL"), "(Tenant URL):").to_owned();
    let token =
        value_after(&served.line_with("Token (Secret Token)"), "(Secret Token):").to_owned();
    let created = reqwest::Client::new()
        .post(format!("{scim_url}/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kept@example.com"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let data = tmp.path().join("scimd-data");
    assert!(
        data.join("scimd.db-wal").exists(),
        "a running server writes through its WAL"
    );
    assert_eq!(served.terminate().code(), Some(0), "{}", served.stderr());

    let left = wal_files_in(&data);
    assert!(left.is_empty(), "left behind after the stop: {left:?}");

    // Only the two database files, in a new place.
    let copy = copy_database_files(tmp.path());
    let issued = ok_json(copy.path(), &["token", "create", "default", "--json"]);
    let token = issued["token"].as_str().unwrap().to_owned();
    let mut restored = Served::start(copy.path(), &[]);
    let scim_url = format!("{}/scim/v2/default", restored.origin());
    let found: Value = reqwest::Client::new()
        .get(format!("{scim_url}/Users"))
        .query(&[("filter", r#"userName eq "kept@example.com""#)])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(restored.terminate().code(), Some(0));
}

#[tokio::test]
async fn later_starts_print_urls_and_how_to_get_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = Served::start(tmp.path(), &[]);
    first.line_with("Token (Secret Token)");
    assert_eq!(first.terminate().code(), Some(0));

    let mut second = Served::start(tmp.path(), &["--public-url", "https://scim.example.com"]);
    let url_line = second.line_with("SCIM URL");
    assert!(
        url_line.contains("https://scim.example.com/scim/v2/default"),
        "{url_line}"
    );
    second.line_with("scimd token create default");
    assert!(
        !second.seen.iter().any(|l| l.contains("scimd_")),
        "no token on later starts: {:?}",
        second.seen
    );
    assert_eq!(second.terminate().code(), Some(0));
}

#[tokio::test]
async fn tokens_created_and_revoked_by_the_cli_take_effect_on_a_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut served = Served::start(dir, &[]);
    let scim_url = value_after(&served.line_with("SCIM URL"), "(Tenant URL):").to_owned();

    let created = ok_json(
        dir,
        &["token", "create", "default", "--name", "entra", "--json"],
    );
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(get_users(&scim_url, &token).await.as_u16(), 200);

    ok(
        dir,
        &[
            "token",
            "revoke",
            "default",
            created["id"].as_str().unwrap(),
        ],
    );
    assert_eq!(
        get_users_settled(&scim_url, &token, StatusCode::UNAUTHORIZED).await,
        StatusCode::UNAUTHORIZED
    );

    // A tenant created while serving is reachable at once.
    let acme = ok_json(dir, &["tenant", "create", "acme", "--json"]);
    let origin = served.origin();
    let acme_url = format!("{origin}/scim/v2/acme");
    assert_eq!(
        get_users(&acme_url, acme["token"].as_str().unwrap())
            .await
            .as_u16(),
        200
    );
    // Another tenant's token is refused.
    assert_eq!(
        get_users(&scim_url, acme["token"].as_str().unwrap())
            .await
            .as_u16(),
        401
    );
    assert_eq!(served.terminate().code(), Some(0));
}

#[tokio::test]
async fn rotation_keeps_old_tokens_working_through_the_grace_period_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut served = Served::start(dir, &[]);
    let scim_url = value_after(&served.line_with("SCIM URL"), "(Tenant URL):").to_owned();
    let first = value_after(&served.line_with("Secret Token"), "(Secret Token):").to_owned();
    assert_eq!(get_users(&scim_url, &first).await.as_u16(), 200);

    // With a grace period, the old token and the new one both work.
    let rotated = ok_json(
        dir,
        &["token", "rotate", "default", "--grace", "1h", "--json"],
    );
    let second = rotated["token"].as_str().unwrap().to_owned();
    assert_eq!(
        rotated["revokes"].as_array().map(Vec::len),
        Some(1),
        "{rotated}"
    );
    assert_eq!(get_users(&scim_url, &first).await.as_u16(), 200);
    assert_eq!(get_users(&scim_url, &second).await.as_u16(), 200);
    let listed = ok_json(dir, &["token", "list", "default", "--json"]);
    let statuses: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"revocation_scheduled"), "{listed}");
    assert!(statuses.contains(&"active"), "{listed}");
    for token in [&first, &second] {
        assert!(
            !listed.to_string().contains(token.as_str()),
            "secrets never listed"
        );
    }

    // Without one, every other token is refused on the next request.
    let third = ok_json(dir, &["token", "rotate", "default", "--json"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for old in [&first, &second] {
        assert_eq!(
            get_users_settled(&scim_url, old, StatusCode::UNAUTHORIZED).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(get_users(&scim_url, &third).await.as_u16(), 200);
    assert_eq!(served.terminate().code(), Some(0));
}

#[tokio::test]
async fn disabling_provisioning_gives_403_and_enabling_returns_url_and_a_new_token() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut served = Served::start(dir, &[]);
    let scim_url = value_after(&served.line_with("SCIM URL"), "(Tenant URL):").to_owned();
    let first = value_after(&served.line_with("Secret Token"), "(Secret Token):").to_owned();
    assert_eq!(get_users(&scim_url, &first).await.as_u16(), 200);

    ok(dir, &["tenant", "disable", "default"]);
    assert_eq!(
        get_users_settled(&scim_url, &first, StatusCode::FORBIDDEN).await,
        StatusCode::FORBIDDEN
    );
    let listed = ok_json(dir, &["tenant", "list", "--json"]);
    assert_eq!(listed[0]["provisioning_enabled"], false, "{listed}");

    let enabled = ok_json(dir, &["tenant", "enable", "default", "--json"]);
    assert_eq!(keys(&enabled), vec!["id", "scim_url", "token"]);
    let second = enabled["token"].as_str().unwrap();
    assert_ne!(second, first);
    // Both the old token (never revoked) and the new one work again.
    assert_eq!(get_users(&scim_url, second).await.as_u16(), 200);
    assert_eq!(
        get_users_settled(&scim_url, &first, StatusCode::OK).await,
        StatusCode::OK
    );
    let missing = fails(dir, &["tenant", "disable", "nope"], 1);
    assert!(missing.contains("no tenant 'nope'"), "{missing}");
    assert_eq!(served.terminate().code(), Some(0));
}

#[test]
fn deleting_a_tenant_needs_its_name_confirmed_and_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok_json(dir, &["tenant", "create", "acme", "--json"]);
    let refused = fails(dir, &["tenant", "delete", "acme"], 1);
    assert!(refused.contains("--confirm acme"), "{refused}");
    let wrong = fails(dir, &["tenant", "delete", "acme", "--confirm", "other"], 1);
    assert!(wrong.contains("cannot be undone"), "{wrong}");
    assert_eq!(
        ok_json(dir, &["tenant", "list", "--json"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    ok(dir, &["tenant", "delete", "acme", "--confirm", "acme"]);
    assert_eq!(
        ok_json(dir, &["tenant", "list", "--json"]),
        serde_json::json!([])
    );
    let gone = fails(dir, &["tenant", "delete", "acme", "--confirm", "acme"], 1);
    assert!(gone.contains("no tenant 'acme'"), "{gone}");
}
