//! A human act on every automatic exclusion (art. 30 c.3 lett. b): what the platform computes
//! (offers at or above the anomaly threshold, art. 54; a soccorso istruttorio unanswered in
//! time, art. 101 c.1; art. 110 explanations not given in time) is stored as a proposal; the
//! RUP confirms it (the exclusion and its art. 90 communication follow) or rejects it, with a
//! reason either way. The award cannot be proposed while any proposal is undecided.

use accounts::Principal;
use db::audit::AuditCtx;
use diesel::prelude::*;
use uuid::Uuid;

use super::model::*;
use super::schema::{agg_evaluations, agg_exclusion_proposals as xp, agg_participants};
use super::{event, exclude, is_insider, model, require_rup, tender, ProcedureError, Result, Tender};

/// Records the platform's proposal to exclude `bidder` (idempotent per bidder and phase).
pub(crate) fn propose(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &Tender,
    bidder: Uuid,
    phase: &str,
    reason: &str,
) -> Result<()> {
    let id = Uuid::new_v4();
    let n = diesel::insert_into(xp::table)
        .values((
            xp::id.eq(id),
            xp::scope_id.eq(row.scope()),
            xp::bidder_id.eq(bidder),
            xp::phase.eq(phase),
            xp::reason.eq(reason),
            xp::proposed_at.eq(ctx.at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if n == 1 {
        event(
            conn,
            ctx,
            row,
            "aggiudicazione.esclusione_proposta",
            serde_json::json!({ "proposal_id": id, "bidder_id": bidder, "phase": phase, "reason": reason }),
        )?;
    }
    Ok(())
}

/// How many proposals of the scope still wait for the RUP.
pub(crate) fn undecided(conn: &mut PgConnection, scope: Uuid) -> Result<i64> {
    Ok(xp::table
        .filter(xp::scope_id.eq(scope))
        .filter(xp::decision.is_null())
        .count()
        .get_result(conn)?)
}

pub(crate) fn require_all_decided(conn: &mut PgConnection, scope: Uuid) -> Result<()> {
    match undecided(conn, scope)? {
        0 => Ok(()),
        n => Err(ProcedureError::conflict(
            "exclusions_undecided",
            format!("art. 30 c.3 lett. b: {n} esclusioni proposte dalla piattaforma attendono la decisione del RUP"),
        )),
    }
}

/// The RUP of the tender's ente confirms or rejects one proposal, with a reason. Another
/// ente's officials and suppliers get 404 (the proposal's existence is not revealed); a second
/// decision gets 409 `exclusion_decided`.
pub fn decide(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    id: Uuid,
    input: &ExclusionDecision,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        if !is_insider(who, &row) {
            return Err(ProcedureError::NotFound { what: "Proposta di esclusione" });
        }
        require_rup(who, &row)?;
        let found: Option<(Uuid, String, String, Option<String>)> = xp::table
            .filter(xp::id.eq(id))
            .filter(xp::scope_id.eq(row.scope()))
            .select((xp::bidder_id, xp::phase, xp::reason, xp::decision))
            .for_update()
            .first(conn)
            .optional()?;
        let Some((bidder, phase, proposed, decision)) = found else {
            return Err(ProcedureError::NotFound { what: "Proposta di esclusione" });
        };
        if decision.is_some() {
            return Err(ProcedureError::conflict("exclusion_decided", "La proposta di esclusione è già stata decisa"));
        }
        let reason = input.reason.trim();
        if reason.is_empty() {
            return Err(ProcedureError::invalid("reason_required", "reason", "Indicare la motivazione della decisione"));
        }
        let verdict = if input.confirmed { "confirmed" } else { "rejected" };
        let n = diesel::update(xp::table.find(id).filter(xp::decision.is_null()))
            .set((
                xp::decision.eq(Some(verdict)),
                xp::decision_reason.eq(Some(reason)),
                xp::decided_by.eq(Some(who.user_id)),
                xp::decided_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        if n != 1 {
            return Err(ProcedureError::conflict("exclusion_decided", "La proposta di esclusione è già stata decisa"));
        }
        event(conn, ctx, &row, if input.confirmed { "aggiudicazione.esclusione_confermata" } else { "aggiudicazione.esclusione_respinta" },
              serde_json::json!({ "proposal_id": id, "bidder_id": bidder, "phase": phase, "proposed": proposed, "reason": reason }))?;
        if input.confirmed {
            exclude(conn, ctx, &row, bidder, &phase, &format!("{proposed}. Decisione del RUP: {reason}"))?;
        } else {
            reinstate(conn, &row, bidder, &phase, reason, ctx)?;
        }
        model::load(conn, &row, ctx.at, None)
    })
}

/// A rejected proposal: the offer stays in the procedure. After a soccorso the bidder is
/// admitted; after the anomaly computation the offer goes back into the stored ranking at the
/// place of its discount.
fn reinstate(
    conn: &mut PgConnection,
    row: &Tender,
    bidder: Uuid,
    phase: &str,
    reason: &str,
    ctx: &AuditCtx,
) -> Result<()> {
    if phase == "soccorso" {
        diesel::update(agg_participants::table.find((row.scope(), bidder)))
            .set((
                agg_participants::status.eq("admitted"),
                agg_participants::reason.eq(Some(format!("esclusione proposta respinta dal RUP: {reason}"))),
                agg_participants::decided_by.eq(ctx.actor),
                agg_participants::decided_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
    }
    if phase != "anomaly" {
        return Ok(());
    }
    let stored: Option<(Option<serde_json::Value>, Option<serde_json::Value>)> = agg_evaluations::table
        .find(row.scope())
        .select((agg_evaluations::ranking, agg_evaluations::economic_report))
        .first(conn)
        .optional()?;
    let Some((Some(serde_json::Value::Array(mut lines)), Some(economic))) = stored else {
        return Ok(());
    };
    let id = bidder.to_string();
    if lines.iter().any(|l| l["bidder_id"] == id.as_str()) {
        return Ok(());
    }
    let discount = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<rust_decimal::Decimal>().ok());
    let Some(d) = economic["offers"]
        .as_array()
        .and_then(|o| o.iter().find(|x| x["bidder_id"] == id.as_str()))
        .and_then(|x| discount(&x["discount"]))
    else {
        return Ok(());
    };
    let at = lines
        .iter()
        .position(|l| discount(&l["discount"]).is_some_and(|x| x < d))
        .unwrap_or(lines.len());
    lines.insert(
        at,
        serde_json::json!({ "bidder_id": id, "discount": d.to_string(), "reinstated": true }),
    );
    for (i, l) in lines.iter_mut().enumerate() {
        l["rank"] = serde_json::json!(i + 1);
    }
    diesel::update(agg_evaluations::table.find(row.scope()))
        .set(agg_evaluations::ranking.eq(Some(serde_json::Value::Array(lines))))
        .execute(conn)?;
    Ok(())
}
