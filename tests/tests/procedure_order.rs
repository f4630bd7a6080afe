//! Issue 9, "the procedure keeps its order, whoever asks" (findings 2, 3, 4, 8 first race, 9):
//!
//! * on OEPV the prices (envelope C) open only after the commission closed the technical
//!   phase, and once C is open the scores are frozen;
//! * envelopes open only in the opening session (state and `opening_at`, on the clock), never
//!   on a cancelled or deserted tender;
//! * the award states are reached only through the award procedure, never through the
//!   generic transition routes;
//! * nothing changes the bando at or after its deadline, even before the scheduler ticks;
//! * two clicks on "open" at once: one opening, nothing lost.

use std::sync::{Arc, Barrier};

use chrono::Duration;
use domain::clock::Clock;
use journeys::serde_json::{json, Value};

use journeys::tender_world::*;

/// Deadline 5 June 2026 12:00 Rome (10:00Z); opening session 15:00 Rome (13:00Z).
fn deadline() -> chrono::DateTime<chrono::Utc> {
    at("2026-06-05T10:00:00Z")
}

fn session() -> chrono::DateTime<chrono::Utc> {
    at("2026-06-05T13:00:00Z")
}

fn lowest_price(w: &World, n: u64) -> Value {
    works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione ordinaria del verde",
        4_000_000 + n,
    )
}

fn oepv(w: &World, n: u64) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": "Servizio di progettazione del verde pubblico",
        "cig": cig(4_100_000 + n),
        "cpv_main": "90910000-9",
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "oepv",
        "oepv": {
            "criteria": [
                { "code": "T1", "description": "Metodologia", "weight": "70", "kind": "discretionary" }
            ],
            "economic_weight": "30",
            "economic_formula": { "kind": "linear" }
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

/// Every custodian submits his own share of `kind` (the opening then needs no key material).
fn give_shares(w: &World, bando: &str, kind: &str) {
    for (email, (_, key)) in w.custodian_emails.iter().zip(&w.custodian_keys) {
        journeys::tender_world::submit_share(&w.login(email), key, bando, kind);
    }
}

fn try_open(w: &World, bando: &str, kind: &str) -> journeys::Reply {
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/{kind}"), &json!({}))
}

fn state_of(w: &World, bando: &str) -> Value {
    w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["state"].clone()
}

fn plaintext(w: &World, envelope: &str) -> (u16, String) {
    let r = w.rup.get(&format!("/api/v1/buste/{envelope}/contenuto"));
    (r.status, r.text)
}

#[test]
fn on_oepv_the_prices_open_only_after_the_technical_phase_is_closed_and_then_the_scores_freeze() {
    let mut w = world();
    let admin = w.app.admin();
    let c1 = w.custode.clone();
    let c2 = official(&admin, "ingegnere@comune.milano.it", "commission", &w.ente);
    let c3 = official(&admin, "agronomo@comune.milano.it", "commission", &w.ente);
    let bando = tender(&w, oepv(&w, 1));
    let uid = supplier(&w.app, "studio@verde.it");
    let s = w.login("studio@verde.it");
    submit(&s, &bando, "A", b"domanda e DGUE");
    submit(&s, &bando, "B", b"Relazione tecnica");
    submit(&s, &bando, "C", &offer_c("12"));
    past_opening(&mut w, &bando);
    let commission = format!("/api/v1/bandi/{bando}/valutazione/commissione");
    w.rup
        .post(&commission, &json!({ "members": [c1, c2, c3], "president": c1 }))
        .expect(201);
    open(&w, &bando, "A");
    admit(&w, &bando, &uid);
    open(&w, &bando, "B");
    // Straight after B, before the commission has scored anything: the prices stay sealed.
    let p = try_open(&w, &bando, "C").expect_problem(409, "technical_phase_open");
    assert!(p["detail"].as_str().unwrap_or_default().contains("il bando"), "{p}");
    let members: Vec<_> = [
        "custode@comune.milano.it",
        "ingegnere@comune.milano.it",
        "agronomo@comune.milano.it",
    ]
    .iter()
    .map(|e| w.login(e))
    .collect();
    let coeff = format!("/api/v1/bandi/{bando}/valutazione/coefficienti");
    for k in &members {
        k.post(&format!("{commission}/dichiarazione"), &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" }))
            .expect(200);
    }
    for k in &members {
        k.post(&coeff, &json!({ "bidder_id": uid, "coefficients": { "T1": "0.7" } }))
            .expect(201);
    }
    // Scores entered but the phase not closed yet: still sealed.
    try_open(&w, &bando, "C").expect_problem(409, "technical_phase_open");
    let openings = w.rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200);
    assert_eq!(openings.as_array().map(Vec::len), Some(2), "A and B only");
    members[0]
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/tecnica/chiusura"),
            &json!({}),
        )
        .expect(200);
    open(&w, &bando, "C");
    // Prices known: no coefficient and no closing changes the technical scores any more.
    members[1]
        .post(&coeff, &json!({ "bidder_id": uid, "coefficients": { "T1": "1" } }))
        .expect_problem(409, "scores_frozen");
    members[0]
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/tecnica/chiusura"),
            &json!({}),
        )
        .expect_problem(409, "scores_frozen");
}

