//! The single-resource operations (RFC 7644 §3.3, §3.4.1, §3.5.1, §3.5.2, §3.6),
//! free of HTTP: the handlers and Bulk (§3.7) both run them, so a Bulk operation
//! behaves exactly like the request it stands for.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use scimd_protocol::etag::{etag, IfMatch};
use scimd_protocol::filter::FilterLimits;
use scimd_protocol::patch::{apply_patch, parse_patch, PatchLimits};
use scimd_protocol::projection::Projection;
use scimd_protocol::resource::{
    normalize_for_write, render_lazy, render_text, MemberChange, RenderContext, Rendered, WriteMode,
};
use scimd_protocol::{ResourceKind, ScimError, ScimResult};
use scimd_store::{Fetch, NewResource, StoreError, StoredResource, Update, UpdateFn};
use serde_json::Value;

/// Where a request acts: the application, the authenticated tenant and the tenant's
/// base URL. The tenant id here always comes from [`crate::auth::TenantAuth`].
#[derive(Clone)]
pub struct Scope {
    /// The application state.
    pub state: AppState,
    /// The tenant every store call is made for.
    pub tenant: String,
    /// The tenant's SCIM base URL, e.g. `https://scim.example.com/scim/v2/acme`.
    pub base_url: String,
}

impl Scope {
    /// The filter limits from the configuration.
    pub fn filter_limits(&self) -> FilterLimits {
        let limits = &self.state.config().limits;
        FilterLimits {
            max_length: limits.max_filter_length,
            max_depth: limits.max_filter_depth,
        }
    }

    /// The PATCH limits from the configuration.
    pub fn patch_limits(&self) -> PatchLimits {
        PatchLimits {
            max_operations: self.state.config().limits.max_patch_operations,
            filter: self.filter_limits(),
        }
    }

    /// Renders a stored resource as the client sees it, projected. A group's members
    /// are written from the stored list as the body is serialised, never built as JSON
    /// values (see [`Rendered`]); a document read as its stored text
    /// ([`Fetch::document_text`]) is mostly copied from the text (see [`render_text`]).
    /// An error only for a stored document that is not a JSON object.
    pub fn render<'a>(
        &'a self,
        stored: &'a StoredResource,
        projection: &Projection,
    ) -> ApiResult<Rendered<'a>> {
        let ctx = RenderContext {
            registry: self.state.registry(),
            kind: stored.kind,
            id: &stored.id,
            meta: &stored.meta,
            base_url: &self.base_url,
            members: stored.members.as_deref(),
            groups: stored.groups.as_deref(),
        };
        match &stored.document_text {
            Some(text) => render_text(text, &ctx, projection).map_err(|e| {
                StoreError::Database(format!(
                    "stored document of {} {} is not a JSON object: {e}",
                    stored.kind.name(),
                    stored.id
                ))
                .into()
            }),
            None => Ok(render_lazy(&stored.document, &ctx, projection)),
        }
    }

    /// The URL of a resource (`meta.location`, the `Location` header).
    pub fn location(&self, kind: ResourceKind, id: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base_url.trim_end_matches('/'),
            kind.endpoint(),
            id
        )
    }
}

/// What to load with a resource so the projection can be answered: members and
/// groups only when they will be returned (R11: `excludedAttributes=members` must not
/// even load them).
pub fn fetch_for(kind: ResourceKind, projection: &Projection) -> Fetch {
    match kind {
        ResourceKind::Group => Fetch {
            members: projection.includes_attribute("members"),
            ..Fetch::NONE
        },
        ResourceKind::User => Fetch {
            groups: projection.includes_attribute("groups"),
            ..Fetch::NONE
        },
    }
}

/// [`fetch_for`] for a read that only renders what it reads (a GET, a list): the
/// document may come as its stored text.
pub fn fetch_to_render(kind: ResourceKind, projection: &Projection) -> Fetch {
    Fetch {
        document_text: true,
        ..fetch_for(kind, projection)
    }
}

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::not_found(format!("{} '{id}' not found", kind.name()))
}

/// Checks an `If-Match` precondition against the current version (RFC 7644 §3.14).
pub fn check_precondition(precondition: Option<&IfMatch>, current_version: u64) -> ScimResult<()> {
    match precondition {
        Some(wanted) if !wanted.matches(current_version) => {
            Err(ScimError::precondition_failed(format!(
                "the resource is at version {}, not the one in If-Match; read it again and retry",
                etag(current_version)
            )))
        }
        _ => Ok(()),
    }
}

