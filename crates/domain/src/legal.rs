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
    /// The act that sets the value (the Codice, as amended; a Directive; an EU regulation).
    pub source: &'static str,
}

/// The Codice as first in force.
pub const CODICE: &str = "D.Lgs. 36/2023";
/// The Codice as amended by the correttivo, in force from 2024-12-31.
pub const CORRETTIVO: &str = "D.Lgs. 36/2023 come modificato dal D.Lgs. 209/2024";

const fn rule<T>(value: T, article: &'static str) -> Rule<T> {
    Rule {
        value,
        article,
        source: CODICE,
    }
}

const fn rule_from<T>(value: T, article: &'static str, source: &'static str) -> Rule<T> {
    Rule { value, article, source }
}

/// The day the correttivo (D.Lgs. 209/2024) took effect.
pub const CORRETTIVO_FROM: NaiveDate = date(2024, 12, 31);

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
    /// Special sectors, works (art. 14 c.2 lett. a).
    pub special_sectors_works: Rule<i64>,
    /// Concessions (art. 14 c.1 lett. a; Directive 2014/23/EU art. 8).
    pub concessions: Rule<i64>,
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
    /// Restricted procedure, duly motivated urgency (art. 72 c.6 lett. a).
    pub restricted_requests_urgent: Rule<i64>,
    /// Restricted procedure, offers under urgency (art. 72 c.6 lett. b).
    pub restricted_offers_urgent: Rule<i64>,
    /// Restricted procedure: offers, from the invitation (art. 72 c.3).
    pub restricted_offers: Rule<i64>,
    /// Competitive procedure with negotiation: requests to participate (art. 73 c.4: "dieci
    /// giorni" in the consolidated text).
    pub negotiation_requests: Rule<i64>,
    /// The same above the EU thresholds: the Directive's longer term (2014/24/EU art. 29(1)),
    /// which the platform applies there (docs/legal.md, "Time limits").
    pub negotiation_requests_eu: Rule<i64>,
    /// Competitive procedure with negotiation: initial offers (art. 73 c.5).
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
    /// The decisions on the requests to redact (oscuramento) parts of an offer may be
    /// challenged within this many days from the digital communication of the award (art. 36
    /// c.4: "ricorso notificato e depositato entro dieci giorni", art. 116 c.p.a.); until then a
    /// part whose redaction was refused is not shown (c.5).
    pub redaction_challenge_days: Rule<i64>,
}

/// Who may run a tender of which value (arts. 62–63, Allegato II.4): the limits a stazione
/// appaltante may reach without qualification, and the ceiling of each qualification level
/// (for works; for services and supplies). Amounts are the tender's base value net of VAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QualificationRules {
    /// A non-qualified authority runs services and supplies alone below the direct-award
    /// limit (art. 62 c.1; Allegato II.4 art. 2 c.1: qualification is needed "pari o
    /// superiore alle soglie previste per gli affidamenti diretti").
    pub unqualified_services_supplies_below: Rule<i64>,
    /// A non-qualified authority runs works alone up to and including this amount (art. 62 c.1,
    /// "pari o inferiore a 500.000 euro").
    pub unqualified_works_up_to: Rule<i64>,
    /// Base (first) level: services and supplies up to and including (art. 63 c.2 lett. a).
    pub base_services_supplies_up_to: Rule<i64>,
    /// Base (first) level: works up to and including (art. 63 c.2 lett. a).
    pub base_works_up_to: Rule<i64>,
    /// Intermediate (second) level: services and supplies up to and including (lett. b).
    pub intermediate_services_supplies_up_to: Rule<i64>,
    /// Intermediate level: works below the EU works threshold of art. 14 (lett. b, "fino alla
    /// soglia di cui all'articolo 14"; at the threshold a contract is of EU relevance).
    pub intermediate_works_below_eu_threshold: Rule<bool>,
    /// Advanced (third) level: no limit (lett. c).
    pub advanced_unlimited: Rule<bool>,
    /// A level covers the procedures of that level and the lower ones (art. 63 c.3).
    pub level_covers_lower: Rule<bool>,
    /// Bodies listed in the ANAC register by right (MIT, Consip, Invitalia, soggetti
    /// aggregatori, ...) need no level (art. 63 c.4).
    pub qualified_by_law: Rule<bool>,
    /// Above the art. 62 c.1 limits a non-qualified authority acquires through a qualified
    /// centrale di committenza (art. 62 c.2 and c.6 lett. a; ANAC issues no CIG otherwise).
    pub unqualified_through_centrale: Rule<bool>,
}

/// Maximum durations of a procedure in months, from the publication of the notice or the
/// sending of the invitations to the award (Allegato I.3, art. 17 c.3). Exceeding them is
/// "silenzio inadempimento" and weighs on the RUP's duty of good faith (art. 17 c.3): it does
/// not make the procedure or its award invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MaxDurations {
    /// Best price-quality ratio or life-cycle cost (all. I.3 c.1): open procedure.
    pub oepv_open: Rule<i64>,
    pub oepv_restricted: Rule<i64>,
    pub oepv_competitive_negotiation: Rule<i64>,
    /// Negotiated procedure without prior publication of a notice.
    pub oepv_negotiated_without_notice: Rule<i64>,
    pub oepv_competitive_dialogue: Rule<i64>,
    pub oepv_innovation_partnership: Rule<i64>,
    /// Lowest price (all. I.3 c.2).
    pub lowest_price_open: Rule<i64>,
    pub lowest_price_restricted: Rule<i64>,
    pub lowest_price_competitive_negotiation: Rule<i64>,
    pub lowest_price_negotiated_without_notice: Rule<i64>,
    /// Added when the contracting authority must verify an abnormally low offer (all. I.3 c.4).
    pub anomaly_extension: Rule<i64>,
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
    pub qualification: QualificationRules,
    pub max_months: MaxDurations,
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
    restricted_requests_urgent: rule(15, "art. 72 c.6 lett. a"),
    restricted_offers: rule(30, "art. 72 c.3"),
    restricted_offers_urgent: rule(10, "art. 72 c.6 lett. b"),
    negotiation_requests: rule(10, "art. 73 c.4"),
    negotiation_requests_eu: rule_from(30, "art. 29 par. 1 Dir. 2014/24/UE", "Direttiva 2014/24/UE"),
    negotiation_offers: rule(25, "art. 73 c.5"),
    information_before_deadline: rule(6, "art. 92 c.2 lett. a"),
    information_before_deadline_urgent: rule(4, "art. 92 c.2 lett. a"),
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
    redaction_challenge_days: rule(10, "art. 36 c.4"),
};

