//! Requests whose URL holds U+0000 are refused before any handler runs.
//!
//! `%00` in a path segment or a query parameter decodes to U+0000, which scimd
//! refuses in every value (`scimd_protocol::nul`: PostgreSQL cannot compare or store
//! it). Checking the raw URL once here covers every extractor behind it (tenant and
//! resource ids, `filter`, `attributes`, `sortBy`, the admin API's parameters),
//! instead of each of them learning about it. It is a layer inside the request
//! metrics and log (`ops::instrument`), so such a refusal is counted and logged like
//! any other 400, but outside the SCIM routes' provisioning log: the URL may not name
//! a tenant that can be trusted. (Alternated GET-by-id rounds put the layer's cost
//! within noise.)

use crate::admin::AdminError;
use crate::error::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use scimd_protocol::ScimError;

/// What the refusal says.
const DETAIL: &str = "the URL holds %00 (U+0000, NUL), which scimd does not accept in any value";

/// Whether URL text holds a percent-encoded NUL. `%00` is the only way a URL can carry
/// one: a raw NUL byte is not valid in a request line (hyper refuses it).
fn has_encoded_nul(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| w == b"%00")
}

/// The middleware: for a URL with `%00`, a 400 in the API's own error format
/// (problem details under `/admin/`, a SCIM error elsewhere); otherwise the request
/// goes on.
pub async fn refuse_nul_in_url(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if !has_encoded_nul(uri.path()) && !uri.query().is_some_and(has_encoded_nul) {
        return next.run(request).await;
    }
    if uri.path().starts_with("/admin/") {
        AdminError::bad_request(DETAIL).into_response()
    } else {
        ApiError::from(ScimError::invalid_value(DETAIL)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_percent_zero_zero_counts() {
        assert!(has_encoded_nul("/scim/v2/t/Users/a%00b"));
        assert!(has_encoded_nul("filter=userName%20eq%20%22%00%22"));
        assert!(!has_encoded_nul("/scim/v2/t/Users/a%0"));
        assert!(!has_encoded_nul("filter=userName%20eq%20%2200%22"));
        assert!(!has_encoded_nul("startIndex=100&count=200"));
    }
}
