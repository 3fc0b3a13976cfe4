//! The requests identity providers send, as the bench sends them. The shapes follow
//! what Entra ID sends with `aadOptscim062020` (see the IdP fixtures in
//! crates/scimd-server/tests/fixtures/entra_aadoptscim062020.json): an enterprise-
//! extension POST, filters with `eq`, groups created empty then filled by PATCHes of
//! member adds, and the two-operation user PATCH (a value-path replace plus one
//! path-less replace with dotted keys).

use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The userName of user `index` of a run tagged `run`.
pub fn user_name(run: &str, index: usize) -> String {
    format!("{run}.u{index}@bench.example")
}

/// The displayName of group `index` of a run tagged `run`.
pub fn group_name(run: &str, index: usize) -> String {
    format!("{run} group {index}")
}

/// An Entra-shaped user: enterprise extension, real booleans, a work e-mail.
pub fn entra_user(run: &str, index: usize) -> Value {
    let user_name = user_name(run, index);
    json!({
        "schemas": [USER, ENTERPRISE_USER],
        "externalId": format!("{run}-{index:08}-0000-4000-8000-000000000000"),
        "userName": user_name,
        "active": true,
        "displayName": format!("Bench User {index}"),
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "name": {
            "formatted": format!("Bench User {index}"),
            "familyName": format!("User {index}"),
            "givenName": "Bench"
        },
        ENTERPRISE_USER: {
            "department": format!("Department {}", index % 20),
            "employeeNumber": index.to_string()
        }
    })
}

/// An Entra-shaped group, created without members.
pub fn entra_group(run: &str, index: usize) -> Value {
    json!({
        "schemas": [GROUP],
        "externalId": format!("{run}-g{index:06}-0000-4000-8000-000000000000"),
        "displayName": group_name(run, index)
    })
}

/// A PATCH adding `member_ids` to a group (Entra sends up to 50 per request).
pub fn add_members<S: AsRef<str>>(member_ids: &[S]) -> Value {
    let values: Vec<Value> = member_ids
        .iter()
        .map(|id| json!({"value": id.as_ref()}))
        .collect();
    json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": values}]
    })
}

/// A PATCH removing one member the way Entra does: `members[value eq "id"]`.
pub fn remove_member(member_id: &str) -> Value {
    json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": "remove", "path": format!("members[value eq \"{member_id}\"]")}]
    })
}

/// Entra's user update: a value-path replace plus a path-less replace with dotted and
/// URN keys.
pub fn entra_user_update(serial: u64) -> Value {
    json!({
        "schemas": [PATCH_OP],
        "Operations": [
            {
                "op": "replace",
                "path": "emails[type eq \"work\"].value",
                "value": format!("changed{serial}@bench.example")
            },
            {
                "op": "replace",
                "value": {
                    "displayName": format!("Renamed {serial}"),
                    "name.givenName": format!("Given{serial}"),
                    format!("{ENTERPRISE_USER}:department"): format!("Department {}", serial % 20)
                }
            }
        ]
    })
}

/// `?filter=<attribute> eq "<value>"`, percent-encoded.
pub fn eq_filter(attribute: &str, value: &str) -> String {
    format!(
        "filter={}",
        percent_encode(&format!("{attribute} eq \"{value}\""))
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_encoded() {
        assert_eq!(
            eq_filter("userName", "a b@c"),
            "filter=userName%20eq%20%22a%20b%40c%22"
        );
    }

    #[test]
    fn member_patches_carry_every_value() {
        let patch = add_members(&["a", "b"]);
        assert_eq!(patch["Operations"][0]["value"][1]["value"], "b");
        assert_eq!(
            remove_member("x")["Operations"][0]["path"],
            "members[value eq \"x\"]"
        );
    }

    #[test]
    fn users_differ_by_index() {
        assert_ne!(
            entra_user("r", 1)["userName"],
            entra_user("r", 2)["userName"]
        );
        assert_ne!(
            entra_user("r", 1)["externalId"],
            entra_user("r", 2)["externalId"]
        );
    }
}
