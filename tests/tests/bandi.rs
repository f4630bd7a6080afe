//! Issue 4: the tender lifecycle (bando) — over HTTP, with the clock moved, never slept.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use journeys::serde_json::{json, Value};
use journeys::{Client, TestApp};

const PASSWORD: &str = "una-password-lunga";

fn milano() -> Value {
    json!({ "nome": "Comune di Milano", "codice_fiscale": "01199250158", "tipo": "comune",
            "istat_code": "015146", "pec": "protocollo@postacert.comune.milano.it" })
}

fn roma() -> Value {
    json!({ "nome": "Roma Capitale", "codice_fiscale": "02438750586", "tipo": "comune",
            "istat_code": "058091", "pec": "protocollo.gabinetto@pec.comune.roma.it" })
}

/// A valid ordinary CIG: 7 digits + hex of (N·211 mod 4091).
fn cig(n: u64) -> String {
    format!("{n:07}{:03X}", n * 211 % 4091)
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

struct World {
    app: TestApp,
    admin: Client,
    milano: String,
    roma: String,
    rup: Client,
    rup_id: String,
    custode: String,
    rup_roma: Client,
}

impl World {
    /// Sessions last 12 hours: after moving the clock by days, log in again.
    fn relogin(&mut self) {
        self.admin = self.app.admin();
        self.rup = self.app.client().logged_in("rup@comune.milano.it", PASSWORD);
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

fn supplier(app: &TestApp, email: &str) -> (Client, String) {
    app.register_supplier(email, "Operatore", PASSWORD)
}

fn world() -> World {
    let app = TestApp::start();
    let admin = app.admin();
    let milano = id(&admin.post("/api/v1/enti", &milano()).expect(201));
    let roma = id(&admin.post("/api/v1/enti", &roma()).expect(201));
    journeys::tender_world::qualify(&admin, &milano);
    journeys::tender_world::qualify(&admin, &roma);
    let rup_id = official(&admin, "rup@comune.milano.it", "rup", &milano);
    let custode = official(&admin, "commissario@comune.milano.it", "commission", &milano);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    let rup = app.client().logged_in("rup@comune.milano.it", PASSWORD);
    let rup_roma = app.client().logged_in("rup@comune.roma.it", PASSWORD);
    World {
        app,
        admin,
        milano,
        roma,
        rup,
        rup_id,
        custode,
        rup_roma,
    }
}

/// An open procedure for cleaning services in two lots, 30+ days from the test start
/// (Monday 4 May 2026, 10:00 in Rome).
fn open_services(w: &World, seed: u64) -> Value {
    json!({
        "ente_id": w.milano,
        "oggetto": "Servizio di pulizia degli edifici comunali",
        "cpv_main": "90910000-9",
        "cpv_additional": ["90911200-8"],
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "oepv",
        "oepv": {
            "criteria": [
                { "code": "T1", "description": "Organizzazione del servizio", "weight": "45", "kind": "discretionary",
                  "sub_criteria": [
                      { "code": "T1.1", "description": "Piano dei turni", "weight": 25, "kind": "discretionary" },
                      { "code": "T1.2", "description": "Formazione", "weight": 20, "kind": "tabular" } ] },
                { "code": "T2", "description": "Prodotti ecologici", "weight": 25, "kind": "quantitative" }
            ],
            "economic_weight": 30,
            "economic_formula": { "kind": "bilinear", "x": "0.85" },
            "reparametrization": true
        },
        "base_amount": "400000.00",
        "safety_costs": "8000.00",
        "labour_intensive": true,
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "B", "C"],
        "custodians": [w.rup_id, w.custode],
        "custodian_threshold": 2,
        "lotti": [
            { "oggetto": "Lotto 1 - Sedi centrali", "cig": cig(1_000_000 + seed * 2), "base_amount": "250000.00", "safety_costs": "5000.00" },
            { "oggetto": "Lotto 2 - Scuole", "cig": cig(1_000_001 + seed * 2), "base_amount": "150000.00", "safety_costs": "3000.00" }
        ]
    })
}

fn create(w: &World, body: &Value) -> String {
    id(&w.rup.post("/api/v1/bandi", body).expect(201))
}

fn publish(w: &World, bando: &str) -> Value {
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200)
}

/// Polls the public detail until the scheduler has moved the tender (a few seconds at most).
fn wait_for_state(c: &Client, bando: &str, state: &str) -> Value {
    let start = Instant::now();
    loop {
        let b = c.get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
        if b["state"] == state {
            return b;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still {} instead of {state}",
            b["state"]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn codes(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn open_procedure_with_two_lots_published_questioned_extended_and_closed_by_the_clock() {
    let mut w = world();
    let mut body = open_services(&w, 1);
    // 20 days to submit: too short for an open procedure.
    body["questions_deadline"] = json!("2026-05-14T12:00");
    body["submission_deadline"] = json!("2026-05-24T12:00");
    body["opening_at"] = json!("2026-05-24T15:00");
    let created = w.rup.post("/api/v1/bandi", &body).expect(201);
    let bando = id(&created);
    assert_eq!(created["state"], "draft");
    assert_eq!(created["lotti"].as_array().map(Vec::len), Some(2));
    assert_eq!(created["lotti"][0]["state"], "active");
    assert_eq!(created["offer_validity_days"], 180);
    assert_eq!(created["amount_subject_to_discount"], "392000.00");
    assert_eq!(created["submission_deadline"]["rome"], "2026-05-24T12:00:00+02:00");
    assert_eq!(created["submission_deadline"]["utc"], "2026-05-24T10:00:00Z");
    // A draft is not public.
    w.app
        .client()
        .get(&format!("/api/v1/public/bandi/{bando}"))
        .expect_problem(404, "not_found");

    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect_problem(422, "legal_violations");
    assert_eq!(codes(&p), vec!["deadline_too_short"]);
    let msg = p["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.starts_with("art. 71 c.2"), "{msg}");
    assert!(msg.contains("03/06/2026"), "{msg}");
    assert_eq!(p["errors"][0]["field"], "submission_deadline");

    // The RUP fixes the draft, uploads the documents and publishes.
    let fixed = w
        .rup
        .put(&format!("/api/v1/bandi/{bando}"), &open_services(&w, 1))
        .expect(200);
    assert_eq!(fixed["submission_deadline"]["rome"], "2026-06-05T12:00:00+02:00");
    let report = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/check"), &json!({}))
        .expect(200);
    assert_eq!(report["publishable"], true);
    let pdf = b"%PDF-1.7 disciplinare di gara";
    let doc = w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=disciplinare&filename=disciplinare.pdf"),
            "application/pdf",
            pdf,
        )
        .expect(201);
    assert!(doc["sha256"]
        .as_str()
        .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit())));
    assert_eq!(doc["sha256"].as_str().map(str::len), Some(64));
    w.rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=capitolato&filename=capitolato.pdf"),
            "application/pdf",
            b"capitolato",
        )
        .expect(201);
    let published = publish(&w, &bando);
    assert_eq!(published["state"], "published");
    assert_eq!(published["version"], 1);

    // Anyone reads it, and its documents, without logging in.
    let anon = w.app.client();
    let public = anon.get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    assert_eq!(public["ente_nome"], "Comune di Milano");
    assert_eq!(public["cpv_main_label"].as_str().map(|s| !s.is_empty()), Some(true));
    assert!(public.get("custodians").is_none() && public.get("invitees").is_none());
    assert_eq!(public["documenti"].as_array().map(Vec::len), Some(2));
    let download = anon.get(&format!("/api/v1/public/bandi/{bando}/documenti/{}", id(&doc)));
    assert_eq!(download.status, 200);
    assert_eq!(download.text.as_bytes(), pdf);
    let list = anon.get("/api/v1/public/bandi").expect(200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // A supplier asks; the RUP answers; the answer is public and never says who asked.
    let (fornitore, fornitore_id) = supplier(&w.app, "gare@pulizie-lombarde.it");
    let q = fornitore
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "Il sopralluogo è obbligatorio?" }),
        )
        .expect(201);
    assert_eq!(q["numero"], 1);
    assert_eq!(
        anon.get(&format!("/api/v1/public/bandi/{bando}/chiarimenti"))
            .expect(200),
        json!([])
    );
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "x" }),
        )
        .expect_problem(403, "forbidden");
    let pending = w.rup.get(&format!("/api/v1/bandi/{bando}/chiarimenti")).expect(200);
    assert_eq!(pending[0]["answer"], Value::Null);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti/{}/risposta", id(&q)),
            &json!({ "answer": "No, è facoltativo." }),
        )
        .expect(200);
    let answers = anon.get(&format!("/api/v1/public/bandi/{bando}/chiarimenti"));
    assert!(
        !answers.text.contains(&fornitore_id) && !answers.text.contains("pulizie-lombarde"),
        "{}",
        answers.text
    );
    let answers = answers.expect(200);
    assert_eq!(answers[0]["question"], "Il sopralluogo è obbligatorio?");
    assert_eq!(answers[0]["answer"], "No, è facoltativo.");
    assert_eq!(
        answers[0].as_object().map(|o| o.len()),
        Some(5),
        "only id, numero, question, answer, answered_at"
    );

    // The RUP extends the deadline: a rettifica, version 2, visible as such.
    let amended = w
        .rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "Proroga su richiesta degli operatori",
                                                                       "submission_deadline": "2026-06-12T12:00" }),
        )
        .expect(200);
    assert_eq!(amended["version"], 2);
    assert_eq!(amended["submission_deadline"]["rome"], "2026-06-12T12:00:00+02:00");
    assert_eq!(
        amended["opening_at"]["rome"], "2026-06-12T12:00:00+02:00",
        "opening follows the new deadline"
    );
    let versions = anon
        .get(&format!("/api/v1/public/bandi/{bando}/rettifiche"))
        .expect(200);
    assert_eq!(versions.as_array().map(Vec::len), Some(2));
    assert_eq!(versions[1]["kind"], "rettifica");
    assert_eq!(versions[1]["requires_bid_confirmation"], true);
    assert_eq!(versions[1]["changes"][0]["field"], "submission_deadline");
    assert_eq!(versions[1]["changes"][0]["from"]["rome"], "2026-06-05T12:00:00+02:00");
    assert_eq!(versions[1]["changes"][0]["to"]["rome"], "2026-06-12T12:00:00+02:00");
    // A deadline cannot be brought forward.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "x", "submission_deadline": "2026-06-10T12:00" }),
        )
        .expect_problem(422, "deadline_shortened");

    // Questions close at their deadline.
    w.app.clock.set(utc("2026-05-25T10:00:01Z"));
    let fornitore = w.app.client().logged_in("gare@pulizie-lombarde.it", PASSWORD);
    fornitore
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "Ancora una domanda" }),
        )
        .expect_problem(409, "questions_closed");

    // The old deadline passes: nothing happens. The new one passes: it closes by itself.
    w.app.clock.set(utc("2026-06-05T10:00:01Z"));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        anon.get(&format!("/api/v1/public/bandi/{bando}")).expect(200)["state"],
        "published"
    );
    w.app.clock.set(utc("2026-06-12T10:00:00Z"));
    wait_for_state(&anon, &bando, "opening");
    w.relogin();
    let full = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    let history = full["state_history"].as_array().expect("history");
    let states: Vec<&str> = history
        .iter()
        .filter(|h| h["lotto_id"].is_null())
        .filter_map(|h| h["to_state"].as_str())
        .collect();
    assert_eq!(states, vec!["draft", "published", "submissions_closed", "opening"]);
    let closed = history
        .iter()
        .find(|h| h["to_state"] == "submissions_closed")
        .expect("closed");
    assert_eq!(closed["actor_user_id"], Value::Null);
    assert_eq!(closed["occurred_at"], "2026-06-12T10:00:00Z");
    // Each move is in the audit trail, by the scheduler.
    let trail = w
        .admin
        .get(&format!("/api/v1/enti/{}/audit-events", w.milano))
        .expect(200);
    let events = trail["events"].as_array().expect("events");
    assert!(events.iter().any(|e| e["action"] == "bando.state_changed"
        && e["request_id"] == "scheduler"
        && e["details"]["to"] == "submissions_closed"));
    assert!(events.iter().any(|e| e["action"] == "bando.amended_after_bids"));
    assert!(events.iter().any(|e| e["action"] == "bando.published"));
    // Late rettifiche are refused (on the clock: issue 9, tests/tests/procedure_order.rs).
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "x", "submission_deadline": "2026-07-12T12:00" }),
        )
        .expect_problem(409, "deadline_passed");
}

