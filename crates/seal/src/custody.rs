//! Key custody: the tender key ceremony and the k-of-n recombination at opening time.
//!
//! The ceremony generates an age X25519 identity, splits its 32-byte secret with Shamir
//! secret sharing over GF(256) (`vsss-rs`, byte-wise), and encrypts each share to one
//! custodian's own age public key. Only the recipient (public key), k, n and the encrypted
//! shares leave the ceremony; the secret and the plaintext shares are zeroized.
//!
//! Plaintext share encoding (what a custodian decrypts and submits at the opening):
//! `"CSS1" || k (1 byte) || n (1 byte) || share id (1 byte) || 32 share bytes`.

use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::envelope::{open_stream, seal_stream, AgeIdentity, AgeRecipient};
use crate::{Result, SealError};

use bech32::{ToBase32, Variant};

const SHARE_MAGIC: &[u8; 4] = b"CSS1";
const SECRET_LEN: usize = 32;
const SHARE_LEN: usize = SHARE_MAGIC.len() + 3 + SECRET_LEN;
/// Lower-case human-readable part of age secret keys.
const AGE_SECRET_HRP: &str = "age-secret-key-";

/// One custodian's share, encrypted to their own age public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedShare {
    /// The custodian's age public key (`age1...`) the share is encrypted to.
    pub custodian: String,
    /// Binary age ciphertext of the plaintext share.
    pub ciphertext: Vec<u8>,
}

/// What a key ceremony publishes and hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyOutput {
    /// The tender recipient (`age1...`): bidders encrypt envelopes to it.
    pub recipient: String,
    /// Threshold: shares needed to rebuild the key.
    pub k: usize,
    /// Number of custodians and shares.
    pub n: usize,
    /// One encrypted share per custodian, in the order the custodians were given.
    pub shares: Vec<EncryptedShare>,
}

/// A decrypted share, as submitted by a custodian at the opening. Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct KeyShare {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print share material.
        f.debug_struct("KeyShare")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl KeyShare {
    /// Parses plaintext share bytes (see module docs).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != SHARE_LEN || &bytes[..4] != SHARE_MAGIC {
            return Err(SealError::ShareMalformed("formato della quota sconosciuto".into()));
        }
        let share = KeyShare { bytes: bytes.to_vec() };
        let (k, n, id) = (share.k(), share.n(), share.id());
        if k < 2 || k > n || id == 0 {
            return Err(SealError::ShareMalformed("parametri della quota incoerenti".into()));
        }
        Ok(share)
    }

    /// The plaintext share bytes (secret material: handle with care).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Threshold recorded in the share.
    pub fn k(&self) -> usize {
        self.bytes[4] as usize
    }

    /// Number of shares recorded in the share.
    pub fn n(&self) -> usize {
        self.bytes[5] as usize
    }

    /// Share identifier (the x coordinate, 1..=255).
    pub fn id(&self) -> u8 {
        self.bytes[6]
    }

    /// The vsss-rs share: id followed by the share bytes.
    fn vsss_share(&self) -> Vec<u8> {
        self.bytes[6..].to_vec()
    }
}

/// Builds an age identity from 32 secret bytes (via its Bech32 string form).
fn identity_from_secret(secret: &[u8]) -> Result<AgeIdentity> {
    let mut encoded = bech32::encode(AGE_SECRET_HRP, secret.to_base32(), Variant::Bech32)
        .map_err(|e| SealError::SecretSharing(e.to_string()))?;
    let upper = Zeroizing::new(encoded.to_uppercase());
    encoded.zeroize();
    upper
        .parse::<AgeIdentity>()
        .map_err(|e| SealError::SecretSharing(e.to_string()))
}

/// The 32 secret bytes of an age identity (tests only: the ceremony never exports keys).
#[cfg(test)]
fn secret_of(identity: &AgeIdentity) -> Result<Zeroizing<Vec<u8>>> {
    use age::secrecy::ExposeSecret;
    use bech32::FromBase32;
    let s = identity.to_string();
    let lower = Zeroizing::new(s.expose_secret().to_lowercase());
    let (hrp, data, variant) = bech32::decode(&lower).map_err(|e| SealError::SecretSharing(e.to_string()))?;
    if hrp != AGE_SECRET_HRP || variant != Variant::Bech32 {
        return Err(SealError::SecretSharing("chiave age inattesa".into()));
    }
    let bytes = Vec::<u8>::from_base32(&data).map_err(|e| SealError::SecretSharing(e.to_string()))?;
    Ok(Zeroizing::new(bytes))
}

