//! Issue 10 points 1, 2 and 4, over HTTP: the standstill of art. 18 c.3 as amended (32 days
//! for tenders published from 2024-12-31, 35 before; its exceptions), the order of art. 17
//! c.5 (requirements verified before the award, which is effective at once), and a human act
//! of the RUP on every exclusion the platform computes (art. 30 c.3 lett. b).

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;

fn roma_rup(w: &World) -> journeys::Client {
    let admin = w.app.admin();
    let roma = roma_capitale(&admin);
    journeys::tender_world::qualify(&admin, &roma);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    w.login("rup@comune.roma.it")
}

/// Above-threshold works published at `published` (UTC), with `discounts.len()` bidders all
/// admitted, evaluated and proposed: returns (bando, bidders).
fn proposed(
    w: &mut World,
    published: &str,
    cig_n: u64,
    discounts: &[&str],
    tweak: impl FnOnce(&mut Value),
) -> (String, Vec<(String, String)>) {
    w.app.clock.set(at(published));
    w.relogin();
    let mut body = works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Nuova sede degli uffici comunali",
        cig_n,
    );
    body["base_amount"] = json!("6000000.00");
    body["anomaly_method"] = Value::Null;
    tweak(&mut body);
    let bando = tender(w, body);
    let mut bidders = Vec::new();
    for (i, d) in discounts.iter().enumerate() {
        let email = format!("impresa{i}-{cig_n}@edili.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        submit(&c, &bando, "C", &offer_c(d));
        bidders.push((uid, email));
    }
    past_opening(w, &bando);
    open(w, &bando, "A");
    for (uid, _) in &bidders {
        admit(w, &bando, uid);
    }
    open(w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    (bando, bidders)
}

fn verify(w: &World, bando: &str) {
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
              &json!({ "requirement": "Attestazione SOA OG1 classifica VIII", "evidence": "Casellario ANAC", "satisfied": true }))
        .expect(201);
}

fn award_at(w: &mut World, bando: &str, instant: &str) -> Value {
    verify(w, bando);
    w.app.clock.set(at(instant));
    w.relogin();
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200)
}

#[test]
fn the_standstill_is_the_one_in_force_at_publication_35_days_before_2024_12_31_and_32_from_it() {
    let mut w = world();
    let (old, old_bidders) = proposed(&mut w, "2024-12-30T10:00:00Z", 7_100_001, &["8.000", "9.000"], |_| {});
    let (new, _) = proposed(&mut w, "2024-12-31T10:00:00Z", 7_100_002, &["8.000", "9.000"], |_| {});
    let p = award_at(&mut w, &old, "2026-06-20T08:00:00Z");
    assert_eq!(p["award"]["standstill_applies"], true, "{p}");
    assert_eq!(
        p["award"]["standstill_end"]["utc"], "2026-07-25T08:00:00Z",
        "35 days: published 2024-12-30"
    );
    assert!(p["award"]["standstill_why"]
        .as_str()
        .expect("why")
        .contains("2024-12-30"));
    let p = award_at(&mut w, &new, "2026-06-20T08:00:00Z");
    assert_eq!(
        p["award"]["standstill_end"]["utc"], "2026-07-22T08:00:00Z",
        "32 days: published 2024-12-31"
    );
    // The art. 90 communications state that date (Europe/Rome) to every bidder.
    let comms = w
        .rup
        .get(&format!("/api/v1/bandi/{old}/valutazione/comunicazioni"))
        .expect(200);
    let awards: Vec<&Value> = comms
        .as_array()
        .expect("communications")
        .iter()
        .filter(|n| n["subject"].as_str().expect("subject").starts_with("Aggiudicazione"))
        .collect();
    assert_eq!(awards.len(), old_bidders.len());
    assert!(
        awards
            .iter()
            .all(|n| n["body"].as_str().expect("body").contains("2026-07-25T10:00:00+02:00")),
        "{awards:?}"
    );
}

