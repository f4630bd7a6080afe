//! The portal in a real browser: Debian's Chromium, driven by the node scripts of
//! tests/browser (playwright-core, axe-core), against a real server on 127.0.0.1, a real
//! PostgreSQL and a real SMTP mailbox (journeys::TestApp). Each test seeds what its script
//! needs through the shared fixtures and fails with the script's output when it fails.
//!
//! `make screenshots` runs these with SCREENSHOTS=1, which writes docs/screenshots/*.png.

use std::time::Duration;

#[path = "browser/official_bandi.rs"]
mod official_bandi;
#[path = "browser/official_commissione.rs"]
mod official_commissione;
#[path = "browser/official_custodia.rs"]
mod official_custodia;
#[path = "browser/official_journey.rs"]
mod official_journey;
#[path = "browser/official_valutazione.rs"]
mod official_valutazione;

use journeys::browser::{no_harness, run_script, services_tender_body};
use journeys::serde_json::{json, Value};
use journeys::tender_world::{partita_iva, tender, world, World, PASSWORD};

/// Bounded whatever the machine's load: a script that hangs is killed with its Chromium.
const LIMIT: Duration = Duration::from_secs(150);

const OGGETTO: &str = "Servizio di pulizia degli edifici comunali";
const CPV: &str = "90910000-9";

fn env(w: &World, bando: &str) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("BANDO_ID", bando.to_string()),
        ("BANDO_OGGETTO", OGGETTO.to_string()),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    env
}

