//! The probes' HTTP client: one plain-http GET with exactly the headers Entra's Test
//! Connection sends (`Host`, `Authorization`, `User-Agent`) and nothing else: no
//! `Accept` and no `Content-Type` (idp-clients.md). General clients add `Accept: */*`
//! by themselves, which would test a request Entra never sends, so this speaks HTTP/1.1
//! through hyper's connection API directly.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// The most body a probe reads: a SCIM answer to a probe is small, and a proxy's error
/// page or a stray download must not fill memory.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What came back.
#[derive(Debug)]
pub(super) struct ProbeResponse {
    pub status: u16,
    pub content_type: String,
    pub request_id: Option<String>,
    pub body: String,
}

/// Why no HTTP answer came back.
#[derive(Debug, thiserror::Error)]
pub(super) enum TransportError {
    #[error("'{0}' is not a valid http URL")]
    InvalidUrl(String),
    #[error("timed out")]
    Timeout,
    #[error("could not resolve the host name: {0}")]
    Resolve(std::io::Error),
    #[error("could not connect: {0}")]
    Connect(std::io::Error),
    #[error("HTTP exchange failed: {0}")]
    Http(String),
}

/// `host:port` of an http URL, for messages and for connecting.
pub(super) fn authority(url: &str) -> Option<(String, u16)> {
    let uri: hyper::Uri = url.parse().ok()?;
    if uri.scheme_str() != Some("http") {
        return None;
    }
    let host = uri.host()?;
    // `[::1]` in a URL is `::1` to the resolver.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Some((host, uri.port_u16().unwrap_or(80)))
}

/// Sends one GET, all of it (connect, exchange, body) bounded by `timeout`.
pub(super) async fn get(
    url: &str,
    token: &str,
    user_agent: &str,
    timeout: Duration,
) -> Result<ProbeResponse, TransportError> {
    tokio::time::timeout(timeout, exchange(url, token, user_agent))
        .await
        .map_err(|_| TransportError::Timeout)?
}

async fn exchange(
    url: &str,
    token: &str,
    user_agent: &str,
) -> Result<ProbeResponse, TransportError> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| TransportError::InvalidUrl(url.to_owned()))?;
    let (host, port) = authority(url).ok_or_else(|| TransportError::InvalidUrl(url.to_owned()))?;
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(TransportError::Resolve)?
        .collect();
    let mut last_error = None;
    let mut stream = None;
    for address in addresses {
        match tokio::net::TcpStream::connect(address).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let stream = match (stream, last_error) {
        (Some(stream), _) => stream,
        (None, Some(e)) => return Err(TransportError::Connect(e)),
        (None, None) => {
            return Err(TransportError::Resolve(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the name has no address",
            )))
        }
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| TransportError::Http(e.to_string()))?;
    // The connection task ends when the exchange is over (or the probe times out and the
    // runtime drops it).
    tokio::spawn(connection);
    let host_header = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| host.clone());
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let request = Request::get(path_and_query)
        .header(hyper::header::HOST, host_header)
        .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(hyper::header::USER_AGENT, user_agent)
        .body(Empty::<Bytes>::new())
        .map_err(|_| TransportError::InvalidUrl(url.to_owned()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| TransportError::Http(e.to_string()))?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status().as_u16();
    let content_type = header("content-type").unwrap_or_default();
    let request_id = header("x-request-id");
    let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| TransportError::Http(format!("reading the body: {e}")))?
        .to_bytes();
    Ok(ProbeResponse {
        status,
        content_type,
        request_id,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
