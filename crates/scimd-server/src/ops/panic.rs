//! A panicking handler must not drop the connection or leak a stack trace: the client
//! gets a SCIM 500 (RFC 7644 §3.12) and the panic is logged with the request's span.

use crate::error::scim_error_response;
use axum::response::Response;
use scimd_protocol::ScimError;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// The function turning a panic payload into a response.
pub type PanicResponder = fn(Box<dyn Any + Send + 'static>) -> Response;

/// A layer that catches panics in the services it wraps.
pub fn catch_panic_layer() -> CatchPanicLayer<PanicResponder> {
    CatchPanicLayer::custom(panic_response as PanicResponder)
}

/// The SCIM 500 for a panic (its message goes to the server log, never to the client).
/// Also used by the provisioning log, which catches a handler's panic itself so that
/// the failed request is recorded like any other.
pub fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "handler panicked");
    scim_error_response(&ScimError::new(
        500,
        None,
        "internal error; see the server log",
    ))
}