/// The harness guards themselves: console errors, CSP violations, foreign requests, axe
/// violations and a missing skip link each fail, and a clean page passes; and a screenshot
/// is a full-page PNG 1280 pixels wide, taken only when SCREENSHOTS=1 (what `make
/// screenshots` sets), here into a directory of the test's own.
#[test]
fn the_browser_harness_catches_what_it_must() {
    let app = journeys::TestApp::start();
    let dir = std::env::temp_dir().join(format!("centrale-screenshots-{}", std::process::id()));
    let outcome = run_script(
        "selftest.mjs",
        &[
            ("BASE_URL", app.base_url.clone()),
            ("SCREENSHOTS", "1".into()),
            ("SCREENSHOT_DIR", dir.display().to_string()),
        ],
        LIMIT,
        no_harness,
    );
    outcome.assert_success();
    assert_eq!(
        outcome.asked("ping"),
        1,
        "the script's harness request reached this side"
    );
    let png = std::fs::read(dir.join("selftest.png")).expect("the screenshot was written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().expect("IHDR width"));
    let height = u32::from_be_bytes(png[20..24].try_into().expect("IHDR height"));
    assert_eq!(width, 1280);
    assert!(height > 800, "the full page, not the viewport: {height} px");
    assert!(
        !dir.join("selftest-none.png").exists(),
        "a screenshot without SCREENSHOTS=1"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A script that runs past its limit is killed with its Chromium, and the test hears of it
/// at once instead of hanging.
#[test]
fn a_script_past_its_limit_is_killed_and_fails() {
    let app = journeys::TestApp::start();
    let started = std::time::Instant::now();
    let outcome = run_script(
        "selftest.mjs",
        &[("BASE_URL", app.base_url.clone())],
        Duration::from_secs(2),
        no_harness,
    );
    assert!(outcome.timed_out && !outcome.success, "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}

/// Every public page with and without JavaScript: heading, skip link, axe WCAG 2.1 AA, CSP.
#[test]
fn public_pages_pass_axe_and_work_without_javascript() {
    let w = world();
    let bando = tender(&w, services_tender_body(&w, OGGETTO, 4_000_001));
    let outcome = run_script("public.mjs", &env(&w, &bando), LIMIT, no_harness);
    outcome.assert_success();
}

/// The supplier's journey from sign-up to a verified receipt of its three envelopes, the
/// centrale's admin qualifying it on the portal's queue in a browser of its own. The final
/// check of what the server stored is answered here, through the API, when the script asks.
#[test]
fn a_new_supplier_signs_up_and_submits_three_sealed_envelopes_from_the_browser() {
    let w = world();
    let bando = tender(&w, services_tender_body(&w, OGGETTO, 4_000_002));
    let email = "ufficio.gare@verdipulizie.it";
    let mut env = env(&w, &bando);
    env.extend([
        ("CPV", CPV.to_string()),
        ("SUPPLIER_EMAIL", email.to_string()),
        ("SUPPLIER_PASSWORD", PASSWORD.to_string()),
        ("SUPPLIER_NAME", "Maria Verdi".to_string()),
        ("PARTITA_IVA", partita_iva(9_001)),
        ("ADMIN_EMAIL", journeys::ADMIN_EMAIL.to_string()),
        ("ADMIN_PASSWORD", journeys::ADMIN_PASSWORD.to_string()),
    ]);
    let outcome = run_script("supplier-journey.mjs", &env, LIMIT, |request| {
        let asked_for = request["email"].as_str().unwrap_or_default();
        match request["action"].as_str() {
            Some("check_bid") => check_bid(&w, &bando, asked_for, &request["envelopes"]),
            _ => Err(format!("unknown harness request {request}")),
        }
    });
    outcome.assert_success();
    assert_eq!(outcome.asked("check_bid"), 1, "the journey ran to its end");
    let me = w
        .app
        .client()
        .logged_in(email, PASSWORD)
        .get("/api/v1/registry/operatori/me");
    assert_eq!(me.body["status"], "qualified", "qualified in the browser: {}", me.text);
}

/// The part of the journey the portal serves today, from the login on, for a supplier the
/// fixtures registered and qualified: three envelopes of several files sealed in the browser,
/// their receipts, and what the server stored (all sealed by the client).
#[test]
fn a_qualified_supplier_seals_three_envelopes_of_several_files_in_the_browser() {
    let w = world();
    let bando = tender(&w, services_tender_body(&w, OGGETTO, 4_000_003));
    let email = "gare@pulizie-lombarde.it";
    journeys::tender_world::supplier(&w.app, email);
    let mut env = env(&w, &bando);
    env.extend([
        ("SEEDED_SUPPLIER", "1".to_string()),
        ("CPV", CPV.to_string()),
        ("SUPPLIER_EMAIL", email.to_string()),
        ("SUPPLIER_PASSWORD", PASSWORD.to_string()),
        ("SUPPLIER_NAME", "Operatore".to_string()),
        ("PARTITA_IVA", partita_iva(9_002)),
    ]);
    let outcome = run_script("supplier-journey.mjs", &env, LIMIT, |request| {
        let asked_for = request["email"].as_str().unwrap_or_default();
        match request["action"].as_str() {
            Some("check_bid") => check_bid(&w, &bando, asked_for, &request["envelopes"]),
            _ => Err(format!("unknown harness request {request}")),
        }
    });
    outcome.assert_success();
}

/// What the server stored, as the supplier's own view of its bid tells it.
fn check_bid(w: &World, bando: &str, email: &str, expected: &Value) -> Result<Value, String> {
    let supplier = w.app.client().logged_in(email, PASSWORD);
    let mine = supplier.get(&format!("/api/v1/bandi/{bando}/offerta"));
    if mine.status != 200 {
        return Err(format!("no bid: {}", mine.text));
    }
    let envelopes = mine.body[0]["envelopes"].as_array().cloned().unwrap_or_default();
    // The bid view lists envelopes in no particular order: compare the sets of kinds.
    let mut kinds: Vec<String> = envelopes
        .iter()
        .map(|x| x["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    kinds.sort();
    let mut wanted: Vec<String> = expected
        .as_array()
        .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    wanted.sort();
    if kinds != wanted {
        return Err(format!(
            "the server holds envelopes {kinds:?}, expected {expected}; bid: {}",
            mine.text
        ));
    }
    // The plaintext never reached the server: every envelope was sealed in the browser.
    if let Some(e) = envelopes.iter().find(|e| e["sealed_by"] != "client") {
        return Err(format!("an envelope not sealed by the client: {e}"));
    }
    Ok(json!({ "envelopes": kinds }))
}
