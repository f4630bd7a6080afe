//! Issue 9, findings 5 and 8: sub-resources are reached only through their own tender, ente
//! and bidder (anything else is 404, never a 403 that confirms the id exists), and the steps
//! that happen once (the economic phase, the commission, a supplier's first envelope, a user
//! account) stay once when the requests race: no 5xx, one winner, the others a 409 with its
//! own code, nothing lost or duplicated.

use std::sync::{Arc, Barrier};

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::{Client, Reply, TestApp};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A count straight from the database: what the API answered is checked against what is stored.
fn count(app: &TestApp, sql: &str) -> i64 {
    use diesel::prelude::*;
    let mut conn = PgConnection::establish(&app.db_url).expect("database");
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("({sql})")))
        .get_result(&mut conn)
        .expect("count")
}

type Call = Box<dyn FnOnce() -> Reply + Send>;

/// Fires every call at the same instant (one thread each, released by one barrier).
fn in_parallel(calls: Vec<Call>) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(calls.len()));
    let threads: Vec<_> = calls
        .into_iter()
        .map(|call| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                call()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().expect("request thread")).collect()
}

/// No 5xx; exactly one reply with `winner`, every other a 409 problem with `code`.
#[track_caller]
fn one_winner(replies: &[Reply], winner: u16, code: &str) {
    for r in replies {
        assert!(r.status < 500, "a racing request failed: {} {}", r.status, r.text);
    }
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    let won = statuses.iter().filter(|s| **s == winner).count();
    assert_eq!(won, 1, "exactly one winner: {statuses:?}");
    for r in replies.iter().filter(|r| r.status != winner) {
        assert_eq!(r.status, 409, "the loser gets a conflict: {}", r.text);
        assert_eq!(r.code(), code, "{}", r.text);
        assert_eq!(r.content_type, "application/problem+json");
    }
}

fn post_call(c: &Client, path: String, body: Value) -> Call {
    let c = c.clone();
    Box::new(move || c.post(&path, &body))
}

fn works_tender(ente: &str, custodians: [&str; 2], n: u64) -> Value {
    works_tender_body(
        ente,
        custodians,
        &format!("Manutenzione delle strade, lotto funzionale {n}"),
        4_100_000 + n,
    )
}

fn oepv_tender(w: &World) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": "Servizio di progettazione del verde pubblico",
        "cig": cig(4_200_000),
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

/// A second ente (Roma Capitale) with its own RUP and commissioner, and a tender of its own
/// (a draft is enough: the attack goes through its URL, which the RUP may use).
struct OtherEnte {
    tender: String,
}

const ROMA_RUP: &str = "rup@comune.roma.it";

fn other_ente(w: &World) -> OtherEnte {
    let admin = w.app.admin();
    let ente = roma_capitale(&admin);
    journeys::tender_world::qualify(&admin, &ente);
    let rup = official(&admin, ROMA_RUP, "rup", &ente);
    let custode = official(&admin, "custode@comune.roma.it", "commission", &ente);
    let tender = id(&w
        .login(ROMA_RUP)
        .post("/api/v1/bandi", &works_tender(&ente, [&rup, &custode], 99))
        .expect(201));
    OtherEnte { tender }
}

/// Milano's tender with two bidders (envelopes A and C), past its opening, envelope A open.
struct Opened {
    w: World,
    bando: String,
    /// (user id, e-mail), the first with the higher discount.
    bidders: Vec<(String, String)>,
}

fn opened_tender() -> Opened {
    let mut w = world();
    let bando = tender(&w, works_tender(&w.ente, [&w.rup_id, &w.custode], 1));
    let mut bidders = Vec::new();
    for (i, discount) in ["14.500", "9.750"].iter().enumerate() {
        let email = format!("impresa{i}@strade.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", b"documentazione amministrativa");
        submit(&c, &bando, "C", &offer_c(discount));
        bidders.push((uid, email));
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    Opened { w, bando, bidders }
}

fn procedura(w: &World, bando: &str) -> Value {
    w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200)
}