fn check_threshold(k: usize, n: usize) -> Result<()> {
    if k < 2 || k > n || n > 255 {
        return Err(SealError::InvalidThreshold { k, n });
    }
    Ok(())
}

/// Runs a key ceremony: a fresh tender key, split k-of-n, one share per custodian.
pub fn ceremony(custodians: &[AgeRecipient], k: usize) -> Result<CeremonyOutput> {
    let n = custodians.len();
    check_threshold(k, n)?;
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    OsRng.fill_bytes(secret.as_mut());
    let identity = identity_from_secret(secret.as_ref())?;
    let recipient = identity.to_public().to_string();
    drop(identity);

    let mut raw = vsss_rs::Gf256::split_array(k, n, secret.as_ref(), OsRng)
        .map_err(|e| SealError::SecretSharing(format!("{e:?}")))?;
    drop(secret);

    let mut shares = Vec::with_capacity(n);
    let mut result = Ok(());
    for (custodian, share) in custodians.iter().zip(raw.iter()) {
        let mut plain = Zeroizing::new(Vec::with_capacity(SHARE_LEN));
        plain.extend_from_slice(SHARE_MAGIC);
        // k and n fit in a byte: checked above.
        plain.extend_from_slice(&[k as u8, n as u8]);
        plain.extend_from_slice(share);
        let mut ciphertext = Vec::new();
        if let Err(e) = seal_stream(custodian, &plain[..], &mut ciphertext) {
            result = Err(e);
            break;
        }
        shares.push(EncryptedShare {
            custodian: custodian.to_string(),
            ciphertext,
        });
    }
    raw.iter_mut().for_each(|s| s.zeroize());
    result?;
    Ok(CeremonyOutput {
        recipient,
        k,
        n,
        shares,
    })
}

/// A custodian decrypts their share with their own age identity.
pub fn decrypt_share(custodian: &AgeIdentity, share: &EncryptedShare) -> Result<KeyShare> {
    let mut plain = Zeroizing::new(Vec::with_capacity(SHARE_LEN));
    open_stream(custodian, &share.ciphertext[..], &mut *plain).map_err(|e| match e {
        SealError::EnvelopeDecrypt(m) => SealError::ShareDecrypt(m),
        other => other,
    })?;
    KeyShare::from_bytes(&plain)
}

