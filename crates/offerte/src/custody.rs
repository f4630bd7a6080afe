//! Key custody no single person can break (issue 9 point 6): the server's side of the
//! dealerless ceremony of `seal::custody`, one key per envelope kind, and the custodians'
//! own shares at each opening.
//!
//! 1. Each custodian named by the tender registers his own age transport key.
//! 2. Each custodian uploads his contribution (Feldman commitments and shares encrypted to
//!    the others' transport keys) for each kind A, B, C.
//! 3. Each custodian acknowledges: he checked every share he received, and proves knowledge
//!    of his combined share for the verification share the server recomputes. With the last
//!    acknowledgement the server computes each kind's tender key from the commitments and
//!    the tender accepts bids (`seal_ceremony_incomplete` before).
//! 4. At the opening of kind K each custodian submits his share of K (checked against his
//!    verification share); the opening combines k of them in memory, decrypts and drops it.
//!
//! Nobody, the RUP and the server included, ever holds a tender secret before the opening
//! of its kind; a custodian's share of kind K is stored only once K may be opened.

use std::collections::BTreeMap;

use accounts::{Principal, Role};
use chrono::{DateTime, Utc};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use seal::custody::{self as dkg, ThresholdIdentity};
use seal::receipt::canonical_time;
use seal::SealError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

use crate::log::{self, kind as leaf_kind};
use crate::schema::{
    bandi, log_leaves, seal_acks, seal_ceremonies, seal_contributions, seal_kind_keys, seal_opening_shares,
    seal_tender_keys, seal_transport_keys,
};
use crate::OfferteError;

/// The three independent keys of a tender, one per envelope kind.
pub const KINDS: [&str; 3] = ["A", "B", "C"];

/// Why the RUP abandons a ceremony (recorded in the trail). Missing or blank: 422
/// `reason_required`, checked only once the reset would otherwise go ahead.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CeremonyReset {
    #[serde(default)]
    pub reason: String,
}

/// A custodian's age transport key (X25519, from `centrale keys custodian-keygen`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransportKeyUpload {
    pub age_key: String,
}

/// A custodian as the ceremony knows him: number j (1..=n), transport key, progress.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CeremonyCustodian {
    pub user_id: Uuid,
    pub index: u32,
    pub transport_key: Option<String>,
    pub contributed: bool,
    pub acked: bool,
}

/// The tender's seal: the ceremony's progress and, once every contribution is in, the
/// recipient (`age1...`) of each envelope kind. Bids are accepted when `status` is `complete`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenderKey {
    pub bando_id: Uuid,
    pub ceremony_id: Option<Uuid>,
    /// `not_started`, `registering`, `contributing`, `acknowledging` or `complete`.
    pub status: String,
    pub k: usize,
    pub n: usize,
    pub submission_deadline: Option<DateTime<Utc>>,
    pub custodians: Vec<CeremonyCustodian>,
    /// Kind (A, B, C) to its age recipient, computed by the server from the commitments.
    pub recipients: BTreeMap<String, String>,
    /// Hex hash of the `TenderPublished` leaf that fixed the keys in the log.
    pub leaf_hash: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// One share of a dealer's polynomial, age-encrypted to custodian `index`'s transport key.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedShare {
    pub index: u32,
    /// Base64 of the binary age file.
    pub ciphertext: String,
}

/// A dealer's contribution for one kind.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindContribution {
    /// k Feldman commitments a_m·B, hex of compressed Edwards points.
    pub commitments: Vec<String>,
    pub shares: Vec<SealedShare>,
}

/// What `centrale keys contribute` prints and the custodian posts: one per kind A, B, C.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionUpload {
    pub kinds: BTreeMap<String, KindContribution>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DealerContribution {
    pub dealer_user_id: Uuid,
    pub dealer_index: u32,
    pub kind: String,
    pub commitments: Vec<String>,
    pub shares: Vec<SealedShare>,
}

/// Everything a custodian needs to check his shares and acknowledge.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contributions {
    pub bando_id: Uuid,
    pub ceremony_id: Uuid,
    pub k: usize,
    pub n: usize,
    pub custodians: Vec<CeremonyCustodian>,
    pub contributions: Vec<DealerContribution>,
}

/// A Schnorr proof of knowledge: commitment R (point) and response z (scalar), hex.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofWire {
    pub commitment: String,
    pub response: String,
}

/// What `centrale keys ack` prints and the custodian posts: one proof per kind.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckUpload {
    pub kinds: BTreeMap<String, ProofWire>,
}

