//! Bulk requests and responses (RFC 7644 §3.7), with `bulkId` references resolved in
//! dependency order.
//!
//! Choices (RFC 7644 §3.7.1-§3.7.4):
//! - More operations than `maxOperations`, or a body above `maxPayloadSize`, is
//!   413 Payload Too Large (RFC 7644 §3.7.4), without a `scimType`.
//! - A reference `bulkId:<id>` to a bulkId that no POST in the request declares is
//!   400 `invalidValue`: there is nothing to resolve it to. A bulkId declared twice is
//!   400 `invalidValue` as well.
//! - A cycle of references (A's data references B and B's references A, or an
//!   operation referencing itself) is 409 Conflict: RFC 7644 §3.7.1 lets a service
//!   provider give up on circular references with 409 instead of resolving them.
//! - References are found in every string of an operation's `data` and in its `path`
//!   (e.g. `/Groups/bulkId:qwerty` for a PATCH of a group created in the same request).

use crate::error::{ScimError, ScimResult};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The URN of the Bulk request message.
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// The URN of the Bulk response message.
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// The prefix that marks a reference to another operation's new resource.
const BULK_ID_PREFIX: &str = "bulkId:";

/// The HTTP method of a bulk operation (case-insensitive on input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkMethod {
    /// Create.
    Post,
    /// Replace.
    Put,
    /// Modify.
    Patch,
    /// Delete.
    Delete,
}

impl BulkMethod {
    /// The method name, upper case as in RFC 7644 §3.7 examples.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            BulkMethod::Post,
            BulkMethod::Put,
            BulkMethod::Patch,
            BulkMethod::Delete,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl Serialize for BulkMethod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BulkMethod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        BulkMethod::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown bulk method '{s}' (POST, PUT, PATCH, DELETE)"
            ))
        })
    }
}

/// One operation of a bulk request (RFC 7644 §3.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperation {
    /// The HTTP method.
    pub method: BulkMethod,
    /// The client's id for a POST, referenced elsewhere as `bulkId:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "bulkid")]
    pub bulk_id: Option<String>,
    /// An ETag the target must match (as `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The resource endpoint (`/Users`) or resource (`/Users/<id>`), relative to the base URL.
    pub path: String,
    /// The body of a POST, PUT or PATCH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// A bulk request (RFC 7644 §3.7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRequest {
    /// Stop after this many errors (`failOnErrors`); `None` means try every operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on_errors: Option<u32>,
    /// The operations, in request order.
    #[serde(rename = "Operations", alias = "operations")]
    pub operations: Vec<BulkOperation>,
}

/// The server's bulk limits, as advertised in `/ServiceProviderConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    /// Maximum number of operations in one request.
    pub max_operations: usize,
    /// Maximum request body size in bytes.
    pub max_payload_size: usize,
}

impl Default for BulkLimits {
    fn default() -> Self {
        BulkLimits {
            max_operations: 1000,
            max_payload_size: 1_048_576,
        }
    }
}

fn payload_too_large(detail: String) -> ScimError {
    ScimError::new(413, None, detail)
}

impl BulkRequest {
    /// Parses and validates a bulk request body.
    ///
    /// Errors: body above `max_payload_size` or more than `max_operations`
    /// operations: 413; not JSON: 400 `invalidSyntax`; a malformed operation: 400
    /// `invalidSyntax`/`invalidValue`.
    pub fn parse(body: &[u8], limits: &BulkLimits) -> ScimResult<Self> {
        if body.len() > limits.max_payload_size {
            return Err(payload_too_large(format!(
                "the size of the bulk operation exceeds the maxPayloadSize ({})",
                limits.max_payload_size
            )));
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ScimError::invalid_syntax(format!("the bulk request is not valid JSON: {e}"))
        })?;
        Self::from_json(&value, limits)
    }

    /// Validates an already parsed bulk request body (see [`BulkRequest::parse`]).
    pub fn from_json(body: &Value, limits: &BulkLimits) -> ScimResult<Self> {
        // Count first, so an oversized request is refused before it is deserialised.
        let count = body
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("Operations")))
            .and_then(|(_, v)| v.as_array())
            .map_or(0, Vec::len);
        if count > limits.max_operations {
            return Err(payload_too_large(format!(
                "the bulk request has {count} operations; maxOperations is {}",
                limits.max_operations
            )));
        }
        let request: BulkRequest = serde_json::from_value(body.clone())
            .map_err(|e| ScimError::invalid_syntax(format!("malformed bulk request: {e}")))?;
        for (index, op) in request.operations.iter().enumerate() {
            op.validate(index)?;
        }
        Ok(request)
    }
}

