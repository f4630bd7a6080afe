//! Checkpoints: C2SP `tlog-checkpoint` bodies inside C2SP `signed-note`s, signed with Ed25519.
//!
//! Checkpoint body (every line ends with `\n`):
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, standard base64>
//! [extension lines...]
//! ```
//! Signed note: the body, one empty line, then one line per signature:
//! `— <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>`.
//! The key hash is the first 4 bytes of `SHA-256(name || "\n" || 0x01 || public key)`,
//! 0x01 being the signed-note signature type of Ed25519. The signature covers the body text,
//! final newline included.
//!
//! Verifier keys can be exchanged in the usual vkey form `<name>+<hex key hash>+<base64(0x01 || public key)>`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;
use crate::{Result, SealError};

/// Signature type byte of Ed25519 in signed notes.
const ED25519_TYPE: u8 = 0x01;
/// The em dash and space that start every signature line.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// Upper bound on signature lines accepted in one note (as in the reference implementation).
const MAX_SIGNATURES: usize = 100;

/// A transparency log checkpoint: what a signed tree head says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Log identity, e.g. `centrale.example.it/log`.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the first `size` leaves.
    pub root: Hash,
    /// Optional extension lines (each non-empty, without newline).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The checkpoint body text (the note text that gets signed).
    pub fn to_body(&self) -> Result<String> {
        let bad = |what: &str| Err(SealError::CheckpointMalformed(what.to_string()));
        if self.origin.is_empty() || !is_clean_line(&self.origin) {
            return bad("origine vuota o con caratteri non ammessi");
        }
        if self.extensions.iter().any(|e| e.is_empty() || !is_clean_line(e)) {
            return bad("riga di estensione vuota o con caratteri non ammessi");
        }
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for e in &self.extensions {
            body.push_str(e);
            body.push('\n');
        }
        Ok(body)
    }

    /// Parses a checkpoint body (the text of a signed note).
    pub fn parse_body(body: &str) -> Result<Self> {
        let bad = |what: &str| SealError::CheckpointMalformed(what.to_string());
        let Some(stripped) = body.strip_suffix('\n') else {
            return Err(bad("il testo non termina con un a capo"));
        };
        let mut lines = stripped.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() || !is_clean_line(origin) {
            return Err(bad("origine mancante"));
        }
        let size_line = lines.next().ok_or_else(|| bad("dimensione mancante"))?;
        let canonical_decimal = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        if !canonical_decimal {
            return Err(bad("dimensione non decimale"));
        }
        let size: u64 = size_line.parse().map_err(|_| bad("dimensione fuori intervallo"))?;
        let root_line = lines.next().ok_or_else(|| bad("hash radice mancante"))?;
        let root_bytes = B64.decode(root_line).map_err(|_| bad("hash radice non in base64"))?;
        let root: Hash = root_bytes.try_into().map_err(|_| bad("hash radice non di 32 byte"))?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() || !is_clean_line(line) {
                return Err(bad("riga di estensione vuota o non valida"));
            }
            extensions.push(line.to_string());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }
}

/// A line may hold any Unicode text but no control characters (so no newline).
fn is_clean_line(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// Signed-note key names: non-empty, no whitespace, no `+`.
fn check_key_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control()) {
        return Err(SealError::InvalidKeyName(name.to_string()));
    }
    Ok(())
}

/// Key hash of an Ed25519 note key: first 4 bytes of `SHA-256(name || "\n" || 0x01 || key)`.
pub fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_TYPE]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Signs notes under a key name.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl NoteSigner {
    /// A signer named `name` (no whitespace, no `+`) using an Ed25519 key.
    pub fn new(name: impl Into<String>, key: SigningKey) -> Result<Self> {
        let name = name.into();
        check_key_name(&name)?;
        Ok(NoteSigner { name, key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// The signature line (without trailing newline) for a note text.
    fn signature_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&key_hash(&self.name, &self.key.verifying_key()));
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIGNATURE_PREFIX}{} {}", self.name, B64.encode(blob))
    }
}

