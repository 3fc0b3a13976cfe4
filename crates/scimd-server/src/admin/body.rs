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
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        if let Some(media_type) = is_json {
            if media_type != "application/json" && !media_type.ends_with("+json") {
                return Err(AdminError::unsupported_media_type(
                    "send the body as application/json",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            AdminError::Status {
                status: e.status(),
                detail: e.body_text(),
            }
        })?;
        let text: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        serde_json::from_slice(text).map(AdminJson).map_err(|e| {
            // Syntax errors are malformed requests; well-formed JSON of the wrong
            // shape or with bad values is unprocessable.
            if e.is_data() {
                AdminError::unprocessable(format!("request body: {e}"))
            } else {
                AdminError::bad_request(format!("request body is not valid JSON: {e}"))
            }
        })
    }
}
