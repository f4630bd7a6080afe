//! The administrative phase (envelope A): admission or exclusion with a reason, and the
//! soccorso istruttorio of art. 101 (5–10 days, answer through the platform, no answer in time
//! means exclusion; never on envelopes B or C).

use accounts::Principal;
use chrono::{DateTime, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use uuid::Uuid;

use super::model::*;
use super::schema::{agg_evaluations, agg_participants, agg_soccorso};
use super::scoped::{fetch_own_soccorso, fetch_soccorso};
use super::{
    enter_evaluation, event, exclude, model, notify, require_opened, require_rup, sweep, sync_participants, tender,
    ProcedureError, Result,
};

fn participant_status(conn: &mut PgConnection, bando: Uuid, bidder: Uuid) -> Result<String> {
    agg_participants::table
        .find((bando, bidder))
        .select(agg_participants::status)
        .first(conn)
        .optional()?
        .ok_or(ProcedureError::NotFound { what: "Offerente" })
}

fn economic_done(conn: &mut PgConnection, bando: Uuid) -> Result<bool> {
    let at: Option<Option<DateTime<Utc>>> = agg_evaluations::table
        .find(bando)
        .select(agg_evaluations::computed_at)
        .first(conn)
        .optional()?;
    Ok(at.flatten().is_some())
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// The seggio di gara (the RUP) admits or excludes a bidder after opening envelope A.
pub fn decide(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &AdmissionDecision,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_rup(who, &row)?;
        require_opened(conn, row.id, "A")?;
        enter_evaluation(conn, ctx, who, &row)?;
        sync_participants(conn, &row)?;
        sweep(conn, ctx, &row)?;
        if economic_done(conn, bando)? {
            return Err(ProcedureError::conflict(
                "administrative_phase_closed",
                "La fase amministrativa è chiusa: le offerte economiche sono già state valutate",
            ));
        }
        let status = participant_status(conn, bando, input.bidder_id)?;
        let open_soccorso: i64 = agg_soccorso::table
            .filter(agg_soccorso::scope_id.eq(bando))
            .filter(agg_soccorso::bidder_id.eq(input.bidder_id))
            .filter(agg_soccorso::outcome.is_null())
            .count()
            .get_result(conn)?;
        if open_soccorso > 0 {
            return Err(ProcedureError::conflict(
                "soccorso_pending",
                "C'è un soccorso istruttorio in corso per questo offerente: decidere prima il suo esito",
            ));
        }
        if status == "excluded" {
            return Err(ProcedureError::conflict(
                "already_excluded",
                "L'offerente è già escluso",
            ));
        }
        let proposed: i64 = super::schema::agg_exclusion_proposals::table
            .filter(super::schema::agg_exclusion_proposals::scope_id.eq(bando))
            .filter(super::schema::agg_exclusion_proposals::bidder_id.eq(input.bidder_id))
            .filter(super::schema::agg_exclusion_proposals::decision.is_null())
            .count()
            .get_result(conn)?;
        if proposed > 0 {
            return Err(ProcedureError::conflict(
                "exclusion_proposed",
                "La piattaforma ha proposto l'esclusione di questo offerente: decidere prima la proposta (art. 30 c.3 lett. b)",
            ));
        }
        match input.decision.as_str() {
            "admitted" => {
                diesel::update(agg_participants::table.find((bando, input.bidder_id)))
                    .set((
                        agg_participants::status.eq("admitted"),
                        agg_participants::reason.eq(trimmed(&input.reason)),
                        agg_participants::decided_by.eq(Some(who.user_id)),
                        agg_participants::decided_at.eq(Some(ctx.at)),
                    ))
                    .execute(conn)?;
                event(
                    conn,
                    ctx,
                    &row,
                    "aggiudicazione.ammissione",
                    serde_json::json!({ "bidder_id": input.bidder_id }),
                )?;
            }
            "excluded" => {
                let reason = trimmed(&input.reason).ok_or_else(|| {
                    ProcedureError::invalid("reason_required", "reason", "L'esclusione richiede la motivazione")
                })?;
                exclude(conn, ctx, &row, input.bidder_id, "administrative", &reason)?;
            }
            other => {
                return Err(ProcedureError::invalid(
                    "decision_unknown",
                    "decision",
                    format!("Decisione sconosciuta: {other} (admitted o excluded)"),
                ));
            }
        }
        model::load(conn, &row, ctx.at, None)
    })
}

