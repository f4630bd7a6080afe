//! The single error type of the crate.
//!
//! Display messages are in Italian (they reach end users and auditors); `code()` gives a
//! stable, machine-readable identifier that never changes once published.

use thiserror::Error;

/// Every failure the seal can report.
#[derive(Debug, Error)]
pub enum SealError {
    // ----- merkle -----
    /// A leaf index or tree size is outside the tree.
    #[error("Indice {index} fuori dall'albero di dimensione {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// Tree sizes that make no sense together (e.g. old size larger than new size).
    #[error("Dimensioni dell'albero non valide: {old} e {new}")]
    InvalidTreeSizes { old: u64, new: u64 },
    /// The leaf store could not provide a leaf hash.
    #[error("Impossibile leggere la foglia {index} del registro: {reason}")]
    LeafUnavailable { index: u64, reason: String },
    /// An inclusion proof does not lead to the expected root.
    #[error("Prova di inclusione non valida")]
    InclusionProofInvalid,
    /// A consistency proof does not link the two roots.
    #[error("Prova di consistenza non valida")]
    ConsistencyProofInvalid,

    // ----- checkpoint / signed note -----
    /// The checkpoint body does not follow the C2SP tlog-checkpoint format.
    #[error("Checkpoint malformato: {0}")]
    CheckpointMalformed(String),
    /// The signed note does not follow the C2SP signed-note format.
    #[error("Nota firmata malformata: {0}")]
    NoteMalformed(String),
    /// No signature line from the expected key is present.
    #[error("Nessuna firma della chiave «{0}» sul checkpoint")]
    NoteSignatureMissing(String),
    /// A signature line from the expected key is present but does not verify.
    #[error("Firma del checkpoint non valida")]
    NoteSignatureInvalid,
    /// A signer/verifier key name is not acceptable in a signed note.
    #[error("Nome di chiave non valido per la nota firmata: {0}")]
    InvalidKeyName(String),

    // ----- receipt -----
    /// The receipt cannot be parsed or holds an invalid field.
    #[error("Ricevuta malformata: {0}")]
    ReceiptMalformed(String),
    /// The Ed25519 signature on the receipt does not verify.
    #[error("Firma della ricevuta non valida")]
    ReceiptSignatureInvalid,
    /// The signed promise on the receipt does not verify.
    #[error("Firma della promessa di inclusione non valida")]
    PromiseSignatureInvalid,

