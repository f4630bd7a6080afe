//! Resumable envelope uploads (issue 12 point 5): a client-sealed envelope sent in parts that
//! survive a dropped connection, completed into the same envelope and receipt as a one-shot
//! upload. Protocol and limits: docs/seal.md "Resumable uploads"; domain: `offerte::resumable`.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use offerte::blob;
use offerte::resumable::{self, Completion, UploadStatus};
use offerte::submit::{self, ReceiptView};
use offerte::OfferteError;
use serde::Deserialize;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::routes::offerte::slots_full;
use crate::state::AppState;
use crate::uploads::Body;

#[derive(OpenApi)]
#[openapi(
    paths(start, put_part, status, complete, abandon),
    components(schemas(StartUpload, UploadStatus, CompleteUpload)),
    tags((name = "caricamenti", description = "Resumable uploads of client-sealed envelopes, in parts with their own SHA-256"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(start)
        .service(put_part)
        .service(status)
        .service(complete)
        .service(abandon);
}

/// The body of a start: empty for now (`{}`); the envelope is always client-sealed.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartUpload {}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    /// The lot bid for (required on a tender with lots).
    pub lotto: Option<Uuid>,
}

/// The completion: how many parts were sent and the SHA-256 of the whole ciphertext.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteUpload {
    pub parts: u32,
    /// Hex SHA-256 of the whole age ciphertext (the receipt's digest).
    pub sha256: String,
}

/// Starts a resumable upload of envelope A, B or C (age ciphertext only, as `?sealed=client`).
/// The same checks as the one-shot upload (supplier qualified or invited, tender open,
/// ceremony complete, deadline, quotas); at most `uploads.max_open_uploads` open uploads per
/// bidder per tender. Nobody but the caller can see the upload.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/offerta/buste/{kind}/caricamenti", tag = "caricamenti",
    params(("id" = Uuid, Path), ("kind" = String, Path, description = "A, B or C"), StartQuery),
    request_body = StartUpload, security(("bearer" = [])),
    responses((status = 201, body = UploadStatus),
              (status = 403, body = Problem, description = "forbidden, supplier_not_qualified, supplier_documents_expired, supplier_not_invited"),
              (status = 404, body = Problem),
              (status = 409, body = Problem, description = "deadline_passed, tender_not_open, seal_ceremony_incomplete"),
              (status = 413, body = Problem, description = "upload_quota_bytes"),
              (status = 422, body = Problem, description = "lot_required, tender_has_no_lots, envelope_kind_invalid"),
              (status = 429, body = Problem, description = "upload_sessions_limit, upload_quota_replacements")))]
#[post("/bandi/{id}/offerta/buste/{kind}/caricamenti")]
pub async fn start(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, String)>,
    query: web::Query<StartQuery>,
    _body: web::Json<StartUpload>,
) -> Result<HttpResponse, ApiError> {
    let (bando, kind) = path.into_inner();
    let kind = submit::parse_kind(&kind)?;
    let lotto = query.into_inner().lotto;
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let svc = state.seal.clone();
    let s = state
        .db(move |conn| resumable::start(conn, &svc, &ctx, &auth.principal, bando, lotto, kind))
        .await?;
    Ok(HttpResponse::Created().json(s))
}

/// Part `index` of the upload (0, 1, …), raw bytes with header `X-Chunk-Sha256` (hex SHA-256
/// of this part). Index must be the next one (`received_parts`); re-sending the last accepted
/// part with the same digest changes nothing (200). Every part but the last has exactly
/// `chunk_bytes` bytes. Refused after the deadline. Answers with the status (201: stored).
#[utoipa::path(put, path = "/api/v1/caricamenti/{upload}/parti/{index}", tag = "caricamenti",
    params(("upload" = Uuid, Path), ("index" = u32, Path),
           ("X-Chunk-Sha256" = String, Header, description = "hex SHA-256 of this part")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), security(("bearer" = [])),
    responses((status = 201, body = UploadStatus, description = "part stored"),
              (status = 200, body = UploadStatus, description = "the last part again: nothing changed"),
              (status = 404, body = Problem, description = "not_found (also another user's upload)"),
              (status = 408, body = Problem, description = "upload_timeout"),
              (status = 409, body = Problem, description = "upload_part_out_of_order, upload_part_after_last, deadline_passed, upload_expired, upload_completed, upload_abandoned"),
              (status = 413, body = Problem, description = "upload_part_too_large, envelope_too_large, upload_quota_bytes"),
              (status = 422, body = Problem, description = "upload_part_digest, upload_digest_malformed, upload_part_empty, envelope_not_age"),
              (status = 503, body = Problem, description = "upload_slots_full (with Retry-After)")))]
#[put("/caricamenti/{upload}/parti/{index}")]
pub async fn put_part(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<(Uuid, u32)>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, index) = path.into_inner();
    let now = state.clock.now();
    let who = auth.principal.clone();
    let svc = state.seal.clone();
    // Whose upload it is, first: a stranger learns nothing, not even what a part must carry.
    let permit = state
        .db(move |conn| resumable::prepare_part(conn, &svc, &who, id, index, now))
        .await?;
    let claimed = req
        .headers()
        .get("x-chunk-sha256")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            OfferteError::invalid(
                "upload_digest_malformed",
                "X-Chunk-Sha256",
                "Manca l'intestazione X-Chunk-Sha256 con lo SHA-256 della parte",
            )
        })
        .and_then(|h| resumable::parse_digest(h, "X-Chunk-Sha256"))?;

    let uploads = state.uploads.clone();
    let Some(_slot) = uploads.slot().await else {
        return Ok(slots_full(uploads.limits.retry_after_seconds));
    };
    let (tx, reader) = blob::channel(8);
    let dir = permit.dir.clone();
    let writer = web::block(move || resumable::stage_part(&dir, reader));
    let limit = permit.chunk_bytes;
    let refusal = crate::uploads::pump(&uploads, Body::Part, &mut payload, &tx, |total| {
        (total > limit).then(|| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload_part_too_large",
                format!("Una parte non può superare {limit} byte"),
            )
        })
    })
    .await;
    drop(tx);
    let staged = writer.await?;
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let staged = staged?;
    let _turn = uploads.commit_turn().await;
    let svc = state.seal.clone();
    let clock = state.clock.clone();
    let request_id = rid.0.clone();
    let (s, stored) = state
        .db(move |conn| {
            resumable::accept_part(
                conn,
                &svc,
                clock.as_ref(),
                &auth.principal,
                id,
                index,
                claimed,
                staged,
                &request_id,
            )
        })
        .await?;
    Ok(if stored {
        HttpResponse::Created().json(s)
    } else {
        HttpResponse::Ok().json(s)
    })
}

