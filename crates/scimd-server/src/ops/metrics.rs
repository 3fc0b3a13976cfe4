//! The Prometheus recorder and the request metrics.
//!
//! `metrics` has one global recorder per process, and tests start many servers in one
//! process, so the recorder is installed once and its handle kept in a `OnceLock`.
//!
//! Label cardinality is bounded by construction: `route` is a route *template* (or
//! `unmatched`), `method` one of the standard methods (or `OTHER`) and `status` a
//! three-digit code. Tenant ids, resource ids and raw paths never become labels.

use axum::http::Method;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::Duration;

/// Counter of finished requests, labelled `method`, `route`, `status`.
pub const REQUESTS_TOTAL: &str = "scimd_http_requests_total";
/// Histogram of request durations in seconds, labelled `method`, `route`.
pub const REQUEST_DURATION_SECONDS: &str = "scimd_http_request_duration_seconds";
/// The `route` label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Histogram buckets in seconds: from a cached read (1 ms) to a large Bulk (10 s).
const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder if no recorder is installed yet, and returns its
/// handle. Safe to call any number of times, from any thread.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        // Without explicit buckets the exporter renders summaries, which cannot be
        // aggregated across instances; buckets only fail to apply when empty.
        let builder = match PrometheusBuilder::new().set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION_SECONDS.into()),
            &DURATION_BUCKETS,
        ) {
            Ok(with_buckets) => with_buckets,
            Err(e) => {
                tracing::warn!(error = %e, "histogram buckets refused; durations will be summaries");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            // Someone else (an embedding application) owns the global recorder; our
            // metrics go there and /metrics stays empty.
            tracing::warn!(error = %e, "a metrics recorder is already installed; /metrics will be empty");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        "HTTP requests finished, by method, route template and status."
    );
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "HTTP request duration, by method and route template."
    );
}

/// The current metrics in the Prometheus text format.
pub fn render() -> String {
    install().render()
}

/// Sets the database pool gauges (`scimd_db_pool_connections{pool, state}` and
/// `scimd_db_pool_max_connections{pool}`), sampled when `/metrics` is scraped. The
/// `pool` label takes the store's fixed pool names only.
pub fn record_pools(pools: &[scimd_store::PoolStatus]) {
    for pool in pools {
        let in_use = pool.open.saturating_sub(pool.idle);
        metrics::gauge!("scimd_db_pool_connections", "pool" => pool.name, "state" => "idle")
            .set(f64::from(pool.idle));
        metrics::gauge!("scimd_db_pool_connections", "pool" => pool.name, "state" => "in_use")
            .set(f64::from(in_use));
        metrics::gauge!("scimd_db_pool_max_connections", "pool" => pool.name)
            .set(f64::from(pool.max));
    }
}

/// Drains histogram samples into their buckets; the server calls this periodically so
/// memory stays bounded even when nobody scrapes `/metrics`.
pub fn run_upkeep() {
    install().run_upkeep();
}

/// The `method` label: standard methods as they are, anything else `OTHER`, so a
/// client inventing methods cannot create label values.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// Records one finished request.
pub fn record_request(method: &'static str, route: &str, status: u16, elapsed: Duration) {
    // Before the recorder is installed, `metrics` drops samples silently; installing
    // here (one atomic load once done) means no request can go uncounted.
    install();
    let (requests, duration) = request_handles(method, route, status);
    requests.increment(1);
    duration.record(elapsed.as_secs_f64());
}

/// The handles of one (method, route, status), each registered once.
type RequestHandles = (Counter, Histogram);

/// Registered handles by route template, then method and status. Asking the recorder
/// for a handle builds its label set (three owned strings) and looks it up on every
/// call, about 2% of a GET by id's CPU (docs/benchmarks.md, item 29); this map is read
/// under a shared lock with the route as a `&str`. Its size is bounded like the label
/// values (see the module docs).
static REQUEST_HANDLES: OnceLock<RwLock<HashMap<Box<str>, Vec<RouteHandles>>>> = OnceLock::new();

#[derive(Clone)]
struct RouteHandles {
    method: &'static str,
    status: u16,
    handles: RequestHandles,
}

fn request_handles(method: &'static str, route: &str, status: u16) -> RequestHandles {
    let map = REQUEST_HANDLES.get_or_init(Default::default);
    let find = |entries: &[RouteHandles]| {
        entries
            .iter()
            .find(|e| e.method == method && e.status == status)
            .map(|e| e.handles.clone())
    };
    // A poisoned lock only means another thread panicked while inserting; the map
    // itself is still whole (an insert is one push).
    if let Some(found) = map
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(route)
        .and_then(|entries| find(entries))
    {
        return found;
    }
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    let entries = map.entry(route.into()).or_default();
    if let Some(found) = find(entries) {
        return found;
    }
    let handles = (
        metrics::counter!(
            REQUESTS_TOTAL,
            "method" => method,
            "route" => route.to_owned(),
            "status" => status.to_string()
        ),
        metrics::histogram!(REQUEST_DURATION_SECONDS, "method" => method, "route" => route.to_owned()),
    );
    entries.push(RouteHandles {
        method,
        status,
        handles: handles.clone(),
    });
    handles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"SNOOP").unwrap();
        assert_eq!(method_label(&invented), "OTHER");
    }

    #[test]
    fn recorded_requests_are_rendered_with_their_labels() {
        record_request("GET", "/unit-test/{id}", 204, Duration::from_millis(3));
        let text = render();
        assert!(
            text.lines().any(|l| l.starts_with(REQUESTS_TOTAL)
                && l.contains(r#"route="/unit-test/{id}""#)
                && l.contains(r#"status="204""#)),
            "{text}"
        );
        assert!(
            text.contains(&format!("{REQUEST_DURATION_SECONDS}_bucket")),
            "{text}"
        );
    }

    /// The cached handles count each (method, route, status) apart and keep counting
    /// into the same series.
    #[test]
    fn cached_handles_keep_series_apart() {
        let route = "/unit-test/cached/{id}";
        let count = |status: &str, method: &str| -> u64 {
            render()
                .lines()
                .find(|l| {
                    l.starts_with(REQUESTS_TOTAL)
                        && l.contains(&format!(r#"route="{route}""#))
                        && l.contains(&format!(r#"status="{status}""#))
                        && l.contains(&format!(r#"method="{method}""#))
                })
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        for _ in 0..3 {
            record_request("GET", route, 200, Duration::from_millis(1));
        }
        record_request("GET", route, 404, Duration::from_millis(1));
        record_request("PUT", route, 200, Duration::from_millis(1));
        assert_eq!(count("200", "GET"), 3);
        assert_eq!(count("404", "GET"), 1);
        assert_eq!(count("200", "PUT"), 1);
    }
}
