//! PATCH (RFC 7644 §3.5.2).
//!
//! TODO(helper: patch): implement.
