//! The real `scimd` binary and a real served instance on loopback: `scimd logs`,
//! `scimd tenant update --log-*` and `scimd tenant check`.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Upper bound on waiting for the server; a safety net, not a performance assertion.
const PATIENCE: Duration = Duration::from_secs(60);

fn scimd(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for var in [
        "SCIMD_LISTEN",
        "SCIMD_DATA_DIR",
        "SCIMD_PUBLIC_URL",
        "SCIMD_CONFIG",
        "SCIMD_LOG_FORMAT",
        "SCIMD_LOG_LEVEL",
        "SCIMD_CHECK_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir);
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    scimd(dir).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    assert!(
        output.status.success(),
        "scimd {args:?} failed: {}\n{}",
        text(&output.stderr),
        text(&output.stdout)
    );
    text(&output.stdout)
}

fn ok_json(dir: &Path, args: &[&str]) -> Value {
    let out = ok(dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// A `scimd serve` child on a free loopback port.
struct Served {
    child: Child,
    lines: Receiver<String>,
}

impl Served {
    fn start(dir: &Path) -> Served {
        let mut child = scimd(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
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
        Served { child, lines }
    }

    /// `http://127.0.0.1:PORT`, from the "listening on" line.
    fn origin(&self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .expect("a 'listening on' line");
            if let Some(at) = line.find("listening on http://") {
                return line[at + "listening on ".len()..].trim().to_owned();
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

/// Creates tenant `acme` and returns its token.
fn create_acme(dir: &Path) -> String {
    let created = ok_json(dir, &["tenant", "create", "acme", "--json"]);
    created["token"].as_str().unwrap().to_owned()
}

async fn send(
    method: reqwest::Method,
    url: &str,
    token: &str,
    user_agent: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .header("user-agent", user_agent);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Polls `scimd logs TENANT --json` (at most ~10 s) until it lists `count` entries.
fn wait_for_logs(dir: &Path, count: usize) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..100 {
        let page = ok_json(dir, &["logs", "acme", "--json", "--limit", "1000"]);
        last = page["entries"].as_array().unwrap().clone();
        if last.len() >= count {
            return last;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("expected {count} log entries, got {last:#?}");
}

#[tokio::test]
async fn logs_show_requests_newest_first_with_filters_paging_and_redacted_bodies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let token = create_acme(dir);
    let out = ok(
        dir,
        &[
            "tenant",
            "update",
            "acme",
            "--log-bodies",
            "on",
            "--log-retention",
            "2w",
            "--log-max-entries",
            "5000",
        ],
    );
    assert!(
        out.contains("bodies on") && out.contains("14 days") && out.contains("5000"),
        "{out}"
    );
    let served = Served::start(dir);
    let base = format!("{}/scim/v2/acme", served.origin());
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jane@example.com",
        "password": "Sup3r-secret-pw"
    });
    let (status, created) = send(
        reqwest::Method::POST,
        &format!("{base}/Users"),
        &token,
        "Azure AD SCIM Client",
        Some(user.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, _) = send(
        reqwest::Method::POST,
        &format!("{base}/Users"),
        &token,
        "Okta SCIM Client",
        Some(user),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = send(
        reqwest::Method::GET,
        &format!("{base}/Users/nope"),
        &token,
        "Okta SCIM Client",
        None,
    )
    .await;
    assert_eq!(status, 404);

    let entries = wait_for_logs(dir, 3);
    let statuses: Vec<u64> = entries
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [404, 409, 201], "newest first");
    assert_eq!(entries[2]["client"], "entra");
    assert_eq!(entries[2]["resource_id"], id.as_str());
    assert_eq!(entries[1]["scim_type"], "uniqueness");
    let body = entries[2]["request_body"].as_str().expect("bodies are on");
    assert!(
        body.contains("[redacted]") && !body.contains("Sup3r-secret-pw"),
        "{body}"
    );
    let all = serde_json::to_string(&entries).unwrap();
    assert!(!all.contains(&token) && !all.contains("Sup3r-secret-pw"));

    let errors = ok_json(dir, &["logs", "acme", "--errors", "--json"]);
    assert_eq!(errors["entries"].as_array().unwrap().len(), 2);
    let okta = ok_json(
        dir,
        &[
            "logs", "acme", "--client", "okta", "--status", "4xx", "--json",
        ],
    );
    assert_eq!(okta["entries"].as_array().unwrap().len(), 2);
    let about = ok_json(dir, &["logs", "acme", "--resource", &id, "--json"]);
    assert_eq!(about["entries"].as_array().unwrap().len(), 1);
    let recent = ok_json(dir, &["logs", "acme", "--since", "1h", "--json"]);
    assert_eq!(recent["entries"].as_array().unwrap().len(), 3);
    let old = ok_json(dir, &["logs", "acme", "--until", "1h", "--json"]);
    assert!(old["entries"].as_array().unwrap().is_empty());

    // Paging: two pages of 2 and 1, newest first, then no cursor.
    let first = ok_json(dir, &["logs", "acme", "--limit", "2", "--json"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let second = ok_json(
        dir,
        &[
            "logs", "acme", "--limit", "2", "--cursor", &cursor, "--json",
        ],
    );
    assert_eq!(second["entries"].as_array().unwrap().len(), 1);
    assert_eq!(second["entries"][0]["status"], 201);
    assert!(second["next_cursor"].is_null());

    // Human output: a table with the error, and the cursor to continue.
    let human = ok(dir, &["logs", "acme", "--limit", "2"]);
    assert!(
        human.contains("STATUS") && human.contains("uniqueness: "),
        "{human}"
    );
    assert!(human.contains(&format!("--cursor {cursor}")), "{human}");

    // Bad input: exit 1 with a message, or 2 for clap's own checks.
    let bad = run(dir, &["logs", "acme", "--status", "3xx"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("2xx, 4xx, 5xx, errors"),
        "{}",
        text(&bad.stderr)
    );
    let unknown = run(dir, &["logs", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no tenant 'nobody'"));
    let conflicting = run(dir, &["logs", "acme", "--errors", "--status", "2xx"]);
    assert_eq!(conflicting.status.code(), Some(2));
    let fractional = run(dir, &["tenant", "update", "acme", "--log-retention", "36h"]);
    assert_eq!(fractional.status.code(), Some(2));
    assert!(text(&fractional.stderr).contains("whole number of days"));
}

/// The check's JSON report.
fn check(dir: &Path, args: &[&str]) -> (Option<i32>, Value, String) {
    let output = run(dir, args);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    });
    (output.status.code(), report, text(&output.stderr))
}

fn explanations(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["explanation"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tenant_check_passes_and_explains_each_kind_of_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let token = create_acme(dir);
    let served = Served::start(dir);
    let origin = served.origin();
    let listen = origin.trim_start_matches("http://").to_owned();

    // All pass, with a temporary token minted and revoked; the URL from --listen.
    let (code, report, _) = check(
        dir,
        &["--listen", &listen, "tenant", "check", "acme", "--json"],
    );
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["passed"], true);
    assert_eq!(report["url"], format!("{origin}/scim/v2/acme"));
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 4);
    assert!(checks
        .iter()
        .all(|c| c["passed"] == true && c["status"] == 200));
    let tokens = ok_json(dir, &["token", "list", "acme", "--json"]);
    let temporary: Vec<&Value> = tokens
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"] == "tenant-check")
        .collect();
    assert_eq!(temporary.len(), 1);
    assert_eq!(
        temporary[0]["status"], "revoked",
        "the temporary token is revoked afterwards"
    );
    // The probes are in the provisioning log as Entra requests.
    let logged = wait_for_logs(dir, 4);
    assert!(logged.iter().all(|e| e["client"] == "entra"), "{logged:#?}");
    assert!(logged.iter().any(|e| e["path"]
        .as_str()
        .unwrap()
        .contains("excludedAttributes=members")));

    // Human output.
    let human = ok(
        dir,
        &[
            "tenant",
            "check",
            "acme",
            "--url",
            &format!("{origin}/scim/v2/acme"),
        ],
    );
    assert!(
        human.contains("PASS") && human.contains("All 4 checks passed"),
        "{human}"
    );

    // A revoked token: 401, explained.
    let token_id = token.split('_').nth(1).unwrap().to_owned();
    ok(dir, &["token", "revoke", "acme", &token_id]);
    let url = format!("{origin}/scim/v2/acme");
    let (code, report, stderr) = check(
        dir,
        &[
            "tenant", "check", "acme", "--url", &url, "--token", &token, "--json",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("4 of 4 checks failed"), "{stderr}");
    assert_eq!(report["checks"][0]["status"], 401);
    for explanation in explanations(&report) {
        assert!(
            explanation.contains("token was refused") && explanation.contains("scimd token list"),
            "{explanation}"
        );
        assert!(!explanation.contains(&token));
    }
    // The same token through the environment variable.
    let output = scimd(dir)
        .args(["tenant", "check", "acme", "--url", &url, "--json"])
        .env("SCIMD_CHECK_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["checks"][0]["status"], 401);

    // Provisioning disabled: 403, explained.
    ok(dir, &["tenant", "disable", "acme"]);
    let (code, report, _) = check(dir, &["tenant", "check", "acme", "--url", &url, "--json"]);
    assert_eq!(code, Some(1));
    assert_eq!(report["checks"][0]["status"], 403);
    assert!(
        explanations(&report)[0].contains("scimd tenant enable acme"),
        "{report:#}"
    );
    ok(dir, &["tenant", "enable", "acme"]);

    // A wrong tenant URL: 404, explained.
    let wrong = format!("{origin}/scim/acme");
    let (code, report, _) = check(dir, &["tenant", "check", "acme", "--url", &wrong, "--json"]);
    assert_eq!(code, Some(1));
    assert_eq!(report["checks"][0]["status"], 404);
    assert!(
        explanations(&report)[0].contains("must end in /scim/v2/acme"),
        "{report:#}"
    );

    // Nothing listening: connection refused, explained.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = format!("http://127.0.0.1:{port}/scim/v2/acme");
    let (code, report, _) = check(
        dir,
        &["tenant", "check", "acme", "--url", &nowhere, "--json"],
    );
    assert_eq!(code, Some(1));
    assert!(report["checks"][0]["status"].is_null());
    let explanation = &explanations(&report)[0];
    assert!(
        explanation.contains("connection refused") && explanation.contains("scimd serve"),
        "{explanation}"
    );

    // An unknown tenant cannot get a temporary token.
    let unknown = run(dir, &["tenant", "check", "nobody", "--url", &url]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no tenant 'nobody'"));
}

/// Reads one request head (up to the blank line) from a connection, bounded in size.
fn read_request_head(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    text(&head)
}

/// The probes carry exactly Entra's headers: `Authorization` and a `User-Agent`, and no
/// `Accept` or `Content-Type` (issue 4; idp-clients.md). A loopback listener records
/// each request head as sent on the wire and answers like a SCIM server.
#[test]
fn tenant_check_sends_no_accept_and_no_content_type() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let recorder = std::thread::spawn(move || {
        let mut heads = Vec::new();
        for _ in 0..4 {
            let Ok((mut stream, _)) = listener.accept() else {
                break;
            };
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            let head = read_request_head(&mut stream);
            let body = if head.contains("/ServiceProviderConfig") {
                json!({"patch": {"supported": true}})
            } else if head.contains("/Schemas") {
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                       "totalResults": 1, "Resources": [{"id": "x"}]})
            } else {
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                       "totalResults": 0, "Resources": []})
            }
            .to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
            heads.push(head);
        }
        heads
    });
    let url = format!("http://127.0.0.1:{port}/scim/v2/acme");
    let token = "scimd_abc_not-a-real-token";
    let (code, report, _) = check(
        tmp.path(),
        &[
            "tenant", "check", "acme", "--url", &url, "--token", token, "--json",
        ],
    );
    assert_eq!(code, Some(0), "{report:#}");
    let heads = recorder.join().unwrap();
    assert_eq!(heads.len(), 4, "{heads:#?}");
    for head in &heads {
        let lower = head.to_ascii_lowercase();
        assert!(lower.starts_with("get /scim/v2/acme/"), "{head}");
        assert!(
            !lower.contains("\r\naccept:"),
            "an Accept header was sent: {head}"
        );
        assert!(
            !lower.contains("\r\ncontent-type:"),
            "a Content-Type header was sent: {head}"
        );
        assert!(
            head.contains(&format!("\r\nauthorization: Bearer {token}\r\n")),
            "{head}"
        );
        assert!(
            lower.contains("\r\nuser-agent: azure ad scim client"),
            "{head}"
        );
        assert!(
            lower.contains(&format!("\r\nhost: 127.0.0.1:{port}\r\n")),
            "{head}"
        );
    }
    assert!(
        heads[1].contains("excludedAttributes=members"),
        "{}",
        heads[1]
    );
}
