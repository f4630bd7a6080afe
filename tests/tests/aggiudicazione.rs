//! Issue 6: evaluation and award over HTTP, on real sealed bids, with the clock moved.
//!
//! * the lowest-price works tender of domain.md §6 (16 bidders, Method A: T = 15.7534, winner
//!   15.420) from the admissions to an effective award, with every intermediate value shown;
//! * soccorso istruttorio (art. 101): answered and accepted, unanswered and excluded, never B/C;
//! * an OEPV tender with 3 commissioners and 6 bidders: commission (art. 93), raw coefficients,
//!   riparametrazione, soglia, economic scores, ties by the public draw, art. 110, standstill
//!   (art. 18) and art. 36 access.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use journeys::serde_json::{json, Value};
use journeys::Client;
use rust_decimal::Decimal;

use journeys::tender_world::*;

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("decimal string, got {v}"))
        .parse()
        .expect("decimal")
}

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn procedura(w: &World, bando: &str) -> Value {
    w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200)
}

fn participant<'a>(p: &'a Value, bidder: &str) -> &'a Value {
    p["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|x| x["bidder_id"] == bidder)
        .expect("participant")
}

fn works_tender(w: &World, seed: u64) -> Value {
    works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione straordinaria delle strade comunali",
        2_000_000 + seed,
    )
}

const SIXTEEN: [&str; 16] = [
    "10.125", "11.300", "12.450", "12.900", "13.250", "13.800", "14.100", "14.650", "15.270", "15.420", "16.050",
    "16.780", "17.300", "18.900", "21.500", "24.750",
];

