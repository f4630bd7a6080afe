//! Request and report types of the anomaly calculation (JSON: decimals as strings).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::reference_table::ReferenceKey;
use crate::error::EvalError;
use crate::exact::Renderer;

/// Allegato II.2 method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AnomalyMethod {
    /// Method A.
    A,
    /// Method B (second-price award).
    B,
    /// Method C (needs the reference discount stated in the tender).
    C,
}

impl AnomalyMethod {
    /// Offers equal to the threshold, as the text says: excluded under A (point 3 as amended,
    /// "pari o superiori"; Cons. Stato 5780/2024 for the 2023 text), kept under B (point 2,
    /// "pari o inferiori ... non-anomale") and C (point 2 f, only "superiori" are excluded).
    pub fn default_equal_to_threshold(self) -> EqualToThreshold {
        match self {
            AnomalyMethod::A => EqualToThreshold::Excluded,
            AnomalyMethod::B | AnomalyMethod::C => EqualToThreshold::Kept,
        }
    }

    pub fn all() -> [AnomalyMethod; 3] {
        [AnomalyMethod::A, AnomalyMethod::B, AnomalyMethod::C]
    }
}

impl FromStr for AnomalyMethod {
    type Err = EvalError;

    /// Accepts "A", "B", "C" (case-insensitive, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(AnomalyMethod::A),
            "B" => Ok(AnomalyMethod::B),
            "C" => Ok(AnomalyMethod::C),
            _ => Err(EvalError::UnknownMethod { value: s.to_owned() }),
        }
    }
}

impl fmt::Display for AnomalyMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            AnomalyMethod::A => "A",
            AnomalyMethod::B => "B",
            AnomalyMethod::C => "C",
        };
        f.write_str(s)
    }
}

/// What happens to an offer whose discount equals the threshold exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EqualToThreshold {
    /// Excluded (discount >= T). Default for Method A.
    Excluded,
    /// Kept (only discount > T is excluded). Default for Methods B and C; for Method A it is
    /// the minority reading of the 2023 text (TAR Toscana ord. 120/2024) that a tender
    /// published before the correttivo may have adopted; the amended point 3 ("pari o
    /// superiori") rules it out.
    Kept,
}

/// How ties at the boundary of the wings are treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WingTies {
    /// Literal Allegato II.2 rule (default): equal discounts count one by one for the k offers,
    /// then every offer equal to a wing's boundary value is also set aside.
    #[default]
    CountIndividually,
    /// "Blocco unitario" (Ad. Plen. 5/2017 under the old code; some platforms): equal discounts
    /// count as one value, so the k lowest and k highest distinct values are set aside.
    /// Not the literal rule; only for tenders under the 2023 text whose documents adopted it.
    DistinctValues,
}

/// Which text of Allegato II.2 governs the tender (decided by its publication date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllegatoText {
    /// D.Lgs. 36/2023 as first in force (tenders published before the correttivo).
    Original2023,
    /// As amended by D.Lgs. 209/2024 (tenders published from 2024-12-31).
    Amended2024,
}

/// How the winner's award discount was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AwardDiscountRule {
    /// The winner's own discount (Method A point 3, Method C point 2 f, and no automatic
    /// exclusion at all).
    OwnDiscount,
    /// Method B point 2, "metodo del secondo prezzo": s2, the best discount among the
    /// non-anomalous offers other than the winner's.
    SecondPrice,
    /// Method B point 2, tie at the best discount: the winner is drawn among the tied and is
    /// awarded at its own discount.
    TieOwnDiscount,
}

/// Options a tender's documents may set. All default to the text; the other readings are
/// allowed only for tenders under the 2023 text ([`AllegatoText::Original2023`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyOptions {
    /// Override for offers equal to the threshold; `None` = method default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equal_to_threshold: Option<EqualToThreshold>,
    /// Trimming rule for ties at the wing boundaries.
    #[serde(default)]
    pub wing_ties: WingTies,
    /// Recorded seed for the lot among tied best offers; without it ties are only reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lottery_seed: Option<u64>,
}

/// A discount with an explicit bidder id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifiedDiscount {
    pub id: String,
    /// Percentage discount, e.g. "15.420".
    #[schema(value_type = String)]
    pub discount: Decimal,
}

/// One admitted discount: a bare decimal string (id = "O1", "O2", ... by position) or an
/// object with an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DiscountEntry {
    #[schema(value_type = String)]
    Plain(Decimal),
    Identified(IdentifiedDiscount),
}

impl DiscountEntry {
    /// Id (explicit, or "O" + 1-based position) and discount.
    pub fn id_and_value(&self, index: usize) -> (String, Decimal) {
        match self {
            DiscountEntry::Plain(d) => (format!("O{}", index + 1), *d),
            DiscountEntry::Identified(x) => (x.id.clone(), x.discount),
        }
    }
}

