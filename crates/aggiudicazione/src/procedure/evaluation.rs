//! The economic phase (envelope C): lowest price with the automatic exclusion of art. 54
//! (Allegato II.2, whole computation stored), or the OEPV totals on the closed technical
//! scores; the ranking with its recorded seed; the art. 110 check of the best offer.

use std::str::FromStr;

use accounts::Principal;
use bando::{AwardCriterion, ContractType, FormulaKind, ProcedureType};
use db::audit::AuditCtx;
use diesel::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::commission::require_admin_phase_done;
use super::model::*;
use super::schema::{agg_art110, agg_evaluations, agg_participants, envelopes, opened_envelopes};
use super::scoped::{fetch_art110, fetch_own_art110, tender_locked};
use super::{
    active_bid_ids, below_threshold, best, enter_evaluation, event, exclude, model, notify, require_opened,
    require_rup, sweep, sync_participants, tender, ProcedureError, Result,
};
use crate::anomaly::{AnomalyOptions, DiscountEntry, IdentifiedDiscount};
use crate::ranking::{rank_scores, ScoreLine};
use crate::scoring::oepv::{evaluate_oepv_drawn, OepvRequest};
use crate::scoring::technical::TechnicalRequest;
use crate::scoring::{EconomicFormula, EconomicParameters, EconomicScoresRequest, IdentifiedValue, ValueEntry};
use crate::{evaluate_anomaly, AnomalyMethod, AnomalyRequest, MAX_INPUT_DECIMALS};

struct EconomicOffer {
    bidder: Uuid,
    discount: Option<Decimal>,
    price: Option<Decimal>,
    raw: serde_json::Value,
}

fn dec(v: &serde_json::Value, key: &str) -> Option<Decimal> {
    v.get(key)
        .and_then(|x| x.as_str())
        .and_then(|s| Decimal::from_str(s).ok())
}

/// Why the automatic exclusion (art. 54 c.1) does not apply, if it does not.
/// `below` is [`below_threshold`] of the tender (looked up by the caller).
fn anomaly_blocker(row: &bando::store::BandoRow, terms: &bando::AnomalyTerms, below: bool) -> Option<String> {
    if row.award_criterion() != AwardCriterion::MinorPrezzo {
        return Some("art. 54 c.1: l'esclusione automatica riguarda solo il minor prezzo; per l'OEPV si verifica l'offerta migliore (art. 110)".into());
    }
    if row.contract_type() == ContractType::Supplies {
        return Some("art. 54 c.1: l'esclusione automatica non si applica alle forniture".into());
    }
    if row.procedure_type() == ProcedureType::AffidamentoDiretto {
        return Some("art. 54 c.1: mai negli affidamenti diretti".into());
    }
    if !below {
        return Some("art. 54 c.1: l'esclusione automatica riguarda i contratti sotto soglia".into());
    }
    if terms.cross_border_interest {
        return Some("art. 54 c.1: il contratto ha un interesse transfrontaliero certo: nessuna esclusione automatica, le offerte anormalmente basse si verificano ai sensi dell'art. 110".into());
    }
    if row.anomaly_method.is_none() && terms.draw_methods.is_empty() {
        return Some("art. 54 c.2: il bando non indica il metodo dell'Allegato II.2".into());
    }
    None
}

