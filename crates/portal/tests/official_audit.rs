//! The auditors' pages (issue 13 point 5): the ente's trail with its filters and the tender's
//! timeline, over real HTTP against a real server and database, on tenders run through the
//! API. The events are compared with the API's own trail; each filter has a case that would
//! fail if it were ignored; outsiders are refused.

use journeys::serde_json::{json, Value};
use journeys::tender_world::{self, admit, open, past_opening, submit, supplier, tender, world, World, PASSWORD};
use journeys::web::WebClient;

fn browser(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn about(e: &Value, bando: &str) -> bool {
    e["object_id"] == bando || e["details"]["bando_id"] == bando
}

/// Two tenders of the ente, the first with two bids opened and admitted; returns the world
/// (its auditor `revisore@comune.milano.it`), the tenders and the first bidder's id.
fn seeded() -> (World, String, String, String) {
    let mut w = world();
    let admin = w.app.admin();
    tender_world::official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    let first = tender(
        &w,
        tender_world::works_tender_body(
            &w.ente,
            [&w.rup_id, &w.custode],
            "Rifacimento dei marciapiedi",
            8_100_001,
        ),
    );
    let second = tender(
        &w,
        tender_world::works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Illuminazione del parco", 8_100_002),
    );
    let mut bidders = Vec::new();
    for (i, d) in ["11.250", "12.750"].iter().enumerate() {
        let email = format!("impresa{i}@marciapiedi.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        if i == 0 {
            // Art. 88: the asker is never shown, whoever filters on him.
            c.post(
                &format!("/api/v1/bandi/{first}/chiarimenti"),
                &json!({ "question": "Il sopralluogo è obbligatorio?" }),
            )
            .expect(201);
        }
        submit(&c, &first, "A", b"domanda e DGUE");
        submit(&c, &first, "C", &tender_world::offer_c(d));
        bidders.push(uid);
    }
    past_opening(&mut w, &first);
    open(&w, &first, "A");
    for b in &bidders {
        admit(&w, &first, b);
    }
    (w, first, second, bidders[0].clone())
}

fn shown(page: &journeys::web::Page, id: &Value) -> bool {
    page.contains(&format!("id=\"evento-{id}\""))
}

/// Every event of the tender, as the API lists it to the ente, is in the timeline, in order,
/// with its Italian words and stable code; none of the other tender's is. The trail filtered
/// on the tender shows the same; the period, actor and action filters each leave out events
/// the unfiltered trail shows.
#[test]
fn the_auditor_finds_every_step_in_the_timeline_and_the_filters_really_filter() {
    let (w, first, second, bidder) = seeded();
    // Drafts, so the trail has more than one page of 50.
    for n in 0..30 {
        let mut body = tender_world::works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Bozza", 8_200_000 + n);
        body["questions_deadline"] = json!("2026-07-01T12:00");
        body["submission_deadline"] = json!("2026-07-10T12:00");
        body["opening_at"] = json!("2026-07-10T15:00");
        w.rup.post("/api/v1/bandi", &body).expect(201);
    }
    let events = tender_world::audit_events(&w);
    let mine: Vec<&Value> = events.iter().filter(|e| about(e, &first)).collect();
    let theirs: Vec<&Value> = events.iter().filter(|e| about(e, &second)).collect();
    for step in [
        "bando.created",
        "bando.published",
        "bando.sigillo_conferma",
        "offerte.envelope_submitted",
        "bando.quota_apertura",
        "bando.buste_aperte",
        "aggiudicazione.ammissione",
    ] {
        assert!(mine.iter().any(|e| e["action"] == step), "the API lists {step}");
    }
    let auditor = browser(&w, "revisore@comune.milano.it");
    let line = auditor.get(&format!("/ente/bandi/{first}/cronologia")).expect(200);
    let mut last = 0;
    for e in &mine {
        let at = line
            .text
            .find(&format!("id=\"evento-{}\"", e["id"]))
            .unwrap_or_else(|| panic!("{} missing from the timeline", e["action"]));
        assert!(at > last, "events in order");
        last = at;
        assert!(line.contains(&format!("<code>{}</code>", e["action"].as_str().expect("action"))));
    }
    assert!(line.contains("Bando pubblicato") && line.contains("Busta presentata"));
    assert!(
        theirs.iter().all(|e| !shown(&line, &e["id"])),
        "the other tender's events stay out"
    );
    assert!(line.contains(&format!("href=\"/api/v1/bandi/{first}/verbale.pdf\"")));
    assert!(line.contains("href=\"/trasparenza/verifica\""));
    assert!(
        line.contains("/api/v1/log/proof/inclusion?leaf_hash="),
        "envelopes link their inclusion proof"
    );

    let trail = |q: &str| auditor.get(&format!("/ente/registro?ente={}&{q}", w.ente)).expect(200);
    // Tender: the first's events, not the second's.
    let by_tender = trail(&format!("bando={first}"));
    let on_page: Vec<&&Value> = mine.iter().take(50).collect();
    assert!(on_page.iter().all(|e| shown(&by_tender, &e["id"])));
    assert!(theirs.iter().all(|e| !shown(&by_tender, &e["id"])));
    // Action: only publications (both tenders').
    let published = trail("azione=bando.published");
    let publications: Vec<&Value> = events.iter().filter(|e| e["action"] == "bando.published").collect();
    assert_eq!(publications.len(), 2);
    assert!(publications.iter().all(|e| shown(&published, &e["id"])));
    assert!(events
        .iter()
        .filter(|e| e["action"] != "bando.published")
        .all(|e| !shown(&published, &e["id"])));
    // The page's CSV holds what the page lists: its link carries the filters, and the file has
    // exactly the two publications.
    assert!(
        by_tender.contains(&format!("audit-export?bando={first}")),
        "{}",
        by_tender.text
    );
    let link = format!("/api/v1/enti/{}/audit-export?action=bando.published", w.ente);
    assert!(published.contains(&link), "{}", published.text);
    let csv = auditor.get(&link).expect(200);
    assert_eq!(csv.text.lines().count(), 1 + publications.len(), "{}", csv.text);
    // Actor: the bidder's own submissions, nothing of the RUP's.
    let by_bidder = trail(&format!("attore={bidder}"));
    let submitted: Vec<&Value> = events
        .iter()
        .filter(|e| e["actor_user_id"] == bidder.as_str())
        .collect();
    assert!(!submitted.is_empty());
    assert!(submitted.iter().all(|e| shown(&by_bidder, &e["id"])));
    assert!(events
        .iter()
        .filter(|e| e["actor_user_id"] == w.rup_id.as_str())
        .all(|e| !shown(&by_bidder, &e["id"])));
    // The asker of a clarification stays unnamed: filtering on him does not find the question.
    let asked = events
        .iter()
        .find(|e| e["action"] == "chiarimento.asked")
        .expect("question");
    assert!(asked["actor_user_id"].is_null(), "the API blanks the asker");
    assert!(!shown(&by_bidder, &asked["id"]), "the actor filter reveals who asked");
    assert!(shown(&line, &asked["id"]), "the question is in the timeline, unnamed");
    // Period (days in Rome): 5 June holds the opening, not the creation of 4 May.
    let june = trail("dal=2026-06-05&al=2026-06-05");
    let opened = events
        .iter()
        .find(|e| e["action"] == "bando.buste_aperte")
        .expect("opening");
    let created = events
        .iter()
        .find(|e| e["action"] == "bando.created")
        .expect("creation");
    assert!(shown(&june, &opened["id"]));
    assert!(!shown(&june, &created["id"]));
    assert!(
        june.contains("audit-export?from=2026-06-04T22%3A00%3A00Z&#38;to=2026-06-05T22%3A00%3A00Z"),
        "the export carries the period in UTC: {}",
        june.text
    );
    let may = trail("dal=2026-05-04&al=2026-05-04");
    assert!(shown(&may, &created["id"]) && !shown(&may, &opened["id"]));
    // A period backwards, a malformed day: 422 with the field said, no events.
    let backwards = auditor.get(&format!("/ente/registro?ente={}&dal=2026-06-05&al=2026-06-01", w.ente));
    assert_eq!(backwards.status, 422);
    assert!(backwards.contains("id=\"errore-al\"") && !backwards.contains("id=\"evento-"));
    assert_eq!(
        auditor.get(&format!("/ente/registro?ente={}&dal=ieri", w.ente)).status,
        422
    );
    // Pages of 50: the second starts after the first's last event.
    let all = trail("");
    let next = {
        let at = all.text.find("id=\"pagina-successiva\"").expect("more than one page");
        let start = all.text[..at].rfind("href=\"").expect("href") + 6;
        all.text[start..at]
            .split('"')
            .next()
            .expect("link")
            .replace("&#38;", "&")
            .replace("&amp;", "&")
    };
    let second_page = auditor.get(&next).expect(200);
    let fifty_first = events
        .iter()
        .filter(|e| e["ente_id"] == w.ente.as_str())
        .nth(50)
        .expect("51 events");
    assert!(shown(&second_page, &fifty_first["id"]) && !shown(&all, &fifty_first["id"]));
}

/// The trail and the timeline are the auditors' (and admins'): the other ente's auditor, the
/// RUP of another ente, the ente's own RUP, a supplier are refused (403), anonymous goes to
/// the login page; the admin reads them.
#[test]
fn only_the_entes_auditors_and_the_admin_read_the_trail_and_the_timeline() {
    let (w, first, _, _) = seeded();
    let admin = w.app.admin();
    let other = tender_world::id(
        &admin
            .post(
                "/api/v1/enti",
                &json!({ "nome": "Comune di Bergamo", "codice_fiscale": "80034840167", "tipo": "comune",
                         "istat_code": "016024", "pec": "protocollo@cert.comune.bergamo.it" }),
            )
            .expect(201),
    );
    tender_world::official(&admin, "revisore@comune.bergamo.it", "auditor", &other);
    tender_world::official(&admin, "rup@comune.bergamo.it", "rup", &other);
    let timeline = format!("/ente/bandi/{first}/cronologia");
    let trail = format!("/ente/registro?ente={}", w.ente);
    for email in [
        "revisore@comune.bergamo.it",
        "rup@comune.bergamo.it",
        "rup@comune.milano.it",
        "impresa0@marciapiedi.it",
    ] {
        let b = browser(&w, email);
        assert_eq!(b.get(&timeline).status, 403, "{email} reads the timeline");
        let t = b.get(&trail);
        assert_eq!(t.status, 403, "{email} reads the trail");
        assert!(!t.contains("id=\"evento-"));
    }
    // The other ente's auditor reads his own (empty of this ente's events).
    let theirs = browser(&w, "revisore@comune.bergamo.it")
        .get("/ente/registro")
        .expect(200);
    assert!(!theirs.contains("Rifacimento dei marciapiedi"));
    let anonymous = WebClient::new(&w.app.base_url);
    for path in [&timeline, &trail] {
        let r = anonymous.get(path);
        assert_eq!(r.status, 303);
        assert!(r.location.as_deref().is_some_and(|l| l.starts_with("/accedi")));
    }
    let admin_web = WebClient::new(&w.app.base_url);
    admin_web.login(journeys::ADMIN_EMAIL, journeys::ADMIN_PASSWORD);
    assert!(admin_web.get(&timeline).expect(200).contains("Bando pubblicato"));
    assert!(admin_web.get(&trail).expect(200).contains("id=\"filtro-ente\""));
}
