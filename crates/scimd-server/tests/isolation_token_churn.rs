//! 32 clients across 4 tenants for 10 seconds while tokens are created, rotated and
//! revoked: no request is served for the wrong tenant, no token is accepted on a
//! request that starts after its revocation completed, and another tenant's token is
//! always refused. Bounded: fixed duration, per-request timeout, loopback only.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];
const CLIENTS: usize = 32;
const RUN_FOR: Duration = Duration::from_secs(10);

struct TokenState {
    tenant: &'static str,
    id: String,
    token: String,
    /// Set just before `revoke_token` is called: from then on a 401 is legitimate.
    revoking: AtomicBool,
    /// Set once `revoke_token` has returned: any request started afterwards must be 401.
    revoked: AtomicBool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_rotated_and_revoked_under_load_never_cross_tenants() {
    let ts = Arc::new(TestServer::start().await);
    let mut bases = Vec::new();
    let pool: Arc<Mutex<Vec<Arc<TokenState>>>> = Arc::default();
    for tenant in TENANTS {
        let (base, token) = if tenant == "acme" {
            (ts.base.clone(), ts.token.clone())
        } else {
            ts.add_tenant(tenant).await
        };
        let marker = ts
            .call_as(
                &base,
                &token,
                Method::POST,
                "/Users",
                Some(json!({"userName": format!("marker@{tenant}")})),
            )
            .await;
        assert_eq!(marker.status, 201, "{}", marker.text);
        let id = scimd_server::tokens::split_token(&token)
            .unwrap()
            .0
            .to_owned();
        pool.lock().unwrap().push(Arc::new(TokenState {
            tenant,
            id,
            token,
            revoking: AtomicBool::new(false),
            revoked: AtomicBool::new(false),
        }));
        bases.push((tenant, base));
    }
    let bases = Arc::new(bases);
    let deadline = Instant::now() + RUN_FOR;
    let served = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));

    // The rotator: per tenant, a new token, then the oldest usable one revoked.
    let rotator = {
        let (ts, pool) = (ts.clone(), pool.clone());
        tokio::spawn(async move {
            let mut rotations = 0u32;
            while Instant::now() < deadline {
                for tenant in TENANTS {
                    let issued = scimd_server::tenants::create_token(
                        ts.store.as_ref(),
                        tenant,
                        "churn",
                        None,
                    )
                    .await
                    .unwrap();
                    let oldest = {
                        let mut tokens = pool.lock().unwrap();
                        tokens.push(Arc::new(TokenState {
                            tenant,
                            id: issued.record.id.clone(),
                            token: issued.token,
                            revoking: AtomicBool::new(false),
                            revoked: AtomicBool::new(false),
                        }));
                        tokens
                            .iter()
                            .find(|t| t.tenant == tenant && !t.revoking.load(Ordering::SeqCst))
                            .cloned()
                    };
                    if let Some(old) = oldest {
                        old.revoking.store(true, Ordering::SeqCst);
                        let now = time::OffsetDateTime::now_utc();
                        assert!(ts.store.revoke_token(tenant, &old.id, now).await.unwrap());
                        old.revoked.store(true, Ordering::SeqCst);
                    }
                }
                rotations += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            rotations
        })
    };

    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (ts, pool, bases) = (ts.clone(), pool.clone(), bases.clone());
        let (served, refused) = (served.clone(), refused.clone());
        clients.push(tokio::spawn(async move {
            let mut n = client;
            while Instant::now() < deadline {
                n = n.wrapping_mul(31).wrapping_add(7);
                let token = {
                    let tokens = pool.lock().unwrap();
                    tokens[n % tokens.len()].clone()
                };
                // Mostly the token's own tenant, sometimes another one.
                let (tenant, base) = &bases[if n % 5 == 0 {
                    (n / 5) % bases.len()
                } else {
                    TENANTS.iter().position(|t| *t == token.tenant).unwrap()
                }];
                let revoked_before = token.revoked.load(Ordering::SeqCst);
                let r = ts
                    .call_as(base, &token.token, Method::GET, "/Users", None)
                    .await;
                match r.status.as_u16() {
                    200 => {
                        assert_eq!(
                            *tenant, token.tenant,
                            "a token served another tenant: {}",
                            r.text
                        );
                        assert!(
                            !revoked_before,
                            "a revoked token was accepted: {}",
                            token.id
                        );
                        let body = r.json();
                        for user in body["Resources"].as_array().unwrap() {
                            let name = user["userName"].as_str().unwrap();
                            assert_eq!(name, format!("marker@{tenant}"), "cross-tenant data");
                        }
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    401 => {
                        // Refused: must be a revoked token or another tenant's.
                        assert!(
                            *tenant != token.tenant || token.revoking.load(Ordering::SeqCst),
                            "a valid token was refused: {}",
                            r.text
                        );
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    other => panic!("unexpected status {other}: {}", r.text),
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    let rotations = rotator.await.unwrap();
    assert!(rotations >= 5, "the rotator ran only {rotations} times");
    assert!(
        served.load(Ordering::Relaxed) > 100,
        "too few requests served"
    );
    assert!(
        refused.load(Ordering::Relaxed) > 10,
        "revocations and foreign tokens exercised"
    );
}
