//! The legal table in force on a day, public (issue 10 point 8): every number the platform
//! applies, with its unit, article and comma, source and the dates it holds between, so a
//! supplier or an auditor can check a refusal against the law without reading code.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LegalTableQuery {
    /// A day, `YYYY-MM-DD` (default: today in Europe/Rome).
    pub date: Option<String>,
}

/// The version of the table in force on `date` and each of its rules.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LegalTableView {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub version_from: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub version_until: Option<NaiveDate>,
    pub version_source: &'static str,
    /// `{key, value, unit, citation, article, comma, source, effective_from, effective_until}`.
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<domain::legal::Entry>,
}

/// The legal table in force on a day: every rule with its value, unit, article and comma,
/// source and effective dates.
#[utoipa::path(get, path = "/api/v1/tools/legal-table", tag = "tools", params(LegalTableQuery),
    responses((status = 200, body = LegalTableView), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[get("/tools/legal-table")]
pub async fn legal_table(
    state: web::Data<AppState>,
    query: web::Query<LegalTableQuery>,
) -> Result<HttpResponse, ApiError> {
    let date = match query.into_inner().date {
        None => domain::deadlines::rome_date(state.clock.now()),
        Some(text) => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "date_invalid",
                "La data va indicata come AAAA-MM-GG",
            )
            .with_field("date")
        })?,
    };
    let table = domain::legal::LegalTable::at(date);
    Ok(HttpResponse::Ok().json(LegalTableView {
        date,
        version_from: table.effective_from,
        version_until: table.effective_until,
        version_source: table.source,
        rules: table.entries(),
    }))
}

#[derive(OpenApi)]
#[openapi(paths(legal_table))]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(legal_table);
}
