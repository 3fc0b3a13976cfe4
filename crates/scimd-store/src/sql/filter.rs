//! Filters (RFC 7644 §3.4.2.2) compiled to a SQL condition on the row alias `r`.
//!
//! Where an attribute is read from decides how fast a filter is:
//!
//! | attribute | SQL |
//! |---|---|
//! | `id`, `externalId`, `userName`, `displayName`, `active`, `meta.created`, `meta.lastModified` | indexed columns of `r` (`*_norm` columns hold folded text) |
//! | users' `emails`, `phoneNumbers`, `roles`, ... on `value` / `type` / `primary` | `r.id IN (SELECT user_id FROM user_values ...)`, an index lookup |
//! | groups' `members` | `r.id IN (SELECT group_id FROM group_members ...)` |
//! | users' `groups` | `r.id IN (SELECT member_id FROM group_members ...)` |
//! | anything else (extensions, `name.givenName`, `addresses.locality`, ...) | the JSON document, through the [`Dialect`] |
//!
//! Comparisons follow the attribute's schema: `caseExact` false compares folded text
//! (see `crate::fold`), `dateTime` compares instants, booleans allow only `eq`/`ne`,
//! and `co`/`sw`/`ew` apply to strings only; anything else is `invalidFilter`.
//!
//! `sw` compiles to a half-open range (`x >= 'abc' AND x < 'abd'`) rather than LIKE, so
//! it can use the same B-tree index as `eq` on both backends. `co` and `ew` compile to
//! `LIKE ... ESCAPE '\'` on folded text, with `%`, `_` and `\` escaped; on
//! case-sensitive text they use the dialect's substring functions, because SQLite's
//! LIKE ignores ASCII case.

use super::{Bind, Binds, Dialect};
use crate::fold::fold_case;
use crate::timestamp;
use scimd_protocol::filter::{CompareOp, Filter, Literal};
use scimd_protocol::path::AttrPath;
use scimd_protocol::schema::{AttrLocation, Attribute, AttributeType, Returned};
use scimd_protocol::{ResourceKind, SchemaRegistry, ScimError};

type Result<T> = std::result::Result<T, ScimError>;

/// Compiles `filter` for resources of `kind` into a SQL condition on alias `r`.
/// `tenant_ph` is the placeholder already bound to the tenant id.
pub fn compile_filter(
    dialect: &dyn Dialect,
    registry: &SchemaRegistry,
    kind: ResourceKind,
    tenant_ph: &str,
    filter: &Filter,
    binds: &mut Binds,
) -> Result<CompiledFilter> {
    let mut compiler = Compiler {
        dialect,
        registry,
        kind,
        tenant_ph,
        binds,
        unique_name_eq: None,
    };
    let condition = compiler.root(filter)?;
    // Only a filter that is this one comparison matches exactly the rows with that
    // name; inside `and`, `or` or `not` the comparison says nothing of the whole.
    let unique_name = compiler
        .unique_name_eq
        .filter(|_| matches!(filter, Filter::Compare { .. }));
    Ok(CompiledFilter {
        condition,
        unique_name,
    })
}

/// A filter compiled to SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledFilter {
    /// The condition on alias `r`.
    pub condition: String,
    /// When the filter is `eq` on the kind's unique name (users' `userName`, groups'
    /// `displayName`), the folded value it compares the `*_norm` column with: the rows
    /// it matches are exactly those with that name.
    pub unique_name: Option<String>,
}

/// The column of the name unique within a tenant for `kind`, as filters read it.
fn unique_name_column(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "r.user_name_norm",
        ResourceKind::Group => "r.display_name_norm",
    }
}

struct Compiler<'a, 'b> {
    dialect: &'a dyn Dialect,
    registry: &'a SchemaRegistry,
    kind: ResourceKind,
    tenant_ph: &'a str,
    binds: &'b mut Binds,
    /// The folded value of the last `eq` on [`unique_name_column`] compiled.
    unique_name_eq: Option<String>,
}

/// How the text of an operand compares case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// The expression is a `*_norm` column: fold the literal in Rust.
    Normalised,
    /// Case-sensitive: compare as is.
    Exact,
    /// Text from JSON: `lower()` in SQL and the literal folded the same way.
    SqlLower,
}

