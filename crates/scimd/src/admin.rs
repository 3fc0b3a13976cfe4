//! `scimd tenant ...` and `scimd token ...`: administration from the shell, against
//! the same database a running server uses.

use crate::cli::{TenantCommand, TokenCommand};
use crate::config::Settings;
use crate::error::CliError;
use crate::output::{human_time, print_credentials, print_table, rfc3339};
use crate::store::{self, Create, Migrations};
use scimd_server::tenants::{
    create_tenant_with_token, create_token, disable_provisioning, enable_provisioning,
    scim_base_url,
};
use scimd_store::{Store, TokenRecord};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Tokens expiring within this window are flagged (the server warns on the same one).
pub use scimd_server::tokens::EXPIRY_WARNING;

/// Runs a `tenant` command.
pub async fn tenant(settings: &Settings, command: TenantCommand) -> Result<(), CliError> {
    match command {
        TenantCommand::Create {
            name,
            display_name,
            json,
        } => {
            let store = store::open(settings, Create::IfMissing, Migrations::Apply).await?;
            let display_name = display_name.unwrap_or_else(|| name.clone());
            let (tenant, issued) =
                create_tenant_with_token(store.as_ref(), &name, &display_name).await?;
            let scim_url = scim_base_url(&settings.base_url(None), &tenant.id);
            if json {
                let out = json!({"id": tenant.id, "scim_url": scim_url, "token": issued.token});
                println!("{out}");
            } else {
                println!(
                    "Created tenant '{}' ({}), provisioning enabled.",
                    tenant.id, tenant.display_name
                );
                print_credentials(&scim_url, &issued.token);
            }
            Ok(())
        }
        TenantCommand::Enable { name, json } => {
            let store = store::open(settings, Create::Never, Migrations::Apply).await?;
            require_tenant(store.as_ref(), &name).await?;
            let (tenant, issued) = enable_provisioning(store.as_ref(), &name).await?;
            let scim_url = scim_base_url(&settings.base_url(None), &tenant.id);
            if json {
                let out = json!({"id": tenant.id, "scim_url": scim_url, "token": issued.token});
                println!("{out}");
            } else {
                println!("Provisioning enabled for tenant '{}'.", tenant.id);
                print_credentials(&scim_url, &issued.token);
            }
            Ok(())
        }
        TenantCommand::Disable { name } => {
            let store = store::open(settings, Create::Never, Migrations::Apply).await?;
            require_tenant(store.as_ref(), &name).await?;
            disable_provisioning(store.as_ref(), &name).await?;
            println!(
                "Provisioning disabled for tenant '{name}': SCIM requests now get 403. \
                 Users, groups and tokens are kept; enable it again with: scimd tenant enable {name}"
            );
            Ok(())
        }
        TenantCommand::Delete { name, confirm } => {
            if confirm.as_deref() != Some(name.as_str()) {
                return Err(CliError::NotConfirmed(format!(
                    "deleting tenant '{name}' removes all its users, groups and tokens and \
                     cannot be undone; confirm with: scimd tenant delete {name} --confirm {name}"
                )));
            }
            let store = store::open(settings, Create::Never, Migrations::Apply).await?;
            if !store.delete_tenant(&name).await? {
                return Err(CliError::NotFound(format!(
                    "no tenant '{name}' (see: scimd tenant list)"
                )));
            }
            println!("Deleted tenant '{name}' and all its data.");
            Ok(())
        }
        TenantCommand::List { json } => {
            let store = store::open(settings, Create::Never, Migrations::Apply).await?;
            let tenants = store.list_tenants().await?;
            let base = settings.base_url(None);
            if json {
                let out: Vec<Value> = tenants
                    .iter()
                    .map(|t| {
                        json!({
                            "id": t.id,
                            "display_name": t.display_name,
                            "provisioning_enabled": t.provisioning_enabled,
                            "created": rfc3339(t.created),
                            "scim_url": scim_base_url(&base, &t.id),
                        })
                    })
                    .collect();
                println!("{}", Value::Array(out));
            } else if tenants.is_empty() {
                println!("No tenants yet. Create one with: scimd tenant create NAME");
            } else {
                let rows: Vec<Vec<String>> = tenants
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            t.display_name.clone(),
                            if t.provisioning_enabled { "on" } else { "off" }.to_owned(),
                            human_time(t.created),
                            scim_base_url(&base, &t.id),
                        ]
                    })
                    .collect();
                print_table(
                    &["ID", "NAME", "PROVISIONING", "CREATED", "SCIM URL"],
                    &rows,
                );
            }
            Ok(())
        }
    }
}

