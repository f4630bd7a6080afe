//! The portal's one error type. Domain errors reach it already mapped by the API's edge
//! (`api::ApiError`: status, stable code, Italian message, offending fields), so a rule refused
//! on a page reads exactly as the API says it; here it only becomes a page or a redirect.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::chrome::Chrome;

#[derive(Debug, Clone)]
pub enum PortalError {
    /// A page explaining what went wrong, with the API's code.
    Page(api::ApiError),
    /// Login needed first: to the login page, then back to `back_to`.
    LoginRequired { back_to: String },
}

impl std::fmt::Display for PortalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortalError::Page(e) => write!(f, "{e}"),
            PortalError::LoginRequired { back_to } => write!(f, "login required for {back_to}"),
        }
    }
}

impl From<api::ApiError> for PortalError {
    fn from(e: api::ApiError) -> Self {
        PortalError::Page(e)
    }
}

impl From<askama::Error> for PortalError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "portal: template failed");
        PortalError::internal()
    }
}

impl PortalError {
    pub fn internal() -> Self {
        PortalError::Page(api::ApiError::internal())
    }

    pub fn csrf() -> Self {
        PortalError::Page(api::ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_invalid",
            "Modulo scaduto o inviato da un'altra pagina: ricaricare la pagina e riprovare. Nulla è stato registrato.",
        ))
    }

    pub fn login_required(back_to: &str) -> Self {
        PortalError::LoginRequired {
            back_to: back_to.to_string(),
        }
    }

    pub fn forbidden(message: &str) -> Self {
        PortalError::Page(api::ApiError::new(StatusCode::FORBIDDEN, "forbidden", message))
    }

    pub fn not_found(what: &str) -> Self {
        PortalError::Page(api::ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what}: pagina inesistente o non visibile"),
        ))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    code: &'a str,
    message: &'a str,
    violations: &'a [api::error::Violation],
}

/// The login page's address that comes back to `back_to` (a local path only).
pub fn login_url(back_to: &str) -> String {
    let local = back_to.starts_with('/') && !back_to.starts_with("//");
    let back = if local { back_to } else { "/" };
    format!("/accedi?ritorno={}", crate::forms::url_encode(back))
}

impl ResponseError for PortalError {
    fn status_code(&self) -> StatusCode {
        match self {
            PortalError::Page(e) => e.status,
            PortalError::LoginRequired { .. } => StatusCode::SEE_OTHER,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PortalError::LoginRequired { back_to } => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, login_url(back_to)))
                .finish(),
            PortalError::Page(e) => {
                let title = match e.status.as_u16() {
                    404 => "Pagina non trovata",
                    403 => "Operazione non consentita",
                    401 => "Accesso richiesto",
                    409 => "Operazione non possibile ora",
                    422 | 400 => "Dati non validi",
                    429 | 503 => "Servizio momentaneamente occupato",
                    _ => "Errore",
                };
                let page = ErrorPage {
                    chrome: Chrome::bare(title),
                    status: e.status.as_u16(),
                    code: &e.code,
                    message: &e.message,
                    violations: &e.errors,
                };
                let body = page.render().unwrap_or_else(|_| e.message.clone());
                let mut res = HttpResponse::build(e.status);
                if let Some(s) = e.retry_after {
                    res.insert_header((header::RETRY_AFTER, s.to_string()));
                }
                res.content_type("text/html; charset=utf-8").body(body)
            }
        }
    }
}

/// The default service: API paths keep their problem+json 404, every other path gets a page.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    if req.path().starts_with("/api/") || req.path() == "/api" {
        return api::not_found().await.map_err(Into::into);
    }
    Err(PortalError::not_found("Indirizzo").into())
}
