//! OEPV scoring: economic formulas ([`compute_economic_scores`]), technical scores with
//! riparametrazione and soglia di sbarramento ([`technical::compute_technical_scores`]) and the
//! full 70/30-style evaluation with ranking ([`oepv::evaluate_oepv`]).
//!
//! Arithmetic: exact fractions; outputs exact when they terminate within 20 decimals,
//! otherwise rounded half-even to 20 decimals with the exact fraction reported (key
//! `"<offer id>.<field>"`). Concave coefficients that are irrational are the exact value rounded
//! half-even to 30 decimals (see [`power`]); that 30-decimal value is the one used for points and
//! ranking. `points_rounded_3dp_half_up` is for display only; rankings use exact values.

mod formulas;
pub mod oepv;
pub mod power;
pub mod technical;

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::EvalError;
use crate::exact::{check_decimals, check_discount, q_from_decimal, round_q, Renderer, Rounding, Q};
use crate::ranking::{calculator_seed, rank_by, RankedOffer};

/// Economic scoring formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EconomicFormula {
    /// Ci = Ri / Rmax (on discounts).
    Linear,
    /// Bilinear on discounts, X in {0.80, 0.85, 0.90}, Asoglia = mean discount.
    Bilinear,
    /// Ci = (Ri / Rmax)^alpha, 0 < alpha <= 1 (on discounts).
    Concave,
    /// Ci = Pmin / Pi (on prices).
    InverseProportional,
}

impl EconomicFormula {
    /// True when the offered values are prices rather than percentage discounts.
    pub fn is_on_price(self) -> bool {
        matches!(self, EconomicFormula::InverseProportional)
    }
}

impl FromStr for EconomicFormula {
    type Err = EvalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linear" => Ok(EconomicFormula::Linear),
            "bilinear" => Ok(EconomicFormula::Bilinear),
            "concave" => Ok(EconomicFormula::Concave),
            "inverse_proportional" => Ok(EconomicFormula::InverseProportional),
            _ => Err(EvalError::UnknownFormula { value: s.to_owned() }),
        }
    }
}

/// Formula parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EconomicParameters {
    /// Maximum economic points (> 0).
    #[schema(value_type = String)]
    pub max_points: Decimal,
    /// Bilinear only: X, one of 0.80, 0.85, 0.90.
    #[serde(rename = "X", alias = "x", default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub x: Option<Decimal>,
    /// Concave only: alpha in (0, 1], at most 3 decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub alpha: Option<Decimal>,
}

/// A value with an explicit offer id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifiedValue {
    pub id: String,
    #[schema(value_type = String)]
    pub value: Decimal,
}

/// One offer's economic value (discount in percent, or price): bare decimal string
/// (id "O1", "O2", ... by position) or an object with an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ValueEntry {
    #[schema(value_type = String)]
    Plain(Decimal),
    Identified(IdentifiedValue),
}

impl ValueEntry {
    pub fn id_and_value(&self, index: usize) -> (String, Decimal) {
        match self {
            ValueEntry::Plain(v) => (format!("O{}", index + 1), *v),
            ValueEntry::Identified(x) => (x.id.clone(), x.value),
        }
    }
}

/// Body of `POST /api/v1/tools/economic-scores`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EconomicScoresRequest {
    pub formula: EconomicFormula,
    pub parameters: EconomicParameters,
    pub offers: Vec<ValueEntry>,
    /// Recorded seed for the draw among offers with equal scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draw_seed: Option<u64>,
}

impl EconomicScoresRequest {
    /// Parse a JSON request; an unknown formula gives `unknown_formula`, anything else
    /// malformed `invalid_request`.
    pub fn from_json(text: &str) -> Result<Self, EvalError> {
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(EvalError::from_serde)?;
        if let Some(formula) = value.get_mut("formula") {
            let parsed = match formula.as_str() {
                Some(s) => s.parse::<EconomicFormula>()?,
                None => {
                    return Err(EvalError::UnknownFormula {
                        value: formula.to_string(),
                    })
                }
            };
            *formula = serde_json::to_value(parsed).map_err(EvalError::from_serde)?;
        }
        serde_json::from_value(value).map_err(EvalError::from_serde)
    }
}