#[test]
fn no_standstill_under_a_framework_agreement_a_dps_or_with_a_single_offer_admitted() {
    let mut w = world();
    let (framework, _) = proposed(&mut w, "2026-05-04T08:00:00Z", 7_200_001, &["8.000", "9.000"], |b| {
        b["framework_agreement"] = json!(true)
    });
    let p = award_at(&mut w, &framework, "2026-06-20T08:00:00Z");
    assert_eq!(p["award"]["standstill_applies"], false, "{p}");
    assert!(p["award"]["standstill_why"]
        .as_str()
        .expect("why")
        .contains("art. 18 c.3 lett. b"));
    assert!(p["award"]["standstill_end"].is_null());
    assert_eq!(p["award"]["ready_for_contract"], true);
    // Whoever reads the bando sees the basis that lifts the standstill.
    let view = w.rup.get(&format!("/api/v1/bandi/{framework}")).expect(200);
    assert_eq!(
        (
            view["framework_agreement"].as_bool(),
            view["dynamic_purchasing_system"].as_bool()
        ),
        (Some(true), Some(false)),
        "{view}"
    );

    let (dps, _) = proposed(&mut w, "2026-05-04T08:00:00Z", 7_200_002, &["8.000", "9.000"], |b| {
        b["dynamic_purchasing_system"] = json!(true)
    });
    let p = award_at(&mut w, &dps, "2026-06-20T08:00:00Z");
    assert!(
        p["award"]["standstill_why"]
            .as_str()
            .expect("why")
            .contains("art. 18 c.3 lett. c"),
        "{p}"
    );

    // Two offers submitted, one excluded by the RUP: a single offer admitted (lett. a).
    w.app.clock.set(at("2026-05-04T08:00:00Z"));
    w.relogin();
    let mut body = works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Nuova palestra comunale", 7_200_003);
    body["base_amount"] = json!("6000000.00");
    body["anomaly_method"] = Value::Null;
    let bando = tender(&w, body);
    let mut ids = Vec::new();
    for (i, d) in ["8.000", "9.000"].iter().enumerate() {
        let email = format!("palestra{i}@edili.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        submit(&c, &bando, "C", &offer_c(d));
        ids.push(uid);
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    admit(&w, &bando, &ids[0]);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": ids[1], "decision": "excluded", "reason": "Garanzia provvisoria assente" }),
        )
        .expect(200);
    open(&w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    let p = award_at(&mut w, &bando, "2026-06-20T08:00:00Z");
    let why = p["award"]["standstill_why"].as_str().expect("why");
    assert!(why.contains("lett. a") && why.contains("ammessa"), "{why}");
}

#[test]
fn the_requirements_are_verified_before_the_award_which_is_then_effective_art_17_c5() {
    let mut w = world();
    let (bando, bidders) = proposed(&mut w, "2026-05-04T08:00:00Z", 7_300_001, &["8.000", "9.000"], |_| {});
    let base = format!("/api/v1/bandi/{bando}/valutazione");
    // No award before the check, nor on a failed one.
    w.rup
        .post(&format!("{base}/aggiudicazione"), &json!({}))
        .expect_problem(409, "requirements_unchecked");
    assert_eq!(w.rup.get(&base).expect(200)["state"], "proposed_award");
    // Only the RUP of the tender's ente records a check; a bidder cannot.
    roma_rup(&w)
        .post(
            &format!("{base}/requisiti"),
            &json!({ "requirement": "SOA", "evidence": "x", "satisfied": true }),
        )
        .expect(403);
    w.login(&bidders[1].1)
        .post(
            &format!("{base}/requisiti"),
            &json!({ "requirement": "SOA", "evidence": "x", "satisfied": true }),
        )
        .expect(403);
    w.rup
        .post(&format!("{base}/requisiti"),
              &json!({ "requirement": "Regolarità contributiva (DURC)", "evidence": "DURC on line, irregolare", "satisfied": false }))
        .expect(201);
    w.rup
        .post(&format!("{base}/aggiudicazione"), &json!({}))
        .expect_problem(409, "requirement_not_met");
    assert_eq!(w.rup.get(&base).expect(200)["state"], "proposed_award");
    // No communication of the award went out before it.
    let comms = w.rup.get(&format!("{base}/comunicazioni")).expect(200);
    assert!(!comms.to_string().contains("Aggiudicazione della gara"));
}

#[test]
fn the_award_after_the_check_is_effective_at_once_and_the_old_efficacy_step_is_gone() {
    let mut w = world();
    let (bando, _) = proposed(&mut w, "2026-05-04T08:00:00Z", 7_400_001, &["8.000", "9.000"], |_| {});
    let base = format!("/api/v1/bandi/{bando}/valutazione");
    let p = award_at(&mut w, &bando, "2026-06-20T08:00:00Z");
    assert_eq!(p["state"], "awarded");
    assert_eq!(p["award"]["outcome"], "awarded");
    assert_eq!(p["award"]["effective_at"], "2026-06-20T08:00:00Z");
    assert_eq!(p["award"]["awarded_at"], "2026-06-20T08:00:00Z");
    assert_eq!(p["award"]["ready_for_contract"], false, "the standstill runs");
    // The double click and late checks: 409, never 500, nothing changes.
    w.rup
        .post(&format!("{base}/aggiudicazione"), &json!({}))
        .expect_problem(409, "already_awarded");
    w.rup
        .post(
            &format!("{base}/requisiti"),
            &json!({ "requirement": "SOA", "evidence": "x", "satisfied": true }),
        )
        .expect_problem(409, "already_awarded");
    w.rup.post(&format!("{base}/efficacia"), &json!({})).expect(404);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/transitions"),
            &json!({ "to": "effective", "reason": "efficacia" }),
        )
        .expect_problem(409, "illegal_transition");
    let winner_mail = w.rup.get(&format!("{base}/comunicazioni")).expect(200);
    assert!(winner_mail
        .to_string()
        .contains("l'aggiudicazione è efficace (art. 17 c.5)"));
}

/// A tender whose bidder 1 is asked a soccorso istruttorio and does not answer in time.
fn unanswered_soccorso(w: &mut World, cig_n: u64) -> (String, Vec<(String, String)>, Value) {
    w.app.clock.set(at("2026-05-04T08:00:00Z"));
    w.relogin();
    let bando = tender(
        w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Rifacimento dei marciapiedi", cig_n),
    );
    let mut bidders = Vec::new();
    for (i, d) in ["8.000", "9.000", "10.000"].iter().enumerate() {
        let email = format!("marciapiedi{i}-{cig_n}@edili.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        submit(&c, &bando, "C", &offer_c(d));
        bidders.push((uid, email));
    }
    past_opening(w, &bando);
    open(w, &bando, "A");
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/soccorsi"),
            &json!({ "bidder_id": bidders[1].0, "request": "DGUE non firmato", "days": 5 }),
        )
        .expect(201);
    w.app.clock.set(at("2026-06-11T08:00:00Z"));
    w.relogin();
    let p = w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200);
    (bando, bidders, p)
}

