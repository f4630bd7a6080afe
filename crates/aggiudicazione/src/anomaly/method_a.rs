//! Method A (Allegato II.2, official text).
//!
//! Point 1, n >= 15: T1 = M + SM; T = T1 - SM·d1·d2/100 (decrement subtracted as an absolute
//! amount: MIT opinion, TAR Brescia 968/2019, Cons. Stato V 2856/2020).
//! Point 2, 5 <= n < 15: R = SM / M; T = 1.20·M if R <= 0.15, otherwise T = M + SM.
//! Point 3: offers with discount >= T are excluded by default (Cons. Stato 5780/2024).

use super::statistics::TrimmedStatistics;
use super::types::{AnomalyReport, MethodABranch, ThresholdRule};
use super::ThresholdOutcome;
use crate::error::EvalError;
use crate::exact::{q_int, q_ratio, Renderer};

/// Number of admitted offers from which point 1 applies.
pub(crate) const LARGE_TENDER_OFFERS: usize = 15;

/// Point 1 applies from 15 admitted offers, point 2 below.
pub(crate) fn branch(n: usize) -> MethodABranch {
    if n >= LARGE_TENDER_OFFERS {
        MethodABranch::AtLeast15
    } else {
        MethodABranch::FewerThan15
    }
}

pub(crate) fn threshold(
    n: usize,
    stats: &TrimmedStatistics,
    report: &mut AnomalyReport,
    renderer: &mut Renderer,
) -> Result<ThresholdOutcome, EvalError> {
    let m = &stats.mean;
    let sm = &stats.mean_deviation;
    report.branch = Some(branch(n));
    if n >= LARGE_TENDER_OFFERS {
        let product = stats.product_d1_d2();
        report.sum_first_two_decimals = Some(stats.first_two_decimals());
        report.product_d1_d2 = Some(product);
        let t1 = m + sm;
        let decrement = sm * q_int(i64::from(product)) / q_int(100);
        let threshold = &t1 - &decrement;
        report.threshold_before_decrement = Some(renderer.render("threshold_before_decrement", &t1)?);
        report.decrement = Some(renderer.render("decrement", &decrement)?);
        Ok(ThresholdOutcome { threshold })
    } else {
        // M > 0: every trimmed discount is above the lower wing's boundary, which is >= 0.
        let ratio = sm / m;
        let ratio_le = ratio <= q_ratio(15, 100);
        report.ratio_sm_over_m = Some(renderer.render("ratio_SM_over_M", &ratio)?);
        report.ratio_le_0_15 = Some(ratio_le);
        let threshold = if ratio_le {
            report.threshold_rule = Some(ThresholdRule::MeanTimes120);
            m * q_ratio(120, 100)
        } else {
            report.threshold_rule = Some(ThresholdRule::MeanPlusDeviation);
            m + sm
        };
        Ok(ThresholdOutcome { threshold })
    }
}
