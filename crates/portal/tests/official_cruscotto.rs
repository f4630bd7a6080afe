//! The official's dashboard `/ente` (issue 13 point 6) over real HTTP: what waits for each
//! person, by role, each item with its date in Europe/Rome and its link, computed by the
//! domain crates' reads; and nothing of another ente's tenders or of another person's acts.

use journeys::serde_json::json;
use journeys::tender_world::{self, at, id, past_opening, works_tender_body, world, World, PASSWORD};
use journeys::web::{Page, WebClient};

const DASHBOARD: &str = "/ente";

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn dashboard(w: &World, email: &str) -> Page {
    web(w, email).get(DASHBOARD).expect(200)
}

/// The `<section>` of one role, or "" when the page has none.
fn section<'a>(page: &'a Page, anchor: &str) -> &'a str {
    let start = format!("aria-labelledby=\"{anchor}\"");
    match page.text.find(&start) {
        None => "",
        Some(i) => {
            let rest = &page.text[i..];
            &rest[..rest.find("</section>").unwrap_or(rest.len())]
        }
    }
}

fn draft(w: &World, oggetto: &str, n: u64) -> String {
    let custodians = [w.rup_id.as_str(), w.custode.as_str()];
    id(&w
        .rup
        .post("/api/v1/bandi", &works_tender_body(&w.ente, custodians, oggetto, n))
        .expect(201))
}

fn published(w: &World, oggetto: &str, n: u64) -> String {
    let custodians = [w.rup_id.as_str(), w.custode.as_str()];
    tender_world::tender(w, works_tender_body(&w.ente, custodians, oggetto, n))
}

/// A second ente with its own RUP: he must see nothing of the first ente's tenders.
fn other_ente_rup(w: &World) -> String {
    let admin = w.app.admin();
    let ente = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Comune di Bergamo", "codice_fiscale": "80034840167", "tipo": "comune",
                     "istat_code": "016024", "pec": "protocollo@cert.comune.bergamo.it" }),
        )
        .expect(201));
    tender_world::official(&admin, "rup@comune.bergamo.it", "rup", &ente);
    "rup@comune.bergamo.it".to_string()
}

/// The RUP: his draft to complete (linked to its edit page), a published tender whose
/// deadline is near (with the time left), its unanswered question; past the opening time,
/// the envelope to open. The other ente's RUP sees none of it; a supplier gets 403 and an
/// anonymous visitor the login.
#[test]
fn cruscotto_the_rup_sees_his_drafts_deadlines_questions_and_the_opening_due() {
    let mut w = world();
    let bozza = draft(&w, "Manutenzione strade 2026", 1);
    let gara = published(&w, "Rifacimento piazza del Duomo", 2);
    tender_world::supplier(&w.app, "curioso@impresa.it");
    w.login("curioso@impresa.it")
        .post(
            &format!("/api/v1/bandi/{gara}/chiarimenti"),
            &json!({ "question": "Il sopralluogo è obbligatorio?" }),
        )
        .expect(201);

    let page = dashboard(&w, "rup@comune.milano.it");
    let rup = section(&page, "attese-rup");
    assert!(rup.contains("Bozza da completare"), "{}", page.text);
    assert!(rup.contains(&format!("href=\"/ente/bandi/{bozza}/modifica\"")));
    assert!(rup.contains("Manutenzione strade 2026"));
    assert!(rup.contains("1 chiarimento senza risposta"), "{rup}");
    assert!(rup.contains(&format!("href=\"/ente/bandi/{gara}/chiarimenti\"")));
    assert!(
        !rup.contains("Termine di presentazione delle offerte vicino"),
        "a month to go is not near"
    );
    // The questions' deadline, 25 May 2026 12:00 in Rome (summer time).
    assert!(rup.contains("datetime=\"2026-05-25T12:00:00+02:00\""), "{rup}");
    assert!(rup.contains("25/05/2026 12:00"));

    // Four days before the deadline it is near.
    w.app.clock.set(at("2026-06-01T10:00:00Z"));
    w.relogin();
    let page = dashboard(&w, "rup@comune.milano.it");
    let rup = section(&page, "attese-rup");
    assert!(
        rup.contains("Termine di presentazione delle offerte vicino: mancano 4 giorni"),
        "{rup}"
    );
    assert!(rup.contains(&format!("href=\"/ente/bandi/{gara}\"")));
    assert!(rup.contains("datetime=\"2026-06-05T12:00:00+02:00\""));

    // The other ente's RUP: nothing of this ente.
    let other = other_ente_rup(&w);
    let theirs = dashboard(&w, &other);
    assert!(theirs.contains("id=\"nessuna-attesa\""), "{}", theirs.text);
    assert!(!theirs.contains(&gara) && !theirs.contains(&bozza));
    assert!(!theirs.contains("Rifacimento piazza del Duomo"));

    // Past the opening time: the envelope A to open, at the session's time.
    past_opening(&mut w, &gara);
    let page = dashboard(&w, "rup@comune.milano.it");
    let rup = section(&page, "attese-rup");
    assert!(rup.contains("Seduta di apertura: aprire la busta A"), "{rup}");
    assert!(rup.contains(&format!("href=\"/ente/bandi/{gara}/apertura\"")));
    assert!(rup.contains("datetime=\"2026-06-05T15:00:00+02:00\""));
    assert!(
        !rup.contains("chiarimento senza risposta"),
        "questions matter while published"
    );

    // Not an official: 403; nobody: the login.
    let supplier = web(&w, "curioso@impresa.it");
    assert_eq!(supplier.get(DASHBOARD).status, 403);
    let anonymous = WebClient::new(&w.app.base_url).get(DASHBOARD);
    assert_eq!(anonymous.status, 303);
    assert!(anonymous.location.as_deref().is_some_and(|l| l.starts_with("/accedi")));
}

