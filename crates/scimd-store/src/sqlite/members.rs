//! Group memberships: one row per (group, member), changed by deltas.
//!
//! Adding or removing one member is one primary-key lookup of the member resource and
//! one insert or delete in `group_members`, whatever the group's size: no statement
//! here reads the member list except [`MemberChange::ReplaceAll`], whose meaning is
//! "compare with the whole list", and loading members for a response.

use super::db::{execute, query_all, query_opt};
use crate::StoreResult;
use rusqlite::Connection;
use scimd_protocol::resource::{GroupRef, Member, MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, ScimError};

fn kind_text(kind: ResourceKind) -> &'static str {
    kind.name()
}

fn kind_of(text: &str) -> StoreResult<ResourceKind> {
    match text {
        "User" => Ok(ResourceKind::User),
        "Group" => Ok(ResourceKind::Group),
        other => Err(crate::StoreError::Database(format!(
            "unknown member type '{other}' in group_members"
        ))),
    }
}

fn exists(conn: &Connection, tenant: &str, kind: ResourceKind, id: &str) -> StoreResult<bool> {
    let sql = match kind {
        ResourceKind::User => "SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2",
        ResourceKind::Group => "SELECT 1 FROM groups WHERE tenant_id = $1 AND id = $2",
    };
    let found = query_opt(conn, sql, &[&tenant, &id], |_| Ok(()))?;
    Ok(found.is_some())
}

/// The type of a member: the one the client gave, checked, or the table that holds
/// the id. `None` when no resource of the tenant has that id (or not of the given
/// type): such members are skipped, not refused. Entra and Okta only send ids this
/// server returned, so an unknown id is one deleted meanwhile; refusing the whole
/// PATCH would make the IdP retry it forever. A group naming itself is 400.
fn resolve_member(
    conn: &Connection,
    tenant: &str,
    group_id: &str,
    member: &MemberRef,
) -> StoreResult<Option<ResourceKind>> {
    if member.value == group_id {
        return Err(ScimError::invalid_value(format!(
            "group '{group_id}' cannot be a member of itself"
        ))
        .into());
    }
    let candidates: &[ResourceKind] = match member.kind {
        Some(ResourceKind::User) => &[ResourceKind::User],
        Some(ResourceKind::Group) => &[ResourceKind::Group],
        None => &[ResourceKind::User, ResourceKind::Group],
    };
    for kind in candidates {
        if exists(conn, tenant, *kind, &member.value)? {
            return Ok(Some(*kind));
        }
    }
    tracing::debug!(
        group = group_id,
        "skipped a member that is not a resource of the tenant"
    );
    Ok(None)
}

fn add_one(
    conn: &Connection,
    tenant: &str,
    group_id: &str,
    member: &MemberRef,
) -> StoreResult<bool> {
    let Some(kind) = resolve_member(conn, tenant, group_id, member)? else {
        return Ok(false);
    };
    let done = execute(
        conn,
        "INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &[
            &tenant,
            &group_id,
            &member.value,
            &kind_text(kind),
            &member.display.as_deref(),
        ],
    )?;
    Ok(done > 0)
}

/// Applies membership changes in order; returns whether any row changed.
pub(super) fn apply(
    conn: &Connection,
    tenant: &str,
    group_id: &str,
    changes: &[MemberChange],
) -> StoreResult<bool> {
    let mut changed = false;
    for change in changes {
        match change {
            MemberChange::Add(members) => {
                for member in members {
                    changed |= add_one(conn, tenant, group_id, member)?;
                }
            }
            MemberChange::Remove(ids) => {
                for id in ids {
                    let done = execute(
                        conn,
                        "DELETE FROM group_members \
                         WHERE tenant_id = $1 AND group_id = $2 AND member_id = $3",
                        &[&tenant, &group_id, id],
                    )?;
                    changed |= done > 0;
                }
            }
            MemberChange::RemoveAll => {
                let done = execute(
                    conn,
                    "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2",
                    &[&tenant, &group_id],
                )?;
                changed |= done > 0;
            }
            MemberChange::ReplaceAll(members) => {
                // Validate first so that a bad id leaves nothing half-done (the
                // transaction would roll back anyway; this gives the clearer error).
                for member in members {
                    resolve_member(conn, tenant, group_id, member)?;
                }
                let keep = serde_json::Value::from(
                    members
                        .iter()
                        .map(|m| serde_json::Value::from(m.value.as_str()))
                        .collect::<Vec<_>>(),
                )
                .to_string();
                let done = execute(
                    conn,
                    "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 \
                     AND member_id NOT IN (SELECT value FROM json_each($3))",
                    &[&tenant, &group_id, &keep],
                )?;
                changed |= done > 0;
                for member in members {
                    changed |= add_one(conn, tenant, group_id, member)?;
                }
            }
        }
    }
    Ok(changed)
}

/// A group's members, ordered by id, with the `display` their client sent, if any.
///
/// `display` is not derived from the member: clients compare what they wrote with what
/// they read back (scim2-tester, Entra), and Microsoft's validator expects its own
/// label back. Not joining also keeps reading a 100,000-member group to one index
/// range scan of `group_members`.
pub(super) fn load_members(
    conn: &Connection,
    tenant: &str,
    group_id: &str,
) -> StoreResult<Vec<Member>> {
    query_all(
        conn,
        "SELECT member_id, member_type, display FROM group_members \
         WHERE tenant_id = $1 AND group_id = $2 \
         ORDER BY member_id",
        &[&tenant, &group_id],
        |row| {
            Ok(Member {
                value: row.get("member_id")?,
                kind: kind_of(&row.get::<_, String>("member_type")?)?,
                display: row.get("display")?,
            })
        },
    )
}

/// The groups a user is a direct member of, ordered by id.
pub(super) fn load_groups(
    conn: &Connection,
    tenant: &str,
    user_id: &str,
) -> StoreResult<Vec<GroupRef>> {
    query_all(
        conn,
        "SELECT g.id, g.display_name FROM group_members gm \
         JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
         WHERE gm.tenant_id = $1 AND gm.member_id = $2 \
         ORDER BY g.id",
        &[&tenant, &user_id],
        |row| {
            Ok(GroupRef {
                value: row.get("id")?,
                display: row.get("display_name")?,
            })
        },
    )
}

/// Removes every membership naming `id` as a member, bumping the version of the groups
/// that lose it (their `members` changed, so their ETag must too).
pub(super) fn forget_member(
    conn: &Connection,
    tenant: &str,
    id: &str,
    now: &str,
) -> StoreResult<()> {
    execute(
        conn,
        "UPDATE groups SET version = version + 1, last_modified = $3 \
         WHERE tenant_id = $1 AND id IN \
           (SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $2)",
        &[&tenant, &id, &now],
    )?;
    execute(
        conn,
        "DELETE FROM group_members WHERE tenant_id = $1 AND member_id = $2",
        &[&tenant, &id],
    )?;
    Ok(())
}
