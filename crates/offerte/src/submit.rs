//! Submission: a supplier's envelopes A/B/C, each streamed into the blob store, accepted only
//! if its last byte arrives before the deadline, acknowledged with a signed, timestamped
//! receipt once the blob is fsynced and the transaction committed. Replacing an envelope
//! supersedes the previous one; withdrawing marks the bid withdrawn. Nothing is deleted.

use accounts::{AccountsError, Principal, Role, UserKind};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use domain::clock::Clock;
use ed25519_dalek::Signer;
use seal::merkle;
use seal::receipt::{canonical_time, EnvelopeKind, InclusionPromise, LogPosition, Receipt};
use serde::Serialize;
use uuid::Uuid;

use crate::amendments::{self, PendingAmendment};
use crate::blob::StagedBlob;
use crate::custody::{tender, Tender};
use crate::log::{self, kind};
use crate::precheck::Remembered;
use crate::schema::{bid_confirmations, bids, envelopes, log_leaves, receipts, seal_closures};
use crate::{OfferteError, SealService};
use bando::hooks::SubmissionWindow;

/// Receipt times have microsecond precision, like the database.
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

pub fn parse_kind(s: &str) -> Result<EnvelopeKind, OfferteError> {
    EnvelopeKind::parse(s)
        .map_err(|_| OfferteError::invalid("envelope_kind_invalid", "kind", "La busta deve essere A, B o C"))
}

/// What a bidder gets for an accepted envelope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceiptView {
    pub envelope_id: Uuid,
    pub bid_id: Uuid,
    pub bando_id: Uuid,
    pub bidder_id: Uuid,
    /// `A`, `B` or `C`.
    pub kind: String,
    /// `client` or `server`.
    pub sealed_by: String,
    /// Hex SHA-256 of the stored ciphertext.
    pub sha256: String,
    pub size: u64,
    pub received_at: DateTime<Utc>,
    /// Hex RFC 6962 leaf hash of the `EnvelopeReceived` leaf.
    pub leaf_hash: String,
    /// The leaf's index once the sequencer has integrated it.
    pub leaf_index: Option<u64>,
    /// The promise's deadline: the leaf is in a signed checkpoint by then.
    pub integrate_by: Option<DateTime<Utc>>,
    /// The signed receipt (`centrale-receipt/v1` lines plus `signature`), as `centrale verify` reads it.
    pub receipt: String,
    /// Base64 DER RFC 3161 TimeStampToken over SHA-256 of the receipt's canonical lines.
    pub tsa_token: String,
    /// Set when a later envelope of the same kind replaced this one.
    pub superseded_at: Option<DateTime<Utc>>,
}

/// A supplier, on a published tender (withdrawals and confirmations need no more).
fn supplier_on_open_tender(t: &Tender, who: &Principal) -> Result<(), OfferteError> {
    if who.kind != UserKind::Supplier {
        return Err(AccountsError::Forbidden.into());
    }
    if t.state != "published" {
        return Err(OfferteError::conflict(
            "tender_not_open",
            "Il bando non è aperto alla presentazione delle offerte",
        ));
    }
    Ok(())
}

/// Who may submit an envelope (issue 5 point 2, "a qualified or invited supplier"): for
/// procedures by invitation the invitation list decides (`bando`'s `may_bid`); otherwise the
/// supplier account must own a registry entry that is `qualified` and whose mandatory
/// documents are valid at `now` (Europe/Rome day, as the registry counts them).
///
/// The lot of a submission: required (422 `lot_required`) when the tender has lots, one of
/// them (404), and absent for a tender without lots (422 `tender_has_no_lots`).
pub fn check_lot(conn: &mut PgConnection, bando_id: Uuid, lotto: Option<Uuid>) -> Result<(), OfferteError> {
    let lots = bando::store::lots(conn, bando_id).map_err(OfferteError::other_area)?;
    lot_among(lots.iter().map(|l| l.id), lotto)
}

