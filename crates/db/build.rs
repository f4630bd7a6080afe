//! Embedded migrations must be rebuilt when any SQL file changes, and the test-database
//! template is keyed by a hash of them so a changed schema never reuses a stale template.
use std::{fs, path::Path};

use sha2::{Digest, Sha256};

fn hash_dir(dir: &Path, hasher: &mut Sha256) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("migrations directory is readable")
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        hasher.update(entry.file_name().to_string_lossy().as_bytes());
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else {
            hasher.update(fs::read(&path).expect("migration file is readable"));
        }
    }
}

fn main() {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    println!("cargo:rerun-if-changed={}", migrations.display());
    let mut hasher = Sha256::new();
    hash_dir(&migrations, &mut hasher);
    let digest = hasher.finalize();
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=CENTRALE_MIGRATIONS_HASH={short}");
}
