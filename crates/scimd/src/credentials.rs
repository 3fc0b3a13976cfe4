//! `scimd admin-key ...` and `scimd oauth-client ...`: the credentials beyond tenant
//! tokens, managed against the same database a running server uses. The lifecycle
//! logic lives in scimd-server (shared with the admin API); this is only output.

use crate::cli::{AdminKeyCommand, OAuthClientCommand};
use crate::config::Settings;
use crate::error::CliError;
use crate::output::{human_time, print_table, rfc3339};
use crate::store::{self, Create};
use scimd_server::admin::keys::create_admin_key;
use scimd_server::oauth::clients::{create_client, revoke_client};
use scimd_server::oauth::token_endpoint_url;
use scimd_server::tenants::scim_base_url;
use scimd_store::Store;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Runs an `admin-key` command.
pub async fn admin_key(settings: &Settings, command: AdminKeyCommand) -> Result<(), CliError> {
    let now = OffsetDateTime::now_utc();
    match command {
        AdminKeyCommand::Create { name, json } => {
            let store =
                store::open(settings, Create::IfMissing, crate::store::Migrations::Apply).await?;
            let issued = create_admin_key(store.as_ref(), &name, now).await?;
            if json {
                let out = json!({"id": issued.record.id, "name": name, "key": issued.key});
                println!("{out}");
            } else {
                println!("Created admin key '{}' ({name}).", issued.record.id);
                println!();
                println!("  Admin key:  {}", issued.key);
                println!();
                println!("The key is shown once: store it now (scimd keeps only a hash).");
                println!(
                    "Use it as 'Authorization: Bearer <key>' on {}/admin/v1/...",
                    settings.base_url(None)
                );
            }
            Ok(())
        }
        AdminKeyCommand::List { json } => {
            let store =
                store::open(settings, Create::Never, crate::store::Migrations::Apply).await?;
            let keys = store.list_admin_keys().await?;
            let status = |revoked: Option<OffsetDateTime>| match revoked {
                Some(at) if at <= now => "revoked",
                _ => "active",
            };
            if json {
                let out: Vec<Value> = keys
                    .iter()
                    .map(|k| {
                        json!({
                            "id": k.id,
                            "name": k.name,
                            "created": rfc3339(k.created),
                            "last_used": k.last_used.map(rfc3339),
                            "revoked": k.revoked.map(rfc3339),
                            "status": status(k.revoked),
                        })
                    })
                    .collect();
                println!("{}", Value::Array(out));
            } else if keys.is_empty() {
                println!("No admin keys. Create one with: scimd admin-key create --name NAME");
            } else {
                let never = || "never".to_owned();
                let rows: Vec<Vec<String>> = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.id.clone(),
                            k.name.clone(),
                            human_time(k.created),
                            k.last_used.map_or_else(never, human_time),
                            status(k.revoked).to_owned(),
                        ]
                    })
                    .collect();
                print_table(&["ID", "NAME", "CREATED", "LAST USED", "STATUS"], &rows);
            }
            Ok(())
        }
        AdminKeyCommand::Revoke { key_id, json } => {
            let store =
                store::open(settings, Create::Never, crate::store::Migrations::Apply).await?;
            if !store.revoke_admin_key(&key_id, now).await? {
                return Err(CliError::NotFound(format!(
                    "no admin key '{key_id}' (see: scimd admin-key list)"
                )));
            }
            if json {
                println!("{}", json!({"id": key_id, "revoked": true}));
            } else {
                println!(
                    "Revoked admin key '{key_id}'. Requests using it are refused from now on."
                );
            }
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

/// Runs an `oauth-client` command.
pub async fn oauth_client(
    settings: &Settings,
    command: OAuthClientCommand,
) -> Result<(), CliError> {
    let store = store::open(settings, Create::Never, crate::store::Migrations::Apply).await?;
    let now = OffsetDateTime::now_utc();
    match command {
        OAuthClientCommand::Create { tenant, name, json } => {
            require_tenant(store.as_ref(), &tenant).await?;
            let issued = create_client(store.as_ref(), &tenant, &name, now).await?;
            let base = settings.base_url(None);
            let endpoint = token_endpoint_url(&base, &tenant);
            let scim_url = scim_base_url(&base, &tenant);
            if json {
                let out = json!({
                    "client_id": issued.record.client_id,
                    "client_secret": issued.secret,
                    "token_endpoint": endpoint,
                    "scim_url": scim_url,
                });
                println!("{out}");
            } else {
                println!(
                    "Created OAuth client '{}' ({name}) for tenant '{tenant}'.",
                    issued.record.client_id
                );
                println!();
                println!("  Tenant URL:      {scim_url}");
                println!("  Token endpoint:  {endpoint}");
                println!("  Client id:       {}", issued.record.client_id);
                println!("  Client secret:   {}", issued.secret);
                println!();
                println!("The secret is shown once: store it now (scimd keeps only a hash).");
                println!("Access tokens from the token endpoint live one hour.");
            }
            Ok(())
        }
        OAuthClientCommand::List { tenant, json } => {
            require_tenant(store.as_ref(), &tenant).await?;
            let clients = store.list_oauth_clients(&tenant).await?;
            if json {
                let out: Vec<Value> = clients
                    .iter()
                    .map(|c| {
                        json!({
                            "client_id": c.client_id,
                            "name": c.name,
                            "created": rfc3339(c.created),
                            "revoked": c.revoked.map(rfc3339),
                        })
                    })
                    .collect();
                println!("{}", Value::Array(out));
            } else if clients.is_empty() {
                println!(
                    "Tenant '{tenant}' has no OAuth clients. Create one with: scimd oauth-client create {tenant}"
                );
            } else {
                let rows: Vec<Vec<String>> = clients
                    .iter()
                    .map(|c| {
                        vec![
                            c.client_id.clone(),
                            c.name.clone(),
                            human_time(c.created),
                            c.revoked.map_or_else(
                                || "active".to_owned(),
                                |at| format!("revoked {}", human_time(at)),
                            ),
                        ]
                    })
                    .collect();
                print_table(&["CLIENT ID", "NAME", "CREATED", "STATUS"], &rows);
            }
            Ok(())
        }
        OAuthClientCommand::Revoke {
            tenant,
            client_id,
            json,
        } => {
            require_tenant(store.as_ref(), &tenant).await?;
            if store.get_oauth_client(&tenant, &client_id).await?.is_none() {
                return Err(CliError::NotFound(format!(
                    "tenant '{tenant}' has no OAuth client '{client_id}' (see: scimd oauth-client list {tenant})"
                )));
            }
            revoke_client(store.as_ref(), &tenant, &client_id, now).await?;
            if json {
                println!(
                    "{}",
                    json!({"client_id": client_id, "tenant": tenant, "revoked": true})
                );
            } else {
                println!(
                    "Revoked OAuth client '{client_id}' of tenant '{tenant}' and its access tokens."
                );
            }
            Ok(())
        }
    }
}
