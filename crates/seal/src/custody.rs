//! Key custody without a dealer: a Pedersen/Feldman distributed key generation over
//! Curve25519, and threshold decryption of standard age X25519 envelopes.
//!
//! Each of the n custodians (numbered 1..=n) picks a random polynomial `f_i` of degree k-1,
//! publishes the Feldman commitments `C_i,m = a_i,m·B` of its coefficients and sends `f_i(j)`
//! to custodian j, encrypted to j's own age transport key. Custodian j checks every share
//! it received against its dealer's commitments, keeps `s_j = Σ_i f_i(j)` and proves
//! knowledge of it for the public verification share `S_j = Σ_i Σ_m j^m·C_i,m`.
//! The tender key is `X = Σ_i C_i,0` (anyone recomputes it from the commitments); its
//! secret `x = Σ_i a_i,0 = Σ_j λ_j·s_j` exists only when k custodians' shares are combined
//! at the opening. X, as a Montgomery u-coordinate, is an ordinary age `age1...` recipient:
//! bidders seal with the unmodified age tools.
//!
//! Everything here is database-free; the wire forms (hex of 32-byte compressed points and
//! canonical little-endian scalars) are what the server stores and the CLI prints.

use base64::engine::general_purpose::{STANDARD as B64, STANDARD_NO_PAD as B64_NO_PAD};
use base64::Engine;
use bech32::{ToBase32, Variant};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;

use curve25519_dalek::traits::{Identity as _, IsIdentity};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::envelope::{open_stream, seal_stream, AgeIdentity, AgeRecipient};

use crate::{Result, SealError};
/// The group types, for callers that hold shares and keys.
pub use curve25519_dalek::{edwards::EdwardsPoint as Point, scalar::Scalar};

/// Lower-case human-readable part of age recipients.
const AGE_RECIPIENT_HRP: &str = "age";
/// The age X25519 stanza: tag and HKDF label (c2sp.org/age, "X25519 recipient stanza").
const X25519_TAG: &str = "X25519";
const X25519_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
const FILE_KEY_BYTES: usize = 16;
/// Domain separation of the Schnorr challenge.
const PROOF_DOMAIN: &[u8] = b"centrale-dkg-proof/v1\n";

/// Checks the threshold parameters (2 ≤ k ≤ n ≤ 255).
pub fn check_threshold(k: usize, n: usize) -> Result<()> {
    if k < 2 || k > n || n > 255 {
        return Err(SealError::InvalidThreshold { k, n });
    }
    Ok(())
}

/// A uniformly random scalar (64 random bytes reduced mod ℓ: no bias).
pub fn random_scalar() -> Scalar {
    let mut wide = Zeroizing::new([0u8; 64]);
    OsRng.fill_bytes(wide.as_mut());
    Scalar::from_bytes_mod_order_wide(&wide)
}

/// Hex of a compressed Edwards point.
pub fn point_hex(p: &EdwardsPoint) -> String {
    hex::encode(p.compress().as_bytes())
}

/// Parses a point of the prime-order subgroup (not the identity) from hex.
pub fn parse_point(s: &str) -> Result<EdwardsPoint> {
    let bytes: [u8; 32] = hex::decode(s.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SealError::CommitmentMalformed("serve un punto di 32 byte in esadecimale".into()))?;
    let p = CompressedEdwardsY(bytes)
        .decompress()
        .ok_or_else(|| SealError::CommitmentMalformed("il punto non è sulla curva".into()))?;
    if p.is_identity() || !p.is_torsion_free() {
        return Err(SealError::CommitmentMalformed(
            "il punto non appartiene al sottogruppo di ordine primo".into(),
        ));
    }
    Ok(p)
}

/// Hex of a scalar (canonical little-endian bytes). Secret when the scalar is.
pub fn scalar_hex(s: &Scalar) -> String {
    hex::encode(s.as_bytes())
}

/// Parses a canonical scalar from hex.
pub fn parse_scalar(s: &str) -> Result<Scalar> {
    let mut bytes: [u8; 32] = hex::decode(s.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SealError::ShareMalformed("serve un valore di 32 byte in esadecimale".into()))?;
    let scalar = Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes));
    bytes.zeroize();
    scalar.ok_or_else(|| SealError::ShareMalformed("valore non canonico".into()))
}

