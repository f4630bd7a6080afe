//! Upload quotas (issue 11 point 3): a bidder cannot fill the blob store or the log of a
//! tender by replacing its envelopes over and over. Both quotas count every envelope ever
//! accepted, superseded ones and those of withdrawn bids included (nothing is deleted, so
//! each of them still takes its place on disk and in the log):
//!
//! - bytes: the ciphertext of all the bidder's envelopes on the tender (every lot);
//! - replacements: per tender (or lot) and envelope kind, how many times the first
//!   envelope was replaced.
//!
//! Checked early (before streaming, so a spent quota refuses at once) and again inside the
//! commit under a per-bidder, per-tender lock (two parallel uploads, a double click, cannot
//! both squeeze under the limit).

use diesel::prelude::*;
use seal::receipt::EnvelopeKind;
use uuid::Uuid;

use crate::schema::{bids, envelopes};
use crate::OfferteError;

/// What the bidder has used on this tender so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Ciphertext bytes of all its envelopes on the tender, superseded ones included.
    pub bytes: u64,
    /// Envelopes of this kind in this tender (or lot) ever accepted; replacements are one less.
    pub envelopes_of_kind: u64,
}

/// Serialises the commits of one bidder on one tender until the transaction ends.
pub fn lock(conn: &mut PgConnection, bando_id: Uuid, bidder: Uuid) -> Result<(), OfferteError> {
    crate::advisory::exclusive(conn, &format!("centrale-upload-quota:{bando_id}:{bidder}"))?;
    Ok(())
}

/// One statement (it runs twice per envelope, before the upload and in its commit) of static
/// shape, so that it is prepared once per connection: the aggregate with `FILTER` it was, as
/// raw SQL, was planned again at every call and cost more to plan than to run (issue 15,
/// `pg_stat_statements` under the rush). The rows are few, bounded by the quotas themselves
/// (lots × kinds × accepted replacements), and summed here.
pub fn usage(
    conn: &mut PgConnection,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    bidder: Uuid,
    kind: EnvelopeKind,
) -> Result<Usage, OfferteError> {
    let rows: Vec<(String, Option<Uuid>, i64)> = envelopes::table
        .inner_join(bids::table)
        .filter(envelopes::bando_id.eq(bando_id))
        .filter(envelopes::bidder_id.eq(bidder))
        .select((envelopes::kind, bids::lotto_id, envelopes::size_bytes))
        .load(conn)?;
    Ok(Usage {
        bytes: rows.iter().map(|(_, _, size)| (*size).max(0) as u64).sum(),
        envelopes_of_kind: rows
            .iter()
            .filter(|(k, l, _)| k == kind.as_str() && *l == lotto)
            .count() as u64,
    })
}

/// Refuses a new envelope of `kind` of `size` bytes (0 before streaming) over either quota.
pub fn check(
    usage: Usage,
    size: u64,
    kind: EnvelopeKind,
    quota_bytes: u64,
    max_replacements: u32,
) -> Result<(), OfferteError> {
    // This envelope would be replacement number `envelopes_of_kind` (the first is none).
    if usage.envelopes_of_kind > u64::from(max_replacements) {
        return Err(OfferteError::QuotaReplacements {
            kind: kind.as_str(),
            limit: max_replacements,
        });
    }
    if usage.bytes.saturating_add(size) > quota_bytes || (size == 0 && usage.bytes >= quota_bytes) {
        return Err(OfferteError::QuotaBytes {
            limit: quota_bytes,
            used: usage.bytes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(bytes: u64, n: u64) -> Usage {
        Usage {
            bytes,
            envelopes_of_kind: n,
        }
    }

    #[test]
    fn replacements_count_every_envelope_ever_accepted() {
        let k = EnvelopeKind::C;
        assert!(
            check(usage(0, 0), 10, k, 100, 0).is_ok(),
            "the first envelope is no replacement"
        );
        assert_eq!(
            check(usage(0, 1), 10, k, 100, 0).expect_err("refused").code(),
            "upload_quota_replacements"
        );
        assert!(check(usage(0, 2), 10, k, 100, 2).is_ok());
        assert_eq!(
            check(usage(0, 3), 10, k, 100, 2).expect_err("refused").code(),
            "upload_quota_replacements"
        );
    }

    #[test]
    fn bytes_count_superseded_envelopes_too() {
        let k = EnvelopeKind::A;
        assert!(check(usage(60, 1), 40, k, 100, 9).is_ok());
        assert_eq!(
            check(usage(60, 1), 41, k, 100, 9).expect_err("refused").code(),
            "upload_quota_bytes"
        );
        assert_eq!(
            check(usage(100, 1), 0, k, 100, 9).expect_err("refused").code(),
            "upload_quota_bytes"
        );
    }
}