#[test]
fn lowest_price_works_with_sixteen_bidders_method_a_to_an_effective_award() {
    let mut w = world();
    let bando = tender(&w, works_tender(&w, 1));
    // 16 bidders (submitted in a shuffled order), each with envelopes A and C.
    let order = [7usize, 0, 15, 3, 12, 9, 1, 14, 5, 10, 2, 13, 8, 4, 11, 6];
    let mut bidders: Vec<(String, String)> = vec![(String::new(), String::new()); 16];
    for &i in &order {
        let email = format!("impresa{i:02}@edilizia.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", format!("DGUE e domanda dell'impresa {i}").as_bytes());
        submit(&c, &bando, "C", &offer_c(SIXTEEN[i]));
        bidders[i] = (uid, email);
    }
    let by_discount = |s: &str| {
        bidders[SIXTEEN.iter().position(|x| *x == s).expect("discount")]
            .0
            .clone()
    };

    // Nothing to evaluate before the opening of envelope A.
    past_opening(&mut w, &bando);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": bidders[0].0, "decision": "admitted" }),
        )
        .expect_problem(409, "envelope_not_opened");
    open(&w, &bando, "A");
    // A supplier is not the seggio di gara.
    w.login(&bidders[0].1)
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": bidders[0].0, "decision": "admitted" }),
        )
        .expect_problem(403, "forbidden");
    // An exclusion needs its reason.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": bidders[0].0, "decision": "excluded" }),
        )
        .expect_problem(422, "reason_required");
    for (uid, _) in &bidders {
        admit(&w, &bando, uid);
    }
    let p = procedura(&w, &bando);
    assert_eq!(p["state"], "evaluation");
    assert_eq!(p["participants"].as_array().expect("list").len(), 16);
    assert!(p["participants"]
        .as_array()
        .expect("list")
        .iter()
        .all(|x| x["status"] == "admitted"));

    // Economic phase: envelope C first.
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect_problem(409, "envelope_not_opened");
    open(&w, &bando, "C");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    let e = &p["evaluation"];
    assert_eq!(e["anomaly_applies"], true, "{e}");
    assert_eq!(
        e["draw"]["purpose"], "tie-break",
        "the draw comes from the closing checkpoint"
    );
    let r = &e["anomaly"]["report"];
    // Hand computation (domain.md §6): k = 2; wings 10.125, 11.300 | 21.500, 24.750.
    assert_eq!(r["method"], "A");
    assert_eq!(r["n_admitted"], 16);
    assert_eq!(r["branch"], ">=15");
    assert_eq!(r["wing_size_k"], 2);
    let wing = |k: &str| -> Vec<Decimal> {
        r[k].as_array()
            .expect("wing")
            .iter()
            .map(|o| dec(&o["discount"]))
            .collect()
    };
    assert_eq!(wing("lower_wing"), vec![d("10.125"), d("11.300")]);
    assert_eq!(wing("upper_wing"), vec![d("21.500"), d("24.750")]);
    assert_eq!(
        r["lower_wing"][0]["id"],
        by_discount("10.125").as_str(),
        "ids are bidder ids"
    );
    assert_eq!(dec(&r["sum"]), d("180.870"));
    assert_eq!(r["sum_first_two_decimals"], json!([8, 7]));
    assert_eq!(r["product_d1_d2"], 56);
    assert_eq!(dec(&r["mean"]), d("15.0725"));
    assert_eq!(r["above_mean"].as_array().expect("above").len(), 6);
    assert_eq!(dec(&r["mean_deviation"]), d("1.5475"));
    assert_eq!(dec(&r["threshold_before_decrement"]), d("16.62"));
    assert_eq!(dec(&r["decrement"]), d("0.8666"));
    assert_eq!(dec(&r["threshold"]), d("15.7534"));
    assert_eq!(r["exclusion_rule"], "at_or_above_threshold");
    let excluded: Vec<Decimal> = r["excluded"]
        .as_array()
        .expect("excluded")
        .iter()
        .map(|o| dec(&o["discount"]))
        .collect();
    assert_eq!(excluded.len(), 6);
    // Art. 30 c.3 lett. b: the platform only proposes them; nobody is excluded yet and the
    // award waits for the RUP's decisions.
    for x in ["16.050", "16.780", "17.300", "18.900", "21.500", "24.750"] {
        assert_eq!(participant(&p, &by_discount(x))["status"], "admitted");
    }
    let proposals = p["exclusion_proposals"].as_array().expect("proposals");
    assert_eq!(proposals.len(), 6);
    assert!(proposals
        .iter()
        .all(|x| x["phase"] == "anomaly" && x["decision"].is_null()));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect_problem(409, "exclusions_undecided");
    let p = confirm_proposed_exclusions(&w, &format!("/api/v1/bandi/{bando}/valutazione"));
    for x in ["16.050", "16.780", "17.300", "18.900", "21.500", "24.750"] {
        assert!(excluded.contains(&d(x)), "{x} excluded");
        let who = participant(&p, &by_discount(x));
        assert_eq!(who["status"], "excluded");
        assert_eq!(who["excluded_phase"], "anomaly");
        assert!(who["reason"].as_str().expect("reason").contains("15.7534"), "{who}");
    }
    // Ranking of the ten remaining offers, best discount first: 15.420 wins.
    let ranking = e["ranking"].as_array().expect("ranking");
    assert_eq!(ranking.len(), 10);
    let ranked: Vec<Decimal> = ranking.iter().map(|l| dec(&l["discount"])).collect();
    let expected: Vec<Decimal> = [
        "15.420", "15.270", "14.650", "14.100", "13.800", "13.250", "12.900", "12.450", "11.300", "10.125",
    ]
    .iter()
    .map(|s| d(s))
    .collect();
    assert_eq!(ranked, expected);
    let winner = by_discount("15.420");
    assert_eq!(ranking[0]["bidder_id"], winner.as_str());
    assert_eq!(ranking[0]["rank"], 1);
    // The computation is stored: the same on a second read, and not recomputed.
    assert_eq!(procedura(&w, &bando)["evaluation"]["anomaly"], e["anomaly"]);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect_problem(409, "economic_phase_done");
    // The outcome is not shown to bidders before the award.
    let loser = w.login(&bidders[0].1);
    assert!(loser.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200)["evaluation"].is_null());

    // Access to the offers only after the award (art. 36).
    w.rup
        .get(&format!("/api/v1/bandi/{bando}/accesso-atti"))
        .expect_problem(409, "access_before_award");

    // Proposal → requirements of the proposed winner → award, effective at once (art. 17 c.5;
    // below threshold: no standstill, art. 18 c.3 lett. d and art. 55 c.2).
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
              &json!({ "requirement": "Attestazione SOA OG3 classifica III", "evidence": "Casellario ANAC", "satisfied": true }))
        .expect_problem(409, "proposal_missing");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "proposed_award");
    assert_eq!(p["award"]["winner_id"], winner.as_str());
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect_problem(409, "requirements_unchecked");
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA OG3 classifica III", "evidence": "", "satisfied": true }),
        )
        .expect_problem(422, "evidence_required");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
              &json!({ "requirement": "Attestazione SOA OG3 classifica III", "evidence": "Casellario ANAC, consultato il 6/6/2026", "satisfied": true }))
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
              &json!({ "requirement": "Assenza di cause di esclusione (artt. 94-95)", "evidence": "FVOE, esito regolare", "satisfied": true }))
        .expect(201);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "awarded");
    assert_eq!(p["award"]["outcome"], "awarded");
    assert_eq!(p["award"]["effective_at"], p["award"]["awarded_at"]);
    assert_eq!(p["award"]["standstill_applies"], false);
    assert!(p["award"]["standstill_why"]
        .as_str()
        .expect("why")
        .contains("art. 18 c.3 lett. d"));
    assert!(p["award"]["standstill_end"].is_null());
    assert_eq!(p["award"]["ready_for_contract"], true);
    assert_eq!(p["requirements"].as_array().expect("req").len(), 2);

    // Art. 90: every bidder has its award communication; the six excluded their exclusion.
    let all = w
        .rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    let all = all.as_array().expect("communications");
    let count = |prefix: &str| {
        all.iter()
            .filter(|n| n["subject"].as_str().expect("subject").starts_with(prefix))
            .count()
    };
    assert_eq!(count("Esclusione"), 6);
    assert_eq!(count("Aggiudicazione"), 16);
    assert_eq!(count("Efficacia"), 0, "the award itself is effective (art. 17 c.5)");
    let mine = w
        .login(&bidders[0].1)
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    assert_eq!(mine.as_array().expect("mine").len(), 1, "a bidder sees only its own");
    assert!(mine[0]["body"].as_str().expect("body").contains(&winner));

    // Art. 36: the last in the ranking sees the winner's offer (and its own); the second the top
    // five's; an excluded bidder nothing.
    let last = w.login(&bidders[0].1);
    let acc = last.get(&format!("/api/v1/bandi/{bando}/accesso-atti")).expect(200);
    assert_eq!(acc["basis"], "non_excluded");
    let owners: std::collections::BTreeSet<String> = acc["envelopes"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| e["bidder_id"].as_str().expect("b").to_string())
        .collect();
    assert_eq!(owners, [winner.clone(), bidders[0].0.clone()].into_iter().collect());
    let winner_c = acc["envelopes"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["bidder_id"] == winner.as_str() && e["kind"] == "C")
        .expect("C");
    let reply = last.get(&format!(
        "/api/v1/bandi/{bando}/accesso-atti/{}",
        winner_c["envelope_id"].as_str().expect("id")
    ));
    assert_eq!(reply.status, 200);
    assert!(reply.text.contains("15.420"));
    let second = bidders
        .iter()
        .find(|(u, _)| *u == by_discount("15.270"))
        .expect("second");
    let acc = w
        .login(&second.1)
        .get(&format!("/api/v1/bandi/{bando}/accesso-atti"))
        .expect(200);
    assert_eq!(acc["basis"], "top_five");
    let owners: std::collections::BTreeSet<String> = acc["envelopes"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| e["bidder_id"].as_str().expect("b").to_string())
        .collect();
    assert_eq!(owners.len(), 5);
    let excluded_bidder = bidders
        .iter()
        .find(|(u, _)| *u == by_discount("24.750"))
        .expect("excluded");
    w.login(&excluded_bidder.1)
        .get(&format!("/api/v1/bandi/{bando}/accesso-atti"))
        .expect_problem(403, "forbidden");

    // Everything is in the audit trail.
    let events = audit_events(&w);
    let text = Value::Array(events.clone()).to_string();
    for action in [
        "aggiudicazione.ammissione",
        "aggiudicazione.soglia_anomalia",
        "aggiudicazione.valutazione_economica",
        "aggiudicazione.esclusione",
        "aggiudicazione.proposta",
        "aggiudicazione.aggiudicata",
        "aggiudicazione.requisito_verificato",
        "aggiudicazione.esclusione_proposta",
        "aggiudicazione.esclusione_confermata",
        "aggiudicazione.accesso_atti",
    ] {
        assert!(text.contains(action), "audit has {action}");
    }

    // Issue 6 point 9: every decision is also a leaf of the seal's log. From each audit event
    // (its action, instant and details) anyone recomputes the `centrale-decision/v1` leaf and
    // checks its inclusion under a signed checkpoint through the public log API.
    let decisions: Vec<&Value> = events
        .iter()
        .filter(|e| e["object_id"] == bando.as_str())
        .filter(|e| {
            e["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("aggiudicazione.") && a != "aggiudicazione.accesso_atti")
        })
        .collect();
    let count = |a: &str| decisions.iter().filter(|e| e["action"] == a).count();
    assert_eq!(count("aggiudicazione.ammissione"), 16);
    assert_eq!(count("aggiudicazione.esclusione"), 6);
    assert_eq!(count("aggiudicazione.esclusione_proposta"), 6);
    assert_eq!(count("aggiudicazione.esclusione_confermata"), 6);
    assert_eq!(
        count("aggiudicazione.efficace"),
        0,
        "no separate efficacy act (art. 17 c.5)"
    );
    for a in [
        "aggiudicazione.soglia_anomalia",
        "aggiudicazione.valutazione_economica",
        "aggiudicazione.proposta",
        "aggiudicazione.aggiudicata",
    ] {
        assert_eq!(count(a), 1, "{a}");
    }
    let anon = w.app.client();
    let keys = anon.get("/api/v1/log/keys").expect(200);
    let verifier = seal::checkpoint::NoteVerifier::from_vkey(keys["log_key"].as_str().expect("vkey")).expect("vkey");
    let bando_id: uuid::Uuid = bando.parse().expect("uuid");
    let leaf_of = |e: &Value| {
        let at = at(e["occurred_at"].as_str().expect("occurred_at"));
        let data = offerte::log::decision_leaf_data(bando_id, e["action"].as_str().expect("action"), at, &e["details"]);
        assert!(String::from_utf8_lossy(&data).starts_with("centrale-decision/v1\ntender "));
        seal::merkle::leaf_hash(&data)
    };
    let start = Instant::now();
    let (cp, size) = loop {
        let note = anon.get("/api/v1/log/checkpoint").text;
        let cp = seal::checkpoint::open_checkpoint(&note, &verifier).expect("signed checkpoint");
        let size = cp.size;
        let last = leaf_of(decisions.last().expect("decisions"));
        let found = anon.get(&format!(
            "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={size}",
            hex(&last)
        ));
        if found.status == 200 {
            break (cp, size);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "decision leaves not integrated: {}",
            found.text
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let public: Vec<String> = anon
        .get(&format!("/api/v1/log/leaves?start=0&end={size}"))
        .expect(200)
        .as_array()
        .expect("leaves")
        .iter()
        .map(|l| l["leaf_hash"].as_str().expect("hash").to_string())
        .collect();
    for e in &decisions {
        let leaf = leaf_of(e);
        assert!(
            public.contains(&hex(&leaf)),
            "leaf of {} is public (as a hash)",
            e["action"]
        );
        let p = anon
            .get(&format!(
                "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={size}",
                hex(&leaf)
            ))
            .expect(200);
        let proof: Vec<[u8; 32]> = p["proof"]
            .as_array()
            .expect("proof")
            .iter()
            .map(|h| unhex(h.as_str().expect("hex")))
            .collect();
        let index = p["leaf_index"].as_u64().expect("index");
        seal::merkle::verify_inclusion(&leaf, index, size, &proof, &cp.root).expect("inclusion of the decision leaf");
    }
    // A decision whose details were changed afterwards would not be in the log.
    let award = decisions
        .iter()
        .find(|e| e["action"] == "aggiudicazione.aggiudicata")
        .expect("award");
    let mut forged = (*award).clone();
    forged["details"]["winner_id"] = json!(bidders[0].0);
    anon.get(&format!(
        "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={size}",
        hex(&leaf_of(&forged))
    ))
    .expect_problem(404, "not_found");
}

#[test]
fn soccorso_istruttorio_answered_accepted_unanswered_excluded_never_on_offers() {
    let mut w = world();
    let mut body = works_tender(&w, 2);
    body["oggetto"] = json!("Rifacimento della copertura della scuola");
    let bando = tender(&w, body);
    let mut bidders = Vec::new();
    for (i, discount) in ["8.500", "9.750", "12.000"].iter().enumerate() {
        let email = format!("impresa{i}@coperture.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"documentazione amministrativa");
        submit(&c, &bando, "C", &offer_c(discount));
        bidders.push((uid, email));
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    let path = format!("/api/v1/bandi/{bando}/valutazione/soccorsi");
    // Never on the technical or economic offer; 5 to 10 days.
    w.rup
        .post(&path, &json!({ "bidder_id": bidders[1].0, "request": "Integrare l'offerta economica", "days": 7, "envelope": "C" }))
        .expect_problem(422, "soccorso_not_for_offers");
    w.rup
        .post(
            &path,
            &json!({ "bidder_id": bidders[1].0, "request": "DGUE non firmato", "days": 4 }),
        )
        .expect_problem(422, "soccorso_days");
    w.rup
        .post(
            &path,
            &json!({ "bidder_id": bidders[1].0, "request": "DGUE non firmato", "days": 11 }),
        )
        .expect_problem(422, "soccorso_days");
    admit(&w, &bando, &bidders[0].0);
    let s1 = w
        .rup
        .post(
            &path,
            &json!({ "bidder_id": bidders[1].0, "request": "DGUE non firmato digitalmente", "days": 5 }),
        )
        .expect(201);
    assert_eq!(
        s1["deadline"], "2026-06-10T13:30:00Z",
        "5 calendar days, same Rome wall time"
    );
    let s2 = w
        .rup
        .post(
            &path,
            &json!({ "bidder_id": bidders[2].0, "request": "Manca la garanzia provvisoria", "days": 5 }),
        )
        .expect(201);
    // No admission while the soccorso is open, and no economic phase.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": bidders[1].0, "decision": "admitted" }),
        )
        .expect_problem(409, "soccorso_pending");
    open(&w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect_problem(409, "administrative_phase_open");
    // The bidder sees the request (and only its own) and answers through the platform.
    let b1 = w.login(&bidders[1].1);
    let mine = b1.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200);
    assert_eq!(mine["soccorsi"].as_array().expect("s").len(), 1);
    assert_eq!(mine["participants"].as_array().expect("p").len(), 1);
    w.login(&bidders[2].1)
        .post(&format!("{path}/{}/risposta", id(&s1)), &json!({ "answer": "non mia" }))
        .expect_problem(404, "not_found");
    w.app.clock.set(at("2026-06-08T09:00:00Z"));
    let b1 = w.login(&bidders[1].1);
    let answered = b1
        .post(
            &format!("{path}/{}/risposta", id(&s1)),
            &json!({ "answer": "Si allega il DGUE firmato" }),
        )
        .expect(200);
    assert_eq!(answered["answered_at"], "2026-06-08T09:00:00Z");
    // Past the deadline: the unanswered one makes the platform propose its exclusion, which the
    // RUP confirms (art. 30 c.3 lett. b); a late answer is refused.
    w.app.clock.set(at("2026-06-10T14:00:00Z"));
    w.relogin();
    w.login(&bidders[2].1)
        .post(
            &format!("{path}/{}/risposta", id(&s2)),
            &json!({ "answer": "in ritardo" }),
        )
        .expect_problem(409, "soccorso_closed");
    let p = procedura(&w, &bando);
    assert_eq!(participant(&p, &bidders[2].0)["status"], "pending");
    assert_eq!(p["exclusion_proposals"][0]["phase"], "soccorso", "{p}");
    let p = confirm_proposed_exclusions(&w, &format!("/api/v1/bandi/{bando}/valutazione"));
    let b2 = participant(&p, &bidders[2].0);
    assert_eq!(b2["status"], "excluded");
    assert_eq!(b2["excluded_phase"], "soccorso");
    assert!(b2["reason"].as_str().expect("reason").starts_with("art. 101"));
    let p = w
        .rup
        .post(&format!("{path}/{}/esito", id(&s1)), &json!({ "accepted": true }))
        .expect(200);
    assert_eq!(participant(&p, &bidders[1].0)["status"], "admitted");
    // Three offers: fewer than 5 admitted, so no automatic exclusion (art. 54 c.1).
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    let e = &p["evaluation"];
    assert_eq!(e["anomaly_applies"], false);
    assert!(e["anomaly_why"].as_str().expect("why").contains("meno di 5"));
    assert_eq!(e["anomaly"]["report"]["outcome"], "NOT_APPLICABLE_LESS_THAN_5_OFFERS");
    assert!(e["draw"]["seed"].is_string(), "the public draw is recorded");
    assert_eq!(e["ranking"][0]["bidder_id"], bidders[1].0.as_str());
    let comms = w
        .rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    let subjects: Vec<&str> = comms
        .as_array()
        .expect("c")
        .iter()
        .map(|n| n["subject"].as_str().expect("s"))
        .collect();
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.starts_with("Soccorso istruttorio"))
            .count(),
        2
    );
    assert_eq!(subjects.iter().filter(|s| s.starts_with("Esclusione")).count(), 1);
}

#[test]
fn a_tender_with_no_bids_is_deserted_and_one_with_every_offer_excluded_ends_unawarded() {
    let mut w = world();
    let empty = tender(&w, works_tender(&w, 3));
    let mut body = works_tender(&w, 4);
    body["oggetto"] = json!("Asfaltatura");
    let bando = tender(&w, body);
    let email = "unica@asfalti.it";
    let uid = supplier(&w.app, email);
    let c = w.login(email);
    submit(&c, &bando, "A", b"documenti");
    submit(&c, &bando, "C", &offer_c("3.000"));
    past_opening(&mut w, &bando);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{empty}/valutazione/proposta"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "deserted");
    assert_eq!(p["award"]["outcome"], "deserted");
    open(&w, &bando, "A");
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/ammissioni"),
            &json!({ "bidder_id": uid, "decision": "excluded", "reason": "art. 94 c.1: condanna definitiva" }),
        )
        .expect(200);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "deserted");
    assert_eq!(p["award"]["outcome"], "all_excluded");
    let comms = w
        .rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    assert_eq!(comms.as_array().expect("c").len(), 2, "exclusion and outcome: {comms}");
}

