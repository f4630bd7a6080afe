//! The key ceremony and the custodians' shares in Chromium (tests/browser/official-custodia.mjs
//! on the steps of tests/browser/official/custodia.mjs): three custodians of a published
//! tender, each in his own browser, run the three rounds; the script checks that no request
//! body carries a private key. This side seeds a bid, moves the clock past the deadline and,
//! once two custodians have submitted their share of A in the browser, opens A as the RUP
//! through the API: the key rebuilt from shares computed by the browser decrypts the bid.

use journeys::browser::run_script;
use journeys::serde_json::{json, Value};
use journeys::tender_world::{self, busta, offer_c, submit, supplier, world, PASSWORD};

use super::LIMIT;

#[test]
fn three_custodians_run_the_ceremony_in_their_browsers_and_two_shares_open_a() {
    let mut w = world();
    let bando = tender_world::three_custodian_tender(&mut w, "Manutenzione del verde: custodia nel browser", 21);
    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("BANDO_ID", bando.clone()),
        ("CUSTODIANS", json!(w.custodian_emails).to_string()),
        ("PASSWORD", PASSWORD.to_string()),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    // The rounds take a few seconds of crypto per custodian on a loaded machine.
    let outcome = run_script("official-custodia.mjs", &env, LIMIT * 2, |request| {
        match request["action"].as_str() {
            Some("seed_bids") => {
                let view = w.rup.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200);
                if view["status"] != "complete" {
                    return Err(format!("the ceremony is not complete: {view}"));
                }
                supplier(&w.app, "verde@impresa.it");
                let c = w.login("verde@impresa.it");
                submit(
                    &c,
                    &bando,
                    "A",
                    &busta(&bando, "A", &[("domanda.txt", b"Domanda di partecipazione")]),
                );
                submit(
                    &c,
                    &bando,
                    "C",
                    &busta(&bando, "C", &[("offerta-economica.json", &offer_c("11.5"))]),
                );
                Ok(json!({}))
            }
            Some("past_opening") => {
                tender_world::past_opening(&mut w, &bando);
                Ok(json!({}))
            }
            Some("open") => {
                let kind = request["kind"].as_str().unwrap_or("A");
                let reply = w
                    .rup
                    .post(&format!("/api/v1/bandi/{bando}/aperture/{kind}"), &json!({}));
                if reply.status != 201 {
                    return Err(format!("opening {kind}: {} {}", reply.status, reply.text));
                }
                let opened: Value = reply.body;
                let ok = opened["envelopes"]
                    .as_array()
                    .map_or(0, |e| e.iter().filter(|x| x["error"].is_null()).count());
                Ok(json!({ "envelopes": ok, "shares_used": opened["shares_used"] }))
            }
            _ => Err(format!("unknown harness request {request}")),
        }
    });
    outcome.assert_success();
    assert_eq!(outcome.asked("open"), 1, "the script reached the opening");

    // Through the API: the keys the browsers registered, the ceremony complete, A opened with
    // the shares of custodians 1 and 3, the bid decrypted.
    let view = w.rup.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200);
    assert_eq!(view["status"], "complete");
    for c in view["custodians"].as_array().expect("custodians") {
        assert!(c["transport_key"].as_str().is_some_and(|k| k.starts_with("age1")));
        assert_eq!(c["acked"], true);
    }
    let openings = w.rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200);
    let a = openings
        .as_array()
        .and_then(|o| o.iter().find(|x| x["kind"] == "A"))
        .cloned()
        .unwrap_or_else(|| panic!("A is opened: {openings}"));
    assert_eq!(a["shares_used"], 2);
    let envelopes = a["envelopes"].as_array().expect("envelopes");
    assert_eq!(envelopes.len(), 1);
    assert!(envelopes[0]["error"].is_null(), "{a}");
    let shares: Vec<i64> = tender_world::audit_events(&w)
        .iter()
        .filter(|e| e["action"] == "bando.quota_apertura")
        .filter_map(|e| e["details"]["custode"].as_i64())
        .collect();
    assert_eq!(shares, [1, 3]);
}
