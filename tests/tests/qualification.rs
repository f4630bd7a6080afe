//! Who may run a tender of which value (arts. 62-63, Allegato II.4), and which EU threshold a
//! tender's authority uses (art. 14 c.1 lett. b-c), through the real HTTP API.

use journeys::serde_json::{json, Value};
use journeys::tender_world::{at, cig, id, official, partita_iva, roma_capitale, supplier, PASSWORD};
use journeys::{Client, TestApp};

struct World {
    app: TestApp,
    admin: Client,
    /// Comune di Milano: sub-central, not qualified unless a test says so.
    ente: String,
    rup: Client,
    custodians: [String; 2],
    roma_rup: Client,
}

fn world() -> World {
    let app = TestApp::start();
    let admin = app.admin();
    let ente = journeys::tender_world::comune_di_milano(&admin);
    let roma = roma_capitale(&admin);
    let rup_id = official(&admin, "rup@comune.milano.it", "rup", &ente);
    let custode = official(&admin, "custode@comune.milano.it", "commission", &ente);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    let rup = app.client().logged_in("rup@comune.milano.it", PASSWORD);
    let roma_rup = app.client().logged_in("rup@comune.roma.it", PASSWORD);
    World {
        app,
        admin,
        ente,
        rup,
        custodians: [rup_id, custode],
        roma_rup,
    }
}

/// An open procedure at lowest price, deadline 5 June 2026 (32 days from the start).
fn body(w: &World, ente: &str, custodians: &[String; 2], kind: &str, amount: &str, cig_n: u64) -> Value {
    let value: f64 = amount.parse().expect("amount");
    // Art. 54: lowest-price works and services below the EU threshold name their method.
    let below = match kind {
        "works" => value < 5_404_000.0,
        "services" => value < 216_000.0,
        _ => false,
    };
    let _ = w;
    json!({
        "ente_id": ente,
        "oggetto": format!("Appalto di {kind} per {amount} EUR"),
        "cig": cig(cig_n),
        "cpv_main": if kind == "works" { "45000000-7" } else if kind == "services" { "90910000-9" } else { "30192000-1" },
        "nuts": "ITC4C",
        "contract_type": kind,
        "procedure_type": "aperta",
        "award_criterion": "minor_prezzo",
        "base_amount": amount,
        "safety_costs": "0",
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "C"],
        "anomaly_method": if below { json!("A") } else { Value::Null },
        "custodians": custodians,
        "custodian_threshold": 2
    })
}

fn draft(w: &World, body: &Value) -> String {
    id(&w.rup.post("/api/v1/bandi", body).expect(201))
}

fn publish(c: &Client, bando: &str) -> journeys::Reply {
    c.post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
}

fn qualify(w: &World, ente: &str, sector: &str, level: &str, until: &str) -> Value {
    w.admin
        .post(
            &format!("/api/v1/enti/{ente}/qualifications"),
            &json!({ "sector": sector, "level": level, "valid_until": until, "anac_reference": "AUSA 0000123" }),
        )
        .expect(201)
}

/// The violations of a refused publication: (code, message).
fn violations(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn the_violation(problem: &Value, code: &str) -> String {
    violations(problem)
        .into_iter()
        .find(|(c, _)| c == code)
        .unwrap_or_else(|| panic!("no {code} in {problem}"))
        .1
}

fn centrale(w: &World, level: Option<&str>) -> String {
    let c = id(&w
        .admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Centrale Unica di Committenza", "codice_fiscale": partita_iva(901), "tipo": "altro",
                     "pec": "cuc@pec.centrale.it", "centrale": true }),
        )
        .expect(201));
    if let Some(level) = level {
        qualify(w, &c, "works", level, "2028-12-31");
        qualify(w, &c, "services_supplies", level, "2028-12-31");
    }
    c
}