#[test]
fn no_envelope_opens_before_the_opening_session_or_on_a_cancelled_or_deserted_tender() {
    let mut w = world();
    let bando = tender(&w, lowest_price(&w, 1));
    let cancelled = tender(&w, lowest_price(&w, 2));
    let deserted = tender(&w, lowest_price(&w, 3));
    supplier(&w.app, "impresa@strade.it");
    let s = w.login("impresa@strade.it");
    for b in [&bando, &cancelled] {
        submit(&s, b, "A", b"documentazione amministrativa");
        submit(&s, b, "C", &offer_c("10"));
    }
    // After the deadline, before the session (and one second before it): refused, with the
    // session's time in Europe/Rome.
    for t in [deadline() + Duration::seconds(1), session() - Duration::seconds(1)] {
        w.app.clock.set(t);
        w.relogin();
        let p = try_open(&w, &bando, "A").expect_problem(409, "opening_before_session");
        assert!(
            p["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("2026-06-05T15:00:00+02:00"),
            "{p}"
        );
    }
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200),
        json!([])
    );
    // A cancelled tender never opens, before or after its session.
    w.rup
        .post(
            &format!("/api/v1/bandi/{cancelled}/transitions"),
            &json!({ "to": "cancelled", "reason": "Annullamento in autotutela" }),
        )
        .expect(200);
    try_open(&w, &cancelled, "A").expect_problem(409, "tender_not_in_opening");
    // At the session's instant, on the clock (the scheduler need not have ticked).
    w.app.clock.set(session());
    w.relogin();
    open(&w, &bando, "A");
    try_open(&w, &cancelled, "A").expect_problem(409, "tender_not_in_opening");
    // A tender with no bids is deserted by the procedure; then nothing opens either.
    wait_for_state(&w.rup, &deserted, "opening");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{deserted}/valutazione/proposta"), &json!({}))
        .expect(200);
    assert_eq!(p["award"]["outcome"], "deserted", "{p}");
    assert_eq!(state_of(&w, &deserted), "deserted");
    try_open(&w, &deserted, "A").expect_problem(409, "tender_not_in_opening");
    // And A → C still holds on the tender in session.
    open(&w, &bando, "C");
}

