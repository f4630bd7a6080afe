//! The commission (art. 93) for OEPV tenders: appointed after the submission deadline, an odd
//! number of members (at most 5), each with a recorded declaration of no incompatibility. Only
//! its members read envelope B and enter coefficients; every raw coefficient is kept, and the
//! technical phase closes with the engine's averages, riparametrazione and soglia.

use std::collections::BTreeMap;

use accounts::{Principal, UserKind};
use bando::{AwardCriterion, Criterion, CriterionKind, Oepv};
use db::audit::AuditCtx;
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::model::*;
use super::schema::{
    agg_coefficients, agg_commission, agg_evaluations, agg_participants, agg_soccorso, envelopes, opened_envelopes,
    users,
};
use super::scoped::tender_locked;
use super::{
    active_bid_ids, event, exclude, model, require_opened, require_rup, sweep, sync_participants, technical_values,
    tender, ProcedureError, Result,
};
use crate::scoring::technical::{
    compute_technical_scores, MinimumScoreStage, TechnicalCriterion, TechnicalOffer, TechnicalRequest,
};

/// Leaf criteria of the tender's scheme: sub-criteria where present, else the criterion.
pub fn leaves(oepv: &Oepv) -> Vec<&Criterion> {
    let mut out = Vec::new();
    for c in &oepv.criteria {
        if c.sub_criteria.is_empty() {
            out.push(c);
        } else {
            out.extend(c.sub_criteria.iter());
        }
    }
    out
}

fn oepv_of(row: &bando::store::BandoRow) -> Result<Oepv> {
    if row.award_criterion() != AwardCriterion::Oepv {
        return Err(ProcedureError::conflict(
            "not_oepv",
            "La commissione giudicatrice si nomina solo per l'offerta economicamente più vantaggiosa (art. 93 c.1)",
        ));
    }
    row.oepv()
        .ok_or_else(|| ProcedureError::conflict("not_oepv", "Il bando non ha i criteri dell'OEPV"))
}

pub(crate) fn members(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<(Uuid, bool, bool)>> {
    let rows: Vec<(Uuid, bool, Option<chrono::DateTime<chrono::Utc>>)> = agg_commission::table
        .filter(agg_commission::scope_id.eq(bando))
        .select((
            agg_commission::user_id,
            agg_commission::president,
            agg_commission::declared_at,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(u, p, d)| (u, p, d.is_some())).collect())
}

/// A declared member of the commission (all members must have declared).
fn require_member(conn: &mut PgConnection, who: &Principal, bando: Uuid) -> Result<Vec<(Uuid, bool, bool)>> {
    let m = members(conn, bando)?;
    if !m.iter().any(|(u, _, _)| *u == who.user_id) {
        return Err(ProcedureError::Forbidden);
    }
    if m.iter().any(|(_, _, declared)| !declared) {
        return Err(ProcedureError::conflict(
            "declarations_missing",
            "art. 93 c.5: ogni commissario deve dichiarare l'assenza di incompatibilità prima di accedere alle offerte tecniche",
        ));
    }
    Ok(m)
}

/// The RUP appoints the commission, after the submission deadline (art. 93 c.3).
pub fn appoint(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &CommissionAppointment,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        // Locked: of two concurrent appointments the second sees the first's commission.
        let row = tender_locked(conn, bando)?;
        require_rup(who, &row)?;
        oepv_of(&row)?;
        if row.submission_deadline.is_none_or(|d| ctx.at < d) {
            return Err(ProcedureError::conflict(
                "commission_before_deadline",
                "art. 93 c.3: la commissione si nomina dopo la scadenza del termine per le offerte",
            ));
        }
        let mut ids = input.members.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != input.members.len() {
            return Err(ProcedureError::invalid(
                "commission_duplicate",
                "members",
                "Un commissario è indicato due volte",
            ));
        }
        if ids.is_empty() || ids.len() > 5 || ids.len().is_multiple_of(2) {
            return Err(ProcedureError::invalid(
                "commission_size",
                "members",
                "art. 93 c.3: la commissione ha un numero dispari di componenti, al massimo 5",
            ));
        }
        if !ids.contains(&input.president) {
            return Err(ProcedureError::invalid(
                "president_not_member",
                "president",
                "Il presidente deve essere un componente della commissione",
            ));
        }
        let officials: i64 = users::table
            .filter(users::id.eq_any(&ids))
            .filter(users::kind.eq(UserKind::Official.as_str()))
            .filter(users::active.eq(true))
            .count()
            .get_result(conn)?;
        if officials as usize != ids.len() {
            return Err(ProcedureError::invalid(
                "commissioner_not_official",
                "members",
                "I commissari devono essere funzionari attivi",
            ));
        }
        let existing: i64 = agg_commission::table
            .filter(agg_commission::scope_id.eq(bando))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Err(ProcedureError::conflict(
                "commission_exists",
                "La commissione è già stata nominata",
            ));
        }
        for m in &ids {
            diesel::insert_into(agg_commission::table)
                .values((
                    agg_commission::scope_id.eq(bando),
                    agg_commission::user_id.eq(m),
                    agg_commission::president.eq(*m == input.president),
                    agg_commission::appointed_by.eq(who.user_id),
                    agg_commission::appointed_at.eq(ctx.at),
                ))
                .execute(conn)?;
        }
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.commissione_nominata",
            serde_json::json!({ "members": ids, "president": input.president }),
        )?;
        model::load(conn, &row, ctx.at, None)
    })
}