#[test]
fn publishing_lists_every_legal_violation_with_its_article() {
    let w = world();
    // A direct award of services above 140,000.
    let mut direct = open_services(&w, 10);
    direct["procedure_type"] = json!("affidamento_diretto");
    direct["award_criterion"] = json!("minor_prezzo");
    direct["oepv"] = Value::Null;
    direct["labour_intensive"] = json!(false);
    direct["envelopes"] = json!(["A", "C"]);
    direct["invitees"] = json!([uuid_like(1)]);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{}/publish", create(&w, &direct)), &json!({}))
        .expect_problem(422, "legal_violations");
    assert_eq!(codes(&p), vec!["direct_award_above_limit"]);
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("art. 50 c.1 lett. b"));

    // A negotiated procedure for 180,000 of services with 3 invitees (band needs 5), on
    // lowest price although labour-intensive, without the anomaly method.
    let mut negotiated = open_services(&w, 11);
    negotiated["procedure_type"] = json!("negoziata_senza_bando");
    negotiated["award_criterion"] = json!("minor_prezzo");
    negotiated["oepv"] = Value::Null;
    negotiated["envelopes"] = json!(["A", "C"]);
    negotiated["base_amount"] = json!("180000");
    negotiated["safety_costs"] = json!("0");
    negotiated["lotti"] = json!([]);
    negotiated["cig"] = json!(cig(1_100_000));
    negotiated["invitees"] = json!([uuid_like(1), uuid_like(2), uuid_like(3)]);
    let p = w
        .rup
        .post(
            &format!("/api/v1/bandi/{}/publish", create(&w, &negotiated)),
            &json!({}),
        )
        .expect_problem(422, "legal_violations");
    assert_eq!(
        codes(&p),
        vec![
            "too_few_invitees",
            "labour_intensive_lowest_price",
            "anomaly_method_required"
        ]
    );
    let messages: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(messages[0].starts_with("art. 50 c.1 lett. e"), "{}", messages[0]);
    assert!(messages[1].starts_with("art. 108 c.2"), "{}", messages[1]);
    assert!(messages[2].starts_with("art. 54"), "{}", messages[2]);
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("3 regole"),
        "{}",
        p["detail"]
    );

    // Labour-intensive OEPV with 40 economic points (cap 30), 20 days, and no custodians.
    let mut capped = open_services(&w, 12);
    capped["oepv"]["economic_weight"] = json!(40);
    capped["oepv"]["criteria"][1]["weight"] = json!(15);
    capped["submission_deadline"] = json!("2026-05-24T12:00");
    capped["questions_deadline"] = json!("2026-05-14T12:00");
    capped["opening_at"] = json!("2026-05-24T15:00");
    capped["custodians"] = json!([]);
    capped["custodian_threshold"] = Value::Null;
    let bando = create(&w, &capped);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect_problem(422, "legal_violations");
    assert_eq!(
        codes(&p),
        vec!["deadline_too_short", "economic_weight_above_cap", "custodians_required"]
    );
    assert!(p["errors"][1]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("art. 108 c.4"));
    // Nothing was published.
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["state"],
        "draft"
    );
    assert_eq!(
        w.app.client().get("/api/v1/public/bandi").expect(200)["items"],
        json!([])
    );

    // Shape errors come first, one at a time, naming the field.
    let mut bad = open_services(&w, 13);
    bad["lotti"][1]["cig"] = json!("915282916E");
    assert_eq!(
        w.rup.post("/api/v1/bandi", &bad).expect_problem(422, "cig_check")["field"],
        "lotti[1].cig"
    );
    let mut bad = open_services(&w, 13);
    bad["oepv"]["economic_weight"] = json!(35);
    w.rup
        .post("/api/v1/bandi", &bad)
        .expect_problem(422, "oepv_weights_sum");
    let mut bad = open_services(&w, 13);
    bad["base_amount"] = json!("500000");
    w.rup
        .post("/api/v1/bandi", &bad)
        .expect_problem(422, "lots_amount_mismatch");
    let mut bad = open_services(&w, 13);
    bad["custodians"] = json!([w.rup_id, uuid_like(9)]);
    w.rup
        .post("/api/v1/bandi", &bad)
        .expect_problem(422, "custodian_not_official");
    // The same CIG twice across tenders.
    w.rup.post("/api/v1/bandi", &open_services(&w, 14)).expect(201);
    w.rup
        .post("/api/v1/bandi", &open_services(&w, 14))
        .expect_problem(409, "cig_duplicate");
}

