//! What differs between SQL dialects, and the SQLite answers.

use scimd_protocol::ScimError;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// The SQL a backend writes for the few things SQLite and PostgreSQL spell differently.
///
/// Expressions are SQL text; `*_ph` arguments are placeholders (`$n`) of bound values.
pub trait Dialect: Send + Sync {
    /// The JSON path addressing nested object keys, as a value to bind.
    /// Keys that cannot be expressed safely are `invalidFilter`.
    fn json_path(&self, keys: &[&str]) -> Result<String, ScimError>;
    /// The scalar at `path_ph` inside the JSON document `doc` (strings as text,
    /// booleans and numbers comparable with bound booleans and numbers), or NULL.
    fn json_scalar(&self, doc: &str, path_ph: &str) -> String;
    /// Whether the JSON document `doc` has a non-null, non-empty value at `path_ph`.
    fn json_present(&self, doc: &str, path_ph: &str) -> String;
    /// A FROM item iterating the elements of the JSON array at `path_ph` under `alias`.
    fn json_elements(&self, doc: &str, path_ph: &str, alias: &str) -> String;
    /// The scalar value of an element produced by [`Dialect::json_elements`].
    fn element_scalar(&self, alias: &str) -> String;
    /// The scalar at `path_ph` inside an element produced by [`Dialect::json_elements`].
    fn element_field(&self, alias: &str, path_ph: &str) -> String;
    /// SQL lowercasing of a text expression, for JSON values that have no normalised
    /// column.
    fn lower(&self, expr: &str) -> String;
    /// Lowercases a literal exactly as [`Dialect::lower`] lowercases stored text, so
    /// the two sides of a comparison agree.
    fn fold_like_lower(&self, literal: &str) -> String;
    /// `expr` contains the bound text `ph`, case-sensitively.
    fn contains_exact(&self, expr: &str, ph: &str) -> String;
    /// `expr` ends with the bound text `ph`, case-sensitively.
    fn ends_with_exact(&self, expr: &str, ph: &str) -> String;
    /// Normalises a dateTime held as arbitrary RFC 3339 text in a JSON document to a
    /// form whose text order is time order (NULL when it is not a dateTime).
    fn datetime_norm(&self, expr: &str) -> String;
    /// A client's dateTime in the form [`Dialect::datetime_norm`] produces.
    fn datetime_literal(&self, at: OffsetDateTime) -> String;

    // The four hooks below turn a JSON value (from [`Dialect::json_scalar`],
    // [`Dialect::element_scalar`] or [`Dialect::element_field`]) into an SQL value of
    // the type a comparison needs. SQLite's json_extract already returns SQL text,
    // integers and reals, so its answers are the expression itself; PostgreSQL's JSONB
    // values need an explicit, type-checked conversion.

    /// The JSON value as text (strings without their quotes).
    fn json_text(&self, value: &str) -> String {
        value.to_owned()
    }
    /// The JSON value as an SQL boolean, NULL when it is not a boolean.
    fn json_bool(&self, value: &str) -> String {
        value.to_owned()
    }
    /// The JSON value as an SQL number, NULL when it is not a number.
    fn json_number(&self, value: &str) -> String {
        value.to_owned()
    }
    /// A boolean expression as a sort key that cursors can hold (an integer).
    fn bool_sort_key(&self, expr: &str) -> String {
        expr.to_owned()
    }

    /// A scalar subquery giving the groups of the user on alias `row` of tenant
    /// `tenant` (a placeholder or a column) as a JSON array of `[id, displayName]`
    /// pairs, so that a user and its groups come from one statement; `None` where the
    /// backend reads them with a statement of their own. Whether the pairs come ordered
    /// is the backend's to say (its reader sorts them if not).
    fn user_groups_json(&self, _tenant: &str, _row: &str) -> Option<String> {
        None
    }
    /// Whether a list page computes the groups subquery around the page
    /// (`SELECT p.*, groups FROM (page) p`) rather than inside it. See
    /// `PostgresDialect`'s.
    fn user_groups_around_page(&self) -> bool {
        false
    }
}

/// SQLite's JSON1 functions and string functions.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

const SQLITE_STRFTIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

