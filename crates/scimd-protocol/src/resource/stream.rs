//! The default projection written straight from the stored document.
//!
//! Most reads carry neither `attributes` nor `excludedAttributes` (Entra's and Okta's
//! GETs and `userName eq` queries), so they get the default projection (RFC 7644
//! §3.4.2.5): every attribute whose `returned` is `always` or `default` (RFC 7643 §7).
//! [`render`](super::render) builds that as a new JSON object, cloning every key and
//! value of the document, and [`Projection::apply`](crate::projection::Projection::apply)
//! then walks it again; for a GET by id that was a tenth of the server's CPU
//! (docs/benchmarks.md, item 32). [`DefaultView`] writes the same bytes to the
//! serialiser while it walks the document, and allocates nothing but the dates and
//! URLs it formats.
//!
//! It only takes documents in the shape the store writes: every key the schema knows
//! spelt as the schema spells it, so no two keys can render to one, and none of the
//! keys the server writes itself (`id`, `meta`, `members`, ...). Anything else, e.g.
//! data written by hand or by an older version, goes through `render`, which is the
//! definition; `tests/resource_render_stream.rs` checks that both give the same bytes
//! for arbitrary documents and schemas.

use super::normalize::parse_boolean;
use super::render::{format_date_time, MembersJson, RenderContext, ResourceLocation};
use super::{Document, GroupRef};
use crate::etag::WeakEtag;
use crate::schema::{Attribute, AttributeType, ResourceKind, Returned, Schema};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Top-level names the renderer writes itself; a document key that resolves to one
/// of them is not in the store's shape.
pub(super) const SERVER_WRITTEN: &[&str] =
    &["id", "externalId", "meta", "schemas", "members", "groups"];

/// A resource under the default projection, serialised as it is walked. Serialises
/// exactly as `render(doc, ctx, &Projection::Default)` would.
#[derive(Debug, Clone, Copy)]
pub(super) struct DefaultView<'a> {
    doc: &'a Document,
    ctx: RenderContext<'a>,
}

impl<'a> DefaultView<'a> {
    /// The view of `doc`, or `None` when the document is not in the store's shape (see
    /// the module docs) or the schema makes the server-written attributes anything but
    /// plain: then the caller renders it the general way.
    pub(super) fn new(doc: &'a Document, ctx: RenderContext<'a>) -> Option<Self> {
        let registry = ctx.registry;
        let core = registry.core_schema(ctx.kind);
        for (key, value) in doc {
            let Some(attr) = core.attribute(key) else {
                continue;
            };
            if *key != attr.name || SERVER_WRITTEN.contains(&attr.name.as_str()) {
                return None;
            }
            if !canonical_value(attr, value) {
                return None;
            }
        }
        for ext in registry.extensions(ctx.kind) {
            if let Some(Value::Object(inner)) = doc.get(&ext.id) {
                for (key, value) in inner {
                    match ext.attribute(key) {
                        Some(attr) if *key == attr.name && canonical_value(attr, value) => {}
                        Some(_) => return None,
                        None => {}
                    }
                }
            }
        }
        if generated_hide_sub_attributes(&ctx) {
            return None;
        }
        Some(DefaultView { doc, ctx })
    }

    /// The extensions that keep at least one attribute, in the registry's order.
    fn shown_extensions(&self) -> impl Iterator<Item = (&'a Schema, &'a Document)> + '_ {
        let doc = self.doc;
        self.ctx
            .registry
            .extensions(self.ctx.kind)
            .filter_map(move |ext| {
                let Some(Value::Object(inner)) = doc.get(&ext.id) else {
                    return None;
                };
                let shown = inner.iter().any(|(key, value)| {
                    ext.attribute(key)
                        .is_some_and(|attr| shown_by_default(attr) && renders(attr, value))
                });
                shown.then_some((ext, inner))
            })
    }
}

/// Whether the keys inside a complex value are spelt as the schema spells them.
fn canonical_value(attr: &Attribute, value: &Value) -> bool {
    if attr.kind != AttributeType::Complex {
        return true;
    }
    let canonical_object = |object: &serde_json::Map<String, Value>| {
        object
            .iter()
            .all(|(key, inner)| match attr.sub_attribute(key) {
                Some(sub) => *key == sub.name && canonical_value(sub, inner),
                None => true,
            })
    };
    match value {
        Value::Object(object) => canonical_object(object),
        Value::Array(items) => items.iter().all(|item| match item {
            Value::Object(object) => canonical_object(object),
            _ => true,
        }),
        _ => true,
    }
}

