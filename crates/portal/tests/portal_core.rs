//! The portal's frame and its security, over real HTTP against a real server and database:
//! headers, assets, the cookie session with its CSRF token (on pages and on the API), the bid
//! page's rules. Each test plays the attacker where there is one.

use journeys::tender_world::{self, world, World, PASSWORD};
use journeys::web::WebClient;
use journeys::{serde_json::json, TestApp};

fn browser(app: &TestApp) -> WebClient {
    WebClient::new(&app.base_url)
}

fn raw_agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn response(r: Result<ureq::Response, ureq::Error>) -> ureq::Response {
    match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    }
}

#[test]
fn every_page_is_italian_with_a_skip_link_and_a_strict_policy() {
    let app = TestApp::start();
    let b = browser(&app);
    for path in [
        "/",
        "/accedi",
        "/registrazione",
        "/accessibilita",
        "/privacy",
        "/note-legali",
    ] {
        let page = b.get(path).expect(200);
        assert!(page.content_type.starts_with("text/html"), "{path}");
        assert!(page.contains("<html lang=\"it\">"), "{path}");
        assert!(page.contains("href=\"#main-container\""), "{path}: skip link");
        assert!(
            page.contains("href=\"/accessibilita\"") && page.contains("href=\"/privacy\""),
            "{path}: footer"
        );
        let csp = page.csp.clone().expect("CSP");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        // No inline script or style anywhere: the policy would block it.
        assert!(!page.text.contains("style=\""), "{path}: inline style");
        for tag in page.text.split("<script").skip(1) {
            let open = &tag[..tag.find('>').expect("tag end")];
            assert!(open.contains(" src=\"/static/"), "{path}: inline script <script{open}>");
        }
    }
    // An unknown page is a page; an unknown API path keeps its problem document.
    let missing = b.get("/non-esiste");
    assert_eq!(missing.status, 404);
    assert!(missing.contains("Pagina non trovata"));
    app.client()
        .get("/api/v1/non-esiste")
        .expect_problem(404, "route_not_found");
}

#[test]
fn assets_are_served_from_the_binary_with_validators() {
    let app = TestApp::start();
    let url = format!(
        "{}/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css",
        app.base_url
    );
    let css = response(raw_agent().get(&url).call());
    assert_eq!(css.status(), 200);
    assert_eq!(css.content_type(), "text/css");
    let etag = css.header("etag").expect("etag").to_string();
    let again = response(raw_agent().get(&url).set("If-None-Match", &etag).call());
    assert_eq!(again.status(), 304);
    assert!(portal::assets::paths().any(|p| p == "vendor/bootstrap-italia/VERSION"));
    let outside = response(
        raw_agent()
            .get(&format!("{}/static/%2e%2e/Cargo.toml", app.base_url))
            .call(),
    );
    assert_eq!(outside.status(), 404);
}

#[test]
fn login_needs_the_form_token_and_sets_a_strict_http_only_cookie() {
    let w = world();
    tender_world::supplier(&w.app, "op@impresa.it");
    let b = browser(&w.app);
    let form = b.get("/accedi").expect(200);
    // A cross-site post carries the cookie but cannot read it to fill the field: refused.
    let forged = b.post_form(
        "/accedi",
        &[("email", "op@impresa.it"), ("password", PASSWORD), ("_csrf", "x")],
    );
    assert_eq!(forged.status, 403, "{}", forged.text);
    assert!(b.cookie("centrale_sessione").is_none());
    // Wrong password: the form again, with the message, no session.
    let wrong = b.post_form(
        "/accedi",
        &[
            ("_csrf", &form.csrf()),
            ("email", "op@impresa.it"),
            ("password", "sbagliata-davvero"),
        ],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.contains("id=\"errori-modulo\""));
    assert!(b.cookie("centrale_sessione").is_none());

    let raw = raw_agent();
    let page = response(raw.get(&format!("{}/accedi", w.app.base_url)).call());
    let anon = page
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("centrale_csrf="))
        .expect("pre-login cookie")
        .to_string();
    assert!(anon.contains("HttpOnly") && anon.contains("SameSite=Strict"), "{anon}");
    let token = anon.split(['=', ';']).nth(1).expect("value").to_string();
    let res = response(
        raw.post(&format!("{}/accedi", w.app.base_url))
            .set("Cookie", &format!("centrale_csrf={token}"))
            .send_form(&[
                ("_csrf", &token),
                ("email", "op@impresa.it"),
                ("password", PASSWORD),
                ("ritorno", "//evil.example/"),
            ]),
    );
    assert_eq!(res.status(), 303);
    // An off-site `ritorno` is ignored: no open redirect after login.
    assert_eq!(res.header("location"), Some("/fornitore"));
    let session = res
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("centrale_sessione="))
        .expect("session cookie")
        .to_string();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP on loopback: {session}");
}

