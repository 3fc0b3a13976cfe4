//! Rendering a stored resource as the JSON a client receives (RFC 7643 §3, §8).
//!
//! Order of keys: `schemas`, `id`, `externalId`, the core attributes in document
//! order, extension objects, `members`/`groups`, `meta`. The output is strict even
//! where input was lenient: booleans are JSON booleans (R6), `manager` is an object
//! (R10), `returned: never` attributes (`password`) never appear.

use super::normalize::parse_boolean;
use super::stream::DefaultView;
use super::text_view::TextView;
use super::{Document, GroupRef, Member, Meta};
use crate::etag::etag;
use crate::projection::Projection;
use crate::schema::{Attribute, AttributeType, ResourceKind, Returned, SchemaRegistry};
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// What the renderer needs besides the document.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The schemas.
    pub registry: &'a SchemaRegistry,
    /// User or Group.
    pub kind: ResourceKind,
    /// The resource id.
    pub id: &'a str,
    /// The server-maintained metadata.
    pub meta: &'a Meta,
    /// The base URL of the tenant's SCIM endpoint, without a trailing slash,
    /// e.g. `https://scim.example.com/scim/v2/acme`; `meta.location` and `$ref`s are built on it.
    pub base_url: &'a str,
    /// For groups: the members, when they were loaded.
    pub members: Option<&'a [Member]>,
    /// For users: the groups, when they were loaded.
    pub groups: Option<&'a [GroupRef]>,
}

/// Formats an instant as RFC 3339 in UTC (`2026-01-02T03:04:05Z`), keeping
/// sub-seconds when there are any. `None` only for years RFC 3339 cannot express.
pub fn format_date_time(instant: OffsetDateTime) -> Option<String> {
    instant.to_offset(UtcOffset::UTC).format(&Rfc3339).ok()
}

/// The URL of a resource: `<base_url>/Users/<id>` or `<base_url>/Groups/<id>`.
pub fn resource_location(base_url: &str, kind: ResourceKind, id: &str) -> String {
    ResourceLocation { base_url, kind, id }.to_string()
}

/// [`resource_location`] as it is written: serialised with `collect_str`, straight
/// into the output, so a response does not build a `String` per `meta.location` or
/// per member's `$ref` (a 100,000-member group has 100,000 of them).
#[derive(Debug, Clone, Copy)]
pub(super) struct ResourceLocation<'a> {
    pub(super) base_url: &'a str,
    pub(super) kind: ResourceKind,
    pub(super) id: &'a str,
}

impl fmt::Display for ResourceLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.base_url.trim_end_matches('/'),
            self.kind.endpoint(),
            self.id
        )
    }
}

