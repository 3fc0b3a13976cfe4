//! Weak entity tags derived from a resource's version (RFC 7644 §3.14, RFC 7232).
//!
//! TODO(helper: resource): implement.
