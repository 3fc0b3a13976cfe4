//! `POST /oauth/{tenant}/token`: the token endpoint (RFC 6749 §3.2) for the client
//! credentials grant (§4.4).
//!
//! A disabled tenant still gets tokens: the SCIM endpoints then answer 403 with the
//! reason, which is where an admin looks, and enabling provisioning again works at
//! once without the identity provider having to fetch a new token.

use super::clients::{self, ExchangeError};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use time::OffsetDateTime;

/// An error response of RFC 6749 §5.2.
#[derive(Debug)]
struct OAuthError {
    code: &'static str,
    description: String,
    /// Client authentication was attempted with HTTP Basic: §5.2 requires 401 with a
    /// `WWW-Authenticate` challenge then.
    basic_used: bool,
}

impl OAuthError {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            basic_used: false,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = if self.code == "invalid_client" && self.basic_used {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let body = json!({"error": self.code, "error_description": self.description});
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"scimd\""),
            );
        }
        response
    }
}

/// Client credentials from an `Authorization: Basic` header: base64 of
/// `id:secret`, each form-urlencoded first (RFC 6749 §2.3.1).
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |part: &str| -> String {
        form_urlencoded::parse(format!("v={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = (unescape(id), unescape(secret));
    // U+0000 (raw or `%00`) is no credential (`scimd_protocol::nul`).
    if id.contains('\0') || secret.contains('\0') {
        return None;
    }
    Some((id, secret))
}

/// The form parameters; §3.2: a parameter sent twice is an error.
fn form_parameters(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut params = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        // `%00` decodes to U+0000, which no backend can look up (`scimd_protocol::nul`).
        if name.contains('\0') || value.contains('\0') {
            return Err(OAuthError::new(
                "invalid_request",
                "a parameter holds U+0000 (NUL), which is not accepted",
            ));
        }
        if params
            .insert(name.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(OAuthError::new(
                "invalid_request",
                format!("parameter '{name}' is given more than once"),
            ));
        }
    }
    Ok(params)
}

pub(super) async fn token(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match exchange(&state, &tenant, &headers, &body).await {
        Ok(response) => response,
        Err(TokenError::OAuth(e)) => e.into_response(),
        Err(TokenError::Api(e)) => e.into_response(),
    }
}

enum TokenError {
    OAuth(OAuthError),
    Api(ApiError),
}

impl From<OAuthError> for TokenError {
    fn from(e: OAuthError) -> Self {
        TokenError::OAuth(e)
    }
}

async fn exchange(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, TokenError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(OAuthError::new(
            "invalid_request",
            "send the parameters as application/x-www-form-urlencoded (RFC 6749 §4.4.2)",
        )
        .into());
    }
    let params = form_parameters(body)?;
    match params.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            )
            .into())
        }
        None => {
            return Err(OAuthError::new("invalid_request", "grant_type is missing").into());
        }
    }

    let basic =
        match headers.get(header::AUTHORIZATION) {
            Some(value) => Some(value.to_str().ok().and_then(basic_credentials).ok_or_else(
                || OAuthError {
                    basic_used: true,
                    ..OAuthError::new(
                        "invalid_client",
                        "the Authorization header must be HTTP Basic with client id and secret",
                    )
                },
            )?),
            None => None,
        };
    let in_body = (params.get("client_id"), params.get("client_secret"));
    let basic_used = basic.is_some();
    // §2.3: a client must not use more than one authentication method per request.
    let (client_id, client_secret) = match (basic, in_body) {
        (Some(_), (_, Some(_))) => return Err(OAuthError::new(
            "invalid_request",
            "send the client secret either in the Authorization header or in the body, not both",
        )
        .into()),
        (Some((id, secret)), (body_id, None)) => {
            if body_id.is_some_and(|b| *b != id) {
                return Err(OAuthError::new(
                    "invalid_request",
                    "client_id in the body differs from the one in the Authorization header",
                )
                .into());
            }
            (id, secret)
        }
        (None, (Some(id), Some(secret))) => (id.clone(), secret.clone()),
        (None, _) => {
            return Err(OAuthError::new(
                "invalid_client",
                "client authentication is missing: use HTTP Basic or client_id and client_secret",
            )
            .into())
        }
    };

    let lifetime = state.config().oauth_access_token_lifetime;
    let lifetime_seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
    let result = clients::exchange(
        state.store(),
        tenant,
        &client_id,
        &client_secret,
        time::Duration::seconds(lifetime_seconds),
        OffsetDateTime::now_utc(),
    )
    .await;
    let issued = match result {
        Ok(issued) => issued,
        Err(ExchangeError::InvalidClient) => {
            return Err(OAuthError {
                basic_used,
                ..OAuthError::new("invalid_client", "client authentication failed")
            }
            .into())
        }
        Err(ExchangeError::Store(e)) => return Err(TokenError::Api(e.into())),
    };
    let body = json!({
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": lifetime_seconds,
    });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // §5.1: the token must not be cached.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20id:s%3Acret+x"));
        assert_eq!(
            basic_credentials(&header),
            Some(("my id".to_owned(), "s:cret x".to_owned()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        let nul = format!("Basic {}", STANDARD.encode("id%00:secret"));
        assert_eq!(basic_credentials(&nul), None);
        let raw = format!("Basic {}", STANDARD.encode("id:sec\0ret"));
        assert_eq!(basic_credentials(&raw), None);
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(form_parameters(b"grant_type=a&grant_type=b").is_err());
        let ok = form_parameters(b"grant_type=client_credentials&client_id=x").unwrap();
        assert_eq!(ok["client_id"], "x");
    }

    #[test]
    fn nul_in_a_parameter_is_refused() {
        let err = form_parameters(b"grant_type=client_credentials&client_id=a%00b").unwrap_err();
        assert_eq!(err.code, "invalid_request");
        assert!(form_parameters(b"grant_type=client_credentials&client_%00id=x").is_err());
    }
}
