//! The bare endpoint: scimd's HTTP stack (tokio, hyper, axum; same release profile)
//! answering every request with a fixed small SCIM-looking JSON body, no routing
//! logic, no auth, no database. What it serves per second is the ceiling of the
//! machine for this client, the number a real handler is compared with.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;

/// The body every request gets.
pub const BODY: &str = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"bare","userName":"bare@bench.example","active":true,"meta":{"resourceType":"User"}}"#;

async fn fixed() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/scim+json")], BODY)
}

/// The router: every method on every path answers 200 with [`BODY`].
pub fn app() -> Router {
    Router::new().fallback(fixed)
}

/// Serves [`app`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
}
