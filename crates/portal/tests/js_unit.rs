//! The portal's JavaScript under `make test`: `node --test web/test` (archive, sealing with
//! the resumable upload, receipt verification), and envelopes sealed by that JavaScript
//! opened by the Rust `age` crate, the one the opening uses.
//!
//! node is a requirement of the test suite (scripts/test-tools.sh installs it); the npm
//! packages are installed from web/package-lock.json when web/node_modules is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use seal::envelope::{open_stream, AgeIdentity};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `npm ci` once per test binary when web/node_modules is absent (a fresh clone, CI).
fn node_modules() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let web = repo().join("web");
        if web.join("node_modules/age-encryption").is_dir() {
            return;
        }
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&web)
            .status()
            .expect("npm runs (scripts/test-tools.sh installs it)");
        assert!(status.success(), "npm ci in web/ failed");
    });
}

#[test]
fn node_test_suite_of_the_portal_javascript_passes() {
    node_modules();
    let out = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(repo().join("web"))
        .output()
        .expect("node runs (scripts/test-tools.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A run that found no test file would pass too: make sure the suites ran.
    let count = |key: &str| -> u32 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# {key} ")))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    assert!(count("pass") >= 18, "too few tests ran:\n{stdout}");
    assert_eq!(count("fail"), 0);
    assert_eq!(count("skipped"), 0, "no test may skip");
}

#[test]
fn envelopes_sealed_by_the_portal_javascript_open_with_the_rust_age_crate() {
    let dir = std::env::temp_dir().join(format!("centrale-js-seal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let identity = AgeIdentity::generate();
    let out = Command::new("node")
        .arg(repo().join("web/support/seal-to-file.mjs"))
        .arg(identity.to_public().to_string())
        .arg(&dir)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "sealing in node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for kind in ["A", "C"] {
        let ciphertext = std::fs::read(dir.join(format!("busta-{kind}.age"))).expect("ciphertext");
        let archive = std::fs::read(dir.join(format!("busta-{kind}.tar"))).expect("archive");
        assert!(
            ciphertext.starts_with(b"age-encryption.org/v1\n-> X25519 "),
            "binary age, X25519 stanza"
        );
        assert!(
            !ciphertext.windows(8).any(|w| w == b"manifest"),
            "no plaintext in the ciphertext"
        );
        let mut plain = Vec::new();
        open_stream(&identity, &ciphertext[..], &mut plain).expect("the Rust age crate opens it");
        assert_eq!(plain, archive, "envelope {kind} decrypts to exactly the archive");
        assert!(plain.starts_with(b"manifest.json\0"));
        let other = AgeIdentity::generate();
        assert!(
            open_stream(&other, &ciphertext[..], &mut Vec::new()).is_err(),
            "only the tender key opens it"
        );
    }
    // Envelope C's offer, read by the award engine's own parser, as at the opening.
    let plain_c = std::fs::read(dir.join("busta-C.tar")).expect("archive");
    let offer = tar_entry(&plain_c, "offerta-economica.json").expect("offerta-economica.json in envelope C");
    assert_eq!(
        offerte::opening::economic_offer(&offer),
        serde_json::json!({ "discount": "12.345", "labour_costs": "100000.00", "safety_costs": "5000.00" })
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The data of entry `name` in a ustar stream (the format is fixed by CONTRACT §1).
fn tar_entry(tar: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut off = 0;
    while off + 512 <= tar.len() && tar[off] != 0 {
        let header = &tar[off..off + 512];
        let end = header[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let size = usize::from_str_radix(std::str::from_utf8(&header[124..135]).ok()?, 8).ok()?;
        if &header[..end] == name.as_bytes() {
            return Some(tar[off + 512..off + 512 + size].to_vec());
        }
        off += 512 + size.div_ceil(512) * 512;
    }
    None
}
