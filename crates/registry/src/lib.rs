//! The supplier registry (albo degli operatori economici): registration of operatori
//! economici by their supplier accounts, declared categories (CPV, SOA), qualification
//! documents with expiry, the centrale's qualification decisions, and invitees for
//! negotiated procedures with the art. 50 minimums and the art. 49 rotation.
//!
//! Every function takes a blocking Diesel connection and the caller's [`accounts::Principal`];
//! every state change writes its audit event in the same transaction.

pub mod bands;
pub mod documents;
pub mod error;
pub mod invitations;
pub mod operatori;
pub mod qualification;
pub mod schema;

pub use error::RegistryError;

/// The Europe/Rome calendar day of an instant: documents expire at the end of their
/// `scadenza` day, Italian time.
pub use domain::deadlines::rome_date as rome_today;
