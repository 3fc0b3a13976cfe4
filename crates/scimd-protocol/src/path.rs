//! Attribute paths (RFC 7644 §3.10), shared by filters, PATCH, projection and sorting.
//!
//! ```text
//! attrPath  = [URI ":"] ATTRNAME *1subAttr      ; RFC 7644 §3.4.2.2 (ABNF, with errata)
//! subAttr   = "." ATTRNAME
//! ATTRNAME  = ALPHA *(nameChar)
//! nameChar  = "-" / "_" / DIGIT / ALPHA
//! ```
//!
//! PATCH paths (RFC 7644 §3.5.2) add a bracketed filter and a trailing sub-attribute:
//!
//! ```text
//! PATH      = attrPath / valuePath [subAttr]
//! valuePath = attrPath "[" valFilter "]"
//! ```
//!
//! `$ref` is accepted as an attribute name: the RFC's schemas use it for sub-attributes
//! (`members.$ref`) although the ABNF forgets the `$`.

use crate::error::{ScimError, ScimResult};
use crate::filter::{Filter, FilterLimits};
use std::fmt;

/// A parsed attribute path: an optional schema URN, an attribute name and an optional
/// sub-attribute name. Names keep the spelling they arrived with; resolving them
/// against a schema (which is case-insensitive) is the registry's job.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub urn: Option<String>,
    /// The attribute name, e.g. `name`.
    pub name: String,
    /// The sub-attribute name, e.g. `givenName`.
    pub sub_attr: Option<String>,
}

/// Whether `s` is a valid ATTRNAME (RFC 7643 §2.1), accepting a leading `$` for `$ref`.
pub fn is_attr_name(s: &str) -> bool {
    let body = s.strip_prefix('$').unwrap_or(s);
    let mut chars = body.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl AttrPath {
    /// A path to a top-level attribute with no URN.
    pub fn simple(name: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// A path to a sub-attribute with no URN.
    pub fn with_sub(name: impl Into<String>, sub: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub_attr: Some(sub.into()),
        }
    }

    /// Parses `[urn:]name[.sub]`.
    ///
    /// ```
    /// use scimd_protocol::path::AttrPath;
    /// let p = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
    /// assert_eq!(p.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    /// assert_eq!(p.name, "manager");
    /// assert_eq!(p.sub_attr.as_deref(), Some("value"));
    /// assert!(AttrPath::parse("emails[type eq \"work\"]").is_err());
    /// ```
    pub fn parse(input: &str) -> ScimResult<Self> {
        let bad = || ScimError::invalid_path(format!("'{input}' is not a valid attribute path"));
        let (urn, rest) = split_urn(input);
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if !is_attr_name(name) {
            return Err(bad());
        }
        if let Some(s) = sub {
            if !is_attr_name(s) {
                return Err(bad());
            }
        }
        if let Some(u) = urn {
            if u.len() <= 4 {
                return Err(bad());
            }
        }
        Ok(AttrPath {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub.map(str::to_owned),
        })
    }
}

/// Splits a leading `urn:...:` prefix from an attribute path.
///
/// The URN is everything up to the last `:`; URNs contain dots (`2.0`) so the split
/// must not look at dots. Only strings starting with `urn:` (any case) have a URN.
pub fn split_urn(input: &str) -> (Option<&str>, &str) {
    if input.len() > 4
        && input
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        if let Some(pos) = input.rfind(':') {
            if let (Some(urn), Some(rest)) = (input.get(..pos), input.get(pos + 1..)) {
                return (Some(urn), rest);
            }
        }
    }
    (None, input)
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A PATCH operation's `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath [subAttr]`.
///
/// | path | `attr` | `filter` | `sub_attr` |
/// |---|---|---|---|
/// | `members` | `members` | – | – |
/// | `name.familyName` | `name.familyName` | – | – |
/// | `members[value eq "id"]` | `members` | `value eq "id"` | – |
/// | `emails[type eq "work"].value` | `emails` | `type eq "work"` | `value` |
/// | `urn:...:enterprise:2.0:User:manager.value` | `urn:...:User:manager.value` | – | – |
///
/// In `attr[filter].sub` the sub-attribute is held in [`PatchPath::sub_attr`] and
/// `attr.sub_attr` is `None`; a filter's paths name sub-attributes of `attr`'s elements.
///
/// ```
/// use scimd_protocol::path::PatchPath;
/// use scimd_protocol::filter::FilterLimits;
/// let p = PatchPath::parse(r#"addresses[type eq "work"].locality"#, &FilterLimits::default()).unwrap();
/// assert_eq!(p.attr.name, "addresses");
/// assert_eq!(p.filter.unwrap().to_string(), r#"type eq "work""#);
/// assert_eq!(p.sub_attr.as_deref(), Some("locality"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute the operation targets (with its sub-attribute when there is no filter).
    pub attr: AttrPath,
    /// The filter selecting elements of a multi-valued attribute, if any.
    pub filter: Option<Filter>,
    /// The sub-attribute of the selected elements (`.value` after `]`), if any.
    pub sub_attr: Option<String>,
}

impl PatchPath {
    /// Parses a PATCH path. The filter part follows the filter grammar and its
    /// leniency (see [`crate::filter`]); errors are 400 `invalidPath`, and `limits`
    /// bound the length and nesting as for filters.
    pub fn parse(input: &str, limits: &FilterLimits) -> ScimResult<PatchPath> {
        let (attr, filter, sub_attr) = crate::filter::parse_patch_path(input, limits)?;
        Ok(PatchPath {
            attr,
            filter,
            sub_attr,
        })
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_and_sub_paths() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::simple("userName")
        );
        assert_eq!(
            AttrPath::parse("name.familyName").unwrap(),
            AttrPath::with_sub("name", "familyName")
        );
        assert_eq!(
            AttrPath::parse("members.$ref").unwrap(),
            AttrPath::with_sub("members", "$ref")
        );
    }

    #[test]
    fn urn_paths_split_at_last_colon() {
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:userName").unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(p.name, "userName");
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:core:2.0:User:userName"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "", ".", "a.", ".b", "1abc", "a.b.c", "na me", "urn:", "a[b]", "urn:x:",
        ] {
            assert!(AttrPath::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
