//! The outcome in the order of art. 17 c.5: proposal of award to the best offer still admitted →
//! the requirements of the proposed winner checked with evidence → the award by the RUP, which
//! is immediately effective → standstill (art. 18 c.3 and its exceptions) → ready for contract. Deserted and
//! all-excluded tenders reach their own end. Art. 90 communications go to every bidder.

use accounts::Principal;
use bando::State;
use db::audit::AuditCtx;
use diesel::prelude::*;
use uuid::Uuid;

use super::model::*;
use super::schema::{agg_art110, agg_awards, agg_evaluations, agg_participants, agg_requirements};
use super::{
    active_bid_ids, below_threshold, best, event, model, move_to, notify, require_rup, sweep, sync_participants,
    tender, ProcedureError, Result,
};

fn outcome(conn: &mut PgConnection, bando: Uuid) -> Result<Option<(String, Option<Uuid>)>> {
    Ok(agg_awards::table
        .find(bando)
        .select((agg_awards::outcome, agg_awards::winner_id))
        .first(conn)
        .optional()?)
}

fn everyone(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<Uuid>> {
    Ok(agg_participants::table
        .filter(agg_participants::scope_id.eq(bando))
        .order(agg_participants::bidder_id.asc())
        .select(agg_participants::bidder_id)
        .load(conn)?)
}

/// Proposal of award (RUP), or the end of a tender with no offer or no admissible offer.
pub fn propose(conn: &mut PgConnection, ctx: &AuditCtx, who: &Principal, bando: Uuid) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_rup(who, &row)?;
        if outcome(conn, bando)?.is_some() {
            return Err(ProcedureError::conflict(
                "outcome_exists",
                "L'esito della gara è già stato deciso",
            ));
        }
        if !matches!(
            row.state(),
            State::SubmissionsClosed | State::Opening | State::Evaluation
        ) {
            return Err(ProcedureError::conflict(
                "not_in_evaluation",
                format!("Lo stato del bando è «{}»", row.state()),
            ));
        }
        sync_participants(conn, &row)?;
        let all = everyone(conn, bando)?;
        if all.is_empty() {
            let note = "nessuna offerta presentata entro il termine";
            move_to(conn, ctx, who, &row, State::Deserted, Some(note))?;
            diesel::insert_into(agg_awards::table)
                .values((
                    agg_awards::scope_id.eq(bando),
                    agg_awards::outcome.eq("deserted"),
                    agg_awards::note.eq(Some(note)),
                ))
                .execute(conn)?;
            event(
                conn,
                ctx,
                &row,
                "aggiudicazione.deserta",
                serde_json::json!({ "note": note }),
            )?;
            let row = tender(conn, bando)?;
            return model::load(conn, &row, ctx.at, None);
        }
        sweep(conn, ctx, &row)?;
        super::exclusions::require_all_decided(conn, bando)?;
        let computed: Option<Option<chrono::DateTime<chrono::Utc>>> = agg_evaluations::table
            .find(bando)
            .select(agg_evaluations::computed_at)
            .first(conn)
            .optional()?;
        let admitted: i64 = agg_participants::table
            .filter(agg_participants::scope_id.eq(bando))
            .filter(agg_participants::status.ne("excluded"))
            .count()
            .get_result(conn)?;
        if admitted > 0 && computed.flatten().is_none() {
            return Err(ProcedureError::conflict(
                "evaluation_missing",
                "Le offerte non sono ancora state valutate",
            ));
        }
        let open: i64 = agg_art110::table
            .filter(agg_art110::scope_id.eq(bando))
            .filter(agg_art110::outcome.is_null())
            .count()
            .get_result(conn)?;
        if open > 0 {
            return Err(ProcedureError::conflict(
                "art110_pending",
                "C'è una verifica di anomalia (art. 110) in corso",
            ));
        }
        let Some(winner) = best(conn, bando)? else {
            let note = "tutte le offerte sono state escluse";
            move_to(conn, ctx, who, &row, State::Deserted, Some(note))?;
            diesel::insert_into(agg_awards::table)
                .values((
                    agg_awards::scope_id.eq(bando),
                    agg_awards::outcome.eq("all_excluded"),
                    agg_awards::note.eq(Some(note)),
                ))
                .execute(conn)?;
            event(
                conn,
                ctx,
                &row,
                "aggiudicazione.non_aggiudicata",
                serde_json::json!({ "note": note }),
            )?;
            for b in &all {
                notify(
                    conn,
                    ctx,
                    &row,
                    *b,
                    &format!("Esito della gara «{}» (art. 90)", row.oggetto),
                    "La gara non è stata aggiudicata: tutte le offerte sono state escluse.",
                )?;
            }
            let row = tender(conn, bando)?;
            return model::load(conn, &row, ctx.at, None);
        };
        move_to(conn, ctx, who, &row, State::ProposedAward, None)?;
        diesel::insert_into(agg_awards::table)
            .values((
                agg_awards::scope_id.eq(bando),
                agg_awards::outcome.eq("proposed"),
                agg_awards::winner_id.eq(Some(winner)),
                agg_awards::proposed_by.eq(Some(who.user_id)),
                agg_awards::proposed_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.proposta",
            serde_json::json!({ "winner_id": winner }),
        )?;
        // Issue 10 point 3 (h1): the awarded discount and contract amount (Method B second price).
        super::award_terms::record(conn, ctx, &row, winner)?;
        let row = tender(conn, bando)?;
        model::load(conn, &row, ctx.at, None)
    })
}

