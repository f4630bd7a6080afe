//! Tenders with lots on the officials' evaluation pages (issue 13 point 4; art. 58: each lot
//! is evaluated and decided on its own). Without a lot the evaluation and commission pages list
//! the lots to choose from; with `?lotto=` every form acts on that lot only, checked through
//! the API lot by lot; a lot of another tender, another ente's RUP and a bidder of another lot
//! do not get through.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::web::{Page, WebClient};

const RUP: &str = "rup@comune.milano.it";

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn evaluation(bando: &str) -> String {
    format!("/ente/bandi/{bando}/valutazione")
}

fn commission(bando: &str) -> String {
    format!("/ente/bandi/{bando}/commissione")
}

fn in_lot(path: &str, lot: &str) -> String {
    format!("{path}?lotto={lot}")
}

fn post(b: &WebClient, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
    let mut all = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    b.post_form(path, &all)
}

/// A POST that succeeds: 303 back to the same lot's page with its outcome.
#[track_caller]
fn acted(b: &WebClient, path: &str, csrf: &str, fields: &[(&str, &str)], lot: &str) -> Page {
    let r = post(b, path, csrf, fields);
    assert_eq!(r.status, 303, "{path}: {}", r.text);
    let to = r.location.expect("location");
    assert!(to.contains(&format!("lotto={lot}")), "back to the same lot: {to}");
    assert!(to.contains("esito="), "{to}");
    b.get(&to).expect(200)
}

fn procedure(w: &World, bando: &str, lot: &str) -> Value {
    w.rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione?lotto={lot}"))
        .expect(200)
}

