//! Resumable uploads (issue 12 point 5; docs/seal.md "Resumable uploads"): a client-sealed
//! envelope sent in parts of `chunk_bytes`, each with its own SHA-256, so a connection that
//! drops minutes before the deadline costs one part, not the whole envelope.
//!
//! A session only collects bytes: nothing is an envelope until the completion, which feeds
//! the parts in order to [`blob::stage`] and hands the result to [`submit::commit`], so the
//! blob, receipt, log leaf, quotas and time of receipt are those of a one-shot upload. Parts
//! and completion are refused once the deadline has passed; the time of receipt is read in
//! the completion's transaction, after the last byte.
//!
//! Secrecy: a session is visible to its owner only (anyone else gets 404), and its audit
//! events are hidden from the ente until the deadline, as the envelopes' are
//! ([`crate::secrecy`]). A session row is never deleted; its part files are, once it ends.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::precheck::Remembered;
use accounts::Principal;
use chrono::{DateTime, Duration, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use domain::clock::Clock;
use seal::receipt::{canonical_time, EnvelopeKind};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::blob::{self, SealMode, StagedBlob};
use crate::custody::tender;
use crate::schema::{bandi, envelopes, seal_closures, seal_upload_sessions as s};
use crate::store::Store;
use crate::submit::{self, micros, ReceiptView};
use crate::{OfferteError, SealService};

const OPEN: &str = "open";
const COMPLETED: &str = "completed";
const ABANDONED: &str = "abandoned";
const EXPIRED: &str = "expired";

#[derive(Debug, Clone, Queryable)]
struct Session {
    id: Uuid,
    bando_id: Uuid,
    lotto_id: Option<Uuid>,
    kind: String,
    owner_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    chunk_bytes: i64,
    received_parts: i32,
    received_bytes: i64,
    part_digests: Vec<String>,
    _last_part_at: Option<DateTime<Utc>>,
    state: String,
    _ended_at: Option<DateTime<Utc>>,
    envelope_id: Option<Uuid>,
}

impl Session {
    fn kind(&self) -> Result<EnvelopeKind, OfferteError> {
        submit::parse_kind(&self.kind)
    }

    fn parts(&self) -> u32 {
        u32::try_from(self.received_parts).unwrap_or(0)
    }
}

/// Where an upload stands: what a client reads to know where to resume.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadStatus {
    pub id: Uuid,
    pub bando_id: Uuid,
    pub lotto_id: Option<Uuid>,
    /// `A`, `B` or `C`.
    pub kind: String,
    /// Size of every part but the last.
    pub chunk_bytes: u64,
    /// Parts accepted so far: the index of the next part to send.
    pub received_parts: u32,
    pub received_bytes: u64,
    /// Hex SHA-256 of the last accepted part (a client that lost the answer can compare).
    pub last_part_sha256: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `open`, `completed`, `abandoned` or `expired`.
    pub state: String,
    /// The envelope the upload became, once completed.
    pub envelope_id: Option<Uuid>,
}

fn view(x: &Session, now: DateTime<Utc>) -> UploadStatus {
    // An open session past its expiry is dead already, whether or not the sweep marked it.
    let state = if x.state == OPEN && now >= x.expires_at {
        EXPIRED
    } else {
        x.state.as_str()
    };
    UploadStatus {
        id: x.id,
        bando_id: x.bando_id,
        lotto_id: x.lotto_id,
        kind: x.kind.clone(),
        chunk_bytes: x.chunk_bytes.max(0) as u64,
        received_parts: x.parts(),
        received_bytes: x.received_bytes.max(0) as u64,
        last_part_sha256: x.part_digests.last().cloned(),
        created_at: x.created_at,
        expires_at: x.expires_at,
        state: state.to_string(),
        envelope_id: x.envelope_id,
    }
}

fn not_found() -> OfferteError {
    OfferteError::NotFound { what: "Caricamento" }
}