/// Rebuilds the tender identity from at least `k` distinct shares.
///
/// A wrong or corrupted share yields a *different* key rather than an error: use
/// [`combine_for_recipient`] to compare it with the published recipient.
pub fn combine(shares: &[KeyShare], k: usize) -> Result<AgeIdentity> {
    let mut ids: Vec<u8> = shares.iter().map(KeyShare::id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < k || k < 2 {
        return Err(SealError::NotEnoughShares {
            got: ids.len(),
            need: k.max(2),
        });
    }
    if ids.len() != shares.len() {
        return Err(SealError::ShareMalformed("quote duplicate".into()));
    }
    if shares.iter().any(|s| s.k() != k || s.n() != shares[0].n()) {
        return Err(SealError::ShareMalformed(
            "le quote non appartengono alla stessa cerimonia".into(),
        ));
    }
    let raw: Vec<Vec<u8>> = shares.iter().map(KeyShare::vsss_share).collect();
    let raw = Zeroizing::new(raw);
    let secret = vsss_rs::Gf256::combine_array(&*raw).map_err(|e| SealError::SecretSharing(format!("{e:?}")))?;
    let secret = Zeroizing::new(secret);
    let mut raw = raw;
    raw.iter_mut().for_each(|s| s.zeroize());
    identity_from_secret(&secret)
}

/// Like [`combine`], then checks the rebuilt key against the published recipient.
pub fn combine_for_recipient(shares: &[KeyShare], k: usize, recipient: &str) -> Result<AgeIdentity> {
    let identity = combine(shares, k)?;
    if identity.to_public().to_string() != recipient.trim() {
        return Err(SealError::RecipientMismatch);
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope;

    /// `expect_err` needs `Debug` on the success type, which age identities lack.
    fn err_of<T>(r: Result<T>) -> SealError {
        match r {
            Ok(_) => panic!("an error was expected"),
            Err(e) => e,
        }
    }

    struct Setup {
        custodians: Vec<AgeIdentity>,
        out: CeremonyOutput,
        shares: Vec<KeyShare>,
    }

    fn setup(k: usize, n: usize) -> Setup {
        let custodians: Vec<AgeIdentity> = (0..n).map(|_| AgeIdentity::generate()).collect();
        let publics: Vec<AgeRecipient> = custodians.iter().map(AgeIdentity::to_public).collect();
        let out = ceremony(&publics, k).expect("ceremony");
        let shares = custodians
            .iter()
            .zip(&out.shares)
            .map(|(c, s)| decrypt_share(c, s).expect("decrypt share"))
            .collect();
        Setup {
            custodians,
            out,
            shares,
        }
    }

    #[test]
    fn two_of_three_any_pair_rebuilds_the_key() {
        let s = setup(2, 3);
        assert_eq!((s.out.k, s.out.n, s.out.shares.len()), (2, 3, 3));
        assert!(s.out.recipient.starts_with("age1"));
        for (i, c) in s.custodians.iter().enumerate() {
            assert_eq!(s.out.shares[i].custodian, c.to_public().to_string());
        }
        // An envelope sealed to the published recipient opens with the rebuilt key.
        let recipient = envelope::parse_recipient(&s.out.recipient).expect("recipient");
        let mut ct = Vec::new();
        envelope::seal_stream(&recipient, &b"offerta"[..], &mut ct).expect("seal");
        for (a, b) in [(0, 1), (0, 2), (1, 2), (2, 0)] {
            let pair = [s.shares[a].clone(), s.shares[b].clone()];
            let id = combine_for_recipient(&pair, 2, &s.out.recipient).expect("combine");
            let mut plain = Vec::new();
            envelope::open_stream(&id, &ct[..], &mut plain).expect("open");
            assert_eq!(plain, b"offerta");
        }
        combine_for_recipient(&s.shares, 2, &s.out.recipient).expect("all three");
    }

    #[test]
    fn three_of_five() {
        let s = setup(3, 5);
        let three = [s.shares[4].clone(), s.shares[1].clone(), s.shares[2].clone()];
        combine_for_recipient(&three, 3, &s.out.recipient).expect("3 of 5");
        let err = err_of(combine(&three[..2], 3));
        assert_eq!(err.code(), "custody.not_enough_shares");
    }

    #[test]
    fn one_share_is_refused() {
        let s = setup(2, 3);
        let err = err_of(combine(&s.shares[..1], 2));
        assert_eq!(err.code(), "custody.not_enough_shares");
        assert_eq!(err.to_string(), "Quote insufficienti: ne servono 2, ricevute 1");
        // The same share twice does not count as two.
        let twice = [s.shares[0].clone(), s.shares[0].clone()];
        assert_eq!(err_of(combine(&twice, 2)).code(), "custody.not_enough_shares");
        // Asking for a lower threshold than the ceremony's is refused too.
        let s3 = setup(3, 3);
        assert!(combine(&s3.shares[..2], 2).is_err());
    }

    #[test]
    fn wrong_custodian_cannot_decrypt_a_share() {
        let s = setup(2, 3);
        let err = decrypt_share(&s.custodians[1], &s.out.shares[0]).expect_err("wrong custodian");
        assert_eq!(err.code(), "custody.share_decrypt_failed");
    }

    #[test]
    fn corrupted_or_foreign_share_gives_a_different_key() {
        let s = setup(2, 3);
        let mut bytes = s.shares[1].as_bytes().to_vec();
        bytes[10] ^= 0x01;
        let corrupted = KeyShare::from_bytes(&bytes).expect("still well-formed");
        let pair = [s.shares[0].clone(), corrupted];
        let id = combine(&pair, 2).expect("combines");
        assert_ne!(id.to_public().to_string(), s.out.recipient);
        let err = err_of(combine_for_recipient(&pair, 2, &s.out.recipient));
        assert_eq!(err.code(), "custody.recipient_mismatch");

        // A share from another ceremony with the same parameters.
        let other = setup(2, 3);
        let mixed = [s.shares[0].clone(), other.shares[1].clone()];
        assert_eq!(
            err_of(combine_for_recipient(&mixed, 2, &s.out.recipient)).code(),
            "custody.recipient_mismatch"
        );
    }

    #[test]
    fn invalid_parameters() {
        let publics: Vec<AgeRecipient> = (0..3).map(|_| AgeIdentity::generate().to_public()).collect();
        assert_eq!(
            ceremony(&publics, 1).expect_err("k=1").code(),
            "custody.invalid_threshold"
        );
        assert_eq!(
            ceremony(&publics, 4).expect_err("k>n").code(),
            "custody.invalid_threshold"
        );
        assert!(KeyShare::from_bytes(b"garbage").is_err());
    }

    #[test]
    fn secret_roundtrip_through_bech32() {
        let id = AgeIdentity::generate();
        let secret = secret_of(&id).expect("secret");
        assert_eq!(secret.len(), 32);
        let back = identity_from_secret(&secret).expect("identity");
        assert_eq!(back.to_public().to_string(), id.to_public().to_string());
    }
}