impl Serialize for ResourceLocation<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Renders a resource, applying the projection.
///
/// ```
/// use scimd_protocol::resource::{render, Document, Meta, RenderContext};
/// use scimd_protocol::projection::Projection;
/// use scimd_protocol::{ResourceKind, SchemaRegistry};
/// use serde_json::json;
/// let registry = SchemaRegistry::with_core();
/// let t = time::macros::datetime!(2026-01-02 03:04:05 UTC);
/// let meta = Meta { created: t, last_modified: t, version: 3 };
/// let doc: Document = json!({"userName": "bjensen"}).as_object().unwrap().clone();
/// let ctx = RenderContext { registry: &registry, kind: ResourceKind::User, id: "42",
///     meta: &meta, base_url: "https://x/scim/v2", members: None, groups: None };
/// let out = render(&doc, &ctx, &Projection::Default);
/// assert_eq!(out["meta"]["location"], "https://x/scim/v2/Users/42");
/// assert_eq!(out["meta"]["version"], "W/\"3\"");
/// assert_eq!(out["meta"]["created"], "2026-01-02T03:04:05Z");
/// ```
pub fn render(doc: &Document, ctx: &RenderContext<'_>, projection: &Projection) -> Value {
    let registry = ctx.registry;
    let kind = ctx.kind;
    let core = registry.core_schema(kind);
    let mut out = Map::new();
    let mut schemas = vec![Value::String(kind.core_schema().to_owned())];
    out.insert("schemas".into(), Value::Null); // placeholder keeps `schemas` first
    out.insert("id".into(), Value::String(ctx.id.to_owned()));
    if let Some(external_id) = doc.get("externalId").filter(|v| v.is_string()) {
        out.insert("externalId".into(), external_id.clone());
    }
    for (key, value) in doc {
        if let Some(attr) = core.attribute(key) {
            if let Some(v) = render_attribute(attr, value) {
                out.insert(attr.name.clone(), v);
            }
        }
    }
    for ext in registry.extensions(kind) {
        let Some(Value::Object(inner)) = doc.get(&ext.id) else {
            continue;
        };
        let mut rendered = Map::new();
        for (key, value) in inner {
            if let Some(attr) = ext.attribute(key) {
                if let Some(v) = render_attribute(attr, value) {
                    rendered.insert(attr.name.clone(), v);
                }
            }
        }
        if !rendered.is_empty() {
            schemas.push(Value::String(ext.id.clone()));
            out.insert(ext.id.clone(), Value::Object(rendered));
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    match kind {
        ResourceKind::Group => {
            if let Some(members) = ctx.members.filter(|m| !m.is_empty()) {
                let list = members
                    .iter()
                    .map(|m| member_json(ctx.base_url, m))
                    .collect();
                out.insert("members".into(), Value::Array(list));
            }
        }
        ResourceKind::User => {
            if let Some(groups) = ctx.groups.filter(|g| !g.is_empty()) {
                let list = groups.iter().map(|g| group_json(ctx.base_url, g)).collect();
                out.insert("groups".into(), Value::Array(list));
            }
        }
    }
    out.insert("meta".into(), meta_json(ctx));
    projection.apply(&mut out, registry, kind);
    Value::Object(out)
}

/// A rendered resource whose members (a group's: 100,000 of them is a normal size) are
/// written from the stored list as it is serialised, never built as JSON values. A
/// `Value` per member costs several times the member's bytes in the response (a map,
/// four owned keys, four owned strings): reading a 100,000-member group took the
/// server from 29 to 150 MB of RSS for a 15 MB body. Serialises exactly as
/// [`render`]'s value would (a test checks it for every kind of projection).
///
/// Under the default projection a document in the store's shape is not built at all:
/// it is written from the document as it is serialised ([`DefaultView`]).
#[derive(Debug)]
pub struct Rendered<'a>(Repr<'a>);

#[derive(Debug)]
enum Repr<'a> {
    /// Built as a JSON object.
    Built {
        /// Everything but the members; a `null` at `members` keeps their place in the
        /// key order when they are written lazily.
        object: Map<String, Value>,
        /// The members to write at the `members` key, whole.
        members: Option<MembersJson<'a>>,
    },
    /// The default projection, written from the document.
    Streamed(DefaultView<'a>),
    /// The default projection, written from the document's stored text.
    FromText(TextView<'a>),
}

impl<'a> Rendered<'a> {
    fn built(object: Map<String, Value>, members: Option<MembersJson<'a>>) -> Self {
        Rendered(Repr::Built { object, members })
    }

    /// Whether it is written straight from the document (the default projection of a
    /// document in the store's shape) rather than built first.
    pub fn is_streamed(&self) -> bool {
        matches!(self.0, Repr::Streamed(_) | Repr::FromText(_))
    }

    /// Whether it is written from the stored text without parsing it ([`render_text`]).
    pub fn is_from_text(&self) -> bool {
        matches!(self.0, Repr::FromText(_))
    }

    /// The rendered resource as one JSON value (members built as values).
    pub fn into_value(self) -> Value {
        match self.0 {
            Repr::Built {
                mut object,
                members,
            } => {
                if let Some(members) = members {
                    let list = members
                        .members
                        .iter()
                        .map(|m| member_json(members.base_url, m))
                        .collect();
                    object.insert("members".into(), Value::Array(list));
                }
                Value::Object(object)
            }
            // Serialising into a `Value` cannot fail: every key is a string.
            Repr::Streamed(view) => serde_json::to_value(view).unwrap_or_default(),
            Repr::FromText(view) => serde_json::to_value(view).unwrap_or_default(),
        }
    }
}

impl Serialize for Rendered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (object, members) = match &self.0 {
            Repr::Built { object, members } => (object, members),
            Repr::Streamed(view) => return view.serialize(serializer),
            Repr::FromText(view) => return view.serialize(serializer),
        };
        let mut map = serializer.serialize_map(Some(object.len()))?;
        for (key, value) in object {
            match members {
                Some(members) if key == "members" => map.serialize_entry(key, members)?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// A group's members as a JSON array, written on the fly.
#[derive(Debug, Clone, Copy)]
pub(super) struct MembersJson<'a> {
    pub(super) base_url: &'a str,
    pub(super) members: &'a [Member],
}

impl Serialize for MembersJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.members.len()))?;
        for member in self.members {
            seq.serialize_element(&MemberJson {
                base_url: self.base_url,
                member,
            })?;
        }
        seq.end()
    }
}

