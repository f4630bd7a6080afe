//! The one versioned legal table (domain.md §1, §5).
//!
//! Every number a rule depends on (thresholds, bands, minimum days, caps) lives here, with
//! the date it took effect and the article it comes from. Code never hard-codes these
//! numbers: it asks [`LegalTable::at`] for the table in force on the relevant date (the day
//! the notice is sent, art. 14 c.7) and reads the [`Rule`] it needs, whose `article` is
//! quoted in every error shown to a user.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// A number together with the provision it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule<T> {
    pub value: T,
    /// E.g. "art. 71 c.2". Quoted in error messages.
    pub article: &'static str,
}

const fn rule<T>(value: T, article: &'static str) -> Rule<T> {
    Rule { value, article }
}

/// EU thresholds (art. 14 c.1), in whole euros net of VAT. They change every two years by
/// EU delegated regulation, which applies directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EuThresholds {
    /// Works and concessions (art. 14 c.1 lett. a).
    pub works: Rule<i64>,
    /// Supplies and services of central government authorities (lett. b).
    pub supplies_services_central: Rule<i64>,
    /// Supplies and services of sub-central authorities: Comuni, Province, Regioni (lett. c).
    pub supplies_services_sub_central: Rule<i64>,
    /// Social and other specific services listed in Allegato XIV (lett. d).
    pub social_services: Rule<i64>,
    /// Special sectors, supplies and services (art. 14 c.2 lett. b).
    pub special_sectors_supplies_services: Rule<i64>,
}

/// Below-threshold bands of art. 50 c.1 (fixed national figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Art50Bands {
    /// Direct award of works below this amount (lett. a).
    pub direct_award_works_below: Rule<i64>,
    /// Direct award of services and supplies, engineering included, below this (lett. b).
    pub direct_award_services_below: Rule<i64>,
    /// Negotiated works from the direct-award limit to this amount: at least `invitees_works_low` (lett. c).
    pub works_low_band_below: Rule<i64>,
    pub invitees_works_low: Rule<u32>,
    /// Negotiated works from `works_low_band_below` to the EU threshold: at least this many (lett. d).
    pub invitees_works_high: Rule<u32>,
    /// Negotiated services and supplies from the direct-award limit to the EU threshold (lett. e).
    pub invitees_services: Rule<u32>,
    /// Direct awards below this amount may disregard rotation (art. 49 c.6).
    pub rotation_exempt_direct_below: Rule<i64>,
}

/// Minimum time limits in calendar days (arts. 71–73, 92).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MinimumDays {
    /// Open procedure: offers, from the day the notice is sent (art. 71 c.2).
    pub open_offers: Rule<i64>,
    /// Open procedure, duly motivated urgency (art. 71 c.3).
    pub open_offers_urgent: Rule<i64>,
    /// Restricted procedure: requests to participate (art. 72 c.2).
    pub restricted_requests: Rule<i64>,
    /// Restricted procedure, urgency (art. 72 c.5).
    pub restricted_requests_urgent: Rule<i64>,
    /// Restricted procedure: offers, from the invitation (art. 72 c.3).
    pub restricted_offers: Rule<i64>,
    /// Competitive procedure with negotiation: requests to participate (art. 73 c.2; see
    /// docs/legal.md on the correttivo).
    pub negotiation_requests: Rule<i64>,
    /// Competitive procedure with negotiation: initial offers (art. 73 c.3).
    pub negotiation_offers: Rule<i64>,
    /// Significant information given later than this before the deadline forces an
    /// extension (art. 92 c.2 lett. a).
    pub information_before_deadline: Rule<i64>,
    /// The same, for accelerated procedures (art. 92 c.2 lett. a, urgency).
    pub information_before_deadline_urgent: Rule<i64>,
}

/// Award-criterion rules of art. 108.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AwardRules {
    /// Maximum economic score, out of 100, for labour-intensive services (art. 108 c.4).
    pub labour_intensive_max_economic_points: Rule<i64>,
    /// OEPV is mandatory for labour-intensive services (art. 108 c.2 lett. a); lowest price
    /// is never allowed for them (c.3).
    pub oepv_mandatory_labour_intensive: Rule<bool>,
    /// OEPV is mandatory for engineering, architecture and other technical or intellectual
    /// services at or above this amount (art. 108 c.2 lett. b).
    pub oepv_mandatory_engineering_from: Rule<i64>,
    /// The automatic exclusion of abnormal offers applies to lowest-price works and services
    /// below the EU threshold (art. 54 c.1); the method comes from Allegato II.2.
    pub anomaly_method_below_threshold: Rule<bool>,
}

