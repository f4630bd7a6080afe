//! Method B (Allegato II.2, Metodo B; unchanged by D.Lgs. 209/2024).
//!
//! Point 1: T1 = M + SM (c); V = SM·d1·d2/100 (d); E = digit sum of S up to the second
//! decimal (e); T = T1 - V if E is even, T1 + V if E is odd (f). No 15-offer branch.
//! Point 2: discounts equal to or below T are "non-anomale" (so only > T is excluded); the
//! winner is the best of them, awarded at s2, the best discount among the others ("metodo del
//! secondo prezzo"); on a tie at the best discount the winner is drawn among the tied and is
//! awarded at its own discount.

use rust_decimal::Decimal;

use super::statistics::TrimmedStatistics;
use super::trimming::Entry;
use super::types::{AdjustmentSign, AnomalyReport, AwardDiscountRule, Parity, Winner};
use super::ThresholdOutcome;
use crate::error::EvalError;
use crate::exact::{q_int, Renderer, Q};

/// Fill the shared B/C fields (d1, d2, product, E, parity, V, sign) and return (V, sign).
pub(crate) fn adjustment(
    stats: &TrimmedStatistics,
    report: &mut AnomalyReport,
    renderer: &mut Renderer,
) -> Result<(Q, AdjustmentSign), EvalError> {
    let product = stats.product_d1_d2();
    let e = stats.digit_sum_e();
    let parity = if e & 1 == 0 { Parity::Even } else { Parity::Odd };
    let sign = match parity {
        Parity::Even => AdjustmentSign::Minus,
        Parity::Odd => AdjustmentSign::Plus,
    };
    let v = &stats.mean_deviation * q_int(i64::from(product)) / q_int(100);
    report.sum_first_two_decimals = Some(stats.first_two_decimals());
    report.product_d1_d2 = Some(product);
    report.digit_sum_e = Some(e);
    report.e_parity = Some(parity);
    report.adjustment = Some(renderer.render("adjustment", &v)?);
    report.adjustment_sign = Some(sign);
    Ok((v, sign))
}

/// Apply the adjustment to a base value according to the sign.
pub(crate) fn apply(base: &Q, v: &Q, sign: AdjustmentSign) -> Q {
    match sign {
        AdjustmentSign::Minus => base - v,
        AdjustmentSign::Plus => base + v,
    }
}

pub(crate) fn threshold(
    stats: &TrimmedStatistics,
    report: &mut AnomalyReport,
    renderer: &mut Renderer,
) -> Result<ThresholdOutcome, EvalError> {
    let t1 = &stats.mean + &stats.mean_deviation;
    report.threshold_before_adjustment = Some(renderer.render("threshold_before_adjustment", &t1)?);
    let (v, sign) = adjustment(stats, report, renderer)?;
    Ok(ThresholdOutcome {
        threshold: apply(&t1, &v, sign),
    })
}

/// Point 2: the award discount of `winner` among the non-anomalous offers `remaining`.
/// A unique best: s2, the best of the other non-anomalous discounts (with no other offer
/// left there is no s2 and the winner keeps its own). A tie (s1 = s2): its own discount.
pub(crate) fn award_discount(remaining: &[Entry], winner: &Winner) -> (Decimal, AwardDiscountRule) {
    if winner.tie_lottery {
        return (winner.discount, AwardDiscountRule::TieOwnDiscount);
    }
    let others = remaining
        .iter()
        .filter(|e| !winner.ids.contains(&e.id))
        .map(|e| e.discount)
        .max();
    match others {
        Some(s2) => (s2, AwardDiscountRule::SecondPrice),
        None => (winner.discount, AwardDiscountRule::OwnDiscount),
    }
}
