//! Tenant and token administration shared by the CLI and the admin API: each
//! lifecycle step is written once, here.

use crate::tokens::{self, IssuedToken, TokenStatus};
use scimd_protocol::ScimError;
use scimd_store::{NewTenant, Store, StoreError, Tenant, TenantUpdate};
use time::OffsetDateTime;

/// Checks a tenant id: a URL-safe slug of 1 to 63 characters `[a-z0-9-]`, starting and
/// ending with a letter or digit (so it can be a DNS label too).
pub fn validate_tenant_id(id: &str) -> Result<(), ScimError> {
    let ok = !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        // The value is not repeated: whatever was sent (a pasted token, say) stays out
        // of responses and logs.
        Err(ScimError::invalid_value(
            "a tenant id must be 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        ))
    }
}

/// An id from a request, fit to repeat in a message: only when it is shaped like an
/// id (`[a-z0-9_-]`, at most 63 characters, and the part after a `_` holds no
/// uppercase), so that a secret pasted in the wrong place is never echoed.
pub fn printable_id(id: &str) -> &str {
    let shaped = !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.matches('_').count() <= 1;
    if shaped {
        id
    } else {
        "(not a valid id)"
    }
}

/// The SCIM base URL of a tenant, e.g. `https://scim.example.com/scim/v2/acme`.
pub fn scim_base_url(public_url: &str, tenant_id: &str) -> String {
    format!("{}/scim/v2/{}", public_url.trim_end_matches('/'), tenant_id)
}

/// Creates a tenant with provisioning enabled and its first token.
pub async fn create_tenant_with_token(
    store: &dyn Store,
    id: &str,
    display_name: &str,
) -> Result<(Tenant, IssuedToken), StoreError> {
    validate_tenant_id(id)?;
    let tenant = store
        .create_tenant(&NewTenant::enabled(id, display_name))
        .await?;
    let issued = create_token(store, &tenant.id, "initial", None).await?;
    Ok((tenant, issued))
}

/// Turns provisioning on for a tenant and issues a new token: the one answer that
/// gives an admin both things to paste into the IdP (the token is shown only here).
pub async fn enable_provisioning(
    store: &dyn Store,
    id: &str,
) -> Result<(Tenant, IssuedToken), StoreError> {
    let tenant = store
        .update_tenant(
            id,
            &TenantUpdate {
                display_name: None,
                provisioning_enabled: Some(true),
                ..Default::default()
            },
        )
        .await?;
    let issued = create_token(store, &tenant.id, "provisioning-enabled", None).await?;
    Ok((tenant, issued))
}

/// Turns provisioning off: SCIM requests get 403 until it is enabled again. All data
/// and tokens are kept.
pub async fn disable_provisioning(store: &dyn Store, id: &str) -> Result<Tenant, StoreError> {
    store
        .update_tenant(
            id,
            &TenantUpdate {
                display_name: None,
                provisioning_enabled: Some(false),
                ..Default::default()
            },
        )
        .await
}

/// Issues and stores a new token for an existing tenant.
pub async fn create_token(
    store: &dyn Store,
    tenant_id: &str,
    name: &str,
    expires: Option<OffsetDateTime>,
) -> Result<IssuedToken, StoreError> {
    if store.get_tenant(tenant_id).await?.is_none() {
        return Err(
            ScimError::not_found(format!("no tenant '{}'", printable_id(tenant_id))).into(),
        );
    }
    let issued = tokens::issue(tenant_id, name, expires, OffsetDateTime::now_utc());
    store.insert_token(&issued.record).await?;
    Ok(issued)
}

/// Renames a tenant (its display name; the id is part of URLs and never changes).
pub async fn rename_tenant(
    store: &dyn Store,
    id: &str,
    display_name: &str,
) -> Result<Tenant, StoreError> {
    update_tenant(
        store,
        id,
        &TenantUpdate {
            display_name: Some(display_name.to_owned()),
            ..TenantUpdate::default()
        },
    )
    .await
}

/// Changes a tenant's settings (the fields given; the others keep their value), after
/// checking them: a display name must not be blank, a log retention is 1 to 3650
/// days, a log size at least one entry. Unknown tenant: 404.
pub async fn update_tenant(
    store: &dyn Store,
    id: &str,
    update: &TenantUpdate,
) -> Result<Tenant, StoreError> {
    if update
        .display_name
        .as_deref()
        .is_some_and(|name| name.trim().is_empty())
    {
        return Err(ScimError::invalid_value("display name must not be empty").into());
    }
    if update
        .log_retention_days
        .is_some_and(|days| !(1..=3650).contains(&days))
    {
        return Err(
            ScimError::invalid_value("log retention must be between 1 and 3650 days").into(),
        );
    }
    if update.log_max_entries == Some(0) {
        return Err(ScimError::invalid_value("log size must be at least one entry").into());
    }
    store.update_tenant(id, update).await
}

/// What a rotation did: the new token, and the old ones it scheduled for revocation.
#[derive(Debug)]
pub struct Rotation {
    /// The new token (shown once).
    pub issued: IssuedToken,
    /// When the old tokens stop working.
    pub revoke_at: OffsetDateTime,
    /// The public ids of the old tokens scheduled for revocation at `revoke_at`.
    pub revoked: Vec<String>,
}

/// Rotates without downtime: issues a new token, then schedules every other usable
/// token of the tenant for revocation at `now + grace`, so the identity provider can
/// switch over while both work. A revocation already due sooner is kept.
pub async fn rotate_tokens(
    store: &dyn Store,
    tenant_id: &str,
    name: &str,
    expires: Option<OffsetDateTime>,
    grace: time::Duration,
    now: OffsetDateTime,
) -> Result<Rotation, StoreError> {
    let revoke_at = now + grace;
    // The old tokens are read before the new one exists, so it is never among them.
    if store.get_tenant(tenant_id).await?.is_none() {
        return Err(
            ScimError::not_found(format!("no tenant '{}'", printable_id(tenant_id))).into(),
        );
    }
    let old = store.list_tokens(tenant_id).await?;
    let issued = create_token(store, tenant_id, name, expires).await?;
    let mut revoked = Vec::new();
    for token in &old {
        let usable = TokenStatus::of(token, now).is_usable();
        if !usable || token.revoked.is_some_and(|at| at <= revoke_at) {
            continue;
        }
        store.revoke_token(tenant_id, &token.id, revoke_at).await?;
        revoked.push(token.id.clone());
    }
    Ok(Rotation {
        issued,
        revoke_at,
        revoked,
    })
}

/// The outcome of revoking a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// Revoked now.
    Revoked,
    /// It was already revoked at this time; nothing changed.
    AlreadyRevoked(OffsetDateTime),
}

