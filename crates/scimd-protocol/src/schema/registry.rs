//! The schema registry: which schemas exist, which resource types use them, and how an
//! attribute path resolves to an attribute definition.

use super::model::{
    Attribute, AttributeType, Mutability, ResourceKind, ResourceType, Returned, Schema,
    SchemaExtension, Uniqueness,
};
use super::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
use crate::error::{ScimError, ScimResult};
use crate::path::AttrPath;

const USER_JSON: &str = include_str!("json/user.json");
const GROUP_JSON: &str = include_str!("json/group.json");
const ENTERPRISE_USER_JSON: &str = include_str!("json/enterprise_user.json");

/// Where a resolved attribute lives in a resource's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrLocation<'a> {
    /// A common attribute of every resource (RFC 7643 §3.1): `id`, `externalId`, `meta`.
    Common,
    /// A top-level attribute of the resource type's core schema.
    Core,
    /// An attribute inside the extension object keyed by this schema URN.
    Extension(&'a str),
}

/// An attribute path resolved against a resource type's schemas.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedAttr<'a> {
    /// Where the top-level attribute lives.
    pub location: AttrLocation<'a>,
    /// The top-level attribute.
    pub attr: &'a Attribute,
    /// The sub-attribute, when the path names one.
    pub sub: Option<&'a Attribute>,
}

impl<'a> ResolvedAttr<'a> {
    /// The attribute the path finally designates (the sub-attribute if any).
    pub fn target(&self) -> &'a Attribute {
        self.sub.unwrap_or(self.attr)
    }
}

/// Schemas and resource types, indexed for case-insensitive lookup.
///
/// A registry starts with the core `User` and `Group` schemas and the Enterprise User
/// extension ([`SchemaRegistry::with_core`]); more extension schemas can be registered
/// at run time ([`SchemaRegistry::register_extension`]).
///
/// ```
/// use scimd_protocol::schema::{SchemaRegistry, AttrLocation};
/// use scimd_protocol::path::AttrPath;
/// use scimd_protocol::ResourceKind;
/// let registry = SchemaRegistry::with_core();
/// let path = AttrPath::parse("NAME.givenname").unwrap();
/// let resolved = registry.resolve(ResourceKind::User, &path).unwrap();
/// assert_eq!(resolved.attr.name, "name");
/// assert_eq!(resolved.sub.unwrap().name, "givenName");
/// assert_eq!(resolved.location, AttrLocation::Core);
/// ```
#[derive(Debug, Clone)]
pub struct SchemaRegistry {
    schemas: Vec<Schema>,
    user_type: ResourceType,
    group_type: ResourceType,
    common: Vec<Attribute>,
}

fn load_builtin(json: &str) -> Schema {
    // The built-in schemas are constants of this crate; a parse failure is a bug
    // caught by every test, never reachable from input.
    #[allow(clippy::expect_used)]
    serde_json::from_str(json).expect("built-in schema JSON is valid")
}

fn simple(name: &str, kind: AttributeType) -> Attribute {
    Attribute {
        name: name.into(),
        kind,
        multi_valued: false,
        description: String::new(),
        required: false,
        case_exact: false,
        mutability: Mutability::ReadOnly,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        canonical_values: vec![],
        reference_types: vec![],
        sub_attributes: vec![],
    }
}

/// The common attributes of RFC 7643 §3.1, which the RFC's schema representations
/// leave out of `/Schemas` but which every resource carries and filters may name.
fn common_attributes() -> Vec<Attribute> {
    let mut id = simple("id", AttributeType::String);
    id.case_exact = true;
    id.returned = Returned::Always;
    id.uniqueness = Uniqueness::Server;
    // RFC 7643 makes externalId caseExact; scimd compares it case-insensitively so that
    // whatever conflicts on uniqueness is also found by `externalId eq` (Entra R13).
    let mut external_id = simple("externalId", AttributeType::String);
    external_id.mutability = Mutability::ReadWrite;
    let mut meta = simple("meta", AttributeType::Complex);
    let mut location = simple("location", AttributeType::Reference);
    location.case_exact = true;
    let mut version = simple("version", AttributeType::String);
    version.case_exact = true;
    let mut resource_type = simple("resourceType", AttributeType::String);
    resource_type.case_exact = true;
    meta.sub_attributes = vec![
        resource_type,
        simple("created", AttributeType::DateTime),
        simple("lastModified", AttributeType::DateTime),
        location,
        version,
    ];
    vec![id, external_id, meta]
}

impl Default for SchemaRegistry {
    fn default() -> Self {
        Self::with_core()
    }
}

impl SchemaRegistry {
    /// A registry with User, Group and the Enterprise User extension (RFC 7643 §4).
    pub fn with_core() -> Self {
        SchemaRegistry {
            schemas: vec![
                load_builtin(USER_JSON),
                load_builtin(GROUP_JSON),
                load_builtin(ENTERPRISE_USER_JSON),
            ],
            user_type: ResourceType {
                id: "User".into(),
                name: "User".into(),
                endpoint: "/Users".into(),
                description: "User Account".into(),
                schema: USER_SCHEMA.into(),
                schema_extensions: vec![SchemaExtension {
                    schema: ENTERPRISE_USER_SCHEMA.into(),
                    required: false,
                }],
            },
            group_type: ResourceType {
                id: "Group".into(),
                name: "Group".into(),
                endpoint: "/Groups".into(),
                description: "Group".into(),
                schema: GROUP_SCHEMA.into(),
                schema_extensions: vec![],
            },
            common: common_attributes(),
        }
    }

