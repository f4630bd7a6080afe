//! The browser verifier (crates/portal/assets/js/verify.js) against a live server: a
//! supplier seals envelope A to the tender's recipient and submits it; once the sequencer has
//! put its leaf in a signed checkpoint, the verification bundle the API serves is checked by
//! the Rust verifier and by the JavaScript one (under node), which must agree: both accept
//! it, and the JavaScript one refuses it once the envelope or the receipt is changed.
//!
//! With `CENTRALE_WRITE_WEB_FIXTURES=1` the bundle and the ciphertext are also written to
//! `web/test/fixtures/` (`bundle.json`, `busta.age`), the files `node --test web/test` reads
//! (docs/portal-sealing.md gives the command).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use journeys::serde_json::{self, Value};
use journeys::tender_world::{self, supplier, works_tender_body, world, PASSWORD};
use offerte::bundle::{verify_bundle, Pins, VerificationBundle};
use seal::envelope;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The JavaScript verifier's verdict and report on (bundle, envelope) files.
fn js_verify(bundle: &Path, envelope: &Path) -> (bool, Value) {
    let out = Command::new("node")
        .arg(repo().join("web/support/verify-bundle.mjs"))
        .arg(bundle)
        .arg(envelope)
        .output()
        .expect("node runs (it is installed by scripts/test-tools.sh)");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("node printed no report: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), report)
}

fn failed_check(report: &Value) -> String {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["status"] == "failed")
        .map(|r| r["check"].as_str().expect("check").to_string())
        .unwrap_or_default()
}

#[test]
fn the_browser_verifier_accepts_a_live_bundle_and_refuses_tampered_ones() {
    let w = world();
    let bando = tender_world::tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori per il portale", 91),
    );
    supplier(&w.app, "gare@portale.example.it");
    let oe = w.app.client().logged_in("gare@portale.example.it", PASSWORD);
    let key = oe.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200);
    let recipient = envelope::parse_recipient(key["recipients"]["A"].as_str().expect("recipient A")).expect("age1");
    let mut ciphertext = Vec::new();
    envelope::seal_stream(&recipient, &b"Domanda di partecipazione\n"[..], &mut ciphertext).expect("seal");
    let receipt = oe
        .post_raw(
            &format!("/api/v1/bandi/{bando}/offerta/buste/A?sealed=client"),
            "application/octet-stream",
            &ciphertext,
        )
        .expect(201);
    let envelope_id = receipt["envelope_id"].as_str().expect("envelope id");

    let t0 = Instant::now();
    let served = loop {
        let b = oe.get(&format!("/api/v1/buste/{envelope_id}/ricevuta")).expect(200);
        if !b["checkpoint"].is_null() && !b["leaf_index"].is_null() {
            break b;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "leaf never integrated");
        std::thread::sleep(Duration::from_millis(50));
    };
    let bundle: VerificationBundle = serde_json::from_value(served.clone()).expect("bundle");
    verify_bundle(&bundle, &ciphertext[..], None, Pins::default()).expect("the Rust verifier accepts it");

    let dir = if std::env::var("CENTRALE_WRITE_WEB_FIXTURES").as_deref() == Ok("1") {
        repo().join("web/test/fixtures")
    } else {
        std::env::temp_dir().join(format!("centrale-web-fixtures-{}", std::process::id()))
    };
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let bundle_path = dir.join("bundle.json");
    let envelope_path = dir.join("busta.age");
    std::fs::write(
        &bundle_path,
        serde_json::to_string_pretty(&served).expect("json") + "\n",
    )
    .expect("write");
    std::fs::write(&envelope_path, &ciphertext).expect("write");

    let (ok, report) = js_verify(&bundle_path, &envelope_path);
    assert!(
        ok,
        "the JavaScript verifier refused a bundle the Rust one accepts: {report}"
    );
    let statuses: Vec<&str> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["ok"; 6], "every check ran and passed: {report}");
    assert!(report["genTime"].as_str().is_some_and(|t| t.ends_with('Z')), "{report}");

    // One byte of the envelope changed, then one digit of the receipt: refused, by name.
    let scratch = std::env::temp_dir().join(format!("centrale-web-tampered-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let mut changed = ciphertext.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    let changed_path = scratch.join("busta.age");
    std::fs::write(&changed_path, &changed).expect("write");
    let (ok, report) = js_verify(&bundle_path, &changed_path);
    assert!(!ok);
    assert_eq!(failed_check(&report), "envelope-digest", "{report}");
    assert!(
        verify_bundle(&bundle, &changed[..], None, Pins::default()).is_err(),
        "Rust agrees"
    );

    let mut forged = served.clone();
    let text = forged["receipt"]
        .as_str()
        .expect("receipt")
        .replace("envelope A", "envelope B");
    forged["receipt"] = Value::String(text);
    let forged_path = scratch.join("bundle.json");
    std::fs::write(&forged_path, serde_json::to_string(&forged).expect("json")).expect("write");
    let (ok, report) = js_verify(&forged_path, &envelope_path);
    assert!(!ok);
    assert_eq!(failed_check(&report), "receipt-signature", "{report}");
    let _ = std::fs::remove_dir_all(&scratch);
}
