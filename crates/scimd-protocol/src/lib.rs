//! # scimd-protocol
//!
//! The SCIM 2.0 protocol (RFC 7643, RFC 7644) as a pure library: no network, no
//! database, no async. The storage and server crates build on it.
//!
//! | module | what it does | RFC |
//! |---|---|---|
//! | [`error`] | the one error type, status + `scimType` | 7644 §3.12 |
//! | [`schema`] | schemas as data, the registry, path resolution | 7643 §2, §4, §7 |
//! | [`path`] | attribute paths and PATCH paths | 7644 §3.10, §3.5.2 |
//! | [`filter`] | filter grammar, AST, printer, evaluator | 7644 §3.4.2.2 |
//! | [`resource`] | the stored document, input normalisation, rendering | 7643 §3, 7644 §3.3 |
//! | [`projection`] | `attributes` / `excludedAttributes` | 7644 §3.4.2.5 |
//! | [`sort`] | `sortBy` / `sortOrder` | 7644 §3.4.2.3 |
//! | [`paging`] | index and cursor paging, `ListResponse` | 7644 §3.4.2.4, RFC 9865 |
//! | [`patch`] | PATCH operations and membership deltas | 7644 §3.5.2 |
//! | [`bulk`] | Bulk requests, `bulkId` resolution | 7644 §3.7 |
//! | [`etag`] | weak ETags from resource versions | 7644 §3.14 |
//! | [`nul`] | U+0000 in request text, refused everywhere | 8259 §7 |
//!
//! ## Leniency
//!
//! Identity providers send requests the RFCs do not allow (see `docs/idp-clients.md`).
//! This crate accepts them where the intent is unambiguous and always *returns* the
//! RFC form: case-insensitive PATCH `op`, booleans as strings, dotted and URN keys in
//! path-less PATCH values, value-path `Add` that creates the element, and so on.
//! **Unknown attributes in request bodies are ignored** (RFC 7644 §3.3 lets a service
//! provider ignore attributes it does not support); unknown attributes in filters,
//! paths and `sortBy` are errors, because ignoring them would change what a query means.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod bulk;
pub mod error;
pub mod etag;
pub mod filter;
pub mod nul;
pub mod paging;
pub mod patch;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod sort;

pub use error::{ScimError, ScimResult, ScimType};
pub use schema::{ResourceKind, SchemaRegistry};