/// [`check_lot`] on lots already read (the submission window carries them).
fn lot_among(mut lots: impl ExactSizeIterator<Item = Uuid>, lotto: Option<Uuid>) -> Result<(), OfferteError> {
    match (lots.len() == 0, lotto) {
        (true, None) => Ok(()),
        (true, Some(_)) => Err(OfferteError::invalid("tender_has_no_lots", "lotto", "Il bando non è diviso in lotti")),
        (false, None) => Err(OfferteError::invalid(
            "lot_required",
            "lotto",
            "Il bando è diviso in lotti: l'offerta si presenta per un lotto (/bandi/{id}/lotti/{lotto}/offerta/buste/{kind})",
        )),
        (false, Some(l)) if lots.any(|x| x == l) => Ok(()),
        (false, Some(_)) => Err(OfferteError::NotFound { what: "Lotto" }),
    }
}

/// The `tender` field of receipts and withdrawal leaves: the tender id, or `<tender>/<lot>`
/// for a bid on a lot (no whitespace, so `centrale-receipt/v1` is unchanged).
pub fn tender_field(bando_id: Uuid, lotto: Option<Uuid>) -> String {
    match lotto {
        Some(l) => format!("{bando_id}/{l}"),
        None => bando_id.to_string(),
    }
}

/// The tender as a submission needs it (state, deadline, procedure, invitees, lots): one read
/// of bando's window, shared by every check of the submission.
fn window(conn: &mut PgConnection, bando_id: Uuid) -> Result<SubmissionWindow, OfferteError> {
    bando::hooks::submission_window(conn, bando_id).map_err(|e| match e {
        bando::error::BandoError::NotFound { .. } => OfferteError::NotFound { what: "Bando" },
        other => OfferteError::other_area(other),
    })
}

/// Checked before streaming (refuse early) and again inside the commit, after the deadline
/// check (a tender moved on by the scheduler at its deadline says "deadline passed").
fn eligible(
    conn: &mut PgConnection,
    window: &SubmissionWindow,
    who: &Principal,
    now: DateTime<Utc>,
) -> Result<(), OfferteError> {
    if who.kind != UserKind::Supplier {
        return Err(AccountsError::Forbidden.into());
    }
    if window.state != bando::model::State::Published {
        return Err(OfferteError::conflict(
            "tender_not_open",
            "Il bando non è aperto alla presentazione delle offerte",
        ));
    }
    if window.procedure_type.is_by_invitation() {
        if !window.may_bid(who.user_id) {
            return Err(OfferteError::refused(
                "supplier_not_invited",
                "L'operatore non è tra gli invitati a questa procedura e non può presentare offerta",
            ));
        }
        return Ok(());
    }
    let op = match registry::operatori::bidding_standing(conn, who, now) {
        Ok(op) => op,
        Err(registry::RegistryError::NotFound { .. }) => {
            return Err(OfferteError::refused(
                "supplier_not_qualified",
                "L'account non ha un operatore economico iscritto all'albo: solo un operatore qualificato può presentare offerta",
            ))
        }
        Err(e) => return Err(OfferteError::other_area(e)),
    };
    if op.status != registry::operatori::OperatoreStatus::Qualified {
        return Err(OfferteError::refused(
            "supplier_not_qualified",
            format!(
                "L'operatore «{}» non è qualificato nell'albo (stato: {}): non può presentare offerta",
                op.ragione_sociale,
                op.status.label_it()
            ),
        ));
    }
    if op.documents_status != registry::documents::DocumentsStatus::Valid {
        let which: Vec<String> = op
            .documents_issues
            .iter()
            .map(|i| match i.scadenza {
                Some(d) => format!("{} (scaduto il {})", i.tipo.label_it(), d.format("%d/%m/%Y")),
                None => format!("{} (mancante)", i.tipo.label_it()),
            })
            .collect();
        return Err(OfferteError::refused(
            "supplier_documents_expired",
            format!(
                "Documenti obbligatori dell'operatore «{}» scaduti o mancanti: {}. Aggiornarli nell'albo prima di presentare offerta",
                op.ragione_sociale,
                which.join(", ")
            ),
        ));
    }
    Ok(())
}

