//! Logging in and out, and a supplier opening its own account: the API's functions, with the
//! session in an HttpOnly cookie instead of a bearer token.

use accounts::sessions::{self, Credentials};
use accounts::users::{self, NewSupplierAccount, Registration};
use accounts::UserKind;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::FieldErrors;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form)
        .service(login)
        .service(logout)
        .service(register_form)
        .service(register);
}

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    back_to: String,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
struct BackTo {
    ritorno: Option<String>,
}

/// Only a path on this site: a login link must not send anyone elsewhere afterwards.
fn local(back_to: Option<&str>) -> Option<String> {
    back_to
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .map(str::to_string)
}

#[get("/accedi")]
async fn login_form(visitor: Visitor, q: web::Query<BackTo>) -> Result<HttpResponse, PortalError> {
    let chrome = Chrome::new(&visitor, "Accedi", Section::Account).crumb("Accedi", None);
    let page = LoginPage {
        chrome,
        email: String::new(),
        back_to: local(q.ritorno.as_deref()).unwrap_or_default(),
        errors: FieldErrors::default(),
    };
    super::render(&visitor, &page)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    email: String,
    password: String,
    ritorno: Option<String>,
}

#[post("/accedi")]
async fn login(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PortalError> {
    visitor.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let ctx = state.audit_ctx(None, &rid);
    let ttl = state.token_ttl;
    let guard = state.accounts.clone();
    let address = guard.client_address(&req);
    let credentials = Credentials {
        email: form.email.clone(),
        password: form.password,
    };
    let outcome = async {
        let permit = guard.hashing.enter().await?;
        state
            .db(move |conn| {
                let _permit = permit;
                sessions::login(conn, &ctx, &credentials, ttl, &guard.policy, address.as_deref())
            })
            .await
    }
    .await;
    match outcome {
        Ok(issued) => {
            let now = state.clock.now();
            let token = issued.token.clone();
            let principal = state.db(move |conn| sessions::authenticate(conn, &token, now)).await?;
            let to = local(form.ritorno.as_deref()).unwrap_or_else(|| match principal.kind {
                UserKind::Supplier => "/fornitore".into(),
                UserKind::Official => "/".into(),
            });
            let mut res = super::see_other(&to);
            res.add_cookie(&visitor.session_cookie(&issued.token, issued.expires_at - now))
                .map_err(|_| PortalError::internal())?;
            Ok(res)
        }
        Err(e) if matches!(e.status.as_u16(), 400 | 401 | 422 | 429 | 503) => {
            let status = e.status;
            let chrome = Chrome::new(&visitor, "Accedi", Section::Account).crumb("Accedi", None);
            let page = LoginPage {
                chrome,
                email: form.email,
                back_to: local(form.ritorno.as_deref()).unwrap_or_default(),
                errors: FieldErrors::from_api(&e),
            };
            super::render_status(&visitor, &page, status)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// Ends the session server-side too (the token is revoked, not just forgotten).
#[post("/esci")]
async fn logout(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PortalError> {
    visitor.check_csrf(&form.csrf)?;
    if let (Some(token), Some(p)) = (visitor.token().map(str::to_string), visitor.principal.as_ref()) {
        let ctx = state.audit_ctx(Some(p.user_id), &rid);
        state.db(move |conn| sessions::logout(conn, &ctx, &token)).await?;
    }
    let mut res = super::see_other("/");
    res.add_cookie(&visitor.expired_session_cookie())
        .map_err(|_| PortalError::internal())?;
    Ok(res)
}

#[derive(Template)]
#[template(path = "account/register.html")]
struct RegisterPage {
    chrome: Chrome,
    full_name: String,
    email: String,
    errors: FieldErrors,
    done: bool,
}

fn register_chrome(visitor: &Visitor) -> Chrome {
    Chrome::new(visitor, "Registrazione dell'operatore economico", Section::Account).crumb("Registrazione", None)
}

#[get("/registrazione")]
async fn register_form(visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let page = RegisterPage {
        chrome: register_chrome(&visitor),
        full_name: String::new(),
        email: String::new(),
        errors: FieldErrors::default(),
        done: false,
    };
    super::render(&visitor, &page)
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    full_name: String,
    email: String,
    password: String,
    password_confirm: String,
}

/// The same answer whether or not the address had an account (as the API: nobody learns
/// which addresses are registered); the account, if new, is active at once.
#[post("/registrazione")]
async fn register(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, PortalError> {
    visitor.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let again = |errors: FieldErrors, status: StatusCode| {
        let page = RegisterPage {
            chrome: register_chrome(&visitor),
            full_name: form.full_name.clone(),
            email: form.email.clone(),
            errors,
            done: false,
        };
        super::render_status(&visitor, &page, status)
    };
    if form.password != form.password_confirm {
        let mut errors = FieldErrors::default();
        errors
            .by_field
            .insert("password_confirm".into(), "Le due password non coincidono".into());
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let ctx = state.audit_ctx(None, &rid);
    let body = NewSupplierAccount {
        email: form.email.clone(),
        full_name: form.full_name.clone(),
        password: form.password.clone(),
    };
    let outcome = async {
        let permit = state.accounts.hashing.enter().await?;
        state
            .db(move |conn| {
                let _permit = permit;
                users::register_supplier(conn, &ctx, &body)
            })
            .await
    }
    .await;
    match outcome {
        Ok(Registration::Created(_) | Registration::EmailTaken) => {
            let page = RegisterPage {
                chrome: register_chrome(&visitor),
                full_name: String::new(),
                email: form.email.clone(),
                errors: FieldErrors::default(),
                done: true,
            };
            super::render_status(&visitor, &page, StatusCode::ACCEPTED)
        }
        Err(e) if e.status.is_client_error() => again(FieldErrors::from_api(&e), e.status),
        Err(e) => Err(e.into()),
    }
}
