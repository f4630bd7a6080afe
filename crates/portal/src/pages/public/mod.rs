//! The public pages (issue 12 point 2): the tenders and their search, a tender's page, the
//! outcomes, the calculators and the transparency log. Nothing here needs a login; what a
//! logged-in visitor sees more (tenders by invitation) the domain decides.

pub mod bandi;
pub mod calcolatori;
pub mod esiti;
pub mod trasparenza;

use actix_web::web;
use serde::de::DeserializeOwned;

use crate::error::PortalError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    bandi::configure(cfg);
    esiti::configure(cfg);
    calcolatori::configure(cfg);
    trasparenza::configure(cfg);
}

/// A page's query string into its form. The forms' fields are all text, so only a broken
/// encoding fails: a page saying so (400), never the framework's bare error.
pub(crate) fn query<T: DeserializeOwned>(req: &actix_web::HttpRequest) -> Result<T, PortalError> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| {
            PortalError::Page(api::ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "query_invalid",
                "Indirizzo della ricerca non valido: ripetere la ricerca dal modulo.",
            ))
        })
}

/// An empty field of a GET form is no filter.
pub(crate) fn filled(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// One `name=value` pair of a link, encoded.
pub(crate) fn pair(name: &str, value: &str) -> String {
    format!("{name}={}", crate::forms::url_encode(value))
}

/// Path ids: a malformed one is simply a page that does not exist.
pub(crate) fn uuid(raw: &str, what: &str) -> Result<uuid::Uuid, PortalError> {
    uuid::Uuid::parse_str(raw).map_err(|_| PortalError::not_found(what))
}