impl From<Decimal> for DiscountEntry {
    fn from(d: Decimal) -> Self {
        DiscountEntry::Plain(d)
    }
}

/// Body of `POST /api/v1/tools/anomaly-threshold`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyRequest {
    pub method: AnomalyMethod,
    /// Admitted discounts, in input order.
    pub discounts: Vec<DiscountEntry>,
    /// Method C only: the reference discount stated in the tender notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub reference_discount: Option<Decimal>,
    /// Method C only, alternative to `reference_discount`: a key of the reference table
    /// (UNVERIFIED figures, see [`super::reference_table`]; the report flags them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceKey>,
    /// The tender's publication date: it decides which text of Allegato II.2 applies (the
    /// correttivo D.Lgs. 209/2024 from 2024-12-31). Absent: the text in force now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub publication_date: Option<NaiveDate>,
    #[serde(default)]
    pub options: AnomalyOptions,
}

impl AnomalyRequest {
    /// A request with default options.
    pub fn new(method: AnomalyMethod, discounts: Vec<DiscountEntry>) -> Self {
        AnomalyRequest {
            method,
            discounts,
            reference_discount: None,
            reference: None,
            publication_date: None,
            options: AnomalyOptions::default(),
        }
    }

    /// Parse a JSON request (REST body or CLI stdin), mapping every problem to [`EvalError`]:
    /// an unknown method gives `unknown_method`, anything else malformed `invalid_request`.
    pub fn from_json(text: &str) -> Result<Self, EvalError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(EvalError::from_serde)?;
        if let Some(method) = value.get("method") {
            match method.as_str() {
                Some(s) => {
                    s.parse::<AnomalyMethod>()?;
                }
                None => {
                    return Err(EvalError::UnknownMethod {
                        value: method.to_string(),
                    })
                }
            }
        }
        let mut value = value;
        if let Some(method) = value.get_mut("method") {
            if let Some(s) = method.as_str() {
                *method = serde_json::Value::String(s.trim().to_ascii_uppercase());
            }
        }
        serde_json::from_value(value).map_err(EvalError::from_serde)
    }
}

/// An offer as listed in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Offer {
    pub id: String,
    #[schema(value_type = String)]
    pub discount: Decimal,
}

/// Why an offer was excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionReason {
    /// Discount strictly above the threshold.
    AboveThreshold,
    /// Discount equal to the threshold, excluded under the ">=" rule (Method A default).
    EqualToThreshold,
}

/// An automatically excluded offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExcludedOffer {
    pub id: String,
    #[schema(value_type = String)]
    pub discount: Decimal,
    pub reason: ExclusionReason,
}

/// The best offer: highest discount, awarded at its own discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Winner {
    /// All offers tied at the best discount (more than one means a lot is needed).
    pub ids: Vec<String>,
    #[schema(value_type = String)]
    pub discount: Decimal,
    pub tie_lottery: bool,
    /// Result of the seeded lot, when a seed was supplied and there is a tie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawn_id: Option<String>,
}

/// Method A branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum MethodABranch {
    /// Point 2: fewer than 15 admitted offers.
    #[serde(rename = "<15")]
    FewerThan15,
    /// Point 1: 15 or more admitted offers.
    #[serde(rename = ">=15")]
    AtLeast15,
}

/// Method A point 2 threshold rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ThresholdRule {
    /// R <= 0.15: T = 1.20 × M.
    #[serde(rename = "M * 1.20")]
    MeanTimes120,
    /// R > 0.15: T = M + SM.
    #[serde(rename = "M + SM")]
    MeanPlusDeviation,
}

/// Parity of the digit sum E (Methods B and C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    Even,
    Odd,
}

/// Sign of the Method B/C adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AdjustmentSign {
    #[serde(rename = "+")]
    Plus,
    #[serde(rename = "-")]
    Minus,
}

/// Which comparison excluded offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionRule {
    /// discount >= T.
    AtOrAboveThreshold,
    /// discount > T.
    AboveThreshold,
}

/// Overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnomalyOutcome {
    /// A threshold was computed and applied.
    ThresholdApplied,
    /// Fewer than 5 admitted offers: no automatic exclusion (art. 54 c.1).
    #[serde(rename = "NOT_APPLICABLE_LESS_THAN_5_OFFERS")]
    NotApplicableLessThan5Offers,
    /// Every offer fell in the wings: M is undefined, no threshold (open question).
    NoThresholdEmptyTrimmedSet,
    /// Every offer is above the threshold (Methods A and B; not reachable in practice).
    AllOffersExcluded,
    /// Method C, every offer is anomalous: nothing is excluded automatically, the RUP checks
    /// the anomaly in contraddittorio (Allegato II.2 Method C point 2 f, as art. 110).
    AllOffersAnomalousContraddittorio,
}