/// The qualification system applies with the Code (1 July 2023). The correttivo amended
/// art. 62 c.2 ("gare" for "procedure") and c.6 lett. a (a qualified stazione appaltante as
/// well as a centrale) but none of these numbers.
const QUALIFICATION: QualificationRules = QualificationRules {
    unqualified_services_supplies_below: rule(140_000, "art. 62 c.1"),
    unqualified_works_up_to: rule(500_000, "art. 62 c.1"),
    base_services_supplies_up_to: rule(750_000, "art. 63 c.2 lett. a"),
    base_works_up_to: rule(1_000_000, "art. 63 c.2 lett. a"),
    intermediate_services_supplies_up_to: rule(5_000_000, "art. 63 c.2 lett. b"),
    intermediate_works_below_eu_threshold: rule(true, "art. 63 c.2 lett. b"),
    advanced_unlimited: rule(true, "art. 63 c.2 lett. c"),
    level_covers_lower: rule(true, "art. 63 c.3"),
    qualified_by_law: rule(true, "art. 63 c.4"),
    unqualified_through_centrale: rule(true, "art. 62 c.2"),
};

/// Art. 18 c.3 as amended: 32 days (D.Lgs. 209/2024).
const AFTER_CORRETTIVO: AfterDeadline = AfterDeadline {
    offer_validity_default_days: rule(180, "art. 17 c.4"),
    standstill_days: rule_from(32, "art. 18 c.3", CORRETTIVO),
    // Art. 36 was not amended by the correttivo: the same ten days, still the Code's text.
    redaction_challenge_days: rule(10, "art. 36 c.4"),
};

const fn max_durations(source: &'static str) -> MaxDurations {
    MaxDurations {
        oepv_open: rule_from(9, "all. I.3 c.1 lett. a", source),
        oepv_restricted: rule_from(10, "all. I.3 c.1 lett. b", source),
        oepv_competitive_negotiation: rule_from(7, "all. I.3 c.1 lett. c", source),
        oepv_negotiated_without_notice: rule_from(4, "all. I.3 c.1 lett. d", source),
        oepv_competitive_dialogue: rule_from(7, "all. I.3 c.1 lett. e", source),
        oepv_innovation_partnership: rule_from(9, "all. I.3 c.1 lett. f", source),
        lowest_price_open: rule_from(5, "all. I.3 c.2 lett. a", source),
        lowest_price_restricted: rule_from(6, "all. I.3 c.2 lett. b", source),
        lowest_price_competitive_negotiation: rule_from(4, "all. I.3 c.2 lett. c", source),
        lowest_price_negotiated_without_notice: rule_from(3, "all. I.3 c.2 lett. d", source),
        anomaly_extension: rule_from(1, "all. I.3 c.4", source),
    }
}

/// Allegato I.3 as first in force, and as rewritten by the correttivo (same months; c.1 now
/// opens with the three months to publish works tenders, so the durations are its second
/// period).
const MAX_MONTHS: MaxDurations = max_durations(CODICE);
const MAX_MONTHS_CORRETTIVO: MaxDurations = max_durations(CORRETTIVO);

const EU_2024: EuThresholds = EuThresholds {
    works: rule_from(5_538_000, "art. 14 c.1 lett. a", "Reg. delegato (UE) 2023/2495"),
    supplies_services_central: rule_from(143_000, "art. 14 c.1 lett. b", "Reg. delegato (UE) 2023/2495"),
    supplies_services_sub_central: rule_from(221_000, "art. 14 c.1 lett. c", "Reg. delegato (UE) 2023/2495"),
    social_services: rule(750_000, "art. 14 c.1 lett. d"),
    special_sectors_supplies_services: rule_from(443_000, "art. 14 c.2 lett. b", "Reg. delegato (UE) 2023/2496"),
    special_sectors_works: rule_from(5_538_000, "art. 14 c.2 lett. a", "Reg. delegato (UE) 2023/2496"),
    concessions: rule_from(5_538_000, "art. 14 c.1 lett. a", "Reg. delegato (UE) 2023/2497"),
};