/// `n` supplier accounts qualified in the albo (what the invitees of a procedure must be).
fn qualified_invitees(app: &TestApp, tag: u32, n: u32) -> Vec<String> {
    (0..n)
        .map(|i| journeys::tender_world::supplier(app, &format!("invitato{tag}-{i}@fornitore.it")))
        .collect()
}

fn uuid_like(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

#[test]
fn a_deadline_across_the_summer_time_change_counts_calendar_days() {
    let w = world();
    // Tuesday 10 March 2026, 10:00 in Rome (CET, UTC+1).
    w.app.clock.set(utc("2026-03-10T09:00:00Z"));
    let mut body = open_services(&w, 20);
    body["questions_deadline"] = json!("2026-03-30T12:00");
    // 30 calendar days later, after the switch to CEST on 29 March: only 719 hours.
    body["submission_deadline"] = json!("2026-04-09T10:00");
    body["opening_at"] = json!("2026-04-09T11:00");
    let bando = create(&w, &body);
    let published = publish(&w, &bando);
    assert_eq!(published["submission_deadline"]["rome"], "2026-04-09T10:00:00+02:00");
    assert_eq!(published["submission_deadline"]["utc"], "2026-04-09T08:00:00Z");
    assert_eq!(published["questions_deadline"]["rome"], "2026-03-30T12:00:00+02:00");
    assert_eq!(published["offer_validity_until"]["rome"], "2026-10-06T10:00:00+02:00");

    // One day less is refused, citing art. 71.
    let mut short = open_services(&w, 21);
    short["questions_deadline"] = json!("2026-03-30T12:00");
    short["submission_deadline"] = json!("2026-04-08T23:59");
    short["opening_at"] = json!("2026-04-09T11:00");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{}/publish", create(&w, &short)), &json!({}))
        .expect_problem(422, "legal_violations");
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("art. 71 c.2"));
    // An hour that does not exist in Rome is refused rather than guessed.
    let mut gap = open_services(&w, 22);
    gap["submission_deadline"] = json!("2026-03-29T02:30");
    assert_eq!(
        w.rup
            .post("/api/v1/bandi", &gap)
            .expect_problem(422, "datetime_nonexistent_in_rome")["field"],
        "submission_deadline"
    );
    let mut ambiguous = open_services(&w, 22);
    ambiguous["submission_deadline"] = json!("2026-10-25T02:30");
    w.rup
        .post("/api/v1/bandi", &ambiguous)
        .expect_problem(422, "datetime_ambiguous_in_rome");

    // The scheduler closes it at 10:00 Rome = 08:00Z, not at 09:00Z (the winter offset).
    let anon = w.app.client();
    w.app.clock.set(utc("2026-04-09T07:59:59Z"));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        anon.get(&format!("/api/v1/public/bandi/{bando}")).expect(200)["state"],
        "published"
    );
    w.app.clock.set(utc("2026-04-09T08:00:00Z"));
    wait_for_state(&anon, &bando, "submissions_closed");
}

