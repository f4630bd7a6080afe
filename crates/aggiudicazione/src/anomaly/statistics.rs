//! S, M, SM, d1·d2 and E computed on the trimmed set (exact arithmetic).

use num_traits::{ToPrimitive, Zero};
use rust_decimal::Decimal;

use super::trimming::Entry;
use crate::exact::{q_int, Q};

pub(crate) struct TrimmedStatistics {
    /// S as an exact value.
    pub(crate) sum: Q,
    /// S as a Decimal keeping the input precision (a sum of Decimals is exact).
    pub(crate) sum_decimal: Decimal,
    /// M = S / count.
    pub(crate) mean: Q,
    /// Trimmed offers with discount strictly greater than M.
    pub(crate) above_mean: Vec<Entry>,
    /// SM = mean of (r - M) over `above_mean`, 0 if there is none.
    pub(crate) mean_deviation: Q,
}

impl TrimmedStatistics {
    /// `kept` must not be empty.
    pub(crate) fn compute(kept: &[Entry]) -> Self {
        let sum: Q = kept.iter().map(|e| e.value.clone()).sum();
        let sum_decimal = kept.iter().map(|e| e.discount).sum();
        let mean = &sum / q_int(kept.len() as i64);
        let above_mean: Vec<Entry> = kept.iter().filter(|e| e.value > mean).cloned().collect();
        let mean_deviation = if above_mean.is_empty() {
            Q::zero()
        } else {
            let deviations: Q = above_mean.iter().map(|e| &e.value - &mean).sum();
            deviations / q_int(above_mean.len() as i64)
        };
        TrimmedStatistics {
            sum,
            sum_decimal,
            mean,
            above_mean,
            mean_deviation,
        }
    }

    /// d1, d2: first and second digit after the decimal point of the EXACT sum (a missing
    /// digit counts as 0; no rounding of S beforehand: 180.875 gives 8 and 7).
    pub(crate) fn first_two_decimals(&self) -> [u8; 2] {
        let hundredths = (&self.sum * q_int(100)).floor().to_integer();
        let last_two = (hundredths % 100u32).to_u8().unwrap_or(0);
        [last_two / 10, last_two % 10]
    }

    /// d1 × d2.
    pub(crate) fn product_d1_d2(&self) -> u32 {
        let [d1, d2] = self.first_two_decimals();
        u32::from(d1) * u32::from(d2)
    }

    /// E = sum of the digits of the integer part of S, plus d1 and d2 (Methods B and C).
    pub(crate) fn digit_sum_e(&self) -> u32 {
        let integer_part = self.sum.floor().to_integer();
        let digits: u32 = integer_part.to_string().chars().filter_map(|c| c.to_digit(10)).sum();
        let [d1, d2] = self.first_two_decimals();
        digits + u32::from(d1) + u32::from(d2)
    }
}
