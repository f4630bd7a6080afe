use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::AccountsError;

/// A valid Argon2id hash of no one's password, with the same parameters: verified against
/// when the account is unknown, so the answer takes as long as for a known one.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

pub const MIN_LENGTH: usize = 12;

pub fn validate(password: &str) -> Result<(), AccountsError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(AccountsError::invalid(
            "password_too_short",
            "password",
            format!("La password deve avere almeno {MIN_LENGTH} caratteri"),
        ));
    }
    Ok(())
}

/// Argon2id memory cost in KiB: OWASP's minimum configuration (m=19456, t=2, p=1).
/// Stated here, not left to the crate's defaults, so an upgrade cannot silently weaken it.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How many Argon2 computations run right now in this process, and the most ever seen at once:
/// the callers bound it with the API's hashing semaphore (each computation holds 19 MiB), and
/// the tests read the peak to prove the bound holds.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Running;

impl Running {
    fn start() -> Self {
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The most Argon2 computations that ever ran at once in this process.
pub fn peak_concurrent() -> usize {
    PEAK.load(Ordering::SeqCst)
}

pub fn hash(password: &str) -> Result<String, AccountsError> {
    let _running = Running::start();
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountsError::Internal(e.to_string()))
}

pub fn verify(password: &str, stored: &str) -> bool {
    let _running = Running::start();
    PasswordHash::new(stored)
        .map(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A random password for the first admin when none is configured (printed once).
pub fn generate() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let stored = hash("correct horse battery").expect("hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate("short").is_err());
        assert!(validate("twelve chars").is_ok());
    }
}
