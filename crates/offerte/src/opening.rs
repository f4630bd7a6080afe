//! Opening: after the deadline, the shares k custodians submitted for one kind
//! (`custody::submit_opening_share`) rebuild that kind's key in memory; the envelopes of that
//! kind (A, then B, then C) are decrypted into the blob store's `opened/` area, the key is
//! dropped, and the opening is logged. Any refusal changes nothing.

use std::fs::{self, File};
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use accounts::{Principal, Role};
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use domain::clock::Clock;
use seal::envelope::{open_stream, HashingWriter};
use seal::receipt::canonical_time;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::archive::{self, ArchiveError, ArchiveFile};
use crate::custody::tender;
use crate::log::{self, kind};
use crate::schema::{agg_commission, bandi, bids, envelopes, opened_envelopes, openings, seal_tender_keys};
use crate::submit::micros;
use crate::{sequencer, OfferteError, SealService};

/// The opening request carries no key material: the custodians have submitted their own
/// shares (`POST /bandi/{id}/aperture/{kind}/quote`). Send `{}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningRequest {}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenedEnvelope {
    pub envelope_id: Uuid,
    pub bidder_id: Uuid,
    pub kind: String,
    /// Hex SHA-256 of the ciphertext (as on the receipt).
    pub sha256: String,
    pub plaintext_sha256: Option<String>,
    pub plaintext_size: Option<u64>,
    /// Why the envelope could not be decrypted (e.g. sealed to another key).
    pub error: Option<String>,
    /// Envelope C: the economic offer read from its JSON (`offerta-economica.json` of an
    /// envelope of several files), or `{"error": ...}`.
    pub economic_offer: Option<serde_json::Value>,
    /// An envelope of several files (`centrale-busta/1`): its files as checked at the
    /// opening; each is downloaded from `/buste/{id}/file/{name}`. None for a single body.
    pub files: Option<Vec<ArchiveFile>>,
    /// Why an envelope that is an archive was refused (the files cannot be listed).
    pub archive_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Opening {
    pub bando_id: Uuid,
    pub kind: String,
    pub opened_at: DateTime<Utc>,
    pub opened_by: Uuid,
    pub shares_used: u32,
    pub leaf_hash: String,
    pub envelopes: Vec<OpenedEnvelope>,
}

const KINDS: [&str; 3] = ["A", "B", "C"];
/// Envelope C holds a small JSON document; anything bigger is not an economic offer.
const MAX_OFFER_JSON: u64 = 1 << 20;

/// Reads `{discount | price, labour_costs, safety_costs}` (numbers or decimal strings).
pub fn economic_offer(json: &[u8]) -> serde_json::Value {
    fn decimal(v: Option<&serde_json::Value>) -> Option<String> {
        let s = match v? {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.trim().replace(',', "."),
            _ => return None,
        };
        let ok = !s.is_empty()
            && s.chars().all(|c| c.is_ascii_digit() || c == '.')
            && s.matches('.').count() <= 1
            && s.parse::<f64>().is_ok();
        ok.then_some(s)
    }
    let err = |m: &str| serde_json::json!({ "error": m });
    let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(json) else {
        return err("la busta C non contiene un oggetto JSON");
    };
    let mut out = serde_json::Map::new();
    match (m.get("discount"), m.get("price")) {
        (Some(d), None) => match decimal(Some(d)) {
            Some(d) => out.insert("discount".into(), d.into()),
            None => return err("ribasso non valido"),
        },
        (None, Some(p)) => match decimal(Some(p)) {
            Some(p) => out.insert("price".into(), p.into()),
            None => return err("prezzo non valido"),
        },
        _ => return err("serve esattamente uno tra «discount» e «price»"),
    };
    for field in ["labour_costs", "safety_costs"] {
        match decimal(m.get(field)) {
            Some(v) => out.insert(field.into(), v.into()),
            None => return err(&format!("«{field}» mancante o non valido")),
        };
    }
    serde_json::Value::Object(out)
}

struct Decrypted {
    envelope_id: Uuid,
    sha256: String,
    rel: Option<String>,
    plaintext: Option<(String, u64)>,
    error: Option<String>,
    offer: Option<serde_json::Value>,
    archive: Option<serde_json::Value>,
}

