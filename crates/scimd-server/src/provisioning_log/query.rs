//! Listing a tenant's provisioning log for admins: the parameters of
//! `GET /admin/v1/tenants/{id}/logs` and `scimd logs`, and the JSON they answer.
//!
//! `since` and `until` take an RFC 3339 time or an age (`90s`, `30m`, `1h`, `7d`,
//! `2w`: that long before now); `status` takes `2xx`, `4xx`, `5xx` or `errors`;
//! `client` takes `entra`, `okta` or `other`.

use scimd_store::{LogClient, LogEntry, LogPage, LogQuery, StatusClass, Store, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The query parameters, as text (from a URL or from CLI flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct LogListParams {
    /// Entries at or after this time (RFC 3339 or an age such as `1h`).
    pub since: Option<String>,
    /// Entries before this time (RFC 3339 or an age).
    pub until: Option<String>,
    /// `2xx`, `4xx`, `5xx` or `errors`.
    pub status: Option<String>,
    /// `entra`, `okta` or `other`.
    pub client: Option<String>,
    /// A resource id.
    pub resource: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (default 50, at most 1000).
    pub limit: Option<u32>,
}

/// Why a log listing failed.
#[derive(Debug, thiserror::Error)]
pub enum LogQueryError {
    /// A parameter is malformed (400).
    #[error("{0}")]
    InvalidParameter(String),
    /// The tenant does not exist (404).
    #[error("no tenant '{0}'")]
    UnknownTenant(String),
    /// The store failed (or refused the cursor).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LogQueryError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            LogQueryError::InvalidParameter(_) => 400,
            LogQueryError::UnknownTenant(_) => 404,
            LogQueryError::Store(StoreError::Scim(e)) => e.status,
            LogQueryError::Store(StoreError::Unavailable(_)) => 503,
            LogQueryError::Store(StoreError::Database(_)) => 500,
        }
    }

    /// The message for the client (internal causes are not returned).
    pub fn detail(&self) -> String {
        match self {
            LogQueryError::Store(StoreError::Scim(e)) => e.detail.clone(),
            LogQueryError::Store(StoreError::Unavailable(_)) => {
                "the database is unavailable; retry later".into()
            }
            LogQueryError::Store(StoreError::Database(_)) => {
                "internal error; see the server log".into()
            }
            other => other.to_string(),
        }
    }
}

impl LogListParams {
    /// The store query these parameters mean, as of `now`.
    pub fn to_query(&self, now: OffsetDateTime) -> Result<LogQuery, LogQueryError> {
        let time = |name: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| parse_time(t, now))
                .transpose()
                .map_err(|e| LogQueryError::InvalidParameter(format!("{name}: {e}")))
        };
        let status = self
            .status
            .as_deref()
            .map(|s| {
                StatusClass::parse(s).ok_or_else(|| {
                    LogQueryError::InvalidParameter(format!(
                        "status: '{s}' is not one of 2xx, 4xx, 5xx, errors"
                    ))
                })
            })
            .transpose()?;
        let client = self
            .client
            .as_deref()
            .map(|c| {
                LogClient::parse(c).ok_or_else(|| {
                    LogQueryError::InvalidParameter(format!(
                        "client: '{c}' is not one of entra, okta, other"
                    ))
                })
            })
            .transpose()?;
        if let Some(limit) = self.limit {
            if limit == 0 || limit > LogQuery::MAX_LIMIT {
                return Err(LogQueryError::InvalidParameter(format!(
                    "limit: {limit} is not between 1 and {}",
                    LogQuery::MAX_LIMIT
                )));
            }
        }
        Ok(LogQuery {
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
            status,
            client,
            resource_id: self.resource.clone().filter(|r| !r.is_empty()),
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
            limit: self.limit.unwrap_or(LogQuery::DEFAULT_LIMIT),
        })
    }
}

/// An RFC 3339 time, or an age (`45s`, `30m`, `1h`, `7d`, `2w`, as
/// [`crate::duration::parse_duration`] reads them) before `now`.
pub fn parse_time(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let age = crate::duration::parse_duration(text).map_err(|_| {
        format!("'{text}' is neither an RFC 3339 time nor an age such as 1h, 30m, 7d")
    })?;
    // Ten years back is more than any retention.
    if age > time::Duration::days(3_660) {
        return Err(format!("'{text}' is out of range (at most 3660d)"));
    }
    Ok(now - age)
}

