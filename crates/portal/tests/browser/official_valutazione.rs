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