#[test]
fn illegal_transitions_are_refused_with_the_current_state_and_lots_have_their_own() {
    let mut w = world();
    let bando = create(&w, &open_services(&w, 30));
    let other = create(&w, &open_services(&w, 31));
    w.rup
        .post(&format!("/api/v1/bandi/{other}/publish"), &json!({}))
        .expect(200);
    let t = |rup: &Client, to: &str, reason: Option<&str>| {
        rup.post(
            &format!("/api/v1/bandi/{bando}/transitions"),
            &json!({ "to": to, "reason": reason }),
        )
    };
    let p = t(&w.rup, "awarded", None).expect_problem(409, "illegal_transition");
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("«draft»"),
        "{}",
        p["detail"]
    );
    assert_eq!(p["errors"][0]["message"], "draft");
    assert_eq!(p["field"], "state");
    t(&w.rup, "published", None).expect(200);
    // Before the deadline submissions cannot be closed by hand.
    let p = t(&w.rup, "submissions_closed", None).expect_problem(409, "illegal_transition");
    assert_eq!(p["errors"][0]["message"], "published");
    t(&w.rup, "evaluation", None).expect_problem(409, "illegal_transition");
    t(&w.rup, "published", None).expect_problem(409, "illegal_transition");
    t(&w.rup, "flying", None).expect_problem(422, "state_unknown");

    // Deadline and opening pass: the scheduler moves it; the RUP takes it on.
    w.app.clock.set(utc("2026-06-05T13:00:00Z"));
    wait_for_state(&w.app.client(), &bando, "opening");
    w.relogin();
    // The evaluation and its outcomes are the award procedure's (issue 9, see
    // tests/tests/procedure_order.rs), never a manual move.
    t(&w.rup, "evaluation", None).expect_problem(409, "procedure_only");
    let full = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    let lot1 = id(&full["lotti"][0]);
    let lot2 = id(&full["lotti"][1]);
    t(&w.rup, "proposed_award", None).expect_problem(409, "illegal_transition");
    let lt = |rup: &Client, lot: &str, to: &str, reason: Option<&str>| {
        rup.post(
            &format!("/api/v1/bandi/{bando}/lotti/{lot}/transitions"),
            &json!({ "to": to, "reason": reason }),
        )
    };
    lt(&w.rup, &lot1, "awarded", None).expect_problem(409, "illegal_transition");
    lt(&w.rup, &lot1, "proposed_award", None).expect_problem(409, "procedure_only");
    lt(&w.rup, &lot2, "deserted", Some("Nessuna offerta valida")).expect_problem(409, "procedure_only");
    lt(&w.rup, &lot2, "cancelled", None).expect_problem(409, "illegal_transition");
    let after = lt(&w.rup, &lot2, "cancelled", Some("Lotto annullato")).expect(200);
    assert_eq!(after["lotti"][1]["state"], "cancelled");
    assert_eq!(after["state"], "opening");
    let done = t(&w.rup, "cancelled", Some("Annullamento in autotutela")).expect(200);
    assert_eq!(done["state"], "cancelled");
    let p = t(&w.rup, "cancelled", Some("Annullamento in autotutela")).expect_problem(409, "illegal_transition");
    assert_eq!(p["errors"][0]["message"], "cancelled");

    // Cancelling needs a reason and cascades to the lots (the other tender is now opening).
    w.rup
        .post(
            &format!("/api/v1/bandi/{other}/transitions"),
            &json!({ "to": "cancelled" }),
        )
        .expect_problem(409, "illegal_transition");
    let cancelled = w
        .rup
        .post(
            &format!("/api/v1/bandi/{other}/transitions"),
            &json!({ "to": "cancelled", "reason": "Errore nel capitolato" }),
        )
        .expect(200);
    assert_eq!(cancelled["state"], "cancelled");
    assert!(cancelled["lotti"]
        .as_array()
        .expect("lotti")
        .iter()
        .all(|l| l["state"] == "cancelled"));
    w.rup
        .post(&format!("/api/v1/bandi/{other}/publish"), &json!({}))
        .expect_problem(409, "illegal_transition");
}

