//! Evaluation and award (issue 6): administrative phase and soccorso istruttorio, commission
//! and technical phase, economic phase with the automatic exclusion or the OEPV totals, art. 110,
//! proposal → requirements → award (effective, art. 17 c.5) → standstill, art. 90 communications and art. 36 access.
//! Thin handlers over `aggiudicazione::procedure`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use aggiudicazione::procedure::access::{self, Access, AccessibleEnvelope};
use aggiudicazione::procedure::{
    self as procedure, admission, award, commission, evaluation, exclusions, AdmissionDecision, Answer, Art110,
    Art110Request, Award, CoefficientsInput, CommissionAppointment, Communication, Declaration, EconomicPhase,
    Evaluation, ExclusionDecision, ExclusionProposal, Member, Outcome, Participant, Procedura, ProcedureError,
    RawCoefficient, Requirement, RequirementCheck, Soccorso, SoccorsoRequest,
};
use serde::Serialize;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;
use aggiudicazione::procedure::public_outcome::PublicAward;

impl From<ProcedureError> for ApiError {
    fn from(e: ProcedureError) -> Self {
        let status = match &e {
            ProcedureError::Forbidden => StatusCode::FORBIDDEN,
            ProcedureError::NotFound { .. } => StatusCode::NOT_FOUND,
            ProcedureError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ProcedureError::Conflict { .. } => StatusCode::CONFLICT,
            ProcedureError::Bando(_)
            | ProcedureError::Eval(_)
            | ProcedureError::Database(_)
            | ProcedureError::Seal(_) => {
                return match e {
                    ProcedureError::Bando(inner) => inner.into(),
                    ProcedureError::Eval(inner) => inner.into(),
                    other => {
                        tracing::error!(error = %other, "aggiudicazione: database error");
                        ApiError::internal()
                    }
                };
            }
        };
        let mut out = ApiError::new(status, e.code(), e.to_string());
        out.field = e.field();
        out
    }
}

/// Tenders with lots: the lot the request is about (each lot is evaluated and decided
/// separately); absent for a tender without lots.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LotQuery {
    pub lotto: Option<Uuid>,
}

/// An opened envelope B of an admitted bidder.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnvelopeB {
    pub envelope_id: Uuid,
    pub bidder_id: Uuid,
}

#[derive(OpenApi)]
#[openapi(
    paths(get_procedure, decide_admission, soccorso, soccorso_answer, soccorso_outcome, appoint, declare, envelopes_b, coefficients, close_technical, economic, art110, art110_answer, art110_outcome, exclusion_decision, propose, award_tender, requirement, communications, access_list, envelope_b, access_download, public_esito),
    components(schemas(Procedura, Participant, Soccorso, Member, RawCoefficient, Evaluation, Art110, Award, Requirement, ExclusionProposal, ExclusionDecision,
                        Communication, AdmissionDecision, SoccorsoRequest, Answer, Outcome, CommissionAppointment, Declaration,
                        CoefficientsInput, EconomicPhase, Art110Request, RequirementCheck, EnvelopeB, Access, AccessibleEnvelope, PublicAward)),
    tags((name = "aggiudicazione", description = "Evaluation and award: admissions, soccorso istruttorio, commission, scores, anomaly, art. 110, award, standstill, communications, access"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_procedure)
        .service(decide_admission)
        .service(soccorso)
        .service(soccorso_answer)
        .service(soccorso_outcome)
        .service(appoint)
        .service(declare)
        .service(envelopes_b)
        .service(coefficients)
        .service(close_technical)
        .service(economic)
        .service(art110)
        .service(art110_answer)
        .service(art110_outcome)
        .service(propose)
        .service(exclusion_decision)
        .service(award_tender)
        .service(requirement)
        .service(communications)
        .service(access_list)
        .service(envelope_b)
        .service(access_download)
        .service(public_esito);
}

/// The awards of a tender once made (art. 28): awardee, contract amount, awarded discount,
/// date, number of bidders; for each lot of a tender with lots. Empty before the award: a
/// proposal is never published. No login needed; procedures by invitation stay 404 to anyone
/// but their invitees and the ente's officials.
#[utoipa::path(get, path = "/api/v1/public/bandi/{id}/esito", tag = "public", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PublicAward>), (status = 404, body = Problem)))]
#[get("/public/bandi/{id}/esito")]
pub async fn public_esito(
    state: web::Data<AppState>,
    who: crate::auth::MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let out = state
        .db(move |conn| aggiudicazione::procedure::public_outcome::public_awards(conn, who.0.as_ref(), id))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// An opened envelope's plaintext, as an attachment named after the envelope.
fn read_plaintext(
    state: &AppState,
    rel: String,
    envelope: Uuid,
) -> impl std::future::Future<Output = Result<HttpResponse, ApiError>> {
    let store = state.seal.store().clone();
    async move {
        let bytes = web::block(move || {
            let path = store.local(&rel, None).map_err(std::io::Error::other)?;
            std::fs::read(path)
        })
        .await?
        .map_err(|e| {
            tracing::error!(error = %e, "aggiudicazione: opened envelope missing");
            ApiError::internal()
        })?;
        Ok(crate::download::as_attachment(
            &mut HttpResponse::Ok(),
            "application/octet-stream",
            &format!("busta-{envelope}.bin"),
        )
        .body(bytes))
    }
}

/// Envelope B of the admitted bidders: commission members only (declared).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/valutazione/buste-b", tag = "aggiudicazione", params(("id" = Uuid, Path), LotQuery),
    security(("bearer" = [])), responses((status = 200, body = Vec<EnvelopeB>), (status = 403, body = Problem), (status = 409, body = Problem)))]