/// One member's JSON (RFC 7643 §4.2): `value`, `display` when known, `type`, `$ref`.
struct MemberJson<'a> {
    base_url: &'a str,
    member: &'a Member,
}

impl Serialize for MemberJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let member = self.member;
        let fields = if member.display.is_some() { 4 } else { 3 };
        let mut object = serializer.serialize_struct("Member", fields)?;
        object.serialize_field("value", &member.value)?;
        if let Some(display) = &member.display {
            object.serialize_field("display", display)?;
        }
        object.serialize_field("type", member.kind.name())?;
        object.serialize_field(
            "$ref",
            &ResourceLocation {
                base_url: self.base_url,
                kind: member.kind,
                id: &member.value,
            },
        )?;
        object.end()
    }
}

/// Renders a resource like [`render`], but leaves a group's members to be written when
/// the result is serialised (see [`Rendered`]), unless the projection keeps only some
/// of their sub-attributes (`attributes=members.value`), which renders them as values.
///
/// What the projection does to the members is learnt from one stand-in member with
/// every sub-attribute: a projection names attribute paths, never values, so it does
/// the same to every member.
///
/// Under the default projection, a document in the store's shape is written as it is
/// serialised, without building the object at all ([`DefaultView`]).
pub fn render_lazy<'a>(
    doc: &'a Document,
    ctx: &RenderContext<'a>,
    projection: &Projection,
) -> Rendered<'a> {
    if *projection == Projection::Default {
        if let Some(view) = DefaultView::new(doc, *ctx) {
            return Rendered(Repr::Streamed(view));
        }
    }
    render_built(doc, ctx, projection)
}

/// Renders a resource from its document's stored JSON text, like [`render_lazy`] on
/// the parsed text. Under the default projection a text in the store's shape is never
/// parsed: its values are copied to the output as they are ([`TextView`]). Otherwise
/// the text is parsed and rendered the general way; a text that is not a JSON object
/// is an error.
pub fn render_text<'a>(
    text: &'a str,
    ctx: &RenderContext<'a>,
    projection: &Projection,
) -> Result<Rendered<'a>, serde_json::Error> {
    if *projection == Projection::Default {
        if let Some(view) = TextView::new(text, *ctx) {
            return Ok(Rendered(Repr::FromText(view)));
        }
    }
    let doc: Document = serde_json::from_str(text)?;
    Ok(render_built(&doc, ctx, projection))
}

/// [`render_lazy`] without the streamed way: the result borrows nothing of `doc`.
fn render_built<'a>(
    doc: &Document,
    ctx: &RenderContext<'a>,
    projection: &Projection,
) -> Rendered<'a> {
    let members = match (ctx.kind, ctx.members) {
        (ResourceKind::Group, Some(members)) if !members.is_empty() => members,
        _ => return Rendered::built(into_object(render(doc, ctx, projection)), None),
    };
    let stand_in = [Member {
        value: String::from("stand-in"),
        kind: ResourceKind::User,
        display: Some(String::from("stand-in")),
    }];
    let probed = RenderContext {
        members: Some(&stand_in),
        ..*ctx
    };
    let mut object = into_object(render(doc, &probed, projection));
    let whole = Value::Array(vec![member_json(ctx.base_url, &stand_in[0])]);
    match object.get_mut("members") {
        // The projection dropped the members.
        None => Rendered::built(object, None),
        Some(kept) if *kept == whole => {
            *kept = Value::Null;
            Rendered::built(
                object,
                Some(MembersJson {
                    base_url: ctx.base_url,
                    members,
                }),
            )
        }
        // Only some sub-attributes are kept: the members are rendered as values.
        Some(_) => Rendered::built(into_object(render(doc, ctx, projection)), None),
    }
}