#[test]
fn another_entes_rup_and_suppliers_cannot_manage_the_tender() {
    let w = world();
    let body = open_services(&w, 40);
    w.rup_roma.post("/api/v1/bandi", &body).expect_problem(403, "forbidden");
    let bando = create(&w, &body);
    w.rup_roma
        .get(&format!("/api/v1/bandi/{bando}"))
        .expect_problem(403, "forbidden");
    w.rup_roma
        .put(&format!("/api/v1/bandi/{bando}"), &body)
        .expect_problem(403, "forbidden");
    w.rup_roma
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect_problem(403, "forbidden");
    w.rup_roma
        .get(&format!("/api/v1/enti/{}/bandi", w.milano))
        .expect_problem(403, "forbidden");
    w.rup_roma.get(&format!("/api/v1/enti/{}/bandi", w.roma)).expect(200);
    let (fornitore, _) = supplier(&w.app, "gare@fornitore.it");
    fornitore.post("/api/v1/bandi", &body).expect_problem(403, "forbidden");
    fornitore
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect_problem(403, "forbidden");
    w.app
        .client()
        .post("/api/v1/bandi", &body)
        .expect_problem(401, "unauthenticated");
    // An admin may act for any ente.
    w.admin
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    w.rup_roma
        .post(
            &format!("/api/v1/bandi/{bando}/transitions"),
            &json!({ "to": "cancelled", "reason": "x" }),
        )
        .expect_problem(403, "forbidden");
    w.rup_roma
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "x", "submission_deadline": "2026-07-01T12:00" }),
        )
        .expect_problem(403, "forbidden");
}

#[test]
fn answers_and_amendments_less_than_six_days_before_the_deadline_need_an_extension() {
    let mut w = world();
    let bando = create(&w, &open_services(&w, 50));
    publish(&w, &bando);
    let (fornitore, _) = supplier(&w.app, "gare@fornitore.it");
    let q = fornitore
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "Quali orari?" }),
        )
        .expect(201);
    // 31 May: 5 days before the 5 June deadline.
    w.app.clock.set(utc("2026-05-31T08:00:00Z"));
    w.relogin();
    let path = format!("/api/v1/bandi/{bando}/chiarimenti/{}/risposta", id(&q));
    let p = w
        .rup
        .post(&path, &json!({ "answer": "Dalle 6 alle 9" }))
        .expect_problem(422, "art92_extension_required");
    assert!(
        p["detail"].as_str().unwrap_or_default().starts_with("art. 92 c.2"),
        "{}",
        p["detail"]
    );
    // An extension that still leaves less than 6 days is not enough.
    w.rup
        .post(
            &path,
            &json!({ "answer": "Dalle 6 alle 9", "extend_submission_deadline_to": "2026-06-05T18:00" }),
        )
        .expect_problem(422, "art92_extension_required");
    assert_eq!(
        w.app
            .client()
            .get(&format!("/api/v1/public/bandi/{bando}/chiarimenti"))
            .expect(200),
        json!([])
    );
    let a = w
        .rup
        .post(
            &path,
            &json!({ "answer": "Dalle 6 alle 9", "extend_submission_deadline_to": "2026-06-08T12:00" }),
        )
        .expect(200);
    assert_eq!(a["answer"], "Dalle 6 alle 9");
    let b = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    assert_eq!(b["submission_deadline"]["rome"], "2026-06-08T12:00:00+02:00");
    assert_eq!(b["version"], 2);
    w.rup
        .post(&path, &json!({ "answer": "Di nuovo" }))
        .expect_problem(409, "already_answered");
    // A new document now is also a rettifica and needs the extension too.
    w.app.clock.set(utc("2026-06-04T08:00:00Z"));
    w.relogin();
    let docs = format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=faq.pdf&reason=Nuovo%20allegato");
    w.rup
        .post_raw(&docs, "application/pdf", b"faq")
        .expect_problem(422, "art92_extension_required");
    let extended = format!("{docs}&extend_submission_deadline_to=2026-06-15T12:00");
    let doc = w.rup.post_raw(&extended, "application/pdf", b"faq").expect(201);
    assert_eq!(doc["version"], 3);
    let versions = w
        .app
        .client()
        .get(&format!("/api/v1/public/bandi/{bando}/rettifiche"))
        .expect(200);
    assert_eq!(versions.as_array().map(Vec::len), Some(3));
    let fields: Vec<&str> = versions[2]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["documenti", "submission_deadline", "opening_at"]);
    // Without a reason a published tender takes no new document.
    w.rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=x.pdf"),
            "application/pdf",
            b"x",
        )
        .expect_problem(422, "reason_required");
}

