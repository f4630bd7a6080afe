//! Transaction-scoped advisory locks named by text, as statements of static shape: diesel
//! prepares them once per connection, where the raw SQL they were was planned at every call
//! (three per envelope under the rush, issue 15).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

diesel::define_sql_function! {
    /// The 64-bit key of a lock named by text.
    fn hashtextextended(name: Text, seed: BigInt) -> BigInt;
}

// Both return `void`, which diesel has no type for; they are only ever executed, never read,
// so the declared type is not decoded.
diesel::define_sql_function! {
    fn pg_advisory_xact_lock(key: BigInt) -> diesel::sql_types::Bool;
}
diesel::define_sql_function! {
    fn pg_advisory_xact_lock_shared(key: BigInt) -> diesel::sql_types::Bool;
}

/// Waits for the lock `name` exclusively, held until the transaction ends.
pub(crate) fn exclusive(conn: &mut PgConnection, name: &str) -> QueryResult<()> {
    diesel::select(pg_advisory_xact_lock(hashtextextended(name, 0i64)))
        .execute(conn)
        .map(drop)
}

/// Waits for the lock `name` shared (shared holders do not wait for each other).
pub(crate) fn shared(conn: &mut PgConnection, name: &str) -> QueryResult<()> {
    diesel::select(pg_advisory_xact_lock_shared(hashtextextended(name, 0i64)))
        .execute(conn)
        .map(drop)
}