#[test]
fn a_base_qualified_ente_is_refused_above_750k_services_with_the_article() {
    let w = world();
    qualify(&w, &w.ente, "services_supplies", "base", "2027-12-31");
    let at_limit = draft(&w, &body(&w, &w.ente, &w.custodians, "services", "750000.00", 1));
    publish(&w.rup, &at_limit).expect(200);

    let above = draft(&w, &body(&w, &w.ente, &w.custodians, "services", "750000.01", 2));
    let problem = publish(&w.rup, &above).expect_problem(422, "legal_violations");
    let message = the_violation(&problem, "qualification_insufficient");
    assert!(message.starts_with("art. 63 c.2 lett. b e Allegato II.4"), "{message}");
    assert!(message.contains("intermedia") && message.contains("base"), "{message}");
    assert!(
        message.contains("art. 62 c.6 lett. a"),
        "suggests the centrale: {message}"
    );
    assert!(problem["detail"].as_str().unwrap_or_default().contains("art. 63"));
    // The check without publishing says the same; nothing was published.
    let check = w
        .rup
        .post(&format!("/api/v1/bandi/{above}/check"), &json!({}))
        .expect(200);
    assert!(check.to_string().contains("qualification_insufficient"), "{check}");
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{above}")).expect(200)["state"],
        "draft"
    );
    // A works qualification does not cover services (art. 63 c.6).
    qualify(&w, &w.ente, "works", "avanzata", "2027-12-31");
    publish(&w.rup, &above).expect_problem(422, "legal_violations");
    // The intermediate level does.
    qualify(&w, &w.ente, "services_supplies", "intermedia", "2027-12-31");
    publish(&w.rup, &above).expect(200);
}

#[test]
fn works_base_level_reaches_one_million_inclusive() {
    let w = world();
    qualify(&w, &w.ente, "works", "base", "2027-12-31");
    let at_limit = draft(&w, &body(&w, &w.ente, &w.custodians, "works", "1000000.00", 3));
    publish(&w.rup, &at_limit).expect(200);
    let above = draft(&w, &body(&w, &w.ente, &w.custodians, "works", "1000000.01", 4));
    let problem = publish(&w.rup, &above).expect_problem(422, "legal_violations");
    let message = the_violation(&problem, "qualification_insufficient");
    assert!(message.starts_with("art. 63 c.2 lett. b"), "{message}");
    assert!(message.contains("lavori"), "{message}");
}

#[test]
fn an_expired_qualification_is_refused() {
    let mut w = world();
    // Valid through 4 May 2026 (Europe/Rome), the day the test starts.
    qualify(&w, &w.ente, "services_supplies", "avanzata", "2026-05-04");
    let first = draft(&w, &body(&w, &w.ente, &w.custodians, "services", "300000.00", 5));
    let second = draft(&w, &body(&w, &w.ente, &w.custodians, "services", "300000.00", 6));
    // 23:30 in Rome on its last day: still valid. (Sessions last 12 hours: log in again.)
    w.app.clock.set(at("2026-05-04T21:30:00Z"));
    w.rup = w.app.client().logged_in("rup@comune.milano.it", PASSWORD);
    w.admin = w.app.admin();
    publish(&w.rup, &first).expect(200);
    // 00:30 in Rome on 5 May: expired.
    w.app.clock.set(at("2026-05-04T22:30:00Z"));
    let problem = publish(&w.rup, &second).expect_problem(422, "legal_violations");
    let message = the_violation(&problem, "qualification_expired");
    assert!(message.contains("04/05/2026"), "{message}");
    assert!(message.contains("Allegato II.4"), "{message}");
    // A qualification already expired is not recorded.
    w.admin
        .post(
            &format!("/api/v1/enti/{}/qualifications", w.ente),
            &json!({ "sector": "services_supplies", "level": "base", "valid_until": "2026-05-04" }),
        )
        .expect_problem(422, "valid_until_in_past");
    // A level needs its expiry.
    w.admin
        .post(
            &format!("/api/v1/enti/{}/qualifications", w.ente),
            &json!({ "sector": "works", "level": "base" }),
        )
        .expect_problem(422, "valid_until_required");
    // Renewed: it publishes again.
    qualify(&w, &w.ente, "services_supplies", "avanzata", "2028-05-04");
    publish(&w.rup, &second).expect(200);
}