/// Revokes a tenant's token now; the next request using it is refused. Unknown tenant
/// or token: 404.
pub async fn revoke_token(
    store: &dyn Store,
    tenant_id: &str,
    token_id: &str,
    now: OffsetDateTime,
) -> Result<Revocation, StoreError> {
    let Some(token) = store.get_token(tenant_id, token_id).await? else {
        return Err(ScimError::not_found(format!(
            "tenant '{}' has no token '{}'",
            printable_id(tenant_id),
            printable_id(token_id)
        ))
        .into());
    };
    if let Some(at) = token.revoked.filter(|at| *at <= now) {
        return Ok(Revocation::AlreadyRevoked(at));
    }
    if !store.revoke_token(tenant_id, token_id, now).await? {
        return Err(ScimError::not_found(format!(
            "tenant '{}' has no token '{}'",
            printable_id(tenant_id),
            printable_id(token_id)
        ))
        .into());
    }
    Ok(Revocation::Revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_slugs() {
        for good in ["default", "acme", "acme-corp", "a", "t1"] {
            assert!(validate_tenant_id(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "Acme", "a b", "a/b", "a_b", &"x".repeat(64)] {
            assert!(validate_tenant_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base_url_joins_cleanly() {
        assert_eq!(
            scim_base_url("http://127.0.0.1:8080/", "acme"),
            "http://127.0.0.1:8080/scim/v2/acme"
        );
    }
}
