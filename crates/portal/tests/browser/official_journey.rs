//! The officials' journeys in Chromium (issue 13).

/// The dashboard `/ente` and the administration of enti and notifications in Chromium
/// (tests/browser/official-cruscotto.mjs): the RUP's draft and ceremony round, the
/// custodian's, the other ente's RUP with nothing, the admin's qualification form (refused,
/// then recorded) and "Riprova" on a notification the relay refused.
#[test]
fn official_cruscotto_the_dashboard_and_the_administration_in_chromium() {
    use journeys::browser::{no_harness, run_script};
    use journeys::serde_json::json;
    use journeys::tender_world::{self, id, works_tender_body, world, PASSWORD};
    use journeys::{ADMIN_EMAIL, ADMIN_PASSWORD};
    use std::time::{Duration, Instant};

    let w = world();
    let custodians = [w.rup_id.as_str(), w.custode.as_str()];
    let draft = "Manutenzione del verde pubblico";
    w.rup
        .post(
            "/api/v1/bandi",
            &works_tender_body(&w.ente, custodians, draft, 9_100_001),
        )
        .expect(201);
    let oggetto = "Ristrutturazione della biblioteca civica";
    let bando = id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &works_tender_body(&w.ente, custodians, oggetto, 9_100_002),
        )
        .expect(201));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    // Another ente with its own RUP.
    let admin = w.app.admin();
    let other = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Comune di Bergamo", "codice_fiscale": "80034840167", "tipo": "comune",
                     "istat_code": "016024", "pec": "protocollo@cert.comune.bergamo.it" }),
        )
        .expect(201));
    tender_world::official(&admin, "rup@comune.bergamo.it", "rup", &other);
    // One notification the relay refused: the qualification of a new operatore.
    w.app.mailbox().set_refusing(true);
    let (_, op) = tender_world::pending_supplier(&w.app, "respinta@impresa.it", true);
    admin
        .post(
            &format!("/api/v1/registry/operatori/{op}/qualification"),
            &json!({ "action": "qualify" }),
        )
        .expect(200);
    let started = Instant::now();
    while w
        .app
        .psql(&format!(
            "SELECT attempts FROM notifications_outbox WHERE object_type = 'operatore' AND object_id = '{op}'"
        ))
        .trim()
        == "0"
    {
        assert!(started.elapsed() < Duration::from_secs(10), "no refused attempt");
        std::thread::sleep(Duration::from_millis(25));
    }
    let refused_to = w
        .app
        .psql(&format!(
            "SELECT recipient_address FROM notifications_outbox WHERE object_type = 'operatore' AND object_id = '{op}'"
        ))
        .trim()
        .to_string();
    w.app.mailbox().set_refusing(false);

    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("PASSWORD", PASSWORD.to_string()),
        ("RUP_EMAIL", "rup@comune.milano.it".to_string()),
        ("CUSTODE_EMAIL", "custode@comune.milano.it".to_string()),
        ("OTHER_EMAIL", "rup@comune.bergamo.it".to_string()),
        ("ADMIN_EMAIL", ADMIN_EMAIL.to_string()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
        ("DRAFT_OGGETTO", draft.to_string()),
        ("TENDER_OGGETTO", oggetto.to_string()),
        ("ENTE_NOME", "Comune di Milano".to_string()),
        ("REFUSED_TO", refused_to.clone()),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    let outcome = run_script("official-cruscotto.mjs", &env, Duration::from_secs(150), no_harness);
    outcome.assert_success();
    // The retry reached the real mailbox, and the qualification is on the API.
    let mails = w.app.mailbox().wait_for(1);
    assert_eq!(mails[0].to(), vec![refused_to]);
    let records = admin
        .get(&format!("/api/v1/enti/{}/qualifications", w.ente))
        .expect(200);
    let last = records.as_array().and_then(|r| r.last()).cloned().expect("a record");
    assert_eq!(last["level"], "intermedia");
    assert_eq!(last["valid_until"], "2031-12-31");
}

