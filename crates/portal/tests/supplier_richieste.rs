//! The supplier's page of the requests addressed to its bid, `/fornitore/bandi/{id}/richieste`:
//! the RUP asks a soccorso istruttorio (art. 101) or explanations of an anomalously low offer
//! (art. 110) through the API, the bidder answers in the page through the same domain
//! functions as `POST …/risposta`, and the effect is read back through the API. Then the ones
//! who must not get through: another bidder, a supplier that did not bid, the RUP, anonymous,
//! a forged or missing `_csrf`, an empty or late answer, the double click.

use journeys::serde_json::{json, Value};
use journeys::tender_world::{
    self, admit, at, id, offer_c, open, past_opening, submit, works_tender_body, world, World, PASSWORD,
};
use journeys::web::WebClient;

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn published(w: &World, oggetto: &str, n: u64) -> String {
    let custodians = [w.rup_id.as_str(), w.custode.as_str()];
    tender_world::tender(w, works_tender_body(&w.ente, custodians, oggetto, n))
}

/// The evaluation as the bidder `email` reads it through the API (its own rows only).
fn mine(w: &World, email: &str, gara: &str) -> Value {
    w.login(email)
        .get(&format!("/api/v1/bandi/{gara}/valutazione"))
        .expect(200)
}

fn answer_of<'a>(p: &'a Value, list: &str, sid: &str) -> &'a Value {
    p[list]
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["id"] == sid)
        .expect("request")
}

