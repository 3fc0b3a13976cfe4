//! The default projection written from the stored document's JSON text, without
//! parsing it into a [`Document`](super::Document).
//!
//! [`DefaultView`](super::stream::DefaultView) writes a GET's body while it walks the
//! document, but the document still had to be parsed first: every key and string
//! allocated, every object hashed into a map, all of it dropped after the response.
//! That parse was 6% of the server's CPU on a GET by id and 4% under `mixed`
//! (docs/benchmarks.md, item 56). Most stored values are written back exactly as they
//! are stored (the store writes canonical documents: booleans as booleans, no `null`s,
//! no empty arrays, RFC 7643 §2's spellings), so [`TextView`] only splits the text into
//! borrowed slices, checks each value it would write against the schema, and copies
//! the slices that pass to the response as they are.
//!
//! A value is copied only when the general rendering would write exactly its text: an
//! attribute shown by default (RFC 7643 §7 `returned`), every key inside it spelt as the
//! schema spells it, nothing inside it dropped (`returned: never`, `null`) or rewritten
//! (a string boolean, a bare `manager` string, a single value of a multi-valued
//! attribute). A value that fails is parsed alone and written the general way; a
//! document whose keys could collide (two spellings of one attribute, a key the server
//! writes itself, a duplicate key) is not taken at all, and the caller parses it whole.
//! For text the store wrote (serde_json's) the output is byte for byte what
//! [`render`](super::render) gives; `tests/resource_render_stream.rs` checks that for
//! arbitrary documents and schemas.

use super::render::RenderContext;
use super::stream::{
    generated_hide_sub_attributes, renders, shown, shown_by_default, top_level, write_generated,
    AttributeJson, SERVER_WRITTEN,
};
use crate::schema::{Attribute, AttributeType, Returned, Schema};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A resource under the default projection, written from its stored JSON text.
/// Serialises as `render(doc, ctx, &Projection::Default)` would for the parsed text.
#[derive(Debug)]
pub(super) struct TextView<'a> {
    ctx: RenderContext<'a>,
    external_id: Option<&'a RawValue>,
    /// Core attributes, in the text's order.
    core: Vec<Written<'a>>,
    /// Extensions that keep at least one attribute, in the registry's order.
    extensions: Vec<(&'a Schema, Vec<Written<'a>>)>,
}

/// One attribute to write: its canonical name and its value.
#[derive(Debug)]
struct Written<'a> {
    attr: &'a Attribute,
    value: Out<'a>,
}

#[derive(Debug)]
enum Out<'a> {
    /// The stored text, written as it is.
    Text(&'a RawValue),
    /// A value the general rendering rewrites, parsed on its own.
    Parsed(Value),
}

/// What rendering does to one stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Written exactly as stored.
    Kept,
    /// Not written at all.
    Dropped,
    /// Written otherwise than stored: needs the general rendering.
    Rewritten,
}

impl<'a> TextView<'a> {
    /// The view of a stored document's text, or `None` when the text is not a JSON
    /// object in the store's shape (see the module docs): the caller parses it and
    /// renders it the general way.
    pub(super) fn new(text: &'a str, ctx: RenderContext<'a>) -> Option<Self> {
        let registry = ctx.registry;
        let core_schema = registry.core_schema(ctx.kind);
        let entries = object_entries(text)?;
        if generated_hide_sub_attributes(&ctx) {
            return None;
        }
        let mut external_id = None;
        let mut core = Vec::new();
        for (key, value) in &entries {
            if key == "externalId" {
                if value.get().starts_with('"') {
                    external_id = Some(*value);
                }
                continue;
            }
            let Some(attr) = core_schema.attribute(key) else {
                // Unknown keys and extension objects are not core attributes.
                continue;
            };
            if *key != attr.name || SERVER_WRITTEN.contains(&attr.name.as_str()) {
                return None;
            }
            if shown_by_default(attr) {
                if let Some(written) = written(attr, value)? {
                    core.push(written);
                }
            }
        }
        let mut extensions = Vec::new();
        for ext in registry.extensions(ctx.kind) {
            let Some((_, value)) = entries.iter().find(|(key, _)| *key == ext.id) else {
                continue;
            };
            // Anything but an object under an extension's URN is not shown.
            let Some(inner) = object_entries(value.get()) else {
                if value.get().starts_with('{') {
                    return None; // an object with a duplicate key
                }
                continue;
            };
            let mut kept = Vec::new();
            for (key, value) in &inner {
                let Some(attr) = ext.attribute(key) else {
                    continue;
                };
                if *key != attr.name {
                    return None;
                }
                if shown_by_default(attr) {
                    if let Some(written) = written(attr, value)? {
                        kept.push(written);
                    }
                }
            }
            if !kept.is_empty() {
                extensions.push((ext, kept));
            }
        }
        Some(TextView {
            ctx,
            external_id,
            core,
            extensions,
        })
    }
}

/// How a shown attribute's stored value is written: `Some(None)` not at all,
/// `Some(Some(_))` as its text or parsed alone, `None` when its keys make the whole
/// document unfit (a duplicate key).
fn written<'a>(attr: &'a Attribute, value: &'a RawValue) -> Option<Option<Written<'a>>> {
    let out = match fate(attr, value)? {
        Fate::Dropped => return Some(None),
        Fate::Kept => Out::Text(value),
        Fate::Rewritten => {
            let parsed: Value = serde_json::from_str(value.get()).ok()?;
            if !renders(attr, &parsed) {
                return Some(None);
            }
            Out::Parsed(parsed)
        }
    };
    Some(Some(Written { attr, value: out }))
}

