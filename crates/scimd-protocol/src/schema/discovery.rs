//! The discovery resources `/Schemas` and `/ResourceTypes` (RFC 7644 §4,
//! RFC 7643 §6, §7), rendered from the registry so that they describe exactly what
//! this server validates (R20).

use super::model::{ResourceType, Schema};
use super::registry::SchemaRegistry;
use crate::error::{ScimError, ScimResult};
use crate::paging::list_response;
use serde_json::{json, Map, Value};

/// The URN of the Schema resource's schema (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// The URN of the ResourceType resource's schema (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// Adds `schemas` first and `meta` last to a serialised discovery resource.
fn wrap(body: Value, schema_urn: &str, resource_type: &str, location: String) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([schema_urn]));
    if let Value::Object(fields) = body {
        out.extend(fields);
    }
    out.insert(
        "meta".into(),
        json!({ "resourceType": resource_type, "location": location }),
    );
    Value::Object(out)
}

/// One schema as a Schema resource (RFC 7643 §7, §8.7.1).
pub fn schema_resource(schema: &Schema, base_url: &str) -> Value {
    // Serialising plain data structs with string keys cannot fail.
    let body = serde_json::to_value(schema).unwrap_or(Value::Null);
    let location = format!("{}/Schemas/{}", base(base_url), schema.id);
    wrap(body, SCHEMA_SCHEMA, "Schema", location)
}

/// `GET /Schemas`: a ListResponse of every registered schema.
pub fn schemas_json(registry: &SchemaRegistry, base_url: &str) -> Value {
    let resources: Vec<Value> = registry
        .schemas()
        .iter()
        .map(|s| schema_resource(s, base_url))
        .collect();
    let total = resources.len() as u64;
    list_response(resources, total, Some(1), None)
}

/// `GET /Schemas/<urn>` (URN compared case-insensitively); 404 when unknown.
pub fn schema_json(registry: &SchemaRegistry, urn: &str, base_url: &str) -> ScimResult<Value> {
    registry
        .schema(urn)
        .map(|s| schema_resource(s, base_url))
        .ok_or_else(|| ScimError::not_found(format!("schema '{urn}' not found")))
}

/// One resource type as a ResourceType resource (RFC 7643 §6, §8.6).
pub fn resource_type_resource(resource_type: &ResourceType, base_url: &str) -> Value {
    let body = serde_json::to_value(resource_type).unwrap_or(Value::Null);
    let location = format!("{}/ResourceTypes/{}", base(base_url), resource_type.id);
    wrap(body, RESOURCE_TYPE_SCHEMA, "ResourceType", location)
}

/// `GET /ResourceTypes`: a ListResponse of `User` and `Group`.
pub fn resource_types_json(registry: &SchemaRegistry, base_url: &str) -> Value {
    let resources: Vec<Value> = registry
        .resource_types()
        .iter()
        .map(|rt| resource_type_resource(rt, base_url))
        .collect();
    let total = resources.len() as u64;
    list_response(resources, total, Some(1), None)
}

/// `GET /ResourceTypes/<id>` (case-insensitive); 404 when unknown.
pub fn resource_type_json(
    registry: &SchemaRegistry,
    id: &str,
    base_url: &str,
) -> ScimResult<Value> {
    registry
        .resource_types()
        .into_iter()
        .find(|rt| rt.id.eq_ignore_ascii_case(id))
        .map(|rt| resource_type_resource(rt, base_url))
        .ok_or_else(|| ScimError::not_found(format!("resource type '{id}' not found")))
}
