//! The database edge of Centrale.
//!
//! Diesel is blocking, so callers run these functions on a blocking thread
//! (`actix_web::web::block`) with a connection taken from [`pool::PgPool`].

pub mod audit;
pub mod cluster;
pub mod migrate;
pub mod pool;
pub mod public_views;
pub mod schema;
pub mod testdb;

pub use pool::{PgPool, PooledConn};
