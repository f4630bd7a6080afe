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

/// Who may read an event in the ente-facing listings, and from when.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Visibility {
    /// Hidden from the ente's listings until this instant (a tender's submission deadline, for
    /// events that identify a bidder); `None`: visible at once.
    pub from: Option<DateTime<Utc>>,
    /// The actor is never shown in an API listing (art. 88: who asks a clarification stays
    /// anonymous to the stazione appaltante). The row keeps it for the platform's operator.
    pub actor_hidden: bool,
}

impl Visibility {
    /// An event about a bid: shown to the ente once the tender's deadline has passed.
    pub fn after_deadline(deadline: Option<DateTime<Utc>>) -> Self {
        Self {
            // A tender without a deadline accepts no bid; hide such an event for good.
            from: Some(deadline.unwrap_or(DateTime::<Utc>::MAX_UTC)),
            actor_hidden: false,
        }
    }

    /// An event whose actor the ente must never learn.
    pub fn anonymous_actor() -> Self {
        Self {
            from: None,
            actor_hidden: true,
        }
    }
}

pub fn record(conn: &mut PgConnection, ctx: &AuditCtx, event: AuditEvent<'_>) -> QueryResult<()> {
    record_with(conn, ctx, event, Visibility::default())
}

/// [`record`] with a [`Visibility`] other than "visible at once, actor shown".
pub fn record_with(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    event: AuditEvent<'_>,
    visibility: Visibility,
) -> QueryResult<()> {
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
            audit_events::visible_from.eq(visibility.from),
            audit_events::actor_hidden.eq(visibility.actor_hidden),
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

/// Events of one ente visible at `now`, oldest first, keyset-paginated by id. This is the one
/// ente-facing read of the trail (listing and CSV export): events not yet visible
/// ([`Visibility::from`] after `now`) are left out, hidden actors are blanked.
pub fn list_for_ente(
    conn: &mut PgConnection,
    ente: Uuid,
    after_id: i64,
    limit: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<AuditRow>> {
    let rows: Vec<(AuditRow, bool)> = audit_events::table
        .filter(audit_events::ente_id.eq(ente))
        .filter(audit_events::id.gt(after_id))
        .filter(audit_events::visible_from.is_null().or(audit_events::visible_from.le(now)))
        .order(audit_events::id.asc())
        .limit(limit)
        .select((AuditRow::as_select(), audit_events::actor_hidden))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(mut row, hidden)| {
            if hidden {
                row.actor_user_id = None;
            }
            row
        })
        .collect())
}