/// Every version, oldest first. Add a new entry (never edit an old one) when a regulation
/// changes a number; close the previous entry's `effective_until` on the same date.
pub static TABLES: [LegalTable; 4] = [
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
            special_sectors_works: rule(5_382_000, "art. 14 c.2 lett. a"),
            concessions: rule(5_382_000, "art. 14 c.1 lett. a"),
        },
        art50: ART50,
        days: DAYS,
        award: AWARD,
        after_deadline: AFTER,
        qualification: QUALIFICATION,
        max_months: MAX_MONTHS,
    },
    LegalTable {
        effective_from: date(2024, 1, 1),
        effective_until: Some(CORRETTIVO_FROM),
        source: "art. 14 c.1 come aggiornato dal Reg. delegato (UE) 2023/2495",
        eu: EU_2024,
        art50: ART50,
        days: DAYS,
        award: AWARD,
        after_deadline: AFTER,
        qualification: QUALIFICATION,
        max_months: MAX_MONTHS,
    },
    LegalTable {
        effective_from: CORRETTIVO_FROM,
        effective_until: Some(date(2026, 1, 1)),
        source: "art. 14 c.1 come aggiornato dal Reg. delegato (UE) 2023/2495; D.Lgs. 209/2024 (correttivo)",
        eu: EU_2024,
        art50: ART50,
        days: DAYS,
        award: AWARD,
        after_deadline: AFTER_CORRETTIVO,
        qualification: QUALIFICATION,
        max_months: MAX_MONTHS_CORRETTIVO,
    },
    LegalTable {
        effective_from: date(2026, 1, 1),
        effective_until: None,
        source: "art. 14 c.1 come aggiornato dal Reg. delegato (UE) 2025/2152",
        eu: EuThresholds {
            works: rule_from(
                5_404_000,
                "art. 14 c.1 lett. a (Reg. UE 2025/2152)",
                "Reg. delegato (UE) 2025/2152",
            ),
            supplies_services_central: rule_from(
                140_000,
                "art. 14 c.1 lett. b (Reg. UE 2025/2152)",
                "Reg. delegato (UE) 2025/2152",
            ),
            supplies_services_sub_central: rule_from(
                216_000,
                "art. 14 c.1 lett. c (Reg. UE 2025/2152)",
                "Reg. delegato (UE) 2025/2152",
            ),
            social_services: rule(750_000, "art. 14 c.1 lett. d"),
            special_sectors_supplies_services: rule_from(
                432_000,
                "art. 14 c.2 lett. b (Reg. UE 2025/2150)",
                "Reg. delegato (UE) 2025/2150",
            ),
            special_sectors_works: rule_from(
                5_404_000,
                "art. 14 c.2 lett. a (Reg. UE 2025/2150)",
                "Reg. delegato (UE) 2025/2150",
            ),
            concessions: rule_from(
                5_404_000,
                "art. 14 c.1 lett. a (Reg. UE 2025/2151)",
                "Reg. delegato (UE) 2025/2151",
            ),
        },
        art50: ART50,
        days: DAYS,
        award: AWARD,
        after_deadline: AFTER_CORRETTIVO,
        qualification: QUALIFICATION,
        max_months: MAX_MONTHS_CORRETTIVO,
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

/// Which EU threshold for supplies and services applies to the authority on whose behalf a
/// tender runs (art. 14 c.1 lett. b–c). A centrale acting for a central government
/// authority applies that authority's (lower) threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorityKind {
    /// Autorità governative centrali (Allegato I of Directive 2014/24/EU: Ministries, national
    /// agencies): art. 14 c.1 lett. b.
    CentralGovernment,
    /// Every other amministrazione aggiudicatrice: Comuni, Unioni, Province, Regioni (lett. c).
    #[default]
    SubCentral,
}

impl AuthorityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CentralGovernment => "central_government",
            Self::SubCentral => "sub_central",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "central_government" => Some(Self::CentralGovernment),
            "sub_central" => Some(Self::SubCentral),
            _ => None,
        }
    }
}

/// The qualification levels of art. 63 c.2 (ANAC's L3/SF3, L2/SF2, L1/SF1), ordered: a level
/// covers the lower ones (c.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QualificationLevel {
    /// Base or first level (lett. a).
    Base,
    /// Intermediate or second level (lett. b).
    Intermedia,
    /// Advanced or third level, no limit (lett. c).
    Avanzata,
}

impl QualificationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Intermedia => "intermedia",
            Self::Avanzata => "avanzata",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "base" => Some(Self::Base),
            "intermedia" => Some(Self::Intermedia),
            "avanzata" => Some(Self::Avanzata),
            _ => None,
        }
    }

    /// The Italian name, as in art. 63 c.2.
    pub fn label(self) -> &'static str {
        match self {
            Self::Base => "base (primo livello)",
            Self::Intermedia => "intermedia (secondo livello)",
            Self::Avanzata => "avanzata (terzo livello)",
        }
    }
}

/// An authority is qualified separately for works and for services and supplies (art. 63 c.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QualificationSector {
    Works,
    ServicesSupplies,
}

impl QualificationSector {
    pub fn of(kind: ContractKind) -> Self {
        match kind {
            ContractKind::Works => Self::Works,
            ContractKind::Services | ContractKind::Supplies => Self::ServicesSupplies,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Works => "works",
            Self::ServicesSupplies => "services_supplies",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "works" => Some(Self::Works),
            "services_supplies" => Some(Self::ServicesSupplies),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Works => "lavori",
            Self::ServicesSupplies => "servizi e forniture",
        }
    }
}

