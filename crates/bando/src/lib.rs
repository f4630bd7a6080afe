//! The tender lifecycle (bando): the tender and its lots, legal validation against the
//! versioned table in `domain::legal`, states and the deadline scheduler, documents,
//! chiarimenti and rettifiche.
//!
//! * [`service`]: what RUPs, suppliers and the public do (authorization included).
//! * [`rules`]: the shape of a draft and the legal rules checked at publication.
//! * [`scheduler::run_due`]: deadline-driven transitions, safe with several servers.
//! * [`hooks`]: what the sealed-bids area needs (deadline, state, custodians, rettifiche).

pub mod anomaly_terms;
pub mod error;
pub mod hooks;
pub mod max_duration;
pub mod model;
pub mod public_search;
pub mod rules;
pub mod scheduler;
pub mod schema;
pub mod service;
pub mod store;

pub use anomaly_terms::AnomalyTerms;
pub use error::{BandoError, Violation};
pub use model::*;
/// Re-exported so callers need no direct dependency to read amounts.
pub use rust_decimal::Decimal;
