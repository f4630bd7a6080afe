//! Generated documents (see `docs/documents.md`): the bid receipt, the minutes of an opening
//! session, the award report and the tender summary as deterministic PDF (`pdf`, an embedded
//! subset of DejaVu Sans, tables, aiming at PDF/A-2b), issued once and stored (`issued`); the
//! CSV export of an ente's audit trail; the auditor's bundle (`bundle`); and the OCDS release
//! packages and feed of published tenders ([`ocds`], `docs/ocds.md`).

pub mod bundle;
pub mod error;
pub mod export;
pub mod issued;
pub mod ocds;
pub mod pdf;
pub mod ricevuta;
pub mod riepilogo;
pub mod seduta;
pub mod verbale;

pub use error::DocumentError;

/// Hex SHA-256 of a document's bytes (the `X-Content-SHA256` header).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