/// What running a tender of a given value requires of the authority that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualificationNeed {
    /// Within the art. 62 c.1 limits: any authority runs it alone (`limit` is the rule).
    None { limit: Rule<i64> },
    /// At least this level, for the contract's sector (art. 63 c.2), unless qualified by law
    /// (c.4). `article` cites the band the value falls in.
    Level {
        level: QualificationLevel,
        article: &'static str,
    },
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

    /// The EU threshold for a contract of this kind, ordinary sectors, for a tender run on
    /// behalf of an authority of this kind: central government authorities (and a centrale
    /// acting for them) use the lower figure for supplies and services (art. 14 c.1 lett. b),
    /// everyone else the sub-central one (lett. c). Works do not depend on the authority.
    pub fn eu_threshold(&self, kind: ContractKind, authority: AuthorityKind) -> Rule<i64> {
        match (kind, authority) {
            (ContractKind::Works, _) => self.eu.works,
            (ContractKind::Services | ContractKind::Supplies, AuthorityKind::CentralGovernment) => {
                self.eu.supplies_services_central
            }
            (ContractKind::Services | ContractKind::Supplies, AuthorityKind::SubCentral) => {
                self.eu.supplies_services_sub_central
            }
        }
    }

    /// What the authority running a tender of `amount` must hold (arts. 62 c.1, 63 c.2).
    pub fn qualification_need(&self, kind: ContractKind, amount: Decimal) -> QualificationNeed {
        let q = &self.qualification;
        let le = |r: Rule<i64>| amount <= Decimal::from(r.value);
        match QualificationSector::of(kind) {
            QualificationSector::Works => {
                if le(q.unqualified_works_up_to) {
                    QualificationNeed::None {
                        limit: q.unqualified_works_up_to,
                    }
                } else if le(q.base_works_up_to) {
                    QualificationNeed::Level {
                        level: QualificationLevel::Base,
                        article: q.base_works_up_to.article,
                    }
                } else if amount < Decimal::from(self.eu.works.value) {
                    QualificationNeed::Level {
                        level: QualificationLevel::Intermedia,
                        article: q.intermediate_works_below_eu_threshold.article,
                    }
                } else {
                    QualificationNeed::Level {
                        level: QualificationLevel::Avanzata,
                        article: q.advanced_unlimited.article,
                    }
                }
            }
            QualificationSector::ServicesSupplies => {
                if amount < Decimal::from(q.unqualified_services_supplies_below.value) {
                    QualificationNeed::None {
                        limit: q.unqualified_services_supplies_below,
                    }
                } else if le(q.base_services_supplies_up_to) {
                    QualificationNeed::Level {
                        level: QualificationLevel::Base,
                        article: q.base_services_supplies_up_to.article,
                    }
                } else if le(q.intermediate_services_supplies_up_to) {
                    QualificationNeed::Level {
                        level: QualificationLevel::Intermedia,
                        article: q.intermediate_services_supplies_up_to.article,
                    }
                } else {
                    QualificationNeed::Level {
                        level: QualificationLevel::Avanzata,
                        article: q.advanced_unlimited.article,
                    }
                }
            }
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
    pub fn min_invitees(&self, kind: ContractKind, authority: AuthorityKind, amount: Decimal) -> Option<Rule<u32>> {
        let direct = Decimal::from(self.direct_award_limit(kind).value);
        let eu = Decimal::from(self.eu_threshold(kind, authority).value);
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

    pub fn is_below_eu_threshold(&self, kind: ContractKind, authority: AuthorityKind, amount: Decimal) -> bool {
        amount < Decimal::from(self.eu_threshold(kind, authority).value)
    }
}

/// What a rule's value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Euro, net of VAT.
    Euro,
    /// Calendar days.
    Days,
    /// Points out of 100.
    Points,
    /// A number of operators.
    Operators,
    /// True or false.
    Flag,
    /// Calendar months (art. 2963 c.4 c.c.: the same day of the month, or its last day).
    Months,
}

/// One rule of the table, as `GET /api/v1/tools/legal-table` serves it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Stable key, `<group>.<field>` (e.g. `after_deadline.standstill_days`).
    pub key: String,
    pub value: serde_json::Value,
    pub unit: Unit,
    /// The whole citation as quoted in messages (e.g. "art. 18 c.3").
    pub citation: &'static str,
    /// The article alone (e.g. "art. 18").
    pub article: String,
    /// The comma and letter, when the citation has them (e.g. "c.3", "c.2 lett. a").
    pub comma: Option<String>,
    pub source: &'static str,
    /// The first day of the contiguous versions where the rule has this value and citation.
    pub effective_from: NaiveDate,
    /// The day it stopped (exclusive), if it did.
    pub effective_until: Option<NaiveDate>,
}

struct Raw {
    key: &'static str,
    value: serde_json::Value,
    unit: Unit,
    article: &'static str,
    source: &'static str,
}

fn raw<T: Serialize + Copy>(key: &'static str, unit: Unit, r: Rule<T>) -> Raw {
    Raw {
        key,
        value: serde_json::to_value(r.value).unwrap_or(serde_json::Value::Null),
        unit,
        article: r.article,
        source: r.source,
    }
}

