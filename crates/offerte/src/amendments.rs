//! Issue 4 point 6 for sealed bids: a rettifica published after a bid was submitted flags
//! that bid until its supplier confirms it or replaces an envelope, and each affected
//! supplier is told so through the notifications outbox.
//!
//! A bid "stands since" its latest envelope or its latest confirmation, whichever is later;
//! the rettifiche that need it confirmed are `bando::hooks::amendments_after(since)`.

use chrono::{DateTime, Utc};
use db::audit::AuditCtx;
use diesel::dsl::max;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde::Serialize;
use uuid::Uuid;

use crate::schema::{
    bandi, bando_versioni, bid_amendment_notices, bid_confirmations, bids, envelopes, notifications_outbox, operatori,
};
use crate::OfferteError;

const NOTIFY_LOCK: i64 = 0x5EA1_0006;

/// (tender, version, published at, tender object, submission deadline).
type VersionRow = (Uuid, i32, DateTime<Utc>, String, Option<DateTime<Utc>>);

/// A rettifica the supplier has not yet answered with a confirmation or a new envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PendingAmendment {
    /// The tender version (`/public/bandi/{id}/rettifiche`).
    pub version: i32,
    pub published_at: DateTime<Utc>,
}

/// Since when the bid stands as its supplier last stated it: its latest envelope or its
/// latest confirmation. `None` for a bid without envelopes (never stored in practice).
pub fn bid_since(conn: &mut PgConnection, bid_id: Uuid) -> Result<Option<DateTime<Utc>>, OfferteError> {
    let last_envelope: Option<DateTime<Utc>> = envelopes::table
        .filter(envelopes::bid_id.eq(bid_id))
        .select(max(envelopes::received_at))
        .first(conn)?;
    let last_confirmation: Option<DateTime<Utc>> = bid_confirmations::table
        .filter(bid_confirmations::bid_id.eq(bid_id))
        .select(max(bid_confirmations::confirmed_at))
        .first(conn)?;
    Ok(last_envelope.max(last_confirmation))
}

/// The rettifiche this bid must still answer (empty: nothing to confirm).
pub fn pending(conn: &mut PgConnection, bando_id: Uuid, bid_id: Uuid) -> Result<Vec<PendingAmendment>, OfferteError> {
    let Some(since) = bid_since(conn, bid_id)? else {
        return Ok(Vec::new());
    };
    let list = bando::hooks::amendments_after(conn, bando_id, since).map_err(OfferteError::other_area)?;
    Ok(list
        .into_iter()
        .map(|a| PendingAmendment {
            version: a.version,
            published_at: a.published_at,
        })
        .collect())
}