impl BulkOperation {
    fn validate(&self, index: usize) -> ScimResult<()> {
        let bad = |what: &str| ScimError::invalid_value(format!("bulk operation {index}: {what}"));
        if !self.path.starts_with('/') {
            return Err(bad("'path' must start with '/' (e.g. \"/Users\")"));
        }
        match self.method {
            // RFC 7644 §3.7: bulkId is REQUIRED for POST.
            BulkMethod::Post if self.bulk_id.as_deref().is_none_or(str::is_empty) => {
                Err(bad("'bulkId' is required for POST"))
            }
            BulkMethod::Post | BulkMethod::Put | BulkMethod::Patch
                if !self.data.as_ref().is_some_and(Value::is_object) =>
            {
                Err(bad("'data' must be a JSON object"))
            }
            _ => Ok(()),
        }
    }
}

/// The result of one bulk operation (RFC 7644 §3.7).
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperationResponse {
    /// The method of the operation.
    pub method: BulkMethod,
    /// The operation's `bulkId`, echoed.
    pub bulk_id: Option<String>,
    /// The new ETag of the resource, when it exists after the operation.
    pub version: Option<String>,
    /// The resource's URL, when it exists after the operation.
    pub location: Option<String>,
    /// The HTTP status of the operation.
    pub status: u16,
    /// The response body: a SCIM Error for failures, optionally the resource otherwise.
    pub response: Option<Value>,
}

impl BulkOperationResponse {
    /// The JSON of one response operation; `status` is a string, as in RFC 7644 §3.7.3.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(location) = &self.location {
            m.insert("location".into(), Value::String(location.clone()));
        }
        m.insert("method".into(), Value::String(self.method.as_str().into()));
        if let Some(bulk_id) = &self.bulk_id {
            m.insert("bulkId".into(), Value::String(bulk_id.clone()));
        }
        if let Some(version) = &self.version {
            m.insert("version".into(), Value::String(version.clone()));
        }
        m.insert("status".into(), Value::String(self.status.to_string()));
        if let Some(response) = &self.response {
            m.insert("response".into(), response.clone());
        }
        Value::Object(m)
    }
}

/// A bulk response (RFC 7644 §3.7).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkResponse {
    /// One entry per operation that was attempted.
    pub operations: Vec<BulkOperationResponse>,
}

impl BulkResponse {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "schemas".into(),
            Value::Array(vec![Value::String(BULK_RESPONSE_SCHEMA.into())]),
        );
        m.insert(
            "Operations".into(),
            Value::Array(
                self.operations
                    .iter()
                    .map(BulkOperationResponse::to_json)
                    .collect(),
            ),
        );
        Value::Object(m)
    }
}