    /// Registers an extension schema for a resource kind, e.g. a tenant's
    /// `urn:ietf:params:scim:schemas:extension:acme:2.0:User` with `employeeRegion`.
    ///
    /// The schema is the JSON representation `/Schemas` would serve. Its id must be a
    /// URN not registered yet, and its attributes must be well formed (complex
    /// attributes one level deep, RFC 7643 §2.3.8).
    pub fn register_extension(
        &mut self,
        kind: ResourceKind,
        schema: Schema,
        required: bool,
    ) -> ScimResult<()> {
        if !schema.id.to_ascii_lowercase().starts_with("urn:") {
            return Err(ScimError::invalid_value(format!(
                "schema id '{}' is not a URN",
                schema.id
            )));
        }
        if self.schema(&schema.id).is_some() {
            return Err(ScimError::uniqueness(format!(
                "schema '{}' is already registered",
                schema.id
            )));
        }
        for attr in &schema.attributes {
            validate_attribute(attr, 0)?;
        }
        let rt = self.resource_type_mut(kind);
        rt.schema_extensions.push(SchemaExtension {
            schema: schema.id.clone(),
            required,
        });
        self.schemas.push(schema);
        Ok(())
    }

    /// Every registered schema, in registration order.
    pub fn schemas(&self) -> &[Schema] {
        &self.schemas
    }

    /// The schema with this URN, compared case-insensitively.
    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Both resource types.
    pub fn resource_types(&self) -> [&ResourceType; 2] {
        [&self.user_type, &self.group_type]
    }

    /// The resource type of a kind.
    pub fn resource_type(&self, kind: ResourceKind) -> &ResourceType {
        match kind {
            ResourceKind::User => &self.user_type,
            ResourceKind::Group => &self.group_type,
        }
    }

    fn resource_type_mut(&mut self, kind: ResourceKind) -> &mut ResourceType {
        match kind {
            ResourceKind::User => &mut self.user_type,
            ResourceKind::Group => &mut self.group_type,
        }
    }

    /// The core schema of a kind.
    pub fn core_schema(&self, kind: ResourceKind) -> &Schema {
        let urn = kind.core_schema();
        // The core schemas are loaded in `with_core` and can never be removed.
        match self.schemas.iter().find(|s| s.id == urn) {
            Some(s) => s,
            None => unreachable!("core schema {urn} is always registered"),
        }
    }

    /// The extension schemas a kind accepts, with the canonical URN spelling.
    pub fn extensions(&self, kind: ResourceKind) -> impl Iterator<Item = &Schema> {
        self.resource_type(kind)
            .schema_extensions
            .iter()
            .filter_map(|e| self.schema(&e.schema))
    }

    /// The extension schema of `kind` whose URN is `urn` (case-insensitive).
    pub fn extension(&self, kind: ResourceKind, urn: &str) -> Option<&Schema> {
        self.extensions(kind)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The common attributes (`id`, `externalId`, `meta`).
    pub fn common_attributes(&self) -> &[Attribute] {
        &self.common
    }

    /// Resolves an attribute path for a resource kind.
    ///
    /// Names are case-insensitive. A path without a URN is looked up among the common
    /// attributes, then the core schema, then the extensions (clients send extension
    /// attributes unqualified more often than the RFC would like). A path with the core
    /// schema's URN is the same as one without. Returns `None` when nothing matches.
    pub fn resolve(&self, kind: ResourceKind, path: &AttrPath) -> Option<ResolvedAttr<'_>> {
        let (location, attr) = match &path.urn {
            Some(urn) if urn.eq_ignore_ascii_case(kind.core_schema()) => (
                AttrLocation::Core,
                self.core_schema(kind).attribute(&path.name)?,
            ),
            Some(urn) => {
                let ext = self.extension(kind, urn)?;
                (AttrLocation::Extension(&ext.id), ext.attribute(&path.name)?)
            }
            None => {
                if let Some(a) = self
                    .common
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(&path.name))
                {
                    (AttrLocation::Common, a)
                } else if let Some(a) = self.core_schema(kind).attribute(&path.name) {
                    (AttrLocation::Core, a)
                } else {
                    self.extensions(kind).find_map(|ext| {
                        ext.attribute(&path.name)
                            .map(|a| (AttrLocation::Extension(ext.id.as_str()), a))
                    })?
                }
            }
        };
        let sub = match &path.sub_attr {
            Some(name) => Some(attr.sub_attribute(name)?),
            None => None,
        };
        Some(ResolvedAttr {
            location,
            attr,
            sub,
        })
    }

    /// Like [`SchemaRegistry::resolve`], but a missing attribute is an error of the
    /// given kind (e.g. `invalidFilter` for filters, `invalidPath` for PATCH).
    pub fn resolve_or(
        &self,
        kind: ResourceKind,
        path: &AttrPath,
        err: fn(String) -> ScimError,
    ) -> ScimResult<ResolvedAttr<'_>> {
        self.resolve(kind, path)
            .ok_or_else(|| err(format!("unknown attribute '{path}' for {}", kind.name())))
    }
}

fn validate_attribute(attr: &Attribute, depth: usize) -> ScimResult<()> {
    if attr.name.is_empty()
        || !attr
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    {
        return Err(ScimError::invalid_value(format!(
            "attribute name '{}' is not valid (RFC 7643 §2.1)",
            attr.name
        )));
    }
    if attr.kind == AttributeType::Complex {
        if depth > 0 {
            return Err(ScimError::invalid_value(format!(
                "complex attribute '{}' cannot have complex sub-attributes (RFC 7643 §2.3.8)",
                attr.name
            )));
        }
        for sub in &attr.sub_attributes {
            validate_attribute(sub, depth + 1)?;
        }
    } else if !attr.sub_attributes.is_empty() {
        return Err(ScimError::invalid_value(format!(
            "attribute '{}' is not complex but has sub-attributes",
            attr.name
        )));
    }
    Ok(())
}
