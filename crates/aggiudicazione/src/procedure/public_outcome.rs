//! What the platform publishes of an award once it is made: for each tender or lot awarded,
//! the awardee (ragione sociale, partita IVA), the contract amount and the awarded discount,
//! the date of the award and how many bidders took part. Art. 28 and D.Lgs. 33/2013 art. 37
//! make these public (ANAC publishes winner and amount; art. 50 c.9 the results of negotiated
//! procedures). A proposal of award (art. 17 c.5) is not published: until the RUP awards, the
//! proposed winner is known to the procedure's officials only, so nothing here can be used to
//! learn it earlier.

use std::collections::HashMap;

use accounts::Principal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::schema::{agg_award_terms, agg_awards, agg_participants};
use super::{ProcedureError, Result};

/// One award as the public sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicAward {
    /// The tender, or its lot (each lot is awarded on its own).
    pub scope_id: Uuid,
    /// The lot's number; absent for a tender without lots.
    pub lotto: Option<i32>,
    pub ragione_sociale: String,
    pub partita_iva: String,
    /// Amount subject to discount × (1 − awarded discount / 100) + safety costs, in euro.
    #[schema(value_type = Option<String>)]
    pub contract_amount: Option<Decimal>,
    /// The discount the contract is awarded at, in percent (Allegato II.2 Method B may award
    /// at the second price, not the winner's own).
    #[schema(value_type = Option<String>)]
    pub awarded_discount: Option<Decimal>,
    pub awarded_at: DateTime<Utc>,
    /// The bidders whose offers entered the procedure.
    pub participants: i64,
}

/// The awards of these scopes (tenders and lots), made and effective; the caller has already
/// decided the visitor may see the tenders (`bando::service::list_public` or `get_public`).
pub fn awards_of(conn: &mut PgConnection, scopes: &[(Uuid, Option<i32>)]) -> Result<Vec<PublicAward>> {
    let ids: Vec<Uuid> = scopes.iter().map(|(id, _)| *id).collect();
    let made: Vec<(Uuid, Option<Uuid>, Option<DateTime<Utc>>)> = agg_awards::table
        .filter(agg_awards::scope_id.eq_any(&ids))
        .filter(agg_awards::outcome.eq("awarded"))
        .select((agg_awards::scope_id, agg_awards::winner_id, agg_awards::awarded_at))
        .load(conn)?;
    if made.is_empty() {
        return Ok(Vec::new());
    }
    let terms: HashMap<Uuid, (Decimal, Decimal)> = agg_award_terms::table
        .filter(agg_award_terms::scope_id.eq_any(&ids))
        .select((
            agg_award_terms::scope_id,
            agg_award_terms::contract_amount,
            agg_award_terms::awarded_discount,
        ))
        .load::<(Uuid, Decimal, Decimal)>(conn)?
        .into_iter()
        .map(|(s, amount, discount)| (s, (amount, discount)))
        .collect();
    let counts: HashMap<Uuid, i64> = agg_participants::table
        .filter(agg_participants::scope_id.eq_any(&ids))
        .group_by(agg_participants::scope_id)
        .select((agg_participants::scope_id, diesel::dsl::count_star()))
        .load::<(Uuid, i64)>(conn)?
        .into_iter()
        .collect();
    let winners: Vec<Uuid> = made.iter().filter_map(|(_, w, _)| *w).collect();
    let names = registry::operatori::public_identities(conn, &winners).map_err(|e| match e {
        registry::RegistryError::Database(d) => ProcedureError::Database(d),
        other => ProcedureError::conflict("registry_unavailable", other.to_string()),
    })?;
    let mut out: Vec<PublicAward> = made
        .into_iter()
        .filter_map(|(scope, winner, at)| {
            let (ragione_sociale, partita_iva) = names.get(&winner?)?.clone();
            let lotto = scopes.iter().find(|(id, _)| *id == scope).and_then(|(_, n)| *n);
            Some(PublicAward {
                scope_id: scope,
                lotto,
                ragione_sociale,
                partita_iva,
                contract_amount: terms.get(&scope).map(|t| t.0),
                awarded_discount: terms.get(&scope).map(|t| t.1),
                awarded_at: at?,
                participants: counts.get(&scope).copied().unwrap_or(0),
            })
        })
        .collect();
    out.sort_by_key(|a| (a.lotto, a.scope_id));
    Ok(out)
}

/// The awards of one tender (the tender, or each of its lots), for whoever may see the
/// tender's public page: an invitation-only procedure stays 404 to anyone else.
pub fn public_awards(conn: &mut PgConnection, who: Option<&Principal>, bando: Uuid) -> Result<Vec<PublicAward>> {
    let tender = bando::service::get_public(conn, who, bando)?;
    awards_of(conn, &scopes_of(&tender))
}

/// The scopes a tender is awarded in: its lots, or the tender itself.
pub fn scopes_of(tender: &bando::model::Bando) -> Vec<(Uuid, Option<i32>)> {
    if tender.lotti.is_empty() {
        vec![(tender.id, None)]
    } else {
        tender.lotti.iter().map(|l| (l.id, Some(l.numero))).collect()
    }
}