/// One offer's economic score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EconomicScore {
    pub id: String,
    #[schema(value_type = String)]
    pub value: Decimal,
    /// Coefficient in [0, 1].
    #[schema(value_type = String)]
    pub coefficient: Decimal,
    /// coefficient × max_points.
    #[schema(value_type = String)]
    pub points: Decimal,
    /// Display only: points rounded half-up to 3 decimals.
    #[schema(value_type = String)]
    pub points_rounded_3dp_half_up: Decimal,
}

/// Response of the economic calculator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EconomicScoresReport {
    pub formula: EconomicFormula,
    #[schema(value_type = String)]
    pub max_points: Decimal,
    /// Bilinear only: mean of all discounts.
    #[serde(rename = "Asoglia", default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub asoglia: Option<Decimal>,
    /// Offers in input order.
    pub offers: Vec<EconomicScore>,
    /// Ranking on exact points (ties: draw with `draw_seed`, otherwise shared rank).
    pub ranking: Vec<RankedOffer>,
    /// Keys `"<id>.coefficient"` / `"<id>.points"` (and `"Asoglia"`) rounded to 20 decimals.
    pub inexact_fields: Vec<String>,
    /// Exact fractions of the inexact fields.
    pub fractions: BTreeMap<String, String>,
}

/// Exact economic results, shared with the OEPV evaluation.
pub(crate) struct EconomicExact {
    pub(crate) ids: Vec<String>,
    pub(crate) values: Vec<Decimal>,
    pub(crate) asoglia: Option<Q>,
    pub(crate) coefficients: Vec<Q>,
    pub(crate) points: Vec<Q>,
}

/// Compute the economic scores of every offer.
pub fn compute_economic_scores(request: &EconomicScoresRequest) -> Result<EconomicScoresReport, EvalError> {
    let exact = economic_exact(request)?;
    render_economic(request, &exact)
}

pub(crate) fn economic_exact(request: &EconomicScoresRequest) -> Result<EconomicExact, EvalError> {
    let params = &request.parameters;
    validate_parameters(request.formula, params)?;
    if request.offers.is_empty() {
        return Err(EvalError::EmptyOffers {
            field: "offers".to_owned(),
        });
    }
    let mut ids = Vec::new();
    let mut values = Vec::new();
    let mut seen = HashSet::new();
    for (index, entry) in request.offers.iter().enumerate() {
        let (id, value) = entry.id_and_value(index);
        let field = format!("offers[{index}]");
        if request.formula.is_on_price() {
            if value <= Decimal::ZERO {
                return Err(EvalError::PriceOutOfRange {
                    field,
                    value: value.to_string(),
                });
            }
            check_decimals(value, &field)?;
        } else {
            check_discount(value, &field)?;
        }
        if !seen.insert(id.clone()) {
            return Err(EvalError::DuplicateId { field, id });
        }
        ids.push(id);
        values.push(value);
    }
    let exact: Vec<Q> = values.iter().map(|v| q_from_decimal(*v)).collect();
    let mut asoglia = None;
    let coefficients = match request.formula {
        EconomicFormula::Linear => formulas::linear(&exact),
        EconomicFormula::Bilinear => {
            let x = q_from_decimal(params.x.unwrap_or_default());
            let (a, c) = formulas::bilinear(&exact, &x);
            asoglia = Some(a);
            c
        }
        EconomicFormula::Concave => formulas::concave(&exact, &q_from_decimal(params.alpha.unwrap_or_default())),
        EconomicFormula::InverseProportional => formulas::inverse_proportional(&exact),
    };
    let max_points = q_from_decimal(params.max_points);
    let points = coefficients.iter().map(|c| c * &max_points).collect();
    Ok(EconomicExact {
        ids,
        values,
        asoglia,
        coefficients,
        points,
    })
}