    // ----- envelope -----
    /// age encryption failed.
    #[error("Cifratura della busta non riuscita: {0}")]
    EnvelopeEncrypt(String),
    /// age decryption failed (wrong key, corrupted or truncated ciphertext).
    #[error("Decifratura della busta non riuscita: {0}")]
    EnvelopeDecrypt(String),
    /// An I/O error while reading or writing a stream.
    #[error("Errore di lettura/scrittura: {0}")]
    Io(#[from] std::io::Error),
    /// An age recipient or identity string could not be parsed.
    #[error("Chiave age non valida: {0}")]
    InvalidAgeKey(String),

    // ----- custody -----
    /// k and n do not describe a valid threshold scheme.
    #[error("Soglia non valida: {k} su {n} (serve 2 ≤ k ≤ n ≤ 255)")]
    InvalidThreshold { k: usize, n: usize },
    /// The number of custodian keys differs from n.
    #[error("Servono {expected} chiavi pubbliche dei custodi, ricevute {got}")]
    CustodianCountMismatch { expected: usize, got: usize },
    /// Fewer shares than the threshold were provided.
    #[error("Quote insufficienti: ne servono {need}, ricevute {got}")]
    NotEnoughShares { got: usize, need: usize },
    /// A share is malformed or inconsistent with the others.
    #[error("Quota della chiave malformata: {0}")]
    ShareMalformed(String),
    /// A custodian's encrypted share could not be decrypted.
    #[error("Impossibile decifrare la quota del custode: {0}")]
    ShareDecrypt(String),
    /// Shamir splitting or combining failed inside the library.
    #[error("Errore nella condivisione del segreto: {0}")]
    SecretSharing(String),
    /// The rebuilt key does not match the published tender recipient.
    #[error("La chiave ricostruita non corrisponde alla chiave pubblica della gara")]
    RecipientMismatch,
    /// A Feldman commitment or a point of the ceremony is malformed.
    #[error("Impegno della cerimonia non valido: {0}")]
    CommitmentMalformed(String),
    /// A Schnorr proof of knowledge of a share does not verify.
    #[error("La prova di possesso della quota non è valida")]
    ProofInvalid,
    /// A share does not match the custodian's public verification share.
    #[error("La quota non corrisponde alla quota pubblica di verifica del custode")]
    ShareInvalid,

    // ----- tsa -----
    /// The TSA key could not be generated, loaded or used.
    #[error("Errore della chiave dell'autorità di marcatura temporale: {0}")]
    TsaKey(String),
    /// A DER structure could not be built or parsed.
    #[error("Struttura DER non valida: {0}")]
    DerMalformed(String),

    // ----- verify -----
    /// The envelope file's SHA-256 differs from the one on the receipt.
    #[error("L'impronta SHA-256 della busta non corrisponde alla ricevuta")]
    EnvelopeDigestMismatch,
    /// The envelope file's size differs from the one on the receipt.
    #[error("La dimensione della busta ({actual} byte) non corrisponde alla ricevuta ({expected} byte)")]
    EnvelopeSizeMismatch { expected: u64, actual: u64 },
    /// The receipt's leaf hash is not the hash of the receipt's log entry.
    #[error("L'hash della foglia non corrisponde al contenuto della ricevuta")]
    LeafHashMismatch,
    /// The receipt only carries a promise: no leaf index to prove inclusion with.
    #[error("La ricevuta non ha ancora un indice nel registro (solo promessa di inclusione)")]
    ReceiptNotIntegrated,
    /// The leaf index is not covered by the checkpoint.
    #[error("La foglia {index} non è coperta dal checkpoint di dimensione {size}")]
    LeafNotInCheckpoint { index: u64, size: u64 },
    /// The two checkpoints come from different logs.
    #[error("I checkpoint appartengono a registri diversi: «{0}» e «{1}»")]
    OriginMismatch(String, String),
    /// The later checkpoint is smaller than the earlier one.
    #[error("Il registro si è ridotto: da {old} a {new} foglie")]
    LogShrunk { old: u64, new: u64 },
}

impl SealError {
    /// Stable machine-readable code for this error (never changes once published).
    pub fn code(&self) -> &'static str {
        match self {
            SealError::IndexOutOfRange { .. } => "merkle.index_out_of_range",
            SealError::InvalidTreeSizes { .. } => "merkle.invalid_tree_sizes",
            SealError::LeafUnavailable { .. } => "merkle.leaf_unavailable",
            SealError::InclusionProofInvalid => "merkle.inclusion_proof_invalid",
            SealError::ConsistencyProofInvalid => "merkle.consistency_proof_invalid",
            SealError::CheckpointMalformed(_) => "checkpoint.malformed",
            SealError::NoteMalformed(_) => "checkpoint.note_malformed",
            SealError::NoteSignatureMissing(_) => "checkpoint.signature_missing",
            SealError::NoteSignatureInvalid => "checkpoint.signature_invalid",
            SealError::InvalidKeyName(_) => "checkpoint.invalid_key_name",
            SealError::ReceiptMalformed(_) => "receipt.malformed",
            SealError::ReceiptSignatureInvalid => "receipt.signature_invalid",
            SealError::PromiseSignatureInvalid => "receipt.promise_signature_invalid",
            SealError::EnvelopeEncrypt(_) => "envelope.encrypt_failed",
            SealError::EnvelopeDecrypt(_) => "envelope.decrypt_failed",
            SealError::Io(_) => "io.error",
            SealError::InvalidAgeKey(_) => "envelope.invalid_age_key",
            SealError::InvalidThreshold { .. } => "custody.invalid_threshold",
            SealError::CustodianCountMismatch { .. } => "custody.custodian_count_mismatch",
            SealError::NotEnoughShares { .. } => "custody.not_enough_shares",
            SealError::ShareMalformed(_) => "custody.share_malformed",
            SealError::ShareDecrypt(_) => "custody.share_decrypt_failed",
            SealError::SecretSharing(_) => "custody.secret_sharing_failed",
            SealError::RecipientMismatch => "custody.recipient_mismatch",
            SealError::CommitmentMalformed(_) => "custody.commitment_malformed",
            SealError::ProofInvalid => "custody.proof_invalid",
            SealError::ShareInvalid => "custody.share_invalid",
            SealError::TsaKey(_) => "tsa.key_error",
            SealError::DerMalformed(_) => "tsa.der_malformed",
            SealError::EnvelopeDigestMismatch => "verify.envelope_digest_mismatch",
            SealError::EnvelopeSizeMismatch { .. } => "verify.envelope_size_mismatch",
            SealError::LeafHashMismatch => "verify.leaf_hash_mismatch",
            SealError::ReceiptNotIntegrated => "verify.receipt_not_integrated",
            SealError::LeafNotInCheckpoint { .. } => "verify.leaf_not_in_checkpoint",
            SealError::OriginMismatch(..) => "verify.origin_mismatch",
            SealError::LogShrunk { .. } => "verify.log_shrunk",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_namespaced_and_messages_italian() {
        let e = SealError::ReceiptSignatureInvalid;
        assert_eq!(e.code(), "receipt.signature_invalid");
        assert_eq!(e.to_string(), "Firma della ricevuta non valida");
        let e = SealError::NotEnoughShares { got: 1, need: 2 };
        assert_eq!(e.code(), "custody.not_enough_shares");
        assert!(e.to_string().contains("servono 2"));
    }
}
