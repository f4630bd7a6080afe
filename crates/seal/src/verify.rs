//! Offline verification: what `centrale verify` and auditors run, with no database and no
//! trust in the server. Each check fails with its own [`SealError`] variant.
//!
//! The RFC 3161 token over [`Receipt::receipt_digest`] is checked with
//! `openssl ts -verify -data <receipt canonical bytes> -in <token> -token_in -CAfile <CA>
//! -untrusted <TSA cert>`: see the auditor bundle recipe.

use std::io::Read;

use ed25519_dalek::VerifyingKey;

use crate::checkpoint::{open_checkpoint, Checkpoint, NoteVerifier};
use crate::envelope::digest_stream;
use crate::merkle::{self, Hash};
use crate::receipt::{LogPosition, Receipt, SignedReceipt};
use crate::{Result, SealError};

/// Checks the receipt's Ed25519 signature, and its inclusion promise if it has one.
pub fn check_receipt_signature(receipt: &SignedReceipt, platform_key: &VerifyingKey) -> Result<()> {
    receipt.verify(platform_key)?;
    if let LogPosition::Promise(p) = &receipt.receipt.position {
        p.verify(platform_key, &receipt.receipt.leaf_hash)?;
    }
    Ok(())
}

/// Checks that the envelope file (read as a stream) has the size and SHA-256 on the receipt.
pub fn check_envelope_file<R: Read>(receipt: &Receipt, envelope: R) -> Result<()> {
    let info = digest_stream(envelope)?;
    if info.size != receipt.size {
        return Err(SealError::EnvelopeSizeMismatch {
            expected: receipt.size,
            actual: info.size,
        });
    }
    if info.sha256 != receipt.ciphertext_sha256 {
        return Err(SealError::EnvelopeDigestMismatch);
    }
    Ok(())
}

/// Checks that the receipt's leaf hash is the hash of its `EnvelopeReceived` leaf data.
pub fn check_leaf_hash(receipt: &Receipt) -> Result<()> {
    if receipt.computed_leaf_hash()? != receipt.leaf_hash {
        return Err(SealError::LeafHashMismatch);
    }
    Ok(())
}

/// The leaf index to prove: the receipt's own, or (for a promise) the one served later by
/// the log, which must agree with the receipt when both exist.
fn leaf_index(receipt: &Receipt, served_index: Option<u64>) -> Result<u64> {
    match (&receipt.position, served_index) {
        (LogPosition::Index(i), None) => Ok(*i),
        (LogPosition::Index(i), Some(j)) if *i == j => Ok(*i),
        (LogPosition::Index(_), Some(_)) => Err(SealError::InclusionProofInvalid),
        (LogPosition::Promise(_), Some(j)) => Ok(j),
        (LogPosition::Promise(_), None) => Err(SealError::ReceiptNotIntegrated),
    }
}

/// Checks that the receipt's leaf is in the tree described by `checkpoint`.
pub fn check_inclusion(
    receipt: &Receipt,
    served_index: Option<u64>,
    proof: &[Hash],
    checkpoint: &Checkpoint,
) -> Result<()> {
    let index = leaf_index(receipt, served_index)?;
    if index >= checkpoint.size {
        return Err(SealError::LeafNotInCheckpoint {
            index,
            size: checkpoint.size,
        });
    }
    merkle::verify_inclusion(&receipt.leaf_hash, index, checkpoint.size, proof, &checkpoint.root)
}

/// Checks that `newer` only appends to `older` (same log, no shrinking, valid proof).
pub fn check_consistency(older: &Checkpoint, newer: &Checkpoint, proof: &[Hash]) -> Result<()> {
    if older.origin != newer.origin {
        return Err(SealError::OriginMismatch(older.origin.clone(), newer.origin.clone()));
    }
    if newer.size < older.size {
        return Err(SealError::LogShrunk {
            old: older.size,
            new: newer.size,
        });
    }
    merkle::verify_consistency(older.size, newer.size, &older.root, &newer.root, proof)
}

/// Everything an auditor needs to check one receipt offline.
pub struct ReceiptAudit<'a, R: Read> {
    /// The signed receipt.
    pub receipt: &'a SignedReceipt,
    /// The platform's receipt-signing public key.
    pub platform_key: &'a VerifyingKey,
    /// The envelope ciphertext file.
    pub envelope: R,
    /// Signed checkpoint note covering the leaf.
    pub checkpoint_note: &'a str,
    /// The log's checkpoint verifier key.
    pub log_key: &'a NoteVerifier,
    /// Leaf index served by the log (needed when the receipt only carries a promise).
    pub served_index: Option<u64>,
    /// Inclusion proof of the leaf in the checkpoint's tree.
    pub inclusion_proof: &'a [Hash],
}

