//! What the workflow receives and shows.

use std::collections::BTreeMap;

use bando::{AwardCriterion, Deadline, State};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::*;
use super::Result;

/// Admission or exclusion of a bidder after envelope A (seggio di gara / RUP).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionDecision {
    pub bidder_id: Uuid,
    /// `admitted` or `excluded`.
    pub decision: String,
    /// Required for an exclusion.
    pub reason: Option<String>,
}

/// A soccorso istruttorio request (art. 101): envelope A only, 5–10 days.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SoccorsoRequest {
    pub bidder_id: Uuid,
    /// What is missing or must be fixed (documents, DGUE, application).
    pub request: String,
    /// Days to answer: 5 to 10.
    pub days: i32,
    /// Always `A` (the default): never the technical or economic offer.
    pub envelope: Option<String>,
}

/// The bidder's answer (soccorso istruttorio or art. 110 explanations).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub answer: String,
}

/// The RUP's decision on an answer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub accepted: bool,
    /// Required when not accepted: it becomes the exclusion reason.
    pub reason: Option<String>,
}

/// The RUP's decision on an exclusion the platform proposed (art. 30 c.3 lett. b).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusionDecision {
    /// `true` confirms the exclusion, `false` rejects the proposal (the offer stays in).
    pub confirmed: bool,
    /// Always required: the RUP's own reason.
    pub reason: String,
}

/// An exclusion computed by the platform (anomaly threshold, soccorso istruttorio unanswered,
/// art. 110 explanations not given in time): only a proposal until the RUP decides it.
#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct ExclusionProposal {
    pub id: Uuid,
    pub bidder_id: Uuid,
    /// `anomaly`, `soccorso`, `art110`, `economic` (an envelope C that is no valid offer).
    pub phase: String,
    pub reason: String,
    pub proposed_at: DateTime<Utc>,
    /// `confirmed`, `rejected`, or none while pending.
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The commission (art. 93): an odd number of members, at most 5, one of them president.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommissionAppointment {
    pub members: Vec<Uuid>,
    pub president: Uuid,
}

/// A member's declaration of no incompatibility (art. 93 c.5, DPR 62/2013 art. 7).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// Must be true: no political office at the SA in the last 2 years, no conviction for
    /// crimes against the PA, no conflict of interest with any bidder.
    pub no_incompatibility: bool,
    pub text: String,
}

/// One commissioner's coefficients (0–1) for one offer, by criterion code (leaf criteria).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoefficientsInput {
    pub bidder_id: Uuid,
    #[schema(value_type = BTreeMap<String, String>)]
    pub coefficients: BTreeMap<String, Decimal>,
}

/// The economic phase. The body carries nothing: ties are drawn from the tender's signed
/// checkpoint at closing (`domain::draw`), never from a seed the caller chooses; a body that
/// still sends `draw_seed` is refused (400, unknown field).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EconomicPhase {}

/// Art. 110 explanations asked of the best offer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Art110Request {
    pub bidder_id: Uuid,
    /// The elements that look abnormally low.
    pub request: String,
}

/// One requirement of the proposed winner checked before the award (art. 17 c.5), with its evidence.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementCheck {
    pub requirement: String,
    pub evidence: String,
    pub satisfied: bool,
}

/// A reason, where one is required (deserted, all excluded).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Participant {
    pub bidder_id: Uuid,
    /// `pending`, `admitted`, `excluded`.
    pub status: String,
    /// `administrative`, `soccorso`, `economic`, `technical`, `anomaly`, `art110`.
    pub excluded_phase: Option<String>,
    pub reason: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Soccorso {
    pub id: Uuid,
    pub bidder_id: Uuid,
    pub envelope: String,
    pub request: String,
    pub days: i32,
    pub deadline: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// `accepted`, `rejected`, `expired` (no answer in time: the exclusion is proposed to the RUP).
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub outcome_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub president: bool,
    pub appointed_at: DateTime<Utc>,
    pub declaration: Option<String>,
    pub declared_at: Option<DateTime<Utc>>,
}

