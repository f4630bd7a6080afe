//! The OpenAPI 3.1 document, generated from the handlers and types. `docs/openapi.json` is a
//! snapshot of it; a test fails when the snapshot is stale (`make openapi` refreshes it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Opaque token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Centrale",
        description = "E-procurement for Italian centrali di committenza (D.Lgs. 36/2023). \
                       Errors are application/problem+json with a stable `code` and an Italian `detail`.",
        license(name = "EUPL-1.2")
    ),
    modifiers(&BearerAuth),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::auth::login,
        routes::auth::logout,
        routes::auth::me,
        routes::auth::register,
        routes::enti::create,
        routes::enti::list,
        routes::enti::get,
        routes::enti::members,
        routes::enti::set_authority_profile,
        routes::enti::record_qualification,
        routes::enti::qualifications,
        routes::users::create,
        routes::users::list,
        routes::users::grant,
        routes::users::revoke,
        routes::users::deactivate,
        routes::users::end_sessions,
        routes::users::issue_password_reset,
        routes::auth::change_password,
        routes::auth::reset_password,
        routes::audit::list,
    ),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, logout, supplier sign-up"),
        (name = "enti", description = "Member authorities served by the centrale"),
        (name = "users", description = "Officials and their roles"),
        (name = "audit", description = "The audit trail"),
    )
)]
pub struct ApiDoc;

/// Each area keeps its own `Doc` next to its routes; they are merged here.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes::registry::Doc::openapi());
    doc.merge(routes::bandi::Doc::openapi());
    doc.merge(routes::tools::Doc::openapi());
    doc.merge(routes::legal_table::Doc::openapi());
    doc.merge(routes::aggiudicazione::Doc::openapi());
    doc.merge(routes::oscuramento::Doc::openapi());
    doc.merge(routes::offerte::Doc::openapi());
    doc.merge(routes::caricamenti::Doc::openapi());
    doc.merge(routes::log::Doc::openapi());
    doc.merge(routes::documents::Doc::openapi());
    doc.merge(routes::bundle::Doc::openapi());
    doc.merge(routes::ocds::Doc::openapi());
    doc
}

/// The document as committed in `docs/openapi.json`.
pub fn pretty_json() -> String {
    let mut s = document().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