fn oepv_tender(w: &World) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": "Servizio di progettazione del verde pubblico",
        "cig": cig(3_000_000),
        "cpv_main": "90910000-9",
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "oepv",
        "oepv": {
            "criteria": [
                { "code": "T1", "description": "Metodologia", "weight": "40", "kind": "discretionary" },
                { "code": "T2", "description": "Gruppo di lavoro", "weight": "30", "kind": "discretionary" }
            ],
            "economic_weight": "30",
            "economic_formula": { "kind": "linear" },
            "technical_threshold": "20",
            "reparametrization": true
        },
        "base_amount": "400000.00",
        "safety_costs": "0",
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "B", "C"],
        "custodians": [w.rup_id, w.custode],
        "custodian_threshold": 2
    })
}

#[test]
fn oepv_with_three_commissioners_and_six_bidders_to_the_award_after_the_standstill() {
    let mut w = world();
    let admin = w.app.admin();
    let c2 = official(&admin, "ingegnere@comune.milano.it", "commission", &w.ente);
    let c3 = official(&admin, "agronomo@comune.milano.it", "commission", &w.ente);
    let c1 = w.custode.clone();
    let bando = tender(&w, oepv_tender(&w));
    // Discounts and coefficients (T1, T2) per commissioner; hand computation below.
    let discounts = ["10", "20", "25", "15", "30", "25"];
    let t1: [[&str; 3]; 6] = [
        ["0.8"; 3],
        ["0.5", "0.6", "0.7"],
        ["0.4"; 3],
        ["0.2"; 3],
        ["0.1"; 3],
        ["0.4"; 3],
    ];
    let t2: [[&str; 3]; 6] = [
        ["0.5"; 3],
        ["0.5"; 3],
        ["0.25"; 3],
        ["0.4", "0.5", "0.6"],
        ["0.1"; 3],
        ["0.25"; 3],
    ];
    let mut bidders = Vec::new();
    for (i, disc) in discounts.iter().enumerate() {
        let email = format!("studio{}@verde.it", i + 1);
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        submit(
            &c,
            &bando,
            "B",
            format!("Relazione tecnica dello studio {}", i + 1).as_bytes(),
        );
        submit(&c, &bando, "C", &offer_c(disc));
        bidders.push((uid, email));
    }
    // The commission only after the deadline (art. 93 c.3).
    let path = format!("/api/v1/bandi/{bando}/valutazione/commissione");
    w.rup
        .post(&path, &json!({ "members": [c1, c2, c3], "president": c1 }))
        .expect_problem(409, "commission_before_deadline");
    past_opening(&mut w, &bando);
    w.rup
        .post(&path, &json!({ "members": [c1, c2], "president": c1 }))
        .expect_problem(422, "commission_size");
    w.rup
        .post(
            &path,
            &json!({ "members": [c1, c2, c3, w.rup_id, bidders[0].0, bidders[1].0], "president": c1 }),
        )
        .expect_problem(422, "commission_size");
    w.rup
        .post(&path, &json!({ "members": [c1, c2, bidders[0].0], "president": c1 }))
        .expect_problem(422, "commissioner_not_official");
    let p = w
        .rup
        .post(&path, &json!({ "members": [c1, c2, c3], "president": c1 }))
        .expect(201);
    assert_eq!(p["commission"].as_array().expect("c").len(), 3);

    open(&w, &bando, "A");
    for (uid, _) in &bidders {
        admit(&w, &bando, uid);
    }
    open(&w, &bando, "B");
    let k1 = w.login("custode@comune.milano.it");
    let k2 = w.login("ingegnere@comune.milano.it");
    let k3 = w.login("agronomo@comune.milano.it");
    // Only declared members reach envelope B; the RUP is not a member.
    k1.get(&format!("/api/v1/bandi/{bando}/valutazione/buste-b"))
        .expect_problem(409, "declarations_missing");
    let decl = format!("{path}/dichiarazione");
    k1.post(&decl, &json!({ "no_incompatibility": false, "text": "conflitto" }))
        .expect_problem(422, "incompatible_commissioner");
    for k in [&k1, &k2, &k3] {
        k.post(&decl, &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" })).expect(200);
    }
    w.rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione/buste-b"))
        .expect_problem(403, "forbidden");
    let b = k2
        .get(&format!("/api/v1/bandi/{bando}/valutazione/buste-b"))
        .expect(200);
    assert_eq!(b.as_array().expect("b").len(), 6);
    let first = b[0].clone();
    let reply = k2.get(&format!(
        "/api/v1/bandi/{bando}/valutazione/buste-b/{}",
        first["envelope_id"].as_str().expect("id")
    ));
    assert_eq!(reply.status, 200);
    assert!(reply.text.starts_with("Relazione tecnica"));

    // Coefficients: every commissioner, every offer, every criterion; raw values kept.
    let coeff = format!("/api/v1/bandi/{bando}/valutazione/coefficienti");
    k1.post(
        &coeff,
        &json!({ "bidder_id": bidders[0].0, "coefficients": { "T1": "1.2" } }),
    )
    .expect_problem(422, "coefficient_range");
    k1.post(
        &coeff,
        &json!({ "bidder_id": bidders[0].0, "coefficients": { "T9": "0.5" } }),
    )
    .expect_problem(422, "criterion_unknown");
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/tecnica/chiusura"),
            &json!({}),
        )
        .expect_problem(409, "coefficients_missing");
    for (i, (uid, _)) in bidders.iter().enumerate() {
        for (m, k) in [&k1, &k2, &k3].iter().enumerate() {
            k.post(
                &coeff,
                &json!({ "bidder_id": uid, "coefficients": { "T1": t1[i][m], "T2": t2[i][m] } }),
            )
            .expect(201);
        }
    }
    let p = k1
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/tecnica/chiusura"),
            &json!({}),
        )
        .expect(200);
    assert_eq!(p["coefficients"].as_array().expect("raw").len(), 36);
    let tech = &p["evaluation"]["technical"]["report"]["offers"];
    let tech_of = |i: usize| {
        tech.as_array()
            .expect("t")
            .iter()
            .find(|o| o["id"] == bidders[i].0.as_str())
            .expect("offer")
            .clone()
    };
    // T1 averages 0.8, 0.6, 0.4, 0.2, 0.1, 0.4 → riparametrate on 0.8: 40, 30, 20, 10, 5, 20.
    // T2 averages 0.5, 0.5, 0.25, 0.5, 0.1, 0.25 → on 0.5: 30, 30, 15, 30, 6, 15.
    let totals = ["70", "60", "35", "40", "11", "35"];
    for (i, t) in totals.iter().enumerate() {
        assert_eq!(
            dec(&tech_of(i)["total_before_second_reparametrization"]),
            d(t),
            "bidder {i}"
        );
    }
    assert_eq!(dec(&tech_of(1)["criteria"][0]["average"]), d("0.6"));
    assert_eq!(dec(&tech_of(1)["criteria"][0]["coefficient"]), d("0.75"));
    // Soglia 20: the fifth offer (11 points) is excluded.
    assert_eq!(tech_of(4)["admitted"], false);
    assert_eq!(participant(&p, &bidders[4].0)["excluded_phase"], "technical");
    k1.post(
        &coeff,
        &json!({ "bidder_id": bidders[0].0, "coefficients": { "T1": "0.9" } }),
    )
    .expect_problem(409, "technical_phase_closed");

    // Economic phase, linear on the discount (30 points), Rmax = 25 among the admitted:
    // 12, 24, 30, 18, —, 30 → totals 82, 84, 65, 58, —, 65. The 3rd and 6th tie on total and
    // technical score: the public draw decides.
    open(&w, &bando, "C");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    let e = &p["evaluation"];
    assert_eq!(e["anomaly_applies"], false);
    let ranking = e["ranking"].as_array().expect("ranking");
    assert_eq!(ranking.len(), 5);
    let line = |i: usize| {
        ranking
            .iter()
            .find(|l| l["bidder_id"] == bidders[i].0.as_str())
            .expect("line")
            .clone()
    };
    assert_eq!(dec(&line(1)["total"]), d("84"));
    assert_eq!(line(1)["rank"], 1);
    assert_eq!(dec(&line(0)["total"]), d("82"));
    assert_eq!(line(0)["rank"], 2);
    assert_eq!(dec(&line(2)["economic"]), d("30"));
    assert_eq!(dec(&line(2)["total"]), d("65"));
    assert_eq!(dec(&line(5)["total"]), d("65"));
    assert_eq!(line(2)["tie_break"], "draw");
    assert_eq!(line(5)["tie_break"], "draw");
    let mut tied = vec![
        line(2)["rank"].as_u64().expect("r"),
        line(5)["rank"].as_u64().expect("r"),
    ];
    tied.sort_unstable();
    assert_eq!(tied, vec![3, 4]);
    assert_eq!(line(3)["rank"], 5);
    assert!(e["draw"]["beacon"].as_str().is_some_and(|b| !b.is_empty()));

    // Art. 110 on the best offer: explanations within 15 days, accepted.
    let a110 = format!("/api/v1/bandi/{bando}/valutazione/art110");
    w.rup
        .post(
            &a110,
            &json!({ "bidder_id": bidders[0].0, "request": "costo del personale" }),
        )
        .expect_problem(422, "not_best_offer");
    let req = w
        .rup
        .post(
            &a110,
            &json!({ "bidder_id": bidders[1].0, "request": "Giustificare il costo del personale" }),
        )
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect_problem(409, "art110_pending");
    let best = w.login(&bidders[1].1);
    best.post(
        &format!("{a110}/{}/risposta", id(&req)),
        &json!({ "answer": "Si allegano le tabelle del CCNL applicato" }),
    )
    .expect(200);
    w.rup
        .post(&format!("{a110}/{}/esito", id(&req)), &json!({ "accepted": true }))
        .expect(200);

    // Proposal, requirements, then the award (effective at once, art. 17 c.5), above threshold
    // with six offers: standstill of 32 days (art. 18 c.3 as amended, tender published in 2026).
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
              &json!({ "requirement": "Iscrizione all'albo professionale", "evidence": "Ordine degli architetti, n. 1234", "satisfied": true }))
        .expect(201);
    w.app.clock.set(at("2026-06-20T08:00:00Z"));
    w.relogin();
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "awarded");
    let award = &p["award"];
    assert_eq!(award["winner_id"], bidders[1].0.as_str());
    assert_eq!(award["standstill_applies"], true);
    assert_eq!(award["standstill_end"]["utc"], "2026-07-22T08:00:00Z");
    assert!(award["standstill_why"]
        .as_str()
        .expect("why")
        .starts_with("art. 18 c.3"));
    assert_eq!(
        p["award"]["ready_for_contract"], false,
        "the standstill has not run yet"
    );
    w.app
        .clock
        .set(Utc.with_ymd_and_hms(2026, 7, 22, 8, 0, 0).single().expect("t"));
    w.relogin();
    let p = procedura(&w, &bando);
    assert_eq!(p["award"]["ready_for_contract"], true);
    // The award communication states the standstill end to every bidder (six).
    let comms = w
        .rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    let awards: Vec<&Value> = comms
        .as_array()
        .expect("c")
        .iter()
        .filter(|n| n["subject"].as_str().expect("s").starts_with("Aggiudicazione"))
        .collect();
    assert_eq!(awards.len(), 6);
    assert!(awards
        .iter()
        .all(|n| n["body"].as_str().expect("b").contains("2026-07-22")));
    // OEPV terms: the winner's own 20 % on 400,000.00 (no safety costs), stated in every
    // award communication (art. 90), the losers' included.
    let t = &p["award_terms"];
    assert_eq!(t["winner_id"], bidders[1].0.as_str(), "{t}");
    assert_eq!(t["rule"], "own_discount", "{t}");
    assert_eq!(dec(&t["awarded_discount"]), d("20"), "{t}");
    assert_eq!(dec(&t["contract_amount"]), d("320000.00"), "{t}");
    assert!(
        awards.iter().all(|n| n["body"]
            .as_str()
            .expect("b")
            .contains("Ribasso di aggiudicazione 20% (ribasso offerto 20%), importo contrattuale 320000.00 euro")),
        "{awards:?}"
    );
}