#[test]
fn a_non_qualified_ente_runs_small_tenders_alone_and_bigger_ones_through_the_centrale() {
    let w = world();
    // Art. 62 c.1: 100,000 of services alone.
    let small = draft(&w, &body(&w, &w.ente, &w.custodians, "services", "100000.00", 7));
    publish(&w.rup, &small).expect(200);
    let view = w.rup.get(&format!("/api/v1/bandi/{small}")).expect(200);
    assert_eq!(
        (view["conducted_by"].as_str(), view["runner_ente_id"].as_str()),
        (Some("ente"), Some(w.ente.as_str()))
    );
    // Works up to 500,000 too.
    let works = draft(&w, &body(&w, &w.ente, &w.custodians, "works", "500000.00", 8));
    publish(&w.rup, &works).expect(200);

    // 300,000 alone: refused, citing art. 62.
    let mut big = body(&w, &w.ente, &w.custodians, "services", "300000.00", 9);
    let alone = draft(&w, &big);
    let problem = publish(&w.rup, &alone).expect_problem(422, "legal_violations");
    let message = the_violation(&problem, "authority_not_qualified");
    assert!(message.starts_with("art. 62 c.1 e c.2"), "{message}");
    assert!(message.contains("Comune di Milano"), "{message}");

    // Entrusted to the centrale: the ente's RUP prepares it, cannot publish it himself.
    big["conducted_by"] = json!("centrale");
    w.rup.put(&format!("/api/v1/bandi/{alone}"), &big).expect(200);
    publish(&w.rup, &alone).expect_problem(403, "centrale_publishes");
    // No centrale registered yet.
    let problem = publish(&w.admin, &alone).expect_problem(422, "legal_violations");
    the_violation(&problem, "centrale_not_registered");
    // A centrale with only the base level for works cannot run 300,000 of services either.
    let cuc = centrale(&w, None);
    qualify(&w, &cuc, "works", "base", "2028-12-31");
    let problem = publish(&w.admin, &alone).expect_problem(422, "legal_violations");
    let message = the_violation(&problem, "authority_not_qualified");
    assert!(message.contains("Centrale Unica di Committenza"), "{message}");
    qualify(&w, &cuc, "services_supplies", "intermedia", "2028-12-31");
    let published = publish(&w.admin, &alone).expect(200);
    assert_eq!(published["conducted_by"], "centrale");
    assert_eq!(published["runner_ente_id"].as_str(), Some(cuc.as_str()));
    assert_eq!(published["ente_id"].as_str(), Some(w.ente.as_str()), "on whose behalf");
    // Only one centrale.
    w.admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Altra centrale", "codice_fiscale": partita_iva(902), "tipo": "altro",
                     "pec": "altra@pec.centrale.it", "centrale": true }),
        )
        .expect_problem(409, "centrale_duplicate");
    let cuc_view = w.admin.get(&format!("/api/v1/enti/{cuc}")).expect(200);
    assert_eq!(cuc_view["centrale"], true);
}

#[test]
fn qualified_by_law_needs_no_level() {
    let w = world();
    // The basis is required.
    w.admin
        .put(
            &format!("/api/v1/enti/{}/authority-profile", w.ente),
            &json!({ "authority_kind": "sub_central", "qualified_by_law": true }),
        )
        .expect_problem(422, "qualified_by_law_basis_required");
    let mut six_million = body(&w, &w.ente, &w.custodians, "works", "6000000.00", 10);
    six_million["anomaly_method"] = Value::Null;
    let bando = draft(&w, &six_million);
    publish(&w.rup, &bando).expect_problem(422, "legal_violations");
    let ente = w
        .admin
        .put(
            &format!("/api/v1/enti/{}/authority-profile", w.ente),
            &json!({ "authority_kind": "sub_central", "qualified_by_law": true,
                     "qualified_by_law_basis": "soggetto aggregatore (art. 9 D.L. 66/2014)" }),
        )
        .expect(200);
    assert_eq!(ente["qualified_by_law"], true);
    assert_eq!(ente["qualifications"], json!([]));
    publish(&w.rup, &bando).expect(200);
}

