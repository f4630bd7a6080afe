//! The tender's vocabulary: enums with their database names, what a RUP sends, what
//! everybody reads.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use domain::deadlines;
use domain::legal::ContractKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

macro_rules! text_enum {
    // `$text:tt`, not `literal`: a `literal` fragment reaches utoipa wrapped in an invisible
    // group, so it ignored the serde rename and documented the Rust names.
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Type of contract.
    ContractType {
        Works = "works",
        Services = "services",
        Supplies = "supplies",
    }
);

impl ContractType {
    pub fn legal(self) -> ContractKind {
        match self {
            Self::Works => ContractKind::Works,
            Self::Services => ContractKind::Services,
            Self::Supplies => ContractKind::Supplies,
        }
    }
}

text_enum!(
    /// Procedure type (arts. 50, 71–73).
    ProcedureType {
        /// Affidamento diretto (art. 50 c.1 lett. a–b).
        AffidamentoDiretto = "affidamento_diretto",
        /// Procedura negoziata senza bando (art. 50 c.1 lett. c–e).
        NegoziataSenzaBando = "negoziata_senza_bando",
        /// Procedura aperta (art. 71).
        Aperta = "aperta",
        /// Procedura ristretta (art. 72).
        Ristretta = "ristretta",
        /// Procedura competitiva con negoziazione (art. 73).
        CompetitivaConNegoziazione = "competitiva_con_negoziazione",
    }
);

impl ProcedureType {
    /// Procedures without a public notice: only the invited operators see them.
    pub fn is_by_invitation(self) -> bool {
        matches!(self, Self::AffidamentoDiretto | Self::NegoziataSenzaBando)
    }
}

text_enum!(
    /// Award criterion (art. 108).
    AwardCriterion {
        /// Minor prezzo (lowest price).
        MinorPrezzo = "minor_prezzo",
        /// Offerta economicamente più vantaggiosa (best price-quality ratio).
        Oepv = "oepv",
    }
);

text_enum!(
    /// Envelopes a bid must contain.
    Envelope {
        /// Administrative documentation.
        A = "A",
        /// Technical offer.
        B = "B",
        /// Economic offer.
        C = "C",
    }
);

text_enum!(
    /// Method for the automatic exclusion of abnormal offers (art. 54, Allegato II.2).
    AnomalyMethod {
        A = "A",
        B = "B",
        C = "C",
    }
);

text_enum!(
    /// The tender's states.
    State {
        Draft = "draft",
        Published = "published",
        SubmissionsClosed = "submissions_closed",
        Opening = "opening",
        Evaluation = "evaluation",
        ProposedAward = "proposed_award",
        /// The award, made after the requirements are verified: immediately effective (art. 17 c.5).
        Awarded = "awarded",
        /// Legacy (before the art. 17 c.5 order): rows awarded first and made effective after the
        /// check still read; no move leads here any more.
        Effective = "effective",
        Cancelled = "cancelled",
        Deserted = "deserted",
    }
);

text_enum!(
    /// A lot's own states (its outcome).
    LotState {
        Active = "active",
        ProposedAward = "proposed_award",
        /// Awarded after the requirements check: effective (art. 17 c.5).
        Awarded = "awarded",
        /// Legacy end state of lots made effective after the award (read only).
        Effective = "effective",
        Deserted = "deserted",
        Cancelled = "cancelled",
    }
);

/// Who may make a move of the state machine. The generic transition routes make only
/// `Manual` and `Deadline` moves; what follows from the evaluation (the procedure's outcome:
/// evaluation, proposed award, award, deserted) is `Procedure`, reachable only
/// through the award workflow's functions (`aggiudicazione::procedure`), which check the
/// ranking and the requirements (verified before the award, art. 17 c.5) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An administrative act of the RUP (publication, cancellation with a reason).
    Manual,
    /// Made by the deadline scheduler; the RUP may make it too once the instant has passed.
    Deadline,
    /// An outcome of the evaluation, made only by the award procedure.
    Procedure,
}