#[test]
fn the_award_states_are_reached_only_through_the_award_procedure_not_the_transition_routes() {
    let mut w = world();
    let bando = tender(&w, lowest_price(&w, 10));
    let mut lots = lowest_price(&w, 11);
    lots["cig"] = Value::Null;
    lots["lotti"] = json!([
        { "oggetto": "Lotto 1 - Scuole", "cig": cig(4_200_001), "base_amount": "600000.00", "safety_costs": "12000.00" },
        { "oggetto": "Lotto 2 - Uffici", "cig": cig(4_200_002), "base_amount": "400000.00", "safety_costs": "8000.00" }
    ]);
    let with_lots = tender(&w, lots);
    let uid = supplier(&w.app, "impresa@strade.it");
    let s = w.login("impresa@strade.it");
    submit(&s, &bando, "A", b"documentazione amministrativa");
    submit(&s, &bando, "C", &offer_c("10"));
    past_opening(&mut w, &bando);
    let manual = |to: &str| {
        w.rup.post(
            &format!("/api/v1/bandi/{bando}/transitions"),
            &json!({ "to": to, "reason": "Salto di fase" }),
        )
    };
    // Each jump from the state it would follow, refused with `procedure_only`, nothing moved.
    let tries = |from: &str, jumps: &[&str]| {
        assert_eq!(state_of(&w, &bando), from);
        for to in jumps {
            manual(to).expect_problem(409, "procedure_only");
            assert_eq!(state_of(&w, &bando), from, "{to}");
        }
    };
    tries("opening", &["evaluation", "deserted"]);
    open(&w, &bando, "A");
    admit(&w, &bando, &uid);
    tries("evaluation", &["proposed_award", "deserted"]);
    open(&w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    tries("proposed_award", &["awarded"]);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    // The award is effective at once (art. 17 c.5): no move leads to the legacy `effective`.
    manual("effective").expect_problem(409, "illegal_transition");
    assert_eq!(state_of(&w, &bando), "awarded");
    // Skipping more than one step is not a move at all.
    manual("proposed_award").expect_problem(409, "illegal_transition");

    // The lot route: the outcomes of a lot are the procedure's; cancelling stays the RUP's.
    let full = w.rup.get(&format!("/api/v1/bandi/{with_lots}")).expect(200);
    let lot = full["lotti"][0]["id"].as_str().expect("lot").to_string();
    let lot2 = full["lotti"][1]["id"].as_str().expect("lot").to_string();
    let lt = |lot: &str, to: &str| {
        w.rup.post(
            &format!("/api/v1/bandi/{with_lots}/lotti/{lot}/transitions"),
            &json!({ "to": to, "reason": "Salto di fase" }),
        )
    };
    for to in ["proposed_award", "deserted"] {
        lt(&lot, to).expect_problem(409, "procedure_only");
    }
    for to in ["awarded", "effective"] {
        lt(&lot, to).expect_problem(409, "illegal_transition");
    }
    let after = w.rup.get(&format!("/api/v1/bandi/{with_lots}")).expect(200);
    assert_eq!(after["lotti"][0]["state"], "active");
    let cancelled = lt(&lot2, "cancelled").expect(200);
    assert_eq!(cancelled["lotti"][1]["state"], "cancelled");
}

#[test]
fn nothing_changes_the_bando_at_its_deadline_even_before_the_scheduler_ticks() {
    let mut w = world();
    let bando = tender(&w, lowest_price(&w, 20));
    supplier(&w.app, "impresa@strade.it");
    let s = w.login("impresa@strade.it");
    let q = s
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "Si può subappaltare?" }),
        )
        .expect(201);
    let q = id(&q);
    let extend = json!({ "reason": "Proroga", "submission_deadline": "2026-06-20T12:00" });
    let document = format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=allegato.pdf&reason=Integrazione");
    let answer = format!("/api/v1/bandi/{bando}/chiarimenti/{q}/risposta");
    let answer_body =
        json!({ "answer": "Sì, nei limiti di legge", "extend_submission_deadline_to": "2026-06-20T12:00" });
    // Exactly at the deadline instant: every act that would change the bando is refused.
    w.app.clock.set(deadline());
    w.relogin();
    let before = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/rettifiche"), &extend)
        .expect_problem(409, "deadline_passed");
    assert!(p["detail"].as_str().unwrap_or_default().contains("+02:00"), "{p}");
    w.rup
        .post_raw(&document, "application/pdf", b"%PDF-1.4 allegato")
        .expect_problem(409, "deadline_passed");
    w.rup.post(&answer, &answer_body).expect_problem(409, "deadline_passed");
    let after = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["submission_deadline"], before["submission_deadline"]);
    assert_eq!(after["documenti"], before["documenti"]);
    assert!(
        after["state"] == "published" || after["state"] == "submissions_closed",
        "never reopened: {}",
        after["state"]
    );
    // One second before the deadline the same rettifica is still a rettifica.
    w.app.clock.set(deadline() - Duration::seconds(1));
    w.relogin();
    if state_of(&w, &bando) == "published" {
        let amended = w
            .rup
            .post(&format!("/api/v1/bandi/{bando}/rettifiche"), &extend)
            .expect(200);
        assert_eq!(amended["submission_deadline"]["utc"], "2026-06-20T10:00:00Z");
    }
}

