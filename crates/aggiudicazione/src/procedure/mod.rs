//! The evaluation and award workflow on the database (issue 6): admissions of envelope A with
//! soccorso istruttorio (art. 101), the commission (art. 93) and its raw coefficients, the
//! economic phase with the automatic exclusion (art. 54, Allegato II.2) or the OEPV totals,
//! the art. 110 check, the award (proposal → requirements check → award, effective at once →
//! standstill, art. 17–18), art. 90 communications and art. 36 access.
//!
//! The arithmetic is the crate's pure engine ([`crate::evaluate_anomaly`],
//! [`crate::compute_technical_scores`], [`crate::evaluate_oepv`], [`crate::ranking`]); this module
//! only reads the bids, stores every input and report, and moves the tender's state through
//! `bando::service::procedure_transition`. Every write runs in one transaction with its audit event.
//!
//! Lots: a bid names its lot, and each lot is evaluated and decided on its own ([`Tender`],
//! scope = the lot); a tender with lots is refused without a lot (`lot_required`).

pub mod access;
pub mod admission;
pub mod award;
pub mod award_terms;
pub mod commission;
pub mod error;
pub mod evaluation;
pub mod exclusions;
pub mod model;
pub mod order;
pub mod public_outcome;
pub mod redaction;
pub mod schema;
mod scoped;
pub mod technical_values;
pub mod waiting;

use accounts::{Principal, UserKind};
use bando::store::{self as bstore, BandoRow};
use bando::{LotState, State};
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use uuid::Uuid;

pub use error::ProcedureError;
pub use model::*;

use schema::{agg_art110, agg_participants, agg_soccorso, bids, notifications_outbox, openings, users};

pub(crate) type Result<T> = std::result::Result<T, ProcedureError>;

/// What one evaluation is about: a tender without lots, or one lot of a tender (issue 6:
/// "each lot is decided separately"). Dereferences to the tender's row; [`Tender::scope`] is
/// the key of every `agg_*` row (the lot id, or the tender id).
#[derive(Debug, Clone)]
pub struct Tender {
    pub row: BandoRow,
    pub lot: Option<bstore::LottoRow>,
}

impl Tender {
    pub fn scope(&self) -> Uuid {
        self.lot.as_ref().map_or(self.row.id, |l| l.id)
    }

    /// The amount the offers are made on (the lot's, for a lot), net of safety costs.
    pub fn subject_amount(&self) -> rust_decimal::Decimal {
        match &self.lot {
            Some(l) => l.base_amount - l.safety_costs,
            None => self.row.base_amount - self.row.safety_costs,
        }
    }
}

impl std::ops::Deref for Tender {
    type Target = BandoRow;
    fn deref(&self) -> &BandoRow {
        &self.row
    }
}

/// The tender (scope = its id; refused with 409 `lot_required` when it has lots) or the lot
/// (scope = the lot's id) being evaluated.
pub(crate) fn tender(conn: &mut PgConnection, scope: Uuid) -> Result<Tender> {
    use bando::schema::bando_lotti;
    let of_lot: Option<Uuid> = bando_lotti::table
        .find(scope)
        .select(bando_lotti::bando_id)
        .first(conn)
        .optional()?;
    if let Some(bando) = of_lot {
        let row = bstore::find(conn, bando)?;
        let lot = bstore::lots(conn, bando)?.into_iter().find(|l| l.id == scope);
        return Ok(Tender { row, lot });
    }
    let row = bstore::find(conn, scope)?;
    if !bstore::lots(conn, scope)?.is_empty() {
        return Err(ProcedureError::conflict(
            "lot_required",
            "Il bando è diviso in lotti: ogni lotto si valuta separatamente (indicare il lotto, ?lotto=<id>)",
        ));
    }
    Ok(Tender { row, lot: None })
}

/// The scope of a request on tender `bando`: the tender itself, or its lot `lotto` (404 when
/// the lot is not one of the tender's).
pub fn scope(conn: &mut PgConnection, bando: Uuid, lotto: Option<Uuid>) -> Result<Uuid> {
    match lotto {
        None => Ok(bando),
        Some(l) => {
            if bstore::lots(conn, bando)?.iter().any(|x| x.id == l) {
                Ok(l)
            } else {
                Err(ProcedureError::NotFound { what: "Lotto" })
            }
        }
    }
}

/// The active bids of the scope (the lot's, or the tender's when it has no lots).
pub(crate) fn active_bids(conn: &mut PgConnection, t: &Tender) -> Result<Vec<(Uuid, Uuid)>> {
    let mut q = bids::table
        .filter(bids::bando_id.eq(t.row.id))
        .filter(bids::withdrawn_at.is_null())
        .select((bids::id, bids::bidder_id))
        .into_boxed();
    q = match &t.lot {
        Some(l) => q.filter(bids::lotto_id.eq(l.id)),
        None => q.filter(bids::lotto_id.is_null()),
    };
    Ok(q.load(conn)?)
}