#[test]
fn a_ministrys_150k_supplies_tender_is_above_the_eu_threshold_a_comunes_is_not() {
    let w = world();
    let ministero = id(&w
        .admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Ministero della cultura", "codice_fiscale": partita_iva(903), "tipo": "altro",
                     "pec": "mic@pec.cultura.gov.it", "authority_kind": "central_government" }),
        )
        .expect(201));
    let m_rup = official(&w.admin, "rup@cultura.gov.it", "rup", &ministero);
    let m_custode = official(&w.admin, "custode@cultura.gov.it", "commission", &ministero);
    let m_custodians = [m_rup, m_custode];
    let ministry_rup = w.app.client().logged_in("rup@cultura.gov.it", PASSWORD);
    for ente in [&w.ente, &ministero] {
        qualify(&w, ente, "services_supplies", "base", "2027-12-31");
    }
    // A competitive negotiation with 15 days for requests: art. 73 c.4 (ten days) below the
    // threshold, the Directive's 30 (art. 29(1) of 2014/24/EU) above it.
    let negotiation = |ente: &str, custodians: &[String; 2], n: u64| {
        let mut b = body(&w, ente, custodians, "supplies", "150000.00", n);
        b["procedure_type"] = json!("competitiva_con_negoziazione");
        b["questions_deadline"] = json!("2026-05-10T12:00");
        b["submission_deadline"] = json!("2026-05-19T12:00");
        b["opening_at"] = json!("2026-05-19T15:00");
        b
    };
    let comune = draft(&w, &negotiation(&w.ente, &w.custodians, 11));
    let published = publish(&w.rup, &comune).expect(200);
    assert_eq!(published["authority_kind"], "sub_central");

    let ministry = id(&ministry_rup
        .post("/api/v1/bandi", &negotiation(&ministero, &m_custodians, 12))
        .expect(201));
    let problem = publish(&ministry_rup, &ministry).expect_problem(422, "legal_violations");
    let message = the_violation(&problem, "deadline_too_short");
    assert!(message.starts_with("art. 29 par. 1 Dir. 2014/24/UE"), "{message}");
    assert!(message.contains("almeno 30 giorni"), "{message}");
    assert_eq!(
        ministry_rup.get(&format!("/api/v1/bandi/{ministry}")).expect(200)["authority_kind"],
        "central_government"
    );

    // The centrale acting for the Ministry uses the Ministry's (lower) threshold too.
    centrale(&w, Some("avanzata"));
    let mut entrusted = negotiation(&ministero, &m_custodians, 12);
    entrusted["conducted_by"] = json!("centrale");
    ministry_rup
        .put(&format!("/api/v1/bandi/{ministry}"), &entrusted)
        .expect(200);
    let problem = publish(&w.admin, &ministry).expect_problem(422, "legal_violations");
    the_violation(&problem, "deadline_too_short");

    // The kind is the ente's, and changing it moves the threshold: the Comune declared central
    // government is refused the same tender.
    w.admin
        .put(
            &format!("/api/v1/enti/{}/authority-profile", w.ente),
            &json!({ "authority_kind": "central_government", "qualified_by_law": false }),
        )
        .expect(200);
    let again = draft(&w, &negotiation(&w.ente, &w.custodians, 13));
    let problem = publish(&w.rup, &again).expect_problem(422, "legal_violations");
    the_violation(&problem, "deadline_too_short");
    // The published one keeps the kind fixed at its publication (art. 14 c.7).
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{comune}")).expect(200)["authority_kind"],
        "sub_central"
    );
}