/// Verifies notes signed under a key name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier for `name` and an Ed25519 public key.
    pub fn new(name: impl Into<String>, key: VerifyingKey) -> Result<Self> {
        let name = name.into();
        check_key_name(&name)?;
        Ok(NoteVerifier { name, key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The 4-byte key hash that identifies this key in signature lines.
    pub fn key_hash(&self) -> [u8; 4] {
        key_hash(&self.name, &self.key)
    }

    /// vkey form: `<name>+<hex key hash>+<base64(0x01 || public key)>`.
    pub fn to_vkey(&self) -> String {
        let mut blob = vec![ED25519_TYPE];
        blob.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.key_hash()), B64.encode(blob))
    }

    /// Parses the vkey form, checking that the key hash matches.
    pub fn from_vkey(vkey: &str) -> Result<Self> {
        let bad = || SealError::NoteMalformed("chiave di verifica (vkey) non valida".into());
        // The base64 key may itself contain '+': split off the name and the hash only.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hash_hex), Some(key_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let blob = B64.decode(key_b64).map_err(|_| bad())?;
        let (ty, raw) = blob.split_first().ok_or_else(bad)?;
        if *ty != ED25519_TYPE {
            return Err(bad());
        }
        let raw: [u8; 32] = raw.try_into().map_err(|_| bad())?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad())?;
        let verifier = NoteVerifier::new(name, key)?;
        if hex::encode(verifier.key_hash()) != hash_hex.to_ascii_lowercase() {
            return Err(bad());
        }
        Ok(verifier)
    }
}

/// One signature line of a signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name as written on the line.
    pub name: String,
    /// The 4-byte key hash.
    pub key_hash: [u8; 4],
    /// The signature bytes (64 for Ed25519; other algorithms are carried opaquely).
    pub signature: Vec<u8>,
}

/// A parsed signed note: text plus signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, ending with a newline.
    pub text: String,
    /// Signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Signs `text` (ending with a newline, without empty lines) with each signer, in order.
    pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<String> {
        check_note_text(text)?;
        if signers.is_empty() {
            return Err(SealError::NoteMalformed("nessun firmatario".into()));
        }
        let mut out = String::with_capacity(text.len() + 100 * signers.len());
        out.push_str(text);
        out.push('\n');
        for s in signers {
            out.push_str(&s.signature_line(text));
            out.push('\n');
        }
        Ok(out)
    }

    /// Parses a signed note (syntax only: no signature is checked here).
    pub fn parse(note: &str) -> Result<Self> {
        let bad = |what: &str| SealError::NoteMalformed(what.to_string());
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad("caratteri di controllo nel testo"));
        }
        let Some(split) = note.rfind("\n\n") else {
            return Err(bad("manca la riga vuota prima delle firme"));
        };
        let text = &note[..split + 1];
        let sig_block = &note[split + 2..];
        let Some(sig_block) = sig_block.strip_suffix('\n') else {
            return Err(bad("la nota non termina con un a capo"));
        };
        check_note_text(text)?;
        let mut signatures = Vec::new();
        for line in sig_block.split('\n') {
            let rest = line
                .strip_prefix(SIGNATURE_PREFIX)
                .ok_or_else(|| bad("riga di firma senza «— »"))?;
            let (name, b64) = rest.split_once(' ').ok_or_else(|| bad("riga di firma senza spazio"))?;
            check_key_name(name).map_err(|_| bad("nome di chiave non valido nella firma"))?;
            let blob = B64.decode(b64).map_err(|_| bad("firma non in base64"))?;
            if blob.len() < 5 {
                return Err(bad("firma troppo corta"));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_hash: [blob[0], blob[1], blob[2], blob[3]],
                signature: blob[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(bad("nessuna firma"));
        }
        if signatures.len() > MAX_SIGNATURES {
            return Err(bad("troppe firme"));
        }
        Ok(SignedNote {
            text: text.to_string(),
            signatures,
        })
    }

    /// Checks that the note carries a valid signature by `verifier`.
    ///
    /// Signatures by other keys are ignored; a signature line that claims to be from
    /// `verifier` (same name and key hash) but does not verify makes the note invalid.
    pub fn verify(&self, verifier: &NoteVerifier) -> Result<()> {
        let expected_hash = verifier.key_hash();
        let mut found = false;
        for s in &self.signatures {
            if s.name != verifier.name || s.key_hash != expected_hash {
                continue;
            }
            found = true;
            let sig_bytes: [u8; 64] = s
                .signature
                .as_slice()
                .try_into()
                .map_err(|_| SealError::NoteSignatureInvalid)?;
            let sig = Signature::from_bytes(&sig_bytes);
            verifier
                .key
                .verify(self.text.as_bytes(), &sig)
                .map_err(|_| SealError::NoteSignatureInvalid)?;
        }
        if found {
            Ok(())
        } else {
            Err(SealError::NoteSignatureMissing(verifier.name.clone()))
        }
    }
}