/// Art. 101 c.1: a request to complete envelope A, with 5 to 10 days to answer.
pub fn request_soccorso(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &SoccorsoRequest,
) -> Result<Soccorso> {
    let envelope = input.envelope.as_deref().unwrap_or("A").trim().to_ascii_uppercase();
    if envelope != "A" {
        return Err(ProcedureError::invalid(
            "soccorso_not_for_offers",
            "envelope",
            "art. 101 c.1: il soccorso istruttorio non si applica all'offerta tecnica né a quella economica (buste B e C)",
        ));
    }
    if !(5..=10).contains(&input.days) {
        return Err(ProcedureError::invalid(
            "soccorso_days",
            "days",
            "art. 101 c.1: il termine è tra 5 e 10 giorni",
        ));
    }
    let request = input.request.trim();
    if request.is_empty() {
        return Err(ProcedureError::invalid(
            "request_required",
            "request",
            "Indicare cosa integrare o regolarizzare",
        ));
    }
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_rup(who, &row)?;
        require_opened(conn, row.id, "A")?;
        enter_evaluation(conn, ctx, who, &row)?;
        sync_participants(conn, &row)?;
        sweep(conn, ctx, &row)?;
        if economic_done(conn, bando)? {
            return Err(ProcedureError::conflict("administrative_phase_closed", "La fase amministrativa è chiusa"));
        }
        if participant_status(conn, bando, input.bidder_id)? == "excluded" {
            return Err(ProcedureError::conflict("already_excluded", "L'offerente è già escluso"));
        }
        let open: i64 = agg_soccorso::table
            .filter(agg_soccorso::scope_id.eq(bando))
            .filter(agg_soccorso::bidder_id.eq(input.bidder_id))
            .filter(agg_soccorso::outcome.is_null())
            .count()
            .get_result(conn)?;
        if open > 0 {
            return Err(ProcedureError::conflict("soccorso_pending", "C'è già un soccorso istruttorio in corso per questo offerente"));
        }
        let id = Uuid::new_v4();
        let deadline = domain::deadlines::add_calendar_days(ctx.at, input.days as u64);
        diesel::insert_into(agg_soccorso::table)
            .values((
                agg_soccorso::id.eq(id),
                agg_soccorso::scope_id.eq(bando),
                agg_soccorso::bidder_id.eq(input.bidder_id),
                agg_soccorso::envelope.eq("A"),
                agg_soccorso::request.eq(request),
                agg_soccorso::days.eq(input.days),
                agg_soccorso::deadline.eq(deadline),
                agg_soccorso::requested_by.eq(who.user_id),
                agg_soccorso::requested_at.eq(ctx.at),
            ))
            .execute(conn)?;
        diesel::update(agg_participants::table.find((bando, input.bidder_id)))
            .set(agg_participants::status.eq("pending"))
            .execute(conn)?;
        event(conn, ctx, &row, "aggiudicazione.soccorso_richiesto",
              serde_json::json!({ "soccorso_id": id, "bidder_id": input.bidder_id, "days": input.days, "deadline": deadline, "request": request }))?;
        notify(conn, ctx, &row, input.bidder_id, &format!("Soccorso istruttorio - gara «{}» (art. 101)", row.oggetto),
               &format!("Si richiede entro il {} (termine di {} giorni): {request}. In mancanza di risposta nel termine l'offerente è escluso.",
                        domain::deadlines::rome_rfc3339(deadline), input.days))?;
        fetch_soccorso(conn, row.scope(), id)
    })
}

