//! Method C — PROVISIONAL reconstruction (METHODS.md §5; official text not yet confirmed).
//!
//! T = R_ref - V if E is even, R_ref + V if E is odd, with V = SM·d1·d2/100 and E as in
//! Method B. T does not depend on M. Only discounts > T are excluded by default (ANAC delibera
//! 217/2024 as reported). Every offer may end up excluded (outcome ALL_OFFERS_EXCLUDED).

use super::method_b::{adjustment, apply};
use super::statistics::TrimmedStatistics;
use super::types::AnomalyReport;
use super::ThresholdOutcome;
use crate::error::EvalError;
use crate::exact::{Renderer, Q};

pub(crate) fn threshold(
    reference: &Q,
    stats: &TrimmedStatistics,
    report: &mut AnomalyReport,
    renderer: &mut Renderer,
) -> Result<ThresholdOutcome, EvalError> {
    let (v, sign) = adjustment(stats, report, renderer)?;
    Ok(ThresholdOutcome {
        threshold: apply(reference, &v, sign),
    })
}
