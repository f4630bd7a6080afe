//! Method C (Allegato II.2, Metodo C; unchanged by D.Lgs. 209/2024).
//!
//! Point 1: the tender states the reference discount (from Tabella A, or departing from it
//! with a motivation). Point 2: T = R_ref - V if E is even, R_ref + V if E is odd (e), with
//! V = SM·d1·d2/100 (c) and E as in Method B (d); T does not depend on M. Point 2 f: discounts
//! above T are excluded, the winner is the best of the others (wing offers included) at its own
//! discount; when every offer is anomalous nothing is excluded and the anomaly is checked in
//! contraddittorio (outcome ALL_OFFERS_ANOMALOUS_CONTRADDITTORIO).

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
