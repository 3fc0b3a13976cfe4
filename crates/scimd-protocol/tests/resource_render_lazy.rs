//! `render_lazy` (a group's members written as they are serialised) gives byte for byte
//! what `render` gives, whatever the projection (RFC 7644 §3.4.2.5) and whatever the
//! members look like.

use proptest::prelude::*;
use scimd_protocol::projection::Projection;
use scimd_protocol::resource::{render, render_lazy, Document, Member, Meta, RenderContext};
use scimd_protocol::{ResourceKind, SchemaRegistry};
use serde_json::json;
use time::macros::datetime;

const BASE: &str = "https://example.com/scim/v2/acme";

fn group_doc() -> Document {
    json!({"displayName": "Engineering", "externalId": "eng-1"})
        .as_object()
        .unwrap()
        .clone()
}

fn member(i: usize, display: bool, group: bool) -> Member {
    Member {
        value: format!("m-{i:04}"),
        kind: if group {
            ResourceKind::Group
        } else {
            ResourceKind::User
        },
        display: display.then(|| format!("Member \"{i}\" é")),
    }
}

/// Both renderings of the group, serialised.
fn both(members: &[Member], attributes: Option<&str>, excluded: Option<&str>) -> (String, String) {
    let registry = SchemaRegistry::with_core();
    let meta = Meta {
        created: datetime!(2026-01-02 03:04:05 UTC),
        last_modified: datetime!(2026-01-03 03:04:05.5 UTC),
        version: 7,
    };
    let ctx = RenderContext {
        registry: &registry,
        kind: ResourceKind::Group,
        id: "g-1",
        meta: &meta,
        base_url: BASE,
        members: Some(members),
        groups: None,
    };
    let projection =
        Projection::parse(attributes, excluded, &registry, ResourceKind::Group).unwrap();
    let doc = group_doc();
    let eager = serde_json::to_string(&render(&doc, &ctx, &projection)).unwrap();
    let rendered = render_lazy(&doc, &ctx, &projection);
    let lazy = serde_json::to_string(&rendered).unwrap();
    // And materialised, it is the same value again.
    assert_eq!(
        rendered.into_value(),
        serde_json::from_str::<serde_json::Value>(&eager).unwrap()
    );
    (eager, lazy)
}

const PROJECTIONS: &[(Option<&str>, Option<&str>)] = &[
    (None, None),
    (Some("members"), None),
    (Some("members.value"), None),
    (Some("members.value,members.display"), None),
    (
        Some("members.value,members.display,members.type,members.$ref"),
        None,
    ),
    (Some("displayName"), None),
    (Some("displayName,members"), None),
    (
        Some("urn:ietf:params:scim:schemas:core:2.0:Group:members"),
        None,
    ),
    (None, Some("members")),
    (None, Some("members.display")),
    (None, Some("members.$ref")),
    (None, Some("displayName")),
    (None, Some("meta")),
    (Some("nonsense"), None),
];

#[test]
fn every_projection_serialises_the_same() {
    let members: Vec<Member> = (0..5).map(|i| member(i, i % 2 == 0, i == 3)).collect();
    for (attributes, excluded) in PROJECTIONS {
        let (eager, lazy) = both(&members, *attributes, *excluded);
        assert_eq!(
            eager, lazy,
            "attributes={attributes:?} excluded={excluded:?}"
        );
    }
}

#[test]
fn members_are_written_where_render_puts_them() {
    let members = [member(1, true, false)];
    let (_, lazy) = both(&members, None, None);
    let keys: Vec<&str> = [
        "\"schemas\"",
        "\"id\"",
        "\"displayName\"",
        "\"members\"",
        "\"meta\"",
    ]
    .into_iter()
    .collect();
    let positions: Vec<usize> = keys.iter().map(|k| lazy.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{lazy}");
    assert!(lazy.contains(r#""$ref":"https://example.com/scim/v2/acme/Users/m-0001""#));
}

#[test]
fn a_group_without_members_has_no_members_key() {
    let (eager, lazy) = both(&[], None, None);
    assert_eq!(eager, lazy);
    assert!(!lazy.contains("members"));
}

proptest! {
    #[test]
    fn any_members_any_projection(
        shape in proptest::collection::vec((any::<bool>(), any::<bool>()), 0..20),
        which in 0..PROJECTIONS.len(),
    ) {
        let members: Vec<Member> = shape
            .iter()
            .enumerate()
            .map(|(i, (display, group))| member(i, *display, *group))
            .collect();
        let (attributes, excluded) = PROJECTIONS[which];
        let (eager, lazy) = both(&members, attributes, excluded);
        prop_assert_eq!(eager, lazy);
    }
}