/// The bidders with an active bid in `scope` (a lot, or the tender without lots): whom the
/// seggio examines there. Openings are per tender, so a page listing the opened envelopes of
/// a tender with lots narrows them to the lot's bidders with this.
pub fn scope_bidders(conn: &mut PgConnection, scope: Uuid) -> Result<Vec<Uuid>> {
    let t = tender(conn, scope)?;
    Ok(active_bids(conn, &t)?.into_iter().map(|(_, b)| b).collect())
}

/// Ids of the scope's active bids.
pub(crate) fn active_bid_ids(conn: &mut PgConnection, t: &Tender) -> Result<Vec<Uuid>> {
    Ok(active_bids(conn, t)?.into_iter().map(|(b, _)| b).collect())
}

/// Moves the scope: the tender's state for a tender without lots; for a lot, the lot's state
/// (`bando::service::lot_procedure_transition`), then the tender as far as bando's rules allow
/// (evaluation → proposed_award when no lot is active, → awarded when none is active or
/// proposed; every lot deserted makes the tender deserted in bando itself).
pub(crate) fn move_to(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    t: &Tender,
    to: State,
    reason: Option<&str>,
) -> Result<()> {
    let Some(lot) = &t.lot else {
        bando::service::procedure_transition(conn, ctx, who, t.row.id, to, reason)?;
        return Ok(());
    };
    let lot_to = match to {
        State::ProposedAward => LotState::ProposedAward,
        State::Awarded => LotState::Awarded,
        State::Deserted => LotState::Deserted,
        other => {
            return Err(ProcedureError::conflict(
                "illegal_transition",
                format!("Stato non previsto per un lotto: {other}"),
            ))
        }
    };
    bando::service::lot_procedure_transition(conn, ctx, who, t.row.id, lot.id, lot_to, reason)?;
    loop {
        let row = bstore::find(conn, t.row.id)?;
        let lots = bstore::lots(conn, t.row.id)?;
        let any = |states: &[&str]| lots.iter().any(|l| states.contains(&l.state.as_str()));
        let next = match row.state() {
            State::Evaluation if !any(&["active"]) => State::ProposedAward,
            State::ProposedAward if !any(&["active", "proposed_award"]) => State::Awarded,
            _ => return Ok(()),
        };
        bando::service::procedure_transition(conn, ctx, who, t.row.id, next, None)?;
    }
}

/// The RUP of the tender's ente (or an admin): the seggio di gara and the award.
pub(crate) fn require_rup(who: &Principal, row: &BandoRow) -> Result<()> {
    bando::service::require_manager(who, row.ente_id).map_err(|_| ProcedureError::Forbidden)
}

/// Officials of the ente (any role) and admins.
pub(crate) fn is_insider(who: &Principal, row: &BandoRow) -> bool {
    who.kind == UserKind::Official && (who.is_admin() || who.belongs_to(row.ente_id))
}

/// Whether envelope `kind` of the tender was opened (openings are per tender and kind, all
/// lots at once); `bando` is the tender's id.
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
        Err(ProcedureError::conflict(
            "envelope_not_opened",
            format!("La busta {kind} non è ancora stata aperta"),
        ))
    }
}

