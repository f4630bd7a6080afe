//! Automatic exclusion of abnormally low offers: art. 54 and Allegato II.2 D.Lgs. 36/2023.
//!
//! Entry point: [`evaluate_anomaly`]. It takes the admitted discounts and the method (A, B or C)
//! and returns an [`AnomalyReport`] with every intermediate value (wings, k, trimmed set, S, M,
//! SM, R, d1·d2, E, decrement or adjustment, threshold T), the excluded offers with the reason
//! and the best non-excluded offer.
//!
//! Arithmetic: exact fractions throughout (see [`crate::exact`]); comparisons with the
//! threshold are exact; output decimals are exact when their expansion terminates within 20
//! places, otherwise rounded half-even to 20 places and listed in `inexact_fields`, with the
//! exact fraction in `fractions`. No other rounding or truncation is applied: Allegato II.2 fixes
//! no number of decimals and TAR Bari 513/2023 forbids unstated rounding.
//!
//! Text: Allegato II.2 as amended by D.Lgs. 209/2024 (in force from 2024-12-31) for tenders
//! published from that day, the 2023 text before ([`text`]). The only amendment is Method A
//! point 3 ("pari o superiori"); the readings that contradict the text (offers equal to the
//! Method A threshold kept, wing ties as one block) are options only for 2023-text tenders.
//! Method B awards at the second price (point 2); Method C needs the tender's reference
//! discount and, when every offer is anomalous, excludes nothing (point 2 f: contraddittorio).

mod method_a;
mod method_b;
mod method_c;
pub mod reference_table;
mod statistics;
pub mod text;
mod trimming;
mod types;

pub use reference_table::{method_c_reference_discount, AmountBand, ReferenceKey};
pub use types::*;

use std::collections::HashSet;

use crate::error::EvalError;
use crate::exact::{check_discount, q_from_decimal, Renderer, Q};
use crate::ranking::{calculator_seed, draw_order};

use statistics::TrimmedStatistics;
use trimming::{trim_wings, Entry};

/// Minimum number of admitted offers for automatic exclusion (art. 54 c.1).
pub const MINIMUM_OFFERS_FOR_AUTOMATIC_EXCLUSION: usize = 5;

/// Method-specific threshold computation, shared shape for A, B and C.
pub(crate) struct ThresholdOutcome {
    pub(crate) threshold: Q,
}

/// Evaluate the anomaly threshold and the automatic exclusions for one tender.
///
/// Validation: at least one discount; each in [0, 100) with at most 10 decimals; ids unique;
/// Method C needs exactly one of `reference_discount` or `reference`, the other methods neither.
pub fn evaluate_anomaly(request: &AnomalyRequest) -> Result<AnomalyReport, EvalError> {
    let entries = validate_and_collect(request)?;
    let (reference, reference_unverified) = resolve_reference(request)?;
    let method = request.method;
    let text = text::of_publication(request.publication_date);
    text::check_options(text, method, &request.options)?;
    let n = entries.len();

    let mut sorted = entries.clone();
    // Stable sort: equal discounts keep their input order.
    sorted.sort_by(|a, b| a.value.cmp(&b.value));

    let mut report = AnomalyReport::empty(method, text, n);
    report.sorted_ascending = offers_of(&sorted);
    let mut renderer = Renderer::default();
    if let Some(reference) = &reference {
        report.reference_discount = Some(renderer.render("reference_discount", reference)?);
        report.reference_discount_unverified = Some(reference_unverified);
    }

    if n < MINIMUM_OFFERS_FOR_AUTOMATIC_EXCLUSION {
        report.automatic_exclusion_applies = false;
        report.outcome = AnomalyOutcome::NotApplicableLessThan5Offers;
        let winner = best_offer(&sorted, request.options.lottery_seed);
        report.award_discount = Some(winner.discount);
        report.award_discount_rule = Some(AwardDiscountRule::OwnDiscount);
        report.winner = Some(winner);
        report.finish(renderer);
        return Ok(report);
    }

    if method == AnomalyMethod::A {
        report.branch = Some(method_a::branch(n));
    }
    let trimmed = trim_wings(&sorted, request.options.wing_ties);
    report.wing_size_k = Some(trimmed.k);
    report.lower_wing = offers_of(&trimmed.lower);
    report.upper_wing = offers_of(&trimmed.upper);
    report.trimmed_set = offers_of(&trimmed.kept);
    report.trimmed_count = Some(trimmed.kept.len());

    if trimmed.kept.is_empty() {
        report.outcome = AnomalyOutcome::NoThresholdEmptyTrimmedSet;
        report.winner_if_no_exclusion = Some(best_offer(&sorted, request.options.lottery_seed));
        report.finish(renderer);
        return Ok(report);
    }

    let stats = TrimmedStatistics::compute(&trimmed.kept);
    report.sum = Some(stats.sum_decimal);
    report.mean = Some(renderer.render("mean", &stats.mean)?);
    report.above_mean = offers_of(&stats.above_mean);
    report.mean_deviation = Some(renderer.render("mean_deviation", &stats.mean_deviation)?);

    let outcome = match method {
        AnomalyMethod::A => method_a::threshold(n, &stats, &mut report, &mut renderer)?,
        AnomalyMethod::B => method_b::threshold(&stats, &mut report, &mut renderer)?,
        AnomalyMethod::C => {
            // resolve_reference guarantees a reference for Method C.
            let reference = reference.ok_or_else(|| EvalError::MissingParameter {
                field: "reference_discount".to_owned(),
            })?;
            method_c::threshold(&reference, &stats, &mut report, &mut renderer)?
        }
    };
    report.threshold = Some(renderer.render("threshold", &outcome.threshold)?);

    let rule = request
        .options
        .equal_to_threshold
        .unwrap_or_else(|| method.default_equal_to_threshold());
    report.exclusion_rule = Some(match rule {
        EqualToThreshold::Excluded => ExclusionRule::AtOrAboveThreshold,
        EqualToThreshold::Kept => ExclusionRule::AboveThreshold,
    });

    let mut remaining = Vec::new();
    for entry in &sorted {
        let reason = if entry.value > outcome.threshold {
            Some(ExclusionReason::AboveThreshold)
        } else if entry.value == outcome.threshold && rule == EqualToThreshold::Excluded {
            Some(ExclusionReason::EqualToThreshold)
        } else {
            None
        };
        match reason {
            Some(reason) => report.excluded.push(ExcludedOffer {
                id: entry.id.clone(),
                discount: entry.discount,
                reason,
            }),
            None => remaining.push(entry.clone()),
        }
    }

    if remaining.is_empty() && method == AnomalyMethod::C {
        // Point 2 f, last sentence: the anomaly is checked in contraddittorio, not excluded.
        report.outcome = AnomalyOutcome::AllOffersAnomalousContraddittorio;
        report.anomalous_to_verify = report
            .excluded
            .drain(..)
            .map(|x| Offer {
                id: x.id,
                discount: x.discount,
            })
            .collect();
    } else if remaining.is_empty() {
        report.outcome = AnomalyOutcome::AllOffersExcluded;
    } else {
        let winner = best_offer(&remaining, request.options.lottery_seed);
        let (discount, rule) = match method {
            AnomalyMethod::B => method_b::award_discount(&remaining, &winner),
            AnomalyMethod::A | AnomalyMethod::C => (winner.discount, AwardDiscountRule::OwnDiscount),
        };
        report.award_discount = Some(discount);
        report.award_discount_rule = Some(rule);
        report.winner = Some(winner);
    }
    report.finish(renderer);
    Ok(report)
}