#[test]
fn behind_a_tls_proxy_the_cookies_are_secure() {
    let app = TestApp::start_with(|s| {
        s.accounts = std::sync::Arc::new(api::guard::AccountGuard {
            behind_proxy: true,
            ..Default::default()
        });
    });
    let res = response(
        raw_agent()
            .get(&format!("{}/accedi", app.base_url))
            .set("X-Forwarded-Proto", "https")
            .call(),
    );
    let cookie = res.header("set-cookie").expect("cookie").to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[test]
fn the_session_cookie_works_on_the_api_only_with_the_csrf_header_for_changes() {
    let w = world();
    tender_world::supplier(&w.app, "op@impresa.it");
    tender_world::supplier(&w.app, "altro@impresa.it");
    let b = browser(&w.app);
    b.login("op@impresa.it", PASSWORD);
    let me = b.api("GET", "/api/v1/auth/me", None, None).expect(200);
    assert_eq!(me["email"], "op@impresa.it");
    let csrf = b.get("/").expect(200).csrf();
    // A cross-site request rides on the cookie but cannot know the token: refused, unchanged.
    b.api("POST", "/api/v1/auth/logout", None, Some(&json!({})))
        .expect_problem(403, "csrf_invalid");
    b.api(
        "POST",
        "/api/v1/auth/logout",
        Some("0123456789abcdef0123456789abcdef"),
        Some(&json!({})),
    )
    .expect_problem(403, "csrf_invalid");
    b.api("GET", "/api/v1/auth/me", None, None).expect(200);
    // Another session's token does not fit this session.
    let other = browser(&w.app);
    other.login("altro@impresa.it", PASSWORD);
    let other_csrf = other.get("/").expect(200).csrf();
    assert_ne!(other_csrf, csrf);
    b.api("POST", "/api/v1/auth/logout", Some(&other_csrf), Some(&json!({})))
        .expect_problem(403, "csrf_invalid");
    // With its own token the call goes through.
    let r = b.api("POST", "/api/v1/auth/logout", Some(&csrf), Some(&json!({})));
    assert_eq!(r.status, 204, "{}", r.text);
    b.api("GET", "/api/v1/auth/me", None, None)
        .expect_problem(401, "unauthenticated");
}

#[test]
fn logout_revokes_the_session_on_the_server() {
    let w = world();
    tender_world::supplier(&w.app, "op@impresa.it");
    let b = browser(&w.app);
    b.login("op@impresa.it", PASSWORD);
    let token = b.cookie("centrale_sessione").expect("session");
    let csrf = b.get("/").expect(200).csrf();
    assert_eq!(b.post_form("/esci", &[("_csrf", "nope")]).status, 403);
    b.api("GET", "/api/v1/auth/me", None, None).expect(200);
    b.post_form("/esci", &[("_csrf", &csrf)]).expect(303);
    // The old token, replayed by whoever copied it, is dead.
    w.app
        .client()
        .with_token(&token)
        .get("/api/v1/auth/me")
        .expect_problem(401, "unauthenticated");
}

fn open_tender(w: &World) -> String {
    let body = tender_world::works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione strade", 1);
    tender_world::tender(w, body)
}

#[test]
fn the_bid_page_is_the_suppliers_own_and_closes_at_the_deadline() {
    let w = world();
    let bando = open_tender(&w);
    tender_world::supplier(&w.app, "op@impresa.it");
    let path = format!("/bandi/{bando}/offerta");

    // Anonymous: to the login page, and back here afterwards.
    let anon = browser(&w.app).get(&path).expect(303);
    assert_eq!(
        anon.location.as_deref(),
        Some(format!("/accedi?ritorno=/bandi/{bando}/offerta").as_str())
    );
    // An official of the ente has no bid to make (nor to look at).
    let rup = browser(&w.app);
    rup.login("rup@comune.milano.it", PASSWORD);
    assert_eq!(rup.get(&path).status, 403);

    let b = browser(&w.app);
    b.login("op@impresa.it", PASSWORD);
    let page = b.get(&path).expect(200);
    assert!(page.contains("id=\"busta-form\""));
    assert!(page.contains(&format!("data-bando=\"{bando}\"")));
    assert!(page.contains("data-recipient=\"age1"), "the tender key of the envelope");
    let keys = w.app.client().get("/api/v1/log/keys").expect(200);
    assert!(
        page.contains(&format!(
            "data-platform-key=\"{}\" data-log-key=\"{}\"",
            keys["platform_key"].as_str().expect("platform key"),
            keys["log_key"].as_str().expect("log key")
        )),
        "the receipt is checked against the platform's keys"
    );
    assert!(page.contains("<script type=\"module\" src=\"/static/js/seal.js\"></script>"));
    assert!(page.contains("05/06/2026 12:00"), "the deadline in Rome time");
    let c = b.get(&format!("{path}?busta=C")).expect(200);
    assert!(c.contains("name=\"discount\"") && c.contains("name=\"labour_costs\""));

    // A bid sent through the API shows with its digest, and is withdrawn only on purpose.
    let supplier = w.app.client().logged_in("op@impresa.it", PASSWORD);
    tender_world::submit(&supplier, &bando, "A", b"domanda");
    let bid = supplier.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let digest = bid[0]["envelopes"][0]["sha256"].as_str().expect("digest").to_string();
    let page = b.get(&path).expect(200);
    assert!(page.contains(&digest));
    let csrf = page.csrf();
    let unconfirmed = b.post_form(&format!("/bandi/{bando}/offerta/ritiro"), &[("_csrf", &csrf)]);
    assert_eq!(unconfirmed.status, 422);
    let forged = b.post_form(
        &format!("/bandi/{bando}/offerta/ritiro"),
        &[("_csrf", "x"), ("conferma", "si")],
    );
    assert_eq!(forged.status, 403);
    let bid = supplier.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    assert!(bid[0]["withdrawn_at"].is_null(), "nothing withdrawn by a refused form");

    // Past the deadline: the page says why, and offers no form nor script.
    w.app.clock.set(tender_world::at("2026-06-05T10:00:01Z"));
    // A month has passed: the session has expired meanwhile, so log in again.
    assert_eq!(b.get(&path).status, 303);
    b.login("op@impresa.it", PASSWORD);
    let supplier = w.app.client().logged_in("op@impresa.it", PASSWORD);
    let closed = b.get(&path).expect(200);
    assert!(closed.contains("id=\"offerta-chiusa\""));
    assert!(closed.contains("Il termine di presentazione delle offerte è scaduto il 05/06/2026 12:00"));
    assert!(!closed.contains("id=\"busta-form\"") && !closed.contains("seal.js"));
    let late = b.post_form(
        &format!("/bandi/{bando}/offerta/ritiro"),
        &[("_csrf", &closed.csrf()), ("conferma", "si")],
    );
    assert_eq!(late.status, 409, "{}", late.text);
    let bid = supplier.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    assert!(bid[0]["withdrawn_at"].is_null());
}

/// An open tender with one bid (envelope A), its bidder on the API and in the portal.
fn bidder_on_open_tender() -> (World, String, journeys::Client, WebClient) {
    let w = world();
    let bando = open_tender(&w);
    tender_world::supplier(&w.app, "op@impresa.it");
    let supplier = w.app.client().logged_in("op@impresa.it", PASSWORD);
    tender_world::submit(&supplier, &bando, "A", b"domanda");
    let b = browser(&w.app);
    b.login("op@impresa.it", PASSWORD);
    (w, bando, supplier, b)
}

#[test]
fn a_supplier_withdraws_before_the_deadline_from_the_page() {
    let (_w, bando, supplier, b) = bidder_on_open_tender();
    let path = format!("/bandi/{bando}/offerta");
    let csrf = b.get(&path).expect(200).csrf();
    let done = b
        .post_form(&format!("{path}/ritiro"), &[("_csrf", &csrf), ("conferma", "si")])
        .expect(303);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{path}?esito=ritirata").as_str())
    );
    let bid = supplier.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    assert!(!bid[0]["withdrawn_at"].is_null());
    assert!(b
        .get(&format!("{path}?esito=ritirata"))
        .expect(200)
        .contains("Offerta ritirata"));
}

