//! Generated documents: the award report (verbale di aggiudicazione) as PDF, and the CSV export
//! of an ente's audit trail. Both carry `X-Content-SHA256`; the report's issue is an audit
//! event and a `decision` leaf of the seal's log. Thin handlers over the `documents` crate.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The SHA-256 (hex) of the response body.
pub const SHA256_HEADER: &str = "X-Content-SHA256";

/// Tenders with lots: the lot of the report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VerbaleQuery {
    pub lotto: Option<Uuid>,
}

/// What the export keeps, as the portal's filtered trail (`/ente/registro`): the period `from` ≤
/// occurred_at < `to` (RFC 3339), the author, the action, the tender; every field optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Events by this user (an event whose author is hidden, art. 88, never matches).
    pub actor: Option<Uuid>,
    /// Exactly this action code (e.g. `aggiudicazione.aggiudicata`).
    pub action: Option<String>,
    /// Events about this tender: the tender, its lots, bids, clarifications and envelopes.
    pub bando: Option<Uuid>,
}

#[derive(OpenApi)]
#[openapi(
    paths(verbale, audit_export),
    tags((name = "documenti", description = "Generated documents: award report (PDF), audit export (CSV)"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(verbale).service(audit_export);
}

/// The award report (verbale di aggiudicazione) as PDF: tender data, deadline, bids received with
/// their receipts, admissions and exclusions, the anomaly computation with every intermediate
/// value, ranking, award, and the log's checkpoints at closing and at generation. RUP, commission
/// and auditors of the ente, admins; from the proposal of award on. Each issue is recorded (audit
/// event `documenti.verbale_aggiudicazione` and a `decision` leaf whose details carry the PDF's
/// SHA-256, also returned in `X-Content-SHA256`).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/verbale.pdf", tag = "documenti",
    params(("id" = Uuid, Path), VerbaleQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>,
               headers(("X-Content-SHA256" = String, description = "Hex SHA-256 of the PDF"))),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/bandi/{id}/verbale.pdf")]
pub async fn verbale(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<Uuid>,
    q: web::Query<VerbaleQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = path.into_inner();
    let lotto = q.lotto;
    let issued = state
        .db(move |conn| documents::verbale::issue(conn, &ctx, &auth.principal, id, lotto))
        .await?;
    Ok(
        crate::download::as_attachment(&mut HttpResponse::Ok(), "application/pdf", &issued.file_name)
            .insert_header((SHA256_HEADER, issued.sha256))
            .body(issued.pdf),
    )
}

/// The ente's audit events as CSV (RFC 4180, CRLF, UTC timestamps, in id order), optionally
/// within `from` ≤ occurred_at < `to`. Auditors of the ente and admins. Each export is an audit
/// event (`documenti.audit_export`, with the CSV's SHA-256) recorded after the rows it holds:
/// a period that ends before the export never contains it, so it exports the same bytes again.
#[utoipa::path(get, path = "/api/v1/enti/{id}/audit-export", tag = "documenti",
    params(("id" = Uuid, Path), ExportQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String,
               headers(("X-Content-SHA256" = String, description = "Hex SHA-256 of the CSV"))),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[get("/enti/{id}/audit-export")]
pub async fn audit_export(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<Uuid>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let ente = path.into_inner();
    let q = q.into_inner();
    let filter = db::audit::TrailFilter {
        from: q.from,
        to: q.to,
        actor: q.actor,
        action: q.action.filter(|a| !a.is_empty()),
        bando: q.bando,
    };
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let export = state
        .db(move |conn| documents::export::issue(conn, &ctx, &auth.principal, ente, &filter))
        .await?;
    Ok(
        crate::download::as_attachment(&mut HttpResponse::Ok(), "text/csv", &format!("audit-{ente}.csv"))
            .insert_header((SHA256_HEADER, export.sha256))
            .body(export.csv),
    )
}
