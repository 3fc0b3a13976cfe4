//! The storage contract as a test suite.
//!
//! Every backend runs these checks against itself (SQLite in
//! `tests/sqlite_contract.rs`; PostgreSQL later). Each check takes a store, creates its
//! own tenants (named after the check, so checks can share one database) and returns
//! an error or panics on an assertion when the backend misbehaves.
//!
//! Filters are built as ASTs here so the suite does not depend on the filter parser.

use crate::{
    Fetch, ListPage, ListQuery, NewResource, NewTenant, Store, StoreError, StoredResource,
    TenantUpdate, TokenRecord, Update,
};
use scimd_protocol::filter::{CompareOp, Filter, Literal, Span};
use scimd_protocol::paging::PageRequest;
use scimd_protocol::path::AttrPath;
use scimd_protocol::resource::{Document, MemberChange, MemberRef};
use scimd_protocol::sort::{SortOrder, SortSpec};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimType};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

/// The outcome of one check.
pub type CheckResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Runs every check in order, stopping at the first failure.
pub async fn run_all(store: &dyn Store) -> CheckResult {
    tenants(store).await?;
    tokens(store).await?;
    resource_lifecycle(store).await?;
    uniqueness(store).await?;
    updates_keep_indexes_in_step(store).await?;
    concurrent_creates(store).await?;
    reads_of_several_statements_agree(store).await?;
    tenant_isolation(store).await?;
    filters(store).await?;
    filter_errors(store).await?;
    identity_provider_queries(store).await?;
    sorting_and_index_paging(store).await?;
    cursor_paging(store).await?;
    memberships(store).await?;
    users_groups_in_reads(store).await?;
    documents_as_text(store).await?;
    member_validation(store).await?;
    delete_removes_memberships(store).await?;
    if_match(store).await?;
    log_settings(store).await?;
    provisioning_logs(store).await?;
    log_pruning(store).await?;
    typed_document_values(store).await?;
    admin_keys(store).await?;
    oauth_clients(store).await?;
    Ok(())
}

// ---- helpers ------------------------------------------------------------------

fn doc(value: Value) -> Document {
    match value {
        Value::Object(map) => map,
        _ => Document::new(),
    }
}

async fn tenant(store: &dyn Store, id: &str) -> Result<(), StoreError> {
    store
        .create_tenant(&NewTenant::enabled(id, format!("Tenant {id}")))
        .await
        .map(|_| ())
}

async fn user(store: &dyn Store, t: &str, body: Value) -> Result<StoredResource, StoreError> {
    store
        .create(
            t,
            ResourceKind::User,
            NewResource {
                document: doc(body),
                members: vec![],
            },
            Fetch::NONE,
        )
        .await
}

async fn group(
    store: &dyn Store,
    t: &str,
    name: &str,
    members: Vec<MemberRef>,
) -> Result<StoredResource, StoreError> {
    store
        .create(
            t,
            ResourceKind::Group,
            NewResource {
                document: doc(json!({ "displayName": name })),
                members,
            },
            Fetch::ALL,
        )
        .await
}

/// A group from a whole document, without members.
async fn group_from(store: &dyn Store, t: &str, body: Value) -> Result<StoredResource, StoreError> {
    store
        .create(
            t,
            ResourceKind::Group,
            NewResource {
                document: doc(body),
                members: vec![],
            },
            Fetch::NONE,
        )
        .await
}

fn member(id: &str) -> MemberRef {
    MemberRef {
        value: id.into(),
        kind: None,
        display: None,
    }
}

fn scim_status(err: &StoreError) -> Option<(u16, Option<ScimType>)> {
    match err {
        StoreError::Scim(e) => Some((e.status, e.scim_type)),
        _ => None,
    }
}

fn expect_scim<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    status: u16,
    scim_type: Option<ScimType>,
    what: &str,
) -> CheckResult {
    match result {
        Err(e) if scim_status(&e) == Some((status, scim_type)) => Ok(()),
        other => Err(format!("{what}: expected {status} {scim_type:?}, got {other:?}").into()),
    }
}

/// Replaces the document and applies membership changes.
fn set(document: Document, members: Vec<MemberChange>) -> crate::UpdateFn {
    Box::new(move |_| Ok(Update { document, members }))
}

/// Keeps the document and applies membership changes.
fn change_members(members: Vec<MemberChange>) -> crate::UpdateFn {
    Box::new(move |current| {
        Ok(Update {
            document: current.document.clone(),
            members,
        })
    })
}

fn path(text: &str) -> AttrPath {
    AttrPath::parse(text).unwrap_or_else(|_| AttrPath::simple(text))
}

fn cmp(p: &str, op: CompareOp, value: Literal) -> Filter {
    Filter::Compare {
        path: path(p),
        op,
        value,
        span: Span::default(),
    }
}

fn s(text: &str) -> Literal {
    Literal::String(text.into())
}

fn eq(p: &str, value: &str) -> Filter {
    cmp(p, CompareOp::Eq, s(value))
}

