//! The real `scimd` binary on PostgreSQL (issue 5): `migrate` run twice at once,
//! `serve --database`, and the admin commands with `--database`. Each test gets a
//! fresh database on the throwaway cluster `SCIMD_TEST_POSTGRES_URL` names (started
//! by scripts/test); without it the tests fail rather than skip.

use scimd_store::testing::fresh_postgres_database;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Upper bound on waiting for the server to print something; a safety net only.
const PATIENCE: Duration = Duration::from_secs(60);

/// `scimd` with no `SCIMD_*` variables from the outside, working in a temp dir (no
/// SQLite file may appear there: everything goes to PostgreSQL).
fn scimd(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for (var, _) in std::env::vars() {
        if var.starts_with("SCIMD_") {
            cmd.env_remove(var);
        }
    }
    cmd.current_dir(dir);
    cmd
}

fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn two_concurrent_migrations_both_succeed_and_apply_each_version_once() {
    let database = fresh_postgres_database().await;
    let url = database.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let spawn = || {
        scimd(dir.path())
            .args(["--database", &url, "migrate", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    let mut applied: Vec<Vec<i64>> = outputs
        .iter()
        .map(|o| {
            let out = json(&succeeded(o, "scimd migrate"));
            serde_json::from_value(out["applied"].clone()).unwrap()
        })
        .collect();
    applied.sort();
    assert!(
        applied[0].is_empty(),
        "one run found nothing to do: {applied:?}"
    );
    assert!(
        !applied[1].is_empty(),
        "the other applied the migrations: {applied:?}"
    );

    // A third run: nothing pending, said in words.
    let out = scimd(dir.path())
        .args(["--database", &url, "migrate"])
        .output()
        .unwrap();
    let text = succeeded(&out, "scimd migrate");
    assert!(text.contains("up to date"), "{text}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no SQLite file"
    );
}

#[tokio::test]
async fn admin_commands_work_on_postgres() {
    let database = fresh_postgres_database().await;
    let url = database.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = scimd(dir.path())
            .env("SCIMD_DATABASE_URL", &url)
            .args(args)
            .output()
            .unwrap();
        succeeded(&out, &format!("scimd {args:?}"))
    };
    let created = json(&run(&["tenant", "create", "acme", "--json"]));
    assert_eq!(created["id"], "acme");
    let token = created["token"].as_str().unwrap().to_owned();
    let tenants = json(&run(&["tenant", "list", "--json"]));
    assert!(tenants.to_string().contains("\"acme\""), "{tenants}");
    let second = json(&run(&[
        "token", "create", "acme", "--name", "okta", "--json",
    ]));
    let listed = run(&["token", "list", "acme", "--json"]);
    assert!(listed.contains("okta"), "{listed}");
    assert!(!listed.contains(&token) && !listed.contains(second["token"].as_str().unwrap()));
    assert_eq!(json(&listed).as_array().map(Vec::len), Some(2), "{listed}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no SQLite file"
    );
}

/// A `scimd serve` child whose stdout lines arrive on a channel.
struct Served {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Served {
    fn line_with(&mut self, marker: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(line) = self.seen.iter().find(|l| l.contains(marker)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with {marker:?} in:\n{}", self.seen.join("\n")),
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn after<'a>(line: &'a str, label: &str) -> &'a str {
    line.split_once(label)
        .unwrap_or_else(|| panic!("{label:?} not in {line:?}"))
        .1
        .split_whitespace()
        .next()
        .unwrap()
}

#[tokio::test]
async fn serve_on_postgres_prints_a_url_and_token_that_work() {
    let database = fresh_postgres_database().await;
    let url = database.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let mut child = scimd(dir.path())
        .args(["--database", &url, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    let mut served = Served {
        child,
        lines,
        seen: Vec::new(),
    };
    let scim_url = after(&served.line_with("(Tenant URL):"), "(Tenant URL):").to_owned();
    let token = after(&served.line_with("(Secret Token):"), "(Secret Token):").to_owned();
    let client = reqwest::Client::new();
    let users = |token: String| {
        client
            .get(format!("{scim_url}/Users"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(users(token.clone()).await.unwrap().status().as_u16(), 200);
    assert_eq!(
        users(format!("{token}x")).await.unwrap().status().as_u16(),
        401
    );

    // The admin commands see the running server's database, and it sees theirs.
    let out = scimd(dir.path())
        .args(["--database", &url, "token", "create", "default", "--json"])
        .output()
        .unwrap();
    let issued = json(&succeeded(&out, "scimd token create"));
    let second = issued["token"].as_str().unwrap().to_owned();
    assert_eq!(users(second).await.unwrap().status().as_u16(), 200);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no SQLite file"
    );
}

#[test]
fn a_database_password_never_appears_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: connecting fails at once.
    let url = "postgres://scimd:hunter2-secret@127.0.0.1:1/scimd";
    for args in [
        vec!["--database", url, "migrate"],
        vec!["--database", url, "tenant", "list"],
        vec![
            "--database",
            url,
            "--db-acquire-timeout",
            "2s",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
    ] {
        let out = scimd(dir.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("hunter2"), "{args:?}: {all}");
        assert!(all.contains("error"), "{args:?}: {all}");
    }
}
