//! Recorded IdP conversations (tests/fixtures/*.json) replayed against a real server.
//!
//! Each fixture is one client dialect from /work/shared/docs/idp-clients.md, run on a
//! fresh server with a fresh SQLite file, so fixtures never see each other's data.

mod common;
#[path = "fixtures/harness/mod.rs"]
#[allow(dead_code)]
mod harness;

use common::TestServer;
use harness::template::Vars;
use harness::Target;
use serde_json::Value;

async fn replay_on_fresh_server(file: &str) {
    let server = TestServer::start().await;
    let authority = server
        .origin
        .strip_prefix("http://")
        .unwrap_or(&server.origin)
        .to_owned();
    let mut vars = Vars::new();
    vars.insert("token".into(), Value::String(server.token.clone()));
    vars.insert("base".into(), Value::String(server.base.clone()));
    vars.insert("tenant".into(), Value::String(server.tenant.clone()));
    let target = Target {
        authority,
        base_path: format!("/scim/v2/{}", server.tenant),
        vars,
    };
    harness::replay(file, target).await;
}

#[tokio::test]
async fn entra_default_dialect() {
    replay_on_fresh_server("entra_default.json").await;
}

#[tokio::test]
async fn entra_aadoptscim062020_dialect() {
    replay_on_fresh_server("entra_aadoptscim062020.json").await;
}

#[tokio::test]
async fn okta_oin_dialect() {
    replay_on_fresh_server("okta_oin.json").await;
}

#[tokio::test]
async fn okta_custom_put_dialect() {
    replay_on_fresh_server("okta_custom_put.json").await;
}
