//! Group memberships: one row per (group, member), changed by deltas.
//!
//! Adding members is one statement that looks them up (and holds them) and one INSERT
//! ... ON CONFLICT DO NOTHING; removing them is one DELETE in `group_members`: two
//! round trips at most, whatever the group's size and however many members a change
//! names.
//! Concurrent changes to one group are serialised by the caller's `SELECT ... FOR
//! UPDATE` of the group row; a member being added is held with `FOR KEY SHARE`, so a
//! concurrent delete of that member waits for the addition and then removes the new
//! membership too (no membership ever names a deleted resource).

use super::failure::PgResult;
use crate::StoreError;
use scimd_protocol::resource::{GroupRef, Member, MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, ScimError};
use sqlx::{PgConnection, Row};
use std::collections::{HashMap, HashSet};

fn kind_of(text: &str) -> PgResult<ResourceKind> {
    match text {
        "User" => Ok(ResourceKind::User),
        "Group" => Ok(ResourceKind::Group),
        other => Err(StoreError::Database(format!(
            "unknown member type '{other}' in group_members"
        ))
        .into()),
    }
}

/// The members of `members` that are resources of the tenant, in the order given, each
/// with its type, as on SQLite: the type the client gave, checked, or the table holding
/// the id (users first). Members naming no resource of the tenant are skipped. A group
/// naming itself is 400. Every row found is held FOR KEY SHARE until the transaction
/// ends, so a concurrent delete of a member waits for the addition (and then removes
/// the new membership too).
///
/// One statement whatever the number of members: Entra adds members 50 to a PATCH and
/// a bulk load 1,000, and a lookup per member was a round trip per member.
async fn resolve_members<'m>(
    conn: &mut PgConnection,
    tenant: &str,
    group_id: &str,
    members: &'m [MemberRef],
) -> PgResult<Vec<(&'m MemberRef, ResourceKind)>> {
    if members.is_empty() {
        return Ok(Vec::new());
    }
    if members.iter().any(|member| member.value == group_id) {
        return Err(ScimError::invalid_value(format!(
            "group '{group_id}' cannot be a member of itself"
        ))
        .into());
    }
    let ids_of = |excluded: ResourceKind| -> Vec<&str> {
        members
            .iter()
            .filter(|member| member.kind != Some(excluded))
            .map(|member| member.value.as_str())
            .collect()
    };
    let (maybe_users, maybe_groups) = (ids_of(ResourceKind::Group), ids_of(ResourceKind::User));
    // Locked in id order, so two transactions adding overlapping members cannot
    // deadlock on them.
    let rows = sqlx::query(
        "WITH u AS (SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($2::text[]) \
                    ORDER BY id FOR KEY SHARE), \
              g AS (SELECT id FROM groups WHERE tenant_id = $1 AND id = ANY($3::text[]) \
                    ORDER BY id FOR KEY SHARE) \
         SELECT id, 'User' AS kind FROM u UNION ALL SELECT id, 'Group' AS kind FROM g",
    )
    .bind(tenant)
    .bind(&maybe_users)
    .bind(&maybe_groups)
    .fetch_all(&mut *conn)
    .await?;
    let mut users = HashSet::new();
    let mut groups = HashSet::new();
    for row in &rows {
        let id: String = row.try_get("id")?;
        match kind_of(row.try_get("kind")?)? {
            ResourceKind::User => users.insert(id),
            ResourceKind::Group => groups.insert(id),
        };
    }
    let found = |kind: ResourceKind, id: &str| match kind {
        ResourceKind::User => users.contains(id),
        ResourceKind::Group => groups.contains(id),
    };
    let mut resolved = Vec::with_capacity(members.len());
    for member in members {
        let candidates: &[ResourceKind] = match member.kind {
            Some(ResourceKind::User) => &[ResourceKind::User],
            Some(ResourceKind::Group) => &[ResourceKind::Group],
            None => &[ResourceKind::User, ResourceKind::Group],
        };
        match candidates.iter().find(|kind| found(**kind, &member.value)) {
            Some(kind) => resolved.push((member, *kind)),
            None => tracing::debug!(
                group = group_id,
                "skipped a member that is not a resource of the tenant"
            ),
        }
    }
    Ok(resolved)
}

