//! Issue 5: sealed bids and the timestamping service, over HTTP, with the clock moved.
//!
//! The whole journey goes through the API: an admin creates the ente and its officials, the
//! RUP creates and publishes the tender (with three custodians, 2 of 3), suppliers register
//! in the albo and are qualified by the admin. `psql` is used only to inspect or tamper with
//! what the tests look at.
//!
//! Sessions last 12 hours: after the clock jumps to the deadline (a month later) every
//! client logs in again.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use journeys::serde_json::{self, json, Value};
use journeys::tender_world;
use journeys::{Client, TestApp};
use offerte::bundle::{verify_bundle, Pins, VerificationBundle};
use offerte::custodian;
use seal::envelope::{self, AgeIdentity};

const PASSWORD: &str = "una-password-lunga";
const RUP: &str = "rup@comune.milano.it";
const COMMISSION: &str = "custode2@comune.milano.it";

/// Valid partite IVA (check digits computed with the §10 algorithm).
const PIVA: [&str; 6] = [
    "00514490010",
    "03123456786",
    "04567890126",
    "05678901231",
    "06789012348",
    "07890123453",
];

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

struct Custodian {
    user_id: String,
    email: &'static str,
    identity: AgeIdentity,
}

struct World {
    app: TestApp,
    admin: Client,
    rup: Client,
    custodians: Vec<Custodian>,
    ente: String,
    /// Tenders created so far (for distinct CIGs) and suppliers registered (distinct P.IVA).
    tenders: std::cell::Cell<u64>,
    suppliers: std::cell::Cell<usize>,
}

impl World {
    fn login(&self, email: &str) -> Client {
        self.app.client().logged_in(email, PASSWORD)
    }
}

fn official(admin: &Client, email: &str, role: &str, ente: &str) -> String {
    id(&admin
        .post(
            "/api/v1/users",
            &json!({ "email": email, "full_name": "Funzionario", "password": PASSWORD,
                                          "roles": [{ "role": role, "ente_id": ente }] }),
        )
        .expect(201))
}

/// A supplier account (not in the albo).
struct Bidder {
    client: Client,
    user_id: String,
    email: String,
    /// The operatore economico in the albo, when registered.
    operatore: Option<String>,
}

impl Bidder {
    /// Logs in again (sessions last 12 hours; tests jump a month).
    fn relogin(&mut self, w: &World) {
        self.client = w.login(&self.email);
    }
}

fn account(w: &World, email: &str) -> Bidder {
    let (client, user_id) = w.app.register_supplier(email, "Operatore", PASSWORD);
    Bidder {
        client,
        user_id,
        email: email.to_string(),
        operatore: None,
    }
}

/// An account that registers its operatore economico in the albo (pending) with DURC valid
/// until `durc_until` and the visura camerale, as tests/tests/registry.rs does.
fn registered(w: &World, email: &str, durc_until: &str) -> Bidder {
    let mut b = account(w, email);
    let n = w.suppliers.get();
    w.suppliers.set(n + 1);
    let piva = PIVA[n];
    let op = b
        .client
        .post(
            "/api/v1/registry/operatori",
            &json!({
            "ragione_sociale": format!("Operatore {n} S.r.l."), "forma_giuridica": "srl",
            "partita_iva": piva, "codice_fiscale": piva, "sede_istat": "015146", "sede_indirizzo": "Via Roma 1",
            "pec": format!("{piva}@legalmail.it"),
            "legale_rappresentante": { "nome": "Mario Rossi", "codice_fiscale": "RSSMRA80A01F205X" } }),
        )
        .expect(201);
    let op_id = id(&op);
    for (tipo, scadenza) in [
        ("durc", format!("&scadenza={durc_until}")),
        ("visura_camerale", String::new()),
    ] {
        b.client
            .post_raw(
                &format!("/api/v1/registry/operatori/{op_id}/documenti?tipo={tipo}&nome_file={tipo}.pdf{scadenza}"),
                "application/pdf",
                format!("{tipo} {op_id}").as_bytes(),
            )
            .expect(201);
    }
    b.operatore = Some(op_id);
    b
}

/// A supplier registered in the albo and qualified by the admin, documents valid for years.
fn qualified(w: &World, email: &str) -> Bidder {
    qualified_until(w, email, "2029-12-31")
}

fn qualified_until(w: &World, email: &str, durc_until: &str) -> Bidder {
    let b = registered(w, email, durc_until);
    let op = b.operatore.as_deref().expect("operatore");
    let q = w
        .admin
        .post(
            &format!("/api/v1/registry/operatori/{op}/qualification"),
            &json!({ "action": "qualify" }),
        )
        .expect(200);
    assert_eq!(q["status"], "qualified");
    b
}

/// A qualified supplier's client and user id.
fn supplier(w: &World, email: &str) -> (Client, String) {
    let b = qualified(w, email);
    (b.client, b.user_id)
}

fn world() -> World {
    world_with(TestApp::start())
}

fn world_with(app: TestApp) -> World {
    let admin = app.admin();
    let ente = journeys::tender_world::comune_di_milano(&admin);
    journeys::tender_world::qualify(&admin, &ente);
    let rup_id = official(&admin, RUP, "rup", &ente);
    let c2 = official(&admin, COMMISSION, "commission", &ente);
    let c3 = official(&admin, "custode3@comune.milano.it", "auditor", &ente);
    let custodians = [
        (rup_id.clone(), RUP),
        (c2, COMMISSION),
        (c3, "custode3@comune.milano.it"),
    ]
    .into_iter()
    .map(|(user_id, email)| Custodian {
        user_id,
        email,
        identity: AgeIdentity::generate(),
    })
    .collect();
    let rup = app.client().logged_in(RUP, PASSWORD);
    World {
        app,
        admin,
        rup,
        custodians,
        ente,
        tenders: 0.into(),
        suppliers: 0.into(),
    }
}

/// The submission deadline of every tender here: 5 June 2026, 12:00 in Rome.
fn deadline() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 5, 10, 0, 0).single().expect("instant")
}

/// A valid ordinary CIG: 7 digits + hex of (N·211 mod 4091).
fn cig(n: u64) -> String {
    format!("{n:07}{:03X}", n * 211 % 4091)
}

/// The tender as the RUP fills it in (shape of tests/tests/bandi.rs): an open procedure for
/// services, OEPV, no lots, envelopes A/B/C, the three custodians with k = 2, submissions
/// until [`deadline`] (a month from the test start, as art. 71 requires).
fn tender_body(w: &World) -> Value {
    let n = w.tenders.get();
    w.tenders.set(n + 1);
    json!({
        "ente_id": w.ente,
        "oggetto": "Servizio di pulizia degli edifici comunali",
        "cpv_main": "90910000-9",
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "oepv",
        "oepv": {
            "criteria": [
                { "code": "T1", "description": "Organizzazione del servizio", "weight": 45, "kind": "discretionary" },
                { "code": "T2", "description": "Prodotti ecologici", "weight": 25, "kind": "quantitative" }
            ],
            "economic_weight": 30,
            "economic_formula": { "kind": "bilinear", "x": "0.85" },
            "reparametrization": true
        },
        "base_amount": "200000.00",
        "safety_costs": "0",
        "labour_intensive": true,
        "cig": cig(2_000_000 + n),
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "B", "C"],
        "custodians": w.custodians.iter().map(|c| c.user_id.as_str()).collect::<Vec<_>>(),
        "custodian_threshold": 2,
        "lotti": []
    })
}

