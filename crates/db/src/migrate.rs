use diesel::pg::PgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Short hash of the SQL in `migrations/`, computed at build time.
pub const MIGRATIONS_HASH: &str = env!("CENTRALE_MIGRATIONS_HASH");

#[derive(Debug, thiserror::Error)]
#[error("migration failed: {0}")]
pub struct MigrationError(String);

/// Applies every pending migration; returns the versions applied now.
pub fn run_pending(conn: &mut PgConnection) -> Result<Vec<String>, MigrationError> {
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| MigrationError(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}
