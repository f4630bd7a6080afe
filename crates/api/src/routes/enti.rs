use accounts::enti::{self, Ente, NewEnte};
use accounts::qualification::{self, AuthorityProfileInput, NewQualification, Qualification};
use accounts::users::{self, User};
use actix_web::{get, post, put, web, HttpResponse};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

/// Register a member authority (admin only).
#[utoipa::path(post, path = "/api/v1/enti", tag = "enti", request_body = NewEnte, security(("bearer" = [])),
    responses((status = 201, body = Ente), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/enti")]
pub async fn create(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    body: web::Json<NewEnte>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let ente = state
        .db(move |conn| enti::create(conn, &ctx, &auth.principal, &body))
        .await?;
    Ok(HttpResponse::Created().json(ente))
}

/// List the member authorities (officials only).
#[utoipa::path(get, path = "/api/v1/enti", tag = "enti", security(("bearer" = [])), params(accounts::listing::Page),
    responses((status = 200, body = Vec<Ente>), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
#[get("/enti")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    page: web::Query<accounts::listing::Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let found = state.db(move |conn| enti::list(conn, &auth.principal, page)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, path = "/api/v1/enti/{id}", tag = "enti", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Ente), (status = 404, body = Problem)))]
#[get("/enti/{id}")]
pub async fn get(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let ente = state.db(move |conn| enti::get(conn, &auth.principal, id)).await?;
    Ok(HttpResponse::Ok().json(ente))
}

/// The officials holding a role in this ente (its own officials and admins only).
#[utoipa::path(get, path = "/api/v1/enti/{id}/members", tag = "enti", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<User>), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/enti/{id}/members")]
pub async fn members(state: web::Data<AppState>, auth: Auth, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = state.db(move |conn| users::members(conn, &auth.principal, id)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Set the ente's kind of authority (art. 14 c.1 lett. b-c) and its qualification by law
/// (art. 63 c.4). Admin only; audited.
#[utoipa::path(put, path = "/api/v1/enti/{id}/authority-profile", tag = "enti", request_body = AuthorityProfileInput,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Ente), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/enti/{id}/authority-profile")]
pub async fn set_authority_profile(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<AuthorityProfileInput>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let ente = state
        .db(move |conn| qualification::set_profile(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(ente))
}

/// Record the ente's qualification for one sector (art. 63, Allegato II.4), or its loss
/// (`level: null`). Records are kept; the latest per sector is in force. Admin only; audited.
#[utoipa::path(post, path = "/api/v1/enti/{id}/qualifications", tag = "enti", request_body = NewQualification,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = Qualification), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/enti/{id}/qualifications")]
pub async fn record_qualification(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<NewQualification>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let record = state
        .db(move |conn| qualification::record(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Created().json(record))
}

/// Every qualification record of the ente, oldest first (officials).
#[utoipa::path(get, path = "/api/v1/enti/{id}/qualifications", tag = "enti", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Qualification>), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
#[get("/enti/{id}/qualifications")]
pub async fn qualifications(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = state
        .db(move |conn| qualification::history(conn, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(found))
}
