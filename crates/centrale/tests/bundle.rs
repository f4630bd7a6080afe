//! The auditor's bundle (issue 14 point 3): a lowest-price tender run to its award over HTTP,
//! the bundle downloaded by the ente's auditor and unpacked in a fresh directory, then every
//! command of the `VERIFY.md` it carries run there with the built `centrale` (this crate's
//! binary, so it is the one built from these sources) and no server, database or platform
//! setting in the environment: all succeed. Then one byte of one file is changed (a PDF, a
//! receipt's lines, a token, a receipt, each checkpoint) and the command that checks that file
//! fails, naming what failed. Who may export, the 409 before the award, the audit event.
//!
//! This lives with the binary's tests rather than in `tests/tests` (journeys): only here does
//! cargo build the binary and hand its path (`CARGO_BIN_EXE_centrale`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::{Client, TestApp};

const EXPORTED: &str = "documenti.pacchetto_esportato";

struct Download {
    status: u16,
    sha256: Option<String>,
    content_type: String,
    bytes: Vec<u8>,
}

fn download(app: &TestApp, c: &Client, path: &str) -> Download {
    let mut req = ureq::get(&format!("{}{path}", app.base_url));
    if let Some(t) = &c.token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = resp.status();
    let sha256 = resp.header("X-Content-SHA256").map(str::to_string);
    let content_type = resp.content_type().to_string();
    let mut bytes = Vec::new();
    resp.into_reader().read_to_end(&mut bytes).expect("body");
    Download {
        status,
        sha256,
        content_type,
        bytes,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The archive's files by name.
fn entries(zip_bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("a ZIP");
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).expect("entry");
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).expect("read");
        out.insert(f.name().to_string(), bytes);
    }
    out
}

fn unpack(files: &BTreeMap<String, Vec<u8>>, dir: &Path) {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, bytes).expect("write");
    }
}

/// Every line of every fenced `sh` block of VERIFY.md: one command per line.
fn commands(verify_md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in verify_md.lines() {
        if inside {
            if line.trim_start().starts_with("```") {
                inside = false;
            } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                out.push(line.to_string());
            }
        } else if line.trim() == "```sh" {
            inside = true;
        }
    }
    out
}

