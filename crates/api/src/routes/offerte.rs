//! Sealed bids (issue 5): the tender key in custody, envelopes streamed into the seal,
//! receipts and their verification bundles, withdrawals, openings. See docs/seal.md.

use std::io::Read;
use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpResponse};
use offerte::archive::{ArchiveError, ArchiveFile};
use offerte::blob::{self, SealMode};
use offerte::bundle::{self, VerificationBundle};
use offerte::custody::{
    self, AckUpload, CeremonyReset, ContributionUpload, Contributions, OpeningShareUpload, OpeningShares, TenderKey,
    TransportKeyUpload,
};
use offerte::opening::{self, Opening, OpeningRequest};
use offerte::submit::{self, BidView, ReceiptView, Withdrawal};
use offerte::OfferteError;
use serde::Deserialize;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;
use crate::uploads::Body;

impl From<OfferteError> for ApiError {
    fn from(e: OfferteError) -> Self {
        let e = match e {
            OfferteError::Accounts(inner) => return inner.into(),
            other => other,
        };
        let status = match &e {
            OfferteError::Accounts(_) | OfferteError::Refused { .. } => StatusCode::FORBIDDEN,
            OfferteError::NotFound { .. } => StatusCode::NOT_FOUND,
            OfferteError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            OfferteError::Conflict { .. } | OfferteError::DeadlinePassed { .. } => StatusCode::CONFLICT,
            OfferteError::TooLarge { .. } | OfferteError::QuotaBytes { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            OfferteError::QuotaReplacements { .. } | OfferteError::UploadSessionsLimit { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            OfferteError::Seal(s) if OfferteError::is_client_seal_error(s) => StatusCode::UNPROCESSABLE_ENTITY,
            OfferteError::Archive(ArchiveError::FileNotFound { .. }) => StatusCode::NOT_FOUND,
            OfferteError::Archive(ArchiveError::NameInvalid { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            // The stored plaintext is a single body, or an archive refused at its opening.
            OfferteError::Archive(a) if !matches!(a, ArchiveError::Io(_)) => StatusCode::CONFLICT,
            OfferteError::Seal(_)
            | OfferteError::Archive(_)
            | OfferteError::Database(_)
            | OfferteError::Io(_)
            | OfferteError::Internal(_) => {
                tracing::error!(error = %e, "seal: internal error");
                return ApiError::internal();
            }
        };
        let mut out = ApiError::new(status, e.code(), e.to_string());
        out.field = e.field().map(str::to_string);
        out
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(register_transport_key, contribute, contributions, acknowledge, reset_ceremony, get_key, submit_opening_share, submit_envelope, submit_lot_envelope, my_bid, withdraw, confirm_bid, receipt_bundle, ciphertext, open, list_openings, plaintext, list_files, download_file),
    components(schemas(TransportKeyUpload, CeremonyReset, TenderKey, custody::CeremonyCustodian, ContributionUpload, custody::KindContribution,
                        custody::SealedShare, Contributions, custody::DealerContribution, AckUpload, custody::ProofWire,
                        OpeningShareUpload, OpeningShares, SealMode,
                        ReceiptView, BidView, submit::Confirmation, offerte::amendments::PendingAmendment, Withdrawal, VerificationBundle, offerte::log::ConsistencyProof,
                        OpeningRequest, Opening, opening::OpenedEnvelope, ArchiveFile)),
    tags((name = "offerte", description = "Sealed bids: tender key custody, envelopes A/B/C, receipts, openings"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register_transport_key)
        .service(contribute)
        .service(contributions)
        .service(acknowledge)
        .service(reset_ceremony)
        .service(get_key)
        .service(submit_opening_share)
        .service(submit_envelope)
        .service(submit_lot_envelope)
        .service(my_bid)
        .service(withdraw)
        .service(confirm_bid)
        .service(receipt_bundle)
        .service(ciphertext)
        .service(open)
        .service(list_openings)
        .service(plaintext)
        .service(list_files)
        .service(download_file);
}

/// A custodian registers his own age transport key (`centrale keys custodian-keygen`); the
/// first registration starts the tender's key ceremony. Custodians only, each for himself.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/sigillo/custodi", tag = "offerte", request_body = TransportKeyUpload,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = TenderKey), (status = 403, body = Problem, description = "not_custodian"),
              (status = 404, body = Problem),
              (status = 409, body = Problem, description = "transport_key_exists, seal_ceremony_complete, tender_not_open, deadline_passed"),
              (status = 422, body = Problem)))]
#[post("/bandi/{id}/sigillo/custodi")]
pub async fn register_transport_key(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<TransportKeyUpload>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let key = state
        .db(move |conn| custody::register_transport_key(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Created().json(key))
}

/// A custodian uploads his own contribution (`centrale keys contribute`): Feldman
/// commitments and one share per custodian, encrypted to their transport keys, per kind.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/sigillo/contributi", tag = "offerte", request_body = ContributionUpload,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = TenderKey), (status = 403, body = Problem, description = "not_custodian"),
              (status = 409, body = Problem, description = "transport_keys_missing, contribution_exists, seal_ceremony_complete"),
              (status = 422, body = Problem)))]
#[post("/bandi/{id}/sigillo/contributi")]
pub async fn contribute(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<ContributionUpload>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let key = state
        .db(move |conn| custody::contribute(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Created().json(key))
}

/// Every contribution of the ceremony (commitments, encrypted shares): what `centrale keys
/// ack` and `decrypt-share` read. Custodians, the RUP and auditors of the ente, admins.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/sigillo/contributi", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Contributions), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/bandi/{id}/sigillo/contributi")]
pub async fn contributions(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let c = state
        .db(move |conn| custody::contributions(conn, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(c))
}

/// A custodian acknowledges (`centrale keys ack`): his shares passed the Feldman check, and
/// a Schnorr proof per kind for his verification share, which the server recomputes. The
/// last acknowledgement completes the ceremony; bids are accepted from then on.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/sigillo/conferme", tag = "offerte", request_body = AckUpload,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 201, body = TenderKey), (status = 403, body = Problem, description = "not_custodian"),
              (status = 409, body = Problem, description = "contributions_missing, ack_exists, seal_ceremony_complete"),
              (status = 422, body = Problem, description = "custody.proof_invalid")))]