fn status_of(p: &Value, bidder: &str) -> Option<String> {
    p["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|x| x["bidder_id"] == bidder)
        .map(|x| x["status"].as_str().expect("status").to_string())
}

struct Lotti {
    bando: String,
    lot1: String,
    lot2: String,
    /// (user id, e-mail): 0, 1, 2 bid on lot 1; 0 and 3 on lot 2.
    bidders: Vec<(String, String)>,
}

/// A tender with two lots; envelopes per lot: A (plain), B when `with_b` (plain), C.
fn two_lots(w: &mut World, mut body: Value, with_b: bool, tag: &str) -> Lotti {
    body["lotti"] = json!([
        { "oggetto": "Lotto 1 - Scuole", "cig": cig(7_400_001), "base_amount": "150000.00", "safety_costs": "2000.00" },
        { "oggetto": "Lotto 2 - Uffici", "cig": cig(7_400_002), "base_amount": "100000.00", "safety_costs": "1000.00" }
    ]);
    // Art. 14 c.9: the tender's value is the sum of its lots'.
    body["base_amount"] = json!("250000.00");
    body["safety_costs"] = json!("3000.00");
    let bando = tender(w, body);
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    let lot1 = public["lotti"][0]["id"].as_str().expect("lot 1").to_string();
    let lot2 = public["lotti"][1]["id"].as_str().expect("lot 2").to_string();
    let mut bidders = Vec::new();
    for i in 0..4 {
        let email = format!("impresa{i}@lotti-{tag}.it");
        bidders.push((supplier(&w.app, &email), email));
    }
    let send = |i: usize, lot: &str, discount: &str| {
        let c = w.login(&bidders[i].1);
        let mut kinds: Vec<(&str, Vec<u8>)> = vec![("A", format!("domanda {i}").into_bytes())];
        if with_b {
            kinds.push(("B", format!("relazione tecnica {i}").into_bytes()));
        }
        kinds.push(("C", offer_c(discount)));
        for (kind, body) in kinds {
            c.post_raw(
                &format!("/api/v1/bandi/{bando}/lotti/{lot}/offerta/buste/{kind}"),
                "application/octet-stream",
                &body,
            )
            .expect(201);
        }
    };
    for (i, d) in ["10.500", "12.250", "11.000"].iter().enumerate() {
        send(i, &lot1, d);
    }
    send(0, &lot2, "9.000");
    send(3, &lot2, "13.000");
    past_opening(w, &bando);
    open(w, &bando, "A");
    Lotti {
        bando,
        lot1,
        lot2,
        bidders,
    }
}

#[test]
fn each_lot_of_a_tender_is_admitted_ranked_and_awarded_on_its_own_page() {
    let mut w = world();
    let body = works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione di scuole e uffici",
        7_400_000,
    );
    // Published before the deadline passes: a tender of the same ente without lots.
    let other = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Altro bando", 7_400_100),
    );
    let t = two_lots(&mut w, body, false, "lp");
    let (bando, lot1, lot2) = (t.bando.clone(), t.lot1.clone(), t.lot2.clone());
    let uid = |i: usize| t.bidders[i].0.clone();
    let b = web(&w, RUP);

    // The opening is per tender: every lot's bids, each with its lot.
    let page = b.get(&format!("/ente/bandi/{bando}/apertura")).expect(200);
    assert!(page.contains("<th scope=\"col\">Lotto</th>"), "{}", page.text);
    assert!(page.contains("<td>Lotto 2</td>"));

    // Without a lot: the lots to choose from, no form of any lot.
    let page = b.get(&evaluation(&bando)).expect(200);
    assert!(page.contains("id=\"scelta-lotto\""), "{}", page.text);
    assert!(page.contains(&in_lot(&evaluation(&bando), &lot1)));
    assert!(page.contains(&in_lot(&evaluation(&bando), &lot2)));
    assert!(!page.contains("/valutazione/ammissioni/"), "no form outside a lot");
    assert!(!page.contains("lot_required"));

    // Lot 1 lists its three bidders, lot 2 its two: openings are per tender, bids per lot.
    let p1 = b.get(&in_lot(&evaluation(&bando), &lot1)).expect(200);
    assert!(p1.contains("id=\"lotto-corrente\""));
    assert!(p1.contains("Lotto 1 - Scuole"));
    for i in 0..3 {
        assert!(
            p1.contains(&format!("/valutazione/ammissioni/{}?lotto={lot1}", uid(i))),
            "bidder {i} in lot 1: {}",
            p1.text
        );
    }
    assert!(
        !p1.contains(&format!("/valutazione/ammissioni/{}", uid(3))),
        "bidder 3 bid only on lot 2"
    );
    let p2 = b.get(&in_lot(&evaluation(&bando), &lot2)).expect(200);
    for i in [0, 3] {
        assert!(p2.contains(&format!("/valutazione/ammissioni/{}?lotto={lot2}", uid(i))));
    }
    assert!(!p2.contains(&format!("/valutazione/ammissioni/{}", uid(1))));

    // A lot of another tender, or no lot at all of this one: not found, nothing shown.
    assert_eq!(b.get(&in_lot(&evaluation(&other), &lot1)).status, 404);
    assert_eq!(b.get(&in_lot(&evaluation(&bando), &other)).status, 404);

    // Admitting bidder 0 in lot 1 admits him there only.
    let csrf = p1.csrf();
    let page = acted(
        &b,
        &in_lot(&format!("{}/ammissioni/{}", evaluation(&bando), uid(0)), &lot1),
        &csrf,
        &[("decisione", "ammetti")],
        &lot1,
    );
    assert!(page.contains("id=\"esito-atto\""));
    assert_eq!(
        status_of(&procedure(&w, &bando, &lot1), &uid(0)).as_deref(),
        Some("admitted")
    );
    assert_ne!(
        status_of(&procedure(&w, &bando, &lot2), &uid(0)).as_deref(),
        Some("admitted"),
        "lot 2 is decided on its own"
    );
    // A bidder of lot 2 only cannot be decided in lot 1 (the form is forged): refused, nothing done.
    let forged = post(
        &b,
        &in_lot(&format!("{}/ammissioni/{}", evaluation(&bando), uid(3)), &lot1),
        &csrf,
        &[("decisione", "ammetti")],
    );
    assert!(forged.status >= 400 && forged.status < 500, "{}", forged.status);
    assert_eq!(status_of(&procedure(&w, &bando, &lot1), &uid(3)), None);
    // The same act on a lot of another tender: not found, nothing done.
    let elsewhere = post(
        &b,
        &in_lot(&format!("{}/ammissioni/{}", evaluation(&bando), uid(1)), &other),
        &csrf,
        &[("decisione", "ammetti")],
    );
    assert_eq!(elsewhere.status, 404);
    assert_eq!(
        status_of(&procedure(&w, &bando, &lot1), &uid(1)).as_deref(),
        Some("pending")
    );
    // A forged token: 403, nothing done.
    let bad = post(
        &b,
        &in_lot(&format!("{}/ammissioni/{}", evaluation(&bando), uid(1)), &lot1),
        "forged",
        &[("decisione", "ammetti")],
    );
    assert_eq!(bad.status, 403);
    assert_eq!(
        status_of(&procedure(&w, &bando, &lot1), &uid(1)).as_deref(),
        Some("pending")
    );

    for i in [1, 2] {
        acted(
            &b,
            &in_lot(&format!("{}/ammissioni/{}", evaluation(&bando), uid(i)), &lot1),
            &csrf,
            &[("decisione", "ammetti")],
            &lot1,
        );
    }
    for i in [0, 3] {
        acted(
            &b,
            &in_lot(&format!("{}/ammissioni/{}", evaluation(&bando), uid(i)), &lot2),
            &csrf,
            &[
                ("decisione", "escludi"),
                ("motivazione", "Garanzia provvisoria assente per il lotto 2"),
            ],
            &lot2,
        );
    }
    let p = procedure(&w, &bando, &lot2);
    assert_eq!(status_of(&p, &uid(0)).as_deref(), Some("excluded"));
    assert_eq!(status_of(&p, &uid(3)).as_deref(), Some("excluded"));
    assert_eq!(
        status_of(&procedure(&w, &bando, &lot1), &uid(0)).as_deref(),
        Some("admitted")
    );

    // Lot 1: the economic phase on its own three offers, proposal, requirement, award.
    open(&w, &bando, "C");
    let page = b.get(&in_lot(&evaluation(&bando), &lot1)).expect(200);
    let csrf = page.csrf();
    let page = acted(
        &b,
        &in_lot(&format!("{}/economica", evaluation(&bando)), &lot1),
        &csrf,
        &[],
        &lot1,
    );
    assert!(page.contains("12,250"), "lot 1's best offer ranked: {}", page.text);
    assert!(!page.contains("13,000"), "lot 2's offer is not in lot 1's ranking");
    let e = &procedure(&w, &bando, &lot1)["evaluation"];
    assert_eq!(e["ranking"][0]["bidder_id"], uid(1).as_str(), "{e}");
    assert!(
        procedure(&w, &bando, &lot2)["evaluation"]["computed_at"].is_null(),
        "lot 2 untouched"
    );
    acted(
        &b,
        &in_lot(&format!("{}/proposta", evaluation(&bando)), &lot1),
        &csrf,
        &[],
        &lot1,
    );
    acted(
        &b,
        &in_lot(&format!("{}/requisiti", evaluation(&bando)), &lot1),
        &csrf,
        &[
            ("requisito", "Attestazione SOA OG1"),
            ("evidenza", "Casellario ANAC"),
            ("esito", "soddisfatto"),
        ],
        &lot1,
    );
    // The double click on "Aggiudica": one award.
    let path = in_lot(&format!("{}/aggiudicazione", evaluation(&bando)), &lot1);
    let first = post(&b, &path, &csrf, &[]);
    let second = post(&b, &path, &csrf, &[]);
    assert_eq!((first.status, second.status), (303, 303), "{}", second.text);
    let p1 = procedure(&w, &bando, &lot1);
    assert_eq!(p1["award"]["winner_id"], uid(1).as_str());
    assert_eq!(p1["lotto"]["state"], "awarded", "{}", p1["lotto"]);
    assert_eq!(
        audit_events(&w)
            .iter()
            .filter(|e| e["action"] == "aggiudicazione.aggiudicata")
            .count(),
        1,
        "the double click awards once"
    );
    assert_eq!(procedure(&w, &bando, &lot2)["lotto"]["state"], "active");
    // The chooser now says each lot's state; the lot's page links its own verbale.
    let page = b.get(&evaluation(&bando)).expect(200);
    assert!(page.contains("aggiudicato"), "{}", page.text);
    assert!(page.contains("in valutazione"));
    let page = b.get(&in_lot(&evaluation(&bando), &lot1)).expect(200);
    assert!(page.contains(&format!("/api/v1/bandi/{bando}/verbale.pdf?lotto={lot1}")));

    // Another ente's RUP: neither the list of lots nor a lot's page.
    let admin = w.app.admin();
    let roma = roma_capitale(&admin);
    qualify(&admin, &roma);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    let outsider = web(&w, "rup@comune.roma.it");
    assert_eq!(outsider.get(&evaluation(&bando)).status, 403);
    assert_eq!(outsider.get(&in_lot(&evaluation(&bando), &lot2)).status, 403);
    assert_eq!(outsider.get(&commission(&bando)).status, 403);
}

