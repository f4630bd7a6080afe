//! A centrale with one ente, its RUP and two custodians, ready to publish sealed tenders:
//! shared by the award and document journeys (tests/tests/aggiudicazione.rs, documents.rs).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use offerte::archive::{self, ArchiveFile, Manifest};
use offerte::custodian;
use offerte::custody::{Contributions, TenderKey};
use seal::envelope::AgeIdentity;
use serde_json::{json, Value};

use crate::{Client, TestApp};

pub const PASSWORD: &str = "una-password-lunga";

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

pub fn cig(n: u64) -> String {
    format!("{n:07}{:03X}", n * 211 % 4091)
}

pub struct World {
    pub app: TestApp,
    pub rup: Client,
    pub rup_id: String,
    pub custode: String,
    pub ente: String,
    /// The custodians (user id, transport identity): the RUP is custodian 1, `custode` 2.
    pub custodian_keys: Vec<(String, AgeIdentity)>,
    /// Their login e-mails, in the same order: each acts with his own session.
    pub custodian_emails: Vec<String>,
}

impl World {
    pub fn relogin(&mut self) {
        self.rup = self.app.client().logged_in("rup@comune.milano.it", PASSWORD);
    }

    pub fn login(&self, email: &str) -> Client {
        self.app.client().logged_in(email, PASSWORD)
    }
}

pub fn official(admin: &Client, email: &str, role: &str, ente: &str) -> String {
    id(&admin
        .post(
            "/api/v1/users",
            &json!({ "email": email, "full_name": "Funzionario", "password": PASSWORD,
                                          "roles": [{ "role": role, "ente_id": ente }] }),
        )
        .expect(201))
}

/// The fixtures' ente, the Comune di Milano (its real codice fiscale, ISTAT code and PEC),
/// created by an admin: its id.
pub fn comune_di_milano(admin: &Client) -> String {
    id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Comune di Milano", "codice_fiscale": "01199250158", "tipo": "comune",
                     "istat_code": "015146", "pec": "protocollo@postacert.comune.milano.it" }),
        )
        .expect(201))
}

/// Records the advanced qualification (art. 63 c.2 lett. c) for works and for services and
/// supplies, valid to 2030, as ANAC's register would list it: fixtures whose tenders exceed
/// what art. 62 c.1 lets a non-qualified ente run alone need a qualified authority.
pub fn qualify(admin: &Client, ente: &str) {
    for sector in ["works", "services_supplies"] {
        admin
            .post(
                &format!("/api/v1/enti/{ente}/qualifications"),
                &json!({ "sector": sector, "level": "avanzata", "valid_until": "2030-12-31" }),
            )
            .expect(201);
    }
}

pub fn world() -> World {
    world_on(TestApp::start())
}

/// [`world`] on an app started with a changed state (e.g. a looser login throttle).
pub fn world_with(tweak: impl FnOnce(&mut api::AppState)) -> World {
    world_on(TestApp::start_with(tweak))
}

/// The same world on an app started with tuned settings ([`TestApp::start_tuned`]).
pub fn world_on(app: TestApp) -> World {
    let admin = app.admin();
    let ente = comune_di_milano(&admin);
    qualify(&admin, &ente);
    let rup_id = official(&admin, "rup@comune.milano.it", "rup", &ente);
    let custode = official(&admin, "custode@comune.milano.it", "commission", &ente);
    let rup = app.client().logged_in("rup@comune.milano.it", PASSWORD);
    let custodian_keys = vec![
        (rup_id.clone(), AgeIdentity::generate()),
        (custode.clone(), AgeIdentity::generate()),
    ];
    World {
        app,
        rup,
        rup_id,
        custode,
        ente,
        custodian_keys,
        custodian_emails: vec!["rup@comune.milano.it".into(), "custode@comune.milano.it".into()],
    }
}