impl Dialect for SqliteDialect {
    fn user_groups_json(&self, tenant: &str, row: &str) -> Option<String> {
        // No `ORDER BY` inside the aggregate: it costs a temporary B-tree per user
        // (docs/benchmarks.md, item 41); the reader sorts the few pairs itself.
        Some(format!(
            "(SELECT json_group_array(json_array(g.id, g.display_name)) \
               FROM group_members gm \
               JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
              WHERE gm.tenant_id = {tenant} AND gm.member_id = {row}.id)"
        ))
    }

    fn json_path(&self, keys: &[&str]) -> Result<String, ScimError> {
        // SQLite JSON paths quote labels with double quotes and have no escape for a
        // double quote inside one. Schema attribute names can never contain one
        // (RFC 7643 §2.1 ATTRNAME); a registered extension URN could, so refuse it.
        let mut path = String::from("$");
        for key in keys {
            if key.contains('"') {
                return Err(ScimError::invalid_filter(format!(
                    "attribute '{key}' cannot be filtered on"
                )));
            }
            path.push_str(".\"");
            path.push_str(key);
            path.push('"');
        }
        Ok(path)
    }

    fn json_scalar(&self, doc: &str, path_ph: &str) -> String {
        format!("json_extract({doc}, {path_ph})")
    }

    fn json_present(&self, doc: &str, path_ph: &str) -> String {
        // json_type is NULL for a missing path and 'null' for a JSON null; documents are
        // canonical (no nulls, no empty arrays) but an empty string is not "present"
        // (RFC 7644 §3.4.2.2 `pr`).
        format!(
            "(json_type({doc}, {path_ph}) NOT IN ('null') AND \
             NOT (json_type({doc}, {path_ph}) = 'text' AND json_extract({doc}, {path_ph}) = '') AND \
             NOT (json_type({doc}, {path_ph}) = 'array' AND json_array_length({doc}, {path_ph}) = 0))"
        )
    }

    fn json_elements(&self, doc: &str, path_ph: &str, alias: &str) -> String {
        format!("json_each({doc}, {path_ph}) AS {alias}")
    }

    fn element_scalar(&self, alias: &str) -> String {
        format!("{alias}.value")
    }

    fn element_field(&self, alias: &str, path_ph: &str) -> String {
        format!("json_extract({alias}.value, {path_ph})")
    }

    fn lower(&self, expr: &str) -> String {
        format!("lower({expr})")
    }

    fn fold_like_lower(&self, literal: &str) -> String {
        // SQLite's built-in lower() folds ASCII letters only.
        literal.to_ascii_lowercase()
    }

    fn contains_exact(&self, expr: &str, ph: &str) -> String {
        format!("instr({expr}, {ph}) > 0")
    }

    fn ends_with_exact(&self, expr: &str, ph: &str) -> String {
        format!("substr({expr}, -length({ph})) = {ph}")
    }

    fn datetime_norm(&self, expr: &str) -> String {
        format!("strftime('%Y-%m-%dT%H:%M:%fZ', {expr})")
    }

    fn datetime_literal(&self, at: OffsetDateTime) -> String {
        let utc = at.to_offset(UtcOffset::UTC);
        utc.format(SQLITE_STRFTIME)
            .unwrap_or_else(|_| utc.unix_timestamp().to_string())
    }
}

