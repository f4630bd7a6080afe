//! The commissione giudicatrice in the portal (issue 13 point 4): an OEPV tender seeded through
//! the API up to the opening of envelope B, then appointment, declarations, coefficients and
//! the president's closing on the pages, over real HTTP against a real server and database.
//! Every act's effect is checked through the API; each test also plays who must not get through.

use journeys::serde_json::Value;
use journeys::tender_world::{self, oepv_at_envelope_b, world, OepvAtB, World, PASSWORD};
use journeys::web::{Page, WebClient};

fn browser(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn page_of(bando: &str) -> String {
    format!("/ente/bandi/{bando}/commissione")
}

fn procedura(w: &World, bando: &str) -> Value {
    w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200)
}

fn count(w: &World, action: &str) -> usize {
    tender_world::audit_events(w)
        .iter()
        .filter(|e| e["action"] == action)
        .count()
}

fn appoint(b: &WebClient, bando: &str, members: &[&str], president: &str) -> Page {
    let csrf = b.get("/").expect(200).csrf();
    let mut fields = vec![("_csrf", csrf.as_str())];
    for m in members {
        fields.push(("componente", m));
    }
    fields.push(("presidente", president));
    b.post_form(&format!("{}/nomina", page_of(bando)), &fields)
}

fn declare(b: &WebClient, bando: &str) -> Page {
    let csrf = b.get("/").expect(200).csrf();
    b.post_form(
        &format!("{}/dichiarazione", page_of(bando)),
        &[
            ("_csrf", &csrf),
            ("assenza", "si"),
            ("testo", "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)"),
        ],
    )
}

fn coefficients(b: &WebClient, bando: &str, bidder: &str, t1: &str, t2: &str) -> Page {
    let csrf = b.get("/").expect(200).csrf();
    b.post_form(
        &format!("{}/coefficienti", page_of(bando)),
        &[("_csrf", &csrf), ("offerente", bidder), ("c_T1", t1), ("c_T2", t2)],
    )
}

fn close(b: &WebClient, bando: &str) -> Page {
    let csrf = b.get("/").expect(200).csrf();
    b.post_form(&format!("{}/chiusura", page_of(bando)), &[("_csrf", &csrf)])
}

fn seeded() -> (World, OepvAtB) {
    let mut w = world();
    let t = oepv_at_envelope_b(&mut w, 7_100_000, 3);
    (w, t)
}