impl LegalTable {
    fn raw(&self) -> Vec<Raw> {
        use Unit::*;
        let (eu, b, d, a, f, q) = (
            &self.eu,
            &self.art50,
            &self.days,
            &self.award,
            &self.after_deadline,
            &self.qualification,
        );
        let m = &self.max_months;
        vec![
            raw("eu.works", Euro, eu.works),
            raw("eu.supplies_services_central", Euro, eu.supplies_services_central),
            raw(
                "eu.supplies_services_sub_central",
                Euro,
                eu.supplies_services_sub_central,
            ),
            raw("eu.social_services", Euro, eu.social_services),
            raw(
                "eu.special_sectors_supplies_services",
                Euro,
                eu.special_sectors_supplies_services,
            ),
            raw("eu.special_sectors_works", Euro, eu.special_sectors_works),
            raw("eu.concessions", Euro, eu.concessions),
            raw("art50.direct_award_works_below", Euro, b.direct_award_works_below),
            raw("art50.direct_award_services_below", Euro, b.direct_award_services_below),
            raw("art50.works_low_band_below", Euro, b.works_low_band_below),
            raw("art50.invitees_works_low", Operators, b.invitees_works_low),
            raw("art50.invitees_works_high", Operators, b.invitees_works_high),
            raw("art50.invitees_services", Operators, b.invitees_services),
            raw(
                "art50.rotation_exempt_direct_below",
                Euro,
                b.rotation_exempt_direct_below,
            ),
            raw("days.open_offers", Days, d.open_offers),
            raw("days.open_offers_urgent", Days, d.open_offers_urgent),
            raw("days.restricted_requests", Days, d.restricted_requests),
            raw("days.restricted_requests_urgent", Days, d.restricted_requests_urgent),
            raw("days.restricted_offers", Days, d.restricted_offers),
            raw("days.restricted_offers_urgent", Days, d.restricted_offers_urgent),
            raw("days.negotiation_requests", Days, d.negotiation_requests),
            raw("days.negotiation_requests_eu", Days, d.negotiation_requests_eu),
            raw("days.negotiation_offers", Days, d.negotiation_offers),
            raw("days.information_before_deadline", Days, d.information_before_deadline),
            raw(
                "days.information_before_deadline_urgent",
                Days,
                d.information_before_deadline_urgent,
            ),
            raw(
                "award.labour_intensive_max_economic_points",
                Points,
                a.labour_intensive_max_economic_points,
            ),
            raw(
                "award.oepv_mandatory_labour_intensive",
                Flag,
                a.oepv_mandatory_labour_intensive,
            ),
            raw(
                "award.oepv_mandatory_engineering_from",
                Euro,
                a.oepv_mandatory_engineering_from,
            ),
            raw(
                "award.anomaly_method_below_threshold",
                Flag,
                a.anomaly_method_below_threshold,
            ),
            raw(
                "after_deadline.offer_validity_default_days",
                Days,
                f.offer_validity_default_days,
            ),
            raw("after_deadline.standstill_days", Days, f.standstill_days),
            raw(
                "after_deadline.redaction_challenge_days",
                Days,
                f.redaction_challenge_days,
            ),
            raw(
                "qualification.unqualified_services_supplies_below",
                Euro,
                q.unqualified_services_supplies_below,
            ),
            raw("qualification.unqualified_works_up_to", Euro, q.unqualified_works_up_to),
            raw(
                "qualification.base_services_supplies_up_to",
                Euro,
                q.base_services_supplies_up_to,
            ),
            raw("qualification.base_works_up_to", Euro, q.base_works_up_to),
            raw(
                "qualification.intermediate_services_supplies_up_to",
                Euro,
                q.intermediate_services_supplies_up_to,
            ),
            raw(
                "qualification.intermediate_works_below_eu_threshold",
                Flag,
                q.intermediate_works_below_eu_threshold,
            ),
            raw("qualification.advanced_unlimited", Flag, q.advanced_unlimited),
            raw("qualification.level_covers_lower", Flag, q.level_covers_lower),
            raw("qualification.qualified_by_law", Flag, q.qualified_by_law),
            raw(
                "qualification.unqualified_through_centrale",
                Flag,
                q.unqualified_through_centrale,
            ),
            raw("max_months.oepv_open", Months, m.oepv_open),
            raw("max_months.oepv_restricted", Months, m.oepv_restricted),
            raw(
                "max_months.oepv_competitive_negotiation",
                Months,
                m.oepv_competitive_negotiation,
            ),
            raw(
                "max_months.oepv_negotiated_without_notice",
                Months,
                m.oepv_negotiated_without_notice,
            ),
            raw(
                "max_months.oepv_competitive_dialogue",
                Months,
                m.oepv_competitive_dialogue,
            ),
            raw(
                "max_months.oepv_innovation_partnership",
                Months,
                m.oepv_innovation_partnership,
            ),
            raw("max_months.lowest_price_open", Months, m.lowest_price_open),
            raw("max_months.lowest_price_restricted", Months, m.lowest_price_restricted),
            raw(
                "max_months.lowest_price_competitive_negotiation",
                Months,
                m.lowest_price_competitive_negotiation,
            ),
            raw(
                "max_months.lowest_price_negotiated_without_notice",
                Months,
                m.lowest_price_negotiated_without_notice,
            ),
            raw("max_months.anomaly_extension", Months, m.anomaly_extension),
        ]
    }

    /// Every rule of this version, each with the span of versions where it is unchanged.
    pub fn entries(&'static self) -> Vec<Entry> {
        let pos = TABLES.iter().position(|t| std::ptr::eq(t, self)).unwrap_or(0);
        let same = |i: usize, r: &Raw| {
            TABLES[i]
                .raw()
                .into_iter()
                .find(|o| o.key == r.key)
                .is_some_and(|o| (o.value == r.value) && o.article == r.article && o.source == r.source)
        };
        self.raw()
            .into_iter()
            .map(|r| {
                let mut first = pos;
                while first > 0 && same(first - 1, &r) {
                    first -= 1;
                }
                let mut last = pos;
                while last + 1 < TABLES.len() && same(last + 1, &r) {
                    last += 1;
                }
                let (article, comma) = split_citation(r.article);
                Entry {
                    key: r.key.to_string(),
                    value: r.value,
                    unit: r.unit,
                    citation: r.article,
                    article,
                    comma,
                    source: r.source,
                    effective_from: TABLES[first].effective_from,
                    effective_until: TABLES[last].effective_until,
                }
            })
            .collect()
    }

    /// The information term of art. 92 c.2 lett. a: 4 days instead of 6 for the accelerated
    /// procedures of arts. 71–73 (urgency).
    pub fn information_before_deadline(&self, accelerated: bool) -> Rule<i64> {
        if accelerated {
            self.days.information_before_deadline_urgent
        } else {
            self.days.information_before_deadline
        }
    }
}