/// A custodian's public material as the dealers need it: number (1..=n) and transport key.
#[derive(Debug, Clone)]
pub struct Participant {
    pub index: u32,
    pub transport_key: AgeRecipient,
}

/// One dealer's contribution for one key: the Feldman commitments (k points) and one share
/// per custodian, each encrypted (age) to that custodian's transport key.
#[derive(Debug, Clone)]
pub struct Contribution {
    pub commitments: Vec<EdwardsPoint>,
    /// (custodian number, binary age ciphertext of the 32-byte share).
    pub shares: Vec<(u32, Vec<u8>)>,
}

/// f(x) for the polynomial with `coeffs` (lowest degree first), by Horner's rule.
fn evaluate(coeffs: &[Scalar], x: u32) -> Scalar {
    let x = Scalar::from(x);
    coeffs.iter().rev().fold(Scalar::ZERO, |acc, c| acc * x + c)
}

/// A dealer's contribution: a fresh polynomial of degree k-1, committed and shared among
/// `participants`. The polynomial is wiped before returning; nothing of it stays.
pub fn contribute(k: usize, participants: &[Participant]) -> Result<Contribution> {
    check_threshold(k, participants.len())?;
    let mut coeffs: Vec<Scalar> = (0..k).map(|_| random_scalar()).collect();
    let commitments = coeffs.iter().map(|a| a * B).collect();
    let mut shares = Vec::with_capacity(participants.len());
    let mut result = Ok(());
    for p in participants {
        let share = Zeroizing::new(evaluate(&coeffs, p.index).to_bytes());
        let mut ct = Vec::new();
        if let Err(e) = seal_stream(&p.transport_key, &share[..], &mut ct) {
            result = Err(e);
            break;
        }
        shares.push((p.index, ct));
    }
    coeffs.iter_mut().for_each(Zeroize::zeroize);
    result?;
    Ok(Contribution { commitments, shares })
}

/// A custodian decrypts a share sent to him with his transport identity.
pub fn open_share(identity: &AgeIdentity, ciphertext: &[u8]) -> Result<Scalar> {
    let mut plain = Zeroizing::new(Vec::with_capacity(32));
    open_stream(identity, ciphertext, &mut *plain).map_err(|e| match e {
        SealError::EnvelopeDecrypt(m) => SealError::ShareDecrypt(m),
        other => other,
    })?;
    let bytes: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| SealError::ShareMalformed("la quota non è di 32 byte".into()))?;
    Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes))
        .ok_or_else(|| SealError::ShareMalformed("valore non canonico".into()))
}

/// Σ_m j^m·C_m: what `f(j)·B` must be for a dealer with these commitments.
pub fn expected_share_point(commitments: &[EdwardsPoint], j: u32) -> EdwardsPoint {
    let x = Scalar::from(j);
    commitments
        .iter()
        .rev()
        .fold(EdwardsPoint::identity(), |acc, c| acc * x + c)
}

/// The Feldman check: is `share` the value at `j` of the polynomial committed to?
pub fn share_is_consistent(commitments: &[EdwardsPoint], j: u32, share: &Scalar) -> bool {
    share * B == expected_share_point(commitments, j)
}

/// The tender key X = Σ_i C_i,0 from every dealer's commitments.
pub fn tender_public_key(all: &[Vec<EdwardsPoint>]) -> EdwardsPoint {
    all.iter()
        .filter_map(|c| c.first())
        .fold(EdwardsPoint::identity(), |acc, c| acc + c)
}

/// Custodian j's public verification share S_j = Σ_i Σ_m j^m·C_i,m.
pub fn verification_share(all: &[Vec<EdwardsPoint>], j: u32) -> EdwardsPoint {
    all.iter()
        .map(|c| expected_share_point(c, j))
        .fold(EdwardsPoint::identity(), |acc, p| acc + p)
}

/// The age recipient (`age1...`) of an Edwards point: Bech32 of its Montgomery u-coordinate.
pub fn recipient_of(point: &EdwardsPoint) -> Result<String> {
    bech32::encode(
        AGE_RECIPIENT_HRP,
        point.to_montgomery().to_bytes().to_base32(),
        Variant::Bech32,
    )
    .map_err(|e| SealError::SecretSharing(e.to_string()))
}