fn check_note_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') || text.contains("\n\n") || text.starts_with('\n') {
        return Err(SealError::NoteMalformed(
            "il testo deve terminare con un a capo e non contenere righe vuote".into(),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(SealError::NoteMalformed("caratteri di controllo nel testo".into()));
    }
    Ok(())
}

/// Signs a checkpoint: returns the full signed note text.
pub fn sign_checkpoint(checkpoint: &Checkpoint, signer: &NoteSigner) -> Result<String> {
    SignedNote::sign(&checkpoint.to_body()?, &[signer])
}

/// Parses a signed checkpoint note, checks the signature by `verifier`, returns the checkpoint.
pub fn open_checkpoint(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint> {
    let parsed = SignedNote::parse(note)?;
    parsed.verify(verifier)?;
    Checkpoint::parse_body(&parsed.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, seed: u8) -> NoteSigner {
        NoteSigner::new(name, SigningKey::from_bytes(&[seed; 32])).expect("signer")
    }

    fn sample() -> Checkpoint {
        let mut cp = Checkpoint::new("centrale.example.it/log", 1234, [0xab; 32]);
        cp.extensions.push("tender 42 closed".into());
        cp
    }

    #[test]
    fn body_format_and_roundtrip() {
        let cp = Checkpoint::new("example.com/log", 8, crate::merkle::empty_root());
        assert_eq!(
            cp.to_body().expect("body"),
            "example.com/log\n8\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
        let cp = sample();
        let body = cp.to_body().expect("body");
        assert_eq!(Checkpoint::parse_body(&body).expect("parse"), cp);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let root = B64.encode([1u8; 32]);
        for body in [
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            "o\n1\nAAAA\n".to_string(),
            format!("o\n1\n{root}\n\n"),
            "o\n1\n".to_string(),
        ] {
            let err = Checkpoint::parse_body(&body).expect_err(&body);
            assert_eq!(err.code(), "checkpoint.malformed");
        }
    }

    #[test]
    fn key_hash_follows_signed_note_spec() {
        let s = signer("PeterNeumann", 7);
        let v = s.verifier();
        let mut h = Sha256::new();
        h.update(b"PeterNeumann\n\x01");
        h.update(v.key().as_bytes());
        assert_eq!(v.key_hash(), h.finalize()[..4]);
        let vkey = v.to_vkey();
        assert!(vkey.starts_with("PeterNeumann+"));
        assert_eq!(NoteVerifier::from_vkey(&vkey).expect("vkey"), v);
        assert!(NoteVerifier::from_vkey(&vkey.replace("PeterNeumann", "Other")).is_err());
    }

    #[test]
    fn vkeys_whose_base64_holds_a_plus_round_trip() {
        let with_plus = (0u8..=255)
            .map(|seed| signer("example.com/log", seed).verifier())
            .find(|v| v.to_vkey().matches('+').count() > 2)
            .expect("some key encodes with a '+'");
        assert_eq!(NoteVerifier::from_vkey(&with_plus.to_vkey()).expect("vkey"), with_plus);
    }

    /// The reference vector of the Go `golang.org/x/mod/sumdb/note` documentation.
    #[test]
    fn go_sumdb_note_reference_vector() {
        let skey_blob = B64.decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz").expect("b64");
        assert_eq!(skey_blob[0], 0x01);
        let seed: [u8; 32] = skey_blob[1..].try_into().expect("seed");
        let s = NoteSigner::new("PeterNeumann", SigningKey::from_bytes(&seed)).expect("signer");
        assert_eq!(
            s.verifier().to_vkey(),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        let expected = format!(
            "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );
        assert_eq!(SignedNote::sign(text, &[&s]).expect("sign"), expected);
        let v = NoteVerifier::from_vkey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .expect("vkey");
        SignedNote::parse(&expected).expect("parse").verify(&v).expect("verify");
    }

    #[test]
    fn sign_parse_verify() {
        let s = signer("centrale.example.it/log", 1);
        let note = sign_checkpoint(&sample(), &s).expect("sign");
        let sig_line = note.lines().last().expect("line");
        assert!(sig_line.starts_with("\u{2014} centrale.example.it/log "));
        assert!(note.contains("\n\n\u{2014} "));
        let cp = open_checkpoint(&note, &s.verifier()).expect("verify");
        assert_eq!(cp, sample());
        let parsed = SignedNote::parse(&note).expect("parse");
        assert_eq!(parsed.signatures.len(), 1);
        assert_eq!(parsed.signatures[0].key_hash, s.verifier().key_hash());
        assert_eq!(parsed.signatures[0].signature.len(), 64);
    }

    #[test]
    fn tampered_text_fails() {
        let s = signer("log", 1);
        let note = sign_checkpoint(&sample(), &s).expect("sign");
        let tampered = note.replace("\n1234\n", "\n1235\n");
        assert_ne!(tampered, note);
        let err = open_checkpoint(&tampered, &s.verifier()).expect_err("tampered");
        assert_eq!(err.code(), "checkpoint.signature_invalid");
        assert_eq!(err.to_string(), "Firma del checkpoint non valida");
        let tampered = note.replace("tender 42", "tender 43");
        assert!(open_checkpoint(&tampered, &s.verifier()).is_err());
    }

    #[test]
    fn tampered_signature_fails() {
        let s = signer("log", 1);
        let note = sign_checkpoint(&sample(), &s).expect("sign");
        let parsed = SignedNote::parse(&note).expect("parse");
        let mut blob = parsed.signatures[0].key_hash.to_vec();
        let mut sig = parsed.signatures[0].signature.clone();
        sig[10] ^= 1;
        blob.extend_from_slice(&sig);
        let forged = format!("{}\n\u{2014} log {}\n", parsed.text, B64.encode(blob));
        assert_eq!(
            open_checkpoint(&forged, &s.verifier()).expect_err("bad sig").code(),
            "checkpoint.signature_invalid"
        );
    }

    #[test]
    fn other_keys_are_ignored_but_needed_key_must_sign() {
        let ours = signer("log", 1);
        let witness = signer("witness.example", 2);
        let text = sample().to_body().expect("body");
        let note = SignedNote::sign(&text, &[&witness, &ours]).expect("sign");
        open_checkpoint(&note, &ours.verifier()).expect("ours");
        open_checkpoint(&note, &witness.verifier()).expect("witness");
        let only_witness = SignedNote::sign(&text, &[&witness]).expect("sign");
        let err = open_checkpoint(&only_witness, &ours.verifier()).expect_err("missing");
        assert_eq!(err.code(), "checkpoint.signature_missing");
        // Same name, different key: not our signature.
        let impostor = signer("log", 3);
        let fake = SignedNote::sign(&text, &[&impostor]).expect("sign");
        assert_eq!(
            open_checkpoint(&fake, &ours.verifier()).expect_err("impostor").code(),
            "checkpoint.signature_missing"
        );
    }

    #[test]
    fn malformed_notes_are_refused() {
        let s = signer("log", 1);
        let note = sign_checkpoint(&sample(), &s).expect("sign");
        for bad in [
            note.trim_end().to_string(),
            note.replace("\n\n", "\n"),
            note.replace('\u{2014}', "-"),
            note.replace("\n1234\n", "\n12\r34\n"),
        ] {
            assert!(SignedNote::parse(&bad).is_err(), "{bad:?}");
        }
        assert!(NoteSigner::new("bad name", SigningKey::from_bytes(&[1; 32])).is_err());
        assert!(NoteSigner::new("a+b", SigningKey::from_bytes(&[1; 32])).is_err());
    }
}
