//! The evaluation and award workflow on the database (issue 6): admissions of envelope A with
//! soccorso istruttorio (art. 101), the commission (art. 93) and its raw coefficients, the
//! economic phase with the automatic exclusion (art. 54, Allegato II.2) or the OEPV totals,
//! the art. 110 check, the award (proposal → award → efficacy after the requirements check →
//! standstill, art. 17–18), art. 90 communications and art. 36 access.
//!
//! The arithmetic is the crate's pure engine ([`crate::evaluate_anomaly`],
//! [`crate::compute_technical_scores`], [`crate::evaluate_oepv`], [`crate::ranking`]); this module
//! only reads the bids, stores every input and report, and moves the tender's state through
//! `bando::service::transition`. Every write runs in one transaction with its audit event.
//!
//! Limitation: the seal's `bids` carry no lot, so tenders with lots are refused
//! (`lots_not_supported`) until bids name their lot.

pub mod access;
pub mod award;
pub mod commission;
pub mod error;
pub mod evaluation;
pub mod model;
pub mod schema;
pub mod admission;

use accounts::{Principal, UserKind};
use bando::store::{self as bstore, BandoRow};
use bando::{State, TransitionRequest};
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use uuid::Uuid;

pub use error::ProcedureError;
pub use model::*;

use schema::{agg_art110, agg_participants, agg_soccorso, bids, notifications_outbox, openings, users};

pub(crate) type Result<T> = std::result::Result<T, ProcedureError>;

/// The tender, with the lots check.
pub(crate) fn tender(conn: &mut PgConnection, id: Uuid) -> Result<BandoRow> {
    let row = bstore::find(conn, id)?;
    if !bstore::lots(conn, id)?.is_empty() {
        return Err(ProcedureError::conflict(
            "lots_not_supported",
            "Le offerte non indicano ancora il lotto: la valutazione per lotti non è disponibile",
        ));
    }
    Ok(row)
}

/// The RUP of the tender's ente (or an admin): the seggio di gara and the award.
pub(crate) fn require_rup(who: &Principal, row: &BandoRow) -> Result<()> {
    bando::service::require_manager(who, row.ente_id).map_err(|_| ProcedureError::Forbidden)
}

/// Officials of the ente (any role) and admins.
pub(crate) fn is_insider(who: &Principal, row: &BandoRow) -> bool {
    who.kind == UserKind::Official && (who.is_admin() || who.belongs_to(row.ente_id))
}

