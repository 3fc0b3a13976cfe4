//! The storage contract as a test suite.
//!
//! TODO(helper: store): implement `run_all(store)`.
