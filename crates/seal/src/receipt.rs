//! Receipts: what a bidder gets back for each accepted envelope.
//!
//! # Canonical encoding (version 1)
//!
//! A receipt is encoded as UTF-8 text, one `key value` field per line, in this fixed order,
//! each line ending with a single `\n` (no trailing spaces, no blank lines):
//!
//! ```text
//! centrale-receipt/v1
//! tender <tender id>
//! bidder <bidder id>
//! envelope <A|B|C>
//! ciphertext-sha256 <64 lowercase hex digits>
//! size <decimal, no leading zeros>
//! received-at <RFC 3339 UTC, exactly 6 fractional digits, "Z">
//! leaf-hash <64 lowercase hex digits>
//! leaf-index <decimal>                                   (when the leaf is integrated)
//! promise <integrate-by, same time format> <base64 Ed25519 signature>   (otherwise)
//! ```
//!
//! Identifiers are non-empty and contain no whitespace or control characters.
//! These bytes are what the receipt's Ed25519 signature covers, and
//! [`Receipt::receipt_digest`] is their SHA-256 (what the RFC 3161 token covers).
//! The transport form ([`SignedReceipt::to_text`]) appends one line `signature <base64>`.
//!
//! A promise (like a CT SCT) is signed separately, over
//! `centrale-promise/v1\nleaf-hash <hex>\nintegrate-by <time>\n`.
//!
//! The log leaf of an `EnvelopeReceived` event is [`Receipt::leaf_data`]: the canonical lines
//! from `centrale-envelope-received/v1` through `received-at`, so that `leaf_hash` can be
//! recomputed from the receipt alone.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::{self, Hash};
use crate::{Result, SealError};

const RECEIPT_HEADER: &str = "centrale-receipt/v1";
const PROMISE_HEADER: &str = "centrale-promise/v1";
const LEAF_HEADER: &str = "centrale-envelope-received/v1";

/// The three envelopes of a bid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeKind {
    /// Busta A, documentazione amministrativa.
    A,
    /// Busta B, offerta tecnica.
    B,
    /// Busta C, offerta economica.
    C,
}

impl EnvelopeKind {
    /// The letter used in the canonical encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvelopeKind::A => "A",
            EnvelopeKind::B => "B",
            EnvelopeKind::C => "C",
        }
    }

    /// Parses `A`, `B` or `C`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "A" => Ok(EnvelopeKind::A),
            "B" => Ok(EnvelopeKind::B),
            "C" => Ok(EnvelopeKind::C),
            _ => Err(malformed("tipo di busta diverso da A, B, C")),
        }
    }
}

/// A signed promise to integrate a leaf into the log before a deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionPromise {
    /// Deadline by which the leaf must appear in a signed checkpoint.
    pub integrate_by: DateTime<Utc>,
    /// Ed25519 signature over the promise bytes (see module docs).
    pub signature: [u8; 64],
}

/// Where the receipt's leaf is in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogPosition {
    /// The leaf is integrated at this index.
    Index(u64),
    /// The leaf is pending: a signed promise of integration.
    Promise(InclusionPromise),
}

/// A receipt for one accepted envelope (unsigned part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Tender identifier.
    pub tender_id: String,
    /// Bidder identifier.
    pub bidder_id: String,
    /// Which envelope.
    pub envelope_kind: EnvelopeKind,
    /// SHA-256 of the stored ciphertext.
    pub ciphertext_sha256: Hash,
    /// Size of the stored ciphertext in bytes.
    pub size: u64,
    /// Time of receipt (last byte stored), UTC; encoded with microsecond precision.
    pub received_at: DateTime<Utc>,
    /// Hash of the log leaf recording this envelope.
    pub leaf_hash: Hash,
    /// Leaf index, or a signed promise.
    pub position: LogPosition,
}

/// A receipt with its Ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReceipt {
    /// The receipt.
    pub receipt: Receipt,
    /// Ed25519 signature over `receipt.canonical_bytes()`.
    pub signature: [u8; 64],
}

fn malformed(what: &str) -> SealError {
    SealError::ReceiptMalformed(what.to_string())
}