/// A valid partita IVA built from `n` (domain.md §10: Luhn-style check digit).
pub fn partita_iva(n: usize) -> String {
    let base = format!("{:07}015", 1_234_000 + n);
    let digits: Vec<u32> = base.chars().map(|c| c.to_digit(10).expect("digit")).collect();
    let mut sum = 0;
    for (i, d) in digits.iter().enumerate() {
        if i % 2 == 0 {
            sum += d;
        } else {
            let x = d * 2;
            sum += if x > 9 { x - 9 } else { x };
        }
    }
    format!("{base}{}", (10 - sum % 10) % 10)
}

/// A supplier account whose operatore is registered and qualified in the albo (bids need it).
pub fn supplier(app: &TestApp, email: &str) -> String {
    let (uid, op) = pending_supplier(app, email, true);
    app.admin()
        .post(
            &format!("/api/v1/registry/operatori/{op}/qualification"),
            &json!({ "action": "qualify" }),
        )
        .expect(200);
    uid
}

/// A supplier account and its albo entry waiting for the centrale's decision, with its CPV
/// categories and, when `documents`, a valid DURC and visura camerale. Returns the account
/// id and the operatore id.
pub fn pending_supplier(app: &TestApp, email: &str, documents: bool) -> (String, String) {
    let (c, uid) = app.register_supplier(email, "Operatore", PASSWORD);
    let n = SUPPLIERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let piva = partita_iva(n);
    let op = id(&c
        .post("/api/v1/registry/operatori", &json!({
            "ragione_sociale": format!("Operatore {n} S.r.l."), "forma_giuridica": "srl", "partita_iva": piva, "codice_fiscale": piva,
            "sede_istat": "015146", "sede_indirizzo": "Via Roma 1", "pec": format!("{piva}@legalmail.it"),
            "legale_rappresentante": { "nome": "Mario Rossi", "codice_fiscale": "RSSMRA80A01F205X" } }))
        .expect(201));
    if documents {
        for (tipo, scad) in [("durc", "&scadenza=2027-01-31"), ("visura_camerale", "")] {
            c.post_raw(
                &format!("/api/v1/registry/operatori/{op}/documenti?tipo={tipo}&nome_file={tipo}.pdf{scad}"),
                "application/pdf",
                tipo.as_bytes(),
            )
            .expect(201);
        }
    }
    c.put(
        &format!("/api/v1/registry/operatori/{op}/categorie"),
        &json!({ "cpv": ["45000000-7", "90910000-9"], "soa": [] }),
    )
    .expect(200);
    (uid, op)
}

static SUPPLIERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Creates, publishes and seals a tender: the dealerless ceremony run by the world's
/// custodians, each logged in as himself, as `centrale keys contribute` / `ack` would.
pub fn tender(w: &World, body: Value) -> String {
    let bando = id(&w.rup.post("/api/v1/bandi", &body).expect(201));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    let custodians: Vec<(Client, &AgeIdentity)> = w
        .custodian_emails
        .iter()
        .zip(&w.custodian_keys)
        .map(|(email, (_, key))| (w.login(email), key))
        .collect();
    ceremony(&custodians, &bando);
    bando
}

/// The three rounds of the ceremony (transport keys, contributions, acknowledgements), each
/// custodian with his own client and transport identity.
pub fn ceremony(custodians: &[(Client, &AgeIdentity)], bando: &str) {
    for (c, key) in custodians {
        c.post(
            &format!("/api/v1/bandi/{bando}/sigillo/custodi"),
            &json!({ "age_key": key.to_public().to_string() }),
        )
        .expect(201);
    }
    for (c, _) in custodians {
        let view: TenderKey =
            serde_json::from_value(c.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200)).expect("seal view");
        let upload = custodian::contribution(&view).expect("contribution");
        c.post(
            &format!("/api/v1/bandi/{bando}/sigillo/contributi"),
            &serde_json::to_value(upload).expect("json"),
        )
        .expect(201);
    }
    for (c, key) in custodians {
        let all = contributions(c, bando);
        let ack = custodian::acknowledgement(key, &all).expect("acknowledgement");
        c.post(
            &format!("/api/v1/bandi/{bando}/sigillo/conferme"),
            &serde_json::to_value(ack).expect("json"),
        )
        .expect(201);
    }
}

