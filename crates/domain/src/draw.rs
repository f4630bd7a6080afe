//! Public draws (sorteggi) nobody can choose: every lottery of the platform (ties in a ranking,
//! the rotation of invitees) takes its randomness from a *beacon*, a public text fixed before
//! anyone could see what the draw decides (a signed checkpoint of the transparency log), and
//! anyone can recompute it (`POST /api/v1/tools/draw`, `centrale draw`). No caller supplies a
//! seed. See docs/legal.md, "Draws".
//!
//! Algorithm `centrale-draw/v1`:
//! 1. seed = SHA-256 of the UTF-8 text
//!    `centrale-draw/v1\npurpose <purpose>\nsubject <subject>\nbeacon-sha256 <hex SHA-256 of the beacon text's UTF-8 bytes>\n`
//!    (purpose and subject: one line each, no CR/LF; the beacon is hashed so that any text,
//!    a multi-line signed note included, is encoded without ambiguity);
//! 2. the candidates are sorted by byte order and duplicates removed (the order in which they
//!    are given does not matter);
//! 3. generator: ChaCha8 (`rand_chacha` 0.3, `ChaCha8Rng::from_seed(seed)`), read as 64-bit
//!    words (`next_u64`: the first two 32-bit outputs of the block stream, little-endian);
//! 4. Fisher–Yates: for i from n−1 down to 1, draw j uniformly in 0..=i — take x = next_u64,
//!    reject while x ≥ 2^64 − (2^64 mod (i+1)), then j = x mod (i+1) — and swap positions i
//!    and j. The first of the resulting order is the one drawn.

use std::fmt;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// The header of the seed's encoding: a new algorithm gets a new version.
pub const VERSION: &str = "centrale-draw/v1";

/// What a draw decides (the `purpose` line of the seed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Offers still tied after the ranking's rules; subject = the evaluated tender or lot id.
    TieBreak,
    /// Invitees with the same number of invitations (art. 49); subject = the proposal id.
    InvitationRotation,
    /// The Allegato II.2 method drawn at the evaluation among those the tender allows (art. 54
    /// c.2); subject = the evaluated tender or lot id, candidates = the methods ("A", "B", "C").
    AnomalyMethod,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TieBreak => "tie-break",
            Self::InvitationRotation => "invitation-rotation",
            Self::AnomalyMethod => "anomaly-method",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tie-break" => Some(Self::TieBreak),
            "invitation-rotation" => Some(Self::InvitationRotation),
            "anomaly-method" => Some(Self::AnomalyMethod),
            _ => None,
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subject that is not one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("il soggetto del sorteggio deve essere una sola riga non vuota")]
pub struct BadSubject;

/// The 32-byte seed of a draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seed(pub [u8; 32]);

impl Seed {
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// The text the seed is the SHA-256 of (step 1 of the module's algorithm).
pub fn seed_input(purpose: Purpose, subject: &str, beacon: &str) -> Result<String, BadSubject> {
    if subject.trim().is_empty() || subject.contains(['\r', '\n']) {
        return Err(BadSubject);
    }
    Ok(format!(
        "{VERSION}\npurpose {purpose}\nsubject {subject}\nbeacon-sha256 {}\n",
        hex::encode(Sha256::digest(beacon.as_bytes()))
    ))
}

/// The seed of the draw for `purpose` on `subject` from the public `beacon` text.
pub fn seed(purpose: Purpose, subject: &str, beacon: &str) -> Result<Seed, BadSubject> {
    Ok(Seed(
        Sha256::digest(seed_input(purpose, subject, beacon)?.as_bytes()).into(),
    ))
}

/// The order in which `candidates` are drawn (first = drawn first), steps 2–4.
pub fn order(seed: &Seed, candidates: &[String]) -> Vec<String> {
    let mut pool: Vec<String> = candidates.to_vec();
    pool.sort();
    pool.dedup();
    let mut rng = ChaCha8Rng::from_seed(seed.0);
    for i in (1..pool.len()).rev() {
        let j = below(&mut rng, i as u64 + 1) as usize;
        pool.swap(i, j);
    }
    pool
}

/// Uniform in 0..bound (bound > 0), by rejection (no modulo bias).
fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}

/// What the public calculator takes (`POST /api/v1/tools/draw`, `centrale draw`).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawRequest {
    /// `tie-break`, `invitation-rotation` or `anomaly-method`.
    pub purpose: String,
    /// The evaluated tender or lot id (tie-break), the proposal id (invitation-rotation).
    pub subject: String,
    /// The beacon text: the signed checkpoint recorded with the draw, exactly as published.
    pub beacon: String,
    /// The candidates, in any order (bidder ids, operatore ids).
    pub candidates: Vec<String>,
}

/// The calculator's answer: every input of the seed, the seed, the order.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DrawResult {
    pub algorithm: String,
    /// The text whose SHA-256 is the seed.
    pub seed_input: String,
    /// Hex SHA-256 of `seed_input`.
    pub seed: String,
    /// The candidates in drawn order.
    pub order: Vec<String>,
    /// The first drawn (absent when there are no candidates).
    pub drawn: Option<String>,
}