/// Created and published by the RUP through the API; returns its id.
fn publish(w: &World, body: &Value) -> String {
    let bando = id(&w.rup.post("/api/v1/bandi", body).expect(201));
    let published = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    assert_eq!(published["state"], "published");
    assert_eq!(published["submission_deadline"]["utc"], "2026-06-05T10:00:00Z");
    bando
}

/// A published open procedure with the three custodians, 2 of 3.
fn tender(w: &World) -> String {
    publish(w, &tender_body(w))
}

/// The dealerless ceremony, each custodian logged in as himself; returns the seal view.
fn custody(w: &World, bando: &str) -> Value {
    let custodians: Vec<(Client, &AgeIdentity)> =
        w.custodians.iter().map(|c| (w.login(c.email), &c.identity)).collect();
    tender_world::ceremony(&custodians, bando);
    w.rup.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200)
}

/// Custodians `which` (0-based) each submit their own share of `kind`, as `centrale keys
/// decrypt-share --kind` prints it.
fn give_shares(w: &World, bando: &str, kind: &str, which: &[usize]) {
    for &i in which {
        let c = &w.custodians[i];
        tender_world::submit_share(&w.login(c.email), &c.identity, bando, kind);
    }
}

/// Custodian `i`'s share of `kind`, computed on his side.
fn share_of(w: &World, bando: &str, kind: &str, i: usize) -> Value {
    let c = &w.custodians[i];
    let all = tender_world::contributions(&w.login(c.email), bando);
    serde_json::to_value(custodian::opening_share(&c.identity, &all, kind).expect("share")).expect("json")
}

struct Upload {
    status: u16,
    body: Value,
}

fn send(app: &TestApp, who: &Client, bando: &str, kind: &str, sealed: &str, body: impl Read) -> Upload {
    let url = format!(
        "{}/api/v1/bandi/{bando}/offerta/buste/{kind}?sealed={sealed}",
        app.base_url
    );
    let req = ureq::post(&url)
        .set(
            "Authorization",
            &format!("Bearer {}", who.token.as_deref().expect("token")),
        )
        .set("Content-Type", "application/octet-stream");
    let resp = match req.send(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap_or_default();
    Upload {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

fn submit(app: &TestApp, who: &Client, bando: &str, kind: &str, plaintext: &[u8]) -> Value {
    let u = send(app, who, bando, kind, "server", plaintext);
    assert_eq!(u.status, 201, "{}", u.body);
    u.body
}

fn submit_client_sealed(
    app: &TestApp,
    who: &Client,
    bando: &str,
    kind: &str,
    recipient: &str,
    plaintext: &[u8],
) -> (Value, Vec<u8>) {
    let r = envelope::parse_recipient(recipient).expect("recipient");
    let mut sealed = Vec::new();
    envelope::seal_stream(&r, plaintext, &mut sealed).expect("seal");
    let u = send(app, who, bando, kind, "client", &sealed[..]);
    assert_eq!(u.status, 201, "{}", u.body);
    (u.body, sealed)
}

fn get_bytes(app: &TestApp, who: &Client, path: &str) -> (u16, Vec<u8>) {
    let req = ureq::get(&format!("{}{path}", app.base_url)).set(
        "Authorization",
        &format!("Bearer {}", who.token.as_deref().expect("token")),
    );
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let mut out = Vec::new();
    resp.into_reader().read_to_end(&mut out).expect("read body");
    (status, out)
}

/// Waits (real time, bounded) for the sequencer to integrate the envelope's leaf.
fn bundle_when_integrated(who: &Client, envelope: &str) -> VerificationBundle {
    let t0 = Instant::now();
    loop {
        let b = who.get(&format!("/api/v1/buste/{envelope}/ricevuta")).expect(200);
        if !b["checkpoint"].is_null() && !b["leaf_index"].is_null() {
            return serde_json::from_value(b).expect("bundle");
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "leaf never integrated");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn checkpoint_size(app: &TestApp) -> u64 {
    let note = app.client().get("/api/v1/log/checkpoint").text;
    note.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0)
}

fn wait_for_size(app: &TestApp, at_least: u64) -> u64 {
    let t0 = Instant::now();
    loop {
        let s = checkpoint_size(app);
        if s >= at_least {
            return s;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "log stuck at {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn envelope_file(app: &TestApp, who: &Client, envelope: &str) -> Vec<u8> {
    let (status, bytes) = get_bytes(app, who, &format!("/api/v1/buste/{envelope}/cifrato"));
    assert_eq!(status, 200);
    bytes
}

#[test]
fn custody_submission_and_receipts_that_verify_offline_and_with_openssl() {
    let w = world();
    let bando = tender(&w);
    let (acme, acme_id) = supplier(&w, "gare@acme.it");
    // No key yet: nothing can be submitted.
    let u = send(&w.app, &acme, &bando, "A", "server", &b"x"[..]);
    assert_eq!(
        (u.status, u.body["code"].as_str()),
        (409, Some("seal_ceremony_incomplete"))
    );
    // Only the tender's custodians act in the ceremony; a supplier cannot.
    acme.post(
        &format!("/api/v1/bandi/{bando}/sigillo/custodi"),
        &json!({ "age_key": AgeIdentity::generate().to_public().to_string() }),
    )
    .expect_problem(403, "forbidden");
    let key = custody(&w, &bando);
    assert_eq!((key["k"].as_u64(), key["n"].as_u64()), (Some(2), Some(3)));
    assert_eq!(key["status"], "complete");
    let recipient = key["recipients"]["B"].as_str().expect("recipient").to_string();
    // The keys cannot be swapped afterwards.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/sigillo/custodi"),
            &json!({ "age_key": AgeIdentity::generate().to_public().to_string() }),
        )
        .expect_problem(409, "seal_ceremony_complete");
    // Officials cannot submit bids.
    let u = send(&w.app, &w.rup, &bando, "A", "server", &b"x"[..]);
    assert_eq!(u.status, 403);

    let a = submit(&w.app, &acme, &bando, "A", b"documentazione amministrativa");
    let (b, b_file) = submit_client_sealed(&w.app, &acme, &bando, "B", &recipient, b"offerta tecnica");
    let c = submit(
        &w.app,
        &acme,
        &bando,
        "C",
        br#"{"discount": "12.5", "labour_costs": "1000", "safety_costs": "200"}"#,
    );
    for (r, kind) in [(&a, "A"), (&b, "B"), (&c, "C")] {
        assert_eq!(r["kind"], kind);
        assert_eq!(r["bando_id"], bando.as_str());
        assert_eq!(r["bidder_id"], acme_id.as_str());
        assert_eq!(r["received_at"], "2026-05-04T08:00:00Z");
        assert!(r["integrate_by"].is_string(), "the receipt carries a signed promise");
        assert!(r["receipt"]
            .as_str()
            .expect("receipt")
            .starts_with("centrale-receipt/v1\n"));
        assert!(!r["tsa_token"].as_str().expect("token").is_empty());
    }
    assert_eq!(b["sealed_by"], "client");
    assert_eq!(a["sealed_by"], "server");
    // A client-sealed envelope must be age ciphertext.
    let u = send(&w.app, &acme, &bando, "B", "client", &b"not an age file at all"[..]);
    assert_eq!((u.status, u.body["code"].as_str()), (422, Some("envelope_not_age")));

    // The receipt verifies offline, with keys pinned from /log/keys.
    let keys = w.app.client().get("/api/v1/log/keys").expect(200);
    let pins = || Pins {
        platform_key: Some(
            offerte::bundle::parse_platform_key(keys["platform_key"].as_str().expect("pk")).expect("pk"),
        ),
        log_key: Some(
            seal::checkpoint::NoteVerifier::from_vkey(keys["log_key"].as_str().expect("vkey")).expect("vkey"),
        ),
    };
    let bundle_b = bundle_when_integrated(&acme, b["envelope_id"].as_str().expect("id"));
    let report = verify_bundle(&bundle_b, &b_file[..], None, pins()).expect("receipt B verifies");
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
    let a_id = a["envelope_id"].as_str().expect("id");
    let bundle_a = bundle_when_integrated(&acme, a_id);
    let a_file = envelope_file(&w.app, &acme, a_id);
    verify_bundle(&bundle_a, &a_file[..], None, pins()).expect("receipt A verifies");
    // Consistency with an older checkpoint: the first one signed.
    let older = w.app.client().get("/api/v1/log/checkpoint?size=0").text;
    let b2: VerificationBundle =
        serde_json::from_value(acme.get(&format!("/api/v1/buste/{a_id}/ricevuta?since=0")).expect(200))
            .expect("bundle");
    let r = verify_bundle(&b2, &a_file[..], Some(&older), pins()).expect("consistent");
    assert!(r.checks.contains(&"consistency"));

    // Another supplier cannot see the receipt (nor learn that it exists); the officials
    // cannot before the deadline.
    let (other, _) = supplier(&w, "gare@other.it");
    other
        .get(&format!("/api/v1/buste/{a_id}/ricevuta"))
        .expect_problem(404, "not_found");
    w.rup
        .get(&format!("/api/v1/buste/{a_id}/ricevuta"))
        .expect_problem(404, "not_found");

    // openssl ts -verify on the token, against the TSA certificates served by the API.
    let dir = tempdir("openssl");
    let certs = w.app.client().get("/api/v1/log/tsa-certificates").expect(200);
    std::fs::write(dir.join("ca.pem"), certs["ca_pem"].as_str().expect("ca")).expect("write");
    std::fs::write(dir.join("tsa.pem"), certs["tsa_pem"].as_str().expect("tsa")).expect("write");
    let receipt_text = a["receipt"].as_str().expect("receipt");
    let canonical = &receipt_text[..receipt_text.rfind("signature ").expect("signature line")];
    std::fs::write(dir.join("receipt.txt"), canonical).expect("write");
    std::fs::write(
        dir.join("token.der"),
        B64.decode(a["tsa_token"].as_str().expect("token")).expect("b64"),
    )
    .expect("write");
    let verify = |data: &str| {
        Command::new("openssl")
            .args([
                "ts",
                "-verify",
                "-data",
                data,
                "-in",
                "token.der",
                "-token_in",
                "-CAfile",
                "ca.pem",
                "-untrusted",
                "tsa.pem",
            ])
            .current_dir(&dir)
            .output()
            .expect("openssl runs")
    };
    let ok = verify("receipt.txt");
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::write(dir.join("tampered.txt"), canonical.replace("envelope A", "envelope B")).expect("write");
    let bad = verify("tampered.txt");
    assert!(!bad.status.success(), "a tampered receipt must fail openssl ts -verify");
}

/// A reader that sends `first` bytes, then moves the clock, then sends `rest` bytes.
struct ClockMovingReader {
    first: usize,
    rest: usize,
    sent: usize,
    clock: domain::clock::ManualClock,
    to: DateTime<Utc>,
    moved: bool,
}

impl Read for ClockMovingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.sent >= self.first && !self.moved {
            std::thread::sleep(Duration::from_millis(100));
            self.clock.set(self.to);
            self.moved = true;
        }
        let limit = if self.moved { self.first + self.rest } else { self.first };
        let n = buf.len().min(limit - self.sent);
        buf[..n].fill(b'z');
        self.sent += n;
        Ok(n)
    }
}

#[test]
fn the_deadline_holds_one_second_before_and_after_and_at_the_last_byte() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    for email in ["gare@acme.it", "gare@late.it", "gare@slow.it"] {
        supplier(&w, email);
    }

    w.app.clock.set(deadline() - Span::seconds(1));
    let (acme, slow, late) = (
        w.login("gare@acme.it"),
        w.login("gare@slow.it"),
        w.login("gare@late.it"),
    );
    let ok = submit(&w.app, &acme, &bando, "A", b"in tempo");
    assert_eq!(ok["received_at"], "2026-06-05T09:59:59Z");

    // An upload that starts before the deadline and ends after it is refused.
    w.app.clock.set(deadline() - Span::seconds(5));
    let reader = ClockMovingReader {
        first: 16 << 20,
        rest: 1 << 20,
        sent: 0,
        clock: w.app.clock.clone(),
        to: deadline() + Span::seconds(1),
        moved: false,
    };
    let u = send(&w.app, &slow, &bando, "A", "server", reader);
    assert_eq!(
        (u.status, u.body["code"].as_str()),
        (409, Some("deadline_passed")),
        "{}",
        u.body
    );
    assert_eq!(
        slow.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200),
        json!([])
    );

    w.app.clock.set(deadline() + Span::seconds(1));
    let u = send(&w.app, &late, &bando, "A", "server", &b"in ritardo"[..]);
    assert_eq!((u.status, u.body["code"].as_str()), (409, Some("deadline_passed")));
    assert!(u.body["detail"].as_str().expect("detail").contains("scaduto"));
    assert_eq!(
        late.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200),
        json!([])
    );
    // Nor can a bid be replaced or withdrawn any more.
    let u = send(&w.app, &acme, &bando, "A", "server", &b"ripensamento"[..]);
    assert_eq!(u.status, 409);
    acme.delete(&format!("/api/v1/bandi/{bando}/offerta"))
        .expect_problem(409, "deadline_passed");
    // No refused upload left a file behind: the blob store holds exactly the accepted one.
    let blobs = files_under(&w.app.seal_dir.join("blobs"));
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert!(files_under(&w.app.seal_dir.join("tmp")).is_empty());
    let mine = acme.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    assert_eq!(mine[0]["envelopes"].as_array().map(Vec::len), Some(1));
}