/// The double click on "Ritira l'offerta": two sends at once withdraw the bid once, the log
/// has one withdrawal, and both answers say the bid is withdrawn; a withdrawal without a bid
/// is still "Offerta non trovata".
#[test]
fn a_double_click_on_withdraw_withdraws_once() {
    let (w, bando, supplier, b) = bidder_on_open_tender();
    let path = format!("/bandi/{bando}/offerta/ritiro");
    let csrf = b.get(&format!("/bandi/{bando}/offerta")).expect(200).csrf();
    let fields = [("_csrf", csrf.as_str()), ("conferma", "si")];
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let sends: Vec<_> = (0..2).map(|_| s.spawn(|| b.post_form(&path, &fields).status)).collect();
        sends.into_iter().map(|h| h.join().expect("send")).collect()
    });
    // Both answers lead to the page that says the bid is withdrawn (the browser shows the
    // second one), never to "Offerta non trovata".
    assert_eq!(statuses, [303, 303]);
    let bid = supplier.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    assert_eq!(bid.as_array().map(Vec::len), Some(1), "{bid}");
    assert!(!bid[0]["withdrawn_at"].is_null());
    let withdrawals = w.app.psql(&format!(
        "SELECT count(*) FROM log_leaves WHERE kind = 'bid_withdrawn' AND bando_id = '{bando}'"
    ));
    assert_eq!(withdrawals, "1", "one withdrawal in the transparency log");
    tender_world::supplier(&w.app, "senza@offerta.it");
    let none = browser(&w.app);
    none.login("senza@offerta.it", PASSWORD);
    let csrf = none.get(&format!("/bandi/{bando}/offerta")).expect(200).csrf();
    let refused = none.post_form(&path, &[("_csrf", csrf.as_str()), ("conferma", "si")]);
    assert_eq!(refused.status, 404, "{}", refused.text);
}

