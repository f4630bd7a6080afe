//! Art. 36 access after the award: non-excluded bidders reach the winner's offer, the first
//! five in the ranking each other's. Every download is an audit event.
//!
//! An envelope of another bidder that carries requests to redact parts of it (art. 36 c.3–5,
//! [`super::redaction`]) is served file by file ([`file`]): its redacted copies, and each
//! original only once no redaction applies to it any more; never whole.

use std::path::PathBuf;

use accounts::Principal;
use chrono::{DateTime, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::redaction::{self, AccessibleFile};
use super::schema::{agg_awards, agg_evaluations, agg_participants, envelopes, opened_envelopes};
use super::{active_bid_ids, audit_only, is_insider, tender, ProcedureError, Result};

/// An opened envelope the caller may download.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessibleEnvelope {
    pub envelope_id: Uuid,
    pub bidder_id: Uuid,
    pub kind: String,
    /// Present when the envelope is another bidder's and carries requests to redact parts of
    /// it (art. 36 c.3–5): then it is served file by file
    /// (`/accesso-atti/{envelope}/file/{name}`), only the files marked available, never whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<AccessibleFile>>,
}

/// What the caller may read, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Access {
    /// `insider`, `top_five`, `non_excluded`.
    pub basis: String,
    pub envelopes: Vec<AccessibleEnvelope>,
}

/// [`accessible_at`] with no time: a part whose redaction was refused counts as still within
/// the challenge term (never shown by mistake).
pub fn accessible(conn: &mut PgConnection, who: &Principal, bando: Uuid) -> Result<Access> {
    accessible_at(conn, who, bando, None)
}

/// What `who` may read of the tender's offers at `now` (the clock's instant).
pub fn accessible_at(
    conn: &mut PgConnection,
    who: &Principal,
    bando: Uuid,
    now: Option<DateTime<Utc>>,
) -> Result<Access> {
    let row = tender(conn, bando)?;
    let outcome: Option<(String, Option<Uuid>)> = agg_awards::table
        .find(bando)
        .select((agg_awards::outcome, agg_awards::winner_id))
        .first(conn)
        .optional()?;
    let Some((state, Some(winner))) = outcome.filter(|(s, _)| s == "awarded" || s == "effective") else {
        return Err(ProcedureError::conflict(
            "access_before_award",
            "art. 35 c.2: le offerte sono accessibili solo dopo l'aggiudicazione",
        ));
    };
    let _ = state;
    let bids = active_bid_ids(conn, &row)?;
    let loaded: Vec<(Uuid, Uuid, String, Option<serde_json::Value>)> = opened_envelopes::table
        .inner_join(envelopes::table)
        .filter(envelopes::bid_id.eq_any(bids))
        .filter(opened_envelopes::plaintext_path.is_not_null())
        .filter(envelopes::superseded_at.is_null())
        .order((envelopes::bidder_id.asc(), envelopes::kind.asc()))
        .select((
            envelopes::id,
            envelopes::bidder_id,
            envelopes::kind,
            opened_envelopes::archive,
        ))
        .load(conn)?;
    let mut all = Vec::new();
    let mut manifests = Vec::new();
    for (envelope_id, bidder_id, kind, archive) in loaded {
        all.push(AccessibleEnvelope {
            envelope_id,
            bidder_id,
            kind,
            files: None,
        });
        manifests.push(archive);
    }
    if is_insider(who, &row) {
        return Ok(Access {
            basis: "insider".into(),
            envelopes: all,
        });
    }
    let status: Option<String> = agg_participants::table
        .find((bando, who.user_id))
        .select(agg_participants::status)
        .first(conn)
        .optional()?;
    if status.is_none() || status.as_deref() == Some("excluded") {
        return Err(ProcedureError::Forbidden);
    }
    let ranking: Option<Option<serde_json::Value>> = agg_evaluations::table
        .find(bando)
        .select(agg_evaluations::ranking)
        .first(conn)
        .optional()?;
    let excluded: Vec<Uuid> = agg_participants::table
        .filter(agg_participants::scope_id.eq(bando))
        .filter(agg_participants::status.eq("excluded"))
        .select(agg_participants::bidder_id)
        .load(conn)?;
    let top_five: Vec<Uuid> = ranking
        .flatten()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l["bidder_id"].as_str().and_then(|s| s.parse::<Uuid>().ok()))
        .filter(|b| !excluded.contains(b))
        .take(5)
        .collect();
    let (basis, allowed): (&str, Vec<Uuid>) = if top_five.contains(&who.user_id) {
        ("top_five", top_five)
    } else {
        ("non_excluded", vec![winner])
    };
    let mut envelopes = Vec::new();
    for (mut e, archive) in all.into_iter().zip(manifests) {
        if !(allowed.contains(&e.bidder_id) || e.bidder_id == who.user_id) {
            continue;
        }
        if e.bidder_id != who.user_id && redaction::carries_request(archive.as_ref()) {
            let names = redaction::manifest_names(archive.as_ref()).unwrap_or_default();
            e.files = Some(redaction::files_for_others(conn, &row, e.envelope_id, &names, now)?);
        }
        envelopes.push(e);
    }
    Ok(Access {
        basis: basis.into(),
        envelopes,
    })
}