/// Issue 13 "Done means" (tests/browser/official-journey.mjs): a RUP who has never seen the
/// API publishes a lowest-price tender from an empty draft, runs its opening with two of its
/// three custodians (each in his own browser, the RUP one of them) and awards it among five
/// bidders; a commission of three scores an OEPV tender in three browsers and the RUP awards
/// it; the ente's auditor finds every step of both in their timelines. What only the test can
/// do (the suppliers' bids, the clock, the API's view of the trail) is answered here.
#[test]
fn done_means_a_rup_publishes_opens_with_two_of_three_custodians_and_awards_a_commission_scores_and_the_auditor_finds_every_step(
) {
    use journeys::browser::{run_script, services_tender_body};
    use journeys::serde_json::{json, Value};
    use journeys::tender_world::*;

    let mut w = world();
    let admin = w.app.admin();
    let third = "terzo.custode@comune.milano.it";
    official(&admin, third, "commission", &w.ente);
    let auditor = "revisore@comune.milano.it";
    official(&admin, auditor, "auditor", &w.ente);
    let commissioners = [
        "custode@comune.milano.it",
        "ingegnere@comune.milano.it",
        "agronoma@comune.milano.it",
    ];
    for email in &commissioners[1..] {
        official(&admin, email, "commission", &w.ente);
    }
    let lowest_price_bidders: Vec<String> = (0..5)
        .map(|i| {
            let email = format!("impresa{i}@piazze-lombarde.it");
            supplier(&w.app, &email);
            email
        })
        .collect();
    // The OEPV tender, published and sealed through the API now (its deadline is the lowest
    // price one's), bid by three suppliers with A, B and C; the harness opens it to B later.
    let oepv = tender(
        &w,
        services_tender_body(&w, "Servizio di pulizia dei musei civici", 9_600_002),
    );
    let mut oepv_bidders = Vec::new();
    for i in 0..3 {
        let email = format!("pulizie{i}@musei-puliti.it");
        oepv_bidders.push(supplier(&w.app, &email));
        let c = w.login(&email);
        submit(
            &c,
            &oepv,
            "A",
            &busta(&oepv, "A", &[("domanda.pdf", b"%PDF-1.4 domanda")]),
        );
        let report = format!("Relazione tecnica dell'offerente {i}");
        submit(
            &c,
            &oepv,
            "B",
            &busta(&oepv, "B", &[("relazione-tecnica.pdf", report.as_bytes())]),
        );
        submit(&c, &oepv, "C", &offer_c(&format!("{}.5", 10 + i)));
    }
    w.relogin();

    let mut env = vec![
        ("BASE_URL", w.app.base_url.clone()),
        ("PASSWORD", PASSWORD.to_string()),
        ("RUP_EMAIL", "rup@comune.milano.it".to_string()),
        (
            "CUSTODIANS",
            json!(["rup@comune.milano.it", "custode@comune.milano.it", third]).to_string(),
        ),
        ("CIG", cig(9_600_001)),
        ("OEPV_BANDO", oepv.clone()),
        ("COMMISSIONERS", json!(commissioners).to_string()),
        ("AUDITOR_EMAIL", auditor.to_string()),
    ];
    if let Ok(v) = std::env::var("SCREENSHOTS") {
        env.push(("SCREENSHOTS", v));
    }
    let lowest_price = std::cell::RefCell::new(String::new());
    let about = |e: &Value, bando: &str| e["object_id"] == bando || e["details"]["bando_id"] == bando;
    let outcome = run_script(
        "official-journey.mjs",
        &env,
        std::time::Duration::from_secs(900),
        |request| {
            let bando = request["bando"].as_str().unwrap_or_default().to_string();
            match request["action"].as_str() {
                Some("bids") => {
                    lowest_price.replace(bando.clone());
                    for (i, email) in lowest_price_bidders.iter().enumerate() {
                        let c = w.login(email);
                        let a = busta(
                            &bando,
                            "A",
                            &[("domanda.pdf", b"%PDF-1.4 domanda"), ("dgue.xml", b"<dgue/>")],
                        );
                        submit(&c, &bando, "A", &a);
                        submit(
                            &c,
                            &bando,
                            "C",
                            &offer_c(["10.500", "12.250", "13.000", "14.750", "19.900"][i]),
                        );
                    }
                    Ok(json!({ "bids": lowest_price_bidders.len() }))
                }
                Some("opening_time") => {
                    past_opening(&mut w, &bando);
                    wait_for_state(&w.rup, &oepv, "opening");
                    Ok(json!({}))
                }
                Some("oepv_to_b") => {
                    open(&w, &oepv, "A");
                    for uid in &oepv_bidders {
                        admit(&w, &oepv, uid);
                    }
                    open(&w, &oepv, "B");
                    Ok(json!({}))
                }
                Some("oepv_shares") => {
                    let kind = request["kind"].as_str().unwrap_or_default();
                    for (email, (_, key)) in w.custodian_emails.iter().zip(&w.custodian_keys) {
                        submit_share(&w.login(email), key, &oepv, kind);
                    }
                    Ok(json!({}))
                }
                Some("check_award") => {
                    let p = w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione"));
                    if p.status != 200
                        || p.body["award"]["outcome"] != "awarded"
                        || !p.body["award"]["effective_at"].is_string()
                    {
                        return Err(format!("not effectively awarded: {}", p.text));
                    }
                    Ok(json!({}))
                }
                Some("actions") => {
                    // Every kind of step the API's trail records for this tender, in the order
                    // it first happened: the timeline must show each of them in that order.
                    let mut actions: Vec<String> = Vec::new();
                    for e in audit_events(&w).iter().filter(|e| about(e, &bando)) {
                        let a = e["action"].as_str().unwrap_or_default().to_string();
                        if !actions.contains(&a) {
                            actions.push(a);
                        }
                    }
                    if actions.len() < 10 {
                        return Err(format!(
                            "only {} kinds of steps for {bando}: {actions:?}",
                            actions.len()
                        ));
                    }
                    Ok(json!({ "actions": actions }))
                }
                _ => Err(format!("unknown harness request {request}")),
            }
        },
    );
    outcome.assert_success();
    assert_eq!(
        outcome.asked("actions"),
        2,
        "the journey ran to the auditor: {}",
        outcome.output
    );
    // The ceremony and the opening of the browser-made tender ran in the custodians'
    // browsers: three transport keys, and two shares of each of A and C, no more.
    let bando = lowest_price.borrow().clone();
    let events = audit_events(&w);
    let count = |bando: &str, action: &str| {
        events
            .iter()
            .filter(|e| about(e, bando) && e["action"] == action)
            .count()
    };
    assert_eq!(count(&bando, "bando.sigillo_chiave_trasporto"), 3);
    assert_eq!(
        count(&bando, "bando.quota_apertura"),
        4,
        "two of three custodians, for A and for C"
    );
    assert_eq!(count(&bando, "aggiudicazione.aggiudicata"), 1);
    assert_eq!(count(&oepv, "aggiudicazione.aggiudicata"), 1);
    assert_eq!(count(&oepv, "aggiudicazione.dichiarazione_commissario"), 3);
}
