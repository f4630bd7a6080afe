//! The commission and the auditor in Chromium (tests/browser/official-commissione.mjs): an OEPV
//! tender seeded through the API up to the opening of envelope B, then the RUP's appointment,
//! three commissioners each in his own browser context (declaration, coefficients), the
//! president's closing, and the auditor's visit to the timeline and the filtered trail. What
//! the server stored is checked here, through the API, when the script asks.

use journeys::serde_json::json;
use journeys::tender_world::{self, oepv_at_envelope_b, world, PASSWORD};

use super::LIMIT;

#[test]
fn three_commissioners_score_in_their_own_browsers_and_the_auditor_finds_every_step() {
    let mut w = world();
    let t = oepv_at_envelope_b(&mut w, 7_300_000, 3);
    tender_world::official(&w.app.admin(), "revisore@comune.milano.it", "auditor", &w.ente);
    let emails: Vec<String> = t.commissioners.iter().map(|(_, e)| e.clone()).collect();
    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("BANDO_ID", t.bando.clone()),
        ("BANDO_OGGETTO", "Servizio di pulizia delle scuole comunali".to_string()),
        ("PASSWORD", PASSWORD.to_string()),
        ("RUP_EMAIL", "rup@comune.milano.it".to_string()),
        ("COMMISSIONERS", json!(emails).to_string()),
        ("OFFERS", t.bidders.len().to_string()),
        ("AUDITOR_EMAIL", "revisore@comune.milano.it".to_string()),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    let valutazione = format!("/api/v1/bandi/{}/valutazione", t.bando);
    let outcome = journeys::browser::run_script("official-commissione.mjs", &env, LIMIT, |request| {
        let p = w.rup.get(&valutazione);
        match request["action"].as_str() {
            Some("check_coefficients") => {
                let n = p.body["coefficients"].as_array().map_or(0, Vec::len) as u64;
                if Some(n) == request["expected"].as_u64() {
                    Ok(json!({ "coefficients": n }))
                } else {
                    Err(format!("the server holds {n} coefficients: {}", p.text))
                }
            }
            Some("check_closed") if p.body["evaluation"]["technical_closed_at"].is_string() => Ok(json!({})),
            Some("check_closed") => Err(format!("technical phase not closed: {}", p.text)),
            _ => Err(format!("unknown harness request {request}")),
        }
    });
    outcome.assert_success();
    assert_eq!(outcome.asked("check_closed"), 1, "the script ran to its end");
}