/// Envelope B of a tender with criteria the platform scores itself: the sealing form asks
/// for each declared value (a number with its rule, or one of the table's options), which the
/// browser writes into the archive's `valori-tecnici.json` for the award engine; a
/// discretionary criterion (the commission's) and the other envelopes ask for none.
#[test]
fn envelope_b_asks_for_the_values_of_quantitative_and_tabular_criteria() {
    let w = world();
    let mut body = journeys::browser::services_tender_body(&w, "Servizio di pulizia delle scuole", 4_100_001);
    body["oepv"]["criteria"] = json!([
        { "code": "T1", "description": "Metodologia", "weight": "30", "kind": "discretionary" },
        { "code": "T2", "description": "Tempo di intervento (ore)", "weight": "20", "kind": "quantitative",
          "quantitative": { "better": "lower", "min": "0", "max": "40" } },
        { "code": "T3", "description": "Certificazione ambientale", "weight": "10", "kind": "tabular",
          "table": [ { "option": "EMAS", "coefficient": "1" }, { "option": "ISO 14001", "coefficient": "0.625" } ] },
        { "code": "T4", "description": "Anni di esperienza", "weight": "10", "kind": "tabular",
          "table": [ { "to": "5", "coefficient": "0" }, { "from": "5", "coefficient": "1" } ] }
    ]);
    let bando = tender_world::tender(&w, body);
    tender_world::supplier(&w.app, "op@impresa.it");
    let b = browser(&w.app);
    b.login("op@impresa.it", PASSWORD);
    let page = b.get(&format!("/bandi/{bando}/offerta?busta=B")).expect(200);
    assert!(page.contains("id=\"valori-tecnici\""), "{}", page.text);
    assert!(page.contains("data-criterio=\"T2\" data-numero=\"1\""));
    assert!(page.contains("Punteggio pieno a 0 (più basso è meglio), nullo a 40"));
    assert!(page.contains("<option value=\"ISO 14001\">ISO 14001</option>"));
    assert!(page.contains("data-criterio=\"T4\" data-numero=\"1\""));
    assert!(page.contains("da 5 a meno di —: coefficiente 1"));
    assert!(!page.contains("data-criterio=\"T1\""), "the commission scores T1");
    let a = b.get(&format!("/bandi/{bando}/offerta?busta=A")).expect(200);
    assert!(!a.contains("valori-tecnici"));
}

/// The README's gallery and docs/screenshots agree: every picture linked exists, and every
/// picture the browser suite takes is linked (a page added to the suite shows up there).
#[test]
fn the_readme_links_every_screenshot_and_each_one_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let linked: std::collections::BTreeSet<String> = readme
        .split("(docs/screenshots/")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(name, _)| name.to_string()))
        .collect();
    let taken: std::collections::BTreeSet<String> = std::fs::read_dir(root.join("docs/screenshots"))
        .expect("docs/screenshots")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".png"))
        .collect();
    assert!(taken.len() >= 20, "{taken:?}");
    assert_eq!(linked, taken, "README gallery vs docs/screenshots");
}
