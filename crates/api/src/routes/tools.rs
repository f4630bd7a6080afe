//! The public calculators: the same engine that evaluates tenders, open to RUPs and bidders
//! (no login), returning every intermediate value so anyone can check an outcome.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};
use aggiudicazione::{
    compute_economic_scores, evaluate_anomaly, AnomalyReport, AnomalyRequest, EconomicScoresReport,
    EconomicScoresRequest, EvalError,
};
use utoipa::OpenApi;

use crate::error::{ApiError, Problem};

impl From<EvalError> for ApiError {
    fn from(e: EvalError) -> Self {
        let mut out = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string());
        out.field = e.field();
        out
    }
}

/// Most offers a public calculator takes (issue 11, heavy inputs): far beyond any tender, and
/// small enough that the worst request (exact arithmetic, the concave formula's powers) answers
/// in bounded time. Decimal places are bounded by the engine (`MAX_INPUT_DECIMALS`, and
/// `MAX_ALPHA_DECIMALS` for the exponent).
pub const MAX_CALCULATOR_OFFERS: usize = 1000;

/// Shared with the portal's calculator pages, so both refuse the same sizes.
pub fn at_most_offers(n: usize, field: &str) -> Result<(), ApiError> {
    if n > MAX_CALCULATOR_OFFERS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_offers",
            format!("Al più {MAX_CALCULATOR_OFFERS} offerte per calcolo"),
        )
        .with_field(field));
    }
    Ok(())
}

/// Anomaly threshold (art. 54, Allegato II.2 methods A, B, C) with every intermediate value.
/// With fewer than 5 offers the answer says automatic exclusion does not apply. At most 1000
/// discounts (`too_many_offers`).
#[utoipa::path(post, path = "/api/v1/tools/anomaly-threshold", tag = "tools", request_body = AnomalyRequest,
    responses((status = 200, body = AnomalyReport), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[post("/tools/anomaly-threshold")]
pub async fn anomaly_threshold(body: web::Json<serde_json::Value>) -> Result<HttpResponse, ApiError> {
    // Parsed by the engine itself so an unknown method or a bad discount gets its own code.
    let request = AnomalyRequest::from_json(&body.to_string())?;
    at_most_offers(request.discounts.len(), "discounts")?;
    let report = web::block(move || evaluate_anomaly(&request)).await??;
    Ok(HttpResponse::Ok().json(report))
}

/// Economic scores by the tender's formula (linear, bilinear, concave, inverse proportional),
/// with coefficients, points and ranking. At most 1000 offers (`too_many_offers`).
#[utoipa::path(post, path = "/api/v1/tools/economic-scores", tag = "tools", request_body = EconomicScoresRequest,
    responses((status = 200, body = EconomicScoresReport), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[post("/tools/economic-scores")]
pub async fn economic_scores(body: web::Json<serde_json::Value>) -> Result<HttpResponse, ApiError> {
    let request = EconomicScoresRequest::from_json(&body.to_string())?;
    at_most_offers(request.offers.len(), "offers")?;
    let report = web::block(move || compute_economic_scores(&request)).await??;
    Ok(HttpResponse::Ok().json(report))
}

/// The public draw (`domain::draw`): from the purpose, the subject, the beacon (the signed
/// checkpoint recorded with the draw) and the candidates, the seed and the drawn order. Anyone
/// recomputes any draw of the platform with it; `centrale draw` does the same offline.
#[utoipa::path(post, path = "/api/v1/tools/draw", tag = "tools", request_body = domain::draw::DrawRequest,
    responses((status = 200, body = domain::draw::DrawResult), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[post("/tools/draw")]
pub async fn draw(body: web::Json<domain::draw::DrawRequest>) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let result = web::block(move || domain::draw::compute(&request))
        .await?
        .map_err(|(code, field, message)| {
            let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
            e.field = Some(field.to_string());
            e
        })?;
    Ok(HttpResponse::Ok().json(result))
}

#[derive(OpenApi)]
#[openapi(
    paths(anomaly_threshold, economic_scores, draw),
    tags((name = "tools", description = "Public calculators: anomaly threshold, economic scores, the public draw"))
)]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(anomaly_threshold).service(economic_scores).service(draw);
}
