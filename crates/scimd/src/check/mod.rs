//! `scimd tenant check TENANT`: sends what Microsoft Entra's "Test Connection" sends
//! and explains, in plain words, why a step failed.
//!
//! Entra's test is a query for a random GUID as `userName` (and, for groups, as
//! `displayName` with `excludedAttributes=members`), without `Content-Type`; it passes
//! when each answers 200 with an empty ListResponse (RFC 7644 §3.4.2). We also read
//! `/Schemas` and `/ServiceProviderConfig`, which Entra and Okta use for discovery
//! (RFC 7644 §4). Every probe carries only `Host`, `Authorization` and `User-Agent`:
//! no `Accept` and no `Content-Type`, as Entra sends them ([`probe_http`]).

mod probe_http;

use crate::config::Settings;
use crate::error::CliError;
use crate::store::{self, Create};
use scimd_server::tenants::{create_token, scim_base_url};
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use time::OffsetDateTime;

/// The user agent of the probes: Entra-like, so the provisioning log files them under
/// `entra`, and marked so an admin reading the log knows where they came from.
const USER_AGENT: &str = "Azure AD SCIM Client compatible (scimd tenant check)";

/// How long a probe waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the temporary token lives if revoking it fails.
const TEMPORARY_TOKEN_LIFETIME: time::Duration = time::Duration::minutes(10);

/// What a probe expects of a 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A ListResponse with no resources (the random GUID matches nothing).
    EmptyList,
    /// A ListResponse with at least one resource.
    NonEmptyList,
    /// A JSON object (ServiceProviderConfig).
    Object,
}

struct Probe {
    name: &'static str,
    path_and_query: String,
    expect: Expect,
}

/// The outcome of one probe.
#[derive(Debug)]
struct Outcome {
    name: &'static str,
    url: String,
    status: Option<u16>,
    passed: bool,
    explanation: String,
}

/// Runs the check.
pub async fn run(
    settings: &Settings,
    tenant: &str,
    url: Option<String>,
    token: Option<String>,
    json: bool,
) -> Result<(), CliError> {
    let base = url
        .unwrap_or_else(|| scim_base_url(&default_origin(settings), tenant))
        .trim_end_matches('/')
        .to_owned();
    let (token, temporary) = match token {
        Some(token) => (token, None),
        None => {
            let store =
                store::open(settings, Create::Never, crate::store::Migrations::Apply).await?;
            let expires = OffsetDateTime::now_utc() + TEMPORARY_TOKEN_LIFETIME;
            let issued = create_token(store.as_ref(), tenant, "tenant-check", Some(expires))
                .await
                .map_err(|e| match e {
                    scimd_store::StoreError::Scim(s) if s.status == 404 => {
                        CliError::NotFound(format!("no tenant '{tenant}' (see: scimd tenant list)"))
                    }
                    other => CliError::Store(other),
                })?;
            (issued.token, Some((store, issued.record.id)))
        }
    };

    let outcomes = probe_all(&base, tenant, &token).await;

    if let Some((store, token_id)) = temporary {
        if let Err(e) = store
            .revoke_token(tenant, &token_id, OffsetDateTime::now_utc())
            .await
        {
            eprintln!(
                "warning: could not revoke the temporary token '{token_id}' ({e}); it expires \
                 in {} minutes anyway",
                TEMPORARY_TOKEN_LIFETIME.whole_minutes()
            );
        }
    }

    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if json {
        let checks: Vec<Value> = outcomes
            .iter()
            .map(|o| {
                json!({
                    "name": o.name,
                    "url": o.url,
                    "status": o.status,
                    "passed": o.passed,
                    "explanation": o.explanation,
                })
            })
            .collect();
        println!(
            "{}",
            json!({"url": base, "passed": failed == 0, "checks": checks})
        );
    } else {
        println!("Checking {base} the way Entra's Test Connection does:");
        for o in &outcomes {
            let verdict = if o.passed { "PASS" } else { "FAIL" };
            println!("  {verdict}  {}", o.name);
            println!("        {}", o.explanation);
        }
        if failed == 0 {
            println!("All {} checks passed.", outcomes.len());
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::CheckFailed(format!(
            "{failed} of {} checks failed for {base}",
            outcomes.len()
        )))
    }
}

/// The origin the server is reachable at from here: the public URL, else the listen
/// address (a wildcard address is reached through loopback).
fn default_origin(settings: &Settings) -> String {
    if let Some(url) = &settings.public_url {
        return url.clone();
    }
    let listen = settings.listen;
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listen.port()))
}

async fn probe_all(base: &str, tenant: &str, token: &str) -> Vec<Outcome> {
    let guid = uuid::Uuid::new_v4();
    // Entra's own encoding: `+` for spaces, `%22` for quotes.
    let probes = [
        Probe {
            name: "users query (GET /Users?filter=userName eq \"<random GUID>\")",
            path_and_query: format!("/Users?filter=userName+eq+%22{guid}%22"),
            expect: Expect::EmptyList,
        },
        Probe {
            name: "groups query (GET /Groups?excludedAttributes=members&filter=displayName eq \"<random GUID>\")",
            path_and_query: format!(
                "/Groups?excludedAttributes=members&filter=displayName+eq+%22{guid}%22"
            ),
            expect: Expect::EmptyList,
        },
        Probe {
            name: "schemas (GET /Schemas)",
            path_and_query: "/Schemas".into(),
            expect: Expect::NonEmptyList,
        },
        Probe {
            name: "service provider config (GET /ServiceProviderConfig)",
            path_and_query: "/ServiceProviderConfig".into(),
            expect: Expect::Object,
        },
    ];
    let mut outcomes = Vec::with_capacity(probes.len());
    for probe in &probes {
        let url = format!("{base}{}", probe.path_and_query);
        outcomes.push(run_probe(probe, url, base, tenant, token).await);
    }
    outcomes
}