/// What rendering does to `value` of `attr` (`render_attribute`); `None` when a key
/// inside it is spelt otherwise than the schema spells it or is there twice: two keys
/// could then render to one, which only the general rendering resolves. Every object
/// inside is looked at, also when the answer is already [`Fate::Rewritten`].
fn fate(attr: &Attribute, value: &RawValue) -> Option<Fate> {
    let text = value.get();
    if attr.returned == Returned::Never || text.starts_with('n') {
        return Some(Fate::Dropped);
    }
    if !attr.multi_valued {
        return fate_single(attr, value);
    }
    if !text.starts_with('[') {
        // A single value of a multi-valued attribute is written inside an array.
        fate_single(attr, value)?;
        return Some(Fate::Rewritten);
    }
    let items = array_items(text)?;
    if items.is_empty() {
        return Some(Fate::Dropped);
    }
    let mut fate = Fate::Kept;
    for item in items {
        // A dropped item shortens the array: not the stored text.
        if fate_single(attr, item)? != Fate::Kept {
            fate = Fate::Rewritten;
        }
    }
    Some(fate)
}

/// [`fate`] for one value (`render_single`).
fn fate_single(attr: &Attribute, value: &RawValue) -> Option<Fate> {
    let text = value.get();
    match attr.kind {
        // Only JSON booleans are written as stored; strings are parsed (R6).
        AttributeType::Boolean if text == "true" || text == "false" => Some(Fate::Kept),
        AttributeType::Boolean => Some(Fate::Rewritten),
        AttributeType::Complex if text.starts_with('{') => {
            let entries = object_entries(text)?;
            if entries.is_empty() {
                return Some(Fate::Dropped);
            }
            let mut fate = Fate::Kept;
            for (key, inner) in &entries {
                let Some(sub) = attr.sub_attribute(key) else {
                    // Sub-attributes the schema lost are written as stored.
                    continue;
                };
                if *key != sub.name {
                    return None;
                }
                if self::fate(sub, inner)? != Fate::Kept {
                    fate = Fate::Rewritten;
                }
            }
            Some(fate)
        }
        // Items of an array under a single-valued complex attribute: their keys count.
        AttributeType::Complex if text.starts_with('[') => {
            for item in array_items(text)? {
                if item.get().starts_with('{') {
                    fate_single(attr, item)?;
                }
            }
            Some(Fate::Rewritten)
        }
        // A bare `manager` string becomes an object (R10); anything else is dropped.
        AttributeType::Complex => Some(Fate::Rewritten),
        // Written as stored, but a parse would collapse duplicate keys inside it.
        _ if text.starts_with('{') || text.starts_with('[') => Some(Fate::Rewritten),
        _ => Some(Fate::Kept),
    }
}

impl Serialize for TextView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ctx = &self.ctx;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("schemas", &Schemas(self))?;
        if shown(top_level(ctx, "id")) {
            map.serialize_entry("id", ctx.id)?;
        }
        if let Some(external_id) = self.external_id {
            if shown(top_level(ctx, "externalId")) {
                map.serialize_entry("externalId", external_id)?;
            }
        }
        for written in &self.core {
            map.serialize_entry(&written.attr.name, written)?;
        }
        for (ext, kept) in &self.extensions {
            map.serialize_entry(&ext.id, &Extension(kept))?;
        }
        write_generated(&mut map, ctx)?;
        map.end()
    }
}

/// `schemas`: the core schema, then each extension that keeps an attribute.
struct Schemas<'v, 'a>(&'v TextView<'a>);

impl Serialize for Schemas<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let view = self.0;
        let mut seq = serializer.serialize_seq(Some(1 + view.extensions.len()))?;
        seq.serialize_element(view.ctx.kind.core_schema())?;
        for (ext, _) in &view.extensions {
            seq.serialize_element(&ext.id)?;
        }
        seq.end()
    }
}

struct Extension<'v, 'a>(&'v [Written<'a>]);

impl Serialize for Extension<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for written in self.0 {
            map.serialize_entry(&written.attr.name, written)?;
        }
        map.end()
    }
}

impl Serialize for Written<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.value {
            Out::Text(raw) => raw.serialize(serializer),
            Out::Parsed(value) => AttributeJson::new(self.attr, value).serialize(serializer),
        }
    }
}

/// A JSON object's members as borrowed slices of its text, in order; `None` when the
/// text is not an object or has a key twice.
fn object_entries(text: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    if !text.starts_with('{') {
        return None;
    }
    let Entries(entries) = serde_json::from_str(text).ok()?;
    // Objects here have a few dozen keys at most: comparing pairs is cheaper than
    // hashing them.
    let duplicate = entries
        .iter()
        .enumerate()
        .any(|(i, (key, _))| entries.iter().take(i).any(|(other, _)| other == key));
    (!duplicate).then_some(entries)
}

/// A JSON array's items as borrowed slices of its text.
fn array_items(text: &str) -> Option<Vec<&RawValue>> {
    serde_json::from_str(text).ok()
}

struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((Key(key), value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// A key borrowed from the text, or owned when it had escapes to undo.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_borrow_keys_and_values_and_refuse_duplicates() {
        let entries =
            object_entries(r#"{"a":1,"b\"c":[true, null],"d":{"e":"f"}}"#).expect("an object");
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["a", "b\"c", "d"]);
        assert!(matches!(entries[0].0, Cow::Borrowed(_)));
        assert!(matches!(entries[1].0, Cow::Owned(_)));
        assert_eq!(entries[1].1.get(), "[true, null]");
        assert_eq!(entries[2].1.get(), r#"{"e":"f"}"#);
        assert!(object_entries(r#"{"a":1,"a":2}"#).is_none());
        assert!(object_entries("[1]").is_none());
        assert!(object_entries("{").is_none());
    }
}
