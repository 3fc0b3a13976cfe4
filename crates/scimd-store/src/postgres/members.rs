//! Group memberships: one row per (group, member), changed by deltas.
//!
//! Adding or removing one member is one key lookup of the member and one INSERT ...
//! ON CONFLICT DO NOTHING or one DELETE in `group_members`, whatever the group's size.
//! Concurrent changes to one group are serialised by the caller's `SELECT ... FOR
//! UPDATE` of the group row; a member being added is held with `FOR KEY SHARE`, so a
//! concurrent delete of that member waits for the addition and then removes the new
//! membership too (no membership ever names a deleted resource).

use super::failure::PgResult;
use crate::StoreError;
use scimd_protocol::resource::{GroupRef, Member, MemberChange, MemberRef};
use scimd_protocol::{ResourceKind, ScimError};
use sqlx::{PgConnection, Row};

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

/// Whether the resource exists, holding it (FOR KEY SHARE) until the transaction ends.
async fn lock_existing(
    conn: &mut PgConnection,
    tenant: &str,
    kind: ResourceKind,
    id: &str,
) -> PgResult<bool> {
    let sql = match kind {
        ResourceKind::User => "SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE",
        ResourceKind::Group => {
            "SELECT 1 FROM groups WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE"
        }
    };
    let found: Option<i32> = sqlx::query_scalar(sql)
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// The type of a member, as on SQLite: the one the client gave, checked, or the
/// table holding the id; `None` (skipped) when the tenant has no such resource. A
/// group naming itself is 400.
async fn resolve_member(
    conn: &mut PgConnection,
    tenant: &str,
    group_id: &str,
    member: &MemberRef,
) -> PgResult<Option<ResourceKind>> {
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
        if lock_existing(conn, tenant, *kind, &member.value).await? {
            return Ok(Some(*kind));
        }
    }
    tracing::debug!(
        group = group_id,
        "skipped a member that is not a resource of the tenant"
    );
    Ok(None)
}

async fn add_one(
    conn: &mut PgConnection,
    tenant: &str,
    group_id: &str,
    member: &MemberRef,
) -> PgResult<bool> {
    let Some(kind) = resolve_member(conn, tenant, group_id, member).await? else {
        return Ok(false);
    };
    let done = sqlx::query(
        "INSERT INTO group_members (tenant_id, group_id, member_id, member_type, display) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(group_id)
    .bind(&member.value)
    .bind(kind.name())
    .bind(member.display.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Applies membership changes in order; returns whether any row changed.
pub(super) async fn apply(
    conn: &mut PgConnection,
    tenant: &str,
    group_id: &str,
    changes: &[MemberChange],
) -> PgResult<bool> {
    let mut changed = false;
    for change in changes {
        match change {
            MemberChange::Add(members) => {
                for member in members {
                    changed |= add_one(conn, tenant, group_id, member).await?;
                }
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
                // Validate first so that a bad id gives the clearer error.
                for member in members {
                    resolve_member(conn, tenant, group_id, member).await?;
                }
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
                for member in members {
                    changed |= add_one(conn, tenant, group_id, member).await?;
                }
            }
        }
    }
    Ok(changed)
}

/// A group's members, ordered by id, with the `display` their client sent, if any
/// (not joined with the members: one index range scan of `group_members`).
pub(super) async fn load_members(
    conn: &mut PgConnection,
    tenant: &str,
    group_id: &str,
) -> PgResult<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT member_id, member_type, display FROM group_members \
         WHERE tenant_id = $1 AND group_id = $2 ORDER BY member_id",
    )
    .bind(tenant)
    .bind(group_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Member {
                value: row.try_get("member_id")?,
                kind: kind_of(row.try_get("member_type")?)?,
                display: row.try_get("display")?,
            })
        })
        .collect()
}

/// The groups a user is a direct member of, ordered by id.
pub(super) async fn load_groups(
    conn: &mut PgConnection,
    tenant: &str,
    user_id: &str,
) -> PgResult<Vec<GroupRef>> {
    let rows = sqlx::query(
        "SELECT g.id, g.display_name FROM group_members gm \
         JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
         WHERE gm.tenant_id = $1 AND gm.member_id = $2 ORDER BY g.id",
    )
    .bind(tenant)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(GroupRef {
                value: row.try_get("id")?,
                display: row.try_get("display_name")?,
            })
        })
        .collect()
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