/// Runs a `token` command.
pub async fn token(settings: &Settings, command: TokenCommand) -> Result<(), CliError> {
    let store = store::open(settings, Create::Never, Migrations::Apply).await?;
    let now = OffsetDateTime::now_utc();
    match command {
        TokenCommand::Create {
            tenant,
            name,
            expires_in,
            json,
        } => {
            let expires = expires_in.map(|lifetime| now + lifetime);
            let issued = create_token(store.as_ref(), &tenant, &name, expires).await?;
            if json {
                let out = json!({
                    "id": issued.record.id,
                    "tenant": tenant,
                    "token": issued.token,
                    "expires": expires.map(rfc3339),
                });
                println!("{out}");
            } else {
                let lifetime = match expires {
                    Some(at) => format!("expires {}", human_time(at)),
                    None => "never expires".to_owned(),
                };
                println!(
                    "Created token '{}' ({}) for tenant '{tenant}'; it {lifetime}.",
                    issued.record.id, name
                );
                let scim_url = scim_base_url(&settings.base_url(None), &tenant);
                print_credentials(&scim_url, &issued.token);
            }
            Ok(())
        }
        TokenCommand::List { tenant, json } => {
            require_tenant(store.as_ref(), &tenant).await?;
            let tokens = store.list_tokens(&tenant).await?;
            if json {
                let out: Vec<Value> = tokens.iter().map(|t| token_json(t, now)).collect();
                println!("{}", Value::Array(out));
            } else {
                print_token_table(&tenant, &tokens, now);
            }
            Ok(())
        }
        TokenCommand::Rotate {
            tenant,
            name,
            grace,
            expires_in,
            json,
        } => {
            let expires = expires_in.map(|lifetime| now + lifetime);
            let revoke_at = now + grace.unwrap_or(time::Duration::ZERO);
            // The old tokens are read before the new one exists, so it is never among them.
            require_tenant(store.as_ref(), &tenant).await?;
            let old = store.list_tokens(&tenant).await?;
            let issued = create_token(store.as_ref(), &tenant, &name, expires).await?;
            let mut revokes = Vec::new();
            for token in &old {
                // Usable tokens only; a revocation already due sooner is kept.
                let usable = matches!(
                    TokenStatus::of(token, now),
                    TokenStatus::Active
                        | TokenStatus::ExpiringSoon
                        | TokenStatus::RevocationScheduled
                );
                if !usable || token.revoked.is_some_and(|at| at <= revoke_at) {
                    continue;
                }
                store.revoke_token(&tenant, &token.id, revoke_at).await?;
                revokes.push(token.id.clone());
            }
            if json {
                let out = json!({
                    "id": issued.record.id,
                    "tenant": tenant,
                    "token": issued.token,
                    "expires": expires.map(rfc3339),
                    "revokes": revokes
                        .iter()
                        .map(|id| json!({"id": id, "at": rfc3339(revoke_at)}))
                        .collect::<Vec<_>>(),
                });
                println!("{out}");
            } else {
                println!(
                    "Created token '{}' ({name}) for tenant '{tenant}'.",
                    issued.record.id
                );
                match (revokes.is_empty(), grace) {
                    (true, _) => println!("No other usable token to revoke."),
                    (false, Some(g)) if g > time::Duration::ZERO => println!(
                        "Token(s) {} keep working until {}, then are revoked: paste the new token now.",
                        revokes.join(", "),
                        human_time(revoke_at)
                    ),
                    (false, _) => println!("Revoked token(s) {} now.", revokes.join(", ")),
                }
                let scim_url = scim_base_url(&settings.base_url(None), &tenant);
                print_credentials(&scim_url, &issued.token);
            }
            Ok(())
        }
        TokenCommand::Revoke { tenant, token_id } => {
            require_tenant(store.as_ref(), &tenant).await?;
            let tokens = store.list_tokens(&tenant).await?;
            let existing = tokens.iter().find(|t| t.id == token_id).ok_or_else(|| {
                CliError::NotFound(format!(
                    "tenant '{tenant}' has no token '{token_id}' (see: scimd token list {tenant})"
                ))
            })?;
            if let Some(at) = existing.revoked.filter(|at| *at <= now) {
                println!(
                    "Token '{token_id}' of tenant '{tenant}' was already revoked at {}.",
                    human_time(at)
                );
                return Ok(());
            }
            if !store.revoke_token(&tenant, &token_id, now).await? {
                return Err(CliError::NotFound(format!(
                    "tenant '{tenant}' has no token '{token_id}'"
                )));
            }
            println!(
                "Revoked token '{token_id}' of tenant '{tenant}'. Requests using it are refused from now on."
            );
            Ok(())
        }
    }
}

async fn require_tenant(store: &dyn Store, tenant: &str) -> Result<(), CliError> {
    match store.get_tenant(tenant).await? {
        Some(_) => Ok(()),
        None => Err(CliError::NotFound(format!(
            "no tenant '{tenant}' (see: scimd tenant list)"
        ))),
    }
}

