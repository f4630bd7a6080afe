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

/// The portal's session cookie: the same opaque token as a bearer token, kept where page
/// scripts cannot read it (HttpOnly).
pub const SESSION_COOKIE: &str = "centrale_sessione";
/// The header a page script sends with the session cookie on every unsafe request.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The anti-CSRF token of a session: derived from the session token, which never leaves the
/// HttpOnly cookie, so a page on another origin can neither read nor compute it, and no
/// second secret has to be stored or expired.
pub fn csrf_token(session_token: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"centrale-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Whether `sent` is the CSRF token of this session.
pub fn csrf_matches(session_token: &str, sent: &str) -> bool {
    secret_eq(&csrf_token(session_token), sent)
}

/// Compares two secrets in constant time (for equal lengths; a length says nothing here:
/// every token of one kind has the same), so the time taken tells nothing of how much of a
/// guess was right.
pub fn secret_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The session token from the portal cookie, for API calls made by the portal's own scripts.
/// An unsafe method needs the CSRF header as well, or the cookie alone would let any other
/// site make the browser act for its user.
fn cookie_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let token = cookie.value().to_string();
    if token.is_empty() {
        return Ok(None);
    }
    let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    if !safe {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !csrf_matches(&token, sent) {
            return Err(ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "csrf_invalid",
                "Richiesta rifiutata: manca il codice di sicurezza della pagina (ricaricare la pagina e riprovare)",
            ));
        }
    }
    Ok(Some(token))
}

/// Resolves the bearer token (or, without one, the portal's session cookie), if any, to its
/// principal: `Ok(None)` when no token is sent, 401 when one is sent but is unknown, expired
/// or revoked.
fn resolve(req: &HttpRequest) -> Pin<Box<dyn Future<Output = Result<Option<Auth>, ApiError>>>> {
    let token = match bearer(req) {
        Some(t) => Ok(Some(t)),
        None => cookie_token(req),
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let (Some(token), Some(state)) = (token?, state) else {
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