/// The Allegato II.2 method: the one the bando states, or (art. 54 c.2) the one drawn at this
/// evaluation among those the bando allows, by the public draw on the tender's checkpoint
/// signed at closing (nobody chooses it, anyone recomputes it with `POST /api/v1/tools/draw`,
/// purpose `anomaly-method`). Returns the method and the draw's record, if drawn.
fn anomaly_method(
    conn: &mut PgConnection,
    row: &super::Tender,
    terms: &bando::AnomalyTerms,
) -> Result<(AnomalyMethod, Option<serde_json::Value>)> {
    let parse = |m: &str| m.parse::<AnomalyMethod>().unwrap_or(AnomalyMethod::A);
    if let Some(stated) = row.anomaly_method.as_deref() {
        return Ok((parse(stated), None));
    }
    let beacon = offerte::log::closing_checkpoint(conn, row.id)?.ok_or_else(|| {
        ProcedureError::conflict(
            "closing_checkpoint_missing",
            "Il registro non ha ancora chiuso la gara: manca il checkpoint firmato alla scadenza, fonte del sorteggio",
        )
    })?;
    let subject = row.scope().to_string();
    let candidates: Vec<String> = terms.draw_methods.iter().map(|m| m.as_str().to_string()).collect();
    let purpose = domain::draw::Purpose::AnomalyMethod;
    let seed = domain::draw::seed(purpose, &subject, &beacon.note)
        .map_err(|e| ProcedureError::conflict("internal", e.to_string()))?;
    let order = domain::draw::order(&seed, &candidates);
    let drawn = order.first().cloned().unwrap_or_else(|| "A".to_string());
    let record = serde_json::json!({
        "article": "art. 54 c.2",
        "algorithm": domain::draw::VERSION,
        "purpose": purpose.as_str(),
        "subject": subject,
        "beacon": beacon.note,
        "beacon_tree_size": beacon.tree_size,
        "seed": seed.hex(),
        "candidates": candidates,
        "order": order,
        "drawn": drawn,
    });
    Ok((parse(&drawn), Some(record)))
}

/// The tie-break draw of this evaluation (issue 9 finding 6): its randomness is the tender's
/// checkpoint signed at closing, fixed at the deadline before any envelope was opened, so
/// nobody chooses it and anyone recomputes it (`domain::draw`). Returns the seed and the
/// record stored with the computation.
fn tie_break_draw(conn: &mut PgConnection, row: &super::Tender) -> Result<(domain::draw::Seed, serde_json::Value)> {
    let beacon = offerte::log::closing_checkpoint(conn, row.id)?.ok_or_else(|| {
        ProcedureError::conflict(
            "closing_checkpoint_missing",
            "Il registro non ha ancora chiuso la gara: manca il checkpoint firmato alla scadenza, fonte del sorteggio",
        )
    })?;
    let subject = row.scope().to_string();
    let seed = crate::ranking::tie_break_seed(&subject, &beacon.note)
        .map_err(|e| ProcedureError::conflict("internal", e.to_string()))?;
    let record = serde_json::json!({
        "algorithm": domain::draw::VERSION,
        "purpose": domain::draw::Purpose::TieBreak.as_str(),
        "subject": subject,
        "beacon": beacon.note,
        "beacon_tree_size": beacon.tree_size,
        "seed": seed.hex(),
    });
    Ok((seed, record))
}

