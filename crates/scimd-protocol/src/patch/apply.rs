//! Applying PATCH operations to a stored document (RFC 7644 §3.5.2.1-3).
//!
//! The engine works on a copy of the document, so a failing operation leaves the
//! caller's document untouched by construction and the request is atomic
//! (§3.5.2: "if an error occurs, the resource is left unchanged").

use super::coerce::{coerce_complex, coerce_multi, coerce_scalar, complex_fields, is_empty_value};
use super::members::member_change;
use super::quirks::{clears, decode_roles, is_enterprise_manager, manager_value};
use super::request::{OperationPath, PatchOp, PatchOperation, PatchRequest};
use crate::error::{ScimError, ScimResult};
use crate::filter::{evaluate_element, validate_element};
use crate::filter::{CompareOp, Filter, Literal};
use crate::path::AttrPath;
use crate::path::PatchPath;
use crate::resource::{Document, MemberChange};
use crate::schema::{
    AttrLocation, Attribute, AttributeType, Mutability, ResourceKind, Schema, SchemaRegistry,
};
use serde_json::{Map, Value};

/// The result of applying a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    /// The new canonical document.
    pub document: Document,
    /// Membership changes, in request order, for the store to apply (groups only).
    pub members: Vec<MemberChange>,
    /// Whether anything changed: `false` when the document equals the input and no
    /// membership change was produced (the server can then keep the version).
    pub changed: bool,
}

/// Applies a parsed PATCH request to a stored document (RFC 7644 §3.5.2).
///
/// Pure: the input is never modified, and on error nothing is returned but the
/// error, so a failed PATCH changes nothing. The detail of an error names the
/// operation (0-based index, op and path) that failed.
pub fn apply_patch(
    doc: &Document,
    request: &PatchRequest,
    registry: &SchemaRegistry,
    kind: ResourceKind,
) -> ScimResult<PatchOutcome> {
    let mut engine = Engine {
        registry,
        kind,
        doc: doc.clone(),
        members: Vec::new(),
    };
    for (index, operation) in request.operations.iter().enumerate() {
        engine
            .apply_operation(operation)
            .map_err(|err| in_operation(err, index, operation))?;
    }
    let changed = engine.doc != *doc || !engine.members.is_empty();
    Ok(PatchOutcome {
        document: engine.doc,
        members: engine.members,
        changed,
    })
}

fn in_operation(err: ScimError, index: usize, operation: &PatchOperation) -> ScimError {
    let path = operation
        .path
        .as_ref()
        .map(|p| format!(" {}", p.text))
        .unwrap_or_default();
    ScimError::new(
        err.status,
        err.scim_type,
        format!("operation {index} ({}{path}): {}", operation.op, err.detail),
    )
}

/// Where a top-level attribute lives: at the document's top level (core and common
/// attributes) or inside the extension object keyed by its canonical URN.
#[derive(Clone, Copy)]
struct Slot<'r> {
    extension: Option<&'r str>,
    attr: &'r Attribute,
}

impl Slot<'_> {
    fn is_manager(&self) -> bool {
        is_enterprise_manager(self.extension, self.attr)
    }
    /// Entra's app roles, whose values may be JSON-encoded (see quirks.rs).
    fn is_roles(&self) -> bool {
        self.extension.is_none() && self.attr.name == "roles"
    }
}

/// What an operation's path designates.
enum Target<'r, 'p> {
    /// A whole extension object (`path` is the extension URN).
    Extension(&'r Schema),
    /// A group's `members`: becomes membership deltas.
    Members(&'p PatchPath),
    /// An attribute, maybe a sub-attribute, maybe through a value filter.
    Attribute {
        slot: Slot<'r>,
        sub: Option<&'r Attribute>,
        filter: Option<&'p Filter>,
    },
}

struct Engine<'r> {
    registry: &'r SchemaRegistry,
    kind: ResourceKind,
    doc: Document,
    members: Vec<MemberChange>,
}

impl<'r> Engine<'r> {
    fn apply_operation(&mut self, operation: &PatchOperation) -> ScimResult<()> {
        let value = operation.value.as_ref();
        match &operation.path {
            Some(path) => match self.resolve(path)? {
                Target::Extension(schema) => self.apply_extension(operation.op, schema, value),
                Target::Members(path) => self.push_members(operation.op, Some(path), value),
                Target::Attribute { slot, sub, filter } => {
                    self.apply_attribute(operation.op, slot, sub, filter, value)
                }
            },
            None => self.apply_pathless(operation.op, value),
        }
    }