/// The ceremony's contributions as a custodian reads them.
pub fn contributions(c: &Client, bando: &str) -> Contributions {
    serde_json::from_value(c.get(&format!("/api/v1/bandi/{bando}/sigillo/contributi")).expect(200))
        .expect("contributions")
}

/// A custodian computes his share of `kind` and submits it himself.
pub fn submit_share(c: &Client, key: &AgeIdentity, bando: &str, kind: &str) {
    let share = custodian::opening_share(key, &contributions(c, bando), kind).expect("share");
    c.post(
        &format!("/api/v1/bandi/{bando}/aperture/{kind}/quote"),
        &serde_json::to_value(share).expect("json"),
    )
    .expect(201);
}

pub fn submit(c: &Client, bando: &str, kind: &str, body: &[u8]) {
    c.post_raw(
        &format!("/api/v1/bandi/{bando}/offerta/buste/{kind}"),
        "application/octet-stream",
        body,
    )
    .expect(201);
}

/// The archive of `files` for envelope `kind` of `bando` (no lot), as `centrale seal` and the
/// portal pack it (`centrale-busta/1`).
pub fn busta(bando: &str, kind: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries = files
        .iter()
        .map(|(n, b)| ArchiveFile::digest(n, *b).expect("digest"))
        .collect();
    let m = Manifest::new(bando.parse().expect("uuid"), None, kind, entries).expect("manifest");
    let mut sorted = files.to_vec();
    sorted.sort_by_key(|(n, _)| n.as_bytes().to_vec());
    let mut out = Vec::new();
    archive::write_archive(&m, sorted.into_iter().map(|(n, b)| (n.to_string(), b)), &mut out).expect("pack");
    out
}

pub fn offer_c(discount: &str) -> Vec<u8> {
    json!({ "discount": discount, "labour_costs": "100000.00", "safety_costs": "5000.00" })
        .to_string()
        .into_bytes()
}

