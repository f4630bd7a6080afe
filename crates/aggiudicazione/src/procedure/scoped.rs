//! The procedure's sub-resources, always looked up *within* their scope (issue 9 finding 5):
//! a soccorso istruttorio or an art. 110 check is found by its id only together with the
//! tender (or lot) of the URL, so the RUP of one ente cannot reach another ente's rows through
//! his own tender, and a bidder sees only his own. A row outside the scope, or not the
//! caller's, is "not found" (404): a 403 would confirm that the id exists elsewhere.
//!
//! Every handler and domain function of the workflow passes through these helpers; nothing
//! reads `agg_soccorso` or `agg_art110` by id alone.
//!
//! Also here: the lock that serializes the steps of one evaluation (issue 9 finding 8).

use accounts::{Principal, UserKind};
use bando::store as bstore;
use diesel::prelude::*;
use uuid::Uuid;

use super::model::{Art110, Soccorso};
use super::schema::{agg_art110, agg_soccorso};
use super::{tender, ProcedureError, Result, Tender};

/// The soccorso istruttorio `id` of the scope (the lot, or the tender without lots).
pub(crate) fn fetch_soccorso(conn: &mut PgConnection, scope: Uuid, id: Uuid) -> Result<Soccorso> {
    agg_soccorso::table
        .filter(agg_soccorso::scope_id.eq(scope))
        .filter(agg_soccorso::id.eq(id))
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
        .first(conn)
        .optional()?
        .ok_or(ProcedureError::NotFound {
            what: "Soccorso istruttorio",
        })
}

/// The caller's own soccorso istruttorio `id` of the scope: another bidder's is not found.
pub(crate) fn fetch_own_soccorso(conn: &mut PgConnection, who: &Principal, scope: Uuid, id: Uuid) -> Result<Soccorso> {
    let s = fetch_soccorso(conn, scope, id)?;
    if who.kind != UserKind::Supplier || s.bidder_id != who.user_id {
        return Err(ProcedureError::NotFound {
            what: "Soccorso istruttorio",
        });
    }
    Ok(s)
}

/// The art. 110 check `id` of the scope.
pub(crate) fn fetch_art110(conn: &mut PgConnection, scope: Uuid, id: Uuid) -> Result<Art110> {
    agg_art110::table
        .filter(agg_art110::scope_id.eq(scope))
        .filter(agg_art110::id.eq(id))
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
        .first(conn)
        .optional()?
        .ok_or(ProcedureError::NotFound {
            what: "Verifica di anomalia",
        })
}

/// The caller's own art. 110 check `id` of the scope: another bidder's is not found.
pub(crate) fn fetch_own_art110(conn: &mut PgConnection, who: &Principal, scope: Uuid, id: Uuid) -> Result<Art110> {
    let a = fetch_art110(conn, scope, id)?;
    if who.kind != UserKind::Supplier || a.bidder_id != who.user_id {
        return Err(ProcedureError::NotFound {
            what: "Verifica di anomalia",
        });
    }
    Ok(a)
}

/// The scope, with its tender's row locked (`SELECT ... FOR UPDATE`) for the rest of the
/// transaction. Steps that must happen once per scope (the economic phase, the commission's
/// appointment) take it first: a concurrent second request waits, then reads what the first
/// committed and is refused with its own 409 instead of computing, or inserting, twice.
pub(crate) fn tender_locked(conn: &mut PgConnection, scope: Uuid) -> Result<Tender> {
    use bando::schema::bando_lotti;
    let bando: Uuid = bando_lotti::table
        .find(scope)
        .select(bando_lotti::bando_id)
        .first(conn)
        .optional()?
        .unwrap_or(scope);
    bstore::lock(conn, bando)?;
    tender(conn, scope)
}