impl State {
    /// Every move of the tender's state machine and who may make it.
    pub const TRANSITIONS: &'static [(State, State, Trigger)] = &[
        (State::Draft, State::Published, Trigger::Manual),
        (State::Published, State::SubmissionsClosed, Trigger::Deadline),
        (State::SubmissionsClosed, State::Opening, Trigger::Deadline),
        (State::Opening, State::Evaluation, Trigger::Procedure),
        (State::Evaluation, State::ProposedAward, Trigger::Procedure),
        (State::ProposedAward, State::Awarded, Trigger::Procedure),
        (State::SubmissionsClosed, State::Deserted, Trigger::Procedure),
        (State::Opening, State::Deserted, Trigger::Procedure),
        (State::Evaluation, State::Deserted, Trigger::Procedure),
        (State::Draft, State::Cancelled, Trigger::Manual),
        (State::Published, State::Cancelled, Trigger::Manual),
        (State::SubmissionsClosed, State::Cancelled, Trigger::Manual),
        (State::Opening, State::Cancelled, Trigger::Manual),
        (State::Evaluation, State::Cancelled, Trigger::Manual),
        (State::ProposedAward, State::Cancelled, Trigger::Manual),
        (State::Awarded, State::Cancelled, Trigger::Manual),
    ];

    /// Who may move the tender from `self` to `to`; `None` when the move does not exist.
    pub fn trigger_to(self, to: State) -> Option<Trigger> {
        Self::TRANSITIONS
            .iter()
            .find(|(f, t, _)| *f == self && *t == to)
            .map(|(_, _, by)| *by)
    }
}

impl LotState {
    /// Every move of a lot and who may make it: the outcomes are the procedure's, the
    /// cancellation (with a reason) the RUP's.
    pub const TRANSITIONS: &'static [(LotState, LotState, Trigger)] = &[
        (LotState::Active, LotState::ProposedAward, Trigger::Procedure),
        (LotState::ProposedAward, LotState::Awarded, Trigger::Procedure),
        (LotState::Active, LotState::Deserted, Trigger::Procedure),
        (LotState::Active, LotState::Cancelled, Trigger::Manual),
        (LotState::ProposedAward, LotState::Cancelled, Trigger::Manual),
    ];

    pub fn trigger_to(self, to: LotState) -> Option<Trigger> {
        Self::TRANSITIONS
            .iter()
            .find(|(f, t, _)| *f == self && *t == to)
            .map(|(_, _, by)| *by)
    }
}

text_enum!(
    DocumentKind {
        Disciplinare = "disciplinare",
        Capitolato = "capitolato",
        Allegato = "allegato",
    }
);

text_enum!(
    /// How a technical criterion is scored.
    CriterionKind {
        /// Each commissioner gives a coefficient 0–1.
        Discretionary = "discretionary",
        /// Computed from a measurable value.
        Quantitative = "quantitative",
        /// Fixed points or value ranges.
        Tabular = "tabular",
    }
);

#[allow(clippy::derivable_impls)]
impl Default for CriterionKind {
    fn default() -> Self {
        CriterionKind::Discretionary
    }
}

text_enum!(
    /// Which end of a quantitative criterion's range earns the full coefficient.
    Better {
        Higher = "higher",
        Lower = "lower",
    }
);

/// A quantitative criterion's formula: linear on the value the bidder declares in envelope B,
/// within `[min, max]` (values outside are brought to the nearer end).
/// Higher is better: C = (V − min) / (max − min); lower is better: C = (max − V) / (max − min).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantitativeRule {
    pub better: Better,
    #[serde(deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "0")]
    pub min: Decimal,
    #[serde(deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "100")]
    pub max: Decimal,
}

/// One row of a tabular criterion: an option (exact text) or a range `from ≤ V < to` (either
/// end may be open), mapped to a fixed coefficient.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TableRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_decimal"
    )]
    #[schema(value_type = Option<String>)]
    pub from: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_decimal"
    )]
    #[schema(value_type = Option<String>)]
    pub to: Option<Decimal>,
    #[serde(deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "0.5")]
    pub coefficient: Decimal,
}

text_enum!(
    /// The economic-score formula (domain.md §5).
    FormulaKind {
        /// C = (Pbase − Pi) / (Pbase − Pmin), optionally raised to alpha.
        Interpolation = "interpolation",
        /// C = Pmin / Pi.
        Inverse = "inverse",
        /// C = (V / Vmax)^alpha, alpha < 1.
        Concave = "concave",
        /// C = V / Vmax.
        Linear = "linear",
        /// Bilinear with X ∈ {0.80, 0.85, 0.90}.
        Bilinear = "bilinear",
    }
);

