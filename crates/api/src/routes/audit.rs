use accounts::trail;
use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Return events with an id greater than this (keyset pagination).
    pub after: Option<i64>,
    /// At most this many (1–500, default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub ente_id: Option<Uuid>,
    /// The server's id of the request that caused the event.
    pub request_id: String,
    /// The `x-request-id` the client sent, if any (sanitised, at most 128 characters): the
    /// client's own correlation, never the server's id.
    pub client_request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Pass as `after` for the next page; absent at the end.
    pub next_after: Option<i64>,
}

/// The ente's audit trail, oldest first (its auditors and the centrale's admins).
#[utoipa::path(get, path = "/api/v1/enti/{id}/audit-events", tag = "audit", security(("bearer" = [])),
    params(("id" = Uuid, Path), Page),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/enti/{id}/audit-events")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<Uuid>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let limit = page.limit.unwrap_or(100);
    let after = page.after.unwrap_or(0);
    let now = state.clock.now();
    let rows = state
        .db(move |conn| trail::for_ente(conn, &auth.principal, id, after, limit, now))
        .await?;
    let full = rows.len() as i64 >= limit.clamp(1, trail::MAX_PAGE);
    let next_after = if full { rows.last().map(|r| r.id) } else { None };
    let events = rows
        .into_iter()
        .map(|r| AuditEventView {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_user_id: r.actor_user_id,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            ente_id: r.ente_id,
            request_id: r.request_id,
            client_request_id: r.client_request_id,
            details: r.details,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuditPage { events, next_after }))
}