/// Formats a time the canonical way: RFC 3339, UTC `Z`, 6 fractional digits.
pub fn canonical_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a canonical time, refusing any other spelling.
fn parse_canonical_time(s: &str) -> Result<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|_| malformed("data non in formato RFC 3339"))?
        .with_timezone(&Utc);
    if canonical_time(&t) != s {
        return Err(malformed("data non in forma canonica (UTC, 6 decimali, Z)"));
    }
    Ok(t)
}

fn check_id(id: &str, what: &str) -> Result<()> {
    if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed(&format!("{what} vuoto o con spazi")));
    }
    Ok(())
}

fn parse_hex_hash(s: &str) -> Result<Hash> {
    if s.len() != 64 || s.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(malformed("hash non di 64 cifre esadecimali minuscole"));
    }
    let v = hex::decode(s).map_err(|_| malformed("hash non esadecimale"))?;
    v.try_into().map_err(|_| malformed("hash non di 32 byte"))
}

fn parse_decimal(s: &str) -> Result<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return Err(malformed("numero non decimale canonico"));
    }
    s.parse().map_err(|_| malformed("numero fuori intervallo"))
}

fn parse_signature(s: &str) -> Result<[u8; 64]> {
    let v = B64.decode(s).map_err(|_| malformed("firma non in base64"))?;
    if B64.encode(&v) != s {
        return Err(malformed("firma non in base64 canonico"));
    }
    v.try_into().map_err(|_| malformed("firma non di 64 byte"))
}

/// Bytes of a promise that its signature covers.
pub fn promise_bytes(leaf_hash: &Hash, integrate_by: &DateTime<Utc>) -> Vec<u8> {
    format!(
        "{PROMISE_HEADER}\nleaf-hash {}\nintegrate-by {}\n",
        hex::encode(leaf_hash),
        canonical_time(integrate_by)
    )
    .into_bytes()
}

impl InclusionPromise {
    /// Signs a promise to integrate `leaf_hash` before `integrate_by`.
    pub fn sign(key: &SigningKey, leaf_hash: &Hash, integrate_by: DateTime<Utc>) -> Self {
        let sig = key.sign(&promise_bytes(leaf_hash, &integrate_by));
        InclusionPromise {
            integrate_by,
            signature: sig.to_bytes(),
        }
    }

    /// Checks the promise signature for `leaf_hash`.
    pub fn verify(&self, key: &VerifyingKey, leaf_hash: &Hash) -> Result<()> {
        key.verify(
            &promise_bytes(leaf_hash, &self.integrate_by),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| SealError::PromiseSignatureInvalid)
    }
}

impl Receipt {
    /// Canonical entry lines shared by the receipt and its log leaf (tender .. received-at).
    fn entry_lines(&self) -> Result<String> {
        check_id(&self.tender_id, "identificativo della gara")?;
        check_id(&self.bidder_id, "identificativo dell'operatore")?;
        Ok(format!(
            "tender {}\nbidder {}\nenvelope {}\nciphertext-sha256 {}\nsize {}\nreceived-at {}\n",
            self.tender_id,
            self.bidder_id,
            self.envelope_kind.as_str(),
            hex::encode(self.ciphertext_sha256),
            self.size,
            canonical_time(&self.received_at)
        ))
    }

    /// Data of the `EnvelopeReceived` log leaf for this receipt.
    pub fn leaf_data(&self) -> Result<Vec<u8>> {
        Ok(format!("{LEAF_HEADER}\n{}", self.entry_lines()?).into_bytes())
    }

    /// RFC 6962 leaf hash of [`Receipt::leaf_data`] (what `leaf_hash` should hold).
    pub fn computed_leaf_hash(&self) -> Result<Hash> {
        Ok(merkle::leaf_hash(&self.leaf_data()?))
    }