#[test]
fn replace_and_withdraw_until_the_deadline_only_the_last_counts_and_history_stays() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let (acme, _) = supplier(&w, "gare@acme.it");
    let first = submit(&w.app, &acme, &bando, "A", b"prima versione");
    w.app.clock.advance(Span::minutes(1));
    let second = submit(&w.app, &acme, &bando, "A", b"seconda versione");
    let bids = acme.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let envs = bids[0]["envelopes"].as_array().expect("envelopes");
    assert_eq!(envs.len(), 2);
    assert_eq!(envs[0]["envelope_id"], first["envelope_id"]);
    assert!(envs[0]["superseded_at"].is_string());
    assert!(envs[1]["superseded_at"].is_null());
    assert_eq!(envs[1]["envelope_id"], second["envelope_id"]);

    let withdrawal = acme.delete(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    assert!(withdrawal["leaf_data"]
        .as_str()
        .expect("leaf")
        .starts_with("centrale-bid-withdrawn/v1\n"));
    acme.delete(&format!("/api/v1/bandi/{bando}/offerta"))
        .expect_problem(404, "not_found");
    w.app.clock.advance(Span::minutes(1));
    let third = submit(&w.app, &acme, &bando, "A", b"terza versione");
    let bids = acme.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    assert_eq!(bids.as_array().map(Vec::len), Some(2));
    assert!(bids[0]["withdrawn_at"].is_string());
    assert!(bids[1]["withdrawn_at"].is_null());

    // Only the last envelope of the active bid is opened.
    w.app.clock.set(deadline() + Span::hours(3)); // the opening session (15:00 Rome)
    let rup = w.app.client().logged_in("rup@comune.milano.it", PASSWORD);
    give_shares(&w, &bando, "A", &[0, 1]);
    let opened = rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/A"), &json!({}))
        .expect(201);
    let envs = opened["envelopes"].as_array().expect("envelopes");
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["envelope_id"], third["envelope_id"]);
    let (status, text) = get_bytes(
        &w.app,
        &rup,
        &format!("/api/v1/buste/{}/contenuto", third["envelope_id"].as_str().expect("id")),
    );
    assert_eq!((status, text.as_slice()), (200, &b"terza versione"[..]));
}