#[get("/bandi/{id}/valutazione/buste-b")]
pub async fn envelopes_b(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    lot: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let lotto = lot.lotto;
    let list = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::envelopes_b(conn, &auth.principal, id)
        })
        .await?;
    let out: Vec<EnvelopeB> = list
        .into_iter()
        .map(|(envelope_id, bidder_id, _)| EnvelopeB { envelope_id, bidder_id })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// The plaintext of an envelope B: commission members only (declared).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/valutazione/buste-b/{envelope}", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery, ("envelope" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/bandi/{id}/valutazione/buste-b/{envelope}")]
pub async fn envelope_b(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    lot: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, envelope) = path.into_inner();
    let lotto = lot.lotto;
    let list = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::envelopes_b(conn, &auth.principal, id)
        })
        .await?;
    let Some((_, _, Some(rel))) = list.into_iter().find(|(e, _, _)| *e == envelope) else {
        return Err(ProcedureError::NotFound { what: "Busta B" }.into());
    };
    read_plaintext(&state, rel, envelope).await
}

/// Art. 36: download an envelope the caller may access after the award (logged).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/accesso-atti/{envelope}", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery, ("envelope" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 403, body = Problem), (status = 409, body = Problem)))]
#[get("/bandi/{id}/accesso-atti/{envelope}")]
pub async fn access_download(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    lot: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, envelope) = path.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let lotto = lot.lotto;
    let rel = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            access::plaintext(conn, &ctx, &auth.principal, id, envelope)
        })
        .await?;
    read_plaintext(&state, rel, envelope).await
}