/// The caller's own session. Another user's is "not found": a 403 would tell an official
/// that the id exists, hence that somebody is bidding.
fn load_own(conn: &mut PgConnection, who: &Principal, id: Uuid, lock: bool) -> Result<Session, OfferteError> {
    let q = s::table.find(id).filter(s::owner_id.eq(who.user_id));
    let row = if lock {
        q.for_update().first::<Session>(conn).optional()?
    } else {
        q.first::<Session>(conn).optional()?
    };
    row.ok_or_else(not_found)
}

fn ensure_open(x: &Session, now: DateTime<Utc>) -> Result<(), OfferteError> {
    match x.state.as_str() {
        OPEN if now < x.expires_at => Ok(()),
        OPEN | EXPIRED => Err(OfferteError::conflict(
            "upload_expired",
            format!(
                "Il caricamento è scaduto il {}: iniziarne uno nuovo",
                canonical_time(&x.expires_at)
            ),
        )),
        COMPLETED => Err(OfferteError::conflict(
            "upload_completed",
            "Il caricamento è già stato completato: la busta è stata ricevuta",
        )),
        _ => Err(OfferteError::conflict(
            "upload_abandoned",
            "Il caricamento è stato annullato: iniziarne uno nuovo",
        )),
    }
}

/// Parts, like envelopes, only before the deadline and while the tender is open.
fn ensure_before_deadline(conn: &mut PgConnection, bando_id: Uuid, now: DateTime<Utc>) -> Result<(), OfferteError> {
    let t = tender(conn, bando_id)?;
    let deadline = submit::check_deadline(&t, now)?;
    let closed: i64 = seal_closures::table.find(bando_id).count().get_result(conn)?;
    if closed > 0 {
        return Err(OfferteError::DeadlinePassed {
            deadline: canonical_time(&deadline),
        });
    }
    if t.state != "published" {
        return Err(OfferteError::conflict(
            "tender_not_open",
            "Il bando non è aperto alla presentazione delle offerte",
        ));
    }
    Ok(())
}

/// Whether part `index` may come now: the next one, or a repeat of the last accepted one
/// (`Ok(true)`; with `digest`, only if it is the same bytes).
fn check_index(x: &Session, index: u32, digest: Option<&str>) -> Result<bool, OfferteError> {
    let n = x.parts();
    if index.checked_add(1) == Some(n) {
        return match digest {
            None => Ok(true),
            Some(d) if x.part_digests.last().map(String::as_str) == Some(d) => Ok(true),
            Some(_) => Err(OfferteError::conflict(
                "upload_part_out_of_order",
                format!(
                    "La parte {index} è già stata ricevuta con un altro contenuto: la prossima parte attesa è la {n}"
                ),
            )),
        };
    }
    if index != n {
        return Err(OfferteError::conflict(
            "upload_part_out_of_order",
            format!("Parte {index} fuori ordine: la prossima parte attesa è la {n}"),
        ));
    }
    if x.received_bytes != i64::from(x.received_parts) * x.chunk_bytes {
        return Err(OfferteError::conflict(
            "upload_part_after_last",
            "L'ultima parte ricevuta era più corta delle altre, quindi era l'ultima: completare il caricamento",
        ));
    }
    Ok(false)
}

/// The staging directory of one upload: `<seal dir>/uploads/<id>`.
pub fn staging_dir(seal_dir: &Path, id: Uuid) -> PathBuf {
    seal_dir.join("uploads").join(id.to_string())
}

fn part_path(seal_dir: &Path, id: Uuid, index: u32) -> PathBuf {
    staging_dir(seal_dir, id).join(format!("{index:08}"))
}

fn remove_staging(seal_dir: &Path, id: Uuid) {
    let dir = staging_dir(seal_dir, id);
    if let Err(e) = fs::remove_dir_all(&dir) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(upload = %id, error = %e, "staged parts not removed");
        }
    }
}