/// A member records the declaration of no incompatibility.
pub fn declare(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &Declaration,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        let m = members(conn, bando)?;
        let Some((_, _, declared)) = m.iter().find(|(u, _, _)| *u == who.user_id) else {
            return Err(ProcedureError::Forbidden);
        };
        if *declared {
            return Err(ProcedureError::conflict("already_declared", "La dichiarazione è già stata resa"));
        }
        if !input.no_incompatibility {
            return Err(ProcedureError::invalid(
                "incompatible_commissioner",
                "no_incompatibility",
                "art. 93 c.5: chi si trova in una causa di incompatibilità non può far parte della commissione; il RUP deve sostituirlo",
            ));
        }
        let text = input.text.trim();
        if text.is_empty() {
            return Err(ProcedureError::invalid("declaration_required", "text", "Il testo della dichiarazione è obbligatorio"));
        }
        diesel::update(agg_commission::table.find((bando, who.user_id)))
            .set((agg_commission::declaration.eq(Some(text)), agg_commission::declared_at.eq(Some(ctx.at))))
            .execute(conn)?;
        event(conn, ctx, &row, "aggiudicazione.dichiarazione_commissario", serde_json::json!({ "user_id": who.user_id, "text": text }))?;
        model::load(conn, &row, ctx.at, None)
    })
}

/// Envelope B of the admitted bidders: (envelope id, bidder id, plaintext path), members only.
pub fn envelopes_b(conn: &mut PgConnection, who: &Principal, bando: Uuid) -> Result<Vec<(Uuid, Uuid, Option<String>)>> {
    let row = tender(conn, bando)?;
    require_member(conn, who, bando)?;
    require_opened(conn, row.id, "B")?;
    let bids = active_bid_ids(conn, &row)?;
    let admitted: Vec<Uuid> = agg_participants::table
        .filter(agg_participants::scope_id.eq(bando))
        .filter(agg_participants::status.eq("admitted"))
        .select(agg_participants::bidder_id)
        .load(conn)?;
    Ok(opened_envelopes::table
        .inner_join(envelopes::table)
        .filter(envelopes::bid_id.eq_any(bids))
        .filter(opened_envelopes::kind.eq("B"))
        .filter(envelopes::bidder_id.eq_any(admitted))
        .order(envelopes::bidder_id.asc())
        .select((envelopes::id, envelopes::bidder_id, opened_envelopes::plaintext_path))
        .load(conn)?)
}