/// "art. 18 c.3" → ("art. 18", Some("c.3")); "art. 29 par. 1" → ("art. 29", Some("par. 1")).
fn split_citation(citation: &str) -> (String, Option<String>) {
    let mut words = citation.split_whitespace();
    let head: Vec<&str> = words.by_ref().take(2).collect();
    let rest: Vec<&str> = words.collect();
    let rest = rest.join(" ");
    (head.join(" "), (!rest.is_empty()).then_some(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const SUB: AuthorityKind = AuthorityKind::SubCentral;

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
        assert_eq!(t.min_invitees(ContractKind::Services, SUB, dec!(139_999.99)), None);
        assert_eq!(
            t.min_invitees(ContractKind::Services, SUB, dec!(140_000))
                .map(|r| r.value),
            Some(5)
        );
        assert_eq!(
            t.min_invitees(ContractKind::Services, SUB, dec!(215_999.99))
                .map(|r| r.value),
            Some(5)
        );
        assert_eq!(t.min_invitees(ContractKind::Services, SUB, dec!(216_000)), None);
        assert_eq!(
            t.min_invitees(ContractKind::Works, SUB, dec!(999_999)).map(|r| r.value),
            Some(5)
        );
        let high = t
            .min_invitees(ContractKind::Works, SUB, dec!(1_000_000))
            .expect("band d");
        assert_eq!((high.value, high.article), (10, "art. 50 c.1 lett. d"));
        assert_eq!(t.min_invitees(ContractKind::Works, SUB, dec!(5_404_000)), None);
        // The same amount is in band under the 2025 threshold and above it under 2026's.
        let t25 = LegalTable::at(date(2025, 6, 1));
        assert!(t25.is_below_eu_threshold(ContractKind::Supplies, SUB, dec!(220_000)));
        assert!(!t.is_below_eu_threshold(ContractKind::Supplies, SUB, dec!(220_000)));
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
        assert_eq!(t.after_deadline.standstill_days.value, 32);
        // Every term of the "Tender rules" table in docs/legal.md, with the article it cites.
        let days = [
            (t.days.open_offers, 30, "art. 71 c.2"),
            (t.days.open_offers_urgent, 15, "art. 71 c.3"),
            (t.days.restricted_requests, 30, "art. 72 c.2"),
            (t.days.restricted_requests_urgent, 15, "art. 72 c.6 lett. a"),
            (t.days.restricted_offers, 30, "art. 72 c.3"),
            (t.days.restricted_offers_urgent, 10, "art. 72 c.6 lett. b"),
            (t.days.negotiation_requests, 10, "art. 73 c.4"),
            (t.days.negotiation_requests_eu, 30, "art. 29 par. 1 Dir. 2014/24/UE"),
            (t.days.negotiation_offers, 25, "art. 73 c.5"),
            (t.days.information_before_deadline, 6, "art. 92 c.2 lett. a"),
            (t.days.information_before_deadline_urgent, 4, "art. 92 c.2 lett. a"),
            (t.award.labour_intensive_max_economic_points, 30, "art. 108 c.4"),
            (t.award.oepv_mandatory_engineering_from, 140_000, "art. 108 c.2 lett. b"),
            (t.after_deadline.offer_validity_default_days, 180, "art. 17 c.4"),
            (t.after_deadline.standstill_days, 32, "art. 18 c.3"),
            (t.after_deadline.redaction_challenge_days, 10, "art. 36 c.4"),
        ];
        for (rule, value, article) in days {
            assert_eq!((rule.value, rule.article), (value, article));
        }
        assert_eq!(
            t.award.oepv_mandatory_labour_intensive,
            Rule {
                value: true,
                article: "art. 108 c.2 lett. a e c.3",
                source: CODICE,
            }
        );
        assert_eq!(
            t.award.anomaly_method_below_threshold,
            Rule {
                value: true,
                article: "art. 54 c.1–2",
                source: CODICE,
            }
        );
        // The same numbers in every version of the table (the thresholds move, and the
        // correttivo changed the standstill).
        for table in &TABLES {
            assert_eq!((table.days, table.award, table.art50), (t.days, t.award, t.art50));
        }
    }

    #[test]
    fn the_correttivo_shortens_the_standstill_from_2024_12_31() {
        let before = LegalTable::at(date(2024, 12, 30)).after_deadline.standstill_days;
        let after = LegalTable::at(date(2024, 12, 31)).after_deadline.standstill_days;
        assert_eq!((before.value, before.source), (35, CODICE));
        assert_eq!((after.value, after.source), (32, CORRETTIVO));
        assert_eq!(after.article, "art. 18 c.3");
        // The thresholds did not move on that day.
        assert_eq!(
            LegalTable::at(date(2024, 12, 30)).eu,
            LegalTable::at(date(2024, 12, 31)).eu
        );
    }

    #[test]
    fn entries_carry_unit_citation_source_and_the_span_of_their_value() {
        let entries = LegalTable::at(date(2025, 6, 1)).entries();
        let get = |k: &str| entries.iter().find(|e| e.key == k).unwrap_or_else(|| panic!("{k}"));
        let standstill = get("after_deadline.standstill_days");
        assert_eq!(standstill.value, serde_json::json!(32));
        assert_eq!(standstill.unit, Unit::Days);
        assert_eq!(
            (standstill.article.as_str(), standstill.comma.as_deref()),
            ("art. 18", Some("c.3"))
        );
        assert_eq!(standstill.effective_from, date(2024, 12, 31));
        assert_eq!(standstill.effective_until, None, "still 32 in 2026");
        let works = get("eu.works");
        assert_eq!(
            (works.value.clone(), works.unit),
            (serde_json::json!(5_538_000), Unit::Euro)
        );
        assert_eq!(
            (works.effective_from, works.effective_until),
            (date(2024, 1, 1), Some(date(2026, 1, 1)))
        );
        assert_eq!(
            get("days.information_before_deadline").comma.as_deref(),
            Some("c.2 lett. a")
        );
        assert_eq!(get("days.negotiation_requests_eu").source, "Direttiva 2014/24/UE");
        assert_eq!(
            get("award.oepv_mandatory_labour_intensive").value,
            serde_json::json!(true)
        );
        // Unchanged since the Code applied.
        let open = get("days.open_offers");
        assert_eq!((open.effective_from, open.effective_until), (date(2023, 7, 1), None));
        let old = LegalTable::at(date(2024, 6, 1)).entries();
        let old_standstill = old
            .iter()
            .find(|e| e.key == "after_deadline.standstill_days")
            .expect("standstill");
        assert_eq!(old_standstill.value, serde_json::json!(35));
        assert_eq!(old_standstill.effective_until, Some(date(2024, 12, 31)));
        // Every version lists the same keys, once each.
        for t in &TABLES {
            let keys: Vec<String> = t.entries().into_iter().map(|e| e.key).collect();
            let unique: std::collections::HashSet<&String> = keys.iter().collect();
            assert_eq!(unique.len(), keys.len());
            assert_eq!(keys.len(), entries.len());
        }
    }

    #[test]
    fn allegato_i3_maximum_durations_in_months() {
        let t = LegalTable::at(date(2026, 5, 4));
        let m = t.max_months;
        for (rule, months, citation) in [
            (m.oepv_open, 9, "all. I.3 c.1 lett. a"),
            (m.oepv_restricted, 10, "all. I.3 c.1 lett. b"),
            (m.oepv_competitive_negotiation, 7, "all. I.3 c.1 lett. c"),
            (m.oepv_negotiated_without_notice, 4, "all. I.3 c.1 lett. d"),
            (m.oepv_competitive_dialogue, 7, "all. I.3 c.1 lett. e"),
            (m.oepv_innovation_partnership, 9, "all. I.3 c.1 lett. f"),
            (m.lowest_price_open, 5, "all. I.3 c.2 lett. a"),
            (m.lowest_price_restricted, 6, "all. I.3 c.2 lett. b"),
            (m.lowest_price_competitive_negotiation, 4, "all. I.3 c.2 lett. c"),
            (m.lowest_price_negotiated_without_notice, 3, "all. I.3 c.2 lett. d"),
            (m.anomaly_extension, 1, "all. I.3 c.4"),
        ] {
            assert_eq!((rule.value, rule.article, rule.source), (months, citation, CORRETTIVO));
        }
        assert_eq!(LegalTable::at(date(2024, 6, 1)).max_months.oepv_open.source, CODICE);
        let entries = t.entries();
        let open = entries.iter().find(|e| e.key == "max_months.oepv_open").expect("entry");
        assert_eq!((open.unit, open.value.clone()), (Unit::Months, serde_json::json!(9)));
        assert_eq!(
            (open.article.as_str(), open.comma.as_deref()),
            ("all. I.3", Some("c.1 lett. a"))
        );
        assert_eq!((open.effective_from, open.effective_until), (CORRETTIVO_FROM, None));
    }

    #[test]
    fn accelerated_procedures_use_four_days_for_information() {
        let t = LegalTable::at(date(2026, 5, 4));
        assert_eq!(t.information_before_deadline(false).value, 6);
        assert_eq!(t.information_before_deadline(true).value, 4);
    }

    #[test]
    fn central_government_authorities_use_the_lower_supplies_threshold_by_date() {
        use AuthorityKind::*;
        let cases = [
            (date(2023, 9, 1), 140_000, 215_000),
            (date(2025, 6, 1), 143_000, 221_000),
            (date(2026, 5, 4), 140_000, 216_000),
        ];
        for (day, central, sub) in cases {
            let t = LegalTable::at(day);
            for kind in [ContractKind::Supplies, ContractKind::Services] {
                assert_eq!(t.eu_threshold(kind, CentralGovernment).value, central, "{day}");
                assert_eq!(t.eu_threshold(kind, SubCentral).value, sub, "{day}");
            }
            assert_eq!(t.eu_threshold(kind_works(), CentralGovernment), t.eu.works);
            assert_eq!(t.eu_threshold(kind_works(), SubCentral), t.eu.works);
        }
        let t = LegalTable::at(date(2026, 5, 4));
        assert_eq!(
            t.eu_threshold(ContractKind::Supplies, CentralGovernment).article,
            "art. 14 c.1 lett. b (Reg. UE 2025/2152)"
        );
        // 150,000 of supplies: above the threshold for a Ministry, below it for a Comune.
        assert!(!t.is_below_eu_threshold(ContractKind::Supplies, CentralGovernment, dec!(150_000)));
        assert!(t.is_below_eu_threshold(ContractKind::Supplies, SubCentral, dec!(150_000)));
        // So no art. 50 band (negotiation without notice) for the Ministry.
        assert_eq!(
            t.min_invitees(ContractKind::Supplies, CentralGovernment, dec!(150_000)),
            None
        );
        assert_eq!(
            t.min_invitees(ContractKind::Supplies, SubCentral, dec!(150_000))
                .map(|r| r.value),
            Some(5)
        );
        // 141,000 in 2025 was below the central threshold (143,000), in 2026 it is above (140,000).
        assert!(LegalTable::at(date(2025, 6, 1)).is_below_eu_threshold(
            ContractKind::Services,
            CentralGovernment,
            dec!(141_000)
        ));
        assert!(!t.is_below_eu_threshold(ContractKind::Services, CentralGovernment, dec!(141_000)));
    }

    fn kind_works() -> ContractKind {
        ContractKind::Works
    }

    fn need(day: NaiveDate, kind: ContractKind, amount: Decimal) -> Option<QualificationLevel> {
        match LegalTable::at(day).qualification_need(kind, amount) {
            QualificationNeed::None { .. } => None,
            QualificationNeed::Level { level, .. } => Some(level),
        }
    }

    #[test]
    fn qualification_levels_follow_art_62_and_63() {
        use QualificationLevel::*;
        let d = date(2026, 5, 4);
        let s = ContractKind::Services;
        let w = ContractKind::Works;
        // Art. 62 c.1: alone below the direct-award limit (services), up to 500,000 (works).
        assert_eq!(need(d, s, dec!(139_999.99)), None);
        assert_eq!(need(d, s, dec!(140_000)), Some(Base));
        assert_eq!(need(d, ContractKind::Supplies, dec!(100_000)), None);
        assert_eq!(need(d, w, dec!(500_000)), None);
        assert_eq!(need(d, w, dec!(500_000.01)), Some(Base));
        // Art. 63 c.2 lett. a: base up to 750,000 (services) and 1,000,000 (works), inclusive.
        assert_eq!(need(d, s, dec!(750_000)), Some(Base));
        assert_eq!(need(d, s, dec!(750_000.01)), Some(Intermedia));
        assert_eq!(need(d, w, dec!(1_000_000)), Some(Base));
        assert_eq!(need(d, w, dec!(1_000_000.01)), Some(Intermedia));
        // Lett. b: intermediate up to 5M (services), below the EU works threshold (works).
        assert_eq!(need(d, s, dec!(5_000_000)), Some(Intermedia));
        assert_eq!(need(d, s, dec!(5_000_000.01)), Some(Avanzata));
        assert_eq!(need(d, w, dec!(5_403_999.99)), Some(Intermedia));
        assert_eq!(need(d, w, dec!(5_404_000)), Some(Avanzata));
        match LegalTable::at(d).qualification_need(s, dec!(600_000)) {
            QualificationNeed::Level { article, .. } => assert_eq!(article, "art. 63 c.2 lett. a"),
            other => panic!("{other:?}"),
        }
        match LegalTable::at(d).qualification_need(w, dec!(400_000)) {
            QualificationNeed::None { limit } => assert_eq!((limit.value, limit.article), (500_000, "art. 62 c.1")),
            other => panic!("{other:?}"),
        }
        // A level covers the lower ones (art. 63 c.3): the order of the enum.
        assert!(Avanzata > Intermedia && Intermedia > Base);
    }

    #[test]
    fn the_intermediate_works_ceiling_moves_with_the_eu_threshold() {
        use QualificationLevel::*;
        let w = ContractKind::Works;
        // 5,450,000 of works: below the 2024-2025 threshold (5,538,000), above 2026's (5,404,000).
        assert_eq!(need(date(2025, 6, 1), w, dec!(5_450_000)), Some(Intermedia));
        assert_eq!(need(date(2026, 1, 1), w, dec!(5_450_000)), Some(Avanzata));
        // 2023: 5,382,000.
        assert_eq!(need(date(2023, 9, 1), w, dec!(5_400_000)), Some(Avanzata));
        // The same limits in every version since the Code applied (1 July 2023), with their articles.
        for t in &TABLES {
            assert_eq!(t.qualification, QUALIFICATION);
        }
        let entries = LegalTable::at(date(2026, 5, 4)).entries();
        let base = entries
            .iter()
            .find(|e| e.key == "qualification.base_services_supplies_up_to")
            .expect("entry");
        assert_eq!(base.value, serde_json::json!(750_000));
        assert_eq!(
            (base.article.as_str(), base.comma.as_deref()),
            ("art. 63", Some("c.2 lett. a"))
        );
        assert_eq!((base.effective_from, base.effective_until), (date(2023, 7, 1), None));
        let by_law = entries
            .iter()
            .find(|e| e.key == "qualification.qualified_by_law")
            .expect("entry");
        assert_eq!(
            (by_law.citation, by_law.value.clone()),
            ("art. 63 c.4", serde_json::json!(true))
        );
        let works = entries
            .iter()
            .find(|e| e.key == "qualification.unqualified_works_up_to")
            .expect("entry");
        assert_eq!(
            (works.citation, works.value.clone()),
            ("art. 62 c.1", serde_json::json!(500_000))
        );
    }

    #[test]
    fn authority_and_level_names_round_trip() {
        for k in [AuthorityKind::CentralGovernment, AuthorityKind::SubCentral] {
            assert_eq!(AuthorityKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).ok(), Some(serde_json::json!(k.as_str())));
        }
        for l in [
            QualificationLevel::Base,
            QualificationLevel::Intermedia,
            QualificationLevel::Avanzata,
        ] {
            assert_eq!(QualificationLevel::parse(l.as_str()), Some(l));
            assert_eq!(serde_json::to_value(l).ok(), Some(serde_json::json!(l.as_str())));
        }
        for q in [QualificationSector::Works, QualificationSector::ServicesSupplies] {
            assert_eq!(QualificationSector::parse(q.as_str()), Some(q));
        }
        assert_eq!(AuthorityKind::default(), AuthorityKind::SubCentral);
    }
}