#[test]
fn the_log_serves_proofs_and_only_hashes_and_closes_each_tender_at_its_deadline() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let (acme, _) = supplier(&w, "gare@acme.it");
    submit(&w.app, &acme, &bando, "A", b"uno");
    submit(&w.app, &acme, &bando, "B", b"due");
    let size = wait_for_size(&w.app, 3);
    let anon = w.app.client();
    let note = anon.get("/api/v1/log/checkpoint").text;
    let keys = anon.get("/api/v1/log/keys").expect(200);
    let verifier = seal::checkpoint::NoteVerifier::from_vkey(keys["log_key"].as_str().expect("vkey")).expect("vkey");
    let cp = seal::checkpoint::open_checkpoint(&note, &verifier).expect("signed checkpoint");
    assert_eq!(cp.origin, "centrale.test/log");
    assert_eq!(cp.size, size);

    // Leaves are public as hashes only.
    let leaves = anon.get(&format!("/api/v1/log/leaves?start=0&end={size}")).expect(200);
    for leaf in leaves.as_array().expect("leaves") {
        let mut keys: Vec<_> = leaf.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, vec!["index", "leaf_hash"]);
    }
    // Every leaf's inclusion proof leads to the signed root.
    for i in 0..size {
        let p = anon
            .get(&format!("/api/v1/log/proof/inclusion?index={i}&tree_size={size}"))
            .expect(200);
        let leaf: [u8; 32] = hex32(p["leaf_hash"].as_str().expect("hash"));
        let proof: Vec<[u8; 32]> = p["proof"]
            .as_array()
            .expect("proof")
            .iter()
            .map(|h| hex32(h.as_str().expect("h")))
            .collect();
        seal::merkle::verify_inclusion(&leaf, i, size, &proof, &cp.root).expect("inclusion");
    }
    anon.get(&format!("/api/v1/log/proof/inclusion?index={size}&tree_size={size}"))
        .expect_problem(422, "proof_out_of_range");

    // The deadline: TenderClosed and a checkpoint right after, without any request.
    w.app.clock.set(deadline() + Span::seconds(1));
    let closed = wait_for_size(&w.app, size + 1);
    assert_eq!(closed, size + 1);
    let newer = anon.get("/api/v1/log/checkpoint").text;
    let new_cp = seal::checkpoint::open_checkpoint(&newer, &verifier).expect("signed");
    let c = anon
        .get(&format!("/api/v1/log/proof/consistency?first={size}&second={closed}"))
        .expect(200);
    let proof: Vec<[u8; 32]> = c["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(|h| hex32(h.as_str().expect("h")))
        .collect();
    seal::merkle::verify_consistency(size, closed, &cp.root, &new_cp.root, &proof).expect("consistent");
    assert_eq!(
        w.app
            .psql(&format!("SELECT kind FROM log_leaves WHERE leaf_index = {size}")),
        "tender_closed"
    );
    assert_eq!(
        w.app.psql(&format!(
            "SELECT tree_size FROM seal_closures WHERE bando_id = '{bando}'"
        )),
        closed.to_string()
    );
}

#[test]
fn opening_needs_k_shares_after_the_deadline_in_order_and_is_logged() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let (acme, acme_id) = supplier(&w, "gare@acme.it");
    let (beta, _) = supplier(&w, "gare@beta.it");
    submit(&w.app, &acme, &bando, "A", b"amministrativa acme");
    submit(&w.app, &acme, &bando, "B", b"tecnica acme");
    let c = submit(
        &w.app,
        &acme,
        &bando,
        "C",
        br#"{"discount": 12.5, "labour_costs": "1000.00", "safety_costs": 200}"#,
    );
    submit(&w.app, &beta, &bando, "A", b"amministrativa beta");
    submit(&w.app, &beta, &bando, "B", b"tecnica beta");
    submit(&w.app, &beta, &bando, "C", b"not json");
    let path = |k: &str| format!("/api/v1/bandi/{bando}/aperture/{k}");
    let early = share_of(&w, &bando, "A", 1);
    w.login(COMMISSION)
        .post(&format!("{}/quote", path("A")), &early)
        .expect_problem(409, "opening_before_deadline");
    w.rup
        .post(&path("A"), &json!({}))
        .expect_problem(409, "opening_before_deadline");
    w.app.clock.set(deadline() + Span::hours(3)); // the opening session (15:00 Rome)
    let rup = w.app.client().logged_in("rup@comune.milano.it", PASSWORD);
    let commission = w.app.client().logged_in("custode2@comune.milano.it", PASSWORD);
    let acme = w.login("gare@acme.it");
    rup.post(&path("B"), &json!({}))
        .expect_problem(409, "opening_out_of_order");
    give_shares(&w, &bando, "A", &[1]);
    rup.post(&path("A"), &json!({}))
        .expect_problem(409, "opening_shares_missing");
    acme.post(&path("A"), &json!({})).expect_problem(403, "forbidden");
    give_shares(&w, &bando, "A", &[2]);
    assert_eq!(
        rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200),
        json!([])
    );

    let a = commission.post(&path("A"), &json!({})).expect(201);
    assert_eq!(a["envelopes"].as_array().map(Vec::len), Some(2));
    rup.post(&path("A"), &json!({})).expect_problem(409, "already_opened");
    rup.post(&path("C"), &json!({}))
        .expect_problem(409, "opening_out_of_order");
    give_shares(&w, &bando, "B", &[0, 2]);
    rup.post(&path("B"), &json!({})).expect(201);
    // OEPV: C only once the commission has closed the technical phase (as in
    // tests/tests/aggiudicazione.rs; here recorded directly, the seal is under test).
    rup.post(&path("C"), &json!({}))
        .expect_problem(409, "technical_phase_open");
    technical_phase_closed(&w.app, &bando);
    give_shares(&w, &bando, "C", &[1, 2]);
    let c_open = rup.post(&path("C"), &json!({})).expect(201);
    let offers: Vec<&Value> = c_open["envelopes"].as_array().expect("envelopes").iter().collect();
    let acme_offer = offers
        .iter()
        .find(|e| e["bidder_id"] == acme_id.as_str())
        .expect("acme");
    assert_eq!(acme_offer["envelope_id"], c["envelope_id"]);
    assert_eq!(
        acme_offer["economic_offer"],
        json!({ "discount": "12.5", "labour_costs": "1000.00", "safety_costs": "200" })
    );
    let beta_offer = offers
        .iter()
        .find(|e| e["bidder_id"] != acme_id.as_str())
        .expect("beta");
    assert!(beta_offer["economic_offer"]["error"].is_string());

    let all = rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200);
    let kinds: Vec<&str> = all
        .as_array()
        .expect("openings")
        .iter()
        .map(|o| o["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, vec!["A", "B", "C"]);
    assert_eq!(
        w.app
            .psql("SELECT count(*) FROM log_leaves WHERE kind = 'envelope_opened'"),
        "3"
    );
    // Suppliers never read the plaintext; the commission does.
    let env = acme_offer["envelope_id"].as_str().expect("id");
    let (status, _) = get_bytes(&w.app, &acme, &format!("/api/v1/buste/{env}/contenuto"));
    assert_eq!(status, 403);
    let (status, text) = get_bytes(&w.app, &commission, &format!("/api/v1/buste/{env}/contenuto"));
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&text).contains("labour_costs"));
}

