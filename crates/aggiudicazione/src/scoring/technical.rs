//! Technical score (aggregative-compensatory method, ANAC Linee guida n. 2).
//!
//! For each criterion: V = average of the commissioners' coefficients (each in [0, 1]).
//! First riparametrazione (per criterion, when `reparametrize` is set): coefficient = V / Vbest,
//! so the best offer gets the full weight (all zero if Vbest = 0); otherwise coefficient = V.
//! Points = coefficient × criterion max points; technical total = sum of the points.
//! Soglia di sbarramento (`minimum_score`): offers whose total is BELOW the minimum are not
//! admitted (reaching it exactly is enough). By default it is applied after the first and
//! before the second riparametrazione; the tender documents must state the order.
//! Second riparametrazione (`second_reparametrization`): admitted totals are rescaled so the best
//! gets `max_technical_points` (default: sum of the criteria's max points).
//! All values exact; rendering as in [`crate::exact`] with keys `"<offer>.<criterion>.<field>"`.

use std::collections::{BTreeMap, HashSet};

use num_traits::Zero;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::EvalError;
use crate::exact::{check_decimals, q_from_decimal, q_int, Renderer, Q};

fn yes() -> bool {
    true
}

/// A technical criterion (or sub-criterion) with its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicalCriterion {
    pub id: String,
    /// Maximum points (weight) of the criterion.
    #[schema(value_type = String)]
    pub max_points: Decimal,
    /// Apply the first riparametrazione to this criterion (default true).
    #[serde(default = "yes")]
    pub reparametrize: bool,
}

/// An offer's coefficients: criterion id → the commissioners' coefficients in [0, 1]
/// (one entry for criteria scored automatically).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicalOffer {
    pub id: String,
    #[schema(value_type = BTreeMap<String, Vec<String>>)]
    pub coefficients: BTreeMap<String, Vec<Decimal>>,
}

/// When the soglia di sbarramento is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MinimumScoreStage {
    /// On the total after the first and before the second riparametrazione (default).
    #[default]
    BeforeSecondReparametrization,
    /// On the total after the second riparametrazione.
    AfterSecondReparametrization,
}

/// Technical evaluation request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicalRequest {
    pub criteria: Vec<TechnicalCriterion>,
    pub offers: Vec<TechnicalOffer>,
    /// Soglia di sbarramento on the technical total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub minimum_score: Option<Decimal>,
    #[serde(default)]
    pub minimum_score_stage: MinimumScoreStage,
    /// Apply the second riparametrazione on the technical total.
    #[serde(default)]
    pub second_reparametrization: bool,
    /// Maximum technical points; default = sum of the criteria's max points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub max_technical_points: Option<Decimal>,
}

/// One criterion of one offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CriterionScore {
    pub criterion: String,
    /// Average of the commissioners' coefficients.
    #[schema(value_type = String)]
    pub average: Decimal,
    /// Coefficient after the first riparametrazione (= average when not applied).
    #[schema(value_type = String)]
    pub coefficient: Decimal,
    #[schema(value_type = String)]
    pub points: Decimal,
}

/// One offer's technical result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TechnicalOfferScore {
    pub id: String,
    pub criteria: Vec<CriterionScore>,
    /// Sum of the criteria points (after the first riparametrazione).
    #[schema(value_type = String)]
    pub total_before_second_reparametrization: Decimal,
    /// False when below the soglia di sbarramento.
    pub admitted: bool,
    /// Final technical score (after the second riparametrazione if applied); absent when not
    /// admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub total: Option<Decimal>,
}

/// Technical evaluation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TechnicalReport {
    #[schema(value_type = String)]
    pub max_technical_points: Decimal,
    pub offers: Vec<TechnicalOfferScore>,
    pub inexact_fields: Vec<String>,
    pub fractions: BTreeMap<String, String>,
}

/// Exact technical results, shared with the OEPV evaluation.
pub(crate) struct TechnicalExact {
    pub(crate) ids: Vec<String>,
    /// [offer][criterion] = (average, coefficient, points)
    pub(crate) criteria: Vec<Vec<(Q, Q, Q)>>,
    pub(crate) totals_first: Vec<Q>,
    pub(crate) admitted: Vec<bool>,
    pub(crate) totals: Vec<Option<Q>>,
    pub(crate) max_technical: Q,
}

