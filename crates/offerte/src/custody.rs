//! Key custody: the tender's age recipient and the k-of-n encrypted shares, uploaded by the
//! RUP after a ceremony run on a custodian's machine (`centrale keys ceremony`). The tender's
//! private key is never sent, never stored.

use accounts::{Principal, Role, UserKind};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use seal::receipt::canonical_time;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::log::{self, kind};
use crate::schema::{bandi, seal_key_shares, seal_tender_keys, users};
use crate::OfferteError;

/// One custodian's share, encrypted to their own age public key.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareUpload {
    /// The custodian (an official's user id).
    pub custodian_user_id: Uuid,
    /// The custodian's age public key (`age1...`) the share is encrypted to.
    pub custodian_key: String,
    /// Base64 of the binary age ciphertext of the share.
    pub ciphertext: String,
}

/// What `centrale keys ceremony` prints and the RUP uploads.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenderKeyUpload {
    /// The tender recipient (`age1...`): bidders encrypt to it.
    pub recipient: String,
    pub k: usize,
    pub n: usize,
    pub shares: Vec<ShareUpload>,
}

/// The tender's public seal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenderKey {
    pub bando_id: Uuid,
    pub recipient: String,
    pub k: usize,
    pub n: usize,
    pub submission_deadline: Option<DateTime<Utc>>,
    pub custodians: Vec<Custodian>,
    /// Hex hash of the `TenderPublished` leaf that fixed this key in the log.
    pub leaf_hash: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Custodian {
    pub user_id: Uuid,
    pub age_key: String,
}

/// A custodian's own encrypted share (only they, the RUP and admins may fetch it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustodianShare {
    pub custodian_user_id: Uuid,
    pub custodian_key: String,
    /// Base64 age ciphertext; decrypt with `centrale keys decrypt-share`.
    pub ciphertext: String,
}

