//! Exact rational arithmetic behind every calculation, and its conversion to output decimals.
//!
//! Inputs and outputs are `rust_decimal::Decimal` (never floats). Intermediate values, however,
//! are kept as exact fractions: a Decimal has 28 digits and cannot hold values such as 101/120
//! or 3361/260, and Allegato II.2 compares discounts with the threshold exactly (METHODS.md §2.6,
//! TAR Bari 513/2023: no unstated rounding). Accumulating rounded Decimals could put an offer on
//! the wrong side of the threshold (vector B-11: the threshold is exactly 15.3192 although M, SM
//! and the adjustment have no finite expansion). Fractions make every comparison exact.
//!
//! Output rule ([`Renderer`]): a value whose decimal expansion terminates within
//! [`OUTPUT_DECIMALS`] (20) places is returned exactly; any other value is rounded half-even to
//! 20 places, its field name is listed in `inexact_fields` and its exact fraction `p/q` is
//! reported in `fractions` — the convention of the conformance vectors.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use rust_decimal::Decimal;

use crate::error::EvalError;

/// Exact rational number.
pub(crate) type Q = BigRational;

/// Decimal places of output values with no short finite expansion.
pub const OUTPUT_DECIMALS: u32 = 20;

/// Largest number of decimal places accepted in any input value.
pub const MAX_INPUT_DECIMALS: u32 = 10;

/// Exact value of a Decimal.
pub(crate) fn q_from_decimal(d: Decimal) -> Q {
    let mantissa = BigInt::from(d.mantissa());
    Q::new(mantissa, pow10(d.scale()))
}

pub(crate) fn q_int(n: i64) -> Q {
    Q::from_integer(BigInt::from(n))
}

/// `p/q` as an exact rational.
pub(crate) fn q_ratio(p: i64, q: i64) -> Q {
    Q::new(BigInt::from(p), BigInt::from(q))
}

pub(crate) fn pow10(exp: u32) -> BigInt {
    num_traits::pow(BigInt::from(10), exp as usize)
}

/// Rounding used by [`round_q`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounding {
    /// Ties to the even neighbour (banker's rounding).
    HalfEven,
    /// Ties away from zero (the usual "arrotondamento commerciale").
    HalfUp,
}

/// Round an exact value to `dp` decimal places; the result is again exact.
pub(crate) fn round_q(q: &Q, dp: u32, mode: Rounding) -> Q {
    Q::new(round_units(q, dp, mode), pow10(dp))
}

/// `q` × 10^`dp` rounded to an integer: the units of `q` rounded to `dp` places. On the
/// numerator and denominator as they are: a rational product would reduce (a GCD of big
/// integers) only for the division to follow, and rendering an OEPV award of 1,000 offers is
/// tens of thousands of these.
fn round_units(q: &Q, dp: u32, mode: Rounding) -> BigInt {
    let scaled = q.numer().abs() * pow10(dp);
    let (floor, rem): (BigInt, BigInt) = scaled.div_mod_floor(q.denom());
    let twice: BigInt = rem * 2;
    let round_up = match twice.cmp(q.denom()) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => match mode {
            Rounding::HalfUp => true,
            Rounding::HalfEven => floor.is_odd(),
        },
    };
    let units = if round_up { floor + 1 } else { floor };
    if q.is_negative() {
        -units
    } else {
        units
    }
}

/// Number of decimal places of the terminating expansion of `q`, if it terminates.
pub(crate) fn terminating_places(q: &Q) -> Option<u32> {
    let den = q.denom().magnitude();
    let twos = den.trailing_zeros().unwrap_or(0);
    let mut rest = den >> twos;
    let mut fives = 0u32;
    while (&rest % 5u32).is_zero() {
        rest /= 5u32;
        fives += 1;
    }
    if rest.is_one() {
        Some(u32::try_from(twos).unwrap_or(u32::MAX).max(fives))
    } else {
        None
    }
}

/// Convert a value with a terminating expansion of at most 28 places to Decimal.
pub(crate) fn decimal_from_terminating(q: &Q, places: u32, field: &str) -> Result<Decimal, EvalError> {
    let scaled = q.numer() * pow10(places);
    debug_assert!((&scaled % q.denom()).is_zero());
    decimal_of_units(&(scaled / q.denom()), places, field)
}

/// The Decimal `units` × 10^-`places`.
fn decimal_of_units(units: &BigInt, places: u32, field: &str) -> Result<Decimal, EvalError> {
    let overflow = || EvalError::ArithmeticOverflow {
        field: field.to_owned(),
    };
    let units = units.to_i128().ok_or_else(overflow)?;
    Decimal::try_from_i128_with_scale(units, places)
        .map(|d| d.normalize())
        .map_err(|_| overflow())
}

/// The exact fraction `p/q` of a value, as the vectors print it.
pub(crate) fn fraction_text(q: &Q) -> String {
    if q.is_integer() {
        q.numer().to_string()
    } else {
        format!("{}/{}", q.numer(), q.denom())
    }
}

/// Turns exact values into output Decimals and records which ones were rounded.
#[derive(Debug, Default)]
pub(crate) struct Renderer {
    pub(crate) inexact_fields: Vec<String>,
    pub(crate) fractions: BTreeMap<String, String>,
}

impl Renderer {
    /// Exact if the expansion terminates within 20 places; otherwise rounded half-even to 20
    /// places and recorded under `field` in `inexact_fields` and `fractions`.
    pub(crate) fn render(&mut self, field: &str, q: &Q) -> Result<Decimal, EvalError> {
        match terminating_places(q) {
            Some(places) if places <= OUTPUT_DECIMALS => decimal_from_terminating(q, places, field),
            _ => {
                self.inexact_fields.push(field.to_owned());
                self.fractions.insert(field.to_owned(), fraction_text(q));
                decimal_of_units(
                    &round_units(q, OUTPUT_DECIMALS, Rounding::HalfEven),
                    OUTPUT_DECIMALS,
                    field,
                )
            }
        }
    }

    /// Rendering without bookkeeping, for values that are exact by construction
    /// (display roundings, input echoes).
    pub(crate) fn plain(q: &Q, field: &str) -> Result<Decimal, EvalError> {
        match terminating_places(q) {
            Some(places) if places <= OUTPUT_DECIMALS => decimal_from_terminating(q, places, field),
            _ => decimal_of_units(
                &round_units(q, OUTPUT_DECIMALS, Rounding::HalfEven),
                OUTPUT_DECIMALS,
                field,
            ),
        }
    }
}

/// Reject inputs with more than [`MAX_INPUT_DECIMALS`] decimal places.
pub(crate) fn check_decimals(d: Decimal, field: &str) -> Result<(), EvalError> {
    if d.normalize().scale() > MAX_INPUT_DECIMALS {
        return Err(EvalError::TooManyDecimals {
            field: field.to_owned(),
            max: MAX_INPUT_DECIMALS,
        });
    }
    Ok(())
}

/// Validate a percentage discount: 0 <= d < 100, at most [`MAX_INPUT_DECIMALS`] places.
pub(crate) fn check_discount(d: Decimal, field: &str) -> Result<(), EvalError> {
    if d.is_sign_negative() && !d.is_zero() || d >= Decimal::ONE_HUNDRED {
        return Err(EvalError::DiscountOutOfRange {
            field: field.to_owned(),
            value: d.to_string(),
        });
    }
    check_decimals(d, field)
}

pub(crate) fn one() -> Q {
    Q::one()
}
