//! One HTTP/1.1 keep-alive client per scenario, shared by its workers: each worker
//! has at most one request in flight, so N workers use N pooled connections.
//!
//! It is hyper's connection API and a small pool, not a general HTTP client: the load
//! generator shares the machine's two cores with the server it loads, so it does no
//! more per request than it must (docs/benchmarks.md, items 34 and 37). No URL is
//! parsed per request, nothing is redirected or retried (a failed request is counted,
//! never resent), and every request has a deadline.

use crate::target::loopback_base;
use crate::BenchError;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpStream;

/// The SCIM media type (RFC 7644 §3.1).
const SCIM_JSON: HeaderValue = HeaderValue::from_static("application/scim+json");

/// A client bound to one SCIM base URL and bearer token.
#[derive(Clone)]
pub struct ScimClient {
    connections: Arc<Connections>,
    base: String,
    /// The base URL's path (`/scim/v2/acme`), which every request's path starts with.
    path: String,
    authorization: Option<HeaderValue>,
}

/// The idle connections to one origin.
struct Connections {
    /// `host:port`, for connecting and for the `Host` header.
    authority: String,
    host: HeaderValue,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    max_idle: usize,
    request_timeout: Duration,
}

impl Connections {
    fn take(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn give_back(&self, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if !sender.is_closed() && idle.len() < self.max_idle {
            idle.push(sender);
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, BenchError> {
        let failed = |e: &dyn std::fmt::Display| {
            BenchError::Client(format!("connecting to {}: {e}", self.authority))
        };
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| failed(&e))?;
        stream.set_nodelay(true).map_err(|e| failed(&e))?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed(&e))?;
        // The connection's I/O runs as its own task; it ends when the sender is dropped
        // or the server closes it.
        tokio::spawn(connection);
        Ok(sender)
    }
}

/// A response, read whole.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
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

/// Splits a loopback base URL into its authority (`127.0.0.1:8080`) and path.
fn authority_and_path(base: &str) -> Result<(String, String), BenchError> {
    let bad = |reason: String| BenchError::BadUrl {
        url: base.to_string(),
        reason,
    };
    let uri: hyper::Uri = base.parse().map_err(|e| bad(format!("{e}")))?;
    let authority = uri
        .authority()
        .ok_or_else(|| bad("no host".into()))?
        .as_str();
    let authority = if uri.port().is_some() {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, uri.path().trim_end_matches('/').to_string()))
}

fn bearer(token: Option<&str>) -> Result<Option<HeaderValue>, BenchError> {
    token
        .map(|t| {
            HeaderValue::try_from(format!("Bearer {t}"))
                .map_err(|e| BenchError::Client(format!("the token cannot be a header: {e}")))
        })
        .transpose()
}

impl ScimClient {
    /// A client for `base` (loopback only), keeping up to `connections` idle
    /// connections, with a per-request timeout (a stuck request must not stall a worker
    /// forever).
    pub fn new(
        base: &str,
        token: Option<&str>,
        connections: usize,
        request_timeout: Duration,
    ) -> Result<ScimClient, BenchError> {
        let base = loopback_base(base)?;
        let (authority, path) = authority_and_path(&base)?;
        let host = HeaderValue::try_from(authority.as_str())
            .map_err(|e| BenchError::Client(format!("{authority} cannot be a header: {e}")))?;
        Ok(ScimClient {
            connections: Arc::new(Connections {
                authority,
                host,
                idle: Mutex::new(Vec::new()),
                max_idle: connections.max(1),
                request_timeout,
            }),
            base,
            path,
            authorization: bearer(token)?,
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A client for another base URL (loopback only) and token: another tenant, or the
    /// admin API. On the same origin it shares this client's connections.
    pub fn for_base(&self, base: &str, token: Option<&str>) -> Result<ScimClient, BenchError> {
        let base = loopback_base(base)?;
        let (authority, path) = authority_and_path(&base)?;
        if authority != self.connections.authority {
            return ScimClient::new(
                &base,
                token,
                self.connections.max_idle,
                self.connections.request_timeout,
            );
        }
        Ok(ScimClient {
            connections: self.connections.clone(),
            base,
            path,
            authorization: bearer(token)?,
        })
    }

    /// Sends `method` to `base + path_and_query` with an optional SCIM JSON body.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Reply, BenchError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.path))
            .header(HOST, self.connections.host.clone())
            .header(ACCEPT, SCIM_JSON);
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let bytes = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, SCIM_JSON);
                // `to_vec` writes the JSON directly; `to_string` goes through `Display`.
                serde_json::to_vec(body).map_err(|source| BenchError::Json {
                    context: format!("serialising the body of {path_and_query}"),
                    source,
                })?
            }
            None => Vec::new(),
        };
        let request = request.body(Full::new(Bytes::from(bytes))).map_err(|e| {
            BenchError::Client(format!("building the request for {path_and_query}: {e}"))
        })?;
        let mut sender = match self.connections.take() {
            Some(sender) => sender,
            None => self.connections.connect().await?,
        };
        let exchange = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Reply { status, body })
        };
        let reply = tokio::time::timeout(self.connections.request_timeout, exchange)
            .await
            .map_err(|_| {
                BenchError::Client(format!(
                    "{path_and_query}: no answer within {:?}",
                    self.connections.request_timeout
                ))
            })?
            .map_err(|e| BenchError::Client(format!("{path_and_query}: {e}")))?;
        self.connections.give_back(sender);
        Ok(reply)
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

