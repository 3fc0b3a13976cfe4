//! Many tenants on one server (`run --tenants N`): the issue's "thousands of tenants on
//! one deployment". N tenants are created through scimd's admin API (as the vendor's
//! application would, one `POST /admin/v1/tenants` each, answered with the tenant's
//! first token) and a scenario's users are spread over them: user `i` lives in tenant
//! `i mod N`. All tenants share the client's keep-alive connections, so the server sees
//! the same N connections whatever the number of tenants.

use crate::client::{expect_status, ScimClient};
use crate::result::Phase;
use crate::BenchError;
use reqwest::Url;
use serde_json::{json, Value};
use std::time::Instant;

/// The tenants a scenario runs against: one client per tenant, sharing connections.
#[derive(Clone)]
pub struct Tenants {
    clients: Vec<ScimClient>,
    /// Seconds their creation took (0 for [`Tenants::single`]).
    created_in_s: f64,
}

impl Tenants {
    /// The one tenant `client` is bound to.
    pub fn single(client: &ScimClient) -> Tenants {
        Tenants {
            clients: vec![client.clone()],
            created_in_s: 0.0,
        }
    }

    /// Creates `count` tenants named `<run_tag>-t<i>` on the server `client` points at,
    /// with the admin API key `admin_key`, before `deadline`.
    pub async fn create(
        client: &ScimClient,
        admin_key: &str,
        count: usize,
        run_tag: &str,
        deadline: Instant,
    ) -> Result<Tenants, BenchError> {
        let origin = origin_of(client.base())?;
        let admin = client.for_base(&format!("{origin}/admin/v1"), Some(admin_key))?;
        let started = Instant::now();
        let mut clients = Vec::with_capacity(count);
        for index in 0..count {
            if Instant::now() >= deadline {
                return Err(BenchError::Measurement(format!(
                    "only {index} of {count} tenants created before the cap"
                )));
            }
            let id = format!("{run_tag}-t{index}");
            let reply = admin.post("/tenants", &json!({ "id": id })).await?;
            expect_status("POST /admin/v1/tenants", &reply, &[201])?;
            let token = reply
                .json()
                .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned))
                .ok_or_else(|| BenchError::Unexpected {
                    what: "POST /admin/v1/tenants (no token in the answer)".into(),
                    status: reply.status,
                    body: reply.excerpt(),
                })?;
            clients.push(client.for_base(&format!("{origin}/scim/v2/{id}"), Some(&token))?);
        }
        Ok(Tenants {
            clients,
            created_in_s: started.elapsed().as_secs_f64(),
        })
    }

    /// The creation as a phase of the results (`None` for one tenant).
    pub fn phase(&self) -> Option<Phase> {
        let n = self.clients.len() as u64;
        (n > 1).then(|| Phase::new("tenants", n, n, 0, self.created_in_s, false))
    }

    /// How many tenants.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Never true: there is at least the tenant of [`Tenants::single`].
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// The client of the tenant user `index` lives in.
    pub fn for_user(&self, index: usize) -> &ScimClient {
        &self.clients[index % self.clients.len()]
    }

    /// Every tenant's client.
    pub fn all(&self) -> &[ScimClient] {
        &self.clients
    }
}

/// `http://host:port` of a SCIM base URL (the admin API is at the server's root).
fn origin_of(base: &str) -> Result<String, BenchError> {
    let url = Url::parse(base).map_err(|e| BenchError::BadUrl {
        url: base.to_string(),
        reason: e.to_string(),
    })?;
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_drops_the_path() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/scim/v2/acme").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            origin_of("http://[::1]:9/scim/v2/x").unwrap(),
            "http://[::1]:9"
        );
    }
}
