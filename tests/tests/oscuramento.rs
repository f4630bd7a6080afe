//! Art. 35 c.4 lett. a, art. 36 c.3–5 over HTTP: requests to redact parts of an offer, sealed
//! inside envelope A (`oscuramento.json`); the RUP's decisions before the award, stated in the
//! award's communication; the other bidders get the redacted copy of an accepted request and
//! never the original, the original of a rejected one only after the ten days of art. 36 c.4
//! (clock moved), and not while a recorded ricorso is pending.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::Client;

const PROGETTO: &[u8] = b"PROGETTO ORIGINALE: procedimento brevettato di stesa a freddo";
const PROGETTO_OSCURATO: &[u8] = b"PROGETTO: [omissis]";
const LISTINO: &[u8] = b"LISTINO ORIGINALE: prezzi riservati dei fornitori";
const LISTINO_OSCURATO: &[u8] = b"LISTINO: [omissis]";

fn request_file() -> Vec<u8> {
    json!({ "requests": [
        { "file": "progetto.pdf", "redacted_copy": "progetto-oscurato.pdf",
          "reasons": "Segreto industriale: il procedimento di stesa è coperto da brevetto",
          "evidence": ["brevetto.pdf"] },
        { "file": "listino.pdf", "redacted_copy": "listino-oscurato.pdf",
          "reasons": "Segreto commerciale: prezzi negoziati con i fornitori" }
    ] })
    .to_string()
    .into_bytes()
}

struct Setup {
    bando: String,
    winner: (String, String),
    others: Vec<(String, String)>,
}

fn roma_rup(w: &World) -> Client {
    let admin = w.app.admin();
    let roma = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Roma Capitale", "codice_fiscale": "02438750586", "tipo": "comune",
                     "istat_code": "058091", "pec": "protocollo.gabinetto@pec.comune.roma.it" }),
        )
        .expect(201));
    qualify(&admin, &roma);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    w.login("rup@comune.roma.it")
}

/// Officials who must learn nothing before the deadline: the RUP, an admin, an auditor.
fn insiders(w: &World) -> Vec<Client> {
    official(&w.app.admin(), "revisore@comune.milano.it", "auditor", &w.ente);
    vec![w.rup.clone(), w.app.admin(), w.login("revisore@comune.milano.it")]
}

/// Three bidders; the best (15%) seals two redaction requests in envelope A. Checks that
/// nothing about them shows before the deadline, then runs the tender to the ranking.
fn to_the_ranking(w: &mut World, n: u64) -> Setup {
    let bando = tender(
        w,
        works_tender_body(
            &w.ente,
            [&w.rup_id, &w.custode],
            "Riqualificazione della piazza",
            7_100_000 + n,
        ),
    );
    let mut bidders = Vec::new();
    for (i, discount) in ["15.000", "10.000", "12.000"].iter().enumerate() {
        let email = format!("impresa{i}@oscuramento-{n}.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        let a = if i == 0 {
            let req = request_file();
            busta(
                &bando,
                "A",
                &[
                    ("domanda.pdf", b"domanda e DGUE"),
                    ("progetto.pdf", PROGETTO),
                    ("progetto-oscurato.pdf", PROGETTO_OSCURATO),
                    ("listino.pdf", LISTINO),
                    ("listino-oscurato.pdf", LISTINO_OSCURATO),
                    ("brevetto.pdf", b"brevetto n. 123"),
                    ("oscuramento.json", &req),
                ],
            )
        } else {
            busta(&bando, "A", &[("domanda.pdf", b"domanda e DGUE")])
        };
        submit(&c, &bando, "A", &a);
        submit(&c, &bando, "C", &offer_c(discount));
        bidders.push((uid, email));
    }
    // Before the deadline: no listing, page or trail says a request exists.
    for c in insiders(w) {
        let r = c.get(&format!("/api/v1/bandi/{bando}/oscuramento"));
        assert!(r.status == 409 || r.status == 403, "{} {}", r.status, r.text);
        assert!(!r.text.contains("progetto"), "{}", r.text);
        let r = c.get(&format!("/api/v1/bandi/{bando}/accesso-atti"));
        assert!(!r.text.contains("progetto"), "{}", r.text);
        let r = c.get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"));
        assert!(!r.text.contains("oscuramento"), "{}", r.text);
    }
    let trail = Value::Array(audit_events(w)).to_string();
    assert!(!trail.contains("oscuramento") && !trail.contains("progetto"));
    past_opening(w, &bando);
    open(w, &bando, "A");
    // Opened, but not ranked: the requests are not read yet (the RUP weighs them with no
    // influence left on the scores).
    w.rup
        .get(&format!("/api/v1/bandi/{bando}/oscuramento"))
        .expect_problem(409, "redaction_not_yet");
    for (uid, _) in &bidders {
        admit(w, &bando, uid);
    }
    open(w, &bando, "C");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    assert_eq!(p["evaluation"]["ranking"][0]["bidder_id"], bidders[0].0.as_str(), "{p}");
    let winner = bidders.remove(0);
    Setup {
        bando,
        winner,
        others: bidders,
    }
}

