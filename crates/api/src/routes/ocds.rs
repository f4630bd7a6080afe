//! Open data in OCDS 1.1 (docs/ocds.md): the release package of one published tender and the
//! paginated feed of every published tender. Public, no login, and the same for everyone: a
//! token is ignored, so an official never gets through here what the public may not read.
//! Thin handlers over `documents::ocds`.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use documents::ocds::OcdsError;
use serde::Deserialize;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

impl From<OcdsError> for ApiError {
    fn from(e: OcdsError) -> Self {
        match e {
            OcdsError::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, e.code(), e.to_string()),
            OcdsError::Invalid { ref field, .. } => {
                let field = field.clone();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()).with_field(field)
            }
            OcdsError::Upstream { .. } | OcdsError::Database(_) => {
                tracing::error!(error = %e, "ocds: reading failed");
                ApiError::internal()
            }
        }
    }
}

/// A page of the feed.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Opaque cursor from the previous page (`links.next`, or the `Link` header).
    pub cursor: Option<String>,
    /// Releases per page, 1–100 (default 20).
    pub limit: Option<i64>,
}

#[derive(OpenApi)]
#[openapi(
    paths(release_package, releases),
    tags((name = "ocds", description = "Open data: OCDS 1.1 release packages of published tenders (bids, lots and pagination extensions)"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(release_package).service(releases);
}

/// The tender's OCDS 1.1 release package: one release with its current public state (tender,
/// lots, items with CPV, documents with their SHA-256, parties, amendments; after the deadline
/// the number of bids, never who bid; after the award the awardee and the award). Drafts and
/// procedures by invitation: 404. Public open data.
#[utoipa::path(get, path = "/api/v1/bandi/{id}/ocds", tag = "ocds", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/json", body = serde_json::Value),
              (status = 404, body = Problem)))]
#[get("/bandi/{id}/ocds")]
pub async fn release_package(state: web::Data<AppState>, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let now = state.clock.now();
    let publisher = state.ocds.clone();
    let package = state
        .db(move |conn| documents::ocds::release_package(conn, &publisher, id, now))
        .await?;
    Ok(HttpResponse::Ok().content_type("application/json").json(package))
}

/// The feed of published tenders as OCDS release packages, newest publication first, one
/// release per tender, keyset-paginated: `links.next` (and the `Link: <…>; rel="next"` header)
/// carries the opaque cursor of the next page, absent on the last one. A page read later never
/// repeats nor skips a tender because others were published meanwhile. Public open data.
#[utoipa::path(get, path = "/api/v1/ocds/releases", tag = "ocds", params(FeedQuery),
    responses((status = 200, content_type = "application/json", body = serde_json::Value,
               headers(("Link" = String, description = "The next page, `<url>; rel=\"next\"`, when there is one"))),
              (status = 422, body = Problem)))]
#[get("/ocds/releases")]
pub async fn releases(state: web::Data<AppState>, q: web::Query<FeedQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let now = state.clock.now();
    let publisher = state.ocds.clone();
    let page = state
        .db(move |conn| documents::ocds::feed(conn, &publisher, q.cursor, q.limit, now))
        .await?;
    let mut resp = HttpResponse::Ok();
    resp.content_type("application/json");
    if let Some(next) = page.package["links"]["next"].as_str() {
        resp.insert_header(("Link", format!("<{next}>; rel=\"next\"")));
    }
    Ok(resp.json(page.package))
}