async fn run_probe(probe: &Probe, url: String, base: &str, tenant: &str, token: &str) -> Outcome {
    let outcome = |status: Option<u16>, passed: bool, explanation: String| Outcome {
        name: probe.name,
        url: url.clone(),
        status,
        passed,
        explanation,
    };
    if url.starts_with("https://") {
        return outcome(
            None,
            false,
            "this check speaks plain http only; run it on the server host against the \
             listen address (--url http://127.0.0.1:PORT/scim/v2/TENANT), or check the TLS \
             proxy in front of scimd separately"
                .into(),
        );
    }
    let response = match probe_http::get(&url, token, USER_AGENT, PROBE_TIMEOUT).await {
        Ok(response) => response,
        Err(e) => return outcome(None, false, explain_transport(&e, base)),
    };
    let status = response.status;
    let content_type = response.content_type;
    let request_id = response.request_id;
    let text = response.body;
    let body: Option<Value> = serde_json::from_str(&text).ok();
    let detail = body
        .as_ref()
        .and_then(|b| b.get("detail"))
        .and_then(Value::as_str)
        .map(|d| format!(" The server said: \"{d}\""))
        .unwrap_or_default();
    if status != 200 {
        return outcome(
            Some(status),
            false,
            format!(
                "{}{detail}",
                explain_status(status, tenant, request_id.as_deref())
            ),
        );
    }
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/scim+json" && media != "application/json" {
        return outcome(
            Some(status),
            false,
            format!(
                "200, but the content type is '{content_type}', not application/scim+json: \
                 something other than scimd (a proxy, a login page, a web server) answered. \
                 Check the URL and what sits in front of scimd."
            ),
        );
    }
    let Some(body) = body else {
        return outcome(
            Some(status),
            false,
            "200, but the body is not JSON: something other than scimd answered.".into(),
        );
    };
    let is_list = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|v| v == "urn:ietf:params:scim:api:messages:2.0:ListResponse")
        });
    let total = body.get("totalResults").and_then(Value::as_u64);
    let resources = body
        .get("Resources")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    match probe.expect {
        Expect::EmptyList if is_list && total == Some(0) && resources == 0 => outcome(
            Some(status),
            true,
            "200 with an empty ListResponse, as Entra expects.".into(),
        ),
        Expect::EmptyList => outcome(
            Some(status),
            false,
            format!(
                "200, but not an empty ListResponse (totalResults {}, {} resources): a query \
                 for a random GUID must match nothing. The server is not filtering, or is not \
                 a SCIM server.",
                total.map_or_else(|| "missing".to_owned(), |t| t.to_string()),
                resources
            ),
        ),
        Expect::NonEmptyList if is_list && resources > 0 => {
            outcome(Some(status), true, format!("200 with {resources} schemas."))
        }
        Expect::NonEmptyList => outcome(
            Some(status),
            false,
            "200, but not a ListResponse of schemas: the server is not a SCIM server.".into(),
        ),
        Expect::Object if body.get("patch").is_some() => outcome(
            Some(status),
            true,
            "200 with the server's capabilities.".into(),
        ),
        Expect::Object => outcome(
            Some(status),
            false,
            "200, but not a ServiceProviderConfig (no 'patch' member).".into(),
        ),
    }
}

/// Plain words for an HTTP status that is not 200.
fn explain_status(status: u16, tenant: &str, request_id: Option<&str>) -> String {
    match status {
        401 => format!(
            "401 Unauthorized: the token was refused. It is wrong, revoked, expired, or \
             belongs to another tenant than the one in the URL ('{tenant}' expected). See \
             `scimd token list {tenant}`; create a new one with `scimd token create {tenant}` \
             and paste it as the Secret Token."
        ),
        403 => format!(
            "403 Forbidden: provisioning is disabled for tenant '{tenant}'. Turn it on with \
             `scimd tenant enable {tenant}`."
        ),
        404 => format!(
            "404 Not Found: wrong tenant URL. The URL must end in /scim/v2/{tenant} (nothing \
             after it; the identity provider appends /Users and /Groups). See `scimd tenant \
             list` for each tenant's URL."
        ),
        500..=599 => format!(
            "{status}: the server failed. Look in the scimd log{} for the cause; a 503 means \
             the database is unavailable.",
            request_id.map_or_else(String::new, |id| format!(" for request id {id}"))
        ),
        other => format!("{other}: an unexpected status for this request."),
    }
}

/// Plain words for a request that got no HTTP answer at all.
fn explain_transport(error: &probe_http::TransportError, base: &str) -> String {
    use probe_http::TransportError;
    let host = probe_http::authority(base)
        .map(|(host, port)| format!("{host}:{port}"))
        .unwrap_or_else(|| base.to_owned());
    match error {
        TransportError::InvalidUrl(_) => format!("'{base}' is not a valid http URL."),
        TransportError::Timeout => format!(
            "timed out after {} seconds: {host} accepted or routed the connection but did not \
             answer. Is a firewall or proxy in the way, or is the server overloaded?",
            PROBE_TIMEOUT.as_secs()
        ),
        TransportError::Resolve(_) => format!(
            "the host name in {host} could not be resolved (DNS): check the spelling of the URL."
        ),
        TransportError::Connect(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!(
                "connection refused: nothing is listening at {host}. Is `scimd serve` running, \
                 and is the URL (host and port) right?"
            )
        }
        TransportError::Connect(e) => format!("could not connect to {host}: {e}"),
        TransportError::Http(e) => format!(
            "{host} accepted the connection but did not answer in HTTP/1.1 ({e}): is it a \
             TLS port, or something other than scimd?"
        ),
    }
}
