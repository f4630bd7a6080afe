//! Issue 10 point 3: Allegato II.2 as amended (D.Lgs. 209/2024) in the award workflow, over
//! HTTP on real sealed bids:
//!
//! * a Method B tender runs to its award at the second price s2, and the contract amount
//!   follows the awarded discount;
//! * a Method C tender where every offer is anomalous excludes nobody automatically: the RUP
//!   checks the best offer in contraddittorio (art. 110) before any proposal;
//! * the bando states Method C's reference discount (422 at publication otherwise), and the
//!   certain cross-border interest lifts automatic exclusion (art. 54 c.1);
//! * art. 54 c.2: the method drawn at the evaluation among those the bando allows, by the
//!   public draw on the closing checkpoint, recorded and audited.

use journeys::serde_json::{json, Value};
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

fn body(w: &World, n: u64, method: Value, terms: Value) -> Value {
    let mut b = works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Rifacimento dei marciapiedi",
        3_000_000 + n,
    );
    b["anomaly_method"] = method;
    b["anomaly_terms"] = terms;
    b
}

/// Bidders with these discounts, admitted, envelope C opened, economic phase computed, and
/// the exclusions it proposes confirmed by the RUP (art. 30 c.3 lett. b).
fn evaluated(w: &mut World, bando: &str, discounts: &[&str], tag: &str) -> (Vec<(String, String)>, Value) {
    let mut bidders = Vec::new();
    for (i, discount) in discounts.iter().enumerate() {
        let email = format!("impresa{i}@{tag}.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, bando, "A", b"documentazione");
        submit(&c, bando, "C", &offer_c(discount));
        bidders.push((uid, email));
    }
    past_opening(w, bando);
    open(w, bando, "A");
    for (uid, _) in &bidders {
        admit(w, bando, uid);
    }
    open(w, bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    let p = confirm_proposed_exclusions(w, &format!("/api/v1/bandi/{bando}/valutazione"));
    (bidders, p)
}

#[test]
fn a_method_b_tender_is_awarded_at_the_second_price_and_the_amount_follows() {
    let mut w = world();
    let bando = tender(&w, body(&w, 1, json!("B"), json!({})));
    // anomaly_bc_2025.json B-2025-01: T = 12.765416..., 13.70 and 19.90 excluded, 12.15 wins at 11.30.
    let discounts = ["8.00", "9.25", "10.40", "10.95", "11.30", "12.15", "13.70", "19.90"];
    let (bidders, p) = evaluated(&mut w, &bando, &discounts, "secondoprezzo");
    let r = &p["evaluation"]["anomaly"]["report"];
    assert_eq!(r["method"], "B", "{r}");
    assert_eq!(dec(&r["award_discount"]), d("11.30"), "{r}");
    assert_eq!(r["award_discount_rule"], "second_price", "{r}");
    for i in [6, 7] {
        let who = p["participants"]
            .as_array()
            .expect("list")
            .iter()
            .find(|x| x["bidder_id"] == bidders[i].0.as_str())
            .expect("p");
        assert_eq!(who["status"], "excluded", "{who}");
        assert_eq!(who["excluded_phase"], "anomaly");
    }
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    assert_eq!(p["award"]["winner_id"], bidders[5].0.as_str());
    let t = &p["award_terms"];
    assert_eq!(t["winner_id"], bidders[5].0.as_str(), "{t}");
    assert_eq!(dec(&t["offered_discount"]), d("12.15"), "{t}");
    assert_eq!(dec(&t["awarded_discount"]), d("11.30"), "{t}");
    assert_eq!(t["rule"], "second_price", "{t}");
    // 980,000.00 subject to discount × (1 − 11.30 %) + 20,000.00 safety costs.
    assert_eq!(dec(&t["amount_subject_to_discount"]), d("980000.00"), "{t}");
    assert_eq!(dec(&t["contract_amount"]), d("889260.00"), "{t}");
    // Recorded in the audit trail with the proposal.
    let events = audit_events(&w);
    let e = events
        .iter()
        .find(|e| e["action"] == "aggiudicazione.condizioni_aggiudicazione" && e["object_id"] == bando.as_str())
        .expect("terms event");
    assert_eq!(e["details"]["rule"], "second_price");
    // A bidder sees the terms only with the award (art. 90), not at the proposal.
    let mine = w
        .login(&bidders[0].1)
        .get(&format!("/api/v1/bandi/{bando}/valutazione"))
        .expect(200);
    assert!(mine["award_terms"].is_null(), "{mine}");
    // The award: every art. 90 communication states the second price and the contract amount.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA OG1", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    let comms = w
        .rup
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    let awards: Vec<&serde_json::Value> = comms
        .as_array()
        .expect("c")
        .iter()
        .filter(|n| n["subject"].as_str().is_some_and(|s| s.starts_with("Aggiudicazione")))
        .collect();
    assert_eq!(awards.len(), discounts.len(), "{comms}");
    assert!(
        awards.iter().all(|n| n["body"].as_str().is_some_and(|b| b.contains(
            "Ribasso di aggiudicazione 11.30% (ribasso offerto 12.15%), importo contrattuale 889260.00 euro"
        ))),
        "{awards:?}"
    );
}

#[test]
fn a_method_b_tie_at_the_top_is_drawn_and_awarded_at_its_own_discount() {
    let mut w = world();
    let bando = tender(&w, body(&w, 2, json!("B"), json!({})));
    // B-2025-02: 11.00 twice at the top, T = 11.5.
    let discounts = ["5.00", "7.00", "9.00", "10.00", "11.00", "11.00", "12.50", "20.00"];
    let (bidders, p) = evaluated(&mut w, &bando, &discounts, "parita");
    let r = &p["evaluation"]["anomaly"]["report"];
    assert_eq!(r["award_discount_rule"], "tie_own_discount", "{r}");
    let first = p["evaluation"]["ranking"][0].clone();
    assert_eq!(first["tie_break"], "draw", "{first}");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    let winner = p["award"]["winner_id"].as_str().expect("winner").to_string();
    assert!(winner == bidders[4].0 || winner == bidders[5].0, "drawn among the tied");
    assert_eq!(winner, first["bidder_id"].as_str().expect("id"));
    assert_eq!(dec(&p["award_terms"]["awarded_discount"]), d("11.00"));
    assert_eq!(p["award_terms"]["rule"], "tie_own_discount");
}

#[test]
fn method_c_needs_its_reference_discount_at_publication() {
    let w = world();
    let draft = id(&w
        .rup
        .post("/api/v1/bandi", &body(&w, 3, json!("C"), json!({})))
        .expect(201));
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{draft}/publish"), &json!({}))
        .expect_problem(422, "legal_violations");
    assert!(
        p["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["code"] == "reference_discount_required"),
        "{p}"
    );
    let off_table = body(&w, 4, json!("C"), json!({ "reference_discount": "10" }));
    let draft = id(&w.rup.post("/api/v1/bandi", &off_table).expect(201));
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{draft}/publish"), &json!({}))
        .expect_problem(422, "legal_violations");
    assert!(
        p["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["code"] == "reference_discount_motivation_required"),
        "{p}"
    );
    // Not for Method A.
    let draft = id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &body(&w, 5, json!("A"), json!({ "reference_discount": "10" })),
        )
        .expect(201));
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{draft}/publish"), &json!({}))
        .expect_problem(422, "legal_violations");
    assert!(
        p["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["code"] == "reference_discount_not_applicable"),
        "{p}"
    );
}

#[test]
fn a_method_c_tender_with_every_offer_anomalous_goes_to_contraddittorio() {
    let mut w = world();
    let terms = json!({ "reference_discount": "10",
                        "reference_discount_motivation": "prezzari regionali 2026: ribassi medi del settore inferiori alla Tabella A" });
    let bando = tender(&w, body(&w, 6, json!("C"), terms));
    let b = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(dec(&b["anomaly_terms"]["reference_discount"]), d("10"), "{b}");
    // C-2025-04: T = 10, every offer above it.
    let (bidders, p) = evaluated(&mut w, &bando, &["20", "21", "22", "23", "24"], "contraddittorio");
    let e = &p["evaluation"];
    let r = &e["anomaly"]["report"];
    assert_eq!(r["outcome"], "ALL_OFFERS_ANOMALOUS_CONTRADDITTORIO", "{r}");
    assert_eq!(r["excluded"], json!([]), "{r}");
    assert_eq!(r["anomalous_to_verify"].as_array().expect("list").len(), 5, "{r}");
    assert!(
        e["anomaly_why"].as_str().expect("why").contains("contraddittorio"),
        "{e}"
    );
    assert!(
        p["participants"]
            .as_array()
            .expect("list")
            .iter()
            .all(|x| x["status"] == "admitted"),
        "nobody excluded automatically"
    );
    // No proposal before the contraddittorio on the best offer.
    let proposal = format!("/api/v1/bandi/{bando}/valutazione/proposta");
    w.rup
        .post(&proposal, &json!({}))
        .expect_problem(409, "contraddittorio_required");
    let best = &bidders[4];
    assert_eq!(e["ranking"][0]["bidder_id"], best.0.as_str());
    let a110 = format!("/api/v1/bandi/{bando}/valutazione/art110");
    let req = w
        .rup
        .post(
            &a110,
            &json!({ "bidder_id": best.0, "request": "Giustificare il ribasso del 24%" }),
        )
        .expect(201);
    w.login(&best.1)
        .post(
            &format!("{a110}/{}/risposta", id(&req)),
            &json!({ "answer": "Economie di scala documentate" }),
        )
        .expect(200);
    w.rup
        .post(
            &format!("{a110}/{}/esito", id(&req)),
            &json!({ "accepted": true, "reason": "giustificazioni congrue" }),
        )
        .expect(200);
    let p = w.rup.post(&proposal, &json!({})).expect(200);
    assert_eq!(p["award"]["winner_id"], best.0.as_str());
    assert_eq!(dec(&p["award_terms"]["awarded_discount"]), d("24"));
    assert_eq!(p["award_terms"]["rule"], "own_discount");
}

#[test]
fn cross_border_interest_lifts_automatic_exclusion() {
    let w = world();
    // With a certain cross-border interest the bando may not state a method.
    let draft = id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &body(&w, 7, json!("A"), json!({ "cross_border_interest": true })),
        )
        .expect(201));
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{draft}/publish"), &json!({}))
        .expect_problem(422, "legal_violations");
    assert!(
        p["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["code"] == "anomaly_method_not_applicable"),
        "{p}"
    );
    let mut w = w;
    let bando = tender(&w, body(&w, 8, Value::Null, json!({ "cross_border_interest": true })));
    let (_, p) = evaluated(
        &mut w,
        &bando,
        &["8.00", "9.25", "10.40", "10.95", "11.30", "12.15", "13.70", "19.90"],
        "transfrontaliero",
    );
    let e = &p["evaluation"];
    assert_eq!(e["anomaly_applies"], false, "{e}");
    assert!(
        e["anomaly_why"].as_str().expect("why").contains("transfrontaliero"),
        "{e}"
    );
    assert!(p["participants"]
        .as_array()
        .expect("list")
        .iter()
        .all(|x| x["status"] == "admitted"));
}

#[test]
fn the_method_is_drawn_at_the_evaluation_by_the_public_draw() {
    let mut w = world();
    // Art. 54 c.2: one method or a draw among at least two, never both.
    let both = body(&w, 9, json!("A"), json!({ "draw_methods": ["A", "B"] }));
    let draft = id(&w.rup.post("/api/v1/bandi", &both).expect(201));
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{draft}/publish"), &json!({}))
        .expect_problem(422, "legal_violations");
    assert!(
        p["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["code"] == "anomaly_method_and_draw"),
        "{p}"
    );
    let bando = tender(&w, body(&w, 10, Value::Null, json!({ "draw_methods": ["B", "A"] })));
    let (_, p) = evaluated(
        &mut w,
        &bando,
        &["8.00", "9.25", "10.40", "10.95", "11.30", "12.15", "13.70", "19.90"],
        "sorteggio",
    );
    let a = &p["evaluation"]["anomaly"];
    let draw = &a["method_draw"];
    assert_eq!(draw["purpose"], "anomaly-method", "{a}");
    assert_eq!(draw["candidates"], json!(["A", "B"]), "{draw}");
    assert_eq!(a["report"]["method"], draw["drawn"], "{a}");
    // Anyone recomputes it with the public draw.
    let again = w
        .app
        .client()
        .post(
            "/api/v1/tools/draw",
            &json!({ "purpose": "anomaly-method", "subject": draw["subject"], "beacon": draw["beacon"], "candidates": ["B", "A"] }),
        )
        .expect(200);
    assert_eq!(again["drawn"], draw["drawn"]);
    assert_eq!(again["seed"], draw["seed"]);
    let events = audit_events(&w);
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "aggiudicazione.metodo_anomalia_sorteggiato"
                && e["details"]["drawn"] == draw["drawn"])
    );
}

/// Art. 30 c.3 lett. b: the anomaly exclusions are proposals; the RUP who rejects one (the
/// offer was justified) keeps the offer in the ranking, where its discount puts it, and it can
/// win; the one he confirms is excluded.
#[test]
fn a_rejected_anomaly_exclusion_puts_the_offer_back_in_the_ranking() {
    let mut w = world();
    let bando = tender(&w, body(&w, 9, json!("B"), json!({})));
    let discounts = ["8.00", "9.25", "10.40", "10.95", "11.30", "12.15", "13.70", "19.90"];
    let mut bidders = Vec::new();
    for (i, discount) in discounts.iter().enumerate() {
        let email = format!("impresa{i}@rigetto.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"documentazione");
        submit(&c, &bando, "C", &offer_c(discount));
        bidders.push(uid);
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    for uid in &bidders {
        admit(&w, &bando, uid);
    }
    open(&w, &bando, "C");
    let base = format!("/api/v1/bandi/{bando}/valutazione");
    let p = w.rup.post(&format!("{base}/economica"), &json!({})).expect(200);
    let proposals = p["exclusion_proposals"].as_array().expect("proposals").clone();
    let of = |who: &str| {
        proposals
            .iter()
            .find(|x| x["bidder_id"] == who)
            .unwrap_or_else(|| panic!("a proposal for {who} in {proposals:?}"))
    };
    // 13.70 was justified: rejected; 19.90 confirmed.
    w.rup
        .post(
            &format!("{base}/esclusioni/{}/decisione", id(of(&bidders[6]))),
            &json!({ "confirmed": false, "reason": "Giustificazioni dei prezzi ritenute congrue (verbale n. 3)" }),
        )
        .expect(200);
    let p = w
        .rup
        .post(
            &format!("{base}/esclusioni/{}/decisione", id(of(&bidders[7]))),
            &json!({ "confirmed": true, "reason": "Ribasso non giustificato" }),
        )
        .expect(200);
    let status = |who: &str| {
        p["participants"]
            .as_array()
            .expect("participants")
            .iter()
            .find(|x| x["bidder_id"] == who)
            .map(|x| x["status"].clone())
            .expect("participant")
    };
    assert_eq!(status(&bidders[6]), "admitted", "{p}");
    assert_eq!(status(&bidders[7]), "excluded", "{p}");
    assert_eq!(p["evaluation"]["ranking"][0]["bidder_id"], bidders[6].as_str(), "{p}");
    let p = w.rup.post(&format!("{base}/proposta"), &json!({})).expect(200);
    assert_eq!(p["award"]["winner_id"], bidders[6].as_str(), "{p}");
}