#[test]
fn an_unanswered_soccorso_is_only_proposed_and_the_rup_of_the_ente_decides_it_once() {
    let mut w = world();
    let (bando, bidders, p) = unanswered_soccorso(&mut w, 7_500_001);
    let base = format!("/api/v1/bandi/{bando}/valutazione");
    let proposals = p["exclusion_proposals"].as_array().expect("proposals");
    assert_eq!(proposals.len(), 1, "{p}");
    let pid = id(&proposals[0]);
    assert_eq!(proposals[0]["phase"], "soccorso");
    assert!(proposals[0]["reason"]
        .as_str()
        .expect("reason")
        .starts_with("art. 101 c.1"));
    let b1 = p["participants"]
        .as_array()
        .expect("p")
        .iter()
        .find(|x| x["bidder_id"] == bidders[1].0.as_str())
        .expect("b1")
        .clone();
    assert_eq!(b1["status"], "pending", "not excluded by the platform");
    // No exclusion communication before the RUP's act; the bidder does not see the proposal.
    let mine = w.login(&bidders[1].1);
    assert!(!mine
        .get(&format!("{base}/comunicazioni"))
        .expect(200)
        .to_string()
        .contains("Esclusione"));
    assert!(mine.get(&base).expect(200)["exclusion_proposals"]
        .as_array()
        .expect("own")
        .is_empty());
    let decision = format!("{base}/esclusioni/{pid}/decisione");
    let confirm = json!({ "confirmed": true, "reason": "Nessuna risposta pervenuta, nemmeno via PEC" });
    // Attackers: another ente's RUP and the bidders (even the one concerned) learn nothing.
    roma_rup(&w).post(&decision, &confirm).expect_problem(404, "not_found");
    mine.post(&decision, &json!({ "confirmed": false, "reason": "ho risposto" }))
        .expect_problem(404, "not_found");
    w.login(&bidders[0].1)
        .post(&decision, &confirm)
        .expect_problem(404, "not_found");
    // A proposal of another tender is not found under this one.
    w.rup
        .post(&format!("{base}/esclusioni/{}/decisione", bando), &confirm)
        .expect_problem(404, "not_found");
    // Nor can the admission route go around the proposal.
    w.rup
        .post(
            &format!("{base}/ammissioni"),
            &json!({ "bidder_id": bidders[1].0, "decision": "admitted" }),
        )
        .expect_problem(409, "exclusion_proposed");
    // A reason is required.
    w.rup
        .post(&decision, &json!({ "confirmed": true, "reason": "  " }))
        .expect_problem(422, "reason_required");
    // The economic phase waits for the decision.
    open(&w, &bando, "C");
    w.rup
        .post(&format!("{base}/economica"), &json!({}))
        .expect_problem(409, "administrative_phase_open");
    // The double click: two at once, one decision, the other 409 (never 500).
    let second = w.login("rup@comune.milano.it");
    let (a, b) = std::thread::scope(|s| {
        let x = s.spawn(|| w.rup.post(&decision, &confirm).status);
        let y = s.spawn(|| second.post(&decision, &confirm).status);
        (x.join().expect("a"), y.join().expect("b"))
    });
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    w.rup.post(&decision, &confirm).expect_problem(409, "exclusion_decided");
    let p = w.rup.get(&base).expect(200);
    let b1 = p["participants"]
        .as_array()
        .expect("p")
        .iter()
        .find(|x| x["bidder_id"] == bidders[1].0.as_str())
        .expect("b1")
        .clone();
    assert_eq!(b1["status"], "excluded");
    assert_eq!(b1["decided_by"], w.rup_id.as_str());
    assert_eq!(p["exclusion_proposals"][0]["decision"], "confirmed");
    // Now, and only once, the bidder is told (art. 90).
    let told = w.login(&bidders[1].1).get(&format!("{base}/comunicazioni")).expect(200);
    let n = told
        .as_array()
        .expect("c")
        .iter()
        .filter(|c| c["subject"].as_str().expect("s").starts_with("Esclusione"))
        .count();
    assert_eq!(n, 1, "{told}");
    // Audited in the same transaction as the decision, with the RUP as actor.
    let events = audit_events(&w);
    let confirmed: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "aggiudicazione.esclusione_confermata" && e["object_id"] == bando.as_str())
        .collect();
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0]["actor_user_id"], w.rup_id.as_str());
}

#[test]
fn the_rup_may_reject_a_proposed_exclusion_and_the_bidder_stays_in() {
    let mut w = world();
    let (bando, bidders, p) = unanswered_soccorso(&mut w, 7_600_001);
    let base = format!("/api/v1/bandi/{bando}/valutazione");
    let pid = id(&p["exclusion_proposals"][0]);
    let p = w
        .rup
        .post(
            &format!("{base}/esclusioni/{pid}/decisione"),
            &json!({ "confirmed": false, "reason": "La risposta è arrivata via PEC nel termine (prot. 1234)" }),
        )
        .expect(200);
    let b1 = p["participants"]
        .as_array()
        .expect("p")
        .iter()
        .find(|x| x["bidder_id"] == bidders[1].0.as_str())
        .expect("b1")
        .clone();
    assert_eq!(b1["status"], "admitted", "{p}");
    assert_eq!(p["exclusion_proposals"][0]["decision"], "rejected");
    assert!(!w
        .login(&bidders[1].1)
        .get(&format!("{base}/comunicazioni"))
        .expect(200)
        .to_string()
        .contains("Esclusione"));
}
