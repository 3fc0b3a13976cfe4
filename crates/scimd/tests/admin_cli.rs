//! The real `scimd` binary's admin commands added for the admin API's parity:
//! admin keys, OAuth clients, tenant get/update, and `--json` on every command.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn scimd(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimd"));
    for var in [
        "SCIMD_LISTEN",
        "SCIMD_DATA_DIR",
        "SCIMD_PUBLIC_URL",
        "SCIMD_CONFIG",
        "SCIMD_LOG_FORMAT",
        "SCIMD_LOG_LEVEL",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir)
        .arg("--public-url")
        .arg("https://scim.example.com")
        .args(args)
        .output()
        .unwrap()
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = scimd(dir, args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scimd {args:?}: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = scimd(dir, args);
    assert_eq!(out.status.code(), Some(1), "scimd {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn admin_keys_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let created = json(
        dir.path(),
        &["admin-key", "create", "--name", "portal", "--json"],
    );
    let key = created["key"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    assert!(key.starts_with(&format!("scimdadm_{id}_")));
    assert_eq!(created["name"], "portal");

    let listed = json(dir.path(), &["admin-key", "list", "--json"]);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["status"], "active");
    let text = serde_json::to_string(&listed).unwrap();
    let (_, secret) = key.rsplit_once(&format!("{id}_")).unwrap();
    assert!(!text.contains(secret), "secret in the list: {text}");

    let revoked = json(dir.path(), &["admin-key", "revoke", id, "--json"]);
    assert_eq!(revoked, serde_json::json!({"id": id, "revoked": true}));
    let listed = json(dir.path(), &["admin-key", "list", "--json"]);
    assert_eq!(listed[0]["status"], "revoked");
    assert!(fails(dir.path(), &["admin-key", "revoke", "nope0000"]).contains("no admin key"));
}

#[test]
fn oauth_clients_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    json(dir.path(), &["tenant", "create", "acme", "--json"]);
    let created = json(
        dir.path(),
        &[
            "oauth-client",
            "create",
            "acme",
            "--name",
            "entra",
            "--json",
        ],
    );
    let client_id = created["client_id"].as_str().unwrap();
    assert!(created["client_secret"]
        .as_str()
        .unwrap()
        .starts_with("scimdcs_"));
    assert_eq!(
        created["token_endpoint"],
        "https://scim.example.com/oauth/acme/token"
    );
    assert_eq!(created["scim_url"], "https://scim.example.com/scim/v2/acme");

    let listed = json(dir.path(), &["oauth-client", "list", "acme", "--json"]);
    assert_eq!(listed[0]["client_id"], client_id);
    assert_eq!(listed[0]["name"], "entra");
    assert_eq!(listed[0]["revoked"], Value::Null);
    assert!(listed[0].get("client_secret").is_none());

    let revoked = json(
        dir.path(),
        &["oauth-client", "revoke", "acme", client_id, "--json"],
    );
    assert_eq!(revoked["revoked"], true);
    let listed = json(dir.path(), &["oauth-client", "list", "acme", "--json"]);
    assert!(listed[0]["revoked"].is_string());
    assert!(fails(dir.path(), &["oauth-client", "create", "nope"]).contains("no tenant 'nope'"));
    assert!(
        fails(dir.path(), &["oauth-client", "revoke", "acme", "nope"]).contains("no OAuth client")
    );
}

#[test]
fn tenants_can_be_read_and_renamed_and_every_command_speaks_json() {
    let dir = tempfile::tempdir().unwrap();
    let created = json(dir.path(), &["tenant", "create", "acme", "--json"]);
    let token = created["token"].as_str().unwrap();

    let got = json(dir.path(), &["tenant", "get", "acme", "--json"]);
    assert_eq!(got["id"], "acme");
    assert_eq!(got["display_name"], "acme");
    assert_eq!(got["provisioning_enabled"], true);
    assert!(fails(dir.path(), &["tenant", "get", "nope"]).contains("no tenant 'nope'"));

    let updated = json(
        dir.path(),
        &[
            "tenant",
            "update",
            "acme",
            "--display-name",
            "Acme Corp",
            "--json",
        ],
    );
    assert_eq!(updated["display_name"], "Acme Corp");
    assert_eq!(
        json(dir.path(), &["tenant", "get", "acme", "--json"])["display_name"],
        "Acme Corp"
    );

    let disabled = json(dir.path(), &["tenant", "disable", "acme", "--json"]);
    assert_eq!(disabled["provisioning_enabled"], false);
    assert_eq!(
        json(dir.path(), &["tenant", "get", "acme", "--json"])["provisioning_enabled"],
        false
    );

    let id = token.strip_prefix("scimd_").unwrap().get(..8).unwrap();
    let revoked = json(dir.path(), &["token", "revoke", "acme", id, "--json"]);
    assert_eq!(revoked["id"], id);
    assert_eq!(revoked["tenant"], "acme");
    assert!(revoked["revoked"].is_string());
    let tokens = json(dir.path(), &["token", "list", "acme", "--all", "--json"]);
    assert_eq!(tokens[0]["status"], "revoked");

    let deleted = json(
        dir.path(),
        &["tenant", "delete", "acme", "--confirm", "acme", "--json"],
    );
    assert_eq!(deleted, serde_json::json!({"id": "acme", "deleted": true}));
}
