//! Group membership in PATCH: `members` never lives in the document; operations on
//! it become [`MemberChange`] deltas that the store applies (resource/mod.rs).
//!
//! Accepted forms (RFC 7644 §3.5.2 and idp-clients.md R9):
//!
//! | request | change |
//! |---|---|
//! | `add members [{value}, ...]`, also a single object or a bare id string | `Add` |
//! | path-less `add` with a `members` key | `Add` |
//! | `remove members [{value}, ...]` | `Remove(ids)` |
//! | `remove members[value eq "id"]`, also `or`-chains of `value eq` | `Remove(ids)` |
//! | `remove members` without value | `RemoveAll` |
//! | `replace members [...]`, `[]`, `null` | `ReplaceAll` |
//! | path-less `replace` with a `members` key | `ReplaceAll` |
//!
//! Any other value filter on `members` (another sub-attribute, another operator,
//! `and`, `not`), or a filter in `add` / `replace`, is 400 `invalidFilter`: a store
//! that holds members as rows can only select them by id. Paths to a member
//! sub-attribute (`members.display`) are 400 `invalidPath`.

use super::request::PatchOp;
use crate::error::{ScimError, ScimResult};
use crate::filter::{CompareOp, Filter, Literal};
use crate::path::PatchPath;
use crate::resource::{MemberChange, MemberRef};
use crate::schema::ResourceKind;
use serde_json::Value;
use std::collections::HashSet;

/// Turns one PATCH operation on `members` into a membership change. `None` means
/// the operation changes nothing (e.g. `add members []`).
pub(crate) fn member_change(
    op: PatchOp,
    path: Option<&PatchPath>,
    value: Option<&Value>,
) -> ScimResult<Option<MemberChange>> {
    if let Some(path) = path {
        if path.attr.sub_attr.is_some() || path.sub_attr.is_some() {
            return Err(ScimError::invalid_path(
                "member sub-attributes cannot be patched; add or remove the member instead",
            ));
        }
        if let Some(filter) = &path.filter {
            if op != PatchOp::Remove {
                return Err(ScimError::invalid_filter(
                    "a value filter on 'members' is only supported in remove operations",
                ));
            }
            let mut ids = Vec::new();
            collect_member_ids(filter, &mut ids)?;
            return Ok(Some(MemberChange::Remove(ids)));
        }
    }
    let change = match op {
        PatchOp::Add => {
            let refs = member_refs(value)?;
            (!refs.is_empty()).then_some(MemberChange::Add(refs))
        }
        PatchOp::Replace => Some(MemberChange::ReplaceAll(member_refs(value)?)),
        PatchOp::Remove => match value {
            // R9: with a value, remove only the listed members.
            Some(v) if !super::coerce::is_empty_value(v) => Some(MemberChange::Remove(
                member_refs(Some(v))?.into_iter().map(|r| r.value).collect(),
            )),
            // §3.5.2.2: a multi-valued target without filter loses all its values.
            _ => Some(MemberChange::RemoveAll),
        },
    };
    Ok(change)
}

/// Collects the ids of a `value eq "id" [or value eq "id" ...]` filter.
fn collect_member_ids(filter: &Filter, ids: &mut Vec<String>) -> ScimResult<()> {
    match filter {
        Filter::Or(a, b) => {
            collect_member_ids(a, ids)?;
            collect_member_ids(b, ids)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: Literal::String(id),
            ..
        } if path.urn.is_none()
            && path.sub_attr.is_none()
            && path.name.eq_ignore_ascii_case("value") =>
        {
            ids.push(id.clone());
            Ok(())
        }
        _ => Err(ScimError::invalid_filter(
            "a filter on 'members' must be 'value eq \"<id>\"', optionally joined with 'or'",
        )),
    }
}

/// The members a value lists: an array of `{"value": id, "type": ...}` objects,
/// a single such object, or a bare id string (Microsoft's validator sends
/// `"value": "<id>"` where an array is expected). `display` and `$ref` are ignored:
/// the store derives them from the member itself.
pub(crate) fn member_refs(value: Option<&Value>) -> ScimResult<Vec<MemberRef>> {
    let items: &[Value] = match value {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(single) => std::slice::from_ref(single),
    };
    let mut refs = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for item in items {
        let member = member_ref(item)?;
        if seen.insert(member.value.clone()) {
            refs.push(member);
        }
    }
    Ok(refs)
}

fn member_ref(item: &Value) -> ScimResult<MemberRef> {
    let bad = || {
        ScimError::invalid_value(
            "each member must be an object with a non-empty 'value' (the member's id)",
        )
    };
    match item {
        Value::String(id) if !id.is_empty() => Ok(MemberRef {
            value: id.clone(),
            kind: None,
        }),
        Value::Object(object) => {
            let field = |name: &str| {
                object
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            };
            let id = match field("value") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                _ => return Err(bad()),
            };
            let kind = match field("type").and_then(Value::as_str) {
                Some(t) if t.eq_ignore_ascii_case("User") => Some(ResourceKind::User),
                Some(t) if t.eq_ignore_ascii_case("Group") => Some(ResourceKind::Group),
                _ => None,
            };
            Ok(MemberRef { value: id, kind })
        }
        _ => Err(bad()),
    }
}

/// The reference semantics of [`MemberChange`]: applies `changes` in order to the
/// member ids `current` and returns the resulting ids, without duplicates, in
/// first-added order. Stores must produce the same set.
///
/// ```
/// use scimd_protocol::patch::apply_member_changes;
/// use scimd_protocol::resource::{MemberChange, MemberRef};
/// let add = |id: &str| MemberRef { value: id.into(), kind: None };
/// let ids = apply_member_changes(
///     &["a".to_string()],
///     &[MemberChange::Add(vec![add("b"), add("a")]), MemberChange::Remove(vec!["a".into()])],
/// );
/// assert_eq!(ids, vec!["b".to_string()]);
/// ```
pub fn apply_member_changes(current: &[String], changes: &[MemberChange]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(current.len());
    let mut present: HashSet<String> = HashSet::with_capacity(current.len());
    let push = |ids: &mut Vec<String>, present: &mut HashSet<String>, id: &str| {
        if present.insert(id.to_owned()) {
            ids.push(id.to_owned());
        }
    };
    for id in current {
        push(&mut ids, &mut present, id);
    }
    for change in changes {
        match change {
            MemberChange::Add(refs) => {
                for r in refs {
                    push(&mut ids, &mut present, &r.value);
                }
            }
            MemberChange::Remove(removed) => {
                let removed: HashSet<&str> = removed.iter().map(String::as_str).collect();
                ids.retain(|id| !removed.contains(id.as_str()));
                present.retain(|id| !removed.contains(id.as_str()));
            }
            MemberChange::RemoveAll => {
                ids.clear();
                present.clear();
            }
            MemberChange::ReplaceAll(refs) => {
                ids.clear();
                present.clear();
                for r in refs {
                    push(&mut ids, &mut present, &r.value);
                }
            }
        }
    }
    ids
}