/// A top-level attribute as the projection finds it: a common one first.
pub(super) fn top_level<'r>(ctx: &RenderContext<'r>, name: &str) -> Option<&'r Attribute> {
    ctx.registry
        .common_attributes()
        .iter()
        .find(|a| a.name == name)
        .or_else(|| ctx.registry.core_schema(ctx.kind).attribute(name))
}

/// Whether the default projection keeps an attribute (RFC 7643 §7, "returned").
pub(super) fn shown_by_default(attr: &Attribute) -> bool {
    matches!(attr.returned, Returned::Always | Returned::Default)
}

/// Whether the schema hides a sub-attribute of `meta` or of the generated `members` /
/// `groups`. The views write those whole when shown, so none of their sub-attributes
/// may be one the projection removes; when one is, the general rendering is taken.
pub(super) fn generated_hide_sub_attributes(ctx: &RenderContext<'_>) -> bool {
    let generated = match ctx.kind {
        ResourceKind::Group => "members",
        ResourceKind::User => "groups",
    };
    ["meta", generated].into_iter().any(|name| {
        top_level(ctx, name).is_some_and(|attr| {
            attr.sub_attributes
                .iter()
                .any(|s| s.returned == Returned::Never)
        })
    })
}

/// Whether a server-written attribute is kept; one the schema does not know is.
pub(super) fn shown(attr: Option<&Attribute>) -> bool {
    attr.is_none_or(shown_by_default)
}

/// Whether `render` gives this stored value anything to write.
pub(super) fn renders(attr: &Attribute, value: &Value) -> bool {
    if attr.returned == Returned::Never || value.is_null() {
        return false;
    }
    match (attr.multi_valued, value) {
        (true, Value::Array(items)) => items.iter().any(|item| renders_single(attr, item)),
        (_, single) => renders_single(attr, single),
    }
}

fn renders_single(attr: &Attribute, value: &Value) -> bool {
    match attr.kind {
        AttributeType::Boolean => parse_boolean(value).is_some(),
        AttributeType::Complex => match value {
            Value::Object(object) => object.iter().any(|(key, inner)| {
                attr.sub_attribute(key)
                    .is_none_or(|sub| renders(sub, inner))
            }),
            Value::String(s) => !s.is_empty() && attr.sub_attribute("value").is_some(),
            _ => false,
        },
        _ => true,
    }
}

impl Serialize for DefaultView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ctx = &self.ctx;
        let core = ctx.registry.core_schema(ctx.kind);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("schemas", &SchemasJson(self))?;
        if shown(top_level(ctx, "id")) {
            map.serialize_entry("id", ctx.id)?;
        }
        if let Some(external_id) = self.doc.get("externalId").filter(|v| v.is_string()) {
            if shown(top_level(ctx, "externalId")) {
                map.serialize_entry("externalId", external_id)?;
            }
        }
        for (key, value) in self.doc {
            if let Some(attr) = core.attribute(key) {
                if shown_by_default(attr) && renders(attr, value) {
                    map.serialize_entry(&attr.name, &AttributeJson { attr, value })?;
                }
            }
        }
        for (ext, inner) in self.shown_extensions() {
            map.serialize_entry(&ext.id, &ExtensionJson { ext, inner })?;
        }
        write_generated(&mut map, ctx)?;
        map.end()
    }
}

/// What follows the attributes: a group's `members` or a user's `groups` when loaded
/// and shown, then `meta`.
pub(super) fn write_generated<M: SerializeMap>(
    map: &mut M,
    ctx: &RenderContext<'_>,
) -> Result<(), M::Error> {
    match ctx.kind {
        ResourceKind::Group => {
            if let Some(members) = ctx.members.filter(|m| !m.is_empty()) {
                if shown(top_level(ctx, "members")) {
                    let members = MembersJson {
                        base_url: ctx.base_url,
                        members,
                    };
                    map.serialize_entry("members", &members)?;
                }
            }
        }
        ResourceKind::User => {
            if let Some(groups) = ctx.groups.filter(|g| !g.is_empty()) {
                if shown(top_level(ctx, "groups")) {
                    map.serialize_entry("groups", &GroupsList { ctx, groups })?;
                }
            }
        }
    }
    if shown(top_level(ctx, "meta")) {
        map.serialize_entry("meta", &MetaJson(ctx))?;
    }
    Ok(())
}

/// `schemas`: the core schema, then each extension that keeps an attribute.
struct SchemasJson<'v, 'a>(&'v DefaultView<'a>);

impl Serialize for SchemasJson<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(view.ctx.kind.core_schema())?;
        for (ext, _) in view.shown_extensions() {
            seq.serialize_element(&ext.id)?;
        }
        seq.end()
    }
}