fn pr(p: &str) -> Filter {
    Filter::Present {
        path: path(p),
        span: Span::default(),
    }
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

fn not(a: Filter) -> Filter {
    Filter::Not(Box::new(a))
}

fn value_path(p: &str, inner: Filter) -> Filter {
    Filter::ValuePath {
        path: path(p),
        filter: Box::new(inner),
        span: Span::default(),
    }
}

/// `emails[type eq "<kind>" and value eq "<value>"]`.
fn email_of_type(kind: &str, value: &str) -> Filter {
    value_path("emails", and(eq("type", kind), eq("value", value)))
}

fn all_pages() -> PageRequest {
    PageRequest::Index {
        start_index: 1,
        count: 1000,
    }
}

async fn list(
    store: &dyn Store,
    t: &str,
    kind: ResourceKind,
    filter: Option<&Filter>,
    sort: Option<&SortSpec>,
    page: PageRequest,
) -> Result<ListPage, StoreError> {
    let registry = SchemaRegistry::with_core();
    store
        .list(
            t,
            kind,
            &registry,
            &ListQuery {
                filter,
                sort,
                page,
                fetch: Fetch::NONE,
            },
        )
        .await
}

fn user_name(r: &StoredResource) -> String {
    r.document
        .get("userName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The userNames matching a filter.
async fn matching(
    store: &dyn Store,
    t: &str,
    filter: &Filter,
) -> Result<BTreeSet<String>, StoreError> {
    let page = list(
        store,
        t,
        ResourceKind::User,
        Some(filter),
        None,
        all_pages(),
    )
    .await?;
    if page.total_results != page.resources.len() as u64 {
        return Err(StoreError::Database(format!(
            "totalResults {} but {} resources",
            page.total_results,
            page.resources.len()
        )));
    }
    Ok(page.resources.iter().map(user_name).collect())
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

// ---- checks -------------------------------------------------------------------

/// Tenants: create, duplicate id (409), get, list by id, update, delete with cascade.
pub async fn tenants(store: &dyn Store) -> CheckResult {
    tenant(store, "tenants-b").await?;
    tenant(store, "tenants-a").await?;
    expect_scim(
        tenant(store, "tenants-a").await,
        409,
        Some(ScimType::Uniqueness),
        "duplicate tenant",
    )?;
    let got = store
        .get_tenant("tenants-a")
        .await?
        .ok_or("tenant missing")?;
    assert_eq!(got.display_name, "Tenant tenants-a");
    assert!(got.provisioning_enabled);
    let ids: Vec<String> = store
        .list_tenants()
        .await?
        .into_iter()
        .map(|t| t.id)
        .filter(|id| id.starts_with("tenants-"))
        .collect();
    assert_eq!(ids, ["tenants-a", "tenants-b"]);

    let updated = store
        .update_tenant(
            "tenants-a",
            &TenantUpdate {
                display_name: Some("Renamed".into()),
                provisioning_enabled: Some(false),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(updated.display_name, "Renamed");
    assert!(!updated.provisioning_enabled);
    assert_eq!(store.get_tenant("tenants-a").await?, Some(updated));
    expect_scim(
        store
            .update_tenant("tenants-none", &TenantUpdate::default())
            .await,
        404,
        None,
        "update unknown tenant",
    )?;

    let u = user(store, "tenants-a", json!({"userName": "alice"})).await?;
    let g = group(store, "tenants-a", "Staff", vec![member(&u.id)]).await?;
    assert!(store.delete_tenant("tenants-a").await?);
    assert!(!store.delete_tenant("tenants-a").await?);
    assert!(store.get_tenant("tenants-a").await?.is_none());
    assert!(store
        .get("tenants-a", ResourceKind::User, &u.id, Fetch::NONE)
        .await?
        .is_none());
    assert!(store
        .get("tenants-a", ResourceKind::Group, &g.id, Fetch::NONE)
        .await?
        .is_none());
    // The id is free again, and the new tenant starts empty.
    tenant(store, "tenants-a").await?;
    let page = list(
        store,
        "tenants-a",
        ResourceKind::User,
        None,
        None,
        all_pages(),
    )
    .await?;
    assert_eq!(page.total_results, 0);
    expect_scim(
        user(store, "tenants-none", json!({"userName": "x"})).await,
        404,
        None,
        "create in unknown tenant",
    )?;
    Ok(())
}

/// Tokens: stored by hash, listed newest first, revoked per tenant, touched in batches.
pub async fn tokens(store: &dyn Store) -> CheckResult {
    tenant(store, "tokens-a").await?;
    tenant(store, "tokens-b").await?;
    let base = OffsetDateTime::from_unix_timestamp(1_700_000_000)?;
    let record = |id: &str, tenant: &str, created: OffsetDateTime| TokenRecord {
        id: id.into(),
        tenant_id: tenant.into(),
        name: format!("token {id}"),
        secret_hash: vec![1, 2, 3, id.len() as u8],
        created,
        last_used: None,
        expires: Some(created + Duration::days(365)),
        revoked: None,
    };
    let first = record("tok1", "tokens-a", base);
    let second = record("tok2", "tokens-a", base + Duration::hours(1));
    store.insert_token(&first).await?;
    store.insert_token(&second).await?;
    store
        .insert_token(&record("tok3", "tokens-b", base))
        .await?;
    expect_scim(
        store
            .insert_token(&record("tok4", "tokens-none", base))
            .await,
        404,
        None,
        "token for unknown tenant",
    )?;
    assert_eq!(
        store.get_token("tokens-a", "tok1").await?,
        Some(first.clone())
    );
    assert!(store.get_token("tokens-a", "nope").await?.is_none());
    assert!(
        store.get_token("tokens-b", "tok1").await?.is_none(),
        "another tenant's token is not found"
    );
    let listed: Vec<String> = store
        .list_tokens("tokens-a")
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, ["tok2", "tok1"]);

    let grace = base + Duration::minutes(10);
    assert!(!store.revoke_token("tokens-b", "tok1", grace).await?);
    assert!(store.revoke_token("tokens-a", "tok1", grace).await?);
    assert_eq!(
        store
            .get_token("tokens-a", "tok1")
            .await?
            .ok_or("token missing")?
            .revoked,
        Some(grace)
    );

    let later = base + Duration::hours(5);
    store
        .touch_tokens(&[("tok2".into(), later), ("tok1".into(), base)])
        .await?;
    // An older time does not overwrite a newer one.
    store.touch_tokens(&[("tok2".into(), base)]).await?;
    assert_eq!(
        store
            .get_token("tokens-a", "tok2")
            .await?
            .ok_or("token missing")?
            .last_used,
        Some(later)
    );
    store.touch_tokens(&[]).await?;

    // The tenant and its token in one read: what authentication uses.
    let tenant_a = store
        .get_tenant("tokens-a")
        .await?
        .ok_or("tenant missing")?;
    let (found_tenant, found_token) = store
        .get_tenant_with_token("tokens-a", "tok1")
        .await?
        .ok_or("tenant with token missing")?;
    assert_eq!(found_tenant, tenant_a);
    assert_eq!(found_token, store.get_token("tokens-a", "tok1").await?);
    assert_eq!(
        found_token.ok_or("token missing")?.revoked,
        Some(grace),
        "a revoked token is still returned, for the caller to refuse"
    );
    assert_eq!(
        store.get_tenant_with_token("tokens-a", "nope").await?,
        Some((tenant_a.clone(), None)),
        "an unknown token id still returns the tenant"
    );
    let (tenant_b, foreign) = store
        .get_tenant_with_token("tokens-b", "tok1")
        .await?
        .ok_or("tenant b missing")?;
    assert_eq!(tenant_b.id, "tokens-b");
    assert!(foreign.is_none(), "another tenant's token is not found");
    assert!(store
        .get_tenant_with_token("tokens-none", "tok1")
        .await?
        .is_none());
    Ok(())
}

/// Create, get, update (version moves only on change), delete.
pub async fn resource_lifecycle(store: &dyn Store) -> CheckResult {
    let t = "lifecycle";
    tenant(store, t).await?;
    let created = user(
        store,
        t,
        json!({"userName": "Bob", "displayName": "Bob B", "active": true,
               "emails": [{"value": "bob@example.com", "type": "work", "primary": true}]}),
    )
    .await?;
    assert_eq!(created.id.len(), 36);
    assert_eq!(created.id, created.id.to_lowercase());
    assert_eq!(created.meta.version, 1);
    assert_eq!(created.meta.created, created.meta.last_modified);
    assert_eq!(user_name(&created), "Bob");
    let got = store
        .get(t, ResourceKind::User, &created.id, Fetch::NONE)
        .await?
        .ok_or("created user not found")?;
    assert_eq!(got, created);
    assert!(store
        .get(t, ResourceKind::Group, &created.id, Fetch::NONE)
        .await?
        .is_none());
    // The multi-valued attribute index is written with the user.
    assert_eq!(
        matching(store, t, &eq("emails.value", "BOB@example.com")).await?,
        names(&["Bob"])
    );
    // A new user is in no group, and says so when asked.
    let with_groups = store
        .create(
            t,
            ResourceKind::User,
            NewResource {
                document: doc(json!({"userName": "Newcomer"})),
                members: vec![],
            },
            Fetch {
                groups: true,
                ..Fetch::NONE
            },
        )
        .await?;
    assert_eq!(with_groups.groups, Some(vec![]));
    store
        .delete(t, ResourceKind::User, &with_groups.id, None)
        .await?;
    // Nothing is created in a tenant that does not exist.
    expect_scim(
        user(
            store,
            "lifecycle-no-such-tenant",
            json!({"userName": "Ghost"}),
        )
        .await,
        404,
        None,
        "create a user in an unknown tenant",
    )?;
    expect_scim(
        group(store, "lifecycle-no-such-tenant", "Ghosts", vec![]).await,
        404,
        None,
        "create a group in an unknown tenant",
    )?;

    // Same document: nothing moves.
    let same = store
        .update(
            t,
            ResourceKind::User,
            &created.id,
            None,
            set(created.document.clone(), vec![]),
            Fetch::NONE,
        )
        .await?;
    assert_eq!(same.meta, created.meta);

    let mut changed_doc = created.document.clone();
    changed_doc.insert("active".into(), json!(false));
    let changed = store
        .update(
            t,
            ResourceKind::User,
            &created.id,
            None,
            set(changed_doc.clone(), vec![]),
            Fetch::NONE,
        )
        .await?;
    assert_eq!(changed.meta.version, 2);
    assert!(changed.meta.last_modified >= created.meta.last_modified);
    assert_eq!(changed.meta.created, created.meta.created);
    assert_eq!(changed.document, changed_doc);
    // What an update answers is what a later read returns.
    let reread = store
        .get(t, ResourceKind::User, &created.id, Fetch::NONE)
        .await?;
    assert_eq!(reread.as_ref(), Some(&changed));
    // A deactivated user is still found (idp-clients.md R18).
    let inactive = matching(
        store,
        t,
        &cmp("active", CompareOp::Eq, Literal::Bool(false)),
    )
    .await?;
    assert_eq!(inactive, names(&["Bob"]));

    // The update function sees the current resource and may refuse.
    let refused = store
        .update(
            t,
            ResourceKind::User,
            &created.id,
            None,
            Box::new(|current| {
                assert_eq!(current.meta.version, 2);
                Err(scimd_protocol::ScimError::mutability("no"))
            }),
            Fetch::NONE,
        )
        .await;
    expect_scim(refused, 400, Some(ScimType::Mutability), "refused update")?;
    // An update that drops userName is refused, not stored.
    expect_scim(
        store
            .update(
                t,
                ResourceKind::User,
                &created.id,
                None,
                set(doc(json!({"active": true})), vec![]),
                Fetch::NONE,
            )
            .await,
        400,
        Some(ScimType::InvalidValue),
        "update without userName",
    )?;
    expect_scim(
        user(store, t, json!({"displayName": "no name"})).await,
        400,
        Some(ScimType::InvalidValue),
        "create without userName",
    )?;

    expect_scim(
        store
            .update(
                t,
                ResourceKind::User,
                "missing",
                None,
                set(changed_doc, vec![]),
                Fetch::NONE,
            )
            .await,
        404,
        None,
        "update unknown",
    )?;
    store
        .delete(t, ResourceKind::User, &created.id, None)
        .await?;
    assert!(store
        .get(t, ResourceKind::User, &created.id, Fetch::NONE)
        .await?
        .is_none());
    expect_scim(
        store.delete(t, ResourceKind::User, &created.id, None).await,
        404,
        None,
        "delete twice",
    )?;
    // The emails index went with the user.
    assert!(matching(store, t, &eq("emails.value", "bob@example.com"))
        .await?
        .is_empty());
    Ok(())
}

/// userName, externalId and group displayName are unique per tenant, case-insensitively.
pub async fn uniqueness(store: &dyn Store) -> CheckResult {
    let t = "unique";
    tenant(store, t).await?;
    let first = user(
        store,
        t,
        json!({"userName": "Carol@Example.com", "externalId": "EXT-1"}),
    )
    .await?;
    let conflict = |r| expect_scim(r, 409, Some(ScimType::Uniqueness), "uniqueness");
    conflict(user(store, t, json!({"userName": "carol@example.COM"})).await)?;
    conflict(
        user(
            store,
            t,
            json!({"userName": "other", "externalId": "ext-1"}),
        )
        .await,
    )?;
    let second = user(store, t, json!({"userName": "dave"})).await?;
    // Updating into a conflict is refused too, and the 409 names the attribute.
    let into_conflict = store
        .update(
            t,
            ResourceKind::User,
            &second.id,
            None,
            set(doc(json!({"userName": "CAROL@example.com"})), vec![]),
            Fetch::NONE,
        )
        .await;
    match &into_conflict {
        Err(StoreError::Scim(e)) if e.status == 409 => {
            assert!(
                e.detail.contains("userName"),
                "409 detail names the attribute: {}",
                e.detail
            );
        }
        other => return Err(format!("expected 409, got {other:?}").into()),
    }
    // Whatever conflicts is findable by the matching filter (idp-clients.md R13).
    assert_eq!(
        matching(store, t, &eq("userName", "CAROL@EXAMPLE.COM")).await?,
        names(&["Carol@Example.com"])
    );
    // Users without externalId do not conflict with each other.
    user(store, t, json!({"userName": "erin"})).await?;
    group(store, t, "Admins", vec![]).await?;
    conflict(group(store, t, "ADMINS", vec![]).await)?;
    // A group may share a name with a user, and externalIds are unique per kind.
    group(store, t, "dave", vec![]).await?;
    group_from(store, t, json!({"displayName": "G", "externalId": "EXT-1"})).await?;
    assert_eq!(first.meta.version, 1);
    Ok(())
}

/// Every indexed column follows an update, whichever of them the update changes and
/// whichever it leaves alone: filters on `userName`, `externalId`, `displayName` and
/// `emails.value` find the new values and not the old, a freed name or externalId can
/// be taken again, a taken one cannot, and a group's rename (even in case only) shows
/// in its members' `groups`. (A backend may skip rewriting what did not change.)
pub async fn updates_keep_indexes_in_step(store: &dyn Store) -> CheckResult {
    let t = "update-columns";
    tenant(store, t).await?;
    let ann = user(
        store,
        t,
        json!({"userName": "Ann", "externalId": "A-1", "displayName": "Ann A",
               "emails": [{"value": "ann@x.example", "type": "work"}]}),
    )
    .await?;
    user(store, t, json!({"userName": "Ben", "externalId": "B-1"})).await?;
    let replace = |document: Value| {
        store.update(
            t,
            ResourceKind::User,
            &ann.id,
            None,
            set(doc(document), vec![]),
            Fetch::NONE,
        )
    };
    let finds = |filter: Filter, expected: &'static [&'static str]| async move {
        let found = matching(store, t, &filter).await?;
        if found != names(expected) {
            return Err(format!("{filter:?}: expected {expected:?}, found {found:?}").into());
        }
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    };

    // Nothing indexed changes: everything is still found, the version moves.
    let updated = replace(json!({"userName": "Ann", "externalId": "A-1",
        "displayName": "Ann A", "title": "Engineer",
        "emails": [{"value": "ann@x.example", "type": "work"}]}))
    .await?;
    assert_eq!(updated.meta.version, 2);
    finds(eq("userName", "ann"), &["Ann"]).await?;
    finds(eq("externalId", "a-1"), &["Ann"]).await?;
    finds(eq("displayName", "ann a"), &["Ann"]).await?;
    finds(eq("emails.value", "ANN@x.example"), &["Ann"]).await?;
    finds(eq("title", "Engineer"), &["Ann"]).await?;

    // Only userName changes: the old name is free, the new one taken.
    replace(
        json!({"userName": "Anna", "externalId": "A-1", "displayName": "Ann A",
        "emails": [{"value": "ann@x.example", "type": "work"}]}),
    )
    .await?;
    finds(eq("userName", "ann"), &[]).await?;
    finds(eq("userName", "ANNA"), &["Anna"]).await?;
    finds(eq("externalId", "A-1"), &["Anna"]).await?;
    expect_scim(
        user(store, t, json!({"userName": "anna"})).await,
        409,
        Some(ScimType::Uniqueness),
        "the new userName is taken",
    )?;

    // Only externalId changes.
    replace(
        json!({"userName": "Anna", "externalId": "A-2", "displayName": "Ann A",
        "emails": [{"value": "ann@x.example", "type": "work"}]}),
    )
    .await?;
    finds(eq("externalId", "A-1"), &[]).await?;
    finds(eq("externalId", "a-2"), &["Anna"]).await?;
    expect_scim(
        user(store, t, json!({"userName": "other", "externalId": "A-2"})).await,
        409,
        Some(ScimType::Uniqueness),
        "the new externalId is taken",
    )?;
    // The old name and externalId are free again.
    user(store, t, json!({"userName": "ann", "externalId": "a-1"})).await?;

    // Only displayName and the one email's value change.
    replace(
        json!({"userName": "Anna", "externalId": "A-2", "displayName": "Anna B",
        "emails": [{"value": "anna@x.example", "type": "work"}]}),
    )
    .await?;
    finds(eq("displayName", "Ann A"), &[]).await?;
    finds(eq("displayName", "anna b"), &["Anna"]).await?;
    finds(eq("emails.value", "ann@x.example"), &[]).await?;
    finds(eq("emails.value", "anna@x.example"), &["Anna"]).await?;

    // A second email, then only the two emails' types swap.
    replace(
        json!({"userName": "Anna", "externalId": "A-2", "displayName": "Anna B",
        "emails": [{"value": "anna@x.example", "type": "home"},
                   {"value": "a2@x.example", "type": "work", "primary": true}]}),
    )
    .await?;
    finds(email_of_type("work", "a2@x.example"), &["Anna"]).await?;
    replace(
        json!({"userName": "Anna", "externalId": "A-2", "displayName": "Anna B",
        "emails": [{"value": "anna@x.example", "type": "work"},
                   {"value": "a2@x.example", "type": "home", "primary": true}]}),
    )
    .await?;
    finds(email_of_type("home", "a2@x.example"), &["Anna"]).await?;
    finds(email_of_type("work", "a2@x.example"), &[]).await?;

    // Only the emails' order changes, then everything optional goes.
    replace(
        json!({"userName": "Anna", "externalId": "A-2", "displayName": "Anna B",
        "emails": [{"value": "a2@x.example", "type": "home", "primary": true},
                   {"value": "anna@x.example", "type": "work"}]}),
    )
    .await?;
    finds(eq("emails.value", "anna@x.example"), &["Anna"]).await?;
    finds(eq("emails.value", "a2@x.example"), &["Anna"]).await?;
    replace(json!({"userName": "Anna"})).await?;
    finds(eq("externalId", "A-2"), &[]).await?;
    finds(eq("displayName", "Anna B"), &[]).await?;
    finds(eq("emails.value", "a2@x.example"), &[]).await?;
    finds(pr("externalId"), &["Ben", "ann"]).await?;
    user(store, t, json!({"userName": "third", "externalId": "A-2"})).await?;

    // Updating into a taken name is refused, and nothing of it is stored.
    expect_scim(
        replace(json!({"userName": "Ben", "externalId": "Z-9"})).await,
        409,
        Some(ScimType::Uniqueness),
        "an update into a taken userName",
    )?;
    finds(eq("externalId", "Z-9"), &[]).await?;
    finds(eq("userName", "Anna"), &["Anna"]).await?;

    // Groups: a rename in case only still reaches the members' `groups`.
    let team = group(store, t, "Team", vec![member(&ann.id)]).await?;
    let rename = |name: &str, external: Option<&str>| {
        let mut document = json!({ "displayName": name });
        if let Some(external) = external {
            document["externalId"] = json!(external);
        }
        store.update(
            t,
            ResourceKind::Group,
            &team.id,
            None,
            Box::new(move |_| {
                Ok(Update {
                    document: doc(document),
                    members: vec![],
                })
            }),
            Fetch::NONE,
        )
    };
    let groups_of_ann = || async {
        let read = store
            .get(t, ResourceKind::User, &ann.id, Fetch::ALL)
            .await?
            .ok_or("Anna is gone")?;
        let groups: Vec<String> = read
            .groups
            .unwrap_or_default()
            .into_iter()
            .filter_map(|g| g.display)
            .collect();
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(groups)
    };
    rename("TEAM", None).await?;
    assert_eq!(groups_of_ann().await?, vec!["TEAM".to_owned()]);
    rename("Crew", Some("G-1")).await?;
    assert_eq!(groups_of_ann().await?, vec!["Crew".to_owned()]);
    let groups_matching = |attribute: &'static str, value: &'static str| async move {
        let filter = eq(attribute, value);
        let page = list(
            store,
            t,
            ResourceKind::Group,
            Some(&filter),
            None,
            all_pages(),
        )
        .await?;
        Ok::<_, StoreError>(page.resources.len())
    };
    assert_eq!(groups_matching("displayName", "team").await?, 0);
    assert_eq!(groups_matching("displayName", "crew").await?, 1);
    // Only the group's externalId changes; the old one is free.
    rename("Crew", Some("G-2")).await?;
    assert_eq!(groups_matching("externalId", "G-1").await?, 0);
    assert_eq!(groups_matching("externalId", "g-2").await?, 1);
    group(store, t, "team", vec![]).await?;
    group_from(
        store,
        t,
        json!({"displayName": "Other", "externalId": "G-1"}),
    )
    .await?;
    expect_scim(
        rename("TEAM", Some("G-2")).await,
        409,
        Some(ScimType::Uniqueness),
        "a rename into a taken group name",
    )?;
    Ok(())
}

/// Two creates of the same userName racing: exactly one wins, the other is 409.
pub async fn concurrent_creates(store: &dyn Store) -> CheckResult {
    let t = "race";
    tenant(store, t).await?;
    let (a, b, c, d) = tokio::join!(
        user(store, t, json!({"userName": "same"})),
        user(store, t, json!({"userName": "SAME"})),
        user(store, t, json!({"userName": "Same"})),
        group(store, t, "g", vec![]),
    );
    d?;
    let results = [a, b, c];
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "exactly one create wins: {results:?}");
    for r in results.into_iter().filter(|r| r.is_err()) {
        expect_scim(r, 409, Some(ScimType::Uniqueness), "racing create")?;
    }
    Ok(())
}

/// A read of several statements sees one snapshot. One update at a time adds a member
/// to a group and renames the group after its member count; meanwhile, every read of
/// the group with its members, alone or in a list page, must see a name and members
/// that agree (its row and its members read at different moments would not). Bounded
/// by the number of updates and by time.
pub async fn reads_of_several_statements_agree(store: &dyn Store) -> CheckResult {
    const MEMBERS: usize = 150;
    let t = "snapshots";
    tenant(store, t).await?;
    let mut people = Vec::new();
    for i in 0..MEMBERS {
        people.push(
            user(store, t, json!({ "userName": format!("m{i}") }))
                .await?
                .id,
        );
    }
    let team = group(store, t, "n0", vec![]).await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let finished = std::sync::atomic::AtomicBool::new(false);
    let agree = |read: &StoredResource| -> CheckResult {
        let name = read.document.get("displayName").and_then(Value::as_str);
        let members = read.members.as_ref().map_or(0, Vec::len);
        if name == Some(format!("n{members}").as_str()) {
            Ok(())
        } else {
            Err(format!(
                "read {name:?} with {members} members (version {})",
                read.meta.version
            )
            .into())
        }
    };
    let writer = async {
        let result: CheckResult = async {
            for (added, id) in people.iter().enumerate() {
                if std::time::Instant::now() > deadline {
                    break;
                }
                let renamed = doc(json!({ "displayName": format!("n{}", added + 1) }));
                let joins = vec![MemberChange::Add(vec![member(id)])];
                store
                    .update(
                        t,
                        ResourceKind::Group,
                        &team.id,
                        None,
                        set(renamed, joins),
                        Fetch::NONE,
                    )
                    .await?;
                tokio::task::yield_now().await;
            }
            Ok(())
        }
        .await;
        finished.store(true, std::sync::atomic::Ordering::Release);
        result
    };
    let reader = async {
        let registry = SchemaRegistry::with_core();
        let mut reads = 0u32;
        while !finished.load(std::sync::atomic::Ordering::Acquire)
            && std::time::Instant::now() < deadline
        {
            let read = store
                .get(t, ResourceKind::Group, &team.id, Fetch::ALL)
                .await?
                .ok_or("the group is gone")?;
            agree(&read)?;
            let page = store
                .list(
                    t,
                    ResourceKind::Group,
                    &registry,
                    &ListQuery {
                        filter: None,
                        sort: None,
                        page: all_pages(),
                        fetch: Fetch::ALL,
                    },
                )
                .await?;
            for listed in &page.resources {
                agree(listed)?;
            }
            reads += 1;
            tokio::task::yield_now().await;
        }
        Ok::<u32, Box<dyn std::error::Error + Send + Sync>>(reads)
    };
    let (written, reads) = tokio::join!(writer, reader);
    written?;
    let reads = reads?;
    assert!(reads > 0, "the reader ran");
    let last = store
        .get(t, ResourceKind::Group, &team.id, Fetch::ALL)
        .await?
        .ok_or("the group is gone")?;
    agree(&last)?;
    Ok(())
}

/// Tenants never see each other's resources.
pub async fn tenant_isolation(store: &dyn Store) -> CheckResult {
    tenant(store, "iso-a").await?;
    tenant(store, "iso-b").await?;
    let a = user(
        store,
        "iso-a",
        json!({"userName": "shared", "externalId": "x"}),
    )
    .await?;
    let b = user(
        store,
        "iso-b",
        json!({"userName": "shared", "externalId": "x"}),
    )
    .await?;
    let ga = group(store, "iso-a", "Team", vec![member(&a.id)]).await?;
    group(store, "iso-b", "Team", vec![]).await?;
    assert!(store
        .get("iso-a", ResourceKind::User, &b.id, Fetch::NONE)
        .await?
        .is_none());
    expect_scim(
        store
            .update(
                "iso-a",
                ResourceKind::User,
                &b.id,
                None,
                set(a.document.clone(), vec![]),
                Fetch::NONE,
            )
            .await,
        404,
        None,
        "update other tenant's user",
    )?;
    expect_scim(
        store.delete("iso-a", ResourceKind::User, &b.id, None).await,
        404,
        None,
        "delete other tenant's user",
    )?;
    // A member from another tenant does not exist here: it is skipped.
    let after = store
        .update(
            "iso-a",
            ResourceKind::Group,
            &ga.id,
            None,
            change_members(vec![MemberChange::Add(vec![member(&b.id)])]),
            Fetch::ALL,
        )
        .await?;
    assert_eq!(
        member_ids(&after),
        vec![a.id.clone()],
        "another tenant's user became a member"
    );
    let page = list(
        store,
        "iso-a",
        ResourceKind::User,
        Some(&eq("userName", "shared")),
        None,
        all_pages(),
    )
    .await?;
    assert_eq!(page.total_results, 1);
    assert_eq!(
        page.resources.first().map(|r| r.id.clone()),
        Some(a.id.clone())
    );
    let in_group = matching(store, "iso-b", &eq("groups.value", &ga.id)).await?;
    assert!(in_group.is_empty());
    assert!(store
        .get("iso-b", ResourceKind::User, &b.id, Fetch::NONE)
        .await?
        .is_some());
    Ok(())
}

/// Every operator, and/or/not, value paths, extension attributes, dateTimes, nulls.
pub async fn filters(store: &dyn Store) -> CheckResult {
    let t = "filters";
    tenant(store, t).await?;
    let enterprise = scimd_protocol::schema::ENTERPRISE_USER_SCHEMA;
    let ann = user(
        store,
        t,
        json!({"userName": "ann@example.com", "externalId": "A-1", "displayName": "Ann Archer",
               "active": true, "title": "Engineer",
               "name": {"givenName": "Ann", "familyName": "Archer"},
               "emails": [{"value": "Ann@Example.com", "type": "work", "primary": true},
                          {"value": "ann@home.org", "type": "home"}],
               "addresses": [{"type": "work", "locality": "Paris"}],
               enterprise: {"department": "Sales", "employeeNumber": "1001",
                            "manager": {"value": "boss"}}}),
    )
    .await?;
    let ben = user(
        store,
        t,
        json!({"userName": "ben@example.org", "displayName": "Ben 50%_off", "active": false,
               "emails": [{"value": "ben@work.org", "type": "home"}],
               "phoneNumbers": [{"value": "+1 555", "type": "mobile"}],
               enterprise: {"department": "R&D"}}),
    )
    .await?;
    let cem = user(
        store,
        t,
        json!({"userName": "Çem@example.com", "title": "", "emails": [{"value": "cem@example.com", "type": "WORK"}]}),
    )
    .await?;

    let check = |expected: &'static [&'static str]| names(expected);
    let all = check(&["ann@example.com", "ben@example.org", "Çem@example.com"]);
    let cases: Vec<(Filter, BTreeSet<String>)> = vec![
        (
            eq("userName", "ANN@EXAMPLE.COM"),
            check(&["ann@example.com"]),
        ),
        (
            eq("USERNAME", "çem@EXAMPLE.com"),
            check(&["Çem@example.com"]),
        ),
        (
            eq(
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                "ben@example.org",
            ),
            check(&["ben@example.org"]),
        ),
        (eq("id", &ben.id), check(&["ben@example.org"])),
        (eq("externalId", "a-1"), check(&["ann@example.com"])),
        (
            cmp("userName", CompareOp::Ne, s("ann@example.com")),
            check(&["ben@example.org", "Çem@example.com"]),
        ),
        (
            cmp("userName", CompareOp::Sw, s("BEN")),
            check(&["ben@example.org"]),
        ),
        (
            cmp("userName", CompareOp::Ew, s(".COM")),
            check(&["ann@example.com", "Çem@example.com"]),
        ),
        (cmp("userName", CompareOp::Co, s("@EXAMPLE.")), all.clone()),
        (
            cmp("displayName", CompareOp::Co, s("50%_")),
            check(&["ben@example.org"]),
        ),
        (
            cmp("displayName", CompareOp::Co, s("0%")),
            check(&["ben@example.org"]),
        ),
        (cmp("displayName", CompareOp::Co, s("n_a")), BTreeSet::new()),
        (
            cmp("userName", CompareOp::Gt, s("ben")),
            check(&["ben@example.org", "Çem@example.com"]),
        ),
        (
            cmp("userName", CompareOp::Ge, s("ben@example.org")),
            check(&["ben@example.org", "Çem@example.com"]),
        ),
        (
            cmp("userName", CompareOp::Lt, s("ben")),
            check(&["ann@example.com"]),
        ),
        (
            cmp("userName", CompareOp::Le, s("ben@example.org")),
            check(&["ann@example.com", "ben@example.org"]),
        ),
        (
            cmp("active", CompareOp::Eq, Literal::Bool(true)),
            check(&["ann@example.com"]),
        ),
        (
            cmp("active", CompareOp::Eq, s("False")),
            check(&["ben@example.org"]),
        ),
        (
            cmp("active", CompareOp::Ne, Literal::Bool(true)),
            check(&["ben@example.org", "Çem@example.com"]),
        ),
        (
            pr("displayName"),
            check(&["ann@example.com", "ben@example.org"]),
        ),
        (pr("title"), check(&["ann@example.com"])),
        (pr("emails"), all.clone()),
        (pr("phoneNumbers"), check(&["ben@example.org"])),
        (pr("name"), check(&["ann@example.com"])),
        (
            cmp("displayName", CompareOp::Eq, Literal::Null),
            check(&["Çem@example.com"]),
        ),
        (
            cmp("externalId", CompareOp::Ne, Literal::Null),
            check(&["ann@example.com"]),
        ),
        (eq("name.givenName", "ANN"), check(&["ann@example.com"])),
        (
            cmp("name.familyName", CompareOp::Sw, s("arch")),
            check(&["ann@example.com"]),
        ),
        (eq("title", "engineer"), check(&["ann@example.com"])),
        (
            and(pr("title"), eq("title", "Engineer")),
            check(&["ann@example.com"]),
        ),
        // Entra's lookups (idp-clients.md R3).
        (
            eq("emails.value", "ann@example.com"),
            check(&["ann@example.com"]),
        ),
        (eq("emails", "ANN@HOME.ORG"), check(&["ann@example.com"])),
        (
            email_of_type("work", "ann@example.com"),
            check(&["ann@example.com"]),
        ),
        (
            value_path("emails", eq("type", "work")),
            check(&["ann@example.com", "Çem@example.com"]),
        ),
        (email_of_type("work", "ann@home.org"), BTreeSet::new()),
        (
            value_path(
                "emails",
                and(
                    eq("type", "home"),
                    cmp("value", CompareOp::Ew, s("work.org")),
                ),
            ),
            check(&["ben@example.org"]),
        ),
        (
            value_path("emails", cmp("primary", CompareOp::Eq, Literal::Bool(true))),
            check(&["ann@example.com"]),
        ),
        (
            value_path("emails", not(eq("type", "work"))),
            check(&["ann@example.com", "ben@example.org"]),
        ),
        (value_path("emails", eq("display", "x")), BTreeSet::new()),
        (
            value_path("phoneNumbers", eq("type", "mobile")),
            check(&["ben@example.org"]),
        ),
        (
            value_path("addresses", eq("locality", "paris")),
            check(&["ann@example.com"]),
        ),
        (eq("addresses.type", "work"), check(&["ann@example.com"])),
        (
            eq("addresses.locality", "PARIS"),
            check(&["ann@example.com"]),
        ),
        // Enterprise extension, qualified and not.
        (
            eq(&format!("{enterprise}:department"), "sales"),
            check(&["ann@example.com"]),
        ),
        (eq("department", "R&D"), check(&["ben@example.org"])),
        (
            eq(&format!("{enterprise}:manager.value"), "boss"),
            check(&["ann@example.com"]),
        ),
        (
            value_path(&format!("{enterprise}:manager"), eq("value", "boss")),
            check(&["ann@example.com"]),
        ),
        (
            cmp(
                &format!("{enterprise}:employeeNumber"),
                CompareOp::Eq,
                Literal::Number(1001.into()),
            ),
            check(&["ann@example.com"]),
        ),
        (
            pr(&format!("{enterprise}:department")),
            check(&["ann@example.com", "ben@example.org"]),
        ),
        // Logic.
        (
            or(
                eq("userName", "ann@example.com"),
                eq("userName", "ben@example.org"),
            ),
            check(&["ann@example.com", "ben@example.org"]),
        ),
        (
            and(
                cmp("userName", CompareOp::Co, s("example")),
                not(eq("externalId", "a-1")),
            ),
            check(&["ben@example.org", "Çem@example.com"]),
        ),
        (
            not(pr("title")),
            check(&["ben@example.org", "Çem@example.com"]),
        ),
        (
            not(eq("department", "sales")),
            check(&["ben@example.org", "Çem@example.com"]),
        ),
        (
            and(or(eq("userName", "x"), eq("active", "true")), pr("emails")),
            check(&["ann@example.com"]),
        ),
        // dateTimes on the indexed meta columns.
        (
            cmp(
                "meta.created",
                CompareOp::Ge,
                s(&timestamp_text(ann.meta.created)),
            ),
            all.clone(),
        ),
        (
            cmp(
                "meta.created",
                CompareOp::Gt,
                s(&timestamp_text(cem.meta.created)),
            ),
            BTreeSet::new(),
        ),
        (
            cmp(
                "meta.lastModified",
                CompareOp::Le,
                s(&timestamp_text(cem.meta.last_modified)),
            ),
            all.clone(),
        ),
        (
            cmp(
                "meta.created",
                CompareOp::Lt,
                s("2000-01-01T00:00:00+01:00"),
            ),
            BTreeSet::new(),
        ),
        (
            cmp("meta.created", CompareOp::Gt, s("2000-01-01T00:00:00Z")),
            all.clone(),
        ),
        (eq("meta.resourceType", "User"), all.clone()),
    ];
    for (filter, expected) in cases {
        let got = matching(store, t, &filter).await?;
        assert_eq!(got, expected, "filter {filter:?}");
    }
    // Exact instants compare as instants, whatever the literal's offset.
    let at = ben
        .meta
        .created
        .to_offset(time::UtcOffset::from_hms(2, 0, 0)?);
    let exact = matching(store, t, &eq("meta.created", &timestamp_text(at))).await?;
    assert!(exact.contains("ben@example.org"));
    Ok(())
}

fn timestamp_text(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Bad filters are 400 `invalidFilter`, never a panic or a 500.
pub async fn filter_errors(store: &dyn Store) -> CheckResult {
    let t = "filter-errors";
    tenant(store, t).await?;
    user(store, t, json!({"userName": "u"})).await?;
    let bad = [
        eq("noSuchAttribute", "x"),
        eq("urn:example:unknown:1.0:User:x", "x"),
        cmp("active", CompareOp::Gt, Literal::Bool(true)),
        cmp("active", CompareOp::Co, s("tr")),
        eq("active", "maybe"),
        cmp("meta.created", CompareOp::Sw, s("2020")),
        eq("meta.created", "yesterday"),
        eq("name", "x"),
        eq("password", "secret"),
        value_path("emails", eq("nothing", "x")),
        value_path("emails", value_path("emails", eq("type", "work"))),
        value_path("userName", eq("value", "x")),
        cmp("userName", CompareOp::Gt, Literal::Null),
        eq("emails.nothing", "x"),
    ];
    for filter in bad {
        let result = list(
            store,
            t,
            ResourceKind::User,
            Some(&filter),
            None,
            all_pages(),
        )
        .await;
        expect_scim(
            result,
            400,
            Some(ScimType::InvalidFilter),
            &format!("{filter:?}"),
        )?;
    }
    // Group attributes are not user attributes.
    let result = list(
        store,
        t,
        ResourceKind::Group,
        Some(&eq("userName", "u")),
        None,
        all_pages(),
    )
    .await;
    expect_scim(
        result,
        400,
        Some(ScimType::InvalidFilter),
        "userName on groups",
    )?;
    Ok(())
}

/// Sorting is total and index pages neither overlap nor skip.
pub async fn sorting_and_index_paging(store: &dyn Store) -> CheckResult {
    let t = "paging";
    tenant(store, t).await?;
    let mut created = Vec::new();
    for i in 0..23 {
        // Every third user has no displayName; several share one, so the id breaks ties.
        let mut body = json!({"userName": format!("user{:02}", (i * 7) % 23)});
        if i % 3 != 0 {
            body["displayName"] = json!(format!("Name {}", i % 4));
        }
        created.push(user(store, t, body).await?);
    }
    // Default order: creation order.
    let default_ids = page_through(store, t, None, 5).await?;
    let created_ids: Vec<String> = created.iter().map(|r| r.id.clone()).collect();
    assert_eq!(default_ids, created_ids);
    // Ids grow with creation (UUIDv7), so id indexes are appended to, not split.
    let mut ascending = created_ids.clone();
    ascending.sort();
    assert_eq!(ascending, created_ids, "ids are time-ordered");

    for (attr, order) in [
        ("userName", SortOrder::Ascending),
        ("userName", SortOrder::Descending),
        ("displayName", SortOrder::Ascending),
        ("displayName", SortOrder::Descending),
        ("meta.lastModified", SortOrder::Descending),
        ("emails", SortOrder::Ascending),
    ] {
        let spec = SortSpec {
            path: path(attr),
            order,
        };
        let ids = page_through(store, t, Some(&spec), 4).await?;
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 23, "{attr}: pages overlap or skip");
        let everything = list(store, t, ResourceKind::User, None, Some(&spec), all_pages()).await?;
        let one_page: Vec<String> = everything.resources.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, one_page, "{attr}: paging changes the order");
        if attr == "userName" {
            let names: Vec<String> = everything.resources.iter().map(user_name).collect();
            let mut sorted = names.clone();
            sorted.sort();
            if order == SortOrder::Descending {
                sorted.reverse();
            }
            assert_eq!(names, sorted);
        }
        if attr == "displayName" {
            // Users without a displayName come last ascending, first descending.
            let first_missing = everything
                .resources
                .iter()
                .position(|r| !r.document.contains_key("displayName"));
            let expected = if order == SortOrder::Ascending {
                Some(15)
            } else {
                Some(0)
            };
            assert_eq!(first_missing, expected);
        }
    }
    // Past the end: an empty page with the right total.
    let past = list(
        store,
        t,
        ResourceKind::User,
        None,
        None,
        PageRequest::Index {
            start_index: 100,
            count: 10,
        },
    )
    .await?;
    assert_eq!(past.total_results, 23);
    assert!(past.resources.is_empty());
    let zero = list(
        store,
        t,
        ResourceKind::User,
        None,
        None,
        PageRequest::Index {
            start_index: 0,
            count: 0,
        },
    )
    .await?;
    assert_eq!(zero.total_results, 23);
    assert!(zero.resources.is_empty());
    // Short pages tell the total themselves (the count is skipped); full pages and
    // pages past the end count. Every window must give the same total.
    for (start_index, count, rows) in [
        (1, 30, 23),
        (1, 23, 23),
        (21, 10, 3),
        (23, 10, 1),
        (11, 13, 13),
    ] {
        let page = list(
            store,
            t,
            ResourceKind::User,
            None,
            None,
            PageRequest::Index { start_index, count },
        )
        .await?;
        assert_eq!(
            (page.resources.len(), page.total_results),
            (rows, 23),
            "startIndex={start_index} count={count}"
        );
    }
    Ok(())
}

async fn page_through(
    store: &dyn Store,
    t: &str,
    sort: Option<&SortSpec>,
    count: u64,
) -> Result<Vec<String>, StoreError> {
    let mut ids = Vec::new();
    let mut start_index = 1;
    loop {
        let page = list(
            store,
            t,
            ResourceKind::User,
            None,
            sort,
            PageRequest::Index { start_index, count },
        )
        .await?;
        if page.resources.is_empty() {
            return Ok(ids);
        }
        start_index += page.resources.len() as u64;
        ids.extend(page.resources.into_iter().map(|r| r.id));
    }
}

/// Cursor paging (RFC 9865): keyset pages, bad cursors are 400 `invalidCursor`.
pub async fn cursor_paging(store: &dyn Store) -> CheckResult {
    let t = "cursor";
    tenant(store, t).await?;
    for i in 0..11 {
        let mut body = json!({"userName": format!("c{i:02}"), "title": format!("T{}", i % 3)});
        if i % 4 == 0 {
            body.as_object_mut().map(|o| o.remove("title"));
        }
        user(store, t, body).await?;
    }
    user(store, t, json!({"userName": "zz-filtered-out"})).await?;
    let filter = cmp("userName", CompareOp::Sw, s("c"));
    for sort in [
        None,
        Some(SortSpec {
            path: path("userName"),
            order: SortOrder::Descending,
        }),
        Some(SortSpec {
            path: path("title"),
            order: SortOrder::Ascending,
        }),
        Some(SortSpec {
            path: path("title"),
            order: SortOrder::Descending,
        }),
    ] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = list(
                store,
                t,
                ResourceKind::User,
                Some(&filter),
                sort.as_ref(),
                PageRequest::Cursor {
                    cursor: cursor.clone(),
                    count: 3,
                },
            )
            .await?;
            assert_eq!(page.total_results, 11);
            assert!(page.resources.len() <= 3);
            seen.extend(page.resources.iter().map(|r| r.id.clone()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let everything = list(
            store,
            t,
            ResourceKind::User,
            Some(&filter),
            sort.as_ref(),
            all_pages(),
        )
        .await?;
        let expected: Vec<String> = everything.resources.iter().map(|r| r.id.clone()).collect();
        assert_eq!(seen, expected, "cursor pages for {sort:?}");
    }
    // A first cursor page that holds every match tells its total without a count.
    let whole = list(
        store,
        t,
        ResourceKind::User,
        Some(&filter),
        None,
        PageRequest::Cursor {
            cursor: None,
            count: 20,
        },
    )
    .await?;
    assert_eq!((whole.resources.len(), whole.total_results), (11, 11));
    assert!(whole.next_cursor.is_none());
    let first = list(
        store,
        t,
        ResourceKind::User,
        None,
        None,
        PageRequest::Cursor {
            cursor: None,
            count: 2,
        },
    )
    .await?;
    let issued = first.next_cursor.ok_or("a next cursor")?;
    let other_sort = SortSpec {
        path: path("userName"),
        order: SortOrder::Ascending,
    };
    expect_scim(
        list(
            store,
            t,
            ResourceKind::User,
            None,
            Some(&other_sort),
            PageRequest::Cursor {
                cursor: Some(issued),
                count: 2,
            },
        )
        .await,
        400,
        Some(ScimType::InvalidCursor),
        "cursor of another sort",
    )?;
    for garbage in ["", "not a cursor", "eyJ4Ijox", "%%%"] {
        expect_scim(
            list(
                store,
                t,
                ResourceKind::User,
                None,
                None,
                PageRequest::Cursor {
                    cursor: Some(garbage.into()),
                    count: 2,
                },
            )
            .await,
            400,
            Some(ScimType::InvalidCursor),
            "garbage cursor",
        )?;
    }
    Ok(())
}

fn member_ids(r: &StoredResource) -> Vec<String> {
    r.members
        .as_ref()
        .map(|m| m.iter().map(|m| m.value.clone()).collect())
        .unwrap_or_default()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// Membership deltas: add (idempotent), remove, replace, remove all; displays; groups.
pub async fn memberships(store: &dyn Store) -> CheckResult {
    let t = "members";
    tenant(store, t).await?;
    let u1 = user(
        store,
        t,
        json!({"userName": "m1", "displayName": "Member One"}),
    )
    .await?;
    let u2 = user(store, t, json!({"userName": "m2"})).await?;
    let u3 = user(store, t, json!({"userName": "m3"})).await?;
    let inner = group(store, t, "Inner", vec![]).await?;
    let g = group(store, t, "Outer", vec![member(&u1.id), member(&inner.id)]).await?;
    assert_eq!(
        member_ids(&g),
        sorted(vec![u1.id.clone(), inner.id.clone()])
    );
    let shown = g.members.clone().unwrap_or_default();
    for m in &shown {
        if m.value == u1.id {
            assert_eq!(m.kind, ResourceKind::User);
            // No display was sent with the member, so none is returned.
            assert_eq!(m.display.as_deref(), None);
        } else {
            assert_eq!(m.kind, ResourceKind::Group);
            assert_eq!(m.display.as_deref(), None);
        }
    }

    let update = |changes: Vec<MemberChange>| {
        store.update(
            t,
            ResourceKind::Group,
            &g.id,
            None,
            change_members(changes),
            Fetch::ALL,
        )
    };
    // Re-adding a member is a no-op: no version bump.
    let same = update(vec![MemberChange::Add(vec![member(&u1.id)])]).await?;
    assert_eq!(same.meta.version, g.meta.version);
    let added = update(vec![MemberChange::Add(vec![
        member(&u2.id),
        member(&u2.id),
    ])])
    .await?;
    assert_eq!(added.meta.version, g.meta.version + 1);
    let reread = store.get(t, ResourceKind::Group, &g.id, Fetch::ALL).await?;
    assert_eq!(
        reread.as_ref(),
        Some(&added),
        "an update answers what a read returns"
    );
    assert_eq!(
        member_ids(&added),
        sorted(vec![u1.id.clone(), u2.id.clone(), inner.id.clone()])
    );
    let u2_display = added
        .members
        .as_ref()
        .and_then(|m| m.iter().find(|m| m.value == u2.id))
        .and_then(|m| m.display.clone());
    assert_eq!(u2_display, None, "no display is made up for a member");

    let removed = update(vec![MemberChange::Remove(vec![
        u1.id.clone(),
        "not-a-member".into(),
    ])])
    .await?;
    assert_eq!(
        member_ids(&removed),
        sorted(vec![u2.id.clone(), inner.id.clone()])
    );
    assert_eq!(removed.meta.version, added.meta.version + 1);
    let nothing = update(vec![MemberChange::Remove(vec![u1.id.clone()])]).await?;
    assert_eq!(nothing.meta.version, removed.meta.version);

    let replaced = update(vec![MemberChange::ReplaceAll(vec![
        member(&u3.id),
        member(&u2.id),
    ])])
    .await?;
    assert_eq!(
        member_ids(&replaced),
        sorted(vec![u2.id.clone(), u3.id.clone()])
    );
    let same_again = update(vec![MemberChange::ReplaceAll(vec![
        member(&u2.id),
        member(&u3.id),
    ])])
    .await?;
    assert_eq!(same_again.meta.version, replaced.meta.version);

    // `groups` of a user, and the filters on memberships.
    let of_u3 = store
        .get(t, ResourceKind::User, &u3.id, Fetch::ALL)
        .await?
        .ok_or("user missing")?;
    let groups = of_u3.groups.clone().unwrap_or_default();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups.first().map(|g| g.value.clone()), Some(g.id.clone()));
    assert_eq!(
        groups.first().and_then(|g| g.display.clone()).as_deref(),
        Some("Outer")
    );
    assert_eq!(
        matching(store, t, &eq("groups.value", &g.id)).await?,
        names(&["m2", "m3"])
    );
    assert_eq!(
        matching(store, t, &value_path("groups", eq("display", "OUTER"))).await?,
        names(&["m2", "m3"])
    );
    let with_u3 = list(
        store,
        t,
        ResourceKind::Group,
        Some(&eq("members.value", &u3.id)),
        None,
        all_pages(),
    )
    .await?;
    assert_eq!(
        with_u3
            .resources
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>(),
        vec![g.id.clone()]
    );
    let with_u3 = list(
        store,
        t,
        ResourceKind::Group,
        Some(&value_path("members", eq("value", &u3.id.to_uppercase()))),
        None,
        all_pages(),
    )
    .await?;
    assert_eq!(with_u3.total_results, 1);
    let nonempty = list(
        store,
        t,
        ResourceKind::Group,
        Some(&pr("members")),
        None,
        all_pages(),
    )
    .await?;
    assert_eq!(nonempty.total_results, 1);

    // Fetch::NONE leaves members and groups out.
    let bare = store
        .get(t, ResourceKind::Group, &g.id, Fetch::NONE)
        .await?
        .ok_or("group missing")?;
    assert!(bare.members.is_none());
    let bare_user = store
        .get(t, ResourceKind::User, &u3.id, Fetch::NONE)
        .await?
        .ok_or("user missing")?;
    assert!(bare_user.groups.is_none());

    let emptied = update(vec![MemberChange::RemoveAll]).await?;
    assert_eq!(emptied.members, Some(vec![]));
    assert_eq!(emptied.meta.version, same_again.meta.version + 1);
    let still_empty = update(vec![MemberChange::RemoveAll]).await?;
    assert_eq!(still_empty.meta.version, emptied.meta.version);
    // Several changes apply in order within one update.
    let ordered = update(vec![
        MemberChange::Add(vec![member(&u1.id)]),
        MemberChange::Remove(vec![u1.id.clone()]),
        MemberChange::Add(vec![member(&u2.id)]),
    ])
    .await?;
    assert_eq!(member_ids(&ordered), vec![u2.id.clone()]);

    // A page loads each resource's memberships as a read of that resource does.
    let registry = SchemaRegistry::with_core();
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let page = store
            .list(
                t,
                kind,
                &registry,
                &ListQuery {
                    filter: None,
                    sort: None,
                    page: PageRequest::Index {
                        start_index: 1,
                        count: 100,
                    },
                    fetch: Fetch::ALL,
                },
            )
            .await?;
        assert_eq!(
            page.resources.len(),
            if kind == ResourceKind::User { 3 } else { 2 }
        );
        for listed in &page.resources {
            let read = store.get(t, kind, &listed.id, Fetch::ALL).await?;
            assert_eq!(read.as_ref(), Some(listed), "a listed {kind:?} as read");
        }
    }
    Ok(())
}

/// A user's groups as reads return them: on a GET and on every page of a list that
/// asks for them (an IdP's `userName eq` lookup with `count` 100, and with `count` 1,
/// where the page does not tell its own total; a page of several users, sorted, and
/// one further on), exact whatever the group names hold, ordered by group id; an
/// empty list for a user in no group; none at all when not asked for. Backends read
/// them in the same statement as the user where they can, so this pins what that
/// statement returns.
pub async fn users_groups_in_reads(store: &dyn Store) -> CheckResult {
    let t = "groups-in-reads";
    tenant(store, t).await?;
    let u1 = user(store, t, json!({"userName": "u1"})).await?;
    let u2 = user(store, t, json!({"userName": "u2"})).await?;
    let u3 = user(store, t, json!({"userName": "u3"})).await?;
    // u1 is in all three groups, u3 in the last one, u2 in none.
    let names = [r#"Quote " and \ backslash"#, "Ünïcødé ✓", "[1, 2]"];
    let mut of_u1 = Vec::new();
    let mut of_u3 = Vec::new();
    for (index, name) in names.into_iter().enumerate() {
        let mut members = vec![member(&u1.id)];
        if index == names.len() - 1 {
            members.push(member(&u3.id));
        }
        let g = group(store, t, name, members).await?;
        if index == names.len() - 1 {
            of_u3.push((g.id.clone(), name.to_owned()));
        }
        of_u1.push((g.id, name.to_owned()));
    }
    of_u1.sort();
    let groups_of = |r: &StoredResource| -> Option<Vec<(String, String)>> {
        r.groups.as_ref().map(|groups| {
            groups
                .iter()
                .map(|g| (g.value.clone(), g.display.clone().unwrap_or_default()))
                .collect()
        })
    };

    let read = |id: String, fetch: Fetch| async move {
        store
            .get(t, ResourceKind::User, &id, fetch)
            .await?
            .ok_or_else(|| StoreError::Database(format!("user {id} missing")))
    };
    assert_eq!(
        groups_of(&read(u1.id.clone(), Fetch::ALL).await?),
        Some(of_u1.clone())
    );
    assert_eq!(
        groups_of(&read(u2.id.clone(), Fetch::ALL).await?),
        Some(vec![])
    );
    assert_eq!(groups_of(&read(u1.id.clone(), Fetch::NONE).await?), None);

    let registry = SchemaRegistry::with_core();
    let page_of = |filter: Option<Filter>, sort: Option<SortSpec>, page: PageRequest, fetch| {
        let registry = &registry;
        async move {
            store
                .list(
                    t,
                    ResourceKind::User,
                    registry,
                    &ListQuery {
                        filter: filter.as_ref(),
                        sort: sort.as_ref(),
                        page,
                        fetch,
                    },
                )
                .await
        }
    };
    let first = |count| PageRequest::Index {
        start_index: 1,
        count,
    };
    for count in [100, 1] {
        let page = page_of(Some(eq("userName", "u1")), None, first(count), Fetch::ALL).await?;
        assert_eq!(page.total_results, 1, "count={count}");
        assert_eq!(page.resources.len(), 1, "count={count}");
        let found = page.resources.first().and_then(groups_of);
        assert_eq!(found, Some(of_u1.clone()), "count={count}");
    }
    let everyone = page_of(None, None, first(10), Fetch::ALL).await?;
    assert_eq!(everyone.total_results, 3);
    let by_id: std::collections::BTreeMap<String, Option<Vec<(String, String)>>> = everyone
        .resources
        .iter()
        .map(|r| (r.id.clone(), groups_of(r)))
        .collect();
    assert_eq!(by_id.get(&u1.id), Some(&Some(of_u1.clone())));
    assert_eq!(by_id.get(&u2.id), Some(&Some(vec![])));
    assert_eq!(by_id.get(&u3.id), Some(&Some(of_u3.clone())));
    // A sorted page, and a page further on: the order is the sort's, and each user
    // keeps its own groups.
    let descending = SortSpec {
        path: path("userName"),
        order: SortOrder::Descending,
    };
    let sorted = page_of(None, Some(descending), first(10), Fetch::ALL).await?;
    let in_order: Vec<_> = sorted
        .resources
        .iter()
        .map(|r| (user_name(r), groups_of(r)))
        .collect();
    assert_eq!(
        in_order,
        vec![
            ("u3".to_owned(), Some(of_u3)),
            ("u2".to_owned(), Some(vec![])),
            ("u1".to_owned(), Some(of_u1.clone())),
        ]
    );
    let ascending = SortSpec {
        path: path("userName"),
        order: SortOrder::Ascending,
    };
    let second = PageRequest::Index {
        start_index: 2,
        count: 1,
    };
    let further = page_of(None, Some(ascending), second, Fetch::ALL).await?;
    assert_eq!(further.total_results, 3);
    let names_and_groups: Vec<_> = further
        .resources
        .iter()
        .map(|r| (user_name(r), groups_of(r)))
        .collect();
    assert_eq!(names_and_groups, vec![("u2".to_owned(), Some(vec![]))]);
    let bare = page_of(Some(eq("userName", "u1")), None, first(100), Fetch::NONE).await?;
    assert_eq!(bare.resources.first().map(groups_of), Some(None));
    Ok(())
}

/// Members that are not resources of the tenant (or not of the declared type) are
/// skipped, not refused: IdPs only send ids the server returned, so an unknown id was
/// deleted meanwhile, and refusing would make them retry forever. A group cannot
/// contain itself (400). A `display` sent with a member is kept and returned; none is
/// made up.
/// The document of a read that asked for its text: the text, parsed, when the backend
/// gave it (and then no parsed document besides), else the parsed document.
fn document_read(r: &StoredResource) -> Result<Document, Box<dyn std::error::Error + Send + Sync>> {
    match &r.document_text {
        Some(text) => {
            if !r.document.is_empty() {
                return Err(format!("{} has both a text and a parsed document", r.id).into());
            }
            Ok(serde_json::from_str(text)?)
        }
        None => Ok(r.document.clone()),
    }
}

/// `Fetch::document_text` changes how a read returns the document, never what it is,
/// nor what else the read brings; reads without it get the parsed document.
pub async fn documents_as_text(store: &dyn Store) -> CheckResult {
    let t = "documents-as-text";
    tenant(store, t).await?;
    let body = json!({
        "userName": "Text \"quoted\" \\ Ünïcødé",
        "externalId": "ext-1",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}
    });
    let u = user(store, t, body.clone()).await?;
    let g = group(store, t, "Readers", vec![member(&u.id)]).await?;
    let as_text = |fetch: Fetch| Fetch {
        document_text: true,
        ..fetch
    };
    for fetch in [Fetch::NONE, Fetch::ALL] {
        let read = store
            .get(t, ResourceKind::User, &u.id, as_text(fetch))
            .await?
            .ok_or("the user is there")?;
        assert_eq!(document_read(&read)?, doc(body.clone()), "{fetch:?}");
        assert_eq!(read.meta, u.meta);
        let expected_groups = fetch.groups.then(|| vec![g.id.clone()]);
        assert_eq!(
            read.groups
                .map(|groups| groups.into_iter().map(|g| g.value).collect::<Vec<_>>()),
            expected_groups
        );
        let read = store
            .get(t, ResourceKind::Group, &g.id, as_text(fetch))
            .await?
            .ok_or("the group is there")?;
        assert_eq!(
            document_read(&read)?,
            doc(json!({"displayName": "Readers"}))
        );
        assert_eq!(read.members.map(|m| m.len()), fetch.members.then_some(1));
        // Without the flag, the document comes parsed, as always.
        let read = store
            .get(t, ResourceKind::User, &u.id, fetch)
            .await?
            .ok_or("the user is there")?;
        assert_eq!(read.document_text, None);
        assert_eq!(read.document, doc(body.clone()));
    }
    let registry = SchemaRegistry::with_core();
    for filter in [Some(eq("userName", "text \"QUOTED\" \\ ünïcødé")), None] {
        for fetch in [Fetch::NONE, Fetch::ALL] {
            let page = store
                .list(
                    t,
                    ResourceKind::User,
                    &registry,
                    &ListQuery {
                        filter: filter.as_ref(),
                        sort: None,
                        page: all_pages(),
                        fetch: as_text(fetch),
                    },
                )
                .await?;
            assert_eq!(page.total_results, 1);
            let listed = page.resources.first().ok_or("one user listed")?;
            assert_eq!(document_read(listed)?, doc(body.clone()));
            assert_eq!(
                listed.groups.as_ref().map(Vec::len),
                fetch.groups.then_some(1)
            );
        }
    }
    Ok(())
}

pub async fn member_validation(store: &dyn Store) -> CheckResult {
    let t = "member-validation";
    tenant(store, t).await?;
    let u = user(store, t, json!({"userName": "v", "displayName": "Vee"})).await?;
    let g = group(store, t, "G", vec![]).await?;
    let h = group(store, t, "H", vec![member("does-not-exist"), member(&u.id)]).await?;
    let h = store
        .get(t, ResourceKind::Group, &h.id, Fetch::ALL)
        .await?
        .ok_or("group missing")?;
    assert_eq!(
        member_ids(&h),
        vec![u.id.clone()],
        "only the existing member is kept"
    );
    let wrong_type = MemberRef {
        value: u.id.clone(),
        kind: Some(ResourceKind::Group),
        display: None,
    };
    let after = store
        .update(
            t,
            ResourceKind::Group,
            &g.id,
            None,
            change_members(vec![MemberChange::Add(vec![wrong_type])]),
            Fetch::ALL,
        )
        .await?;
    assert_eq!(
        after.members,
        Some(vec![]),
        "a user is not a member of type Group"
    );
    assert_eq!(after.meta.version, g.meta.version, "nothing changed");
    expect_scim(
        store
            .update(
                t,
                ResourceKind::Group,
                &g.id,
                None,
                change_members(vec![MemberChange::Add(vec![member(&g.id)])]),
                Fetch::NONE,
            )
            .await,
        400,
        Some(ScimType::InvalidValue),
        "group in itself",
    )?;
    let unchanged = store
        .get(t, ResourceKind::Group, &g.id, Fetch::ALL)
        .await?
        .ok_or("group missing")?;
    assert_eq!(unchanged.members, Some(vec![]));
    assert_eq!(unchanged.meta.version, g.meta.version);
    // The display a client sends is returned; without one there is none.
    let labelled = MemberRef {
        value: u.id.clone(),
        kind: None,
        display: Some("new User".into()),
    };
    let after = store
        .update(
            t,
            ResourceKind::Group,
            &g.id,
            None,
            change_members(vec![MemberChange::Add(vec![labelled])]),
            Fetch::ALL,
        )
        .await?;
    let members = after.members.ok_or("members not loaded")?;
    assert_eq!(members.len(), 1);
    assert_eq!(
        members.first().and_then(|m| m.display.as_deref()),
        Some("new User")
    );
    let h_members = h.members.ok_or("members not loaded")?;
    assert_eq!(h_members.first().and_then(|m| m.display.as_deref()), None);
    Ok(())
}

/// Deleting a resource removes the memberships naming it.
pub async fn delete_removes_memberships(store: &dyn Store) -> CheckResult {
    let t = "delete-members";
    tenant(store, t).await?;
    let u = user(store, t, json!({"userName": "gone"})).await?;
    let keep = user(store, t, json!({"userName": "kept"})).await?;
    let sub = group(store, t, "Sub", vec![member(&u.id)]).await?;
    let g = group(
        store,
        t,
        "Main",
        vec![member(&u.id), member(&keep.id), member(&sub.id)],
    )
    .await?;
    store.delete(t, ResourceKind::User, &u.id, None).await?;
    let after = store
        .get(t, ResourceKind::Group, &g.id, Fetch::ALL)
        .await?
        .ok_or("group missing")?;
    assert_eq!(
        member_ids(&after),
        sorted(vec![keep.id.clone(), sub.id.clone()])
    );
    assert!(
        after.meta.version > g.meta.version,
        "losing a member changes the group's version"
    );
    store.delete(t, ResourceKind::Group, &sub.id, None).await?;
    let after = store
        .get(t, ResourceKind::Group, &g.id, Fetch::ALL)
        .await?
        .ok_or("group missing")?;
    assert_eq!(member_ids(&after), vec![keep.id.clone()]);
    store.delete(t, ResourceKind::Group, &g.id, None).await?;
    let kept = store
        .get(t, ResourceKind::User, &keep.id, Fetch::ALL)
        .await?
        .ok_or("user missing")?;
    assert_eq!(kept.groups, Some(vec![]));
    // The id can be re-added elsewhere without ghosts of the old rows.
    let fresh = group(store, t, "Main", vec![member(&keep.id)]).await?;
    assert_eq!(member_ids(&fresh), vec![keep.id.clone()]);
    Ok(())
}

/// `If-Match` versions (RFC 7644 §3.14): a stale version is 412.
pub async fn if_match(store: &dyn Store) -> CheckResult {
    let t = "if-match";
    tenant(store, t).await?;
    let u = user(store, t, json!({"userName": "etag"})).await?;
    let mut next = u.document.clone();
    next.insert("title".into(), json!("Boss"));
    expect_scim(
        store
            .update(
                t,
                ResourceKind::User,
                &u.id,
                Some(7),
                set(next.clone(), vec![]),
                Fetch::NONE,
            )
            .await,
        412,
        None,
        "stale update",
    )?;
    let updated = store
        .update(
            t,
            ResourceKind::User,
            &u.id,
            Some(1),
            set(next, vec![]),
            Fetch::NONE,
        )
        .await?;
    assert_eq!(updated.meta.version, 2);
    expect_scim(
        store.delete(t, ResourceKind::User, &u.id, Some(1)).await,
        412,
        None,
        "stale delete",
    )?;
    assert!(store
        .get(t, ResourceKind::User, &u.id, Fetch::NONE)
        .await?
        .is_some());
    store.delete(t, ResourceKind::User, &u.id, Some(2)).await?;
    Ok(())
}

/// The queries Entra ID and Okta send (idp-clients.md R2, R3, R13, R17), parsed by the
/// protocol crate's filter parser exactly as they arrive.
pub async fn identity_provider_queries(store: &dyn Store) -> CheckResult {
    use scimd_protocol::filter::{parse, FilterLimits};
    let t = "idp-queries";
    tenant(store, t).await?;
    let enterprise = scimd_protocol::schema::ENTERPRISE_USER_SCHEMA;
    let boss = user(store, t, json!({"userName": "boss@contoso.com"})).await?;
    let worker = user(
        store,
        t,
        json!({"userName": "Test_User_00aa00aa@contoso.com", "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
               "title": "Engineer", "userType": "Employee", "name": {"familyName": "O'Malley"},
               "emails": [{"primary": true, "type": "work", "value": "test.user@contoso.com"}],
               enterprise: {"department": "Sales", "manager": {"value": boss.id}}}),
    )
    .await?;
    let g = group(store, t, "Group1", vec![member(&worker.id)]).await?;
    let worker_only = names(&["Test_User_00aa00aa@contoso.com"]);
    let user_cases = [
        (
            "userName eq \"7d420df3-9995-4831-a406-ecf8166f5f6a\"".to_owned(),
            BTreeSet::new(),
        ),
        (
            "userName eq \"test_user_00AA00AA@contoso.com\"".to_owned(),
            worker_only.clone(),
        ),
        (
            "externalId eq \"0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF\"".to_owned(),
            worker_only.clone(),
        ),
        (
            "emails[type eq \"work\"].value eq \"Test.User@contoso.com\"".to_owned(),
            worker_only.clone(),
        ),
        (
            format!("id eq \"{}\" and manager eq \"{}\"", worker.id, boss.id),
            worker_only.clone(),
        ),
        (
            format!("{enterprise}:manager.value eq \"{}\"", boss.id),
            worker_only.clone(),
        ),
        (
            "title pr and userType eq \"Employee\"".to_owned(),
            worker_only.clone(),
        ),
        (
            "name.familyName co \"O'Malley\"".to_owned(),
            worker_only.clone(),
        ),
        (
            "userName sw \"test\" or userName sw \"nobody\"".to_owned(),
            worker_only.clone(),
        ),
        (
            "not (userName sw \"test\")".to_owned(),
            names(&["boss@contoso.com"]),
        ),
        (
            "meta.lastModified gt \"2011-05-13T04:42:34Z\"".to_owned(),
            names(&["boss@contoso.com", "Test_User_00aa00aa@contoso.com"]),
        ),
        (
            format!("groups[value eq \"{}\"]", g.id),
            worker_only.clone(),
        ),
    ];
    for (text, expected) in user_cases {
        let filter = parse(&text, &FilterLimits::default())?;
        assert_eq!(
            matching(store, t, &filter).await?,
            expected,
            "filter {text}"
        );
    }
    for (text, expected) in [
        ("displayName eq \"group1\"".to_owned(), 1),
        (format!("members[value eq \"{}\"]", worker.id), 1),
        (format!("members.value eq \"{}\"", boss.id), 0),
    ] {
        let filter = parse(&text, &FilterLimits::default())?;
        let page = list(
            store,
            t,
            ResourceKind::Group,
            Some(&filter),
            None,
            all_pages(),
        )
        .await?;
        assert_eq!(page.total_results, expected, "filter {text}");
    }
    // Sort and paging exactly as parsed from query parameters.
    let registry = SchemaRegistry::with_core();
    let sort = SortSpec::parse(
        Some("emails"),
        Some("descending"),
        &registry,
        ResourceKind::User,
    )?;
    let page = PageRequest::parse(Some("1"), Some("100"), None, &Default::default())?;
    let listed = list(store, t, ResourceKind::User, None, sort.as_ref(), page).await?;
    let order: Vec<String> = listed.resources.iter().map(user_name).collect();
    // Users without an email sort first in descending order.
    assert_eq!(
        order,
        ["boss@contoso.com", "Test_User_00aa00aa@contoso.com"]
    );
    Ok(())
}

// ---- provisioning logs ----------------------------------------------------------

/// A provisioning-log entry of a GET at `at`, for the checks here and for
/// backend-specific tests.
pub fn log_entry(
    tenant: &str,
    at: OffsetDateTime,
    status: u16,
    client: crate::LogClient,
    resource: Option<&str>,
) -> crate::NewLogEntry {
    crate::NewLogEntry {
        tenant_id: tenant.into(),
        at,
        method: "GET".into(),
        path: format!("/scim/v2/{tenant}/Users?filter=userName%20eq%20%22x%22"),
        status,
        latency_us: 1234,
        scim_type: (status == 409).then(|| "uniqueness".to_owned()),
        detail: (status >= 400).then(|| format!("failed with {status}")),
        client,
        resource_id: resource.map(str::to_owned),
        request_id: format!("req-{status}-{}", at.unix_timestamp()),
        request_body: None,
        response_body: None,
    }
}

/// Log settings default to bodies off, 30 days, 100,000 entries; updates change
/// only the fields given.
pub async fn log_settings(store: &dyn Store) -> CheckResult {
    tenant(store, "logset-a").await?;
    let created = store
        .get_tenant("logset-a")
        .await?
        .ok_or("tenant missing")?;
    assert_eq!(created.log, crate::TenantLogSettings::default());
    assert!(!created.log.bodies);
    assert_eq!(created.log.retention_days, 30);
    assert_eq!(created.log.max_entries, 100_000);
    let updated = store
        .update_tenant(
            "logset-a",
            &TenantUpdate {
                log_bodies: Some(true),
                log_max_entries: Some(500),
                ..Default::default()
            },
        )
        .await?;
    assert!(updated.log.bodies);
    assert_eq!(updated.log.retention_days, 30);
    assert_eq!(updated.log.max_entries, 500);
    assert!(updated.provisioning_enabled);
    assert_eq!(store.get_tenant("logset-a").await?, Some(updated));
    Ok(())
}

/// Entries come back newest first, filtered, paged by cursor without overlap or gap,
/// and never across tenants; entries of unknown tenants are skipped.
pub async fn provisioning_logs(store: &dyn Store) -> CheckResult {
    use crate::{LogClient, LogQuery, StatusClass};
    tenant(store, "logs-a").await?;
    tenant(store, "logs-b").await?;
    let base = OffsetDateTime::now_utc() - Duration::hours(2);
    let mut batch = Vec::new();
    // 30 entries for A, one per minute; every third a 409, every fifth from Okta.
    for i in 0..30_i64 {
        let status = if i % 3 == 0 { 409 } else { 200 };
        let client = if i % 5 == 0 {
            LogClient::Okta
        } else {
            LogClient::Entra
        };
        let resource = (i % 2 == 0).then_some("res-even");
        batch.push(log_entry(
            "logs-a",
            base + Duration::minutes(i),
            status,
            client,
            resource,
        ));
    }
    // Two entries share one instant: seq breaks the tie.
    batch.push(log_entry(
        "logs-a",
        base + Duration::minutes(29),
        500,
        LogClient::Other,
        None,
    ));
    batch.push(log_entry(
        "logs-b",
        base,
        200,
        LogClient::Entra,
        Some("res-even"),
    ));
    batch.push(log_entry("logs-none", base, 200, LogClient::Entra, None));
    let written = store.append_request_logs(batch).await?;
    assert_eq!(written, 32, "the unknown tenant's entry is skipped");

    let all = store
        .list_request_logs(
            "logs-a",
            &LogQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(all.entries.len(), 31);
    assert!(all.next_cursor.is_none());
    assert!(all.entries.iter().all(|e| e.entry.tenant_id == "logs-a"));
    for pair in all.entries.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert!(
            (newer.entry.at, newer.seq) > (older.entry.at, older.seq),
            "newest first"
        );
    }
    assert_eq!(
        all.entries[0].entry.status, 500,
        "same instant: the later write first"
    );
    assert_eq!(all.entries[0].entry.client, LogClient::Other);
    let conflict = all
        .entries
        .iter()
        .find(|e| e.entry.status == 409)
        .ok_or("no 409")?;
    assert_eq!(conflict.entry.scim_type.as_deref(), Some("uniqueness"));
    assert_eq!(conflict.entry.latency_us, 1234);

    // Cursor paging: 7 at a time covers all 31 exactly once, in order.
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = store
            .list_request_logs(
                "logs-a",
                &LogQuery {
                    limit: 7,
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await?;
        assert!(page.entries.len() <= 7);
        seen.extend(page.entries.iter().map(|e| e.seq));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let expected: Vec<i64> = all.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seen, expected);

    // Filters.
    let count = |q: LogQuery| async move {
        store
            .list_request_logs("logs-a", &LogQuery { limit: 1000, ..q })
            .await
            .map(|p| p.entries)
    };
    let errors = count(LogQuery {
        status: Some(StatusClass::Errors),
        ..Default::default()
    })
    .await?;
    assert_eq!(errors.len(), 11);
    assert!(errors.iter().all(|e| e.entry.status >= 400));
    let client_errors = count(LogQuery {
        status: Some(StatusClass::ClientError),
        ..Default::default()
    })
    .await?;
    assert_eq!(client_errors.len(), 10);
    let server_errors = count(LogQuery {
        status: Some(StatusClass::ServerError),
        ..Default::default()
    })
    .await?;
    assert_eq!(server_errors.len(), 1);
    let ok = count(LogQuery {
        status: Some(StatusClass::Success),
        ..Default::default()
    })
    .await?;
    assert_eq!(ok.len(), 20);
    let okta = count(LogQuery {
        client: Some(LogClient::Okta),
        ..Default::default()
    })
    .await?;
    assert_eq!(okta.len(), 6);
    assert!(okta.iter().all(|e| e.entry.client == LogClient::Okta));
    let even = count(LogQuery {
        resource_id: Some("res-even".into()),
        ..Default::default()
    })
    .await?;
    assert_eq!(even.len(), 15);
    let window = count(LogQuery {
        since: Some(base + Duration::minutes(10)),
        until: Some(base + Duration::minutes(20)),
        ..Default::default()
    })
    .await?;
    assert_eq!(window.len(), 10, "since is inclusive, until exclusive");
    let combined = count(LogQuery {
        since: Some(base + Duration::minutes(10)),
        status: Some(StatusClass::ClientError),
        client: Some(LogClient::Entra),
        ..Default::default()
    })
    .await?;
    // Minutes 12, 18, 21, 24, 27 (409 and not a multiple of 5).
    assert_eq!(combined.len(), 5);

    // Isolation: B sees its one entry only, also when filtering on A's resource id.
    let b = store
        .list_request_logs(
            "logs-b",
            &LogQuery {
                resource_id: Some("res-even".into()),
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(b.entries.len(), 1);
    assert_eq!(b.entries[0].entry.tenant_id, "logs-b");
    // A cursor from A's log does not open A's rows to B.
    let a_page = store
        .list_request_logs(
            "logs-a",
            &LogQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    let b_with_a_cursor = store
        .list_request_logs(
            "logs-b",
            &LogQuery {
                cursor: a_page.next_cursor,
                ..Default::default()
            },
        )
        .await?;
    assert!(b_with_a_cursor
        .entries
        .iter()
        .all(|e| e.entry.tenant_id == "logs-b"));

    expect_scim(
        store
            .list_request_logs(
                "logs-a",
                &LogQuery {
                    cursor: Some("garbage!".into()),
                    ..Default::default()
                },
            )
            .await,
        400,
        Some(ScimType::InvalidValue),
        "malformed log cursor",
    )?;

    // Deleting a tenant deletes its log: a new tenant given the same id starts with
    // an empty one.
    store.delete_tenant("logs-b").await?;
    let gone = store
        .list_request_logs("logs-b", &LogQuery::default())
        .await?;
    assert!(gone.entries.is_empty());
    tenant(store, "logs-b").await?;
    let fresh = store
        .list_request_logs("logs-b", &LogQuery::default())
        .await?;
    assert!(fresh.entries.is_empty(), "{:?}", fresh.entries);
    Ok(())
}

/// Pruning removes entries older than the cut-off, then all but the newest N, of one
/// tenant only.
pub async fn log_pruning(store: &dyn Store) -> CheckResult {
    use crate::{LogClient, LogQuery};
    tenant(store, "prune-a").await?;
    tenant(store, "prune-b").await?;
    let now = OffsetDateTime::now_utc();
    let mut batch = Vec::new();
    for tenant_id in ["prune-a", "prune-b"] {
        for day in 0..10_i64 {
            batch.push(log_entry(
                tenant_id,
                now - Duration::days(day),
                200,
                LogClient::Entra,
                None,
            ));
        }
    }
    store.append_request_logs(batch).await?;
    // Older than 7 days: days 8 and 9 go (day 7 is exactly at the edge minus a minute).
    let deleted = store
        .prune_request_logs(
            "prune-a",
            now - Duration::days(7) - Duration::minutes(1),
            1000,
        )
        .await?;
    assert_eq!(deleted, 2);
    let deleted = store
        .prune_request_logs("prune-a", now - Duration::days(365), 3)
        .await?;
    assert_eq!(deleted, 5);
    let left = store
        .list_request_logs("prune-a", &LogQuery::default())
        .await?
        .entries;
    let days: Vec<i64> = left
        .iter()
        .map(|e| (now - e.entry.at).whole_days())
        .collect();
    assert_eq!(days, [0, 1, 2], "the newest three are kept");
    let untouched = store
        .list_request_logs("prune-b", &LogQuery::default())
        .await?
        .entries;
    assert_eq!(untouched.len(), 10, "another tenant's log is not pruned");
    assert_eq!(
        store
            .prune_request_logs("prune-a", now - Duration::days(365), 3)
            .await?,
        0
    );
    Ok(())
}

/// The userNames of every page of a cursor-paged list (one resource per page), in
/// order; at most 50 pages.
async fn cursor_user_names(
    store: &dyn Store,
    t: &str,
    sort: &SortSpec,
) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    let mut cursor = None;
    for _ in 0..50 {
        let page = list(
            store,
            t,
            ResourceKind::User,
            None,
            Some(sort),
            PageRequest::Cursor {
                cursor: cursor.clone(),
                count: 1,
            },
        )
        .await?;
        names.extend(page.resources.iter().map(user_name));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(names),
        }
    }
    Err(StoreError::Database("cursor paging did not end".into()))
}

/// Booleans and text read from the documents (not from columns) compare and sort by
/// their JSON type, and boolean sort keys survive a cursor: backends whose JSON
/// functions return typed values (SQLite) and those that need explicit conversions
/// (PostgreSQL's JSONB) must agree.
pub async fn typed_document_values(store: &dyn Store) -> CheckResult {
    let t = "typed";
    tenant(store, t).await?;
    user(
        store,
        t,
        json!({"userName": "a", "active": true, "name": {"familyName": "Beta"},
               "addresses": [{"locality": "Paris", "primary": true}]}),
    )
    .await?;
    user(
        store,
        t,
        json!({"userName": "b", "active": false, "name": {"familyName": "alpha"},
               "addresses": [{"locality": "Paris", "primary": false}]}),
    )
    .await?;
    user(
        store,
        t,
        json!({"userName": "c", "addresses": [{"locality": "Rome", "primary": true}]}),
    )
    .await?;
    user(
        store,
        t,
        json!({"userName": "d", "active": true, "name": {"familyName": "Gamma"}}),
    )
    .await?;
    let primary = || cmp("primary", CompareOp::Eq, Literal::Bool(true));
    assert_eq!(
        matching(
            store,
            t,
            &value_path("addresses", and(primary(), eq("locality", "PARIS")))
        )
        .await?,
        names(&["a"])
    );
    assert_eq!(
        matching(store, t, &value_path("addresses", primary())).await?,
        names(&["a", "c"])
    );
    assert_eq!(
        matching(store, t, &not(value_path("addresses", primary()))).await?,
        names(&["b", "d"])
    );

    let by = |attr: &str, order: SortOrder| SortSpec {
        path: path(attr),
        order,
    };
    // false < true, users without a value last (and first when descending).
    let ascending = cursor_user_names(store, t, &by("active", SortOrder::Ascending)).await?;
    assert_eq!(ascending.len(), 4, "{ascending:?}");
    assert_eq!(ascending.first().map(String::as_str), Some("b"));
    assert_eq!(ascending.last().map(String::as_str), Some("c"));
    let mut descending = cursor_user_names(store, t, &by("active", SortOrder::Descending)).await?;
    descending.reverse();
    assert_eq!(descending, ascending);
    // Case-insensitive text from the document.
    assert_eq!(
        cursor_user_names(store, t, &by("name.familyName", SortOrder::Ascending)).await?,
        ["b", "a", "d", "c"]
    );
    Ok(())
}

// ---- admin keys and OAuth clients ----

/// Admin keys: stored by hash, listed newest first, revoked once (the first time
/// stays), touched without going back in time.
pub async fn admin_keys(store: &dyn Store) -> CheckResult {
    use crate::AdminKeyRecord;
    let base = OffsetDateTime::from_unix_timestamp(1_700_000_000)?;
    let key = |id: &str, created: OffsetDateTime| AdminKeyRecord {
        id: id.into(),
        name: format!("key {id}"),
        secret_hash: vec![9, 8, id.len() as u8],
        created,
        last_used: None,
        revoked: None,
    };
    let first = key("akey1", base);
    let second = key("akey2", base + Duration::hours(1));
    store.insert_admin_key(&first).await?;
    store.insert_admin_key(&second).await?;
    expect_scim(
        store.insert_admin_key(&key("akey1", base)).await,
        409,
        Some(ScimType::Uniqueness),
        "duplicate admin key id",
    )?;
    assert_eq!(store.get_admin_key("akey1").await?, Some(first.clone()));
    assert!(store.get_admin_key("nope").await?.is_none());
    let listed: Vec<String> = store
        .list_admin_keys()
        .await?
        .into_iter()
        .map(|k| k.id)
        .filter(|id| id.starts_with("akey"))
        .collect();
    assert_eq!(listed, ["akey2", "akey1"]);

    let revoked_at = base + Duration::minutes(5);
    assert!(store.revoke_admin_key("akey1", revoked_at).await?);
    assert!(
        store
            .revoke_admin_key("akey1", revoked_at + Duration::hours(1))
            .await?
    );
    assert!(!store.revoke_admin_key("nope", revoked_at).await?);
    let revoked = store.get_admin_key("akey1").await?.ok_or("key missing")?;
    assert_eq!(revoked.revoked, Some(revoked_at));
    assert_eq!(
        store
            .get_admin_key("akey2")
            .await?
            .ok_or("key missing")?
            .revoked,
        None
    );

    let later = base + Duration::hours(3);
    store.touch_admin_key("akey2", later).await?;
    store.touch_admin_key("akey2", base).await?;
    assert_eq!(
        store
            .get_admin_key("akey2")
            .await?
            .ok_or("key missing")?
            .last_used,
        Some(later)
    );
    Ok(())
}

/// OAuth clients per tenant; access tokens are bearer tokens that `list_tokens`
/// leaves out, that die with their client, and that expired ones are pruned.
pub async fn oauth_clients(store: &dyn Store) -> CheckResult {
    use crate::OAuthClientRecord;
    tenant(store, "oauth-a").await?;
    tenant(store, "oauth-b").await?;
    let base = OffsetDateTime::from_unix_timestamp(1_700_000_000)?;
    let client = |tenant: &str, id: &str, created: OffsetDateTime| OAuthClientRecord {
        tenant_id: tenant.into(),
        client_id: id.into(),
        name: format!("client {id}"),
        secret_hash: vec![7, id.len() as u8],
        created,
        revoked: None,
    };
    let c1 = client("oauth-a", "client1", base);
    store.insert_oauth_client(&c1).await?;
    store
        .insert_oauth_client(&client("oauth-a", "client2", base + Duration::hours(1)))
        .await?;
    // The same client id in another tenant is another client.
    store
        .insert_oauth_client(&client("oauth-b", "client1", base))
        .await?;
    expect_scim(
        store
            .insert_oauth_client(&client("oauth-a", "client1", base))
            .await,
        409,
        Some(ScimType::Uniqueness),
        "duplicate client id in a tenant",
    )?;
    expect_scim(
        store
            .insert_oauth_client(&client("oauth-none", "client1", base))
            .await,
        404,
        None,
        "client of unknown tenant",
    )?;
    assert_eq!(
        store.get_oauth_client("oauth-a", "client1").await?,
        Some(c1.clone())
    );
    assert!(store.get_oauth_client("oauth-a", "nope").await?.is_none());
    let listed: Vec<String> = store
        .list_oauth_clients("oauth-a")
        .await?
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(listed, ["client2", "client1"]);

    let access = |id: &str, tenant: &str, created: OffsetDateTime| TokenRecord {
        id: id.into(),
        tenant_id: tenant.into(),
        name: "oauth".into(),
        secret_hash: vec![5, id.len() as u8],
        created,
        last_used: None,
        expires: Some(created + Duration::hours(1)),
        revoked: None,
    };
    let live = access("oat1", "oauth-a", base + Duration::days(1));
    let stale = access("oat2", "oauth-a", base);
    let other = access("oat3", "oauth-a", base + Duration::days(1));
    store.insert_access_token(&live, "client1").await?;
    store.insert_access_token(&stale, "client1").await?;
    store.insert_access_token(&other, "client2").await?;
    expect_scim(
        store
            .insert_access_token(&access("oat4", "oauth-a", base), "nope")
            .await,
        404,
        None,
        "access token for an unknown client",
    )?;
    // Verification finds access tokens like any token.
    assert_eq!(
        store.get_token("oauth-a", "oat1").await?,
        Some(live.clone())
    );
    assert!(
        store.list_tokens("oauth-a").await?.is_empty(),
        "list_tokens must leave out access tokens"
    );
    let listed: Vec<(String, String)> = store
        .list_access_tokens("oauth-a")
        .await?
        .into_iter()
        .map(|a| (a.token.id, a.client_id))
        .collect();
    assert_eq!(
        listed,
        [
            ("oat3".to_owned(), "client2".to_owned()),
            ("oat1".to_owned(), "client1".to_owned()),
            ("oat2".to_owned(), "client1".to_owned()),
        ]
    );
    assert!(store.list_access_tokens("oauth-b").await?.is_empty());

    // Revoking a client revokes its access tokens, not the other client's, and a
    // revoked client gets no new ones.
    let revoked_at = base + Duration::days(1) + Duration::minutes(1);
    assert!(
        !store
            .revoke_oauth_client("oauth-b", "client2", revoked_at)
            .await?
    );
    assert!(
        store
            .revoke_oauth_client("oauth-a", "client1", revoked_at)
            .await?
    );
    let revoked_client = store
        .get_oauth_client("oauth-a", "client1")
        .await?
        .ok_or("client missing")?;
    assert_eq!(revoked_client.revoked, Some(revoked_at));
    let revoked_token = store
        .get_token("oauth-a", "oat1")
        .await?
        .ok_or("token missing")?;
    assert_eq!(revoked_token.revoked, Some(revoked_at));
    assert_eq!(
        store
            .get_token("oauth-a", "oat3")
            .await?
            .ok_or("token missing")?
            .revoked,
        None
    );
    assert_eq!(
        store
            .get_oauth_client("oauth-b", "client1")
            .await?
            .ok_or("client missing")?
            .revoked,
        None
    );
    expect_scim(
        store
            .insert_access_token(&access("oat5", "oauth-a", base), "client1")
            .await,
        404,
        None,
        "access token for a revoked client",
    )?;

    // Pruning removes access tokens expired before the cut-off, and nothing else.
    let pruned = store.prune_access_tokens(base + Duration::hours(2)).await?;
    assert_eq!(pruned, 1);
    assert!(store.get_token("oauth-a", "oat2").await?.is_none());
    assert!(store.get_token("oauth-a", "oat1").await?.is_some());
    assert!(store.get_token("oauth-a", "oat3").await?.is_some());

    // Deleting the tenant deletes its clients.
    assert!(store.delete_tenant("oauth-b").await?);
    assert!(store
        .get_oauth_client("oauth-b", "client1")
        .await?
        .is_none());
    Ok(())
}
