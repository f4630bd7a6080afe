//! Per-test databases, after crates.io's test-db: the schema is migrated once into a
//! template database (keyed by the migrations' hash), and each test gets its own database
//! cloned from it, dropped when the handle goes. Tests run in parallel, even across
//! processes, and never share rows.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::migrate::{run_pending, MIGRATIONS_HASH};

/// Arbitrary but fixed key of the advisory lock that serialises template creation.
const TEMPLATE_LOCK: i64 = 0x63_65_6e_74_72_61_6c;

#[derive(Debug, thiserror::Error)]
pub enum TestDbError {
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("connect: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("{0}")]
    Migration(#[from] crate::migrate::MigrationError),
}

/// A fresh, migrated database that is dropped with this value.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl TestDatabase {
    /// `admin_url` points at a maintenance database (`postgres`) of a server we may create
    /// databases on; `url_for` builds a URL for another database on that server.
    pub fn create(admin_url: &str, url_for: impl Fn(&str) -> String) -> Result<Self, TestDbError> {
        let template = format!("centrale_tpl_{MIGRATIONS_HASH}");
        let mut admin = PgConnection::establish(admin_url)?;
        ensure_template(&mut admin, &template, &url_for)?;
        let name = format!("centrale_test_{}", uuid::Uuid::new_v4().simple());
        admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))?;
        Ok(Self {
            admin_url: admin_url.to_string(),
            url: url_for(&name),
            name,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn database_exists(admin: &mut PgConnection, name: &str) -> Result<bool, TestDbError> {
    let row: Exists = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result(admin)?;
    Ok(row.n > 0)
}

/// Creates `name` unless it exists (used by `make run` for the application database).
pub fn ensure_database(admin_url: &str, name: &str) -> Result<(), TestDbError> {
    let mut admin = PgConnection::establish(admin_url)?;
    if !database_exists(&mut admin, name)? {
        if let Err(e) = admin.batch_execute(&format!("CREATE DATABASE {name}")) {
            // Another process may have created it in between.
            if !database_exists(&mut admin, name)? {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

fn ensure_template(
    admin: &mut PgConnection,
    template: &str,
    url_for: &impl Fn(&str) -> String,
) -> Result<(), TestDbError> {
    if database_exists(admin, template)? {
        return Ok(());
    }
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK)
        .execute(admin)?;
    let result = (|| {
        if database_exists(admin, template)? {
            return Ok(());
        }
        // Build under a scratch name and rename at the end, so a crash never leaves a
        // half-migrated template that later runs would trust.
        let scratch = format!("{template}_building");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))?;
        admin.batch_execute(&format!("CREATE DATABASE {scratch}"))?;
        {
            let mut conn = PgConnection::establish(&url_for(&scratch))?;
            run_pending(&mut conn)?;
        }
        admin.batch_execute(&format!(
            "ALTER DATABASE {scratch} RENAME TO {template}; \
             ALTER DATABASE {template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
        ))?;
        Ok(())
    })();
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK)
        .execute(admin)?;
    result
}