/// Amounts and weights arrive as JSON strings ("215000.00") or numbers; both are read as
/// exact decimals, never through a float.
pub fn de_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Str(String),
        Num(serde_json::Number),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Str(s) => s,
        Raw::Num(n) => n.to_string(),
    };
    Decimal::from_str(text.trim())
        .or_else(|_| Decimal::from_scientific(text.trim()))
        .map_err(|_| serde::de::Error::custom(format!("importo non valido: {text}")))
}

fn de_opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "de_decimal")] Decimal);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

fn zero() -> Decimal {
    Decimal::ZERO
}

/// One technical criterion, possibly with sub-criteria whose weights add up to its own.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub code: String,
    pub description: String,
    #[serde(deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "20")]
    pub weight: Decimal,
    /// Default `discretionary`.
    #[serde(default)]
    pub kind: CriterionKind,
    /// `quantitative`: the formula on the value declared in envelope B.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantitative: Option<QuantitativeRule>,
    /// `tabular`: options or value ranges mapped to fixed coefficients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub table: Vec<TableRow>,
    #[serde(default)]
    #[schema(no_recursion)]
    pub sub_criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EconomicFormula {
    pub kind: FormulaKind,
    /// Exponent for `concave` (0 < alpha < 1) and optionally `interpolation`.
    #[serde(default, deserialize_with = "de_opt_decimal")]
    #[schema(value_type = Option<String>)]
    pub alpha: Option<Decimal>,
    /// X of the bilinear formula: 0.80, 0.85 or 0.90.
    #[serde(default, deserialize_with = "de_opt_decimal")]
    #[schema(value_type = Option<String>)]
    pub x: Option<Decimal>,
}

/// The OEPV scoring scheme: technical criteria tree + economic weight = 100 points.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Oepv {
    pub criteria: Vec<Criterion>,
    #[serde(deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "30")]
    pub economic_weight: Decimal,
    pub economic_formula: EconomicFormula,
    /// Minimum technical score (soglia di sbarramento), if any.
    #[serde(default, deserialize_with = "de_opt_decimal")]
    #[schema(value_type = Option<String>)]
    pub technical_threshold: Option<Decimal>,
    /// Riparametrazione of the technical scores, per (discretionary) criterion.
    #[serde(default)]
    pub reparametrization: bool,
    /// Second riparametrazione, on the technical total: the best admitted offer gets the
    /// whole technical weight.
    #[serde(default)]
    pub reparametrize_total: bool,
}