pub(crate) fn check_deadline(t: &Tender, now: DateTime<Utc>) -> Result<DateTime<Utc>, OfferteError> {
    deadline_ahead(t.submission_deadline, now)
}

fn deadline_ahead(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<DateTime<Utc>, OfferteError> {
    let deadline = deadline.ok_or_else(|| {
        OfferteError::conflict(
            "deadline_missing",
            "Il bando non ha un termine di presentazione delle offerte",
        )
    })?;
    if now >= deadline {
        return Err(OfferteError::DeadlinePassed {
            deadline: canonical_time(&deadline),
        });
    }
    Ok(deadline)
}

/// Before the upload: may this supplier submit now? Returns the recipient of `kind`'s key.
/// An early refusal only: the commit checks it all again and decides. `memory` holds the
/// answers of earlier envelopes that still hold ([`crate::precheck`]).
pub fn prepare(
    conn: &mut PgConnection,
    memory: Remembered<'_>,
    who: &Principal,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    envelope_kind: EnvelopeKind,
    now: DateTime<Utc>,
) -> Result<String, OfferteError> {
    if who.kind != UserKind::Supplier {
        return Err(AccountsError::Forbidden.into());
    }
    let goes_on = |w: &SubmissionWindow| {
        lot_among(w.lots.iter().map(|l| l.0), lotto).is_ok() && deadline_ahead(w.submission_deadline, now).is_ok()
    };
    let w = memory.window(bando_id, || window(conn, bando_id), goes_on)?;
    lot_among(w.lots.iter().map(|l| l.0), lotto)?;
    deadline_ahead(w.submission_deadline, now)?;
    memory.eligible(who.user_id, bando_id, domain::deadlines::rome_date(now), || {
        eligible(conn, &w, who, now)
    })?;
    memory.recipient(bando_id, envelope_kind.as_str(), || {
        crate::custody::recipient_for(conn, bando_id, envelope_kind.as_str())
    })
}

/// What an upload may use once [`prepare_upload`] let it start.
#[derive(Debug, Clone)]
pub struct UploadPermit {
    /// The age recipient of the kind's tender key.
    pub recipient: String,
    /// Bytes left in the bidder's quota on this tender: the stream is cut beyond them.
    pub bytes_left: u64,
}

/// [`prepare`], then the bidder's quotas ([`crate::quota`]): a spent quota refuses before a
/// single byte is streamed. The quotas are always read afresh (each envelope moves them);
/// the rest may come from `memory`.
#[allow(clippy::too_many_arguments)]
pub fn prepare_upload(
    conn: &mut PgConnection,
    svc: &SealService,
    memory: Remembered<'_>,
    who: &Principal,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    envelope_kind: EnvelopeKind,
    now: DateTime<Utc>,
) -> Result<UploadPermit, OfferteError> {
    let recipient = prepare(conn, memory, who, bando_id, lotto, envelope_kind, now)?;
    let used = crate::quota::usage(conn, bando_id, lotto, who.user_id, envelope_kind)?;
    let quota = svc.config().quota_bytes_per_tender;
    crate::quota::check(used, 0, envelope_kind, quota, svc.config().max_replacements_per_kind)?;
    Ok(UploadPermit {
        recipient,
        bytes_left: quota.saturating_sub(used.bytes),
    })
}

/// Locks the tender key row for the rest of the transaction (shared: submissions do not wait
/// for each other, only for a closing) and refuses a closed tender or a passed deadline.
/// Returns the time of receipt.
fn lock_open_tender(conn: &mut PgConnection, t: &Tender, clock: &dyn Clock) -> Result<DateTime<Utc>, OfferteError> {
    let closed = crate::custody::lock_for_submission(conn, t.id)?;
    // The clock is read after the last byte and after the lock: this is the time of receipt.
    let now = micros(clock.now());
    let deadline = check_deadline(t, now)?;
    if closed {
        return Err(OfferteError::DeadlinePassed {
            deadline: canonical_time(&deadline),
        });
    }
    Ok(now)
}

/// [`lock_open_tender`] for a submission: the lock first, then the window read after it (a
/// deadline moved or a closing committed while it waited is seen), checked for the deadline and
/// the closing. Returns the window and the time of receipt.
fn lock_open_window(
    conn: &mut PgConnection,
    bando_id: Uuid,
    clock: &dyn Clock,
) -> Result<(SubmissionWindow, DateTime<Utc>), OfferteError> {
    let closed = crate::custody::lock_for_submission(conn, bando_id)?;
    let w = window(conn, bando_id)?;
    // The clock is read after the last byte and after the lock: this is the time of receipt.
    let now = micros(clock.now());
    let deadline = deadline_ahead(w.submission_deadline, now)?;
    if closed {
        return Err(OfferteError::DeadlinePassed {
            deadline: canonical_time(&deadline),
        });
    }
    Ok((w, now))
}

/// The bidder's bid on the tender (or lot) that is not withdrawn, locked until the transaction
/// ends.
fn active_bid_locked(
    conn: &mut PgConnection,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    bidder: Uuid,
) -> Result<Option<Uuid>, OfferteError> {
    Ok(bids::table
        .filter(bids::bando_id.eq(bando_id))
        .filter(bids::lotto_id.is_not_distinct_from(lotto))
        .filter(bids::bidder_id.eq(bidder))
        .filter(bids::withdrawn_at.is_null())
        .select(bids::id)
        .for_update()
        .first::<Uuid>(conn)
        .optional()?)
}

/// Accepts a staged envelope: one transaction stores the envelope, its pending leaf and its
/// receipt; the blob is moved into place (and is in the shared store, if any) before the
/// commit. Returns the receipt after commit.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    conn: &mut PgConnection,
    svc: &SealService,
    clock: &dyn Clock,
    who: &Principal,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    envelope_kind: EnvelopeKind,
    mut staged: StagedBlob,
    request_id: &str,
) -> Result<ReceiptView, OfferteError> {
    // The routes publish before they take a connection; this is for any other caller.
    staged.publish(svc.store())?;
    let outcome = conn.transaction(|conn| {
        let (w, now) = lock_open_window(conn, bando_id, clock)?;
        eligible(conn, &w, who, now)?;
        lot_among(w.lots.iter().map(|l| l.0), lotto)?;
        // The quotas again, now with the ciphertext's size and under the bidder's lock: of two
        // parallel uploads (a double click) only those that fit are accepted.
        crate::quota::lock(conn, bando_id, who.user_id)?;
        let used = crate::quota::usage(conn, bando_id, lotto, who.user_id, envelope_kind)?;
        crate::quota::check(
            used,
            staged.info.size,
            envelope_kind,
            svc.config().quota_bytes_per_tender,
            svc.config().max_replacements_per_kind,
        )?;
        let bid_id = match active_bid_locked(conn, bando_id, lotto, who.user_id)? {
            Some(id) => id,
            None => {
                // Two first uploads of the same bidder race here: the loser's insert waits for
                // the winner's commit and does nothing (unique `bids_one_active`), then both
                // envelopes go into the one bid the winner created.
                let created: Option<Uuid> = diesel::insert_into(bids::table)
                    .values((
                        bids::id.eq(Uuid::new_v4()),
                        bids::bando_id.eq(bando_id),
                        bids::bidder_id.eq(who.user_id),
                        bids::created_at.eq(now),
                        bids::lotto_id.eq(lotto),
                    ))
                    .on_conflict_do_nothing()
                    .returning(bids::id)
                    .get_result(conn)
                    .optional()?;
                match created {
                    Some(id) => id,
                    None => active_bid_locked(conn, bando_id, lotto, who.user_id)?
                        .ok_or(OfferteError::NotFound { what: "Offerta" })?,
                }
            }
        };
        let key = svc.signing_key();
        let mut receipt = Receipt {
            tender_id: tender_field(bando_id, lotto),
            bidder_id: who.user_id.to_string(),
            envelope_kind,
            ciphertext_sha256: staged.info.sha256,
            size: staged.info.size,
            received_at: now,
            leaf_hash: [0; 32],
            position: LogPosition::Index(0),
        };
        let data = receipt.leaf_data()?;
        let leaf_hash = merkle::leaf_hash(&data);
        let integrate_by = now + Duration::seconds(svc.config().promise_seconds);
        receipt.leaf_hash = leaf_hash;
        receipt.position = LogPosition::Promise(InclusionPromise::sign(key, &leaf_hash, integrate_by));
        let token = svc.timestamp(&receipt.receipt_digest()?, now)?;
        let canonical =
            String::from_utf8(receipt.canonical_bytes()?).map_err(|e| OfferteError::Internal(e.to_string()))?;
        let signed = receipt.sign(key)?;
        let (leaf_id, _) = log::append_pending(conn, kind::ENVELOPE_RECEIVED, Some(bando_id), &data, now)?;

        let envelope_id = Uuid::new_v4();
        // The bidder's first envelope of this kind (read above, under its lock) replaces
        // nothing: no UPDATE, a statement diesel never prepares, for most of a rush.
        let previous: Option<Uuid> = if used.envelopes_of_kind == 0 {
            None
        } else {
            diesel::update(
                envelopes::table
                    .filter(envelopes::bid_id.eq(bid_id))
                    .filter(envelopes::kind.eq(envelope_kind.as_str()))
                    .filter(envelopes::superseded_at.is_null()),
            )
            .set(envelopes::superseded_at.eq(now))
            .returning(envelopes::id)
            .get_result(conn)
            .optional()?
        };
        diesel::insert_into(envelopes::table)
            .values((
                envelopes::id.eq(envelope_id),
                envelopes::bid_id.eq(bid_id),
                envelopes::bando_id.eq(bando_id),
                envelopes::bidder_id.eq(who.user_id),
                envelopes::kind.eq(envelope_kind.as_str()),
                envelopes::sealed_by.eq(staged.mode.as_str()),
                envelopes::sha256.eq(hex::encode(staged.info.sha256)),
                envelopes::size_bytes.eq(staged.info.size as i64),
                envelopes::blob_path.eq(staged.relative_path()),
                envelopes::received_at.eq(now),
                envelopes::leaf_id.eq(leaf_id),
            ))
            .execute(conn)?;
        if let Some(prev) = previous {
            diesel::update(envelopes::table.find(prev))
                .set(envelopes::superseded_by.eq(envelope_id))
                .execute(conn)?;
        }
        diesel::insert_into(receipts::table)
            .values((
                receipts::envelope_id.eq(envelope_id),
                receipts::canonical.eq(&canonical),
                receipts::signature.eq(B64.encode(signed.signature)),
                receipts::tsa_token.eq(&token),
                receipts::issued_at.eq(now),
            ))
            .execute(conn)?;
        let ctx = AuditCtx {
            actor: Some(who.user_id),
            request_id: request_id.to_string(),
            client_request_id: None,
            at: now,
        };
        crate::secrecy::record_bid_event_on(
            conn,
            &ctx,
            bando_id,
            w.ente_id,
            w.submission_deadline,
            if previous.is_some() {
                "offerte.envelope_replaced"
            } else {
                "offerte.envelope_submitted"
            },
            bid_id.to_string(),
            serde_json::json!({
                "bando_id": bando_id, "lotto_id": lotto, "bidder_id": who.user_id, "kind": envelope_kind.as_str(),
                "envelope_id": envelope_id, "sha256": hex::encode(staged.info.sha256), "leaf_hash": hex::encode(leaf_hash),
            }),
        )?;
        // Already in place when the one-shot route put it there before the transaction.
        staged.persist(svc.dir())?;
        // What `receipt_view` would read back, from the values just written: no query.
        Ok::<_, OfferteError>(ReceiptView {
            envelope_id,
            bid_id,
            bando_id,
            bidder_id: who.user_id,
            kind: envelope_kind.as_str().to_string(),
            sealed_by: staged.mode.as_str().to_string(),
            sha256: hex::encode(staged.info.sha256),
            size: staged.info.size,
            received_at: now,
            leaf_hash: hex::encode(leaf_hash),
            leaf_index: None,
            // As read back from the stored lines, to the precision they carry.
            integrate_by: Receipt::from_canonical_bytes(canonical.as_bytes())
                .ok()
                .and_then(|rc| match rc.position {
                    LogPosition::Promise(p) => Some(p.integrate_by),
                    LogPosition::Index(_) => None,
                }),
            receipt: format!("{canonical}signature {}\n", B64.encode(signed.signature)),
            tsa_token: B64.encode(&token),
            superseded_at: None,
        })
    });
    match outcome {
        Ok(view) => {
            staged.keep();
            tracing::info!(%bando_id, envelope_id = %view.envelope_id, "envelope accepted");
            Ok(view)
        }
        Err(e) => {
            staged.undo();
            Err(e)
        }
    }
}

