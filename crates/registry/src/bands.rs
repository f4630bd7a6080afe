//! The art. 50 c.1 D.Lgs. 36/2023 value bands for below-threshold contracts, and the number
//! of operators a negotiated procedure must consult in each.
//!
//! Interim table, versioned by effective date: the global legal table in `domain` will fold
//! it in. The EU thresholds (art. 14) change every two years by EU delegated regulation;
//! the figures for sub-central authorities apply (the centrale acts for Comuni and Unioni).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
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

/// The bands in force from `effective_from`.
struct Version {
    effective_from: NaiveDate,
    works: [Band; 3],
    services_supplies: [Band; 2],
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// Art. 50 c.1 lett. a)–e): works < 150,000 direct award (a); 150,000 to < 1,000,000 at
/// least 5 operators (c); 1,000,000 to the EU threshold at least 10 (d). Services and supplies
/// < 140,000 direct award (b); 140,000 to the EU threshold at least 5 (e).
fn versions() -> [Version; 2] {
    let works = |eu: Decimal| {
        [
            Band { code: "works_direct", label: "Lavori: affidamento diretto (art. 50 c.1 lett. a)", from: dec!(0), below: dec!(150000), min_invitees: 0, direct_award: true },
            Band { code: "works_150k_1m", label: "Lavori: procedura negoziata, almeno 5 operatori (art. 50 c.1 lett. c)", from: dec!(150000), below: dec!(1000000), min_invitees: 5, direct_award: false },
            Band { code: "works_1m_eu", label: "Lavori: procedura negoziata, almeno 10 operatori (art. 50 c.1 lett. d)", from: dec!(1000000), below: eu, min_invitees: 10, direct_award: false },
        ]
    };
    let services = |eu: Decimal| {
        [
            Band { code: "services_supplies_direct", label: "Servizi e forniture: affidamento diretto (art. 50 c.1 lett. b)", from: dec!(0), below: dec!(140000), min_invitees: 0, direct_award: true },
            Band { code: "services_supplies_140k_eu", label: "Servizi e forniture: procedura negoziata, almeno 5 operatori (art. 50 c.1 lett. e)", from: dec!(140000), below: eu, min_invitees: 5, direct_award: false },
        ]
    };
    [
        // EU thresholds of Reg. (UE) 2023/2495, 2024–2025.
        Version { effective_from: date(2024, 1, 1), works: works(dec!(5538000)), services_supplies: services(dec!(221000)) },
        // EU thresholds of Reg. (UE) 2025/2152, from 1 January 2026.
        Version { effective_from: date(2026, 1, 1), works: works(dec!(5404000)), services_supplies: services(dec!(216000)) },
    ]
}

/// Why no band applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BandError {
    NotPositive,
    AboveEuThreshold { threshold: Decimal },
    NoTableFor(NaiveDate),
}

/// The band for a contract of `value` euro (net of VAT) on day `on`.
pub fn band_for(contract: ContractType, value: Decimal, on: NaiveDate) -> Result<Band, BandError> {
    if value <= Decimal::ZERO {
        return Err(BandError::NotPositive);
    }
    let all = versions();
    let version = all
        .iter()
        .rev()
        .find(|v| v.effective_from <= on)
        .ok_or(BandError::NoTableFor(on))?;
    let bands: &[Band] = match contract {
        ContractType::Works => &version.works,
        ContractType::Services | ContractType::Supplies => &version.services_supplies,
    };
    bands
        .iter()
        .find(|b| value >= b.from && value < b.below)
        .copied()
        .ok_or(BandError::AboveEuThreshold {
            threshold: bands.last().map_or(Decimal::ZERO, |b| b.below),
        })
}

/// Art. 49 c.6: direct awards below 5,000 euro may disregard rotation.
pub fn rotation_applies(band: &Band, value: Decimal) -> bool {
    !(band.direct_award && value < dec!(5000))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Err(BandError::AboveEuThreshold { threshold: dec!(5404000) })
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
        assert_eq!(band_for(ContractType::Services, dec!(0), on()), Err(BandError::NotPositive));
        assert!(band_for(ContractType::Works, dec!(1), date(2023, 1, 1)).is_err());
    }

    #[test]
    fn tiny_direct_awards_are_exempt_from_rotation() {
        let b = band_for(ContractType::Services, dec!(4999), on()).expect("band");
        assert!(!rotation_applies(&b, dec!(4999)));
        assert!(rotation_applies(&b, dec!(5000)));
    }
}
