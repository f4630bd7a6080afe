//! The supplier's art. 36 page (`/fornitore/bandi/{id}/atti`) over real HTTP: refused before
//! the award with the domain's message, after a lowest-price award the bidder's envelopes
//! linked to the API's logged download; a supplier that did not bid, the RUP and anonymous
//! kept out.

use journeys::serde_json::json;
use journeys::tender_world::*;
use journeys::web::WebClient;

const DISCOUNTS: [&str; 3] = ["10.500", "12.250", "14.750"];

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn atti(bando: &str) -> String {
    format!("/fornitore/bandi/{bando}/atti")
}

/// Every `href` on the page that points to the API's art. 36 download.
fn download_links(text: &str, bando: &str) -> Vec<String> {
    let prefix = format!("href=\"/api/v1/bandi/{bando}/accesso-atti/");
    text.match_indices(&prefix)
        .map(|(i, _)| {
            let start = i + "href=\"".len();
            let end = start + text[start..].find('"').expect("closing quote");
            text[start..end].to_string()
        })
        .collect()
}

#[test]
fn the_art36_page_waits_for_the_award_then_links_the_winners_offer_and_keeps_outsiders_out() {
    let mut w = world();
    let bando = tender(
        &w,
        works_tender_body(
            &w.ente,
            [&w.rup_id, &w.custode],
            "Rifacimento dei marciapiedi di via Padova",
            7_360_001,
        ),
    );
    let mut bidders = Vec::new();
    for (i, d) in DISCOUNTS.iter().enumerate() {
        let email = format!("atti{i}@edili.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", format!("DGUE e domanda dell'impresa {i}").as_bytes());
        submit(&c, &bando, "C", &offer_c(d));
        bidders.push((uid, email));
    }
    supplier(&w.app, "estranea@edili.it");
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    for (uid, _) in &bidders {
        admit(&w, &bando, uid);
    }
    open(&w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);

    // Before the award: the domain's refusal, in Italian, with its 409; nothing linked.
    let last = web(&w, &bidders[0].1);
    let early = last.get(&atti(&bando));
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(early.contains("accessibili solo dopo l"), "{}", early.text);
    assert!(early.contains("HTTP 409"));
    assert!(download_links(&early.text, &bando).is_empty());

    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    let winner = p["award"]["winner_id"].as_str().expect("winner").to_string();
    assert_eq!(winner, bidders[2].0, "the highest discount wins");
    for (requirement, evidence) in [
        ("Attestazione SOA OG3 classifica II", "Casellario ANAC"),
        ("Assenza di cause di esclusione (artt. 94-95)", "FVOE, esito regolare"),
    ] {
        w.rup
            .post(
                &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
                &json!({ "requirement": requirement, "evidence": evidence, "satisfied": true }),
            )
            .expect(201);
    }
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "awarded");

    // After it: the last in the ranking sees what the API grants it, each envelope linked.
    let last = web(&w, &bidders[0].1);
    let api = w
        .login(&bidders[0].1)
        .get(&format!("/api/v1/bandi/{bando}/accesso-atti"))
        .expect(200);
    let granted = api["envelopes"].as_array().expect("envelopes");
    // Three offers: all of them are among the first five (art. 36 c.3).
    assert_eq!(api["basis"], "top_five");
    let page = last.get(&atti(&bando)).expect(200);
    assert!(page.contains("Art. 36 c.3 d.lgs. 36/2023"), "{}", page.text);
    assert!(page.contains("(la tua offerta)"));
    assert!(page.contains("S.r.l."), "the owners are named by their ragione sociale");
    let links = download_links(&page.text, &bando);
    assert_eq!(links.len(), granted.len(), "{}", page.text);
    let winner_c = granted
        .iter()
        .find(|e| e["bidder_id"] == winner.as_str() && e["kind"] == "C")
        .expect("the winner's C");
    let href = format!(
        "/api/v1/bandi/{bando}/accesso-atti/{}",
        winner_c["envelope_id"].as_str().expect("id")
    );
    assert!(links.contains(&href), "{links:?}");
    let before = audit_events(&w)
        .iter()
        .filter(|e| e["action"] == "aggiudicazione.accesso_atti")
        .count();
    let download = last.get(&href);
    assert_eq!(download.status, 200, "{}", download.text);
    assert!(download.text.contains("14.750"), "{}", download.text);
    let after = audit_events(&w)
        .iter()
        .filter(|e| e["action"] == "aggiudicazione.accesso_atti")
        .count();
    assert_eq!(after, before + 1, "every download is logged");

    // A supplier that did not bid: the domain's 403, no link.
    let outsider = web(&w, "estranea@edili.it");
    let refused = outsider.get(&atti(&bando));
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert!(download_links(&refused.text, &bando).is_empty());
    assert_eq!(outsider.get(&href).status, 403, "nor the download by its address");

    // The RUP: this is the suppliers' area.
    let rup = web(&w, "rup@comune.milano.it");
    assert_eq!(rup.get(&atti(&bando)).status, 403);

    // Anonymous: to the login, and back here.
    let anon = WebClient::new(&w.app.base_url).get(&atti(&bando));
    assert_eq!(anon.status, 303);
    assert!(anon.location.expect("location").starts_with("/accedi?ritorno="));
}