/// The standstill of art. 18 c.3 for this award: whether it applies, why (not), and its end.
/// The number is the one in force when the tender was published (a tender keeps the rules of
/// its publication: 35 days before the correttivo, 32 from 2024-12-31).
fn standstill(
    conn: &mut PgConnection,
    row: &super::Tender,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(bool, String, Option<chrono::DateTime<chrono::Utc>>)> {
    let received = active_bid_ids(conn, row)?.len();
    let admitted: i64 = agg_participants::table
        .filter(agg_participants::scope_id.eq(row.scope()))
        .filter(agg_participants::status.eq("admitted"))
        .count()
        .get_result(conn)?;
    let published = domain::deadlines::rome_date(row.published_at.unwrap_or(row.created_at));
    let days = domain::legal::LegalTable::at(published).after_deadline.standstill_days;
    let basis = bando::store::award_basis(conn, row.id)?;
    let exempt = if below_threshold(conn, row)? {
        Some("art. 18 c.3 lett. d (e art. 55 c.2): contratto di importo inferiore alle soglie europee".to_string())
    } else if basis.0 {
        Some("art. 18 c.3 lett. b: appalto basato su un accordo quadro".to_string())
    } else if basis.1 {
        Some("art. 18 c.3 lett. c: appalto specifico basato su un sistema dinamico di acquisizione".to_string())
    } else if received == 1 || admitted == 1 {
        let what = if received == 1 { "presentata" } else { "ammessa" };
        Some(format!(
            "art. 18 c.3 lett. a: una sola offerta {what}, senza impugnazioni tempestive del bando"
        ))
    } else {
        None
    };
    Ok(match exempt {
        Some(why) => (false, format!("termine dilatorio non applicabile — {why}"), None),
        None => {
            let end = domain::deadlines::add_calendar_days(at, days.value as u64);
            let why = format!(
                "{}: {} giorni dall'invio dell'ultima comunicazione dell'aggiudicazione (regola in vigore alla pubblicazione del bando, {published})",
                days.article, days.value
            );
            (true, why, Some(end))
        }
    })
}

/// The award (RUP), after the requirements of the proposed winner are verified and satisfied:
/// immediately effective (art. 17 c.5). Standstill computed (art. 18 c.3), art. 90
/// communications to every bidder.
pub fn award(conn: &mut PgConnection, ctx: &AuditCtx, who: &Principal, bando: Uuid) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_rup(who, &row)?;
        let Some((state, Some(winner))) = outcome(conn, bando)? else {
            return Err(ProcedureError::conflict("proposal_missing", "Manca la proposta di aggiudicazione"));
        };
        if state != "proposed" {
            return Err(ProcedureError::conflict("already_awarded", format!("Esito attuale: {state}")));
        }
        let checks: Vec<(String, bool)> = agg_requirements::table
            .filter(agg_requirements::scope_id.eq(bando))
            .select((agg_requirements::requirement, agg_requirements::satisfied))
            .load(conn)?;
        if checks.is_empty() {
            return Err(ProcedureError::conflict(
                "requirements_unchecked",
                "art. 17 c.5: l'aggiudicazione si adotta dopo la verifica dei requisiti dell'offerente proposto; nessun requisito verificato",
            ));
        }
        if let Some((r, _)) = checks.iter().find(|(_, ok)| !ok) {
            return Err(ProcedureError::conflict(
                "requirement_not_met",
                format!("Requisito non soddisfatto: {r}"),
            ));
        }
        super::redaction::require_decided(conn, &row)?;
        move_to(conn, ctx, who, &row, State::Awarded, None)?;
        let (applies, why, end) = standstill(conn, &row, ctx.at)?;
        diesel::update(agg_awards::table.find(bando))
            .set((
                agg_awards::outcome.eq("awarded"),
                agg_awards::awarded_by.eq(Some(who.user_id)),
                agg_awards::awarded_at.eq(Some(ctx.at)),
                agg_awards::effective_by.eq(Some(who.user_id)),
                agg_awards::effective_at.eq(Some(ctx.at)),
                agg_awards::standstill_applies.eq(Some(applies)),
                agg_awards::standstill_why.eq(Some(&why)),
                agg_awards::standstill_end.eq(end),
            ))
            .execute(conn)?;
        event(conn, ctx, &row, "aggiudicazione.aggiudicata",
              serde_json::json!({ "winner_id": winner, "requirements": checks.len(), "effective": true,
                                  "standstill_applies": applies, "standstill_why": why, "standstill_end": end }))?;
        let standstill = match end {
            Some(e) => format!("Il contratto non può essere stipulato prima del {} (termine dilatorio, art. 18 c.3).", domain::deadlines::rome_rfc3339(e)),
            None => format!("Il contratto può essere stipulato senza attendere: {why}."),
        };
        // Art. 90 c.1: the communication states the award's terms, so a bidder can weigh a
        // challenge without asking for them (the Method B second price included).
        let terms = match super::award_terms::view(conn, row.scope())? {
            Some(t) => format!(
                " Ribasso di aggiudicazione {}% (ribasso offerto {}%), importo contrattuale {} euro: {}.",
                t.awarded_discount, t.offered_discount, t.contract_amount, t.why
            ),
            None => String::new(),
        };
        // Art. 36 c.3: the decisions on the redaction requests go in this communication.
        let terms = format!("{terms}{}", super::redaction::communication_paragraph(conn, &row, ctx.at)?);
        for b in everyone(conn, bando)? {
            let body = if b == winner {
                format!("La gara è aggiudicata alla Sua offerta; verificati i requisiti, l'aggiudicazione è efficace (art. 17 c.5).{terms} {standstill}")
            } else {
                format!("La gara è aggiudicata all'operatore {winner}.{terms} {standstill} Gli atti e l'offerta dell'aggiudicatario sono accessibili sulla piattaforma (art. 36).")
            };
            notify(conn, ctx, &row, b, &format!("Aggiudicazione della gara «{}» (art. 90)", row.oggetto), &body)?;
        }
        let row = tender(conn, bando)?;
        model::load(conn, &row, ctx.at, None)
    })
}

