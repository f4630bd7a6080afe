//! The RUP's tenders in Chromium (tests/browser/official-bandi.mjs): drafted from scratch,
//! the failing legal check with its article, fixed and published; an OEPV tender without
//! JavaScript; a clarification and a rettifica. What the script did is checked here through
//! the API when it asks.

use journeys::browser::run_script;
use journeys::serde_json::{json, Value};
use journeys::tender_world::{cig, official, world, World, PASSWORD};

/// Many pages, two browsers, a busy machine: longer than the single-page scripts.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

fn check_published(w: &World, request: &Value) -> Result<Value, String> {
    let bando = request["bando"].as_str().ok_or("no bando")?;
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}"));
    if public.status != 200 || public.body["state"] != "published" {
        return Err(format!("not published: {}", public.text));
    }
    let stored = w.rup.get(&format!("/api/v1/bandi/{bando}"));
    if stored.status != 200 {
        return Err(format!("the RUP cannot read it: {}", stored.text));
    }
    let stored = stored.body;
    let custodians = stored["custodians"].as_array().map_or(0, Vec::len) as u64;
    if Some(custodians) != request["custodians"].as_u64() || stored["custodian_threshold"] != request["threshold"] {
        return Err(format!(
            "custodians {custodians}, threshold {}",
            stored["custodian_threshold"]
        ));
    }
    if stored["award_criterion"] != request["criterion"] {
        return Err(format!("criterion {}", stored["award_criterion"]));
    }
    if let Some(n) = request["criteria"].as_u64() {
        let got = stored["oepv"]["criteria"].as_array().map_or(0, Vec::len) as u64;
        if got != n {
            return Err(format!("{got} criteria stored, {n} typed"));
        }
    }
    let criteria = &stored["oepv"]["criteria"];
    if let Some(kinds) = request["kinds"].as_array() {
        let got: Vec<&Value> = criteria.as_array().into_iter().flatten().map(|c| &c["kind"]).collect();
        if got != kinds.iter().collect::<Vec<_>>() {
            return Err(format!("kinds {got:?} stored, {kinds:?} typed"));
        }
    }
    // The tabular criterion's rows and the first criterion's sub-criteria, as typed.
    if let Some(n) = request["rows"].as_u64() {
        let got = criteria[1]["table"].as_array().map_or(0, Vec::len) as u64;
        if got != n || criteria[1]["table"][2]["coefficient"] != "0.5" {
            return Err(format!("table rows stored: {}", criteria[1]));
        }
    }
    if let Some(n) = request["subs"].as_u64() {
        let subs = &criteria[0]["sub_criteria"];
        if subs.as_array().map_or(0, Vec::len) as u64 != n || subs[1]["quantitative"]["max"] != "24" {
            return Err(format!("sub-criteria stored: {subs}"));
        }
    }
    Ok(json!({}))
}

#[test]
fn the_rup_drafts_checks_publishes_answers_and_amends_in_the_browser() {
    let mut w = world();
    let admin = w.app.admin();
    official(&admin, "terzo@comune.milano.it", "auditor", &w.ente);
    let asker_email = "quesiti@impresa-bianchi.it";
    let asker_id = journeys::tender_world::supplier(&w.app, asker_email);
    w.relogin();
    let question = "Il sopralluogo è obbligatorio?";
    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("RUP_EMAIL", "rup@comune.milano.it".to_string()),
        ("RUP_PASSWORD", PASSWORD.to_string()),
        (
            "CUSTODIANS",
            "rup@comune.milano.it,custode@comune.milano.it,terzo@comune.milano.it".to_string(),
        ),
        ("CIG_WORKS", cig(7_200_001)),
        ("CIG_SERVICES", cig(7_200_002)),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    let outcome = run_script("official-bandi.mjs", &env, LIMIT, |request| {
        match request["action"].as_str() {
            Some("check_published") => check_published(&w, request),
            Some("ask") => {
                let bando = request["bando"].as_str().ok_or("no bando")?;
                let asked = w.login(asker_email).post(
                    &format!("/api/v1/bandi/{bando}/chiarimenti"),
                    &json!({ "question": question }),
                );
                if asked.status != 201 {
                    return Err(format!("question refused: {}", asked.text));
                }
                Ok(json!({ "question": question }))
            }
            Some("check_answer") => {
                let bando = request["bando"].as_str().ok_or("no bando")?;
                let html = request["html"].as_str().unwrap_or_default();
                if html.contains(asker_email) || html.contains(&asker_id) {
                    return Err("the clarifications page names the asker".into());
                }
                let public = w
                    .app
                    .client()
                    .get(&format!("/api/v1/public/bandi/{bando}/chiarimenti"))
                    .body;
                if public[0]["answer"].is_null() {
                    return Err(format!("no published answer: {public}"));
                }
                Ok(json!({}))
            }
            _ => Err(format!("unknown harness request {request}")),
        }
    });
    outcome.assert_success();
    assert_eq!(outcome.asked("check_published"), 2, "both tenders were published");
}
