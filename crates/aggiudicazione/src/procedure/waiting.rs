//! What of a tender's evaluation waits for one person: the steps the RUP must take next
//! (exclusions proposed by the platform to confirm, soccorso and art. 110 answers to decide,
//! the proposal of award, the requirements of the proposed winner, the award), the end of the
//! standstill, a commissioner's declaration and coefficients, and for a bidder the soccorso
//! istruttorio and art. 110 requests still to answer. Read only: unlike [`super::view`] it
//! never sweeps expired terms, so a dashboard listing many tenders writes nothing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{self, Procedura};
use super::{is_insider, opened, tender, Result, Tender};
use accounts::{Principal, Role};

/// One thing to do (or to know about) in one scope of a tender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Exclusions proposed by the platform, waiting for the RUP's decision (art. 30 c.3 b).
    ExclusionsToConfirm { count: usize },
    /// Soccorso istruttorio answered (or its term over) without the RUP's outcome.
    SoccorsoToDecide { count: usize },
    /// Art. 110 explanations in (or their term over) without the RUP's outcome.
    Art110ToDecide { count: usize },
    /// The ranking is computed: the proposal of award is the RUP's next act.
    AwardToPropose,
    /// Proposed: the winner's requirements are to be checked (art. 17 c.5).
    RequirementsToCheck,
    /// Every requirement checked is satisfied: the award can be made.
    AwardToMake,
    /// Awarded: the contract waits for the end of the standstill (art. 18 c.3).
    StandstillEnds,
    /// Appointed to the commission, the declaration of art. 93 c.5 is missing.
    DeclarationToMake,
    /// Envelope B is open and the technical phase is not closed; no coefficient of his yet.
    CoefficientsToEnter,
    /// A bidder's soccorso istruttorio request still to answer (before `at`).
    SoccorsoToAnswer,
    /// A bidder's art. 110 request still to answer (before `at`).
    Art110ToAnswer,
}

/// A step with the moment it is about: since when it waits, or the term it runs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub bando_id: Uuid,
    /// The lot's number, for a tender with lots.
    pub lotto: Option<i32>,
    pub step: Step,
    pub at: DateTime<Utc>,
}

