use accounts::lifecycle::{self, PasswordReset};
use accounts::sessions::{self, Credentials, IssuedToken, PasswordChange, PasswordChanged};
use accounts::users::{self, NewSupplierAccount, Registration, User};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

/// Log in with email and password; returns an opaque bearer token with its expiry.
/// Failed attempts are throttled per account and per client address (429 `too_many_attempts`
/// with `Retry-After`, the same for an unknown email); a flood of logins waits for a hashing
/// slot and may get 503 `hashing_busy` with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = IssuedToken), (status = 401, body = Problem), (status = 400, body = Problem),
              (status = 429, body = Problem), (status = 503, body = Problem)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    rid: RequestId,
    req: HttpRequest,
    body: web::Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(None, &rid);
    let ttl = state.token_ttl;
    let guard = state.accounts.clone();
    let address = guard.client_address(&req);
    let permit = guard.hashing.enter().await?;
    let issued = state
        .db(move |conn| {
            let _permit = permit;
            sessions::login(conn, &ctx, &body, ttl, &guard.policy, address.as_deref())
        })
        .await?;
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

/// The answer to a self-registration, the same whether or not the email had an account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationAccepted {
    pub detail: String,
}

/// A supplier (operatore economico) opens its own account. The answer is 202 and the same
/// whether the email is new (the account is created; log in with it) or already has an
/// account (nothing is created and its owner is told by e-mail), so it tells no one which
/// addresses have an account. The account id comes with the login (`user_id`).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = NewSupplierAccount,
    responses((status = 202, body = RegistrationAccepted), (status = 422, body = Problem), (status = 503, body = Problem)))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    rid: RequestId,
    body: web::Json<NewSupplierAccount>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(None, &rid);
    let permit = state.accounts.hashing.enter().await?;
    let outcome = state
        .db(move |conn| {
            let _permit = permit;
            users::register_supplier(conn, &ctx, &body)
        })
        .await?;
    // Deliberately not matched into the answer.
    let (Registration::Created(_) | Registration::EmailTaken) = outcome;
    Ok(HttpResponse::Accepted().json(RegistrationAccepted {
        detail: "Richiesta ricevuta. Se l'indirizzo non era registrato l'account è attivo: accedere con \
                 email e password. Se lo era, al titolare è stato inviato un avviso per e-mail."
            .into(),
    }))
}

/// Change one's own password (current and new). Every other session of the account ends; the
/// one used for this call stays open.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    security(("bearer" = [])),
    responses((status = 200, body = PasswordChanged), (status = 401, body = Problem), (status = 422, body = Problem),
              (status = 429, body = Problem), (status = 503, body = Problem)))]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    rid: RequestId,
    req: HttpRequest,
    auth: Auth,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(Some(auth.principal.user_id), &rid);
    let guard = state.accounts.clone();
    let address = guard.client_address(&req);
    let permit = guard.hashing.enter().await?;
    let changed = state
        .db(move |conn| {
            let _permit = permit;
            sessions::change_password(
                conn,
                &ctx,
                &auth.principal,
                &auth.token,
                &body,
                &guard.policy,
                address.as_deref(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(changed))
}

/// Set a new password with the one-time code an admin had sent by e-mail. The code works once,
/// before it expires; every session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth", request_body = PasswordReset,
    responses((status = 204), (status = 422, body = Problem), (status = 503, body = Problem)))]
#[post("/auth/password-reset")]
pub async fn reset_password(
    state: web::Data<AppState>,
    rid: RequestId,
    body: web::Json<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let ctx = state.audit_ctx(None, &rid);
    let permit = state.accounts.hashing.enter().await?;
    state
        .db(move |conn| {
            let _permit = permit;
            lifecycle::reset_password(conn, &ctx, &body)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