    /// Resolves a path against the resource type's schemas. Unknown attributes are
    /// 400 `invalidPath` (RFC 7644 §3.5.2: path errors are invalidPath / noTarget).
    fn resolve<'p>(&self, path: &'p OperationPath) -> ScimResult<Target<'r, 'p>> {
        if let Some(schema) = self.registry.extension(self.kind, &path.text) {
            return Ok(Target::Extension(schema));
        }
        let parsed = &path.parsed;
        let resolved = self
            .registry
            .resolve(self.kind, &parsed.attr)
            .ok_or_else(|| {
                ScimError::invalid_path(format!(
                    "'{}' is not an attribute of {}",
                    parsed.attr,
                    self.kind.name()
                ))
            })?;
        let extension = match resolved.location {
            AttrLocation::Extension(urn) => Some(urn),
            AttrLocation::Common | AttrLocation::Core => None,
        };
        if self.is_members(extension, resolved.attr) {
            return Ok(Target::Members(parsed));
        }
        let sub = match (&parsed.sub_attr, resolved.sub) {
            (Some(name), _) => Some(resolved.attr.sub_attribute(name).ok_or_else(|| {
                ScimError::invalid_path(format!(
                    "'{}' has no sub-attribute '{name}'",
                    resolved.attr.name
                ))
            })?),
            (None, sub) => sub,
        };
        if parsed.filter.is_some() && resolved.attr.kind != AttributeType::Complex {
            return Err(ScimError::invalid_path(format!(
                "'{}' is not complex, so it cannot take a value filter",
                resolved.attr.name
            )));
        }
        Ok(Target::Attribute {
            slot: Slot {
                extension,
                attr: resolved.attr,
            },
            sub,
            filter: parsed.filter.as_ref(),
        })
    }

    fn is_members(&self, extension: Option<&str>, attr: &Attribute) -> bool {
        self.kind == ResourceKind::Group
            && extension.is_none()
            && attr.name.eq_ignore_ascii_case("members")
    }

    fn push_members(
        &mut self,
        op: PatchOp,
        path: Option<&PatchPath>,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        if let Some(change) = member_change(op, path, value)? {
            self.members.push(change);
        }
        Ok(())
    }

    /// A path-less add or replace (RFC 7644 §3.5.2.1, §3.5.2.3): each key of the value
    /// object is applied as if it were the path. Keys may be attribute paths
    /// (`name.givenName`, `urn:...:User:employeeNumber`, R7) or an extension URN with
    /// an object value. `id`, `meta`, `schemas` and other read-only attributes are
    /// ignored (Okta's rename sends `id`), and so are unknown keys.
    fn apply_pathless(&mut self, op: PatchOp, value: Option<&Value>) -> ScimResult<()> {
        let Some(Value::Object(object)) = value else {
            return Err(ScimError::invalid_value(
                "an operation without 'path' needs an object 'value'",
            ));
        };
        for (key, item) in object {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(schema) = self.registry.extension(self.kind, key) {
                self.apply_extension(op, schema, Some(item))?;
                continue;
            }
            let Ok(parsed) = PatchPath::parse(key, &Default::default()) else {
                continue;
            };
            let path = OperationPath {
                text: key.clone(),
                parsed,
            };
            match self.resolve(&path) {
                Ok(Target::Members(p)) => self.push_members(op, Some(p), Some(item))?,
                Ok(Target::Attribute { slot, sub, filter }) => {
                    if is_read_only(slot.attr, sub) {
                        continue;
                    }
                    self.apply_attribute(op, slot, sub, filter, Some(item))?;
                }
                Ok(Target::Extension(schema)) => self.apply_extension(op, schema, Some(item))?,
                Err(_) => continue,
            }
        }
        Ok(())
    }