/// What kind of value an operand holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Text(Fold),
    /// A timestamp column in the store's fixed format (`crate::timestamp`).
    StoredDateTime,
    /// A dateTime as arbitrary RFC 3339 text inside a JSON document.
    JsonDateTime,
    Bool,
    Number,
}

/// Something a comparison can be applied to.
#[derive(Debug, Clone)]
struct Operand {
    expr: String,
    kind: ValueKind,
}

/// Where the elements of a multi-valued (or complex) attribute are read from.
#[derive(Debug, Clone)]
enum Elements<'a> {
    /// A user's core multi-valued complex attribute through the `user_values` index.
    UserValues { attr: &'a Attribute },
    /// The elements of a JSON array in the document.
    JsonArray {
        attr: &'a Attribute,
        keys: Vec<String>,
    },
    /// A single-valued complex attribute in the document (`name`, enterprise `manager`).
    JsonObject {
        attr: &'a Attribute,
        keys: Vec<String>,
    },
    /// A group's `members`.
    GroupMembers { attr: &'a Attribute },
    /// A user's `groups`.
    UserGroups { attr: &'a Attribute },
}

impl Elements<'_> {
    fn attr(&self) -> &Attribute {
        match self {
            Elements::UserValues { attr }
            | Elements::JsonArray { attr, .. }
            | Elements::JsonObject { attr, .. }
            | Elements::GroupMembers { attr }
            | Elements::UserGroups { attr } => attr,
        }
    }
}

/// Sub-attributes the `user_values` index holds.
const INDEXED_SUBS: [&str; 3] = ["value", "type", "primary"];

fn unknown(path: &AttrPath, kind: ResourceKind) -> ScimError {
    ScimError::invalid_filter(format!("unknown attribute '{path}' for {}", kind.name()))
}

fn text_kind(attr: &Attribute, fold_if_insensitive: Fold) -> ValueKind {
    match attr.kind {
        AttributeType::Boolean => ValueKind::Bool,
        AttributeType::Decimal | AttributeType::Integer => ValueKind::Number,
        AttributeType::DateTime => ValueKind::JsonDateTime,
        _ if attr.case_exact => ValueKind::Text(Fold::Exact),
        _ => ValueKind::Text(fold_if_insensitive),
    }
}

impl Compiler<'_, '_> {
    // ---- root scope ---------------------------------------------------------

    fn root(&mut self, filter: &Filter) -> Result<String> {
        match filter {
            Filter::And(a, b) => Ok(format!("({} AND {})", self.root(a)?, self.root(b)?)),
            Filter::Or(a, b) => Ok(format!("({} OR {})", self.root(a)?, self.root(b)?)),
            // SQL's NOT of an unknown (NULL) comparison is unknown; SCIM's `not` is a
            // plain complement, so unknown counts as false before negation.
            Filter::Not(a) => Ok(format!("(NOT COALESCE({}, FALSE))", self.root(a)?)),
            Filter::Present { path, .. } => self.root_attribute(path, None),
            Filter::Compare {
                path, op, value, ..
            } => self.root_attribute(path, Some((*op, value))),
            Filter::ValuePath { path, filter, .. } => self.root_value_path(path, filter),
        }
    }

    /// `path pr` (when `comparison` is None) or `path op value` at the root.
    fn root_attribute(
        &mut self,
        path: &AttrPath,
        comparison: Option<(CompareOp, &Literal)>,
    ) -> Result<String> {
        let resolved = self
            .registry
            .resolve(self.kind, path)
            .ok_or_else(|| unknown(path, self.kind))?;
        if resolved.target().returned == Returned::Never {
            return Err(ScimError::invalid_filter(format!(
                "attribute '{path}' cannot be filtered on"
            )));
        }
        if let Some(operand) =
            self.column_operand(resolved.location, resolved.attr, resolved.sub, path)?
        {
            return self.apply(&operand, comparison);
        }
        let attr = resolved.attr;
        let subs: Vec<&str> = resolved.sub.map(|s| s.name.as_str()).into_iter().collect();
        if let Some(elements) = self.elements_of(resolved.location, attr, &subs) {
            // `emails.value eq x`, `emails eq x` (the value, RFC 7644 §3.4.2.2 treats a
            // multi-valued attribute without sub-attribute as its values), `emails pr`.
            let condition = match (resolved.sub, comparison) {
                (Some(sub), _) => {
                    let operand = self.element_operand(&elements, &sub.name)?;
                    self.apply(&operand, comparison)?
                }
                (None, None) => "TRUE".to_owned(),
                (None, Some(_))
                    if attr.kind != AttributeType::Complex
                        || attr.sub_attribute("value").is_some() =>
                {
                    let operand = self.element_operand(&elements, "value")?;
                    self.apply(&operand, comparison)?
                }
                (None, Some(_)) => {
                    return Err(ScimError::invalid_filter(format!(
                        "'{path}' is complex: compare one of its sub-attributes"
                    )))
                }
            };
            return self.wrap(
                &elements,
                &condition,
                comparison.is_none() && resolved.sub.is_none(),
            );
        }
        // A single-valued attribute in the JSON document. A complex one compared
        // without a sub-attribute compares its `value` (Entra's legacy
        // `manager eq "<id>"`, idp-clients.md R3), like multi-valued attributes do.
        let sub = match (comparison, resolved.sub) {
            (Some(_), None) if attr.kind == AttributeType::Complex => {
                Some(attr.sub_attribute("value").ok_or_else(|| {
                    ScimError::invalid_filter(format!(
                        "'{path}' is complex: compare one of its sub-attributes"
                    ))
                })?)
            }
            (_, sub) => sub,
        };
        let target = sub.unwrap_or(attr);
        let keys = json_keys(resolved.location, attr, sub);
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let path_ph = self.binds.text(self.dialect.json_path(&key_refs)?);
        if comparison.is_none() {
            return Ok(self.dialect.json_present("r.doc", &path_ph));
        }
        let operand = self.json_operand(self.dialect.json_scalar("r.doc", &path_ph), target);
        self.apply(&operand, comparison)
    }

    /// The indexed column for an attribute, when it has one.
    fn column_operand(
        &mut self,
        location: AttrLocation<'_>,
        attr: &Attribute,
        sub: Option<&Attribute>,
        path: &AttrPath,
    ) -> Result<Option<Operand>> {
        let column = |expr: &str, kind: ValueKind| {
            Some(Operand {
                expr: expr.to_owned(),
                kind,
            })
        };
        let name = attr.name.as_str();
        let operand = match (location, self.kind, name) {
            (AttrLocation::Common, _, "id") => column("r.id", ValueKind::Text(Fold::Exact)),
            (AttrLocation::Common, _, "externalId") => {
                column("r.external_id_norm", ValueKind::Text(Fold::Normalised))
            }
            (AttrLocation::Common, _, "meta") => match sub.map(|s| s.name.as_str()) {
                Some("created") => column("r.created", ValueKind::StoredDateTime),
                Some("lastModified") => column("r.last_modified", ValueKind::StoredDateTime),
                Some("resourceType") => {
                    let ph = self.binds.text(self.kind.name());
                    column(&ph, ValueKind::Text(Fold::Exact))
                }
                _ => {
                    return Err(ScimError::invalid_filter(format!(
                        "'{path}' cannot be filtered on"
                    )))
                }
            },
            (AttrLocation::Core, ResourceKind::User, "userName") => {
                column("r.user_name_norm", ValueKind::Text(Fold::Normalised))
            }
            (AttrLocation::Core, _, "displayName") => {
                column("r.display_name_norm", ValueKind::Text(Fold::Normalised))
            }
            (AttrLocation::Core, ResourceKind::User, "active") => {
                column("r.active", ValueKind::Bool)
            }
            _ => None,
        };
        Ok(operand)
    }

    /// The element source of a multi-valued attribute (or of a single-valued complex
    /// one, for value paths), given the sub-attributes the filter will read.
    fn elements_of<'r>(
        &self,
        location: AttrLocation<'_>,
        attr: &'r Attribute,
        subs: &[&str],
    ) -> Option<Elements<'r>> {
        let core = location == AttrLocation::Core;
        let elements = match (self.kind, attr.name.as_str()) {
            (ResourceKind::Group, "members") if core => Elements::GroupMembers { attr },
            (ResourceKind::User, "groups") if core => Elements::UserGroups { attr },
            _ if attr.multi_valued => {
                let indexable = self.kind == ResourceKind::User
                    && core
                    && attr.kind == AttributeType::Complex
                    && subs.iter().all(|s| {
                        INDEXED_SUBS.iter().any(|i| i.eq_ignore_ascii_case(s))
                            && attr.sub_attribute(s).is_some_and(|a| !a.case_exact)
                    });
                if indexable {
                    Elements::UserValues { attr }
                } else {
                    Elements::JsonArray {
                        attr,
                        keys: json_keys(location, attr, None),
                    }
                }
            }
            _ => return None,
        };
        Some(elements)
    }

    /// `path[filter]` at the root.
    fn root_value_path(&mut self, path: &AttrPath, inner: &Filter) -> Result<String> {
        if path.sub_attr.is_some() {
            return Err(ScimError::invalid_filter(format!(
                "value path '{path}[...]' cannot name a sub-attribute before the brackets"
            )));
        }
        let resolved = self
            .registry
            .resolve(self.kind, path)
            .ok_or_else(|| unknown(path, self.kind))?;
        let attr = resolved.attr;
        let mut subs = Vec::new();
        collect_paths(inner, &mut subs)?;
        let elements = match self.elements_of(resolved.location, attr, &subs) {
            Some(e) => e,
            None if attr.kind == AttributeType::Complex => Elements::JsonObject {
                attr,
                keys: json_keys(resolved.location, attr, None),
            },
            None => {
                return Err(ScimError::invalid_filter(format!(
                    "'{path}' is neither multi-valued nor complex; it cannot take [...]"
                )))
            }
        };
        let condition = self.element(&elements, inner)?;
        self.wrap(&elements, &condition, false)
    }

    // ---- element scope ------------------------------------------------------

    fn element(&mut self, elements: &Elements<'_>, filter: &Filter) -> Result<String> {
        match filter {
            Filter::And(a, b) => Ok(format!(
                "({} AND {})",
                self.element(elements, a)?,
                self.element(elements, b)?
            )),
            Filter::Or(a, b) => Ok(format!(
                "({} OR {})",
                self.element(elements, a)?,
                self.element(elements, b)?
            )),
            Filter::Not(a) => Ok(format!(
                "(NOT COALESCE({}, FALSE))",
                self.element(elements, a)?
            )),
            Filter::Present { path, .. } => {
                let operand = self.element_operand(elements, element_sub(path)?)?;
                self.apply(&operand, None)
            }
            Filter::Compare {
                path, op, value, ..
            } => {
                let operand = self.element_operand(elements, element_sub(path)?)?;
                self.apply(&operand, Some((*op, value)))
            }
            Filter::ValuePath { path, .. } => Err(ScimError::invalid_filter(format!(
                "value paths cannot be nested ('{path}[...]' inside brackets)"
            ))),
        }
    }

    /// The operand for sub-attribute `sub_name` of an element.
    fn element_operand(&mut self, elements: &Elements<'_>, sub_name: &str) -> Result<Operand> {
        let parent = elements.attr();
        let not_filterable = || {
            ScimError::invalid_filter(format!(
                "'{}.{sub_name}' cannot be filtered on",
                parent.name
            ))
        };
        // A simple multi-valued attribute's elements are addressed as `value`.
        if parent.kind != AttributeType::Complex {
            if !sub_name.eq_ignore_ascii_case("value") {
                return Err(ScimError::invalid_filter(format!(
                    "unknown attribute '{}.{sub_name}'",
                    parent.name
                )));
            }
            return Ok(self.json_operand(self.dialect.element_scalar("e"), parent));
        }
        let sub = parent.sub_attribute(sub_name).ok_or_else(|| {
            ScimError::invalid_filter(format!("unknown attribute '{}.{sub_name}'", parent.name))
        })?;
        let operand = match elements {
            Elements::UserValues { .. } => match sub.name.as_str() {
                "value" => Operand {
                    expr: "uv.value_norm".into(),
                    kind: ValueKind::Text(Fold::Normalised),
                },
                "type" => Operand {
                    expr: "uv.type_norm".into(),
                    kind: ValueKind::Text(Fold::Normalised),
                },
                "primary" => Operand {
                    expr: "uv.is_primary".into(),
                    kind: ValueKind::Bool,
                },
                _ => return Err(not_filterable()),
            },
            Elements::GroupMembers { .. } => match sub.name.as_str() {
                // Ids are generated lowercase, so folding the literal is a
                // case-insensitive comparison.
                "value" => Operand {
                    expr: "gm.member_id".into(),
                    kind: ValueKind::Text(Fold::Normalised),
                },
                "type" => Operand {
                    expr: "gm.member_type".into(),
                    kind: ValueKind::Text(Fold::SqlLower),
                },
                _ => return Err(not_filterable()),
            },
            Elements::UserGroups { .. } => match sub.name.as_str() {
                "value" => Operand {
                    expr: "gm.group_id".into(),
                    kind: ValueKind::Text(Fold::Normalised),
                },
                "display" => Operand {
                    expr: "g.display_name_norm".into(),
                    kind: ValueKind::Text(Fold::Normalised),
                },
                _ => return Err(not_filterable()),
            },
            Elements::JsonArray { .. } => {
                let path_ph = self
                    .binds
                    .text(self.dialect.json_path(&[sub.name.as_str()])?);
                self.json_operand(self.dialect.element_field("e", &path_ph), sub)
            }
            Elements::JsonObject { keys, .. } => {
                let mut all: Vec<&str> = keys.iter().map(String::as_str).collect();
                all.push(sub.name.as_str());
                let path_ph = self.binds.text(self.dialect.json_path(&all)?);
                self.json_operand(self.dialect.json_scalar("r.doc", &path_ph), sub)
            }
        };
        Ok(operand)
    }

    /// Wraps an element condition so that it holds for the row when some element
    /// satisfies it (RFC 7644 §3.4.2.2: a multi-valued attribute matches when any of
    /// its values does). `any` means "has at least one element" (`emails pr`).
    fn wrap(&mut self, elements: &Elements<'_>, condition: &str, any: bool) -> Result<String> {
        let t = self.tenant_ph;
        let sql = match elements {
            Elements::UserValues { attr } => {
                let attr_ph = self.binds.text(attr.name.as_str());
                format!(
                    "r.id IN (SELECT uv.user_id FROM user_values uv \
                     WHERE uv.tenant_id = {t} AND uv.attr = {attr_ph} AND {condition})"
                )
            }
            Elements::GroupMembers { .. } => format!(
                "r.id IN (SELECT gm.group_id FROM group_members gm \
                 WHERE gm.tenant_id = {t} AND {condition})"
            ),
            Elements::UserGroups { .. } => format!(
                "r.id IN (SELECT gm.member_id FROM group_members gm \
                 JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
                 WHERE gm.tenant_id = {t} AND {condition})"
            ),
            Elements::JsonArray { keys, .. } => {
                let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                let path_ph = self.binds.text(self.dialect.json_path(&key_refs)?);
                if any {
                    self.dialect.json_present("r.doc", &path_ph)
                } else {
                    let from = self.dialect.json_elements("r.doc", &path_ph, "e");
                    format!("EXISTS (SELECT 1 FROM {from} WHERE {condition})")
                }
            }
            Elements::JsonObject { keys, .. } => {
                if any {
                    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                    let path_ph = self.binds.text(self.dialect.json_path(&key_refs)?);
                    self.dialect.json_present("r.doc", &path_ph)
                } else {
                    format!("({condition})")
                }
            }
        };
        Ok(sql)
    }

    /// An operand read from a JSON value, converted to the SQL type its attribute's
    /// comparisons need (see the typed hooks of [`Dialect`]).
    fn json_operand(&self, value: String, attr: &Attribute) -> Operand {
        let kind = text_kind(attr, Fold::SqlLower);
        let expr = match kind {
            ValueKind::Bool => self.dialect.json_bool(&value),
            ValueKind::Number => self.dialect.json_number(&value),
            _ => self.dialect.json_text(&value),
        };
        Operand { expr, kind }
    }

    // ---- comparisons --------------------------------------------------------

    /// `operand pr` (None) or `operand op literal`.
    fn apply(
        &mut self,
        operand: &Operand,
        comparison: Option<(CompareOp, &Literal)>,
    ) -> Result<String> {
        let Some((op, literal)) = comparison else {
            return Ok(self.present(operand));
        };
        if *literal == Literal::Null {
            // `eq null` is "has no value", `ne null` is "has a value".
            return match op {
                CompareOp::Eq => Ok(format!("(NOT COALESCE({}, FALSE))", self.present(operand))),
                CompareOp::Ne => Ok(self.present(operand)),
                _ => Err(ScimError::invalid_filter(format!(
                    "'{}' cannot compare with null",
                    op.as_str()
                ))),
            };
        }
        match operand.kind {
            ValueKind::Text(fold) => self.compare_text(operand, fold, op, literal),
            ValueKind::StoredDateTime | ValueKind::JsonDateTime => {
                self.compare_datetime(operand, op, literal)
            }
            ValueKind::Bool => self.compare_bool(operand, op, literal),
            ValueKind::Number => self.compare_number(operand, op, literal),
        }
    }

    fn present(&self, operand: &Operand) -> String {
        let e = &operand.expr;
        match operand.kind {
            ValueKind::Text(_) => format!("({e} IS NOT NULL AND {e} <> '')"),
            _ => format!("({e} IS NOT NULL)"),
        }
    }

    fn compare_text(
        &mut self,
        operand: &Operand,
        fold: Fold,
        op: CompareOp,
        literal: &Literal,
    ) -> Result<String> {
        let raw = match literal {
            Literal::String(s) => s.clone(),
            // A bare number or boolean compared with a string attribute: compare its
            // text (`employeeNumber eq 1234`).
            Literal::Number(n) => n.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => String::new(),
        };
        let (lhs, value) = match fold {
            Fold::Normalised => (operand.expr.clone(), fold_case(&raw)),
            Fold::Exact => (operand.expr.clone(), raw),
            Fold::SqlLower => (
                self.dialect.lower(&operand.expr),
                self.dialect.fold_like_lower(&raw),
            ),
        };
        if op == CompareOp::Eq
            && fold == Fold::Normalised
            && operand.expr == unique_name_column(self.kind)
        {
            self.unique_name_eq = Some(value.clone());
        }
        let sql = match op {
            CompareOp::Eq => format!("{lhs} = {}", self.binds.text(value)),
            CompareOp::Ne => format!("({lhs} IS NULL OR {lhs} <> {})", self.binds.text(value)),
            CompareOp::Gt => format!("{lhs} > {}", self.binds.text(value)),
            CompareOp::Ge => format!("{lhs} >= {}", self.binds.text(value)),
            CompareOp::Lt => format!("{lhs} < {}", self.binds.text(value)),
            CompareOp::Le => format!("{lhs} <= {}", self.binds.text(value)),
            CompareOp::Sw => match prefix_upper_bound(&value) {
                Some(upper) => format!(
                    "({lhs} >= {} AND {lhs} < {})",
                    self.binds.text(value),
                    self.binds.text(upper)
                ),
                // Every string starts with "" (and a prefix of only U+10FFFF has no
                // upper bound; it is compared as `>=`, which is exact for it).
                None => format!("{lhs} >= {}", self.binds.text(value)),
            },
            CompareOp::Co | CompareOp::Ew if value.is_empty() => {
                format!("{lhs} IS NOT NULL")
            }
            CompareOp::Co | CompareOp::Ew if fold == Fold::Exact => {
                let ph = self.binds.text(value);
                if op == CompareOp::Co {
                    self.dialect.contains_exact(&lhs, &ph)
                } else {
                    self.dialect.ends_with_exact(&lhs, &ph)
                }
            }
            CompareOp::Co => format!(
                "{lhs} LIKE {} ESCAPE '\\'",
                self.binds.text(format!("%{}%", escape_like(&value)))
            ),
            CompareOp::Ew => format!(
                "{lhs} LIKE {} ESCAPE '\\'",
                self.binds.text(format!("%{}", escape_like(&value)))
            ),
        };
        Ok(sql)
    }

    fn compare_datetime(
        &mut self,
        operand: &Operand,
        op: CompareOp,
        literal: &Literal,
    ) -> Result<String> {
        let Literal::String(text) = literal else {
            return Err(ScimError::invalid_filter(
                "a dateTime attribute compares with a quoted dateTime such as \"2024-01-01T00:00:00Z\"",
            ));
        };
        let at = timestamp::parse_client(text).ok_or_else(|| {
            ScimError::invalid_filter(format!("'{text}' is not an RFC 3339 dateTime"))
        })?;
        let (lhs, value) = match operand.kind {
            ValueKind::StoredDateTime => (operand.expr.clone(), timestamp::format(at)),
            _ => (
                self.dialect.datetime_norm(&operand.expr),
                self.dialect.datetime_literal(at),
            ),
        };
        let sql_op = ordering_op(op).ok_or_else(|| {
            ScimError::invalid_filter(format!(
                "'{}' does not apply to dateTime attributes",
                op.as_str()
            ))
        })?;
        let ph = self.binds.text(value);
        Ok(if op == CompareOp::Ne {
            format!("({lhs} IS NULL OR {lhs} <> {ph})")
        } else {
            format!("{lhs} {sql_op} {ph}")
        })
    }

    fn compare_bool(
        &mut self,
        operand: &Operand,
        op: CompareOp,
        literal: &Literal,
    ) -> Result<String> {
        let value = match literal {
            Literal::Bool(b) => *b,
            // Identity providers send booleans as strings (idp-clients.md R6).
            Literal::String(s) if s.eq_ignore_ascii_case("true") => true,
            Literal::String(s) if s.eq_ignore_ascii_case("false") => false,
            _ => {
                return Err(ScimError::invalid_filter(
                    "a boolean attribute compares with true or false",
                ))
            }
        };
        let e = &operand.expr;
        match op {
            CompareOp::Eq => Ok(format!("{e} = {}", self.binds.push(Bind::Bool(value)))),
            CompareOp::Ne => Ok(format!(
                "({e} IS NULL OR {e} <> {})",
                self.binds.push(Bind::Bool(value))
            )),
            _ => Err(ScimError::invalid_filter(format!(
                "'{}' does not apply to boolean attributes",
                op.as_str()
            ))),
        }
    }

    fn compare_number(
        &mut self,
        operand: &Operand,
        op: CompareOp,
        literal: &Literal,
    ) -> Result<String> {
        let bind = match literal {
            Literal::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Bind::Int(i),
                (None, Some(f)) => Bind::Real(f),
                (None, None) => {
                    return Err(ScimError::invalid_filter(format!(
                        "number {n} is out of range"
                    )))
                }
            },
            _ => {
                return Err(ScimError::invalid_filter(
                    "a numeric attribute compares with a number",
                ))
            }
        };
        let sql_op = ordering_op(op).ok_or_else(|| {
            ScimError::invalid_filter(format!(
                "'{}' does not apply to numeric attributes",
                op.as_str()
            ))
        })?;
        let e = &operand.expr;
        let ph = self.binds.push(bind);
        Ok(if op == CompareOp::Ne {
            format!("({e} IS NULL OR {e} <> {ph})")
        } else {
            format!("{e} {sql_op} {ph}")
        })
    }
}

