//! Art. 36 access after the award: non-excluded bidders reach the winner's offer, the first
//! five in the ranking each other's. Every download is an audit event.

use accounts::Principal;
use db::audit::AuditCtx;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{agg_awards, agg_evaluations, agg_participants, envelopes, opened_envelopes};
use super::{active_bid_ids, audit_only, is_insider, tender, ProcedureError, Result};

/// An opened envelope the caller may download.
#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct AccessibleEnvelope {
    pub envelope_id: Uuid,
    pub bidder_id: Uuid,
    pub kind: String,
}

/// What the caller may read, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Access {
    /// `insider`, `top_five`, `non_excluded`.
    pub basis: String,
    pub envelopes: Vec<AccessibleEnvelope>,
}

pub fn accessible(conn: &mut PgConnection, who: &Principal, bando: Uuid) -> Result<Access> {
    let row = tender(conn, bando)?;
    let outcome: Option<(String, Option<Uuid>)> = agg_awards::table
        .find(bando)
        .select((agg_awards::outcome, agg_awards::winner_id))
        .first(conn)
        .optional()?;
    let Some((state, Some(winner))) = outcome.filter(|(s, _)| s == "awarded" || s == "effective") else {
        return Err(ProcedureError::conflict(
            "access_before_award",
            "art. 35 c.2: le offerte sono accessibili solo dopo l'aggiudicazione",
        ));
    };
    let _ = state;
    let bids = active_bid_ids(conn, &row)?;
    let all: Vec<AccessibleEnvelope> = opened_envelopes::table
        .inner_join(envelopes::table)
        .filter(envelopes::bid_id.eq_any(bids))
        .filter(opened_envelopes::plaintext_path.is_not_null())
        .filter(envelopes::superseded_at.is_null())
        .order((envelopes::bidder_id.asc(), envelopes::kind.asc()))
        .select((envelopes::id, envelopes::bidder_id, envelopes::kind))
        .load(conn)?;
    if is_insider(who, &row) {
        return Ok(Access {
            basis: "insider".into(),
            envelopes: all,
        });
    }
    let status: Option<String> = agg_participants::table
        .find((bando, who.user_id))
        .select(agg_participants::status)
        .first(conn)
        .optional()?;
    if status.is_none() || status.as_deref() == Some("excluded") {
        return Err(ProcedureError::Forbidden);
    }
    let ranking: Option<Option<serde_json::Value>> = agg_evaluations::table
        .find(bando)
        .select(agg_evaluations::ranking)
        .first(conn)
        .optional()?;
    let excluded: Vec<Uuid> = agg_participants::table
        .filter(agg_participants::scope_id.eq(bando))
        .filter(agg_participants::status.eq("excluded"))
        .select(agg_participants::bidder_id)
        .load(conn)?;
    let top_five: Vec<Uuid> = ranking
        .flatten()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l["bidder_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()))
        .filter(|b| !excluded.contains(b))
        .take(5)
        .collect();
    let (basis, allowed): (&str, Vec<Uuid>) = if top_five.contains(&who.user_id) {
        ("top_five", top_five)
    } else {
        ("non_excluded", vec![winner])
    };
    Ok(Access {
        basis: basis.into(),
        envelopes: all
            .into_iter()
            .filter(|e| allowed.contains(&e.bidder_id) || e.bidder_id == who.user_id)
            .collect(),
    })
}

/// The stored plaintext path (relative to the seal directory) of an accessible envelope.
pub fn plaintext(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    envelope: Uuid,
) -> Result<String> {
    let access = accessible(conn, who, bando)?;
    if !access.envelopes.iter().any(|e| e.envelope_id == envelope) {
        // Not one the caller may access (or not of this tender): not found, not "forbidden".
        return Err(ProcedureError::NotFound { what: "Busta" });
    }
    let row = tender(conn, bando)?;
    let path: Option<String> = opened_envelopes::table
        .find(envelope)
        .select(opened_envelopes::plaintext_path)
        .first(conn)?;
    audit_only(
        conn,
        ctx,
        &row,
        "aggiudicazione.accesso_atti",
        serde_json::json!({ "envelope_id": envelope, "by": who.user_id, "basis": access.basis }),
    )?;
    path.ok_or(ProcedureError::NotFound {
        what: "Contenuto della busta",
    })
}
