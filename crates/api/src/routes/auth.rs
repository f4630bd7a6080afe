use accounts::sessions::{self, Credentials, IssuedToken};
use accounts::users::{self, NewSupplierAccount, User};
use actix_web::{get, post, web, HttpResponse};

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

/// Log in with email and password; returns an opaque bearer token with its expiry.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = IssuedToken), (status = 401, body = Problem), (status = 400, body = Problem)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    rid: RequestId,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(None, &rid);
    let ttl = state.token_ttl;
    let issued = state.db(move |conn| sessions::login(conn, &ctx, &body, ttl)).await?;
    Ok(HttpResponse::Ok().json(issued))
}

/// Revoke the token used for this call.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, rid: RequestId, auth: Auth) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    state.db(move |conn| sessions::logout(conn, &ctx, &auth.token)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I: the account and its roles.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = Problem)))]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let id = auth.principal.user_id;
    let user = state.db(move |conn| users::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// A supplier (operatore economico) opens its own account.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = NewSupplierAccount,
    responses((status = 201, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    rid: RequestId,
    body: web::Json<NewSupplierAccount>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(None, &rid);
    let user = state
        .db(move |conn| users::register_supplier(conn, &ctx, &body))
        .await?;
    Ok(HttpResponse::Created().json(user))
}