#[post("/bandi/{id}/sigillo/conferme")]
pub async fn acknowledge(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<AckUpload>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let key = state
        .db(move |conn| custody::acknowledge(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Created().json(key))
}

/// The RUP (or an admin) abandons a ceremony that cannot complete (a custodian's complaint),
/// with the reason the trail keeps: only before completion, hence before any bid. A new
/// ceremony starts with new keys.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/sigillo/azzera", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])), request_body = CeremonyReset,
    responses((status = 200, body = TenderKey), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "seal_ceremony_complete"),
              (status = 422, body = Problem, description = "reason_required")))]
#[post("/bandi/{id}/sigillo/azzera")]
pub async fn reset_ceremony(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<CeremonyReset>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let key = state
        .db(move |conn| custody::reset(conn, &ctx, &auth.principal, id, &body.reason))
        .await?;
    Ok(HttpResponse::Ok().json(key))
}

/// The tender's seal: the ceremony's progress and the recipient of each envelope kind
/// (`centrale seal --recipient`), k, n, custodians and their transport keys.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/sigillo", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = TenderKey), (status = 404, body = Problem)))]
#[get("/bandi/{id}/sigillo")]
pub async fn get_key(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let key = state
        .db(move |conn| -> Result<_, ApiError> {
            // The key is seen by whoever may see the tender: a negotiated procedure's key
            // (and its custodians) stays hidden from suppliers who are not invited.
            let row = bando::store::find(conn, id)?;
            if !bando::service::can_view(Some(&auth.principal), &row) {
                return Err(bando::BandoError::NotFound { what: "Bando" }.into());
            }
            Ok(custody::get(conn, id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(key))
}

/// A custodian submits his own share of envelope kind K (`centrale keys decrypt-share
/// --kind K`), once the opening of K is allowed; it must match his verification share.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/aperture/{kind}/quote", tag = "offerte",
    params(("id" = Uuid, Path), ("kind" = String, Path)), request_body = OpeningShareUpload, security(("bearer" = [])),
    responses((status = 201, body = OpeningShares), (status = 403, body = Problem, description = "not_custodian"),
              (status = 404, body = Problem),
              (status = 409, body = Problem, description = "opening_before_deadline, opening_out_of_order, already_opened, share_already_submitted"),
              (status = 422, body = Problem, description = "custody.share_invalid, custody.share_malformed")))]
#[post("/bandi/{id}/aperture/{kind}/quote")]
pub async fn submit_opening_share(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, String)>,
    body: web::Json<OpeningShareUpload>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = path.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let s = state
        .db(move |conn| {
            custody::submit_opening_share(
                conn,
                &ctx,
                &auth.principal,
                id,
                &kind,
                &body,
                &aggiudicazione::procedure::order::TechnicalGate,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(s))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SubmitQuery {
    /// `client`: the body is age ciphertext from `centrale seal`; `server` (default): the body
    /// is plaintext, encrypted on the fly to the tender key.
    pub sealed: Option<SealMode>,
}

/// Submit (or replace) envelope A, B or C. The body is streamed; the envelope counts only if
/// its last byte arrives before the deadline. A stalled or endless body is cut (408), a full
/// staging pool answers 503 with Retry-After, the bidder's quotas of bytes and replacements
/// per tender answer 413 / 429 (docs/security.md). Envelope C is JSON
/// `{"discount"|"price", "labour_costs", "safety_costs"}`. Returns the receipt.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/offerta/buste/{kind}", tag = "offerte",
    params(("id" = Uuid, Path), ("kind" = String, Path, description = "A, B or C"), SubmitQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), security(("bearer" = [])),
    responses((status = 201, body = ReceiptView),
              (status = 403, body = Problem, description = "forbidden, supplier_not_qualified, supplier_documents_expired, supplier_not_invited"),
              (status = 404, body = Problem),
              (status = 409, body = Problem, description = "deadline_passed, tender_not_open, seal_ceremony_incomplete"),
              (status = 408, body = Problem, description = "upload_timeout"),
              (status = 413, body = Problem, description = "envelope_too_large, upload_quota_bytes"), (status = 422, body = Problem),
              (status = 429, body = Problem, description = "upload_quota_replacements"),
              (status = 503, body = Problem, description = "upload_slots_full (with Retry-After)")))]
#[post("/bandi/{id}/offerta/buste/{kind}")]
pub async fn submit_envelope(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, String)>,
    query: web::Query<SubmitQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (bando, kind) = path.into_inner();
    submit_stream(state, rid, auth, bando, None, kind, query.into_inner(), payload).await
}

