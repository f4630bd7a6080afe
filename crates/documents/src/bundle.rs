//! The auditor's bundle (pacchetto del revisore, issue 14 point 3): one ZIP archive per decided
//! tender (or lot) that an auditor checks with no server and no database: the documents (PDF)
//! with the proof of their log leaves, bids, scores and exclusions as CSV and JSON, the OCDS
//! release package, the tender's audit events, every receipt with its RFC 3161 token and its
//! inclusion proof, the checkpoints at the closing and at the export, the public keys and the
//! TSA certificates, and a `VERIFY.md` with the exact commands (see docs/documents.md).
//!
//! [`export`] reads everything in one transaction, records the export as an audit event in the
//! same transaction, and writes the archive deterministically: entries in name order, every
//! timestamp 1980-01-01 00:00, mode 0644, no extra fields, so the same state of the procedure,
//! the log and the trail gives the same bytes. [`verify_document`] is the offline check of a
//! document against its leaf that `centrale verify-document` runs.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Write};

use accounts::{Principal, Role};
use aggiudicazione::procedure::{self, Procedura, ProcedureError};
use bando::store as bstore;
use chrono::{DateTime, SecondsFormat, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use seal::checkpoint::{open_checkpoint, NoteVerifier};
use seal::merkle::{self, Hash};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::export::record;

/// The audit action of an export.
pub const ACTION: &str = "documenti.pacchetto_esportato";

/// One document of the bundle: its file name under `documents/`, its bytes, and the log leaf
/// that records its issue, when there is one. `details` is the JSON whose SHA-256 the leaf
/// carries (`details-sha256`, as in `centrale-decision/v1`), holding the document's `sha256`;
/// `None` when the leaf data names the document's SHA-256 itself.
#[derive(Debug, Clone)]
pub struct BundleDocument {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub leaf_hash: Option<Hash>,
    pub details: Option<Value>,
}

/// The documents of the bundle: every document issued for the tender (each version, by an
/// explicit act: `documents::issued`), so the export writes nothing but its own audit event and
/// two exports of the same state are identical. The bidders' receipts are left out as PDF:
/// each is its bidder's alone, and the bundle carries every receipt's signed lines, token and
/// proof instead. `details` are those of the issue's audit event, from which its leaf was made.
fn documents(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<BundleDocument>, ProcedureError> {
    use crate::issued::Kind;
    use db::schema::audit_events as ev;
    let issued = crate::issued::issued_for_tender(conn, bando).map_err(|e| match e {
        crate::DocumentError::Procedure(p) => p,
        crate::DocumentError::Database(d) => ProcedureError::Database(d),
        other => ProcedureError::conflict("bundle_documents", other.to_string()),
    })?;
    let issued: Vec<_> = issued.into_iter().filter(|d| d.kind != Kind::Ricevuta).collect();
    let mut out = Vec::new();
    for d in &issued {
        let events: Vec<Value> = ev::table
            .filter(ev::object_type.eq("bando"))
            .filter(ev::object_id.eq(bando.to_string()))
            .filter(ev::action.eq(d.kind.action()))
            .select(ev::details)
            .load(conn)?;
        let details = events.into_iter().find(|e| e["sha256"] == d.sha256.as_str());
        let leaf_hash = hex::decode(&d.leaf_hash)
            .ok()
            .and_then(|h| <Hash>::try_from(h.as_slice()).ok());
        // Several versions of one document keep their own names.
        let same_name = issued.iter().filter(|x| x.file_name == d.file_name).count();
        let file_name = if same_name > 1 {
            format!("v{}-{}", d.version, d.file_name)
        } else {
            d.file_name.clone()
        };
        out.push(BundleDocument {
            file_name,
            bytes: d.bytes.clone(),
            leaf_hash,
            details,
        });
    }
    Ok(out)
}

/// The tender's OCDS release package (issue 14 point 4), the same JSON as
/// `GET /api/v1/bandi/{id}/ocds` (the whole tender, every lot). A procedure by invitation has
/// no public OCDS (`NotFound`): then `ocds.json` is left out (VERIFY.md says so).
fn ocds(
    conn: &mut PgConnection,
    publisher: &crate::ocds::Publisher,
    bando: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Value>, ProcedureError> {
    match crate::ocds::release_package(conn, publisher, bando, at) {
        Ok(package) => Ok(Some(package)),
        Err(crate::ocds::OcdsError::NotFound { .. }) => Ok(None),
        Err(crate::ocds::OcdsError::Database(e)) => Err(ProcedureError::Database(e)),
        Err(other) => Err(ProcedureError::conflict("ocds_unavailable", other.to_string())),
    }
}

/// An exported bundle.
#[derive(Debug, Clone)]
pub struct Exported {
    pub zip: Vec<u8>,
    /// Hex SHA-256 of `zip`.
    pub sha256: String,
    pub file_name: String,
}

/// What `documents/<file>.leaf.json` holds: everything [`verify_document`] needs besides the
/// document, the checkpoint and the log key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentLeaf {
    /// The document's file name under `documents/`.
    pub file: String,
    /// Hex SHA-256 of the document.
    pub sha256: String,
    /// The leaf's data (text lines, e.g. `centrale-decision/v1`), whose RFC 6962 hash is the leaf.
    pub leaf_data: String,
    /// The JSON whose SHA-256 is the leaf's `details-sha256` (the issue's audit event details).
    pub details: Option<Value>,
    /// Hex leaf hash.
    pub leaf_hash: String,
    pub leaf_index: u64,
    /// The size of the checkpoint the proof is for (`checkpoints/latest.txt`).
    pub tree_size: u64,
    /// Hex hashes, from the leaf's sibling upwards.
    pub inclusion_proof: Vec<String>,
}

/// The offline check that failed, by name.
#[derive(Debug, thiserror::Error)]
#[error("verifica «{check}» non superata: {message}")]
pub struct DocumentCheckFailure {
    /// `leaf-file`, `document-sha256`, `details`, `leaf-hash`, `checkpoint-signature`, `inclusion`.
    pub check: &'static str,
    pub message: String,
}

/// What passed.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentReport {
    pub file: String,
    pub sha256: String,
    pub leaf_index: u64,
    pub checkpoint_size: u64,
    pub checks: Vec<&'static str>,
}

fn failure(check: &'static str, message: impl Into<String>) -> DocumentCheckFailure {
    DocumentCheckFailure {
        check,
        message: message.into(),
    }
}

fn hash_hex(s: &str) -> Option<Hash> {
    hex::decode(s.trim()).ok().and_then(|v| v.try_into().ok())
}

/// Offline: the document's SHA-256 is the one the leaf records (directly, or through the
/// details whose digest the leaf carries), the leaf hash is that of the leaf data, the
/// checkpoint is signed by the log key, and the leaf is in it. Stops at the first failure.
pub fn verify_document(
    document: &[u8],
    leaf: &DocumentLeaf,
    checkpoint_note: &str,
    log_key: &NoteVerifier,
) -> Result<DocumentReport, DocumentCheckFailure> {
    let mut checks = Vec::new();
    let sha = crate::sha256_hex(document);
    if sha != leaf.sha256.trim().to_ascii_lowercase() {
        return Err(failure(
            "document-sha256",
            format!("il documento ha SHA-256 {sha}, la foglia ne registra {}", leaf.sha256),
        ));
    }
    checks.push("document-sha256");
    let lines: Vec<&str> = leaf.leaf_data.lines().collect();
    match &leaf.details {
        Some(details) => {
            if details.get("sha256").and_then(Value::as_str) != Some(sha.as_str()) {
                return Err(failure(
                    "details",
                    "i dettagli della foglia non riportano lo SHA-256 del documento",
                ));
            }
            let digest = offerte::log::decision_digest(details);
            if !lines.iter().any(|l| *l == format!("details-sha256 {digest}")) {
                return Err(failure("details", "lo SHA-256 dei dettagli non è quello della foglia"));
            }
        }
        None => {
            if !lines.iter().any(|l| l.split(' ').any(|w| w == sha)) {
                return Err(failure("details", "la foglia non riporta lo SHA-256 del documento"));
            }
        }
    }
    checks.push("details");
    let computed = merkle::leaf_hash(leaf.leaf_data.as_bytes());
    if Some(computed) != hash_hex(&leaf.leaf_hash) {
        return Err(failure("leaf-hash", "l'hash della foglia non corrisponde ai suoi dati"));
    }
    checks.push("leaf-hash");
    let checkpoint =
        open_checkpoint(checkpoint_note, log_key).map_err(|e| failure("checkpoint-signature", e.to_string()))?;
    checks.push("checkpoint-signature");
    if checkpoint.size != leaf.tree_size {
        return Err(failure(
            "inclusion",
            format!(
                "la prova è per un albero di {} foglie, il checkpoint ne ha {}",
                leaf.tree_size, checkpoint.size
            ),
        ));
    }
    let proof: Vec<Hash> = leaf
        .inclusion_proof
        .iter()
        .map(|h| hash_hex(h).ok_or_else(|| failure("inclusion", "hash di prova non valido")))
        .collect::<Result<_, _>>()?;
    merkle::verify_inclusion(&computed, leaf.leaf_index, checkpoint.size, &proof, &checkpoint.root)
        .map_err(|e| failure("inclusion", e.to_string()))?;
    checks.push("inclusion");
    Ok(DocumentReport {
        file: leaf.file.clone(),
        sha256: sha,
        leaf_index: leaf.leaf_index,
        checkpoint_size: checkpoint.size,
        checks,
    })
}

/// Auditors of the tender's ente and admins (the RUP and the commission have the documents
/// already; suppliers and other enti never).
pub fn authorize(who: &Principal, ente: Uuid) -> Result<(), ProcedureError> {
    who.require_any_in(&[Role::Auditor], ente)
        .map_err(|_| ProcedureError::Forbidden)
}

fn seal_error(e: offerte::OfferteError) -> ProcedureError {
    match e {
        offerte::OfferteError::NotFound { what } => ProcedureError::NotFound { what },
        other => ProcedureError::Seal(other),
    }
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

fn csv(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = record(header);
    for r in rows {
        out.push_str(&record(r));
    }
    out.into_bytes()
}

/// One envelope as `bids.json` lists it.
struct EnvelopeRow {
    envelope_id: Uuid,
    bid_id: Uuid,
    bidder_id: Uuid,
    kind: String,
    sha256: String,
    size_bytes: i64,
    received_at: DateTime<Utc>,
    superseded_at: Option<DateTime<Utc>>,
    leaf_hash: Vec<u8>,
}

/// Builds, records and returns the bundle of tender `bando` (lot `lotto`).
pub fn export(
    conn: &mut PgConnection,
    svc: &offerte::SealService,
    publisher: &crate::ocds::Publisher,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    lotto: Option<Uuid>,
) -> Result<Exported, ProcedureError> {
    conn.transaction(|conn| {
        let row = bstore::find(conn, bando)?;
        authorize(who, row.ente_id)?;
        let scope = procedure::scope(conn, bando, lotto)?;
        let procedura = procedure::view(conn, ctx, who, scope)?;
        match procedura.award.as_ref().map(|a| a.outcome.as_str()) {
            None | Some("proposed") => {
                return Err(ProcedureError::conflict(
                    "bundle_before_award",
                    "Il pacchetto del revisore si esporta a procedura conclusa (aggiudicata, deserta o senza offerte ammesse)",
                ))
            }
            Some(_) => {}
        }
        let lot = match lotto {
            Some(l) => bstore::lots(conn, bando)?.into_iter().find(|x| x.id == l),
            None => None,
        };
        let docs = documents(conn, bando)?;
        // Every leaf of the tender (the documents' too) in the latest checkpoint, so that each
        // proof of the bundle verifies offline now rather than after the next sequencer tick.
        // Only when something is pending: integrating takes the sequencer's lock until the
        // export commits.
        let pending: i64 = offerte::schema::log_leaves::table
            .filter(offerte::schema::log_leaves::leaf_index.is_null())
            .count()
            .get_result(conn)?;
        if pending > 0 {
            while offerte::sequencer::integrate(conn, svc, ctx.at).map_err(seal_error)? > 0 {}
        }

        let closing = offerte::log::closing_checkpoint(conn, bando)
            .map_err(seal_error)?
            .ok_or_else(|| ProcedureError::conflict("bundle_before_award", "Il registro non ha ancora chiuso la gara"))?;
        let latest = offerte::log::checkpoint(conn, None).map_err(seal_error)?;

        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();

        // Documents and the proofs of their leaves.
        let mut doc_names = Vec::new();
        for d in &docs {
            let name = format!("documents/{}", d.file_name);
            if let Some(hash) = d.leaf_hash {
                let (data, index): (Vec<u8>, Option<i64>) = offerte::schema::log_leaves::table
                    .filter(offerte::schema::log_leaves::leaf_hash.eq(hash.to_vec()))
                    .select((offerte::schema::log_leaves::data, offerte::schema::log_leaves::leaf_index))
                    .first(conn)?;
                let index = index
                    .ok_or_else(|| ProcedureError::conflict("bundle_leaf_pending", "Foglia del documento non integrata"))?
                    as u64;
                let proof = offerte::log::inclusion_proof(conn, index, latest.tree_size).map_err(seal_error)?;
                let leaf = DocumentLeaf {
                    file: d.file_name.clone(),
                    sha256: crate::sha256_hex(&d.bytes),
                    leaf_data: String::from_utf8_lossy(&data).into_owned(),
                    details: d.details.clone(),
                    leaf_hash: hex::encode(hash),
                    leaf_index: index,
                    tree_size: latest.tree_size,
                    inclusion_proof: proof.proof,
                };
                files.insert(
                    format!("{name}.leaf.json"),
                    pretty(&serde_json::to_value(&leaf).unwrap_or_default()),
                );
                doc_names.push((d.file_name.clone(), true));
            } else {
                doc_names.push((d.file_name.clone(), false));
            }
            files.insert(name, d.bytes.clone());
        }

        // Bids: every envelope received (replaced ones too), every bid (withdrawn ones too).
        use offerte::schema::{bids, envelopes, log_leaves};
        let mut q = envelopes::table
            .inner_join(bids::table.on(bids::id.eq(envelopes::bid_id)))
            .inner_join(log_leaves::table.on(log_leaves::id.eq(envelopes::leaf_id)))
            .filter(envelopes::bando_id.eq(bando))
            .into_boxed();
        q = match lotto {
            Some(l) => q.filter(bids::lotto_id.eq(l)),
            None => q.filter(bids::lotto_id.is_null()),
        };
        type Row = (
            Uuid,
            Uuid,
            Uuid,
            String,
            String,
            i64,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Vec<u8>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<Row> = q
            .order((envelopes::received_at.asc(), envelopes::id.asc()))
            .select((
                envelopes::id,
                envelopes::bid_id,
                envelopes::bidder_id,
                envelopes::kind,
                envelopes::sha256,
                envelopes::size_bytes,
                envelopes::received_at,
                envelopes::superseded_at,
                log_leaves::leaf_hash,
                bids::withdrawn_at,
            ))
            .load(conn)?;
        let mut withdrawn: HashMap<Uuid, Option<DateTime<Utc>>> = HashMap::new();
        let envs: Vec<EnvelopeRow> = rows
            .into_iter()
            .map(|r| {
                withdrawn.insert(r.1, r.9);
                EnvelopeRow {
                    envelope_id: r.0,
                    bid_id: r.1,
                    bidder_id: r.2,
                    kind: r.3,
                    sha256: r.4,
                    size_bytes: r.5,
                    received_at: r.6,
                    superseded_at: r.7,
                    leaf_hash: r.8,
                }
            })
            .collect();
        let mut bidders: Vec<Uuid> = envs.iter().map(|e| e.bidder_id).collect();
        bidders.extend(procedura.participants.iter().map(|p| p.bidder_id));
        bidders.sort();
        bidders.dedup();
        // Public once the procedure is decided (art. 28; D.Lgs. 33/2013 art. 37), and the
        // auditor sees the trail anyway.
        let names = registry::operatori::public_identities(conn, &bidders).map_err(|e| match e {
            registry::RegistryError::Database(d) => ProcedureError::Database(d),
            other => ProcedureError::conflict("registry_unavailable", other.to_string()),
        })?;
        let name_of = |b: &Uuid| names.get(b).cloned().unwrap_or_default();

        let bids_json: Vec<Value> = envs
            .iter()
            .map(|e| {
                let (ragione_sociale, partita_iva) = name_of(&e.bidder_id);
                json!({
                    "envelope_id": e.envelope_id, "bid_id": e.bid_id, "bidder_id": e.bidder_id,
                    "ragione_sociale": ragione_sociale, "partita_iva": partita_iva,
                    "kind": e.kind, "ciphertext_sha256": e.sha256, "size_bytes": e.size_bytes,
                    "received_at": utc(e.received_at), "superseded_at": e.superseded_at.map(utc),
                    "bid_withdrawn_at": withdrawn.get(&e.bid_id).copied().flatten().map(utc),
                    "leaf_hash": hex::encode(&e.leaf_hash),
                    "receipt": format!("receipts/{}.json", e.envelope_id),
                })
            })
            .collect();
        files.insert("bids.json".into(), pretty(&Value::Array(bids_json.clone())));
        let bid_cols = [
            "envelope_id",
            "bid_id",
            "bidder_id",
            "ragione_sociale",
            "partita_iva",
            "kind",
            "ciphertext_sha256",
            "size_bytes",
            "received_at",
            "superseded_at",
            "bid_withdrawn_at",
            "leaf_hash",
            "receipt",
        ];
        files.insert("bids.csv".into(), csv(&bid_cols, &table_of(&bids_json, &bid_cols)));

        // Scores: the ranking as computed and stored by the evaluation.
        let evaluation = procedura.evaluation.as_ref();
        let ranking: Vec<Value> = evaluation
            .and_then(|e| e.ranking.as_ref())
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut r| {
                let (rs, piva) = r["bidder_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .map(|b: Uuid| name_of(&b))
                    .unwrap_or_default();
                if let Some(m) = r.as_object_mut() {
                    m.insert("ragione_sociale".into(), json!(rs));
                    m.insert("partita_iva".into(), json!(piva));
                }
                r
            })
            .collect();
        files.insert(
            "scores.json".into(),
            pretty(&json!({
                "criterion": evaluation.and_then(|e| e.criterion.clone()),
                "computed_at": evaluation.and_then(|e| e.computed_at).map(utc),
                "ranking": ranking,
                "technical": evaluation.and_then(|e| e.technical.clone()),
                "economic": evaluation.and_then(|e| e.economic.clone()),
                "anomaly": evaluation.and_then(|e| e.anomaly.clone()),
                "draw": evaluation.and_then(|e| e.draw.clone()),
                "coefficients": serde_json::to_value(&procedura.coefficients).unwrap_or_default(),
                "award": serde_json::to_value(&procedura.award).unwrap_or_default(),
            })),
        );
        let score_cols = [
            "rank",
            "bidder_id",
            "ragione_sociale",
            "partita_iva",
            "discount",
            "technical",
            "economic",
            "total",
            "tie_break",
        ];
        files.insert("scores.csv".into(), csv(&score_cols, &table_of(&ranking, &score_cols)));

        // Exclusions: the decisions, and the platform's proposals with the RUP's answers.
        let excluded: Vec<Value> = procedura
            .participants
            .iter()
            .filter(|p| p.status == "excluded")
            .map(|p| {
                let (rs, piva) = name_of(&p.bidder_id);
                json!({ "bidder_id": p.bidder_id, "ragione_sociale": rs, "partita_iva": piva,
                        "phase": p.excluded_phase, "reason": p.reason, "decided_by": p.decided_by,
                        "decided_at": p.decided_at.map(utc) })
            })
            .collect();
        files.insert(
            "exclusions.json".into(),
            pretty(&json!({
                "excluded": excluded,
                "proposals": serde_json::to_value(&procedura.exclusion_proposals).unwrap_or_default(),
            })),
        );
        let excl_cols = [
            "bidder_id",
            "ragione_sociale",
            "partita_iva",
            "phase",
            "reason",
            "decided_by",
            "decided_at",
        ];
        files.insert("exclusions.csv".into(), csv(&excl_cols, &table_of(&excluded, &excl_cols)));

        if let Some(package) = ocds(conn, publisher, bando, ctx.at)? {
            files.insert("ocds.json".into(), pretty(&package));
        }

        // The tender's audit events as the ente's auditors read them, up to this export; the
        // exports of the bundle are left out (each one would change the next archive).
        let filter = db::audit::TrailFilter {
            from: None,
            to: None,
            actor: None,
            action: None,
            bando: Some(bando),
        };
        let events: Vec<_> = crate::export::audit_events(conn, who, row.ente_id, &filter, ctx.at)
            .map_err(|e| match e {
                accounts::AccountsError::Forbidden => ProcedureError::Forbidden,
                other => ProcedureError::conflict("audit_unavailable", other.to_string()),
            })?
            .into_iter()
            .filter(|e| e.action != ACTION)
            .collect();
        files.insert("audit.csv".into(), crate::export::audit_csv(&events));

        // Receipts, tokens, proofs.
        let mut receipt_ids = Vec::new();
        for e in &envs {
            let b = offerte::bundle::build(conn, svc, who, e.envelope_id, Some(closing.tree_size)).map_err(seal_error)?;
            let signed = seal::receipt::SignedReceipt::from_text(&b.receipt).map_err(|e| ProcedureError::Seal(e.into()))?;
            let lines = signed
                .receipt
                .canonical_bytes()
                .map_err(|e| ProcedureError::Seal(e.into()))?;
            let token = seal::custody::unb64(&b.tsa_token).map_err(|e| ProcedureError::Seal(e.into()))?;
            let base = format!("receipts/{}", e.envelope_id);
            files.insert(
                format!("{base}.json"),
                pretty(&serde_json::to_value(&b).unwrap_or_default()),
            );
            files.insert(format!("{base}.txt"), lines);
            files.insert(format!("{base}.tst"), token);
            receipt_ids.push(e.envelope_id);
        }

        files.insert("checkpoints/closing.txt".into(), closing.note.clone().into_bytes());
        files.insert("checkpoints/latest.txt".into(), latest.note.clone().into_bytes());
        files.insert("keys/platform-key.txt".into(), format!("{}\n", svc.public_key_b64()).into_bytes());
        files.insert("keys/log-key.txt".into(), format!("{}\n", svc.log_verifier().to_vkey()).into_bytes());
        files.insert("keys/tsa-ca.pem".into(), svc.tsa_ca_cert_pem().into_bytes());
        files.insert("keys/tsa.pem".into(), svc.tsa_cert_pem().into_bytes());

        let title = match &lot {
            Some(l) => format!("{} — lotto {} (CIG {})", row.oggetto, l.numero, l.cig),
            None => format!("{} (CIG {})", row.oggetto, row.cig.clone().unwrap_or_else(|| "—".into())),
        };
        files.insert(
            "VERIFY.md".into(),
            verify_md(&VerifyInputs {
                title: &title,
                bando,
                lotto,
                closing_size: closing.tree_size,
                latest_size: latest.tree_size,
                at: ctx.at,
                receipts: &receipt_ids,
                documents: &doc_names,
                has_ocds: files.contains_key("ocds.json"),
                procedura: &procedura,
            })
            .into_bytes(),
        );
        let sums: String = files
            .iter()
            .map(|(name, bytes)| format!("{}  {name}\n", crate::sha256_hex(bytes)))
            .collect();
        files.insert("SHA256SUMS".into(), sums.into_bytes());

        let zip = write_zip(&files).map_err(|e| ProcedureError::conflict("bundle_write_failed", e))?;
        let sha256 = crate::sha256_hex(&zip);
        let file_name = match &lot {
            Some(l) => format!("pacchetto-revisore-{bando}-lotto-{}.zip", l.numero),
            None => format!("pacchetto-revisore-{bando}.zip"),
        };
        let mut details = json!({
            "archive": file_name,
            "sha256": sha256,
            "size_bytes": zip.len(),
            "files": files.len(),
            "receipts": receipt_ids.len(),
            "documents": docs.iter().map(|d| d.file_name.clone()).collect::<Vec<_>>(),
            "log_tree_size": latest.tree_size,
            "closing_tree_size": closing.tree_size,
        });
        if let (Some(l), Some(map)) = (lotto, details.as_object_mut()) {
            map.insert("lotto_id".into(), json!(l));
        }
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: ACTION,
                object_type: "bando",
                object_id: bando.to_string(),
                ente_id: Some(row.ente_id),
                details,
            },
        )?;
        Ok(Exported { zip, sha256, file_name })
    })
}

/// The `cols` of each JSON object as CSV fields (strings as they are, null empty, other values
/// as JSON).
fn table_of(rows: &[Value], cols: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            cols.iter()
                .map(|c| match r.get(*c) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// A ZIP of `files` (name order, as the map iterates), byte-for-byte the same for the same
/// files: DOS time 1980-01-01 00:00 on every entry, mode 0644, deflate, no extra fields.
pub fn write_zip(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(name.as_str(), options).map_err(|e| e.to_string())?;
        w.write_all(bytes).map_err(|e| e.to_string())?;
    }
    Ok(w.finish().map_err(|e| e.to_string())?.into_inner())
}

struct VerifyInputs<'a> {
    title: &'a str,
    bando: Uuid,
    lotto: Option<Uuid>,
    closing_size: u64,
    latest_size: u64,
    at: DateTime<Utc>,
    receipts: &'a [Uuid],
    /// (file name, has a leaf)
    documents: &'a [(String, bool)],
    has_ocds: bool,
    procedura: &'a Procedura,
}

fn outcome_it(outcome: &str) -> &str {
    match outcome {
        "awarded" => "aggiudicata",
        "effective" => "aggiudicazione efficace",
        "deserted" => "gara deserta",
        "all_excluded" => "non aggiudicata, tutte le offerte escluse",
        other => other,
    }
}

const KEYS: &str = r#"--platform-key "$(cat keys/platform-key.txt)" --log-key "$(cat keys/log-key.txt)""#;

/// `VERIFY.md`: Italian for the people who run it, every command in a fenced `sh` block, one
/// command per line, run from the directory where the archive was unpacked. The tests run
/// exactly these blocks (crates/centrale/tests/bundle.rs), so the document cannot drift.
fn verify_md(v: &VerifyInputs<'_>) -> String {
    let mut s = String::new();
    s.push_str(&format!("# Pacchetto del revisore — {}\n\n", v.title));
    s.push_str(&format!(
        "Gara `{}`{}. Esportato il {} (ora di Roma). Esito: {}.\n\n",
        v.bando,
        v.lotto.map(|l| format!(", lotto `{l}`")).unwrap_or_default(),
        crate::verbale::rome(v.at),
        v.procedura.award.as_ref().map_or("—", |a| outcome_it(&a.outcome)),
    ));
    s.push_str(
        "Questo archivio si verifica **senza il server e senza il database** della piattaforma: \
         servono `sha256sum` (coreutils), `openssl` (1.1 o successivo) e il programma `centrale` \
         (lo stesso della piattaforma, `centrale --version`) nel `PATH`. Tutti i comandi si \
         eseguono dalla cartella in cui l'archivio è stato estratto; ognuno termina con codice 0 \
         se la verifica riesce e con un codice diverso da 0, indicando la verifica fallita, se \
         un file è stato alterato.\n\n\
         *English: an auditor's bundle, verifiable offline. Run each command below from the \
         directory where the archive was unpacked; every one must exit 0.*\n\n",
    );
    s.push_str(
        "## 1. Integrità dei file\n\n\
         `SHA256SUMS` elenca lo SHA-256 di ogni altro file dell'archivio.\n\n```sh\nsha256sum -c SHA256SUMS\n```\n\n",
    );
    s.push_str(
        "## 2. Le chiavi\n\n\
         `keys/platform-key.txt` (firma delle ricevute), `keys/log-key.txt` (firma dei checkpoint \
         del registro), `keys/tsa-ca.pem` e `keys/tsa.pem` (la catena della marca temporale). \
         Una verifica indipendente confronta queste chiavi con quelle pubblicate dalla piattaforma \
         (`GET /api/v1/log/keys` e `GET /api/v1/log/tsa-certificates`) o con quelle annotate in \
         precedenza: i comandi sotto usano quelle dell'archivio.\n\n",
    );
    s.push_str(&format!(
        "## 3. Marche temporali (RFC 3161)\n\n\
         Per ogni ricevuta, `receipts/<busta>.tst` è il token RFC 3161 (DER) emesso al momento \
         della ricezione sullo SHA-256 di `receipts/<busta>.txt`, le righe firmate della ricevuta \
         (`centrale-receipt/v1`, senza la riga `signature`). {} ricevute; `bids.csv` dice di \
         quale offerente e di quale busta è ciascuna.\n\n```sh\n",
        v.receipts.len()
    ));
    for r in v.receipts {
        s.push_str(&format!(
            "openssl ts -verify -token_in -in receipts/{r}.tst -data receipts/{r}.txt -CAfile keys/tsa-ca.pem -untrusted keys/tsa.pem\n"
        ));
    }
    s.push_str("```\n\n");
    s.push_str(&format!(
        "## 4. Ricevute, registro e checkpoint\n\n\
         `centrale verify` controlla la firma della ricevuta, l'hash della sua foglia, la firma del \
         checkpoint più recente (albero di {} foglie, lo stesso di `checkpoints/latest.txt`), \
         l'inclusione della foglia e la coerenza con il checkpoint della chiusura della gara \
         (`checkpoints/closing.txt`, {} foglie): il registro dopo la chiusura estende quello \
         della chiusura, senza nulla tolto né cambiato. Il cifrato delle buste non è nell'archivio \
         (può pesare centinaia di MB): chi lo scarica (`GET /api/v1/buste/<busta>/cifrato`) \
         aggiunge `--envelope <file>` e verifica anche la sua impronta.\n\n```sh\n",
        v.latest_size, v.closing_size
    ));
    for r in v.receipts {
        s.push_str(&format!(
            "centrale verify --bundle receipts/{r}.json --older-checkpoint checkpoints/closing.txt {KEYS}\n"
        ));
    }
    s.push_str("```\n\n");
    s.push_str(
        "## 5. Documenti e loro foglie\n\n\
         Ogni documento di `documents/` con accanto `<nome>.leaf.json` è registrato nel registro: \
         `centrale verify-document` ricalcola lo SHA-256 del PDF, lo confronta con quello \
         dell'evento di emissione (`details.sha256`), ricalcola la foglia \
         (`centrale-decision/v1`: `details-sha256` è lo SHA-256 dei dettagli in JSON con le chiavi \
         ordinate) e ne verifica l'inclusione nel checkpoint firmato `checkpoints/latest.txt`.\n\n",
    );
    let with_leaf: Vec<&String> = v.documents.iter().filter(|d| d.1).map(|d| &d.0).collect();
    if with_leaf.is_empty() {
        s.push_str("Nessun documento di questo archivio ha una foglia nel registro.\n\n");
    } else {
        s.push_str("```sh\n");
        for d in with_leaf {
            s.push_str(&format!(
                "centrale verify-document --document documents/{d} --leaf documents/{d}.leaf.json --checkpoint checkpoints/latest.txt --log-key \"$(cat keys/log-key.txt)\"\n"
            ));
        }
        s.push_str("```\n\n");
    }
    s.push_str(&format!(
        "## 6. Il resto dell'archivio\n\n\
         - `bids.csv`, `bids.json`: ogni busta ricevuta (anche sostituita o di un'offerta ritirata), \
         con l'impronta del cifrato, l'ora di ricezione e l'hash della foglia;\n\
         - `scores.csv`, `scores.json`: la graduatoria e i calcoli della valutazione;\n\
         - `exclusions.csv`, `exclusions.json`: le esclusioni, con fase e motivo, e le proposte \
         della piattaforma con la decisione del RUP;\n\
         - {}\n\
         - `audit.csv`: gli eventi della gara nel registro delle attività (CSV RFC 4180, come \
         l'esportazione dell'ente), fino all'esportazione di questo archivio esclusa: \
         l'esportazione stessa è un evento (`{ACTION}`, con lo SHA-256 dell'archivio) che si \
         legge nel registro dell'ente, e le esportazioni precedenti non sono ripetute qui.\n\n\
         I CSV sono UTF-8, separati da virgola, righe terminate da CRLF; gli orari sono UTC.\n",
        if v.has_ocds {
            "`ocds.json`: il release package OCDS 1.1 della gara;"
        } else {
            "`ocds.json` non è ancora prodotto dalla piattaforma;"
        }
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_files_give_the_same_archive() {
        let mut files = BTreeMap::new();
        files.insert("b.txt".to_string(), b"due".to_vec());
        files.insert("a/uno.txt".to_string(), b"uno".to_vec());
        let a = write_zip(&files).expect("zip");
        let b = write_zip(&files).expect("zip");
        assert_eq!(a, b);
        let mut z = zip::ZipArchive::new(Cursor::new(a)).expect("read");
        let names: Vec<String> = z.file_names().map(str::to_string).collect();
        assert_eq!(names.len(), 2);
        let f = z.by_name("a/uno.txt").expect("entry");
        assert_eq!(f.last_modified(), Some(zip::DateTime::default()));
    }
}
