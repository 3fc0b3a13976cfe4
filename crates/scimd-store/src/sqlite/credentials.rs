//! Admin keys, OAuth clients and their access tokens on SQLite: the statements shared
//! with PostgreSQL ([`crate::credential_sql`]), on SQLite's types.

use super::tenants::{insert_token, tenant_exists, token_from_row, unknown_tenant, TOKEN_COLUMNS};
use super::write_error;
use sqlx::sqlite::SqliteRow as Row;
use sqlx::SqliteConnection as Connection;

type DbResult<T> = crate::StoreResult<T>;

crate::credential_sql::credential_statements!();