#[test]
fn secrecy_no_marker_in_a_database_dump_or_the_blob_store_before_the_opening() {
    let w = world();
    let bando = tender(&w);
    let key = custody(&w, &bando);
    let recipient = key["recipients"]["B"].as_str().expect("recipient").to_string();
    let (acme, _) = supplier(&w, "gare@acme.it");
    let markers = [
        "MARKER-AMMINISTRATIVA-7f3a",
        "MARKER-TECNICA-91bc",
        "MARKER-ECONOMICA-22d0",
    ];
    submit(
        &w.app,
        &acme,
        &bando,
        "A",
        format!("documenti {}", markers[0]).as_bytes(),
    );
    submit_client_sealed(
        &w.app,
        &acme,
        &bando,
        "B",
        &recipient,
        format!("relazione {}", markers[1]).as_bytes(),
    );
    let c = submit(
        &w.app,
        &acme,
        &bando,
        "C",
        format!(
            r#"{{"price": "1000", "labour_costs": "10", "safety_costs": "1", "note": "{}"}}"#,
            markers[2]
        )
        .as_bytes(),
    );
    wait_for_size(&w.app, 4);

    let dump = pg_dump(&w.app);
    assert!(dump.len() > 1000 && dump.contains("log_leaves"), "the dump is real");
    let files = files_under(&w.app.seal_dir);
    assert!(!files.is_empty());
    for m in markers {
        assert!(!dump.contains(m), "{m} found in the database dump");
        for f in &files {
            let bytes = std::fs::read(f).expect("read");
            assert!(!contains(&bytes, m.as_bytes()), "{m} found in {}", f.display());
        }
    }

    // After the opening the commission reads them (envelope B: once appointed and declared).
    w.app.clock.set(deadline() + Span::hours(3)); // the opening session (15:00 Rome)
    let commission = w.app.client().logged_in("custode2@comune.milano.it", PASSWORD);
    appoint_and_declare(&w, &bando, &commission, &w.custodians[1].user_id);
    technical_phase_closed(&w.app, &bando);
    for kind in ["A", "B", "C"] {
        give_shares(&w, &bando, kind, &[0, 1]);
        commission
            .post(&format!("/api/v1/bandi/{bando}/aperture/{kind}"), &json!({}))
            .expect(201);
    }
    let openings = commission.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200);
    for (i, o) in openings.as_array().expect("openings").iter().enumerate() {
        let env = o["envelopes"][0]["envelope_id"].as_str().expect("id");
        let (status, text) = get_bytes(&w.app, &commission, &format!("/api/v1/buste/{env}/contenuto"));
        assert_eq!(status, 200);
        assert!(contains(&text, markers[i].as_bytes()));
    }
    assert_eq!(openings[2]["envelopes"][0]["envelope_id"], c["envelope_id"]);
}

/// The commission's closing of the technical phase, recorded directly: on OEPV envelope C
/// opens only after it (the whole procedure is in tests/tests/aggiudicazione.rs).
fn technical_phase_closed(app: &TestApp, bando: &str) {
    app.psql(&format!(
        "INSERT INTO agg_evaluations (scope_id, technical_closed_at) VALUES ('{bando}', now())"
    ));
}

/// The RUP appoints a one-member commission (art. 93) and the member declares.
fn appoint_and_declare(w: &World, bando: &str, member: &Client, member_id: &str) {
    let rup = w.login(RUP);
    rup.post(
        &format!("/api/v1/bandi/{bando}/valutazione/commissione"),
        &json!({ "members": [member_id], "president": member_id }),
    )
    .expect(201);
    member
        .post(&format!("/api/v1/bandi/{bando}/valutazione/commissione/dichiarazione"),
              &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" }))
        .expect(200);
}

/// Issue 6 point 2 on the seal's own endpoints: the opening of B and its content reach only
/// the declared members of the commission appointed for this tender, not any holder of the
/// ente's `commission` role, and under OEPV not the RUP or an admin either.
#[test]
fn envelope_b_only_reaches_the_declared_members_of_the_appointed_commission() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let (acme, _) = supplier(&w, "gare@acme.it");
    submit(&w.app, &acme, &bando, "A", b"amministrativa acme");
    let b = submit(&w.app, &acme, &bando, "B", b"tecnica acme");
    submit(
        &w.app,
        &acme,
        &bando,
        "C",
        br#"{"discount": "10", "labour_costs": "1000", "safety_costs": "100"}"#,
    );
    official(&w.admin, "commissario.altro@comune.milano.it", "commission", &w.ente);
    w.app.clock.set(deadline() + Span::hours(3)); // the opening session (15:00 Rome)
    let rup = w.login(RUP);
    let member = w.login(COMMISSION);
    let outsider = w.login("commissario.altro@comune.milano.it");
    let path = |k: &str| format!("/api/v1/bandi/{bando}/aperture/{k}");
    give_shares(&w, &bando, "A", &[0, 1]);
    let a = rup.post(&path("A"), &json!({})).expect(201);
    give_shares(&w, &bando, "B", &[0, 1]);
    // A commission-role official who is not on this tender's commission may not open B.
    outsider
        .post(&path("B"), &json!({}))
        .expect_problem(403, "not_commission_member");
    rup.post(&path("B"), &json!({})).expect(201);
    let b_env = b["envelope_id"].as_str().expect("id");
    let a_env = a["envelopes"][0]["envelope_id"].as_str().expect("id");
    let content = |who: &Client, env: &str| get_bytes(&w.app, who, &format!("/api/v1/buste/{env}/contenuto"));
    let commission_of = |who: &Client| {
        let (status, body) = content(who, b_env);
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (status, v["code"].as_str().unwrap_or_default().to_string())
    };
    // Before any appointment nobody reads B.
    assert_eq!(commission_of(&member), (403, "not_commission_member".to_string()));
    // Appointed but not declared yet: 409.
    rup.post(
        &format!("/api/v1/bandi/{bando}/valutazione/commissione"),
        &json!({ "members": [w.custodians[1].user_id], "president": w.custodians[1].user_id }),
    )
    .expect(201);
    assert_eq!(commission_of(&member), (409, "declarations_missing".to_string()));
    member
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/commissione/dichiarazione"),
            &json!({ "no_incompatibility": true, "text": "Nessuna incompatibilità" }),
        )
        .expect(200);
    // The declared member reads B; the outsider with the same role, the RUP and the admin do not.
    let (status, text) = content(&member, b_env);
    assert_eq!((status, text.as_slice()), (200, &b"tecnica acme"[..]));
    assert_eq!(commission_of(&outsider), (403, "not_commission_member".to_string()));
    assert_eq!(commission_of(&rup), (403, "not_commission_member".to_string()));
    assert_eq!(
        commission_of(&w.app.admin()),
        (403, "not_commission_member".to_string())
    );
    // Envelope A stays readable by the ente's RUP and commission role (the seggio di gara).
    assert_eq!(content(&outsider, a_env).0, 200);
    assert_eq!(content(&rup, a_env).0, 200);
}

