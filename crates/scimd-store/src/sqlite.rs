//! The SQLite backend.
//!
//! TODO(helper: store): implement.
