//! Issue 11 point 5, over HTTP: an envelope C that is no valid offer for the tender (not
//! JSON, more decimals than the bando allows, negative, over 100%) is found at the economic
//! phase and leads to that offer's proposed exclusion with its reason, which the RUP decides
//! (art. 30 c.3 lett. b); the tender proceeds and the good offer is awarded.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;

fn participant<'a>(p: &'a Value, bidder: &str) -> &'a Value {
    p["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|x| x["bidder_id"] == bidder)
        .expect("participant")
}

#[test]
fn bad_economic_offers_are_proposed_for_exclusion_with_their_reason_and_the_good_one_wins() {
    let mut w = world();
    let mut body = works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle strade", 1_150_001);
    // The bando admits two decimals in the discount (lex specialis).
    body["anomaly_terms"] = json!({ "offer_decimals": 2 });
    let bando = tender(&w, body);
    let b = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(b["anomaly_terms"]["offer_decimals"], 2, "{b}");
    let c_of = |discount: &str| offer_c(discount);
    let offers: Vec<(&str, Vec<u8>, &str)> = vec![
        ("good-best", c_of("12.50"), ""),
        ("good-second", c_of("10.00"), ""),
        ("not-json", b"ribasso del dodici per cento".to_vec(), "oggetto JSON"),
        ("three-decimals", c_of("12.345"), "cifre decimali"),
        ("over-100", c_of("120"), "fuori dall'intervallo"),
        ("negative", c_of("-5"), "ribasso non valido"),
    ];
    let mut bidders = Vec::new();
    for (name, c, why) in &offers {
        let email = format!("{name}@imprese.it");
        let uid = supplier(&w.app, &email);
        let s = w.login(&email);
        submit(&s, &bando, "A", b"domanda e DGUE");
        submit(&s, &bando, "C", c);
        bidders.push((uid, *name, *why));
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    for (uid, _, _) in &bidders {
        admit(&w, &bando, uid);
    }
    // The opening itself works whatever the envelopes hold.
    let opened = open(&w, &bando, "C");
    assert_eq!(opened["envelopes"].as_array().expect("envelopes").len(), offers.len());
    let base = format!("/api/v1/bandi/{bando}/valutazione");
    let p = w.rup.post(&format!("{base}/economica"), &json!({})).expect(200);

    // The good offers are ranked; the bad ones are out of the ranking, proposed with a reason.
    let ranking = p["evaluation"]["ranking"].as_array().expect("ranking");
    let ranked: Vec<&str> = ranking.iter().map(|l| l["bidder_id"].as_str().expect("id")).collect();
    assert_eq!(ranked, vec![bidders[0].0.as_str(), bidders[1].0.as_str()], "{p}");
    let proposals = p["exclusion_proposals"].as_array().expect("proposals");
    assert_eq!(proposals.len(), 4, "{p}");
    for (uid, name, why) in &bidders[2..] {
        let x = proposals
            .iter()
            .find(|x| x["bidder_id"] == uid.as_str())
            .unwrap_or_else(|| panic!("{name} proposed: {p}"));
        assert_eq!(x["phase"], "economic");
        assert!(x["reason"].as_str().expect("reason").contains(why), "{name}: {x}");
        // Only proposed: nobody is excluded by the platform alone.
        assert_eq!(participant(&p, uid)["status"], "admitted", "{name}");
    }
    // The award waits for the RUP's decision (art. 30 c.3 lett. b).
    w.rup
        .post(&format!("{base}/proposta"), &json!({}))
        .expect_problem(409, "exclusions_undecided");
    // A bidder cannot decide its own proposal.
    let pid = id(&proposals[0]);
    w.login("not-json@imprese.it")
        .post(
            &format!("{base}/esclusioni/{pid}/decisione"),
            &json!({ "confirmed": false, "reason": "era valida" }),
        )
        .expect_problem(404, "not_found");

    let p = confirm_proposed_exclusions(&w, &base);
    for (uid, name, why) in &bidders[2..] {
        let x = participant(&p, uid);
        assert_eq!(x["status"], "excluded", "{name}");
        assert_eq!(x["excluded_phase"], "economic", "{name}");
        assert!(x["reason"].as_str().expect("reason").contains(why), "{name}: {x}");
    }
    let p = w.rup.post(&format!("{base}/proposta"), &json!({})).expect(200);
    assert_eq!(p["award"]["winner_id"], bidders[0].0.as_str());
    w.rup
        .post(&format!("{base}/requisiti"),
              &json!({ "requirement": "Attestazione SOA OG3 classifica III", "evidence": "Casellario ANAC", "satisfied": true }))
        .expect(201);
    let p = w.rup.post(&format!("{base}/aggiudicazione"), &json!({})).expect(200);
    assert_eq!(p["state"], "awarded", "{p}");
    assert_eq!(p["award"]["winner_id"], bidders[0].0.as_str());
    // Each excluded bidder was told its reason (art. 90), once.
    for (_, name, why) in &bidders[2..] {
        let told = w
            .login(&format!("{name}@imprese.it"))
            .get(&format!("{base}/comunicazioni"))
            .expect(200);
        let exclusions: Vec<&Value> = told
            .as_array()
            .expect("communications")
            .iter()
            .filter(|c| c["subject"].as_str().expect("subject").starts_with("Esclusione"))
            .collect();
        assert_eq!(exclusions.len(), 1, "{name}: {told}");
        assert!(exclusions[0].to_string().contains(why), "{name}: {told}");
    }
}

#[test]
fn a_bando_cannot_allow_more_decimals_than_the_platform_computes() {
    let w = world();
    let mut body = works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle strade", 1_150_002);
    body["anomaly_terms"] = json!({ "offer_decimals": 11 });
    let id = id(&w.rup.post("/api/v1/bandi", &body).expect(201));
    let r = w.rup.post(&format!("/api/v1/bandi/{id}/publish"), &json!({}));
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("offer_decimals_out_of_range"), "{}", r.text);
}