/// Adds resolved members (see [`resolve_members`]) in one INSERT; returns how many
/// memberships are new. A member already in the group, or named twice, is added once,
/// with the `display` it was first given.
async fn insert_members(
    conn: &mut PgConnection,
    tenant: &str,
    group_id: &str,
    resolved: &[(&MemberRef, ResourceKind)],
) -> PgResult<u64> {
    if resolved.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = resolved.iter().map(|(m, _)| m.value.as_str()).collect();
    let kinds: Vec<&str> = resolved.iter().map(|(_, kind)| kind.name()).collect();
    let displays: Vec<Option<&str>> = resolved.iter().map(|(m, _)| m.display.as_deref()).collect();
    let done = sqlx::query(
        "INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display) \
         SELECT $1, $2, m.member_id, m.member_type, m.display \
         FROM UNNEST($3::text[], $4::text[], $5::text[]) WITH ORDINALITY \
           AS m(member_id, member_type, display, position) \
         ORDER BY m.position \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(group_id)
    .bind(&ids)
    .bind(&kinds)
    .bind(&displays)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// What [`apply`] did.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Applied {
    /// Whether any membership row was added or removed.
    pub(super) changed: bool,
    /// How many were added.
    pub(super) added: u64,
}

/// Applies membership changes in order.
pub(super) async fn apply(
    conn: &mut PgConnection,
    tenant: &str,
    group_id: &str,
    changes: &[MemberChange],
) -> PgResult<Applied> {
    let mut changed = false;
    let mut added = 0;
    for change in changes {
        match change {
            MemberChange::Add(members) => {
                let resolved = resolve_members(conn, tenant, group_id, members).await?;
                added += insert_members(conn, tenant, group_id, &resolved).await?;
            }
            MemberChange::Remove(ids) => {
                let done = sqlx::query(
                    "DELETE FROM group_members \
                     WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3::text[])",
                )
                .bind(tenant)
                .bind(group_id)
                .bind(ids)
                .execute(&mut *conn)
                .await?;
                changed |= done.rows_affected() > 0;
            }
            MemberChange::RemoveAll => {
                let done =
                    sqlx::query("DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2")
                        .bind(tenant)
                        .bind(group_id)
                        .execute(&mut *conn)
                        .await?;
                changed |= done.rows_affected() > 0;
            }
            MemberChange::ReplaceAll(members) => {
                // Validated (and the members held) before anything is deleted, so a bad
                // id gives the clearer error.
                let resolved = resolve_members(conn, tenant, group_id, members).await?;
                let keep: Vec<&str> = members.iter().map(|m| m.value.as_str()).collect();
                let done = sqlx::query(
                    "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 \
                     AND member_id <> ALL($3::text[])",
                )
                .bind(tenant)
                .bind(group_id)
                .bind(&keep)
                .execute(&mut *conn)
                .await?;
                changed |= done.rows_affected() > 0;
                added += insert_members(conn, tenant, group_id, &resolved).await?;
            }
        }
    }
    Ok(Applied {
        changed: changed || added > 0,
        added,
    })
}

/// The members of each of `group_ids`, ordered by id, with the `display` their client
/// sent, if any (not joined with the members: index range scans of `group_members`).
/// One statement for a page of groups.
pub(super) async fn load_members(
    conn: &mut PgConnection,
    tenant: &str,
    group_ids: &[&str],
) -> PgResult<HashMap<String, Vec<Member>>> {
    let rows = sqlx::query(
        "SELECT group_id, member_id, member_type, display FROM group_members \
         WHERE tenant_id = $1 AND group_id = ANY($2::text[]) ORDER BY group_id, member_id",
    )
    .bind(tenant)
    .bind(group_ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut members: HashMap<String, Vec<Member>> = HashMap::new();
    for row in &rows {
        members
            .entry(row.try_get("group_id")?)
            .or_default()
            .push(Member {
                value: row.try_get("member_id")?,
                kind: kind_of(row.try_get("member_type")?)?,
                display: row.try_get("display")?,
            });
    }
    Ok(members)
}

/// The groups each of `user_ids` is a direct member of, ordered by id. One statement
/// for a page of users (Okta imports users 100 to a page).
pub(super) async fn load_groups(
    conn: &mut PgConnection,
    tenant: &str,
    user_ids: &[&str],
) -> PgResult<HashMap<String, Vec<GroupRef>>> {
    let rows = sqlx::query(
        "SELECT gm.member_id, g.id, g.display_name FROM group_members gm \
         JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
         WHERE gm.tenant_id = $1 AND gm.member_id = ANY($2::text[]) \
         ORDER BY gm.member_id, g.id",
    )
    .bind(tenant)
    .bind(user_ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut groups: HashMap<String, Vec<GroupRef>> = HashMap::new();
    for row in &rows {
        groups
            .entry(row.try_get("member_id")?)
            .or_default()
            .push(GroupRef {
                value: row.try_get("id")?,
                display: row.try_get("display_name")?,
            });
    }
    Ok(groups)
}

/// Removes every membership naming `id` as a member, bumping the version of the groups
/// that lose it (their `members` changed, so their ETag must too).
pub(super) async fn forget_member(
    conn: &mut PgConnection,
    tenant: &str,
    id: &str,
    now: &str,
) -> PgResult<()> {
    sqlx::query(
        "UPDATE groups SET version = version + 1, last_modified = $3 \
         WHERE tenant_id = $1 AND id IN \
           (SELECT group_id FROM group_members WHERE tenant_id = $1 AND member_id = $2)",
    )
    .bind(tenant)
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM group_members WHERE tenant_id = $1 AND member_id = $2")
        .bind(tenant)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