    /// The canonical bytes (see module docs).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>> {
        let mut s = format!("{RECEIPT_HEADER}\n{}", self.entry_lines()?);
        s.push_str(&format!("leaf-hash {}\n", hex::encode(self.leaf_hash)));
        match &self.position {
            LogPosition::Index(i) => s.push_str(&format!("leaf-index {i}\n")),
            LogPosition::Promise(p) => s.push_str(&format!(
                "promise {} {}\n",
                canonical_time(&p.integrate_by),
                B64.encode(p.signature)
            )),
        }
        Ok(s.into_bytes())
    }

    /// SHA-256 of the canonical bytes: the digest an RFC 3161 token covers.
    pub fn receipt_digest(&self) -> Result<Hash> {
        Ok(Sha256::digest(self.canonical_bytes()?).into())
    }

    /// Signs the receipt with the platform's Ed25519 key.
    pub fn sign(self, key: &SigningKey) -> Result<SignedReceipt> {
        let signature = key.sign(&self.canonical_bytes()?).to_bytes();
        Ok(SignedReceipt {
            receipt: self,
            signature,
        })
    }

    /// Parses canonical bytes back into a receipt (strict: only the canonical form).
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(|_| malformed("non UTF-8"))?;
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed("manca l'a capo finale"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() != 9 || lines[0] != RECEIPT_HEADER {
            return Err(malformed("intestazione o numero di righe errati"));
        }
        let field = |i: usize, key: &str| -> Result<&str> {
            lines[i]
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix(' '))
                .ok_or_else(|| malformed(&format!("campo «{key}» mancante o fuori posto")))
        };
        let position = if let Ok(idx) = field(8, "leaf-index") {
            LogPosition::Index(parse_decimal(idx)?)
        } else {
            let rest = field(8, "promise")?;
            let (t, sig) = rest.split_once(' ').ok_or_else(|| malformed("promessa incompleta"))?;
            LogPosition::Promise(InclusionPromise {
                integrate_by: parse_canonical_time(t)?,
                signature: parse_signature(sig)?,
            })
        };
        let receipt = Receipt {
            tender_id: field(1, "tender")?.to_string(),
            bidder_id: field(2, "bidder")?.to_string(),
            envelope_kind: EnvelopeKind::parse(field(3, "envelope")?)?,
            ciphertext_sha256: parse_hex_hash(field(4, "ciphertext-sha256")?)?,
            size: parse_decimal(field(5, "size")?)?,
            received_at: parse_canonical_time(field(6, "received-at")?)?,
            leaf_hash: parse_hex_hash(field(7, "leaf-hash")?)?,
            position,
        };
        // Re-encoding must give back exactly the input.
        if receipt.canonical_bytes()? != bytes {
            return Err(malformed("codifica non canonica"));
        }
        Ok(receipt)
    }
}

