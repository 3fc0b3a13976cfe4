//! The SQLite floor: scimd's HTTP stack (tokio, hyper, axum; glibc's allocator, as
//! [`crate::bare`]) serving `GET /Users/{id}` with only the database work such a read
//! cannot avoid: the bearer token's SHA-256 looked up in a token table, the user's
//! row read by primary key, its stored JSON parsed, given `id` and `meta`, and
//! serialised. No tenant records, no token expiry, no provisioning log, no metrics, no
//! lenient request reader, no schema-driven rendering.
//!
//! Side by side with [`crate::bare`] (no database at all) and with scimd, it splits the
//! distance between scimd and the machine's ceiling into what the two point reads cost
//! and what the rest of scimd's request pipeline costs (docs/benchmarks.md).
//!
//! `POST /Users` stores a body under a fresh id (how the scenario seeds its users);
//! `GET /healthz` answers once it listens.
//! Everything lives in one SQLite file in WAL mode; reads run inline on the runtime's
//! workers, each on a pooled read-only connection, as scimd's do.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

/// The database: one writer connection, a pool of read-only ones.
struct FloorDb {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

type Shared = Arc<FloorDb>;

/// Why a floor request failed; every failure is a plain status (the floor is a
/// measuring stick, not a SCIM server).
fn fail(status: StatusCode) -> Response {
    status.into_response()
}

impl FloorDb {
    fn open(path: &FsPath, token: &str) -> rusqlite::Result<Self> {
        let writer = Connection::open(path)?;
        writer.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS users (
                 id TEXT PRIMARY KEY, body TEXT NOT NULL, version INTEGER NOT NULL);",
        )?;
        writer.execute(
            "INSERT OR IGNORE INTO tokens (hash) VALUES (?1)",
            [token_hash(token)],
        )?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Runs `read` on a pooled read-only connection (opened on first need).
    fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let pooled = self.readers.lock().ok()?.pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ok()?,
        };
        let result = read(&conn).ok();
        if let Ok(mut readers) = self.readers.lock() {
            readers.push(conn);
        }
        result
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn authorised(db: &FloorDb, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let hash = token_hash(token);
    db.read(|conn| {
        conn.prepare_cached("SELECT 1 FROM tokens WHERE hash = ?1")?
            .query_row([&hash], |_| Ok(()))
            .optional()
    })
    .flatten()
    .is_some()
}

async fn get_user(
    State(db): State<Shared>,
    Path((_tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&db, &headers) {
        return fail(StatusCode::UNAUTHORIZED);
    }
    let row = db.read(|conn| {
        conn.prepare_cached("SELECT body, version FROM users WHERE id = ?1")?
            .query_row([&id], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .optional()
    });
    let Some(Some((body, version))) = row else {
        return fail(StatusCode::NOT_FOUND);
    };
    let Ok(mut doc) = serde_json::from_str::<Value>(&body) else {
        return fail(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let etag = format!("W/\"{version}\"");
    doc["id"] = Value::String(id.clone());
    doc["meta"] = json!({
        "resourceType": "User",
        "location": format!("http://127.0.0.1/scim/v2/floor/Users/{id}"),
        "version": etag,
    });
    let mut out = Vec::with_capacity(1024);
    if serde_json::to_writer(&mut out, &doc).is_err() {
        return fail(StatusCode::INTERNAL_SERVER_ERROR);
    }
    let mut response = out.into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    response
}

async fn post_user(State(db): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorised(&db, &headers) {
        return fail(StatusCode::UNAUTHORIZED);
    }
    let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else {
        return fail(StatusCode::BAD_REQUEST);
    };
    let id = uuid::Uuid::now_v7().to_string();
    let stored = {
        let Ok(writer) = db.writer.lock() else {
            return fail(StatusCode::INTERNAL_SERVER_ERROR);
        };
        writer.execute(
            "INSERT INTO users (id, body, version) VALUES (?1, ?2, 1)",
            (&id, doc.to_string()),
        )
    };
    if stored.is_err() {
        return fail(StatusCode::INTERNAL_SERVER_ERROR);
    }
    doc["id"] = Value::String(id);
    (
        StatusCode::CREATED,
        [(CONTENT_TYPE, "application/scim+json")],
        doc.to_string(),
    )
        .into_response()
}

/// The router over a database at `db_path` that accepts the bearer token `token`.
pub fn app(db_path: &FsPath, token: &str) -> rusqlite::Result<Router> {
    let db: Shared = Arc::new(FloorDb::open(db_path, token)?);
    Ok(Router::new()
        .route("/scim/v2/{tenant}/Users/{id}", get(get_user))
        .route("/scim/v2/{tenant}/Users", post(post_user))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(db))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn stores_and_reads_a_user_and_refuses_a_wrong_token() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(&dir.path().join("floor.db"), "secret").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        let base = format!("http://{addr}/scim/v2/t");

        let created: Value = client
            .post(format!("{base}/Users"))
            .bearer_auth("secret")
            .body(r#"{"userName":"ada@example.com"}"#)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap();

        let read = client
            .get(format!("{base}/Users/{id}"))
            .bearer_auth("secret")
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200);
        assert_eq!(read.headers()[ETAG], "W/\"1\"");
        let read: Value = read.json().await.unwrap();
        assert_eq!(read["userName"], "ada@example.com");
        assert_eq!(read["id"], id);
        assert_eq!(read["meta"]["resourceType"], "User");

        let refused = client
            .get(format!("{base}/Users/{id}"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        let missing = client
            .get(format!("{base}/Users/nobody"))
            .bearer_auth("secret")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        server.abort();
    }
}