/// The supplier confirms its active bid as it stands after the rettifiche (before the
/// deadline). Recorded in `bid_confirmations` and audited (`offerte.bid_confirmed`).
/// Refused with 409 `nothing_to_confirm` when no rettifica is pending.
pub(crate) fn confirm_locked(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: Uuid,
    bando_id: Uuid,
    bid_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<PendingAmendment>, OfferteError> {
    let pending = pending(conn, bando_id, bid_id)?;
    let Some(last) = pending.last() else {
        return Err(OfferteError::conflict(
            "nothing_to_confirm",
            "L'offerta non richiede conferma: nessuna rettifica è stata pubblicata dopo la sua presentazione",
        ));
    };
    let id = Uuid::new_v4();
    diesel::insert_into(bid_confirmations::table)
        .values((
            bid_confirmations::id.eq(id),
            bid_confirmations::bid_id.eq(bid_id),
            bid_confirmations::bando_id.eq(bando_id),
            bid_confirmations::bidder_id.eq(who),
            bid_confirmations::version.eq(last.version),
            bid_confirmations::confirmed_at.eq(now),
        ))
        .execute(conn)?;
    let ctx = AuditCtx { at: now, ..ctx.clone() };
    // With the ente, shown to it only after the deadline (`crate::secrecy`).
    crate::secrecy::record_bid_event(
        conn,
        &ctx,
        bando_id,
        "offerte.bid_confirmed",
        bid_id.to_string(),
        serde_json::json!({
            "bando_id": bando_id,
            "confirmation_id": id,
            "versions": pending.iter().map(|p| p.version).collect::<Vec<_>>(),
        }),
    )?;
    Ok(pending)
}

/// Writes one notification (notifications_outbox) per supplier whose active bid on a tender
/// still open predates a rettifica requiring confirmation, once per (tender, version,
/// supplier). Run by the sequencer tick; safe with several servers (advisory lock + the
/// notices' primary key). Returns how many notifications were written.
pub fn notify_bidders(conn: &mut PgConnection, at: DateTime<Utc>) -> Result<usize, OfferteError> {
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(NOTIFY_LOCK)
            .execute(conn)?;
        let versions: Vec<VersionRow> = bando_versioni::table
            .inner_join(bandi::table.on(bandi::id.eq(bando_versioni::bando_id)))
            .filter(bando_versioni::requires_bid_confirmation.eq(true))
            .filter(bandi::state.eq("published"))
            .filter(bandi::submission_deadline.gt(at))
            .order((bando_versioni::bando_id, bando_versioni::version))
            .select((
                bando_versioni::bando_id,
                bando_versioni::version,
                bando_versioni::published_at,
                bandi::oggetto,
                bandi::submission_deadline,
            ))
            .load(conn)?;
        let mut written = 0;
        for (bando_id, version, published_at, oggetto, deadline) in versions {
            let candidates: Vec<(Uuid, Uuid)> = bids::table
                .filter(bids::bando_id.eq(bando_id))
                .filter(bids::withdrawn_at.is_null())
                .filter(bids::created_at.lt(published_at))
                .select((bids::id, bids::bidder_id))
                .load(conn)?;
            for (bid_id, bidder) in candidates {
                let done: i64 = bid_amendment_notices::table
                    .find((bando_id, version, bidder))
                    .count()
                    .get_result(conn)?;
                if done > 0 || bid_since(conn, bid_id)?.is_some_and(|s| s >= published_at) {
                    continue;
                }
                let address: Option<String> = operatori::table
                    .filter(operatori::owner_user_id.eq(bidder))
                    .select(operatori::pec)
                    .first(conn)
                    .optional()?;
                let address = match address {
                    Some(pec) => pec,
                    None => crate::schema::users::table
                        .find(bidder)
                        .select(crate::schema::users::email)
                        .first(conn)?,
                };
                let deadline = deadline
                    .map(|d| domain::deadlines::to_rome(d).format("%d/%m/%Y %H:%M").to_string())
                    .unwrap_or_default();
                let published = domain::deadlines::to_rome(published_at).format("%d/%m/%Y %H:%M");
                let notification = Uuid::new_v4();
                diesel::insert_into(notifications_outbox::table)
                    .values((
                        notifications_outbox::id.eq(notification),
                        notifications_outbox::recipient_user_id.eq(Some(bidder)),
                        notifications_outbox::recipient_address.eq(&address),
                        notifications_outbox::subject.eq(format!(
                            "Rettifica del bando «{oggetto}»: confermare o sostituire l'offerta"
                        )),
                        notifications_outbox::body.eq(format!(
                            "Il bando «{oggetto}» è stato rettificato il {published} (versione {version}).\n\
                             L'offerta presentata prima della rettifica va confermata o sostituita entro il termine \
                             di presentazione delle offerte ({deadline})."
                        )),
                        notifications_outbox::object_type.eq("bando"),
                        notifications_outbox::object_id.eq(bando_id.to_string()),
                        notifications_outbox::created_at.eq(at),
                    ))
                    .execute(conn)?;
                diesel::insert_into(bid_amendment_notices::table)
                    .values((
                        bid_amendment_notices::bando_id.eq(bando_id),
                        bid_amendment_notices::version.eq(version),
                        bid_amendment_notices::bidder_id.eq(bidder),
                        bid_amendment_notices::bid_id.eq(bid_id),
                        bid_amendment_notices::notification_id.eq(notification),
                        bid_amendment_notices::created_at.eq(at),
                    ))
                    .execute(conn)?;
                // The notice names a bidder: the ente sees it once the deadline has passed.
                let ctx = AuditCtx {
                    actor: None,
                    request_id: "sequencer".into(),
                    client_request_id: None,
                    at,
                };
                crate::secrecy::record_bid_event(
                    conn,
                    &ctx,
                    bando_id,
                    "offerte.rettifica_notified",
                    bid_id.to_string(),
                    serde_json::json!({
                        "bando_id": bando_id,
                        "version": version,
                        "bidder_id": bidder,
                        "notification_id": notification,
                    }),
                )?;
                written += 1;
            }
        }
        Ok(written)
    })
}
