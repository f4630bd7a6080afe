//! Tenders (bandi): the RUP's endpoints under `/bandi`, the public ones under `/public/bandi`.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use bando::service::{self, Upload};
use bando::{
    Bando, BandoError, BandoPage, Chiarimento, DocumentKind, DocumentMeta, NewAnswer, NewBando, NewQuestion,
    NewRettifica, PublicFilter, TransitionRequest, Versione,
};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::{Auth, MaybeAuth};
use crate::error::{ApiError, Problem, Violation};
use crate::request_id::RequestId;
use crate::state::AppState;

/// Largest document accepted (bytes).
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;

impl From<BandoError> for ApiError {
    fn from(e: BandoError) -> Self {
        let status = match &e {
            BandoError::Forbidden | BandoError::NotRunner { .. } => StatusCode::FORBIDDEN,
            BandoError::NotFound { .. } => StatusCode::NOT_FOUND,
            BandoError::Invalid { .. } | BandoError::Legal(_) => StatusCode::UNPROCESSABLE_ENTITY,
            BandoError::IllegalTransition { .. } | BandoError::Conflict { .. } => StatusCode::CONFLICT,
            BandoError::Integrity { message } => {
                tracing::error!(error = %message, "document integrity check failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            BandoError::Accounts(_) => {
                let BandoError::Accounts(inner) = e else {
                    return ApiError::internal();
                };
                return inner.into();
            }
            BandoError::Database(inner) => {
                tracing::error!(error = %inner, "database error");
                return ApiError::internal();
            }
        };
        let mut out = ApiError::new(status, e.code(), e.to_string());
        out.field = e.field().map(str::to_string);
        match e {
            BandoError::Legal(violations) => {
                out.errors = violations
                    .into_iter()
                    .map(|v| Violation {
                        code: v.code.to_string(),
                        field: Some(v.field),
                        message: v.message,
                    })
                    .collect();
            }
            BandoError::IllegalTransition { current, .. } => {
                out.errors = vec![Violation {
                    code: "current_state".into(),
                    field: Some("state".into()),
                    message: current,
                }];
            }
            _ => {}
        }
        out
    }
}

/// Violations found by the legal check (200 even when not empty: nothing was refused).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckReport {
    pub publishable: bool,
    pub violations: Vec<Violation>,
}

#[derive(Debug, OpenApi)]
#[openapi(
    paths(create, list_for_ente, get_one, update, check, publish, transition, lot_transition, amend, upload_document,
          ask, questions, answer, public_list, public_get, public_versions, public_clarifications, public_document),
    components(schemas(Bando, BandoPage, NewBando, bando::NewLotto, bando::Oepv, bando::Criterion, bando::EconomicFormula,
        bando::Lotto, bando::Deadline, bando::DocumentMeta, bando::StateChange, bando::Change, Versione, Chiarimento,
        NewQuestion, NewAnswer, NewRettifica, TransitionRequest, CheckReport, bando::State, bando::LotState,
        bando::ContractType, bando::ProcedureType, bando::AwardCriterion, bando::Envelope, bando::AnomalyMethod,
        bando::DocumentKind, bando::CriterionKind, bando::FormulaKind)),
    tags((name = "bandi", description = "Tenders: drafts, legal validation, publication, states, rettifiche, chiarimenti"),
         (name = "public", description = "Published tenders, readable without login"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list_for_ente)
        .service(get_one)
        .service(update)
        .service(check)
        .service(publish)
        .service(transition)
        .service(lot_transition)
        .service(amend)
        .service(
            web::resource("/bandi/{id}/documenti")
                .app_data(web::PayloadConfig::new(MAX_DOCUMENT_BYTES))
                .route(web::post().to(upload_document)),
        )
        .service(ask)
        .service(questions)
        .service(answer)
        .service(public_list)
        .service(public_get)
        .service(public_versions)
        .service(public_clarifications)
        .service(public_document);
}