pub(crate) fn render_economic(
    request: &EconomicScoresRequest,
    exact: &EconomicExact,
) -> Result<EconomicScoresReport, EvalError> {
    let mut renderer = Renderer::default();
    let asoglia = match &exact.asoglia {
        Some(a) => Some(renderer.render("Asoglia", a)?),
        None => None,
    };
    let mut offers = Vec::with_capacity(exact.ids.len());
    for (i, id) in exact.ids.iter().enumerate() {
        let points = &exact.points[i];
        let display = round_q(points, 3, Rounding::HalfUp);
        offers.push(EconomicScore {
            id: id.clone(),
            value: exact.values[i],
            coefficient: renderer.render(&format!("{id}.coefficient"), &exact.coefficients[i])?,
            points: renderer.render(&format!("{id}.points"), points)?,
            points_rounded_3dp_half_up: Renderer::plain(&display, &format!("{id}.points"))?,
        });
    }
    let keys: Vec<(String, Q, Option<Q>)> = exact
        .ids
        .iter()
        .zip(&exact.points)
        .map(|(id, p)| (id.clone(), p.clone(), None))
        .collect();
    Ok(EconomicScoresReport {
        formula: request.formula,
        max_points: request.parameters.max_points,
        asoglia,
        offers,
        ranking: rank_by(&keys, request.draw_seed.map(calculator_seed).as_ref()),
        inexact_fields: renderer.inexact_fields,
        fractions: renderer.fractions,
    })
}

/// Allowed values of X in the bilinear formula.
pub const BILINEAR_X_VALUES: [Decimal; 3] = [
    Decimal::from_parts(80, 0, 0, false, 2),
    Decimal::from_parts(85, 0, 0, false, 2),
    Decimal::from_parts(90, 0, 0, false, 2),
];

/// Largest number of decimals accepted for alpha (keeps the exact root computation small).
pub const MAX_ALPHA_DECIMALS: u32 = 3;

fn validate_parameters(formula: EconomicFormula, params: &EconomicParameters) -> Result<(), EvalError> {
    if params.max_points <= Decimal::ZERO {
        return Err(EvalError::InvalidParameter {
            field: "parameters.max_points".to_owned(),
            reason: "il punteggio massimo deve essere maggiore di zero".to_owned(),
        });
    }
    check_decimals(params.max_points, "parameters.max_points")?;
    match (formula, params.x) {
        (EconomicFormula::Bilinear, None) => {
            return Err(EvalError::MissingParameter {
                field: "parameters.X".to_owned(),
            })
        }
        (EconomicFormula::Bilinear, Some(x)) if !BILINEAR_X_VALUES.contains(&x) => {
            return Err(EvalError::InvalidParameter {
                field: "parameters.X".to_owned(),
                reason: "X deve valere 0,80, 0,85 oppure 0,90".to_owned(),
            })
        }
        (EconomicFormula::Bilinear, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(EvalError::UnexpectedParameter {
                field: "parameters.X".to_owned(),
            })
        }
    }
    match (formula, params.alpha) {
        (EconomicFormula::Concave, None) => Err(EvalError::MissingParameter {
            field: "parameters.alpha".to_owned(),
        }),
        (EconomicFormula::Concave, Some(alpha)) => {
            if alpha <= Decimal::ZERO || alpha > Decimal::ONE {
                Err(EvalError::InvalidParameter {
                    field: "parameters.alpha".to_owned(),
                    reason: "alfa deve essere maggiore di 0 e non superiore a 1".to_owned(),
                })
            } else if alpha.normalize().scale() > MAX_ALPHA_DECIMALS {
                Err(EvalError::InvalidParameter {
                    field: "parameters.alpha".to_owned(),
                    reason: format!("alfa può avere al massimo {MAX_ALPHA_DECIMALS} cifre decimali"),
                })
            } else {
                Ok(())
            }
        }
        (_, None) => Ok(()),
        (_, Some(_)) => Err(EvalError::UnexpectedParameter {
            field: "parameters.alpha".to_owned(),
        }),
    }
}
