//! The supplier registry (albo degli operatori economici): registration, categories,
//! documents with expiry, qualification, rotation-aware invitation proposals.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use registry::documents::{self, Documento, UploadMeta};
use registry::invitations::{self, Award, NewAward, Proposal, ProposalRequest, Withdrawal};
use registry::operatori::{
    self, Categorie, NewOperatore, Operatore, OperatoreHistory, OperatoreUpdate, OperatoriPage, SearchQuery,
};
use registry::qualification::{self, Decision};
use registry::RegistryError;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let status = match &e {
            RegistryError::Unauthenticated => StatusCode::UNAUTHORIZED,
            RegistryError::Forbidden => StatusCode::FORBIDDEN,
            RegistryError::NotFound { .. } => StatusCode::NOT_FOUND,
            RegistryError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            RegistryError::Conflict { .. } => StatusCode::CONFLICT,
            RegistryError::Database(inner) => {
                tracing::error!(error = %inner, "database error");
                return ApiError::internal();
            }
            RegistryError::Internal(inner) => {
                tracing::error!(error = %inner, "internal error");
                return ApiError::internal();
            }
        };
        let mut out = ApiError::new(status, e.code(), e.to_string());
        out.field = e.field().map(str::to_string);
        out
    }
}

/// A supplier account enters its operatore economico in the albo (status `pending`).
#[utoipa::path(post, path = "/api/v1/registry/operatori", tag = "registry", request_body = NewOperatore,
    security(("bearer" = [])),
    responses((status = 201, body = Operatore), (status = 401, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
#[post("/registry/operatori")]
pub async fn register(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    body: web::Json<NewOperatore>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let op = state
        .db(move |conn| operatori::register(conn, &ctx, &auth.principal, &body))
        .await?;
    Ok(HttpResponse::Created().json(op))
}

/// Search the albo (officials): CPV (with descendants), SOA and minimum classifica, Comune,
/// province, region, status; ordered by ragione sociale, keyset-paginated.
#[utoipa::path(get, path = "/api/v1/registry/operatori", tag = "registry", params(SearchQuery),
    security(("bearer" = [])),
    responses((status = 200, body = OperatoriPage), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
#[get("/registry/operatori")]
pub async fn search(
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let page = state
        .db(move |conn| operatori::search(conn, &auth.principal, &query, now))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The caller's own entry (supplier accounts).
#[utoipa::path(get, path = "/api/v1/registry/operatori/me", tag = "registry", security(("bearer" = [])),
    responses((status = 200, body = Operatore), (status = 401, body = Problem), (status = 404, body = Problem)))]
#[get("/registry/operatori/me")]
pub async fn mine(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let op = state
        .db(move |conn| operatori::mine(conn, &auth.principal, now))
        .await?;
    Ok(HttpResponse::Ok().json(op))
}

/// One entry: its owner or any official; other suppliers get 404.
#[utoipa::path(get, path = "/api/v1/registry/operatori/{id}", tag = "registry", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Operatore), (status = 401, body = Problem), (status = 404, body = Problem)))]
#[get("/registry/operatori/{id}")]
pub async fn get(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let op = state
        .db(move |conn| operatori::get(conn, &auth.principal, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(op))
}

/// The owner changes its data (the partita IVA cannot change).
#[utoipa::path(patch, path = "/api/v1/registry/operatori/{id}", tag = "registry", request_body = OperatoreUpdate,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Operatore), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
#[patch("/registry/operatori/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<OperatoreUpdate>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let op = state
        .db(move |conn| operatori::update(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(op))
}

/// The owner declares its categories (replaces the current set; history kept).
#[utoipa::path(put, path = "/api/v1/registry/operatori/{id}/categorie", tag = "registry", request_body = Categorie,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Operatore), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
#[put("/registry/operatori/{id}/categorie")]
pub async fn categories(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Categorie>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let op = state
        .db(move |conn| operatori::set_categories(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(op))
}

/// The owner uploads a document: the body is the file, its Content-Type the media type;
/// metadata in the query. Stored by SHA-256; a new DURC, visura or SOA attestation
/// supersedes the previous one.
#[utoipa::path(post, path = "/api/v1/registry/operatori/{id}/documenti", tag = "registry",
    request_body(content = Vec<u8>, content_type = "application/pdf", description = "The file"),
    security(("bearer" = [])), params(("id" = Uuid, Path), UploadMeta),
    responses((status = 201, body = Documento), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn upload_document(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    meta: web::Query<UploadMeta>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let media_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let doc = state
        .db(move |conn| documents::upload(conn, &ctx, &auth.principal, id, &meta, &media_type, &body))
        .await?;
    Ok(HttpResponse::Created().json(doc))
}

/// The entry's documents, current and superseded, newest first (owner and officials).
#[utoipa::path(get, path = "/api/v1/registry/operatori/{id}/documenti", tag = "registry",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Documento>), (status = 404, body = Problem)))]
pub async fn list_documents(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let now = state.clock.now();
    let docs = state
        .db(move |conn| documents::list(conn, &auth.principal, id, now))
        .await?;
    Ok(HttpResponse::Ok().json(docs))
}

/// Download a document's file (owner and officials).
#[utoipa::path(get, path = "/api/v1/registry/operatori/{id}/documenti/{doc}/content", tag = "registry",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("doc" = Uuid, Path)),
    responses((status = 200, description = "The file, with its media type"), (status = 404, body = Problem)))]
#[get("/registry/operatori/{id}/documenti/{doc}/content")]
pub async fn document_content(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, doc) = path.into_inner();
    let now = state.clock.now();
    let (meta, bytes) = state
        .db(move |conn| documents::content(conn, &auth.principal, id, doc, now))
        .await?;
    Ok(
        crate::download::as_attachment(&mut HttpResponse::Ok(), &meta.media_type, &meta.nome_file)
            .insert_header(("X-Content-SHA256", meta.sha256.clone()))
            .body(bytes),
    )
}

/// An admin qualifies, rejects, suspends or reinstates an entry; the supplier is notified.
#[utoipa::path(post, path = "/api/v1/registry/operatori/{id}/qualification", tag = "registry", request_body = Decision,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Operatore), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/registry/operatori/{id}/qualification")]
pub async fn decide(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Decision>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let op = state
        .db(move |conn| qualification::decide(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(op))
}

/// Status changes and audit events of an entry (owner and officials).
#[utoipa::path(get, path = "/api/v1/registry/operatori/{id}/history", tag = "registry",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = OperatoreHistory), (status = 404, body = Problem)))]
#[get("/registry/operatori/{id}/history")]
pub async fn history(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let h = state
        .db(move |conn| operatori::history(conn, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(h))
}

/// Record a past award: its operatore becomes the outgoing contractor (art. 49) for the
/// ente, category and value band (admins, or a RUP of the ente).
#[utoipa::path(post, path = "/api/v1/registry/awards", tag = "registry", request_body = NewAward,
    security(("bearer" = [])),
    responses((status = 201, body = Award), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
#[post("/registry/awards")]
pub async fn record_award(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    body: web::Json<NewAward>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let award = state
        .db(move |conn| invitations::record_award(conn, &ctx, &auth.principal, &body))
        .await?;
    Ok(HttpResponse::Created().json(award))
}

/// Propose invitees for a negotiated procedure (a RUP of the ente, or an admin): art. 50
/// minimum for the band, art. 49 rotation, reproducible tie-breaking draw.
#[utoipa::path(post, path = "/api/v1/registry/invitation-proposals", tag = "registry", request_body = ProposalRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Proposal), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/registry/invitation-proposals")]
pub async fn propose(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    body: web::Json<ProposalRequest>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let seal = state.seal.clone();
    let p = state
        .db(move |conn| invitations::propose(conn, &ctx, &auth.principal, &body, &offerte::log::LogBeacon(&seal)))
        .await?;
    Ok(HttpResponse::Created().json(p))
}

#[utoipa::path(get, path = "/api/v1/registry/invitation-proposals/{id}", tag = "registry",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Proposal), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/registry/invitation-proposals/{id}")]
pub async fn get_proposal(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = state
        .db(move |conn| invitations::get(conn, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Fix the final list and count the invitations (rotation counters).
#[utoipa::path(post, path = "/api/v1/registry/invitation-proposals/{id}/confirm", tag = "registry",
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Proposal), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
#[post("/registry/invitation-proposals/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let p = state
        .db(move |conn| invitations::confirm(conn, &ctx, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Withdraw a live proposal with a motivation (the only way to ask for another draw for the
/// same ente, category and band); it stays readable, with its draw.
#[utoipa::path(post, path = "/api/v1/registry/invitation-proposals/{id}/withdraw", tag = "registry",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = Withdrawal,
    responses((status = 200, body = Proposal), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/registry/invitation-proposals/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Withdrawal>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let p = state
        .db(move |conn| invitations::withdraw(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(p))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        register,
        search,
        mine,
        get,
        update,
        categories,
        upload_document,
        list_documents,
        document_content,
        decide,
        history,
        record_award,
        propose,
        get_proposal,
        confirm,
        withdraw,
    ),
    tags((name = "registry", description = "Albo degli operatori economici: registration, categories, documents, qualification, invitations (art. 49, art. 50)"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register)
        .service(search)
        .service(mine)
        .service(get)
        .service(update)
        .service(categories)
        .service(
            web::resource("/registry/operatori/{id}/documenti")
                .app_data(web::PayloadConfig::new(documents::MAX_DOCUMENT_BYTES))
                .route(web::post().to(upload_document))
                .route(web::get().to(list_documents)),
        )
        .service(document_content)
        .service(decide)
        .service(history)
        .service(record_award)
        .service(propose)
        .service(get_proposal)
        .service(confirm)
        .service(withdraw);
}
