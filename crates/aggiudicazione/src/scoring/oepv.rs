//! Full OEPV evaluation: technical score, soglia di sbarramento, economic score of the admitted
//! offers, totals and ranking (higher total; then higher technical score; then seeded draw).
//!
//! The economic formula is applied to the admitted offers only (offers stopped by the soglia
//! di sbarramento do not take part in Rmax, Asoglia or Pmin), and the economic offers must
//! carry the same ids as the technical ones.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::technical::{render_technical, technical_exact, TechnicalReport, TechnicalRequest};
use super::{economic_exact, render_economic, EconomicScoresReport, EconomicScoresRequest, ValueEntry};
use crate::error::EvalError;
use crate::exact::{Renderer, Q};
use crate::ranking::{calculator_seed, rank_by, RankedOffer};
use domain::draw::Seed;

/// OEPV evaluation request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OepvRequest {
    pub technical: TechnicalRequest,
    /// Economic formula, parameters and offers; every offer needs an explicit id matching a
    /// technical offer. Its own `draw_seed` is ignored in favour of the one below.
    pub economic: EconomicScoresRequest,
    /// Recorded seed for the final draw among offers equal on total and technical score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draw_seed: Option<u64>,
}

/// Totals of one admitted offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OepvTotal {
    pub id: String,
    #[schema(value_type = String)]
    pub technical: Decimal,
    #[schema(value_type = String)]
    pub economic: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// OEPV evaluation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OepvReport {
    pub technical: TechnicalReport,
    /// Economic scores of the admitted offers only.
    pub economic: EconomicScoresReport,
    /// Offers below the soglia di sbarramento.
    pub not_admitted: Vec<String>,
    pub totals: Vec<OepvTotal>,
    pub ranking: Vec<RankedOffer>,
    /// Totals rounded to 20 decimals (keys `"<id>.technical"`, `"<id>.total"`, ...).
    pub inexact_fields: Vec<String>,
    pub fractions: BTreeMap<String, String>,
}

/// Evaluate a full OEPV tender.
pub fn evaluate_oepv(request: &OepvRequest) -> Result<OepvReport, EvalError> {
    evaluate_oepv_drawn(request, request.draw_seed.map(calculator_seed).as_ref())
}

/// [`evaluate_oepv`] with the draw's seed given (a procedure's, from its beacon); the
/// request's own `draw_seed` is then ignored.
pub fn evaluate_oepv_drawn(request: &OepvRequest, seed: Option<&Seed>) -> Result<OepvReport, EvalError> {
    let technical = technical_exact(&request.technical)?;
    let technical_index: HashMap<&str, usize> = technical
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();

    let mut economic_values: HashMap<String, Decimal> = HashMap::new();
    for (index, entry) in request.economic.offers.iter().enumerate() {
        let field = format!("economic.offers[{index}]");
        let (id, value) = match entry {
            ValueEntry::Identified(x) => (x.id.clone(), x.value),
            ValueEntry::Plain(_) => {
                return Err(EvalError::InvalidParameter {
                    field,
                    reason: "ogni offerta economica deve indicare l'identificativo".to_owned(),
                })
            }
        };
        if !technical_index.contains_key(id.as_str()) {
            return Err(EvalError::InvalidParameter {
                field,
                reason: format!("offerta \"{id}\" assente nella valutazione tecnica"),
            });
        }
        if economic_values.insert(id.clone(), value).is_some() {
            return Err(EvalError::DuplicateId { field, id });
        }
    }

    let mut not_admitted = Vec::new();
    let mut admitted_entries = Vec::new();
    for (o, id) in technical.ids.iter().enumerate() {
        if !technical.admitted[o] {
            not_admitted.push(id.clone());
            continue;
        }
        let value = economic_values.get(id).ok_or_else(|| EvalError::MissingParameter {
            field: format!("economic.offers[id={id}]"),
        })?;
        admitted_entries.push(ValueEntry::Identified(super::IdentifiedValue {
            id: id.clone(),
            value: *value,
        }));
    }

    let economic_request = EconomicScoresRequest {
        formula: request.economic.formula,
        parameters: request.economic.parameters.clone(),
        offers: admitted_entries,
        draw_seed: request.draw_seed,
    };
    let (economic_report, totals, ranking, renderer) = if economic_request.offers.is_empty() {
        let empty = EconomicScoresReport {
            formula: economic_request.formula,
            max_points: economic_request.parameters.max_points,
            asoglia: None,
            offers: Vec::new(),
            ranking: Vec::new(),
            inexact_fields: Vec::new(),
            fractions: BTreeMap::new(),
        };
        (empty, Vec::new(), Vec::new(), Renderer::default())
    } else {
        let economic = economic_exact(&economic_request)?;
        let economic_report = render_economic(&economic_request, &economic)?;
        let mut renderer = Renderer::default();
        let mut totals = Vec::new();
        let mut keys: Vec<(String, Q, Option<Q>)> = Vec::new();
        for (e, id) in economic.ids.iter().enumerate() {
            let o = technical_index.get(id.as_str()).copied().unwrap_or_default();
            let tech = technical.totals[o].clone().unwrap_or_default();
            let econ = economic.points[e].clone();
            let total = &tech + &econ;
            totals.push(OepvTotal {
                id: id.clone(),
                technical: renderer.render(&format!("{id}.technical"), &tech)?,
                economic: renderer.render(&format!("{id}.economic"), &econ)?,
                total: renderer.render(&format!("{id}.total"), &total)?,
            });
            keys.push((id.clone(), total, Some(tech)));
        }
        let ranking = rank_by(&keys, seed);
        (economic_report, totals, ranking, renderer)
    };

    Ok(OepvReport {
        technical: render_technical(&request.technical, &technical)?,
        economic: economic_report,
        not_admitted,
        totals,
        ranking,
        inexact_fields: renderer.inexact_fields,
        fractions: renderer.fractions,
    })
}
