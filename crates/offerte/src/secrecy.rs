//! Events about bids: recorded at the time, with the tender's ente, and shown to the ente only
//! once the tender's submission deadline has passed (`db::audit::Visibility::after_deadline`).
//! Before the deadline no official learns who bid or how many did (issue 9, finding 1).

use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent, Visibility};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::bandi;
use crate::OfferteError;

/// Records `action` on a bid of tender `bando`, hidden from the ente until its deadline.
pub fn record_bid_event(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    bando: Uuid,
    action: &str,
    object_id: String,
    details: serde_json::Value,
) -> Result<(), OfferteError> {
    let (ente, deadline): (Uuid, Option<DateTime<Utc>>) = bandi::table
        .find(bando)
        .select((bandi::ente_id, bandi::submission_deadline))
        .first(conn)?;
    record_bid_event_on(conn, ctx, bando, ente, deadline, action, object_id, details)
}

/// [`record_bid_event`] when the caller has just read the tender's ente and deadline (a
/// submission's commit): the same event, one query fewer.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_bid_event_on(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    bando: Uuid,
    ente: Uuid,
    deadline: Option<DateTime<Utc>>,
    action: &str,
    object_id: String,
    details: serde_json::Value,
) -> Result<(), OfferteError> {
    audit::record_with(
        conn,
        ctx,
        AuditEvent {
            action,
            object_type: "offerta",
            object_id,
            ente_id: Some(ente),
            details,
        },
        Visibility::after_deadline(bando, deadline),
    )?;
    Ok(())
}