/// Opens the economic phase: reads envelope C of every admitted bidder and computes, stores
/// and shows everything (RUP / seggio di gara).
pub fn economic(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &EconomicPhase,
) -> Result<Procedura> {
    conn.transaction(|conn| {
        let row = tender_locked(conn, bando)?;
        require_rup(who, &row)?;
        require_opened(conn, row.id, "C")?;
        enter_evaluation(conn, ctx, who, &row)?;
        sync_participants(conn, &row)?;
        sweep(conn, ctx, &row)?;
        require_admin_phase_done(conn, bando)?;
        let existing: Option<(Option<chrono::DateTime<chrono::Utc>>, Option<serde_json::Value>)> = agg_evaluations::table
            .find(bando)
            .select((agg_evaluations::computed_at, agg_evaluations::technical_report))
            .first(conn)
            .optional()?;
        if existing.as_ref().is_some_and(|e| e.0.is_some()) {
            return Err(ProcedureError::conflict("economic_phase_done", "Le offerte economiche sono già state valutate (art. 108 c.12: i valori restano invariati)"));
        }
        let oepv = row.award_criterion() == AwardCriterion::Oepv;
        let technical_stored = existing.and_then(|e| e.1);
        if oepv && technical_stored.is_none() {
            return Err(ProcedureError::conflict("technical_phase_open", "La valutazione tecnica non è ancora chiusa"));
        }
        let admitted: Vec<Uuid> = agg_participants::table
            .filter(agg_participants::scope_id.eq(bando))
            .filter(agg_participants::status.eq("admitted"))
            .order(agg_participants::bidder_id.asc())
            .select(agg_participants::bidder_id)
            .load(conn)?;
        let bids = active_bid_ids(conn, &row)?;
        let c: Vec<(Uuid, Option<serde_json::Value>)> = opened_envelopes::table
            .inner_join(envelopes::table)
            .filter(envelopes::bid_id.eq_any(bids))
            .filter(opened_envelopes::kind.eq("C"))
            .filter(envelopes::superseded_at.is_null())
            .select((envelopes::bidder_id, opened_envelopes::economic_offer))
            .load(conn)?;
        let subject = row.subject_amount();
        let decimals = bando::store::anomaly_terms(conn, row.id)?
            .offer_decimals
            .unwrap_or(MAX_INPUT_DECIMALS)
            .min(MAX_INPUT_DECIMALS);
        let mut offers = Vec::new();
        for bidder in &admitted {
            let raw = c.iter().find(|(b, _)| b == bidder).and_then(|(_, o)| o.clone());
            let problem = match &raw {
                None => Some("offerta economica (busta C) assente o non decifrabile".to_string()),
                Some(v) if v.get("error").is_some() => Some(format!("offerta economica non valida: {}", v["error"].as_str().unwrap_or("?"))),
                Some(v) => {
                    let discount = dec(v, "discount");
                    let price = dec(v, "price");
                    match (discount, price) {
                        (Some(d), _) if d < Decimal::ZERO || d >= Decimal::ONE_HUNDRED => Some(format!("ribasso {d} fuori dall'intervallo 0–100")),
                        (_, Some(p)) if p <= Decimal::ZERO || p > subject => Some(format!("prezzo {p} non valido o superiore alla base d'asta {subject}")),
                        (None, None) => Some("né ribasso né prezzo".to_string()),
                        (Some(d), _) if d.normalize().scale() > decimals => Some(format!("ribasso {d} con più cifre decimali di quelle ammesse dal bando ({decimals})")),
                        (_, Some(p)) if p.normalize().scale() > decimals => Some(format!("prezzo {p} con più cifre decimali di quelle ammesse dal bando ({decimals})")),
                        _ => {
                            offers.push(EconomicOffer { bidder: *bidder, discount, price, raw: v.clone() });
                            None
                        }
                    }
                }
            };
            // Never a tender that cannot proceed: the offer is left out of the ranking and its
            // exclusion, with the reason, is proposed to the RUP, who decides it (art. 30 c.3
            // lett. b); the other offers are ranked.
            if let Some(p) = problem {
                super::exclusions::propose(conn, ctx, &row, *bidder, "economic", &p)?;
            }
        }
        let _: &EconomicPhase = input;
        let (seed, draw) = tie_break_draw(conn, &row)?;
        let (anomaly_applies, anomaly_why, anomaly_report, economic_report, ranking) = if oepv {
            oepv_phase(&row, technical_stored.unwrap_or_default(), &offers, subject, &seed)?
        } else {
            lowest_price(conn, ctx, &row, &offers, subject, &seed)?
        };
        diesel::insert_into(agg_evaluations::table)
            .values((
                agg_evaluations::scope_id.eq(bando),
                agg_evaluations::criterion.eq(Some(row.award_criterion().as_str())),
                agg_evaluations::anomaly_applies.eq(Some(anomaly_applies)),
                agg_evaluations::anomaly_why.eq(Some(&anomaly_why)),
                agg_evaluations::anomaly_report.eq(&anomaly_report),
                agg_evaluations::economic_report.eq(Some(&economic_report)),
                agg_evaluations::ranking.eq(Some(&ranking)),
                agg_evaluations::draw.eq(Some(&draw)),
                agg_evaluations::computed_by.eq(Some(who.user_id)),
                agg_evaluations::computed_at.eq(Some(ctx.at)),
            ))
            .on_conflict(agg_evaluations::scope_id)
            .do_update()
            .set((
                agg_evaluations::criterion.eq(Some(row.award_criterion().as_str())),
                agg_evaluations::anomaly_applies.eq(Some(anomaly_applies)),
                agg_evaluations::anomaly_why.eq(Some(&anomaly_why)),
                agg_evaluations::anomaly_report.eq(&anomaly_report),
                agg_evaluations::economic_report.eq(Some(&economic_report)),
                agg_evaluations::ranking.eq(Some(&ranking)),
                agg_evaluations::draw.eq(Some(&draw)),
                agg_evaluations::computed_by.eq(Some(who.user_id)),
                agg_evaluations::computed_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        if let Some(a) = &anomaly_report {
            event(conn, ctx, &row, "aggiudicazione.soglia_anomalia", a.clone())?;
        }
        event(conn, ctx, &row, "aggiudicazione.valutazione_economica",
              serde_json::json!({ "economic": economic_report, "ranking": ranking, "draw": draw, "anomaly_applies": anomaly_applies, "anomaly_why": anomaly_why }))?;
        model::load(conn, &row, ctx.at, None)
    })
}

type Phase = (
    bool,
    String,
    Option<serde_json::Value>,
    serde_json::Value,
    serde_json::Value,
);

fn discount_of(o: &EconomicOffer, subject: Decimal) -> Decimal {
    match (o.discount, o.price) {
        (Some(d), _) => d,
        (None, Some(p)) => ((subject - p) * Decimal::ONE_HUNDRED / subject).round_dp(MAX_INPUT_DECIMALS),
        (None, None) => Decimal::ZERO,
    }
}

fn price_of(o: &EconomicOffer, subject: Decimal) -> Decimal {
    match (o.price, o.discount) {
        (Some(p), _) => p,
        (None, Some(d)) => (subject * (Decimal::ONE_HUNDRED - d) / Decimal::ONE_HUNDRED).round_dp(MAX_INPUT_DECIMALS),
        (None, None) => subject,
    }
}

fn lowest_price(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &super::Tender,
    offers: &[EconomicOffer],
    subject: Decimal,
    seed: &domain::draw::Seed,
) -> Result<Phase> {
    let values: Vec<(Uuid, Decimal)> = offers.iter().map(|o| (o.bidder, discount_of(o, subject))).collect();
    let terms = bando::store::anomaly_terms(conn, row.id)?;
    let below = below_threshold(conn, row)?;
    let blocker = anomaly_blocker(row, &terms, below);
    let mut excluded: Vec<Uuid> = Vec::new();
    let (applies, why, report) = match blocker {
        Some(why) => (false, why, None),
        None => {
            let (method, method_draw) = anomaly_method(conn, row, &terms)?;
            if let Some(record) = &method_draw {
                event(
                    conn,
                    ctx,
                    row,
                    "aggiudicazione.metodo_anomalia_sorteggiato",
                    record.clone(),
                )?;
            }
            let request = AnomalyRequest {
                method,
                discounts: values
                    .iter()
                    .map(|(b, d)| {
                        DiscountEntry::Identified(IdentifiedDiscount {
                            id: b.to_string(),
                            discount: *d,
                        })
                    })
                    .collect(),
                reference_discount: if method == AnomalyMethod::C {
                    terms.reference_discount
                } else {
                    None
                },
                reference: None,
                publication_date: row.published_at.map(domain::deadlines::rome_date),
                // The anomaly report only lists ties; the ranking below draws them.
                options: AnomalyOptions::default(),
            };
            if values.is_empty() {
                (false, "nessuna offerta ammessa".to_string(), None)
            } else {
                let report = evaluate_anomaly(&request)?;
                let applies = report.automatic_exclusion_applies;
                let contraddittorio =
                    report.outcome == crate::anomaly::AnomalyOutcome::AllOffersAnomalousContraddittorio;
                let why = if contraddittorio {
                    format!("Allegato II.2 metodo C: tutte le {} offerte sono anomale (soglia {}): nessuna esclusione automatica, il RUP valuta l'anomalia in contraddittorio (art. 110)", report.n_admitted, report.threshold.map(|t| t.to_string()).unwrap_or_default())
                } else if applies {
                    format!("art. 54 c.1–2: {} offerte ammesse (almeno 5), lavori o servizi sotto soglia, metodo {method} dell'Allegato II.2", report.n_admitted)
                } else {
                    format!(
                        "art. 54 c.1: {} offerte ammesse, meno di 5: nessuna esclusione automatica",
                        report.n_admitted
                    )
                };
                let threshold = report.threshold;
                for x in &report.excluded {
                    let bidder: Uuid = x.id.parse().map_err(|_| ProcedureError::conflict("internal", "id"))?;
                    excluded.push(bidder);
                    let rel = match method {
                        AnomalyMethod::A => "pari o superiore",
                        _ => "superiore",
                    };
                    super::exclusions::propose(
                        conn,
                        ctx,
                        row,
                        bidder,
                        "anomaly",
                        &format!(
                            "art. 54, Allegato II.2 metodo {method}: ribasso {} {rel} alla soglia di anomalia {}",
                            x.discount,
                            threshold.map(|t| t.to_string()).unwrap_or_default()
                        ),
                    )?;
                }
                let report = serde_json::to_value(&report).unwrap_or_default();
                (
                    applies,
                    why,
                    Some(serde_json::json!({ "request": request, "report": report, "method_draw": method_draw })),
                )
            }
        }
    };
    let remaining: Vec<&(Uuid, Decimal)> = values.iter().filter(|(b, _)| !excluded.contains(b)).collect();
    let lines: Vec<ScoreLine> = remaining
        .iter()
        .map(|(b, d)| ScoreLine {
            id: b.to_string(),
            total: *d,
            technical: None,
        })
        .collect();
    let ranked = rank_scores(&lines, Some(seed));
    let ranking: Vec<serde_json::Value> = ranked
        .iter()
        .map(|r| {
            let d = remaining.iter().find(|(b, _)| b.to_string() == r.id).map(|(_, d)| *d).unwrap_or_default();
            serde_json::json!({ "bidder_id": r.id, "rank": r.rank, "tie_break": r.tie_break, "discount": d.to_string() })
        })
        .collect();
    let economic = serde_json::json!({
        "basis": "discount",
        "amount_subject_to_discount": subject.to_string(),
        "offers": offers.iter().map(|o| serde_json::json!({ "bidder_id": o.bidder, "discount": discount_of(o, subject).to_string(), "offer": o.raw })).collect::<Vec<_>>(),
    });
    Ok((applies, why, report, economic, serde_json::Value::Array(ranking)))
}

fn oepv_phase(
    row: &bando::store::BandoRow,
    technical: serde_json::Value,
    offers: &[EconomicOffer],
    subject: Decimal,
    seed: &domain::draw::Seed,
) -> Result<Phase> {
    let scheme = row
        .oepv()
        .ok_or_else(|| ProcedureError::conflict("not_oepv", "Il bando non ha i criteri dell'OEPV"))?;
    let mut request: TechnicalRequest = serde_json::from_value(technical["request"].clone())
        .map_err(|e| ProcedureError::conflict("technical_report_unreadable", e.to_string()))?;
    // Only offers still admitted at the economic phase take part.
    let keep: Vec<String> = offers.iter().map(|o| o.bidder.to_string()).collect();
    let technical_report = &technical["report"]["offers"];
    let passed_soglia = |id: &str| {
        technical_report
            .as_array()
            .and_then(|a| a.iter().find(|o| o["id"] == id))
            .is_some_and(|o| o["admitted"].as_bool() == Some(true))
    };
    request.offers.retain(|o| keep.contains(&o.id) || !passed_soglia(&o.id));
    let f = &scheme.economic_formula;
    let (formula, on_price) = match f.kind {
        FormulaKind::Inverse => (EconomicFormula::InverseProportional, true),
        FormulaKind::Bilinear => (EconomicFormula::Bilinear, false),
        FormulaKind::Concave => (EconomicFormula::Concave, false),
        FormulaKind::Interpolation if f.alpha.is_some_and(|a| a != Decimal::ONE) => (EconomicFormula::Concave, false),
        FormulaKind::Interpolation | FormulaKind::Linear => (EconomicFormula::Linear, false),
    };
    let economic_offers: Vec<ValueEntry> = offers
        .iter()
        .filter(|o| request.offers.iter().any(|t| t.id == o.bidder.to_string()))
        .map(|o| {
            ValueEntry::Identified(IdentifiedValue {
                id: o.bidder.to_string(),
                value: if on_price {
                    price_of(o, subject)
                } else {
                    discount_of(o, subject)
                },
            })
        })
        .collect();
    let oepv_request = OepvRequest {
        technical: request,
        economic: EconomicScoresRequest {
            formula,
            parameters: EconomicParameters {
                max_points: scheme.economic_weight,
                x: if formula == EconomicFormula::Bilinear {
                    f.x
                } else {
                    None
                },
                alpha: if formula == EconomicFormula::Concave {
                    f.alpha
                } else {
                    None
                },
            },
            offers: economic_offers,
            draw_seed: None,
        },
        draw_seed: None,
    };
    let report = evaluate_oepv_drawn(&oepv_request, Some(seed))?;
    let ranking: Vec<serde_json::Value> = report
        .ranking
        .iter()
        .map(|r| {
            let t = report.totals.iter().find(|t| t.id == r.id);
            serde_json::json!({ "bidder_id": r.id, "rank": r.rank, "tie_break": r.tie_break,
                                "technical": t.map(|t| t.technical.to_string()), "economic": t.map(|t| t.economic.to_string()),
                                "total": t.map(|t| t.total.to_string()) })
        })
        .collect();
    let economic = serde_json::json!({ "basis": if on_price { "price" } else { "discount" }, "request": oepv_request, "report": report,
                                       "offers": offers.iter().map(|o| serde_json::json!({ "bidder_id": o.bidder, "offer": o.raw })).collect::<Vec<_>>() });
    Ok((
        false,
        // OEPV: the first check of anomaly_blocker answers, the threshold is never read.
        anomaly_blocker(row, &bando::AnomalyTerms::default(), false).unwrap_or_default(),
        None,
        economic,
        serde_json::Value::Array(ranking),
    ))
}

/// Art. 110: the RUP asks the best offer for written explanations, within 15 days.
pub fn request_art110(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    input: &Art110Request,
) -> Result<Art110> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_rup(who, &row)?;
        sweep(conn, ctx, &row)?;
        if row.state() != bando::State::Evaluation {
            return Err(ProcedureError::conflict(
                "not_in_evaluation",
                "La verifica dell'anomalia precede la proposta di aggiudicazione",
            ));
        }
        let Some(first) = best(conn, bando)? else {
            return Err(ProcedureError::conflict(
                "evaluation_missing",
                "Nessuna graduatoria: valutare prima le offerte economiche",
            ));
        };
        if first != input.bidder_id {
            return Err(ProcedureError::invalid(
                "not_best_offer",
                "bidder_id",
                "art. 110 c.1: si verifica la migliore offerta in graduatoria",
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
                "C'è già una verifica di anomalia in corso",
            ));
        }
        let request = input.request.trim();
        if request.is_empty() {
            return Err(ProcedureError::invalid(
                "request_required",
                "request",
                "Indicare gli elementi da giustificare",
            ));
        }
        let id = Uuid::new_v4();
        let deadline = domain::deadlines::add_calendar_days(ctx.at, 15);
        diesel::insert_into(agg_art110::table)
            .values((
                agg_art110::id.eq(id),
                agg_art110::scope_id.eq(bando),
                agg_art110::bidder_id.eq(input.bidder_id),
                agg_art110::request.eq(request),
                agg_art110::deadline.eq(deadline),
                agg_art110::requested_by.eq(who.user_id),
                agg_art110::requested_at.eq(ctx.at),
            ))
            .execute(conn)?;
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.art110_richiesta",
            serde_json::json!({ "id": id, "bidder_id": input.bidder_id, "deadline": deadline, "request": request }),
        )?;
        notify(
            conn,
            ctx,
            &row,
            input.bidder_id,
            &format!(
                "Verifica dell'offerta anormalmente bassa - gara «{}» (art. 110)",
                row.oggetto
            ),
            &format!(
                "Si chiedono spiegazioni scritte entro il {} (15 giorni): {request}",
                domain::deadlines::rome_rfc3339(deadline)
            ),
        )?;
        fetch_art110(conn, row.scope(), id)
    })
}

