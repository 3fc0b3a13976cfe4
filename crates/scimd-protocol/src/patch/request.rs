//! Parsing a PATCH request body (RFC 7644 §3.5.2) into typed operations.
//!
//! Parsing checks everything that does not need the resource or its schema: the
//! body's shape, the `op` keyword, the path syntax, the operation count, and the
//! presence of `path` / `value` where §3.5.2.1-3 require them.

use crate::error::{ScimError, ScimResult};
use crate::filter::FilterLimits;
use crate::path::PatchPath;
use serde_json::{Map, Value};
use std::fmt;

/// The URN of the PATCH request message (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Limits on a PATCH request, so that one request costs bounded work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchLimits {
    /// The most operations one request may carry; more is 400 `tooMany`.
    pub max_operations: usize,
    /// Limits for the value filters inside paths.
    pub filter: FilterLimits,
}

impl Default for PatchLimits {
    fn default() -> Self {
        PatchLimits {
            max_operations: 1000,
            filter: FilterLimits::default(),
        }
    }
}

/// A PATCH operation keyword (RFC 7644 §3.5.2). Parsed case-insensitively because
/// Entra sends `Add`, `Replace`, `Remove` (idp-clients.md R5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOp {
    /// `add` (§3.5.2.1).
    Add,
    /// `remove` (§3.5.2.2).
    Remove,
    /// `replace` (§3.5.2.3).
    Replace,
}

impl PatchOp {
    /// Parses an `op` value, ignoring case.
    pub fn parse(input: &str) -> Option<PatchOp> {
        [PatchOp::Add, PatchOp::Remove, PatchOp::Replace]
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(input))
    }

    /// The keyword in the RFC's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Add => "add",
            PatchOp::Remove => "remove",
            PatchOp::Replace => "replace",
        }
    }
}

impl fmt::Display for PatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operation's `path`: the text as sent (for error messages, and to recognise a
/// bare extension URN) and its parsed form.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationPath {
    /// The path exactly as the client sent it.
    pub text: String,
    /// The parsed path.
    pub parsed: PatchPath,
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// What to do.
    pub op: PatchOp,
    /// Where; `None` means the resource itself (a path-less operation).
    pub path: Option<OperationPath>,
    /// The value; `None` when the member was absent, `Some(Value::Null)` when the
    /// client sent an explicit `null` (which clears the target, as Microsoft's
    /// validator expects).
    pub value: Option<Value>,
}

/// A parsed PATCH request: its operations, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    /// The operations, applied in order (RFC 7644 §3.5.2: "processed sequentially").
    pub operations: Vec<PatchOperation>,
}

/// Looks a key up ignoring case: RFC 7643 §2.1 makes attribute names
/// case-insensitive, and clients send `Operations`, `operations`, `Op`, ...
fn get_ci<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Parses a PATCH request body (RFC 7644 §3.5.2).
///
/// ```
/// use scimd_protocol::patch::{parse_patch, PatchLimits, PatchOp};
/// let body = serde_json::json!({
///     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
///     "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
/// });
/// let request = parse_patch(&body, &PatchLimits::default()).unwrap();
/// assert_eq!(request.operations[0].op, PatchOp::Replace);
/// ```
pub fn parse_patch(body: &Value, limits: &PatchLimits) -> ScimResult<PatchRequest> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH body must be a JSON object"))?;
    check_schemas(object)?;
    let operations = get_ci(object, "Operations")
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH body needs an 'Operations' array"))?
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be an array"))?;
    if operations.is_empty() {
        return Err(ScimError::invalid_syntax(
            "'Operations' must hold at least one operation (RFC 7644 §3.5.2)",
        ));
    }
    if operations.len() > limits.max_operations {
        return Err(ScimError::too_many(format!(
            "a PATCH request may carry at most {} operations, this one has {}",
            limits.max_operations,
            operations.len()
        )));
    }
    let operations = operations
        .iter()
        .enumerate()
        .map(|(index, op)| parse_operation(index, op, limits))
        .collect::<ScimResult<Vec<_>>>()?;
    Ok(PatchRequest { operations })
}

/// RFC 7644 §3.5.2 requires the PatchOp URN in `schemas`. Absence is tolerated
/// (hand-written OneLogin bodies forget it), but a `schemas` that names other
/// messages means the body is not a PATCH request at all.
fn check_schemas(object: &Map<String, Value>) -> ScimResult<()> {
    match get_ci(object, "schemas") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(uris)) => {
            let has_patch_op = uris.iter().any(|u| {
                u.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
            });
            if has_patch_op || uris.is_empty() {
                Ok(())
            } else {
                Err(ScimError::invalid_syntax(format!(
                    "'schemas' must contain {PATCH_OP_SCHEMA}"
                )))
            }
        }
        Some(_) => Err(ScimError::invalid_syntax("'schemas' must be an array")),
    }
}

fn parse_operation(index: usize, raw: &Value, limits: &PatchLimits) -> ScimResult<PatchOperation> {
    let object = raw.as_object().ok_or_else(|| {
        ScimError::invalid_syntax(format!("operation {index} must be a JSON object"))
    })?;
    let op_text = get_ci(object, "op")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_syntax(format!("operation {index} needs an 'op'")))?;
    let op = PatchOp::parse(op_text).ok_or_else(|| {
        ScimError::invalid_syntax(format!(
            "operation {index}: 'op' must be add, remove or replace, not '{op_text}'"
        ))
    })?;
    let path = match get_ci(object, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => {
            let text = text.trim();
            Some(OperationPath {
                text: text.to_owned(),
                parsed: PatchPath::parse(text, &limits.filter)?,
            })
        }
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "operation {index}: 'path' must be a string"
            )))
        }
    };
    let value = get_ci(object, "value").cloned();
    match op {
        // RFC 7644 §3.5.2.2: "If 'path' is unspecified, the operation fails with
        // HTTP status code 400 and a 'scimType' error code of 'noTarget'."
        PatchOp::Remove if path.is_none() => Err(ScimError::no_target(format!(
            "operation {index}: remove needs a 'path'"
        ))),
        // §3.5.2.1 and §3.5.2.3: add and replace carry a value. An explicit null
        // is a value (it clears the target); a missing member is not.
        PatchOp::Add | PatchOp::Replace if value.is_none() => Err(ScimError::invalid_value(
            format!("operation {index}: {op} needs a 'value'"),
        )),
        // Without a path, the value names the attributes to change (§3.5.2.1).
        PatchOp::Add | PatchOp::Replace
            if path.is_none() && !matches!(value, Some(Value::Object(_))) =>
        {
            Err(ScimError::invalid_value(format!(
                "operation {index}: a {op} without 'path' needs an object 'value'"
            )))
        }
        _ => Ok(PatchOperation { op, path, value }),
    }
}