#[test]
fn public_list_filters_paginates_with_a_stable_cursor_and_hides_negotiated_procedures() {
    let w = world();
    let mut ids = Vec::new();
    for seed in 60..65 {
        let bando = create(&w, &open_services(&w, seed));
        publish(&w, &bando);
        ids.push(bando);
        w.app.clock.advance(chrono::Duration::minutes(1));
    }
    // A works tender of Milano, restricted, with a later deadline.
    let mut works = open_services(&w, 65);
    works["contract_type"] = json!("works");
    works["procedure_type"] = json!("ristretta");
    works["cpv_main"] = json!("45000000-7");
    works["cpv_additional"] = json!([]);
    works["labour_intensive"] = json!(false);
    works["submission_deadline"] = json!("2026-07-10T12:00");
    works["opening_at"] = json!("2026-07-10T15:00");
    let works_id = create(&w, &works);
    publish(&w, &works_id);
    w.app.clock.advance(chrono::Duration::minutes(1));
    // A negotiated procedure with five invited suppliers, one of them registered here.
    // Invitees are real operatori qualified in the albo (issue 9 finding 7).
    let invited_id = journeys::tender_world::supplier(&w.app, "invitato@fornitore.it");
    let invited = w
        .app
        .client()
        .logged_in("invitato@fornitore.it", journeys::tender_world::PASSWORD);
    let others = qualified_invitees(&w.app, 66, 4);
    let (outsider, _) = supplier(&w.app, "estraneo@fornitore.it");
    let mut negotiated = open_services(&w, 66);
    negotiated["procedure_type"] = json!("negoziata_senza_bando");
    negotiated["base_amount"] = json!("200000");
    negotiated["safety_costs"] = json!("0");
    negotiated["lotti"] = json!([]);
    negotiated["cig"] = json!(cig(1_200_000));
    negotiated["invitees"] = json!([invited_id, others[0], others[1], others[2], others[3]]);
    let neg_id = create(&w, &negotiated);
    publish(&w, &neg_id);
    // A draft never appears.
    create(&w, &open_services(&w, 67));

    let anon = w.app.client();
    let all = |c: &Client, query: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("/api/v1/public/bandi?limit=2&cursor={c}{query}"),
                None => format!("/api/v1/public/bandi?limit=2{query}"),
            };
            let page = c.get(&q).expect(200);
            out.extend(page["items"].as_array().expect("items").iter().map(id));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return out,
            }
        }
    };
    let everything = all(&anon, "");
    let mut expected: Vec<String> = ids.iter().cloned().chain([works_id.clone()]).collect();
    expected.reverse();
    assert_eq!(everything, expected, "newest first, negotiated hidden, drafts hidden");
    // The invited supplier also sees the negotiated one; an outsider does not.
    assert_eq!(all(&invited, "").first(), Some(&neg_id));
    assert_eq!(all(&outsider, ""), expected);
    invited.get(&format!("/api/v1/public/bandi/{neg_id}")).expect(200);
    outsider
        .get(&format!("/api/v1/public/bandi/{neg_id}"))
        .expect_problem(404, "not_found");
    anon.get(&format!("/api/v1/public/bandi/{neg_id}"))
        .expect_problem(404, "not_found");
    anon.get(&format!("/api/v1/public/bandi/{neg_id}/chiarimenti"))
        .expect_problem(404, "not_found");
    outsider
        .post(
            &format!("/api/v1/bandi/{neg_id}/chiarimenti"),
            &json!({ "question": "Posso partecipare?" }),
        )
        .expect_problem(404, "not_found");

    // The cursor is stable: a tender published between two pages does not shift them.
    let first = anon.get("/api/v1/public/bandi?limit=2").expect(200);
    let cursor = first["next_cursor"].as_str().expect("cursor").to_string();
    w.app.clock.advance(chrono::Duration::minutes(1));
    let late = create(&w, &open_services(&w, 68));
    publish(&w, &late);
    let second = anon
        .get(&format!("/api/v1/public/bandi?limit=2&cursor={cursor}"))
        .expect(200);
    let second_ids: Vec<String> = second["items"].as_array().expect("items").iter().map(id).collect();
    assert_eq!(second_ids, expected[2..4].to_vec());
    anon.get("/api/v1/public/bandi?cursor=zz")
        .expect_problem(422, "cursor_invalid");

    // Filters.
    let works_only = all(&anon, "&cpv=45000000-7");
    assert_eq!(works_only, vec![works_id.clone()]);
    assert_eq!(all(&anon, "&cpv=90911200-8").len(), 6, "additional CPV matches exactly");
    assert_eq!(all(&anon, "&procedure=ristretta"), vec![works_id.clone()]);
    assert_eq!(all(&anon, "&deadline_from=2026-07-01T00:00"), vec![works_id.clone()]);
    assert_eq!(all(&anon, "&deadline_to=2026-07-01T00:00").len(), 6);
    assert_eq!(all(&anon, &format!("&ente={}", w.roma)), Vec::<String>::new());
    assert_eq!(all(&anon, &format!("&ente={}", w.milano)).len(), 7);
    assert_eq!(all(&anon, "&state=published").len(), 7);
    assert_eq!(all(&anon, "&state=submissions_closed"), Vec::<String>::new());
    anon.get("/api/v1/public/bandi?procedure=asta")
        .expect_problem(422, "procedure_unknown");
    anon.get("/api/v1/public/bandi?limit=0")
        .expect_problem(422, "limit_invalid");
    // After the June deadline the scheduler closes the six services tenders, not the works one.
    w.app.clock.set(utc("2026-06-05T10:00:00Z"));
    wait_for_state(&anon, &late, "submissions_closed");
    let start = Instant::now();
    while all(&anon, "&state=submissions_closed").len() < 6 {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(all(&anon, "&state=published"), vec![works_id]);
}

/// The same tender without lots: one CIG of its own, `amount` in EUR, no safety costs.
fn single(w: &World, n: u64, amount: &str) -> Value {
    let mut b = open_services(w, 200 + n);
    b["lotti"] = json!([]);
    b["cig"] = json!(cig(1_300_000 + n));
    b["base_amount"] = json!(amount);
    b["safety_costs"] = json!("0");
    b
}

/// Lowest price instead of OEPV (no criteria, no envelope B).
fn lowest_price(mut b: Value) -> Value {
    b["award_criterion"] = json!("minor_prezzo");
    b["oepv"] = Value::Null;
    b["envelopes"] = json!(["A", "C"]);
    b
}

fn with(mut b: Value, changes: &[(&str, Value)]) -> Value {
    for (k, v) in changes {
        b[*k] = v.clone();
    }
    b
}