type ReceiptRow = (
    Uuid,
    Uuid,
    Uuid,
    Uuid,
    String,
    String,
    String,
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Vec<u8>,
    Option<i64>,
    String,
    String,
    Vec<u8>,
);

fn receipt_rows(
    conn: &mut PgConnection,
    filter: impl FnOnce(envelopes::BoxedQuery<'static, diesel::pg::Pg>) -> envelopes::BoxedQuery<'static, diesel::pg::Pg>,
) -> Result<Vec<ReceiptView>, OfferteError> {
    let ids: Vec<Uuid> = filter(envelopes::table.into_boxed()).select(envelopes::id).load(conn)?;
    let rows: Vec<ReceiptRow> = envelopes::table
        .inner_join(receipts::table)
        .inner_join(log_leaves::table.on(log_leaves::id.eq(envelopes::leaf_id)))
        .filter(envelopes::id.eq_any(&ids))
        .order((envelopes::received_at.asc(), envelopes::id.asc()))
        .select((
            envelopes::id,
            envelopes::bid_id,
            envelopes::bando_id,
            envelopes::bidder_id,
            envelopes::kind,
            envelopes::sealed_by,
            envelopes::sha256,
            envelopes::size_bytes,
            envelopes::received_at,
            envelopes::superseded_at,
            log_leaves::leaf_hash,
            log_leaves::leaf_index,
            receipts::canonical,
            receipts::signature,
            receipts::tsa_token,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let integrate_by = Receipt::from_canonical_bytes(r.12.as_bytes())
                .ok()
                .and_then(|rc| match rc.position {
                    LogPosition::Promise(p) => Some(p.integrate_by),
                    LogPosition::Index(_) => None,
                });
            Ok(ReceiptView {
                envelope_id: r.0,
                bid_id: r.1,
                bando_id: r.2,
                bidder_id: r.3,
                kind: r.4,
                sealed_by: r.5,
                sha256: r.6,
                size: r.7 as u64,
                received_at: r.8,
                superseded_at: r.9,
                leaf_hash: hex::encode(r.10),
                leaf_index: r.11.map(|i| i as u64),
                integrate_by,
                receipt: format!("{}signature {}\n", r.12, r.13),
                tsa_token: B64.encode(r.14),
            })
        })
        .collect()
}

pub fn receipt_view(conn: &mut PgConnection, envelope_id: Uuid) -> Result<ReceiptView, OfferteError> {
    receipt_rows(conn, |q| q.filter(envelopes::id.eq(envelope_id)))?
        .pop()
        .ok_or(OfferteError::NotFound { what: "Busta" })
}

/// A bid with all its envelopes, replaced ones included.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BidView {
    pub id: Uuid,
    pub bando_id: Uuid,
    /// The lot bid for (tenders with lots).
    pub lotto_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// A rettifica was published after this (active) bid was last submitted or confirmed:
    /// its supplier must confirm it (`POST .../offerta/conferma`) or replace an envelope.
    pub requires_confirmation: bool,
    /// The rettifiche still to be answered (tender versions), oldest first.
    pub amendments_to_confirm: Vec<PendingAmendment>,
    /// The bid's confirmations after rettifiche, oldest first.
    pub confirmations: Vec<Confirmation>,
    pub envelopes: Vec<ReceiptView>,
}