/// Terms after the deadline (arts. 17–18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AfterDeadline {
    /// Offers bind for this many days from the deadline unless the notice says otherwise (art. 17 c.4).
    pub offer_validity_default_days: Rule<i64>,
    /// Standstill before signature, from the last award notice (art. 18 c.3).
    pub standstill_days: Rule<i64>,
}

/// The legal numbers in force from `effective_from` (inclusive) to `effective_until` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LegalTable {
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    /// Where the thresholds of this version come from.
    pub source: &'static str,
    pub eu: EuThresholds,
    pub art50: Art50Bands,
    pub days: MinimumDays,
    pub award: AwardRules,
    pub after_deadline: AfterDeadline,
}

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("invalid date in the legal table"),
    }
}

const ART50: Art50Bands = Art50Bands {
    direct_award_works_below: rule(150_000, "art. 50 c.1 lett. a"),
    direct_award_services_below: rule(140_000, "art. 50 c.1 lett. b"),
    works_low_band_below: rule(1_000_000, "art. 50 c.1 lett. c"),
    invitees_works_low: rule(5, "art. 50 c.1 lett. c"),
    invitees_works_high: rule(10, "art. 50 c.1 lett. d"),
    invitees_services: rule(5, "art. 50 c.1 lett. e"),
    rotation_exempt_direct_below: rule(5_000, "art. 49 c.6"),
};

const DAYS: MinimumDays = MinimumDays {
    open_offers: rule(30, "art. 71 c.2"),
    open_offers_urgent: rule(15, "art. 71 c.3"),
    restricted_requests: rule(30, "art. 72 c.2"),
    restricted_requests_urgent: rule(15, "art. 72 c.5"),
    restricted_offers: rule(30, "art. 72 c.3"),
    negotiation_requests: rule(30, "art. 73 c.2"),
    negotiation_offers: rule(25, "art. 73 c.3"),
    information_before_deadline: rule(6, "art. 92 c.2"),
    information_before_deadline_urgent: rule(4, "art. 92 c.2"),
};

const AWARD: AwardRules = AwardRules {
    labour_intensive_max_economic_points: rule(30, "art. 108 c.4"),
    oepv_mandatory_labour_intensive: rule(true, "art. 108 c.2 lett. a e c.3"),
    oepv_mandatory_engineering_from: rule(140_000, "art. 108 c.2 lett. b"),
    anomaly_method_below_threshold: rule(true, "art. 54 c.1–2"),
};

const AFTER: AfterDeadline = AfterDeadline {
    offer_validity_default_days: rule(180, "art. 17 c.4"),
    standstill_days: rule(35, "art. 18 c.3"),
};

/// Every version, oldest first. Add a new entry (never edit an old one) when a regulation
/// changes a number; close the previous entry's `effective_until` on the same date.
pub static TABLES: [LegalTable; 3] = [
    LegalTable {
        effective_from: date(2023, 7, 1),
        effective_until: Some(date(2024, 1, 1)),
        source: "D.Lgs. 36/2023, art. 14 c.1 (testo originario, soglie Reg. (UE) 2021/1952)",
        eu: EuThresholds {
            works: rule(5_382_000, "art. 14 c.1 lett. a"),
            supplies_services_central: rule(140_000, "art. 14 c.1 lett. b"),
            supplies_services_sub_central: rule(215_000, "art. 14 c.1 lett. c"),
            social_services: rule(750_000, "art. 14 c.1 lett. d"),
            special_sectors_supplies_services: rule(431_000, "art. 14 c.2 lett. b"),
        },
        art50: ART50,
        days: DAYS,
        award: AWARD,
        after_deadline: AFTER,
    },
    LegalTable {
        effective_from: date(2024, 1, 1),
        effective_until: Some(date(2026, 1, 1)),
        source: "art. 14 c.1 come aggiornato dal Reg. delegato (UE) 2023/2495",
        eu: EuThresholds {
            works: rule(5_538_000, "art. 14 c.1 lett. a (Reg. UE 2023/2495)"),
            supplies_services_central: rule(143_000, "art. 14 c.1 lett. b (Reg. UE 2023/2495)"),
            supplies_services_sub_central: rule(221_000, "art. 14 c.1 lett. c (Reg. UE 2023/2495)"),
            social_services: rule(750_000, "art. 14 c.1 lett. d"),
            special_sectors_supplies_services: rule(443_000, "art. 14 c.2 lett. b (Reg. UE 2023/2495)"),
        },
        art50: ART50,
        days: DAYS,
        award: AWARD,
        after_deadline: AFTER,
    },
    LegalTable {
        effective_from: date(2026, 1, 1),
        effective_until: None,
        source: "art. 14 c.1 come aggiornato dal Reg. delegato (UE) 2025/2152",
        eu: EuThresholds {
            works: rule(5_404_000, "art. 14 c.1 lett. a (Reg. UE 2025/2152)"),
            supplies_services_central: rule(140_000, "art. 14 c.1 lett. b (Reg. UE 2025/2152)"),
            supplies_services_sub_central: rule(216_000, "art. 14 c.1 lett. c (Reg. UE 2025/2152)"),
            social_services: rule(750_000, "art. 14 c.1 lett. d"),
            special_sectors_supplies_services: rule(432_000, "art. 14 c.2 lett. b (Reg. UE 2025/2152)"),
        },
        art50: ART50,
        days: DAYS,
        award: AWARD,
        after_deadline: AFTER,
    },
];