/// What an opened plaintext holds: for an envelope of several files, its checked file list
/// (`{"files": [...]}`) or why it is refused (`{"error", "code"}`); for envelope C, the
/// economic offer, read from the archive's `offerta-economica.json` or, for a single-body
/// envelope, from the whole plaintext. An archive C without a readable offer gets
/// `{"error": ...}`, which the economic phase turns into a proposed exclusion.
fn inspect(
    path: &Path,
    bando_id: Uuid,
    lotto: Option<Uuid>,
    letter: &str,
) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
    let read_offer = |r: &mut dyn Read| {
        let mut buf = Vec::new();
        match r.take(MAX_OFFER_JSON).read_to_end(&mut buf) {
            Ok(_) => economic_offer(&buf),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        }
    };
    let mut first = Vec::with_capacity(512);
    let head = File::open(path).and_then(|f| f.take(512).read_to_end(&mut first));
    if head.is_err() || !archive::looks_like_archive(&first) {
        let offer = (letter == "C").then(|| match File::open(path) {
            Ok(mut f) => read_offer(&mut f),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        });
        return (None, offer);
    }
    let checked = File::open(path)
        .map_err(ArchiveError::from)
        .and_then(|f| archive::validate(BufReader::new(f)))
        .and_then(|m| {
            // The manifest binds the files to this tender, lot and envelope kind.
            if m.bando != bando_id || m.lotto != lotto || m.busta != letter {
                return Err(ArchiveError::ManifestMismatch(format!(
                    "il manifest è della busta {} del bando {}{}, non di questa",
                    m.busta,
                    m.bando,
                    m.lotto.map(|l| format!(" (lotto {l})")).unwrap_or_default()
                )));
            }
            Ok(m)
        });
    match checked {
        Ok(m) => {
            let offer = (letter == "C").then(|| {
                if m.file(archive::OFFER_NAME).is_none() {
                    return serde_json::json!({ "error": format!("la busta C non contiene «{}»", archive::OFFER_NAME) });
                }
                match File::open(path)
                    .map_err(ArchiveError::from)
                    .and_then(|f| archive::extract(BufReader::new(f), archive::OFFER_NAME))
                {
                    Ok((_, mut r)) => read_offer(&mut r),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                }
            });
            (Some(serde_json::json!({ "files": m.files })), offer)
        }
        Err(e) => {
            let offer = (letter == "C").then(|| serde_json::json!({ "error": e.to_string() }));
            (
                Some(serde_json::json!({ "error": e.to_string(), "code": e.code() })),
                offer,
            )
        }
    }
}

/// Whether the technical phase of every scope (each lot, or the tender) of an OEPV tender is
/// closed. The award workflow decides it and sits above this crate
/// (`aggiudicazione::procedure::order::TechnicalGate` implements this); the opening route
/// passes its implementation to [`open`] and to [`ensure_may_open`].
pub trait TechnicalPhase {
    /// The scopes whose technical phase is still open, named for the message ("lotto 2",
    /// "il bando"); empty when envelope C may be opened.
    fn still_open(&self, conn: &mut PgConnection, bando_id: Uuid) -> Result<Vec<String>, OfferteError>;
}

/// The envelope kinds of the tender, in opening order.
fn kinds_of(envelopes: &[String]) -> Vec<&'static str> {
    let required: Vec<&'static str> = KINDS
        .iter()
        .copied()
        .filter(|k| envelopes.iter().any(|e| e == k))
        .collect();
    if required.is_empty() {
        KINDS.to_vec()
    } else {
        required
    }
}