/// Each custodian submits his own share of `kind`, then the RUP opens envelope `kind`.
pub fn open(w: &World, bando: &str, kind: &str) -> Value {
    for (email, (_, key)) in w.custodian_emails.iter().zip(&w.custodian_keys) {
        submit_share(&w.login(email), key, bando, kind);
    }
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/{kind}"), &json!({}))
        .expect(201)
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

pub fn wait_for_state(c: &Client, bando: &str, state: &str) {
    let start = Instant::now();
    loop {
        let b = c.get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
        if b["state"] == state {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still {} instead of {state}",
            b["state"]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Deadline 5 June 2026 12:00 Rome, opening 15:00 (13:00Z).
pub fn past_opening(w: &mut World, bando: &str) {
    w.app.clock.set(at("2026-06-05T13:30:00Z"));
    w.relogin();
    wait_for_state(&w.rup, bando, "opening");
}

pub fn admit(w: &World, bando: &str, bidder: &str) -> Value {
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": bidder, "decision": "admitted" }),
        )
        .expect(200)
}

pub fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> [u8; 32] {
    let v: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect();
    v.try_into().expect("32 bytes")
}

/// The ente's whole audit trail (admin), oldest first.
pub fn audit_events(w: &World) -> Vec<Value> {
    let admin = w.app.admin();
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = admin
            .get(&format!("/api/v1/enti/{}/audit-events?after={after}&limit=500", w.ente))
            .expect(200);
        out.extend(page["events"].as_array().expect("events").iter().cloned());
        match page["next_after"].as_i64() {
            Some(n) => after = n,
            None => break,
        }
    }
    out
}

/// The tender most journeys start from: an open procedure for works (1,000,000.00 EUR, CPV
/// 45000000-7) at lowest price with anomaly method A, envelopes A and C, deadline 5 June 2026
/// 12:00 Rome and opening at 15:00, sealed by two custodians with threshold 2. `cig_n` keeps
/// the CIGs of one test distinct.
pub fn works_tender_body(ente: &str, custodians: [&str; 2], oggetto: &str, cig_n: u64) -> Value {
    json!({
        "ente_id": ente,
        "oggetto": oggetto,
        "cig": cig(cig_n),
        "cpv_main": "45000000-7",
        "nuts": "ITC4C",
        "contract_type": "works",
        "procedure_type": "aperta",
        "award_criterion": "minor_prezzo",
        "base_amount": "1000000.00",
        "safety_costs": "20000.00",
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "C"],
        "anomaly_method": "A",
        "custodians": custodians,
        "custodian_threshold": 2
    })
}

/// Art. 30 c.3 lett. b: the RUP decides every exclusion the platform proposed on the
/// evaluation at `base` (`/api/v1/bandi/{id}/valutazione`, with `?lotto=` for a lot),
/// confirming each with a reason; returns the procedure after the last decision.
pub fn confirm_proposed_exclusions(w: &World, base: &str) -> Value {
    let (path, query) = base
        .split_once('?')
        .map_or((base, String::new()), |(p, q)| (p, format!("?{q}")));
    let mut p = w.rup.get(base).expect(200);
    let pending: Vec<String> = p["exclusion_proposals"]
        .as_array()
        .expect("exclusion_proposals")
        .iter()
        .filter(|x| x["decision"].is_null())
        .map(id)
        .collect();
    for pid in pending {
        p = w
            .rup
            .post(
                &format!("{path}/esclusioni/{pid}/decisione{query}"),
                &serde_json::json!({ "confirmed": true, "reason": "verificato il calcolo della piattaforma" }),
            )
            .expect(200);
    }
    p
}

/// A tender of the world's ente published but not sealed, whose custodians are the world's two
/// and a third official (`terzo.custode@comune.milano.it`, commission), threshold 2 of 3: the
/// custodians' own pages run the ceremony. The third custodian joins `custodian_keys` /
/// `custodian_emails` (once per world), so [`ceremony`] and [`open`] include him.
pub fn three_custodian_tender(w: &mut World, oggetto: &str, cig_n: u64) -> String {
    const THIRD: &str = "terzo.custode@comune.milano.it";
    if !w.custodian_emails.iter().any(|e| e == THIRD) {
        let third = official(&w.app.admin(), THIRD, "commission", &w.ente);
        w.custodian_keys.push((third, AgeIdentity::generate()));
        w.custodian_emails.push(THIRD.into());
    }
    let mut body = works_tender_body(&w.ente, [&w.rup_id, &w.custode], oggetto, cig_n);
    body["custodians"] = json!(w.custodian_keys.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>());
    let bando = id(&w.rup.post("/api/v1/bandi", &body).expect(201));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    bando
}

/// An OEPV tender run through the API up to the opening of envelope B, for the commission's
/// pages (issue 13): [`crate::browser::services_tender_body`], three officials of the ente
/// with the commission role (the world's custodian and two more), `n` bidders each with
/// envelope A, envelope B (an archive with `relazione-tecnica.pdf`) and envelope C, every one
/// admitted. The commission is not appointed: that is the pages' first act.
pub struct OepvAtB {
    pub bando: String,
    /// (user id, e-mail) of each bidder.
    pub bidders: Vec<(String, String)>,
    /// (user id, e-mail) of the three officials with the commission role.
    pub commissioners: Vec<(String, String)>,
}

pub fn oepv_at_envelope_b(w: &mut World, cig_n: u64, n: usize) -> OepvAtB {
    let admin = w.app.admin();
    let mut commissioners = vec![(w.custode.clone(), "custode@comune.milano.it".to_string())];
    for email in ["ingegnere@comune.milano.it", "agronoma@comune.milano.it"] {
        commissioners.push((official(&admin, email, "commission", &w.ente), email.to_string()));
    }
    let bando = tender(
        w,
        crate::browser::services_tender_body(w, "Servizio di pulizia delle scuole comunali", cig_n),
    );
    let mut bidders = Vec::new();
    for i in 0..n {
        let email = format!("pulizie{i}@servizi-{cig_n}.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda di partecipazione e DGUE");
        let report = format!("Relazione tecnica dell'offerente {i}");
        submit(
            &c,
            &bando,
            "B",
            &busta(&bando, "B", &[("relazione-tecnica.pdf", report.as_bytes())]),
        );
        submit(&c, &bando, "C", &offer_c(&format!("{}.5", 10 + i)));
        bidders.push((uid, email));
    }
    past_opening(w, &bando);
    open(w, &bando, "A");
    for (uid, _) in &bidders {
        admit(w, &bando, uid);
    }
    open(w, &bando, "B");
    OepvAtB {
        bando,
        bidders,
        commissioners,
    }
}

/// A second ente, Roma Capitale (not qualified): the other ente whose officials must not
/// reach the world's tenders. Returns its id.
pub fn roma_capitale(admin: &Client) -> String {
    id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Roma Capitale", "codice_fiscale": "02438750586", "tipo": "comune",
                     "istat_code": "058091", "pec": "protocollo.gabinetto@pec.comune.roma.it" }),
        )
        .expect(201))
}