/// Why a calculator request is refused: (machine code, field, Italian message).
pub type DrawRefusal = (&'static str, &'static str, String);

/// The public calculator: recomputes any draw of the platform from its published inputs.
pub fn compute(request: &DrawRequest) -> Result<DrawResult, DrawRefusal> {
    let purpose = Purpose::parse(request.purpose.trim()).ok_or((
        "draw_purpose_unknown",
        "purpose",
        "Finalità del sorteggio sconosciuta: tie-break, invitation-rotation o anomaly-method".to_string(),
    ))?;
    if request.candidates.len() > 10_000 {
        return Err((
            "too_many_candidates",
            "candidates",
            "Al più 10.000 candidati".to_string(),
        ));
    }
    let input = seed_input(purpose, &request.subject, &request.beacon)
        .map_err(|e| ("draw_subject_invalid", "subject", e.to_string()))?;
    let seed = seed(purpose, &request.subject, &request.beacon)
        .map_err(|e| ("draw_subject_invalid", "subject", e.to_string()))?;
    let order = order(&seed, &request.candidates);
    Ok(DrawResult {
        algorithm: VERSION.to_string(),
        seed_input: input,
        seed: seed.hex(),
        drawn: order.first().cloned(),
        order,
    })
}

/// A public checkpoint used as a beacon: its text and where it sits in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeaconText {
    /// The signed note, as served by `GET /api/v1/log/checkpoint?size=<tree_size>`.
    pub text: String,
    pub tree_size: u64,
}

/// Where a crate below the log (the registry) gets a beacon from: implemented by the log's
/// owner (`offerte::log::LogBeacon`) and passed in from the api layer. `C` is the caller's
/// connection.
///
/// Commit, then draw: the caller first appends what the draw is over (its candidates) as a
/// leaf, and the beacon is the checkpoint signed right after, the first one that includes
/// that leaf. Whoever asks for the draw fixes the candidates before any beacon that decides
/// their order exists, and cannot pick another checkpoint afterwards: the leaf's index names
/// the one that counts.
pub trait Beacon<C: ?Sized> {
    /// Appends `data` to the public log (in the caller's transaction) and signs the checkpoint
    /// that first includes it. Returns that checkpoint and the leaf's index.
    fn commit(&self, conn: &mut C, data: &[u8], at: chrono::DateTime<chrono::Utc>) -> Result<Committed, String>;
}

/// A commitment in the log and the beacon that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub leaf_index: u64,
    pub beacon: BeaconText,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_seed_is_the_documented_sha256() {
        let input = seed_input(Purpose::TieBreak, "lotto-1", "beacon").expect("input");
        // The beacon enters only through its hash (checked against sha256sum by hand).
        assert_eq!(
            input,
            format!(
                "centrale-draw/v1\npurpose tie-break\nsubject lotto-1\nbeacon-sha256 {}\n",
                hex::encode(Sha256::digest(b"beacon"))
            )
        );
        let s = seed(Purpose::TieBreak, "lotto-1", "beacon").expect("seed");
        assert_eq!(s.0, <[u8; 32]>::from(Sha256::digest(input.as_bytes())));
        assert!(seed(Purpose::TieBreak, "a\nb", "x").is_err());
        assert!(seed(Purpose::TieBreak, " ", "x").is_err());
    }

    #[test]
    fn the_order_is_reproducible_whatever_the_input_order_and_depends_on_every_input() {
        let s = seed(Purpose::TieBreak, "t", "checkpoint").expect("seed");
        let a = order(&s, &ids(&["O3", "O1", "O2", "O1"]));
        assert_eq!(a, order(&s, &ids(&["O1", "O2", "O3"])));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, ids(&["O1", "O2", "O3"]));
        let orders: std::collections::HashSet<Vec<String>> = (0..30)
            .map(|n| {
                order(
                    &seed(Purpose::TieBreak, "t", &format!("checkpoint {n}")).expect("s"),
                    &a,
                )
            })
            .collect();
        assert!(orders.len() > 1, "the beacon matters");
        let other = seed(Purpose::InvitationRotation, "t", "checkpoint").expect("seed");
        assert_ne!(s, other, "the purpose matters");
    }

    #[test]
    fn reference_draw_is_stable() {
        // Pins the whole algorithm (encoding, ChaCha8 stream, Fisher–Yates): a change in any
        // of them would change every published draw, so it must fail here first.
        let s = seed(Purpose::TieBreak, "00000000-0000-0000-0000-000000000001", "checkpoint").expect("seed");
        assert_eq!(
            s.hex(),
            "e49a698c51d50dddf6caa8592b28a7410b62d20b157f347b1327135e89c17f19"
        );
        assert_eq!(
            order(&s, &ids(&["a", "b", "c", "d", "e"])),
            ids(&["b", "c", "e", "a", "d"])
        );
    }
}