    /// An operation whose path is a whole extension URN.
    fn apply_extension(
        &mut self,
        op: PatchOp,
        schema: &'r Schema,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        let extension = Some(schema.id.as_str());
        let clearing = op == PatchOp::Remove || value.is_none_or(clears);
        if clearing {
            for attr in &schema.attributes {
                let slot = Slot { extension, attr };
                if self.get(slot).is_some() {
                    self.apply_attribute(PatchOp::Remove, slot, None, None, None)?;
                }
            }
            return Ok(());
        }
        let Some(Value::Object(object)) = value else {
            return Err(ScimError::invalid_value(format!(
                "the value for '{}' must be an object of its attributes",
                schema.id
            )));
        };
        for (key, item) in object {
            let Ok(path) = AttrPath::parse(key) else {
                continue;
            };
            let Some(attr) = schema.attribute(&path.name) else {
                continue;
            };
            let sub = match &path.sub_attr {
                Some(name) => match attr.sub_attribute(name) {
                    Some(sub) => Some(sub),
                    None => continue,
                },
                None => None,
            };
            if is_read_only(attr, sub) {
                continue;
            }
            self.apply_attribute(op, Slot { extension, attr }, sub, None, Some(item))?;
        }
        Ok(())
    }

    /// One operation on one attribute, with the mutability rules of RFC 7644 §3.5.2
    /// and RFC 7643 §7 checked around it.
    fn apply_attribute(
        &mut self,
        op: PatchOp,
        slot: Slot<'r>,
        sub: Option<&'r Attribute>,
        filter: Option<&Filter>,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        let target = sub.unwrap_or(slot.attr);
        if is_read_only(slot.attr, sub) {
            return Err(ScimError::mutability(format!(
                "'{}' is readOnly",
                target.name
            )));
        }
        // writeOnly attributes (`password`) are never stored (resource/mod.rs);
        // Okta's placeholder passwords are ignored (R16).
        if slot.attr.mutability == Mutability::WriteOnly
            || target.mutability == Mutability::WriteOnly
        {
            return Ok(());
        }
        let before = self.get(slot).cloned();
        match (filter, sub) {
            (Some(filter), _) => self.apply_elements(op, slot, Some(filter), sub, value)?,
            (None, Some(sub)) if slot.attr.multi_valued => {
                // `emails.value` without a filter addresses every element.
                self.apply_elements(op, slot, None, Some(sub), value)?
            }
            (None, Some(sub)) => self.apply_sub_attribute(op, slot, sub, value)?,
            (None, None) => self.apply_whole(op, slot, value)?,
        }
        if slot.is_manager() {
            self.settle_manager(slot);
        }
        self.check_after(slot, before.as_ref())
    }