/// Runs one command in `dir` with `sh`, `centrale` first on the PATH, and nothing of the
/// platform in the environment (no DATABASE_URL, no CENTRALE_* setting).
fn run(dir: &Path, command: &str) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_centrale"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", command]).current_dir(dir).env("PATH", path);
    for (k, _) in std::env::vars() {
        if k == "DATABASE_URL" || k.starts_with("CENTRALE") || k.starts_with("PG") {
            cmd.env_remove(k);
        }
    }
    cmd.output().expect("sh runs")
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("centrale-bundle-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// The commands that fail in a copy of the bundle where `alter` changed one file.
fn failing_after(
    files: &BTreeMap<String, Vec<u8>>,
    tag: &str,
    alter: impl FnOnce(&mut BTreeMap<String, Vec<u8>>),
) -> Vec<(String, String)> {
    let mut copy = files.clone();
    let before = copy.clone();
    alter(&mut copy);
    let changed: Vec<&String> = copy.keys().filter(|k| copy.get(*k) != before.get(*k)).collect();
    assert_eq!(changed.len(), 1, "one file altered ({tag})");
    let dir = fresh_dir(tag);
    unpack(&copy, &dir);
    let verify = String::from_utf8(copy["VERIFY.md"].clone()).expect("utf8");
    let failed = commands(&verify)
        .into_iter()
        .filter_map(|c| {
            let out = run(&dir, &c);
            (!out.status.success()).then(|| (c, String::from_utf8_lossy(&out.stderr).into_owned()))
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    failed
}

/// Flips the lowest bit of byte `at` (a different byte, same length).
fn flip(bytes: &mut [u8], at: usize) {
    bytes[at] ^= 0x01;
}

/// Replaces one character of `text` after `marker` by another of the same kind.
fn change_after(bytes: &mut [u8], marker: &str) {
    let text = String::from_utf8(bytes.to_vec()).expect("utf8");
    let at = text.find(marker).expect("marker") + marker.len();
    let c = bytes[at];
    bytes[at] = if c == b'a' {
        b'b'
    } else if c.is_ascii_digit() {
        b'0' + (c - b'0' + 1) % 10
    } else {
        b'a'
    };
}

/// A lowest-price tender with four bidders, one excluded, run to its proposal of award; returns
/// (bando, bidders' e-mails).
fn awarded_tender(w: &mut World) -> (String, Vec<String>) {
    let bando = tender(
        w,
        works_tender_body(
            &w.ente,
            [&w.rup_id, &w.custode],
            "Rifacimento della piazza del Duomo",
            3_140_000,
        ),
    );
    let mut emails = Vec::new();
    let mut uids = Vec::new();
    for (i, discount) in ["11.250", "9.800", "12.400", "30.000"].iter().enumerate() {
        let email = format!("impresa{i}@pacchetto.it");
        uids.push(supplier(&w.app, &email));
        let c = w.login(&email);
        submit(&c, &bando, "A", format!("Domanda e DGUE dell'impresa {i}").as_bytes());
        submit(&c, &bando, "C", &offer_c(discount));
        emails.push(email);
    }
    past_opening(w, &bando);
    open(w, &bando, "A");
    for uid in &uids[..3] {
        admit(w, &bando, uid);
    }
    // The fourth is excluded in the administrative phase, with its reason.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": uids[3], "decision": "excluded", "reason": "garanzia provvisoria mancante" }),
        )
        .expect(200);
    open(w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    confirm_proposed_exclusions(w, &format!("/api/v1/bandi/{bando}/valutazione"));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    (bando, emails)
}

fn award(w: &World, bando: &str) {
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "awarded");
    // The award report, issued once by the RUP: the bundle carries what was issued.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/documenti-emessi"),
            &json!({ "tipo": "verbale_aggiudicazione" }),
        )
        .expect(201);
}

#[test]
fn the_bundle_of_an_awarded_tender_verifies_offline_with_every_command_of_its_verify_md_and_a_changed_byte_fails() {
    for tool in ["sh", "openssl", "sha256sum"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success()),
            "{tool} is needed"
        );
    }
    let mut w = world();
    let admin = w.app.admin();
    official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    let roma = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Roma Capitale", "codice_fiscale": "02438750586", "tipo": "comune",
                     "istat_code": "058091", "pec": "protocollo.gabinetto@pec.comune.roma.it" }),
        )
        .expect(201));
    official(&admin, "revisore@comune.roma.it", "auditor", &roma);

    let (bando, bidders) = awarded_tender(&mut w);
    let path = format!("/api/v1/bandi/{bando}/pacchetto.zip");
    let auditor = w.login("revisore@comune.milano.it");

    // Proposed but not awarded: not yet (a stable code), and nothing recorded.
    auditor.get(&path).expect_problem(409, "bundle_before_award");
    award(&w, &bando);

    // Who may not: a supplier (a bidder), the RUP, another ente's auditor, anonymous.
    w.login(&bidders[0]).get(&path).expect_problem(403, "forbidden");
    w.rup.get(&path).expect_problem(403, "forbidden");
    w.login("revisore@comune.roma.it")
        .get(&path)
        .expect_problem(403, "forbidden");
    w.app.client().get(&path).expect_problem(401, "unauthenticated");
    assert!(
        audit_events(&w).iter().all(|e| e["action"] != EXPORTED),
        "refusals record no export"
    );

    // The ente's auditor downloads it; the export is an audit event with the archive's SHA-256.
    let got = download(&w.app, &auditor, &path);
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.bytes));
    assert_eq!(got.content_type, "application/zip");
    let sha = got.sha256.clone().expect("X-Content-SHA256");
    assert_eq!(sha, sha256_hex(&got.bytes));
    let exports: Vec<Value> = audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == EXPORTED)
        .collect();
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0]["details"]["sha256"], sha.as_str());
    assert_eq!(exports[0]["object_id"], bando.as_str());

    if let Ok(keep) = std::env::var("CENTRALE_KEEP_BUNDLE") {
        std::fs::write(keep, &got.bytes).expect("keep");
    }
    let files = entries(&got.bytes);
    for name in [
        "VERIFY.md",
        "SHA256SUMS",
        "bids.csv",
        "bids.json",
        "scores.csv",
        "scores.json",
        "exclusions.csv",
        "exclusions.json",
        "audit.csv",
        "checkpoints/closing.txt",
        "checkpoints/latest.txt",
        "keys/platform-key.txt",
        "keys/log-key.txt",
        "keys/tsa-ca.pem",
        "keys/tsa.pem",
    ] {
        assert!(files.contains_key(name), "{name} in the bundle: {:?}", files.keys());
    }
    // The open data of an open procedure: exactly what the public OCDS endpoint serves.
    let ocds: journeys::serde_json::Value =
        journeys::serde_json::from_slice(&files["ocds.json"]).expect("ocds.json in the bundle");
    let public = w.app.client().get(&format!("/api/v1/bandi/{bando}/ocds")).expect(200);
    assert_eq!(ocds, public, "the bundle's OCDS is the published one");
    let pdfs: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("documents/") && k.ends_with(".pdf"))
        .collect();
    assert_eq!(pdfs.len(), 1, "the award report");
    assert!(files[pdfs[0]].starts_with(b"%PDF-"));
    assert!(files.contains_key(&format!("{}.leaf.json", pdfs[0])));
    let receipts: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("receipts/") && k.ends_with(".json"))
        .collect();
    assert_eq!(receipts.len(), 8, "four bidders, envelopes A and C");
    // The content: bidders by name, the award in the trail, the export itself not in it.
    let bids_csv = String::from_utf8(files["bids.csv"].clone()).expect("utf8");
    assert_eq!(bids_csv.lines().count(), 9, "header and eight envelopes");
    assert!(
        bids_csv.contains(",Operatore "),
        "bidders by ragione sociale:\n{bids_csv}"
    );
    let exclusions = String::from_utf8(files["exclusions.csv"].clone()).expect("utf8");
    assert_eq!(exclusions.lines().count(), 2, "{exclusions}");
    assert!(
        exclusions.contains(",administrative,garanzia provvisoria mancante,"),
        "{exclusions}"
    );
    assert!(bids_csv.starts_with("envelope_id,bid_id,bidder_id,ragione_sociale,partita_iva,kind,"));
    let scores = String::from_utf8(files["scores.csv"].clone()).expect("utf8");
    assert_eq!(
        scores.lines().count(),
        4,
        "header and the three ranked offers:\n{scores}"
    );
    assert!(scores.contains("12.400"), "the best discount ranks:\n{scores}");
    let audit_csv = String::from_utf8(files["audit.csv"].clone()).expect("utf8");
    assert!(audit_csv.contains(",aggiudicazione.aggiudicata,"));
    assert!(!audit_csv.contains(EXPORTED), "the trail ends before the export");

    // Unpacked elsewhere, every command of VERIFY.md succeeds with no server and no database.
    let verify = String::from_utf8(files["VERIFY.md"].clone()).expect("utf8");
    let all = commands(&verify);
    assert_eq!(
        all.len(),
        1 + 8 + 8 + 1,
        "sha256sum, openssl and centrale verify per receipt, the document:\n{verify}"
    );
    assert!(all[0].starts_with("sha256sum -c SHA256SUMS"));
    assert!(all.iter().filter(|c| c.starts_with("openssl ts -verify")).count() == 8);
    assert!(all.iter().filter(|c| c.starts_with("centrale verify --bundle")).count() == 8);
    assert!(all.iter().any(|c| c.starts_with("centrale verify-document")));
    drop(w);
    let dir = fresh_dir("ok");
    unpack(&files, &dir);
    for c in &all {
        let out = run(&dir, c);
        assert!(
            out.status.success(),
            "«{c}» failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);

    // One byte changed: the command that checks that file fails, naming its check.
    let receipt = receipts[0]
        .trim_start_matches("receipts/")
        .trim_end_matches(".json")
        .to_string();
    let fails = |tag: &str, failed: &[(String, String)], needle: &str, why: &str| {
        assert!(
            failed
                .iter()
                .any(|(c, err)| c.contains(needle) && (why.is_empty() || err.contains(why))),
            "{tag}: a command with «{needle}» fails with «{why}»: {failed:#?}"
        );
        assert!(
            failed.iter().any(|(c, _)| c.starts_with("sha256sum")),
            "{tag}: SHA256SUMS sees it too"
        );
    };
    let pdf = pdfs[0].clone();
    let failed = failing_after(&files, "pdf", |f| {
        let b = f.get_mut(&pdf).expect("pdf");
        let at = b.len() / 2;
        flip(b, at);
    });
    fails("pdf", &failed, "verify-document", "document-sha256");
    assert_eq!(failed.len(), 2, "only the document's commands: {failed:#?}");

    let failed = failing_after(&files, "righe", |f| {
        change_after(f.get_mut(&format!("receipts/{receipt}.txt")).expect("txt"), "size ")
    });
    fails("receipt lines", &failed, &format!("-data receipts/{receipt}.txt"), "");

    let failed = failing_after(&files, "token", |f| {
        let b = f.get_mut(&format!("receipts/{receipt}.tst")).expect("tst");
        let at = b.len() - 2;
        flip(b, at);
    });
    fails("token", &failed, &format!("-in receipts/{receipt}.tst"), "");

    let failed = failing_after(&files, "ricevuta", |f| {
        change_after(
            f.get_mut(&format!("receipts/{receipt}.json")).expect("json"),
            "\\nsize ",
        )
    });
    fails(
        "receipt",
        &failed,
        &format!("--bundle receipts/{receipt}.json"),
        "receipt-signature",
    );

    let failed = failing_after(&files, "latest", |f| {
        let b = f.get_mut("checkpoints/latest.txt").expect("latest");
        let text = String::from_utf8(b.clone()).expect("utf8");
        // The root hash (third line) changed: the signature no longer covers it.
        let at = text.lines().take(2).map(|l| l.len() + 1).sum::<usize>() + 3;
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    });
    fails("latest checkpoint", &failed, "verify-document", "checkpoint-signature");

    let failed = failing_after(&files, "closing", |f| {
        let b = f.get_mut("checkpoints/closing.txt").expect("closing");
        let text = String::from_utf8(b.clone()).expect("utf8");
        let at = text.lines().take(2).map(|l| l.len() + 1).sum::<usize>() + 3;
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    });
    fails(
        "closing checkpoint",
        &failed,
        "--older-checkpoint checkpoints/closing.txt",
        "consistency",
    );
    assert_eq!(
        failed
            .iter()
            .filter(|(c, _)| c.starts_with("centrale verify --bundle"))
            .count(),
        8,
        "every receipt's consistency with the closing"
    );

    let leaf = format!("{pdf}.leaf.json");
    let failed = failing_after(&files, "foglia", |f| {
        change_after(f.get_mut(&leaf).expect("leaf"), "\"leaf_index\": ")
    });
    fails("document leaf", &failed, "verify-document", "inclusion");
}

#[test]
fn an_admin_exports_too_each_export_is_recorded_and_what_did_not_change_is_the_same() {
    let mut w = world();
    let (bando, _) = awarded_tender(&mut w);
    award(&w, &bando);
    let admin = w.app.admin();
    let path = format!("/api/v1/bandi/{bando}/pacchetto.zip");
    // A lot that is not the tender's: 404, and nothing recorded.
    admin
        .get(&format!("{path}?lotto={}", uuid::Uuid::new_v4()))
        .expect_problem(404, "not_found");
    let a = download(&w.app, &admin, &path);
    let b = download(&w.app, &admin, &path);
    assert_eq!((a.status, b.status), (200, 200));
    let exports: Vec<Value> = audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == EXPORTED)
        .collect();
    assert_eq!(exports.len(), 2, "each export is an audit event");
    assert_eq!(exports[0]["details"]["sha256"], a.sha256.as_deref().expect("sha"));
    assert_eq!(exports[1]["details"]["sha256"], b.sha256.as_deref().expect("sha"));
    // The documents are issued before, by their own act: an export writes only its audit event
    // (left out of its audit.csv), so two exports of the same state are the same archive.
    assert_eq!(a.bytes, b.bytes, "two exports of the same state are identical");
    let (fa, fb) = (entries(&a.bytes), entries(&b.bytes));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for name in fa.keys().filter(|n| {
        n.ends_with(".csv") && *n != "audit.csv"
            || n.ends_with(".txt") && n.starts_with("receipts/")
            || n.ends_with(".tst")
            || n.starts_with("keys/")
            || *n == "checkpoints/closing.txt"
            || *n == "exclusions.json"
            || *n == "bids.json"
    }) {
        assert_eq!(fa[name], fb[name], "{name} unchanged");
    }
    // The archive is deterministic: the same files, the same bytes.
    assert_eq!(documents::bundle::write_zip(&fa).expect("zip"), a.bytes);
}