#[test]
fn tampering_with_a_blob_a_receipt_or_a_leaf_is_reported_by_the_offline_verifier() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let (acme, _) = supplier(&w, "gare@acme.it");
    let a = submit(&w.app, &acme, &bando, "A", b"busta A");
    let b = submit(&w.app, &acme, &bando, "B", b"busta B");
    let a_id = a["envelope_id"].as_str().expect("id").to_string();
    let b_id = b["envelope_id"].as_str().expect("id").to_string();
    let bundle_a = bundle_when_integrated(&acme, &a_id);
    let bundle_b = bundle_when_integrated(&acme, &b_id);
    let file_a = envelope_file(&w.app, &acme, &a_id);
    let file_b = envelope_file(&w.app, &acme, &b_id);
    verify_bundle(&bundle_a, &file_a[..], None, Pins::default()).expect("A verifies");
    verify_bundle(&bundle_b, &file_b[..], None, Pins::default()).expect("B verifies");

    // 1. One byte of a stored blob.
    let blob = w.app.seal_dir.join(
        w.app
            .psql(&format!("SELECT blob_path FROM envelopes WHERE id = '{a_id}'")),
    );
    let mut bytes = std::fs::read(&blob).expect("blob");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&blob, &bytes).expect("tamper blob");
    let served = envelope_file(&w.app, &acme, &a_id);
    let err = verify_bundle(&bundle_a, &served[..], None, Pins::default()).expect_err("tampered blob");
    assert_eq!(err.check, "envelope-digest", "{err}");

    // 2. A receipt row (the envelope kind rewritten).
    w.app.psql(&format!(
        "ALTER TABLE receipts DISABLE TRIGGER receipts_append_only;
         UPDATE receipts SET canonical = replace(canonical, 'envelope B', 'envelope A') WHERE envelope_id = '{b_id}';"
    ));
    let served: VerificationBundle =
        serde_json::from_value(acme.get(&format!("/api/v1/buste/{b_id}/ricevuta")).expect(200)).expect("bundle");
    let err = verify_bundle(&served, &file_b[..], None, Pins::default()).expect_err("tampered receipt");
    assert_eq!(err.check, "receipt-signature", "{err}");

    // 3. A dropped leaf (the tender's TenderPublished, index 0).
    w.app.psql(
        "ALTER TABLE log_leaves DISABLE TRIGGER log_leaves_append_only;
                  DELETE FROM log_leaves WHERE leaf_index = 0;",
    );
    let served: VerificationBundle =
        serde_json::from_value(acme.get(&format!("/api/v1/buste/{a_id}/ricevuta")).expect(200)).expect("bundle");
    let err = verify_bundle(&served, &file_a[..], None, Pins::default()).expect_err("dropped leaf");
    assert_eq!(err.check, "inclusion", "{err}");
    // The receipt held by the bidder still proves what was accepted.
    verify_bundle(&bundle_b, &file_b[..], None, Pins::default()).expect("the bidder's own copy still verifies");
}

/// The problem code of a refused upload, and that the refused supplier has no bid.
fn refused(w: &World, who: &Client, bando: &str, expected: &str) {
    let u = send(&w.app, who, bando, "A", "server", &b"offerta"[..]);
    assert_eq!((u.status, u.body["code"].as_str()), (403, Some(expected)), "{}", u.body);
    assert!(u.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        who.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200),
        json!([])
    );
}

#[test]
fn on_an_open_procedure_only_suppliers_qualified_in_the_albo_with_valid_documents_bid() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    // No entry in the albo, a pending entry, a suspended one: refused before any byte is stored.
    let stranger = account(&w, "gare@sconosciuto.it");
    refused(&w, &stranger.client, &bando, "supplier_not_qualified");
    let pending = registered(&w, "gare@inattesa.it", "2029-12-31");
    refused(&w, &pending.client, &bando, "supplier_not_qualified");
    let suspended = qualified(&w, "gare@sospesa.it");
    w.admin
        .post(
            &format!(
                "/api/v1/registry/operatori/{}/qualification",
                suspended.operatore.as_deref().expect("op")
            ),
            &json!({ "action": "suspend", "reason": "DURC irregolare" }),
        )
        .expect(200);
    refused(&w, &suspended.client, &bando, "supplier_not_qualified");
    // Qualified with a DURC valid until 10 May: accepted today, refused once it has expired.
    let mut durc = qualified_until(&w, "gare@durc.it", "2026-05-10");
    let ok = submit(&w.app, &durc.client, &bando, "A", b"in regola");
    assert_eq!(ok["kind"], "A");
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 5, 10, 21, 59, 0).single().expect("instant"));
    durc.relogin(&w);
    submit(&w.app, &durc.client, &bando, "B", b"ultimo giorno di validita' a Roma");
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 5, 10, 22, 0, 0).single().expect("instant"));
    let u = send(&w.app, &durc.client, &bando, "C", "server", &b"{}"[..]);
    assert_eq!(
        (u.status, u.body["code"].as_str()),
        (403, Some("supplier_documents_expired")),
        "{}",
        u.body
    );
    assert!(
        u.body["detail"].as_str().expect("detail").contains("10/05/2026"),
        "{}",
        u.body
    );
    assert_eq!(
        kinds_in_my_bid(&durc.client, &bando),
        ["A", "B"],
        "the refused envelope left nothing"
    );
    // Refused uploads left no file behind.
    assert_eq!(files_under(&w.app.seal_dir.join("blobs")).len(), 2);
    assert!(files_under(&w.app.seal_dir.join("tmp")).is_empty());
    // A renewed DURC lets it bid again.
    durc.client
        .post_raw(
            &format!(
                "/api/v1/registry/operatori/{}/documenti?tipo=durc&nome_file=durc.pdf&scadenza=2026-12-31",
                durc.operatore.as_deref().expect("op")
            ),
            "application/pdf",
            b"DURC rinnovato",
        )
        .expect(201);
    submit(&w.app, &durc.client, &bando, "C", b"{}");
}

/// A holder of SOA categories must also keep its SOA attestation valid (as the albo counts
/// its documents): the submission checks the same mandatory documents as the albo's page,
/// through the lean standing it reads twice per envelope (issue 15).
#[test]
fn an_soa_holder_whose_attestation_has_expired_is_refused_like_the_albo_says() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let mut b = qualified(&w, "gare@soa.it");
    let op = b.operatore.clone().expect("operatore");
    b.client
        .post_raw(
            &format!(
                "/api/v1/registry/operatori/{op}/documenti?tipo=soa_attestazione&nome_file=soa.pdf&scadenza=2026-05-10"
            ),
            "application/pdf",
            b"attestazione SOA",
        )
        .expect(201);
    b.client
        .put(
            &format!("/api/v1/registry/operatori/{op}/categorie"),
            &json!({ "soa": [{ "categoria": "OG1", "classifica": "II" }] }),
        )
        .expect(200);
    submit(&w.app, &b.client, &bando, "A", b"attestazione valida");
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 5, 10, 22, 0, 0).single().expect("instant"));
    b.relogin(&w);
    let albo = b.client.get(&format!("/api/v1/registry/operatori/{op}")).expect(200);
    assert_eq!(albo["documents_status"], "expired", "{albo}");
    let u = send(&w.app, &b.client, &bando, "B", "server", &b"{}"[..]);
    assert_eq!(
        (u.status, u.body["code"].as_str()),
        (403, Some("supplier_documents_expired")),
        "{}",
        u.body
    );
    let detail = u.body["detail"].as_str().expect("detail");
    assert!(detail.contains("SOA") && detail.contains("10/05/2026"), "{detail}");
}