/// The custodians: a published tender whose ceremony has not started asks each of them for
/// his transport key; once one registered his, only the other is asked. After the deadline,
/// at the opening session, each is asked for his share of envelope A, until he gives it.
#[test]
fn cruscotto_each_custodian_sees_his_own_round_and_his_share() {
    let mut w = world();
    let custodians = [w.rup_id.as_str(), w.custode.as_str()];
    let bando = id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &works_tender_body(&w.ente, custodians, "Scuola media Rodari", 3),
        )
        .expect(201));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    for email in ["rup@comune.milano.it", "custode@comune.milano.it"] {
        let page = dashboard(&w, email);
        let mine = section(&page, "attese-custode");
        assert!(
            mine.contains("registrare la propria chiave di trasporto"),
            "{email}: {}",
            page.text
        );
        assert!(mine.contains(&format!("href=\"/ente/bandi/{bando}/custodia\"")));
        assert!(
            mine.contains("datetime=\"2026-06-05T12:00:00+02:00\""),
            "the deadline it must end by"
        );
    }
    let (_, key) = &w.custodian_keys[1];
    w.login("custode@comune.milano.it")
        .post(
            &format!("/api/v1/bandi/{bando}/sigillo/custodi"),
            &json!({ "age_key": key.to_public().to_string() }),
        )
        .expect(201);
    assert_eq!(
        section(&dashboard(&w, "custode@comune.milano.it"), "attese-custode"),
        ""
    );
    assert!(section(&dashboard(&w, "rup@comune.milano.it"), "attese-custode").contains("chiave di trasporto"));

    // A sealed tender at its opening: each custodian's share of A, until given.
    let gara = published(&w, "Palestra comunale", 4);
    past_opening(&mut w, &gara);
    for email in ["rup@comune.milano.it", "custode@comune.milano.it"] {
        let mine = dashboard(&w, email);
        let mine = section(&mine, "attese-custode");
        assert!(
            mine.contains("Presentare la propria quota per aprire la busta A"),
            "{email}: {mine}"
        );
        assert!(mine.contains(&format!("href=\"/ente/bandi/{gara}/custodia\"")));
    }
    let (_, key) = &w.custodian_keys[1];
    tender_world::submit_share(&w.login("custode@comune.milano.it"), key, &gara, "A");
    let custode = dashboard(&w, "custode@comune.milano.it");
    assert!(
        !section(&custode, "attese-custode").contains("Palestra comunale"),
        "{}",
        custode.text
    );
    assert!(section(&dashboard(&w, "rup@comune.milano.it"), "attese-custode").contains("Palestra comunale"));
}

