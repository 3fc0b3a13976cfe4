//! Redaction: what the provisioning log may keep of a body or a query string.
//!
//! Bodies are JSON (RFC 7644 §3.1). Any member whose name contains `password`,
//! `token` or `secret` (case-insensitively) has its value replaced by `[redacted]`,
//! at any depth; so does the `value` of a PATCH operation whose `path` names such an
//! attribute (`{"op":"replace","path":"password","value":"..."}`, RFC 7644 §3.5.2).
//! A body that is not JSON is not kept at all (it could be anything). What is kept is
//! cut at [`MAX_LOGGED_BODY_BYTES`]. A body over [`MAX_REDACTED_BODY_BYTES`] is not
//! kept either: redacting needs the whole JSON parsed, and parsing a 100,000-member
//! group's 15 MB to keep 8 KiB of it would cost ~120 MB of memory per request.

use serde_json::Value;

/// The most bytes of a body kept in a log entry.
pub const MAX_LOGGED_BODY_BYTES: usize = 8 * 1024;

/// The largest body the log parses to redact; a larger one is noted by its size only.
/// Request bodies are bounded by `max_body_bytes` anyway; this bounds responses.
pub const MAX_REDACTED_BODY_BYTES: usize = 1024 * 1024;

/// What replaces a sensitive value.
pub const REDACTED: &str = "[redacted]";

/// Whether a member or parameter name looks like it carries a credential.
pub fn is_sensitive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["password", "token", "secret"]
        .iter()
        .any(|word| lower.contains(word))
}

/// The body as it may be logged, or `None` when there is none.
pub fn redact_body(bytes: &[u8]) -> Option<String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if bytes.len() > MAX_REDACTED_BODY_BYTES {
        return Some(format!(
            "[body of {} bytes, over the {MAX_REDACTED_BODY_BYTES} bytes the log redacts: not recorded]",
            bytes.len()
        ));
    }
    let text = match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        Err(_) => format!("[body of {} bytes, not JSON: not recorded]", bytes.len()),
    };
    Some(truncate(text))
}

/// Replaces sensitive values in place, at any depth.
pub fn redact_value(value: &mut Value) {
    match value {
        Value::Object(members) => {
            let patch_path_is_sensitive = members
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("path"))
                .and_then(|(_, path)| path.as_str())
                .is_some_and(is_sensitive_name);
            for (name, member) in members.iter_mut() {
                let sensitive = is_sensitive_name(name)
                    || (patch_path_is_sensitive && name.eq_ignore_ascii_case("value"));
                if sensitive {
                    *member = Value::String(REDACTED.to_owned());
                } else {
                    redact_value(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

/// A query string with the values of sensitive parameters replaced. SCIM query
/// strings carry no credentials, but a misconfigured client might append one.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive_name(name) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Cuts text at [`MAX_LOGGED_BODY_BYTES`] on a character boundary, saying so.
fn truncate(text: String) -> String {
    if text.len() <= MAX_LOGGED_BODY_BYTES {
        return text;
    }
    let mut end = MAX_LOGGED_BODY_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}...[truncated, {} bytes in all]",
        &text[..end],
        text.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn passwords_tokens_and_secrets_are_redacted_at_any_depth() {
        let body = json!({
            "userName": "jane",
            "password": "hunter2",
            "Password": "Hunter3",
            "urn:example:ext": {"apiToken": "t0k", "clientSecret": "s3c", "keep": "me"},
            "Operations": [
                {"op": "replace", "path": "password", "value": "p4ss"},
                {"op": "Replace", "path": "displayName", "value": "Jane"},
                {"op": "replace", "value": {"password": "p5ss", "active": true}}
            ]
        });
        let out = redact_body(body.to_string().as_bytes()).unwrap();
        for secret in ["hunter2", "Hunter3", "t0k", "s3c", "p4ss", "p5ss"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("jane") && out.contains("Jane") && out.contains("me"));
        assert_eq!(out.matches(REDACTED).count(), 6, "{out}");
    }

    #[test]
    fn non_json_and_empty_bodies_are_not_kept() {
        assert_eq!(redact_body(b""), None);
        assert_eq!(redact_body(b"  \n"), None);
        let out = redact_body(b"password=hunter2").unwrap();
        assert!(!out.contains("hunter2"));
        assert!(out.contains("16 bytes"), "{out}");
    }

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        let body = json!({"displayName": "é".repeat(10_000)});
        let out = redact_body(body.to_string().as_bytes()).unwrap();
        assert!(out.len() < MAX_LOGGED_BODY_BYTES + 64);
        assert!(out.contains("[truncated"), "{}", &out[out.len() - 40..]);
    }

    #[test]
    fn bodies_too_large_to_redact_are_noted_by_size_only() {
        // Valid JSON with a secret at the very end: nothing of it may be kept.
        let members: Vec<_> = (0..40_000)
            .map(|i| json!({"value": format!("member-{i:06}"), "display": "someone"}))
            .collect();
        let body = json!({"members": members, "password": "hunter2"}).to_string();
        assert!(body.len() > MAX_REDACTED_BODY_BYTES);
        let out = redact_body(body.as_bytes()).unwrap();
        assert!(
            !out.contains("hunter2") && !out.contains("member-"),
            "{out}"
        );
        assert!(out.contains(&format!("{} bytes", body.len())), "{out}");
        // Just under the limit, the body is parsed, redacted and cut as usual.
        let small = json!({"password": "hunter2", "pad": "x".repeat(MAX_REDACTED_BODY_BYTES - 64)})
            .to_string();
        assert!(small.len() <= MAX_REDACTED_BODY_BYTES);
        let out = redact_body(small.as_bytes()).unwrap();
        assert!(
            out.contains(REDACTED) && out.contains("[truncated"),
            "{}",
            &out[..80]
        );
    }

    #[test]
    fn sensitive_query_parameters_are_redacted() {
        assert_eq!(
            redact_query("filter=userName%20eq%20%22a%22&access_token=abc&count=2"),
            "filter=userName%20eq%20%22a%22&access_token=[redacted]&count=2"
        );
        assert_eq!(redact_query("aadOptscim062020"), "aadOptscim062020");
    }
}
