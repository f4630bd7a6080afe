//! Issue 9, finding 1 ("What it must show" point 3): until a tender's deadline no official of
//! the ente (RUP, commission, auditor) nor the centrale's admin learns who bid or how many did,
//! from any response, listing, export, notification view or audit event; the events about bids
//! are recorded at the time and the auditor reads them once the deadline has passed. The asker
//! of a chiarimento is never shown to the ente (art. 88).

use std::time::{Duration, Instant};

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::Client;

fn works_tender(w: &World) -> Value {
    works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione delle scuole comunali",
        9_400_001,
    )
}

/// What would identify a bidder in a response: its user id, e-mail, PEC, ragione sociale,
/// partita IVA, operatore id.
struct Bidder {
    client: Client,
    marks: Vec<String>,
}

fn bidder(w: &World, email: &str) -> Bidder {
    let uid = supplier(&w.app, email);
    let client = w.login(email);
    let op = client.get("/api/v1/registry/operatori/me").expect(200);
    let mut marks = vec![uid, email.to_string()];
    for k in ["id", "pec", "ragione_sociale", "partita_iva"] {
        marks.push(op[k].as_str().unwrap_or_else(|| panic!("{k} in {op}")).to_string());
    }
    Bidder { client, marks }
}

/// The outbox rows about the tender (the rettifica notices), polled until the sequencer wrote `n`.
fn wait_for_notices(w: &World, bando: &str, n: usize) {
    let t0 = Instant::now();
    loop {
        let rows: usize = w
            .app
            .psql(&format!(
                "SELECT count(*) FROM notifications_outbox WHERE object_type = 'bando' AND object_id = '{bando}'"
            ))
            .parse()
            .expect("count");
        if rows >= n {
            return;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "notices written: {rows}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Keys whose value would count bids: a number 2 or a list of two is the count of our bidders.
fn counts_bids(v: &Value, path: &str, found: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = k.to_lowercase();
                let about_bids = [
                    "bid",
                    "offert",
                    "offer",
                    "particip",
                    "concorrent",
                    "supplier",
                    "recipient",
                ]
                .iter()
                .any(|w| key.contains(w));
                let two = x.as_u64() == Some(2) || x.as_array().is_some_and(|a| a.len() == 2);
                if about_bids && two {
                    found.push(format!("{path}.{k} = {x}"));
                }
                counts_bids(x, &format!("{path}.{k}"), found);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                counts_bids(x, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// Every read an official may make on a tender (and on its ente) before the deadline.
fn official_reads(w: &World, bando: &str) -> Vec<String> {
    let e = &w.ente;
    [
        format!("/api/v1/bandi/{bando}"),
        format!("/api/v1/enti/{e}/bandi"),
        format!("/api/v1/bandi/{bando}/chiarimenti"),
        format!("/api/v1/bandi/{bando}/valutazione"),
        format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"),
        format!("/api/v1/bandi/{bando}/valutazione/buste-b"),
        format!("/api/v1/bandi/{bando}/accesso-atti"),
        format!("/api/v1/bandi/{bando}/aperture"),
        format!("/api/v1/bandi/{bando}/sigillo"),
        format!("/api/v1/bandi/{bando}/sigillo/quote"),
        format!("/api/v1/bandi/{bando}/verbale.pdf"),
        format!("/api/v1/bandi/{bando}/documenti-emessi"),
        format!("/api/v1/enti/{e}/audit-events?limit=500"),
        format!("/api/v1/enti/{e}/audit-export"),
        "/api/v1/log/checkpoint".to_string(),
        "/api/v1/log/leaves?start=0&end=1000".to_string(),
        format!("/api/v1/public/bandi/{bando}"),
        format!("/api/v1/public/bandi/{bando}/rettifiche"),
        format!("/api/v1/public/bandi/{bando}/chiarimenti"),
        "/api/v1/public/bandi".to_string(),
    ]
    .to_vec()
}

fn assert_nothing_reveals_the_bidders(role: &str, c: &Client, w: &World, bando: &str, bidders: &[&Bidder]) {
    for path in official_reads(w, bando) {
        let reply = c.get(&path);
        assert!(reply.status < 500, "{role} {path}: {}", reply.text);
        for b in bidders {
            for mark in &b.marks {
                assert!(
                    !reply.text.contains(mark.as_str()),
                    "{role} {path} reveals a bidder ({mark}) before the deadline: {}",
                    reply.text
                );
            }
        }
        let mut counts = Vec::new();
        counts_bids(&reply.body, "", &mut counts);
        assert!(
            counts.is_empty(),
            "{role} {path} counts the bids before the deadline: {counts:?}"
        );
    }
}

fn actions(trail: &Value) -> Vec<(String, Value)> {
    trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["action"].as_str().expect("action").to_string(), e.clone()))
        .collect()
}

#[test]
fn secrecy_no_official_learns_who_bid_or_how_many_before_the_deadline_and_the_auditor_sees_the_bids_after() {
    let mut w = world();
    let admin = w.app.admin();
    official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    let bando = tender(&w, works_tender(&w));
    let acme = bidder(&w, "gare@acme-costruzioni.it");
    let beta = bidder(&w, "appalti@beta-edilizia.it");
    for b in [&acme, &beta] {
        submit(&b.client, &bando, "A", b"DGUE e domanda");
        submit(&b.client, &bando, "C", &offer_c("12.500"));
    }
    // A bidder asks a clarification; another withdraws and bids again.
    acme.client
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "Il sopralluogo è obbligatorio?" }),
        )
        .expect(201);
    // A rettifica after the bids: one notice per bidder is written to the outbox.
    w.app.clock.advance(chrono::Duration::minutes(5));
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "Proroga", "submission_deadline": "2026-06-12T12:00" }),
        )
        .expect(200);
    wait_for_notices(&w, &bando, 2);
    w.app.clock.advance(chrono::Duration::minutes(1));
    beta.client
        .post(&format!("/api/v1/bandi/{bando}/offerta/conferma"), &json!({}))
        .expect(200);
    w.relogin();

    let rup = w.rup.clone();
    let commission = w.login("custode@comune.milano.it");
    let auditor = w.login("revisore@comune.milano.it");
    for (role, c) in [
        ("rup", &rup),
        ("commission", &commission),
        ("auditor", &auditor),
        ("admin", &admin),
    ] {
        assert_nothing_reveals_the_bidders(role, c, &w, &bando, &[&acme, &beta]);
    }
    // The communications view is empty for officials, the bidder still sees its own notice.
    let comunicazioni = format!("/api/v1/bandi/{bando}/valutazione/comunicazioni");
    assert_eq!(rup.get(&comunicazioni).expect(200), json!([]));
    let own = acme.client.get(&comunicazioni).expect(200);
    assert_eq!(own.as_array().map(Vec::len), Some(1), "{own}");

    // The events were recorded at the time, with the ente, and hidden until the deadline.
    let hidden = w.app.psql(&format!(
        "SELECT count(*) FROM audit_events WHERE ente_id = '{}' AND sealed_until_deadline_of = '{bando}' \
             AND visible_from IS NOT NULL \
             AND action IN ('offerte.envelope_submitted', 'offerte.rettifica_notified', 'offerte.bid_confirmed')",
        w.ente
    ));
    assert_eq!(hidden, "7", "4 envelopes, 2 notices, 1 confirmation");

    // After the (extended) deadline the auditor reads who bid, when, and the notices.
    w.app.clock.set(at("2026-06-12T10:30:00Z"));
    let auditor = w.login("revisore@comune.milano.it");
    let trail = auditor
        .get(&format!("/api/v1/enti/{}/audit-events?limit=500", w.ente))
        .expect(200);
    let events = actions(&trail);
    let of = |a: &str| {
        events
            .iter()
            .filter(|(x, _)| x == a)
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>()
    };
    let submitted = of("offerte.envelope_submitted");
    assert_eq!(submitted.len(), 4, "{trail}");
    for b in [&acme, &beta] {
        assert!(
            submitted.iter().any(|e| e["actor_user_id"] == b.marks[0].as_str()),
            "the auditor sees {}'s submission",
            b.marks[1]
        );
    }
    assert_eq!(of("offerte.rettifica_notified").len(), 2);
    assert_eq!(of("offerte.bid_confirmed").len(), 1);
    let export = auditor.get(&format!("/api/v1/enti/{}/audit-export", w.ente));
    assert_eq!(export.status, 200);
    assert!(export.text.contains("offerte.envelope_submitted") && export.text.contains(&acme.marks[0]));
    // The asker of the chiarimento stays anonymous to the ente, in the listing and the export.
    let asked = of("chiarimento.asked");
    assert_eq!(asked.len(), 1);
    assert!(asked[0]["actor_user_id"].is_null(), "{}", asked[0]);
    let line = export
        .text
        .lines()
        .find(|l| l.contains("chiarimento.asked"))
        .expect("asked in the export");
    assert!(!line.contains(&acme.marks[0]), "{line}");
    let comunicazioni = auditor
        .get(&format!("/api/v1/bandi/{bando}/valutazione/comunicazioni"))
        .expect(200);
    assert_eq!(
        comunicazioni.as_array().map(Vec::len),
        Some(2),
        "after the deadline: {comunicazioni}"
    );
}