/// Every precondition of opening envelope `kind` of tender `bando_id` at `now`, in one place
/// (the opening itself and whatever accepts a custodian's share for it call this):
/// the tender is in its opening session (not cancelled, deserted, decided or in draft:
/// 409 `tender_not_in_opening`; after the submission deadline: `opening_before_deadline`;
/// at or after `opening_at`, on the clock whatever the scheduler has written yet:
/// `opening_before_session`), envelopes open A → B → C (`opening_out_of_order`), once
/// (`already_opened`), and on OEPV C only once every scope's technical phase is closed
/// (`technical_phase_open`). Changes nothing.
pub fn ensure_may_open(
    conn: &mut PgConnection,
    bando_id: Uuid,
    kind: &str,
    now: DateTime<Utc>,
    technical: &dyn TechnicalPhase,
) -> Result<(), OfferteError> {
    use bando::State;
    let letter = crate::submit::parse_kind(kind)?.as_str();
    let row = bando::store::find(conn, bando_id).map_err(|e| match e {
        bando::BandoError::NotFound { .. } => OfferteError::NotFound { what: "Bando" },
        other => OfferteError::other_area(other),
    })?;
    let state = row.state();
    // Published or submissions_closed: the scheduler may not have ticked yet; the clock decides.
    if !matches!(
        state,
        State::Published | State::SubmissionsClosed | State::Opening | State::Evaluation
    ) {
        return Err(OfferteError::conflict(
            "tender_not_in_opening",
            format!("Le buste si aprono solo nella seduta di apertura; lo stato del bando è «{state}»"),
        ));
    }
    let deadline = row
        .submission_deadline
        .ok_or_else(|| OfferteError::conflict("deadline_missing", "Il bando non ha un termine di presentazione"))?;
    if now < deadline {
        return Err(OfferteError::conflict(
            "opening_before_deadline",
            format!(
                "Le buste si aprono solo dopo il termine ({})",
                domain::deadlines::rome_rfc3339(deadline)
            ),
        ));
    }
    let session = row.opening_at.unwrap_or(deadline).max(deadline);
    if now < session {
        return Err(OfferteError::conflict(
            "opening_before_session",
            format!(
                "La seduta di apertura delle offerte è fissata per il {} (ora di Roma): prima non si apre nessuna busta",
                domain::deadlines::rome_rfc3339(session)
            ),
        ));
    }
    let required = kinds_of(&tender(conn, bando_id)?.envelopes);
    let Some(pos) = required.iter().position(|k| *k == letter) else {
        return Err(OfferteError::invalid(
            "envelope_kind_not_in_tender",
            "kind",
            "Il bando non prevede questa busta",
        ));
    };
    let opened: Vec<String> = openings::table
        .filter(openings::bando_id.eq(bando_id))
        .select(openings::kind)
        .load(conn)?;
    if opened.iter().any(|k| k == letter) {
        return Err(OfferteError::conflict(
            "already_opened",
            format!("La busta {letter} è già stata aperta"),
        ));
    }
    if let Some(missing) = required[..pos].iter().find(|k| !opened.iter().any(|o| o == *k)) {
        return Err(OfferteError::conflict(
            "opening_out_of_order",
            format!("Prima della busta {letter} va aperta la busta {missing}"),
        ));
    }
    if letter == "C" && row.award_criterion() == bando::AwardCriterion::Oepv {
        let open = technical.still_open(conn, bando_id)?;
        if !open.is_empty() {
            return Err(OfferteError::conflict(
                "technical_phase_open",
                format!(
                    "Con l'offerta economicamente più vantaggiosa la busta C si apre solo dopo la chiusura della valutazione tecnica da parte della commissione; ancora aperta per: {}",
                    open.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Opens envelope `kind` of every active bid. RUP or commission of the ente, or admin.
///
/// Openings of one tender are serialized on its key row (`FOR UPDATE`), and the
/// preconditions are checked again under that lock; each attempt decrypts into a directory
/// of its own, so a refused or failed attempt removes only its own files, never those a
/// committed opening points to.
#[allow(clippy::too_many_arguments)]
pub fn open(
    conn: &mut PgConnection,
    svc: &SealService,
    clock: &dyn Clock,
    request_id: &str,
    who: &Principal,
    bando_id: Uuid,
    kind_str: &str,
    _req: &OpeningRequest,
    technical: &dyn TechnicalPhase,
) -> Result<Opening, OfferteError> {
    let envelope_kind = crate::submit::parse_kind(kind_str)?;
    let t = tender(conn, bando_id)?;
    who.require_any_in(&[Role::Rup, Role::Commission], t.ente_id)?;
    if kind_str == "B" && !who.has_role_in(Role::Rup, t.ente_id) && !who.is_admin() {
        // The RUP (seggio di gara) opens B in the public session; of the commission role,
        // only the appointed, declared members of this tender's commission (art. 93).
        require_declared_member(conn, who, bando_id, None)?;
    }
    let now = micros(clock.now());
    ensure_may_open(conn, bando_id, kind_str, now, technical)?;
    // Everything received before the deadline is in the log before anything is opened.
    sequencer::close_tender(conn, svc, bando_id, now)?;
    let letter = envelope_kind.as_str();

    let (identity, shares_used) = crate::custody::opening_key(conn, bando_id, letter)?;

    let attempt = Uuid::new_v4();
    let out_rel = format!("opened/{bando_id}/{letter}-{attempt}");
    let out_dir = svc.dir().join(&out_rel);
    let mut written: Vec<PathBuf> = Vec::new();
    let ctx = AuditCtx {
        actor: Some(who.user_id),
        request_id: request_id.to_string(),
        client_request_id: None,
        at: now,
    };
    let committed = conn.transaction(|conn| {
        // One opening of this tender at a time: a second click waits here, then finds the
        // envelope opened (409 `already_opened`) instead of racing the first.
        seal_tender_keys::table
            .find(bando_id)
            .select(seal_tender_keys::bando_id)
            .for_update()
            .first::<Uuid>(conn)?;
        ensure_may_open(conn, bando_id, kind_str, now, technical)?;
        let to_open: Vec<(Uuid, String, String, Option<Uuid>)> = envelopes::table
            .inner_join(bids::table)
            .filter(envelopes::bando_id.eq(bando_id))
            .filter(envelopes::kind.eq(letter))
            .filter(envelopes::superseded_at.is_null())
            .filter(bids::withdrawn_at.is_null())
            .order((envelopes::received_at.asc(), envelopes::id.asc()))
            .select((envelopes::id, envelopes::sha256, envelopes::blob_path, bids::lotto_id))
            .load(conn)?;
        fs::create_dir_all(&out_dir)?;
        let mut done: Vec<Decrypted> = Vec::with_capacity(to_open.len());
        for (envelope_id, sha256, blob, lotto) in to_open {
            let rel = format!("{out_rel}/{envelope_id}");
            let target = svc.dir().join(&rel);
            let tmp = svc.dir().join("tmp").join(format!("open-{attempt}-{envelope_id}"));
            let decrypted = (|| -> Result<(String, u64), OfferteError> {
                let input = File::open(svc.store().local(&blob, None)?)?;
                let mut w = HashingWriter::new(File::create(&tmp)?);
                open_stream(&identity, input, &mut w)?;
                let (file, info) = w.finish();
                file.sync_all()?;
                fs::rename(&tmp, &target)?;
                // In the shared store before the opening commits: any instance serves it.
                svc.store().publish(&rel)?;
                Ok((hex::encode(info.sha256), info.size))
            })();
            let mut d = Decrypted {
                envelope_id,
                sha256,
                rel: None,
                plaintext: None,
                error: None,
                offer: None,
                archive: None,
            };
            match decrypted {
                Ok(p) => {
                    written.push(target.clone());
                    d.rel = Some(rel);
                    d.plaintext = Some(p);
                    (d.archive, d.offer) = inspect(&target, bando_id, lotto, letter);
                }
                Err(OfferteError::Seal(e)) => {
                    let _ = fs::remove_file(&tmp);
                    d.error = Some(e.to_string());
                }
                Err(other) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(other);
                }
            }
            done.push(d);
        }
        if let Ok(dir) = File::open(&out_dir) {
            let _ = dir.sync_all();
        }
        let mut data = format!(
            "centrale-envelope-opened/v1\ntender {bando_id}\nenvelope {letter}\nopened-at {}\nopened-by {}\nshares {}\n",
            canonical_time(&now),
            who.user_id,
            shares_used
        );
        for d in &done {
            match &d.plaintext {
                Some((sha, _)) => data.push_str(&format!("opened {} {sha}\n", d.sha256)),
                None => data.push_str(&format!("undecryptable {}\n", d.sha256)),
            }
        }
        let (leaf_id, leaf_hash) = log::append_pending(conn, kind::ENVELOPE_OPENED, Some(bando_id), data.as_bytes(), now)?;
        diesel::insert_into(openings::table)
            .values((
                openings::bando_id.eq(bando_id),
                openings::kind.eq(letter),
                openings::opened_at.eq(now),
                openings::opened_by.eq(who.user_id),
                openings::shares_used.eq(shares_used as i32),
                openings::envelopes.eq(done.len() as i32),
                openings::leaf_id.eq(leaf_id),
            ))
            .execute(conn)?;
        for d in &done {
            diesel::insert_into(opened_envelopes::table)
                .values((
                    opened_envelopes::envelope_id.eq(d.envelope_id),
                    opened_envelopes::bando_id.eq(bando_id),
                    opened_envelopes::kind.eq(letter),
                    opened_envelopes::opened_at.eq(now),
                    opened_envelopes::plaintext_path.eq(&d.rel),
                    opened_envelopes::plaintext_sha256.eq(d.plaintext.as_ref().map(|p| p.0.clone())),
                    opened_envelopes::plaintext_size.eq(d.plaintext.as_ref().map(|p| p.1 as i64)),
                    opened_envelopes::error.eq(&d.error),
                    opened_envelopes::economic_offer.eq(&d.offer),
                    opened_envelopes::archive.eq(&d.archive),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            &ctx,
            AuditEvent {
                action: "bando.buste_aperte",
                object_type: "bando",
                object_id: bando_id.to_string(),
                ente_id: Some(t.ente_id),
                details: serde_json::json!({ "busta": letter, "buste": done.len(), "leaf_hash": hex::encode(leaf_hash) }),
            },
        )?;
        Ok::<_, OfferteError>(leaf_hash)
    });
    drop(identity);
    if let Err(e) = committed {
        // Only this attempt's own files: nothing a committed opening references.
        for p in &written {
            let _ = fs::remove_file(p);
        }
        let _ = fs::remove_dir(&out_dir);
        return Err(e);
    }
    list(conn, who, bando_id)?
        .into_iter()
        .find(|o| o.kind == letter)
        .ok_or(OfferteError::NotFound { what: "Apertura" })
}

/// Openings so far, with what each envelope held (RUP, commission, auditor, admin).
pub fn list(conn: &mut PgConnection, who: &Principal, bando_id: Uuid) -> Result<Vec<Opening>, OfferteError> {
    let t = tender(conn, bando_id)?;
    who.require_any_in(&[Role::Rup, Role::Commission, Role::Auditor], t.ente_id)?;
    let rows: Vec<(String, DateTime<Utc>, Uuid, i32, i64)> = openings::table
        .filter(openings::bando_id.eq(bando_id))
        .order(openings::kind.asc())
        .select((
            openings::kind,
            openings::opened_at,
            openings::opened_by,
            openings::shares_used,
            openings::leaf_id,
        ))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (kind, opened_at, opened_by, shares_used, leaf_id) in rows {
        let leaf_hash: Vec<u8> = crate::schema::log_leaves::table
            .find(leaf_id)
            .select(crate::schema::log_leaves::leaf_hash)
            .first(conn)?;
        type Row = (
            Uuid,
            Uuid,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<serde_json::Value>,
            Option<serde_json::Value>,
        );
        let envs: Vec<Row> = opened_envelopes::table
            .inner_join(envelopes::table)
            .filter(opened_envelopes::bando_id.eq(bando_id))
            .filter(opened_envelopes::kind.eq(&kind))
            .order((envelopes::received_at.asc(), envelopes::id.asc()))
            .select((
                envelopes::id,
                envelopes::bidder_id,
                envelopes::sha256,
                opened_envelopes::plaintext_sha256,
                opened_envelopes::plaintext_size,
                opened_envelopes::error,
                opened_envelopes::economic_offer,
                opened_envelopes::archive,
            ))
            .load(conn)?;
        out.push(Opening {
            bando_id,
            kind: kind.clone(),
            opened_at,
            opened_by,
            shares_used: shares_used as u32,
            leaf_hash: hex::encode(leaf_hash),
            envelopes: envs
                .into_iter()
                .map(|e| OpenedEnvelope {
                    envelope_id: e.0,
                    bidder_id: e.1,
                    kind: kind.clone(),
                    sha256: e.2,
                    plaintext_sha256: e.3,
                    plaintext_size: e.4.map(|s| s as u64),
                    error: e.5,
                    economic_offer: e.6,
                    files: e
                        .7
                        .as_ref()
                        .and_then(|a| serde_json::from_value(a.get("files")?.clone()).ok()),
                    archive_error: e.7.as_ref().and_then(|a| Some(a.get("error")?.as_str()?.to_string())),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// The caller is a member of the tender's appointed commission and every member has filed
/// the declaration of no incompatibility (art. 93 c.1, c.5): 403 `not_commission_member`,
/// 409 `declarations_missing`.
fn require_declared_member(
    conn: &mut PgConnection,
    who: &Principal,
    bando_id: Uuid,
    scope: Option<Uuid>,
) -> Result<(), OfferteError> {
    // One commission per scope (the tender, or each of its lots): the caller must sit on the
    // scope's (any of the tender's when `scope` is None), and every member of that commission
    // must have declared.
    let members: Vec<(Uuid, Uuid, Option<DateTime<Utc>>)> = agg_commission::table
        .filter(agg_commission::bando_id.eq(bando_id))
        .select((
            agg_commission::scope_id,
            agg_commission::user_id,
            agg_commission::declared_at,
        ))
        .load(conn)?;
    let mine: Vec<Uuid> = members
        .iter()
        .filter(|(s, u, _)| *u == who.user_id && scope.is_none_or(|x| x == *s))
        .map(|(s, _, _)| *s)
        .collect();
    if mine.is_empty() {
        return Err(OfferteError::Refused {
            code: "not_commission_member",
            message: "art. 93: solo i componenti della commissione giudicatrice nominata per questa gara accedono alla busta B".into(),
        });
    }
    let complete = |scope: &Uuid| {
        members
            .iter()
            .filter(|(s, _, _)| s == scope)
            .all(|(_, _, d)| d.is_some())
    };
    if !mine.iter().any(complete) {
        return Err(OfferteError::conflict(
            "declarations_missing",
            "art. 93 c.5: ogni commissario deve dichiarare l'assenza di incompatibilità prima di accedere alle offerte tecniche",
        ));
    }
    Ok(())
}

/// Who may read an opened envelope B (the technical offer): with OEPV, only the declared
/// members of the appointed commission (not the RUP, not an admin, not another holder of the
/// `commission` role); with the lowest price there is no technical offer to read.
fn require_envelope_b_reader(
    conn: &mut PgConnection,
    who: &Principal,
    bando_id: Uuid,
    scope: Uuid,
) -> Result<(), OfferteError> {
    let criterion: String = bandi::table.find(bando_id).select(bandi::award_criterion).first(conn)?;
    if criterion != "oepv" {
        return Err(OfferteError::Refused {
            code: "no_technical_envelope",
            message: "Con il criterio del minor prezzo la busta B non è valutata: nessuno vi accede".into(),
        });
    }
    require_declared_member(conn, who, bando_id, Some(scope))
}

/// Path of an opened envelope's plaintext, after its opening: A and C to the RUP, the
/// commission and admins of the ente; B only to the declared members of the appointed
/// commission, under OEPV.
pub fn plaintext_path(
    conn: &mut PgConnection,
    svc: &SealService,
    who: &Principal,
    envelope_id: Uuid,
) -> Result<PathBuf, OfferteError> {
    let (bando_id, kind, bidder): (Uuid, String, Uuid) = envelopes::table
        .find(envelope_id)
        .select((envelopes::bando_id, envelopes::kind, envelopes::bidder_id))
        .first(conn)
        .optional()?
        .ok_or(OfferteError::NotFound { what: "Busta" })?;
    let t = tender(conn, bando_id)?;
    // Outside the tender's ente the envelope is not found (a 403 would confirm the id to
    // whoever probes ids); its own bidder, who knows it, is simply refused.
    who.require_any_in(&[Role::Rup, Role::Commission], t.ente_id)
        .map_err(|e| {
            if bidder == who.user_id {
                e.into()
            } else {
                OfferteError::NotFound { what: "Busta" }
            }
        })?;
    if kind == "B" {
        // The envelope's lot (its bid's) is the commission's scope; the tender without lots.
        let lot: Option<Uuid> = envelopes::table
            .inner_join(bids::table.on(bids::id.eq(envelopes::bid_id)))
            .filter(envelopes::id.eq(envelope_id))
            .select(bids::lotto_id)
            .first(conn)?;
        require_envelope_b_reader(conn, who, bando_id, lot.unwrap_or(bando_id))?;
    }
    let path: Option<(Option<String>, Option<String>)> = opened_envelopes::table
        .find(envelope_id)
        .select((opened_envelopes::plaintext_path, opened_envelopes::plaintext_sha256))
        .first(conn)
        .optional()?;
    match path {
        Some((Some(rel), sha256)) => svc.store().local(&rel, sha256.as_deref()),
        Some((None, _)) => Err(OfferteError::conflict(
            "envelope_undecryptable",
            "La busta non si è potuta decifrare",
        )),
        None => Err(OfferteError::conflict(
            "envelope_not_opened",
            "La busta non è ancora stata aperta",
        )),
    }
}

/// The plaintext of an opened envelope, for its download: [`plaintext_path`]'s rules, and the
/// download is audited (`busta.contenuto_scaricato`).
pub fn plaintext_download(
    conn: &mut PgConnection,
    svc: &SealService,
    ctx: &AuditCtx,
    who: &Principal,
    envelope_id: Uuid,
) -> Result<PathBuf, OfferteError> {
    let path = plaintext_path(conn, svc, who, envelope_id)?;
    audit_download(
        conn,
        ctx,
        envelope_id,
        "busta.contenuto_scaricato",
        serde_json::json!({ "envelope_id": envelope_id, "by": who.user_id }),
    )?;
    Ok(path)
}

/// The files of an opened envelope of several files, as checked at its opening; to exactly
/// those who may read its plaintext ([`plaintext_path`]). 409 `envelope_not_archive` for a
/// single-body envelope, `archive_invalid` for an archive refused at the opening.
pub fn archive_files(
    conn: &mut PgConnection,
    svc: &SealService,
    who: &Principal,
    envelope_id: Uuid,
) -> Result<Vec<ArchiveFile>, OfferteError> {
    plaintext_path(conn, svc, who, envelope_id)?;
    stored_files(conn, envelope_id)
}

fn stored_files(conn: &mut PgConnection, envelope_id: Uuid) -> Result<Vec<ArchiveFile>, OfferteError> {
    let stored: Option<serde_json::Value> = opened_envelopes::table
        .find(envelope_id)
        .select(opened_envelopes::archive)
        .first(conn)?;
    let Some(stored) = stored else {
        return Err(ArchiveError::NotArchive.into());
    };
    match stored.get("files") {
        Some(files) => serde_json::from_value(files.clone()).map_err(OfferteError::other_area),
        None => Err(OfferteError::conflict(
            "archive_invalid",
            stored["error"]
                .as_str()
                .unwrap_or("archivio della busta non valido")
                .to_string(),
        )),
    }
}

/// Where one file of an opened envelope of several files lies in its plaintext.
#[derive(Debug)]
pub struct ArchiveDownload {
    pub path: PathBuf,
    /// Offset of the file's first byte in the plaintext.
    pub offset: u64,
    pub file: ArchiveFile,
}

/// File `name` of an opened envelope of several files, for its download: who may read the
/// plaintext ([`plaintext_path`]), a name of the manifest (422 `archive_name_invalid` for one
/// that breaks the rules, such as a path; 404 `archive_file_not_found` otherwise). Audited
/// (`busta.file_scaricato`, with the file's name and SHA-256).
pub fn archive_file(
    conn: &mut PgConnection,
    svc: &SealService,
    ctx: &AuditCtx,
    who: &Principal,
    envelope_id: Uuid,
    name: &str,
) -> Result<ArchiveDownload, OfferteError> {
    let path = plaintext_path(conn, svc, who, envelope_id)?;
    archive::check_name(name)?;
    let files = stored_files(conn, envelope_id)?;
    if !files.iter().any(|f| f.name == name) {
        return Err(ArchiveError::FileNotFound { name: name.into() }.into());
    }
    let mut r = BufReader::new(File::open(&path)?);
    let file = archive::locate(&mut r, name)?;
    let offset = r.stream_position()?;
    audit_download(
        conn,
        ctx,
        envelope_id,
        "busta.file_scaricato",
        serde_json::json!({ "envelope_id": envelope_id, "by": who.user_id, "name": file.name, "sha256": file.sha256, "size": file.size }),
    )?;
    Ok(ArchiveDownload { path, offset, file })
}

fn audit_download(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    envelope_id: Uuid,
    action: &'static str,
    details: serde_json::Value,
) -> Result<(), OfferteError> {
    let bando_id: Uuid = envelopes::table
        .find(envelope_id)
        .select(envelopes::bando_id)
        .first(conn)?;
    let t = tender(conn, bando_id)?;
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action,
            object_type: "busta",
            object_id: envelope_id.to_string(),
            ente_id: Some(t.ente_id),
            details,
        },
    )?;
    Ok(())
}

/// One envelope kind at the opening session: the custodians' shares received so far (k of n,
/// who and when) and whether the domain would open it now, with its refusal otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct KindSession {
    pub kind: String,
    pub k: usize,
    pub n: usize,
    /// `(custodian, submitted_at)`, in order of submission.
    pub shares: Vec<(Uuid, DateTime<Utc>)>,
    pub opened: bool,
    /// Why [`ensure_may_open`] refuses it now (code, message); None when it may be opened
    /// (given enough shares).
    pub refusal: Option<(String, String)>,
}

/// An envelope received, as its receipt names it (never its content).
#[derive(Debug, Clone, Serialize)]
pub struct ReceivedEnvelope {
    pub envelope_id: Uuid,
    pub bidder_id: Uuid,
    pub kind: String,
    /// Hex SHA-256 of the ciphertext, as on the receipt.
    pub sha256: String,
    pub received_at: DateTime<Utc>,
    /// Hex leaf hash of the `EnvelopeReceived` leaf in the log.
    pub leaf_hash: String,
    /// The lot the bid is for, on a tender with lots.
    pub lotto_id: Option<Uuid>,
}

/// What the officials follow at the opening session (issue 13 point 3).
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub deadline: Option<DateTime<Utc>>,
    /// When the session is fixed: the later of `opening_at` and the deadline.
    pub session_at: Option<DateTime<Utc>>,
    pub kinds: Vec<KindSession>,
    /// The current envelopes of the active bids; empty before the deadline, when who bid
    /// and how many must stay unknown to the ente (issue 9, finding 1).
    pub received: Vec<ReceivedEnvelope>,
}

/// The opening session of `bando_id` at `now`, for the ente's RUP, commission and auditors
/// (admins): per kind (in opening order) the shares in and the domain's verdict on opening
/// it now; after the deadline the envelopes received. Changes nothing.
pub fn session(
    conn: &mut PgConnection,
    who: &Principal,
    bando_id: Uuid,
    now: DateTime<Utc>,
    technical: &dyn TechnicalPhase,
) -> Result<Session, OfferteError> {
    use crate::schema::{log_leaves, seal_opening_shares};
    let t = tender(conn, bando_id)?;
    who.require_any_in(&[Role::Rup, Role::Commission, Role::Auditor], t.ente_id)?;
    let opening_at = bando::store::find(conn, bando_id)
        .map_err(OfferteError::other_area)?
        .opening_at;
    let session_at = t.submission_deadline.map(|d| opening_at.unwrap_or(d).max(d));
    let key = crate::custody::get(conn, bando_id)?;
    let opened: Vec<String> = openings::table
        .filter(openings::bando_id.eq(bando_id))
        .select(openings::kind)
        .load(conn)?;
    let mut kinds = Vec::new();
    for letter in kinds_of(&t.envelopes) {
        let shares: Vec<(Uuid, DateTime<Utc>)> = seal_opening_shares::table
            .filter(seal_opening_shares::bando_id.eq(bando_id))
            .filter(seal_opening_shares::kind.eq(letter))
            .order(seal_opening_shares::submitted_at.asc())
            .select((
                seal_opening_shares::custodian_user_id,
                seal_opening_shares::submitted_at,
            ))
            .load(conn)?;
        let refusal = match ensure_may_open(conn, bando_id, letter, now, technical) {
            Ok(()) => None,
            Err(e @ (OfferteError::Conflict { .. } | OfferteError::Invalid { .. })) => {
                Some((e.code().to_string(), e.to_string()))
            }
            Err(other) => return Err(other),
        };
        kinds.push(KindSession {
            kind: letter.to_string(),
            k: key.k,
            n: key.n,
            shares,
            opened: opened.iter().any(|o| o == letter),
            refusal,
        });
    }
    let deadline_passed = t.submission_deadline.is_some_and(|d| d <= now);
    let received = if deadline_passed {
        envelopes::table
            .inner_join(bids::table)
            .inner_join(log_leaves::table.on(log_leaves::id.eq(envelopes::leaf_id)))
            .filter(envelopes::bando_id.eq(bando_id))
            .filter(envelopes::superseded_at.is_null())
            .filter(bids::withdrawn_at.is_null())
            .filter(envelopes::received_at.le(t.submission_deadline.unwrap_or(now)))
            .order((envelopes::received_at.asc(), envelopes::id.asc()))
            .select((
                envelopes::id,
                envelopes::bidder_id,
                envelopes::kind,
                envelopes::sha256,
                envelopes::received_at,
                log_leaves::leaf_hash,
                bids::lotto_id,
            ))
            .load::<(Uuid, Uuid, String, String, DateTime<Utc>, Vec<u8>, Option<Uuid>)>(conn)?
            .into_iter()
            .map(
                |(envelope_id, bidder_id, kind, sha256, received_at, leaf, lotto_id)| ReceivedEnvelope {
                    envelope_id,
                    bidder_id,
                    kind,
                    sha256,
                    received_at,
                    leaf_hash: hex::encode(leaf),
                    lotto_id,
                },
            )
            .collect()
    } else {
        Vec::new()
    };
    Ok(Session {
        deadline: t.submission_deadline,
        session_at,
        kinds,
        received,
    })
}