/// The bidder's explanations, before the deadline.
pub fn answer_art110(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    id: Uuid,
    input: &Answer,
) -> Result<Art110> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        let a = fetch_own_art110(conn, who, row.scope(), id)?;
        if a.outcome.is_some() || a.answered_at.is_some() || ctx.at >= a.deadline {
            return Err(ProcedureError::conflict(
                "art110_closed",
                "Il termine per le spiegazioni è scaduto o sono già state date",
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
        diesel::update(agg_art110::table.find(id))
            .set((
                agg_art110::answer.eq(Some(answer)),
                agg_art110::answered_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.art110_spiegazioni",
            serde_json::json!({ "id": id, "bidder_id": who.user_id }),
        )?;
        fetch_art110(conn, row.scope(), id)
    })
}

/// The RUP accepts the explanations or excludes the offer (art. 110 c.5).
pub fn decide_art110(
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
        let a = fetch_art110(conn, row.scope(), id)?;
        if a.outcome.is_some() {
            return Err(ProcedureError::conflict("art110_closed", "La verifica ha già un esito"));
        }
        if a.answered_at.is_none() {
            return Err(ProcedureError::conflict(
                "art110_unanswered",
                "L'offerente non ha ancora risposto e il termine non è scaduto",
            ));
        }
        let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        if input.accepted {
            diesel::update(agg_art110::table.find(id))
                .set((
                    agg_art110::outcome.eq(Some("accepted")),
                    agg_art110::outcome_reason.eq(reason),
                    agg_art110::outcome_at.eq(Some(ctx.at)),
                ))
                .execute(conn)?;
            event(
                conn,
                ctx,
                &row,
                "aggiudicazione.art110_congrua",
                serde_json::json!({ "id": id, "bidder_id": a.bidder_id }),
            )?;
        } else {
            let reason = reason.ok_or_else(|| {
                ProcedureError::invalid("reason_required", "reason", "L'esclusione richiede la motivazione")
            })?;
            diesel::update(agg_art110::table.find(id))
                .set((
                    agg_art110::outcome.eq(Some("excluded")),
                    agg_art110::outcome_reason.eq(Some(reason)),
                    agg_art110::outcome_at.eq(Some(ctx.at)),
                ))
                .execute(conn)?;
            exclude(
                conn,
                ctx,
                &row,
                a.bidder_id,
                "art110",
                &format!("art. 110 c.5: {reason}"),
            )?;
        }
        model::load(conn, &row, ctx.at, None)
    })
}