/// Compute technical scores.
pub fn compute_technical_scores(request: &TechnicalRequest) -> Result<TechnicalReport, EvalError> {
    let exact = technical_exact(request)?;
    render_technical(request, &exact)
}

pub(crate) fn technical_exact(request: &TechnicalRequest) -> Result<TechnicalExact, EvalError> {
    validate(request)?;
    let n_criteria = request.criteria.len();
    let mut averages: Vec<Vec<Q>> = Vec::with_capacity(request.offers.len());
    for offer in &request.offers {
        let mut row = Vec::with_capacity(n_criteria);
        for criterion in &request.criteria {
            let values = &offer.coefficients[&criterion.id];
            // Coefficients have at most 10 places and lie in [0, 1]: their Decimal sum is exact,
            // and one fraction per average costs far less than one per coefficient.
            let sum = values
                .iter()
                .try_fold(Decimal::ZERO, |acc, v| acc.checked_add(*v))
                .map(q_from_decimal)
                .unwrap_or_else(|| values.iter().map(|v| q_from_decimal(*v)).sum());
            row.push(sum / q_int(values.len() as i64));
        }
        averages.push(row);
    }
    let mut criteria = vec![Vec::with_capacity(n_criteria); request.offers.len()];
    for (c, criterion) in request.criteria.iter().enumerate() {
        let best = averages.iter().map(|row| row[c].clone()).max().unwrap_or_else(Q::zero);
        let weight = q_from_decimal(criterion.max_points);
        for (o, row) in averages.iter().enumerate() {
            let average = row[c].clone();
            let coefficient = if !criterion.reparametrize {
                average.clone()
            } else if best.is_zero() {
                Q::zero()
            } else {
                &average / &best
            };
            let points = &coefficient * &weight;
            criteria[o].push((average, coefficient, points));
        }
    }
    let totals_first: Vec<Q> = criteria
        .iter()
        .map(|row| row.iter().map(|(_, _, p)| p.clone()).sum())
        .collect();
    let max_technical = match request.max_technical_points {
        Some(m) => q_from_decimal(m),
        None => request.criteria.iter().map(|c| q_from_decimal(c.max_points)).sum(),
    };
    let minimum = request.minimum_score.map(q_from_decimal);
    let passes = |total: &Q| match &minimum {
        Some(m) => total >= m,
        None => true,
    };

    let rescale = |totals: &[Option<Q>]| -> Vec<Option<Q>> {
        let best = totals.iter().flatten().max().cloned().unwrap_or_else(Q::zero);
        totals
            .iter()
            .map(|t| {
                t.as_ref().map(|t| {
                    if best.is_zero() {
                        Q::zero()
                    } else {
                        t * &max_technical / &best
                    }
                })
            })
            .collect()
    };

    let (admitted, totals) = match request.minimum_score_stage {
        MinimumScoreStage::BeforeSecondReparametrization => {
            let admitted: Vec<bool> = totals_first.iter().map(passes).collect();
            let kept: Vec<Option<Q>> = totals_first
                .iter()
                .zip(&admitted)
                .map(|(t, a)| a.then(|| t.clone()))
                .collect();
            let totals = if request.second_reparametrization {
                rescale(&kept)
            } else {
                kept
            };
            (admitted, totals)
        }
        MinimumScoreStage::AfterSecondReparametrization => {
            let all: Vec<Option<Q>> = totals_first.iter().cloned().map(Some).collect();
            let rescaled = if request.second_reparametrization {
                rescale(&all)
            } else {
                all
            };
            let admitted: Vec<bool> = rescaled.iter().map(|t| t.as_ref().is_some_and(passes)).collect();
            let totals = rescaled
                .into_iter()
                .zip(&admitted)
                .map(|(t, a)| if *a { t } else { None })
                .collect();
            (admitted, totals)
        }
    };
    Ok(TechnicalExact {
        ids: request.offers.iter().map(|o| o.id.clone()).collect(),
        criteria,
        totals_first,
        admitted,
        totals,
        max_technical,
    })
}

