//! Start-up: settings, logs, the database (given or private), migrations, first admin,
//! then the HTTP server.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use accounts::users::{bootstrap_admin, Bootstrap};
use api::settings::{LogFormat, Settings};
use api::AppState;
use db::audit::AuditCtx;
use db::cluster::ClusterSpec;
use diesel::Connection;
use domain::clock::{Clock, SystemClock};
use secrecy::ExposeSecret;

use crate::DbAction;

pub fn load(overlay: Option<&Path>) -> Result<Settings, String> {
    let settings = Settings::load(overlay, std::env::vars()).map_err(|e| e.to_string())?;
    init_logs(&settings);
    Ok(settings)
}

fn init_logs(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn spec(settings: &Settings) -> ClusterSpec {
    ClusterSpec {
        root: PathBuf::from(&settings.database.embedded.dir),
        port: settings.database.embedded.port,
    }
}

pub fn cluster(settings: &Settings, action: DbAction) -> Result<(), String> {
    let spec = spec(settings);
    match action {
        DbAction::Up => {
            spec.ensure_running().map_err(|e| e.to_string())?;
            println!("{}", spec.admin_url());
        }
        DbAction::Down => spec.stop().map_err(|e| e.to_string())?,
    }
    Ok(())
}

/// Returns the application database URL, migrated.
pub fn prepare_database(settings: &Settings) -> Result<String, String> {
    let url = match &settings.database.url {
        Some(url) => url.expose_secret().to_string(),
        None => {
            let spec = spec(settings);
            spec.ensure_running().map_err(|e| e.to_string())?;
            db::testdb::ensure_database(&spec.admin_url(), &settings.database.database_name)
                .map_err(|e| e.to_string())?;
            tracing::info!(
                port = spec.port,
                "using the private PostgreSQL cluster under {}",
                spec.root.display()
            );
            spec.database_url(&settings.database.database_name)
        }
    };
    let mut conn = diesel::PgConnection::establish(&url).map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied = db::migrate::run_pending(&mut conn).map_err(|e| e.to_string())?;
    for version in applied {
        tracing::info!(%version, "migration applied");
    }
    Ok(url)
}

pub fn serve(settings: Settings) -> Result<(), String> {
    let url = prepare_database(&settings)?;
    let pool = db::pool::build(&url, settings.database.pool_size).map_err(|e| e.to_string())?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    first_admin(&settings, &pool, clock.as_ref())?;
    let state = AppState {
        pool,
        clock,
        token_ttl: chrono::Duration::hours(i64::from(settings.auth.token_ttl_hours)),
        max_json_bytes: settings.server.max_json_bytes,
        openapi: Arc::new(api::openapi::document()),
        seal: Arc::new(seal_service(&settings)?),
        notify: settings.notify.mailer()?,
        uploads: Arc::new(api::uploads::Uploads::new(
            settings.uploads.limits(),
            settings.database.pool_size,
        )),
        max_duration_warning_days: settings.max_duration.warning_days.clone().into(),
        accounts: Arc::new(api::guard::AccountGuard::from_settings(&settings)),
        ocds: Arc::new(settings.ocds.publisher(&settings.server.public_url)),
        public_cache: api::public_cache::PublicCache::start(&url, settings.public_cache.limits()),
    };
    let bind = settings.server.bind;
    tracing::info!(%bind, "serving the portal at http://{bind}/ and the API docs at http://{bind}/api/docs/");
    actix_web::rt::System::new()
        .block_on(async move {
            api::scheduler::spawn(state.clone(), api::scheduler::tick_from_env());
            actix_web::HttpServer::new(move || portal::app(state.clone()))
                .on_connect(api::no_delay)
                .bind(bind)?
                .run()
                .await
        })
        .map_err(|e| format!("server stopped: {e}"))
}

fn first_admin(settings: &Settings, pool: &db::PgPool, clock: &dyn Clock) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let ctx = AuditCtx {
        actor: None,
        request_id: "bootstrap".into(),
        client_request_id: None,
        at: clock.now(),
    };
    let password = settings
        .bootstrap
        .admin_password
        .as_ref()
        .map(|p| p.expose_secret().to_string());
    match bootstrap_admin(&mut conn, &ctx, &settings.bootstrap.admin_email, password.as_deref())
        .map_err(|e| e.to_string())?
    {
        Bootstrap::AlreadyHasAdmin => {}
        Bootstrap::Created {
            email,
            generated_password: Some(p),
        } => {
            // Printed once, on stdout only, never logged: it exists nowhere else.
            println!("\n  First admin created: {email}\n  Password (shown only now): {p}\n");
        }
        Bootstrap::Created {
            email,
            generated_password: None,
        } => {
            tracing::info!(%email, "first admin created with the configured password");
        }
    }
    Ok(())
}

/// The seal from the `[seal]` settings: keys loaded from (or generated into) its directory.
fn seal_service(settings: &Settings) -> Result<offerte::SealService, String> {
    let s = &settings.seal;
    let mut config = offerte::SealConfig::new(&s.dir, &s.origin);
    config.organization = s.organization.clone();
    config.max_envelope_bytes = s.max_envelope_bytes;
    config.promise_seconds = i64::from(s.promise_seconds);
    config.quota_bytes_per_tender = settings.uploads.quota_bytes_per_tender;
    config.max_replacements_per_kind = settings.uploads.max_replacements_per_kind;
    config.chunk_bytes = settings.uploads.chunk_bytes;
    config.upload_session_seconds = i64::try_from(settings.uploads.upload_session_seconds).unwrap_or(i64::MAX);
    config.max_open_uploads = settings.uploads.max_open_uploads;
    config.store = settings.storage.store_config();
    offerte::SealService::open(config).map_err(|e| format!("seal directory {}: {e}", s.dir))
}