fn audit(
    conn: &mut PgConnection,
    who: Option<Uuid>,
    request_id: &str,
    at: DateTime<Utc>,
    x: &Session,
    action: &str,
    details: serde_json::Value,
) -> Result<(), OfferteError> {
    let ctx = AuditCtx {
        actor: who,
        request_id: request_id.to_string(),
        client_request_id: None,
        at,
    };
    let mut all = serde_json::json!({
        "upload_id": x.id, "bando_id": x.bando_id, "lotto_id": x.lotto_id, "bidder_id": x.owner_id, "kind": x.kind,
    });
    if let (Some(all), serde_json::Value::Object(more)) = (all.as_object_mut(), details) {
        all.extend(more);
    }
    crate::secrecy::record_bid_event(conn, &ctx, x.bando_id, action, x.id.to_string(), all)
}

/// Bytes the bidder holds in open sessions on the tender (every lot): they count against its
/// quota as if they were envelopes already, so sessions cannot stage more than it allows.
fn staged_bytes(conn: &mut PgConnection, bando_id: Uuid, owner: Uuid, now: DateTime<Utc>) -> Result<u64, OfferteError> {
    let sizes: Vec<i64> = s::table
        .filter(s::bando_id.eq(bando_id))
        .filter(s::owner_id.eq(owner))
        .filter(s::state.eq(OPEN))
        .filter(s::expires_at.gt(now))
        .select(s::received_bytes)
        .load(conn)?;
    Ok(sizes.iter().map(|b| (*b).max(0) as u64).sum())
}

/// Starts a resumable upload of envelope `kind`: the checks of a one-shot upload (eligible
/// supplier, open tender, complete ceremony, deadline, quotas), then the cap on open sessions.
#[allow(clippy::too_many_arguments)]
pub fn start(
    conn: &mut PgConnection,
    svc: &SealService,
    ctx: &AuditCtx,
    who: &Principal,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    kind: EnvelopeKind,
) -> Result<UploadStatus, OfferteError> {
    let now = micros(ctx.at);
    conn.transaction(|conn| {
        submit::prepare_upload(conn, svc, Remembered::nothing(), who, bando_id, lotto, kind, now)?;
        // Under the bidder's lock: two starts at once cannot both take the last place.
        crate::quota::lock(conn, bando_id, who.user_id)?;
        let open: i64 = s::table
            .filter(s::bando_id.eq(bando_id))
            .filter(s::owner_id.eq(who.user_id))
            .filter(s::state.eq(OPEN))
            .filter(s::expires_at.gt(now))
            .count()
            .get_result(conn)?;
        let limit = svc.config().max_open_uploads;
        if open >= i64::from(limit) {
            return Err(OfferteError::UploadSessionsLimit { limit });
        }
        let id = Uuid::new_v4();
        let chunk = i64::try_from(svc.config().chunk_bytes).unwrap_or(i64::MAX);
        diesel::insert_into(s::table)
            .values((
                s::id.eq(id),
                s::bando_id.eq(bando_id),
                s::lotto_id.eq(lotto),
                s::kind.eq(kind.as_str()),
                s::owner_id.eq(who.user_id),
                s::created_at.eq(now),
                s::expires_at.eq(now + Duration::seconds(svc.config().upload_session_seconds.max(1))),
                s::chunk_bytes.eq(chunk),
            ))
            .execute(conn)?;
        let x: Session = s::table.find(id).first(conn)?;
        audit(
            conn,
            Some(who.user_id),
            &ctx.request_id,
            now,
            &x,
            "offerte.upload_started",
            serde_json::json!({ "chunk_bytes": chunk }),
        )?;
        Ok(view(&x, now))
    })
}

