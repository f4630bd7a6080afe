//! The pages, a module per area. Each handler: who is asking ([`Visitor`]), one domain call
//! on the blocking pool, a template.

pub mod account;
pub mod admin;
pub mod bid;
pub mod home;
pub mod info;
pub mod official;
pub mod public;
pub mod supplier;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::error::PortalError;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    home::configure(cfg);
    account::configure(cfg);
    admin::configure(cfg);
    official::configure(cfg);
    bid::configure(cfg);
    info::configure(cfg);
    supplier::configure(cfg);
    public::configure(cfg);
}

/// A page as HTML, with the visitor's pre-login CSRF cookie when it is new.
pub fn render(visitor: &Visitor, page: &impl Template) -> Result<HttpResponse, PortalError> {
    render_status(visitor, page, actix_web::http::StatusCode::OK)
}

/// As [`render`], with another status (a form shown again with its errors is 422).
pub fn render_status(
    visitor: &Visitor,
    page: &impl Template,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, PortalError> {
    let body = page.render()?;
    let mut res = HttpResponse::build(status);
    if let Some(c) = visitor.cookie_to_set() {
        res.cookie(c);
    }
    Ok(res.content_type("text/html; charset=utf-8").body(body))
}

/// After a successful form: 303 to the page that shows the result (Post/Redirect/Get, so a
/// reload or a double click does not send the form again).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to.to_string()))
        .finish()
}