/// A Schnorr proof of knowledge of s with S = s·B, bound to `context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub commitment: EdwardsPoint,
    pub response: Scalar,
}

fn challenge(context: &[u8], s_point: &EdwardsPoint, r_point: &EdwardsPoint) -> Scalar {
    let mut h = Sha512::new();
    h.update(PROOF_DOMAIN);
    h.update((context.len() as u64).to_be_bytes());
    h.update(context);
    h.update(s_point.compress().as_bytes());
    h.update(r_point.compress().as_bytes());
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// Proves knowledge of `secret` (S = secret·B) for `context` (tender, kind, custodian).
pub fn prove(secret: &Scalar, context: &[u8]) -> Proof {
    let mut nonce = random_scalar();
    let commitment = nonce * B;
    let c = challenge(context, &(secret * B), &commitment);
    let response = nonce + c * secret;
    nonce.zeroize();
    Proof { commitment, response }
}

/// Verifies a proof of knowledge of the discrete log of `public` for `context`.
pub fn verify_proof(public: &EdwardsPoint, proof: &Proof, context: &[u8]) -> Result<()> {
    let c = challenge(context, public, &proof.commitment);
    if proof.response * B == proof.commitment + c * public {
        Ok(())
    } else {
        Err(SealError::ProofInvalid)
    }
}

/// The context a proof is bound to: one tender, one key (kind), one custodian number.
pub fn proof_context(tender: &str, kind: &str, j: u32) -> Vec<u8> {
    format!("tender {tender}\nkind {kind}\ncustodian {j}\n").into_bytes()
}

/// Combines k (or more) custodians' shares `(j, s_j)` into the secret x by Lagrange
/// interpolation at 0. The caller checks each share against S_j first; the result is an
/// unclamped scalar, wiped on drop.
pub fn combine(shares: &[(u32, Scalar)], k: usize) -> Result<Zeroizing<Scalar>> {
    let mut ids: Vec<u32> = shares.iter().map(|(j, _)| *j).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != shares.len() {
        return Err(SealError::ShareMalformed("quote duplicate".into()));
    }
    if shares.len() < k || k < 2 || ids.first() == Some(&0) {
        return Err(SealError::NotEnoughShares {
            got: shares.len(),
            need: k.max(2),
        });
    }
    let used = &shares[..k];
    let mut x = Zeroizing::new(Scalar::ZERO);
    for (i, (j, s)) in used.iter().enumerate() {
        let xj = Scalar::from(*j);
        let mut num = Scalar::ONE;
        let mut den = Scalar::ONE;
        for (m, (l, _)) in used.iter().enumerate() {
            if m != i {
                let xl = Scalar::from(*l);
                num *= xl;
                den *= xl - xj;
            }
        }
        *x += num * den.invert() * s;
    }
    Ok(x)
}

/// An age identity for a tender key held as an (unclamped) scalar x, rebuilt at the opening.
///
/// Written by hand because age exposes no way to build an identity from anything but a
/// clamped X25519 secret key string, and a threshold secret x = Σ λ_j·s_j is an arbitrary
/// scalar: clamping it would change the key. `age::Identity` is age's extension point; this
/// repeats its X25519 stanza unwrap (c2sp.org/age) with `MontgomeryPoint * Scalar` in place
/// of the clamped Diffie-Hellman.
pub struct ThresholdIdentity {
    secret: Zeroizing<Scalar>,
    public: MontgomeryPoint,
}

impl ThresholdIdentity {
    /// The identity for secret x; `expected` is the tender key X, checked against x·B.
    pub fn new(secret: Zeroizing<Scalar>, expected: &EdwardsPoint) -> Result<Self> {
        let public = *secret * B;
        if &public != expected {
            return Err(SealError::RecipientMismatch);
        }
        Ok(ThresholdIdentity {
            public: public.to_montgomery(),
            secret,
        })
    }

    /// The age recipient this identity decrypts for.
    pub fn recipient(&self) -> String {
        bech32::encode(AGE_RECIPIENT_HRP, self.public.to_bytes().to_base32(), Variant::Bech32).unwrap_or_default()
    }
}

impl age::Identity for ThresholdIdentity {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
        if stanza.tag != X25519_TAG {
            return None;
        }
        let [arg] = &stanza.args[..] else {
            return Some(Err(age::DecryptError::InvalidHeader));
        };
        let Some(epk) = B64_NO_PAD.decode(arg).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()) else {
            return Some(Err(age::DecryptError::InvalidHeader));
        };
        if stanza.body.len() != FILE_KEY_BYTES + 16 {
            return Some(Err(age::DecryptError::InvalidHeader));
        }
        let shared = Zeroizing::new((MontgomeryPoint(epk) * *self.secret).to_bytes());
        if shared.iter().all(|b| *b == 0) {
            return Some(Err(age::DecryptError::InvalidHeader));
        }
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&epk);
        salt[32..].copy_from_slice(self.public.as_bytes());
        let key = Zeroizing::new(age_core::primitives::hkdf(&salt, X25519_LABEL, &shared[..]));
        // Not ours (another stanza's recipient): let age try the next one.
        let mut plain = age_core::primitives::aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body).ok()?;
        let file_key = age_core::format::FileKey::init_with_mut(|k| k.copy_from_slice(&plain));
        plain.zeroize();
        Some(Ok(file_key))
    }
}