/// The same at the domain level, where no scheduler runs at all: the server's clock stays
/// before the deadline (so its scheduler cannot move the tender), the acts are made at the
/// deadline instant and the state still says `published`.
#[test]
fn at_the_deadline_instant_the_clock_decides_while_the_state_still_says_published() {
    use diesel::prelude::*;
    let w = world();
    let bando = tender(&w, lowest_price(&w, 21));
    supplier(&w.app, "impresa@strade.it");
    let s = w.login("impresa@strade.it");
    let q = id(&s
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "Si può subappaltare?" }),
        )
        .expect(201));
    let bando: uuid::Uuid = bando.parse().expect("uuid");
    let q: uuid::Uuid = q.parse().expect("uuid");
    let mut conn = PgConnection::establish(&w.app.db_url).expect("connect");
    let rup = accounts::sessions::authenticate(&mut conn, w.rup.token.as_deref().expect("token"), w.app.clock.now())
        .expect("principal");
    let ctx = |at| db::audit::AuditCtx {
        actor: Some(rup.user_id),
        request_id: "procedure-order".into(),
        client_request_id: None,
        at,
    };
    let rettifica = bando::NewRettifica {
        reason: "Proroga".into(),
        submission_deadline: Some("2026-06-20T12:00".into()),
        ..Default::default()
    };
    let answer = bando::NewAnswer {
        answer: "Sì".into(),
        extend_submission_deadline_to: Some("2026-06-20T12:00".into()),
    };
    let code = |r: Result<_, bando::BandoError>| r.err().map(|e| e.code());
    let at_deadline = ctx(deadline());
    assert_eq!(
        code(bando::service::amend(&mut conn, &at_deadline, &rup, bando, &rettifica).map(|_| ())),
        Some("deadline_passed")
    );
    assert_eq!(
        code(bando::service::answer(&mut conn, &at_deadline, &rup, bando, q, &answer).map(|_| ())),
        Some("deadline_passed")
    );
    let upload = bando::service::Upload {
        kind: bando::DocumentKind::Allegato,
        filename: "allegato.pdf",
        content_type: "application/pdf",
        bytes: b"%PDF-1.4",
        reason: Some("Integrazione"),
        extend_submission_deadline_to: Some("2026-06-20T12:00"),
    };
    assert_eq!(
        code(bando::service::add_document(&mut conn, &at_deadline, &rup, bando, upload).map(|_| ())),
        Some("deadline_passed")
    );
    let row = bando::store::find(&mut conn, bando).expect("row");
    assert_eq!(row.state(), bando::State::Published, "the scheduler has not ticked");
    assert_eq!(row.submission_deadline, Some(deadline()));
    // One second before, the same rettifica passes (and moves the deadline).
    let amended = bando::service::amend(
        &mut conn,
        &ctx(deadline() - Duration::seconds(1)),
        &rup,
        bando,
        &rettifica,
    )
    .expect("rettifica one second before the deadline");
    assert_eq!(
        amended.submission_deadline.expect("deadline").utc,
        at("2026-06-20T10:00:00Z")
    );
}

#[test]
fn two_clicks_on_open_at_once_make_one_opening_and_lose_no_bid() {
    let mut w = world();
    let bando = tender(&w, lowest_price(&w, 30));
    let mut sent = Vec::new();
    for i in 0..3 {
        let email = format!("impresa{i}@strade.it");
        supplier(&w.app, &email);
        let s = w.login(&email);
        let body = format!("documentazione amministrativa {i}");
        submit(&s, &bando, "A", body.as_bytes());
        submit(&s, &bando, "C", &offer_c(&format!("1{i}")));
        sent.push(body);
    }
    past_opening(&mut w, &bando);
    give_shares(&w, &bando, "A");
    let body = json!({});
    let n = 4;
    let barrier = Arc::new(Barrier::new(n));
    let replies: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let c = w.rup.clone();
                let barrier = barrier.clone();
                let body = body.clone();
                let path = format!("/api/v1/bandi/{bando}/aperture/A");
                scope.spawn(move || {
                    barrier.wait();
                    let r = c.post(&path, &body);
                    (r.status, r.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert!(replies.iter().all(|(s, _)| *s < 500), "{replies:?}");
    assert_eq!(replies.iter().filter(|(s, _)| *s == 201).count(), 1, "{replies:?}");
    for (s, b) in &replies {
        if *s != 201 {
            assert_eq!(
                (*s, b["code"].as_str().unwrap_or_default()),
                (409, "already_opened"),
                "{b}"
            );
        }
    }
    let openings = w.rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200);
    let envs = openings[0]["envelopes"].as_array().expect("envelopes").clone();
    assert_eq!(envs.len(), 3);
    let mut read = Vec::new();
    for e in &envs {
        let (status, text) = plaintext(&w, e["envelope_id"].as_str().expect("id"));
        assert_eq!(status, 200, "{text}");
        read.push(text);
    }
    read.sort();
    sent.sort();
    assert_eq!(read, sent, "every opened envelope still reads as submitted");
}
