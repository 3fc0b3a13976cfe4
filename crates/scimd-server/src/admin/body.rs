//! The admin API's JSON body extractor: failures are problem details, not axum's
//! plain-text rejections. An empty body reads as `{}`, so requests whose fields are
//! all optional need none.

use super::problem::AdminError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

/// A JSON request body.
#[derive(Debug)]
pub struct AdminJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AdminJson<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AdminError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        if let Some(media_type) = is_json {
            if media_type != "application/json" && !media_type.ends_with("+json") {
                return Err(AdminError::unsupported_media_type(
                    "send the body as application/json",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| AdminError::Status {
                status: e.status(),
                detail: e.body_text(),
            })?;
        let text: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        let value = serde_json::from_slice(text).map_err(|e| describe(&e))?;
        // Well-formed, but a value no backend can store (`scimd_protocol::nul`).
        if scimd_protocol::nul::json_has_nul(text) {
            return Err(AdminError::unprocessable(format!(
                "request body: {}",
                scimd_protocol::nul::NUL_REFUSED
            )));
        }
        Ok(AdminJson(value))
    }
}

/// Describes a body error without repeating values from the body (a secret pasted
/// into the wrong field must not come back): syntax errors are 400, well-formed JSON
/// of the wrong shape is 422.
fn describe(e: &serde_json::Error) -> AdminError {
    let at = format!("line {} column {}", e.line(), e.column());
    if !e.is_data() {
        return AdminError::bad_request(format!("request body is not valid JSON ({at})"));
    }
    let message = e.to_string();
    let detail = if message.starts_with("missing field") {
        // Names one of our fields, which is safe to repeat.
        message
    } else if let Some((_, expected)) = message.split_once(", expected ") {
        let expected = expected.split(" at line").next().unwrap_or(expected);
        format!("a field has an unusable value or name ({at}); expected {expected}")
    } else {
        format!("a field has an unusable value or name ({at})")
    };
    AdminError::unprocessable(format!("request body: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_do_not_repeat_values() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            enabled: bool,
        }
        for text in [
            r#"{"enabled": "s3cr3t"}"#,
            r#"{"s3cr3t": true}"#,
            r#"{"enabled": "#,
        ] {
            let err = serde_json::from_str::<Body>(text).unwrap_err();
            let shown = describe(&err).to_string();
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
        let missing = serde_json::from_str::<Body>("{}").unwrap_err();
        assert!(describe(&missing).to_string().contains("enabled"));
    }
}