#[test]
fn on_a_procedure_by_invitation_the_invitation_list_decides() {
    let w = world();
    // Invited: operatori qualified in the albo (issue 9 finding 7: the registry decides who
    // may be invited); among the qualified, the RUP's list decides who may bid.
    let invited = qualified(&w, "invitato@fornitore.it");
    let others: Vec<String> = (0..4)
        .map(|i| qualified(&w, &format!("invitato{i}@fornitore.it")).user_id)
        .collect();
    let outsider = qualified(&w, "qualificato@fornitore.it");
    let mut body = tender_body(&w);
    body["procedure_type"] = json!("negoziata_senza_bando");
    body["invitees"] = json!([invited.user_id, others[0], others[1], others[2], others[3]]);
    let bando = publish(&w, &body);
    custody(&w, &bando);
    let r = submit(&w.app, &invited.client, &bando, "A", b"invitato");
    assert_eq!(r["bidder_id"], invited.user_id.as_str());
    // Qualified in the albo but not invited: refused, and the tender is not even visible to it.
    refused(&w, &outsider.client, &bando, "supplier_not_invited");
    // Nor may it read the tender's key and custodians.
    outsider
        .client
        .get(&format!("/api/v1/bandi/{bando}/sigillo"))
        .expect_problem(404, "not_found");
    invited
        .client
        .get(&format!("/api/v1/bandi/{bando}/sigillo"))
        .expect(200);
    // Nor its outcome, by the API or the portal, not even anonymously.
    let esito = format!("/api/v1/public/bandi/{bando}/esito");
    outsider.client.get(&esito).expect_problem(404, "not_found");
    w.app.client().get(&esito).expect_problem(404, "not_found");
    invited.client.get(&esito).expect(200);
}

fn outbox(w: &World, bando: &str) -> Vec<String> {
    let rows = w.app.psql(&format!(
        "SELECT recipient_user_id || ' ' || recipient_address FROM notifications_outbox
             WHERE object_type = 'bando' AND object_id = '{bando}' ORDER BY recipient_address, created_at"
    ));
    rows.lines().map(str::to_string).collect()
}

/// Polls (real time, bounded) until the sequencer tick has written `n` notifications.
fn wait_for_outbox(w: &World, bando: &str, n: usize) -> Vec<String> {
    let t0 = Instant::now();
    loop {
        let rows = outbox(w, bando);
        if rows.len() >= n {
            // A few more ticks: nothing is written twice.
            std::thread::sleep(Duration::from_millis(300));
            let again = outbox(w, bando);
            assert_eq!(again.len(), n, "{again:?}");
            return again;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "notifications: {rows:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn bid(c: &Client, bando: &str) -> Value {
    let all = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    all.as_array()
        .expect("bids")
        .iter()
        .find(|b| b["withdrawn_at"].is_null())
        .cloned()
        .expect("active bid")
}

fn versions(b: &Value) -> Vec<i64> {
    b["amendments_to_confirm"]
        .as_array()
        .expect("amendments")
        .iter()
        .map(|a| a["version"].as_i64().expect("version"))
        .collect()
}

#[test]
fn a_rettifica_after_bids_flags_them_until_confirmed_or_replaced_and_tells_their_suppliers() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let acme = qualified(&w, "gare@acme.it");
    let beta = qualified(&w, "gare@beta.it");
    submit(&w.app, &acme.client, &bando, "A", b"acme");
    submit(&w.app, &beta.client, &bando, "A", b"beta");
    let before = bid(&acme.client, &bando);
    assert_eq!(
        (before["requires_confirmation"].as_bool(), versions(&before)),
        (Some(false), vec![])
    );
    let confirm = format!("/api/v1/bandi/{bando}/offerta/conferma");
    acme.client
        .post(&confirm, &json!({}))
        .expect_problem(409, "nothing_to_confirm");

    // The RUP extends the deadline: rettifica, version 2.
    w.app.clock.advance(Span::minutes(5));
    let amended = w
        .rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "Proroga", "submission_deadline": "2026-06-12T12:00" }),
        )
        .expect(200);
    assert_eq!(amended["version"], 2);
    for b in [&acme, &beta] {
        let flagged = bid(&b.client, &bando);
        assert_eq!(flagged["requires_confirmation"], true, "{flagged}");
        assert_eq!(versions(&flagged), vec![2]);
    }
    // Each affected supplier gets one notification, at its PEC in the albo.
    let rows = wait_for_outbox(&w, &bando, 2);
    let expected: Vec<String> = [&acme, &beta]
        .iter()
        .map(|b| {
            let pec = w
                .admin
                .get(&format!(
                    "/api/v1/registry/operatori/{}",
                    b.operatore.as_deref().expect("op")
                ))
                .expect(200)["pec"]
                .as_str()
                .expect("pec")
                .to_string();
            format!("{} {pec}", b.user_id)
        })
        .collect();
    let mut sorted = expected.clone();
    sorted.sort_by_key(|r| r.split(' ').nth(1).map(str::to_string));
    assert_eq!(rows, sorted);
    let subject = w.app.psql(&format!(
        "SELECT DISTINCT subject FROM notifications_outbox WHERE object_id = '{bando}'"
    ));
    assert!(subject.contains("confermare o sostituire"), "{subject}");

    // Acme confirms (audited); Beta replaces its envelope. Neither is flagged any more.
    w.app.clock.advance(Span::minutes(1));
    let after = acme.client.post(&confirm, &json!({})).expect(200);
    let mine = after
        .as_array()
        .expect("bids")
        .iter()
        .find(|b| b["withdrawn_at"].is_null())
        .expect("active");
    assert_eq!(mine["requires_confirmation"], false);
    assert_eq!(mine["confirmations"][0]["version"], 2);
    assert_eq!(
        w.app.psql(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'offerte.bid_confirmed' AND actor_user_id = '{}'",
            acme.user_id
        )),
        "1"
    );
    acme.client
        .post(&confirm, &json!({}))
        .expect_problem(409, "nothing_to_confirm");
    submit(&w.app, &beta.client, &bando, "A", b"beta, sostituita");
    assert_eq!(bid(&beta.client, &bando)["requires_confirmation"], false);
    // A supplier that bids after the rettifica is not flagged; officials cannot confirm.
    let gamma = qualified(&w, "gare@gamma.it");
    submit(&w.app, &gamma.client, &bando, "A", b"gamma");
    assert_eq!(bid(&gamma.client, &bando)["requires_confirmation"], false);
    w.rup.post(&confirm, &json!({})).expect_problem(403, "forbidden");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(outbox(&w, &bando).len(), 2, "no notice for answered or later bids");

    // A second rettifica flags all three again and tells each of them once more.
    w.app.clock.advance(Span::minutes(1));
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "Seconda proroga", "submission_deadline": "2026-06-19T12:00" }),
        )
        .expect(200);
    for b in [&acme, &beta, &gamma] {
        assert_eq!(versions(&bid(&b.client, &bando)), vec![3]);
    }
    wait_for_outbox(&w, &bando, 5);
    // After the deadline nothing can be confirmed any more.
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 6, 19, 10, 0, 1).single().expect("instant"));
    w.login("gare@acme.it")
        .post(&confirm, &json!({}))
        .expect_problem(409, "deadline_passed");
}