/// One extension's object: its attributes the default projection keeps.
struct ExtensionJson<'a> {
    ext: &'a Schema,
    inner: &'a Document,
}

impl Serialize for ExtensionJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.inner {
            if let Some(attr) = self.ext.attribute(key) {
                if shown_by_default(attr) && renders(attr, value) {
                    map.serialize_entry(&attr.name, &AttributeJson { attr, value })?;
                }
            }
        }
        map.end()
    }
}

/// A stored attribute value written strictly (what `render_attribute` returns), for a
/// value [`renders`] accepted.
pub(super) struct AttributeJson<'a> {
    attr: &'a Attribute,
    value: &'a Value,
}

impl<'a> AttributeJson<'a> {
    /// A value [`renders`] accepted, written as `render_attribute` writes it.
    pub(super) fn new(attr: &'a Attribute, value: &'a Value) -> Self {
        AttributeJson { attr, value }
    }
}

impl Serialize for AttributeJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let attr = self.attr;
        if !attr.multi_valued {
            return SingleJson {
                attr,
                value: self.value,
            }
            .serialize(serializer);
        }
        let mut seq = serializer.serialize_seq(None)?;
        match self.value {
            Value::Array(items) => {
                for item in items.iter().filter(|item| renders_single(attr, item)) {
                    seq.serialize_element(&SingleJson { attr, value: item })?;
                }
            }
            single => seq.serialize_element(&SingleJson {
                attr,
                value: single,
            })?,
        }
        seq.end()
    }
}

/// One value of an attribute, for a value [`renders_single`] accepted.
struct SingleJson<'a> {
    attr: &'a Attribute,
    value: &'a Value,
}

impl Serialize for SingleJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let attr = self.attr;
        match (attr.kind, self.value) {
            (AttributeType::Boolean, value) => match parse_boolean(value) {
                Some(flag) => serializer.serialize_bool(flag),
                None => serializer.serialize_none(),
            },
            (AttributeType::Complex, Value::Object(object)) => {
                let mut map = serializer.serialize_map(None)?;
                for (key, inner) in object {
                    match attr.sub_attribute(key) {
                        Some(sub) => {
                            if renders(sub, inner) {
                                map.serialize_entry(
                                    &sub.name,
                                    &AttributeJson {
                                        attr: sub,
                                        value: inner,
                                    },
                                )?;
                            }
                        }
                        // Sub-attributes the schema lost: returned as stored.
                        None => map.serialize_entry(key, inner)?,
                    }
                }
                map.end()
            }
            // A bare string stored for `manager` (R10): always an object on output.
            (AttributeType::Complex, value) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("value", value)?;
                map.end()
            }
            (_, value) => value.serialize(serializer),
        }
    }
}

/// A user's groups (RFC 7643 §4.1.2): `value`, `display` when known, `$ref`, `type`.
struct GroupsList<'c, 'a> {
    ctx: &'c RenderContext<'a>,
    groups: &'a [GroupRef],
}

impl Serialize for GroupsList<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.groups.len()))?;
        for group in self.groups {
            seq.serialize_element(&GroupJson {
                base_url: self.ctx.base_url,
                group,
            })?;
        }
        seq.end()
    }
}

struct GroupJson<'a> {
    base_url: &'a str,
    group: &'a GroupRef,
}

impl Serialize for GroupJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let group = self.group;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("value", &group.value)?;
        if let Some(display) = &group.display {
            map.serialize_entry("display", display)?;
        }
        map.serialize_entry(
            "$ref",
            &ResourceLocation {
                base_url: self.base_url,
                kind: ResourceKind::Group,
                id: &group.value,
            },
        )?;
        map.serialize_entry("type", "direct")?;
        map.end()
    }
}

/// `meta` (RFC 7643 §3.1).
struct MetaJson<'c, 'a>(&'c RenderContext<'a>);

impl Serialize for MetaJson<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ctx = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("resourceType", ctx.kind.name())?;
        if let Some(created) = format_date_time(ctx.meta.created) {
            map.serialize_entry("created", &created)?;
        }
        if let Some(modified) = format_date_time(ctx.meta.last_modified) {
            map.serialize_entry("lastModified", &modified)?;
        }
        map.serialize_entry(
            "location",
            &ResourceLocation {
                base_url: ctx.base_url,
                kind: ctx.kind,
                id: ctx.id,
            },
        )?;
        map.serialize_entry("version", &WeakEtag(ctx.meta.version))?;
        map.end()
    }
}