fn requests(w: &World, bando: &str) -> Vec<Value> {
    w.rup
        .get(&format!("/api/v1/bandi/{bando}/oscuramento"))
        .expect(200)
        .as_array()
        .expect("requests")
        .clone()
}

fn request_id(list: &[Value], file: &str) -> String {
    id(list.iter().find(|r| r["file"] == file).expect("request"))
}

fn decide(w: &World, bando: &str, rid: &str, decision: &str) -> Value {
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/oscuramento/{rid}/decisione"),
            &json!({ "decision": decision, "reason": "valutata la comprova allegata" }),
        )
        .expect(200)
}

/// Decides both (progetto accepted, listino rejected) and awards; returns the award's time.
fn decide_and_award(w: &World, s: &Setup) {
    let list = requests(w, &s.bando);
    decide(w, &s.bando, &request_id(&list, "progetto.pdf"), "accepted");
    decide(w, &s.bando, &request_id(&list, "listino.pdf"), "rejected");
    award(w, &s.bando);
}

fn award(w: &World, bando: &str) {
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
}

/// The winner's envelope A as another bidder's access listing shows it.
fn winner_a(c: &Client, s: &Setup) -> Value {
    let acc = c.get(&format!("/api/v1/bandi/{}/accesso-atti", s.bando)).expect(200);
    acc["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .find(|e| e["bidder_id"] == s.winner.0.as_str() && e["kind"] == "A")
        .expect("winner's A")
        .clone()
}

fn file_of(c: &Client, s: &Setup, envelope: &str, name: &str) -> journeys::Reply {
    c.get(&format!(
        "/api/v1/bandi/{}/accesso-atti/{envelope}/file/{name}",
        s.bando
    ))
}

fn available(env: &Value, name: &str) -> bool {
    env["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["name"] == name)
        .expect("file")["available"]
        .as_bool()
        .expect("bool")
}

#[test]
fn accepted_gives_the_redacted_copy_only_rejected_shows_the_original_after_ten_days() {
    let mut w = world();
    let s = to_the_ranking(&mut w, 1);
    let bando = &s.bando;
    let list = requests(&w, bando);
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(
        list.iter().all(|r| r["state"] == "pending" && r["defect"].is_null()),
        "{list:?}"
    );
    assert_eq!(list[0]["evidence"], json!(["brevetto.pdf"]), "{list:?}");
    let progetto = request_id(&list, "progetto.pdf");
    let listino = request_id(&list, "listino.pdf");
    // A bidder sees nothing before the award, not even its own requests' fate.
    let wc = w.login(&s.winner.1);
    assert_eq!(
        wc.get(&format!("/api/v1/bandi/{bando}/oscuramento")).expect(200),
        json!([])
    );
    let other = w.login(&s.others[0].1);
    assert_eq!(
        other.get(&format!("/api/v1/bandi/{bando}/oscuramento")).expect(200),
        json!([])
    );

    // Who may not decide: a supplier, another ente's RUP; no reason; the double click.
    let path = format!("/api/v1/bandi/{bando}/oscuramento/{progetto}/decisione");
    let body = json!({ "decision": "accepted", "reason": "comprovato" });
    wc.post(&path, &body).expect_problem(403, "forbidden");
    other.post(&path, &body).expect_problem(403, "forbidden");
    roma_rup(&w).post(&path, &body).expect_problem(403, "forbidden");
    w.rup
        .post(&path, &json!({ "decision": "accepted", "reason": "  " }))
        .expect_problem(422, "reason_required");
    // The award waits for every decision (art. 36 c.3).
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let award_path = format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione");
    w.rup
        .post(&award_path, &json!({}))
        .expect_problem(409, "redaction_undecided");
    let d = w.rup.post(&path, &body).expect(200);
    assert_eq!(d["state"], "decided");
    assert_eq!(d["decision"], "accepted");
    w.rup.post(&path, &body).expect_problem(409, "redaction_decided");
    let decided = audit_events(&w)
        .into_iter()
        .filter(|e| {
            e["action"] == "aggiudicazione.oscuramento_deciso" && e["details"]["request_id"] == progetto.as_str()
        })
        .count();
    assert_eq!(decided, 1, "the double click decides once");
    decide(&w, bando, &listino, "rejected");
    w.rup.post(&award_path, &json!({})).expect(200);
    // Decisions close with the award.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/oscuramento/{listino}/decisione"),
            &json!({ "decision": "accepted", "reason": "ripensamento" }),
        )
        .expect_problem(409, "redaction_decided");

    // The award's communication states the decisions and the term (art. 36 c.3–4).
    let comm = other
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    let text = comm
        .as_array()
        .expect("communications")
        .iter()
        .find(|c| c["subject"].as_str().is_some_and(|s| s.starts_with("Aggiudicazione")))
        .and_then(|c| c["body"].as_str())
        .expect("the award's communication");
    assert!(
        text.contains("oscuramento")
            && text.contains("«progetto.pdf»: accolta")
            && text.contains("«listino.pdf»: respinta"),
        "{text}"
    );
    assert!(
        text.contains("art. 116 c.p.a.") && text.contains("2026-06-15T23:59:59+02:00"),
        "{text}"
    );
    // The winner sees the decisions on its own requests.
    let mine = wc.get(&format!("/api/v1/bandi/{bando}/oscuramento")).expect(200);
    assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");
    assert_eq!(mine[0]["term_end"], "2026-06-15T22:00:00Z", "{mine}");
    // Another bidder lists nothing of the winner's requests there.
    assert_eq!(
        other.get(&format!("/api/v1/bandi/{bando}/oscuramento")).expect(200),
        json!([])
    );

    // Another bidder: the envelope file by file; the redacted copies, never the originals.
    let env = winner_a(&other, &s);
    let envelope = env["envelope_id"].as_str().expect("id").to_string();
    assert!(available(&env, "domanda.pdf") && available(&env, "progetto-oscurato.pdf"));
    for hidden in ["progetto.pdf", "listino.pdf", "brevetto.pdf", "oscuramento.json"] {
        assert!(!available(&env, hidden), "{hidden}: {env}");
        file_of(&other, &s, &envelope, hidden).expect_problem(409, "part_redacted");
    }
    other
        .get(&format!("/api/v1/bandi/{bando}/accesso-atti/{envelope}"))
        .expect_problem(409, "envelope_redacted");
    let copy = file_of(&other, &s, &envelope, "progetto-oscurato.pdf");
    assert_eq!(copy.status, 200);
    assert_eq!(copy.text.as_bytes(), PROGETTO_OSCURATO);
    // The winner and the RUP read the originals.
    let own = file_of(&wc, &s, &envelope, "progetto.pdf");
    assert_eq!((own.status, own.text.as_bytes()), (200, PROGETTO));
    assert_eq!(file_of(&w.rup, &s, &envelope, "listino.pdf").text.as_bytes(), LISTINO);

    // The last second of the term: still hidden; from the next day on the rejected original.
    w.app.clock.set(at("2026-06-15T21:59:59Z"));
    let other = w.login(&s.others[0].1);
    file_of(&other, &s, &envelope, "listino.pdf").expect_problem(409, "part_redacted");
    w.app.clock.set(at("2026-06-15T22:00:00Z"));
    let other = w.login(&s.others[0].1);
    let env = winner_a(&other, &s);
    assert!(available(&env, "listino.pdf"), "{env}");
    let original = file_of(&other, &s, &envelope, "listino.pdf");
    assert_eq!((original.status, original.text.as_bytes()), (200, LISTINO));
    // The accepted one never; the request and its evidence never.
    for hidden in ["progetto.pdf", "brevetto.pdf", "oscuramento.json"] {
        file_of(&other, &s, &envelope, hidden).expect_problem(409, "part_redacted");
    }
    // After the term a ricorso can no longer be recorded (the part may have been shown).
    w.relogin();
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/oscuramento/{listino}/ricorso"),
            &json!({ "note": "tardivo" }),
        )
        .expect_problem(409, "challenge_term_expired");
    let trail = Value::Array(audit_events(&w)).to_string();
    assert!(trail.contains("aggiudicazione.oscuramento_richieste_lette"));
    assert!(
        trail.contains("\"name\":\"progetto-oscurato.pdf\""),
        "every download audited"
    );
}