/// The commission: appointed on an OEPV tender after the deadline, the member is asked for
/// his declaration (art. 93 c.5), linked to the commission's page; the RUP, not a member,
/// is not; once declared, the request is gone (envelope B is not open yet).
#[test]
fn cruscotto_a_commissioner_is_asked_for_his_declaration_and_nobody_else() {
    let mut w = world();
    let body = journeys::browser::services_tender_body(&w, "Pulizia uffici comunali", 5);
    let gara = tender_world::tender(&w, body);
    past_opening(&mut w, &gara);
    w.rup
        .post(
            &format!("/api/v1/bandi/{gara}/valutazione/commissione"),
            &json!({ "members": [w.custode], "president": w.custode }),
        )
        .expect(201);
    let page = dashboard(&w, "custode@comune.milano.it");
    let mine = section(&page, "attese-commissione");
    assert!(
        mine.contains("Rendere la dichiarazione di assenza di incompatibilità"),
        "{}",
        page.text
    );
    assert!(mine.contains(&format!("href=\"/ente/bandi/{gara}/commissione\"")));
    assert_eq!(
        section(&dashboard(&w, "rup@comune.milano.it"), "attese-commissione"),
        ""
    );
    w.login("custode@comune.milano.it")
        .post(
            &format!("/api/v1/bandi/{gara}/valutazione/commissione/dichiarazione"),
            &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" }),
        )
        .expect(200);
    assert_eq!(
        section(&dashboard(&w, "custode@comune.milano.it"), "attese-commissione"),
        ""
    );
}

/// Dates in Europe/Rome across the change to summer time (29 March 2026, 01:00Z): a draft
/// written at 00:30Z reads 01:30 (+01:00), one written at 01:30Z reads 03:30 (+02:00).
#[test]
fn cruscotto_dates_are_in_rome_across_the_change_to_summer_time() {
    let mut w = world();
    w.app.clock.set(at("2026-03-29T00:30:00Z"));
    w.relogin();
    draft(&w, "Bozza d'inverno", 6);
    w.app.clock.set(at("2026-03-29T01:30:00Z"));
    w.relogin();
    draft(&w, "Bozza d'estate", 7);
    let page = dashboard(&w, "rup@comune.milano.it");
    let rup = section(&page, "attese-rup");
    assert!(
        rup.contains("datetime=\"2026-03-29T01:30:00+01:00\">29/03/2026 01:30</time>"),
        "{rup}"
    );
    assert!(
        rup.contains("datetime=\"2026-03-29T03:30:00+02:00\">29/03/2026 03:30</time>"),
        "{rup}"
    );
    // Oldest first within a role.
    // (askama writes the apostrophe as &#39;)
    let winter = rup.find("Bozza d&#39;inverno");
    let summer = rup.find("Bozza d&#39;estate");
    assert!(winter.is_some() && winter < summer, "{rup}");
}

/// An official with nothing to do reads so, in Italian.
#[test]
fn cruscotto_an_official_with_nothing_waiting_reads_so() {
    let w = world();
    let page = dashboard(&w, "custode@comune.milano.it");
    assert!(page.contains("id=\"nessuna-attesa\""));
    assert!(page.contains("Nessuna attività in attesa"));
}