fn participant_status(p: &Value, bidder: &str) -> String {
    p["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|x| x["bidder_id"] == bidder)
        .map(|x| x["status"].as_str().expect("status").to_string())
        .unwrap_or_default()
}

/// The RUP asks the first bidder for a soccorso istruttorio on Milano's tender.
fn with_soccorso(o: &Opened) -> String {
    id(&o
        .w
        .rup
        .post(
            &format!("/api/v1/bandi/{}/valutazione/soccorsi", o.bando),
            &json!({ "bidder_id": o.bidders[0].0, "request": "DGUE non firmato digitalmente", "days": 5 }),
        )
        .expect(201))
}

fn soccorso_row(o: &Opened, sid: &str) -> Value {
    procedura(&o.w, &o.bando)["soccorsi"]
        .as_array()
        .expect("soccorsi")
        .iter()
        .find(|s| s["id"] == sid)
        .cloned()
        .expect("the soccorso")
}

// ---------------------------------------------------------------------------------------------
// Finding 5: sub-resources scoped to their tender, ente and bidder

#[test]
fn rup_of_another_ente_cannot_decide_a_soccorso_through_his_own_tender() {
    let o = opened_tender();
    let roma = other_ente(&o.w);
    let sid = with_soccorso(&o);
    o.w.login(&o.bidders[0].1)
        .post(
            &format!("/api/v1/bandi/{}/valutazione/soccorsi/{sid}/risposta", o.bando),
            &json!({ "answer": "Si allega il DGUE firmato" }),
        )
        .expect(200);
    let rome = o.w.login(ROMA_RUP);
    // Through his own tender's URL: Milano's soccorso does not exist there.
    rome.post(
        &format!("/api/v1/bandi/{}/valutazione/soccorsi/{sid}/esito", roma.tender),
        &json!({ "accepted": false, "reason": "DGUE insufficiente" }),
    )
    .expect_problem(404, "not_found");
    // Through Milano's URL: not his tender.
    let r = rome.post(
        &format!("/api/v1/bandi/{}/valutazione/soccorsi/{sid}/esito", o.bando),
        &json!({ "accepted": false, "reason": "DGUE insufficiente" }),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    // Nothing was decided, nobody excluded.
    let s = soccorso_row(&o, &sid);
    assert!(s["outcome"].is_null(), "{s}");
    assert_ne!(
        participant_status(&procedura(&o.w, &o.bando), &o.bidders[0].0),
        "excluded"
    );
    let on_roma = count(
        &o.w.app,
        &format!(
            "SELECT count(*) FROM audit_events WHERE action LIKE 'aggiudicazione.%' AND object_id = '{}'",
            roma.tender
        ),
    );
    assert_eq!(on_roma, 0, "no decision recorded on Roma's tender");
    // Milano's RUP decides it through Milano's tender.
    o.w.rup
        .post(
            &format!("/api/v1/bandi/{}/valutazione/soccorsi/{sid}/esito", o.bando),
            &json!({ "accepted": true }),
        )
        .expect(200);
}

#[test]
fn a_bidder_cannot_answer_a_soccorso_through_another_tenders_url() {
    let o = opened_tender();
    let roma = other_ente(&o.w);
    let sid = with_soccorso(&o);
    let bidder = o.w.login(&o.bidders[0].1);
    bidder
        .post(
            &format!("/api/v1/bandi/{}/valutazione/soccorsi/{sid}/risposta", roma.tender),
            &json!({ "answer": "Risposta dalla gara sbagliata" }),
        )
        .expect_problem(404, "not_found");
    assert!(soccorso_row(&o, &sid)["answered_at"].is_null());
    bidder
        .post(
            &format!("/api/v1/bandi/{}/valutazione/soccorsi/{sid}/risposta", o.bando),
            &json!({ "answer": "Si allega il DGUE firmato" }),
        )
        .expect(200);
}

#[test]
fn a_bidder_cannot_answer_another_bidders_soccorso() {
    let o = opened_tender();
    let sid = with_soccorso(&o);
    // Not "forbidden", which would confirm the id: the other bidder's soccorso is not found.
    o.w.login(&o.bidders[1].1)
        .post(
            &format!("/api/v1/bandi/{}/valutazione/soccorsi/{sid}/risposta", o.bando),
            &json!({ "answer": "Risposta al posto del concorrente" }),
        )
        .expect_problem(404, "not_found");
    let s = soccorso_row(&o, &sid);
    assert!(s["answered_at"].is_null() && s["answer"].is_null(), "{s}");
}

#[test]
fn art110_checks_are_reached_only_through_their_own_tender_ente_and_bidder() {
    let o = opened_tender();
    let roma = other_ente(&o.w);
    for (uid, _) in &o.bidders {
        admit(&o.w, &o.bando, uid);
    }
    open(&o.w, &o.bando, "C");
    let p =
        o.w.rup
            .post(&format!("/api/v1/bandi/{}/valutazione/economica", o.bando), &json!({}))
            .expect(200);
    let best = p["evaluation"]["ranking"][0]["bidder_id"]
        .as_str()
        .expect("best")
        .to_string();
    let (best_mail, other_mail) = if best == o.bidders[0].0 {
        (&o.bidders[0].1, &o.bidders[1].1)
    } else {
        (&o.bidders[1].1, &o.bidders[0].1)
    };
    let a110 = format!("/api/v1/bandi/{}/valutazione/art110", o.bando);
    let aid = id(&o
        .w
        .rup
        .post(
            &a110,
            &json!({ "bidder_id": best, "request": "Giustificare il ribasso" }),
        )
        .expect(201));
    let row = |o: &Opened| procedura(&o.w, &o.bando)["art110"][0].clone();
    // Another bidder, and the right bidder through another tender's URL: not found.
    o.w.login(other_mail)
        .post(
            &format!("{a110}/{aid}/risposta"),
            &json!({ "answer": "Spiegazioni altrui" }),
        )
        .expect_problem(404, "not_found");
    let bidder = o.w.login(best_mail);
    bidder
        .post(
            &format!("/api/v1/bandi/{}/valutazione/art110/{aid}/risposta", roma.tender),
            &json!({ "answer": "Spiegazioni dalla gara sbagliata" }),
        )
        .expect_problem(404, "not_found");
    assert!(row(&o)["answered_at"].is_null());
    bidder
        .post(
            &format!("{a110}/{aid}/risposta"),
            &json!({ "answer": "Costi della manodopera documentati" }),
        )
        .expect(200);
    // Roma's RUP, through Roma's tender: Milano's check is not found, and stays undecided.
    o.w.login(ROMA_RUP)
        .post(
            &format!("/api/v1/bandi/{}/valutazione/art110/{aid}/esito", roma.tender),
            &json!({ "accepted": false, "reason": "Spiegazioni insufficienti" }),
        )
        .expect_problem(404, "not_found");
    assert!(row(&o)["outcome"].is_null(), "{}", row(&o));
    assert_eq!(participant_status(&procedura(&o.w, &o.bando), &best), "admitted");
    o.w.rup
        .post(&format!("{a110}/{aid}/esito"), &json!({ "accepted": true }))
        .expect(200);
}

#[test]
fn envelopes_and_invitation_proposals_of_others_are_not_found_rather_than_forbidden() {
    let o = opened_tender();
    let _roma = other_ente(&o.w);
    let mine =
        o.w.login(&o.bidders[0].1)
            .get(&format!("/api/v1/bandi/{}/offerta", o.bando))
            .expect(200);
    let envelope = mine[0]["envelopes"][0]["envelope_id"]
        .as_str()
        .expect("envelope")
        .to_string();
    // Another bidder asks for the envelope's receipt and ciphertext.
    let rival = o.w.login(&o.bidders[1].1);
    rival
        .get(&format!("/api/v1/buste/{envelope}/ricevuta"))
        .expect_problem(404, "not_found");
    rival
        .get(&format!("/api/v1/buste/{envelope}/cifrato"))
        .expect_problem(404, "not_found");
    // Another ente's RUP asks for its opened content.
    let rome = o.w.login(ROMA_RUP);
    rome.get(&format!("/api/v1/buste/{envelope}/contenuto"))
        .expect_problem(404, "not_found");
    // Art. 36 access to an envelope of the tender the caller may not access: not found.
    let r = rival.get(&format!("/api/v1/bandi/{}/accesso-atti/{envelope}", o.bando));
    assert_ne!(r.status, 403, "no 403 that confirms the envelope: {}", r.text);
    assert!(r.status >= 400 && r.status < 500, "{}", r.text);
    // Milano's invitation proposal, read and confirmed by Roma's RUP.
    let p =
        o.w.rup
            .post(
                "/api/v1/registry/invitation-proposals",
                &json!({ "ente_id": o.w.ente, "category": "OG1", "contract_type": "works", "value": "400000.00" }),
            )
            .expect(201);
    let pid = id(&p);
    rome.get(&format!("/api/v1/registry/invitation-proposals/{pid}"))
        .expect_problem(404, "not_found");
    rome.post(
        &format!("/api/v1/registry/invitation-proposals/{pid}/confirm"),
        &json!({}),
    )
    .expect_problem(404, "not_found");
    o.w.rup
        .get(&format!("/api/v1/registry/invitation-proposals/{pid}"))
        .expect(200);
}

// ---------------------------------------------------------------------------------------------
// Finding 8: races

/// The first admissions of a tender move it from opening to evaluation: two of them at once
/// (two bidders, two tabs) must both be decided, not one of them refused with a 409 because the
/// other moved the tender first.
#[test]
fn two_first_admissions_at_once_are_both_decided() {
    let o = opened_tender();
    let path = format!("/api/v1/bandi/{}/valutazione/ammissioni", o.bando);
    let replies = in_parallel(
        o.bidders
            .iter()
            .map(|(uid, _)| {
                post_call(
                    &o.w.rup,
                    path.clone(),
                    json!({ "bidder_id": uid, "decision": "admitted" }),
                )
            })
            .collect(),
    );
    for r in &replies {
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let p = procedura(&o.w, &o.bando);
    for (uid, _) in &o.bidders {
        assert_eq!(participant_status(&p, uid), "admitted", "{p}");
    }
    let moves = count(
        &o.w.app,
        &format!(
            "SELECT count(*) FROM bando_state_history WHERE bando_id = '{}' AND to_state = 'evaluation'",
            o.bando
        ),
    );
    assert_eq!(moves, 1, "the tender entered evaluation once");
}

#[test]
fn two_concurrent_economic_phases_compute_once() {
    let o = opened_tender();
    for (uid, _) in &o.bidders {
        admit(&o.w, &o.bando, uid);
    }
    open(&o.w, &o.bando, "C");
    let path = format!("/api/v1/bandi/{}/valutazione/economica", o.bando);
    let replies = in_parallel((0..3).map(|_| post_call(&o.w.rup, path.clone(), json!({}))).collect());
    one_winner(&replies, 200, "economic_phase_done");
    let winner = replies.iter().find(|r| r.status == 200).expect("winner");
    // One computation, one event, one log leaf: what the winner answered is what is stored.
    let events = count(
        &o.w.app,
        &format!("SELECT count(*) FROM audit_events WHERE action = 'aggiudicazione.valutazione_economica' AND object_id = '{}'", o.bando),
    );
    assert_eq!(events, 1);
    let p = procedura(&o.w, &o.bando);
    assert_eq!(p["evaluation"]["ranking"], winner.body["evaluation"]["ranking"]);
    assert_eq!(p["evaluation"]["computed_at"], winner.body["evaluation"]["computed_at"]);
}

#[test]
fn two_concurrent_commission_appointments_appoint_one_commission() {
    let mut w = world();
    let admin = w.app.admin();
    let c2 = official(&admin, "ingegnere@comune.milano.it", "commission", &w.ente);
    let c3 = official(&admin, "agronomo@comune.milano.it", "commission", &w.ente);
    let c4 = official(&admin, "architetto@comune.milano.it", "commission", &w.ente);
    let bando = tender(&w, oepv_tender(&w));
    let email = "studio@verde.it";
    supplier(&w.app, email);
    let c = w.login(email);
    submit(&c, &bando, "A", b"domanda e DGUE");
    submit(&c, &bando, "B", b"relazione tecnica");
    submit(&c, &bando, "C", &offer_c("12"));
    past_opening(&mut w, &bando);
    let path = format!("/api/v1/bandi/{bando}/valutazione/commissione");
    let c1 = w.custode.clone();
    // The same commission twice (a double click) and a different one (a second RUP's tab).
    let bodies = [
        json!({ "members": [c1, c2, c3], "president": c1 }),
        json!({ "members": [c1, c2, c3], "president": c1 }),
        json!({ "members": [c2, c3, c4], "president": c4 }),
    ];
    let replies = in_parallel(
        bodies
            .iter()
            .map(|b| post_call(&w.rup, path.clone(), b.clone()))
            .collect(),
    );
    one_winner(&replies, 201, "commission_exists");
    let winner = replies.iter().find(|r| r.status == 201).expect("winner");
    let p = w.rup.get(&format!("/api/v1/bandi/{bando}/valutazione")).expect(200);
    assert_eq!(
        p["commission"].as_array().expect("commission").len(),
        3,
        "{}",
        p["commission"]
    );
    assert_eq!(p["commission"], winner.body["commission"]);
    let stored = count(
        &w.app,
        &format!("SELECT count(*) FROM agg_commission WHERE scope_id = '{bando}'"),
    );
    assert_eq!(stored, 3);
    let events = count(
        &w.app,
        &format!("SELECT count(*) FROM audit_events WHERE action = 'aggiudicazione.commissione_nominata' AND object_id = '{bando}'"),
    );
    assert_eq!(events, 1);
}

#[test]
fn concurrent_first_uploads_by_one_supplier_make_one_bid_with_every_envelope() {
    let w = world();
    let bando = tender(&w, works_tender(&w.ente, [&w.rup_id, &w.custode], 2));
    // A few rounds, each with a supplier who has not uploaded anything yet.
    for round in 0..3 {
        let email = format!("impresa{round}@parallelo.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        let upload = |kind: &'static str, body: Vec<u8>| -> Call {
            let c = c.clone();
            let path = format!("/api/v1/bandi/{bando}/offerta/buste/{kind}");
            Box::new(move || c.post_raw(&path, "application/octet-stream", &body))
        };
        let replies = in_parallel(vec![
            upload("A", b"documentazione amministrativa".to_vec()),
            upload("C", offer_c("10.5")),
        ]);
        // No loser here: both envelopes belong in the same bid, and both are accepted.
        for r in &replies {
            assert_eq!(r.status, 201, "round {round}: {}", r.text);
        }
        assert_eq!(replies[0].body["bid_id"], replies[1].body["bid_id"], "one bid");
        let bids = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
        let bids = bids.as_array().expect("bids");
        assert_eq!(bids.len(), 1, "round {round}: {bids:?}");
        let mut kinds: Vec<&str> = bids[0]["envelopes"]
            .as_array()
            .expect("envelopes")
            .iter()
            .filter(|e| e["superseded_at"].is_null())
            .map(|e| e["kind"].as_str().expect("kind"))
            .collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["A", "C"], "round {round}: nothing lost");
        let stored = count(
            &w.app,
            &format!("SELECT count(*) FROM bids WHERE bando_id = '{bando}' AND bidder_id = '{uid}'"),
        );
        assert_eq!(stored, 1);
    }
}

#[test]
fn concurrent_creations_of_one_user_create_it_once() {
    let app = TestApp::start();
    let admin = app.admin();
    // The window between the check and the insert is short: a few rounds of four.
    for round in 0..4 {
        // Officials created by the admin (two tabs, one click each).
        let email = format!("funzionario{round}@comune.milano.it");
        let body = json!({ "email": email, "full_name": "Funzionario", "password": PASSWORD, "roles": [] });
        let replies = in_parallel(
            (0..4)
                .map(|_| post_call(&admin, "/api/v1/users".into(), body.clone()))
                .collect(),
        );
        one_winner(&replies, 201, "email_taken");
        let n = count(&app, &format!("SELECT count(*) FROM users WHERE email = '{email}'"));
        assert_eq!(n, 1);
        // Suppliers registering themselves with the same address.
        let email = format!("fornitore{round}@imprese.it");
        let body = json!({ "email": email, "full_name": "Operatore", "password": PASSWORD });
        let anonymous = app.client();
        let replies = in_parallel(
            (0..4)
                .map(|_| post_call(&anonymous, "/api/v1/auth/register".into(), body.clone()))
                .collect(),
        );
        // Every caller gets the same answer (no enumeration); one account exists.
        for r in &replies {
            assert_eq!(r.status, 202, "{}", r.text);
        }
        let n = count(&app, &format!("SELECT count(*) FROM users WHERE email = '{email}'"));
        assert_eq!(n, 1);
        // The account that won is the one that logs in.
        app.client().logged_in(&email, PASSWORD);
    }
}