fn hex32(s: &str) -> [u8; 32] {
    let v: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect();
    v.try_into().expect("32 bytes")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn tempdir(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("centrale-{what}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn pg_dump(app: &TestApp) -> String {
    let mut candidates = vec![PathBuf::from("pg_dump")];
    if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut v: Vec<PathBuf> = dirs.flatten().map(|d| d.path().join("bin/pg_dump")).collect();
        v.sort();
        v.reverse();
        candidates.extend(v);
    }
    for bin in candidates {
        if let Ok(out) = Command::new(&bin)
            .args(["--no-owner", "--dbname", app.db_url.as_str()])
            .output()
        {
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
        }
    }
    panic!("pg_dump did not run");
}

/// The receipt a submission answers with is built from what its transaction wrote, without
/// reading it back (issue 15): it must be, field for field, the receipt stored (as the bid's
/// page reads it), for a first envelope and for a replacement alike, and the stored lines
/// must verify as the answered ones do.
#[test]
fn the_receipt_answered_at_submission_is_the_receipt_stored() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let (c, _) = supplier(&w, "gare@ricevuta.it");
    let first = submit(&w.app, &c, &bando, "A", b"prima versione");
    let second = submit(&w.app, &c, &bando, "A", b"seconda versione");
    let stored = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let envelopes = stored[0]["envelopes"].as_array().expect("envelopes");
    assert_eq!(envelopes.len(), 2, "{stored}");
    // The sequencer may have integrated the leaf since: its index is the stored side's news.
    let find = |id: &Value| {
        let mut e = envelopes
            .iter()
            .find(|e| e["envelope_id"] == *id)
            .cloned()
            .expect("stored envelope");
        e["leaf_index"] = Value::Null;
        e
    };
    let mut first_stored = find(&first["envelope_id"]);
    // Replaced afterwards: the other field that moved since it was answered.
    assert!(first_stored["superseded_at"].is_string(), "{first_stored}");
    first_stored["superseded_at"] = Value::Null;
    assert_eq!(first, first_stored);
    assert_eq!(second, find(&second["envelope_id"]));
    assert!(
        second["integrate_by"].is_string() && second["leaf_index"].is_null(),
        "{second}"
    );
}

/// The closing of a tender waits for every submission still committing (they hold the tender's
/// submission lock shared; the closing takes it exclusively), so an envelope acknowledged
/// before the deadline is never left out of the closed log. An insider's `psql` holds the lock
/// as a slow commit would: the scheduler, past the deadline, must not close until it lets go.
#[test]
fn the_closing_waits_for_a_submission_still_committing() {
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let (c, _) = supplier(&w, "gare@lenta.it");
    submit(&w.app, &c, &bando, "A", b"prima del termine");
    let db = w.app.db_url.clone();
    let lock = format!("centrale-seal-submission:{bando}");
    let holder = std::thread::spawn(move || {
        journeys::psql(
            &db,
            &format!(
                "BEGIN; SELECT pg_advisory_xact_lock_shared(hashtextextended('{lock}', 0)); \
                 SELECT pg_sleep(4); COMMIT;"
            ),
        )
    });
    // Until the holder has the lock, the closing could still win: wait for it to be granted.
    let t0 = Instant::now();
    while w
        .app
        .psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        == "0"
    {
        assert!(t0.elapsed() < Duration::from_secs(10), "the lock was never taken");
        std::thread::sleep(Duration::from_millis(20));
    }
    w.app.clock.set(deadline() + Span::seconds(1));
    std::thread::sleep(Duration::from_millis(1500));
    let closed = |w: &World| {
        w.app.psql(&format!(
            "SELECT count(*) FROM seal_closures WHERE bando_id = '{bando}'"
        ))
    };
    assert_eq!(closed(&w), "0", "the tender closed while a submission held its lock");
    holder.join().expect("psql");
    let t0 = Instant::now();
    while closed(&w) != "1" {
        assert!(t0.elapsed() < Duration::from_secs(30), "the tender never closed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The check before streaming is remembered between envelopes (`offerte::precheck`) while the
/// server's feed of committed changes says nothing it read has changed. That is sound only if
/// every table it reads announces its changes: a new read of a silent table fails here.
#[test]
fn the_check_before_streaming_reads_only_tables_that_announce_their_changes() {
    use diesel::prelude::*;
    let w = world();
    let bando = tender(&w);
    custody(&w, &bando);
    let b = qualified(&w, "gare@letture.it");
    let who = accounts::Principal {
        user_id: b.user_id.parse().expect("user id"),
        email: b.email.clone(),
        kind: accounts::UserKind::Supplier,
        grants: Vec::new(),
    };
    let mut conn = PgConnection::establish(&w.app.db_url).expect("connect");
    let now = domain::clock::Clock::now(&w.app.clock);
    let read = conn
        .transaction(|conn| {
            offerte::submit::prepare(
                conn,
                offerte::precheck::Remembered::nothing(),
                &who,
                bando.parse().expect("bando id"),
                None,
                seal::receipt::EnvelopeKind::A,
                now,
            )
            .expect("the supplier may submit");
            Ok::<_, diesel::result::Error>(journeys::table_names(
                conn,
                "SELECT relname::text AS name FROM pg_stat_xact_user_tables WHERE seq_scan + coalesce(idx_scan, 0) > 0",
            ))
        })
        .expect("read");
    for t in ["bandi", "operatori", "operatore_documenti", "seal_kind_keys"] {
        assert!(read.contains(t), "the check reads {t}: {read:?}");
    }
    let announcing = journeys::table_names(
        &mut conn,
        "SELECT DISTINCT tgrelid::regclass::text AS name FROM pg_trigger WHERE tgname = 'public_views_changed'",
    );
    let silent: Vec<_> = read.difference(&announcing).collect();
    assert!(
        silent.is_empty(),
        "the check before streaming reads silent tables: {silent:?}"
    );
}

/// The kinds of the envelopes in the caller's bid on `bando`, as its bid page lists them.
fn kinds_in_my_bid(who: &Client, bando: &str) -> Vec<String> {
    let mine = who.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    mine[0]["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect()
}

/// A bidder struck off the albo between two envelopes is refused the second. Not announced
/// (an insider's psql with triggers off: no notification, as another instance's memory until
/// its listener hears of it), the remembered check before streaming lets the stream start (it
/// answered from memory) and the commit, which reads everything again under its locks,
/// refuses it. Announced (the admin's suspension on this server), the check reads afresh and
/// refuses. Neither leaves an envelope or a file behind.
#[test]
fn a_bidder_struck_off_between_two_envelopes_is_refused_the_next_whether_or_not_the_change_was_announced() {
    let mut uploads = None;
    let w = world_with(TestApp::start_with(|s| uploads = Some(s.uploads.clone())));
    let uploads = uploads.expect("the server's uploads");
    let bando = tender(&w);
    custody(&w, &bando);
    let silent = qualified(&w, "gare@silenzioso.it");
    let announced = qualified(&w, "gare@annunciato.it");
    submit(&w.app, &silent.client, &bando, "A", b"busta A");
    journeys::psql(
        &w.app.db_url,
        &format!(
            "SET session_replication_role = replica; UPDATE operatori SET status = 'suspended' WHERE id = '{}'",
            silent.operatore.as_deref().expect("op")
        ),
    );
    let hits = uploads.precheck.eligible_hits();
    let refused_b = |b: &Bidder| {
        let u = send(&w.app, &b.client, &bando, "B", "server", &b"busta B"[..]);
        assert_eq!(
            (u.status, u.body["code"].as_str()),
            (403, Some("supplier_not_qualified")),
            "{}: {}",
            b.email,
            u.body
        );
        assert_eq!(kinds_in_my_bid(&b.client, &bando), ["A"], "{}", b.email);
    };
    refused_b(&silent);
    assert_eq!(
        uploads.precheck.eligible_hits(),
        hits + 1,
        "the check before streaming answered from memory: the commit refused"
    );

    submit(&w.app, &announced.client, &bando, "A", b"busta A");
    w.admin
        .post(
            &format!(
                "/api/v1/registry/operatori/{}/qualification",
                announced.operatore.as_deref().expect("op")
            ),
            &json!({ "action": "suspend", "reason": "DURC irregolare" }),
        )
        .expect(200);
    let hits = uploads.precheck.eligible_hits();
    refused_b(&announced);
    assert_eq!(uploads.precheck.eligible_hits(), hits, "announced: read afresh");
    assert_eq!(
        files_under(&w.app.seal_dir.join("blobs")).len(),
        2,
        "the two envelopes A"
    );
    assert!(files_under(&w.app.seal_dir.join("tmp")).is_empty());
}