/// Issue 6 point 3: quantitative and tabular criteria are computed by the platform from the
/// values each bidder declared in envelope B (a JSON document with `values`, docs/seal.md);
/// commissioners enter coefficients only for the discretionary criterion (422
/// `criterion_not_discretionary` otherwise); riparametrazione per (discretionary) criterion and,
/// since the tender says so, on the technical total; the soglia before the latter.
#[test]
fn quantitative_and_tabular_criteria_come_from_envelope_b_and_the_total_is_riparametrato() {
    let mut w = world();
    let mut body = oepv_tender(&w);
    body["cig"] = json!(cig(3_000_007));
    body["oepv"] = json!({
        "criteria": [
            { "code": "T1", "description": "Metodologia", "weight": "30", "kind": "discretionary" },
            { "code": "T2", "description": "Tempo di intervento (ore)", "weight": "20", "kind": "quantitative",
              "quantitative": { "better": "lower", "min": "0", "max": "40" } },
            { "code": "T3", "description": "Certificazione ambientale", "weight": "10", "kind": "tabular",
              "table": [ { "option": "EMAS", "coefficient": "1" }, { "option": "ISO 14001", "coefficient": "0.625" },
                         { "option": "nessuna", "coefficient": "0" } ] },
            { "code": "T4", "description": "Anni di esperienza", "weight": "10", "kind": "tabular",
              "table": [ { "to": "5", "coefficient": "0" }, { "from": "5", "to": "10", "coefficient": "0.5" },
                         { "from": "10", "coefficient": "1" } ] }
        ],
        "economic_weight": "30",
        "economic_formula": { "kind": "linear" },
        "technical_threshold": "20",
        "reparametrization": true,
        "reparametrize_total": true
    });
    // A table whose ranges overlap is refused when the tender is written.
    let mut bad = body.clone();
    bad["oepv"]["criteria"][3]["table"][1]["from"] = json!("4");
    w.rup
        .post("/api/v1/bandi", &bad)
        .expect_problem(422, "oepv_table_overlap");
    let bando = tender(&w, body);
    let c1 = w.custode.clone();
    // Envelope B: the declared values (the fourth bidder sends a plain report, no values).
    // The second sends several files, as the portal and `centrale seal --file` pack them:
    // its values are the archive's `valori-tecnici.json`.
    let values_2 = json!({ "values": { "T2": 20, "T3": "nessuna", "T4": "7" } }).to_string();
    let envelopes_b = [
        json!({ "relazione": "Studio 1", "values": { "T2": "10", "T3": "ISO 14001", "T4": 12 } })
            .to_string()
            .into_bytes(),
        busta(
            &bando,
            "B",
            &[
                ("relazione-tecnica.pdf", b"%PDF-1.4 Studio 2"),
                (offerte::archive::VALUES_NAME, values_2.as_bytes()),
            ],
        ),
        json!({ "relazione": "Studio 3", "values": { "T2": "50", "T4": 3 } })
            .to_string()
            .into_bytes(),
        b"Relazione tecnica senza valori".to_vec(),
    ];
    let mut bidders = Vec::new();
    for (i, b) in envelopes_b.iter().enumerate() {
        let email = format!("tecnico{}@verde.it", i + 1);
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        submit(&c, &bando, "B", b);
        submit(&c, &bando, "C", &offer_c("10"));
        bidders.push(uid);
    }
    past_opening(&mut w, &bando);
    let path = format!("/api/v1/bandi/{bando}/valutazione/commissione");
    w.rup
        .post(&path, &json!({ "members": [c1], "president": c1 }))
        .expect(201);
    open(&w, &bando, "A");
    for uid in &bidders {
        admit(&w, &bando, uid);
    }
    open(&w, &bando, "B");
    let k1 = w.login("custode@comune.milano.it");
    k1.post(
        &format!("{path}/dichiarazione"),
        &json!({ "no_incompatibility": true, "text": "Nessuna incompatibilità (art. 93 c.5)" }),
    )
    .expect(200);
    let coeff = format!("/api/v1/bandi/{bando}/valutazione/coefficienti");
    // Only the discretionary criterion takes a commissioner's coefficient.
    for code in ["T2", "T3", "T4"] {
        let p = k1
            .post(
                &coeff,
                &json!({ "bidder_id": bidders[0], "coefficients": { "T1": "0.5", code: "1" } }),
            )
            .expect_problem(422, "criterion_not_discretionary");
        assert_eq!(p["field"], format!("coefficients.{code}"));
    }
    for (uid, t1) in bidders.iter().zip(["0.5", "0.8", "0.4", "0.6"]) {
        k1.post(&coeff, &json!({ "bidder_id": uid, "coefficients": { "T1": t1 } }))
            .expect(201);
    }
    let p = k1
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/tecnica/chiusura"),
            &json!({}),
        )
        .expect(200);
    assert_eq!(p["coefficients"].as_array().expect("raw").len(), 4, "only T1 was typed");
    let technical = &p["evaluation"]["technical"];
    let computed = technical["computed"].as_array().expect("computed");
    assert_eq!(computed.len(), 12);
    let comp = |i: usize, code: &str| {
        computed
            .iter()
            .find(|c| c["bidder_id"] == bidders[i].as_str() && c["criterion"] == code)
            .expect("computed")
            .clone()
    };
    // T2, lower is better on [0, 40]: 10 h → 30/40 = 0.75; 20 h → 0.5; 50 h → brought to 40 → 0.
    // T3: ISO 14001 → 0.625, nessuna → 0, not declared → 0. T4: 12 → 1, 7 → 0.5, 3 → 0.
    let expected = [
        ["0.75", "0.625", "1"],
        ["0.5", "0", "0.5"],
        ["0", "0", "0"],
        ["0", "0", "0"],
    ];
    for (i, row) in expected.iter().enumerate() {
        for (code, c) in ["T2", "T3", "T4"].iter().zip(row) {
            assert_eq!(dec(&comp(i, code)["coefficient"]), d(c), "bidder {i} {code}");
        }
    }
    assert_eq!(comp(2, "T2")["declared"], "50");
    assert_eq!(comp(2, "T3")["note"], "valore non dichiarato");
    assert!(comp(3, "T2")["note"].as_str().expect("note").contains("JSON"));
    let tech = &technical["report"]["offers"];
    let tech_of = |i: usize| {
        tech.as_array()
            .expect("t")
            .iter()
            .find(|o| o["id"] == bidders[i].as_str())
            .expect("offer")
            .clone()
    };
    // T1 (30) riparametrato on the best average 0.8: 0.625, 1, 0.5, 0.75 → 18.75, 30, 15, 22.5.
    // T2 (20) is not riparametrato (the best stays 0.75 → 15): 15, 10, 0, 0. T3 (10): 6.25, 0, 0, 0.
    // T4 (10): 10, 5, 0, 0. Totals 50, 45, 15, 22.5; the third is below the soglia of 20.
    // On the total: × 70/50 = 1.4 → 70, 63, —, 31.5.
    let first = ["50", "45", "15", "22.5"];
    let total = [Some("70"), Some("63"), None, Some("31.5")];
    for i in 0..4 {
        assert_eq!(
            dec(&tech_of(i)["total_before_second_reparametrization"]),
            d(first[i]),
            "bidder {i}"
        );
        match total[i] {
            Some(t) => assert_eq!(dec(&tech_of(i)["total"]), d(t), "bidder {i}"),
            None => assert!(tech_of(i).get("total").is_none(), "bidder {i}"),
        }
    }
    let crit_of = |i: usize, k: usize| tech_of(i)["criteria"][k].clone();
    assert_eq!(dec(&crit_of(0, 0)["coefficient"]), d("0.625"));
    assert_eq!(dec(&crit_of(0, 1)["coefficient"]), d("0.75"));
    assert_eq!(dec(&crit_of(0, 1)["points"]), d("15"));
    assert_eq!(tech_of(2)["admitted"], false);
    assert_eq!(participant(&p, &bidders[2])["excluded_phase"], "technical");
    assert_eq!(dec(&technical["report"]["max_technical_points"]), d("70"));
}

