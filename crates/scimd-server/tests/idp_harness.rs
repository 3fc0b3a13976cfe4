//! Self-tests of the fixture replay harness (matcher, templates, raw HTTP parsing).
//!
//! They live in their own test binary so the harness is proven correct independently
//! of the server: a replay failure then points at the server or the fixture, not at
//! the matcher.

#[path = "fixtures/harness/mod.rs"]
#[allow(dead_code)]
mod harness;

use serde_json::json;

/// The fixture files themselves must parse with the harness's strict schema
/// (`deny_unknown_fields`), so a typo in a fixture key fails here, not silently.
#[test]
fn every_fixture_file_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let fixture: harness::Fixture =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!fixture.steps.is_empty(), "{} has no steps", path.display());
        for step in &fixture.steps {
            assert!(
                !step.name.is_empty(),
                "{}: a step has no name",
                path.display()
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 4, "expected the four client dialect fixtures");
}

#[test]
fn mismatch_messages_name_pointer_expected_and_got() {
    let err = harness::matcher::match_json(
        &json!({"Resources": [{"active": true}]}),
        Some(&json!({"Resources": [{"active": "True"}]})),
        "",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/Resources/0/active"), "{text}");
    assert!(text.contains("true"), "{text}");
    assert!(text.contains("\"True\""), "{text}");
}