#[test]
fn only_admins_set_authority_and_qualifications() {
    let w = world();
    let supplier_id = supplier(&w.app, "operatore@fornitore.it");
    assert!(!supplier_id.is_empty());
    let supplier = w.app.client().logged_in("operatore@fornitore.it", PASSWORD);
    let qual = format!("/api/v1/enti/{}/qualifications", w.ente);
    let profile = format!("/api/v1/enti/{}/authority-profile", w.ente);
    let q = json!({ "sector": "works", "level": "avanzata", "valid_until": "2030-12-31" });
    let p = json!({ "authority_kind": "sub_central", "qualified_by_law": true, "qualified_by_law_basis": "Consip" });
    for (who, c) in [
        ("own RUP", &w.rup),
        ("other ente's RUP", &w.roma_rup),
        ("supplier", &supplier),
    ] {
        assert_eq!(c.post(&qual, &q).status, 403, "{who}");
        assert_eq!(c.put(&profile, &p).status, 403, "{who}");
    }
    let anon = w.app.client();
    anon.post(&qual, &q).expect_problem(401, "unauthenticated");
    anon.put(&profile, &p).expect_problem(401, "unauthenticated");
    supplier.get(&qual).expect_problem(403, "forbidden");
    // An unknown ente.
    let nobody = "00000000-0000-4000-8000-000000000000";
    w.admin
        .post(&format!("/api/v1/enti/{nobody}/qualifications"), &q)
        .expect_problem(404, "not_found");
    w.admin
        .put(&format!("/api/v1/enti/{nobody}/authority-profile"), &p)
        .expect_problem(404, "not_found");
    // Nothing changed.
    let ente = w.admin.get(&format!("/api/v1/enti/{}", w.ente)).expect(200);
    assert_eq!(
        (ente["qualified_by_law"].clone(), ente["qualifications"].clone()),
        (json!(false), json!([]))
    );
    assert_eq!(w.admin.get(&qual).expect(200), json!([]));
}

#[test]
fn each_change_is_an_audit_event_and_history_is_kept() {
    let w = world();
    w.admin
        .put(
            &format!("/api/v1/enti/{}/authority-profile", w.ente),
            &json!({ "authority_kind": "central_government", "qualified_by_law": false }),
        )
        .expect(200);
    let first = qualify(&w, &w.ente, "works", "base", "2027-06-30");
    let second = qualify(&w, &w.ente, "works", "intermedia", "2028-06-30");
    let lost = w
        .admin
        .post(
            &format!("/api/v1/enti/{}/qualifications", w.ente),
            &json!({ "sector": "services_supplies", "level": null }),
        )
        .expect(201);
    // The view shows the record in force per sector; the history keeps every one.
    let ente = w.rup.get(&format!("/api/v1/enti/{}", w.ente)).expect(200);
    assert_eq!(ente["authority_kind"], "central_government");
    let current = ente["qualifications"].as_array().expect("qualifications");
    assert_eq!(current.len(), 2);
    assert_eq!(current[0]["id"], second["id"]);
    assert_eq!(current[0]["level"], "intermedia");
    assert_eq!(current[1]["id"], lost["id"]);
    assert_eq!(current[1]["level"], Value::Null);
    let history = w
        .rup
        .get(&format!("/api/v1/enti/{}/qualifications", w.ente))
        .expect(200);
    let ids: Vec<&Value> = history.as_array().expect("history").iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, vec![&first["id"], &second["id"], &lost["id"]]);

    let events = w
        .admin
        .get(&format!("/api/v1/enti/{}/audit-events?after=0&limit=500", w.ente))
        .expect(200);
    let events = events["events"].as_array().cloned().expect("events");
    let profile: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "ente.authority_profile_set")
        .collect();
    assert_eq!(profile.len(), 1);
    assert_eq!(profile[0]["details"]["before"]["authority_kind"], "sub_central");
    assert_eq!(profile[0]["details"]["after"]["authority_kind"], "central_government");
    let recorded: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "ente.qualification_recorded")
        .collect();
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[1]["details"]["level"], "intermedia");
    assert_eq!(recorded[1]["details"]["valid_until"], "2028-06-30");
    assert_eq!(recorded[0]["details"]["anac_reference"], "AUSA 0000123");
    assert!(recorded.iter().all(|e| e["actor_user_id"].is_string()));
}