pub(crate) fn render_technical(
    request: &TechnicalRequest,
    exact: &TechnicalExact,
) -> Result<TechnicalReport, EvalError> {
    let mut renderer = Renderer::default();
    let mut offers = Vec::with_capacity(exact.ids.len());
    for (o, id) in exact.ids.iter().enumerate() {
        let mut criteria = Vec::with_capacity(request.criteria.len());
        for (c, criterion) in request.criteria.iter().enumerate() {
            let (average, coefficient, points) = &exact.criteria[o][c];
            let key = format!("{id}.{}", criterion.id);
            criteria.push(CriterionScore {
                criterion: criterion.id.clone(),
                average: renderer.render(&format!("{key}.average"), average)?,
                coefficient: renderer.render(&format!("{key}.coefficient"), coefficient)?,
                points: renderer.render(&format!("{key}.points"), points)?,
            });
        }
        let total = match &exact.totals[o] {
            Some(t) => Some(renderer.render(&format!("{id}.total"), t)?),
            None => None,
        };
        offers.push(TechnicalOfferScore {
            id: id.clone(),
            criteria,
            total_before_second_reparametrization: renderer.render(
                &format!("{id}.total_before_second_reparametrization"),
                &exact.totals_first[o],
            )?,
            admitted: exact.admitted[o],
            total,
        });
    }
    Ok(TechnicalReport {
        max_technical_points: renderer.render("max_technical_points", &exact.max_technical)?,
        offers,
        inexact_fields: renderer.inexact_fields,
        fractions: renderer.fractions,
    })
}

fn validate(request: &TechnicalRequest) -> Result<(), EvalError> {
    if request.criteria.is_empty() {
        return Err(EvalError::InvalidParameter {
            field: "criteria".to_owned(),
            reason: "indicare almeno un criterio".to_owned(),
        });
    }
    if request.offers.is_empty() {
        return Err(EvalError::EmptyOffers {
            field: "offers".to_owned(),
        });
    }
    let mut criterion_ids = HashSet::new();
    for (i, criterion) in request.criteria.iter().enumerate() {
        let field = format!("criteria[{i}]");
        if !criterion_ids.insert(criterion.id.as_str()) {
            return Err(EvalError::DuplicateId {
                field,
                id: criterion.id.clone(),
            });
        }
        if criterion.max_points <= Decimal::ZERO {
            return Err(EvalError::InvalidParameter {
                field: format!("{field}.max_points"),
                reason: "il punteggio massimo del criterio deve essere maggiore di zero".to_owned(),
            });
        }
        check_decimals(criterion.max_points, &format!("{field}.max_points"))?;
    }
    for (name, value) in [
        ("minimum_score", request.minimum_score),
        ("max_technical_points", request.max_technical_points),
    ] {
        if let Some(v) = value {
            if v < Decimal::ZERO || (name == "max_technical_points" && v.is_zero()) {
                return Err(EvalError::InvalidParameter {
                    field: name.to_owned(),
                    reason: "valore non ammesso".to_owned(),
                });
            }
            check_decimals(v, name)?;
        }
    }
    let mut offer_ids = HashSet::new();
    for (o, offer) in request.offers.iter().enumerate() {
        let field = format!("offers[{o}]");
        if !offer_ids.insert(offer.id.as_str()) {
            return Err(EvalError::DuplicateId {
                field,
                id: offer.id.clone(),
            });
        }
        for criterion in offer.coefficients.keys() {
            if !criterion_ids.contains(criterion.as_str()) {
                return Err(EvalError::UnknownCriterion {
                    field: format!("{field}.coefficients"),
                    criterion: criterion.clone(),
                });
            }
        }
        for criterion in &request.criteria {
            let values = match offer.coefficients.get(&criterion.id) {
                Some(v) if !v.is_empty() => v,
                _ => {
                    return Err(EvalError::MissingScore {
                        field: format!("{field}.coefficients"),
                        criterion: criterion.id.clone(),
                    })
                }
            };
            for (k, v) in values.iter().enumerate() {
                let vfield = format!("{field}.coefficients.{}[{k}]", criterion.id);
                if *v < Decimal::ZERO || *v > Decimal::ONE {
                    return Err(EvalError::CoefficientOutOfRange {
                        field: vfield,
                        value: v.to_string(),
                    });
                }
                check_decimals(*v, &vfield)?;
            }
        }
    }
    Ok(())
}
