//! The opening session and the evaluation up to the award in the portal (issue 13 points 3
//! and 4), over real HTTP against a real server and database: a lowest-price tender with five
//! bidders from the opening to an effective award, every act through the portal's forms and
//! checked through the API; then whoever must not get through.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::web::{Page, WebClient};

const RUP: &str = "rup@comune.milano.it";
const DISCOUNTS: [&str; 5] = ["10.500", "12.250", "13.000", "14.750", "19.900"];

fn opening(bando: &str) -> String {
    format!("/ente/bandi/{bando}/apertura")
}

fn evaluation(bando: &str) -> String {
    format!("/ente/bandi/{bando}/valutazione")
}

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

struct Gara {
    bando: String,
    /// (user id, e-mail) of each bidder, in the order of `DISCOUNTS`.
    bidders: Vec<(String, String)>,
}

/// A lowest-price works tender (1,000,000.00 EUR, below the EU threshold, anomaly method A)
/// with `envelopes`, and five qualified bidders who each submit A (two files), B when the
/// tender has it, and C with the discounts of [`DISCOUNTS`].
fn five_bidders(w: &World, cig_n: u64, envelopes: &[&str]) -> Gara {
    let mut body = works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Riqualificazione della piazza del mercato",
        cig_n,
    );
    body["envelopes"] = json!(envelopes);
    let bando = tender(w, body);
    let mut bidders = Vec::new();
    for (i, d) in DISCOUNTS.iter().enumerate() {
        let email = format!("impresa{i}-{cig_n}@edili.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        let a = busta(
            &bando,
            "A",
            &[
                ("domanda.pdf", b"%PDF-1.4 domanda di partecipazione"),
                ("dgue.pdf", b"%PDF-1.4 DGUE"),
            ],
        );
        submit(&c, &bando, "A", &a);
        if envelopes.contains(&"B") {
            let b = busta(
                &bando,
                "B",
                &[("relazione-riservata.pdf", b"%PDF-1.4 relazione tecnica")],
            );
            submit(&c, &bando, "B", &b);
        }
        submit(&c, &bando, "C", &offer_c(d));
        bidders.push((uid, email));
    }
    Gara { bando, bidders }
}

/// Each custodian submits his own share of `kind` (on his own page: not this area's).
fn shares(w: &World, bando: &str, kind: &str) {
    for (email, (_, key)) in w.custodian_emails.iter().zip(&w.custodian_keys) {
        submit_share(&w.login(email), key, bando, kind);
    }
}

fn openings(w: &World, bando: &str) -> Vec<Value> {
    w.rup
        .get(&format!("/api/v1/bandi/{bando}/aperture"))
        .expect(200)
        .as_array()
        .expect("openings")
        .clone()
}

fn procedure(w: &World, bando: &str) -> Value {
    w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200)
}

fn count_events(w: &World, action: &str, busta: Option<&str>) -> usize {
    audit_events(w)
        .iter()
        .filter(|e| e["action"] == action)
        .filter(|e| busta.is_none_or(|b| e["details"]["busta"] == b))
        .count()
}

