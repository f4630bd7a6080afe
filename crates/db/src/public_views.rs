//! The `public_views` channel: a committed write to a table that a public page can read
//! sends `NOTIFY public_views` (migration `2026-12-07-010000_public_views_notify`), so each
//! server's cache of public pages knows it is out of date (`api::public_cache`).

use diesel::pg::PgConnection;
use diesel::prelude::*;

pub const CHANNEL: &str = "public_views";

/// Subscribes `conn` to the channel. PostgreSQL then delivers a transaction's own
/// notification to it with the COMMIT's answer, which is what lets a server see its own
/// writes at once, before it answers the request that made them.
pub fn listen(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(conn).map(|_| ())
}

/// The payloads of the notifications received on `conn` since the last call, without
/// waiting: libpq reads what the socket holds. Empty when nothing changed.
pub fn drain(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for n in conn.notifications_iter() {
        let n = n?;
        if n.channel == CHANNEL {
            out.push(n.payload);
        }
    }
    Ok(out)
}