/// Create a draft tender for an ente (its RUP or an admin).
#[utoipa::path(post, path = "/api/v1/bandi", tag = "bandi", request_body = NewBando, security(("bearer" = [])),
    responses((status = 201, body = Bando), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi")]
pub async fn create(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    body: web::Json<NewBando>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| service::create(conn, &ctx, &auth.principal, &body))
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// The ente's tenders, drafts included (its officials and admins).
#[utoipa::path(get, path = "/api/v1/enti/{id}/bandi", tag = "bandi", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Bando>), (status = 403, body = Problem)))]
#[get("/enti/{id}/bandi")]
pub async fn list_for_ente(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let out = state
        .db(move |conn| service::list_for_ente(conn, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A tender with custodians, invitees and state history (the ente's officials and admins).
#[utoipa::path(get, path = "/api/v1/bandi/{id}", tag = "bandi", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Bando), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/bandi/{id}")]
pub async fn get_one(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let out = state.db(move |conn| service::get(conn, &auth.principal, id)).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Replace a draft (drafts only; published tenders change through rettifiche).
#[utoipa::path(put, path = "/api/v1/bandi/{id}", tag = "bandi", request_body = NewBando, security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Bando), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[put("/bandi/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<NewBando>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| service::update_draft(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Run the legal checks of publication now, without publishing.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/check", tag = "bandi", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = CheckReport), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[post("/bandi/{id}/check")]
pub async fn check(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let found = state
        .db(move |conn| service::check(conn, &auth.principal, id, now))
        .await?;
    let violations: Vec<Violation> = found
        .into_iter()
        .map(|v| Violation {
            code: v.code.to_string(),
            field: Some(v.field),
            message: v.message,
        })
        .collect();
    Ok(HttpResponse::Ok().json(CheckReport {
        publishable: violations.is_empty(),
        violations,
    }))
}

/// Publish a draft. A tender breaking the Code gets 422 with every violation in `errors`,
/// each message starting with its article.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/publish", tag = "bandi", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Bando), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| service::publish(conn, &ctx, &auth.principal, id, &crate::invitees::RegistryInvitees))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Move the tender to another state; an illegal transition is 409 with the current state.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/transitions", tag = "bandi", request_body = TransitionRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Bando), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/transitions")]
pub async fn transition(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| {
            service::transition_with(
                conn,
                &ctx,
                &auth.principal,
                id,
                &body,
                &crate::invitees::RegistryInvitees,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Move one lot to another state (its outcome).
#[utoipa::path(post, path = "/api/v1/bandi/{id}/lotti/{lotto}/transitions", tag = "bandi", request_body = TransitionRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path), ("lotto" = Uuid, Path)),
    responses((status = 200, body = Bando), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/bandi/{id}/lotti/{lotto}/transitions")]
pub async fn lot_transition(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, lotto) = path.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| service::lot_transition(conn, &ctx, &auth.principal, id, lotto, &body))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Publish a rettifica (e.g. a longer deadline): a new version, audited and public.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/rettifiche", tag = "bandi", request_body = NewRettifica,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Bando), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/rettifiche")]
pub async fn amend(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<NewRettifica>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| service::amend(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    pub kind: DocumentKind,
    pub filename: String,
    /// Required once the tender is published (the document is a rettifica).
    pub reason: Option<String>,
    /// New submission deadline (Rome time) when the document arrives < 6 days before it (art. 92).
    pub extend_submission_deadline_to: Option<String>,
}

/// Upload a tender document; the body is the file itself. SHA-256 is computed and published.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/documenti", tag = "bandi", security(("bearer" = [])),
    params(("id" = Uuid, Path), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = DocumentMeta), (status = 403, body = Problem), (status = 409, body = Problem),
              (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    params: web::Query<UploadParams>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let params = params.into_inner();
    let out = state
        .db(move |conn| {
            service::add_document(
                conn,
                &ctx,
                &auth.principal,
                id,
                Upload {
                    kind: params.kind,
                    filename: &params.filename,
                    content_type: &content_type,
                    bytes: &body,
                    reason: params.reason.as_deref(),
                    extend_submission_deadline_to: params.extend_submission_deadline_to.as_deref(),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// A supplier asks a question (until the questions deadline). The asker is never published.
#[utoipa::path(post, path = "/api/v1/bandi/{id}/chiarimenti", tag = "bandi", request_body = NewQuestion,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = Chiarimento), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/bandi/{id}/chiarimenti")]
pub async fn ask(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<NewQuestion>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| service::ask(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Created().json(out))
}

/// Every question, answered or not (the ente's officials), without the asker.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/chiarimenti", tag = "bandi", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Chiarimento>), (status = 403, body = Problem)))]
#[get("/bandi/{id}/chiarimenti")]
pub async fn questions(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let out = state
        .db(move |conn| service::all_clarifications(conn, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The RUP answers; less than 6 days before the deadline the same request must extend it (art. 92).
#[utoipa::path(post, path = "/api/v1/bandi/{id}/chiarimenti/{q}/risposta", tag = "bandi", request_body = NewAnswer,
    security(("bearer" = [])), params(("id" = Uuid, Path), ("q" = Uuid, Path)),
    responses((status = 200, body = Chiarimento), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/bandi/{id}/chiarimenti/{q}/risposta")]
pub async fn answer(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<NewAnswer>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = path.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let out = state
        .db(move |conn| service::answer(conn, &ctx, &auth.principal, id, q, &body))
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// A public answer; drawn for an anonymous caller it depends on the database alone, so the
/// public page cache may serve it again until a public table changes (`crate::public_cache`).
fn public_json(out: &impl serde::Serialize, anonymous: bool) -> HttpResponse {
    let mut res = HttpResponse::Ok().json(out);
    if anonymous {
        crate::public_cache::mark(&mut res, None);
    }
    res
}

/// Published tenders, newest first, with filters and a stable cursor. No login needed;
/// procedures by invitation appear only to their invitees.
#[utoipa::path(get, path = "/api/v1/public/bandi", tag = "public", params(PublicFilter),
    responses((status = 200, body = BandoPage), (status = 422, body = Problem)))]
#[get("/public/bandi")]
pub async fn public_list(
    state: web::Data<AppState>,
    who: MaybeAuth,
    filter: web::Query<PublicFilter>,
) -> Result<HttpResponse, ApiError> {
    let anonymous = who.0.is_none();
    let out = state
        .db(move |conn| service::list_public(conn, who.0.as_ref(), &filter))
        .await?;
    Ok(public_json(&out, anonymous))
}

#[utoipa::path(get, path = "/api/v1/public/bandi/{id}", tag = "public", params(("id" = Uuid, Path)),
    responses((status = 200, body = Bando), (status = 404, body = Problem)))]
#[get("/public/bandi/{id}")]
pub async fn public_get(
    state: web::Data<AppState>,
    who: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let anonymous = who.0.is_none();
    let out = state
        .db(move |conn| service::get_public(conn, who.0.as_ref(), id))
        .await?;
    Ok(public_json(&out, anonymous))
}

/// The published versions: the notice and every rettifica with what it changed.
#[utoipa::path(get, path = "/api/v1/public/bandi/{id}/rettifiche", tag = "public", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Versione>), (status = 404, body = Problem)))]
#[get("/public/bandi/{id}/rettifiche")]
pub async fn public_versions(
    state: web::Data<AppState>,
    who: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let anonymous = who.0.is_none();
    let out = state
        .db(move |conn| service::versions(conn, who.0.as_ref(), id))
        .await?;
    Ok(public_json(&out, anonymous))
}

/// Answered clarifications; never who asked.
#[utoipa::path(get, path = "/api/v1/public/bandi/{id}/chiarimenti", tag = "public", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Chiarimento>), (status = 404, body = Problem)))]
#[get("/public/bandi/{id}/chiarimenti")]
pub async fn public_clarifications(
    state: web::Data<AppState>,
    who: MaybeAuth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let anonymous = who.0.is_none();
    let out = state
        .db(move |conn| service::public_clarifications(conn, who.0.as_ref(), id))
        .await?;
    Ok(public_json(&out, anonymous))
}

/// A document's bytes, with its SHA-256 in `X-Content-SHA256` and as the ETag.
#[utoipa::path(get, path = "/api/v1/public/bandi/{id}/documenti/{doc}", tag = "public",
    params(("id" = Uuid, Path), ("doc" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = Problem),
              (status = 500, description = "`document_integrity`: the stored bytes no longer match their SHA-256", body = Problem)))]
#[get("/public/bandi/{id}/documenti/{doc}")]
pub async fn public_document(
    state: web::Data<AppState>,
    who: MaybeAuth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, doc) = path.into_inner();
    let (meta, bytes) = state
        .db(move |conn| service::document(conn, who.0.as_ref(), id, doc))
        .await?;
    Ok(
        crate::download::as_attachment(&mut HttpResponse::Ok(), &meta.content_type, &meta.filename)
            .insert_header(("X-Content-SHA256", meta.sha256.clone()))
            .insert_header((header::ETAG, format!("\"{}\"", meta.sha256)))
            .body(bytes),
    )
}