/// The whole commission on the pages: the RUP appoints three of the ente's commission
/// officials (forged CSRF, a wrong size and a double click included), each declares, reads
/// the B envelopes and enters his own coefficients (out of range and unparsable values
/// refused, nothing stored; another's values never shown before the closing; a forged field
/// naming another commissioner ignored); the RUP cannot score; the president closes, twice.
#[test]
fn three_commissioners_declare_score_and_the_president_closes_on_the_pages() {
    let (w, t) = seeded();
    let bando = t.bando.as_str();
    let [(c1, e1), (c2, e2), (c3, e3)] = [0, 1, 2].map(|i| t.commissioners[i].clone());
    let (c1, c2, c3) = (c1.as_str(), c2.as_str(), c3.as_str());
    let rup = browser(&w, "rup@comune.milano.it");
    let page = rup.get(&page_of(bando)).expect(200);
    for (c, _) in &t.commissioners {
        assert!(page.contains(&format!("value=\"{c}\"")), "candidate {c}: {}", page.text);
    }
    assert!(page.contains("id=\"commissione-da-nominare\""));

    // A forged token: 403, nothing appointed.
    let forged = rup.post_form(
        &format!("{}/nomina", page_of(bando)),
        &[
            ("_csrf", "contraffatto"),
            ("componente", c1),
            ("componente", c2),
            ("componente", c3),
            ("presidente", c1),
        ],
    );
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert!(procedura(&w, bando)["commission"].as_array().expect("c").is_empty());
    // Two members: the domain's art. 93 refusal next to the form, nothing appointed.
    let two = appoint(&rup, bando, &[c1, c2], c1);
    assert_eq!(two.status, 422, "{}", two.text);
    assert!(two.contains("id=\"errore-nomina\"") && two.contains("numero dispari"));
    assert!(procedura(&w, bando)["commission"].as_array().expect("c").is_empty());
    let done = appoint(&rup, bando, &[c1, c2, c3], c1).expect(303);
    assert!(done.location.as_deref().is_some_and(|l| l.ends_with("esito=nominata")));
    // The double click: the same outcome, one appointment.
    appoint_again(&rup, bando, &[c1, c2, c3], c1);
    let p = procedura(&w, bando);
    assert_eq!(p["commission"].as_array().expect("c").len(), 3);
    assert!(p["commission"]
        .as_array()
        .expect("c")
        .iter()
        .any(|m| m["user_id"] == c1 && m["president"] == true));
    assert_eq!(count(&w, "aggiudicazione.commissione_nominata"), 1);

    // Declarations: refused without the statement, then each member's own.
    let k1 = browser(&w, &e1);
    let k2 = browser(&w, &e2);
    let k3 = browser(&w, &e3);
    let before = k1.get(&page_of(bando)).expect(200);
    assert!(before.contains("id=\"modulo-dichiarazione\""));
    assert!(before.contains("id=\"buste-b-non-disponibili\""), "{}", before.text);
    // An undeclared member cannot score.
    let early = coefficients(&k1, bando, &t.bidders[0].0, "0,5", "0,5");
    assert_eq!(early.status, 409, "{}", early.text);
    let csrf = before.csrf();
    let refused = k1.post_form(
        &format!("{}/dichiarazione", page_of(bando)),
        &[("_csrf", &csrf), ("testo", "conflitto con un offerente")],
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.contains("id=\"errore-assenza\""));
    assert!(procedura(&w, bando)["commission"]
        .as_array()
        .expect("c")
        .iter()
        .all(|m| m["declared_at"].is_null()));
    for k in [&k1, &k2, &k3] {
        declare(k, bando).expect(303);
    }
    declare(&k1, bando).expect(303);
    assert_eq!(count(&w, "aggiudicazione.dichiarazione_commissario"), 3);

    // Envelope B: each declared member sees the files, and the link serves them to him.
    let seen = k2.get(&page_of(bando)).expect(200);
    assert!(seen.contains("id=\"buste-b\""), "{}", seen.text);
    let link = {
        let at = seen.text.find("/api/v1/buste/").expect("a file link");
        let rest = &seen.text[at..];
        rest[..rest.find('"').expect("end of link")].to_string()
    };
    assert!(link.ends_with("/file/relazione-tecnica.pdf"), "{link}");
    let got = k2.api("GET", &link, None, None);
    assert_eq!(got.status, 200);
    assert!(got.text.starts_with("Relazione tecnica"));
    // The RUP is no member: no envelope B, no coefficients.
    assert!(!rup.get(&page_of(bando)).expect(200).contains("id=\"buste-b\""));
    let by_rup = coefficients(&rup, bando, &t.bidders[0].0, "0,5", "0,5");
    assert_eq!(by_rup.status, 403, "{}", by_rup.text);

    // Out of range, unparsable: 422 next to the field, nothing stored.
    let high = coefficients(&k1, bando, &t.bidders[0].0, "1,2", "0,5");
    assert_eq!(high.status, 422, "{}", high.text);
    assert!(high.contains(&format!("id=\"errore-coeff-{}-T1\"", t.bidders[0].0)));
    let word = coefficients(&k1, bando, &t.bidders[0].0, "molto", "0,5");
    assert_eq!(word.status, 422, "{}", word.text);
    let negative = coefficients(&k1, bando, &t.bidders[0].0, "0,5", "-0,1");
    assert_eq!(negative.status, 422, "{}", negative.text);
    assert!(procedura(&w, bando)["coefficients"].as_array().expect("raw").is_empty());

    // A field naming another commissioner changes nothing: the values are the visitor's.
    let csrf = k1.get(&page_of(bando)).expect(200).csrf();
    k1.post_form(
        &format!("{}/coefficienti", page_of(bando)),
        &[
            ("_csrf", &csrf),
            ("offerente", &t.bidders[0].0),
            ("commissioner_id", c2),
            ("commissario", c2),
            ("c_T1", "0,8"),
            ("c_T2", "0,6"),
        ],
    )
    .expect(303);
    let raw = procedura(&w, bando)["coefficients"].clone();
    assert_eq!(raw.as_array().expect("raw").len(), 2);
    assert!(raw.as_array().expect("raw").iter().all(|c| c["commissioner_id"] == c1));
    // The same values again (a double click): one entry each.
    coefficients(&k1, bando, &t.bidders[0].0, "0,8", "0,6").expect(303);
    assert_eq!(procedura(&w, bando)["coefficients"].as_array().expect("raw").len(), 2);
    // Another member's values are not on his page before the closing.
    coefficients(&k2, bando, &t.bidders[0].0, "0,35", "0,45").expect(303);
    let mine = k1.get(&page_of(bando)).expect(200);
    assert!(mine.contains("value=\"0,8\""), "{}", mine.text);
    assert!(
        ["0.35", "0,35", "0.45", "0,45"].iter().all(|v| !mine.contains(v)),
        "k2's values leak to k1"
    );

    // Closing before every coefficient: the domain's 409 next to the button.
    let early = close(&k1, bando);
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(early.contains("id=\"errore-chiusura\""));
    // A member who is not the president cannot close.
    assert_eq!(close(&k2, bando).status, 403);
    let values = [("0,8", "0,6"), ("0,6", "0,5"), ("0,4", "0,3")];
    for (i, (uid, _)) in t.bidders.iter().enumerate() {
        for k in [&k1, &k2, &k3] {
            coefficients(k, bando, uid, values[i].0, values[i].1).expect(303);
        }
    }
    close(&k1, bando).expect(303);
    let again = close(&k1, bando).expect(303);
    assert!(again.location.as_deref().is_some_and(|l| l.ends_with("esito=chiusa")));
    assert_eq!(count(&w, "aggiudicazione.valutazione_tecnica"), 1);
    let p = procedura(&w, bando);
    assert!(p["evaluation"]["technical_closed_at"].is_string());
    let first = p["evaluation"]["technical"]["report"]["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .find(|o| o["id"] == t.bidders[0].0.as_str())
        .expect("first offer")
        .clone();
    // Riparametrazione: the best average on each criterion takes the criterion's points.
    let total: rust_decimal::Decimal = first["total_before_second_reparametrization"]
        .as_str()
        .expect("decimal")
        .parse()
        .expect("decimal");
    assert_eq!(total, rust_decimal::Decimal::from(70));
    let after = k3.get(&page_of(bando)).expect(200);
    assert!(after.contains("id=\"punteggi-tecnici\""), "{}", after.text);
    assert!(after.contains("id=\"coefficienti-grezzi\""));
    // After the closing the coefficients are final.
    let late = coefficients(&k3, bando, &t.bidders[0].0, "0,1", "0,1");
    assert_eq!(late.status, 409, "{}", late.text);
}

fn appoint_again(b: &WebClient, bando: &str, members: &[&str], president: &str) {
    let again = appoint(b, bando, members, president);
    assert_eq!(again.status, 303, "{}", again.text);
    assert!(again.location.as_deref().is_some_and(|l| l.ends_with("esito=nominata")));
}

/// Outsiders: the RUP of another ente, a supplier, anonymous, an official of the ente who is
/// no member; none appoints, declares or scores, and the page of another ente's tender is 403.
#[test]
fn outsiders_never_appoint_declare_or_score() {
    let (w, t) = seeded();
    let bando = t.bando.as_str();
    let admin = w.app.admin();
    let other = tender_world::id(
        &admin
            .post(
                "/api/v1/enti",
                &journeys::serde_json::json!({ "nome": "Comune di Bergamo", "codice_fiscale": "80034840167", "tipo": "comune",
                                        "istat_code": "016024", "pec": "protocollo@cert.comune.bergamo.it" }),
            )
            .expect(201),
    );
    tender_world::official(&admin, "rup@comune.bergamo.it", "rup", &other);
    tender_world::official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    let (c1, c2, c3) = (
        t.commissioners[0].0.as_str(),
        t.commissioners[1].0.as_str(),
        t.commissioners[2].0.as_str(),
    );

    let stranger = browser(&w, "rup@comune.bergamo.it");
    assert_eq!(stranger.get(&page_of(bando)).status, 403);
    let csrf = stranger.get("/").csrf();
    let tried = stranger.post_form(
        &format!("{}/nomina", page_of(bando)),
        &[
            ("_csrf", &csrf),
            ("componente", c1),
            ("componente", c2),
            ("componente", c3),
            ("presidente", c1),
        ],
    );
    assert_eq!(tried.status, 403, "{}", tried.text);
    let supplier = browser(&w, &t.bidders[0].1);
    assert_eq!(supplier.get(&page_of(bando)).status, 403);
    let anonymous = WebClient::new(&w.app.base_url);
    let to_login = anonymous.get(&page_of(bando));
    assert_eq!(to_login.status, 303);
    assert!(to_login.location.as_deref().is_some_and(|l| l.starts_with("/accedi")));
    // A commissioner cannot appoint (only the RUP).
    let k1 = browser(&w, &t.commissioners[0].1);
    assert_eq!(appoint(&k1, bando, &[c1, c2, c3], c1).status, 403);
    assert!(procedura(&w, bando)["commission"].as_array().expect("c").is_empty());

    let rup = browser(&w, "rup@comune.milano.it");
    appoint(&rup, bando, &[c1, c2, c3], c1).expect(303);
    // The auditor of the ente sees the commission but is no member: no declaration, no score.
    let auditor = browser(&w, "revisore@comune.milano.it");
    let seen = auditor.get(&page_of(bando)).expect(200);
    assert!(seen.contains("id=\"tabella-componenti\"") && !seen.contains("id=\"modulo-dichiarazione\""));
    assert_eq!(declare(&auditor, bando).status, 403);
    for k in [&t.commissioners[0].1, &t.commissioners[1].1, &t.commissioners[2].1] {
        declare(&browser(&w, k), bando).expect(303);
    }
    assert_eq!(coefficients(&auditor, bando, &t.bidders[0].0, "0,5", "0,5").status, 403);
    assert_eq!(
        coefficients(&stranger, bando, &t.bidders[0].0, "0,5", "0,5").status,
        403
    );
    assert_eq!(
        coefficients(&supplier, bando, &t.bidders[0].0, "0,5", "0,5").status,
        403
    );
    assert_eq!(close(&auditor, bando).status, 403);
    let forged = k1.post_form(
        &format!("{}/coefficienti", page_of(bando)),
        &[
            ("_csrf", "x"),
            ("offerente", &t.bidders[0].0),
            ("c_T1", "0,5"),
            ("c_T2", "0,5"),
        ],
    );
    assert_eq!(forged.status, 403);
    assert!(procedura(&w, bando)["coefficients"].as_array().expect("raw").is_empty());
    assert_eq!(count(&w, "aggiudicazione.coefficienti"), 0);
}

/// Two closings at once (a double click that the browser sends twice, two tabs): the tender's
/// row lock makes the second wait and read the first's report, so both answers are the outcome
/// page, never a 500, and the technical phase is computed once.
#[test]
fn two_closings_at_once_compute_the_technical_phase_once() {
    let (w, t) = seeded();
    let bando = t.bando.as_str();
    let ids: Vec<&str> = t.commissioners.iter().map(|(id, _)| id.as_str()).collect();
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/commissione"),
            &journeys::serde_json::json!({ "members": ids, "president": ids[0] }),
        )
        .expect(201);
    for (_, email) in &t.commissioners {
        let k = w.login(email);
        k.post(
            &format!("/api/v1/bandi/{bando}/valutazione/commissione/dichiarazione"),
            &journeys::serde_json::json!({ "no_incompatibility": true, "text": "Nessuna incompatibilità" }),
        )
        .expect(200);
    }
    for (_, email) in &t.commissioners {
        let k = w.login(email);
        for (uid, _) in &t.bidders {
            k.post(
                &format!("/api/v1/bandi/{bando}/valutazione/coefficienti"),
                &journeys::serde_json::json!({ "bidder_id": uid, "coefficients": { "T1": "0.5", "T2": "0.5" } }),
            )
            .expect(201);
        }
    }
    let president = &t.commissioners[0].1;
    let tabs: Vec<WebClient> = (0..2).map(|_| browser(&w, president)).collect();
    let tokens: Vec<String> = tabs.iter().map(|b| b.get("/").expect(200).csrf()).collect();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let runs: Vec<_> = tabs
            .iter()
            .zip(&tokens)
            .map(|(b, csrf)| {
                s.spawn(move || {
                    b.post_form(&format!("{}/chiusura", page_of(bando)), &[("_csrf", csrf)])
                        .status
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().expect("thread")).collect()
    });
    assert_eq!(statuses, vec![303, 303]);
    assert_eq!(count(&w, "aggiudicazione.valutazione_tecnica"), 1);
    assert!(procedura(&w, bando)["evaluation"]["technical_closed_at"].is_string());
}