/// Submit (or replace) envelope A, B or C of a bid for one lot of a tender with lots (the
/// supplier chooses the lots it bids for; one bid per lot). As the tender-level path otherwise;
/// the receipt's `tender` field is `<tender id>/<lot id>`.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/lotti/{lotto}/offerta/buste/{kind}", tag = "offerte",
    params(("id" = Uuid, Path), ("lotto" = Uuid, Path), ("kind" = String, Path, description = "A, B or C"), SubmitQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), security(("bearer" = [])),
    responses((status = 201, body = ReceiptView),
              (status = 403, body = Problem, description = "forbidden, supplier_not_qualified, supplier_documents_expired, supplier_not_invited"),
              (status = 404, body = Problem, description = "not_found (tender or lot)"),
              (status = 409, body = Problem, description = "deadline_passed, tender_not_open, seal_ceremony_incomplete"),
              (status = 408, body = Problem, description = "upload_timeout"),
              (status = 413, body = Problem, description = "envelope_too_large, upload_quota_bytes"),
              (status = 422, body = Problem, description = "tender_has_no_lots"),
              (status = 429, body = Problem, description = "upload_quota_replacements"),
              (status = 503, body = Problem, description = "upload_slots_full (with Retry-After)")))]
#[post("/bandi/{id}/lotti/{lotto}/offerta/buste/{kind}")]
pub async fn submit_lot_envelope(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, Uuid, String)>,
    query: web::Query<SubmitQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (bando, lotto, kind) = path.into_inner();
    submit_stream(state, rid, auth, bando, Some(lotto), kind, query.into_inner(), payload).await
}