/// The bidder answers through the platform, before the deadline (timestamped, logged).
pub fn answer_soccorso(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    id: Uuid,
    input: &Answer,
) -> Result<Soccorso> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        fetch_own_soccorso(conn, who, row.scope(), id)?;
        sweep(conn, ctx, &row)?;
        let s = fetch_own_soccorso(conn, who, row.scope(), id)?;
        if s.outcome.is_some() || s.answered_at.is_some() || ctx.at >= s.deadline {
            return Err(ProcedureError::conflict(
                "soccorso_closed",
                "Il termine per rispondere al soccorso istruttorio è scaduto o la risposta è già stata data",
            ));
        }
        let answer = input.answer.trim();
        if answer.is_empty() {
            return Err(ProcedureError::invalid(
                "answer_required",
                "answer",
                "La risposta è vuota",
            ));
        }
        diesel::update(agg_soccorso::table.find(id))
            .set((
                agg_soccorso::answer.eq(Some(answer)),
                agg_soccorso::answered_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.soccorso_risposta",
            serde_json::json!({ "soccorso_id": id, "bidder_id": who.user_id }),
        )?;
        fetch_soccorso(conn, row.scope(), id)
    })
}

/// The RUP decides on the answer: admitted, or excluded with the reason.
pub fn decide_soccorso(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    id: Uuid,
    input: &Outcome,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_rup(who, &row)?;
        sweep(conn, ctx, &row)?;
        let s = fetch_soccorso(conn, row.scope(), id)?;
        if s.outcome.is_some() {
            return Err(ProcedureError::conflict(
                "soccorso_closed",
                "Il soccorso istruttorio ha già un esito",
            ));
        }
        if s.answered_at.is_none() {
            return Err(ProcedureError::conflict(
                "soccorso_unanswered",
                "L'offerente non ha ancora risposto e il termine non è scaduto",
            ));
        }
        let reason = trimmed(&input.reason);
        if input.accepted {
            diesel::update(agg_soccorso::table.find(id))
                .set((
                    agg_soccorso::outcome.eq(Some("accepted")),
                    agg_soccorso::outcome_reason.eq(&reason),
                    agg_soccorso::outcome_at.eq(Some(ctx.at)),
                ))
                .execute(conn)?;
            diesel::update(agg_participants::table.find((bando, s.bidder_id)))
                .set((
                    agg_participants::status.eq("admitted"),
                    agg_participants::reason.eq(Some("ammesso dopo il soccorso istruttorio")),
                    agg_participants::decided_by.eq(Some(who.user_id)),
                    agg_participants::decided_at.eq(Some(ctx.at)),
                ))
                .execute(conn)?;
            event(
                conn,
                ctx,
                &row,
                "aggiudicazione.soccorso_accolto",
                serde_json::json!({ "soccorso_id": id, "bidder_id": s.bidder_id }),
            )?;
            event(
                conn,
                ctx,
                &row,
                "aggiudicazione.ammissione",
                serde_json::json!({ "bidder_id": s.bidder_id, "after_soccorso": id }),
            )?;
        } else {
            let reason = reason.ok_or_else(|| {
                ProcedureError::invalid("reason_required", "reason", "L'esclusione richiede la motivazione")
            })?;
            diesel::update(agg_soccorso::table.find(id))
                .set((
                    agg_soccorso::outcome.eq(Some("rejected")),
                    agg_soccorso::outcome_reason.eq(Some(&reason)),
                    agg_soccorso::outcome_at.eq(Some(ctx.at)),
                ))
                .execute(conn)?;
            exclude(conn, ctx, &row, s.bidder_id, "soccorso", &format!("art. 101: {reason}"))?;
        }
        model::load(conn, &row, ctx.at, None)
    })
}