#[test]
fn a_ricorso_recorded_within_the_term_keeps_the_part_hidden_until_its_outcome() {
    let mut w = world();
    let s = to_the_ranking(&mut w, 2);
    let bando = &s.bando;
    // A request cannot be challenged before it is decided and communicated.
    let list = requests(&w, bando);
    let listino = request_id(&list, "listino.pdf");
    let ricorso = format!("/api/v1/bandi/{bando}/oscuramento/{listino}/ricorso");
    w.rup
        .post(&ricorso, &json!({ "note": "ricorso" }))
        .expect_problem(409, "redaction_undecided");
    decide_and_award(&w, &s);
    let esito = format!("{ricorso}/esito");
    w.rup
        .post(&esito, &json!({ "outcome": "dismissed", "reason": "x" }))
        .expect_problem(409, "challenge_missing");
    w.rup
        .post(&ricorso, &json!({ "note": " " }))
        .expect_problem(422, "note_required");
    let other = w.login(&s.others[0].1);
    other
        .post(&ricorso, &json!({ "note": "me lo registro da solo" }))
        .expect_problem(403, "forbidden");
    w.app.clock.set(at("2026-06-12T09:00:00Z"));
    w.relogin();
    let r = w
        .rup
        .post(
            &ricorso,
            &json!({ "note": "ricorso ex art. 116 c.p.a. notificato il 12/06/2026 dall'operatore" }),
        )
        .expect(200);
    assert_eq!(r["state"], "challenged");
    w.rup
        .post(&ricorso, &json!({ "note": "di nuovo" }))
        .expect_problem(409, "challenge_recorded");
    // The term passes: the part stays hidden while the ricorso is pending.
    w.app.clock.set(at("2026-06-20T10:00:00Z"));
    let other = w.login(&s.others[0].1);
    let env = winner_a(&other, &s);
    let envelope = env["envelope_id"].as_str().expect("id").to_string();
    assert!(!available(&env, "listino.pdf"), "{env}");
    file_of(&other, &s, &envelope, "listino.pdf").expect_problem(409, "part_redacted");
    // Dismissed: the rejection stands and the original is shown.
    w.relogin();
    w.rup
        .post(&esito, &json!({ "outcome": "dismissed", "reason": " " }))
        .expect_problem(422, "reason_required");
    let r = w
        .rup
        .post(
            &esito,
            &json!({ "outcome": "dismissed", "reason": "TAR Lombardia, sent. n. 1/2026" }),
        )
        .expect(200);
    assert_eq!(r["state"], "settled");
    assert_eq!(r["original_disclosed"], true);
    w.rup
        .post(&esito, &json!({ "outcome": "upheld", "reason": "ancora" }))
        .expect_problem(409, "challenge_settled");
    let original = file_of(&other, &s, &envelope, "listino.pdf");
    assert_eq!((original.status, original.text.as_bytes()), (200, LISTINO));
    let trail = Value::Array(audit_events(&w)).to_string();
    assert!(trail.contains("aggiudicazione.oscuramento_ricorso_esito"));
}

#[test]
fn two_first_readings_at_once_read_the_requests_once() {
    let mut w = world();
    let s = to_the_ranking(&mut w, 3);
    let path = format!("/api/v1/bandi/{}/oscuramento", s.bando);
    let lists: Vec<Value> = std::thread::scope(|scope| {
        let a = scope.spawn(|| w.rup.get(&path).expect(200));
        let b = scope.spawn(|| w.app.admin().get(&path).expect(200));
        vec![a.join().expect("a"), b.join().expect("b")]
    });
    for l in &lists {
        assert_eq!(l.as_array().map(Vec::len), Some(2), "{l}");
    }
    let reads = audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == "aggiudicazione.oscuramento_richieste_lette")
        .count();
    assert_eq!(reads, 1, "one envelope read once");
}