#[allow(clippy::too_many_arguments)]
async fn submit_stream(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    bando: Uuid,
    lotto: Option<Uuid>,
    kind: String,
    query: SubmitQuery,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = submit::parse_kind(&kind)?;
    let mode = query.sealed.unwrap_or(SealMode::Server);
    let now = state.clock.now();
    let who = auth.principal.clone();
    let svc = state.seal.clone();
    let uploads = state.uploads.clone();
    // Read before the answers it will be kept with (`offerte::precheck`).
    let generation = state.public_cache.change_generation();
    let permit = state
        .db(move |conn| {
            let memory = uploads.precheck.at(generation);
            submit::prepare_upload(conn, &svc, memory, &who, bando, lotto, kind, now)
        })
        .await?;

    // A slot of the bounded staging pool, held until the end (issue 11), waited for in turn.
    let uploads = state.uploads.clone();
    let Some(_slot) = uploads.slot().await else {
        return Ok(slots_full(uploads.limits.retry_after_seconds));
    };

    let (tx, reader) = blob::channel(8);
    let store = state.seal.store().clone();
    let recipient = permit.recipient;
    // With a shared store the ciphertext is uploaded here, before a connection is taken.
    let writer = web::block(move || {
        let mut staged = blob::stage(store.dir(), &recipient, mode, reader)?;
        staged.publish(&store)?;
        // Into its place here too: the rename and the directory's fsync then run before a
        // connection is taken, not inside the transaction that holds the bidder's lock (issue
        // 15). A refused commit removes it again (`StagedBlob::undo`).
        staged.persist(store.dir())?;
        Ok::<_, OfferteError>(staged)
    });
    let limit = state.seal.config().max_envelope_bytes;
    let quota = state.seal.config().quota_bytes_per_tender;
    let refusal = crate::uploads::pump(&uploads, Body::Envelope, &mut payload, &tx, |total| {
        if total > limit {
            Some(ApiError::from(OfferteError::TooLarge { limit }))
        } else if total > permit.bytes_left {
            Some(ApiError::from(OfferteError::QuotaBytes {
                limit: quota,
                used: quota - permit.bytes_left,
            }))
        } else {
            None
        }
    })
    .await;
    drop(tx);
    // The writer has failed on the aborted stream and its staging file is gone.
    let staged = writer.await?;
    if let Some(refusal) = refusal {
        return Err(refusal);
    }
    let staged = staged?;
    let _turn = uploads.commit_turn().await;
    let svc = state.seal.clone();
    let clock = state.clock.clone();
    let request_id = rid.0.clone();
    let receipt = state
        .db(move |conn| {
            submit::commit(
                conn,
                &svc,
                clock.as_ref(),
                &auth.principal,
                bando,
                lotto,
                kind,
                staged,
                &request_id,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(receipt))
}

/// 503 `upload_slots_full`: every staging slot is streaming; try again after `Retry-After`.
pub(crate) fn slots_full(retry_after: u32) -> HttpResponse {
    let e = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "upload_slots_full",
        format!("Troppi caricamenti di buste in corso: riprovare tra {retry_after} secondi (il termine di presentazione resta invariato)"),
    );
    HttpResponse::build(e.status)
        .insert_header(("Retry-After", retry_after.to_string()))
        .content_type("application/problem+json")
        .json(e.problem(None))
}

/// The calling supplier's bids on this tender, with every envelope and receipt (history included).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/offerta", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<BidView>), (status = 403, body = Problem)))]
#[get("/bandi/{id}/offerta")]
pub async fn my_bid(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let bids = state.db(move |conn| submit::my_bids(conn, &auth.principal, id)).await?;
    Ok(HttpResponse::Ok().json(bids))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LotQuery {
    /// The lot whose bid this is (tenders with lots).
    pub lotto: Option<Uuid>,
}

/// Withdraw the calling supplier's bid (before the deadline). Logged; nothing is deleted.
#[utoipa::path(delete, path = "/api/v1/bandi/{id}/offerta", tag = "offerte", params(("id" = Uuid, Path), LotQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Withdrawal), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[delete("/bandi/{id}/offerta")]
pub async fn withdraw(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    lot: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let lotto = lot.lotto;
    let svc = state.seal.clone();
    let clock = state.clock.clone();
    let request_id = rid.0.clone();
    let w = state
        .db(move |conn| submit::withdraw(conn, &svc, clock.as_ref(), &auth.principal, id, lotto, &request_id))
        .await?;
    Ok(HttpResponse::Ok().json(w))
}

/// Confirm the calling supplier's bid as it stands after a rettifica that requires it
/// (`requires_confirmation` in the bid view), before the deadline. Audited. Replacing an
/// envelope also clears the flag.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/offerta/conferma", tag = "offerte", params(("id" = Uuid, Path), LotQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<BidView>), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "nothing_to_confirm, deadline_passed, tender_not_open")))]
#[post("/bandi/{id}/offerta/conferma")]
pub async fn confirm_bid(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    lot: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let lotto = lot.lotto;
    let clock = state.clock.clone();
    let bids = state
        .db(move |conn| submit::confirm(conn, &ctx, clock.as_ref(), &auth.principal, id, lotto))
        .await?;
    Ok(HttpResponse::Ok().json(bids))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BundleQuery {
    /// Include a consistency proof from this older tree size to the bundle's checkpoint.
    pub since: Option<u64>,
}

/// Everything `centrale verify` needs for this envelope's receipt (with the envelope file).
/// The bidder; the tender's officials once the tender is closed.
#[utoipa::path(get, path = "/api/v1/buste/{id}/ricevuta", tag = "offerte", params(("id" = Uuid, Path), BundleQuery),
    security(("bearer" = [])), responses((status = 200, body = VerificationBundle), (status = 404, body = Problem)))]
#[get("/buste/{id}/ricevuta")]
pub async fn receipt_bundle(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    query: web::Query<BundleQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let since = query.since;
    let svc = state.seal.clone();
    let b = state
        .db(move |conn| bundle::build(conn, &svc, &auth.principal, id, since))
        .await?;
    Ok(HttpResponse::Ok().json(b))
}

/// The envelope's stored ciphertext (age), streamed: to its bidder; after the closing, to
/// the ente's auditors and admins (not to the RUP or the commission, who run the opening).
#[utoipa::path(get, path = "/api/v1/buste/{id}/cifrato", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem)))]
#[get("/buste/{id}/cifrato")]
pub async fn ciphertext(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let svc = state.seal.clone();
    let path = state
        .db(move |conn| submit::ciphertext_path(conn, &svc, &auth.principal, id))
        .await?;
    stream_file(path, &format!("busta-{id}.age")).await
}

/// Open envelope A, B or C of every active bid with the shares k custodians submitted for
/// that kind (`/aperture/{kind}/quote`): after the deadline, in order A, B, C. Body `{}`.
/// RUP, commission, admin.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/aperture/{kind}", tag = "offerte",
    params(("id" = Uuid, Path), ("kind" = String, Path)), request_body = OpeningRequest, security(("bearer" = [])),
    responses((status = 201, body = Opening), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "opening_before_deadline, opening_out_of_order, already_opened, opening_shares_missing"),
              (status = 422, body = Problem)))]