/// Where the caller's upload stands.
pub fn status(
    conn: &mut PgConnection,
    who: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<UploadStatus, OfferteError> {
    Ok(view(&load_own(conn, who, id, false)?, now))
}

/// What a part's upload may use once [`prepare_part`] let it start.
#[derive(Debug, Clone)]
pub struct PartPermit {
    /// The largest part: the stream is cut beyond it.
    pub chunk_bytes: u64,
    /// Where the part is staged.
    pub dir: PathBuf,
}

/// Before streaming part `index`: refuses early what [`accept_part`] would refuse anyway.
pub fn prepare_part(
    conn: &mut PgConnection,
    svc: &SealService,
    who: &Principal,
    id: Uuid,
    index: u32,
    now: DateTime<Utc>,
) -> Result<PartPermit, OfferteError> {
    let x = load_own(conn, who, id, false)?;
    // The deadline first: at the deadline the sweep may have expired the session already.
    ensure_before_deadline(conn, x.bando_id, now)?;
    ensure_open(&x, now)?;
    check_index(&x, index, None)?;
    Ok(PartPermit {
        chunk_bytes: x.chunk_bytes.max(0) as u64,
        dir: staging_dir(svc.dir(), id),
    })
}

/// A part written and fsynced under the upload's staging directory, not yet accepted.
/// Dropping it removes the file.
#[derive(Debug)]
pub struct StagedPart {
    tmp: Option<PathBuf>,
    pub sha256: [u8; 32],
    pub size: u64,
}

impl StagedPart {
    fn starts_with_age_header(&self) -> Result<bool, OfferteError> {
        let Some(p) = &self.tmp else { return Ok(false) };
        let mut head = [0u8; blob::AGE_HEADER.len()];
        match File::open(p)?.read_exact(&mut head) {
            Ok(()) => Ok(head == blob::AGE_HEADER),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves the part to its final name (replacing a leftover of a rolled-back attempt).
    fn place(&mut self, target: &Path) -> Result<(), OfferteError> {
        let Some(tmp) = self.tmp.take() else {
            return Err(OfferteError::Internal("parte già collocata".into()));
        };
        if let Err(e) = fs::rename(&tmp, target) {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        if let Some(parent) = target.parent() {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for StagedPart {
    fn drop(&mut self) {
        if let Some(p) = self.tmp.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Streams a part from `reader` into a fsynced file under `dir`, hashing it; memory stays flat.
pub fn stage_part<R: Read>(dir: &Path, mut reader: R) -> Result<StagedPart, OfferteError> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("tmp-{}", Uuid::new_v4()));
    let mut file = File::create(&tmp)?;
    let mut part = StagedPart {
        tmp: Some(tmp),
        sha256: [0; 32],
        size: 0,
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])?;
        part.size += n as u64;
    }
    file.sync_all()?;
    part.sha256 = hasher.finalize().into();
    Ok(part)
}

/// Parses a hex SHA-256 as the client sends it (either case).
pub fn parse_digest(hex_digest: &str, field: &str) -> Result<[u8; 32], OfferteError> {
    hex::decode(hex_digest.trim())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| {
            OfferteError::invalid(
                "upload_digest_malformed",
                field,
                "L'impronta deve essere uno SHA-256 in esadecimale (64 caratteri)",
            )
        })
}

/// Accepts part `index`, whose bytes were staged and claimed to have SHA-256 `claimed`.
/// Returns the status and whether anything changed (a repeat of the last part changes nothing).
#[allow(clippy::too_many_arguments)]
pub fn accept_part(
    conn: &mut PgConnection,
    svc: &SealService,
    clock: &dyn Clock,
    who: &Principal,
    id: Uuid,
    index: u32,
    claimed: [u8; 32],
    mut staged: StagedPart,
    request_id: &str,
) -> Result<(UploadStatus, bool), OfferteError> {
    if staged.sha256 != claimed {
        return Err(OfferteError::invalid(
            "upload_part_digest",
            "X-Chunk-Sha256",
            format!(
                "L'impronta SHA-256 della parte {index} ricevuta ({}) non corrisponde a quella dichiarata: la parte non è stata accettata, inviarla di nuovo",
                hex::encode(staged.sha256)
            ),
        ));
    }
    if staged.size == 0 {
        return Err(OfferteError::invalid(
            "upload_part_empty",
            "body",
            "Una parte non può essere vuota",
        ));
    }
    let digest = hex::encode(claimed);
    conn.transaction(|conn| {
        let x = load_own(conn, who, id, true)?;
        // The time of this part's last byte: after it was staged, under the session's lock.
        let now = micros(clock.now());
        ensure_before_deadline(conn, x.bando_id, now)?;
        ensure_open(&x, now)?;
        if check_index(&x, index, Some(&digest))? {
            return Ok((view(&x, now), false));
        }
        let chunk = x.chunk_bytes.max(0) as u64;
        if staged.size > chunk {
            return Err(OfferteError::invalid(
                "upload_part_too_large",
                "body",
                format!("Una parte non può superare {chunk} byte"),
            ));
        }
        if index == 0 && !staged.starts_with_age_header()? {
            return Err(OfferteError::invalid(
                "envelope_not_age",
                "body",
                "Una busta sigillata dal concorrente deve essere un file age (age-encryption.org/v1)",
            ));
        }
        let total = (x.received_bytes.max(0) as u64).saturating_add(staged.size);
        let limit = svc.config().max_envelope_bytes;
        if total > limit {
            return Err(OfferteError::TooLarge { limit });
        }
        crate::quota::lock(conn, x.bando_id, x.owner_id)?;
        let used = crate::quota::usage(conn, x.bando_id, x.lotto_id, x.owner_id, x.kind()?)?;
        let held = used
            .bytes
            .saturating_add(staged_bytes(conn, x.bando_id, x.owner_id, now)?);
        let quota = svc.config().quota_bytes_per_tender;
        if held.saturating_add(staged.size) > quota {
            return Err(OfferteError::QuotaBytes {
                limit: quota,
                used: held,
            });
        }
        staged.place(&part_path(svc.dir(), id, index))?;
        let mut digests = x.part_digests.clone();
        digests.push(digest.clone());
        let x: Session = diesel::update(s::table.find(id))
            .set((
                s::received_parts.eq(x.received_parts + 1),
                s::received_bytes.eq(i64::try_from(total).unwrap_or(i64::MAX)),
                s::part_digests.eq(digests),
                s::last_part_at.eq(now),
            ))
            .get_result(conn)?;
        audit(
            conn,
            Some(who.user_id),
            request_id,
            now,
            &x,
            "offerte.upload_part_received",
            serde_json::json!({ "index": index, "size": staged.size, "sha256": digest }),
        )?;
        Ok((view(&x, now), true))
    })
}

/// What the completion reads: the parts, in order, and the whole ciphertext's claimed digest.
#[derive(Debug, Clone)]
pub struct Assembly {
    pub id: Uuid,
    pub bando_id: Uuid,
    pub lotto_id: Option<Uuid>,
    pub kind: EnvelopeKind,
    pub parts: Vec<PathBuf>,
    pub size: u64,
    pub sha256: [u8; 32],
}

/// The first step of a completion.
#[derive(Debug)]
pub enum Completion {
    /// Completed before (a double click, a lost answer): its receipt, nothing new.
    Done(ReceiptView),
    /// To assemble ([`assemble`]) and commit ([`finish`]).
    Assemble(Assembly),
}

fn parts_mismatch(received: u32, parts: u32) -> OfferteError {
    OfferteError::conflict(
        "upload_parts_mismatch",
        format!("Sono state ricevute {received} parti, non {parts}: inviare le parti mancanti prima di completare"),
    )
}

fn digest_mismatch(got: &[u8; 32]) -> OfferteError {
    OfferteError::invalid(
        "upload_digest",
        "sha256",
        format!(
            "L'impronta SHA-256 della busta ricomposta ({}) non corrisponde a quella dichiarata: la busta non è stata accettata",
            hex::encode(got)
        ),
    )
}

/// The envelope a completed session became, if the claimed digest is its digest.
fn completed_receipt(conn: &mut PgConnection, x: &Session, sha256: &[u8; 32]) -> Result<ReceiptView, OfferteError> {
    let envelope = x
        .envelope_id
        .ok_or_else(|| OfferteError::Internal("caricamento senza busta".into()))?;
    let digest: String = envelopes::table.find(envelope).select(envelopes::sha256).first(conn)?;
    if digest != hex::encode(sha256) {
        return Err(OfferteError::conflict(
            "upload_completed",
            format!("Il caricamento è già stato completato con la busta {digest}: per un'altra busta iniziare un nuovo caricamento"),
        ));
    }
    submit::receipt_view(conn, envelope)
}

/// Before assembling: the session is the caller's, open, complete with `parts` parts, and the
/// supplier may still submit (eligibility, deadline) — refused here before any disk work.
pub fn prepare_completion(
    conn: &mut PgConnection,
    svc: &SealService,
    who: &Principal,
    id: Uuid,
    parts: u32,
    sha256: [u8; 32],
    now: DateTime<Utc>,
) -> Result<Completion, OfferteError> {
    let x = load_own(conn, who, id, false)?;
    if x.state == COMPLETED {
        return Ok(Completion::Done(completed_receipt(conn, &x, &sha256)?));
    }
    let kind = x.kind()?;
    submit::prepare(conn, Remembered::nothing(), who, x.bando_id, x.lotto_id, kind, now)?;
    ensure_before_deadline(conn, x.bando_id, now)?;
    ensure_open(&x, now)?;
    if parts == 0 || parts != x.parts() {
        return Err(parts_mismatch(x.parts(), parts));
    }
    Ok(Completion::Assemble(Assembly {
        id,
        bando_id: x.bando_id,
        lotto_id: x.lotto_id,
        kind,
        parts: (0..parts).map(|i| part_path(svc.dir(), id, i)).collect(),
        size: x.received_bytes.max(0) as u64,
        sha256,
    }))
}

/// The parts' files read one after another, as one stream.
struct PartsReader {
    next: std::vec::IntoIter<PathBuf>,
    current: Option<File>,
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(f) = &mut self.current {
                let n = f.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
            }
            match self.next.next() {
                Some(p) => self.current = Some(File::open(p)?),
                None => return Ok(0),
            }
        }
    }
}

/// Reassembles the parts into a staged blob exactly as a one-shot client-sealed upload is
/// staged; a digest other than the claimed one is refused (nothing is kept).
/// With a shared store, the ciphertext is uploaded there once it is known to be the claimed one.
pub fn assemble(store: &Store, a: &Assembly) -> Result<StagedBlob, OfferteError> {
    let reader = PartsReader {
        next: a.parts.clone().into_iter(),
        current: None,
    };
    // The recipient is only used to seal server-side; client ciphertext is kept as it is.
    let mut staged = blob::stage(store.dir(), "", SealMode::Client, reader)?;
    if staged.info.sha256 != a.sha256 {
        return Err(digest_mismatch(&staged.info.sha256));
    }
    if staged.info.size != a.size {
        return Err(OfferteError::Internal(format!(
            "caricamento {}: {} byte ricomposti, {} ricevuti",
            a.id, staged.info.size, a.size
        )));
    }
    staged.publish(store)?;
    Ok(staged)
}

/// Commits the assembled envelope through [`submit::commit`] (deadline, eligibility, quotas,
/// receipt) and closes the session in the same transaction. Of two completions at once the
/// second waits on the session's row and gets the first one's receipt (`false`: nothing new).
#[allow(clippy::too_many_arguments)]
pub fn finish(
    conn: &mut PgConnection,
    svc: &SealService,
    clock: &dyn Clock,
    who: &Principal,
    a: &Assembly,
    staged: StagedBlob,
    request_id: &str,
) -> Result<(ReceiptView, bool), OfferteError> {
    let out = conn.transaction(|conn| {
        let x = load_own(conn, who, a.id, true)?;
        if x.state == COMPLETED {
            return Ok((completed_receipt(conn, &x, &a.sha256)?, false));
        }
        let now = micros(clock.now());
        ensure_before_deadline(conn, x.bando_id, now)?;
        ensure_open(&x, now)?;
        if x.parts() != a.parts.len() as u32 {
            return Err(parts_mismatch(x.parts(), a.parts.len() as u32));
        }
        let receipt = submit::commit(
            conn, svc, clock, who, a.bando_id, a.lotto_id, a.kind, staged, request_id,
        )?;
        let x: Session = diesel::update(s::table.find(a.id))
            .set((
                s::state.eq(COMPLETED),
                s::ended_at.eq(receipt.received_at),
                s::envelope_id.eq(receipt.envelope_id),
            ))
            .get_result(conn)?;
        audit(
            conn,
            Some(who.user_id),
            request_id,
            receipt.received_at,
            &x,
            "offerte.upload_completed",
            serde_json::json!({ "envelope_id": receipt.envelope_id, "parts": x.received_parts,
                                "size": receipt.size, "sha256": receipt.sha256 }),
        )?;
        Ok((receipt, true))
    })?;
    remove_staging(svc.dir(), a.id);
    Ok(out)
}

/// The owner gives up an open upload; its parts are deleted, the row stays.
pub fn abandon(
    conn: &mut PgConnection,
    svc: &SealService,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
) -> Result<UploadStatus, OfferteError> {
    let now = micros(ctx.at);
    let out = conn.transaction(|conn| {
        let x = load_own(conn, who, id, true)?;
        match x.state.as_str() {
            OPEN => {}
            COMPLETED => {
                return Err(OfferteError::conflict(
                    "upload_completed",
                    "Il caricamento è già stato completato: per ritirare la busta si ritira l'offerta",
                ))
            }
            _ => return Ok(view(&x, now)),
        }
        let x: Session = diesel::update(s::table.find(id))
            .set((s::state.eq(ABANDONED), s::ended_at.eq(now)))
            .get_result(conn)?;
        audit(
            conn,
            Some(who.user_id),
            &ctx.request_id,
            now,
            &x,
            "offerte.upload_abandoned",
            serde_json::json!({ "received_parts": x.received_parts, "received_bytes": x.received_bytes }),
        )?;
        Ok(view(&x, now))
    })?;
    remove_staging(svc.dir(), id);
    Ok(out)
}

/// The scheduler's sweep: open sessions past their expiry, or on a tender whose deadline has
/// passed (they can never complete), become `expired` and lose their parts. Returns how many.
pub fn expire_due(conn: &mut PgConnection, svc: &SealService, now: DateTime<Utc>) -> Result<usize, OfferteError> {
    let open: Vec<(Uuid, Uuid, DateTime<Utc>)> = s::table
        .filter(s::state.eq(OPEN))
        .select((s::id, s::bando_id, s::expires_at))
        .order(s::expires_at.asc())
        .limit(1000)
        .load(conn)?;
    if open.is_empty() {
        return Ok(0);
    }
    let bando_ids: Vec<Uuid> = open.iter().map(|o| o.1).collect();
    let closed: Vec<Uuid> = bandi::table
        .filter(bandi::id.eq_any(&bando_ids))
        .filter(bandi::submission_deadline.le(now))
        .select(bandi::id)
        .load(conn)?;
    let mut n = 0;
    for (id, bando, expires_at) in open {
        if expires_at > now && !closed.contains(&bando) {
            continue;
        }
        let done = conn.transaction(|conn| {
            // A session being completed or written right now is left for the next pass.
            let still_open: Option<Uuid> = s::table
                .find(id)
                .filter(s::state.eq(OPEN))
                .select(s::id)
                .for_update()
                .skip_locked()
                .first(conn)
                .optional()?;
            if still_open.is_none() {
                return Ok::<_, OfferteError>(false);
            }
            let x: Session = diesel::update(s::table.find(id))
                .set((s::state.eq(EXPIRED), s::ended_at.eq(now)))
                .get_result(conn)?;
            audit(
                conn,
                None,
                "scheduler",
                now,
                &x,
                "offerte.upload_expired",
                serde_json::json!({ "received_parts": x.received_parts, "received_bytes": x.received_bytes }),
            )?;
            Ok(true)
        })?;
        if done {
            remove_staging(svc.dir(), id);
            n += 1;
        }
    }
    Ok(n)
}