/// Where a token stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Usable, and not expiring within [`EXPIRY_WARNING`].
    Active,
    /// Usable, but expiring within [`EXPIRY_WARNING`].
    ExpiringSoon,
    /// Usable until a revocation already scheduled (a rotation's grace period).
    RevocationScheduled,
    /// Past its expiry.
    Expired,
    /// Revoked.
    Revoked,
}

impl TokenStatus {
    /// The token's status at `now`.
    pub fn of(token: &TokenRecord, now: OffsetDateTime) -> TokenStatus {
        match (token.revoked, token.expires) {
            (Some(at), _) if at <= now => TokenStatus::Revoked,
            (_, Some(at)) if at <= now => TokenStatus::Expired,
            (Some(_), _) => TokenStatus::RevocationScheduled,
            (None, Some(at)) if at - now <= EXPIRY_WARNING => TokenStatus::ExpiringSoon,
            _ => TokenStatus::Active,
        }
    }

    /// The machine-readable name, as in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::ExpiringSoon => "expiring_soon",
            TokenStatus::RevocationScheduled => "revocation_scheduled",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

fn token_json(token: &TokenRecord, now: OffsetDateTime) -> Value {
    json!({
        "id": token.id,
        "name": token.name,
        "created": rfc3339(token.created),
        "last_used": token.last_used.map(rfc3339),
        "expires": token.expires.map(rfc3339),
        "revoked": token.revoked.map(rfc3339),
        "status": TokenStatus::of(token, now).as_str(),
    })
}

fn print_token_table(tenant: &str, tokens: &[TokenRecord], now: OffsetDateTime) {
    if tokens.is_empty() {
        println!("Tenant '{tenant}' has no tokens. Create one with: scimd token create {tenant}");
        return;
    }
    let never = || "never".to_owned();
    let rows: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            let status = match TokenStatus::of(t, now) {
                TokenStatus::ExpiringSoon => "EXPIRES SOON".to_owned(),
                TokenStatus::RevocationScheduled => format!(
                    "revoked from {}",
                    t.revoked.map(human_time).unwrap_or_default()
                ),
                other => other.as_str().to_owned(),
            };
            vec![
                t.id.clone(),
                t.name.clone(),
                human_time(t.created),
                t.last_used.map_or_else(never, human_time),
                t.expires.map_or_else(never, human_time),
                status,
            ]
        })
        .collect();
    print_table(
        &["ID", "NAME", "CREATED", "LAST USED", "EXPIRES", "STATUS"],
        &rows,
    );
    let expiring = tokens
        .iter()
        .filter(|t| TokenStatus::of(t, now) == TokenStatus::ExpiringSoon)
        .count();
    if expiring > 0 {
        println!();
        println!(
            "{expiring} token(s) expire within {} days. Create a replacement (scimd token create {tenant}), \
             update the identity provider, then revoke the old one.",
            EXPIRY_WARNING.whole_days()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;

    fn token(expires: Option<OffsetDateTime>, revoked: Option<OffsetDateTime>) -> TokenRecord {
        TokenRecord {
            id: "abcd1234".into(),
            tenant_id: "acme".into(),
            name: "t".into(),
            secret_hash: vec![1],
            created: datetime!(2025-01-01 0:00 UTC),
            last_used: None,
            expires,
            revoked,
        }
    }

    #[test]
    fn status_reflects_expiry_and_revocation() {
        let now = datetime!(2025-03-01 0:00 UTC);
        assert_eq!(
            TokenStatus::of(&token(None, None), now),
            TokenStatus::Active
        );
        let in_30_days = Some(now + Duration::days(30));
        assert_eq!(
            TokenStatus::of(&token(in_30_days, None), now),
            TokenStatus::Active
        );
        let in_13_days = Some(now + Duration::days(13));
        assert_eq!(
            TokenStatus::of(&token(in_13_days, None), now),
            TokenStatus::ExpiringSoon
        );
        let yesterday = Some(now - Duration::days(1));
        assert_eq!(
            TokenStatus::of(&token(yesterday, None), now),
            TokenStatus::Expired
        );
        assert_eq!(
            TokenStatus::of(&token(None, yesterday), now),
            TokenStatus::Revoked
        );
        assert_eq!(
            TokenStatus::of(&token(yesterday, yesterday), now),
            TokenStatus::Revoked
        );
        let tomorrow = Some(now + Duration::days(1));
        assert_eq!(
            TokenStatus::of(&token(None, tomorrow), now),
            TokenStatus::RevocationScheduled
        );
    }

    #[test]
    fn token_json_never_contains_the_hash() {
        let now = datetime!(2025-03-01 0:00 UTC);
        let out = token_json(&token(None, None), now);
        let keys: Vec<&str> = out
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "name",
                "created",
                "last_used",
                "expires",
                "revoked",
                "status"
            ]
        );
        assert_eq!(out["last_used"], Value::Null);
    }
}