#[post("/bandi/{id}/aperture/{kind}")]
pub async fn open(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, String)>,
    body: web::Json<OpeningRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = path.into_inner();
    let svc = state.seal.clone();
    let clock = state.clock.clone();
    let request_id = rid.0.clone();
    let o = state
        .db(move |conn| {
            opening::open(
                conn,
                &svc,
                clock.as_ref(),
                &request_id,
                &auth.principal,
                id,
                &kind,
                &body,
                &aggiudicazione::procedure::order::TechnicalGate,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(o))
}

/// The openings so far and what each envelope held (economic offers of C included).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/aperture", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<Opening>), (status = 403, body = Problem)))]
#[get("/bandi/{id}/aperture")]
pub async fn list_openings(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let o = state.db(move |conn| opening::list(conn, &auth.principal, id)).await?;
    Ok(HttpResponse::Ok().json(o))
}

/// The plaintext of an opened envelope, streamed (RUP, commission, admin); audited
/// (`busta.contenuto_scaricato`). For an envelope of several files, the whole archive.
#[utoipa::path(get, path = "/api/v1/buste/{id}/contenuto", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 409, body = Problem)))]
#[get("/buste/{id}/contenuto")]
pub async fn plaintext(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let svc = state.seal.clone();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let path = state
        .db(move |conn| opening::plaintext_download(conn, &svc, &ctx, &auth.principal, id))
        .await?;
    stream_file(path, &format!("busta-{id}.bin")).await
}

/// The files of an opened envelope of several files (`centrale-busta/1`): name, size,
/// SHA-256, as checked at the opening. To exactly those who may read its plaintext
/// (`/contenuto`): A and C the RUP and commission of the ente, B the declared members of the
/// appointed commission under OEPV.
#[utoipa::path(get, path = "/api/v1/buste/{id}/file", tag = "offerte", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Vec<ArchiveFile>), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "envelope_not_opened, envelope_undecryptable, envelope_not_archive, archive_invalid")))]
#[get("/buste/{id}/file")]
pub async fn list_files(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let svc = state.seal.clone();
    let files = state
        .db(move |conn| opening::archive_files(conn, &svc, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(files))
}

/// One file of an opened envelope of several files, streamed as an attachment; audited
/// (`busta.file_scaricato`). Same readers as `/buste/{id}/file`.
#[utoipa::path(get, path = "/api/v1/buste/{id}/file/{name}", tag = "offerte",
    params(("id" = Uuid, Path), ("name" = String, Path, description = "a file name of the envelope's manifest")),
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 403, body = Problem),
              (status = 404, body = Problem, description = "not_found, archive_file_not_found"),
              (status = 409, body = Problem, description = "envelope_not_opened, envelope_undecryptable, envelope_not_archive, archive_invalid"),
              (status = 422, body = Problem, description = "archive_name_invalid")))]