#[test]
fn the_bidder_answers_its_soccorso_in_the_page_once_and_nobody_else_can() {
    let mut w = world();
    let gara = published(&w, "Rifacimento della copertura della palestra", 31);
    let bidder = tender_world::supplier(&w.app, "tetti@impresa.it");
    let rival = tender_world::supplier(&w.app, "rivale@impresa.it");
    tender_world::supplier(&w.app, "estranea@impresa.it");
    for email in ["tetti@impresa.it", "rivale@impresa.it"] {
        let c = w.login(email);
        submit(&c, &gara, "A", b"documentazione amministrativa");
        submit(&c, &gara, "C", &offer_c("9.500"));
    }
    past_opening(&mut w, &gara);
    open(&w, &gara, "A");
    let asked = format!("/api/v1/bandi/{gara}/valutazione/soccorsi");
    let s = id(&w
        .rup
        .post(
            &asked,
            &json!({ "bidder_id": bidder, "request": "DGUE non firmato digitalmente", "days": 5 }),
        )
        .expect(201));
    let s_rival = id(&w
        .rup
        .post(
            &asked,
            &json!({ "bidder_id": rival, "request": "Manca la garanzia provvisoria", "days": 5 }),
        )
        .expect(201));
    let here = format!("/fornitore/bandi/{gara}/richieste");
    let action = format!("{here}/soccorsi/{s}");

    // The dashboard leads to the page, which shows the request with its term in Rome time.
    let b = web(&w, "tetti@impresa.it");
    let dash = b.get("/fornitore").expect(200);
    assert!(dash.contains(&format!("href=\"{here}\"")), "{}", dash.text);
    let page = b.get(&here).expect(200);
    assert!(page.contains("DGUE non firmato digitalmente"), "{}", page.text);
    assert!(
        page.contains("10/06/2026 15:30"),
        "the term in Europe/Rome: {}",
        page.text
    );
    assert!(page.contains(&format!("action=\"{action}\"")));
    assert!(page.contains("Aperta: in attesa della risposta"));
    assert!(
        !page.contains("Manca la garanzia provvisoria"),
        "not the rival's request"
    );
    let csrf = page.csrf();

    // Outsiders: the rival sees only its own request and cannot answer this one (the domain's
    // 404); a supplier that did not bid, and the RUP, are refused; anonymous goes to login.
    let r = web(&w, "rivale@impresa.it");
    let rival_page = r.get(&here).expect(200);
    assert!(rival_page.contains("Manca la garanzia provvisoria"));
    assert!(!rival_page.contains("DGUE non firmato"), "{}", rival_page.text);
    let rival_csrf = rival_page.csrf();
    r.post_form(&action, &[("_csrf", &rival_csrf), ("risposta", "non mia")])
        .expect(404);
    let e = web(&w, "estranea@impresa.it");
    e.get(&here).expect(403);
    let e_csrf = e.get("/fornitore").expect(200).csrf();
    e.post_form(&action, &[("_csrf", &e_csrf), ("risposta", "intrusione")])
        .expect(404);
    let rup = web(&w, "rup@comune.milano.it");
    rup.get(&here).expect(403);
    let rup_csrf = rup.get("/ente").expect(200).csrf();
    rup.post_form(&action, &[("_csrf", &rup_csrf), ("risposta", "dal RUP")])
        .expect(403);
    let anon = WebClient::new(&w.app.base_url);
    let to_login = anon.get(&here).expect(303);
    assert!(
        to_login
            .location
            .as_deref()
            .unwrap_or("")
            .starts_with("/accedi?ritorno="),
        "{to_login:?}"
    );
    anon.post_form(&action, &[("risposta", "anonima")]).expect(303);
    // Forged or missing token: 403, nothing recorded.
    let forged = b
        .post_form(&action, &[("_csrf", "forged"), ("risposta", "falsa")])
        .expect(403);
    assert!(forged.contains("csrf_invalid"), "{}", forged.text);
    b.post_form(&action, &[("risposta", "senza token")]).expect(403);
    b.post_form(&action, &[("_csrf", &rival_csrf), ("risposta", "token altrui")])
        .expect(403);
    // Empty: the domain's message next to the request, 422, nothing recorded.
    let empty = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", "   ")])
        .expect(422);
    assert!(empty.contains(&format!("id=\"errore-{s}\"")), "{}", empty.text);
    assert!(empty.contains("La risposta è vuota"), "{}", empty.text);
    assert!(empty.contains(&format!("aria-describedby=\"errore-{s}\"")));
    let p = mine(&w, "tetti@impresa.it", &gara);
    assert!(answer_of(&p, "soccorsi", &s)["answer"].is_null(), "{p}");
    assert!(answer_of(&mine(&w, "rivale@impresa.it", &gara), "soccorsi", &s_rival)["answer"].is_null());

    // The answer: 303 to the page with the outcome; the API has it, timestamped.
    w.app.clock.set(at("2026-06-08T09:00:00Z"));
    let b = web(&w, "tetti@impresa.it");
    let csrf = b.get(&here).expect(200).csrf();
    let text = "Si allega il DGUE firmato digitalmente";
    let sent = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", text)])
        .expect(303);
    let to = sent.location.clone().expect("location");
    assert!(to.starts_with(&format!("{here}?esito=soccorsi")), "{to}");
    let p = mine(&w, "tetti@impresa.it", &gara);
    assert_eq!(answer_of(&p, "soccorsi", &s)["answer"], text);
    assert_eq!(answer_of(&p, "soccorsi", &s)["answered_at"], "2026-06-08T09:00:00Z");
    // A browser drops the `#richiesta-…` fragment from the request; so does this client.
    let page = b.get(to.split('#').next().expect("path")).expect(200);
    assert!(page.contains("id=\"esito-richiesta\""), "{}", page.text);
    assert!(page.contains(text));
    assert!(page.contains("Risposta inviata: in attesa della decisione del RUP"));
    assert!(!page.contains(&format!("action=\"{action}\"")), "no form once answered");

    // The double click: the same outcome page, the answer recorded once (its time unchanged).
    w.app.clock.set(at("2026-06-08T09:01:00Z"));
    let again = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", text)])
        .expect(303);
    assert_eq!(again.location.as_deref(), Some(to.as_str()));
    let p = mine(&w, "tetti@impresa.it", &gara);
    assert_eq!(answer_of(&p, "soccorsi", &s)["answered_at"], "2026-06-08T09:00:00Z");
    // Another text afterwards: the domain's 409 next to the request, the first answer kept.
    let other = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", "Ripensamento")])
        .expect(409);
    assert!(other.contains(&format!("id=\"errore-{s}\"")), "{}", other.text);
    assert!(other.contains("la risposta è già stata data"), "{}", other.text);
    assert_eq!(
        answer_of(&mine(&w, "tetti@impresa.it", &gara), "soccorsi", &s)["answer"],
        text
    );

    // Past the term the rival's request closes: its late answer is refused with the domain's
    // message; the RUP's outcome on the answered one shows on the bidder's page.
    w.app.clock.set(at("2026-06-10T14:00:00Z"));
    w.relogin();
    let (b, r) = (web(&w, "tetti@impresa.it"), web(&w, "rivale@impresa.it"));
    let rival_csrf = r.get("/fornitore").expect(200).csrf();
    let late = r
        .post_form(
            &format!("{here}/soccorsi/{s_rival}"),
            &[("_csrf", &rival_csrf), ("risposta", "in ritardo")],
        )
        .expect(409);
    assert!(late.contains(&format!("id=\"errore-{s_rival}\"")), "{}", late.text);
    assert!(late.contains("Il termine per rispondere al soccorso istruttorio è scaduto"));
    assert!(answer_of(&mine(&w, "rivale@impresa.it", &gara), "soccorsi", &s_rival)["answer"].is_null());
    w.rup
        .post(&format!("{asked}/{s}/esito"), &json!({ "accepted": true }))
        .expect(200);
    let page = b.get(&here).expect(200);
    assert!(
        page.contains("Integrazione accolta: il concorrente è ammesso"),
        "{}",
        page.text
    );
    assert!(page.contains("Decisa dal RUP"));
}