/// A commissioner enters coefficients (0–1) for one admitted offer. Each entry is kept.
pub fn enter_coefficients(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &CoefficientsInput,
) -> Result<Vec<RawCoefficient>> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        let oepv = oepv_of(&row)?;
        require_member(conn, who, bando)?;
        require_opened(conn, row.id, "B")?;
        super::order::require_scores_open(conn, row.id)?;
        let closed: Option<Option<chrono::DateTime<chrono::Utc>>> =
            agg_evaluations::table.find(bando).select(agg_evaluations::technical_closed_at).first(conn).optional()?;
        if closed.flatten().is_some() {
            return Err(ProcedureError::conflict("technical_phase_closed", "La valutazione tecnica è chiusa"));
        }
        let status: Option<String> = agg_participants::table
            .find((bando, input.bidder_id))
            .select(agg_participants::status)
            .first(conn)
            .optional()?;
        if status.as_deref() != Some("admitted") {
            return Err(ProcedureError::conflict("bidder_not_admitted", "Si valutano solo le offerte ammesse"));
        }
        let leaves = leaves(&oepv);
        if input.coefficients.is_empty() {
            return Err(ProcedureError::invalid("coefficients_required", "coefficients", "Nessun coefficiente"));
        }
        for (code, value) in &input.coefficients {
            let Some(leaf) = leaves.iter().find(|c| c.code == *code) else {
                return Err(ProcedureError::invalid("criterion_unknown", &format!("coefficients.{code}"), format!("Criterio sconosciuto: {code}")));
            };
            if leaf.kind != CriterionKind::Discretionary {
                return Err(ProcedureError::invalid(
                    "criterion_not_discretionary",
                    &format!("coefficients.{code}"),
                    format!("Il criterio {code} è {}: il coefficiente lo calcola la piattaforma dai valori dichiarati nella busta B", leaf.kind),
                ));
            }
            if *value < Decimal::ZERO || *value > Decimal::ONE || value.scale() > 6 {
                return Err(ProcedureError::invalid("coefficient_range", &format!("coefficients.{code}"), "Il coefficiente è compreso tra 0 e 1 (al massimo 6 decimali)"));
            }
            diesel::insert_into(agg_coefficients::table)
                .values((
                    agg_coefficients::scope_id.eq(bando),
                    agg_coefficients::bidder_id.eq(input.bidder_id),
                    agg_coefficients::criterion.eq(code),
                    agg_coefficients::commissioner_id.eq(who.user_id),
                    agg_coefficients::coefficient.eq(value),
                    agg_coefficients::entered_at.eq(ctx.at),
                ))
                .execute(conn)?;
        }
        event(conn, ctx, &row, "aggiudicazione.coefficienti", serde_json::json!({ "bidder_id": input.bidder_id, "commissioner_id": who.user_id,
                                                                                   "coefficients": input.coefficients }))?;
        Ok(agg_coefficients::table
            .filter(agg_coefficients::scope_id.eq(bando))
            .filter(agg_coefficients::bidder_id.eq(input.bidder_id))
            .filter(agg_coefficients::commissioner_id.eq(who.user_id))
            .order(agg_coefficients::id.asc())
            .select((
                agg_coefficients::bidder_id,
                agg_coefficients::criterion,
                agg_coefficients::commissioner_id,
                agg_coefficients::coefficient,
                agg_coefficients::entered_at,
            ))
            .load(conn)?)
    })
}

/// The administrative phase is over: no bidder pending, no soccorso open.
pub(crate) fn require_admin_phase_done(conn: &mut PgConnection, bando: Uuid) -> Result<()> {
    let pending: i64 = agg_participants::table
        .filter(agg_participants::scope_id.eq(bando))
        .filter(agg_participants::status.eq("pending"))
        .count()
        .get_result(conn)?;
    let open: i64 = agg_soccorso::table
        .filter(agg_soccorso::scope_id.eq(bando))
        .filter(agg_soccorso::outcome.is_null())
        .count()
        .get_result(conn)?;
    if pending > 0 || open > 0 {
        return Err(ProcedureError::conflict(
            "administrative_phase_open",
            format!("Fase amministrativa non conclusa: {pending} offerenti senza decisione, {open} soccorsi in corso"),
        ));
    }
    Ok(())
}

