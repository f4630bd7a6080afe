//! The verification bundle: everything `centrale verify` needs to check one receipt offline
//! (with the envelope file), and the offline check itself, which needs no database and names
//! the check that failed.

use std::io::Read;

use accounts::Principal;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use diesel::prelude::*;
use ed25519_dalek::VerifyingKey;
use seal::checkpoint::{open_checkpoint, Checkpoint, NoteVerifier};
use seal::merkle::{self, Hash};
use seal::receipt::SignedReceipt;
use seal::verify;
use seal::SealError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::log::{self, ConsistencyProof};
use crate::log_cache::CachedLeaves;
use crate::submit::{may_see, receipt_view};
use crate::{OfferteError, SealService};

/// What an auditor needs besides the envelope file. Keys are included for convenience;
/// an auditor should pin them (`--platform-key`, `--log-key`) rather than trust the bundle.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerificationBundle {
    /// The signed receipt (`centrale-receipt/v1` lines plus `signature`).
    pub receipt: String,
    /// Base64 DER RFC 3161 token over SHA-256 of the receipt's canonical lines.
    pub tsa_token: String,
    /// Base64 Ed25519 public key of the platform (receipts, promises).
    pub platform_key: String,
    /// Signed-note verifier key of the log (`name+hash+base64`).
    pub log_key: String,
    /// The leaf's index, once integrated.
    pub leaf_index: Option<u64>,
    /// The latest signed checkpoint covering the leaf.
    pub checkpoint: Option<String>,
    /// Hex hashes: inclusion proof of the leaf in `checkpoint`.
    pub inclusion_proof: Vec<String>,
    /// When asked for (`since`): consistency proof from an older tree size to `checkpoint`.
    pub consistency: Option<ConsistencyProof>,
}

/// Builds the bundle of one envelope at the latest checkpoint. Proofs the log can no longer
/// produce (a tampered database) are left empty: the offline check then fails on them.
pub fn build(
    conn: &mut PgConnection,
    svc: &SealService,
    who: &Principal,
    envelope_id: Uuid,
    since: Option<u64>,
) -> Result<VerificationBundle, OfferteError> {
    may_see(conn, who, envelope_id)?;
    let view = receipt_view(conn, envelope_id)?;
    let latest = log::checkpoint(conn, None).ok();
    let (checkpoint, proof, consistency) = match (&latest, view.leaf_index) {
        (Some(cp), Some(index)) if index < cp.tree_size => {
            let complete = log::tree_size(conn)? >= cp.tree_size;
            let leaves = CachedLeaves::new(conn, cp.tree_size);
            let proof = if complete {
                merkle::inclusion_proof(&leaves, index, cp.tree_size).unwrap_or_default()
            } else {
                Vec::new()
            };
            let consistency = since.filter(|s| *s <= cp.tree_size).map(|s| ConsistencyProof {
                first: s,
                second: cp.tree_size,
                proof: if complete {
                    merkle::consistency_proof(&leaves, s, cp.tree_size)
                        .unwrap_or_default()
                        .iter()
                        .map(hex::encode)
                        .collect()
                } else {
                    Vec::new()
                },
            });
            (
                Some(cp.note.clone()),
                proof.iter().map(hex::encode).collect(),
                consistency,
            )
        }
        _ => (None, Vec::new(), None),
    };
    Ok(VerificationBundle {
        receipt: view.receipt,
        tsa_token: view.tsa_token,
        platform_key: svc.public_key_b64(),
        log_key: svc.log_verifier().to_vkey(),
        leaf_index: checkpoint.as_ref().and(view.leaf_index),
        checkpoint,
        inclusion_proof: proof,
        consistency,
    })
}

/// The check that failed, by name, and why.
#[derive(Debug, thiserror::Error)]
#[error("verifica «{check}» non superata: {error}")]
pub struct VerifyFailure {
    /// One of `bundle`, `receipt-signature`, `envelope-digest`, `leaf-hash`,
    /// `checkpoint-signature`, `inclusion`, `consistency`.
    pub check: &'static str,
    pub error: SealError,
}

/// What passed.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub tender: String,
    pub bidder: String,
    pub envelope: String,
    pub received_at: String,
    pub leaf_index: u64,
    pub checkpoint_size: u64,
    pub checks: Vec<&'static str>,
}

/// Keys the auditor pins; `None` falls back to the bundle's own.
#[derive(Default)]
pub struct Pins {
    pub platform_key: Option<VerifyingKey>,
    pub log_key: Option<NoteVerifier>,
}