/// A supplier's confirmation of its bid under a tender version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Confirmation {
    pub version: i32,
    pub confirmed_at: DateTime<Utc>,
}

/// The calling supplier's bids on this tender (the active one and any withdrawn).
pub fn my_bids(conn: &mut PgConnection, who: &Principal, bando_id: Uuid) -> Result<Vec<BidView>, OfferteError> {
    if who.kind != UserKind::Supplier {
        return Err(AccountsError::Forbidden.into());
    }
    tender(conn, bando_id)?;
    type BidRow = (Uuid, Option<Uuid>, DateTime<Utc>, Option<DateTime<Utc>>);
    let rows: Vec<BidRow> = bids::table
        .filter(bids::bando_id.eq(bando_id))
        .filter(bids::bidder_id.eq(who.user_id))
        .order(bids::created_at.asc())
        .select((bids::id, bids::lotto_id, bids::created_at, bids::withdrawn_at))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, lotto_id, created_at, withdrawn_at)| {
            let amendments_to_confirm = if withdrawn_at.is_none() {
                amendments::pending(conn, bando_id, id)?
            } else {
                Vec::new()
            };
            let confirmations = bid_confirmations::table
                .filter(bid_confirmations::bid_id.eq(id))
                .order(bid_confirmations::confirmed_at.asc())
                .select((bid_confirmations::version, bid_confirmations::confirmed_at))
                .load::<(i32, DateTime<Utc>)>(conn)?
                .into_iter()
                .map(|(version, confirmed_at)| Confirmation { version, confirmed_at })
                .collect();
            Ok(BidView {
                id,
                bando_id,
                lotto_id,
                created_at,
                withdrawn_at,
                requires_confirmation: !amendments_to_confirm.is_empty(),
                amendments_to_confirm,
                confirmations,
                envelopes: receipt_rows(conn, |q| q.filter(envelopes::bid_id.eq(id)))?,
            })
        })
        .collect()
}