fn into_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        // `render` always returns an object.
        _ => Map::new(),
    }
}

/// One member as a value: [`MemberJson`] is the one definition of a member's JSON, so
/// the eager and the lazy rendering cannot drift apart.
fn member_json(base_url: &str, member: &Member) -> Value {
    // Serialising strings into a `Value` cannot fail.
    serde_json::to_value(MemberJson { base_url, member }).unwrap_or_default()
}

fn group_json(base_url: &str, group: &GroupRef) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), Value::String(group.value.clone()));
    if let Some(display) = &group.display {
        m.insert("display".into(), Value::String(display.clone()));
    }
    m.insert(
        "$ref".into(),
        Value::String(resource_location(
            base_url,
            ResourceKind::Group,
            &group.value,
        )),
    );
    m.insert("type".into(), Value::String("direct".into()));
    Value::Object(m)
}

fn meta_json(ctx: &RenderContext<'_>) -> Value {
    let mut meta = Map::new();
    meta.insert("resourceType".into(), json!(ctx.kind.name()));
    if let Some(created) = format_date_time(ctx.meta.created) {
        meta.insert("created".into(), Value::String(created));
    }
    if let Some(modified) = format_date_time(ctx.meta.last_modified) {
        meta.insert("lastModified".into(), Value::String(modified));
    }
    meta.insert(
        "location".into(),
        Value::String(resource_location(ctx.base_url, ctx.kind, ctx.id)),
    );
    meta.insert("version".into(), Value::String(etag(ctx.meta.version)));
    Value::Object(meta)
}

/// Renders one stored attribute value strictly. Documents are canonical already;
/// this is the last line of defence for data written by older versions or by hand:
/// `returned: never` is dropped and string booleans become JSON booleans.
fn render_attribute(attr: &Attribute, value: &Value) -> Option<Value> {
    if attr.returned == Returned::Never || value.is_null() {
        return None;
    }
    match (attr.multi_valued, value) {
        (true, Value::Array(items)) => {
            let rendered: Vec<Value> = items
                .iter()
                .filter_map(|v| render_single(attr, v))
                .collect();
            (!rendered.is_empty()).then_some(Value::Array(rendered))
        }
        (true, single) => render_single(attr, single).map(|v| Value::Array(vec![v])),
        (false, v) => render_single(attr, v),
    }
}

fn render_single(attr: &Attribute, value: &Value) -> Option<Value> {
    match attr.kind {
        AttributeType::Boolean => parse_boolean(value).map(Value::Bool),
        AttributeType::Complex => match value {
            Value::Object(obj) => {
                let mut out = Map::new();
                for (k, v) in obj {
                    match attr.sub_attribute(k) {
                        Some(sub) => {
                            if let Some(r) = render_attribute(sub, v) {
                                out.insert(sub.name.clone(), r);
                            }
                        }
                        // Sub-attributes the schema lost: returned as stored.
                        None => {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                }
                (!out.is_empty()).then_some(Value::Object(out))
            }
            // A bare string stored for `manager` (R10): always an object on output.
            Value::String(s) if !s.is_empty() && attr.sub_attribute("value").is_some() => {
                Some(json!({ "value": s }))
            }
            _ => None,
        },
        _ => Some(value.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written straight into the serialiser, a location is the same JSON string as the
    /// one `resource_location` formats, escapes included.
    #[test]
    fn a_location_serialises_as_its_string() {
        for (base_url, kind, id) in [
            ("https://x/scim/v2/acme", ResourceKind::User, "42"),
            ("https://x/scim/v2/acme/", ResourceKind::Group, "g-1"),
            ("http://h/scim/v2/t", ResourceKind::User, "a\"b\\c\u{1}é"),
        ] {
            let written = serde_json::to_string(&ResourceLocation { base_url, kind, id }).unwrap();
            let formatted = serde_json::to_string(&resource_location(base_url, kind, id)).unwrap();
            assert_eq!(written, formatted);
        }
        assert_eq!(
            resource_location("https://x/scim/v2/acme/", ResourceKind::Group, "g-1"),
            "https://x/scim/v2/acme/Groups/g-1"
        );
    }
}
