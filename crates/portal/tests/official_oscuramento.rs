//! The redaction pages (art. 36 c.3–5) over real HTTP: the RUP's `/ente/bandi/{id}/oscuramento`
//! (nothing before the deadline, to the RUP, an admin or an auditor; the requests after the
//! ranking; decisions with a reason, once; a ricorso after the award) and what the supplier's
//! `/fornitore/bandi/{id}/atti` gives: the redacted copy, never the accepted original, and the
//! decisions on its own requests.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::web::{Page, WebClient};

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn page_of(bando: &str) -> String {
    format!("/ente/bandi/{bando}/oscuramento")
}

fn post(b: &WebClient, path: &str, csrf: &str, fields: &[(&str, &str)]) -> Page {
    let mut all = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    b.post_form(path, &all)
}

#[test]
fn the_rup_decides_each_request_and_the_other_bidders_get_the_redacted_copy() {
    let mut w = world();
    official(&w.app.admin(), "revisore@comune.milano.it", "auditor", &w.ente);
    let (bando, bidders) = redaction_at_ranking(&mut w, 7_420_001, |w, bando| {
        // Before the deadline: the page says only that the requests are read after the
        // ranking, to the RUP, an admin and an auditor alike.
        for email in ["rup@comune.milano.it", "revisore@comune.milano.it"] {
            let p = web(w, email).get(&page_of(bando));
            assert_eq!(p.status, 200, "{}", p.text);
            assert!(p.contains("oscuramento-non-ancora"), "{}", p.text);
            assert!(!p.contains("progetto") && !p.contains("Segreto"), "{}", p.text);
        }
        let admin = WebClient::new(&w.app.base_url);
        admin.login(journeys::ADMIN_EMAIL, journeys::ADMIN_PASSWORD);
        let p = admin.get(&page_of(bando));
        assert!(!p.contains("progetto") && !p.contains("Segreto"), "{}", p.text);
    });
    let rup = web(&w, "rup@comune.milano.it");
    let p = rup.get(&page_of(&bando)).expect(200);
    assert!(
        p.contains("«progetto.pdf»") && p.contains("Segreto industriale coperto da brevetto"),
        "{}",
        p.text
    );
    assert_eq!(p.text.matches("class=\"decisione-oscuramento\"").count(), 2);
    // The valutazione page links here.
    let v = rup.get(&format!("/ente/bandi/{bando}/valutazione")).expect(200);
    assert!(v.contains(&format!("href=\"/ente/bandi/{bando}/oscuramento\"")));
    // The auditor reads, but has no form.
    let auditor = web(&w, "revisore@comune.milano.it").get(&page_of(&bando)).expect(200);
    assert!(auditor.contains("«listino.pdf»") && !auditor.contains("decisione-oscuramento"));
    // Outsiders: a bidder, another ente's RUP.
    let bidder = web(&w, &bidders[1].1).get(&page_of(&bando));
    assert!(bidder.status == 303 || bidder.status == 403, "{}", bidder.status);
    assert!(!bidder.contains("Segreto"));

    let list = w.rup.get(&format!("/api/v1/bandi/{bando}/oscuramento")).expect(200);
    let rid = |file: &str| {
        id(list
            .as_array()
            .expect("list")
            .iter()
            .find(|r| r["file"] == file)
            .expect("request"))
    };
    let (progetto, listino) = (rid("progetto.pdf"), rid("listino.pdf"));
    let csrf = p.csrf();
    let decide = |r: &str| format!("{}/{r}/decisione", page_of(&bando));
    // No reason: 422 with the domain's message on the page; nothing recorded.
    let r = post(
        &rup,
        &decide(&progetto),
        &csrf,
        &[("scelta", "accepted"), ("motivazione", " ")],
    );
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.contains("Indicare la motivazione"), "{}", r.text);
    // The double click decides once.
    for _ in 0..2 {
        let r = post(
            &rup,
            &decide(&progetto),
            &csrf,
            &[("scelta", "accepted"), ("motivazione", "comprovato dal brevetto")],
        );
        assert_eq!(r.status, 303, "{}", r.text);
    }
    let decided = audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == "aggiudicazione.oscuramento_deciso")
        .count();
    assert_eq!(decided, 1);
    // Another ente's RUP posting the same form is refused and records nothing.
    let admin = w.app.admin();
    let roma = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Roma Capitale", "codice_fiscale": "02438750586", "tipo": "comune",
                     "istat_code": "058091", "pec": "protocollo.gabinetto@pec.comune.roma.it" }),
        )
        .expect(201));
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    let roma_rup = web(&w, "rup@comune.roma.it");
    let other_page = roma_rup.get(&page_of(&bando));
    assert!(!other_page.contains("Segreto"), "{}", other_page.text);
    let token = roma_rup.get("/ente").csrf();
    let r = post(
        &roma_rup,
        &decide(&listino),
        &token,
        &[("scelta", "accepted"), ("motivazione", "x")],
    );
    assert!(r.status == 403 || r.status == 404, "{}", r.status);
    let r = post(
        &rup,
        &decide(&listino),
        &csrf,
        &[("scelta", "rejected"), ("motivazione", "prezzi non riservati")],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let after: Value = w.rup.get(&format!("/api/v1/bandi/{bando}/oscuramento")).expect(200);
    assert!(
        after.as_array().expect("list").iter().all(|r| r["state"] == "decided"),
        "{after}"
    );

    // Award.
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

    // Another bidder's art. 36 page: the winner's envelope file by file.
    let other = web(&w, &bidders[1].1)
        .get(&format!("/fornitore/bandi/{bando}/atti"))
        .expect(200);
    let base = format!("/api/v1/bandi/{bando}/accesso-atti/");
    assert!(other.contains("progetto-oscurato.pdf\" download"), "{}", other.text);
    for hidden in ["progetto.pdf", "listino.pdf", "brevetto.pdf", "oscuramento.json"] {
        assert!(
            !other.contains(&format!("/file/{hidden}\"")),
            "{hidden} linked: {}",
            other.text
        );
        assert!(
            other.contains(&format!("{hidden} (non consultabile)")),
            "{hidden}: {}",
            other.text
        );
    }
    // Its own envelopes stay whole downloads.
    assert!(other.contains(&base));
    // The winner: the decisions on its own requests.
    let mine = web(&w, &bidders[0].1)
        .get(&format!("/fornitore/bandi/{bando}/atti"))
        .expect(200);
    assert!(mine.contains("Le tue richieste di oscuramento"), "{}", mine.text);
    assert!(
        mine.contains("«progetto.pdf»: richiesta accolta") && mine.contains("«listino.pdf»: richiesta respinta"),
        "{}",
        mine.text
    );

    // After the award: no decision form, the ricorso form; recording one keeps the part hidden.
    let p = rup.get(&page_of(&bando)).expect(200);
    assert!(!p.contains("class=\"decisione-oscuramento\""));
    assert_eq!(p.text.matches("class=\"ricorso-oscuramento\"").count(), 2);
    let r = post(
        &rup,
        &format!("{}/{listino}/ricorso", page_of(&bando)),
        &p.csrf(),
        &[(
            "motivazione",
            "ricorso ex art. 116 c.p.a. notificato dall'aggiudicatario",
        )],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let p = rup.get(&r.location.expect("location")).expect(200);
    assert!(
        p.contains("richiesta respinta; ricorso notificato, in attesa dell&#39;esito"),
        "{}",
        p.text
    );
    assert!(p.contains("class=\"esito-ricorso\""));
}