/// PostgreSQL's JSONB operators and string functions.
///
/// JSON paths are `text[]` values bound as text (`{"a","b"}`) and cast where used.
/// Text taken from documents is compared under `COLLATE "C"` (byte order, as on
/// SQLite), which also makes `lower()` fold ASCII letters only, exactly as SQLite's.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn user_groups_json(&self, tenant: &str, row: &str) -> Option<String> {
        // Ordered here: PostgreSQL sorts a user's few groups in memory (SQLite would
        // build a temporary B-tree), in the order `members::load_groups` gives them.
        Some(format!(
            "(SELECT json_agg(json_build_array(g.id, g.display_name) ORDER BY g.id) \
               FROM group_members gm \
               JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
              WHERE gm.tenant_id = {tenant} AND gm.member_id = {row}.id)"
        ))
    }
    /// With the subquery inside the page, the generic plan of the statement costs it
    /// for rows the unknown `OFFSET` may skip, so PostgreSQL judged a custom plan
    /// cheaper and planned the statement afresh on every execution: a quarter of its
    /// CPU, and the statement slower than the two it replaced (docs/benchmarks.md, item
    /// 45). Around the page, the subquery runs once per returned row in either plan, and
    /// the generic plan is kept.
    fn user_groups_around_page(&self) -> bool {
        true
    }

    fn json_path(&self, keys: &[&str]) -> Result<String, ScimError> {
        // An array literal with every element quoted; `"` and `\` are escaped with a
        // backslash, so any key can be expressed.
        let quoted: Vec<String> = keys
            .iter()
            .map(|key| {
                let mut element = String::with_capacity(key.len() + 2);
                element.push('"');
                for c in key.chars() {
                    if matches!(c, '"' | '\\') {
                        element.push('\\');
                    }
                    element.push(c);
                }
                element.push('"');
                element
            })
            .collect();
        Ok(format!("{{{}}}", quoted.join(",")))
    }

    fn json_scalar(&self, doc: &str, path_ph: &str) -> String {
        format!("({doc} #> {path_ph}::text[])")
    }

    fn json_present(&self, doc: &str, path_ph: &str) -> String {
        // As on SQLite: missing is NULL, and JSON null, "" and [] are not present
        // (RFC 7644 §3.4.2.2 `pr`).
        let v = self.json_scalar(doc, path_ph);
        format!(
            "(CASE WHEN {v} IS NULL THEN NULL \
             WHEN jsonb_typeof({v}) = 'null' THEN FALSE \
             WHEN jsonb_typeof({v}) = 'string' THEN ({v} #>> '{{}}') <> '' \
             WHEN jsonb_typeof({v}) = 'array' THEN jsonb_array_length({v}) > 0 \
             ELSE TRUE END)"
        )
    }

    fn json_elements(&self, doc: &str, path_ph: &str, alias: &str) -> String {
        // jsonb_array_elements fails on a non-array; documents are canonical, but a
        // filter must never turn a surprising document into a database error.
        let v = self.json_scalar(doc, path_ph);
        format!(
            "jsonb_array_elements(CASE WHEN jsonb_typeof({v}) = 'array' THEN {v} \
             ELSE '[]'::jsonb END) AS {alias}(value)"
        )
    }

    fn element_scalar(&self, alias: &str) -> String {
        format!("{alias}.value")
    }

    fn element_field(&self, alias: &str, path_ph: &str) -> String {
        format!("({alias}.value #> {path_ph}::text[])")
    }

    fn lower(&self, expr: &str) -> String {
        format!("lower(({expr}) COLLATE \"C\")")
    }

    fn fold_like_lower(&self, literal: &str) -> String {
        // lower() under the "C" collation folds ASCII letters only.
        literal.to_ascii_lowercase()
    }

    fn contains_exact(&self, expr: &str, ph: &str) -> String {
        format!("strpos({expr}, {ph}) > 0")
    }

    fn ends_with_exact(&self, expr: &str, ph: &str) -> String {
        format!("right({expr}, length({ph})) = {ph}")
    }

    fn datetime_norm(&self, expr: &str) -> String {
        // scimd_datetime_norm (migrations/postgres/0001_initial.sql) answers NULL for
        // text that is not a dateTime, where a cast would fail the query.
        format!("(scimd_datetime_norm({expr}) COLLATE \"C\")")
    }

    fn datetime_literal(&self, at: OffsetDateTime) -> String {
        crate::timestamp::format(at)
    }

    fn json_text(&self, value: &str) -> String {
        format!("(({value} #>> '{{}}') COLLATE \"C\")")
    }

    fn json_bool(&self, value: &str) -> String {
        format!("(CASE WHEN jsonb_typeof({value}) = 'boolean' THEN ({value})::boolean END)")
    }

    fn json_number(&self, value: &str) -> String {
        format!("(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::float8 END)")
    }

    fn bool_sort_key(&self, expr: &str) -> String {
        format!("(({expr})::int)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn json_paths_quote_every_key() {
        let p = SqliteDialect
            .json_path(&[
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "department",
            ])
            .unwrap();
        assert_eq!(
            p,
            "$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".\"department\""
        );
        assert!(SqliteDialect.json_path(&["a\"b"]).is_err());
    }

    #[test]
    fn datetime_literal_matches_strftime_form() {
        assert_eq!(
            SqliteDialect.datetime_literal(datetime!(2024-05-06 07:08:09.1234 +01:00)),
            "2024-05-06T06:08:09.123Z"
        );
    }

    #[test]
    fn postgres_paths_are_quoted_text_arrays() {
        let p = PostgresDialect
            .json_path(&["urn:x:User", "a\"b\\c"])
            .unwrap();
        assert_eq!(p, r#"{"urn:x:User","a\"b\\c"}"#);
        assert_eq!(
            PostgresDialect.datetime_literal(datetime!(2024-05-06 07:08:09.1234 +01:00)),
            "2024-05-06T06:08:09.123400Z"
        );
    }
}
