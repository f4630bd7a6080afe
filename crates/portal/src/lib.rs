//! The server-rendered portal: public pages and the suppliers' area, in Italian, with
//! Bootstrap Italia. It calls the same domain functions as the REST API (never the API over
//! HTTP), and maps their errors once, through the API's mapping, to a page.
//!
//! Every page works without JavaScript; the only script that matters is the in-browser
//! sealing of envelopes (`assets/js/seal.js`), for which `centrale seal` is the no-JS path.

pub mod assets;
pub mod chrome;
pub mod error;
pub mod forms;
pub mod labels;
pub mod pages;
pub mod session;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App};

pub use error::PortalError;

/// Mounts the portal's routes (at `/`); the API keeps `/api`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(assets::serve);
    pages::configure(cfg);
}

/// The API and the portal in one application: what `centrale serve` and the tests run.
pub fn app(
    state: api::AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    api::app_with(state, configure, web::to(error::not_found))
}
