//! Schemas as data (RFC 7643 §4, §7) and the registry that resolves attribute paths.

mod discovery;
mod model;
mod registry;

pub use discovery::{
    resource_type_json, resource_type_resource, resource_types_json, schema_json, schema_resource,
    schemas_json, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA,
};

pub use model::{
    Attribute, AttributeType, Mutability, ResourceKind, ResourceType, Returned, Schema,
    SchemaExtension, Uniqueness,
};
pub use registry::{AttrLocation, ResolvedAttr, SchemaRegistry};

/// The core User schema URN (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The Enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