/// The `bulkId:<id>` references in a string, as (byte range, id).
fn bulk_id_refs(s: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut refs = Vec::new();
    let mut from = 0;
    while let Some(rel) = s.get(from..).and_then(|rest| rest.find(BULK_ID_PREFIX)) {
        let start = from + rel;
        let id_start = start + BULK_ID_PREFIX.len();
        let rest = s.get(id_start..).unwrap_or_default();
        let len = rest
            .find(|c: char| {
                matches!(c, '/' | '"' | ',' | ']' | ')' | '?' | '&') || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        let id = rest.get(..len).unwrap_or_default();
        if !id.is_empty() {
            refs.push((start..id_start + len, id));
        }
        // `id_start > start`, so the scan always moves forward.
        from = id_start + len;
    }
    refs
}

fn collect_refs<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.extend(bulk_id_refs(s).into_iter().map(|(_, id)| id)),
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        Value::Object(o) => o.values().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The bulkIds an operation references, in its `path` and `data`.
pub fn referenced_bulk_ids(op: &BulkOperation) -> Vec<&str> {
    let mut refs: Vec<&str> = bulk_id_refs(&op.path)
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    if let Some(data) = &op.data {
        collect_refs(data, &mut refs);
    }
    refs.sort_unstable();
    refs.dedup();
    refs
}

/// The order in which to run the operations: every POST that declares a bulkId runs
/// before the operations that reference it; otherwise request order is kept.
///
/// ```
/// use scimd_protocol::bulk::{execution_order, BulkMethod, BulkOperation};
/// use serde_json::json;
/// let ops = vec![
///     BulkOperation { method: BulkMethod::Post, bulk_id: Some("g".into()), version: None,
///         path: "/Groups".into(),
///         data: Some(json!({"displayName": "G", "members": [{"value": "bulkId:u"}]})) },
///     BulkOperation { method: BulkMethod::Post, bulk_id: Some("u".into()), version: None,
///         path: "/Users".into(), data: Some(json!({"userName": "u"})) },
/// ];
/// assert_eq!(execution_order(&ops).unwrap(), vec![1, 0]);
/// ```
pub fn execution_order(ops: &[BulkOperation]) -> ScimResult<Vec<usize>> {
    let mut declared: HashMap<&str, usize> = HashMap::new();
    for (index, op) in ops.iter().enumerate() {
        if let (BulkMethod::Post, Some(id)) = (op.method, op.bulk_id.as_deref()) {
            if declared.insert(id, index).is_some() {
                return Err(ScimError::invalid_value(format!(
                    "bulkId '{id}' is declared by more than one operation"
                )));
            }
        }
    }
    // dependencies[i]: the operations that must run before operation i.
    let mut dependencies: Vec<Vec<usize>> = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let mut deps = Vec::new();
        for id in referenced_bulk_ids(op) {
            let &creator = declared.get(id).ok_or_else(|| {
                ScimError::invalid_value(format!(
                    "bulk operation {index} references unknown bulkId '{id}'"
                ))
            })?;
            deps.push(creator);
        }
        dependencies.push(deps);
    }
    // Kahn's algorithm, always taking the lowest ready index so that independent
    // operations keep request order.
    let mut remaining: Vec<usize> = dependencies.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); ops.len()];
    for (index, deps) in dependencies.iter().enumerate() {
        for &d in deps {
            if let Some(list) = dependents.get_mut(d) {
                list.push(index);
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> = (0..ops.len())
        .filter(|&i| remaining.get(i) == Some(&0))
        .collect();
    let mut order = Vec::with_capacity(ops.len());
    while let Some(next) = ready.pop_first() {
        order.push(next);
        for &dependent in dependents.get(next).map(Vec::as_slice).unwrap_or_default() {
            if let Some(count) = remaining.get_mut(dependent) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    if order.len() < ops.len() {
        let stuck: Vec<String> = (0..ops.len())
            .filter(|i| !order.contains(i))
            .map(|i| i.to_string())
            .collect();
        return Err(ScimError::new(
            409,
            None,
            format!(
                "circular bulkId references between operations {} (RFC 7644 §3.7.1)",
                stuck.join(", ")
            ),
        ));
    }
    Ok(order)
}

/// Replaces every `bulkId:<id>` whose id is in `resolved` with the resource id it
/// resolved to, in every string of `value` (a whole string `"bulkId:u1"` or part of
/// one, such as a path `"/Users/bulkId:u1"`). Unresolved references are left as they are.
pub fn substitute_bulk_ids(value: &mut Value, resolved: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(replaced) = substitute_in_str(s, resolved) {
                *s = replaced;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute_bulk_ids(v, resolved)),
        Value::Object(o) => o
            .values_mut()
            .for_each(|v| substitute_bulk_ids(v, resolved)),
        _ => {}
    }
}

/// [`substitute_bulk_ids`] for one string (e.g. an operation's `path`); `None` when
/// nothing was replaced.
pub fn substitute_in_str(s: &str, resolved: &HashMap<String, String>) -> Option<String> {
    let refs = bulk_id_refs(s);
    if !refs.iter().any(|(_, id)| resolved.contains_key(*id)) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (range, id) in refs {
        if let Some(new_id) = resolved.get(id) {
            out.push_str(s.get(last..range.start).unwrap_or_default());
            out.push_str(new_id);
            last = range.end;
        }
    }
    out.push_str(s.get(last..).unwrap_or_default());
    Some(out)
}