/// The original and redacted files the first bidder of [`redaction_at_ranking`] seals in
/// envelope A, with `oscuramento.json` asking to redact both originals (art. 36 c.3–5).
pub const REDACTED_FILES: [(&str, &[u8]); 6] = [
    ("domanda.pdf", b"domanda e DGUE"),
    ("progetto.pdf", b"PROGETTO ORIGINALE: procedimento brevettato"),
    ("progetto-oscurato.pdf", b"PROGETTO: [omissis]"),
    ("listino.pdf", b"LISTINO ORIGINALE: prezzi riservati"),
    ("listino-oscurato.pdf", b"LISTINO: [omissis]"),
    ("brevetto.pdf", b"brevetto n. 123"),
];

/// A lowest-price works tender with three bidders (discounts 15, 10, 12: the first wins) run
/// to the ranking; the first sealed two redaction requests in envelope A (`progetto.pdf`,
/// `listino.pdf`, each with its redacted copy; evidence `brevetto.pdf`). Returns the tender
/// and the bidders (user id, e-mail), the winner first. `before_deadline` runs while the
/// bids are sealed and the deadline has not passed.
pub fn redaction_at_ranking(
    w: &mut World,
    cig_n: u64,
    before_deadline: impl FnOnce(&World, &str),
) -> (String, Vec<(String, String)>) {
    let bando = tender(
        w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Riqualificazione del parco", cig_n),
    );
    let request = json!({ "requests": [
        { "file": "progetto.pdf", "redacted_copy": "progetto-oscurato.pdf",
          "reasons": "Segreto industriale coperto da brevetto", "evidence": ["brevetto.pdf"] },
        { "file": "listino.pdf", "redacted_copy": "listino-oscurato.pdf",
          "reasons": "Segreto commerciale sui prezzi dei fornitori" }
    ] })
    .to_string();
    let mut bidders = Vec::new();
    for (i, discount) in ["15.000", "10.000", "12.000"].iter().enumerate() {
        let email = format!("parco{i}@verde-{cig_n}.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        let a = if i == 0 {
            let mut files = REDACTED_FILES.to_vec();
            files.push(("oscuramento.json", request.as_bytes()));
            busta(&bando, "A", &files)
        } else {
            busta(&bando, "A", &[("domanda.pdf", b"domanda e DGUE")])
        };
        submit(&c, &bando, "A", &a);
        submit(&c, &bando, "C", &offer_c(discount));
        bidders.push((uid, email));
    }
    before_deadline(w, &bando);
    past_opening(w, &bando);
    open(w, &bando, "A");
    for (uid, _) in &bidders {
        admit(w, &bando, uid);
    }
    open(w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    (bando, bidders)
}