#[test]
fn the_commission_of_one_lot_is_appointed_declares_and_scores_on_that_lot_only() {
    let mut w = world();
    let admin = w.app.admin();
    let c2 = official(&admin, "ingegnere@comune.milano.it", "commission", &w.ente);
    let c3 = official(&admin, "agronoma@comune.milano.it", "commission", &w.ente);
    let c1 = w.custode.clone();
    let body = journeys::browser::services_tender_body(&w, "Pulizia di scuole e uffici", 7_400_200);
    let t = two_lots(&mut w, body, true, "oepv");
    let (bando, lot1, lot2) = (t.bando.clone(), t.lot1.clone(), t.lot2.clone());
    for (lot, who) in [(&lot1, vec![0, 1, 2]), (&lot2, vec![0, 3])] {
        for i in who {
            w.rup
                .post(
                    &format!("/api/v1/bandi/{bando}/valutazione/ammissioni?lotto={lot}"),
                    &json!({ "bidder_id": t.bidders[i].0, "decision": "admitted" }),
                )
                .expect(200);
        }
    }
    open(&w, &bando, "B");
    let b = web(&w, RUP);

    let page = b.get(&commission(&bando)).expect(200);
    assert!(page.contains("id=\"scelta-lotto\""), "{}", page.text);
    assert!(page.contains(&in_lot(&commission(&bando), &lot1)));
    let page = b.get(&in_lot(&commission(&bando), &lot1)).expect(200);
    assert!(page.contains("Lotto 1 - Scuole"));
    assert!(
        page.contains(&format!("/commissione/nomina?lotto={lot1}")),
        "{}",
        page.text
    );
    let csrf = page.csrf();
    acted(
        &b,
        &in_lot(&format!("{}/nomina", commission(&bando)), &lot1),
        &csrf,
        &[
            ("componente", c1.as_str()),
            ("componente", c2.as_str()),
            ("componente", c3.as_str()),
            ("presidente", c1.as_str()),
        ],
        &lot1,
    );
    assert_eq!(
        procedure(&w, &bando, &lot1)["commission"].as_array().expect("c").len(),
        3
    );
    assert!(
        procedure(&w, &bando, &lot2)["commission"]
            .as_array()
            .expect("c")
            .is_empty(),
        "lot 2 has no commission yet"
    );

    // Each member declares on lot 1's page, then scores a lot-1 offer there.
    for email in [
        "custode@comune.milano.it",
        "ingegnere@comune.milano.it",
        "agronoma@comune.milano.it",
    ] {
        let m = web(&w, email);
        let page = m.get(&in_lot(&commission(&bando), &lot1)).expect(200);
        acted(
            &m,
            &in_lot(&format!("{}/dichiarazione", commission(&bando)), &lot1),
            &page.csrf(),
            &[
                ("assenza", "si"),
                ("testo", "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)"),
            ],
            &lot1,
        );
    }
    let m = web(&w, "ingegnere@comune.milano.it");
    let page = m.get(&in_lot(&commission(&bando), &lot1)).expect(200);
    // Only lot 1's offers are there to score: bidder 3 bid on lot 2 only.
    assert!(
        page.contains(&format!("id=\"coefficienti-{}\"", t.bidders[1].0)),
        "{}",
        page.text
    );
    assert!(!page.contains(&format!("id=\"coefficienti-{}\"", t.bidders[3].0)));
    let page = acted(
        &m,
        &in_lot(&format!("{}/coefficienti", commission(&bando)), &lot1),
        &page.csrf(),
        &[("offerente", t.bidders[1].0.as_str()), ("c_T1", "0,8"), ("c_T2", "0,5")],
        &lot1,
    );
    assert!(page.contains("id=\"esito-commissione\""));
    let raw = procedure(&w, &bando, &lot1)["coefficients"].clone();
    assert!(
        raw.as_array()
            .expect("raw")
            .iter()
            .any(|c| c["bidder_id"] == t.bidders[1].0.as_str() && c["criterion"] == "T1"),
        "{raw}"
    );
    assert!(procedure(&w, &bando, &lot2)["coefficients"]
        .as_array()
        .expect("raw")
        .is_empty());
    // Lot 2's page: no commission, and a member of lot 1's cannot score there.
    let page = m.get(&in_lot(&commission(&bando), &lot2)).expect(200);
    assert!(!page.contains("id=\"coefficienti-"), "{}", page.text);
    let refused = post(
        &m,
        &in_lot(&format!("{}/coefficienti", commission(&bando)), &lot2),
        &page.csrf(),
        &[("offerente", t.bidders[3].0.as_str()), ("c_T1", "0,8"), ("c_T2", "0,5")],
    );
    assert!(refused.status >= 400 && refused.status < 500, "{}", refused.status);
    assert!(procedure(&w, &bando, &lot2)["coefficients"]
        .as_array()
        .expect("raw")
        .is_empty());
}
