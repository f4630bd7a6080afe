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
