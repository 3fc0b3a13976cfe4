//! `scimd tenant ...` and `scimd token ...`: administration from the shell, against
//! the same database a running server uses.

use crate::cli::{TenantCommand, TokenCommand};
use crate::config::Settings;
use crate::error::CliError;
use crate::output::{human_time, print_credentials, print_table, rfc3339};
use crate::store::{self, Create, Migrations};
use scimd_server::tenants::{
    create_tenant_with_token, create_token, disable_provisioning, enable_provisioning,
    revoke_token, rotate_tokens, scim_base_url, Revocation,
};
use scimd_store::{Store, Tenant, TokenRecord};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Where a token stands (shared with the admin API).
pub use scimd_server::tokens::TokenStatus;
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
        TenantCommand::Disable { name, json } => {
            let store = store::open(settings, Create::Never, Migrations::Apply).await?;
            require_tenant(store.as_ref(), &name).await?;
            disable_provisioning(store.as_ref(), &name).await?;
            if json {
                println!("{}", json!({"id": name, "provisioning_enabled": false}));
                return Ok(());
            }
            println!(
                "Provisioning disabled for tenant '{name}': SCIM requests now get 403. \
                 Users, groups and tokens are kept; enable it again with: scimd tenant enable {name}"
            );
            Ok(())
        }
        TenantCommand::Check {
            name,
            url,
            token,
            json,
        } => crate::check::run(settings, &name, url, token, json).await,
        TenantCommand::Delete {
            name,
            confirm,
            json,
        } => {
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
            if json {
                println!("{}", json!({"id": name, "deleted": true}));
            } else {
                println!("Deleted tenant '{name}' and all its data.");
            }
            Ok(())
        }
        TenantCommand::Get { name, json } => {
            let store = store::open(settings, Create::Never, Migrations::Apply).await?;
            let tenant = store.get_tenant(&name).await?.ok_or_else(|| {
                CliError::NotFound(format!("no tenant '{name}' (see: scimd tenant list)"))
            })?;
            print_tenant(settings, &tenant, json);
            Ok(())
        }
        TenantCommand::Update {
            name,
            display_name,
            log_bodies,
            log_retention,
            log_max_entries,
            json,
        } => {
            let store = store::open(settings, Create::Never, Migrations::Apply).await?;
            require_tenant(store.as_ref(), &name).await?;
            let update = scimd_store::TenantUpdate {
                display_name,
                log_bodies: log_bodies.map(|value| value == crate::cli::OnOff::On),
                log_retention_days: log_retention,
                log_max_entries,
                ..Default::default()
            };
            let tenant =
                scimd_server::tenants::update_tenant(store.as_ref(), &name, &update).await?;
            print_tenant(settings, &tenant, json);
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
        TokenCommand::List { tenant, all, json } => {
            require_tenant(store.as_ref(), &tenant).await?;
            let mut tokens = store.list_tokens(&tenant).await?;
            // OAuth access tokens come and go hourly; they are listed only on request.
            let access = if all {
                store.list_access_tokens(&tenant).await?
            } else {
                Vec::new()
            };
            if json {
                let mut out: Vec<Value> = tokens.iter().map(|t| token_json(t, now)).collect();
                for a in &access {
                    let mut entry = token_json(&a.token, now);
                    entry["oauth_client_id"] = Value::from(a.client_id.clone());
                    out.push(entry);
                }
                println!("{}", Value::Array(out));
            } else {
                tokens.extend(access.into_iter().map(|a| a.token));
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
            require_tenant(store.as_ref(), &tenant).await?;
            let rotation = rotate_tokens(
                store.as_ref(),
                &tenant,
                &name,
                expires,
                grace.unwrap_or(time::Duration::ZERO),
                now,
            )
            .await?;
            let (issued, revoke_at, revokes) =
                (rotation.issued, rotation.revoke_at, rotation.revoked);
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
        TokenCommand::Revoke {
            tenant,
            token_id,
            json,
        } => {
            require_tenant(store.as_ref(), &tenant).await?;
            let hidden = store.get_token(&tenant, &token_id).await?.is_none();
            if hidden {
                return Err(CliError::NotFound(format!(
                    "tenant '{tenant}' has no token '{token_id}' (see: scimd token list {tenant})"
                )));
            }
            let outcome = revoke_token(store.as_ref(), &tenant, &token_id, now).await?;
            if json {
                let at = match outcome {
                    Revocation::Revoked => now,
                    Revocation::AlreadyRevoked(at) => at,
                };
                println!(
                    "{}",
                    json!({"id": token_id, "tenant": tenant, "revoked": rfc3339(at)})
                );
                return Ok(());
            }
            match outcome {
                Revocation::AlreadyRevoked(at) => println!(
                    "Token '{token_id}' of tenant '{tenant}' was already revoked at {}.",
                    human_time(at)
                ),
                Revocation::Revoked => println!(
                    "Revoked token '{token_id}' of tenant '{tenant}'. Requests using it are refused from now on."
                ),
            }
            Ok(())
        }
    }
}

fn print_tenant(settings: &Settings, tenant: &Tenant, json: bool) {
    let scim_url = scim_base_url(&settings.base_url(None), &tenant.id);
    if json {
        let out = json!({
            "id": tenant.id,
            "display_name": tenant.display_name,
            "provisioning_enabled": tenant.provisioning_enabled,
            "created": rfc3339(tenant.created),
            "updated": rfc3339(tenant.updated),
            "scim_url": scim_url,
            "log": {
                "bodies": tenant.log.bodies,
                "retention_days": tenant.log.retention_days,
                "max_entries": tenant.log.max_entries,
            },
        });
        println!("{out}");
    } else {
        print_table(
            &[
                "ID",
                "NAME",
                "PROVISIONING",
                "CREATED",
                "UPDATED",
                "SCIM URL",
            ],
            &[vec![
                tenant.id.clone(),
                tenant.display_name.clone(),
                if tenant.provisioning_enabled {
                    "on"
                } else {
                    "off"
                }
                .to_owned(),
                human_time(tenant.created),
                human_time(tenant.updated),
                scim_url,
            ]],
        );
        println!(
            "Provisioning log: bodies {}, kept {} days, at most {} entries.",
            if tenant.log.bodies {
                "on (redacted)"
            } else {
                "off"
            },
            tenant.log.retention_days,
            tenant.log.max_entries
        );
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