impl SignedReceipt {
    /// Checks the Ed25519 signature with the platform's public key.
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        key.verify_strict(
            &self.receipt.canonical_bytes()?,
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| SealError::ReceiptSignatureInvalid)
    }

    /// Transport form: canonical bytes plus a final `signature <base64>` line.
    pub fn to_text(&self) -> Result<String> {
        let mut s = String::from_utf8(self.receipt.canonical_bytes()?).map_err(|_| malformed("non UTF-8"))?;
        s.push_str(&format!("signature {}\n", B64.encode(self.signature)));
        Ok(s)
    }

    /// Parses the transport form (does not verify the signature).
    pub fn from_text(text: &str) -> Result<Self> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed("manca l'a capo finale"))?;
        let (receipt_part, sig_line) = body
            .rsplit_once('\n')
            .ok_or_else(|| malformed("manca la riga della firma"))?;
        let sig = sig_line
            .strip_prefix("signature ")
            .ok_or_else(|| malformed("manca la riga della firma"))?;
        let receipt = Receipt::from_canonical_bytes(format!("{receipt_part}\n").as_bytes())?;
        Ok(SignedReceipt {
            receipt,
            signature: parse_signature(sig)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn sample_receipt(position: LogPosition) -> Receipt {
        let mut r = Receipt {
            tender_id: "gara-2026-0042".into(),
            bidder_id: "IT01234567890".into(),
            envelope_kind: EnvelopeKind::C,
            ciphertext_sha256: [0xab; 32],
            size: 1_048_576,
            received_at: Utc.with_ymd_and_hms(2026, 3, 14, 11, 59, 58).single().expect("time")
                + chrono::Duration::microseconds(123_456),
            leaf_hash: [0; 32],
            position,
        };
        r.leaf_hash = r.computed_leaf_hash().expect("leaf");
        r
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    #[test]
    fn canonical_bytes_are_as_documented() {
        let r = sample_receipt(LogPosition::Index(7));
        let text = String::from_utf8(r.canonical_bytes().expect("bytes")).expect("utf8");
        let expected = format!(
            "centrale-receipt/v1\ntender gara-2026-0042\nbidder IT01234567890\nenvelope C\n\
             ciphertext-sha256 {}\nsize 1048576\nreceived-at 2026-03-14T11:59:58.123456Z\n\
             leaf-hash {}\nleaf-index 7\n",
            "ab".repeat(32),
            hex::encode(r.leaf_hash)
        );
        assert_eq!(text, expected);
        assert_eq!(
            r.receipt_digest().expect("digest"),
            <[u8; 32]>::from(Sha256::digest(expected.as_bytes()))
        );
        assert_eq!(Receipt::from_canonical_bytes(expected.as_bytes()).expect("parse"), r);
    }

    #[test]
    fn sign_verify_roundtrip_with_index_and_promise() {
        let k = key();
        for position in [
            LogPosition::Index(0),
            LogPosition::Promise(InclusionPromise::sign(
                &k,
                &[5; 32],
                Utc.with_ymd_and_hms(2026, 3, 14, 12, 0, 30).single().expect("t"),
            )),
        ] {
            let signed = sample_receipt(position).sign(&k).expect("sign");
            signed.verify(&k.verifying_key()).expect("valid");
            let text = signed.to_text().expect("text");
            let back = SignedReceipt::from_text(&text).expect("parse");
            assert_eq!(back, signed);
            back.verify(&k.verifying_key()).expect("still valid");
        }
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let k = key();
        let signed = sample_receipt(LogPosition::Index(3)).sign(&k).expect("sign");
        let mut t = signed.clone();
        t.receipt.size += 1;
        let err = t.verify(&k.verifying_key()).expect_err("tampered");
        assert_eq!(err.code(), "receipt.signature_invalid");
        assert_eq!(err.to_string(), "Firma della ricevuta non valida");
        let mut t = signed.clone();
        t.receipt.envelope_kind = EnvelopeKind::B;
        assert!(t.verify(&k.verifying_key()).is_err());
        let mut t = signed.clone();
        t.receipt.position = LogPosition::Index(4);
        assert!(t.verify(&k.verifying_key()).is_err());
        let other = SigningKey::from_bytes(&[10; 32]);
        assert!(signed.verify(&other.verifying_key()).is_err());
        let text = signed.to_text().expect("text").replace("size 1048576", "size 1048577");
        let parsed = SignedReceipt::from_text(&text).expect("parses");
        assert!(parsed.verify(&k.verifying_key()).is_err());
    }

    #[test]
    fn promise_signature() {
        let k = key();
        let deadline = Utc.with_ymd_and_hms(2026, 3, 14, 12, 0, 0).single().expect("t");
        let p = InclusionPromise::sign(&k, &[1; 32], deadline);
        p.verify(&k.verifying_key(), &[1; 32]).expect("valid");
        assert_eq!(
            p.verify(&k.verifying_key(), &[2; 32]).expect_err("other leaf").code(),
            "receipt.promise_signature_invalid"
        );
    }

    #[test]
    fn non_canonical_forms_are_refused() {
        let r = sample_receipt(LogPosition::Index(7));
        let good = String::from_utf8(r.canonical_bytes().expect("bytes")).expect("utf8");
        for bad in [
            good.replace("size 1048576", "size 01048576"),
            good.replace(".123456Z", ".123456+00:00"),
            good.replace(".123456Z", ".123Z"),
            good.replace("envelope C", "envelope D"),
            good.replace(&"ab".repeat(32), &"ab".repeat(32).to_uppercase()),
            good.replace("leaf-index 7\n", "leaf-index 7\nextra 1\n"),
            good.trim_end().to_string(),
        ] {
            assert!(Receipt::from_canonical_bytes(bad.as_bytes()).is_err(), "{bad}");
        }
        let mut r2 = r.clone();
        r2.tender_id = "gara 42".into();
        assert_eq!(r2.canonical_bytes().expect_err("space").code(), "receipt.malformed");
    }
}
