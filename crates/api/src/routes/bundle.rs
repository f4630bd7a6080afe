//! The auditor's bundle (pacchetto del revisore, issue 14 point 3): one ZIP of a decided tender
//! to verify offline. A thin handler over `documents::bundle::export`, which reads everything
//! and records the export as an audit event in one transaction.

use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::routes::documents::SHA256_HEADER;
use crate::state::AppState;

/// Tenders with lots: the lot of the bundle.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BundleQuery {
    pub lotto: Option<Uuid>,
}

#[derive(OpenApi)]
#[openapi(paths(pacchetto))]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(pacchetto);
}

/// The auditor's bundle of a decided tender (awarded, deserted or with every offer excluded) as
/// ZIP: the documents (PDF) with the proof of their log leaves, bids, scores and exclusions (CSV
/// and JSON), the tender's audit events (CSV), every receipt with its RFC 3161 token and
/// inclusion proof, the checkpoints at the closing and now, the public keys, the TSA
/// certificates, `SHA256SUMS` and `VERIFY.md` (the commands that check it with no server).
/// Auditors of the ente and admins. Each export is an audit event
/// (`documenti.pacchetto_esportato`, with the archive's SHA-256, also in `X-Content-SHA256`).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/pacchetto.zip", tag = "documenti",
    params(("id" = Uuid, Path), BundleQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>,
               headers(("X-Content-SHA256" = String, description = "Hex SHA-256 of the archive"))),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/bandi/{id}/pacchetto.zip")]
pub async fn pacchetto(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<Uuid>,
    q: web::Query<BundleQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = path.into_inner();
    let lotto = q.lotto;
    let seal = state.seal.clone();
    let publisher = state.ocds.clone();
    let out = state
        .db(move |conn| documents::bundle::export(conn, &seal, &publisher, &ctx, &auth.principal, id, lotto))
        .await?;
    Ok(
        crate::download::as_attachment(&mut HttpResponse::Ok(), "application/zip", &out.file_name)
            .insert_header((SHA256_HEADER, out.sha256))
            .body(out.zip),
    )
}