/// A commissioner's raw coefficient (every entry kept; the latest per key counts).
#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct RawCoefficient {
    pub bidder_id: Uuid,
    pub criterion: String,
    pub commissioner_id: Uuid,
    #[schema(value_type = String)]
    pub coefficient: Decimal,
    pub entered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub criterion: Option<String>,
    /// `{request, report, computed}`: the technical engine's input and result (averages,
    /// riparametrazione, soglia) and the coefficients computed from envelope B's declared values.
    #[schema(value_type = Option<Object>)]
    pub technical: Option<serde_json::Value>,
    pub technical_closed_at: Option<DateTime<Utc>>,
    /// Whether the automatic exclusion of art. 54 applies, and why (not).
    pub anomaly_applies: Option<bool>,
    pub anomaly_why: Option<String>,
    /// The full Allegato II.2 computation: wings, sum, mean, mean deviation, ratio,
    /// decrement, threshold, excluded offers (ids are bidder ids).
    #[schema(value_type = Option<Object>)]
    pub anomaly: Option<serde_json::Value>,
    /// Economic values and scores (OEPV: the whole OEPV report).
    #[schema(value_type = Option<Object>)]
    pub economic: Option<serde_json::Value>,
    /// Final ranking: `[{bidder_id, rank, tie_break, ...}]`.
    #[schema(value_type = Option<Object>)]
    pub ranking: Option<serde_json::Value>,
    /// The public draw of any tie: `{algorithm, purpose, subject, beacon (the tender's signed
    /// checkpoint at closing), beacon_tree_size, seed}`; recompute it with
    /// `POST /api/v1/tools/draw` or `centrale draw`.
    #[schema(value_type = Option<Object>)]
    pub draw: Option<serde_json::Value>,
    pub computed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Art110 {
    pub id: Uuid,
    pub bidder_id: Uuid,
    pub request: String,
    pub deadline: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// `accepted`, `excluded`, or `expired` (no explanations in time: the exclusion is proposed to the RUP).
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub outcome_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Award {
    /// `proposed`, `awarded` (effective at once, art. 17 c.5), `deserted`, `all_excluded`;
    /// `effective` only on awards made before that order (legacy rows).
    pub outcome: String,
    pub winner_id: Option<Uuid>,
    pub proposed_at: Option<DateTime<Utc>>,
    pub awarded_at: Option<DateTime<Utc>>,
    /// Art. 18 c.3: false in its exceptions (lett. a-d: one offer submitted or admitted,
    /// framework agreement, dynamic purchasing system, below the EU thresholds).
    pub standstill_applies: Option<bool>,
    pub standstill_why: Option<String>,
    pub standstill_end: Option<Deadline>,
    pub effective_at: Option<DateTime<Utc>>,
    /// Awarded (hence effective) and past the standstill (or none applies): the contract may be signed.
    pub ready_for_contract: bool,
    pub contract_ready_from: Option<Deadline>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Requirement {
    pub id: Uuid,
    pub requirement: String,
    pub evidence: String,
    pub satisfied: bool,
    pub checked_by: Uuid,
    pub checked_at: DateTime<Utc>,
}

/// An art. 90 communication as produced in the platform.
#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Communication {
    pub id: Uuid,
    pub recipient_user_id: Option<Uuid>,
    pub recipient_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A lot of the tender, with its own state (`active`, `proposed_award`, `awarded`,
/// `deserted`, `cancelled`; `effective` on legacy rows).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lotto {
    pub id: Uuid,
    pub numero: i32,
    pub cig: String,
    pub state: String,
}

/// The evaluation and award of one tender, or of one of its lots.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Procedura {
    pub bando_id: Uuid,
    /// The lot this evaluation is about (tenders with lots: each lot is decided separately).
    pub lotto: Option<Lotto>,
    pub state: State,
    pub award_criterion: AwardCriterion,
    pub participants: Vec<Participant>,
    pub soccorsi: Vec<Soccorso>,
    pub commission: Vec<Member>,
    pub coefficients: Vec<RawCoefficient>,
    pub evaluation: Option<Evaluation>,
    pub art110: Vec<Art110>,
    pub award: Option<Award>,
    /// The awarded discount and the contract amount (Allegato II.2 Method B: second price),
    /// recorded with the proposal of award.
    pub award_terms: Option<super::award_terms::AwardTerms>,
    pub requirements: Vec<Requirement>,
    /// Exclusions proposed by the platform and the RUP's decisions (art. 30 c.3 lett. b).
    pub exclusion_proposals: Vec<ExclusionProposal>,
}

pub(crate) fn award_view(conn: &mut PgConnection, bando: Uuid, now: DateTime<Utc>) -> Result<Option<Award>> {
    type Row = (
        String,
        Option<Uuid>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<bool>,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<String>,
    );
    let row: Option<Row> = agg_awards::table
        .find(bando)
        .select((
            agg_awards::outcome,
            agg_awards::winner_id,
            agg_awards::proposed_at,
            agg_awards::awarded_at,
            agg_awards::standstill_applies,
            agg_awards::standstill_why,
            agg_awards::standstill_end,
            agg_awards::effective_at,
            agg_awards::note,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(
            outcome,
            winner_id,
            proposed_at,
            awarded_at,
            standstill_applies,
            standstill_why,
            standstill_end,
            effective_at,
            note,
        )| {
            let ready_from = match (effective_at, standstill_end) {
                (Some(e), Some(s)) => Some(e.max(s)),
                (Some(e), None) => Some(e),
                _ => None,
            };
            Award {
                ready_for_contract: matches!(outcome.as_str(), "awarded" | "effective")
                    && ready_from.is_some_and(|r| r <= now),
                contract_ready_from: ready_from.map(Deadline::of),
                outcome,
                winner_id,
                proposed_at,
                awarded_at,
                standstill_applies,
                standstill_why,
                standstill_end: standstill_end.map(Deadline::of),
                effective_at,
                note,
            }
        },
    ))
}

pub(crate) fn evaluation_view(conn: &mut PgConnection, bando: Uuid) -> Result<Option<Evaluation>> {
    type Row = (
        Option<serde_json::Value>,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<bool>,
        Option<String>,
        Option<serde_json::Value>,
        Option<serde_json::Value>,
        Option<serde_json::Value>,
        Option<serde_json::Value>,
        Option<DateTime<Utc>>,
    );
    let row: Option<Row> = agg_evaluations::table
        .find(bando)
        .select((
            agg_evaluations::technical_report,
            agg_evaluations::technical_closed_at,
            agg_evaluations::criterion,
            agg_evaluations::anomaly_applies,
            agg_evaluations::anomaly_why,
            agg_evaluations::anomaly_report,
            agg_evaluations::economic_report,
            agg_evaluations::ranking,
            agg_evaluations::draw,
            agg_evaluations::computed_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|r| Evaluation {
        technical: r.0,
        technical_closed_at: r.1,
        criterion: r.2,
        anomaly_applies: r.3,
        anomaly_why: r.4,
        anomaly: r.5,
        economic: r.6,
        ranking: r.7,
        draw: r.8,
        computed_at: r.9,
    }))
}

pub(crate) fn participants(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<Participant>> {
    Ok(agg_participants::table
        .filter(agg_participants::scope_id.eq(bando))
        .order(agg_participants::bidder_id.asc())
        .select((
            agg_participants::bidder_id,
            agg_participants::status,
            agg_participants::excluded_phase,
            agg_participants::reason,
            agg_participants::decided_by,
            agg_participants::decided_at,
        ))
        .load(conn)?)
}

/// Everything about the procedure; `only` restricts the per-bidder rows to one supplier.
pub(crate) fn load(
    conn: &mut PgConnection,
    row: &super::Tender,
    now: DateTime<Utc>,
    only: Option<Uuid>,
) -> Result<Procedura> {
    let bando = row.scope();
    let mut participants = participants(conn, bando)?;
    let mut soccorsi: Vec<Soccorso> = agg_soccorso::table
        .filter(agg_soccorso::scope_id.eq(bando))
        .order(agg_soccorso::requested_at.asc())
        .select((
            agg_soccorso::id,
            agg_soccorso::bidder_id,
            agg_soccorso::envelope,
            agg_soccorso::request,
            agg_soccorso::days,
            agg_soccorso::deadline,
            agg_soccorso::requested_at,
            agg_soccorso::answer,
            agg_soccorso::answered_at,
            agg_soccorso::outcome,
            agg_soccorso::outcome_reason,
            agg_soccorso::outcome_at,
        ))
        .load(conn)?;
    let commission: Vec<Member> = agg_commission::table
        .filter(agg_commission::scope_id.eq(bando))
        .order((agg_commission::president.desc(), agg_commission::user_id.asc()))
        .select((
            agg_commission::user_id,
            agg_commission::president,
            agg_commission::appointed_at,
            agg_commission::declaration,
            agg_commission::declared_at,
        ))
        .load(conn)?;
    let coefficients: Vec<RawCoefficient> = if only.is_some() {
        Vec::new()
    } else {
        agg_coefficients::table
            .filter(agg_coefficients::scope_id.eq(bando))
            .order(agg_coefficients::id.asc())
            .select((
                agg_coefficients::bidder_id,
                agg_coefficients::criterion,
                agg_coefficients::commissioner_id,
                agg_coefficients::coefficient,
                agg_coefficients::entered_at,
            ))
            .load(conn)?
    };
    let mut art110: Vec<Art110> = agg_art110::table
        .filter(agg_art110::scope_id.eq(bando))
        .order(agg_art110::requested_at.asc())
        .select((
            agg_art110::id,
            agg_art110::bidder_id,
            agg_art110::request,
            agg_art110::deadline,
            agg_art110::requested_at,
            agg_art110::answer,
            agg_art110::answered_at,
            agg_art110::outcome,
            agg_art110::outcome_reason,
            agg_art110::outcome_at,
        ))
        .load(conn)?;
    let award = award_view(conn, bando, now)?;
    let award_terms = super::award_terms::view(conn, bando)?;
    let requirements: Vec<Requirement> = if only.is_some() {
        Vec::new()
    } else {
        agg_requirements::table
            .filter(agg_requirements::scope_id.eq(bando))
            .order(agg_requirements::checked_at.asc())
            .select((
                agg_requirements::id,
                agg_requirements::requirement,
                agg_requirements::evidence,
                agg_requirements::satisfied,
                agg_requirements::checked_by,
                agg_requirements::checked_at,
            ))
            .load(conn)?
    };
    // A bidder sees the outcome only once the award is communicated (art. 90).
    let awarded = award.as_ref().is_some_and(|a| {
        matches!(
            a.outcome.as_str(),
            "awarded" | "effective" | "deserted" | "all_excluded"
        )
    });
    let evaluation = if only.is_none() || awarded {
        evaluation_view(conn, bando)?
    } else {
        None
    };
    let mut exclusion_proposals: Vec<ExclusionProposal> = agg_exclusion_proposals::table
        .filter(agg_exclusion_proposals::scope_id.eq(bando))
        .order((
            agg_exclusion_proposals::proposed_at.asc(),
            agg_exclusion_proposals::id.asc(),
        ))
        .select((
            agg_exclusion_proposals::id,
            agg_exclusion_proposals::bidder_id,
            agg_exclusion_proposals::phase,
            agg_exclusion_proposals::reason,
            agg_exclusion_proposals::proposed_at,
            agg_exclusion_proposals::decision,
            agg_exclusion_proposals::decision_reason,
            agg_exclusion_proposals::decided_by,
            agg_exclusion_proposals::decided_at,
        ))
        .load(conn)?;
    if let Some(me) = only {
        // A bidder learns of its exclusion from the RUP's act, not from a pending proposal.
        exclusion_proposals.retain(|p| p.bidder_id == me && p.decision.is_some());
        participants.retain(|p| p.bidder_id == me);
        soccorsi.retain(|s| s.bidder_id == me);
        art110.retain(|a| a.bidder_id == me);
    }
    Ok(Procedura {
        bando_id: row.id,
        lotto: row.lot.as_ref().map(|l| Lotto {
            id: l.id,
            numero: l.numero,
            cig: l.cig.clone(),
            state: l.state.clone(),
        }),
        state: row.state(),
        award_criterion: row.award_criterion(),
        participants,
        soccorsi,
        commission,
        coefficients,
        evaluation,
        art110,
        award: if only.is_none() || awarded { award } else { None },
        award_terms: if only.is_none() || awarded { award_terms } else { None },
        requirements,
        exclusion_proposals,
    })
}
