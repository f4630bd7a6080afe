//! Generated documents: the award report (verbale di aggiudicazione) as a deterministic PDF
//! written with `pdf-writer` (base-14 Helvetica, WinAnsi encoding), and the CSV export of an
//! ente's audit trail, the auditor's bundle (`bundle`), and the OCDS release packages and feed
//! of published tenders ([`ocds`], `docs/ocds.md`). See `docs/documents.md`.

pub mod bundle;
pub mod export;
pub mod ocds;
pub mod pdf;
pub mod verbale;

/// Hex SHA-256 of a document's bytes (the `X-Content-SHA256` header).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
