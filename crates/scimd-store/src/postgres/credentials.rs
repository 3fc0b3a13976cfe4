//! Admin keys, OAuth clients and their access tokens on PostgreSQL: the statements
//! shared with SQLite ([`crate::credential_sql`]), on PostgreSQL's types. The tenant
//! check is `lock_tenant` (`FOR KEY SHARE`): a tenant being deleted gets no new client.

use super::failure::write_error;
use super::tenants::{insert_token, lock_tenant as tenant_exists, token_from_row, unknown_tenant};
use sqlx::postgres::PgRow as Row;
use sqlx::PgConnection as Connection;

type DbResult<T> = super::failure::PgResult<T>;

crate::credential_sql::credential_statements!();
