//! The seal: the database-free core of sealed bids, receipts and the transparency log.
//!
//! Modules, in dependency order:
//! - [`merkle`]: RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs.
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies wrapped in C2SP signed notes (Ed25519).
//! - [`receipt`]: the receipt given to a bidder, its canonical bytes and Ed25519 signature.
//! - [`envelope`]: streaming age encryption of envelopes with on-the-fly ciphertext hashing.
//! - [`custody`]: dealerless k-of-n key generation among custodians, threshold decryption.
//! - [`tsa`]: the platform's own RFC 3161 Time-Stamp Authority (ECDSA P-256).
//! - [`verify`]: offline checks combining all of the above.
//!
//! Every fallible function returns [`SealError`], whose [`SealError::code`] is a stable
//! machine code and whose `Display` text is Italian, for end users.

pub mod checkpoint;
pub mod custody;
mod der;
pub mod envelope;
pub mod error;
pub mod merkle;
pub mod receipt;
pub mod tsa;
pub mod verify;

pub use error::SealError;

/// Result alias used throughout the crate.
pub type Result<T, E = SealError> = std::result::Result<T, E>;