#[test]
fn the_best_offer_explains_itself_under_art_110_in_the_page_and_reads_the_outcome() {
    let mut w = world();
    let gara = published(&w, "Sistemazione del giardino della scuola", 32);
    let mut bidders = Vec::new();
    for (i, discount) in ["18.000", "11.500", "9.250"].iter().enumerate() {
        let email = format!("verde{i}@giardini.it");
        let uid = tender_world::supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &gara, "A", b"documentazione");
        submit(&c, &gara, "C", &offer_c(discount));
        bidders.push((uid, email));
    }
    past_opening(&mut w, &gara);
    open(&w, &gara, "A");
    for (uid, _) in &bidders {
        admit(&w, &gara, uid);
    }
    open(&w, &gara, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{gara}/valutazione/economica"), &json!({}))
        .expect(200);
    let asked = format!("/api/v1/bandi/{gara}/valutazione/art110");
    let a = id(&w
        .rup
        .post(
            &asked,
            &json!({ "bidder_id": bidders[0].0, "request": "Giustificare il ribasso del 18%" }),
        )
        .expect(201));
    let here = format!("/fornitore/bandi/{gara}/richieste");
    let action = format!("{here}/art110/{a}");

    let b = web(&w, &bidders[0].1);
    let dash = b.get("/fornitore").expect(200);
    assert!(
        dash.contains("fornire le spiegazioni richieste (art. 110)"),
        "{}",
        dash.text
    );
    assert!(dash.contains(&format!("href=\"{here}\"")));
    let page = b.get(&here).expect(200);
    assert!(page.contains("Giustificare il ribasso del 18%"), "{}", page.text);
    assert!(page.contains("20/06/2026 15:30"), "15 days, Rome time: {}", page.text);
    let csrf = page.csrf();
    // The second bidder sees nothing of it and cannot answer it.
    let second = web(&w, &bidders[1].1);
    let theirs = second.get(&here).expect(200);
    assert!(theirs.contains("id=\"nessuna-richiesta\""), "{}", theirs.text);
    assert!(!theirs.contains("Giustificare il ribasso"));
    second
        .post_form(&action, &[("_csrf", &theirs.csrf()), ("risposta", "per conto d'altri")])
        .expect(404);
    b.post_form(&action, &[("risposta", "senza token")]).expect(403);
    let empty = b.post_form(&action, &[("_csrf", &csrf), ("risposta", "")]).expect(422);
    assert!(empty.contains("La risposta è vuota"), "{}", empty.text);
    assert!(answer_of(&mine(&w, &bidders[0].1, &gara), "art110", &a)["answer"].is_null());

    let text = "Prezzi dei materiali da contratto quadro con il fornitore; manodopera propria";
    let sent = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", text)])
        .expect(303);
    let to = sent.location.expect("location");
    assert!(to.starts_with(&format!("{here}?esito=art110")), "{to}");
    let p = mine(&w, &bidders[0].1, &gara);
    assert_eq!(answer_of(&p, "art110", &a)["answer"], text);
    assert!(b
        .get(to.split('#').next().expect("path"))
        .expect(200)
        .contains("Spiegazioni inviate"));

    w.rup
        .post(
            &format!("{asked}/{a}/esito"),
            &json!({ "accepted": false, "reason": "Costo della manodopera inferiore ai minimi tabellari" }),
        )
        .expect(200);
    let page = b.get(&here).expect(200);
    assert!(page.contains("Spiegazioni non accolte"), "{}", page.text);
    assert!(page.contains("Costo della manodopera inferiore ai minimi tabellari"));
    assert!(!page.contains(&format!("action=\"{action}\"")));
}
