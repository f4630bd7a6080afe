//! The audit writer. Every state change calls [`record`] inside the same transaction as the
//! change itself, so an event exists if and only if the change committed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use uuid::Uuid;

use crate::schema::audit_events;

/// Who is acting, under which request, at which instant (from the injectable clock).
#[derive(Debug, Clone)]
pub struct AuditCtx {
    pub actor: Option<Uuid>,
    /// The server's id of the request (or the name of the job: `scheduler`, `sequencer`).
    pub request_id: String,
    /// The `x-request-id` the client sent, sanitised; never a substitute for `request_id`.
    pub client_request_id: Option<String>,
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
    /// Hidden from the ente's listings until this instant; `None`: visible at once.
    pub from: Option<DateTime<Utc>>,
    /// Hidden from the ente's listings until the *current* submission deadline of this tender
    /// (a rettifica may extend it after the event was recorded); `from` then records the
    /// deadline in force at the time.
    pub until_deadline_of: Option<Uuid>,
    /// The actor is never shown in an API listing (art. 88: who asks a clarification stays
    /// anonymous to the stazione appaltante). The row keeps it for the platform's operator.
    pub actor_hidden: bool,
}

impl Visibility {
    /// An event about a bid on `bando`: shown to the ente once the tender's deadline has passed.
    pub fn after_deadline(bando: Uuid, deadline: Option<DateTime<Utc>>) -> Self {
        Self {
            from: deadline,
            until_deadline_of: Some(bando),
            actor_hidden: false,
        }
    }

    /// An event whose actor the ente must never learn.
    pub fn anonymous_actor() -> Self {
        Self {
            actor_hidden: true,
            ..Self::default()
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
            audit_events::client_request_id.eq(&ctx.client_request_id),
            audit_events::details.eq(event.details),
            audit_events::visible_from.eq(visibility.from),
            audit_events::actor_hidden.eq(visibility.actor_hidden),
            audit_events::sealed_until_deadline_of.eq(visibility.until_deadline_of),
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
    pub client_request_id: Option<String>,
    pub details: serde_json::Value,
}

/// Whether an event is visible to the ente at `now`: an event sealed until a tender's deadline
/// once that tender's current deadline has passed (a tender without a deadline never took a
/// bid: hidden), any other once `visible_from` (if set) has passed. The tenders' table is read
/// by name: it belongs to `bando`, above this crate, and only its deadline is needed.
fn visible_at(now: DateTime<Utc>) -> diesel::expression::SqlLiteral<Bool> {
    // Formatted, not bound: a bound literal cannot be boxed into a typed filter here, and the
    // instant is ours (RFC 3339 from the clock), never user input.
    let now = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    diesel::dsl::sql::<Bool>(&format!(
        "(CASE WHEN audit_events.sealed_until_deadline_of IS NULL \
              THEN audit_events.visible_from IS NULL OR audit_events.visible_from <= '{now}'::timestamptz \
              ELSE EXISTS (SELECT 1 FROM bandi b WHERE b.id = audit_events.sealed_until_deadline_of \
                           AND b.submission_deadline <= '{now}'::timestamptz) END)"
    ))
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
        .filter(visible_at(now))
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

/// What an auditor narrows the ente's trail to (issue 13: the portal's `/ente/registro`);
/// every field optional, all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailFilter {
    /// `from <= occurred_at`.
    pub from: Option<DateTime<Utc>>,
    /// `occurred_at < to`.
    pub to: Option<DateTime<Utc>>,
    /// Events by this user. An event whose actor is hidden (art. 88) never matches: a filter
    /// on the actor must not reveal who asked a clarification.
    pub actor: Option<Uuid>,
    /// Exactly this action code.
    pub action: Option<String>,
    /// Events about this tender: the tender itself, its lots, bids and clarifications (their
    /// `details.bando_id`) and its envelopes.
    pub bando: Option<Uuid>,
}

/// Whether an event is about tender `bando`. Envelope events carry only the envelope's id, so
/// the envelopes' table (offerte's) is read by name, as [`visible_at`] reads the tenders'.
fn about_tender(bando: Uuid) -> diesel::expression::SqlLiteral<Bool> {
    // A Uuid formats as hex and dashes only: nothing a caller can inject.
    diesel::dsl::sql::<Bool>(&format!(
        "(audit_events.object_id = '{bando}' OR audit_events.details->>'bando_id' = '{bando}' \
          OR (audit_events.object_type = 'busta' AND audit_events.object_id IN \
              (SELECT e.id::text FROM envelopes e WHERE e.bando_id = '{bando}'::uuid)))"
    ))
}

/// [`list_for_ente`] narrowed by `filter`: the same visibility (events not yet visible left
/// out, hidden actors blanked), oldest first, keyset-paginated by id.
pub fn list_for_ente_filtered(
    conn: &mut PgConnection,
    ente: Uuid,
    filter: &TrailFilter,
    after_id: i64,
    limit: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_events::table
        .filter(audit_events::ente_id.eq(ente))
        .filter(audit_events::id.gt(after_id))
        .filter(visible_at(now))
        .into_boxed();
    if let Some(f) = filter.from {
        q = q.filter(audit_events::occurred_at.ge(f));
    }
    if let Some(t) = filter.to {
        q = q.filter(audit_events::occurred_at.lt(t));
    }
    if let Some(a) = filter.actor {
        q = q
            .filter(audit_events::actor_user_id.eq(a))
            .filter(audit_events::actor_hidden.eq(false));
    }
    if let Some(a) = &filter.action {
        q = q.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(b) = filter.bando {
        q = q.filter(about_tender(b));
    }
    let rows: Vec<(AuditRow, bool)> = q
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
