//! Bids (offerte) and their envelopes, sealed with the `seal` crate and kept in PostgreSQL
//! plus a blob store of age ciphertext. See docs/seal.md.
//!
//! - [`custody`]: the dealerless key ceremony (one key per kind), the custodians' shares at the
//!   opening. [`custodian`]: the custodian's offline side of it.
//! - [`blob`]: streaming an upload into the content-addressed blob store (fsync, then rename).
//! - [`store`]: the seal directory alone, or as the cache of an S3 bucket shared by instances.
//! - [`submit`]: envelopes A/B/C, receipts, replacements, withdrawals.
//! - [`quota`]: each bidder's bytes and replacements per tender (issue 11).
//! - [`resumable`]: client-sealed envelopes uploaded in parts that survive a dropped connection.
//! - [`log`] and [`sequencer`]: the transparency log, its checkpoints and the deadline closing.
//! - [`amendments`]: bids flagged by a later rettifica, confirmations, notifications.
//! - [`secrecy`]: audit events about bids, hidden from the ente until the deadline.
//! - [`public_stats`]: the bid count published as open data, only after the deadline.
//! - [`opening`]: k custodians' shares, envelopes opened A, then B, then C.
//! - [`bundle`]: what `centrale verify` checks offline.
//! - [`archive`]: `centrale-busta/1`, the envelope of several files (manifest + ustar).

mod advisory;
pub mod amendments;
pub mod archive;
pub mod blob;
pub mod bundle;
pub mod custodian;
pub mod custody;
pub mod error;
pub mod log;
pub mod log_cache;
pub mod opening;
pub mod precheck;
pub mod public_stats;
pub mod quota;
pub mod resumable;
pub mod schema;
pub mod secrecy;
pub mod sequencer;
pub mod service;
pub mod store;
pub mod submit;
pub mod waiting;

pub use error::OfferteError;
pub use service::{SealConfig, SealService};
