//! The art. 50 c.1 D.Lgs. 36/2023 value bands for below-threshold contracts, and the number
//! of operators a negotiated procedure must consult in each.
//!
//! The numbers come from the one versioned legal table (`domain::legal`); this module only
//! shapes them into bands with stable codes, which are also the rotation value bands of
//! art. 49 c.3. The EU thresholds for sub-central authorities apply (the centrale acts for
//! Comuni and Unioni).

use chrono::NaiveDate;
use domain::legal::{AuthorityKind, ContractKind, LegalTable};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What is being bought (art. 50 c.1 distinguishes works from services and supplies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractType {
    Works,
    Services,
    Supplies,
}

impl ContractType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Works => "works",
            Self::Services => "services",
            Self::Supplies => "supplies",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "works" => Some(Self::Works),
            "services" => Some(Self::Services),
            "supplies" => Some(Self::Supplies),
            _ => None,
        }
    }
}

/// One band of art. 50 c.1: values in `[from, below)`, with the minimum number of operators
/// to consult (0 for direct award: no comparison of quotes is required).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// Stable code, also the rotation value band of art. 49 c.3 (e.g. `works_150k_1m`).
    pub code: &'static str,
    /// Italian label, for people.
    pub label: &'static str,
    pub from: Decimal,
    /// Exclusive upper bound.
    pub below: Decimal,
    pub min_invitees: u32,
    pub direct_award: bool,
}

fn euros(value: i64) -> Decimal {
    Decimal::from(value)
}

/// Art. 50 c.1 lett. a)–e) as bands, with every number read from the one versioned legal
/// table (`domain::legal`) in force on `on`: works direct award (a), 5 operators (c),
/// 10 operators up to the EU threshold (d); services and supplies direct award (b),
/// 5 operators up to the EU threshold (e).
///
/// The bands are the albo's, shared by every ente (rotation counts per band, art. 49 c.3), so
/// they use the sub-central EU threshold of the Comuni and Unioni the centrale serves. A
/// tender run for a central government authority is held to its lower threshold where it
/// counts: at publication (`bando::rules::legal_violations` refuses a negotiation without
/// notice at or above it).
fn bands_at(contract: ContractType, on: NaiveDate) -> Vec<Band> {
    let table = LegalTable::at(on);
    let a = &table.art50;
    match contract {
        ContractType::Works => {
            let eu = euros(table.eu_threshold(ContractKind::Works, AuthorityKind::SubCentral).value);
            vec![
                Band {
                    code: "works_direct",
                    label: "Lavori: affidamento diretto (art. 50 c.1 lett. a)",
                    from: Decimal::ZERO,
                    below: euros(a.direct_award_works_below.value),
                    min_invitees: 0,
                    direct_award: true,
                },
                Band {
                    code: "works_150k_1m",
                    label: "Lavori: procedura negoziata, almeno 5 operatori (art. 50 c.1 lett. c)",
                    from: euros(a.direct_award_works_below.value),
                    below: euros(a.works_low_band_below.value),
                    min_invitees: a.invitees_works_low.value,
                    direct_award: false,
                },
                Band {
                    code: "works_1m_eu",
                    label: "Lavori: procedura negoziata, almeno 10 operatori (art. 50 c.1 lett. d)",
                    from: euros(a.works_low_band_below.value),
                    below: eu,
                    min_invitees: a.invitees_works_high.value,
                    direct_award: false,
                },
            ]
        }
        ContractType::Services | ContractType::Supplies => {
            let eu = euros(
                table
                    .eu_threshold(ContractKind::Services, AuthorityKind::SubCentral)
                    .value,
            );
            vec![
                Band {
                    code: "services_supplies_direct",
                    label: "Servizi e forniture: affidamento diretto (art. 50 c.1 lett. b)",
                    from: Decimal::ZERO,
                    below: euros(a.direct_award_services_below.value),
                    min_invitees: 0,
                    direct_award: true,
                },
                Band {
                    code: "services_supplies_140k_eu",
                    label: "Servizi e forniture: procedura negoziata, almeno 5 operatori (art. 50 c.1 lett. e)",
                    from: euros(a.direct_award_services_below.value),
                    below: eu,
                    min_invitees: a.invitees_services.value,
                    direct_award: false,
                },
            ]
        }
    }
}

/// Why no band applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BandError {
    NotPositive,
    AboveEuThreshold { threshold: Decimal },
}

/// The band for a contract of `value` euro (net of VAT) on day `on`.
pub fn band_for(contract: ContractType, value: Decimal, on: NaiveDate) -> Result<Band, BandError> {
    if value <= Decimal::ZERO {
        return Err(BandError::NotPositive);
    }
    let bands = bands_at(contract, on);
    bands
        .iter()
        .find(|b| value >= b.from && value < b.below)
        .copied()
        .ok_or(BandError::AboveEuThreshold {
            threshold: bands.last().map_or(Decimal::ZERO, |b| b.below),
        })
}

/// Art. 49 c.6: direct awards below 5,000 euro may disregard rotation.
pub fn rotation_applies(band: &Band, value: Decimal, on: NaiveDate) -> bool {
    let exempt_below = euros(LegalTable::at(on).art50.rotation_exempt_direct_below.value);
    !(band.direct_award && value < exempt_below)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn on() -> NaiveDate {
        date(2026, 5, 4)
    }

    #[test]
    fn works_bands_and_minimums() {
        let b = band_for(ContractType::Works, dec!(149999.99), on()).expect("band");
        assert_eq!((b.code, b.min_invitees), ("works_direct", 0));
        let b = band_for(ContractType::Works, dec!(150000), on()).expect("band");
        assert_eq!((b.code, b.min_invitees), ("works_150k_1m", 5));
        let b = band_for(ContractType::Works, dec!(400000), on()).expect("band");
        assert_eq!(b.code, "works_150k_1m");
        let b = band_for(ContractType::Works, dec!(1000000), on()).expect("band");
        assert_eq!((b.code, b.min_invitees), ("works_1m_eu", 10));
        assert_eq!(
            band_for(ContractType::Works, dec!(5404000), on()),
            Err(BandError::AboveEuThreshold {
                threshold: dec!(5404000)
            })
        );
        // In 2025 the works threshold was higher.
        let b = band_for(ContractType::Works, dec!(5404000), date(2025, 6, 1)).expect("band");
        assert_eq!(b.code, "works_1m_eu");
    }

    #[test]
    fn services_and_supplies_bands() {
        let b = band_for(ContractType::Services, dec!(139999), on()).expect("band");
        assert!(b.direct_award);
        let b = band_for(ContractType::Supplies, dec!(140000), on()).expect("band");
        assert_eq!((b.code, b.min_invitees), ("services_supplies_140k_eu", 5));
        assert!(band_for(ContractType::Services, dec!(216000), on()).is_err());
        assert_eq!(
            band_for(ContractType::Services, dec!(0), on()),
            Err(BandError::NotPositive)
        );
    }

    #[test]
    fn tiny_direct_awards_are_exempt_from_rotation() {
        let b = band_for(ContractType::Services, dec!(4999), on()).expect("band");
        assert!(!rotation_applies(&b, dec!(4999), on()));
        assert!(rotation_applies(&b, dec!(5000), on()));
    }
}
