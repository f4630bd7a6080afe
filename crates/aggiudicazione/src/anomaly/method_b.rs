//! Method B — PROVISIONAL reconstruction (METHODS.md §4; official text not yet confirmed).
//!
//! T1 = M + SM; V = SM·d1·d2/100; E = digit sum of the integer part of S plus d1 and d2;
//! T = T1 - V if E is even, T1 + V if E is odd. Only discounts > T are excluded by default.
//! No 15-offer branch.

use rust_decimal::Decimal;

use super::statistics::TrimmedStatistics;
use super::trimming::Entry;
use super::types::{AdjustmentSign, AnomalyReport, Parity};
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

/// Unverified second-price reading: the next lower DISTINCT discount among the non-excluded
/// offers (`remaining`), below the winner's discount. Reported only, never applied.
pub(crate) fn second_price(remaining: &[Entry], winning: Decimal) -> Option<Decimal> {
    remaining.iter().map(|e| e.discount).filter(|d| *d < winning).max()
}
