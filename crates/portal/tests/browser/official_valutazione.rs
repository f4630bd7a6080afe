//! The opening session and the evaluation up to the award in Chromium: a lowest-price tender
//! with five bidders seeded through the API, past its opening time; the script
//! (tests/browser/official-valutazione.mjs, steps in tests/browser/official/valutazione.mjs)
//! runs every act as the RUP; the custodians' shares and the final check come from here.

use journeys::browser::run_script;
use journeys::serde_json::{json, Value};
use journeys::tender_world::*;

use super::LIMIT;

#[test]
fn the_rup_opens_evaluates_and_awards_a_lowest_price_tender_with_five_bidders_in_the_browser() {
    let mut w = world();
    let body = works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione delle strade comunali",
        9_400_001,
    );
    let bando = tender(&w, body);
    for (i, d) in ["10.500", "12.250", "13.000", "14.750", "19.900"].iter().enumerate() {
        let email = format!("browser{i}@edili.it");
        supplier(&w.app, &email);
        let c = w.login(&email);
        let a = busta(
            &bando,
            "A",
            &[("domanda.pdf", b"%PDF-1.4 domanda"), ("dgue.pdf", b"%PDF-1.4 dgue")],
        );
        submit(&c, &bando, "A", &a);
        submit(&c, &bando, "C", &offer_c(d));
    }
    past_opening(&mut w, &bando);
    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("BANDO_ID", bando.clone()),
        ("RUP_EMAIL", "rup@comune.milano.it".to_string()),
        ("RUP_PASSWORD", PASSWORD.to_string()),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    let outcome = run_script("official-valutazione.mjs", &env, LIMIT * 2, |request| {
        match request["action"].as_str() {
            Some("shares") => {
                let kind = request["kind"].as_str().unwrap_or_default();
                for (email, (_, key)) in w.custodian_emails.iter().zip(&w.custodian_keys) {
                    submit_share(&w.login(email), key, &bando, kind);
                }
                Ok(json!({}))
            }
            Some("check_award") => {
                let p: Value = w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200);
                if p["award"]["outcome"] != "awarded" {
                    return Err(format!("not awarded: {p}"));
                }
                Ok(json!({ "winner": p["award"]["winner_id"] }))
            }
            _ => Err(format!("unknown harness request {request}")),
        }
    });
    outcome.assert_success();
    assert_eq!(outcome.asked("check_award"), 1, "the script ran to its end");
}

/// The same steps for an OEPV tender with three bidders: B opened by the RUP and read by
/// nobody but the commission, whose work (declarations, coefficients, closing) the harness
/// does through the API between B and C.
#[test]
fn the_rup_opens_evaluates_and_awards_an_oepv_tender_in_the_browser() {
    let mut w = world();
    let admin = w.app.admin();
    let c2 = official(&admin, "ingegnere@comune.milano.it", "commission", &w.ente);
    let c3 = official(&admin, "agronomo@comune.milano.it", "commission", &w.ente);
    let c1 = w.custode.clone();
    let body = journeys::browser::services_tender_body(&w, "Servizio di pulizia delle palestre", 9_400_002);
    let bando = tender(&w, body);
    let mut bidders = Vec::new();
    for (i, d) in ["10", "20", "15"].iter().enumerate() {
        let email = format!("oepv{i}@verde.it");
        bidders.push(supplier(&w.app, &email));
        let c = w.login(&email);
        let a = busta(&bando, "A", &[("domanda.pdf", b"%PDF-1.4 domanda")]);
        submit(&c, &bando, "A", &a);
        let b = busta(&bando, "B", &[("relazione-tecnica.pdf", b"%PDF-1.4 relazione")]);
        submit(&c, &bando, "B", &b);
        submit(&c, &bando, "C", &offer_c(d));
    }
    past_opening(&mut w, &bando);
    let commission = format!("/api/v1/bandi/{bando}/valutazione/commissione");
    w.rup
        .post(&commission, &json!({ "members": [c1, c2, c3], "president": c1 }))
        .expect(201);
    let members = [
        "custode@comune.milano.it",
        "ingegnere@comune.milano.it",
        "agronomo@comune.milano.it",
    ];
    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("BANDO_ID", bando.clone()),
        ("RUP_EMAIL", "rup@comune.milano.it".to_string()),
        ("RUP_PASSWORD", PASSWORD.to_string()),
        ("BIDDERS", "3".to_string()),
        ("OEPV", "1".to_string()),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    let outcome = run_script("official-valutazione.mjs", &env, LIMIT * 2, |request| {
        match request["action"].as_str() {
            Some("shares") => {
                let kind = request["kind"].as_str().unwrap_or_default();
                for (email, (_, key)) in w.custodian_emails.iter().zip(&w.custodian_keys) {
                    submit_share(&w.login(email), key, &bando, kind);
                }
                Ok(json!({}))
            }
            Some("commission") => {
                for m in members {
                    w.login(m)
                        .post(
                            &format!("{commission}/dichiarazione"),
                            &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" }),
                        )
                        .expect(200);
                }
                for m in members {
                    let k = w.login(m);
                    for (uid, (t1, t2)) in bidders.iter().zip([("0.8", "0.5"), ("0.6", "0.4"), ("0.5", "0.3")]) {
                        k.post(
                            &format!("/api/v1/bandi/{bando}/valutazione/coefficienti"),
                            &json!({ "bidder_id": uid, "coefficients": { "T1": t1, "T2": t2 } }),
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
                Ok(json!({}))
            }
            Some("check_award") => {
                let p: Value = w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200);
                if p["award"]["outcome"] != "awarded" {
                    return Err(format!("not awarded: {p}"));
                }
                Ok(json!({ "winner": p["award"]["winner_id"] }))
            }
            _ => Err(format!("unknown harness request {request}")),
        }
    });
    outcome.assert_success();
    assert_eq!(outcome.asked("commission"), 1);
    assert_eq!(outcome.asked("check_award"), 1, "the script ran to its end");
}
