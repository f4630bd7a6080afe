//! The shared envelope store (`offerte::store`, `[storage] backend = "s3"`) against a real
//! S3-compatible server (`s3s-fs`, `journeys::s3`): a receipt means the ciphertext is in the
//! bucket, the opening puts the plaintext there too, and another instance on another seal
//! directory reads both, checked against their SHA-256; a copy missing from the local cache is
//! fetched again.

use journeys::browser::services_tender_body;
use journeys::s3::S3Server;
use journeys::tender_world::{open, past_opening, submit, supplier, tender, world_on, PASSWORD};
use journeys::TestApp;
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn envelopes_and_opened_envelopes_live_in_the_bucket_and_another_instance_reads_them() {
    let s3 = S3Server::start();
    let prefix = "centrale/";
    let mut w = world_on(TestApp::start_tuned(|c| c.store = s3.config(prefix), |_| {}));
    let bando = tender(&w, services_tender_body(&w, "Pulizia: buste nel bucket", 1_700_001));
    supplier(&w.app, "bucket@fornitore.it");
    let bidder = w.app.client().logged_in("bucket@fornitore.it", PASSWORD);
    let plaintext = b"offerta amministrativa nel bucket condiviso".to_vec();
    submit(&bidder, &bando, "A", &plaintext);

    // The receipt came back: the ciphertext is in the bucket under its digest, byte for byte.
    let row = w
        .app
        .psql("SELECT id || ' ' || blob_path || ' ' || sha256 FROM envelopes");
    let mut parts = row.split(' ');
    let (envelope, blob, sha) = (
        parts.next().expect("id").to_string(),
        parts.next().expect("path").to_string(),
        parts.next().expect("sha").to_string(),
    );
    let stored = s3
        .object(&format!("{prefix}{blob}"))
        .unwrap_or_else(|| panic!("{blob} is not in the bucket"));
    assert_eq!(sha256_hex(&stored), sha);

    // The local copy is only a cache: gone, the download fetches it again from the bucket.
    std::fs::remove_file(w.app.seal_dir.join(&blob)).expect("local copy");
    let (status, served) = {
        let r = ureq::get(&format!("{}/api/v1/buste/{envelope}/cifrato", w.app.base_url))
            .set(
                "Authorization",
                &format!("Bearer {}", bidder.token.as_deref().expect("token")),
            )
            .call()
            .expect("ciphertext");
        let status = r.status();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut r.into_reader(), &mut out).expect("body");
        (status, out)
    };
    assert_eq!(status, 200);
    assert_eq!(served, stored, "the ciphertext served is the one in the bucket");

    // The opening writes the plaintext to the bucket before it commits.
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    let opened = w
        .app
        .psql("SELECT plaintext_path || ' ' || plaintext_sha256 FROM opened_envelopes");
    let (opened_rel, opened_sha) = opened.split_once(' ').expect("opened row");
    assert_eq!(opened_sha, sha256_hex(&plaintext));
    let in_bucket = s3
        .object(&format!("{prefix}{opened_rel}"))
        .unwrap_or_else(|| panic!("{opened_rel} is not in the bucket"));
    assert_eq!(in_bucket, plaintext);

    // Another instance (its own seal directory, the same bucket) reads both, checked.
    let other_dir = std::env::temp_dir().join(format!("centrale-other-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(other_dir.join("tmp")).expect("other seal dir");
    let other = offerte::store::Store::open(other_dir.clone(), &s3.config(prefix)).expect("other store");
    assert!(other.contains(&blob).expect("HEAD"));
    let fetched = other.local(&blob, None).expect("blob fetched");
    assert_eq!(std::fs::read(&fetched).expect("read"), stored);
    let fetched = other
        .local(opened_rel, Some(opened_sha))
        .expect("opened envelope fetched");
    assert_eq!(std::fs::read(fetched).expect("read"), plaintext);

    // A copy in the bucket that is not what its digest says is refused, not served.
    let forged = format!("blobs/{}/{}", &sha[..2], "0".repeat(64));
    std::fs::create_dir_all(s3.object_path(&format!("{prefix}{forged}")).parent().expect("dir")).expect("dir");
    std::fs::write(s3.object_path(&format!("{prefix}{forged}")), b"not that").expect("forge");
    assert!(
        other.local(&forged, None).is_err(),
        "a blob whose bytes differ from its name"
    );
    assert!(!other_dir.join(&forged).exists());
    assert!(!other.contains("blobs/00/absent").expect("HEAD"));
    let _ = std::fs::remove_dir_all(other_dir);
}

/// Big envelopes go up in parts (`store::PART_BYTES`) and come back whole.
#[test]
fn a_file_larger_than_a_part_goes_up_in_parts_and_comes_back_whole() {
    let s3 = S3Server::start();
    let dir = std::env::temp_dir().join(format!("centrale-parts-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dir.join("tmp")).expect("dir");
    let store = offerte::store::Store::open(dir.clone(), &s3.config("")).expect("store");
    let size = offerte::store::PART_BYTES as usize * 2 + 12_345;
    let bytes: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let rel = format!("opened/test/A-1/{}", uuid::Uuid::new_v4());
    std::fs::create_dir_all(dir.join(&rel).parent().expect("parent")).expect("dir");
    std::fs::write(dir.join(&rel), &bytes).expect("write");
    store.publish(&rel).expect("multipart upload");
    assert_eq!(s3.object(&rel).expect("in the bucket"), bytes);

    let reader_dir = dir.with_extension("reader");
    std::fs::create_dir_all(reader_dir.join("tmp")).expect("dir");
    let reader = offerte::store::Store::open(reader_dir.clone(), &s3.config("")).expect("store");
    let got = reader.local(&rel, Some(&sha256_hex(&bytes))).expect("fetched");
    assert_eq!(std::fs::read(got).expect("read"), bytes);
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(reader_dir);
}