/// The scopes of a tender: the tender itself, or each of its lots.
fn scopes(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<Tender>> {
    let lots = bando::store::lots(conn, bando)?;
    if lots.is_empty() {
        return Ok(vec![tender(conn, bando)?]);
    }
    lots.iter().map(|l| tender(conn, l.id)).collect()
}

/// What waits for the official `who` in tender `bando` (its officials and admins; 403 for
/// anyone else): the RUP's steps if he is RUP of the ente, a commissioner's if he sits on it.
pub fn for_official(conn: &mut PgConnection, who: &Principal, bando: Uuid, now: DateTime<Utc>) -> Result<Vec<Waiting>> {
    let mut out = Vec::new();
    for scope in scopes(conn, bando)? {
        if !is_insider(who, &scope) {
            return Err(super::ProcedureError::Forbidden);
        }
        let p = model::load(conn, &scope, now, None)?;
        let rup = who.has_role_in(Role::Rup, scope.ente_id);
        let b_open = opened(conn, scope.id, "B")?;
        let lotto = scope.lot.as_ref().map(|l| l.numero);
        out.extend(
            steps(&p, who.user_id, rup, b_open, now)
                .into_iter()
                .map(|(step, at)| Waiting {
                    bando_id: scope.id,
                    lotto,
                    step,
                    at,
                }),
        );
    }
    Ok(out)
}

/// What waits for the bidder `who` in tender `bando`: his open soccorso and art. 110
/// requests, each with its term. Nothing for a tender he did not bid in.
pub fn for_bidder(conn: &mut PgConnection, who: &Principal, bando: Uuid, now: DateTime<Utc>) -> Result<Vec<Waiting>> {
    let mut out = Vec::new();
    for scope in scopes(conn, bando)? {
        let p = model::load(conn, &scope, now, Some(who.user_id))?;
        let lotto = scope.lot.as_ref().map(|l| l.numero);
        let mine = |b: Uuid| b == who.user_id;
        for s in p.soccorsi.iter().filter(|s| mine(s.bidder_id)) {
            if s.answered_at.is_none() && s.outcome.is_none() && s.deadline > now {
                out.push(Waiting {
                    bando_id: scope.id,
                    lotto,
                    step: Step::SoccorsoToAnswer,
                    at: s.deadline,
                });
            }
        }
        for a in p.art110.iter().filter(|a| mine(a.bidder_id)) {
            if a.answered_at.is_none() && a.outcome.is_none() && a.deadline > now {
                out.push(Waiting {
                    bando_id: scope.id,
                    lotto,
                    step: Step::Art110ToAnswer,
                    at: a.deadline,
                });
            }
        }
    }
    Ok(out)
}

/// The steps of one procedure for `user`: the RUP's when `rup`, a commissioner's when he is
/// a member. Pure, so the rules are tested without a database.
pub fn steps(p: &Procedura, user: Uuid, rup: bool, b_open: bool, now: DateTime<Utc>) -> Vec<(Step, DateTime<Utc>)> {
    let mut out = Vec::new();
    if rup {
        let pending: Vec<_> = p.exclusion_proposals.iter().filter(|e| e.decision.is_none()).collect();
        if let Some(first) = pending.iter().map(|e| e.proposed_at).min() {
            out.push((Step::ExclusionsToConfirm { count: pending.len() }, first));
        }
        let soccorsi: Vec<DateTime<Utc>> = p
            .soccorsi
            .iter()
            .filter(|s| s.outcome.is_none() && (s.answered_at.is_some() || s.deadline <= now))
            .map(|s| s.answered_at.unwrap_or(s.deadline))
            .collect();
        if let Some(first) = soccorsi.iter().min() {
            out.push((Step::SoccorsoToDecide { count: soccorsi.len() }, *first));
        }
        let art110: Vec<DateTime<Utc>> = p
            .art110
            .iter()
            .filter(|a| a.outcome.is_none() && (a.answered_at.is_some() || a.deadline <= now))
            .map(|a| a.answered_at.unwrap_or(a.deadline))
            .collect();
        if let Some(first) = art110.iter().min() {
            out.push((Step::Art110ToDecide { count: art110.len() }, *first));
        }
        match p.award.as_ref() {
            None => {
                if let Some(e) = p.evaluation.as_ref().filter(|e| e.ranking.is_some()) {
                    out.push((Step::AwardToPropose, e.computed_at.unwrap_or(now)));
                }
            }
            Some(a) if a.outcome == "proposed" => {
                let proposed = a.proposed_at.unwrap_or(now);
                if p.requirements.is_empty() {
                    out.push((Step::RequirementsToCheck, proposed));
                } else if p.requirements.iter().all(|r| r.satisfied) {
                    let last = p.requirements.iter().map(|r| r.checked_at).max().unwrap_or(proposed);
                    out.push((Step::AwardToMake, last));
                }
            }
            Some(a) => {
                if let Some(end) = a.standstill_end.as_ref().filter(|e| e.utc > now) {
                    out.push((Step::StandstillEnds, end.utc));
                }
            }
        }
    }
    if let Some(m) = p.commission.iter().find(|m| m.user_id == user) {
        match m.declared_at {
            None => out.push((Step::DeclarationToMake, m.appointed_at)),
            Some(declared) => {
                let closed = p.evaluation.as_ref().is_some_and(|e| e.technical_closed_at.is_some());
                let entered = p.coefficients.iter().any(|c| c.commissioner_id == user);
                if b_open && !closed && !entered {
                    out.push((Step::CoefficientsToEnter, declared));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bando::{AwardCriterion, State};
    use model::{Award, ExclusionProposal, Member, Requirement};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
    }

    fn empty() -> Procedura {
        Procedura {
            bando_id: Uuid::nil(),
            lotto: None,
            state: State::Evaluation,
            award_criterion: AwardCriterion::MinorPrezzo,
            participants: vec![],
            soccorsi: vec![],
            commission: vec![],
            coefficients: vec![],
            evaluation: None,
            art110: vec![],
            award: None,
            award_terms: None,
            requirements: vec![],
            exclusion_proposals: vec![],
        }
    }

    fn award(outcome: &str) -> Award {
        Award {
            outcome: outcome.into(),
            winner_id: Some(Uuid::from_u128(9)),
            proposed_at: Some(at("2026-06-10T08:00:00Z")),
            awarded_at: None,
            standstill_applies: None,
            standstill_why: None,
            standstill_end: None,
            effective_at: None,
            ready_for_contract: false,
            contract_ready_from: None,
            note: None,
        }
    }

    #[test]
    fn the_rup_is_asked_for_the_next_step_of_the_award_and_nobody_else_is() {
        let now = at("2026-06-11T08:00:00Z");
        let rup = Uuid::from_u128(1);
        let mut p = empty();
        p.exclusion_proposals.push(ExclusionProposal {
            id: Uuid::from_u128(5),
            bidder_id: Uuid::from_u128(7),
            phase: "anomaly".into(),
            reason: "r".into(),
            proposed_at: at("2026-06-09T10:00:00Z"),
            decision: None,
            decision_reason: None,
            decided_by: None,
            decided_at: None,
        });
        p.award = Some(award("proposed"));
        let steps = steps(&p, rup, true, false, now);
        assert_eq!(
            steps,
            vec![
                (Step::ExclusionsToConfirm { count: 1 }, at("2026-06-09T10:00:00Z")),
                (Step::RequirementsToCheck, at("2026-06-10T08:00:00Z")),
            ]
        );
        // Not the RUP: none of his steps.
        assert!(super::steps(&p, rup, false, false, now).is_empty());

        // Requirements checked and satisfied: the award is next; one failed: nothing is.
        p.exclusion_proposals.clear();
        p.requirements.push(Requirement {
            id: Uuid::from_u128(3),
            requirement: "DURC".into(),
            evidence: "FVOE".into(),
            satisfied: true,
            checked_by: rup,
            checked_at: at("2026-06-10T09:00:00Z"),
        });
        assert_eq!(
            super::steps(&p, rup, true, false, now),
            vec![(Step::AwardToMake, at("2026-06-10T09:00:00Z"))]
        );
        p.requirements[0].satisfied = false;
        assert!(super::steps(&p, rup, true, false, now).is_empty());

        // Awarded: the standstill's end while it runs, then nothing.
        let mut done = award("awarded");
        done.standstill_end = Some(bando::Deadline::of(at("2026-07-20T22:00:00Z")));
        p.award = Some(done);
        assert_eq!(
            super::steps(&p, rup, true, false, now),
            vec![(Step::StandstillEnds, at("2026-07-20T22:00:00Z"))]
        );
        assert!(super::steps(&p, rup, true, false, at("2026-07-21T00:00:00Z")).is_empty());
    }

    #[test]
    fn a_commissioner_declares_first_then_enters_coefficients_once_b_is_open() {
        let now = at("2026-06-11T08:00:00Z");
        let member = Uuid::from_u128(2);
        let mut p = empty();
        p.commission.push(Member {
            user_id: member,
            president: true,
            appointed_at: at("2026-06-06T08:00:00Z"),
            declaration: None,
            declared_at: None,
        });
        assert_eq!(
            steps(&p, member, false, true, now),
            vec![(Step::DeclarationToMake, at("2026-06-06T08:00:00Z"))]
        );
        assert!(
            steps(&p, Uuid::from_u128(3), false, true, now).is_empty(),
            "not a member"
        );
        p.commission[0].declared_at = Some(at("2026-06-07T08:00:00Z"));
        assert!(steps(&p, member, false, false, now).is_empty(), "B not open yet");
        assert_eq!(
            steps(&p, member, false, true, now),
            vec![(Step::CoefficientsToEnter, at("2026-06-07T08:00:00Z"))]
        );
    }
}