/// Lots (issue 5: "a bid for a tender or lot"; issue 6: "each lot is decided separately"): a
/// lowest-price works tender with two lots; the suppliers choose their lots (one bids on both),
/// every envelope is opened once per tender and kind, and each lot is admitted, ranked and
/// decided on its own: lot 1 is awarded and made effective, lot 2 (every offer excluded) is
/// deserted, and the tender follows bando's rules to `effective`.
#[test]
fn a_tender_with_two_lots_is_decided_lot_by_lot_one_awarded_the_other_deserted() {
    let mut w = world();
    let mut body = works_tender(&w, 4);
    body["oggetto"] = json!("Manutenzione delle scuole e degli uffici");
    body["lotti"] = json!([
        { "oggetto": "Lotto 1 - Scuole", "cig": cig(2_100_001), "base_amount": "600000.00", "safety_costs": "12000.00" },
        { "oggetto": "Lotto 2 - Uffici", "cig": cig(2_100_002), "base_amount": "400000.00", "safety_costs": "8000.00" }
    ]);
    let bando = tender(&w, body);
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    let lot1 = public["lotti"][0]["id"].as_str().expect("lot 1").to_string();
    let lot2 = public["lotti"][1]["id"].as_str().expect("lot 2").to_string();
    let lot_submit = |c: &Client, lot: &str, kind: &str, body: &[u8]| {
        c.post_raw(
            &format!("/api/v1/bandi/{bando}/lotti/{lot}/offerta/buste/{kind}"),
            "application/octet-stream",
            body,
        )
        .expect(201)
    };

    // Lot 1: three bidders; lot 2: a fourth, and the first bids on both lots.
    let mut bidders = Vec::new();
    for i in 0..4 {
        let email = format!("impresa{i}@lotti.it");
        let uid = supplier(&w.app, &email);
        bidders.push((uid, email));
    }
    let c0 = w.login(&bidders[0].1);
    // A tender with lots takes bids only for a lot; a lot of another tender does not exist.
    c0.post_raw(
        &format!("/api/v1/bandi/{bando}/offerta/buste/A"),
        "application/octet-stream",
        b"x",
    )
    .expect_problem(422, "lot_required");
    c0.post_raw(
        &format!("/api/v1/bandi/{bando}/lotti/{}/offerta/buste/A", w.ente),
        "application/octet-stream",
        b"x",
    )
    .expect_problem(404, "not_found");
    for (i, discount) in ["10.500", "12.250", "11.000"].iter().enumerate() {
        let c = w.login(&bidders[i].1);
        let r = lot_submit(&c, &lot1, "A", format!("documentazione {i} lotto 1").as_bytes());
        // The signed receipt names the lot: tender <tender>/<lot>.
        assert!(
            r["receipt"]
                .as_str()
                .expect("receipt")
                .contains(&format!("\ntender {bando}/{lot1}\n")),
            "{r}"
        );
        lot_submit(&c, &lot1, "C", &offer_c(discount));
    }
    for i in [0usize, 3] {
        let c = w.login(&bidders[i].1);
        lot_submit(&c, &lot2, "A", format!("documentazione {i} lotto 2").as_bytes());
        lot_submit(&c, &lot2, "C", &offer_c(if i == 0 { "9.000" } else { "30.000" }));
    }
    let mine = c0.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let lots_of_0: std::collections::BTreeSet<String> = mine
        .as_array()
        .expect("bids")
        .iter()
        .map(|b| b["lotto_id"].as_str().expect("lot").to_string())
        .collect();
    assert_eq!(
        lots_of_0,
        [lot1.clone(), lot2.clone()].into_iter().collect(),
        "one bid per lot"
    );

    past_opening(&mut w, &bando);
    // One opening per tender and kind: every lot's envelopes.
    assert_eq!(open(&w, &bando, "A")["envelopes"].as_array().expect("A").len(), 5);
    // The evaluation is per lot.
    w.rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione"))
        .expect_problem(409, "lot_required");
    let in_lot = |lot: &str, path: &str| format!("/api/v1/bandi/{bando}/valutazione{path}?lotto={lot}");
    for (uid, _) in &bidders[..3] {
        w.rup
            .post(
                &in_lot(&lot1, "/ammissioni"),
                &json!({ "bidder_id": uid, "decision": "admitted" }),
            )
            .expect(200);
    }
    let p1 = w.rup.get(&in_lot(&lot1, "")).expect(200);
    assert_eq!(p1["lotto"]["id"], lot1.as_str());
    assert_eq!(p1["participants"].as_array().expect("p").len(), 3);
    // Lot 2: bidder 0 (admitted in lot 1) and bidder 3 are both excluded here.
    let p2 = w.rup.get(&in_lot(&lot2, "")).expect(200);
    assert_eq!(
        p2["participants"].as_array().expect("p").len(),
        0,
        "no participant rows before the first decision"
    );
    for i in [0usize, 3] {
        w.rup
            .post(&in_lot(&lot2, "/ammissioni"),
                  &json!({ "bidder_id": bidders[i].0, "decision": "excluded", "reason": "Garanzia provvisoria assente per il lotto 2" }))
            .expect(200);
    }
    let p2 = w.rup.get(&in_lot(&lot2, "")).expect(200);
    assert!(p2["participants"]
        .as_array()
        .expect("p")
        .iter()
        .all(|x| x["status"] == "excluded"));
    assert_eq!(
        participant(&w.rup.get(&in_lot(&lot1, "")).expect(200), &bidders[0].0)["status"],
        "admitted"
    );

    // Lot 1, economic phase on its own offers: 3 offers, no automatic exclusion; 12.250 wins.
    open(&w, &bando, "C");
    let p1 = w.rup.post(&in_lot(&lot1, "/economica"), &json!({})).expect(200);
    let e = &p1["evaluation"];
    assert_eq!(e["anomaly_applies"], false, "{e}");
    let ranked: Vec<Decimal> = e["ranking"]
        .as_array()
        .expect("ranking")
        .iter()
        .map(|l| dec(&l["discount"]))
        .collect();
    assert_eq!(ranked, vec![d("12.250"), d("11.000"), d("10.500")]);
    assert_eq!(e["ranking"][0]["bidder_id"], bidders[1].0.as_str());
    let p1 = w.rup.post(&in_lot(&lot1, "/proposta"), &json!({})).expect(200);
    assert_eq!(p1["award"]["winner_id"], bidders[1].0.as_str());
    assert_eq!(p1["lotto"]["state"], "proposed_award");
    assert_eq!(p1["state"], "evaluation", "lot 2 is still open");
    // Art. 17 c.5: the requirements of lot 1's proposed winner first, then its award.
    w.rup
        .post(&in_lot(&lot1, "/aggiudicazione"), &json!({}))
        .expect_problem(409, "requirements_unchecked");
    w.rup
        .post(
            &in_lot(&lot1, "/requisiti"),
            &json!({ "requirement": "Attestazione SOA OG1", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let p1 = w.rup.post(&in_lot(&lot1, "/aggiudicazione"), &json!({})).expect(200);
    assert_eq!(p1["lotto"]["state"], "awarded");

    // Lot 2: every offer excluded → deserted, with its communications; the tender moves on.
    let p2 = w.rup.post(&in_lot(&lot2, "/proposta"), &json!({})).expect(200);
    assert_eq!(p2["award"]["outcome"], "all_excluded");
    assert_eq!(p2["lotto"]["state"], "deserted");
    assert_eq!(p2["state"], "awarded", "lot 1 awarded, lot 2 deserted");

    // Lot 1's award is effective at once (art. 17 c.5); the tender is awarded.
    let p1 = w.rup.get(&in_lot(&lot1, "")).expect(200);
    assert_eq!(p1["lotto"]["state"], "awarded");
    assert_eq!(p1["award"]["effective_at"], p1["award"]["awarded_at"]);
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    assert_eq!(public["state"], "awarded");
    assert_eq!(public["lotti"][0]["state"], "awarded");
    assert_eq!(public["lotti"][1]["state"], "deserted");
    // The public outcome: lot 1's awardee and its three bidders; nothing for the deserted lot.
    let esito = w
        .app
        .client()
        .get(&format!("/api/v1/public/bandi/{bando}/esito"))
        .expect(200);
    assert_eq!(esito.as_array().map(Vec::len), Some(1), "{esito}");
    assert_eq!(esito[0]["lotto"], 1);
    assert_eq!(esito[0]["scope_id"], lot1.as_str());
    assert_eq!(esito[0]["participants"], 3);
    // Art. 90, per lot: lot 1's award reached its three bidders, lot 2's outcome its two.
    let all = w.rup.get(&in_lot(&lot1, "/comunicazioni")).expect(200);
    let to = |prefix: &str, lot: &str| -> std::collections::BTreeSet<String> {
        all.as_array()
            .expect("communications")
            .iter()
            .filter(|n| {
                n["subject"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(prefix) && s.contains(lot))
            })
            .map(|n| n["recipient_user_id"].as_str().expect("recipient").to_string())
            .collect()
    };
    assert_eq!(
        to("Aggiudicazione", "lotto 1"),
        bidders[..3].iter().map(|b| b.0.clone()).collect()
    );
    assert_eq!(
        to("Esito", "lotto 2"),
        [bidders[0].0.clone(), bidders[3].0.clone()].into_iter().collect()
    );
    assert_eq!(to("Esclusione", "lotto 2").len(), 2);
    assert!(to("Esclusione", "lotto 1").is_empty());
}

/// Art. 110 c.3–5: explanations asked of the best offer and not given within 15 days exclude
/// it, by the platform (no actor), once the term has passed (the clock is moved, not slept);
/// the next offer becomes the best and is proposed; the bidder is told (art. 90) and the
/// exclusion is audited without an actor.
#[test]
fn art110_explanations_not_given_within_fifteen_days_exclude_the_best_offer() {
    let mut w = world();
    let mut body = works_tender(&w, 5);
    body["oggetto"] = json!("Sistemazione del parco comunale");
    let bando = tender(&w, body);
    let mut bidders = Vec::new();
    for (i, discount) in ["18.000", "11.500", "9.250"].iter().enumerate() {
        let email = format!("impresa{i}@parchi.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"documentazione");
        submit(&c, &bando, "C", &offer_c(discount));
        bidders.push((uid, email));
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    for (uid, _) in &bidders {
        admit(&w, &bando, uid);
    }
    open(&w, &bando, "C");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    assert_eq!(p["evaluation"]["ranking"][0]["bidder_id"], bidders[0].0.as_str());

    let a110 = format!("/api/v1/bandi/{bando}/valutazione/art110");
    let req = w
        .rup
        .post(
            &a110,
            &json!({ "bidder_id": bidders[0].0, "request": "Giustificare il ribasso del 18%" }),
        )
        .expect(201);
    assert_eq!(
        req["deadline"], "2026-06-20T13:30:00Z",
        "15 calendar days, same Rome wall time"
    );

    // One second before the term: still pending, nobody excluded, no proposal.
    w.app.clock.set(at("2026-06-20T13:29:59Z"));
    w.relogin();
    let p = procedura(&w, &bando);
    assert_eq!(participant(&p, &bidders[0].0)["status"], "admitted");
    assert!(p["art110"][0]["outcome"].is_null());
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect_problem(409, "art110_pending");

    // At the term, with no answer: the platform proposes the exclusion (art. 30 c.3 lett. b),
    // the award waits for the RUP, who confirms it; the second offer is the best.
    w.app.clock.set(at("2026-06-20T13:30:00Z"));
    w.relogin();
    let p = procedura(&w, &bando);
    assert_eq!(participant(&p, &bidders[0].0)["status"], "admitted");
    assert_eq!(p["exclusion_proposals"][0]["phase"], "art110", "{p}");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect_problem(409, "exclusions_undecided");
    let p = confirm_proposed_exclusions(&w, &format!("/api/v1/bandi/{bando}/valutazione"));
    let first = participant(&p, &bidders[0].0);
    assert_eq!(first["status"], "excluded", "{first}");
    assert_eq!(first["excluded_phase"], "art110");
    assert!(
        first["reason"].as_str().expect("reason").starts_with("art. 110 c.3"),
        "{first}"
    );
    assert_eq!(first["decided_by"], w.rup_id.as_str(), "decided by the RUP: {first}");
    assert_eq!(p["art110"][0]["outcome"], "expired");
    // Too late to answer.
    w.login(&bidders[0].1)
        .post(
            &format!("{a110}/{}/risposta", id(&req)),
            &json!({ "answer": "Tardiva" }),
        )
        .expect_problem(409, "art110_closed");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    assert_eq!(p["award"]["winner_id"], bidders[1].0.as_str());
    // The bidder was told (art. 90), and the exclusion is in the audit trail and the log.
    let mine = w
        .login(&bidders[0].1)
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    assert!(
        mine.as_array()
            .expect("mine")
            .iter()
            .any(|n| n["subject"].as_str().is_some_and(|s| s.starts_with("Esclusione"))),
        "{mine}"
    );
    let events = audit_events(&w);
    let exclusion = events
        .iter()
        .find(|e| e["action"] == "aggiudicazione.esclusione" && e["object_id"] == bando.as_str())
        .expect("exclusion event");
    assert_eq!(exclusion["actor_user_id"], w.rup_id.as_str(), "the RUP's act");
    assert_eq!(exclusion["details"]["phase"], "art110");
    let proposal = events
        .iter()
        .find(|e| e["action"] == "aggiudicazione.esclusione_proposta" && e["object_id"] == bando.as_str())
        .expect("proposal event");
    assert!(proposal["actor_user_id"].is_null(), "proposed by the platform");
}

#[test]
fn a_single_offer_above_the_threshold_is_awarded_without_standstill() {
    let mut w = world();
    // Works above the EU threshold (5,404,000 from 2026): the standstill would apply, but
    // with a single offer art. 18 c.3 lett. a lifts it; no automatic exclusion either.
    let mut body = works_tender(&w, 9);
    body["base_amount"] = json!("6000000.00");
    body["anomaly_method"] = Value::Null;
    let bando = tender(&w, body);
    let email = "sola@costruzioni.it";
    let uid = supplier(&w.app, email);
    let c = w.login(email);
    submit(&c, &bando, "A", b"domanda e DGUE");
    submit(&c, &bando, "C", &offer_c("7.250"));
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    admit(&w, &bando, &uid);
    open(&w, &bando, "C");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    assert_eq!(p["evaluation"]["anomaly_applies"], false, "{p}");
    assert_eq!(p["evaluation"]["ranking"][0]["bidder_id"], uid.as_str());
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    // A proposal is not an award: the public outcome names nobody yet, and the bidder
    // itself learns nothing more there than anyone else.
    let esito = format!("/api/v1/public/bandi/{bando}/esito");
    assert_eq!(w.app.client().get(&esito).expect(200), json!([]));
    // The bidding session expired while the clock crossed the opening: a new login.
    let c = w.login(email);
    assert_eq!(c.get(&esito).expect(200), json!([]));
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    assert_eq!(p["award"]["winner_id"], uid.as_str());
    // Awarded: awardee, contract amount and date are public (art. 28), to anyone.
    let me = c.get("/api/v1/registry/operatori/me").expect(200);
    let public = w.app.client().get(&esito).expect(200);
    assert_eq!(public.as_array().map(Vec::len), Some(1), "{public}");
    assert_eq!(public[0]["ragione_sociale"], me["ragione_sociale"], "{public}");
    assert_eq!(public[0]["partita_iva"], me["partita_iva"]);
    assert_eq!(public[0]["awarded_at"], p["award"]["awarded_at"]);
    assert_eq!(public[0]["participants"], 1);
    assert!(public[0]["lotto"].is_null());
    assert_eq!(public[0]["contract_amount"], p["award_terms"]["contract_amount"], "{p}");
    assert!(public[0]["contract_amount"].is_string(), "{public}");
    let page = w.app.client().get("/esiti");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains(me["ragione_sociale"].as_str().expect("name")),
        "/esiti names the awardee"
    );
    assert_eq!(p["award"]["standstill_applies"], false, "{p}");
    assert!(
        p["award"]["standstill_why"]
            .as_str()
            .expect("why")
            .contains("una sola offerta"),
        "{p}"
    );
    assert!(p["award"]["standstill_end"].is_null());
}