/// The supplier confirms its active bid after a rettifica (before the deadline), which
/// clears `requires_confirmation`. Audited (`offerte.bid_confirmed`). Returns the bids.
pub fn confirm(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    clock: &dyn Clock,
    who: &Principal,
    bando_id: Uuid,
    lotto: Option<Uuid>,
) -> Result<Vec<BidView>, OfferteError> {
    conn.transaction(|conn| {
        let t = tender(conn, bando_id)?;
        if who.kind != UserKind::Supplier {
            return Err(AccountsError::Forbidden.into());
        }
        let now = lock_open_tender(conn, &t, clock)?;
        supplier_on_open_tender(&t, who)?;
        let bid_id: Uuid = bids::table
            .filter(bids::bando_id.eq(bando_id))
            .filter(bids::lotto_id.is_not_distinct_from(lotto))
            .filter(bids::bidder_id.eq(who.user_id))
            .filter(bids::withdrawn_at.is_null())
            .select(bids::id)
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(OfferteError::NotFound { what: "Offerta" })?;
        amendments::confirm_locked(conn, ctx, who.user_id, bando_id, bid_id, now)?;
        Ok::<_, OfferteError>(())
    })?;
    my_bids(conn, who, bando_id)
}

/// A signed acknowledgement of a withdrawal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Withdrawal {
    pub bid_id: Uuid,
    pub withdrawn_at: DateTime<Utc>,
    /// The `BidWithdrawn` leaf data (text) and its hash.
    pub leaf_data: String,
    pub leaf_hash: String,
    /// Base64 Ed25519 signature of the platform over the leaf data.
    pub signature: String,
}

