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
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use futures_util::future::{ready, Either, Ready};
use scimd_protocol::ScimError;
use std::convert::Infallible;
use std::task::{Context, Poll};

/// What the refusal says.
const DETAIL: &str = "the URL holds %00 (U+0000, NUL), which scimd does not accept in any value";

/// Whether URL text holds a percent-encoded NUL. `%00` is the only way a URL can carry
/// one: a raw NUL byte is not valid in a request line (hyper refuses it).
fn has_encoded_nul(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| w == b"%00")
}

/// For a URL with `%00`, a 400 in the API's own error format (problem details under
/// `/admin/`, a SCIM error elsewhere).
fn refusal(uri: &Uri) -> Option<Response> {
    if !has_encoded_nul(uri.path()) && !uri.query().is_some_and(has_encoded_nul) {
        return None;
    }
    Some(if uri.path().starts_with("/admin/") {
        AdminError::bad_request(DETAIL).into_response()
    } else {
        ApiError::from(ScimError::invalid_value(DETAIL)).into_response()
    })
}

/// The layer. A plain service rather than `axum::middleware::from_fn`: the check is
/// synchronous, and `from_fn` clones the inner service and boxes futures for every
/// request (about 1% of the server's CPU under `mixed`, docs/benchmarks.md item 67).
#[derive(Debug, Clone, Copy, Default)]
pub struct RefuseNulInUrlLayer;

impl<S> tower::Layer<S> for RefuseNulInUrlLayer {
    type Service = RefuseNulInUrl<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RefuseNulInUrl { inner }
    }
}

/// The service [`RefuseNulInUrlLayer`] wraps around each route.
#[derive(Debug, Clone)]
pub struct RefuseNulInUrl<S> {
    inner: S,
}

impl<S> tower::Service<Request> for RefuseNulInUrl<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match refusal(request.uri()) {
            Some(response) => Either::Left(ready(Ok(response))),
            None => Either::Right(self.inner.call(request)),
        }
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
