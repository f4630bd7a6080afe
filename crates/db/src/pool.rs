use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<PgConnection>>;

#[derive(Debug, thiserror::Error)]
#[error("cannot open the database pool: {0}")]
pub struct PoolError(#[from] diesel::r2d2::PoolError);

pub fn build(url: &str, max_size: u32) -> Result<PgPool, PoolError> {
    let manager = ConnectionManager::<PgConnection>::new(url);
    Ok(Pool::builder()
        .max_size(max_size)
        // No `SELECT 1` before every checkout (r2d2's default): it was one round trip of every
        // three in an envelope's submission (issue 15). A connection that broke (PostgreSQL
        // restarted) fails its first statement, diesel marks it broken and r2d2 drops it
        // when it comes back, so one request sees the error instead of none.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ListenForPublicViews))
        .build(manager)?)
}

/// Every pooled connection listens on [`crate::public_views::CHANNEL`], so the server that
/// made a change learns of it on the connection that committed it (`api::state::AppState::db`
/// drains it after each piece of work). A connection idle in the pool keeps what it receives
/// until its next checkout; r2d2 replaces connections after 30 minutes at most.
#[derive(Debug)]
struct ListenForPublicViews;

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for ListenForPublicViews {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        crate::public_views::listen(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}