/// The RUP is led through the award one step at a time (the proposal once the ranking is
/// computed, the requirements once proposed, the award once they are verified), each linked
/// to the evaluation page; once awarded, the ente's auditor finds it among the recent
/// awards (to its timeline) and the RUP has nothing left on it.
#[test]
fn cruscotto_the_rup_is_led_to_the_award_and_the_auditor_sees_it_awarded() {
    let mut w = world();
    tender_world::official(&w.app.admin(), "revisore@comune.milano.it", "auditor", &w.ente);
    let gara = published(&w, "Asfaltatura via Manzoni", 8);
    let bidder = tender_world::supplier(&w.app, "asfalti@impresa.it");
    let c = w.login("asfalti@impresa.it");
    tender_world::submit(&c, &gara, "A", b"DGUE e domanda");
    tender_world::submit(&c, &gara, "C", &tender_world::offer_c("12.500"));
    past_opening(&mut w, &gara);
    tender_world::open(&w, &gara, "A");
    tender_world::admit(&w, &gara, &bidder);
    tender_world::open(&w, &gara, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{gara}/valutazione/economica"), &json!({}))
        .expect(200);
    let evaluation = format!("href=\"/ente/bandi/{gara}/valutazione\"");
    let step = |w: &World| section(&dashboard(w, "rup@comune.milano.it"), "attese-rup").to_string();
    let now = step(&w);
    assert!(now.contains("formulare la proposta di aggiudicazione"), "{now}");
    assert!(now.contains(&evaluation));
    w.rup
        .post(&format!("/api/v1/bandi/{gara}/valutazione/proposta"), &json!({}))
        .expect(200);
    let now = step(&w);
    assert!(
        now.contains("Verificare i requisiti dell&#39;offerente proposto"),
        "{now}"
    );
    assert!(!now.contains("formulare la proposta"));
    w.rup
        .post(
            &format!("/api/v1/bandi/{gara}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA OG3", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let now = step(&w);
    assert!(
        now.contains("Requisiti verificati: disporre l&#39;aggiudicazione"),
        "{now}"
    );
    // Before the award the auditor has nothing to look at.
    assert_eq!(
        section(&dashboard(&w, "revisore@comune.milano.it"), "attese-revisore"),
        ""
    );
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{gara}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "awarded");
    assert!(
        !step(&w).contains("Asfaltatura via Manzoni"),
        "nothing left for the RUP (no standstill below the threshold)"
    );
    let page = dashboard(&w, "revisore@comune.milano.it");
    let theirs = section(&page, "attese-revisore");
    assert!(theirs.contains("Gara aggiudicata di recente"), "{}", page.text);
    assert!(theirs.contains(&format!("href=\"/ente/bandi/{gara}/cronologia\"")));
    assert!(theirs.contains("datetime=\"2026-06-05T15:30:00+02:00\""), "{theirs}");
    // The auditor is not asked for the RUP's steps, nor the RUP for the auditor's.
    assert_eq!(section(&page, "attese-rup"), "");
    assert_eq!(section(&dashboard(&w, "rup@comune.milano.it"), "attese-revisore"), "");
}

/// The supplier's `/fornitore` lists what waits for it in the tenders it bid in: the deadline
/// while the tender is open, the confirmation a rettifica asks for, then, in the evaluation,
/// the soccorso istruttorio to answer with its term, each linked to the tender's bid page. A
/// supplier that did not bid sees none of it.
#[test]
fn cruscotto_the_supplier_sees_its_deadline_rettifica_and_soccorso_to_answer() {
    let mut w = world();
    let gara = published(&w, "Illuminazione pubblica", 9);
    let bidder = tender_world::supplier(&w.app, "luce@impresa.it");
    tender_world::supplier(&w.app, "spettatore@impresa.it");
    let c = w.login("luce@impresa.it");
    tender_world::submit(&c, &gara, "A", b"DGUE e domanda");
    tender_world::submit(&c, &gara, "C", &tender_world::offer_c("10.000"));
    let mine = |w: &World| web(w, "luce@impresa.it").get("/fornitore").expect(200);
    let page = mine(&w);
    assert!(
        page.contains("Termine per presentare o modificare l&#39;offerta: mancano"),
        "{}",
        page.text
    );
    assert!(page.contains(&format!("href=\"/bandi/{gara}/offerta\"")));
    assert!(page.contains("datetime=\"2026-06-05T12:00:00+02:00\""));
    let other = web(&w, "spettatore@impresa.it").get("/fornitore").expect(200);
    assert!(other.contains("id=\"nessuna-attesa\""), "{}", other.text);
    assert!(!other.contains("Illuminazione pubblica"));

    // A rettifica published after the bid (the test clock is frozen: move it on).
    w.app.clock.set(at("2026-05-04T09:00:00Z"));
    w.relogin();
    w.rup
        .post(
            &format!("/api/v1/bandi/{gara}/rettifiche"),
            &json!({ "reason": "Proroga del termine", "submission_deadline": "2026-06-12T12:00", "opening_at": "2026-06-12T15:00" }),
        )
        .expect(200);
    let page = mine(&w);
    assert!(
        page.contains("Rettifica del bando pubblicata: confermare l&#39;offerta"),
        "{}",
        page.text
    );
    assert!(page.contains("datetime=\"2026-06-12T12:00:00+02:00\""));
    w.login("luce@impresa.it")
        .post(&format!("/api/v1/bandi/{gara}/offerta/conferma"), &json!({}))
        .expect(200);
    assert!(!mine(&w).contains("Rettifica del bando pubblicata"));

    w.app.clock.set(at("2026-06-12T13:30:00Z"));
    w.relogin();
    tender_world::wait_for_state(&w.rup, &gara, "opening");
    tender_world::open(&w, &gara, "A");
    w.rup
        .post(
            &format!("/api/v1/bandi/{gara}/valutazione/soccorsi"),
            &json!({ "bidder_id": bidder, "request": "Integrare la garanzia provvisoria", "days": 5 }),
        )
        .expect(201);
    let page = mine(&w);
    assert!(
        page.contains("Soccorso istruttorio: rispondere alla richiesta"),
        "{}",
        page.text
    );
    assert!(!page.contains("Termine per presentare"), "the deadline is past");
    assert!(!web(&w, "spettatore@impresa.it")
        .get("/fornitore")
        .expect(200)
        .contains("Soccorso istruttorio"));
}
