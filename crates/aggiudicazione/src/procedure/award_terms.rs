//! The terms of the award: the discount the contract is awarded at and the contract amount,
//! recorded with the proposal of award (a hook of [`super::award::propose`]).
//!
//! * Allegato II.2 Method B point 2 ("metodo del secondo prezzo"): with automatic exclusion
//!   applied, a unique best offer is awarded at s2, the best discount among the other
//!   non-anomalous offers still admitted; on a tie at the best discount the winner (drawn
//!   among the tied by the ranking's public draw) is awarded at its own discount.
//! * Every other case (Methods A and C, no automatic exclusion): the winner's own discount.
//! * OEPV (art. 108): the winner's own economic offer; when it states a price, the contract
//!   amount is that price plus the safety costs and the discount is derived from it.
//! * Method C with every offer anomalous (point 2 f): no proposal before the RUP has checked
//!   the best offer in contraddittorio (art. 110) and found it sound.
//!
//! Contract amount = amount subject to discount × (1 − awarded discount / 100) + safety costs,
//! rounded to the cent.

use std::str::FromStr;

use bando::AwardCriterion;
use chrono::{DateTime, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use uuid::Uuid;

use super::schema::{agg_art110, agg_award_terms, agg_evaluations, agg_participants};
use super::{event, ProcedureError, Result, Tender};
use crate::anomaly::AwardDiscountRule;

/// The recorded terms, as shown in the procedure.
#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct AwardTerms {
    pub winner_id: Uuid,
    /// The Allegato II.2 method applied, if automatic exclusion applied.
    pub method: Option<String>,
    #[schema(value_type = String)]
    pub offered_discount: Decimal,
    #[schema(value_type = String)]
    pub awarded_discount: Decimal,
    /// `own_discount`, `second_price` or `tie_own_discount`.
    pub rule: String,
    #[schema(value_type = String)]
    pub amount_subject_to_discount: Decimal,
    /// Amount subject to discount × (1 − awarded discount / 100) + safety costs.
    #[schema(value_type = String)]
    pub contract_amount: Decimal,
    pub why: String,
    pub recorded_at: DateTime<Utc>,
}

fn discount_in(line: &serde_json::Value) -> Option<Decimal> {
    line["discount"].as_str().and_then(|s| Decimal::from_str(s).ok())
}

fn rule_name(rule: AwardDiscountRule) -> &'static str {
    match rule {
        AwardDiscountRule::OwnDiscount => "own_discount",
        AwardDiscountRule::SecondPrice => "second_price",
        AwardDiscountRule::TieOwnDiscount => "tie_own_discount",
    }
}

/// Record the terms for `winner`; refuse while a Method C contraddittorio has not cleared the
/// winner.
pub(crate) fn record(conn: &mut PgConnection, ctx: &AuditCtx, row: &Tender, winner: Uuid) -> Result<()> {
    if row.award_criterion() != AwardCriterion::MinorPrezzo {
        return record_oepv(conn, ctx, row, winner);
    }
    let scope = row.scope();
    let (applies, anomaly, ranking): (Option<bool>, Option<serde_json::Value>, Option<serde_json::Value>) =
        agg_evaluations::table
            .find(scope)
            .select((
                agg_evaluations::anomaly_applies,
                agg_evaluations::anomaly_report,
                agg_evaluations::ranking,
            ))
            .first(conn)?;
    let anomaly = anomaly.unwrap_or_default();
    let outcome = anomaly["report"]["outcome"].as_str().unwrap_or_default();
    if outcome == "ALL_OFFERS_ANOMALOUS_CONTRADDITTORIO" {
        let cleared: i64 = agg_art110::table
            .filter(agg_art110::scope_id.eq(scope))
            .filter(agg_art110::bidder_id.eq(winner))
            .filter(agg_art110::outcome.eq("accepted"))
            .count()
            .get_result(conn)?;
        if cleared == 0 {
            return Err(ProcedureError::conflict(
                "contraddittorio_required",
                "Allegato II.2 metodo C: tutte le offerte sono anomale; prima della proposta il RUP verifica in contraddittorio la migliore offerta (art. 110) e la ritiene congrua",
            ));
        }
    }
    let admitted: Vec<Uuid> = agg_participants::table
        .filter(agg_participants::scope_id.eq(scope))
        .filter(agg_participants::status.eq("admitted"))
        .select(agg_participants::bidder_id)
        .load(conn)?;
    let lines = ranking.and_then(|r| r.as_array().cloned()).unwrap_or_default();
    let bidder_of = |l: &serde_json::Value| l["bidder_id"].as_str().and_then(|s| s.parse::<Uuid>().ok());
    let offered = lines
        .iter()
        .find(|l| bidder_of(l) == Some(winner))
        .and_then(discount_in)
        .ok_or_else(|| ProcedureError::conflict("internal", "il vincitore non è in graduatoria"))?;
    let method = anomaly["request"]["method"].as_str().map(str::to_string);
    let applied = applies == Some(true) && outcome == "THRESHOLD_APPLIED";
    let (awarded, rule, why) = if applied && method.as_deref() == Some("B") {
        let others: Vec<Decimal> = lines
            .iter()
            .filter(|l| bidder_of(l).is_some_and(|b| b != winner && admitted.contains(&b)))
            .filter_map(discount_in)
            .collect();
        if others.contains(&offered) {
            (offered, AwardDiscountRule::TieOwnDiscount, "Allegato II.2 metodo B punto 2: parità al ribasso migliore, aggiudicatario sorteggiato tra i pari, al ribasso da esso offerto".to_string())
        } else if let Some(s2) = others.iter().copied().max() {
            (s2, AwardDiscountRule::SecondPrice, format!("Allegato II.2 metodo B punto 2 (metodo del secondo prezzo): aggiudicazione al ribasso s2 = {s2}, il maggiore tra le offerte non anomale diverse da quella dell'aggiudicatario ({offered})"))
        } else {
            (
                offered,
                AwardDiscountRule::OwnDiscount,
                "Allegato II.2 metodo B punto 2: nessun'altra offerta non anomala, aggiudicazione al ribasso offerto"
                    .to_string(),
            )
        }
    } else {
        (
            offered,
            AwardDiscountRule::OwnDiscount,
            "ribasso offerto dall'aggiudicatario".to_string(),
        )
    };
    let subject = row.subject_amount();
    let contract = cents(subject - subject * awarded / Decimal::ONE_HUNDRED + safety_costs(row));
    let terms = Terms {
        method,
        offered,
        awarded,
        rule: rule_name(rule),
        subject,
        contract,
        why,
    };
    store(conn, ctx, row, winner, &terms)
}

fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn safety_costs(row: &Tender) -> Decimal {
    row.lot.as_ref().map_or(row.row.safety_costs, |l| l.safety_costs)
}

/// OEPV: the terms are the winner's own economic offer, as read at the economic phase.
fn record_oepv(conn: &mut PgConnection, ctx: &AuditCtx, row: &Tender, winner: Uuid) -> Result<()> {
    let economic: Option<serde_json::Value> = agg_evaluations::table
        .find(row.scope())
        .select(agg_evaluations::economic_report)
        .first(conn)?;
    let economic = economic.unwrap_or_default();
    let offer = economic["offers"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|o| o["bidder_id"].as_str() == Some(winner.to_string().as_str()))
        })
        .map(|o| o["offer"].clone())
        .ok_or_else(|| ProcedureError::conflict("internal", "l'offerta economica del vincitore manca"))?;
    let field = |k: &str| offer[k].as_str().and_then(|s| Decimal::from_str(s).ok());
    let subject = row.subject_amount();
    let (offered, contract) = match (field("discount"), field("price")) {
        (_, Some(price)) if !subject.is_zero() => (
            ((subject - price) * Decimal::ONE_HUNDRED / subject).round_dp(crate::MAX_INPUT_DECIMALS),
            cents(price + safety_costs(row)),
        ),
        (Some(d), _) => (
            d,
            cents(subject - subject * d / Decimal::ONE_HUNDRED + safety_costs(row)),
        ),
        _ => {
            return Err(ProcedureError::conflict(
                "internal",
                "offerta economica del vincitore illeggibile",
            ))
        }
    };
    let terms = Terms {
        method: None,
        offered,
        awarded: offered,
        rule: rule_name(AwardDiscountRule::OwnDiscount),
        subject,
        contract,
        why: "offerta economicamente più vantaggiosa (art. 108): condizioni dell'offerta dell'aggiudicatario"
            .to_string(),
    };
    store(conn, ctx, row, winner, &terms)
}

struct Terms {
    method: Option<String>,
    offered: Decimal,
    awarded: Decimal,
    rule: &'static str,
    subject: Decimal,
    contract: Decimal,
    why: String,
}

// A new proposal (after a rejected requirement check, say) replaces the terms row; each
// version stays in the audit trail through its `condizioni_aggiudicazione` event.
fn store(conn: &mut PgConnection, ctx: &AuditCtx, row: &Tender, winner: Uuid, t: &Terms) -> Result<()> {
    let scope = row.scope();
    let Terms {
        method,
        offered,
        awarded,
        rule,
        subject,
        contract,
        why,
    } = t;
    diesel::delete(agg_award_terms::table.find(scope)).execute(conn)?;
    diesel::insert_into(agg_award_terms::table)
        .values((
            agg_award_terms::scope_id.eq(scope),
            agg_award_terms::winner_id.eq(winner),
            agg_award_terms::method.eq(method),
            agg_award_terms::offered_discount.eq(*offered),
            agg_award_terms::awarded_discount.eq(*awarded),
            agg_award_terms::rule.eq(*rule),
            agg_award_terms::amount_subject_to_discount.eq(*subject),
            agg_award_terms::contract_amount.eq(*contract),
            agg_award_terms::why.eq(why),
            agg_award_terms::recorded_at.eq(ctx.at),
        ))
        .execute(conn)?;
    event(
        conn,
        ctx,
        row,
        "aggiudicazione.condizioni_aggiudicazione",
        serde_json::json!({ "winner_id": winner, "method": method, "offered_discount": offered.to_string(),
                            "awarded_discount": awarded.to_string(), "rule": rule,
                            "contract_amount": contract.to_string(), "why": why }),
    )?;
    Ok(())
}

/// The recorded terms of this evaluation, if any.
pub(crate) fn view(conn: &mut PgConnection, scope: Uuid) -> Result<Option<AwardTerms>> {
    Ok(agg_award_terms::table
        .find(scope)
        .select((
            agg_award_terms::winner_id,
            agg_award_terms::method,
            agg_award_terms::offered_discount,
            agg_award_terms::awarded_discount,
            agg_award_terms::rule,
            agg_award_terms::amount_subject_to_discount,
            agg_award_terms::contract_amount,
            agg_award_terms::why,
            agg_award_terms::recorded_at,
        ))
        .first(conn)
        .optional()?)
}
