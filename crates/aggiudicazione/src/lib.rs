//! Centrale — evaluation arithmetic for awards under D.Lgs. 36/2023.
//!
//! * [`anomaly`]: automatic exclusion of abnormally low offers (art. 54, Allegato II.2
//!   Methods A, B, C) — [`anomaly::evaluate_anomaly`].
//! * [`scoring`]: OEPV economic formulas, technical scores with riparametrazione and soglia di
//!   sbarramento, full evaluation — [`scoring::compute_economic_scores`],
//!   [`scoring::technical::compute_technical_scores`], [`scoring::oepv::evaluate_oepv`].
//! * [`ranking`]: tie rule and reproducible seeded draw.
//! * [`error::EvalError`]: one error type with stable codes and Italian messages.
//!
//! Pure functions: no I/O, no clock, no OS randomness, no floating point. Inputs and outputs use
//! `rust_decimal::Decimal` (serialized as strings); internally every value is an exact fraction
//! (see the `exact` module docs for why and for the output rounding rule).

pub mod anomaly;
pub mod error;
mod exact;
pub mod procedure;
pub mod ranking;
pub mod scoring;

pub use anomaly::{evaluate_anomaly, AnomalyMethod, AnomalyReport, AnomalyRequest};
pub use error::EvalError;
pub use exact::{MAX_INPUT_DECIMALS, OUTPUT_DECIMALS};
pub use scoring::oepv::{evaluate_oepv, OepvReport, OepvRequest};
pub use scoring::technical::{compute_technical_scores, TechnicalReport, TechnicalRequest};
pub use scoring::{compute_economic_scores, EconomicFormula, EconomicScoresReport, EconomicScoresRequest};