/// Where the upload stands (`received_parts`: the next index to send). Its owner only.
#[utoipa::path(get, path = "/api/v1/caricamenti/{upload}", tag = "caricamenti", params(("upload" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = UploadStatus), (status = 404, body = Problem, description = "not_found (also another user's upload)")))]
#[get("/caricamenti/{upload}")]
pub async fn status(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let s = state
        .db(move |conn| resumable::status(conn, &auth.principal, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// Completes the upload: the parts are joined, checked against `sha256`, and stored as the
/// envelope, with the same receipt as a one-shot upload (201). The time of receipt is read
/// here, after the last byte: after the deadline, 409 `deadline_passed` and nothing stored.
/// Completing again gives the same receipt (200), never a second envelope.
#[utoipa::path(post, path = "/api/v1/caricamenti/{upload}/completa", tag = "caricamenti", params(("upload" = Uuid, Path)),
    request_body = CompleteUpload, security(("bearer" = [])),
    responses((status = 201, body = ReceiptView), (status = 200, body = ReceiptView, description = "completed before: the same receipt"),
              (status = 403, body = Problem, description = "supplier_not_qualified, supplier_documents_expired, supplier_not_invited"),
              (status = 404, body = Problem, description = "not_found (also another user's upload)"),
              (status = 409, body = Problem, description = "deadline_passed, upload_parts_mismatch, upload_expired, upload_abandoned, upload_completed, tender_not_open"),
              (status = 413, body = Problem, description = "upload_quota_bytes"),
              (status = 422, body = Problem, description = "upload_digest, upload_digest_malformed, envelope_not_age"),
              (status = 429, body = Problem, description = "upload_quota_replacements"),
              (status = 503, body = Problem, description = "upload_slots_full (with Retry-After)")))]
#[post("/caricamenti/{upload}/completa")]
pub async fn complete(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<CompleteUpload>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let CompleteUpload { parts, sha256 } = body.into_inner();
    let now = state.clock.now();
    let sha256 = match resumable::parse_digest(&sha256, "sha256") {
        Ok(d) => d,
        Err(e) => {
            // Whose upload it is, first: a stranger gets 404, not a lesson on the body.
            let who = auth.principal.clone();
            state.db(move |conn| resumable::status(conn, &who, id, now)).await?;
            return Err(e.into());
        }
    };
    let who = auth.principal.clone();
    let svc = state.seal.clone();
    let first = state
        .db(move |conn| resumable::prepare_completion(conn, &svc, &who, id, parts, sha256, now))
        .await?;
    let assembly = match first {
        Completion::Done(receipt) => return Ok(HttpResponse::Ok().json(receipt)),
        Completion::Assemble(a) => a,
    };
    // Joining the parts reads and writes the whole envelope: it takes a staging slot.
    let uploads = state.uploads.clone();
    let Some(_slot) = uploads.slot().await else {
        return Ok(slots_full(uploads.limits.retry_after_seconds));
    };
    let store = state.seal.store().clone();
    let a = assembly.clone();
    let staged = match web::block(move || resumable::assemble(&store, &a)).await? {
        Ok(staged) => staged,
        Err(e) => {
            // A completion running at the same time may have finished and removed the parts
            // while these were read: then its receipt is the answer.
            let who = auth.principal.clone();
            let svc = state.seal.clone();
            let again = state
                .db(move |conn| resumable::prepare_completion(conn, &svc, &who, id, parts, sha256, now))
                .await?;
            if let Completion::Done(receipt) = again {
                return Ok(HttpResponse::Ok().json(receipt));
            }
            return Err(e.into());
        }
    };
    let _turn = uploads.commit_turn().await;
    let svc = state.seal.clone();
    let clock = state.clock.clone();
    let request_id = rid.0.clone();
    let (receipt, created): (ReceiptView, bool) = state
        .db(move |conn| {
            resumable::finish(
                conn,
                &svc,
                clock.as_ref(),
                &auth.principal,
                &assembly,
                staged,
                &request_id,
            )
        })
        .await?;
    Ok(if created {
        HttpResponse::Created().json(receipt)
    } else {
        HttpResponse::Ok().json(receipt)
    })
}

/// Abandons an open upload (its parts are deleted; the record stays). Its owner only.
#[utoipa::path(delete, path = "/api/v1/caricamenti/{upload}", tag = "caricamenti", params(("upload" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = UploadStatus), (status = 404, body = Problem, description = "not_found (also another user's upload)"),
              (status = 409, body = Problem, description = "upload_completed")))]
#[delete("/caricamenti/{upload}")]
pub async fn abandon(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let svc = state.seal.clone();
    let s = state
        .db(move |conn| resumable::abandon(conn, &svc, &ctx, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(s))
}
