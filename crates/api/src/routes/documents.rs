//! Generated documents (issue 14): the bid receipt, the minutes of an opening session, the
//! award report and the tender summary, issued by an explicit POST (stored, with an audit event
//! and a `decision` leaf carrying the SHA-256, in one transaction; the same data issues once)
//! and downloaded by GET, which writes nothing. And the CSV export of an ente's audit trail.
//! Thin handlers over the `documents` crate.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use documents::issued::{IssueRequest, IssuedDocument, Kind};
use documents::DocumentError;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The SHA-256 (hex) of the response body.
pub const SHA256_HEADER: &str = "X-Content-SHA256";

impl From<DocumentError> for ApiError {
    fn from(e: DocumentError) -> Self {
        let status = match &e {
            DocumentError::Forbidden => StatusCode::FORBIDDEN,
            DocumentError::NotFound { .. } => StatusCode::NOT_FOUND,
            DocumentError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            DocumentError::Conflict { .. } => StatusCode::CONFLICT,
            _ => {
                return match e {
                    DocumentError::Procedure(inner) => inner.into(),
                    DocumentError::Offerte(inner) => inner.into(),
                    DocumentError::Bando(inner) => inner.into(),
                    DocumentError::Registry(inner) => inner.into(),
                    other => {
                        tracing::error!(error = %other, "documents: database error");
                        ApiError::internal()
                    }
                }
            }
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// Tenders with lots: the lot of the report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VerbaleQuery {
    pub lotto: Option<Uuid>,
}

/// What to issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    /// `ricevuta` (the caller's bid receipt), `verbale_seduta` (minutes of the opening of
    /// envelope `busta`), `verbale_aggiudicazione` (award report, `lotto` for a tender with
    /// lots), `riepilogo` (tender summary). Required (422 `tipo_required`, after the
    /// caller's entitlement to the tender is checked).
    pub tipo: Option<String>,
    /// The lot (award report or receipt of a tender with lots).
    pub lotto: Option<Uuid>,
    /// `A`, `B` or `C` (minutes of an opening session).
    pub busta: Option<String>,
}

/// An issued document (its bytes at `href`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedView {
    pub id: Uuid,
    pub tipo: String,
    /// `''`, `lotto:<id>`, `busta:<A|B|C>` or `offerta:<bid id>`.
    pub scope: String,
    pub version: i32,
    pub file_name: String,
    /// Hex SHA-256 of the PDF (as in the decision leaf's details and the audit event).
    pub sha256: String,
    pub size_bytes: i64,
    pub issued_by: Uuid,
    pub issued_at: DateTime<Utc>,
    /// Hex hash of the `decision` leaf that recorded the issue.
    pub leaf_hash: String,
    /// Where to download it.
    pub href: String,
    /// True when this request issued it; false when the same content was already issued.
    pub created: bool,
}

fn view(d: &IssuedDocument, created: bool) -> IssuedView {
    IssuedView {
        id: d.id,
        tipo: d.kind.as_str().into(),
        scope: d.scope.clone(),
        version: d.version,
        file_name: d.file_name.clone(),
        sha256: d.sha256.clone(),
        size_bytes: d.size_bytes,
        issued_by: d.issued_by,
        issued_at: d.issued_at,
        leaf_hash: d.leaf_hash.clone(),
        href: format!("/api/v1/bandi/{}/documenti-emessi/{}", d.bando_id, d.id),
        created,
    }
}

fn pdf_response(d: IssuedDocument) -> HttpResponse {
    crate::download::as_attachment(&mut HttpResponse::Ok(), "application/pdf", &d.file_name)
        .insert_header((SHA256_HEADER, d.sha256))
        .body(d.bytes)
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
    paths(issue, list, download, verbale, audit_export),
    components(schemas(IssueBody, IssuedView)),
    tags((name = "documenti", description = "Issued documents (PDF): receipt, minutes, award report, summary; audit export (CSV)"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(issue)
        .service(list)
        .service(download)
        .service(verbale)
        .service(audit_export);
}

/// Issues a document of the tender: renders it for the caller (who must be entitled to it
/// now), stores it, and records its SHA-256 as a `decision` leaf and an audit event
/// (`documenti.<tipo>`) in one transaction. The same data gives the same bytes: issuing again
/// returns the document already issued (200, `created: false`, nothing written); changed data
/// issues a new version (201). Who: `ricevuta` its bidder only (audited out of the ente's sight
/// until the deadline); the other kinds the RUP, commission and auditors of the ente and
/// admins. `verbale_seduta` once envelope `busta` is opened; `verbale_aggiudicazione` from the
/// proposal of award on (409 `report_before_proposal`); `riepilogo` names bidders only after
/// the deadline.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/documenti-emessi", tag = "documenti", request_body = IssueBody,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = IssuedView), (status = 200, body = IssuedView),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
#[post("/bandi/{id}/documenti-emessi")]
pub async fn issue(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<Uuid>,
    body: web::Json<IssueBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = path.into_inner();
    let body = body.into_inner();
    let out = state
        .db(move |conn| {
            // Authorization first: an outsider gets 403 whatever the body says.
            documents::issued::may_issue_some(conn, &auth.principal, id)?;
            let tipo = body
                .tipo
                .as_deref()
                .ok_or_else(|| DocumentError::invalid("tipo_required", "Indicare il tipo di documento"))?;
            let req = IssueRequest {
                kind: Kind::parse(tipo)?,
                lotto: body.lotto,
                busta: body.busta,
            };
            documents::issued::issue(conn, &ctx, &auth.principal, id, &req)
        })
        .await?;
    let status = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(view(&out.document, out.created)))
}

/// The documents issued for the tender that the caller may read (every version; a supplier
/// sees its own receipts only). Writes nothing.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/documenti-emessi", tag = "documenti",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<IssuedView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/bandi/{id}/documenti-emessi")]
pub async fn list(state: web::Data<AppState>, auth: Auth, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let docs = state
        .db(move |conn| documents::issued::list(conn, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(docs.iter().map(|d| view(d, false)).collect::<Vec<_>>()))
}

/// Downloads an issued document (PDF, `X-Content-SHA256`). Writes nothing. A receipt to its
/// bidder only; the other kinds to the RUP, commission and auditors of the ente and admins.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/documenti-emessi/{doc}", tag = "documenti",
    params(("id" = Uuid, Path), ("doc" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>,
               headers(("X-Content-SHA256" = String, description = "Hex SHA-256 of the PDF"))),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/bandi/{id}/documenti-emessi/{doc}")]
pub async fn download(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, doc) = path.into_inner();
    let d = state
        .db(move |conn| documents::issued::get(conn, &auth.principal, id, doc))
        .await?;
    Ok(pdf_response(d))
}

/// The latest issued award report (verbale di aggiudicazione) of the tender (`?lotto=` for a
/// lot), as the portal links it. Writes nothing: issue it first with `POST .../documenti-emessi`
/// (`{"tipo": "verbale_aggiudicazione"}`); before that, 409 `document_not_issued`.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/verbale.pdf", tag = "documenti",
    params(("id" = Uuid, Path), VerbaleQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>,
               headers(("X-Content-SHA256" = String, description = "Hex SHA-256 of the PDF"))),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/bandi/{id}/verbale.pdf")]
pub async fn verbale(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<Uuid>,
    q: web::Query<VerbaleQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let scope = q.lotto.map(|l| format!("lotto:{l}")).unwrap_or_default();
    let d = state
        .db(move |conn| documents::issued::latest(conn, &auth.principal, id, Kind::VerbaleAggiudicazione, &scope))
        .await?;
    Ok(pdf_response(d))
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