impl Oepv {
    pub fn technical_weight(&self) -> Decimal {
        self.criteria.iter().map(|c| c.weight).sum()
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLotto {
    pub oggetto: String,
    /// The lot's own CIG.
    pub cig: String,
    #[serde(deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "120000.00")]
    pub base_amount: Decimal,
    #[serde(default = "zero", deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "2000.00")]
    pub safety_costs: Decimal,
}

fn default_envelopes() -> Vec<Envelope> {
    vec![Envelope::A, Envelope::B, Envelope::C]
}

/// What a RUP sends to create or replace a draft tender. Deadlines are Europe/Rome wall
/// times (`2026-06-05T12:00`) or RFC 3339 instants with an offset.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBando {
    pub ente_id: Uuid,
    pub oggetto: String,
    /// The tender's CIG; required when there are no lots (each lot has its own).
    pub cig: Option<String>,
    pub cup: Option<String>,
    pub cpv_main: String,
    #[serde(default)]
    pub cpv_additional: Vec<String>,
    pub nuts: String,
    pub contract_type: ContractType,
    pub procedure_type: ProcedureType,
    pub award_criterion: AwardCriterion,
    pub oepv: Option<Oepv>,
    /// Total value net of VAT, safety costs included (art. 14 c.4), in EUR.
    #[serde(deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "250000.00")]
    pub base_amount: Decimal,
    /// Safety costs, part of `base_amount` and not subject to discount.
    #[serde(default = "zero", deserialize_with = "de_decimal")]
    #[schema(value_type = String, example = "5000.00")]
    pub safety_costs: Decimal,
    /// Labour-intensive service (labour ≥ 50% of the value, Allegato I.1).
    #[serde(default)]
    pub labour_intensive: bool,
    /// Engineering, architecture or other technical/intellectual service (art. 108 c.2 lett. b).
    #[serde(default)]
    pub intellectual_services: bool,
    /// A contract based on a framework agreement (art. 18 c.3 lett. b: no standstill).
    #[serde(default)]
    pub framework_agreement: bool,
    /// A specific contract under a dynamic purchasing system (art. 18 c.3 lett. c: no standstill).
    #[serde(default)]
    pub dynamic_purchasing_system: bool,
    /// Motivated urgency allowing the reduced terms (art. 71 c.3, art. 72 c.6, art. 92 c.2 lett. a).
    pub urgency_reason: Option<String>,
    #[schema(example = "2026-05-25T12:00")]
    pub questions_deadline: Option<String>,
    #[schema(example = "2026-06-05T12:00")]
    pub submission_deadline: Option<String>,
    #[schema(example = "2026-06-05T15:00")]
    pub opening_at: Option<String>,
    /// Days offers stay binding from the deadline (default 180, art. 17 c.4).
    pub offer_validity_days: Option<i32>,
    #[serde(default = "default_envelopes")]
    pub envelopes: Vec<Envelope>,
    pub anomaly_method: Option<AnomalyMethod>,
    /// Method C's reference discount, certain cross-border interest, methods for the draw
    /// (art. 54, Allegato II.2).
    #[serde(default)]
    pub anomaly_terms: crate::AnomalyTerms,
    /// Officials of the ente holding a key share of the seal.
    #[serde(default)]
    pub custodians: Vec<Uuid>,
    /// How many custodians (k of n) are needed to open the bids.
    pub custodian_threshold: Option<i32>,
    /// Invited operators (negotiated procedures): supplier user ids for now.
    #[serde(default)]
    pub invitees: Vec<Uuid>,
    #[serde(default)]
    pub lotti: Vec<NewLotto>,
    /// Who runs the tender: the ente itself (default) or the centrale on its behalf
    /// (art. 62 c.6 lett. a); `ente_id` is always the ente on whose behalf it runs.
    #[serde(default)]
    pub conducted_by: ConductedBy,
}

/// Who runs a tender (arts. 62-63): the qualification checked at publication is theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConductedBy {
    /// The member ente, with its own qualification (or within art. 62 c.1 without one).
    #[default]
    Ente,
    /// The centrale di committenza on behalf of the ente (art. 62 c.6 lett. a, c.7 lett. a-b).
    Centrale,
}

impl ConductedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ente => "ente",
            Self::Centrale => "centrale",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "centrale" => Self::Centrale,
            _ => Self::Ente,
        }
    }
}

/// A deadline in both forms.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deadline {
    pub utc: DateTime<Utc>,
    /// The same instant in Europe/Rome, with its offset.
    #[schema(example = "2026-06-05T12:00:00+02:00")]
    pub rome: String,
}

