//! PATCH (RFC 7644 §3.5.2): parsing a request body and applying it to a stored
//! document.
//!
//! ```
//! use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits};
//! use scimd_protocol::{ResourceKind, SchemaRegistry};
//! use serde_json::json;
//!
//! let registry = SchemaRegistry::with_core();
//! let doc = json!({"userName": "bjensen", "active": true});
//! let doc = doc.as_object().unwrap();
//! let body = json!({"Operations": [
//!     {"op": "Replace", "path": "active", "value": "False"},
//!     {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "b@example.com"}
//! ]});
//! let request = parse_patch(&body, &PatchLimits::default()).unwrap();
//! let outcome = apply_patch(doc, &request, &registry, ResourceKind::User).unwrap();
//! assert_eq!(outcome.document["active"], json!(false));
//! assert_eq!(outcome.document["emails"], json!([{"type": "work", "value": "b@example.com"}]));
//! assert!(outcome.changed);
//! ```
//!
//! ## Semantics chosen where the RFC is silent or IdPs disagree with it
//!
//! - `add` and `replace` with a `null` or `""` value clear the target (Microsoft's
//!   validator). `replace` with `[]` clears a multi-valued attribute.
//! - `add` / `replace` through a value filter that matches nothing creates the
//!   element from the filter's `eq` values (idp-clients.md R8) instead of
//!   §3.5.2.3's `noTarget`; filters that are not `and`-ed equalities still give
//!   `noTarget`.
//! - `remove` through a value filter that matches nothing succeeds and changes
//!   nothing, so retried removals are idempotent.
//! - `replace` of a complex attribute merges the sub-attributes given (§3.5.2.3),
//!   with a path or without one; `manager` is always replaced whole (R10).
//! - A sub-attribute of a multi-valued attribute without a filter
//!   (`emails.display`) addresses every element.
//! - Removing a required attribute, or clearing it with an empty value, is 400
//!   `mutability` (§3.5.2.2).
//! - In a path-less value, unknown keys and read-only attributes (`id`, `meta`,
//!   `groups`, ...) and `schemas` are ignored; in a `path` they are 400
//!   `invalidPath` / `mutability`.
//! - `password` (writeOnly) is accepted and ignored: it is never stored.
//! - Setting a `primary` value clears `primary` on the other values (RFC 7643 §2.4).

mod apply;
pub mod coerce;
mod members;
pub mod quirks;
mod request;

pub use apply::{apply_patch, PatchOutcome};
pub use members::apply_member_changes;
pub use request::{
    parse_patch, OperationPath, PatchLimits, PatchOp, PatchOperation, PatchRequest, PATCH_OP_SCHEMA,
};
