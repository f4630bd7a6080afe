//! Economic coefficients in [0, 1] (exact; concave rounded per [`super::power`]).
//!
//! * linear on discount: Ci = Ri / Rmax
//! * bilinear on discount: Ci = X·Ri/Asoglia if Ri <= Asoglia, otherwise
//!   X + (1 - X)·(Ri - Asoglia)/(Rmax - Asoglia); Asoglia = arithmetic mean of all discounts
//! * concave on discount: Ci = (Ri / Rmax)^alpha, 0 < alpha <= 1
//! * inverse proportional on price: Ci = Pmin / Pi
//!
//! Degenerate cases: with Rmax = 0 (every discount zero) every coefficient is 0; with
//! Asoglia = 0 likewise.

use num_traits::Zero;

use super::power::{power_rounded, CONCAVE_COEFFICIENT_DECIMALS};
use crate::exact::{one, q_int, Q};

pub(crate) fn linear(values: &[Q]) -> Vec<Q> {
    let max = max_of(values);
    values
        .iter()
        .map(|r| if max.is_zero() { Q::zero() } else { r / &max })
        .collect()
}

/// Returns (Asoglia, coefficients).
pub(crate) fn bilinear(values: &[Q], x: &Q) -> (Q, Vec<Q>) {
    let max = max_of(values);
    let sum: Q = values.iter().cloned().sum();
    let asoglia = sum / q_int(values.len() as i64);
    let coefficients = values
        .iter()
        .map(|r| {
            if asoglia.is_zero() {
                Q::zero()
            } else if r <= &asoglia {
                x * r / &asoglia
            } else {
                // r > Asoglia implies Rmax > Asoglia.
                x + (one() - x) * (r - &asoglia) / (&max - &asoglia)
            }
        })
        .collect();
    (asoglia, coefficients)
}

pub(crate) fn concave(values: &[Q], alpha: &Q) -> Vec<Q> {
    linear(values)
        .iter()
        .map(|ratio| power_rounded(ratio, alpha, CONCAVE_COEFFICIENT_DECIMALS))
        .collect()
}

/// Prices must all be > 0 (validated by the caller).
pub(crate) fn inverse_proportional(prices: &[Q]) -> Vec<Q> {
    let min = prices.iter().min().cloned().unwrap_or_else(Q::zero);
    prices.iter().map(|p| &min / p).collect()
}

fn max_of(values: &[Q]) -> Q {
    values.iter().max().cloned().unwrap_or_else(Q::zero)
}
