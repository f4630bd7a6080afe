//! What may be published about a tender's bids as open data (OCDS, `documents::ocds`): how many
//! bids were received, for the tender or each lot, and only once the submission deadline has
//! passed. Before it nobody, the public included, learns whether anyone bid (art. 35 c.2
//! lett. a defers even the list of bidders to the deadline): [`bids_received`] answers `None`.
//! Who bid is never published here: the awardee is published with the award
//! (`aggiudicazione::procedure::public_outcome`), the other bidders stay known only to the
//! procedure (art. 36 access).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{bandi, bids, envelopes};
use crate::OfferteError;

/// Bids received for one scope: the tender (`lotto` = None) or one of its lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidCount {
    pub lotto: Option<Uuid>,
    /// Bids not withdrawn with at least one envelope received.
    pub bids: i64,
}

/// What [`bids_received`] counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Per scope (lots in id order; scopes without bids left out).
    pub scopes: Vec<BidCount>,
    /// Distinct bidders over the whole tender (one bidding in two lots counts once).
    pub bidders: i64,
}

/// The bids received by tender `bando`, with its deadline, as known at `now`; `None` before
/// the submission deadline (or without one).
pub fn bids_received(
    conn: &mut PgConnection,
    bando: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(DateTime<Utc>, Received)>, OfferteError> {
    let deadline: Option<DateTime<Utc>> = bandi::table
        .find(bando)
        .select(bandi::submission_deadline)
        .first(conn)?;
    let Some(deadline) = deadline.filter(|d| now >= *d) else {
        return Ok(None);
    };
    let received = || {
        bids::table
            .filter(bids::bando_id.eq(bando))
            .filter(bids::withdrawn_at.is_null())
            .filter(diesel::dsl::exists(
                envelopes::table
                    .filter(envelopes::bid_id.eq(bids::id))
                    .filter(envelopes::received_at.le(deadline)),
            ))
    };
    let rows: Vec<(Option<Uuid>, i64)> = received()
        .group_by(bids::lotto_id)
        .select((bids::lotto_id, diesel::dsl::count_star()))
        .order(bids::lotto_id.asc())
        .load(conn)?;
    let bidders = received().select(bids::bidder_id).distinct().load::<Uuid>(conn)?.len() as i64;
    Ok(Some((
        deadline,
        Received {
            scopes: rows.into_iter().map(|(lotto, bids)| BidCount { lotto, bids }).collect(),
            bidders,
        },
    )))
}