/// The one member of a response body a check needs; serde skips the rest without
/// building it (a whole `Value` per response was an eighth of the load generator's CPU).
#[derive(Deserialize)]
struct CreatedBody {
    id: String,
}

#[derive(Deserialize)]
struct ListBody {
    #[serde(rename = "totalResults")]
    total_results: u64,
}

/// The `id` of a created resource (the body of a 201).
pub fn created_id(what: &str, reply: &Reply) -> Result<String, BenchError> {
    expect_status(what, reply, &[201])?;
    serde_json::from_slice::<CreatedBody>(&reply.body)
        .ok()
        .map(|created| created.id)
        .ok_or_else(|| BenchError::Unexpected {
            what: format!("{what} (no id in the body)"),
            status: reply.status,
            body: reply.excerpt(),
        })
}

/// `totalResults` of a ListResponse.
pub fn total_results(what: &str, reply: &Reply) -> Result<u64, BenchError> {
    expect_status(what, reply, &[200])?;
    serde_json::from_slice::<ListBody>(&reply.body)
        .ok()
        .map(|list| list.total_results)
        .ok_or_else(|| BenchError::Unexpected {
            what: format!("{what} (no totalResults)"),
            status: reply.status,
            body: reply.excerpt(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    #[test]
    fn a_base_url_gives_the_authority_to_connect_to_and_the_path_of_every_request() {
        let split = |base: &str| authority_and_path(base).unwrap();
        assert_eq!(
            split("http://127.0.0.1:8080/scim/v2/acme/"),
            ("127.0.0.1:8080".to_string(), "/scim/v2/acme".to_string())
        );
        assert_eq!(
            split("http://[::1]:9/v2"),
            ("[::1]:9".to_string(), "/v2".to_string())
        );
        assert_eq!(
            split("http://localhost/v2"),
            ("localhost:80".to_string(), "/v2".to_string())
        );
        let client = ScimClient::new(
            "http://127.0.0.1:1/scim/v2/a",
            None,
            2,
            Duration::from_secs(1),
        )
        .unwrap();
        let other = client
            .for_base("http://127.0.0.1:1/admin/v1", Some("k"))
            .unwrap();
        assert!(
            Arc::ptr_eq(&client.connections, &other.connections),
            "one origin, one pool"
        );
        assert_eq!(other.path, "/admin/v1");
        let elsewhere = client
            .for_base("http://127.0.0.1:2/scim/v2/a", None)
            .unwrap();
        assert!(!Arc::ptr_eq(&client.connections, &elsewhere.connections));
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_not_a_hang() {
        // Port 1 on loopback: nothing listens there.
        let client =
            ScimClient::new("http://127.0.0.1:1/v2", None, 1, Duration::from_secs(5)).unwrap();
        assert!(matches!(
            client.get("/Users").await,
            Err(BenchError::Client(_))
        ));
    }

    #[test]
    fn a_created_id_is_read_from_a_201_only() {
        let body = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","meta":{"version":"W/\"1\""}}"#;
        assert_eq!(created_id("POST", &reply(201, body)).unwrap(), "u-1");
        assert!(created_id("POST", &reply(200, body)).is_err());
        assert!(created_id("POST", &reply(201, r#"{"userName":"a"}"#)).is_err());
        assert!(created_id("POST", &reply(201, r#"{"id":7}"#)).is_err());
        assert!(created_id("POST", &reply(201, "not json")).is_err());
    }

    #[test]
    fn total_results_is_read_from_a_list_response() {
        let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"Resources":[{"id":"x"}]}"#;
        assert_eq!(total_results("GET", &reply(200, body)).unwrap(), 3);
        assert!(total_results("GET", &reply(400, body)).is_err());
        assert!(total_results("GET", &reply(200, r#"{"Resources":[]}"#)).is_err());
        assert!(total_results("GET", &reply(200, r#"{"totalResults":-1}"#)).is_err());
    }
}