/// POST: creates a resource from a client body (RFC 7644 §3.3).
pub async fn create(
    scope: &Scope,
    kind: ResourceKind,
    body: &Value,
    fetch: Fetch,
) -> ApiResult<StoredResource> {
    let normalized = normalize_for_write(body, scope.state.registry(), kind, WriteMode::Create)?;
    let new = NewResource {
        document: normalized.document,
        members: normalized.members.unwrap_or_default(),
    };
    Ok(scope
        .state
        .store()
        .create(&scope.tenant, kind, new, fetch)
        .await?)
}

/// GET of one resource (RFC 7644 §3.4.1); unknown id is 404.
pub async fn read(
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    fetch: Fetch,
) -> ApiResult<StoredResource> {
    scope
        .state
        .store()
        .get(&scope.tenant, kind, id, fetch)
        .await?
        .ok_or_else(|| ApiError::from(not_found(kind, id)))
}

/// PUT: replaces a resource (RFC 7644 §3.5.1), atomically with the precondition.
///
/// R19: `members` in the body replace the membership (Okta pushes groups this way).
/// A body without `members` leaves the membership as it is: a client that read the
/// group with `excludedAttributes=members` and writes it back must not empty it.
pub async fn replace(
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    body: Value,
    precondition: Option<IfMatch>,
    fetch: Fetch,
) -> ApiResult<StoredResource> {
    let state = scope.state.clone();
    let change: UpdateFn = Box::new(move |current: &StoredResource| {
        check_precondition(precondition.as_ref(), current.meta.version)?;
        let normalized = normalize_for_write(
            &body,
            state.registry(),
            kind,
            WriteMode::Replace {
                existing: &current.document,
            },
        )?;
        let members = match (kind, normalized.members) {
            (ResourceKind::Group, Some(list)) => vec![MemberChange::ReplaceAll(list)],
            _ => Vec::new(),
        };
        Ok(Update {
            document: normalized.document,
            members,
        })
    });
    Ok(scope
        .state
        .store()
        .update(&scope.tenant, kind, id, None, change, fetch)
        .await?)
}

/// PATCH (RFC 7644 §3.5.2). The body is parsed before the store is touched; the
/// operations are applied inside the store's transaction, so concurrent PATCHes of one
/// group never lose each other's member changes.
pub async fn patch(
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    body: &Value,
    precondition: Option<IfMatch>,
    fetch: Fetch,
) -> ApiResult<StoredResource> {
    let request = parse_patch(body, &scope.patch_limits())?;
    let state = scope.state.clone();
    let change: UpdateFn = Box::new(move |current: &StoredResource| {
        check_precondition(precondition.as_ref(), current.meta.version)?;
        let outcome = apply_patch(&current.document, &request, state.registry(), kind)?;
        Ok(Update {
            document: outcome.document,
            members: outcome.members,
        })
    });
    Ok(scope
        .state
        .store()
        .update(&scope.tenant, kind, id, None, change, fetch)
        .await?)
}

/// DELETE (RFC 7644 §3.6), with the precondition checked by the store.
pub async fn delete(
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    precondition: Option<IfMatch>,
) -> ApiResult<()> {
    let store = scope.state.store();
    let expected_version = match precondition {
        None | Some(IfMatch::Any) => None,
        Some(IfMatch::Versions(versions)) => match versions.as_slice() {
            [single] => Some(*single),
            _ => {
                // Several (or no usable) tags: find the current version, check it, and
                // let the store re-check it so the delete stays conditional.
                let current = read(scope, kind, id, Fetch::NONE).await?;
                check_precondition(Some(&IfMatch::Versions(versions)), current.meta.version)?;
                Some(current.meta.version)
            }
        },
    };
    store
        .delete(&scope.tenant, kind, id, expected_version)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimd_protocol::SchemaRegistry;

    fn projection(
        attributes: Option<&str>,
        excluded: Option<&str>,
        kind: ResourceKind,
    ) -> Projection {
        Projection::parse(attributes, excluded, &SchemaRegistry::with_core(), kind).unwrap()
    }

    /// R11: `excludedAttributes=members` means the member table is not read at all.
    #[test]
    fn excluded_members_are_not_fetched() {
        let group = ResourceKind::Group;
        assert!(!fetch_for(group, &projection(None, Some("members"), group)).members);
        assert!(!fetch_for(group, &projection(Some("displayName"), None, group)).members);
        assert!(fetch_for(group, &projection(None, None, group)).members);
        assert!(fetch_for(group, &projection(Some("members.value"), None, group)).members);
        let user = ResourceKind::User;
        assert!(!fetch_for(user, &projection(None, Some("groups"), user)).groups);
        assert!(fetch_for(user, &projection(None, None, user)).groups);
    }
}
