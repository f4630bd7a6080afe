use accounts::enti::{self, Ente, NewEnte};
use accounts::users::{self, User};
use actix_web::{get, post, web, HttpResponse};
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
#[utoipa::path(get, path = "/api/v1/enti", tag = "enti", security(("bearer" = [])),
    responses((status = 200, body = Vec<Ente>), (status = 401, body = Problem), (status = 403, body = Problem)))]
#[get("/enti")]
pub async fn list(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let found = state.db(move |conn| enti::list(conn, &auth.principal)).await?;
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
