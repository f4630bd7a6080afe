//! Issue 9, finding 6 ("What it must show" point 5): no request body carries a seed; a tie is
//! drawn from the tender's checkpoint signed at its closing (fixed at the deadline, before any
//! envelope is opened), and anyone recomputes the draw with the public calculator.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;

fn works_tender(w: &World, n: u64) -> Value {
    works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Rifacimento dei marciapiedi",
        9_410_000 + n,
    )
}

/// Three bidders, two tied on the best discount; envelopes A and C opened, all admitted.
fn tied_tender(w: &mut World, n: u64) -> (String, Vec<String>) {
    let bando = tender(w, works_tender(w, n));
    let mut bidders = Vec::new();
    for (i, discount) in ["14.250", "14.250", "11.000"].iter().enumerate() {
        let email = format!("impresa{n}-{i}@pari.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"domanda e DGUE");
        submit(&c, &bando, "C", &offer_c(discount));
        bidders.push(uid);
    }
    past_opening(w, &bando);
    open(w, &bando, "A");
    for b in &bidders {
        admit(w, &bando, b);
    }
    open(w, &bando, "C");
    (bando, bidders)
}

#[test]
fn the_rup_cannot_choose_the_tie_break_seed_of_the_economic_phase() {
    let mut w = world();
    let (bando, _) = tied_tender(&mut w, 1);
    let economica = format!("/api/v1/bandi/{bando}/valutazione/economica");
    for body in [json!({ "draw_seed": 7 }), json!({ "seed": "favorito" })] {
        let refused = w.rup.post(&economica, &body).expect_problem(400, "json_invalid");
        assert!(refused["field"].is_string(), "{refused}");
    }
    // Nothing was computed by the refused calls.
    let p = w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200);
    assert!(p["evaluation"]["ranking"].is_null(), "{p}");
}

#[test]
fn a_tie_is_drawn_from_the_public_closing_checkpoint_and_anyone_recomputes_the_winner() {
    let mut w = world();
    let (bando, bidders) = tied_tender(&mut w, 2);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    let e = &p["evaluation"];
    let ranking = e["ranking"].as_array().expect("ranking");
    assert_eq!(ranking[0]["tie_break"], "draw", "{e}");
    assert_eq!(ranking[1]["tie_break"], "draw");
    let winner = ranking[0]["bidder_id"].as_str().expect("winner").to_string();
    assert!(winner == bidders[0] || winner == bidders[1]);

    // The beacon is the checkpoint signed at the tender's closing, as the public log serves it.
    let draw = &e["draw"];
    assert_eq!(draw["algorithm"], "centrale-draw/v1");
    assert_eq!(draw["purpose"], "tie-break");
    assert_eq!(draw["subject"], bando.as_str());
    let size = draw["beacon_tree_size"].as_u64().expect("size");
    let anon = w.app.client();
    let public = anon.get(&format!("/api/v1/log/checkpoint?size={size}"));
    assert_eq!(public.status, 200);
    assert_eq!(draw["beacon"].as_str(), Some(public.text.as_str()));

    // Anyone, with the public inputs only, gets the same seed and the same winner.
    let again = anon
        .post(
            "/api/v1/tools/draw",
            &json!({ "purpose": "tie-break", "subject": bando, "beacon": public.text,
                     "candidates": [bidders[1], bidders[0]] }),
        )
        .expect(200);
    assert_eq!(again["seed"], draw["seed"]);
    assert_eq!(again["drawn"], winner.as_str());
    assert_eq!(again["order"][1], ranking[1]["bidder_id"]);
    // A different beacon (another checkpoint) may give another order: the beacon matters.
    let seeds: std::collections::HashSet<String> = (0..8)
        .map(|i| {
            anon.post(
                "/api/v1/tools/draw",
                &json!({ "purpose": "tie-break", "subject": bando, "beacon": format!("{} {i}", public.text),
                         "candidates": [bidders[0], bidders[1]] }),
            )
            .expect(200)["seed"]
                .as_str()
                .expect("seed")
                .to_string()
        })
        .collect();
    assert_eq!(seeds.len(), 8);
    // The calculator refuses what it cannot compute.
    anon.post(
        "/api/v1/tools/draw",
        &json!({ "purpose": "scelta del RUP", "subject": bando, "beacon": "x", "candidates": [] }),
    )
    .expect_problem(422, "draw_purpose_unknown");
}

#[test]
fn the_rup_cannot_choose_the_seed_of_the_invitation_rotation() {
    let w = world();
    let refused = w
        .rup
        .post(
            "/api/v1/registry/invitation-proposals",
            &json!({ "ente_id": w.ente, "category": "45000000-7", "contract_type": "works",
                     "value": "400000.00", "seed": "sorteggio-favorevole" }),
        )
        .expect_problem(400, "json_invalid");
    assert_eq!(refused["field"], "seed", "{refused}");
}
