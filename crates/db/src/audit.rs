//! The audit writer. Every state change calls [`record`] inside the same transaction as the
//! change itself, so an event exists if and only if the change committed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::audit_events;

/// Who is acting, under which request, at which instant (from the injectable clock).
#[derive(Debug, Clone)]
pub struct AuditCtx {
    pub actor: Option<Uuid>,
    pub request_id: String,
    pub at: DateTime<Utc>,
}

/// What changed.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    pub ente_id: Option<Uuid>,
    pub details: serde_json::Value,
}

pub fn record(conn: &mut PgConnection, ctx: &AuditCtx, event: AuditEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::occurred_at.eq(ctx.at),
            audit_events::actor_user_id.eq(ctx.actor),
            audit_events::action.eq(event.action),
            audit_events::object_type.eq(event.object_type),
            audit_events::object_id.eq(event.object_id),
            audit_events::ente_id.eq(event.ente_id),
            audit_events::request_id.eq(&ctx.request_id),
            audit_events::details.eq(event.details),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub ente_id: Option<Uuid>,
    pub request_id: String,
    pub details: serde_json::Value,
}

/// Events of one ente, oldest first, keyset-paginated by id.
pub fn list_for_ente(conn: &mut PgConnection, ente: Uuid, after_id: i64, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .filter(audit_events::ente_id.eq(ente))
        .filter(audit_events::id.gt(after_id))
        .order(audit_events::id.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}