/// The stored plaintext path (relative to the seal directory) of an accessible envelope.
pub fn plaintext(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    envelope: Uuid,
) -> Result<String> {
    let access = accessible_at(conn, who, bando, Some(ctx.at))?;
    let Some(found) = access.envelopes.iter().find(|e| e.envelope_id == envelope) else {
        // Not one the caller may access (or not of this tender): not found, not "forbidden".
        return Err(ProcedureError::NotFound { what: "Busta" });
    };
    if found.files.is_some() {
        return Err(ProcedureError::conflict(
            "envelope_redacted",
            "art. 36 c.3–5: l'offerta contiene parti di cui è chiesto l'oscuramento; si consultano i singoli file",
        ));
    }
    let row = tender(conn, bando)?;
    let path: Option<String> = opened_envelopes::table
        .find(envelope)
        .select(opened_envelopes::plaintext_path)
        .first(conn)?;
    audit_only(
        conn,
        ctx,
        &row,
        "aggiudicazione.accesso_atti",
        serde_json::json!({ "envelope_id": envelope, "by": who.user_id, "basis": access.basis }),
    )?;
    path.ok_or(ProcedureError::NotFound {
        what: "Contenuto della busta",
    })
}

/// One file of an envelope of several files the caller may access: where it lies in the
/// plaintext (path, offset of its first byte, its manifest entry). For another bidder's
/// envelope that carries redaction requests only a file marked available (409
/// `part_redacted` otherwise, with why). Audited (`aggiudicazione.accesso_atti`, with the
/// file's name and SHA-256).
pub fn file(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    store: &offerte::store::Store,
    who: &Principal,
    bando: Uuid,
    envelope: Uuid,
    name: &str,
) -> Result<(PathBuf, u64, offerte::archive::ArchiveFile)> {
    let access = accessible_at(conn, who, bando, Some(ctx.at))?;
    let Some(found) = access.envelopes.iter().find(|e| e.envelope_id == envelope) else {
        return Err(ProcedureError::NotFound { what: "Busta" });
    };
    if let Some(files) = &found.files {
        match files.iter().find(|f| f.name == name) {
            None => return Err(ProcedureError::NotFound { what: "File" }),
            Some(f) if !f.available => {
                return Err(ProcedureError::conflict(
                    "part_redacted",
                    format!("«{name}»: {}", f.note.as_deref().unwrap_or("oscurato")),
                ))
            }
            Some(_) => {}
        }
    }
    let row = tender(conn, bando)?;
    let rel: Option<String> = opened_envelopes::table
        .find(envelope)
        .select(opened_envelopes::plaintext_path)
        .first(conn)?;
    let path = store.local(
        &rel.ok_or(ProcedureError::NotFound {
            what: "Contenuto della busta",
        })?,
        None,
    )?;
    let located = std::fs::File::open(&path)
        .map_err(|_| ProcedureError::NotFound {
            what: "Contenuto della busta",
        })
        .and_then(|f| {
            use std::io::Seek;
            let mut r = std::io::BufReader::new(f);
            let entry = offerte::archive::locate(&mut r, name).map_err(|e| match e {
                offerte::archive::ArchiveError::FileNotFound { .. } => ProcedureError::NotFound { what: "File" },
                other => ProcedureError::conflict(other.code(), other.to_string()),
            })?;
            let offset = r
                .stream_position()
                .map_err(|_| ProcedureError::NotFound { what: "File" })?;
            Ok((entry, offset))
        })?;
    let (entry, offset) = located;
    audit_only(
        conn,
        ctx,
        &row,
        "aggiudicazione.accesso_atti",
        serde_json::json!({ "envelope_id": envelope, "by": who.user_id, "basis": access.basis,
                            "name": entry.name, "sha256": entry.sha256 }),
    )?;
    Ok((path, offset, entry))
}
