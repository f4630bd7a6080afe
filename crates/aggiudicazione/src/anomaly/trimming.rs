//! Wing size k and "taglio delle ali" (Allegato II.2, shared by Methods A, B and C).

use rust_decimal::Decimal;

use super::types::WingTies;
use crate::exact::Q;

/// An admitted offer with its exact value.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) discount: Decimal,
    pub(crate) value: Q,
}

/// Result of trimming the wings; all lists keep ascending order.
pub(crate) struct Trimmed {
    pub(crate) k: usize,
    pub(crate) lower: Vec<Entry>,
    pub(crate) upper: Vec<Entry>,
    pub(crate) kept: Vec<Entry>,
}

/// k = 10 % of n rounded up to the next integer, i.e. ceil(n / 10).
pub(crate) fn wing_size(n: usize) -> usize {
    n.div_ceil(10)
}

/// Set aside the wings of `sorted` (ascending, at least one offer).
///
/// `CountIndividually` (literal rule): the k lowest and k highest offers counted one by one,
/// plus every other offer equal to the k-th lowest or k-th highest discount. The wings may
/// overlap when ties are wide (all offers equal: both wings hold every offer).
///
/// `DistinctValues` ("blocco unitario"): the k lowest and k highest distinct discount values.
pub(crate) fn trim_wings(sorted: &[Entry], ties: WingTies) -> Trimmed {
    let n = sorted.len();
    let k = wing_size(n);
    let (low_boundary, high_boundary) = match ties {
        WingTies::CountIndividually => (sorted[k - 1].value.clone(), sorted[n - k].value.clone()),
        WingTies::DistinctValues => {
            let mut distinct: Vec<&Q> = sorted.iter().map(|e| &e.value).collect();
            distinct.dedup();
            let d = distinct.len();
            let low = distinct[(k - 1).min(d - 1)].clone();
            let high = distinct[d.saturating_sub(k)].clone();
            (low, high)
        }
    };
    let lower = sorted.iter().filter(|e| e.value <= low_boundary).cloned().collect();
    let upper = sorted.iter().filter(|e| e.value >= high_boundary).cloned().collect();
    let kept = sorted
        .iter()
        .filter(|e| e.value > low_boundary && e.value < high_boundary)
        .cloned()
        .collect();
    Trimmed { k, lower, upper, kept }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wing_size_is_ceiling_of_a_tenth() {
        assert_eq!(wing_size(5), 1);
        assert_eq!(wing_size(10), 1);
        assert_eq!(wing_size(11), 2);
        assert_eq!(wing_size(20), 2);
        assert_eq!(wing_size(21), 3);
    }
}
