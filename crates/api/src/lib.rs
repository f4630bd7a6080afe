//! The one REST API of Centrale. Handlers are thin: extract, call one domain function on
//! a blocking thread, map the result. The same [`app`] serves `centrale serve` and the tests.

pub mod auth;
pub mod download;
pub mod error;
pub mod extract;
pub mod guard;
pub mod invitees;
pub mod openapi;
pub mod public_cache;
pub mod request_id;
pub mod routes;
pub mod scheduler;
pub mod security_headers;
pub mod settings;
pub mod state;
pub mod uploads;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{middleware, web, App, HttpResponse};
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, Problem};
pub use state::AppState;

/// 404 `route_not_found` as problem+json: the default of [`app`], and what the portal's
/// default answers under `/api`.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "Risorsa inesistente",
    ))
}

/// Mounts every route; used by [`app`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    use routes::*;
    cfg.service(health::healthz).service(health::readyz).service(
        web::scope("/api/v1")
            .service(docs::openapi)
            .service(auth::login)
            .service(auth::logout)
            .service(auth::me)
            .service(auth::register)
            .service(enti::create)
            .service(enti::list)
            .service(enti::get)
            .service(enti::members)
            .service(enti::set_authority_profile)
            .service(enti::record_qualification)
            .service(enti::qualifications)
            .service(audit::list)
            .service(users::create)
            .service(users::list)
            .service(users::grant)
            .service(users::revoke)
            .service(users::deactivate)
            .service(users::end_sessions)
            .service(users::issue_password_reset)
            .service(auth::change_password)
            .service(auth::reset_password)
            .configure(registry::configure)
            .configure(bandi::configure)
            .configure(tools::configure)
            .configure(routes::legal_table::configure)
            .configure(routes::aggiudicazione::configure)
            .configure(routes::oscuramento::configure)
            .configure(routes::offerte::configure)
            .configure(routes::caricamenti::configure)
            .configure(routes::log::configure)
            .configure(routes::documents::configure)
            .configure(routes::bundle::configure)
            .configure(routes::ocds::configure),
    );
}

/// For `HttpServer::on_connect`: replies go out as soon as they are written. A streamed
/// answer (a ciphertext download) ends with a small last chunk written on its own; with
/// Nagle's algorithm it waited for the client's delayed ACK, 40 ms, on every reused connection.
pub fn no_delay(conn: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    }
}

/// The whole application, with its middleware and extractor settings.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    app_with(state, |_| {}, web::to(not_found))
}

/// [`app`] with more routes after the API's (the portal, mounted at `/`) and another default
/// service: one App, so both share the state, the request ids and the security headers.
pub fn app_with<F, U>(
    state: AppState,
    extra: impl FnOnce(&mut web::ServiceConfig),
    default: F,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
>
where
    F: actix_service::IntoServiceFactory<U, ServiceRequest>,
    U: ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse, Error = actix_web::Error> + 'static,
    U::InitError: std::fmt::Debug,
{
    let swagger = SwaggerUi::new("/api/docs/{_:.*}").url("/api/v1/openapi.json", (*state.openapi).clone());
    App::new()
        .app_data(extract::json_config(state.max_json_bytes))
        .app_data(extract::path_config())
        .app_data(extract::query_config())
        .app_data(web::Data::new(state))
        .wrap(middleware::from_fn(public_cache::middleware))
        .wrap(middleware::from_fn(request_id::middleware))
        .wrap(middleware::from_fn(security_headers::middleware))
        .configure(configure)
        .service(web::redirect("/api/docs", "/api/docs/"))
        .service(swagger)
        .configure(extra)
        .default_service(default)
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepted_connections_send_without_waiting_for_an_ack() {
        actix_web::rt::System::new().block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let addr = listener.local_addr().expect("address");
            let client = actix_web::rt::net::TcpStream::connect(addr).await.expect("connect");
            assert!(!client.nodelay().expect("nodelay"), "Nagle is on by default");
            super::no_delay(&client, &mut actix_web::dev::Extensions::new());
            assert!(client.nodelay().expect("nodelay"));
        });
    }
}