/// The supplier's receipts on the tender: (kind, envelope id, sha256).
fn receipts(w: &World, email: &str, bando: &str) -> Vec<(String, String, String)> {
    let bids = w
        .login(email)
        .get(&format!("/api/v1/bandi/{bando}/offerta"))
        .expect(200);
    bids[0]["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .filter(|e| e["superseded_at"].is_null())
        .map(|e| {
            (
                e["kind"].as_str().expect("kind").to_string(),
                e["envelope_id"].as_str().expect("id").to_string(),
                e["sha256"].as_str().expect("sha").to_string(),
            )
        })
        .collect()
}

fn post(b: &WebClient, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
    let mut all = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    b.post_form(path, &all)
}

/// A POST that succeeds: 303 to the page of its outcome, which is fetched.
#[track_caller]
fn acted(b: &WebClient, path: &str, csrf: &str, fields: &[(&str, &str)]) -> (String, Page) {
    let r = post(b, path, csrf, fields);
    assert_eq!(r.status, 303, "{path}: {}", r.text);
    let to = r.location.expect("location");
    let page = b.get(&to).expect(200);
    (to, page)
}

fn other_ente_rup(w: &World) -> WebClient {
    let admin = w.app.admin();
    let roma = roma_capitale(&admin);
    qualify(&admin, &roma);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    web(w, "rup@comune.roma.it")
}

/// The whole session and evaluation of a lowest-price tender with five bidders through the
/// portal's forms: the opening refused before its time, A opened once on a double click, C
/// refused before A and then opened, every bidder admitted, the economic phase with the
/// Allegato II.2 computation step by step, every exclusion the platform proposed confirmed
/// by the RUP with a reason, the requirements, the proposal and the award (once, on a double
/// click), effective at once; the art. 90 communications and the verbale.
#[test]
fn a_lowest_price_tender_with_five_bidders_goes_from_the_opening_to_an_effective_award_in_the_portal() {
    let mut w = world();
    let g = five_bidders(&w, 9_300_001, &["A", "C"]);
    let bando = g.bando.clone();
    let b = web(&w, RUP);

    // Before the deadline: when the session is, no button, nothing about who bid.
    let page = b.get(&opening(&bando)).expect(200);
    assert!(page.contains("id=\"seduta-futura\""), "{}", page.text);
    assert!(page.contains("05/06/2026 15:00"), "the session in Europe/Rome");
    assert!(!page.contains("id=\"apri-A\""));
    assert!(page.contains("id=\"ricevute-riservate\""));
    assert!(!page.contains("Operatore"), "no bidder's name before the deadline");
    let csrf = page.csrf();
    let early = post(&b, &format!("{}/A", opening(&bando)), &csrf, &[]);
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(early.contains("termine"), "{}", early.text);

    // After the deadline, before the session fixed at 15:00 Rome: still no opening.
    w.app.clock.set(at("2026-06-05T11:00:00Z"));
    w.relogin();
    let b = web(&w, RUP);
    let page = b.get(&opening(&bando)).expect(200);
    assert!(page.contains("id=\"seduta-futura\""));
    assert!(!page.contains("id=\"apri-A\""));
    let early = post(&b, &format!("{}/A", opening(&bando)), &page.csrf(), &[]);
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(early.contains("seduta di apertura"), "{}", early.text);
    assert!(openings(&w, &bando).is_empty());

    past_opening(&mut w, &bando);
    let b = web(&w, RUP);
    let page = b.get(&opening(&bando)).expect(200);
    assert!(!page.contains("id=\"seduta-futura\""));
    assert!(page.contains("0 di 2"), "{}", page.text);
    assert!(!page.contains("id=\"apri-A\""), "no button without the shares");
    // The bids received, each with its receipt's digest and time.
    for (_, email) in &g.bidders {
        for (_, _, sha) in receipts(&w, email, &bando) {
            assert!(page.contains(&sha), "receipt {sha} listed");
        }
    }
    shares(&w, &bando, "A");
    let page = b.get(&opening(&bando)).expect(200);
    assert!(page.contains("2 di 2"));
    assert!(page.contains("id=\"apri-A\""));
    assert!(!page.contains("id=\"apri-C\""), "C waits for A");
    let csrf = page.csrf();

    // C before A: the seal's order, in Italian, nothing opened.
    let c_first = post(&b, &format!("{}/C", opening(&bando)), &csrf, &[]);
    assert_eq!(c_first.status, 409, "{}", c_first.text);
    assert!(
        c_first.contains("Prima della busta C va aperta la busta A"),
        "{}",
        c_first.text
    );
    assert!(openings(&w, &bando).is_empty());

    // The double click on "Apri busta A": the same outcome page twice, one opening.
    let first = post(&b, &format!("{}/A", opening(&bando)), &csrf, &[]);
    let second = post(&b, &format!("{}/A", opening(&bando)), &csrf, &[]);
    assert_eq!((first.status, second.status), (303, 303), "{}", second.text);
    assert_eq!(first.location, second.location);
    let opened = openings(&w, &bando);
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["kind"], "A");
    assert_eq!(opened[0]["envelopes"].as_array().expect("envelopes").len(), 5);
    assert_eq!(count_events(&w, "bando.buste_aperte", Some("A")), 1);
    let page = b.get(first.location.as_deref().expect("location")).expect(200);
    assert!(page.contains("id=\"esito-apertura\""));
    // A's files are linked to the RUP; C's content is not on the page before its opening.
    let (_, email0) = &g.bidders[0];
    let mine = receipts(&w, email0, &bando);
    let (_, a_id, _) = mine.iter().find(|(k, _, _)| k == "A").expect("A");
    let (_, c_id, _) = mine.iter().find(|(k, _, _)| k == "C").expect("C");
    assert!(
        page.contains(&format!("/api/v1/buste/{a_id}/file/domanda.pdf")),
        "{}",
        page.text
    );
    assert!(!page.contains(&format!("/api/v1/buste/{c_id}/")));
    assert!(!page.contains("ribasso 10,500"), "no economic offer before C is opened");
    let download = b.api("GET", &format!("/api/v1/buste/{a_id}/file/domanda.pdf"), None, None);
    assert_eq!(download.status, 200, "the link works with the portal's session");

    // Admissions: all five admitted through the forms. An exclusion without reason is refused.
    let page = b.get(&evaluation(&bando)).expect(200);
    let csrf = page.csrf();
    for (uid, _) in &g.bidders {
        assert!(
            page.contains(&format!("/valutazione/ammissioni/{uid}")),
            "{}",
            page.text
        );
    }
    let (uid0, _) = &g.bidders[0];
    let refused = post(
        &b,
        &format!("{}/ammissioni/{uid0}", evaluation(&bando)),
        &csrf,
        &[("decisione", "escludi"), ("motivazione", " ")],
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.contains("id=\"errore-ammissione\""));
    assert!(refused.contains("motivazione"));
    for (uid, _) in &g.bidders {
        acted(
            &b,
            &format!("{}/ammissioni/{uid}", evaluation(&bando)),
            &csrf,
            &[("decisione", "ammetti")],
        );
    }
    let p = procedure(&w, &bando);
    assert_eq!(
        p["participants"]
            .as_array()
            .expect("participants")
            .iter()
            .filter(|x| x["status"] == "admitted")
            .count(),
        5,
        "{p}"
    );

    // Envelope C, then the economic phase, whose second click changes nothing.
    shares(&w, &bando, "C");
    let (_, page) = acted(&b, &format!("{}/C", opening(&bando)), &csrf, &[]);
    assert!(page.contains("ribasso 10,500 %"), "C's offers shown once opened");
    assert!(page.contains(&format!("/api/v1/buste/{c_id}/contenuto")));
    let first = post(&b, &format!("{}/economica", evaluation(&bando)), &csrf, &[]);
    let second = post(&b, &format!("{}/economica", evaluation(&bando)), &csrf, &[]);
    assert_eq!((first.status, second.status), (303, 303), "{}", second.text);
    assert_eq!(count_events(&w, "aggiudicazione.valutazione_economica", None), 1);
    let p = procedure(&w, &bando);
    assert_eq!(p["evaluation"]["anomaly_applies"], true, "{p}");
    let page = b.get(&evaluation(&bando)).expect(200);
    for step in ["passo-mean", "passo-threshold", "passo-excluded", "passo-sum"] {
        assert!(page.contains(step), "{step} missing: {}", page.text);
    }
    let threshold = p["evaluation"]["anomaly"]["report"]["threshold"]
        .as_str()
        .expect("threshold");
    assert!(
        page.contains(&threshold.replace('.', ",")),
        "the threshold as the engine computed it"
    );
    assert!(page.contains("id=\"graduatoria\""));

    // The proposal waits for the RUP's decision on every proposed exclusion.
    let pending: Vec<String> = p["exclusion_proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .filter(|x| x["decision"].is_null())
        .map(id)
        .collect();
    assert!(!pending.is_empty(), "the anomaly threshold excludes someone: {p}");
    let early = post(&b, &format!("{}/proposta", evaluation(&bando)), &csrf, &[]);
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(early.contains("id=\"errore-proposta\""));
    assert!(procedure(&w, &bando)["award"].is_null());
    for pid in &pending {
        assert!(page.contains(&format!("/valutazione/esclusioni/{pid}")));
        let no_reason = post(
            &b,
            &format!("{}/esclusioni/{pid}", evaluation(&bando)),
            &csrf,
            &[("decisione", "conferma"), ("motivazione", "")],
        );
        assert_eq!(no_reason.status, 422, "{}", no_reason.text);
        // A double click: decided once.
        for _ in 0..2 {
            acted(
                &b,
                &format!("{}/esclusioni/{pid}", evaluation(&bando)),
                &csrf,
                &[
                    ("decisione", "conferma"),
                    ("motivazione", "Verificato il calcolo della soglia"),
                ],
            );
        }
    }
    let p = procedure(&w, &bando);
    assert!(p["exclusion_proposals"]
        .as_array()
        .expect("proposals")
        .iter()
        .all(|x| x["decision"] == "confirmed" && x["decision_reason"] == "Verificato il calcolo della soglia"));

    // Proposal, then the award refused until the requirements are verified.
    acted(&b, &format!("{}/proposta", evaluation(&bando)), &csrf, &[]);
    assert_eq!(procedure(&w, &bando)["award"]["outcome"], "proposed");
    let early = post(&b, &format!("{}/aggiudicazione", evaluation(&bando)), &csrf, &[]);
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(early.contains("id=\"errore-aggiudicazione\""));
    assert_eq!(procedure(&w, &bando)["award"]["outcome"], "proposed");
    acted(
        &b,
        &format!("{}/requisiti", evaluation(&bando)),
        &csrf,
        &[
            ("requisito", "Attestazione SOA OG3 classifica III"),
            ("evidenza", "Casellario ANAC, FVOE"),
            ("esito", "soddisfatto"),
        ],
    );
    let p = procedure(&w, &bando);
    assert_eq!(p["requirements"][0]["evidence"], "Casellario ANAC, FVOE");

    // The double click on "Aggiudica": one award, the same outcome page.
    let first = post(&b, &format!("{}/aggiudicazione", evaluation(&bando)), &csrf, &[]);
    let second = post(&b, &format!("{}/aggiudicazione", evaluation(&bando)), &csrf, &[]);
    assert_eq!((first.status, second.status), (303, 303), "{}", second.text);
    assert_eq!(first.location, second.location);
    assert_eq!(count_events(&w, "aggiudicazione.aggiudicata", None), 1);
    let p = procedure(&w, &bando);
    assert_eq!(p["award"]["outcome"], "awarded", "{p}");
    assert!(p["award"]["effective_at"].is_string());
    let page = b.get(first.location.as_deref().expect("location")).expect(200);
    assert!(page.contains("Aggiudicata (efficace, art. 17 c.5)"));
    let winner = p["award"]["winner_id"].as_str().expect("winner");
    assert!(g.bidders.iter().any(|(u, _)| u == winner));
    match p["award"]["standstill_end"]["utc"].as_str() {
        Some(end) => assert!(
            page.contains(&journeys_rome(end)),
            "the standstill's end in Europe/Rome"
        ),
        None => assert!(page.contains("Nessun termine dilatorio"), "{}", page.text),
    }
    // Art. 90: every communication of the tender, with its delivery.
    let comms = w
        .rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    let comms = comms.as_array().expect("communications");
    assert!(comms.len() >= 5, "{comms:?}");
    for c in comms {
        let subject = c["subject"].as_str().expect("subject");
        assert!(
            page.contains(&subject.replace('\'', "&#x27;")) || page.contains(subject),
            "{subject}"
        );
    }
    assert_eq!(page.text.matches("class=\"recapito").count(), comms.len());
    assert!(page.contains(&format!("/api/v1/bandi/{bando}/verbale.pdf")));
    // The link downloads the issued report: nothing before the RUP issues it with the page's
    // form (GETs never issue); the double click issues once.
    let pdf = b.api("GET", &format!("/api/v1/bandi/{bando}/verbale.pdf"), None, None);
    assert_eq!(pdf.status, 409);
    let first = post(&b, &format!("{}/verbale", evaluation(&bando)), &csrf, &[]);
    let second = post(&b, &format!("{}/verbale", evaluation(&bando)), &csrf, &[]);
    assert_eq!((first.status, second.status), (303, 303), "{}", second.text);
    assert_eq!(count_events(&w, "documenti.verbale_aggiudicazione", None), 1);
    let pdf = b.api("GET", &format!("/api/v1/bandi/{bando}/verbale.pdf"), None, None);
    assert_eq!(pdf.status, 200);
    let access = w.rup.get(&format!("/api/v1/bandi/{bando}/accesso-atti")).expect(200);
    let n = access["envelopes"].as_array().expect("envelopes").len();
    let shown = page.text.split("id=\"accesso-atti\">").nth(1).unwrap_or_default();
    assert!(shown.starts_with("Titolo: personale dell"), "{shown}");
    assert!(shown.contains(&format!(": {n};")), "{n} envelopes accessible: {shown}");
}

/// `2026-07-22T08:00:00Z` as the page writes it in Europe/Rome.
fn journeys_rome(utc: &str) -> String {
    use chrono_tz::Europe::Rome;
    at(utc).with_timezone(&Rome).format("%d/%m/%Y %H:%M").to_string()
}

/// Whoever must not open, and the RUP who must not read what is not his: anonymous to the
/// login, a supplier and another ente's RUP refused (and nothing opened), a forged or missing
/// token refused; under the lowest price the RUP opens B in the session but never reads it.
#[test]
fn the_opening_refuses_outsiders_and_forged_forms_and_never_shows_b_to_the_rup_at_lowest_price() {
    let mut w = world();
    let g = five_bidders(&w, 9_300_002, &["A", "B", "C"]);
    let bando = g.bando.clone();
    past_opening(&mut w, &bando);
    shares(&w, &bando, "A");

    let anonymous = WebClient::new(&w.app.base_url);
    let r = anonymous.get(&opening(&bando));
    assert_eq!(r.status, 303);
    assert!(r.location.as_deref().is_some_and(|l| l.starts_with("/accedi")));
    let r = anonymous.get(&evaluation(&bando));
    assert_eq!(r.status, 303);
    let r = anonymous.post_form(&format!("{}/A", opening(&bando)), &[("_csrf", "x")]);
    assert_eq!(r.status, 303, "to the login before anything else");

    let (_, supplier_email) = &g.bidders[0];
    let s = web(&w, supplier_email);
    assert_eq!(s.get(&opening(&bando)).status, 403);
    assert_eq!(s.get(&evaluation(&bando)).status, 403);
    let csrf = s.get("/").csrf();
    assert_eq!(post(&s, &format!("{}/A", opening(&bando)), &csrf, &[]).status, 403);

    let roma = other_ente_rup(&w);
    assert_eq!(roma.get(&opening(&bando)).status, 403);
    assert_eq!(roma.get(&evaluation(&bando)).status, 403);
    let csrf = roma.get("/").csrf();
    let r = post(&roma, &format!("{}/A", opening(&bando)), &csrf, &[]);
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(openings(&w, &bando).is_empty(), "nobody opened anything");

    let b = web(&w, RUP);
    let page = b.get(&opening(&bando)).expect(200);
    let forged = b.post_form(&format!("{}/A", opening(&bando)), &[("_csrf", "0123456789abcdef")]);
    assert_eq!(forged.status, 403, "{}", forged.text);
    let missing = b.post_form(&format!("{}/A", opening(&bando)), &[]);
    assert_eq!(missing.status, 403, "{}", missing.text);
    assert!(openings(&w, &bando).is_empty());

    // Before any opening the page names no file, no content of any bidder.
    assert!(!page.contains("/api/v1/buste/"), "{}", page.text);
    let csrf = page.csrf();
    acted(&b, &format!("{}/A", opening(&bando)), &csrf, &[]);
    shares(&w, &bando, "B");
    let (_, page) = acted(&b, &format!("{}/B", opening(&bando)), &csrf, &[]);
    assert_eq!(openings(&w, &bando).len(), 2);
    // B is opened in the session, but at lowest price nobody reads it: not its files, not
    // their names, not a link; the domain's reason instead.
    let mine = receipts(&w, supplier_email, &bando);
    let (_, b_id, _) = mine.iter().find(|(k, _, _)| k == "B").expect("B");
    assert!(!page.contains(&format!("/api/v1/buste/{b_id}/")), "{}", page.text);
    assert!(!page.contains("relazione-riservata.pdf"));
    assert!(page.contains("minor prezzo la busta B non è valutata"), "{}", page.text);
    let direct = b.api("GET", &format!("/api/v1/buste/{b_id}/contenuto"), None, None);
    assert_eq!(direct.status, 403, "the API refuses it too");

    // The evaluation's forms refuse a forged token as well, and change nothing.
    let (uid0, _) = &g.bidders[0];
    let forged = b.post_form(
        &format!("{}/ammissioni/{uid0}", evaluation(&bando)),
        &[("_csrf", "forged"), ("decisione", "ammetti")],
    );
    assert_eq!(forged.status, 403);
    let forged = b.post_form(&format!("{}/aggiudicazione", evaluation(&bando)), &[]);
    assert_eq!(forged.status, 403);
    let p = procedure(&w, &bando);
    assert!(p["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .all(|x| x["status"] != "admitted"));
    // Another ente's RUP cannot act on the evaluation either.
    let r = post(
        &roma,
        &format!("{}/ammissioni/{uid0}", evaluation(&bando)),
        &roma.get("/").csrf(),
        &[("decisione", "ammetti")],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(count_events(&w, "aggiudicazione.ammissione", None), 0);
}

/// Above the EU threshold (no automatic exclusion, a standstill): a soccorso istruttorio
/// asked on the portal, answered by the bidder through the API and accepted by the RUP; the
/// art. 110 explanations asked of the best offer, answered and accepted; the award, with the
/// standstill's end in Europe/Rome as the workflow computed it.
#[test]
fn soccorso_art110_and_the_standstill_of_an_award_above_the_threshold_in_the_portal() {
    let mut w = world();
    let mut body = works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Nuovo polo scolastico", 9_300_003);
    body["base_amount"] = json!("6000000.00");
    body["anomaly_method"] = Value::Null;
    let bando = tender(&w, body);
    let mut bidders = Vec::new();
    for (i, d) in ["8.000", "9.500"].iter().enumerate() {
        let email = format!("scuola{i}@edili.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        submit(&c, &bando, "C", &offer_c(d));
        bidders.push((uid, email));
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    let b = web(&w, RUP);
    let page = b.get(&evaluation(&bando)).expect(200);
    let csrf = page.csrf();
    let (uid0, email0) = &bidders[0];
    let (uid1, email1) = &bidders[1];

    // Soccorso: out of range days refused by the workflow; then asked, answered, accepted.
    let refused = post(
        &b,
        &format!("{}/soccorsi", evaluation(&bando)),
        &csrf,
        &[
            ("offerente", uid0),
            ("richiesta", "Garanzia provvisoria"),
            ("giorni", "30"),
        ],
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.contains("id=\"errore-soccorso\""));
    assert!(procedure(&w, &bando)["soccorsi"]
        .as_array()
        .expect("soccorsi")
        .is_empty());
    acted(
        &b,
        &format!("{}/soccorsi", evaluation(&bando)),
        &csrf,
        &[
            ("offerente", uid0),
            ("richiesta", "Integrare la garanzia provvisoria"),
            ("giorni", "7"),
        ],
    );
    let sid = id(&procedure(&w, &bando)["soccorsi"][0]);
    w.login(email0)
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/soccorsi/{sid}/risposta"),
            &json!({ "answer": "Garanzia n. 4455 allegata" }),
        )
        .expect(200);
    let page = b.get(&evaluation(&bando)).expect(200);
    assert!(
        page.contains("Garanzia n. 4455 allegata"),
        "the bidder's answer as received"
    );
    let (_, page) = acted(
        &b,
        &format!("{}/soccorsi/{sid}/esito", evaluation(&bando)),
        &csrf,
        &[("esito", "accogli")],
    );
    assert!(page.contains("accolto"));
    let p = procedure(&w, &bando);
    assert_eq!(p["soccorsi"][0]["outcome"], "accepted", "{p}");
    acted(
        &b,
        &format!("{}/ammissioni/{uid1}", evaluation(&bando)),
        &csrf,
        &[("decisione", "ammetti")],
    );
    let p = procedure(&w, &bando);
    if p["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .any(|x| x["bidder_id"] == uid0.as_str() && x["status"] == "pending")
    {
        acted(
            &b,
            &format!("{}/ammissioni/{uid0}", evaluation(&bando)),
            &csrf,
            &[("decisione", "ammetti")],
        );
    }

    open(&w, &bando, "C");
    acted(&b, &format!("{}/economica", evaluation(&bando)), &csrf, &[]);
    let p = procedure(&w, &bando);
    assert_eq!(p["evaluation"]["anomaly_applies"], false, "{p}");
    let best = p["evaluation"]["ranking"][0]["bidder_id"]
        .as_str()
        .expect("best")
        .to_string();
    let best_email = if best == *uid0 { email0 } else { email1 };
    // Art. 110: asked of the best offer, answered, accepted.
    acted(
        &b,
        &format!("{}/art110", evaluation(&bando)),
        &csrf,
        &[
            ("offerente", &best),
            ("richiesta", "Giustificare il costo della manodopera"),
        ],
    );
    let aid = id(&procedure(&w, &bando)["art110"][0]);
    w.login(best_email)
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/art110/{aid}/risposta"),
            &json!({ "answer": "Contratto collettivo edile, tabelle ministeriali" }),
        )
        .expect(200);
    let page = b.get(&evaluation(&bando)).expect(200);
    assert!(page.contains("Contratto collettivo edile, tabelle ministeriali"));
    acted(
        &b,
        &format!("{}/art110/{aid}/esito", evaluation(&bando)),
        &csrf,
        &[("esito", "accogli")],
    );
    assert_eq!(procedure(&w, &bando)["art110"][0]["outcome"], "accepted");

    acted(&b, &format!("{}/proposta", evaluation(&bando)), &csrf, &[]);
    acted(
        &b,
        &format!("{}/requisiti", evaluation(&bando)),
        &csrf,
        &[
            ("requisito", "Attestazione SOA OG1 classifica VIII"),
            ("evidenza", "Casellario ANAC"),
            ("esito", "soddisfatto"),
        ],
    );
    let (_, page) = acted(&b, &format!("{}/aggiudicazione", evaluation(&bando)), &csrf, &[]);
    let p = procedure(&w, &bando);
    assert_eq!(p["award"]["outcome"], "awarded", "{p}");
    assert_eq!(p["award"]["winner_id"], best.as_str());
    let end = p["award"]["standstill_end"]["utc"]
        .as_str()
        .expect("a standstill above the threshold");
    let shown = page.text.split("id=\"fine-standstill\">").nth(1).unwrap_or_default();
    assert!(shown.starts_with(&journeys_rome(end)), "{end} in Europe/Rome: {shown}");
}

/// OEPV: the RUP opens B in the session but reads it not (art. 93: only the declared
/// commission does, and a declared commissioner's session page links B's files); after the
/// commission's technical phase (its own area, here through the API) C, the economic phase
/// with the technical, economic and total scores of each offer, and the award.
#[test]
fn under_oepv_only_the_declared_commission_reads_b_and_the_page_shows_the_scores() {
    let mut w = world();
    let admin = w.app.admin();
    let c2 = official(&admin, "ingegnere@comune.milano.it", "commission", &w.ente);
    let c3 = official(&admin, "agronomo@comune.milano.it", "commission", &w.ente);
    let c1 = w.custode.clone();
    let bando = tender(
        &w,
        journeys::browser::services_tender_body(&w, "Servizio di pulizia delle scuole", 9_300_004),
    );
    let mut bidders = Vec::new();
    for (i, d) in ["10", "20", "15"].iter().enumerate() {
        let email = format!("pulizie{i}@verde.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        let b = busta(&bando, "B", &[("relazione-tecnica.pdf", b"%PDF-1.4 relazione")]);
        submit(&c, &bando, "B", &b);
        submit(&c, &bando, "C", &offer_c(d));
        bidders.push(uid);
    }
    past_opening(&mut w, &bando);
    let path = format!("/api/v1/bandi/{bando}/valutazione/commissione");
    w.rup
        .post(&path, &json!({ "members": [c1, c2, c3], "president": c1 }))
        .expect(201);
    let b = web(&w, RUP);
    let csrf = b.get(&opening(&bando)).expect(200).csrf();
    shares(&w, &bando, "A");
    acted(&b, &format!("{}/A", opening(&bando)), &csrf, &[]);
    for uid in &bidders {
        acted(
            &b,
            &format!("{}/ammissioni/{uid}", evaluation(&bando)),
            &csrf,
            &[("decisione", "ammetti")],
        );
    }
    shares(&w, &bando, "B");
    let (_, page) = acted(&b, &format!("{}/B", opening(&bando)), &csrf, &[]);
    assert!(!page.contains("relazione-tecnica.pdf"), "{}", page.text);
    assert!(page.contains("art. 93"), "the domain's reason: {}", page.text);
    // C cannot be opened while the technical phase is open: no button, the reason instead.
    assert!(!page.contains("id=\"apri-C\""));

    let decl = format!("{path}/dichiarazione");
    let members = [
        "custode@comune.milano.it",
        "ingegnere@comune.milano.it",
        "agronomo@comune.milano.it",
    ];
    for m in members {
        w.login(m)
            .post(
                &decl,
                &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" }),
            )
            .expect(200);
    }
    let commissioner = web(&w, "ingegnere@comune.milano.it");
    let seen = commissioner.get(&opening(&bando)).expect(200);
    assert!(seen.contains("relazione-tecnica.pdf"), "{}", seen.text);
    assert!(seen.contains("/file/relazione-tecnica.pdf"));
    let still = b.get(&opening(&bando)).expect(200);
    assert!(!still.contains("relazione-tecnica.pdf"), "the RUP still does not");

    let coeff = format!("/api/v1/bandi/{bando}/valutazione/coefficienti");
    let t1 = ["0.8", "0.6", "0.5"];
    let t2 = ["0.5", "0.4", "0.3"];
    for m in members {
        let k = w.login(m);
        for (i, uid) in bidders.iter().enumerate() {
            k.post(
                &coeff,
                &json!({ "bidder_id": uid, "coefficients": { "T1": t1[i], "T2": t2[i] } }),
            )
            .expect(201);
        }
    }
    w.login(members[0])
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/tecnica/chiusura"),
            &json!({}),
        )
        .expect(200);
    shares(&w, &bando, "C");
    acted(&b, &format!("{}/C", opening(&bando)), &csrf, &[]);
    let (_, page) = acted(&b, &format!("{}/economica", evaluation(&bando)), &csrf, &[]);
    let p = procedure(&w, &bando);
    for line in p["evaluation"]["ranking"].as_array().expect("ranking") {
        for field in ["technical", "economic", "total"] {
            // Shown to three decimals (the API keeps the exact fraction the ranking used).
            let exact: rust_decimal::Decimal = line[field].as_str().expect("score").parse().expect("decimal");
            let v = exact
                .round_dp_with_strategy(3, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .normalize()
                .to_string()
                .replace('.', ",");
            assert!(page.contains(&format!("<td>{v}</td>")), "{field} {v}: {}", page.text);
        }
    }
    acted(&b, &format!("{}/proposta", evaluation(&bando)), &csrf, &[]);
    acted(
        &b,
        &format!("{}/requisiti", evaluation(&bando)),
        &csrf,
        &[
            ("requisito", "Iscrizione alla camera di commercio"),
            ("evidenza", "Visura camerale"),
            ("esito", "soddisfatto"),
        ],
    );
    acted(&b, &format!("{}/aggiudicazione", evaluation(&bando)), &csrf, &[]);
    assert_eq!(procedure(&w, &bando)["award"]["outcome"], "awarded");
}
