//! Authentication's read (a tenant with one of its tokens) is answered from memory on
//! SQLite, and never out of date for longer than the store promises: at once for
//! changes made through the same store, within the epoch poll (20 ms) for changes
//! made by another process on the same file.

use scimd_store::sqlite::SqliteStore;
use scimd_store::{NewTenant, Store, Tenant, TenantUpdate, TokenRecord};
use std::path::Path;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Upper bound on waiting for another store's change to be seen; a safety net, not a
/// timing assertion (the promise is one epoch poll, 20 ms).
const PATIENCE: Duration = Duration::from_secs(10);

async fn tenant_with_token(store: &SqliteStore, tenant: &str, token: &str) {
    store
        .create_tenant(&NewTenant::enabled(tenant, tenant))
        .await
        .unwrap();
    store
        .insert_token(&TokenRecord {
            id: token.into(),
            tenant_id: tenant.into(),
            name: "entra".into(),
            secret_hash: vec![7; 32],
            created: OffsetDateTime::now_utc(),
            last_used: None,
            expires: None,
            revoked: None,
        })
        .await
        .unwrap();
}

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path).await.unwrap()
}

/// A store on a new file, with the file's directory (removed when dropped).
async fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("scimd.db")).await;
    (dir, store)
}

/// What authentication reads for `tenant` and `token`.
async fn read(
    store: &SqliteStore,
    tenant: &str,
    token: &str,
) -> Option<(Tenant, Option<TokenRecord>)> {
    store.get_tenant_with_token(tenant, token).await.unwrap()
}

/// The token as authentication reads it; fails the test if the tenant or the token
/// is not found.
async fn token_as_read(store: &SqliteStore, tenant: &str, token: &str) -> TokenRecord {
    let (read_tenant, record) = read(store, tenant, token).await.expect("the tenant exists");
    assert_eq!(read_tenant.id, tenant);
    record.expect("the token exists")
}

fn hits(store: &SqliteStore) -> u64 {
    store
        .credential_cache_stats()
        .expect("the cache is on")
        .hits
}

#[tokio::test]
async fn a_repeated_read_is_answered_from_memory_and_a_revocation_at_once() {
    let (_dir, store) = fresh_store().await;
    tenant_with_token(&store, "acme", "tok1").await;

    let first = token_as_read(&store, "acme", "tok1").await;
    let hits_before = hits(&store);
    let second = token_as_read(&store, "acme", "tok1").await;
    assert_eq!(first, second);
    assert_eq!(hits(&store), hits_before + 1, "the second read was a hit");

    // The revocation is answered only after the cache was emptied: the very next
    // read sees it, with no wait.
    let at = OffsetDateTime::now_utc();
    assert!(store.revoke_token("acme", "tok1", at).await.unwrap());
    let revoked = token_as_read(&store, "acme", "tok1").await;
    assert!(revoked.revoked.is_some(), "the revocation is seen at once");
    assert_eq!(hits(&store), hits_before + 1, "that read was a miss");
}

#[tokio::test]
async fn disabling_and_deleting_a_tenant_are_seen_at_once() {
    let (_dir, store) = fresh_store().await;
    tenant_with_token(&store, "acme", "tok1").await;
    token_as_read(&store, "acme", "tok1").await;
    token_as_read(&store, "acme", "tok1").await;

    store
        .update_tenant(
            "acme",
            &TenantUpdate {
                provisioning_enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (tenant, _) = read(&store, "acme", "tok1").await.unwrap();
    assert!(!tenant.provisioning_enabled);

    assert!(store.delete_tenant("acme").await.unwrap());
    assert_eq!(read(&store, "acme", "tok1").await, None);
}

#[tokio::test]
async fn a_token_belongs_to_its_own_tenant_in_the_cache_too() {
    let (_dir, store) = fresh_store().await;
    tenant_with_token(&store, "acme", "tok1").await;
    tenant_with_token(&store, "globex", "tok2").await;
    token_as_read(&store, "acme", "tok1").await;
    let (tenant, token) = read(&store, "globex", "tok1").await.unwrap();
    assert_eq!(tenant.id, "globex");
    assert_eq!(token, None, "acme's token is not globex's");
}

#[tokio::test]
async fn recording_a_tokens_last_use_keeps_the_cache() {
    let (_dir, store) = fresh_store().await;
    tenant_with_token(&store, "acme", "tok1").await;
    token_as_read(&store, "acme", "tok1").await;
    let invalidations = store.credential_cache_stats().unwrap().invalidations;
    store
        .touch_tokens(&[("tok1".into(), OffsetDateTime::now_utc())])
        .await
        .unwrap();
    // Give the checkpoint thread several rounds to see any change of the epoch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits_before = hits(&store);
    token_as_read(&store, "acme", "tok1").await;
    assert_eq!(hits(&store), hits_before + 1, "still cached");
    assert_eq!(
        store.credential_cache_stats().unwrap().invalidations,
        invalidations
    );
}

#[tokio::test]
async fn another_processs_revocation_is_seen_within_an_epoch_poll() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scimd.db");
    let server = open(&path).await;
    tenant_with_token(&server, "acme", "tok1").await;
    token_as_read(&server, "acme", "tok1").await;
    let hits_before = hits(&server);
    token_as_read(&server, "acme", "tok1").await;
    assert_eq!(hits(&server), hits_before + 1, "cached");

    // A second store on the same file stands for the CLI: its writes reach the
    // first store's cache only through the file.
    let cli = open(&path).await;
    let at = OffsetDateTime::now_utc();
    assert!(cli.revoke_token("acme", "tok1", at).await.unwrap());
    cli.close().await;

    let started = Instant::now();
    let mut seen = false;
    while started.elapsed() < PATIENCE {
        if token_as_read(&server, "acme", "tok1")
            .await
            .revoked
            .is_some()
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(seen, "the other store's revocation was never seen");
}
