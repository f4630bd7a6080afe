//! Envelopes: streaming age encryption to a tender's X25519 recipient.
//!
//! Encryption hashes the ciphertext as it is written, so the receipt's SHA-256 and size come
//! for free. Memory stays flat whatever the size: data moves through a small copy buffer and
//! age's own 64 KiB STREAM chunk; nothing is ever held whole.

use std::io::{self, Read, Write};
use std::iter;

use sha2::{Digest, Sha256};

use crate::merkle::Hash;
use crate::{Result, SealError};

pub use age::x25519::{Identity as AgeIdentity, Recipient as AgeRecipient};

/// What the storage needs to know about a sealed envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedInfo {
    /// SHA-256 of the ciphertext exactly as written.
    pub sha256: Hash,
    /// Ciphertext size in bytes.
    pub size: u64,
}

/// A writer that hashes and counts everything passing through it.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Returns the inner writer and the digest and size of what was written.
    pub fn finish(self) -> (W, SealedInfo) {
        let info = SealedInfo {
            sha256: self.hasher.finalize().into(),
            size: self.size,
        };
        (self.inner, info)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Hash only what the inner writer actually accepted.
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Parses an age X25519 recipient (`age1...`).
pub fn parse_recipient(s: &str) -> Result<AgeRecipient> {
    s.trim()
        .parse::<AgeRecipient>()
        .map_err(|e| SealError::InvalidAgeKey(e.to_string()))
}

/// Parses an age X25519 identity (`AGE-SECRET-KEY-1...`).
pub fn parse_identity(s: &str) -> Result<AgeIdentity> {
    s.trim()
        .parse::<AgeIdentity>()
        .map_err(|e| SealError::InvalidAgeKey(e.to_string()))
}

/// Encrypts everything from `reader` to `recipient`, writing age ciphertext to `writer`.
/// Returns the SHA-256 and size of the ciphertext written. The writer is flushed but not
/// synced: the caller fsyncs files before issuing a receipt.
pub fn seal_stream<R: Read, W: Write>(recipient: &AgeRecipient, mut reader: R, writer: W) -> Result<SealedInfo> {
    let encryptor = age::Encryptor::with_recipients(iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| SealError::EnvelopeEncrypt(e.to_string()))?;
    let hashing = HashingWriter::new(writer);
    let mut sealed = encryptor.wrap_output(hashing)?;
    io::copy(&mut reader, &mut sealed)?;
    let mut hashing = sealed.finish()?;
    hashing.flush()?;
    let (_, info) = hashing.finish();
    Ok(info)
}

/// Decrypts an age ciphertext from `reader` with `identity`, writing plaintext to `writer`.
/// Returns the plaintext size. Authentication is per chunk: on error, part of the plaintext
/// may already have been written, and the caller must discard it.
pub fn open_stream<R: Read, W: Write>(identity: &dyn age::Identity, reader: R, mut writer: W) -> Result<u64> {
    let decryptor = age::Decryptor::new(reader).map_err(|e| SealError::EnvelopeDecrypt(e.to_string()))?;
    let mut plain = decryptor
        .decrypt(iter::once(identity))
        .map_err(|e| SealError::EnvelopeDecrypt(e.to_string()))?;
    let n = io::copy(&mut plain, &mut writer).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => SealError::EnvelopeDecrypt(e.to_string()),
        _ => SealError::Io(e),
    })?;
    writer.flush()?;
    Ok(n)
}

/// SHA-256 and size of a stream (e.g. a stored envelope file), read in small chunks.
pub fn digest_stream<R: Read>(mut reader: R) -> Result<SealedInfo> {
    let mut hashing = HashingWriter::new(io::sink());
    io::copy(&mut reader, &mut hashing)?;
    Ok(hashing.finish().1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: &[u8] = b"OFFERTA-ECONOMICA-RIBASSO-12.345%";

    /// A reader producing `len` bytes of patterned plaintext with the marker inside,
    /// generated on the fly (never held whole).
    struct Plaintext {
        pos: u64,
        len: u64,
    }

    fn byte_at(pos: u64) -> u8 {
        let block = pos / 4096;
        let off = (pos % 4096) as usize;
        if off < MARKER.len() {
            MARKER[off]
        } else {
            (block.wrapping_mul(31).wrapping_add(off as u64 * 7) % 251) as u8
        }
    }

    impl Read for Plaintext {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min((self.len - self.pos) as usize);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = byte_at(self.pos + i as u64);
            }
            self.pos += n as u64;
            Ok(n)
        }
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn seal_and_open_a_few_megabytes() {
        let identity = AgeIdentity::generate();
        let recipient = identity.to_public();
        let len = 5 * 1024 * 1024 + 123;
        let mut ciphertext = Vec::new();
        let info = seal_stream(&recipient, Plaintext { pos: 0, len }, &mut ciphertext).expect("seal");

        assert_eq!(info.size, ciphertext.len() as u64);
        assert_eq!(info.sha256, <[u8; 32]>::from(Sha256::digest(&ciphertext)));
        assert_eq!(digest_stream(&ciphertext[..]).expect("digest"), info);
        assert!(ciphertext.starts_with(b"age-encryption.org/v1\n"));
        assert!(!contains(&ciphertext, MARKER), "plaintext marker leaked");

        let mut plain = Vec::new();
        let n = open_stream(&identity, &ciphertext[..], &mut plain).expect("open");
        assert_eq!(n, len);
        let mut expected = Vec::new();
        Plaintext { pos: 0, len }.read_to_end(&mut expected).expect("gen");
        assert!(plain == expected);
    }

    #[test]
    fn empty_envelope() {
        let identity = AgeIdentity::generate();
        let mut ct = Vec::new();
        seal_stream(&identity.to_public(), &b""[..], &mut ct).expect("seal");
        let mut out = Vec::new();
        assert_eq!(open_stream(&identity, &ct[..], &mut out).expect("open"), 0);
    }

    #[test]
    fn wrong_key_and_tampering_are_refused() {
        let identity = AgeIdentity::generate();
        let mut ct = Vec::new();
        seal_stream(&identity.to_public(), &b"busta tecnica"[..], &mut ct).expect("seal");

        let other = AgeIdentity::generate();
        let err = open_stream(&other, &ct[..], io::sink()).expect_err("wrong key");
        assert_eq!(err.code(), "envelope.decrypt_failed");

        let mut bad = ct.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            open_stream(&identity, &bad[..], io::sink())
                .expect_err("tampered")
                .code(),
            "envelope.decrypt_failed"
        );
        let truncated = &ct[..ct.len() - 5];
        assert!(open_stream(&identity, truncated, io::sink()).is_err());
    }

    #[test]
    fn key_strings_parse() {
        let identity = AgeIdentity::generate();
        let r = parse_recipient(&identity.to_public().to_string()).expect("recipient");
        assert_eq!(r.to_string(), identity.to_public().to_string());
        assert!(parse_recipient("age1notakey").is_err());
        assert!(parse_identity("AGE-SECRET-KEY-1XYZ").is_err());
    }
}
