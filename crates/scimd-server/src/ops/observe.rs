//! The per-request middleware: request id, tracing span, one log line, metrics.
//!
//! What is logged is chosen for privacy: the route *template* (never the raw path or
//! query string, since a SCIM filter such as `userName eq "jane@example.com"` is
//! personal data), the method, status, latency and request id. Headers and bodies are
//! never logged, so neither is the `Authorization` header.

use super::metrics::{self, UNMATCHED_ROUTE};
use super::request_id::{self, REQUEST_ID_HEADER};
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::response::Response;
use pin_project_lite::pin_project;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

/// The layer ([`crate::ops::instrument`] puts it around every route). A service of its
/// own rather than `axum::middleware::from_fn`, which clones the inner service and
/// boxes two futures for every request (docs/benchmarks.md, item 67).
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe { inner }
    }
}

/// Serves one request inside a span carrying its id, method and route template, then
/// logs its outcome, records its metrics and echoes its id in `x-request-id`.
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
}

impl<S> tower::Service<Request> for Observe<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ObservedResponse<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let request_id = request_id::for_request(request.headers());
        let method = metrics::method_label(request.method());
        // `MatchedPath` is a shared string: cloning it copies no text.
        let matched = request.extensions().get::<MatchedPath>().cloned();
        let route = matched
            .as_ref()
            .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
        let header_value = HeaderValue::from_str(&request_id.0).ok();
        // Handlers see the effective id (a replaced insane one is gone for good).
        match &header_value {
            Some(value) => request
                .headers_mut()
                .insert(REQUEST_ID_HEADER, value.clone()),
            None => request.headers_mut().remove(REQUEST_ID_HEADER),
        };
        let span = tracing::info_span!(
            "request",
            request_id = %request_id.0,
            method,
            route = %route,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        request.extensions_mut().insert(request_id);
        // The inner services' own `call`s run now, not at the first poll: in the span
        // too, so whatever they log carries the request id.
        let inner = span.in_scope(|| self.inner.call(request));
        ObservedResponse {
            inner: inner.instrument(span.clone()),
            finish: Some(Finish {
                started,
                method,
                matched,
                header_value,
                span,
            }),
        }
    }
}

/// What is left to do once the response is there.
#[derive(Debug)]
struct Finish {
    started: Instant,
    method: &'static str,
    matched: Option<MatchedPath>,
    header_value: Option<HeaderValue>,
    span: Span,
}

impl Finish {
    fn finish(self, response: &mut Response) {
        let elapsed = self.started.elapsed();
        let status = response.status().as_u16();
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        let route = self
            .matched
            .as_ref()
            .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
        self.span.record("status", status);
        self.span.record("latency_ms", latency_ms);
        metrics::record_request(self.method, route, status, elapsed);
        self.span.in_scope(|| {
            if status >= 500 {
                tracing::error!("request failed");
            } else {
                tracing::info!("request finished");
            }
        });
        if let Some(value) = self.header_value {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
    }
}

pin_project! {
    /// The response of [`Observe`]: the inner service's, in the request's span, with
    /// the outcome logged and counted when it is ready.
    pub struct ObservedResponse<F> {
        #[pin]
        inner: Instrumented<F>,
        finish: Option<Finish>,
    }
}

impl<F> Future for ObservedResponse<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(mut response) = ready!(this.inner.poll(cx));
        if let Some(finish) = this.finish.take() {
            finish.finish(&mut response);
        }
        Poll::Ready(Ok(response))
    }
}