/// Every check made at publication, one defect at a time: the 422 `legal_violations` lists
/// exactly that violation with its code, field and article, and the same tender with the
/// defect fixed publishes (docs/legal.md, "Checks at publication").
#[test]
fn each_publication_check_names_its_code_field_and_article_and_the_fixed_tender_publishes() {
    let w = world();
    let invited = journeys::tender_world::supplier(&w.app, "invitato@fornitore.it");
    let others = qualified_invitees(&w.app, 1, 4);
    let five = json!([invited, others[0], others[1], others[2], others[3]]);
    let twenty_days = [
        ("questions_deadline", json!("2026-05-14T12:00")),
        ("submission_deadline", json!("2026-05-24T12:00")),
        ("opening_at", json!("2026-05-24T15:00")),
    ];
    let base = |n: u64| open_services(&w, 100 + n);
    let not_labour = |b: Value| with(b, &[("labour_intensive", json!(false))]);
    // (code, field, article the message starts with, defective tender, the same fixed)
    let cases: Vec<(&str, &str, &str, Value, Value)> = vec![
        (
            "deadline_required",
            "submission_deadline",
            "art. 71:",
            with(base(0), &[("submission_deadline", Value::Null)]),
            base(0),
        ),
        (
            "deadline_in_past",
            "submission_deadline",
            "art. 71:",
            with(
                base(1),
                &[
                    ("questions_deadline", json!("2026-04-20T12:00")),
                    ("submission_deadline", json!("2026-05-01T12:00")),
                    ("opening_at", json!("2026-05-01T15:00")),
                ],
            ),
            base(1),
        ),
        // 20 days: too short for an open procedure; with a stated urgency 15 are enough (c.3).
        (
            "deadline_too_short",
            "submission_deadline",
            "art. 71 c.2",
            with(base(2), &twenty_days),
            with(
                with(base(2), &twenty_days),
                &[("urgency_reason", json!("Scadenza del contratto in essere"))],
            ),
        ),
        (
            "deadline_too_short",
            "submission_deadline",
            "art. 72 c.2",
            with(with(base(3), &twenty_days), &[("procedure_type", json!("ristretta"))]),
            with(base(3), &[("procedure_type", json!("ristretta"))]),
        ),
        (
            "deadline_too_short",
            "submission_deadline",
            // Above the EU threshold: the Directive's 30 days, longer than art. 73 c.4's ten.
            "art. 29 par. 1 Dir. 2014/24/UE",
            with(
                with(base(4), &twenty_days),
                &[("procedure_type", json!("competitiva_con_negoziazione"))],
            ),
            with(base(4), &[("procedure_type", json!("competitiva_con_negoziazione"))]),
        ),
        (
            "questions_deadline_required",
            "questions_deadline",
            "art. 92 c.2",
            with(base(5), &[("questions_deadline", Value::Null)]),
            base(5),
        ),
        // Questions close 4 days before the 5 June deadline: answers could not come 6 days before.
        (
            "questions_deadline_too_late",
            "questions_deadline",
            "art. 92 c.2",
            with(base(6), &[("questions_deadline", json!("2026-06-01T12:00"))]),
            with(base(6), &[("questions_deadline", json!("2026-05-30T12:00"))]),
        ),
        (
            "opening_required",
            "opening_at",
            "art. 92 c.1",
            with(base(7), &[("opening_at", Value::Null)]),
            base(7),
        ),
        (
            "direct_award_above_limit",
            "base_amount",
            "art. 50 c.1 lett. b",
            with(
                lowest_price(single(&w, 8, "140000")),
                &[
                    ("procedure_type", json!("affidamento_diretto")),
                    ("invitees", json!([invited])),
                ],
            ),
            with(
                lowest_price(single(&w, 8, "139999.99")),
                &[
                    ("procedure_type", json!("affidamento_diretto")),
                    ("invitees", json!([invited])),
                ],
            ),
        ),
        // A direct award names its operator.
        (
            "invitees_required",
            "invitees",
            "art. 50 c.1 lett. b",
            with(
                lowest_price(single(&w, 9, "100000")),
                &[("procedure_type", json!("affidamento_diretto"))],
            ),
            with(
                lowest_price(single(&w, 9, "100000")),
                &[
                    ("procedure_type", json!("affidamento_diretto")),
                    ("invitees", json!([invited])),
                ],
            ),
        ),
        // A negotiated procedure below the bands still invites someone.
        (
            "invitees_required",
            "invitees",
            "art. 50 c.1:",
            with(
                single(&w, 10, "100000"),
                &[("procedure_type", json!("negoziata_senza_bando"))],
            ),
            with(
                single(&w, 10, "100000"),
                &[
                    ("procedure_type", json!("negoziata_senza_bando")),
                    ("invitees", json!([invited])),
                ],
            ),
        ),
        (
            "too_few_invitees",
            "invitees",
            "art. 50 c.1 lett. e",
            with(
                single(&w, 11, "180000"),
                &[
                    ("procedure_type", json!("negoziata_senza_bando")),
                    ("invitees", json!([invited, uuid_like(1), uuid_like(2), uuid_like(3)])),
                ],
            ),
            with(
                single(&w, 11, "180000"),
                &[
                    ("procedure_type", json!("negoziata_senza_bando")),
                    ("invitees", five.clone()),
                ],
            ),
        ),
        (
            "negotiated_above_threshold",
            "procedure_type",
            "art. 14 c.1",
            with(
                base(12),
                &[
                    ("procedure_type", json!("negoziata_senza_bando")),
                    ("invitees", five.clone()),
                ],
            ),
            base(12),
        ),
        (
            "labour_intensive_lowest_price",
            "award_criterion",
            "art. 108 c.2 lett. a",
            lowest_price(base(13)),
            base(13),
        ),
        (
            "economic_weight_above_cap",
            "oepv.economic_weight",
            "art. 108 c.4",
            {
                let mut b = base(14);
                b["oepv"]["economic_weight"] = json!(40);
                b["oepv"]["criteria"][1]["weight"] = json!(15);
                b
            },
            base(14),
        ),
        // Intellectual services of 400,000 (≥ 140,000) on lowest price; on OEPV they publish.
        (
            "intellectual_services_lowest_price",
            "award_criterion",
            "art. 108 c.2 lett. b",
            lowest_price(with(not_labour(base(15)), &[("intellectual_services", json!(true))])),
            with(not_labour(base(15)), &[("intellectual_services", json!(true))]),
        ),
        (
            "envelope_a_required",
            "envelopes",
            "art. 91",
            with(base(16), &[("envelopes", json!(["B", "C"]))]),
            base(16),
        ),
        (
            "envelope_c_required",
            "envelopes",
            "art. 91",
            with(base(17), &[("envelopes", json!(["A", "B"]))]),
            base(17),
        ),
        (
            "envelope_b_required",
            "envelopes",
            "art. 108 c.1",
            with(base(18), &[("envelopes", json!(["A", "C"]))]),
            base(18),
        ),
        // Lowest-price services of 200,000 (below the 216,000 threshold in 2026).
        (
            "anomaly_method_required",
            "anomaly_method",
            "art. 54 c.1–2",
            lowest_price(not_labour(single(&w, 19, "200000"))),
            with(
                lowest_price(not_labour(single(&w, 19, "200000"))),
                &[("anomaly_method", json!("A"))],
            ),
        ),
        (
            "anomaly_method_not_applicable",
            "anomaly_method",
            "art. 54 c.1–2",
            with(base(20), &[("anomaly_method", json!("B"))]),
            base(20),
        ),
        (
            "custodians_required",
            "custodians",
            "art. 35 c.2",
            with(
                base(21),
                &[("custodians", json!([])), ("custodian_threshold", Value::Null)],
            ),
            base(21),
        ),
    ];
    for (code, field, article, bad, good) in cases {
        let bando = create(&w, &bad);
        let p = w
            .rup
            .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
            .expect_problem(422, "legal_violations");
        let errors = p["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{code}: {errors:?}");
        assert_eq!(
            (errors[0]["code"].as_str(), errors[0]["field"].as_str()),
            (Some(code), Some(field)),
            "{errors:?}"
        );
        let message = errors[0]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(article),
            "{code}: «{message}» should start with {article}"
        );
        // The dry run says the same.
        let report = w
            .rup
            .post(&format!("/api/v1/bandi/{bando}/check"), &json!({}))
            .expect(200);
        assert_eq!(
            (
                report["publishable"].as_bool(),
                report["violations"][0]["code"].as_str()
            ),
            (Some(false), Some(code))
        );
        // Fixed, the same draft publishes.
        w.rup.put(&format!("/api/v1/bandi/{bando}"), &good).expect(200);
        assert_eq!(publish(&w, &bando)["state"], "published", "{code} fixed");
    }
}