/// Full report of the calculation. Optional fields are absent when the method or branch does
/// not use them; field names follow the conformance vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnomalyReport {
    pub method: AnomalyMethod,
    /// The text of Allegato II.2 applied (from the tender's publication date).
    pub text: AllegatoText,
    pub n_admitted: usize,
    /// False with fewer than 5 admitted offers: then there is no threshold.
    pub automatic_exclusion_applies: bool,
    pub outcome: AnomalyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<MethodABranch>,
    /// k = ceil(n / 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wing_size_k: Option<usize>,
    pub sorted_ascending: Vec<Offer>,
    pub lower_wing: Vec<Offer>,
    pub upper_wing: Vec<Offer>,
    pub trimmed_set: Vec<Offer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trimmed_count: Option<usize>,
    /// S, exact sum of the trimmed discounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub sum: Option<Decimal>,
    /// d1 and d2: first two decimal digits of the exact S.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_first_two_decimals: Option<[u8; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_d1_d2: Option<u32>,
    /// E: digit sum of the integer part of S plus d1 and d2 (B, C).
    #[serde(rename = "digit_sum_E", default, skip_serializing_if = "Option::is_none")]
    pub digit_sum_e: Option<u32>,
    #[serde(rename = "E_parity", default, skip_serializing_if = "Option::is_none")]
    pub e_parity: Option<Parity>,
    /// M = S / trimmed_count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub mean: Option<Decimal>,
    /// Trimmed discounts strictly above M.
    pub above_mean: Vec<Offer>,
    /// SM: mean of (r - M) over `above_mean`; 0 when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub mean_deviation: Option<Decimal>,
    /// R = SM / M (Method A, fewer than 15 offers).
    #[serde(rename = "ratio_SM_over_M", default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub ratio_sm_over_m: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_le_0_15: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_rule: Option<ThresholdRule>,
    /// T1 = M + SM (Method A, 15 or more offers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub threshold_before_decrement: Option<Decimal>,
    /// SM × d1·d2 / 100 (Method A, 15 or more offers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub decrement: Option<Decimal>,
    /// T1 = M + SM (Method B).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub threshold_before_adjustment: Option<Decimal>,
    /// Method C reference discount used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub reference_discount: Option<Decimal>,
    /// Method C: true when the reference discount came from the embedded copy of Tabella A,
    /// whose figures are NOT verified against the official table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_discount_unverified: Option<bool>,
    /// V = SM × d1·d2 / 100 (Methods B and C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub adjustment: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_sign: Option<AdjustmentSign>,
    /// T, the anomaly threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub threshold: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion_rule: Option<ExclusionRule>,
    pub excluded: Vec<ExcludedOffer>,
    /// Method C with every offer anomalous: the offers the RUP checks in contraddittorio
    /// (none of them is excluded automatically).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalous_to_verify: Vec<Offer>,
    /// Best non-excluded offer (with fewer than 5 offers: best offer, nothing excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<Winner>,
    /// When no threshold could be computed: the best offer if nothing were excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner_if_no_exclusion: Option<Winner>,
    /// The discount the contract is awarded at (absent when there is no winner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub award_discount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub award_discount_rule: Option<AwardDiscountRule>,
    /// Fields rounded half-even to 20 decimals because their exact value does not terminate.
    pub inexact_fields: Vec<String>,
    /// Exact fractions of the fields in `inexact_fields`.
    pub fractions: BTreeMap<String, String>,
}

impl AnomalyReport {
    pub(crate) fn empty(method: AnomalyMethod, text: AllegatoText, n: usize) -> Self {
        AnomalyReport {
            method,
            text,
            n_admitted: n,
            automatic_exclusion_applies: true,
            outcome: AnomalyOutcome::ThresholdApplied,
            branch: None,
            wing_size_k: None,
            sorted_ascending: Vec::new(),
            lower_wing: Vec::new(),
            upper_wing: Vec::new(),
            trimmed_set: Vec::new(),
            trimmed_count: None,
            sum: None,
            sum_first_two_decimals: None,
            product_d1_d2: None,
            digit_sum_e: None,
            e_parity: None,
            mean: None,
            above_mean: Vec::new(),
            mean_deviation: None,
            ratio_sm_over_m: None,
            ratio_le_0_15: None,
            threshold_rule: None,
            threshold_before_decrement: None,
            decrement: None,
            threshold_before_adjustment: None,
            reference_discount: None,
            reference_discount_unverified: None,
            adjustment: None,
            adjustment_sign: None,
            threshold: None,
            exclusion_rule: None,
            excluded: Vec::new(),
            anomalous_to_verify: Vec::new(),
            winner: None,
            winner_if_no_exclusion: None,
            award_discount: None,
            award_discount_rule: None,
            inexact_fields: Vec::new(),
            fractions: BTreeMap::new(),
        }
    }

    pub(crate) fn finish(&mut self, renderer: Renderer) {
        self.inexact_fields = renderer.inexact_fields;
        self.fractions = renderer.fractions;
    }
}