impl Deadline {
    pub fn of(at: DateTime<Utc>) -> Self {
        Deadline {
            utc: at,
            rome: deadlines::rome_rfc3339(at),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lotto {
    pub id: Uuid,
    pub numero: i32,
    pub oggetto: String,
    pub cig: String,
    #[schema(value_type = String)]
    pub base_amount: Decimal,
    #[schema(value_type = String)]
    pub safety_costs: Decimal,
    pub state: LotState,
    pub outcome_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentMeta {
    pub id: Uuid,
    pub kind: DocumentKind,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the bytes as uploaded.
    pub sha256: String,
    /// The tender version that introduced it (0 = before publication).
    pub version: i32,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StateChange {
    pub lotto_id: Option<Uuid>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub occurred_at: DateTime<Utc>,
    /// Absent for changes made by the deadline scheduler.
    pub actor_user_id: Option<Uuid>,
    pub reason: Option<String>,
}

/// A tender as read. Officials of the ente also get custodians, invitees and the state
/// history; the public view leaves them out.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bando {
    pub id: Uuid,
    /// The ente on whose behalf the tender runs.
    pub ente_id: Uuid,
    pub ente_nome: String,
    /// Who runs it: the ente itself or the centrale (arts. 62-63).
    pub conducted_by: ConductedBy,
    /// The authority whose qualification was checked at publication (the ente, or the
    /// centrale's own ente); absent before publication.
    pub runner_ente_id: Option<Uuid>,
    /// The kind of the ente on whose behalf, fixed at publication: it picked the EU threshold
    /// for supplies and services (art. 14 c.1 lett. b-c, c.7); before publication the current one.
    pub authority_kind: domain::legal::AuthorityKind,
    pub oggetto: String,
    pub cig: Option<String>,
    pub cup: Option<String>,
    pub cpv_main: String,
    pub cpv_main_label: String,
    pub cpv_additional: Vec<String>,
    pub nuts: String,
    pub contract_type: ContractType,
    pub procedure_type: ProcedureType,
    pub award_criterion: AwardCriterion,
    pub oepv: Option<Oepv>,
    #[schema(value_type = String)]
    pub base_amount: Decimal,
    #[schema(value_type = String)]
    pub safety_costs: Decimal,
    /// `base_amount − safety_costs`: the part bids discount.
    #[schema(value_type = String)]
    pub amount_subject_to_discount: Decimal,
    pub labour_intensive: bool,
    pub intellectual_services: bool,
    pub urgency_reason: Option<String>,
    pub questions_deadline: Option<Deadline>,
    pub submission_deadline: Option<Deadline>,
    pub opening_at: Option<Deadline>,
    pub offer_validity_days: i32,
    /// Offers bind until this instant (submission deadline + validity days, Rome calendar).
    pub offer_validity_until: Option<Deadline>,
    /// From publication: the Allegato I.3 term by which the award is due (none for a direct
    /// award or a draft).
    pub max_duration: Option<crate::max_duration::MaxDuration>,
    pub envelopes: Vec<Envelope>,
    pub anomaly_method: Option<AnomalyMethod>,
    pub anomaly_terms: crate::AnomalyTerms,
    /// Based on a framework agreement (art. 18 c.3 lett. b: no standstill).
    pub framework_agreement: bool,
    /// A specific contract under a dynamic purchasing system (art. 18 c.3 lett. c).
    pub dynamic_purchasing_system: bool,
    pub state: State,
    /// 0 in draft, 1 when published, +1 for every rettifica.
    pub version: i32,
    pub published_at: Option<DateTime<Utc>>,
    pub lotti: Vec<Lotto>,
    pub documenti: Vec<DocumentMeta>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub custodians: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub custodian_threshold: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub invitees: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_history: Option<Vec<StateChange>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A request to move a tender or a lot to another state.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: String,
    /// Required for cancelled and deserted; recorded in the history.
    pub reason: Option<String>,
}

/// A rettifica of a published tender. Deadlines are Rome wall times.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRettifica {
    /// Why the tender changes (shown publicly).
    pub reason: String,
    pub submission_deadline: Option<String>,
    pub questions_deadline: Option<String>,
    pub opening_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    pub field: String,
    #[schema(value_type = Object)]
    pub from: serde_json::Value,
    #[schema(value_type = Object)]
    pub to: serde_json::Value,
}

/// One published version of the tender: the notice (1) or a rettifica (2, 3, ...).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Versione {
    pub version: i32,
    /// `publication` or `rettifica`.
    pub kind: String,
    pub reason: Option<String>,
    pub changes: Vec<Change>,
    pub published_at: DateTime<Utc>,
    /// Bids submitted before this version must be confirmed or replaced.
    pub requires_bid_confirmation: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuestion {
    pub question: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    pub answer: String,
    /// Required when the answer comes less than 6 days before the submission deadline
    /// (art. 92 c.2): the new deadline (Rome wall time), published as a rettifica.
    pub extend_submission_deadline_to: Option<String>,
}

/// A clarification. Never says who asked.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Chiarimento {
    pub id: Uuid,
    pub numero: i32,
    pub question: String,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// Public list filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicFilter {
    /// Words to find (all of them) in the oggetto, the CIG or the ente's name, case-insensitive;
    /// at most 200 characters and 8 words.
    pub q: Option<String>,
    pub ente: Option<Uuid>,
    /// A CPV code; matches the main CPV and its descendants, or an additional CPV exactly.
    pub cpv: Option<String>,
    pub procedure: Option<String>,
    pub state: Option<String>,
    /// Submission deadline at or after this Rome time/instant.
    pub deadline_from: Option<String>,
    /// Submission deadline before this Rome time/instant.
    pub deadline_to: Option<String>,
    /// Base amount at least this many euro (`40000` or `40000.50`, no thousands separator).
    pub amount_min: Option<String>,
    /// Base amount at most this many euro.
    pub amount_max: Option<String>,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BandoPage {
    pub items: Vec<Bando>,
    /// Pass as `cursor` for the next page; absent at the end.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document spells each enum as the API reads and writes it (issue 9: it used
    /// to show the Rust names, which the API refuses).
    #[test]
    fn the_openapi_schema_of_every_text_enum_lists_its_wire_values() {
        fn wire<T: utoipa::PartialSchema>(all: &[&str]) {
            let schema = serde_json::to_value(T::schema()).expect("schema");
            let values: Vec<&str> = schema["enum"]
                .as_array()
                .expect("enum values")
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            assert_eq!(values, all, "{schema}");
        }
        macro_rules! check {
            ($($t:ty),+) => {
                $(wire::<$t>(&<$t>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>());)+
            };
        }
        check!(
            ContractType,
            ProcedureType,
            AwardCriterion,
            Envelope,
            AnomalyMethod,
            State,
            LotState,
            DocumentKind,
            CriterionKind,
            Better,
            FormulaKind
        );
        assert!(AwardCriterion::ALL.contains(&AwardCriterion::parse("minor_prezzo").expect("wire value")));
    }

    #[test]
    fn the_award_states_and_the_deserted_outcome_are_the_procedures_only() {
        for to in [
            State::Evaluation,
            State::ProposedAward,
            State::Awarded,
            State::Effective,
            State::Deserted,
        ] {
            for from in State::ALL {
                if let Some(by) = from.trigger_to(to) {
                    assert_eq!(by, Trigger::Procedure, "{from} -> {to}");
                }
            }
        }
        for to in [
            LotState::ProposedAward,
            LotState::Awarded,
            LotState::Effective,
            LotState::Deserted,
        ] {
            for from in LotState::ALL {
                if let Some(by) = from.trigger_to(to) {
                    assert_eq!(by, Trigger::Procedure, "lot {from} -> {to}");
                }
            }
        }
    }

    #[test]
    fn cancelling_is_manual_from_every_state_before_efficacy_and_nothing_leaves_an_end_state() {
        for from in [
            State::Draft,
            State::Published,
            State::SubmissionsClosed,
            State::Opening,
            State::Evaluation,
            State::ProposedAward,
            State::Awarded,
        ] {
            assert_eq!(from.trigger_to(State::Cancelled), Some(Trigger::Manual), "{from}");
        }
        for end in [State::Effective, State::Cancelled, State::Deserted] {
            assert!(State::ALL.iter().all(|to| end.trigger_to(*to).is_none()), "{end}");
        }
        for end in [LotState::Effective, LotState::Cancelled, LotState::Deserted] {
            assert!(LotState::ALL.iter().all(|to| end.trigger_to(*to).is_none()), "{end}");
        }
    }

    #[test]
    fn the_award_is_the_last_step_art_17_c5_and_nothing_leads_to_the_legacy_effective_state() {
        assert!(State::ALL
            .iter()
            .all(|from| from.trigger_to(State::Effective).is_none()));
        assert!(LotState::ALL
            .iter()
            .all(|from| from.trigger_to(LotState::Effective).is_none()));
        assert!(State::ALL
            .iter()
            .all(|to| State::Awarded.trigger_to(*to) != Some(Trigger::Procedure)));
        assert!(LotState::ALL
            .iter()
            .all(|to| LotState::Awarded.trigger_to(*to).is_none()));
    }

    #[test]
    fn the_deadline_moves_go_forward_one_step_and_nothing_goes_back_to_published() {
        assert_eq!(
            State::Published.trigger_to(State::SubmissionsClosed),
            Some(Trigger::Deadline)
        );
        assert_eq!(
            State::SubmissionsClosed.trigger_to(State::Opening),
            Some(Trigger::Deadline)
        );
        assert_eq!(State::Published.trigger_to(State::Opening), None);
        assert!(State::ALL
            .iter()
            .all(|f| *f == State::Draft || f.trigger_to(State::Published).is_none()));
        assert_eq!(State::Evaluation.trigger_to(State::Awarded), None, "no step is skipped");
        assert_eq!(
            State::Opening.trigger_to(State::ProposedAward),
            None,
            "no step is skipped"
        );
    }
}