/// A custodian's share of one kind at its opening (`centrale keys decrypt-share --kind`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningShareUpload {
    /// Hex of the 32-byte share s_j.
    pub share: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpeningShares {
    pub bando_id: Uuid,
    pub kind: String,
    pub k: usize,
    /// The custodians whose verified share of this kind is in.
    pub submitted_by: Vec<Uuid>,
}

/// The columns of a tender the seal reads.
#[derive(Queryable)]
pub struct Tender {
    pub id: Uuid,
    pub ente_id: Uuid,
    pub state: String,
    pub submission_deadline: Option<DateTime<Utc>>,
    pub envelopes: Vec<String>,
    pub custodians: Vec<Uuid>,
    pub custodian_threshold: i32,
}

pub(crate) fn tender(conn: &mut PgConnection, id: Uuid) -> Result<Tender, OfferteError> {
    bandi::table
        .find(id)
        .select((
            bandi::id,
            bandi::ente_id,
            bandi::state,
            bandi::submission_deadline,
            bandi::envelopes,
            bandi::custodians,
            bandi::custodian_threshold,
        ))
        .first(conn)
        .optional()?
        .ok_or(OfferteError::NotFound { what: "Bando" })
}

#[derive(Queryable, Clone)]
struct Ceremony {
    id: Uuid,
    k: i32,
    custodians: Vec<Uuid>,
    completed_at: Option<DateTime<Utc>>,
}

impl Ceremony {
    fn n(&self) -> usize {
        self.custodians.len()
    }

    /// The caller's custodian number j (1..=n), or 403 `not_custodian`.
    fn index_of(&self, who: &Principal) -> Result<u32, OfferteError> {
        self.custodians
            .iter()
            .position(|c| *c == who.user_id)
            .map(|p| p as u32 + 1)
            .ok_or_else(not_custodian)
    }
}

/// Who is not one of the tender's named custodians learns nothing about its ceremony: this
/// comes before any check of the ceremony's state.
fn require_tender_custodian(t: &Tender, who: &Principal) -> Result<(), OfferteError> {
    who.require_official()?;
    if !t.custodians.contains(&who.user_id) {
        return Err(not_custodian());
    }
    Ok(())
}

fn not_custodian() -> OfferteError {
    OfferteError::refused(
        "not_custodian",
        "Solo un custode indicato nel bando agisce nella cerimonia del sigillo, e solo per sé",
    )
}

fn ceremony_complete() -> OfferteError {
    OfferteError::conflict(
        "seal_ceremony_complete",
        "La cerimonia del sigillo è conclusa: le chiavi del bando non si cambiano più",
    )
}

fn incomplete() -> OfferteError {
    OfferteError::conflict(
        "seal_ceremony_incomplete",
        "La cerimonia del sigillo non è conclusa: servono i contributi e le conferme di tutti i custodi prima di accettare offerte",
    )
}

/// The live (not reset) ceremony of a tender, locked for the rest of the transaction.
fn live(conn: &mut PgConnection, bando_id: Uuid, lock: bool) -> Result<Option<Ceremony>, OfferteError> {
    let q = seal_ceremonies::table
        .filter(seal_ceremonies::bando_id.eq(bando_id))
        .filter(seal_ceremonies::reset_at.is_null())
        .select((
            seal_ceremonies::id,
            seal_ceremonies::k,
            seal_ceremonies::custodians,
            seal_ceremonies::completed_at,
        ));
    Ok(if lock {
        q.for_update().first(conn).optional()?
    } else {
        q.first(conn).optional()?
    })
}

/// The ceremony may change only on a tender in draft or published, before its deadline.
fn require_open(t: &Tender, at: DateTime<Utc>) -> Result<(), OfferteError> {
    if !matches!(t.state.as_str(), "draft" | "published") {
        return Err(OfferteError::conflict(
            "tender_not_open",
            "La cerimonia del sigillo si svolge solo per un bando in bozza o pubblicato",
        ));
    }
    let Some(deadline) = t.submission_deadline else {
        return Err(OfferteError::invalid(
            "deadline_missing",
            "submission_deadline",
            "Il bando non ha un termine di presentazione delle offerte",
        ));
    };
    if at >= deadline {
        return Err(OfferteError::DeadlinePassed {
            deadline: canonical_time(&deadline),
        });
    }
    Ok(())
}

fn record(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    t: &Tender,
    action: &'static str,
    details: serde_json::Value,
) -> Result<(), OfferteError> {
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action,
            object_type: "bando",
            object_id: t.id.to_string(),
            ente_id: Some(t.ente_id),
            details,
        },
    )?;
    Ok(())
}