/// Base64 of binary data (the wire form of encrypted shares).
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decodes base64 (the wire form of encrypted shares).
pub fn unb64(s: &str) -> Result<Vec<u8>> {
    B64.decode(s.trim())
        .map_err(|_| SealError::ShareMalformed("quota cifrata non in base64".into()))
}

/// SHA-256 hex of a contribution's commitments, as logged (short, stable fingerprint).
pub fn commitments_digest(commitments: &[EdwardsPoint]) -> String {
    let mut h = Sha256::new();
    for c in commitments {
        h.update(c.compress().as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope;

    struct Ceremony {
        transport: Vec<AgeIdentity>,
        contributions: Vec<Contribution>,
        shares: Vec<(u32, Scalar)>,
        key: EdwardsPoint,
    }

    /// A whole dealerless ceremony among n custodians, threshold k.
    fn ceremony(k: usize, n: usize) -> Ceremony {
        let transport: Vec<AgeIdentity> = (0..n).map(|_| AgeIdentity::generate()).collect();
        let participants: Vec<Participant> = transport
            .iter()
            .enumerate()
            .map(|(i, t)| Participant {
                index: i as u32 + 1,
                transport_key: t.to_public(),
            })
            .collect();
        let contributions: Vec<Contribution> = (0..n)
            .map(|_| contribute(k, &participants).expect("contribute"))
            .collect();
        let commitments: Vec<Vec<EdwardsPoint>> = contributions.iter().map(|c| c.commitments.clone()).collect();
        let shares = (0..n)
            .map(|j| {
                let idx = j as u32 + 1;
                let s = contributions.iter().fold(Scalar::ZERO, |acc, c| {
                    let (_, ct) = c.shares.iter().find(|(i, _)| *i == idx).expect("mine");
                    let share = open_share(&transport[j], ct).expect("open share");
                    assert!(share_is_consistent(&c.commitments, idx, &share));
                    acc + share
                });
                assert_eq!(s * B, verification_share(&commitments, idx));
                (idx, s)
            })
            .collect();
        Ceremony {
            transport,
            key: tender_public_key(&commitments),
            contributions,
            shares,
        }
    }

    fn sealed_to(key: &EdwardsPoint, plain: &[u8]) -> Vec<u8> {
        // The unmodified age crate, exactly as a bidder's tool seals.
        let recipient = envelope::parse_recipient(&recipient_of(key).expect("recipient")).expect("parse");
        let mut ct = Vec::new();
        envelope::seal_stream(&recipient, plain, &mut ct).expect("seal");
        ct
    }

    fn decrypt(id: &ThresholdIdentity, ct: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        envelope::open_stream(id, ct, &mut out)?;
        Ok(out)
    }

    #[test]
    fn any_two_of_three_decrypt_an_envelope_sealed_by_plain_age() {
        let c = ceremony(2, 3);
        assert!(recipient_of(&c.key).expect("r").starts_with("age1"));
        let ct = sealed_to(&c.key, b"offerta economica");
        for (a, b) in [(0, 1), (0, 2), (1, 2), (2, 0)] {
            let x = combine(&[c.shares[a], c.shares[b]], 2).expect("combine");
            let id = ThresholdIdentity::new(x, &c.key).expect("identity");
            assert_eq!(id.recipient(), recipient_of(&c.key).expect("r"));
            assert_eq!(decrypt(&id, &ct).expect("open"), b"offerta economica");
        }
    }

    #[test]
    fn three_of_five_and_fewer_than_k_do_not_rebuild_the_key() {
        let c = ceremony(3, 5);
        let ct = sealed_to(&c.key, b"busta A");
        let x = combine(&[c.shares[4], c.shares[1], c.shares[2]], 3).expect("3 of 5");
        let id = ThresholdIdentity::new(x, &c.key).expect("identity");
        assert_eq!(decrypt(&id, &ct).expect("open"), b"busta A");
        // k-1 shares: refused; interpolating them as if k were 2 gives another key.
        assert_eq!(
            combine(&c.shares[..2], 3).expect_err("k-1").code(),
            "custody.not_enough_shares"
        );
        let wrong = combine(&c.shares[..2], 2).expect("combines as 2-of-n");
        assert_eq!(
            ThresholdIdentity::new(wrong, &c.key).err().map(|e| e.code()),
            Some("custody.recipient_mismatch")
        );
        // One custodian's share alone is not the key either.
        let alone = Zeroizing::new(c.shares[0].1);
        assert!(ThresholdIdentity::new(alone, &c.key).is_err());
    }

    #[test]
    fn a_key_rebuilt_for_one_tender_key_does_not_open_another() {
        let a = ceremony(2, 2);
        let other = ceremony(2, 2);
        let ct = sealed_to(&other.key, b"prezzi");
        let id = ThresholdIdentity::new(combine(&a.shares, 2).expect("x"), &a.key).expect("id");
        assert_eq!(
            decrypt(&id, &ct).expect_err("other key").code(),
            "envelope.decrypt_failed"
        );
    }

    #[test]
    fn a_cheating_dealer_is_caught_by_the_feldman_check() {
        let c = ceremony(2, 3);
        // Dealer 1 sends custodian 2 a share of another polynomial.
        let (_, ct) = &c.contributions[1].shares[1];
        let share = open_share(&c.transport[1], ct).expect("open");
        assert!(share_is_consistent(&c.contributions[1].commitments, 2, &share));
        assert!(!share_is_consistent(&c.contributions[0].commitments, 2, &share));
        // A share for custodian 2 does not open with custodian 3's transport key.
        assert_eq!(
            open_share(&c.transport[2], ct).expect_err("not mine").code(),
            "custody.share_decrypt_failed"
        );
    }

    #[test]
    fn proofs_bind_the_share_the_tender_and_the_custodian() {
        let c = ceremony(2, 2);
        let commitments: Vec<Vec<EdwardsPoint>> = c.contributions.iter().map(|x| x.commitments.clone()).collect();
        let (j, s) = c.shares[0];
        let ctx = proof_context("t1", "A", j);
        let proof = prove(&s, &ctx);
        let sj = verification_share(&commitments, j);
        verify_proof(&sj, &proof, &ctx).expect("valid");
        assert!(verify_proof(&sj, &proof, &proof_context("t1", "C", j)).is_err());
        assert!(verify_proof(
            &verification_share(&commitments, 2),
            &proof,
            &proof_context("t1", "A", 2)
        )
        .is_err());
        let forged = prove(&random_scalar(), &ctx);
        assert_eq!(
            verify_proof(&sj, &forged, &ctx).expect_err("forged").code(),
            "custody.proof_invalid"
        );
    }

    #[test]
    fn wire_forms_round_trip_and_reject_junk() {
        let s = random_scalar();
        assert_eq!(parse_scalar(&scalar_hex(&s)).expect("scalar"), s);
        let p = s * B;
        assert_eq!(parse_point(&point_hex(&p)).expect("point"), p);
        assert!(parse_point(&point_hex(&EdwardsPoint::identity())).is_err());
        assert!(parse_point("zz").is_err());
        assert!(parse_scalar(&"ff".repeat(32)).is_err());
        assert_eq!(
            check_threshold(1, 3).expect_err("k=1").code(),
            "custody.invalid_threshold"
        );
        assert!(check_threshold(4, 3).is_err());
    }
}