/// The SQL operator of an ordering comparison; None for the string-only operators.
fn ordering_op(op: CompareOp) -> Option<&'static str> {
    match op {
        CompareOp::Eq => Some("="),
        CompareOp::Ne => Some("<>"),
        CompareOp::Gt => Some(">"),
        CompareOp::Ge => Some(">="),
        CompareOp::Lt => Some("<"),
        CompareOp::Le => Some("<="),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => None,
    }
}

/// The JSON keys of an attribute in the document: extension attributes live under
/// their schema URN (the canonical Document form).
fn json_keys(location: AttrLocation<'_>, attr: &Attribute, sub: Option<&Attribute>) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    if let AttrLocation::Extension(urn) = location {
        keys.push(urn.to_owned());
    }
    keys.push(attr.name.clone());
    if let Some(sub) = sub {
        keys.push(sub.name.clone());
    }
    keys
}

/// The sub-attribute an element-scoped path names (`type` in `emails[type eq "work"]`).
fn element_sub(path: &AttrPath) -> Result<&str> {
    if path.urn.is_some() || path.sub_attr.is_some() {
        return Err(ScimError::invalid_filter(format!(
            "'{path}' inside brackets must be a plain sub-attribute name"
        )));
    }
    Ok(path.name.as_str())
}

/// The sub-attribute names an element filter reads.
fn collect_paths<'f>(filter: &'f Filter, out: &mut Vec<&'f str>) -> Result<()> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            collect_paths(a, out)?;
            collect_paths(b, out)
        }
        Filter::Not(a) => collect_paths(a, out),
        Filter::Present { path, .. } | Filter::Compare { path, .. } => {
            out.push(element_sub(path)?);
            Ok(())
        }
        Filter::ValuePath { path, .. } => Err(ScimError::invalid_filter(format!(
            "value paths cannot be nested ('{path}[...]' inside brackets)"
        ))),
    }
}

/// Escapes LIKE's wildcards so that the literal matches itself (with `ESCAPE '\'`).
pub(crate) fn escape_like(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The smallest string greater than every string starting with `prefix`: the prefix
/// with its last character incremented (UTF-8 byte order is code point order, so this
/// bound is right for binary collation). None when no such string exists (empty prefix
/// or only U+10FFFF characters).
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        // Skip the surrogate range, which is not made of chars.
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound(""), None);
    }
}
