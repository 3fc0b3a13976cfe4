//! What the server logs: every line of a request carries its id, and no line ever
//! contains a bearer token, a header, a query string or personal data from a filter.
//!
//! The capturing subscriber records every field of every span and event, whatever a
//! formatter would later choose to print, so it is stricter than any real log format.

mod ops_support;

use ops_support::OpsServer;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Renders fields as `name=value` pairs.
struct FieldText<'a>(&'a mut String);

impl Visit for FieldText<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!(" {}={:?}", field.name(), value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_str(&format!(" {}={}", field.name(), value));
    }
}

thread_local! {
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// A subscriber writing one line per event: the fields of every entered span, then
/// the event's own fields.
#[derive(Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    spans: Arc<Mutex<HashMap<u64, String>>>,
    next_id: Arc<AtomicU64>,
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut text = attrs.metadata().name().to_owned();
        attrs.record(&mut FieldText(&mut text));
        self.spans.lock().unwrap().insert(id, text);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(text) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut FieldText(text));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let spans = self.spans.lock().unwrap();
        let mut line = ENTERED.with(|stack| {
            stack
                .borrow()
                .iter()
                .filter_map(|id| spans.get(id).cloned())
                .collect::<Vec<_>>()
                .join(": ")
        });
        line.push_str(&format!(" {}:", event.metadata().target()));
        event.record(&mut FieldText(&mut line));
        self.lines.lock().unwrap().push(line);
    }
    fn enter(&self, span: &Id) {
        ENTERED.with(|stack| stack.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, span: &Id) {
        ENTERED.with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(at) = stack.iter().rposition(|id| *id == span.into_u64()) {
                stack.remove(at);
            }
        });
    }
}

// One test in this file: the subscriber is process-global (the server's tasks run on
// other threads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_logs_carry_the_request_id_and_never_secrets_or_personal_data() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(capture.clone()).unwrap();
    let server = OpsServer::start().await;
    let personal = "jane.doe@example.com";

    let mut ids = Vec::new();
    let requests = [
        format!("/scim/v2/acme/Users?filter=userName%20eq%20%22{personal}%22"),
        "/scim/v2/acme/Users/2819c223-7f76-453a-919d-413861904646".to_owned(),
        format!("/no/such/{personal}"),
        "/healthz".to_owned(),
    ];
    for (n, path) in requests.iter().enumerate() {
        let request_id = format!("logtest-{n}");
        let resp = server
            .client
            .get(format!("{}{path}", server.origin))
            .bearer_auth(&server.token)
            .header("x-request-id", &request_id)
            .header("x-personal", personal)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["x-request-id"], request_id.as_str());
        ids.push(request_id);
    }
    // A bad token too: the rejection must not echo it.
    let bad_token = "scimd_zzzzzzzz_not-a-real-secret-value";
    server
        .client
        .get(format!("{}/scim/v2/acme/Users", server.origin))
        .bearer_auth(bad_token)
        .send()
        .await
        .unwrap();
    server.lose_database().await;
    server.get("/readyz").await;

    let lines = capture.lines.lock().unwrap().clone();
    for id in &ids {
        let finished: Vec<_> = lines
            .iter()
            .filter(|l| l.contains(&format!("request_id={id}")))
            .collect();
        assert!(
            !finished.is_empty(),
            "no log line for {id}:\n{}",
            lines.join("\n")
        );
        for line in finished {
            assert!(
                line.contains("method=GET") && line.contains("route="),
                "{line}"
            );
        }
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=/healthz") && l.contains("status=200")),
        "{}",
        lines.join("\n")
    );
    // The readiness warning is emitted inside the request's span.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=/readyz") && l.contains("not ready")),
        "{}",
        lines.join("\n")
    );
    // The secret is base64url and may itself contain '_': split as the server does.
    let (_, secret_part) = scimd_server::tokens::split_token(&server.token).unwrap();
    for line in &lines {
        for forbidden in [
            server.token.as_str(),
            secret_part,
            bad_token,
            personal,
            "Bearer",
            "filter=",
        ] {
            assert!(
                !line.contains(forbidden),
                "{forbidden:?} in log line: {line}"
            );
        }
    }
}
