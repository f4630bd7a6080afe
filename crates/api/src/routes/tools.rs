//! Routes of this area (stub; filled in by its issue).

use actix_web::web;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi()]
pub struct Doc;

/// Mounted under `/api/v1`.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
