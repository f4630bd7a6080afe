//! Method C reference discounts ("sconto di riferimento", Tabella A) — PROVISIONAL DATA.
//!
//! The figures are embedded from `data/method_c_reference_discounts.tsv`: percentiles of
//! awarded discounts by SOA category and amount band, as published by an open-source
//! e-procurement platform. They have NOT been checked against the official Tabella A of
//! Allegato II.2; check them before relying on them. A tender may always state the reference
//! discount directly (`reference_discount` in the request), which bypasses this table.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::EvalError;

const TABLE: &str = include_str!("../../data/method_c_reference_discounts.tsv");

/// Percentiles available in the table, in column order.
pub const PERCENTILES: [u8; 7] = [50, 60, 70, 80, 90, 95, 99];

/// Amount band of the tender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AmountBand {
    /// Up to EUR 150,000.
    #[serde(rename = "0-150k")]
    UpTo150k,
    /// From EUR 150,000 to EUR 1,000,000.
    #[serde(rename = "150k-1mln")]
    From150kTo1mln,
    /// From EUR 1,000,000 to the EU threshold.
    #[serde(rename = "1mln-Soglia")]
    From1mlnToThreshold,
}

impl AmountBand {
    /// Label used in the table.
    pub fn label(self) -> &'static str {
        match self {
            AmountBand::UpTo150k => "0-150k",
            AmountBand::From150kTo1mln => "150k-1mln",
            AmountBand::From1mlnToThreshold => "1mln-Soglia",
        }
    }
}

/// Key of the reference table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceKey {
    /// SOA category (OG1, OG2, OG3, OG6–OG13, OS3, OS4, OS6, OS7, OS10, OS12, OS18, OS21,
    /// OS24, OS28, OS30) or "Altro".
    pub category: String,
    pub band: AmountBand,
    /// One of 50, 60, 70, 80, 90, 95, 99.
    pub percentile: u8,
}

/// Look up the reference discount for a category, band and percentile.
pub fn method_c_reference_discount(key: &ReferenceKey) -> Result<Decimal, EvalError> {
    let not_found = || EvalError::UnknownReference {
        category: key.category.clone(),
        band: key.band.label().to_owned(),
        percentile: key.percentile,
    };
    let column = PERCENTILES
        .iter()
        .position(|p| *p == key.percentile)
        .ok_or_else(not_found)?;
    let category = key.category.trim();
    TABLE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find(|cols| {
            cols.len() == 2 + PERCENTILES.len() && cols[0].eq_ignore_ascii_case(category) && cols[1] == key.band.label()
        })
        .and_then(|cols| Decimal::from_str(cols[2 + column]).ok())
        .ok_or_else(not_found)
}

/// Every (category, band) row of the table, for listing in a user interface.
pub fn method_c_reference_rows() -> Vec<(String, String, Vec<Decimal>)> {
    TABLE
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let values: Option<Vec<Decimal>> = cols.get(2..)?.iter().map(|v| Decimal::from_str(v).ok()).collect();
            Some((cols[0].to_owned(), cols[1].to_owned(), values?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn table_is_complete_and_known_value_matches() {
        let rows = method_c_reference_rows();
        assert_eq!(rows.len(), 23 * 3);
        assert!(rows.iter().all(|(_, _, v)| v.len() == PERCENTILES.len()));
        let key = ReferenceKey {
            category: "OG1".into(),
            band: AmountBand::UpTo150k,
            percentile: 50,
        };
        assert_eq!(method_c_reference_discount(&key), Ok(dec!(23.791)));
    }

    #[test]
    fn unknown_key_is_an_error() {
        let key = ReferenceKey {
            category: "OG99".into(),
            band: AmountBand::UpTo150k,
            percentile: 50,
        };
        let err = method_c_reference_discount(&key).expect_err("unknown category");
        assert_eq!(err.code(), "unknown_reference");
        let key = ReferenceKey {
            category: "OG1".into(),
            band: AmountBand::UpTo150k,
            percentile: 55,
        };
        assert!(method_c_reference_discount(&key).is_err());
    }
}