/// The evaluation and award of a tender: admissions, soccorsi, commission, raw coefficients, the stored computation (anomaly threshold with every intermediate value, scores, ranking and seed), art. 110 checks, award, standstill, requirements. Officials of the ente see everything; a bidder its own rows (and the outcome once awarded).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/valutazione", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[get("/bandi/{id}/valutazione")]
pub async fn get_procedure(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            procedure::view(conn, &ctx, &p, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Seggio di gara / RUP: admit or exclude (with reason) a bidder after envelope A was opened. The first decision moves the tender from `opening` to `evaluation`.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/ammissioni", tag = "aggiudicazione", request_body = AdmissionDecision,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/ammissioni")]
pub async fn decide_admission(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<AdmissionDecision>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            admission::decide(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Soccorso istruttorio (art. 101): envelope A only (B/C refused with `soccorso_not_for_offers`), 5 to 10 days. No answer in time excludes the bidder.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/soccorsi", tag = "aggiudicazione", request_body = SoccorsoRequest,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 201, body = Soccorso), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/soccorsi")]
pub async fn soccorso(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<SoccorsoRequest>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            admission::request_soccorso(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// The bidder's answer to a soccorso istruttorio, before its deadline (timestamped, logged).
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/soccorsi/{sid}/risposta", tag = "aggiudicazione", request_body = Answer,
    params(("id" = Uuid, Path), LotQuery, ("sid" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Soccorso), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/soccorsi/{sid}/risposta")]
pub async fn soccorso_answer(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<Answer>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let (id, sid) = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            admission::answer_soccorso(conn, &ctx, &p, id, sid, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The RUP's outcome of a soccorso: admitted, or excluded with the reason.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/soccorsi/{sid}/esito", tag = "aggiudicazione", request_body = Outcome,
    params(("id" = Uuid, Path), LotQuery, ("sid" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/soccorsi/{sid}/esito")]
pub async fn soccorso_outcome(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<Outcome>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let (id, sid) = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            admission::decide_soccorso(conn, &ctx, &p, id, sid, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Appoint the commission (OEPV, art. 93): after the submission deadline, odd number of officials, at most 5, with a president.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/commissione", tag = "aggiudicazione", request_body = CommissionAppointment,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 201, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/commissione")]
pub async fn appoint(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<CommissionAppointment>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::appoint(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// A member records the declaration of no incompatibility (art. 93 c.5). Until every member has declared, nobody reaches envelope B.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/commissione/dichiarazione", tag = "aggiudicazione", request_body = Declaration,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/commissione/dichiarazione")]
pub async fn declare(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<Declaration>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::declare(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A commissioner's coefficients (0–1) per discretionary leaf criterion for one admitted offer (422 `criterion_not_discretionary` for a quantitative or tabular one: the platform computes those). Every raw value is kept.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/coefficienti", tag = "aggiudicazione", request_body = CoefficientsInput,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 201, body = Vec<RawCoefficient>), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/coefficienti")]
pub async fn coefficients(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<CoefficientsInput>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::enter_coefficients(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Close the technical phase (president or RUP): quantitative and tabular criteria computed from the values declared in envelope B (`computed`), averages of the discretionary coefficients, riparametrazione per criterion and, where the tender says so (`reparametrize_total`), on the technical total, soglia di sbarramento by the engine; offers below the soglia are excluded.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/tecnica/chiusura", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/tecnica/chiusura")]
pub async fn close_technical(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let store = state.seal.store().clone();
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::close_technical(conn, &ctx, &p, id, &store)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The economic phase (RUP): envelope C of every admitted bidder. Lowest price: automatic exclusion (art. 54, Allegato II.2) when it applies, whole computation stored; OEPV: totals. Ranking with the recorded draw seed.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/economica", tag = "aggiudicazione", request_body = EconomicPhase,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/economica")]
pub async fn economic(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<EconomicPhase>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            evaluation::economic(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Art. 110: ask the best offer for written explanations within 15 days.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/art110", tag = "aggiudicazione", request_body = Art110Request,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 201, body = Art110), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/art110")]
pub async fn art110(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<Art110Request>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            evaluation::request_art110(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// The bidder's art. 110 explanations, before the deadline.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/art110/{sid}/risposta", tag = "aggiudicazione", request_body = Answer,
    params(("id" = Uuid, Path), LotQuery, ("sid" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Art110), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/art110/{sid}/risposta")]
pub async fn art110_answer(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<Answer>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let (id, sid) = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            evaluation::answer_art110(conn, &ctx, &p, id, sid, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The RUP accepts the explanations or excludes the offer (the next in the ranking becomes the best).
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/art110/{sid}/esito", tag = "aggiudicazione", request_body = Outcome,
    params(("id" = Uuid, Path), LotQuery, ("sid" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/art110/{sid}/esito")]
pub async fn art110_outcome(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<Outcome>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let (id, sid) = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            evaluation::decide_art110(conn, &ctx, &p, id, sid, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Art. 30 c.3 lett. b: the RUP confirms or rejects, with a reason, an exclusion the platform proposed (anomaly threshold, unanswered soccorso istruttorio, expired art. 110 request). Only the RUP of the tender's ente (another ente's officials and suppliers: 404); a second decision: 409 `exclusion_decided`. The exclusion's art. 90 communication goes out on confirmation; the award cannot be proposed while any proposal is undecided (409 `exclusions_undecided`).
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/esclusioni/{pid}/decisione", tag = "aggiudicazione", request_body = ExclusionDecision,
    params(("id" = Uuid, Path), LotQuery, ("pid" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/esclusioni/{pid}/decisione")]
pub async fn exclusion_decision(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<ExclusionDecision>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let p = auth.principal;
    let (id, pid) = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            exclusions::decide(conn, &ctx, &p, id, pid, &body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Proposal of award to the best offer still admitted; with no offers the tender is deserted, with every offer excluded it ends unawarded (state `deserted`, outcome `all_excluded`).
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/proposta", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/proposta")]
pub async fn propose(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            award::propose(conn, &ctx, &p, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The award by the RUP, once the requirements of the proposed winner are verified and satisfied (409 `requirements_unchecked` / `requirement_not_met` otherwise): immediately effective (art. 17 c.5). Standstill computed with the rule in force at the tender's publication (art. 18 c.3: 32 days from 2024-12-31, 35 before; not in its exceptions lett. a-d) and art. 90 communications to every bidder.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/aggiudicazione", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/aggiudicazione")]
pub async fn award_tender(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            award::award(conn, &ctx, &p, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// One requirement of the proposed winner checked, with its evidence, before the award (art. 17 c.5).
#[utoipa::path(post, path = "/api/v1/bandi/{id}/valutazione/requisiti", tag = "aggiudicazione", request_body = RequirementCheck,
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 201, body = Procedura), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/valutazione/requisiti")]
pub async fn requirement(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
    body: web::Json<RequirementCheck>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            award::check_requirement(conn, &ctx, &p, id, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// The art. 90 communications of the tender (all for officials, their own for bidders).
#[utoipa::path(get, path = "/api/v1/bandi/{id}/valutazione/comunicazioni", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Communication>), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[get("/bandi/{id}/valutazione/comunicazioni")]
pub async fn communications(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            award::communications(conn, &p, id, ctx.at)
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Art. 36: after the award, what the caller may download: non-excluded bidders the winner's offer, the first five each other's.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/accesso-atti", tag = "aggiudicazione",
    params(("id" = Uuid, Path), LotQuery), security(("bearer" = [])),
    responses((status = 200, body = Access), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[get("/bandi/{id}/accesso-atti")]
pub async fn access_list(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    lot: web::Query<LotQuery>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let _ = &ctx;
    let p = auth.principal;
    let id = path.into_inner();
    let lotto = lot.lotto;
    let out = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            access::accessible_at(conn, &p, id, Some(ctx.at))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