/// One requirement checked on the proposed winner, with its evidence (RUP, between the
/// proposal and the award: art. 17 c.5).
pub fn check_requirement(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &RequirementCheck,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_rup(who, &row)?;
        match outcome(conn, bando)? {
            Some((ref s, _)) if s == "proposed" => {}
            Some((ref s, _)) if s == "awarded" || s == "effective" => {
                return Err(ProcedureError::conflict("already_awarded", "L'aggiudicazione è già stata disposta: i requisiti si verificano prima (art. 17 c.5)"));
            }
            _ => {
                return Err(ProcedureError::conflict("proposal_missing", "I requisiti si verificano sull'offerente proposto per l'aggiudicazione: manca la proposta"));
            }
        }
        let (requirement, evidence) = (input.requirement.trim(), input.evidence.trim());
        if requirement.is_empty() {
            return Err(ProcedureError::invalid("requirement_required", "requirement", "Indicare il requisito"));
        }
        if evidence.is_empty() {
            return Err(ProcedureError::invalid("evidence_required", "evidence", "Indicare la prova (documento, banca dati, FVOE)"));
        }
        let id = Uuid::new_v4();
        diesel::insert_into(agg_requirements::table)
            .values((
                agg_requirements::id.eq(id),
                agg_requirements::scope_id.eq(bando),
                agg_requirements::requirement.eq(requirement),
                agg_requirements::evidence.eq(evidence),
                agg_requirements::satisfied.eq(input.satisfied),
                agg_requirements::checked_by.eq(who.user_id),
                agg_requirements::checked_at.eq(ctx.at),
            ))
            .execute(conn)?;
        event(conn, ctx, &row, "aggiudicazione.requisito_verificato",
              serde_json::json!({ "id": id, "requirement": requirement, "evidence": evidence, "satisfied": input.satisfied }))?;
        model::load(conn, &row, ctx.at, None)
    })
}

/// The art. 90 communications of this tender (all its lots; each subject names its lot): all
/// for the ente's officials, their own for bidders. Before the submission deadline (`now` from
/// the clock) the officials see none: the only rows then are the rettifica notices to each
/// bidder, which would tell who bid and how many (issue 9, finding 1).
pub fn communications(
    conn: &mut PgConnection,
    who: &Principal,
    bando: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Communication>> {
    use super::schema::notifications_outbox as n;
    let row = tender(conn, bando)?;
    let mut q = n::table
        .filter(n::object_type.eq("bando"))
        .filter(n::object_id.eq(row.id.to_string()))
        .order((n::created_at.asc(), n::id.asc()))
        .select((
            n::id,
            n::recipient_user_id,
            n::recipient_address,
            n::subject,
            n::body,
            n::created_at,
        ))
        .into_boxed();
    let deadline_passed = row.submission_deadline.is_some_and(|d| d <= now);
    if !super::is_insider(who, &row) || !deadline_passed {
        q = q.filter(n::recipient_user_id.eq(who.user_id));
    }
    Ok(q.load(conn)?)
}
