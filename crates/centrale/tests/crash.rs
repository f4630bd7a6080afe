//! Issue 5 point 9, crash safety: the real `centrale serve` is SIGKILLed during a burst of
//! submissions and restarted on the same database and seal directory. Every receipt returned
//! before the kill must still verify (signature, digest of the stored ciphertext served by
//! the API, inclusion once the sequencer has integrated it), and no half bid may be visible:
//! every envelope row has its receipt, its leaf and its blob (with the receipt's digest), and
//! every bid has at least one envelope.
//!
//! The real clock runs here: the submission deadline is two months away.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Duration as Span, Utc};
use db::testdb::TestDatabase;
use offerte::bundle::{parse_platform_key, verify_bundle, Pins, VerificationBundle};
use offerte::custodian;
use offerte::custody::{Contributions, TenderKey};
use seal::envelope::AgeIdentity;
use serde_json::{json, Value};

const ADMIN: &str = "admin@centrale.local";
const ADMIN_PASSWORD: &str = "password-admin-crash-test";
const PASSWORD: &str = "una-password-lunga";
const PIVA: [&str; 3] = ["00514490010", "03123456786", "04567890126"];

/// A fresh database on `DATABASE_URL`'s server or the private cluster, from the harness.
fn database() -> TestDatabase {
    journeys::fresh_database()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `centrale serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db_url: &str, seal_dir: &Path, port: u16, log: &Path) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_centrale"))
            .arg("serve")
            .env("DATABASE_URL", db_url)
            .env("CENTRALE__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("CENTRALE__SEAL__DIR", seal_dir)
            .env("CENTRALE__BOOTSTRAP__ADMIN_EMAIL", ADMIN)
            .env("CENTRALE__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CENTRALE_SCHEDULER_TICK_MS", "50")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("centrale serve starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let t0 = Instant::now();
        while ureq::get(&format!("{}/healthz", server.base)).call().is_err() {
            assert!(t0.elapsed() < Duration::from_secs(60), "the server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// SIGKILL: no shutdown hook, no flushing, no graceful anything.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Http {
    base: String,
    token: Option<String>,
}

impl Http {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut req = ureq::request(method, &format!("{}{path}", self.base)).timeout(Duration::from_secs(30));
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let res = match body {
            Some(b) => req.send_json(b.clone()),
            None => req.call(),
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let text = resp.into_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    #[track_caller]
    fn ok(&self, method: &str, path: &str, body: Option<&Value>, status: u16) -> Value {
        let (s, v) = self.call(method, path, body);
        assert_eq!(s, status, "{method} {path}: {v}");
        v
    }

    fn login(&self, email: &str, password: &str) -> Http {
        let v = self.ok(
            "POST",
            "/api/v1/auth/login",
            Some(&json!({ "email": email, "password": password })),
            200,
        );
        Http {
            base: self.base.clone(),
            token: Some(v["token"].as_str().expect("token").to_string()),
        }
    }

    fn bytes(&self, path: &str) -> Vec<u8> {
        let mut req = ureq::get(&format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = req.call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).expect("body");
        out
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The ente, three officials (the RUP and two custodians), a published open procedure
/// with 2-of-3 custody and its key, and three qualified suppliers. Returns the tender id
/// and the suppliers' logged-in clients.
fn setup(anon: &Http) -> (String, Vec<Http>) {
    let admin = anon.login(ADMIN, ADMIN_PASSWORD);
    let ente = id(&admin.ok(
        "POST",
        "/api/v1/enti",
        Some(&json!({ "nome": "Comune di Milano", "codice_fiscale": "01199250158",
        "tipo": "comune", "istat_code": "015146", "pec": "protocollo@postacert.comune.milano.it" })),
        201,
    ));
    // Its services tender exceeds what art. 62 c.1 lets a non-qualified ente run alone.
    admin.ok(
        "POST",
        &format!("/api/v1/enti/{ente}/qualifications"),
        Some(&json!({ "sector": "services_supplies", "level": "avanzata", "valid_until": "2030-12-31" })),
        201,
    );
    let officials: Vec<String> = [
        ("rup@comune.milano.it", "rup"),
        ("c2@comune.milano.it", "commission"),
        ("c3@comune.milano.it", "auditor"),
    ]
    .iter()
    .map(|(email, role)| {
        id(&admin.ok(
            "POST",
            "/api/v1/users",
            Some(
                &json!({ "email": email, "full_name": "Funzionario", "password": PASSWORD,
                "roles": [{ "role": role, "ente_id": ente }] }),
            ),
            201,
        ))
    })
    .collect();
    let rup = anon.login("rup@comune.milano.it", PASSWORD);
    let day = |days: i64, time: &str| format!("{}T{time}", (Utc::now() + Span::days(days)).format("%Y-%m-%d"));
    let body = json!({
        "ente_id": ente, "oggetto": "Servizio di pulizia", "cpv_main": "90910000-9", "nuts": "ITC4C",
        "contract_type": "services", "procedure_type": "aperta", "award_criterion": "oepv",
        "oepv": { "criteria": [
                { "code": "T1", "description": "Organizzazione", "weight": 45, "kind": "discretionary" },
                { "code": "T2", "description": "Prodotti", "weight": 25, "kind": "quantitative" } ],
            "economic_weight": 30, "economic_formula": { "kind": "bilinear", "x": "0.85" }, "reparametrization": true },
        "base_amount": "200000.00", "safety_costs": "0", "labour_intensive": true, "cig": "2000000435",
        "questions_deadline": day(40, "12:00"), "submission_deadline": day(60, "12:00"), "opening_at": day(60, "15:00"),
        "envelopes": ["A", "B", "C"], "custodians": officials, "custodian_threshold": 2, "lotti": []
    });
    let bando = id(&rup.ok("POST", "/api/v1/bandi", Some(&body), 201));
    rup.ok("POST", &format!("/api/v1/bandi/{bando}/publish"), Some(&json!({})), 200);
    // The dealerless ceremony, each custodian logged in as himself.
    let identities: Vec<AgeIdentity> = (0..3).map(|_| AgeIdentity::generate()).collect();
    let custodians: Vec<Http> = ["rup@comune.milano.it", "c2@comune.milano.it", "c3@comune.milano.it"]
        .iter()
        .map(|e| anon.login(e, PASSWORD))
        .collect();
    let seal = format!("/api/v1/bandi/{bando}/sigillo");
    for (c, key) in custodians.iter().zip(&identities) {
        c.ok(
            "POST",
            &format!("{seal}/custodi"),
            Some(&json!({ "age_key": key.to_public().to_string() })),
            201,
        );
    }
    for c in &custodians {
        let view: TenderKey = serde_json::from_value(c.ok("GET", &seal, None, 200)).expect("seal view");
        let upload = serde_json::to_value(custodian::contribution(&view).expect("contribution")).expect("json");
        c.ok("POST", &format!("{seal}/contributi"), Some(&upload), 201);
    }
    for (c, key) in custodians.iter().zip(&identities) {
        let all: Contributions =
            serde_json::from_value(c.ok("GET", &format!("{seal}/contributi"), None, 200)).expect("contributions");
        let ack = serde_json::to_value(custodian::acknowledgement(key, &all).expect("ack")).expect("json");
        c.ok("POST", &format!("{seal}/conferme"), Some(&ack), 201);
    }

    let durc_until = (Utc::now() + Span::days(730)).format("%Y-%m-%d").to_string();
    let suppliers = PIVA
        .iter()
        .enumerate()
        .map(|(n, piva)| {
            let email = format!("gare{n}@fornitore.it");
            anon.ok(
                "POST",
                "/api/v1/auth/register",
                Some(&json!({ "email": email, "full_name": "Operatore", "password": PASSWORD })),
                202,
            );
            let s = anon.login(&email, PASSWORD);
            let op = id(&s.ok(
                "POST",
                "/api/v1/registry/operatori",
                Some(&json!({
                "ragione_sociale": format!("Operatore {n} S.r.l."), "forma_giuridica": "srl", "partita_iva": piva,
                "codice_fiscale": piva, "sede_istat": "015146", "pec": format!("{piva}@legalmail.it"),
                "legale_rappresentante": { "nome": "Mario Rossi", "codice_fiscale": "RSSMRA80A01F205X" } })),
                201,
            ));
            for (tipo, scad) in [
                ("durc", format!("&scadenza={durc_until}")),
                ("visura_camerale", String::new()),
            ] {
                let url = format!(
                    "{}/api/v1/registry/operatori/{op}/documenti?tipo={tipo}&nome_file={tipo}.pdf{scad}",
                    s.base
                );
                ureq::post(&url)
                    .set(
                        "Authorization",
                        &format!("Bearer {}", s.token.as_deref().expect("token")),
                    )
                    .set("Content-Type", "application/pdf")
                    .send_bytes(format!("{tipo} {op}").as_bytes())
                    .expect("document uploaded");
            }
            admin.ok(
                "POST",
                &format!("/api/v1/registry/operatori/{op}/qualification"),
                Some(&json!({ "action": "qualify" })),
                200,
            );
            s
        })
        .collect();
    (bando, suppliers)
}

/// What a supplier holds after a 201: the receipt as returned, and the plaintext it sent.
#[derive(Clone)]
struct Held {
    supplier: usize,
    receipt: Value,
}

#[test]
fn sigkill_during_a_burst_of_submissions_loses_no_receipt_and_leaves_no_half_bid() {
    let db = database();
    let seal_dir = std::env::temp_dir().join(format!("centrale-crash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&seal_dir).expect("seal dir");
    let log = seal_dir.with_extension("log");
    let port = free_port();
    let server = Server::start(db.url(), &seal_dir, port, &log);
    let anon = Http {
        base: server.base.clone(),
        token: None,
    };
    let (bando, suppliers) = setup(&anon);

    // The burst: each supplier submits A, B, C over and over (replacements) from its thread
    // until the connection dies; the server is killed once enough receipts came back.
    let held: Arc<Mutex<Vec<Held>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = suppliers
        .iter()
        .cloned()
        .enumerate()
        .map(|(n, s)| {
            let (held, stop, bando) = (held.clone(), stop.clone(), bando.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let kind = ["A", "B", "C"][(i % 3) as usize];
                    // 1 MiB bodies: uploads are in flight when the kill comes.
                    let body = vec![b'a' + (i % 26) as u8; 1 << 20];
                    let url = format!("{}/api/v1/bandi/{bando}/offerta/buste/{kind}?sealed=server", s.base);
                    let res = ureq::post(&url)
                        .timeout(Duration::from_secs(30))
                        .set(
                            "Authorization",
                            &format!("Bearer {}", s.token.as_deref().expect("token")),
                        )
                        .set("Content-Type", "application/octet-stream")
                        .send_bytes(&body);
                    match res {
                        Ok(r) if r.status() == 201 => {
                            let receipt: Value = r.into_json().expect("receipt json");
                            held.lock().expect("lock").push(Held { supplier: n, receipt });
                        }
                        Ok(r) => panic!("unexpected {} during the burst", r.status()),
                        Err(ureq::Error::Status(code, r)) => {
                            panic!("refused {code}: {}", r.into_string().unwrap_or_default())
                        }
                        Err(_) => return, // the server is gone
                    }
                    i += 1;
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    while held.lock().expect("lock").len() < 24 {
        assert!(t0.elapsed() < Duration::from_secs(60), "the burst is too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("submitter thread");
    }
    let held = held.lock().expect("lock").clone();
    assert!(held.len() >= 24);

    // Restart on the same database and seal directory. Sessions live in the database.
    let server = Server::start(db.url(), &seal_dir, port, &log);
    let keys = anon.ok("GET", "/api/v1/log/keys", None, 200);
    let pins = || Pins {
        platform_key: Some(parse_platform_key(keys["platform_key"].as_str().expect("pk")).expect("platform key")),
        log_key: Some(
            seal::checkpoint::NoteVerifier::from_vkey(keys["log_key"].as_str().expect("vkey")).expect("log key"),
        ),
    };

    // 1. Every receipt returned before the kill verifies against what the server now serves.
    for h in &held {
        let s = &suppliers[h.supplier];
        let envelope = h.receipt["envelope_id"].as_str().expect("envelope id");
        let t0 = Instant::now();
        let mut bundle: VerificationBundle = loop {
            let b: VerificationBundle =
                serde_json::from_value(s.ok("GET", &format!("/api/v1/buste/{envelope}/ricevuta"), None, 200))
                    .expect("bundle");
            if b.leaf_index.is_some() && b.checkpoint.is_some() {
                break b;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "leaf of {envelope} never integrated after the restart"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        // The receipt the supplier holds, not the one the server serves now.
        assert_eq!(
            bundle.receipt,
            h.receipt["receipt"].as_str().expect("receipt"),
            "stored receipt changed"
        );
        bundle.receipt = h.receipt["receipt"].as_str().expect("receipt").to_string();
        bundle.tsa_token = h.receipt["tsa_token"].as_str().expect("token").to_string();
        let ciphertext = s.bytes(&format!("/api/v1/buste/{envelope}/cifrato"));
        let report = verify_bundle(&bundle, &ciphertext[..], None, pins())
            .unwrap_or_else(|e| panic!("receipt of {envelope}: {e}"));
        assert_eq!(
            report.checks,
            vec![
                "receipt-signature",
                "envelope-digest",
                "leaf-hash",
                "checkpoint-signature",
                "inclusion"
            ]
        );
    }

    // 1b. The same check with the offline tool a supplier would run: `centrale verify` on the
    //     bundle and envelope files, with the keys pinned; it exits non-zero naming the check
    //     that fails once the envelope or the receipt is changed.
    {
        let h = &held[0];
        let s = &suppliers[h.supplier];
        let envelope = h.receipt["envelope_id"].as_str().expect("envelope id");
        let work = seal_dir.join("verify-cli");
        std::fs::create_dir_all(&work).expect("work dir");
        let bundle = s.ok("GET", &format!("/api/v1/buste/{envelope}/ricevuta"), None, 200);
        let bundle_path = work.join("bundle.json");
        std::fs::write(&bundle_path, bundle.to_string()).expect("write bundle");
        let envelope_path = work.join("envelope.age");
        let mut ciphertext = s.bytes(&format!("/api/v1/buste/{envelope}/cifrato"));
        std::fs::write(&envelope_path, &ciphertext).expect("write envelope");
        let verify = |bundle: &Path, envelope: &Path| {
            let out = Command::new(env!("CARGO_BIN_EXE_centrale"))
                .arg("verify")
                .arg("--bundle")
                .arg(bundle)
                .arg("--envelope")
                .arg(envelope)
                .arg("--platform-key")
                .arg(keys["platform_key"].as_str().expect("pk"))
                .arg("--log-key")
                .arg(keys["log_key"].as_str().expect("vkey"))
                .output()
                .expect("centrale verify runs");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let (ok, text) = verify(&bundle_path, &envelope_path);
        assert!(ok, "centrale verify refused a good receipt: {text}");
        assert!(text.contains("inclusion"), "{text}");
        let last = ciphertext.len() - 1;
        ciphertext[last] ^= 1;
        let tampered_envelope = work.join("tampered.age");
        std::fs::write(&tampered_envelope, &ciphertext).expect("write tampered");
        let (ok, text) = verify(&bundle_path, &tampered_envelope);
        assert!(
            !ok && text.contains("envelope-digest"),
            "a changed envelope must fail envelope-digest: {text}"
        );
        let mut forged = bundle.clone();
        let receipt = forged["receipt"]
            .as_str()
            .expect("receipt")
            .replacen("size ", "size 1", 1);
        forged["receipt"] = Value::String(receipt);
        let forged_path = work.join("forged.json");
        std::fs::write(&forged_path, forged.to_string()).expect("write forged");
        let (ok, text) = verify(&forged_path, &envelope_path);
        assert!(
            !ok && text.contains("receipt-signature"),
            "a changed receipt must fail receipt-signature: {text}"
        );
    }

    // 2. No half bid: every envelope row has its receipt and leaf, its blob is there with the
    //    recorded digest and size, and no bid is without envelopes.
    let url = db.url();
    assert_eq!(
        journeys::psql(
            url,
            "SELECT count(*) FROM envelopes e LEFT JOIN receipts r ON r.envelope_id = e.id WHERE r.envelope_id IS NULL"
        ),
        "0"
    );
    assert_eq!(
        journeys::psql(
            url,
            "SELECT count(*) FROM envelopes e LEFT JOIN log_leaves l ON l.id = e.leaf_id WHERE l.id IS NULL"
        ),
        "0"
    );
    assert_eq!(
        journeys::psql(
            url,
            "SELECT count(*) FROM bids b WHERE NOT EXISTS (SELECT 1 FROM envelopes e WHERE e.bid_id = b.id)"
        ),
        "0"
    );
    let rows = journeys::psql(
        url,
        "SELECT blob_path || ' ' || sha256 || ' ' || size_bytes FROM envelopes",
    );
    let stored: Vec<&str> = rows.lines().collect();
    assert!(
        stored.len() >= held.len(),
        "{} rows for {} receipts",
        stored.len(),
        held.len()
    );
    for row in &stored {
        let mut parts = row.split(' ');
        let (path, sha, size) = (
            parts.next().expect("path"),
            parts.next().expect("sha"),
            parts.next().expect("size"),
        );
        let bytes = std::fs::read(seal_dir.join(path)).unwrap_or_else(|e| panic!("blob {path}: {e}"));
        assert_eq!(bytes.len().to_string(), size, "{path}");
        assert_eq!(hex(&sha256(&bytes)), sha, "{path}");
    }
    // Through the API: every envelope a supplier sees is one with a receipt whose blob is served.
    for s in &suppliers {
        let bids = s.ok("GET", &format!("/api/v1/bandi/{bando}/offerta"), None, 200);
        for bid in bids.as_array().expect("bids") {
            let envs = bid["envelopes"].as_array().expect("envelopes");
            assert!(!envs.is_empty(), "a visible bid without envelopes");
            for e in envs {
                assert!(e["receipt"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("centrale-receipt/v1\n")));
                let ct = s.bytes(&format!(
                    "/api/v1/buste/{}/cifrato",
                    e["envelope_id"].as_str().expect("id")
                ));
                assert_eq!(hex(&sha256(&ct)), e["sha256"].as_str().expect("sha"));
            }
        }
    }
    // Every receipt held is among the stored envelopes (committed before it was returned).
    let ids: Vec<String> = stored_ids(url);
    for h in &held {
        assert!(ids.iter().any(|i| i == h.receipt["envelope_id"].as_str().expect("id")));
    }
    eprintln!(
        "crash: {} receipts held, {} envelopes stored, {} staged files left in tmp/",
        held.len(),
        ids.len(),
        std::fs::read_dir(seal_dir.join("tmp")).map(|d| d.count()).unwrap_or(0)
    );
    // The server still takes bids after the restart.
    let s = &suppliers[0];
    let url_a = format!("{}/api/v1/bandi/{bando}/offerta/buste/A", s.base);
    let r = ureq::post(&url_a)
        .set(
            "Authorization",
            &format!("Bearer {}", s.token.as_deref().expect("token")),
        )
        .send_bytes(b"dopo il riavvio")
        .expect("accepted after the restart");
    assert_eq!(r.status(), 201);
    drop(server);
    let _ = std::fs::remove_dir_all(&seal_dir);
    let _ = std::fs::remove_file(&log);
}

fn stored_ids(url: &str) -> Vec<String> {
    journeys::psql(url, "SELECT id FROM envelopes")
        .lines()
        .map(str::to_string)
        .collect()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
