//! The bearer-token extractor. Handlers that take [`Auth`] are closed to anonymous callers
//! (401); what each principal may do is then decided by the domain functions.

use std::future::Future;
use std::pin::Pin;

use accounts::{sessions, Principal};
use actix_web::{web, FromRequest, HttpRequest};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Auth {
    pub principal: Principal,
    pub token: String,
}

pub fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = header.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim().to_string())
}

/// Resolves the bearer token, if any, to its principal: `Ok(None)` when no token is sent,
/// 401 when one is sent but is unknown, expired or revoked.
fn resolve(req: &HttpRequest) -> Pin<Box<dyn Future<Output = Result<Option<Auth>, ApiError>>>> {
    let token = bearer(req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let (Some(token), Some(state)) = (token, state) else {
            return Ok(None);
        };
        let now = state.clock.now();
        let lookup = token.clone();
        let principal = state.db(move |conn| sessions::authenticate(conn, &lookup, now)).await?;
        Ok(Some(Auth { principal, token }))
    })
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let resolving = resolve(req);
        Box::pin(async move { resolving.await?.ok_or_else(ApiError::unauthenticated) })
    }
}

/// The caller if a bearer token is sent (a bad token is still 401), anonymous otherwise:
/// for public endpoints whose answer widens with who is asking.
pub struct MaybeAuth(pub Option<Principal>);

impl FromRequest for MaybeAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let resolving = resolve(req);
        Box::pin(async move { Ok(MaybeAuth(resolving.await?.map(|a| a.principal))) })
    }
}