/// Documents carry their SHA-256: returned at upload, listed in the public detail, sent with
/// the bytes (`X-Content-SHA256`, ETag) and checked on every read — altered bytes are never
/// served as the published document.
#[test]
fn documents_are_served_with_their_sha256_and_checked_on_every_read() {
    let w = world();
    let bando = create(&w, &open_services(&w, 70));
    let pdf = b"%PDF-1.7 disciplinare di gara";
    // sha256sum of exactly these bytes.
    let expected = "cc1980ae84cdec10d4eacba6bd47fe5660e1d03eebc661492db038b2533e72e2";
    let doc = w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=disciplinare&filename=disciplinare.pdf"),
            "application/pdf",
            pdf,
        )
        .expect(201);
    assert_eq!(doc["sha256"], expected);
    assert_eq!(doc["size_bytes"], pdf.len());
    // Before publication the document is not public.
    w.app
        .client()
        .get(&format!("/api/v1/public/bandi/{bando}/documenti/{}", id(&doc)))
        .expect_problem(404, "not_found");
    publish(&w, &bando);
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    assert_eq!(public["documenti"][0]["sha256"], expected);
    assert_eq!(public["documenti"][0]["kind"], "disciplinare");

    let url = format!("{}/api/v1/public/bandi/{bando}/documenti/{}", w.app.base_url, id(&doc));
    let response = ureq::get(&url).call().expect("download");
    assert_eq!(response.header("X-Content-SHA256"), Some(expected));
    assert_eq!(response.header("ETag"), Some(format!("\"{expected}\"").as_str()));
    assert_eq!(response.content_type(), "application/pdf");
    assert!(response
        .header("Content-Disposition")
        .is_some_and(|d| d.contains("disciplinare.pdf")));
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut body).expect("body");
    assert_eq!(body, pdf);

    // Bytes altered behind the platform's back: refused, not served under the old hash.
    // (The table is append-only by trigger; a superuser working on the disk goes around it.)
    w.app.psql(&format!("SET session_replication_role = replica; UPDATE bando_documenti SET content = convert_to('falsificato', 'UTF8') WHERE id = '{}'", id(&doc)));
    let p = w
        .app
        .client()
        .get(&format!("/api/v1/public/bandi/{bando}/documenti/{}", id(&doc)))
        .expect_problem(500, "document_integrity");
    assert!(!p.to_string().contains("falsificato"));
}

/// The `ente` filter tells two authorities' tenders apart (not only "none of Roma").
#[test]
fn the_public_list_filters_by_ente() {
    let w = world();
    let milano = create(&w, &open_services(&w, 80));
    publish(&w, &milano);
    w.app.clock.advance(chrono::Duration::minutes(1));
    let mut body = open_services(&w, 81);
    body["ente_id"] = json!(w.roma);
    let custode_roma = official(&w.admin, "custode@comune.roma.it", "commission", &w.roma);
    body["custodians"] = json!([custode_roma]);
    body["custodian_threshold"] = json!(1);
    let roma = id(&w.rup_roma.post("/api/v1/bandi", &body).expect(201));
    w.rup_roma
        .post(&format!("/api/v1/bandi/{roma}/publish"), &json!({}))
        .expect(200);
    let anon = w.app.client();
    let ids = |q: &str| -> Vec<String> {
        anon.get(&format!("/api/v1/public/bandi{q}")).expect(200)["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(id)
            .collect()
    };
    assert_eq!(ids(""), vec![roma.clone(), milano.clone()]);
    assert_eq!(ids(&format!("?ente={}", w.roma)), vec![roma.clone()]);
    assert_eq!(ids(&format!("?ente={}", w.milano)), vec![milano]);
    let roma_detail = anon.get(&format!("/api/v1/public/bandi/{roma}")).expect(200);
    assert_eq!(roma_detail["ente_nome"], "Roma Capitale");
}
