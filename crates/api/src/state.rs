use std::sync::Arc;

use actix_web::web;
use chrono::Duration;
use db::audit::AuditCtx;
use db::PgPool;
use diesel::pg::PgConnection;
use domain::clock::SharedClock;

use crate::error::ApiError;
use crate::request_id::RequestId;

/// What every handler needs: the pool, the clock and the few settings read per request.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub clock: SharedClock,
    pub token_ttl: Duration,
    pub max_json_bytes: usize,
    pub openapi: Arc<utoipa::openapi::OpenApi>,
    /// The seal: platform keys, TSA, blob store, log origin (issue 5).
    pub seal: Arc<offerte::SealService>,
    /// The outbox's SMTP mailer; `None` when `[notify] enabled = false` (rows stay queued).
    pub notify: Option<Arc<notify::Mailer>>,
    /// Envelope uploads: timeouts and the bounded staging pool (issue 11, `[uploads]`).
    pub uploads: Arc<crate::uploads::Uploads>,
    /// Days before an Allegato I.3 maximum duration runs out when the RUPs are warned
    /// (`[max_duration] warning_days`).
    pub max_duration_warning_days: Arc<[u32]>,
    /// Login throttling, the hashing semaphore, the client address (issue 11).
    pub accounts: Arc<crate::guard::AccountGuard>,
    /// Who publishes the OCDS open data (`[ocds]`, docs/ocds.md).
    pub ocds: Arc<documents::ocds::Publisher>,
    /// Anonymous public pages kept in memory (`[public_cache]`, [`crate::public_cache`]).
    pub public_cache: Arc<crate::public_cache::PublicCache>,
}

impl AppState {
    /// Runs blocking Diesel work on the blocking thread pool, never on the reactor.
    pub async fn db<T, E, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let cache = self.public_cache.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(ApiError::from)?;
            let out = work(&mut conn).map_err(Into::into);
            // The notification of a change this work committed: kept pages go out of date
            // before the caller answers (a failed work may have committed part of it).
            cache.drain(&mut conn);
            out
        })
        .await?
    }

    pub fn audit_ctx(&self, actor: Option<uuid::Uuid>, request: &RequestId) -> AuditCtx {
        AuditCtx {
            actor,
            request_id: request.0.clone(),
            client_request_id: request.1.clone(),
            at: self.clock.now(),
        }
    }
}
