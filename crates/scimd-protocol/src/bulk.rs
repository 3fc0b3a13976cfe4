//! Bulk requests and responses (RFC 7644 §3.7), with `bulkId` references resolved in
//! dependency order.
//!
//! TODO(helper: resource): implement.
