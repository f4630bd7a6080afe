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

use chrono::{DateTime, NaiveDate, Utc};

pub use error::RegistryError;

/// The Europe/Rome calendar day of an instant: documents expire at the end of their
/// `scadenza` day, Italian time.
pub fn rome_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&chrono_tz::Europe::Rome).date_naive()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_day_is_counted_in_rome() {
        // 23:30 UTC on 30 June is already 1 July in Rome (CEST, UTC+2).
        let at = Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).single().expect("valid");
        assert_eq!(rome_today(at), NaiveDate::from_ymd_opt(2026, 7, 1).expect("valid"));
    }
}