/// Withdraws the supplier's active bid, before the deadline. Its envelopes stay stored and
/// logged; they are simply not opened.
pub fn withdraw(
    conn: &mut PgConnection,
    svc: &SealService,
    clock: &dyn Clock,
    who: &Principal,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    request_id: &str,
) -> Result<Withdrawal, OfferteError> {
    conn.transaction(|conn| {
        let t = tender(conn, bando_id)?;
        let now = lock_open_tender(conn, &t, clock)?;
        supplier_on_open_tender(&t, who)?;
        let bid_id: Uuid = bids::table
            .filter(bids::bando_id.eq(bando_id))
            .filter(bids::lotto_id.is_not_distinct_from(lotto))
            .filter(bids::bidder_id.eq(who.user_id))
            .filter(bids::withdrawn_at.is_null())
            .select(bids::id)
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(OfferteError::NotFound { what: "Offerta" })?;
        let data = format!(
            "centrale-bid-withdrawn/v1\ntender {}\nbidder {}\nbid {bid_id}\nwithdrawn-at {}\n",
            tender_field(bando_id, lotto),
            who.user_id,
            canonical_time(&now)
        );
        let (leaf_id, leaf_hash) =
            log::append_pending(conn, kind::BID_WITHDRAWN, Some(bando_id), data.as_bytes(), now)?;
        diesel::update(bids::table.find(bid_id))
            .set((bids::withdrawn_at.eq(now), bids::withdrawal_leaf_id.eq(leaf_id)))
            .execute(conn)?;
        let ctx = AuditCtx {
            actor: Some(who.user_id),
            request_id: request_id.to_string(),
            client_request_id: None,
            at: now,
        };
        crate::secrecy::record_bid_event(
            conn,
            &ctx,
            bando_id,
            "offerte.bid_withdrawn",
            bid_id.to_string(),
            serde_json::json!({ "bando_id": bando_id, "lotto_id": lotto, "bidder_id": who.user_id, "leaf_hash": hex::encode(leaf_hash) }),
        )?;
        Ok(Withdrawal {
            bid_id,
            withdrawn_at: now,
            signature: B64.encode(svc.signing_key().sign(data.as_bytes()).to_bytes()),
            leaf_data: data,
            leaf_hash: hex::encode(leaf_hash),
        })
    })
}