/// One entry as JSON (the admin API's and `scimd logs --json`'s shape).
pub fn entry_json(entry: &LogEntry) -> Value {
    let e = &entry.entry;
    json!({
        "seq": entry.seq,
        "at": e.at.format(&Rfc3339).unwrap_or_default(),
        "method": e.method,
        "path": e.path,
        "status": e.status,
        "latency_ms": e.latency_us as f64 / 1000.0,
        "scim_type": e.scim_type,
        "detail": e.detail,
        "client": e.client.as_str(),
        "resource_id": e.resource_id,
        "request_id": e.request_id,
        "request_body": e.request_body,
        "response_body": e.response_body,
    })
}

/// A page as JSON: `{"entries": [...], "next_cursor": "..." | null}`.
pub fn page_json(page: &LogPage) -> Value {
    json!({
        "entries": page.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })
}

/// Lists a tenant's log, newest first: the admin API's
/// `GET /admin/v1/tenants/{id}/logs?since=&until=&status=&client=&resource=&cursor=&limit=`.
pub async fn list_logs(
    store: &dyn Store,
    tenant: &str,
    params: &LogListParams,
) -> Result<LogPage, LogQueryError> {
    let query = params.to_query(OffsetDateTime::now_utc())?;
    if store.get_tenant(tenant).await?.is_none() {
        return Err(LogQueryError::UnknownTenant(tenant.to_owned()));
    }
    Ok(store.list_request_logs(tenant, &query).await?)
}

/// [`list_logs`] rendered as JSON.
pub async fn list_logs_json(
    store: &dyn Store,
    tenant: &str,
    params: &LogListParams,
) -> Result<Value, LogQueryError> {
    Ok(page_json(&list_logs(store, tenant, params).await?))
}

/// An axum handler for the admin API (mounted behind admin authentication):
/// 200 with [`page_json`], or a JSON error `{"status", "detail"}`.
pub async fn logs_handler(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    axum::extract::Path(tenant): axum::extract::Path<String>,
    axum::extract::Query(params): axum::extract::Query<LogListParams>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match list_logs_json(state.store(), &tenant, &params).await {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => {
            let status = axum::http::StatusCode::from_u16(e.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            if status.is_server_error() {
                tracing::warn!(error = %e, "listing the provisioning log failed");
            }
            (
                status,
                axum::Json(json!({"status": e.status(), "detail": e.detail()})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_rfc3339_or_ages() {
        let now = datetime!(2025-03-01 12:00 UTC);
        assert_eq!(parse_time("1h", now), Ok(datetime!(2025-03-01 11:00 UTC)));
        assert_eq!(parse_time("7d", now), Ok(datetime!(2025-02-22 12:00 UTC)));
        assert_eq!(
            parse_time("2025-01-01T00:00:00Z", now),
            Ok(datetime!(2025-01-01 0:00 UTC))
        );
        for bad in ["", "h", "1x", "-1h", "yesterday", "99999999999999d"] {
            assert!(parse_time(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn parameters_are_checked() {
        let now = datetime!(2025-03-01 12:00 UTC);
        let ok = LogListParams {
            since: Some("1h".into()),
            status: Some("4XX".into()),
            client: Some("Okta".into()),
            resource: Some("r1".into()),
            limit: Some(10),
            ..Default::default()
        }
        .to_query(now)
        .unwrap();
        assert_eq!(ok.status, Some(StatusClass::ClientError));
        assert_eq!(ok.client, Some(LogClient::Okta));
        assert_eq!(ok.since, Some(datetime!(2025-03-01 11:00 UTC)));
        assert_eq!(ok.limit, 10);
        for bad in [
            LogListParams {
                status: Some("3xx".into()),
                ..Default::default()
            },
            LogListParams {
                client: Some("ping".into()),
                ..Default::default()
            },
            LogListParams {
                limit: Some(0),
                ..Default::default()
            },
            LogListParams {
                limit: Some(5000),
                ..Default::default()
            },
            LogListParams {
                until: Some("soon".into()),
                ..Default::default()
            },
        ] {
            let err = bad.to_query(now).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
        }
    }
}
