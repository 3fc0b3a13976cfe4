//! Tenant and token administration shared by the CLI and (later) the admin API.

use crate::tokens::{self, IssuedToken};
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
        Err(ScimError::invalid_value(format!(
            "tenant id '{id}' must be 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'"
        )))
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
        .create_tenant(&NewTenant {
            id: id.to_owned(),
            display_name: display_name.to_owned(),
            provisioning_enabled: true,
            ..Default::default()
        })
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
        return Err(ScimError::not_found(format!("no tenant '{tenant_id}'")).into());
    }
    let issued = tokens::issue(tenant_id, name, expires, OffsetDateTime::now_utc());
    store.insert_token(&issued.record).await?;
    Ok(issued)
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
