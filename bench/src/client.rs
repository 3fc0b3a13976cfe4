//! One HTTP/1.1 keep-alive client per scenario, shared by its workers: each worker
//! has at most one request in flight, so N workers use N pooled connections.

use crate::target::loopback_base;
use crate::BenchError;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// The SCIM media type (RFC 7644 §3.1).
const SCIM_JSON: HeaderValue = HeaderValue::from_static("application/scim+json");

/// A client bound to one SCIM base URL and bearer token.
#[derive(Clone)]
pub struct ScimClient {
    http: reqwest::Client,
    base: String,
    /// `base` parsed once: each request's URL is this one with its path and query
    /// set, which skips parsing the scheme and host again (a full parse per request
    /// was 8% of the load generator's CPU under entra-cycle).
    base_url: Url,
    authorization: Option<HeaderValue>,
}

/// `Bearer <token>` as a header value, marked sensitive (never shown in debug output).
fn bearer(token: Option<&str>) -> Result<Option<HeaderValue>, BenchError> {
    token
        .map(|token| {
            let mut value = HeaderValue::try_from(format!("Bearer {token}"))
                .map_err(|_| BenchError::BadToken)?;
            value.set_sensitive(true);
            Ok(value)
        })
        .transpose()
}

/// `base` (already checked by [`loopback_base`]) parsed.
fn parse_base(base: &str) -> Result<Url, BenchError> {
    Url::parse(base).map_err(|e| BenchError::BadUrl {
        url: base.to_string(),
        reason: e.to_string(),
    })
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
        // The load generator shares the machine's two cores with the server it loads,
        // so it does no more per request than it must: HTTP/1.1 only, no redirects to
        // follow, no retries (a failed request is counted, never resent).
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1))
            .tcp_nodelay(true)
            .timeout(request_timeout)
            .no_proxy()
            .http1_only()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .build()?;
        Ok(ScimClient {
            http,
            base_url: parse_base(&base)?,
            base,
            authorization: bearer(token)?,
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A client for another base URL (loopback only) and token on the same
    /// connections: another tenant, or the admin API.
    pub fn for_base(&self, base: &str, token: Option<&str>) -> Result<ScimClient, BenchError> {
        let base = loopback_base(base)?;
        Ok(ScimClient {
            http: self.http.clone(),
            base_url: parse_base(&base)?,
            base,
            authorization: bearer(token)?,
        })
    }

    /// `base + path_and_query` as a URL, the same one parsing the joined text gives.
    fn url(&self, path_and_query: &str) -> Url {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let mut url = self.base_url.clone();
        let base_path = self.base_url.path().trim_end_matches('/');
        url.set_path(&format!("{base_path}{path}"));
        url.set_query(query);
        url
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
            .request(method, self.url(path_and_query))
            .header(ACCEPT, SCIM_JSON);
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        if let Some(body) = body {
            // `to_vec` writes the JSON directly; `to_string` goes through `Display`.
            let bytes = serde_json::to_vec(body).map_err(|source| BenchError::Json {
                context: format!("serialising the body of {path_and_query}"),
                source,
            })?;
            request = request.header(CONTENT_TYPE, SCIM_JSON).body(bytes);
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
            body: body.as_bytes().to_vec(),
        }
    }

    /// The URL built from the parsed base is the one parsing the joined text gives,
    /// byte for byte, so the requests on the wire are the same.
    #[test]
    fn request_urls_match_parsing_the_joined_text() {
        let duration = Duration::from_secs(1);
        for base in [
            "http://127.0.0.1:8080/scim/v2/t1",
            "http://127.0.0.1:8080/scim/v2/t1/",
            "http://[::1]:9/",
            "http://localhost:9",
        ] {
            let client = ScimClient::new(base, Some("scimd_a_b"), 1, duration).unwrap();
            for path in [
                "/Users",
                "/Users/0194f1d2-aaaa-7bbb-8ccc-000000000001",
                "/Users?filter=userName+eq+%22run.u1%40bench.example%22",
                "/Groups?filter=displayName eq \"run group 1\"&excludedAttributes=members",
                "/Users?startIndex=101&count=100",
                "/Users?",
            ] {
                let joined = Url::parse(&format!("{}{path}", client.base())).unwrap();
                assert_eq!(
                    client.url(path).as_str(),
                    joined.as_str(),
                    "{base} + {path}"
                );
            }
        }
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
