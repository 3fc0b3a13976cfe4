//! PostgreSQL holds U+0000 in neither `text` nor `jsonb`. The server refuses it before
//! a store sees it (`scimd_protocol::nul`); should one still arrive, the store reports
//! the client's value (400 `invalidValue`), not a broken database (a 500), and stores
//! nothing.

use scimd_protocol::resource::Document;
use scimd_protocol::ResourceKind;
use scimd_store::testing::fresh_postgres_store;
use scimd_store::{Fetch, NewResource, NewTenant, Store, StoreError};
use serde_json::json;

fn assert_invalid_value(err: StoreError) {
    match err {
        StoreError::Scim(scim) => {
            assert_eq!(scim.status, 400, "{scim}");
            assert_eq!(
                scim.scim_type.map(|t| t.as_str()),
                Some("invalidValue"),
                "{scim}"
            );
        }
        other => panic!("expected 400 invalidValue, got {other:?}"),
    }
}

fn user(user_name: &str, display_name: &str) -> NewResource {
    let document: Document = match json!({"userName": user_name, "displayName": display_name}) {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    };
    NewResource {
        document,
        members: vec![],
    }
}

#[tokio::test]
async fn nul_reaching_postgres_is_invalid_value_and_stores_nothing() {
    let (_db, store) = fresh_postgres_store().await;
    store
        .create_tenant(&NewTenant::enabled("acme", "Acme"))
        .await
        .unwrap();

    // In a `text` parameter of a read (SQLSTATE 22021)...
    assert_invalid_value(store.get_tenant("ac\0me").await.unwrap_err());
    // ...in an indexed column of a write...
    let err = store
        .create("acme", ResourceKind::User, user("a\0b", "A"), Fetch::NONE)
        .await
        .unwrap_err();
    assert_invalid_value(err);
    // ...and only in the `jsonb` document (SQLSTATE 22P05).
    let err = store
        .create("acme", ResourceKind::User, user("ab", "A\0B"), Fetch::NONE)
        .await
        .unwrap_err();
    assert_invalid_value(err);

    // Nothing was stored: the same userName is free.
    store
        .create("acme", ResourceKind::User, user("ab", "AB"), Fetch::NONE)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}