    /// RFC 7644 §3.5.2: immutable attributes may be set once; §3.5.2.2: removing a
    /// required attribute (or making it unassigned) is a `mutability` error.
    fn check_after(&self, slot: Slot<'r>, before: Option<&Value>) -> ScimResult<()> {
        let after = self.get(slot);
        let attr = slot.attr;
        if attr.required && before.is_some() && after.is_none() {
            return Err(ScimError::mutability(format!(
                "'{}' is required and cannot be removed (RFC 7644 §3.5.2.2)",
                attr.name
            )));
        }
        if attr.mutability == Mutability::Immutable && before.is_some() && after != before {
            return Err(ScimError::mutability(format!(
                "'{}' is immutable and already has a value",
                attr.name
            )));
        }
        if !attr.multi_valued {
            for sub in &attr.sub_attributes {
                if sub.mutability != Mutability::Immutable {
                    continue;
                }
                let old = before.and_then(|v| v.get(&sub.name));
                let new = after.and_then(|v| v.get(&sub.name));
                if old.is_some() && old != new {
                    return Err(ScimError::mutability(format!(
                        "'{}.{}' is immutable and already has a value",
                        attr.name, sub.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Operations on a whole attribute (no sub-attribute, no filter).
    fn apply_whole(
        &mut self,
        op: PatchOp,
        slot: Slot<'r>,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        let attr = slot.attr;
        let value = match (op, value) {
            (PatchOp::Remove, Some(listed)) if attr.multi_valued && !is_empty_value(listed) => {
                // R9: remove with a value removes only the listed values.
                return self.remove_listed(slot, listed);
            }
            (PatchOp::Remove, _) | (_, None) => {
                self.clear(slot);
                return Ok(());
            }
            (_, Some(value)) => value,
        };
        if slot.is_manager() {
            match manager_value(attr, value)? {
                Some(manager) => self.set(slot, Value::Object(manager)),
                None => self.clear(slot),
            }
            return Ok(());
        }
        if clears(value) {
            self.clear(slot);
            return Ok(());
        }
        if attr.multi_valued {
            let decoded;
            let value = if slot.is_roles() {
                decoded = decode_roles(value);
                &decoded
            } else {
                value
            };
            let items = coerce_multi(attr, value)?;
            let mut list = match op {
                // §3.5.2.3: without a filter, "the attribute and all values are replaced".
                PatchOp::Replace => Vec::new(),
                _ => self.current_list(slot),
            };
            let mut touched = Vec::new();
            for item in items {
                // §3.5.2.1: add appends; identical values are not duplicated.
                if let Some(existing) = list.iter().position(|v| *v == item) {
                    touched.push(existing);
                } else {
                    list.push(item);
                    touched.push(list.len().saturating_sub(1));
                }
            }
            keep_one_primary(&mut list, &touched);
            self.store_list(slot, list);
        } else if attr.kind == AttributeType::Complex {
            // §3.5.2.1 and §3.5.2.3: a complex value sets the sub-attributes it names;
            // the others are left unchanged.
            let mut object = self.current_object(slot);
            for (name, sub_value) in complex_fields(attr, value)? {
                match sub_value {
                    Some(v) => object.insert(name, v),
                    None => object.remove(&name),
                };
            }
            self.store_object(slot, object);
        } else {
            match coerce_scalar(attr, value)? {
                Some(v) => self.set(slot, v),
                None => self.clear(slot),
            }
        }
        Ok(())
    }

    /// `name.givenName`, `manager.value`: a sub-attribute of a single complex value.
    fn apply_sub_attribute(
        &mut self,
        op: PatchOp,
        slot: Slot<'r>,
        sub: &Attribute,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        let mut object = self.current_object(slot);
        let new_value = match (op, value) {
            (PatchOp::Remove, _) | (_, None) => None,
            (_, Some(v)) => coerce_scalar(sub, v)?,
        };
        match new_value {
            Some(v) => object.insert(sub.name.clone(), v),
            None => object.remove(&sub.name),
        };
        self.store_object(slot, object);
        Ok(())
    }

    /// Operations through a value filter (`emails[type eq "work"].value`), or on a
    /// sub-attribute of every element when `filter` is `None`. A single complex
    /// attribute (`manager[value eq "id"]`) is treated as a list of at most one.
    fn apply_elements(
        &mut self,
        op: PatchOp,
        slot: Slot<'r>,
        filter: Option<&Filter>,
        sub: Option<&Attribute>,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        let attr = slot.attr;
        if let Some(f) = filter {
            // Checked even when there are no elements, so a bad filter is always
            // 400 invalidFilter, whatever the resource holds.
            validate_element(f, attr)?;
        }
        let mut elements = self.current_list(slot);
        let mut matching = Vec::new();
        for (index, element) in elements.iter().enumerate() {
            let hit = match filter {
                Some(f) => evaluate_element(f, element, attr)?,
                None => true,
            };
            if hit {
                matching.push(index);
            }
        }
        let mut touched = Vec::new();
        match (op, value) {
            // §3.5.2.2: remove the matching values, or the sub-attribute of each.
            // A `value` next to a value path is ignored (R8). Nothing matching is not
            // an error: the target is already absent.
            (PatchOp::Remove, _) | (_, None) => {
                for &index in matching.iter().rev() {
                    match sub {
                        Some(sub) => {
                            if let Some(Value::Object(o)) = elements.get_mut(index) {
                                o.remove(&sub.name);
                            }
                        }
                        None => {
                            elements.remove(index);
                        }
                    }
                }
            }
            (_, Some(value)) if matching.is_empty() => {
                if clears(value) {
                    return Ok(());
                }
                // R8: add/replace on a value path that matches nothing creates the
                // element, seeded with the filter's equalities (`type eq "work"`).
                // RFC 7644 §3.5.2.3 would answer noTarget; Entra relies on creation.
                let mut element = creation_seed(filter, attr)?;
                self.fill_element(op, slot, &mut element, sub, value)?;
                if !attr.multi_valued {
                    elements.clear();
                }
                elements.push(Value::Object(element));
                touched.push(elements.len().saturating_sub(1));
            }
            (_, Some(value)) => {
                for &index in &matching {
                    if let Some(Value::Object(element)) = elements.get_mut(index) {
                        self.fill_element(op, slot, element, sub, value)?;
                    }
                }
                touched = matching;
            }
        }
        elements.retain(|e| !(is_empty_value(e) || (attr.multi_valued && only_labels(e))));
        keep_one_primary(&mut elements, &touched);
        if attr.multi_valued {
            self.store_list(slot, elements);
        } else {
            match elements.into_iter().next() {
                Some(Value::Object(o)) => self.store_object(slot, o),
                _ => self.clear(slot),
            }
        }
        Ok(())
    }

    /// Writes `value` into one element: the sub-attribute when the path names one;
    /// otherwise replace swaps the element (§3.5.2.3: "all matching record values
    /// SHALL be replaced") and add merges into it.
    fn fill_element(
        &self,
        op: PatchOp,
        slot: Slot<'r>,
        element: &mut Map<String, Value>,
        sub: Option<&Attribute>,
        value: &Value,
    ) -> ScimResult<()> {
        if let Some(sub) = sub {
            if sub.mutability == Mutability::ReadOnly {
                return Err(ScimError::mutability(format!("'{}' is readOnly", sub.name)));
            }
            match coerce_scalar(sub, value)? {
                Some(v) => element.insert(sub.name.clone(), v),
                None => element.remove(&sub.name),
            };
            return Ok(());
        }
        let decoded;
        let value = if slot.is_roles() {
            decoded = decode_roles(value);
            &decoded
        } else {
            value
        };
        if op == PatchOp::Replace {
            *element = coerce_complex(slot.attr, value)?.unwrap_or_default();
        } else {
            for (name, sub_value) in complex_fields(slot.attr, value)? {
                match sub_value {
                    Some(v) => element.insert(name, v),
                    None => element.remove(&name),
                };
            }
        }
        Ok(())
    }

    /// R9 for any multi-valued attribute: `remove` with a value removes the listed
    /// values only. Complex values are matched by their `value` sub-attribute when
    /// the listed item has one, otherwise by equality.
    fn remove_listed(&mut self, slot: Slot<'r>, listed: &Value) -> ScimResult<()> {
        let attr = slot.attr;
        let decoded;
        let listed = if slot.is_roles() {
            decoded = decode_roles(listed);
            &decoded
        } else {
            listed
        };
        let listed = coerce_multi(attr, listed)?;
        let case_exact = attr.sub_attribute("value").is_none_or(|s| s.case_exact);
        let same = |a: &Value, b: &Value| match (a, b) {
            (Value::String(x), Value::String(y)) if !case_exact => {
                x.to_lowercase() == y.to_lowercase()
            }
            _ => a == b,
        };
        let mut list = self.current_list(slot);
        list.retain(|element| {
            !listed
                .iter()
                .any(|item| match (item.get("value"), element.get("value")) {
                    (Some(wanted), Some(have)) => same(wanted, have),
                    _ => item == element,
                })
        });
        self.store_list(slot, list);
        Ok(())
    }

    /// A manager without an id is no manager (R10).
    fn settle_manager(&mut self, slot: Slot<'r>) {
        if let Some(Value::Object(m)) = self.get(slot) {
            if !m.contains_key("value") {
                self.clear(slot);
            }
        }
    }

    // --- document access -------------------------------------------------------

    fn container(&self, extension: Option<&str>) -> Option<&Map<String, Value>> {
        match extension {
            None => Some(&self.doc),
            Some(urn) => self.doc.get(urn).and_then(Value::as_object),
        }
    }

    fn get(&self, slot: Slot<'r>) -> Option<&Value> {
        self.container(slot.extension)?.get(&slot.attr.name)
    }

    fn current_list(&self, slot: Slot<'r>) -> Vec<Value> {
        match self.get(slot) {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Object(o)) => vec![Value::Object(o.clone())],
            _ => Vec::new(),
        }
    }

    fn current_object(&self, slot: Slot<'r>) -> Map<String, Value> {
        match self.get(slot) {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        }
    }

    fn set(&mut self, slot: Slot<'r>, value: Value) {
        let name = slot.attr.name.clone();
        match slot.extension {
            None => {
                self.doc.insert(name, value);
            }
            Some(urn) => {
                let entry = self
                    .doc
                    .entry(urn.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(ext) = entry {
                    ext.insert(name, value);
                }
            }
        }
    }

    /// Removes an attribute; an extension object left empty goes too (the canonical
    /// document has no empty values).
    fn clear(&mut self, slot: Slot<'r>) {
        match slot.extension {
            None => {
                self.doc.remove(&slot.attr.name);
            }
            Some(urn) => {
                let now_empty = match self.doc.get_mut(urn) {
                    Some(Value::Object(ext)) => {
                        ext.remove(&slot.attr.name);
                        ext.is_empty()
                    }
                    _ => false,
                };
                if now_empty {
                    self.doc.remove(urn);
                }
            }
        }
    }

    fn store_list(&mut self, slot: Slot<'r>, list: Vec<Value>) {
        if list.is_empty() {
            self.clear(slot);
        } else {
            self.set(slot, Value::Array(list));
        }
    }

    fn store_object(&mut self, slot: Slot<'r>, object: Map<String, Value>) {
        if object.is_empty() {
            self.clear(slot);
        } else {
            self.set(slot, Value::Object(object));
        }
    }
}

/// Whether a multi-valued element holds nothing but its labels (`type`, `primary`).
/// Entra clears a phone number with `Remove phoneNumbers[type eq "mobile"].value`
/// (R8): what is left, `{"type": "mobile"}`, is no value at all, so it goes too.
fn only_labels(element: &Value) -> bool {
    match element {
        Value::Object(o) => o
            .keys()
            .all(|k| k.eq_ignore_ascii_case("type") || k.eq_ignore_ascii_case("primary")),
        _ => false,
    }
}

fn is_read_only(attr: &Attribute, sub: Option<&Attribute>) -> bool {
    attr.mutability == Mutability::ReadOnly
        || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
}

/// RFC 7643 §2.4: at most one value of a multi-valued attribute is `primary`. When
/// the operation set a primary value, the others lose the flag.
fn keep_one_primary(list: &mut [Value], touched: &[usize]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    let Some(&winner) = touched
        .iter()
        .rev()
        .find(|&&i| list.get(i).is_some_and(is_primary))
    else {
        return;
    };
    for (index, element) in list.iter_mut().enumerate() {
        if index != winner && is_primary(element) {
            if let Value::Object(o) = element {
                o.insert("primary".into(), Value::Bool(false));
            }
        }
    }
}

/// The element a value path would create (R8): the `eq` comparisons of an
/// `and`-only filter, coerced to the sub-attributes' types. Any other filter cannot
/// say what the new element is: 400 `noTarget` (RFC 7644 §3.5.2.3).
fn creation_seed(filter: Option<&Filter>, attr: &Attribute) -> ScimResult<Map<String, Value>> {
    let mut seed = Map::new();
    if let Some(filter) = filter {
        if !collect_equalities(filter, attr, &mut seed)? {
            return Err(ScimError::no_target(format!(
                "no value of '{}' matches the filter, and a filter that is not \
                 'sub eq value [and ...]' cannot describe a new one",
                attr.name
            )));
        }
    }
    Ok(seed)
}

fn collect_equalities(
    filter: &Filter,
    attr: &Attribute,
    seed: &mut Map<String, Value>,
) -> ScimResult<bool> {
    match filter {
        Filter::And(a, b) => {
            Ok(collect_equalities(a, attr, seed)? && collect_equalities(b, attr, seed)?)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
            ..
        } if path.urn.is_none() && path.sub_attr.is_none() => {
            let Some(sub) = attr.sub_attribute(&path.name) else {
                return Ok(false);
            };
            let json = match value {
                Literal::String(s) => Value::String(s.clone()),
                Literal::Number(n) => Value::Number(n.clone()),
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Null => return Ok(false),
            };
            match coerce_scalar(sub, &json)? {
                Some(v) => {
                    seed.insert(sub.name.clone(), v);
                    Ok(true)
                }
                None => Ok(false),
            }
        }
        _ => Ok(false),
    }
}
