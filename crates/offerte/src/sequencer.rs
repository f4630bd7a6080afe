//! The sequencer: gives pending leaves gap-free indices in batches and signs a checkpoint,
//! and closes each tender at its deadline (everything received before it, then
//! `TenderClosed`, then a checkpoint). One sequencer at a time, cluster-wide, through a
//! transaction-scoped advisory lock; submitters never wait for it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use seal::receipt::canonical_time;
use uuid::Uuid;

use crate::log::{self, kind};
use crate::schema::{bandi, log_checkpoints, log_leaves, seal_closures, seal_tender_keys};
use crate::{OfferteError, SealService};

const SEQUENCER_LOCK: i64 = 0x5EA1_0005;

fn lock(conn: &mut PgConnection) -> Result<(), OfferteError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(SEQUENCER_LOCK)
        .execute(conn)?;
    Ok(())
}

/// Integrates up to `limit` pending leaves (all of them when `None`), in the caller's
/// transaction, which must hold the sequencer lock. Returns how many.
///
/// One statement for the whole batch: the pending leaves in id order get the next indices
/// (`size + row number`). Diesel's DSL has no window function nor `UPDATE … FROM`, hence
/// the SQL; a statement per leaf capped the log at a few hundred leaves a second (issue 15).
fn integrate_locked(conn: &mut PgConnection, at: DateTime<Utc>, limit: Option<i64>) -> Result<usize, OfferteError> {
    use diesel::sql_types::Timestamptz;
    let size = log::tree_size(conn)? as i64;
    let n = diesel::sql_query(
        "UPDATE log_leaves AS l SET leaf_index = $1 + p.n - 1, integrated_at = $2 \
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS n \
               FROM (SELECT id FROM log_leaves WHERE leaf_index IS NULL ORDER BY id LIMIT $3) AS q) AS p \
         WHERE l.id = p.id",
    )
    .bind::<BigInt, _>(size)
    .bind::<Timestamptz, _>(at)
    .bind::<diesel::sql_types::Nullable<BigInt>, _>(limit)
    .execute(conn)?;
    Ok(n)
}

/// One batch: integrate pending leaves and sign a checkpoint when the tree grew (or when
/// there is no checkpoint at all yet). Returns the number of leaves integrated.
pub fn integrate(conn: &mut PgConnection, svc: &SealService, at: DateTime<Utc>) -> Result<usize, OfferteError> {
    conn.transaction(|conn| {
        lock(conn)?;
        let n = integrate_locked(conn, at, Some(svc.config().batch_size))?;
        let has_checkpoint: i64 = log_checkpoints::table.count().get_result(conn)?;
        if n > 0 || has_checkpoint == 0 {
            log::sign_current(conn, svc, "batch", at)?;
        }
        Ok(n)
    })
}

/// Appends a leaf, integrates it with everything pending and signs the checkpoint that first
/// includes it, all in the caller's transaction (the sequencer lock is held until it ends).
/// Returns the leaf's index and that checkpoint.
pub(crate) fn commit_now(
    conn: &mut PgConnection,
    svc: &SealService,
    leaf_kind: &str,
    data: &[u8],
    at: DateTime<Utc>,
) -> Result<(u64, log::StoredCheckpoint), OfferteError> {
    lock(conn)?;
    let (id, _) = log::append_pending(conn, leaf_kind, None, data, at)?;
    integrate_locked(conn, at, None)?;
    let signed = log::sign_current(conn, svc, leaf_kind, at)?;
    let index: Option<i64> = log_leaves::table.find(id).select(log_leaves::leaf_index).first(conn)?;
    let index = index.ok_or_else(|| OfferteError::Internal("foglia non integrata".into()))?;
    let checkpoint = log::checkpoint(conn, Some(signed.size))?;
    Ok((index as u64, checkpoint))
}

/// Closes one tender whose deadline has passed, if it is not closed yet: integrates every
/// pending leaf, appends `TenderClosed`, signs a checkpoint. Returns true when it closed it now.
pub fn close_tender(
    conn: &mut PgConnection,
    svc: &SealService,
    bando: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, OfferteError> {
    conn.transaction(|conn| {
        // One closing of a tender at a time (the row), after every submission in flight (the
        // submission lock, held shared while they commit): once we hold both, every envelope
        // accepted before the deadline is committed and visible as a pending leaf.
        let key: Option<Uuid> = seal_tender_keys::table
            .find(bando)
            .select(seal_tender_keys::bando_id)
            .for_update()
            .first(conn)
            .optional()?;
        if key.is_none() {
            return Ok(false);
        }
        crate::custody::lock_for_closing(conn, bando)?;
        let deadline: Option<DateTime<Utc>> = bandi::table
            .find(bando)
            .select(bandi::submission_deadline)
            .first(conn)?;
        let Some(deadline) = deadline.filter(|d| *d <= at) else {
            return Ok(false);
        };
        let closed: i64 = seal_closures::table.find(bando).count().get_result(conn)?;
        if closed > 0 {
            return Ok(false);
        }
        lock(conn)?;
        integrate_locked(conn, at, None)?;
        let data = format!(
            "centrale-tender-closed/v1\ntender {bando}\ndeadline {}\nclosed-at {}\n",
            canonical_time(&deadline),
            canonical_time(&at)
        );
        let (leaf_id, _) = log::append_pending(conn, kind::TENDER_CLOSED, Some(bando), data.as_bytes(), at)?;
        integrate_locked(conn, at, None)?;
        let checkpoint = log::sign_current(conn, svc, &format!("tender_closed {bando}"), at)?;
        diesel::insert_into(seal_closures::table)
            .values((
                seal_closures::bando_id.eq(bando),
                seal_closures::deadline.eq(deadline),
                seal_closures::closed_at.eq(at),
                seal_closures::leaf_id.eq(leaf_id),
                seal_closures::tree_size.eq(checkpoint.size as i64),
            ))
            .execute(conn)?;
        tracing::info!(%bando, tree_size = checkpoint.size, "tender closed in the log");
        Ok(true)
    })
}

/// Tenders with a seal key whose deadline has passed and that are not closed yet.
pub fn due_tenders(conn: &mut PgConnection, at: DateTime<Utc>) -> Result<Vec<Uuid>, OfferteError> {
    // Two queries: `bandi` is bando's table, which cannot be joined with the seal's.
    let unclosed: Vec<Uuid> = seal_tender_keys::table
        .left_join(seal_closures::table.on(seal_closures::bando_id.eq(seal_tender_keys::bando_id)))
        .filter(seal_closures::bando_id.is_null())
        .select(seal_tender_keys::bando_id)
        .load(conn)?;
    Ok(bandi::table
        .filter(bandi::id.eq_any(unclosed))
        .filter(bandi::submission_deadline.le(at))
        .select(bandi::id)
        .load(conn)?)
}

/// What the scheduler (or the sequencer thread) runs every tick: close due tenders, then
/// integrate a batch of pending leaves, then notify bidders of rettifiche.
pub fn tick(conn: &mut PgConnection, svc: &SealService, at: DateTime<Utc>) -> Result<(), OfferteError> {
    for bando in due_tenders(conn, at)? {
        close_tender(conn, svc, bando, at)?;
    }
    integrate(conn, svc, at)?;
    // Bidders told to confirm or replace their bids after a rettifica (issue 4 point 6).
    // A failure here must not stop the log, so it is only reported.
    if let Err(e) = crate::amendments::notify_bidders(conn, at) {
        tracing::error!(error = %e, "seal: bid confirmation notices failed");
    }
    Ok(())
}
