use accounts::lifecycle::{self, Deactivation, ResetIssued, RoleRevocation, SessionsEnded};
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
    let permit = state.accounts.hashing.enter().await?;
    let user = state
        .db(move |conn| {
            let _permit = permit;
            users::create_official(conn, &ctx, &auth.principal, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(user))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(accounts::listing::Page),
    responses((status = 200, body = Vec<User>), (status = 400, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    page: web::Query<accounts::listing::Page>,
) -> Result<HttpResponse, ApiError> {
    let page = page.into_inner();
    let found = state.db(move |conn| users::list(conn, &auth.principal, page)).await?;
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

/// Revoke one active role grant (admin only); the holder loses it at the next request.
/// The last active admin's admin grant cannot be revoked (409 `last_admin`).
#[utoipa::path(post, path = "/api/v1/users/{id}/roles/revoke", tag = "users", request_body = RoleRevocation,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/users/{id}/roles/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<RoleRevocation>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let user = state
        .db(move |conn| lifecycle::revoke_role(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Deactivate an account (admin only, with a reason): it cannot log in, its sessions end, its
/// data stay. The last active admin cannot be deactivated (409 `last_admin`).
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivate", tag = "users", request_body = Deactivation,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/users/{id}/deactivate")]
pub async fn deactivate(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
    body: web::Json<Deactivation>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let user = state
        .db(move |conn| lifecycle::deactivate(conn, &ctx, &auth.principal, id, &body))
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// End every open session of an account (admin only); it may log in again.
#[utoipa::path(post, path = "/api/v1/users/{id}/sessions/end", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = SessionsEnded), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[post("/users/{id}/sessions/end")]
pub async fn end_sessions(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let ended = state
        .db(move |conn| lifecycle::end_sessions(conn, &ctx, &auth.principal, id))
        .await?;
    Ok(HttpResponse::Ok().json(ended))
}

/// Send the account a one-time password-reset link by e-mail (admin only); the admin never
/// sees the code. A newer reset supersedes an older unused one.
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202, body = ResetIssued), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
#[post("/users/{id}/password-reset")]
pub async fn issue_password_reset(
    state: web::Data<AppState>,
    rid: RequestId,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let id = id.into_inner();
    let guard = state.accounts.clone();
    let issued = state
        .db(move |conn| {
            lifecycle::issue_password_reset(conn, &ctx, &auth.principal, id, guard.reset_ttl, &guard.public_url)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(issued))
}