/// Who may see an envelope's receipt and ciphertext: its bidder always; the tender's
/// officials (RUP, commission, auditor) and admins once the tender is closed.
pub(crate) fn may_see(
    conn: &mut PgConnection,
    who: &Principal,
    envelope_id: Uuid,
) -> Result<(Uuid, String), OfferteError> {
    let (bando_id, bidder, path): (Uuid, Uuid, String) = envelopes::table
        .find(envelope_id)
        .select((envelopes::bando_id, envelopes::bidder_id, envelopes::blob_path))
        .first(conn)
        .optional()?
        .ok_or(OfferteError::NotFound { what: "Busta" })?;
    if bidder == who.user_id {
        return Ok((bando_id, path));
    }
    let t = tender(conn, bando_id)?;
    // Not the bidder's nor an official's of the tender's ente: the envelope is not found (a
    // 403 would confirm that the id exists).
    who.require_any_in(&[Role::Rup, Role::Commission, Role::Auditor], t.ente_id)
        .map_err(|_| OfferteError::NotFound { what: "Busta" })?;
    let closed: i64 = seal_closures::table.find(bando_id).count().get_result(conn)?;
    if closed == 0 {
        // Before the deadline nobody but the bidder learns that this envelope exists.
        return Err(OfferteError::NotFound { what: "Busta" });
    }
    Ok((bando_id, path))
}

/// Path of the envelope's ciphertext in the blob store (for download): its bidder; after the
/// closing, the ente's auditors and admins.
pub fn ciphertext_path(
    conn: &mut PgConnection,
    svc: &SealService,
    who: &Principal,
    envelope_id: Uuid,
) -> Result<std::path::PathBuf, OfferteError> {
    let (bando_id, rel) = may_see(conn, who, envelope_id)?;
    let bidder: Uuid = envelopes::table
        .find(envelope_id)
        .select(envelopes::bidder_id)
        .first(conn)?;
    if bidder != who.user_id {
        // The ciphertext goes to its bidder and to those who audit the tender, not to the
        // officials who run the opening: nobody gathers ciphertext and shares together.
        let t = tender(conn, bando_id)?;
        who.require_any_in(&[Role::Auditor], t.ente_id)?;
    }
    svc.store().local(&rel, None)
}
