//! Provisioning logs: one record per SCIM request, kept per tenant, so an admin can see
//! what an identity provider sent and why it failed.

use time::OffsetDateTime;

/// A tenant's provisioning-log settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantLogSettings {
    /// Whether request and response bodies are recorded (redacted). Off by default:
    /// bodies are personal data.
    pub bodies: bool,
    /// Entries older than this many days are pruned.
    pub retention_days: u32,
    /// At most this many entries are kept (the newest).
    pub max_entries: u64,
}

impl Default for TenantLogSettings {
    fn default() -> Self {
        TenantLogSettings {
            bodies: false,
            retention_days: 30,
            max_entries: 100_000,
        }
    }
}

/// Which identity provider sent a request, as far as its `User-Agent` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogClient {
    /// Microsoft Entra ID (formerly Azure AD).
    Entra,
    /// Okta.
    Okta,
    /// Anything else (scripts, validators, other IdPs).
    Other,
}

impl LogClient {
    /// The stored and displayed name: `entra`, `okta` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogClient::Entra => "entra",
            LogClient::Okta => "okta",
            LogClient::Other => "other",
        }
    }

    /// Parses a stored or user-given name (case-insensitive).
    pub fn parse(text: &str) -> Option<LogClient> {
        match text.trim().to_ascii_lowercase().as_str() {
            "entra" => Some(LogClient::Entra),
            "okta" => Some(LogClient::Okta),
            "other" => Some(LogClient::Other),
            _ => None,
        }
    }
}

/// One SCIM request to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogEntry {
    /// The tenant named in the URL.
    pub tenant_id: String,
    /// When the request arrived.
    pub at: OffsetDateTime,
    /// HTTP method.
    pub method: String,
    /// Path and query string, never credentials.
    pub path: String,
    /// HTTP status of the response.
    pub status: u16,
    /// How long the server took, in microseconds.
    pub latency_us: u64,
    /// `scimType` of an error response (RFC 7644 §3.12).
    pub scim_type: Option<String>,
    /// `detail` of an error response.
    pub detail: Option<String>,
    /// Who sent it.
    pub client: LogClient,
    /// The resource the request was about (from the path or the created resource).
    pub resource_id: Option<String>,
    /// The request id (as in `x-request-id` and the server log).
    pub request_id: String,
    /// The redacted request body, when the tenant logs bodies.
    pub request_body: Option<String>,
    /// The redacted response body, when the tenant logs bodies.
    pub response_body: Option<String>,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Position in the tenant's log (increasing as entries are written).
    pub seq: i64,
    /// What was recorded.
    pub entry: NewLogEntry,
}

/// Which statuses a log query selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// 200-299.
    Success,
    /// 400-499.
    ClientError,
    /// 500-599.
    ServerError,
    /// 400 and above.
    Errors,
}

impl StatusClass {
    /// Parses `2xx`, `4xx`, `5xx` or `errors`.
    pub fn parse(text: &str) -> Option<StatusClass> {
        match text.trim().to_ascii_lowercase().as_str() {
            "2xx" => Some(StatusClass::Success),
            "4xx" => Some(StatusClass::ClientError),
            "5xx" => Some(StatusClass::ServerError),
            "errors" => Some(StatusClass::Errors),
            _ => None,
        }
    }

    /// The inclusive range of statuses it selects.
    pub fn range(self) -> (u16, u16) {
        match self {
            StatusClass::Success => (200, 299),
            StatusClass::ClientError => (400, 499),
            StatusClass::ServerError => (500, 599),
            StatusClass::Errors => (400, 999),
        }
    }
}

/// A query over one tenant's log. Results are newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Only entries at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only entries before this time.
    pub until: Option<OffsetDateTime>,
    /// Only these statuses.
    pub status: Option<StatusClass>,
    /// Only this client.
    pub client: Option<LogClient>,
    /// Only entries about this resource.
    pub resource_id: Option<String>,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<String>,
    /// Page size (the store caps it at [`LogQuery::MAX_LIMIT`]; 0 means the default).
    pub limit: u32,
}

impl LogQuery {
    /// Page size when none is given.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// Largest page size.
    pub const MAX_LIMIT: u32 = 1000;

    /// The page size to use.
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => Self::DEFAULT_LIMIT,
            n => n.min(Self::MAX_LIMIT),
        }
    }
}

/// A page of log entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// Newest first.
    pub entries: Vec<LogEntry>,
    /// The cursor of the next (older) page, when there may be one.
    pub next_cursor: Option<String>,
}
