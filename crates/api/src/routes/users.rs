use accounts::principal::Grant;
use accounts::users::{self, NewOfficial, User};
use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

/// Create an official with roles (admin only).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewOfficial, security(("bearer" = [])),
    responses((status = 201, body = User), (status = 403, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    body: web::Json<NewOfficial>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let user = state
        .db(move |conn| users::create_official(conn, &ctx, &auth.principal, &body))
        .await?;
    Ok(HttpResponse::Created().json(user))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>), (status = 403, body = Problem)))]
#[get("/users")]
pub async fn list(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let found = state.db(move |conn| users::list(conn, &auth.principal)).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// Grant a role to an official (admin only).
#[utoipa::path(post, path = "/api/v1/users/{id}/roles", tag = "users", request_body = Grant, security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
#[post("/users/{id}/roles")]
pub async fn grant(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Grant>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let user = state
        .db(move |conn| users::grant_role(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}