fn validate_and_collect(request: &AnomalyRequest) -> Result<Vec<Entry>, EvalError> {
    if request.discounts.is_empty() {
        return Err(EvalError::EmptyOffers {
            field: "discounts".to_owned(),
        });
    }
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(request.discounts.len());
    for (index, item) in request.discounts.iter().enumerate() {
        let (id, discount) = item.id_and_value(index);
        let field = format!("discounts[{index}]");
        check_discount(discount, &field)?;
        if !seen.insert(id.clone()) {
            return Err(EvalError::DuplicateId { field, id });
        }
        entries.push(Entry {
            id,
            discount,
            value: q_from_decimal(discount),
        });
    }
    Ok(entries)
}

/// The reference discount (Method C) and whether it came from the unverified table.
fn resolve_reference(request: &AnomalyRequest) -> Result<(Option<Q>, bool), EvalError> {
    match (request.method, request.reference_discount, &request.reference) {
        (AnomalyMethod::C, Some(_), Some(_)) => Err(EvalError::InvalidParameter {
            field: "reference".to_owned(),
            reason: "indicare lo sconto di riferimento oppure la voce di tabella, non entrambi".to_owned(),
        }),
        (AnomalyMethod::C, Some(value), None) => {
            check_discount(value, "reference_discount")?;
            Ok((Some(q_from_decimal(value)), false))
        }
        (AnomalyMethod::C, None, Some(key)) => Ok((Some(q_from_decimal(method_c_reference_discount(key)?)), true)),
        (AnomalyMethod::C, None, None) => Err(EvalError::MissingParameter {
            field: "reference_discount".to_owned(),
        }),
        (_, Some(_), _) => Err(EvalError::UnexpectedParameter {
            field: "reference_discount".to_owned(),
        }),
        (_, None, Some(_)) => Err(EvalError::UnexpectedParameter {
            field: "reference".to_owned(),
        }),
        (_, None, None) => Ok((None, false)),
    }
}

fn offers_of(entries: &[Entry]) -> Vec<Offer> {
    entries
        .iter()
        .map(|e| Offer {
            id: e.id.clone(),
            discount: e.discount,
        })
        .collect()
}

/// Highest discount among `candidates` (sorted ascending); ties are reported for a lot and,
/// when a seed is given, drawn with [`crate::ranking::draw_order`] (a calculator's seed:
/// [`crate::ranking::calculator_seed`]).
fn best_offer(candidates: &[Entry], seed: Option<u64>) -> Winner {
    let best = candidates.iter().map(|e| &e.value).max().cloned().unwrap_or_default();
    let tied: Vec<&Entry> = candidates.iter().filter(|e| e.value == best).collect();
    let ids: Vec<String> = tied.iter().map(|e| e.id.clone()).collect();
    let tie_lottery = ids.len() > 1;
    let drawn_id = match (tie_lottery, seed) {
        (true, Some(seed)) => draw_order(&calculator_seed(seed), &ids).into_iter().next(),
        _ => None,
    };
    Winner {
        discount: tied.first().map(|e| e.discount).unwrap_or_default(),
        ids,
        tie_lottery,
        drawn_id,
    }
}
