//! Who is looking at a page: the portal's cookie session on the same accounts and tokens as
//! the API (`api::auth::SESSION_COOKIE`), and the anti-CSRF token every form carries.
//!
//! Logged in, the CSRF token derives from the session token (`api::auth::csrf_token`), which
//! the HttpOnly cookie keeps from scripts. Before login (the login and sign-up forms) a random
//! token lives in a cookie of its own and must come back in the form: another site can make
//! the browser post, but cannot read the cookie to fill the field.

use std::future::Future;
use std::pin::Pin;

use accounts::{sessions, Principal, UserKind};
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, FromRequest, HttpRequest};
use rand::RngCore;

use crate::error::PortalError;

pub use api::auth::SESSION_COOKIE;
pub const ANON_CSRF_COOKIE: &str = "centrale_csrf";

#[derive(Debug, Clone)]
pub struct Visitor {
    pub principal: Option<Principal>,
    /// The session token, when logged in.
    token: Option<String>,
    /// The pre-login CSRF token from its cookie, if the browser sent one.
    anon_csrf: Option<String>,
    /// A fresh pre-login token to set with this response (none was sent).
    fresh_anon_csrf: Option<String>,
    /// Whether cookies get `Secure`: the request came over HTTPS (directly, or through the
    /// trusted proxy of `[server] behind_proxy`).
    secure: bool,
}

impl Visitor {
    pub fn is_supplier(&self) -> bool {
        self.principal.as_ref().is_some_and(|p| p.kind == UserKind::Supplier)
    }

    pub fn is_official(&self) -> bool {
        self.principal.as_ref().is_some_and(|p| p.kind == UserKind::Official)
    }

    /// The token the page's forms (and scripts) must send back.
    pub fn csrf(&self) -> String {
        match (&self.token, &self.anon_csrf, &self.fresh_anon_csrf) {
            (Some(t), _, _) => api::auth::csrf_token(t),
            (None, Some(a), _) => a.clone(),
            (None, None, Some(f)) => f.clone(),
            (None, None, None) => String::new(),
        }
    }

    /// Refuses a form whose token is missing or wrong (403 `csrf_invalid`, nothing done).
    pub fn check_csrf(&self, sent: &str) -> Result<(), PortalError> {
        let ok = match (&self.token, &self.anon_csrf) {
            (Some(t), _) => api::auth::csrf_matches(t, sent),
            (None, Some(a)) => !a.is_empty() && api::auth::secret_eq(a, sent),
            (None, None) => false,
        };
        if ok {
            Ok(())
        } else {
            Err(PortalError::csrf())
        }
    }

    /// The signed-in principal, or a redirect to the login page (then back here).
    pub fn require(&self, back_to: &str) -> Result<&Principal, PortalError> {
        self.principal
            .as_ref()
            .ok_or_else(|| PortalError::login_required(back_to))
    }

    pub fn require_supplier(&self, back_to: &str) -> Result<&Principal, PortalError> {
        let p = self.require(back_to)?;
        if p.kind == UserKind::Supplier {
            Ok(p)
        } else {
            Err(PortalError::forbidden(
                "Questa sezione è riservata agli operatori economici",
            ))
        }
    }

    /// The centrale's operators only (the admin role); other officials and suppliers get 403.
    pub fn require_admin(&self, back_to: &str) -> Result<&Principal, PortalError> {
        let p = self.require(back_to)?;
        if p.is_admin() {
            Ok(p)
        } else {
            Err(PortalError::forbidden(
                "Questa sezione è riservata agli amministratori della centrale",
            ))
        }
    }

    /// Officials of any ente (RUP, commission, auditor, custodian) and the centrale's admins;
    /// what each may do on a tender is the domain's decision, page by page.
    pub fn require_official(&self, back_to: &str) -> Result<&Principal, PortalError> {
        let p = self.require(back_to)?;
        if p.kind == UserKind::Official {
            Ok(p)
        } else {
            Err(PortalError::forbidden(
                "Questa sezione è riservata al personale degli enti",
            ))
        }
    }

    /// This visitor as nobody in particular, if it is not logged in: a public page drawn for
    /// it carries no CSRF token and sets no cookie, so the same page serves every anonymous
    /// visitor from the public page cache (`api::public_cache`; public pages have no form
    /// that posts, and the login page sets its own token).
    pub fn anonymous(&self) -> Option<Visitor> {
        (self.principal.is_none() && self.token.is_none()).then_some(Visitor {
            principal: None,
            token: None,
            anon_csrf: None,
            fresh_anon_csrf: None,
            secure: self.secure,
        })
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The cookie to set with a page rendered for this visitor, if any.
    pub fn cookie_to_set(&self) -> Option<Cookie<'static>> {
        self.fresh_anon_csrf.as_ref().map(|t| {
            Cookie::build(ANON_CSRF_COOKIE, t.clone())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(self.secure)
                .finish()
        })
    }

    pub fn session_cookie(&self, token: &str, max_age: chrono::Duration) -> Cookie<'static> {
        Cookie::build(SESSION_COOKIE, token.to_string())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(time::Duration::seconds(max_age.num_seconds()))
            .finish()
    }

    pub fn expired_session_cookie(&self) -> Cookie<'static> {
        let mut c = Cookie::build(SESSION_COOKIE, "")
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .finish();
        c.make_removal();
        c
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn is_https(req: &HttpRequest, state: &api::AppState) -> bool {
    if state.accounts.behind_proxy {
        if let Some(proto) = req.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()) {
            return proto.eq_ignore_ascii_case("https");
        }
    }
    req.app_config().secure()
}

impl FromRequest for Visitor {
    type Error = PortalError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PortalError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<api::AppState>>().cloned();
        let token = req
            .cookie(SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|t| !t.is_empty());
        let anon_csrf = req
            .cookie(ANON_CSRF_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|t| t.len() == 32);
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(PortalError::internal)?;
            let secure = is_https(&req, &state);
            let principal = match token.clone() {
                None => None,
                Some(t) => {
                    let now = state.clock.now();
                    // An expired or revoked session is simply a visitor who is not logged in.
                    state.db(move |conn| sessions::authenticate(conn, &t, now)).await.ok()
                }
            };
            let token = principal.as_ref().and(token);
            let fresh_anon_csrf = (token.is_none() && anon_csrf.is_none()).then(random_token);
            Ok(Visitor {
                principal,
                token,
                anon_csrf,
                fresh_anon_csrf,
                secure,
            })
        })
    }
}