/// Runs every receipt check in order; the first failure is returned.
/// On success returns the verified checkpoint.
pub fn audit_receipt<R: Read>(audit: ReceiptAudit<'_, R>) -> Result<Checkpoint> {
    check_receipt_signature(audit.receipt, audit.platform_key)?;
    let receipt = &audit.receipt.receipt;
    check_envelope_file(receipt, audit.envelope)?;
    check_leaf_hash(receipt)?;
    let checkpoint = open_checkpoint(audit.checkpoint_note, audit.log_key)?;
    check_inclusion(receipt, audit.served_index, audit.inclusion_proof, &checkpoint)?;
    Ok(checkpoint)
}

/// Verifies two signed checkpoint notes and the consistency proof between them.
pub fn audit_checkpoints(
    older_note: &str,
    newer_note: &str,
    log_key: &NoteVerifier,
    proof: &[Hash],
) -> Result<(Checkpoint, Checkpoint)> {
    let older = open_checkpoint(older_note, log_key)?;
    let newer = open_checkpoint(newer_note, log_key)?;
    check_consistency(&older, &newer, proof)?;
    Ok((older, newer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{sign_checkpoint, NoteSigner};
    use crate::envelope::{seal_stream, AgeIdentity};
    use crate::receipt::tests::sample_receipt;
    use crate::receipt::InclusionPromise;
    use chrono::{Duration, Utc};
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "centrale.example.it/log";

    struct World {
        platform: SigningKey,
        log: NoteSigner,
        envelope: Vec<u8>,
        signed: SignedReceipt,
        leaves: Vec<Hash>,
        index: u64,
    }

    /// A log of 13 leaves; the receipt's leaf at index 9.
    fn world(promise: bool) -> World {
        let platform = SigningKey::from_bytes(&[21; 32]);
        let log = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[22; 32])).expect("log key");
        let mut envelope = Vec::new();
        let info = seal_stream(&AgeIdentity::generate().to_public(), &b"busta C"[..], &mut envelope).expect("seal");
        let index = 9;
        let mut receipt = sample_receipt(LogPosition::Index(index));
        receipt.ciphertext_sha256 = info.sha256;
        receipt.size = info.size;
        receipt.leaf_hash = receipt.computed_leaf_hash().expect("leaf");
        if promise {
            receipt.position = LogPosition::Promise(InclusionPromise::sign(
                &platform,
                &receipt.leaf_hash,
                Utc::now() + Duration::seconds(30),
            ));
        }
        let mut leaves: Vec<Hash> = (0..13u64).map(|i| merkle::leaf_hash(&i.to_be_bytes())).collect();
        leaves[index as usize] = receipt.leaf_hash;
        let signed = receipt.sign(&platform).expect("sign");
        World {
            platform,
            log,
            envelope,
            signed,
            leaves,
            index,
        }
    }

    fn note(w: &World, size: u64) -> String {
        let cp = Checkpoint::new(ORIGIN, size, merkle::tree_root(&w.leaves, size).expect("root"));
        sign_checkpoint(&cp, &w.log).expect("sign")
    }

    fn audit<'a>(
        w: &'a World,
        envelope: &'a [u8],
        note: &'a str,
        log_key: &'a NoteVerifier,
        platform_key: &'a VerifyingKey,
        proof: &'a [Hash],
        served_index: Option<u64>,
    ) -> ReceiptAudit<'a, &'a [u8]> {
        ReceiptAudit {
            receipt: &w.signed,
            platform_key,
            envelope,
            checkpoint_note: note,
            log_key,
            served_index,
            inclusion_proof: proof,
        }
    }

    #[test]
    fn a_good_receipt_passes_every_check() {
        for promise in [false, true] {
            let w = world(promise);
            let note = note(&w, 12);
            let proof = merkle::inclusion_proof(&w.leaves, w.index, 12).expect("proof");
            let served = promise.then_some(w.index);
            let pk = w.platform.verifying_key();
            let lk = w.log.verifier();
            let cp = audit_receipt(audit(&w, &w.envelope, &note, &lk, &pk, &proof, served)).expect("ok");
            assert_eq!(cp.size, 12);
        }
    }

    #[test]
    fn each_failure_has_its_own_code() {
        let w = world(false);
        let note12 = note(&w, 12);
        let proof = merkle::inclusion_proof(&w.leaves, w.index, 12).expect("proof");
        let pk = w.platform.verifying_key();
        let lk = w.log.verifier();
        let code = |a: ReceiptAudit<'_, &[u8]>| audit_receipt(a).expect_err("must fail").code();

        // Receipt signed by someone else.
        let other = SigningKey::from_bytes(&[99; 32]).verifying_key();
        assert_eq!(
            code(audit(&w, &w.envelope, &note12, &lk, &other, &proof, None)),
            "receipt.signature_invalid"
        );

        // Envelope file changed (same size) or truncated.
        let mut changed = w.envelope.clone();
        changed[40] ^= 1;
        assert_eq!(
            code(audit(&w, &changed, &note12, &lk, &pk, &proof, None)),
            "verify.envelope_digest_mismatch"
        );
        let short = &w.envelope[..w.envelope.len() - 1];
        assert_eq!(
            code(audit(&w, short, &note12, &lk, &pk, &proof, None)),
            "verify.envelope_size_mismatch"
        );

        // Checkpoint tampered or signed by another key.
        let tampered = note12.replacen("\n12\n", "\n13\n", 1);
        assert_eq!(
            code(audit(&w, &w.envelope, &tampered, &lk, &pk, &proof, None)),
            "checkpoint.signature_invalid"
        );
        let stranger = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[23; 32]))
            .expect("k")
            .verifier();
        assert_eq!(
            code(audit(&w, &w.envelope, &note12, &stranger, &pk, &proof, None)),
            "checkpoint.signature_missing"
        );

        // Proof not matching the checkpoint, or checkpoint not covering the leaf.
        let wrong_proof = merkle::inclusion_proof(&w.leaves, w.index, 11).expect("proof");
        assert_eq!(
            code(audit(&w, &w.envelope, &note12, &lk, &pk, &wrong_proof, None)),
            "merkle.inclusion_proof_invalid"
        );
        let note9 = note(&w, 9);
        assert_eq!(
            code(audit(&w, &w.envelope, &note9, &lk, &pk, &proof, None)),
            "verify.leaf_not_in_checkpoint"
        );
        // A served index that contradicts the receipt.
        assert_eq!(
            code(audit(&w, &w.envelope, &note12, &lk, &pk, &proof, Some(3))),
            "merkle.inclusion_proof_invalid"
        );

        // A promise-only receipt without a served index.
        let wp = world(true);
        let pkp = wp.platform.verifying_key();
        let lkp = wp.log.verifier();
        let notep = note(&wp, 12);
        assert_eq!(
            code(audit(&wp, &wp.envelope, &notep, &lkp, &pkp, &proof, None)),
            "verify.receipt_not_integrated"
        );
    }

    #[test]
    fn leaf_hash_must_match_receipt_content() {
        let w = world(false);
        let mut r = w.signed.receipt.clone();
        r.leaf_hash[0] ^= 1;
        assert_eq!(
            check_leaf_hash(&r).expect_err("mismatch").code(),
            "verify.leaf_hash_mismatch"
        );
        let err = check_leaf_hash(&r).expect_err("mismatch");
        assert_eq!(
            err.to_string(),
            "L'hash della foglia non corrisponde al contenuto della ricevuta"
        );
    }

    #[test]
    fn checkpoints_consistency() {
        let w = world(false);
        let lk = w.log.verifier();
        let (n5, n12) = (note(&w, 5), note(&w, 12));
        let proof = merkle::consistency_proof(&w.leaves, 5, 12).expect("proof");
        audit_checkpoints(&n5, &n12, &lk, &proof).expect("consistent");

        // Swapped order: the log would have shrunk.
        assert_eq!(
            audit_checkpoints(&n12, &n5, &lk, &proof).expect_err("shrunk").code(),
            "verify.log_shrunk"
        );
        // A rewritten history.
        let mut forged = w.leaves.clone();
        forged[2] = merkle::leaf_hash(b"rewritten");
        let cp = Checkpoint::new(ORIGIN, 12, merkle::tree_root(&forged, 12).expect("root"));
        let forged_note = sign_checkpoint(&cp, &w.log).expect("sign");
        let forged_proof = merkle::consistency_proof(&forged, 5, 12).expect("proof");
        assert_eq!(
            audit_checkpoints(&n5, &forged_note, &lk, &forged_proof)
                .expect_err("fork")
                .code(),
            "merkle.consistency_proof_invalid"
        );
        // Another log.
        let other = Checkpoint::new("other.example/log", 12, merkle::tree_root(&w.leaves, 12).expect("root"));
        let older = open_checkpoint(&n5, &lk).expect("open");
        assert_eq!(
            check_consistency(&older, &other, &proof).expect_err("origin").code(),
            "verify.origin_mismatch"
        );
    }
}
