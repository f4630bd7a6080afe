use actix_web::{get, web, HttpResponse};

use crate::state::AppState;

/// This document.
#[get("/openapi.json")]
pub async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.openapi.as_ref())
}