/// One participant row per active bid of the scope, created when the evaluation starts.
pub(crate) fn sync_participants(conn: &mut PgConnection, t: &Tender) -> Result<()> {
    let bando = t.scope();
    for (bid, bidder) in active_bids(conn, t)? {
        diesel::insert_into(agg_participants::table)
            .values((
                agg_participants::scope_id.eq(bando),
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
            // Two first decisions at once (two bidders admitted from two tabs) both read
            // `opening`: the second waits here for the first's row lock, then finds the tender
            // in evaluation already instead of trying the move again (409 `illegal_transition`).
            if bstore::lock(conn, row.id)?.state() == State::Evaluation {
                return Ok(());
            }
            bando::service::procedure_transition(conn, ctx, who, row.id, State::Evaluation, None)?;
            Ok(())
        }
        other => Err(ProcedureError::conflict(
            "not_in_evaluation",
            format!("La valutazione si svolge dopo l'apertura; lo stato del bando è «{other}»"),
        )),
    }
}

/// A decision: its audit event and, in the same transaction, a `decision` leaf of the seal's
/// log whose data carries the SHA-256 of the same `details` (issue 6 point 9;
/// `offerte::log::decision_leaf_data`). Every write of the procedure goes through here.
pub(crate) fn event(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &Tender,
    action: &str,
    mut details: serde_json::Value,
) -> Result<()> {
    if let (Some(lot), Some(map)) = (&row.lot, details.as_object_mut()) {
        map.insert("lotto_id".into(), serde_json::json!(lot.id));
        map.insert("lotto".into(), serde_json::json!(lot.numero));
    }
    let data = offerte::log::decision_leaf_data(row.id, action, ctx.at, &details);
    offerte::log::append_leaf(conn, offerte::log::kind::DECISION, Some(row.id), &data, ctx.at)?;
    audit_only(conn, ctx, row, action, details)
}

/// An audit event that is not a decision (a download under art. 36): no log leaf.
pub(crate) fn audit_only(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &BandoRow,
    action: &str,
    details: serde_json::Value,
) -> Result<()> {
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
pub(crate) fn notify(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &Tender,
    user: Uuid,
    subject: &str,
    body: &str,
) -> Result<()> {
    let subject = match &row.lot {
        Some(l) => format!("{subject} — lotto {} (CIG {})", l.numero, l.cig),
        None => subject.to_string(),
    };
    let email: String = users::table.find(user).select(users::email).first(conn)?;
    diesel::insert_into(notifications_outbox::table)
        .values((
            notifications_outbox::id.eq(Uuid::new_v4()),
            notifications_outbox::recipient_user_id.eq(Some(user)),
            notifications_outbox::recipient_address.eq(email),
            notifications_outbox::subject.eq(&subject),
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
    row: &Tender,
    bidder: Uuid,
    phase: &str,
    reason: &str,
) -> Result<()> {
    diesel::update(agg_participants::table.find((row.scope(), bidder)))
        .set((
            agg_participants::status.eq("excluded"),
            agg_participants::excluded_phase.eq(Some(phase)),
            agg_participants::reason.eq(Some(reason)),
            agg_participants::decided_by.eq(ctx.actor),
            agg_participants::decided_at.eq(Some(ctx.at)),
        ))
        .execute(conn)?;
    event(
        conn,
        ctx,
        row,
        "aggiudicazione.esclusione",
        serde_json::json!({ "bidder_id": bidder, "phase": phase, "reason": reason }),
    )?;
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
/// answered in time (art. 101 c.1), and art. 110 explanations not given within their term,
/// make the platform PROPOSE the exclusion; the RUP decides it (art. 30 c.3 lett. b,
/// [`exclusions`]).
pub(crate) fn sweep(conn: &mut PgConnection, ctx: &AuditCtx, row: &Tender) -> Result<()> {
    // Deadline effects are the platform's, not the caller's.
    let ctx = &AuditCtx {
        actor: None,
        ..ctx.clone()
    };
    let expired: Vec<(Uuid, Uuid, DateTime<Utc>)> = agg_soccorso::table
        .filter(agg_soccorso::scope_id.eq(row.scope()))
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
        exclusions::propose(conn, ctx, row, bidder, "soccorso", &reason)?;
    }
    let expired: Vec<(Uuid, Uuid)> = agg_art110::table
        .filter(agg_art110::scope_id.eq(row.scope()))
        .filter(agg_art110::outcome.is_null())
        .filter(agg_art110::answered_at.is_null())
        .filter(agg_art110::deadline.le(ctx.at))
        .select((agg_art110::id, agg_art110::bidder_id))
        .load(conn)?;
    for (id, bidder) in expired {
        let reason = "art. 110 c.3: spiegazioni sull'offerta anormalmente bassa non fornite entro il termine";
        diesel::update(agg_art110::table.find(id))
            .set((
                agg_art110::outcome.eq(Some("expired")),
                agg_art110::outcome_reason.eq(Some(reason)),
                agg_art110::outcome_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        exclusions::propose(conn, ctx, row, bidder, "art110", reason)?;
    }
    Ok(())
}

/// The whole procedure as the ente's officials see it (suppliers see their own rows).
pub fn view(conn: &mut PgConnection, ctx: &AuditCtx, who: &Principal, bando: Uuid) -> Result<Procedura> {
    let row = tender(conn, bando)?;
    let insider = is_insider(who, &row);
    if !insider {
        let mine: i64 = agg_participants::table
            .filter(agg_participants::scope_id.eq(bando))
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

/// Below the EU threshold on the day of publication (art. 14 c.7), for the kind of authority
/// on whose behalf the tender runs as fixed then (art. 14 c.1 lett. b-c): no standstill
/// (art. 55 c.2), and the automatic exclusion of art. 54 may apply.
pub(crate) fn below_threshold(conn: &mut PgConnection, row: &BandoRow) -> Result<bool> {
    let day = domain::deadlines::rome_date(row.published_at.unwrap_or(row.created_at));
    let authority = bando::store::authority_kind(conn, row)?;
    Ok(domain::legal::LegalTable::at(day).is_below_eu_threshold(
        row.contract_type().legal(),
        authority,
        row.base_amount,
    ))
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
        .filter(agg_participants::scope_id.eq(bando))
        .filter(agg_participants::status.eq("admitted"))
        .select(agg_participants::bidder_id)
        .load(conn)?;
    Ok(lines
        .iter()
        .filter_map(|l| l["bidder_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()))
        .find(|b| admitted.contains(b)))
}