pub(crate) fn opened(conn: &mut PgConnection, bando: Uuid, kind: &str) -> Result<bool> {
    let n: i64 = openings::table
        .filter(openings::bando_id.eq(bando))
        .filter(openings::kind.eq(kind))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub(crate) fn require_opened(conn: &mut PgConnection, bando: Uuid, kind: &str) -> Result<()> {
    if opened(conn, bando, kind)? {
        Ok(())
    } else {
        Err(ProcedureError::conflict("envelope_not_opened", format!("La busta {kind} non è ancora stata aperta")))
    }
}

/// One participant row per active bid, created when the evaluation starts.
pub(crate) fn sync_participants(conn: &mut PgConnection, bando: Uuid) -> Result<()> {
    let active: Vec<(Uuid, Uuid)> = bids::table
        .filter(bids::bando_id.eq(bando))
        .filter(bids::withdrawn_at.is_null())
        .select((bids::id, bids::bidder_id))
        .load(conn)?;
    for (bid, bidder) in active {
        diesel::insert_into(agg_participants::table)
            .values((
                agg_participants::bando_id.eq(bando),
                agg_participants::bidder_id.eq(bidder),
                agg_participants::bid_id.eq(bid),
                agg_participants::status.eq("pending"),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// Moves `opening` to `evaluation` (the RUP starts examining the bids).
pub(crate) fn enter_evaluation(conn: &mut PgConnection, ctx: &AuditCtx, who: &Principal, row: &BandoRow) -> Result<()> {
    match row.state() {
        State::Evaluation => Ok(()),
        State::Opening => {
            bando::service::transition(conn, ctx, who, row.id, &TransitionRequest { to: State::Evaluation.as_str().into(), reason: None })?;
            Ok(())
        }
        other => Err(ProcedureError::conflict(
            "not_in_evaluation",
            format!("La valutazione si svolge dopo l'apertura; lo stato del bando è «{other}»"),
        )),
    }
}

pub(crate) fn event(conn: &mut PgConnection, ctx: &AuditCtx, row: &BandoRow, action: &str, details: serde_json::Value) -> Result<()> {
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action,
            object_type: "bando",
            object_id: row.id.to_string(),
            ente_id: Some(row.ente_id),
            details,
        },
    )?;
    Ok(())
}

/// An art. 90 communication, written to the outbox in the caller's transaction.
pub(crate) fn notify(conn: &mut PgConnection, ctx: &AuditCtx, row: &BandoRow, user: Uuid, subject: &str, body: &str) -> Result<()> {
    let email: String = users::table.find(user).select(users::email).first(conn)?;
    diesel::insert_into(notifications_outbox::table)
        .values((
            notifications_outbox::id.eq(Uuid::new_v4()),
            notifications_outbox::recipient_user_id.eq(Some(user)),
            notifications_outbox::recipient_address.eq(email),
            notifications_outbox::subject.eq(subject),
            notifications_outbox::body.eq(body),
            notifications_outbox::object_type.eq("bando"),
            notifications_outbox::object_id.eq(row.id.to_string()),
            notifications_outbox::created_at.eq(ctx.at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Excludes a participant with its reason and phase; audit event and art. 90 communication.
pub(crate) fn exclude(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &BandoRow,
    bidder: Uuid,
    phase: &str,
    reason: &str,
) -> Result<()> {
    diesel::update(agg_participants::table.find((row.id, bidder)))
        .set((
            agg_participants::status.eq("excluded"),
            agg_participants::excluded_phase.eq(Some(phase)),
            agg_participants::reason.eq(Some(reason)),
            agg_participants::decided_by.eq(ctx.actor),
            agg_participants::decided_at.eq(Some(ctx.at)),
        ))
        .execute(conn)?;
    event(conn, ctx, row, "aggiudicazione.esclusione", serde_json::json!({ "bidder_id": bidder, "phase": phase, "reason": reason }))?;
    notify(
        conn,
        ctx,
        row,
        bidder,
        &format!("Esclusione dalla gara «{}» (art. 90)", row.oggetto),
        &format!("La Sua offerta è stata esclusa (fase: {phase}). Motivo: {reason}"),
    )
}

/// Deadline effects, applied whenever the procedure is touched: a soccorso istruttorio not
/// answered in time excludes the bidder (art. 101 c.1); so do art. 110 explanations not given
/// within their term.
pub(crate) fn sweep(conn: &mut PgConnection, ctx: &AuditCtx, row: &BandoRow) -> Result<()> {
    // Deadline effects are the platform's, not the caller's.
    let ctx = &AuditCtx { actor: None, ..ctx.clone() };
    let expired: Vec<(Uuid, Uuid, DateTime<Utc>)> = agg_soccorso::table
        .filter(agg_soccorso::bando_id.eq(row.id))
        .filter(agg_soccorso::outcome.is_null())
        .filter(agg_soccorso::answered_at.is_null())
        .filter(agg_soccorso::deadline.le(ctx.at))
        .select((agg_soccorso::id, agg_soccorso::bidder_id, agg_soccorso::deadline))
        .load(conn)?;
    for (id, bidder, deadline) in expired {
        let reason = format!(
            "art. 101 c.1: nessuna risposta al soccorso istruttorio entro il termine ({})",
            domain::deadlines::rome_rfc3339(deadline)
        );
        diesel::update(agg_soccorso::table.find(id))
            .set((
                agg_soccorso::outcome.eq(Some("expired")),
                agg_soccorso::outcome_reason.eq(Some(reason.as_str())),
                agg_soccorso::outcome_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        exclude(conn, ctx, row, bidder, "soccorso", &reason)?;
    }
    let expired: Vec<(Uuid, Uuid)> = agg_art110::table
        .filter(agg_art110::bando_id.eq(row.id))
        .filter(agg_art110::outcome.is_null())
        .filter(agg_art110::answered_at.is_null())
        .filter(agg_art110::deadline.le(ctx.at))
        .select((agg_art110::id, agg_art110::bidder_id))
        .load(conn)?;
    for (id, bidder) in expired {
        let reason = "art. 110 c.3: spiegazioni sull'offerta anormalmente bassa non fornite entro il termine";
        diesel::update(agg_art110::table.find(id))
            .set((
                agg_art110::outcome.eq(Some("excluded")),
                agg_art110::outcome_reason.eq(Some(reason)),
                agg_art110::outcome_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        exclude(conn, ctx, row, bidder, "art110", reason)?;
    }
    Ok(())
}

/// The whole procedure as the ente's officials see it (suppliers see their own rows).
pub fn view(conn: &mut PgConnection, ctx: &AuditCtx, who: &Principal, bando: Uuid) -> Result<Procedura> {
    let row = tender(conn, bando)?;
    let insider = is_insider(who, &row);
    if !insider {
        let mine: i64 = agg_participants::table
            .filter(agg_participants::bando_id.eq(bando))
            .filter(agg_participants::bidder_id.eq(who.user_id))
            .count()
            .get_result(conn)?;
        if mine == 0 {
            return Err(ProcedureError::Forbidden);
        }
    }
    conn.transaction(|conn| {
        if matches!(row.state(), State::Opening | State::Evaluation) {
            sweep(conn, ctx, &row)?;
        }
        model::load(conn, &row, ctx.at, if insider { None } else { Some(who.user_id) })
    })
}

/// Below the EU threshold on the day of publication (art. 14 c.7): no standstill (art. 55 c.2),
/// and the automatic exclusion of art. 54 may apply.
pub(crate) fn below_threshold(row: &BandoRow) -> bool {
    let day = domain::deadlines::rome_date(row.published_at.unwrap_or(row.created_at));
    domain::legal::LegalTable::at(day).is_below_eu_threshold(row.contract_type().legal(), row.base_amount)
}

/// The best offer still in the race: the first of the stored ranking not excluded since.
pub(crate) fn best(conn: &mut PgConnection, bando: Uuid) -> Result<Option<Uuid>> {
    let ranking: Option<Option<serde_json::Value>> = schema::agg_evaluations::table
        .find(bando)
        .select(schema::agg_evaluations::ranking)
        .first(conn)
        .optional()?;
    let Some(Some(serde_json::Value::Array(lines))) = ranking else {
        return Ok(None);
    };
    let admitted: Vec<Uuid> = agg_participants::table
        .filter(agg_participants::bando_id.eq(bando))
        .filter(agg_participants::status.eq("admitted"))
        .select(agg_participants::bidder_id)
        .load(conn)?;
    Ok(lines
        .iter()
        .filter_map(|l| l["bidder_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()))
        .find(|b| admitted.contains(b)))
}
