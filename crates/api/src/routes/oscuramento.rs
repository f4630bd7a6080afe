//! Art. 36 c.3–5: requests to redact (oscuramento) parts of an offer, sealed inside the
//! envelope (`oscuramento.json`, docs/redaction.md). The RUP reads and decides them after the
//! ranking and before the award; the decisions go in the award's communication; the RUP
//! records a ricorso notified within the ten days and its outcome. The other bidders reach
//! such an envelope file by file. Thin handlers over `aggiudicazione::procedure::redaction`.

use actix_web::{get, post, web, HttpResponse};
use aggiudicazione::procedure::redaction::{
    self, AccessibleFile, ChallengeOutcome, ChallengeRecord, ChallengeSettlement, RedactionDecision, RedactionRequest,
    RedactionState, Verdict,
};
use aggiudicazione::procedure::{self as procedure, access};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::routes::aggiudicazione::LotQuery;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(list, decide, challenge, settle, access_file),
    components(schemas(
        RedactionRequest,
        RedactionState,
        Verdict,
        ChallengeOutcome,
        RedactionDecision,
        ChallengeRecord,
        ChallengeSettlement,
        AccessibleFile
    ))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(decide)
        .service(challenge)
        .service(settle)
        .service(access_file);
}

/// The requests to redact parts of the offers (art. 36 c.3): all of them to the ente's officials and admins once the ranking is computed (409 `redaction_not_yet` before; they are read from the opened envelopes then, never earlier), with the decisions, any ricorso and the end of the art. 36 c.4 term; to a bidder its own, from the award on (an empty list before); to anyone else an empty list.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/oscuramento", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<RedactionRequest>), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/bandi/{id}/oscuramento")]
pub async fn list(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let store = state.seal.store().clone();
    let (id, lotto) = (path.into_inner(), lot.lotto);
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            redaction::list(conn, &ctx, &store, &auth.principal, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The RUP of the tender's ente decides one request, `accepted` or `rejected`, with a reason (422 `reason_required`; accepting a request that names no redacted copy: 422 `redacted_copy_missing`), after the ranking and before the award (409 `already_awarded`); a second decision: 409 `redaction_decided`. Anyone outside the ente, and suppliers: 403. Audited and logged.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/oscuramento/{request}/decisione", tag = "aggiudicazione", request_body = RedactionDecision,
    params(("id" = Uuid, Path), LotQuery, ("request" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = RedactionRequest), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/oscuramento/{request}/decisione")]
pub async fn decide(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<RedactionDecision>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let ((id, request), lotto) = (path.into_inner(), lot.lotto);
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            redaction::decide(conn, &ctx, &auth.principal, id, request, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The RUP records a ricorso notified against a decision (art. 36 c.4, art. 116 c.p.a.), with its particulars (422 `note_required`): after the award's communication (409 `award_not_communicated`) and before the ten days end (409 `challenge_term_expired`); once (409 `challenge_recorded`). The part stays hidden until the outcome is recorded.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/oscuramento/{request}/ricorso", tag = "aggiudicazione", request_body = ChallengeRecord,
    params(("id" = Uuid, Path), LotQuery, ("request" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = RedactionRequest), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/oscuramento/{request}/ricorso")]
pub async fn challenge(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ChallengeRecord>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let ((id, request), lotto) = (path.into_inner(), lot.lotto);
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            redaction::record_challenge(conn, &ctx, &auth.principal, id, request, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The RUP records the outcome of the ricorso: `upheld` (the decision is overturned) or `dismissed` (confirmed), with the judgment's particulars (422 `reason_required`); 409 `challenge_missing` without a ricorso, `challenge_settled` the second time.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/oscuramento/{request}/ricorso/esito", tag = "aggiudicazione", request_body = ChallengeSettlement,
    params(("id" = Uuid, Path), LotQuery, ("request" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = RedactionRequest), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/oscuramento/{request}/ricorso/esito")]
pub async fn settle(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ChallengeSettlement>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let ((id, request), lotto) = (path.into_inner(), lot.lotto);
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            redaction::settle_challenge(conn, &ctx, &auth.principal, id, request, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Art. 36: one file of an envelope of several files the caller may access after the award (logged). Another bidder's envelope that carries redaction requests is served only file by file, and only the files its access listing marks available (409 `part_redacted` for the others: an original whose redaction was accepted, or refused but within the challenge term or under a ricorso; the request and its evidence).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/accesso-atti/{envelope}/file/{name}", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery, ("envelope" = Uuid, Path), ("name" = String, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
#[get("/bandi/{id}/accesso-atti/{envelope}/file/{name}")]
pub async fn access_file(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let store = state.seal.store().clone();
    let ((id, envelope, name), lotto) = (path.into_inner(), lot.lotto);
    let (path, offset, file) = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            access::file(conn, &ctx, &store, &auth.principal, id, envelope, &name)
        })
        .await?;
    let declared = crate::routes::offerte::content_type_of(&file.name);
    crate::routes::offerte::stream_range(path, offset, file.size, declared, &file.name).await
}