fn fail(check: &'static str) -> impl Fn(SealError) -> VerifyFailure {
    move |error| VerifyFailure { check, error }
}

fn hashes(hex_list: &[String]) -> Result<Vec<Hash>, SealError> {
    hex_list
        .iter()
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .ok_or_else(|| SealError::ReceiptMalformed("hash di prova non valido".into()))
        })
        .collect()
}

pub fn parse_platform_key(b64: &str) -> Result<VerifyingKey, SealError> {
    let raw = B64
        .decode(b64.trim())
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| SealError::ReceiptMalformed("chiave pubblica della piattaforma non valida".into()))?;
    VerifyingKey::from_bytes(&raw)
        .map_err(|_| SealError::ReceiptMalformed("chiave pubblica della piattaforma non valida".into()))
}

/// Offline: receipt signature, envelope digest and size, leaf hash, checkpoint signature,
/// inclusion, and (given an older checkpoint) consistency. Stops at the first failure.
pub fn verify_bundle<R: Read>(
    bundle: &VerificationBundle,
    envelope: R,
    older_checkpoint: Option<&str>,
    pins: Pins,
) -> Result<VerifyReport, VerifyFailure> {
    verify_receipt(bundle, Some(envelope), older_checkpoint, pins)
}

/// [`verify_bundle`], where the envelope file is optional: without it `envelope-digest` is not
/// checked (and not listed in the report's checks). The auditor's bundle ships no ciphertext
/// (documents::bundle): the receipt's signature still covers the digest it names.
pub fn verify_receipt<R: Read>(
    bundle: &VerificationBundle,
    envelope: Option<R>,
    older_checkpoint: Option<&str>,
    pins: Pins,
) -> Result<VerifyReport, VerifyFailure> {
    let platform_key = match pins.platform_key {
        Some(k) => k,
        None => parse_platform_key(&bundle.platform_key).map_err(fail("bundle"))?,
    };
    let log_key = match pins.log_key {
        Some(k) => k,
        None => NoteVerifier::from_vkey(&bundle.log_key).map_err(fail("bundle"))?,
    };
    let mut checks = Vec::new();
    let signed = SignedReceipt::from_text(&bundle.receipt).map_err(fail("receipt-signature"))?;
    verify::check_receipt_signature(&signed, &platform_key).map_err(fail("receipt-signature"))?;
    checks.push("receipt-signature");
    let receipt = &signed.receipt;
    if let Some(envelope) = envelope {
        verify::check_envelope_file(receipt, envelope).map_err(fail("envelope-digest"))?;
        checks.push("envelope-digest");
    }
    verify::check_leaf_hash(receipt).map_err(fail("leaf-hash"))?;
    checks.push("leaf-hash");
    let note = bundle.checkpoint.as_deref().ok_or(VerifyFailure {
        check: "inclusion",
        error: SealError::ReceiptNotIntegrated,
    })?;
    let checkpoint: Checkpoint = open_checkpoint(note, &log_key).map_err(fail("checkpoint-signature"))?;
    checks.push("checkpoint-signature");
    let proof = hashes(&bundle.inclusion_proof).map_err(fail("inclusion"))?;
    verify::check_inclusion(receipt, bundle.leaf_index, &proof, &checkpoint).map_err(fail("inclusion"))?;
    checks.push("inclusion");
    if let Some(older) = older_checkpoint {
        let older = open_checkpoint(older, &log_key).map_err(fail("consistency"))?;
        let proof = match &bundle.consistency {
            Some(c) if c.first == older.size && c.second == checkpoint.size => {
                hashes(&c.proof).map_err(fail("consistency"))?
            }
            _ if older.size == 0 || older.size == checkpoint.size => Vec::new(),
            _ => {
                return Err(VerifyFailure {
                    check: "consistency",
                    error: SealError::ConsistencyProofInvalid,
                })
            }
        };
        verify::check_consistency(&older, &checkpoint, &proof).map_err(fail("consistency"))?;
        checks.push("consistency");
    }
    Ok(VerifyReport {
        tender: receipt.tender_id.clone(),
        bidder: receipt.bidder_id.clone(),
        envelope: receipt.envelope_kind.as_str().to_string(),
        received_at: seal::receipt::canonical_time(&receipt.received_at),
        leaf_index: bundle.leaf_index.unwrap_or_default(),
        checkpoint_size: checkpoint.size,
        checks,
    })
}