/// The president (or the RUP) closes the technical phase: averages, riparametrazione and
/// soglia di sbarramento by the engine; offers below the soglia are excluded.
/// Quantitative and tabular criteria are computed from the values each bidder declared in
/// envelope B (read from the envelope store); per-criterion riparametrazione
/// applies to discretionary criteria, the one on the total when the tender says so.
pub fn close_technical(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    store: &offerte::store::Store,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        // Locked: of two concurrent closings (a double click) the second waits, then sees the
        // first's report and is refused with `technical_phase_closed`, not a duplicate key.
        let row = tender_locked(conn, bando)?;
        let oepv = oepv_of(&row)?;
        let m = members(conn, bando)?;
        let president = m.iter().any(|(u, p, _)| *u == who.user_id && *p);
        if !president {
            require_rup(who, &row)?;
        }
        if m.is_empty() || m.iter().any(|(_, _, d)| !d) {
            return Err(ProcedureError::conflict("declarations_missing", "Commissione non nominata o dichiarazioni mancanti (art. 93)"));
        }
        require_opened(conn, row.id, "B")?;
        super::order::require_scores_open(conn, row.id)?;
        sync_participants(conn, &row)?;
        sweep(conn, ctx, &row)?;
        require_admin_phase_done(conn, bando)?;
        let closed: Option<Option<chrono::DateTime<chrono::Utc>>> =
            agg_evaluations::table.find(bando).select(agg_evaluations::technical_closed_at).first(conn).optional()?;
        if closed.flatten().is_some() {
            return Err(ProcedureError::conflict("technical_phase_closed", "La valutazione tecnica è già chiusa"));
        }
        let admitted: Vec<Uuid> = agg_participants::table
            .filter(agg_participants::scope_id.eq(bando))
            .filter(agg_participants::status.eq("admitted"))
            .order(agg_participants::bidder_id.asc())
            .select(agg_participants::bidder_id)
            .load(conn)?;
        if admitted.is_empty() {
            return Err(ProcedureError::conflict("no_admitted_offers", "Nessuna offerta ammessa da valutare"));
        }
        let raw: Vec<(i64, Uuid, String, Uuid, Decimal)> = agg_coefficients::table
            .filter(agg_coefficients::scope_id.eq(bando))
            .order(agg_coefficients::id.asc())
            .select((agg_coefficients::id, agg_coefficients::bidder_id, agg_coefficients::criterion, agg_coefficients::commissioner_id, agg_coefficients::coefficient))
            .load(conn)?;
        // Latest entry per (bidder, criterion, commissioner).
        let mut latest: BTreeMap<(Uuid, String, Uuid), Decimal> = BTreeMap::new();
        for (_, b, c, u, v) in raw {
            latest.insert((b, c, u), v);
        }
        let leaves = leaves(&oepv);
        if let Some(c) = leaves.iter().find(|c| c.kind != CriterionKind::Discretionary && technical_values::coefficient(c, None).is_err()) {
            return Err(ProcedureError::conflict(
                "criterion_rule_missing",
                format!("Il criterio {} è {} ma il bando non ne indica la formula o la tabella: la piattaforma non può calcolarlo", c.code, c.kind),
            ));
        }
        // Envelope B's declared values, only when some criterion is computed from them.
        let mut declared: BTreeMap<Uuid, std::result::Result<serde_json::Map<String, serde_json::Value>, String>> = BTreeMap::new();
        if leaves.iter().any(|c| c.kind != CriterionKind::Discretionary) {
            let bids = active_bid_ids(conn, &row)?;
            let found: Vec<(Uuid, Option<String>)> = opened_envelopes::table
                .inner_join(envelopes::table)
                .filter(envelopes::bid_id.eq_any(bids))
                .filter(opened_envelopes::kind.eq("B"))
                .filter(envelopes::bidder_id.eq_any(&admitted))
                .select((envelopes::bidder_id, opened_envelopes::plaintext_path))
                .load(conn)?;
            for (bidder, rel) in found {
                let path = rel.map(|r| store.local(&r, None)).transpose()?;
                declared.insert(bidder, technical_values::read_values(path.as_deref()));
            }
        }
        let mut computed = Vec::new();
        let mut offers = Vec::new();
        for bidder in &admitted {
            let mut coefficients = BTreeMap::new();
            for c in &leaves {
                let code = &c.code;
                if c.kind != CriterionKind::Discretionary {
                    let values = declared.get(bidder).cloned().unwrap_or_else(|| Err("busta B assente".into()));
                    let value = values.as_ref().ok().and_then(|v| v.get(code));
                    let (coefficient, note, inexact) =
                        technical_values::coefficient(c, value).map_err(|_| ProcedureError::conflict("criterion_rule_missing", code.clone()))?;
                    let note = match (&values, note) {
                        (Err(why), Some(_)) => Some(why.clone()),
                        (_, n) => n,
                    };
                    computed.push(technical_values::ComputedCoefficient {
                        bidder_id: *bidder,
                        criterion: code.clone(),
                        kind: c.kind,
                        declared: value.cloned().unwrap_or(serde_json::Value::Null),
                        coefficient,
                        note,
                        inexact,
                    });
                    coefficients.insert(code.clone(), vec![coefficient]);
                    continue;
                }
                let mut values = Vec::new();
                for (member, _, _) in &m {
                    match latest.get(&(*bidder, code.clone(), *member)) {
                        Some(v) => values.push(*v),
                        None => {
                            return Err(ProcedureError::conflict(
                                "coefficients_missing",
                                format!("Manca il coefficiente del commissario {member} per il criterio {code} dell'offerta {bidder}"),
                            ));
                        }
                    }
                }
                coefficients.insert(code.clone(), values);
            }
            offers.push(TechnicalOffer { id: bidder.to_string(), coefficients });
        }
        let request = TechnicalRequest {
            criteria: leaves
                .iter()
                .map(|c| TechnicalCriterion {
                    id: c.code.clone(),
                    max_points: c.weight,
                    reparametrize: oepv.reparametrization && c.kind == CriterionKind::Discretionary,
                })
                .collect(),
            offers,
            minimum_score: oepv.technical_threshold,
            minimum_score_stage: MinimumScoreStage::default(),
            second_reparametrization: oepv.reparametrize_total,
            max_technical_points: None,
        };
        let report = compute_technical_scores(&request)?;
        let stored = serde_json::json!({ "request": request, "report": report, "computed": computed });
        diesel::insert_into(agg_evaluations::table)
            .values((
                agg_evaluations::scope_id.eq(bando),
                agg_evaluations::technical_report.eq(Some(&stored)),
                agg_evaluations::technical_closed_at.eq(Some(ctx.at)),
                agg_evaluations::criterion.eq(Some("oepv")),
            ))
            .execute(conn)?;
        event(conn, ctx, &row, "aggiudicazione.valutazione_tecnica", stored.clone())?;
        for o in &report.offers {
            if !o.admitted {
                let bidder: Uuid = o.id.parse().map_err(|_| ProcedureError::conflict("internal", "id"))?;
                let threshold = oepv.technical_threshold.unwrap_or_default();
                exclude(conn, ctx, &row, bidder, "technical",
                        &format!("art. 108 c.8: punteggio tecnico {} inferiore alla soglia di sbarramento {threshold}", o.total_before_second_reparametrization))?;
            }
        }
        model::load(conn, &row, ctx.at, None)
    })
}
