//! The order of the procedure where it meets the seal (issue 9 point 4): on OEPV the prices
//! (envelope C) are opened only once every scope's technical phase is closed by the
//! commission, and once C is open the technical scores are frozen. The opening itself lives
//! in `offerte::opening`, below this crate: it asks [`TechnicalGate`] (its
//! `TechnicalPhase` hook), which the opening route passes in.

use bando::store as bstore;
use diesel::prelude::*;
use offerte::schema::bids;
use offerte::OfferteError;
use uuid::Uuid;

use super::schema::{agg_evaluations, agg_participants};
use super::{opened, ProcedureError, Result};

/// The award workflow's answer to "may envelope C be opened?" for `offerte::opening`.
pub struct TechnicalGate;

impl offerte::opening::TechnicalPhase for TechnicalGate {
    fn still_open(&self, conn: &mut PgConnection, bando_id: Uuid) -> std::result::Result<Vec<String>, OfferteError> {
        technical_phase_open(conn, bando_id).map_err(|e| match e {
            ProcedureError::Database(d) => OfferteError::Database(d),
            other => OfferteError::Internal(other.to_string()),
        })
    }
}

/// The scopes of tender `bando_id` (each lot still active, or the tender without lots) whose
/// technical phase the commission has not closed, by name. A scope with no offer left in
/// the race (no active bid, or every bidder excluded) has no technical phase to close.
pub fn technical_phase_open(conn: &mut PgConnection, bando_id: Uuid) -> Result<Vec<String>> {
    let lots = bstore::lots(conn, bando_id)?;
    let scopes: Vec<(Uuid, Option<Uuid>, String)> = if lots.is_empty() {
        vec![(bando_id, None, "il bando".to_string())]
    } else {
        lots.iter()
            .filter(|l| l.state == bando::LotState::Active.as_str())
            .map(|l| (l.id, Some(l.id), format!("lotto {}", l.numero)))
            .collect()
    };
    let mut open = Vec::new();
    for (scope, lot, name) in scopes {
        let closed: Option<Option<chrono::DateTime<chrono::Utc>>> = agg_evaluations::table
            .find(scope)
            .select(agg_evaluations::technical_closed_at)
            .first(conn)
            .optional()?;
        if closed.flatten().is_some() {
            continue;
        }
        let mut q = bids::table
            .filter(bids::bando_id.eq(bando_id))
            .filter(bids::withdrawn_at.is_null())
            .select(bids::bidder_id)
            .into_boxed();
        q = match lot {
            Some(l) => q.filter(bids::lotto_id.eq(l)),
            None => q.filter(bids::lotto_id.is_null()),
        };
        let bidders: Vec<Uuid> = q.load(conn)?;
        let excluded: Vec<Uuid> = agg_participants::table
            .filter(agg_participants::scope_id.eq(scope))
            .filter(agg_participants::status.eq("excluded"))
            .select(agg_participants::bidder_id)
            .load(conn)?;
        if bidders.iter().any(|b| !excluded.contains(b)) {
            open.push(name);
        }
    }
    Ok(open)
}

/// Once the prices are known the technical scores no longer change: 409 `scores_frozen`
/// (coefficients, closing of the technical phase) after envelope C of tender `bando_id`
/// has been opened.
pub fn require_scores_open(conn: &mut PgConnection, bando_id: Uuid) -> Result<()> {
    if opened(conn, bando_id, "C")? {
        return Err(ProcedureError::conflict(
            "scores_frozen",
            "Le offerte economiche (busta C) sono già state aperte: i punteggi tecnici non si modificano più",
        ));
    }
    Ok(())
}
