//! Correctly rounded power (p/q)^alpha for the concave formula, without floats.
//!
//! Why not `rust_decimal`'s `MathematicalOps::powd`: the vectors fix the concave coefficients
//! at 30 decimal places, rounded half-even (S-06), and a Decimal holds at most 28 — so no
//! Decimal computation can reproduce them to the required decimals, and `powd`'s series gives
//! no guarantee on the last digit anyway. Instead, with alpha = a/b in lowest terms,
//! x^alpha = b-th root of (p^a / q^a), which integer roots on big integers compute exactly:
//! floor(2·10^d·x^alpha) = floor-root_b( floor(2^b·10^(d·b)·p^a / q^a) ), and one extra power
//! tells whether the value lies exactly on a rounding midpoint. The result is the exact value
//! rounded half-even to d places — the correctly rounded result, not an approximation of it.
//! When the root is itself rational (e.g. 0.64^0.5 = 0.8) the exact value is returned unrounded.

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

use crate::exact::{pow10, Q};

/// Decimal places of concave coefficients with no exact rational value.
pub const CONCAVE_COEFFICIENT_DECIMALS: u32 = 30;

/// x^alpha for 0 <= x and 0 < alpha, alpha given exactly as a fraction.
pub(crate) fn power_rounded(x: &Q, alpha: &Q, places: u32) -> Q {
    if x.is_zero() {
        return Q::zero();
    }
    if alpha.is_one() || x.is_one() {
        return x.clone();
    }
    let a = exponent_part(alpha.numer());
    let b = exponent_part(alpha.denom());
    // x = n/m and alpha = a/b are in lowest terms, so x^alpha is rational exactly when n and m
    // are perfect b-th powers; checking on n and m keeps the numbers small (not n^a, m^a).
    let (n, m) = (x.numer(), x.denom());
    let (root_n, root_m) = (n.nth_root(b as u32), m.nth_root(b as u32));
    if num_traits::pow(root_n.clone(), b) == *n && num_traits::pow(root_m.clone(), b) == *m {
        return Q::new(num_traits::pow(root_n, a), num_traits::pow(root_m, a));
    }
    let p = num_traits::pow(n.clone(), a);
    let q = num_traits::pow(m.clone(), a);

    // z = floor(2·10^d·x^alpha): the largest z with z^b·q <= (2·10^d)^b·p. A float estimate
    // lands within a unit or two of it; exact comparisons then settle it. Why not an integer
    // root of the whole radicand: for b = 1000 its Newton iterations on numbers of ~10^5 bits
    // took about half a second per offer, and the public calculator takes 1000 offers
    // (issue 11: a single anonymous request must not hold a thread for minutes).
    let scale = pow10(places);
    let factor = num_traits::pow(BigInt::from(2) * &scale, b);
    let target = &factor * &p;
    let fits = |z: &BigInt| num_traits::pow(z.clone(), b) * &q <= target;
    let radicand = target.div_floor(&q);
    // Integer Newton from above the root decreases to floor-root(radicand), which is also
    // floor-root(target / q); the float start makes it take two or three steps.
    let start = estimate_root(&target, &q, b);
    let mut z: BigInt = &start + (&start >> 40u32) + 2;
    loop {
        let next = ((b - 1) * &z + &radicand / num_traits::pow(z.clone(), b - 1)) / b;
        if next >= z {
            break;
        }
        z = next;
    }
    while z.is_positive() && !fits(&z) {
        z -= 1;
    }
    loop {
        let next = &z + 1;
        if !fits(&next) {
            break;
        }
        z = next;
    }
    let half_units = z.clone();
    let (m, odd) = half_units.div_mod_floor(&BigInt::from(2));
    let units = if odd.is_zero() {
        m
    } else {
        // m + 1/2 <= value·10^d < m + 1. Exactly on the midpoint only if z^b·q == factor·p.
        let on_midpoint = num_traits::pow(z, b) * &q == target;
        if on_midpoint && m.is_even() {
            m
        } else {
            m + 1
        }
    };
    Q::new(units, scale)
}

/// exp((ln t − ln q) / b), rounded down to an integer: a starting point only, corrected exactly
/// by the caller.
fn estimate_root(t: &BigInt, q: &BigInt, b: usize) -> BigInt {
    let ln = |v: &BigInt| {
        let bits = v.bits();
        let shift = bits.saturating_sub(60);
        let top: BigInt = v >> shift;
        let top = top.iter_u64_digits().next().unwrap_or(1).max(1) as f64;
        top.ln() + shift as f64 * std::f64::consts::LN_2
    };
    let log = (ln(t) - ln(q)) / b as f64;
    // exp(log) may exceed f64's exact integers: rebuild it as mantissa · 2^k.
    let k = ((log / std::f64::consts::LN_2).floor() as i64 - 52).max(0);
    let mantissa = (log - k as f64 * std::f64::consts::LN_2).exp().floor().max(0.0) as u64;
    BigInt::from(mantissa) << (k as usize)
}

fn exponent_part(v: &BigInt) -> usize {
    debug_assert!(v.sign() != Sign::Minus);
    // Callers validate alpha (at most 3 decimals), so both parts are at most 1000.
    v.abs().iter_u32_digits().next().unwrap_or(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::q_ratio;

    #[test]
    fn exact_roots_stay_exact() {
        assert_eq!(power_rounded(&q_ratio(64, 100), &q_ratio(1, 2), 30), q_ratio(8, 10));
        assert_eq!(power_rounded(&q_ratio(1, 9), &q_ratio(1, 2), 30), q_ratio(1, 3));
        assert_eq!(power_rounded(&q_ratio(0, 1), &q_ratio(3, 10), 30), q_ratio(0, 1));
    }

    #[test]
    fn irrational_root_is_correctly_rounded() {
        // sqrt(2)/2 = 0.7071067811865475244008443621048490392848...
        let v = power_rounded(&q_ratio(1, 2), &q_ratio(1, 2), 30);
        let expected = Q::new(
            BigInt::parse_bytes(b"707106781186547524400844362105", 10).unwrap_or_default(),
            pow10(30),
        );
        assert_eq!(v, expected);
    }
}
