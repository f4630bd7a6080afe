//! What of a tender's seal waits for one person: a custodian's round of the key ceremony
//! (his transport key, his contribution, his acknowledgement) before the submission
//! deadline, his opening share once the opening of the next envelope is allowed, and for the
//! RUP the next envelope to open. Read only, for dashboards; the acts themselves check the
//! same conditions again (`custody::*`, `opening::ensure_may_open`).

use accounts::Principal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::custody;
use crate::opening::{self, TechnicalPhase};
use crate::schema::{openings, seal_opening_shares, seal_tender_keys};
use crate::OfferteError;

/// One act a custodian is expected to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustodyStep {
    /// Round 1: register his transport key.
    TransportKey,
    /// Round 2: his contribution to the tender's keys.
    Contribution,
    /// Round 3: acknowledge the others' contributions.
    Acknowledgement,
    /// The opening of envelope `kind` is allowed and his share of it is missing.
    OpeningShare { kind: String },
}

/// A step with its moment: the submission deadline the ceremony must end before, or the
/// opening session from which the share is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyWaiting {
    pub step: CustodyStep,
    pub at: DateTime<Utc>,
}

/// The envelope the tender opens next, if its opening is allowed now, with the session time.
pub fn next_opening(
    conn: &mut PgConnection,
    bando_id: Uuid,
    now: DateTime<Utc>,
    technical: &dyn TechnicalPhase,
) -> Result<Option<(String, DateTime<Utc>)>, OfferteError> {
    let t = custody::tender(conn, bando_id)?;
    let Some(deadline) = t.submission_deadline else {
        return Ok(None);
    };
    if now < deadline {
        return Ok(None);
    }
    // Without a completed ceremony there is no key to open anything with.
    let sealed: i64 = seal_tender_keys::table
        .filter(seal_tender_keys::bando_id.eq(bando_id))
        .count()
        .get_result(conn)?;
    if sealed == 0 {
        return Ok(None);
    }
    let opened: Vec<String> = openings::table
        .filter(openings::bando_id.eq(bando_id))
        .select(openings::kind)
        .load(conn)?;
    let mut kinds: Vec<&str> = ["A", "B", "C"]
        .into_iter()
        .filter(|k| t.envelopes.iter().any(|e| e == k))
        .collect();
    if kinds.is_empty() {
        kinds = vec!["A", "B", "C"];
    }
    let Some(next) = kinds.into_iter().find(|k| !opened.iter().any(|o| o == k)) else {
        return Ok(None);
    };
    match opening::ensure_may_open(conn, bando_id, next, now, technical) {
        Ok(()) => {
            let session: Option<DateTime<Utc>> = crate::schema::bandi::table
                .find(bando_id)
                .select(crate::schema::bandi::opening_at)
                .first(conn)?;
            Ok(Some((next.to_string(), session.unwrap_or(deadline).max(deadline))))
        }
        Err(OfferteError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What waits for `who` as a custodian of tender `bando_id`: nothing if he is not one.
pub fn for_custodian(
    conn: &mut PgConnection,
    who: &Principal,
    bando_id: Uuid,
    now: DateTime<Utc>,
    technical: &dyn TechnicalPhase,
) -> Result<Vec<CustodyWaiting>, OfferteError> {
    let t = custody::tender(conn, bando_id)?;
    if !t.custodians.contains(&who.user_id) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    if let Some(deadline) = t.submission_deadline.filter(|d| now < *d) {
        if matches!(t.state.as_str(), "draft" | "published") {
            let key = custody::get(conn, bando_id)?;
            let me = key.custodians.iter().find(|c| c.user_id == who.user_id);
            let step = match (key.status.as_str(), me) {
                ("not_started", _) => Some(CustodyStep::TransportKey),
                ("registering", Some(c)) if c.transport_key.is_none() => Some(CustodyStep::TransportKey),
                ("registering", None) => Some(CustodyStep::TransportKey),
                ("contributing", Some(c)) if !c.contributed => Some(CustodyStep::Contribution),
                ("acknowledging", Some(c)) if !c.acked => Some(CustodyStep::Acknowledgement),
                _ => None,
            };
            out.extend(step.map(|step| CustodyWaiting { step, at: deadline }));
        }
        return Ok(out);
    }
    if let Some((kind, session)) = next_opening(conn, bando_id, now, technical)? {
        let given: i64 = seal_opening_shares::table
            .filter(seal_opening_shares::bando_id.eq(bando_id))
            .filter(seal_opening_shares::kind.eq(&kind))
            .filter(seal_opening_shares::custodian_user_id.eq(who.user_id))
            .count()
            .get_result(conn)?;
        if given == 0 {
            out.push(CustodyWaiting {
                step: CustodyStep::OpeningShare { kind },
                at: session,
            });
        }
    }
    Ok(out)
}

/// The tenders where `who` (a supplier) has an active bid, newest bid first: where his
/// deadlines, rettifiche to confirm and the centrale's requests come from.
pub fn bid_tenders(conn: &mut PgConnection, who: &Principal) -> Result<Vec<Uuid>, OfferteError> {
    use crate::schema::bids;
    let rows: Vec<(Uuid, DateTime<Utc>)> = bids::table
        .filter(bids::bidder_id.eq(who.user_id))
        .filter(bids::withdrawn_at.is_null())
        .order(bids::created_at.desc())
        .select((bids::bando_id, bids::created_at))
        .load(conn)?;
    let mut out: Vec<Uuid> = Vec::new();
    for (b, _) in rows {
        if !out.contains(&b) {
            out.push(b);
        }
    }
    Ok(out)
}
