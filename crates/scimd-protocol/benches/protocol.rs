//! TODO(helper: patch): criterion benchmarks of filter parsing/evaluation and PATCH.
fn main() {}