/// Type of contract (art. 2 Allegato I.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractKind {
    Works,
    Services,
    Supplies,
}

impl LegalTable {
    /// The table in force on `day` (a date in Europe/Rome). Dates before the Code applied
    /// (1 July 2023) get the first version: the platform handles no earlier procedures.
    pub fn at(day: NaiveDate) -> &'static LegalTable {
        TABLES
            .iter()
            .rev()
            .find(|t| t.effective_from <= day)
            .unwrap_or(&TABLES[0])
    }

    /// The EU threshold for a contract of this kind awarded by a sub-central authority (the
    /// enti a centrale di committenza serves), ordinary sectors.
    pub fn eu_threshold(&self, kind: ContractKind) -> Rule<i64> {
        match kind {
            ContractKind::Works => self.eu.works,
            ContractKind::Services | ContractKind::Supplies => self.eu.supplies_services_sub_central,
        }
    }

    /// The direct-award ceiling (exclusive) of art. 50 c.1 lett. a–b.
    pub fn direct_award_limit(&self, kind: ContractKind) -> Rule<i64> {
        match kind {
            ContractKind::Works => self.art50.direct_award_works_below,
            ContractKind::Services | ContractKind::Supplies => self.art50.direct_award_services_below,
        }
    }

    /// The minimum number of operators a procedura negoziata senza bando must consult for
    /// this amount (art. 50 c.1 lett. c–e), or `None` when the amount is outside the bands
    /// (below the direct-award limit, or at or above the EU threshold).
    pub fn min_invitees(&self, kind: ContractKind, amount: Decimal) -> Option<Rule<u32>> {
        let direct = Decimal::from(self.direct_award_limit(kind).value);
        let eu = Decimal::from(self.eu_threshold(kind).value);
        if amount < direct || amount >= eu {
            return None;
        }
        Some(match kind {
            ContractKind::Works if amount < Decimal::from(self.art50.works_low_band_below.value) => {
                self.art50.invitees_works_low
            }
            ContractKind::Works => self.art50.invitees_works_high,
            ContractKind::Services | ContractKind::Supplies => self.art50.invitees_services,
        })
    }

    pub fn is_below_eu_threshold(&self, kind: ContractKind, amount: Decimal) -> bool {
        amount < Decimal::from(self.eu_threshold(kind).value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn tables_are_contiguous_and_ordered() {
        for pair in TABLES.windows(2) {
            assert_eq!(pair[0].effective_until, Some(pair[1].effective_from));
        }
        assert_eq!(TABLES.last().map(|t| t.effective_until), Some(None));
    }

    #[test]
    fn thresholds_change_on_the_first_of_january() {
        let last_2025 = LegalTable::at(date(2025, 12, 31));
        let first_2026 = LegalTable::at(date(2026, 1, 1));
        assert_eq!(last_2025.eu.works.value, 5_538_000);
        assert_eq!(last_2025.eu.supplies_services_sub_central.value, 221_000);
        assert_eq!(last_2025.eu.supplies_services_central.value, 143_000);
        assert_eq!(first_2026.eu.works.value, 5_404_000);
        assert_eq!(first_2026.eu.supplies_services_sub_central.value, 216_000);
        assert_eq!(first_2026.eu.special_sectors_supplies_services.value, 432_000);
        assert!(first_2026.eu.works.article.contains("2025/2152"));
        assert_eq!(LegalTable::at(date(2023, 9, 1)).eu.works.value, 5_382_000);
        // Before the Code: the first version.
        assert_eq!(LegalTable::at(date(2020, 1, 1)).effective_from, date(2023, 7, 1));
    }

    #[test]
    fn art50_bands_and_invitees() {
        let t = LegalTable::at(date(2026, 5, 4));
        assert_eq!(t.direct_award_limit(ContractKind::Works).value, 150_000);
        assert_eq!(t.direct_award_limit(ContractKind::Services).value, 140_000);
        assert_eq!(t.min_invitees(ContractKind::Services, dec!(139_999.99)), None);
        assert_eq!(
            t.min_invitees(ContractKind::Services, dec!(140_000)).map(|r| r.value),
            Some(5)
        );
        assert_eq!(
            t.min_invitees(ContractKind::Services, dec!(215_999.99))
                .map(|r| r.value),
            Some(5)
        );
        assert_eq!(t.min_invitees(ContractKind::Services, dec!(216_000)), None);
        assert_eq!(
            t.min_invitees(ContractKind::Works, dec!(999_999)).map(|r| r.value),
            Some(5)
        );
        let high = t.min_invitees(ContractKind::Works, dec!(1_000_000)).expect("band d");
        assert_eq!((high.value, high.article), (10, "art. 50 c.1 lett. d"));
        assert_eq!(t.min_invitees(ContractKind::Works, dec!(5_404_000)), None);
        // The same amount is in band under the 2025 threshold and above it under 2026's.
        let t25 = LegalTable::at(date(2025, 6, 1));
        assert!(t25.is_below_eu_threshold(ContractKind::Supplies, dec!(220_000)));
        assert!(!t.is_below_eu_threshold(ContractKind::Supplies, dec!(220_000)));
    }

    #[test]
    fn days_caps_and_terms_cite_their_articles() {
        let t = LegalTable::at(date(2026, 5, 4));
        assert_eq!(
            (t.days.open_offers.value, t.days.open_offers.article),
            (30, "art. 71 c.2")
        );
        assert_eq!(t.days.open_offers_urgent.value, 15);
        assert_eq!(t.days.restricted_requests.value, 30);
        assert_eq!(t.days.negotiation_offers.value, 25);
        assert_eq!(t.days.information_before_deadline.value, 6);
        assert_eq!(t.award.labour_intensive_max_economic_points.value, 30);
        assert_eq!(t.award.labour_intensive_max_economic_points.article, "art. 108 c.4");
        assert_eq!(t.award.oepv_mandatory_engineering_from.value, 140_000);
        assert_eq!(t.after_deadline.offer_validity_default_days.value, 180);
        assert_eq!(t.after_deadline.standstill_days.value, 35);
        // Every term of the "Tender rules" table in docs/legal.md, with the article it cites.
        let days = [
            (t.days.open_offers, 30, "art. 71 c.2"),
            (t.days.open_offers_urgent, 15, "art. 71 c.3"),
            (t.days.restricted_requests, 30, "art. 72 c.2"),
            (t.days.restricted_requests_urgent, 15, "art. 72 c.5"),
            (t.days.restricted_offers, 30, "art. 72 c.3"),
            (t.days.negotiation_requests, 30, "art. 73 c.2"),
            (t.days.negotiation_offers, 25, "art. 73 c.3"),
            (t.days.information_before_deadline, 6, "art. 92 c.2"),
            (t.days.information_before_deadline_urgent, 4, "art. 92 c.2"),
            (t.award.labour_intensive_max_economic_points, 30, "art. 108 c.4"),
            (t.award.oepv_mandatory_engineering_from, 140_000, "art. 108 c.2 lett. b"),
            (t.after_deadline.offer_validity_default_days, 180, "art. 17 c.4"),
            (t.after_deadline.standstill_days, 35, "art. 18 c.3"),
        ];
        for (rule, value, article) in days {
            assert_eq!((rule.value, rule.article), (value, article));
        }
        assert_eq!(
            t.award.oepv_mandatory_labour_intensive,
            Rule {
                value: true,
                article: "art. 108 c.2 lett. a e c.3"
            }
        );
        assert_eq!(
            t.award.anomaly_method_below_threshold,
            Rule {
                value: true,
                article: "art. 54 c.1–2"
            }
        );
        // The same numbers in every version of the table (only the thresholds move).
        for table in &TABLES {
            assert_eq!(
                (table.days, table.award, table.after_deadline, table.art50),
                (t.days, t.award, t.after_deadline, t.art50)
            );
        }
    }
}
