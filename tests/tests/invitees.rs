//! Issue 9, finding 7: a procedure by invitation publishes only when every invitee is a real,
//! active supplier account whose operatore is qualified in the albo, each counted once; made-up
//! ids, repeated ids, officials and suspended suppliers do not make up art. 50's minimum.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;

/// A negotiated procedure for 180,000 EUR of works: art. 50 c.1 lett. c wants 5 invitees.
fn negotiated(w: &World, n: u64, invitees: &[String]) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": "Manutenzione del verde scolastico",
        "cig": cig(9_420_000 + n),
        "cpv_main": "45000000-7",
        "nuts": "ITC4C",
        "contract_type": "works",
        "procedure_type": "negoziata_senza_bando",
        "award_criterion": "minor_prezzo",
        "base_amount": "180000.00",
        "safety_costs": "5000.00",
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "C"],
        "anomaly_method": "A",
        "custodians": [w.rup_id, w.custode],
        "custodian_threshold": 2,
        "invitees": invitees
    })
}

fn publish(w: &World, body: &Value) -> journeys::Reply {
    let bando = id(&w.rup.post("/api/v1/bandi", body).expect(201));
    w.rup.post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
}

#[track_caller]
fn refused_naming_the_invitees(reply: journeys::Reply, code: &str) {
    let p = reply.expect_problem(422, code);
    assert_eq!(p["field"], "invitees", "{p}");
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("art. 50"), "{detail}");
}

#[test]
fn invitees_of_a_negotiated_procedure_must_be_distinct_qualified_suppliers_of_the_albo() {
    let w = world();
    let real: Vec<String> = (0..5)
        .map(|i| supplier(&w.app, &format!("invitata{i}@imprese.it")))
        .collect();

    // Made-up ids reach five on paper only.
    let mut made_up = real[..1].to_vec();
    made_up.extend((1..=4).map(|n| format!("00000000-0000-4000-8000-{n:012}")));
    refused_naming_the_invitees(publish(&w, &negotiated(&w, 1, &made_up)), "invitee_not_invitable");

    // One real supplier repeated five times is one invitee.
    let repeated = vec![real[0].clone(); 5];
    let p = w.rup.post("/api/v1/bandi", &negotiated(&w, 2, &repeated));
    refused_naming_the_invitees(p, "invitees_duplicate");

    // An official's account is not an operatore economico.
    let mut with_official = real[..4].to_vec();
    with_official.push(w.custode.clone());
    refused_naming_the_invitees(publish(&w, &negotiated(&w, 3, &with_official)), "invitee_not_invitable");

    // A supplier account that never registered in the albo.
    let unregistered = w.app.register_supplier("nessuno@imprese.it", "Operatore", PASSWORD).1;
    let mut with_unregistered = real[..4].to_vec();
    with_unregistered.push(unregistered);
    refused_naming_the_invitees(
        publish(&w, &negotiated(&w, 4, &with_unregistered)),
        "invitee_not_invitable",
    );

    // A suspended supplier.
    let suspended = supplier(&w.app, "sospesa@imprese.it");
    let op = w
        .login("sospesa@imprese.it")
        .get("/api/v1/registry/operatori/me")
        .expect(200);
    w.app
        .admin()
        .post(
            &format!("/api/v1/registry/operatori/{}/qualification", id(&op)),
            &json!({ "action": "suspend", "reason": "DURC irregolare segnalato dall'INPS" }),
        )
        .expect(200);
    let mut with_suspended = real[..4].to_vec();
    with_suspended.push(suspended);
    refused_naming_the_invitees(
        publish(&w, &negotiated(&w, 5, &with_suspended)),
        "invitee_not_invitable",
    );

    // Five real, distinct, qualified suppliers: the procedure publishes.
    let published = publish(&w, &negotiated(&w, 6, &real)).expect(200);
    assert_eq!(published["state"], "published");
}