#[get("/buste/{id}/file/{name}")]
pub async fn download_file(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let svc = state.seal.clone();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let d = state
        .db(move |conn| opening::archive_file(conn, &svc, &ctx, &auth.principal, id, &name))
        .await?;
    let declared = content_type_of(&d.file.name);
    stream_range(d.path, d.offset, d.file.size, declared, &d.file.name).await
}

/// A media type for a file of an envelope from its extension; `download::as_attachment`
/// still serves only those of its allow-list.
pub(crate) fn content_type_of(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "p7m" => "application/pkcs7-mime",
        "p7s" => "application/pkcs7-signature",
        "tsd" => "application/timestamped-data",
        "zip" => "application/zip",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        _ => "application/octet-stream",
    }
}

/// Streams a file in 64 KiB chunks read on the blocking pool.
/// Served as an attachment named `filename`.
async fn stream_file(path: PathBuf, filename: &str) -> Result<HttpResponse, ApiError> {
    stream_range(path, 0, u64::MAX, "application/octet-stream", filename).await
}

/// Streams `len` bytes of a file from `offset` (to its end at most), as [`stream_file`].
pub(crate) async fn stream_range(
    path: PathBuf,
    offset: u64,
    len: u64,
    content_type: &str,
    filename: &str,
) -> Result<HttpResponse, ApiError> {
    use std::io::{Seek, SeekFrom};
    let file = web::block(move || {
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        Ok::<_, std::io::Error>(f.take(len))
    })
    .await?
    .map_err(|e| {
        tracing::error!(error = %e, "seal: blob missing");
        ApiError::internal()
    })?;
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok::<_, actix_web::Error>(web::Bytes::from(buf)), Some(file))),
            _ => Some((
                Err(actix_web::error::ErrorInternalServerError("lettura non riuscita")),
                None,
            )),
        }
    });
    Ok(crate::download::as_attachment(&mut HttpResponse::Ok(), content_type, filename).streaming(stream))
}