#[derive(Queryable)]
pub(crate) struct Tender {
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

/// Uploads the tender key. RUP of the tender's ente or admin; once per tender; before the
/// deadline. Logs a `TenderPublished` leaf with recipient, k, n and deadline.
pub fn upload(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando_id: Uuid,
    input: &TenderKeyUpload,
) -> Result<TenderKey, OfferteError> {
    let t = tender(conn, bando_id)?;
    who.require_any_in(&[Role::Rup], t.ente_id)?;
    if !matches!(t.state.as_str(), "draft" | "published") {
        return Err(OfferteError::conflict(
            "tender_not_open",
            "La chiave di cifratura si carica solo per un bando in bozza o pubblicato",
        ));
    }
    let Some(deadline) = t.submission_deadline else {
        return Err(OfferteError::invalid(
            "deadline_missing",
            "submission_deadline",
            "Il bando non ha un termine di presentazione delle offerte",
        ));
    };
    if ctx.at >= deadline {
        return Err(OfferteError::DeadlinePassed {
            deadline: canonical_time(&deadline),
        });
    }
    seal::envelope::parse_recipient(&input.recipient)?;
    if input.k < 2 || input.k > input.n || input.n > 255 {
        return Err(seal::SealError::InvalidThreshold { k: input.k, n: input.n }.into());
    }
    if input.shares.len() != input.n {
        return Err(seal::SealError::CustodianCountMismatch {
            expected: input.n,
            got: input.shares.len(),
        }
        .into());
    }
    let mut ids: Vec<Uuid> = input.shares.iter().map(|s| s.custodian_user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != input.n {
        return Err(OfferteError::invalid(
            "custodian_duplicate",
            "shares",
            "Ogni custode deve avere una sola quota",
        ));
    }
    if !t.custodians.is_empty() {
        let mut named = t.custodians.clone();
        named.sort_unstable();
        named.dedup();
        if named != ids {
            return Err(OfferteError::invalid(
                "custodians_mismatch",
                "shares",
                "Le quote devono essere una per ciascuno dei custodi indicati nel bando",
            ));
        }
        if t.custodian_threshold >= 2 && t.custodian_threshold as usize != input.k {
            return Err(OfferteError::invalid(
                "threshold_mismatch",
                "k",
                format!("La soglia deve essere quella del bando ({})", t.custodian_threshold),
            ));
        }
    }
    let officials: i64 = users::table
        .filter(users::id.eq_any(&ids))
        .filter(users::kind.eq(UserKind::Official.as_str()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)?;
    if officials as usize != ids.len() {
        return Err(OfferteError::invalid(
            "custodian_not_official",
            "shares",
            "I custodi devono essere funzionari attivi",
        ));
    }
    let mut ciphertexts = Vec::with_capacity(input.n);
    for (i, s) in input.shares.iter().enumerate() {
        seal::envelope::parse_recipient(&s.custodian_key)?;
        let ct = B64.decode(s.ciphertext.trim()).map_err(|_| {
            OfferteError::invalid(
                "share_not_base64",
                &format!("shares[{i}].ciphertext"),
                "Quota non in base64",
            )
        })?;
        if !ct.starts_with(b"age-encryption.org/v1\n") {
            return Err(OfferteError::invalid(
                "share_not_age",
                &format!("shares[{i}].ciphertext"),
                "La quota non è un file age",
            ));
        }
        ciphertexts.push(ct);
    }
    conn.transaction(|conn| {
        let exists: i64 = seal_tender_keys::table.find(bando_id).count().get_result(conn)?;
        if exists > 0 {
            return Err(OfferteError::conflict(
                "tender_key_exists",
                "La chiave del bando è già stata caricata e non si può sostituire",
            ));
        }
        let data =
            format!(
            "centrale-tender-published/v1\ntender {bando_id}\nrecipient {}\nk {}\nn {}\ndeadline {}\ncustodians {}\n",
            input.recipient.trim(),
            input.k,
            input.n,
            canonical_time(&deadline),
            input.shares.iter().map(|s| s.custodian_key.trim()).collect::<Vec<_>>().join(",")
        );
        let (leaf_id, leaf_hash) =
            log::append_pending(conn, kind::TENDER_PUBLISHED, Some(bando_id), data.as_bytes(), ctx.at)?;
        diesel::insert_into(seal_tender_keys::table)
            .values((
                seal_tender_keys::bando_id.eq(bando_id),
                seal_tender_keys::recipient.eq(input.recipient.trim()),
                seal_tender_keys::k.eq(input.k as i32),
                seal_tender_keys::n.eq(input.n as i32),
                seal_tender_keys::uploaded_by.eq(who.user_id),
                seal_tender_keys::uploaded_at.eq(ctx.at),
                seal_tender_keys::leaf_id.eq(leaf_id),
            ))
            .execute(conn)?;
        for (i, (s, ct)) in input.shares.iter().zip(&ciphertexts).enumerate() {
            diesel::insert_into(seal_key_shares::table)
                .values((
                    seal_key_shares::bando_id.eq(bando_id),
                    seal_key_shares::position.eq(i as i32),
                    seal_key_shares::custodian_user_id.eq(s.custodian_user_id),
                    seal_key_shares::custodian_key.eq(s.custodian_key.trim()),
                    seal_key_shares::ciphertext.eq(ct),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "bando.chiave_caricata",
                object_type: "bando",
                object_id: bando_id.to_string(),
                ente_id: Some(t.ente_id),
                details: serde_json::json!({ "recipient": input.recipient.trim(), "k": input.k, "n": input.n,
                                             "leaf_hash": hex::encode(leaf_hash) }),
            },
        )?;
        Ok(())
    })?;
    get(conn, bando_id)
}

/// The tender's public seal data (anyone signed in: bidders need the recipient).
pub fn get(conn: &mut PgConnection, bando_id: Uuid) -> Result<TenderKey, OfferteError> {
    let t = tender(conn, bando_id)?;
    let (recipient, k, n, uploaded_at, leaf_id): (String, i32, i32, DateTime<Utc>, i64) = seal_tender_keys::table
        .find(bando_id)
        .select((
            seal_tender_keys::recipient,
            seal_tender_keys::k,
            seal_tender_keys::n,
            seal_tender_keys::uploaded_at,
            seal_tender_keys::leaf_id,
        ))
        .first(conn)
        .optional()?
        .ok_or(OfferteError::NotFound {
            what: "Chiave del bando",
        })?;
    let custodians = seal_key_shares::table
        .filter(seal_key_shares::bando_id.eq(bando_id))
        .order(seal_key_shares::position.asc())
        .select((seal_key_shares::custodian_user_id, seal_key_shares::custodian_key))
        .load::<(Uuid, String)>(conn)?
        .into_iter()
        .map(|(user_id, age_key)| Custodian { user_id, age_key })
        .collect();
    let leaf_hash: Vec<u8> = crate::schema::log_leaves::table
        .find(leaf_id)
        .select(crate::schema::log_leaves::leaf_hash)
        .first(conn)?;
    Ok(TenderKey {
        bando_id,
        recipient,
        k: k as usize,
        n: n as usize,
        submission_deadline: t.submission_deadline,
        custodians,
        leaf_hash: hex::encode(leaf_hash),
        uploaded_at,
    })
}

/// The caller's own encrypted share (custodians), or every share (RUP of the ente, admin).
pub fn shares(conn: &mut PgConnection, who: &Principal, bando_id: Uuid) -> Result<Vec<CustodianShare>, OfferteError> {
    let t = tender(conn, bando_id)?;
    who.require_official()?;
    let all = who.is_admin() || who.has_role_in(Role::Rup, t.ente_id);
    let rows: Vec<(Uuid, String, Vec<u8>)> = seal_key_shares::table
        .filter(seal_key_shares::bando_id.eq(bando_id))
        .order(seal_key_shares::position.asc())
        .select((
            seal_key_shares::custodian_user_id,
            seal_key_shares::custodian_key,
            seal_key_shares::ciphertext,
        ))
        .load(conn)?;
    let mine: Vec<CustodianShare> = rows
        .into_iter()
        .filter(|(u, _, _)| all || *u == who.user_id)
        .map(|(custodian_user_id, custodian_key, ct)| CustodianShare {
            custodian_user_id,
            custodian_key,
            ciphertext: B64.encode(ct),
        })
        .collect();
    if mine.is_empty() {
        return Err(AccountsError::Forbidden.into());
    }
    Ok(mine)
}

use accounts::AccountsError;