/// A custodian registers his own transport key; the first registration starts the
/// ceremony with the tender's custodians and threshold as they are now.
pub fn register_transport_key(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando_id: Uuid,
    input: &TransportKeyUpload,
) -> Result<TenderKey, OfferteError> {
    let t = tender(conn, bando_id)?;
    require_tender_custodian(&t, who)?;
    require_open(&t, ctx.at)?;
    dkg::check_threshold(t.custodian_threshold.max(0) as usize, t.custodians.len())?;
    let key = seal::envelope::parse_recipient(&input.age_key)?.to_string();
    conn.transaction(|conn| {
        diesel::insert_into(seal_ceremonies::table)
            .values((
                seal_ceremonies::id.eq(Uuid::new_v4()),
                seal_ceremonies::bando_id.eq(bando_id),
                seal_ceremonies::k.eq(t.custodian_threshold),
                seal_ceremonies::custodians.eq(&t.custodians),
                seal_ceremonies::started_at.eq(ctx.at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        let c = live(conn, bando_id, true)?.ok_or(OfferteError::Internal("cerimonia assente".into()))?;
        if c.completed_at.is_some() {
            return Err(ceremony_complete());
        }
        let j = c.index_of(who)?;
        let exists: i64 = seal_transport_keys::table
            .filter(seal_transport_keys::ceremony_id.eq(c.id))
            .filter(seal_transport_keys::custodian_user_id.eq(who.user_id))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Err(OfferteError::conflict(
                "transport_key_exists",
                "La chiave di trasporto di questo custode è già registrata",
            ));
        }
        diesel::insert_into(seal_transport_keys::table)
            .values((
                seal_transport_keys::ceremony_id.eq(c.id),
                seal_transport_keys::custodian_user_id.eq(who.user_id),
                seal_transport_keys::position.eq(j as i32),
                seal_transport_keys::age_key.eq(&key),
                seal_transport_keys::registered_at.eq(ctx.at),
            ))
            .execute(conn)?;
        record(
            conn,
            ctx,
            &t,
            "bando.sigillo_chiave_trasporto",
            serde_json::json!({ "ceremony_id": c.id, "custode": j, "age_key": key }),
        )
    })?;
    get(conn, bando_id)
}

fn transport_keys(conn: &mut PgConnection, c: &Ceremony) -> Result<Vec<(Uuid, i32, String)>, OfferteError> {
    Ok(seal_transport_keys::table
        .filter(seal_transport_keys::ceremony_id.eq(c.id))
        .order(seal_transport_keys::position.asc())
        .select((
            seal_transport_keys::custodian_user_id,
            seal_transport_keys::position,
            seal_transport_keys::age_key,
        ))
        .load(conn)?)
}

/// A custodian uploads his own contribution for every kind (once).
pub fn contribute(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando_id: Uuid,
    input: &ContributionUpload,
) -> Result<TenderKey, OfferteError> {
    let t = tender(conn, bando_id)?;
    require_tender_custodian(&t, who)?;
    require_open(&t, ctx.at)?;
    conn.transaction(|conn| {
        let c = live(conn, bando_id, true)?.ok_or_else(not_custodian)?;
        let j = c.index_of(who)?;
        if c.completed_at.is_some() {
            return Err(ceremony_complete());
        }
        if transport_keys(conn, &c)?.len() != c.n() {
            return Err(OfferteError::conflict(
                "transport_keys_missing",
                "Ogni custode deve prima registrare la propria chiave di trasporto",
            ));
        }
        let exists: i64 = seal_contributions::table
            .filter(seal_contributions::ceremony_id.eq(c.id))
            .filter(seal_contributions::dealer_user_id.eq(who.user_id))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Err(OfferteError::conflict(
                "contribution_exists",
                "Il contributo di questo custode è già stato caricato",
            ));
        }
        if input.kinds.len() != KINDS.len() || !KINDS.iter().all(|k| input.kinds.contains_key(*k)) {
            return Err(OfferteError::invalid(
                "contribution_kinds",
                "kinds",
                "Serve un contributo per ciascuna busta: A, B e C",
            ));
        }
        let mut digests = BTreeMap::new();
        for (kind, kc) in &input.kinds {
            let field = format!("kinds.{kind}");
            if kc.commitments.len() != c.k as usize {
                return Err(OfferteError::invalid(
                    "commitments_count",
                    &field,
                    format!("Servono {} impegni (grado k-1 del polinomio)", c.k),
                ));
            }
            let points = kc
                .commitments
                .iter()
                .map(|p| dkg::parse_point(p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut idx: Vec<u32> = kc.shares.iter().map(|s| s.index).collect();
            idx.sort_unstable();
            if idx != (1..=c.n() as u32).collect::<Vec<_>>() {
                return Err(OfferteError::invalid(
                    "shares_mismatch",
                    &field,
                    "Serve una quota cifrata per ciascun custode, una sola",
                ));
            }
            for s in &kc.shares {
                let ct = dkg::unb64(&s.ciphertext)?;
                if !ct.starts_with(b"age-encryption.org/v1\n") {
                    return Err(OfferteError::invalid(
                        "share_not_age",
                        &field,
                        "La quota non è un file age",
                    ));
                }
            }
            let bytes: Vec<Vec<u8>> = points.iter().map(|p| p.compress().to_bytes().to_vec()).collect();
            diesel::insert_into(seal_contributions::table)
                .values((
                    seal_contributions::ceremony_id.eq(c.id),
                    seal_contributions::dealer_user_id.eq(who.user_id),
                    seal_contributions::kind.eq(kind),
                    seal_contributions::commitments.eq(bytes),
                    seal_contributions::shares
                        .eq(serde_json::to_value(&kc.shares).map_err(|e| OfferteError::Internal(e.to_string()))?),
                    seal_contributions::submitted_at.eq(ctx.at),
                ))
                .execute(conn)?;
            digests.insert(kind.clone(), dkg::commitments_digest(&points));
        }
        record(
            conn,
            ctx,
            &t,
            "bando.sigillo_contributo",
            serde_json::json!({ "ceremony_id": c.id, "custode": j, "commitments_sha256": digests }),
        )
    })?;
    get(conn, bando_id)
}

fn points_of(bytes: &[Vec<u8>]) -> Result<Vec<EdwardsPoint>, OfferteError> {
    bytes
        .iter()
        .map(|b| {
            let arr: [u8; 32] = b
                .as_slice()
                .try_into()
                .map_err(|_| OfferteError::Internal("impegno".into()))?;
            CompressedEdwardsY(arr)
                .decompress()
                .ok_or_else(|| OfferteError::Internal("impegno non valido".into()))
        })
        .collect()
}

/// Every dealer's commitments for one kind, in custodian order.
fn commitments(conn: &mut PgConnection, c: &Ceremony, kind: &str) -> Result<Vec<Vec<EdwardsPoint>>, OfferteError> {
    let rows: Vec<(Uuid, Vec<Vec<u8>>)> = seal_contributions::table
        .filter(seal_contributions::ceremony_id.eq(c.id))
        .filter(seal_contributions::kind.eq(kind))
        .select((seal_contributions::dealer_user_id, seal_contributions::commitments))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for u in &c.custodians {
        if let Some((_, b)) = rows.iter().find(|(d, _)| d == u) {
            out.push(points_of(b)?);
        }
    }
    Ok(out)
}

fn parse_proof(p: &ProofWire) -> Result<dkg::Proof, OfferteError> {
    Ok(dkg::Proof {
        commitment: dkg::parse_point(&p.commitment)?,
        response: dkg::parse_scalar(&p.response).map_err(|_| SealError::ProofInvalid)?,
    })
}

/// A custodian acknowledges the ceremony: his shares checked out, and he proves knowledge of
/// his combined share of each kind. The last acknowledgement completes the ceremony.
pub fn acknowledge(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando_id: Uuid,
    input: &AckUpload,
) -> Result<TenderKey, OfferteError> {
    let t = tender(conn, bando_id)?;
    require_tender_custodian(&t, who)?;
    require_open(&t, ctx.at)?;
    conn.transaction(|conn| {
        let c = live(conn, bando_id, true)?.ok_or_else(not_custodian)?;
        let j = c.index_of(who)?;
        if c.completed_at.is_some() {
            return Err(ceremony_complete());
        }
        let contributed: i64 = seal_contributions::table
            .filter(seal_contributions::ceremony_id.eq(c.id))
            .count()
            .get_result(conn)?;
        if contributed as usize != c.n() * KINDS.len() {
            return Err(OfferteError::conflict(
                "contributions_missing",
                "Si conferma solo quando tutti i custodi hanno caricato il proprio contributo",
            ));
        }
        let acked: i64 = seal_acks::table
            .filter(seal_acks::ceremony_id.eq(c.id))
            .filter(seal_acks::custodian_user_id.eq(who.user_id))
            .count()
            .get_result(conn)?;
        if acked > 0 {
            return Err(OfferteError::conflict("ack_exists", "Questo custode ha già confermato"));
        }
        if input.kinds.len() != KINDS.len() || !KINDS.iter().all(|k| input.kinds.contains_key(*k)) {
            return Err(OfferteError::invalid(
                "ack_kinds",
                "kinds",
                "Serve una prova per ciascuna busta: A, B e C",
            ));
        }
        for kind in KINDS {
            let all = commitments(conn, &c, kind)?;
            let sj = dkg::verification_share(&all, j);
            let proof = parse_proof(&input.kinds[kind])?;
            dkg::verify_proof(&sj, &proof, &dkg::proof_context(&bando_id.to_string(), kind, j))?;
            let mut proof_bytes = proof.commitment.compress().to_bytes().to_vec();
            proof_bytes.extend_from_slice(proof.response.as_bytes());
            diesel::insert_into(seal_acks::table)
                .values((
                    seal_acks::ceremony_id.eq(c.id),
                    seal_acks::custodian_user_id.eq(who.user_id),
                    seal_acks::kind.eq(kind),
                    seal_acks::verification_share.eq(sj.compress().to_bytes().to_vec()),
                    seal_acks::proof.eq(proof_bytes),
                    seal_acks::acked_at.eq(ctx.at),
                ))
                .execute(conn)?;
        }
        record(
            conn,
            ctx,
            &t,
            "bando.sigillo_conferma",
            serde_json::json!({ "ceremony_id": c.id, "custode": j }),
        )?;
        let acks: i64 = seal_acks::table
            .filter(seal_acks::ceremony_id.eq(c.id))
            .count()
            .get_result(conn)?;
        if acks as usize == c.n() * KINDS.len() {
            complete(conn, ctx, who, &t, &c)?;
        }
        Ok(())
    })?;
    get(conn, bando_id)
}

/// The ceremony is complete: each kind's key is X = Σ C_i,0, fixed in the log.
fn complete(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    t: &Tender,
    c: &Ceremony,
) -> Result<(), OfferteError> {
    let deadline = t.submission_deadline.ok_or(OfferteError::Internal("termine".into()))?;
    let mut recipients = BTreeMap::new();
    for kind in KINDS {
        let x = dkg::tender_public_key(&commitments(conn, c, kind)?);
        let recipient = dkg::recipient_of(&x)?;
        diesel::insert_into(seal_kind_keys::table)
            .values((
                seal_kind_keys::bando_id.eq(t.id),
                seal_kind_keys::kind.eq(kind),
                seal_kind_keys::ceremony_id.eq(c.id),
                seal_kind_keys::public_key.eq(x.compress().to_bytes().to_vec()),
                seal_kind_keys::recipient.eq(&recipient),
            ))
            .execute(conn)?;
        recipients.insert(kind, recipient);
    }
    let keys: Vec<String> = transport_keys(conn, c)?.into_iter().map(|(_, _, k)| k).collect();
    let mut data = format!(
        "centrale-tender-published/v2\ntender {}\nk {}\nn {}\ndeadline {}\n",
        t.id,
        c.k,
        c.n(),
        canonical_time(&deadline)
    );
    for (kind, r) in &recipients {
        data.push_str(&format!("recipient-{kind} {r}\n"));
    }
    data.push_str(&format!("custodians {}\n", keys.join(",")));
    let (leaf_id, leaf_hash) =
        log::append_pending(conn, leaf_kind::TENDER_PUBLISHED, Some(t.id), data.as_bytes(), ctx.at)?;
    diesel::insert_into(seal_tender_keys::table)
        .values((
            seal_tender_keys::bando_id.eq(t.id),
            seal_tender_keys::recipient.eq(&recipients["A"]),
            seal_tender_keys::k.eq(c.k),
            seal_tender_keys::n.eq(c.n() as i32),
            seal_tender_keys::uploaded_by.eq(who.user_id),
            seal_tender_keys::uploaded_at.eq(ctx.at),
            seal_tender_keys::leaf_id.eq(leaf_id),
        ))
        .execute(conn)?;
    diesel::update(seal_ceremonies::table.find(c.id))
        .set(seal_ceremonies::completed_at.eq(ctx.at))
        .execute(conn)?;
    record(
        conn,
        ctx,
        t,
        "bando.chiave_caricata",
        serde_json::json!({ "recipients": recipients, "k": c.k, "n": c.n(), "leaf_hash": hex::encode(leaf_hash) }),
    )
}

/// The RUP (or an admin) abandons a ceremony that cannot complete (a custodian complained
/// of a share, or lost his transport key). Only before completion, hence before any bid.
pub fn reset(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando_id: Uuid,
    reason: &str,
) -> Result<TenderKey, OfferteError> {
    let t = tender(conn, bando_id)?;
    who.require_any_in(&[Role::Rup], t.ente_id)?;
    require_open(&t, ctx.at)?;
    conn.transaction(|conn| {
        let c = live(conn, bando_id, true)?.ok_or(OfferteError::NotFound {
            what: "Cerimonia del sigillo",
        })?;
        if c.completed_at.is_some() {
            return Err(ceremony_complete());
        }
        // Throwing away every custodian's work is a decision the trail must explain (whose
        // complaint, which key was lost), as every other decision of the RUP does.
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(OfferteError::invalid(
                "reason_required",
                "reason",
                "Indicare il motivo dell'azzeramento (ad esempio il reclamo del custode)",
            ));
        }
        diesel::update(seal_ceremonies::table.find(c.id))
            .set((
                seal_ceremonies::reset_at.eq(ctx.at),
                seal_ceremonies::reset_by.eq(who.user_id),
            ))
            .execute(conn)?;
        record(
            conn,
            ctx,
            &t,
            "bando.sigillo_azzerato",
            serde_json::json!({ "ceremony_id": c.id, "reason": reason }),
        )
    })?;
    get(conn, bando_id)
}

fn roster(conn: &mut PgConnection, c: &Ceremony) -> Result<Vec<CeremonyCustodian>, OfferteError> {
    let keys = transport_keys(conn, c)?;
    let dealers: Vec<Uuid> = seal_contributions::table
        .filter(seal_contributions::ceremony_id.eq(c.id))
        .select(seal_contributions::dealer_user_id)
        .distinct()
        .load(conn)?;
    let acked: Vec<Uuid> = seal_acks::table
        .filter(seal_acks::ceremony_id.eq(c.id))
        .select(seal_acks::custodian_user_id)
        .distinct()
        .load(conn)?;
    Ok(c.custodians
        .iter()
        .enumerate()
        .map(|(i, u)| CeremonyCustodian {
            user_id: *u,
            index: i as u32 + 1,
            transport_key: keys.iter().find(|(k, _, _)| k == u).map(|(_, _, key)| key.clone()),
            contributed: dealers.contains(u),
            acked: acked.contains(u),
        })
        .collect())
}

/// The tender's seal as public data (anyone who may see the tender: bidders need the
/// recipients).
pub fn get(conn: &mut PgConnection, bando_id: Uuid) -> Result<TenderKey, OfferteError> {
    let t = tender(conn, bando_id)?;
    let Some(c) = live(conn, bando_id, false)? else {
        return Ok(TenderKey {
            bando_id,
            ceremony_id: None,
            status: "not_started".into(),
            k: t.custodian_threshold.max(0) as usize,
            n: t.custodians.len(),
            submission_deadline: t.submission_deadline,
            custodians: Vec::new(),
            recipients: BTreeMap::new(),
            leaf_hash: None,
            completed_at: None,
        });
    };
    let custodians = roster(conn, &c)?;
    let status = if c.completed_at.is_some() {
        "complete"
    } else if custodians.iter().any(|c| c.transport_key.is_none()) {
        "registering"
    } else if custodians.iter().any(|c| !c.contributed) {
        "contributing"
    } else {
        "acknowledging"
    };
    let mut recipients = BTreeMap::new();
    if custodians.iter().all(|c| c.contributed) {
        for kind in KINDS {
            let x = dkg::tender_public_key(&commitments(conn, &c, kind)?);
            recipients.insert(kind.to_string(), dkg::recipient_of(&x)?);
        }
    }
    let leaf_hash: Option<Vec<u8>> = seal_tender_keys::table
        .inner_join(log_leaves::table.on(log_leaves::id.eq(seal_tender_keys::leaf_id)))
        .filter(seal_tender_keys::bando_id.eq(bando_id))
        .select(log_leaves::leaf_hash)
        .first(conn)
        .optional()?;
    Ok(TenderKey {
        bando_id,
        ceremony_id: Some(c.id),
        status: status.into(),
        k: c.k as usize,
        n: c.n(),
        submission_deadline: t.submission_deadline,
        custodians,
        recipients,
        leaf_hash: leaf_hash.map(hex::encode),
        completed_at: c.completed_at,
    })
}

/// The contributions of the live ceremony (public material: commitments and shares
/// encrypted to each custodian): the custodians, the RUP and auditors of the ente, admins.
pub fn contributions(conn: &mut PgConnection, who: &Principal, bando_id: Uuid) -> Result<Contributions, OfferteError> {
    let t = tender(conn, bando_id)?;
    who.require_official()?;
    let c = live(conn, bando_id, false)?.ok_or(OfferteError::NotFound {
        what: "Cerimonia del sigillo",
    })?;
    if c.index_of(who).is_err() {
        who.require_any_in(&[Role::Rup, Role::Auditor], t.ente_id)?;
    }
    let custodians = roster(conn, &c)?;
    let rows: Vec<(Uuid, String, Vec<Vec<u8>>, serde_json::Value)> = seal_contributions::table
        .filter(seal_contributions::ceremony_id.eq(c.id))
        .order((seal_contributions::submitted_at.asc(), seal_contributions::kind.asc()))
        .select((
            seal_contributions::dealer_user_id,
            seal_contributions::kind,
            seal_contributions::commitments,
            seal_contributions::shares,
        ))
        .load(conn)?;
    let mut contributions = Vec::with_capacity(rows.len());
    for (dealer, kind, commitments, shares) in rows {
        contributions.push(DealerContribution {
            dealer_user_id: dealer,
            dealer_index: c
                .custodians
                .iter()
                .position(|u| *u == dealer)
                .map_or(0, |p| p as u32 + 1),
            kind,
            commitments: commitments.iter().map(hex::encode).collect(),
            shares: serde_json::from_value(shares).map_err(|e| OfferteError::Internal(e.to_string()))?,
        });
    }
    Ok(Contributions {
        bando_id,
        ceremony_id: c.id,
        k: c.k as usize,
        n: c.n(),
        custodians,
        contributions,
    })
}

/// The recipient envelopes of `kind` are sealed to; 409 `seal_ceremony_incomplete` before
/// every custodian acknowledged.
pub fn recipient_for(conn: &mut PgConnection, bando_id: Uuid, kind: &str) -> Result<String, OfferteError> {
    seal_kind_keys::table
        .find((bando_id, kind))
        .select(seal_kind_keys::recipient)
        .first(conn)
        .optional()?
        .ok_or_else(incomplete)
}

/// The advisory lock that orders a tender's submissions against its closing (issue 15): held
/// shared by each submission's commit, exclusively by [`crate::sequencer::close_tender`]. It
/// was a `FOR SHARE` row lock on the tender's key; under a deadline rush every sharer rewrote
/// that row's lock word (a new MultiXact per locker), and the commits queued on one tuple.
/// Advisory locks live in the lock manager, shared holders do not touch each other.
fn submission_lock(bando_id: Uuid) -> String {
    format!("centrale-seal-submission:{bando_id}")
}

/// Takes the tender's submission lock shared for the rest of the transaction (submissions do
/// not wait for each other, only for a closing), then, in a statement of its own so that its
/// snapshot is taken after the lock was granted, whether the ceremony is complete (409
/// `seal_ceremony_incomplete` otherwise) and whether the tender is closed in the log.
pub(crate) fn lock_for_submission(conn: &mut PgConnection, bando_id: Uuid) -> Result<bool, OfferteError> {
    crate::advisory::shared(conn, &submission_lock(bando_id))?;
    let (keyed, closed): (bool, bool) = diesel::select((
        diesel::dsl::exists(seal_tender_keys::table.find(bando_id)),
        diesel::dsl::exists(crate::schema::seal_closures::table.find(bando_id)),
    ))
    .get_result(conn)?;
    if !keyed {
        return Err(incomplete());
    }
    Ok(closed)
}

/// Takes the tender's submission lock exclusively: returns once every submission that holds it
/// has committed or rolled back; the ones that come after wait, then see the closing.
pub(crate) fn lock_for_closing(conn: &mut PgConnection, bando_id: Uuid) -> Result<(), OfferteError> {
    crate::advisory::exclusive(conn, &submission_lock(bando_id))?;
    Ok(())
}

fn completed(conn: &mut PgConnection, bando_id: Uuid) -> Result<Ceremony, OfferteError> {
    live(conn, bando_id, false)?
        .filter(|c| c.completed_at.is_some())
        .ok_or(OfferteError::NotFound {
            what: "Chiave del bando",
        })
}

/// A custodian submits his own share of `kind` at its opening, once the opening of that kind
/// is allowed (`opening::ensure_may_open`). The share must match his verification share
/// (422 `custody.share_invalid`); a custodian submits for himself only.
pub fn submit_opening_share(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando_id: Uuid,
    kind: &str,
    input: &OpeningShareUpload,
    technical: &dyn crate::opening::TechnicalPhase,
) -> Result<OpeningShares, OfferteError> {
    let envelope_kind = crate::submit::parse_kind(kind)?;
    let kind = envelope_kind.as_str();
    let t = tender(conn, bando_id)?;
    require_tender_custodian(&t, who)?;
    let c = completed(conn, bando_id)?;
    let j = c.index_of(who)?;
    crate::opening::ensure_may_open(conn, t.id, kind, ctx.at, technical)?;
    let share = Zeroizing::new(dkg::parse_scalar(&input.share)?);
    let sj: Vec<u8> = seal_acks::table
        .find((c.id, who.user_id, kind))
        .select(seal_acks::verification_share)
        .first(conn)?;
    let sj = points_of(&[sj])?.remove(0);
    if *share * curve25519_dalek::constants::ED25519_BASEPOINT_POINT != sj {
        return Err(SealError::ShareInvalid.into());
    }
    conn.transaction(|conn| {
        // A double click sends the same share twice at once: the primary key decides, and the
        // second gets the same 409 as a later resubmission.
        let inserted = diesel::insert_into(seal_opening_shares::table)
            .values((
                seal_opening_shares::bando_id.eq(bando_id),
                seal_opening_shares::kind.eq(kind),
                seal_opening_shares::custodian_user_id.eq(who.user_id),
                seal_opening_shares::position.eq(j as i32),
                seal_opening_shares::share.eq(share.as_bytes().to_vec()),
                seal_opening_shares::submitted_at.eq(ctx.at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 0 {
            return Err(OfferteError::conflict(
                "share_already_submitted",
                "La quota di questo custode per questa busta è già stata presentata",
            ));
        }
        record(
            conn,
            ctx,
            &t,
            "bando.quota_apertura",
            serde_json::json!({ "busta": kind, "custode": j }),
        )
    })?;
    opening_shares(conn, bando_id, kind, c.k as usize)
}

fn opening_shares(
    conn: &mut PgConnection,
    bando_id: Uuid,
    kind: &str,
    k: usize,
) -> Result<OpeningShares, OfferteError> {
    let submitted_by = seal_opening_shares::table
        .filter(seal_opening_shares::bando_id.eq(bando_id))
        .filter(seal_opening_shares::kind.eq(kind))
        .order(seal_opening_shares::submitted_at.asc())
        .select(seal_opening_shares::custodian_user_id)
        .load(conn)?;
    Ok(OpeningShares {
        bando_id,
        kind: kind.into(),
        k,
        submitted_by,
    })
}

/// The key of `kind`, rebuilt in memory from k verified custodian shares (409
/// `opening_shares_missing` with fewer). The caller decrypts and drops it.
pub(crate) fn opening_key(
    conn: &mut PgConnection,
    bando_id: Uuid,
    kind: &str,
) -> Result<(ThresholdIdentity, usize), OfferteError> {
    let c = completed(conn, bando_id)?;
    let public: Vec<u8> = seal_kind_keys::table
        .find((bando_id, kind))
        .select(seal_kind_keys::public_key)
        .first(conn)?;
    let public = points_of(&[public])?.remove(0);
    let rows: Vec<(i32, Vec<u8>)> = seal_opening_shares::table
        .filter(seal_opening_shares::bando_id.eq(bando_id))
        .filter(seal_opening_shares::kind.eq(kind))
        .order(seal_opening_shares::submitted_at.asc())
        .select((seal_opening_shares::position, seal_opening_shares::share))
        .load(conn)?;
    let k = c.k as usize;
    if rows.len() < k {
        return Err(OfferteError::conflict(
            "opening_shares_missing",
            format!(
                "Per aprire la busta {kind} servono le quote di {k} custodi: presentate {}",
                rows.len()
            ),
        ));
    }
    let mut shares = Vec::with_capacity(k);
    for (j, bytes) in rows.into_iter().take(k) {
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| OfferteError::Internal("quota".into()))?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(arr))
            .ok_or_else(|| OfferteError::Internal("quota non canonica".into()))?;
        shares.push((j as u32, s));
    }
    let x = dkg::combine(&shares, k);
    shares.iter_mut().for_each(|(_, s)| s.zeroize());
    Ok((ThresholdIdentity::new(x?, &public)?, k))
}

/// Who has submitted a share of `kind` so far (the progress of an opening, never a share's
/// value): the custodians' page shows each custodian whether his share is in. 404 before
/// the ceremony is complete.
pub fn submitted_opening_shares(
    conn: &mut PgConnection,
    bando_id: Uuid,
    kind: &str,
) -> Result<OpeningShares, OfferteError> {
    let kind = crate::submit::parse_kind(kind)?;
    let c = completed(conn, bando_id)?;
    opening_shares(conn, bando_id, kind.as_str(), c.k as usize)
}
