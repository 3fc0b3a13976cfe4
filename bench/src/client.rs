//! One HTTP/1.1 keep-alive client per scenario, shared by its workers: each worker
//! has at most one request in flight, so N workers use N pooled connections.

use crate::target::loopback_base;
use crate::BenchError;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// The SCIM media type (RFC 7644 §3.1).
const SCIM_JSON: &str = "application/scim+json";

/// A client bound to one SCIM base URL and bearer token.
#[derive(Clone)]
pub struct ScimClient {
    http: reqwest::Client,
    base: String,
    authorization: Option<String>,
}

/// A response, read whole.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The start of the body, for error messages.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.chars().take(300).collect()
    }
}

impl ScimClient {
    /// A client for `base` (loopback only), with `connections` pooled connections and
    /// a per-request timeout (a stuck request must not stall a worker forever).
    pub fn new(
        base: &str,
        token: Option<&str>,
        connections: usize,
        request_timeout: Duration,
    ) -> Result<ScimClient, BenchError> {
        let base = loopback_base(base)?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1))
            .tcp_nodelay(true)
            .timeout(request_timeout)
            .no_proxy()
            .build()?;
        Ok(ScimClient {
            http,
            base,
            authorization: token.map(|t| format!("Bearer {t}")),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A client for another base URL (loopback only) and token on the same
    /// connections: another tenant, or the admin API.
    pub fn for_base(&self, base: &str, token: Option<&str>) -> Result<ScimClient, BenchError> {
        Ok(ScimClient {
            http: self.http.clone(),
            base: loopback_base(base)?,
            authorization: token.map(|t| format!("Bearer {t}")),
        })
    }

    /// Sends `method` to `base + path_and_query` with an optional SCIM JSON body.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Reply, BenchError> {
        let mut request = self
            .http
            .request(method, format!("{}{path_and_query}", self.base))
            .header("accept", SCIM_JSON);
        if let Some(auth) = &self.authorization {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", SCIM_JSON)
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?.to_vec();
        Ok(Reply { status, body })
    }

    /// GET.
    pub async fn get(&self, path_and_query: &str) -> Result<Reply, BenchError> {
        self.send(Method::GET, path_and_query, None).await
    }

    /// POST with a body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Reply, BenchError> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// PATCH with a body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Reply, BenchError> {
        self.send(Method::PATCH, path, Some(body)).await
    }
}

/// Checks `reply` has one of `expected` statuses; otherwise a [`BenchError::Unexpected`]
/// naming `what`.
pub fn expect_status(what: &str, reply: &Reply, expected: &[u16]) -> Result<(), BenchError> {
    if expected.contains(&reply.status) {
        Ok(())
    } else {
        Err(BenchError::Unexpected {
            what: what.to_string(),
            status: reply.status,
            body: reply.excerpt(),
        })
    }
}

/// The `id` of a created resource (the body of a 201).
pub fn created_id(what: &str, reply: &Reply) -> Result<String, BenchError> {
    expect_status(what, reply, &[201])?;
    reply
        .json()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| BenchError::Unexpected {
            what: format!("{what} (no id in the body)"),
            status: reply.status,
            body: reply.excerpt(),
        })
}

/// `totalResults` of a ListResponse.
pub fn total_results(what: &str, reply: &Reply) -> Result<u64, BenchError> {
    expect_status(what, reply, &[200])?;
    reply
        .json()
        .and_then(|v| v.get("totalResults").and_then(Value::as_u64))
        .ok_or_else(|| BenchError::Unexpected {
            what: format!("{what} (no totalResults)"),
            status: reply.status,
            body: reply.excerpt(),
        })
}
