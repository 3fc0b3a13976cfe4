//! placeholder
use super::ast::Filter;
use crate::error::ScimResult;
use crate::schema::{Attribute, ResourceKind, SchemaRegistry};
use serde_json::Value;

/// Evaluates.
pub fn evaluate(
    _f: &Filter,
    _r: &Value,
    _reg: &SchemaRegistry,
    _k: ResourceKind,
) -> ScimResult<bool> {
    Ok(false)
}
/// Evaluates.
pub fn evaluate_element(_f: &Filter, _e: &Value, _a: &Attribute) -> ScimResult<bool> {
    Ok(false)
}
/// Validates.
pub fn validate(_f: &Filter, _reg: &SchemaRegistry, _k: ResourceKind) -> ScimResult<()> {
    Ok(())
}
/// Validates.
pub fn validate_element(_f: &Filter, _a: &Attribute) -> ScimResult<()> {
    Ok(())
}
