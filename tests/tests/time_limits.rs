//! Issue 10 point 7: how days are counted at publication (a minimum term whose last day is a
//! public holiday, or a Saturday or Sunday above the EU thresholds, runs on to the next day)
//! and the maximum durations of Allegato I.3, warned to the tender's RUPs by the scheduler.
//! Over HTTP, with the clock moved, never slept (docs/legal.md, "Time").

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use journeys::serde_json::{json, Value};
use journeys::tender_world::{
    audit_events, cig, id, official, roma_capitale, submit, supplier, tender, wait_for_state, works_tender_body, world,
    World,
};
use journeys::Client;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

/// An open procedure for services at lowest price, sent at the current clock, with the
/// given submission deadline (Rome wall time). Above the EU threshold (216,000 from 2026)
/// when `eu`, else below it (with the art. 54 method the law then requires).
fn services(w: &World, n: u64, eu: bool, deadline: &str) -> Value {
    let day = &deadline[..10];
    json!({
        "ente_id": w.ente,
        "oggetto": format!("Servizio di pulizia {n}"),
        "cig": cig(3_000_000 + n),
        "cpv_main": "90910000-9",
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "minor_prezzo",
        "base_amount": if eu { "300000.00" } else { "200000.00" },
        "safety_costs": "3000.00",
        "anomaly_method": if eu { Value::Null } else { json!("A") },
        "questions_deadline": questions_before(day),
        "submission_deadline": deadline,
        "opening_at": format!("{day}T15:00"),
        "envelopes": ["A", "C"],
        "custodians": [w.rup_id, w.custode],
        "custodian_threshold": 2
    })
}

/// Ten days before the deadline's day, at noon (art. 92 c.2 needs six).
fn questions_before(day: &str) -> String {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("day") - chrono::Duration::days(10);
    format!("{}T12:00", d.format("%Y-%m-%d"))
}

/// Creates the draft and tries to publish it: the status and the body.
fn publish(rup: &Client, body: &Value) -> (u16, Value) {
    let bando = id(&rup.post("/api/v1/bandi", body).expect(201));
    let r = rup.post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}));
    (r.status, r.body)
}

fn too_short(rup: &Client, body: &Value) -> String {
    let (status, p) = publish(rup, body);
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["code"], "legal_violations", "{p}");
    let errors = p["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{p}");
    assert_eq!(errors[0]["code"], "deadline_too_short", "{p}");
    assert_eq!(errors[0]["field"], "submission_deadline", "{p}");
    errors[0]["message"].as_str().expect("message").to_string()
}

fn published(rup: &Client, body: &Value) {
    let (status, p) = publish(rup, body);
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["state"], "published");
}

/// Moves the clock and logs the RUP in again (sessions last 12 hours).
fn at(w: &mut World, instant: &str) {
    w.app.clock.set(utc(instant));
    w.relogin();
}

#[test]
fn a_minimum_term_ending_on_a_public_holiday_runs_to_the_next_working_day() {
    let mut w = world();
    // Sent on Sunday 8 November 2026: the 30th day is Tuesday 8 December (Immacolata).
    at(&mut w, "2026-11-08T09:00:00Z");
    for (n, eu) in [(1, true), (2, false)] {
        let m = too_short(&w.rup, &services(&w, n, eu, "2026-12-08T12:00"));
        assert!(m.starts_with("art. 71 c.2"), "{m}");
        assert!(m.contains("08/12/2026") && m.contains("Immacolata Concezione"), "{m}");
        assert!(m.contains("scadenza minima il 09/12/2026"), "{m}");
        let rule = if eu {
            "Reg. (CEE, Euratom) 1182/71"
        } else {
            "art. 155 c.4 c.p.c."
        };
        assert!(m.contains(rule), "{m}");
        published(&w.rup, &services(&w, n + 10, eu, "2026-12-09T09:00"));
    }
    // Sent on Thursday 26 March 2026: the 30th day is Saturday 25 April (Liberazione), then
    // Sunday 26: both rules end the term on Monday 27 April.
    at(&mut w, "2026-03-26T09:00:00Z");
    for (n, eu) in [(3, true), (4, false)] {
        let m = too_short(&w.rup, &services(&w, n, eu, "2026-04-25T12:00"));
        assert!(m.contains("Festa della Liberazione"), "{m}");
        assert!(m.contains("scadenza minima il 27/04/2026"), "{m}");
        too_short(&w.rup, &services(&w, n + 20, eu, "2026-04-26T12:00"));
        published(&w.rup, &services(&w, n + 10, eu, "2026-04-27T12:00"));
    }
}

#[test]
fn easter_monday_and_san_francesco_are_computed_holidays() {
    let mut w = world();
    // Easter 2027 is on 28 March: 30 days from 27 February end on Easter Monday, 29 March.
    at(&mut w, "2027-02-27T09:00:00Z");
    let m = too_short(&w.rup, &services(&w, 1, false, "2027-03-29T12:00"));
    assert!(
        m.contains("Lunedì dell'Angelo") && m.contains("scadenza minima il 30/03/2027"),
        "{m}"
    );
    published(&w.rup, &services(&w, 2, false, "2027-03-30T12:00"));
    // L. 151/2025: 4 October is a national holiday from 2026; in 2027 it is a Monday.
    at(&mut w, "2027-09-04T08:00:00Z");
    let m = too_short(&w.rup, &services(&w, 3, true, "2027-10-04T12:00"));
    assert!(m.contains("San Francesco d'Assisi") && m.contains("05/10/2027"), "{m}");
    published(&w.rup, &services(&w, 4, true, "2027-10-05T12:00"));
}

#[test]
fn saturday_ends_a_national_term_but_not_an_eu_one() {
    let mut w = world();
    // Sent on Thursday 7 May 2026: the 30th day is Saturday 6 June.
    at(&mut w, "2026-05-07T08:00:00Z");
    // Below the threshold Saturday is a working day (not a holiday under L. 260/1949).
    published(&w.rup, &services(&w, 1, false, "2026-06-06T12:00"));
    // Above it, Reg. 1182/71 art. 3(4) carries the term to Monday 8 June.
    let m = too_short(&w.rup, &services(&w, 2, true, "2026-06-06T12:00"));
    assert!(
        m.contains("è sabato") && m.contains("scadenza minima il 08/06/2026"),
        "{m}"
    );
    too_short(&w.rup, &services(&w, 3, true, "2026-06-07T12:00"));
    published(&w.rup, &services(&w, 4, true, "2026-06-08T09:00"));
    // Sunday is a holiday for national tenders too: sent on Friday 8 May, the 30th day is
    // Sunday 7 June.
    at(&mut w, "2026-05-08T08:00:00Z");
    let m = too_short(&w.rup, &services(&w, 5, false, "2026-06-07T12:00"));
    assert!(m.contains("è domenica") && m.contains("08/06/2026"), "{m}");
    published(&w.rup, &services(&w, 6, false, "2026-06-08T12:00"));
}

#[derive(QueryableByName)]
struct Outgoing {
    #[diesel(sql_type = diesel::sql_types::Text)]
    recipient_address: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    subject: String,
}

/// The duration messages in the outbox, oldest first.
fn duration_mail(w: &World) -> Vec<(String, String)> {
    let mut conn = PgConnection::establish(&w.app.db_url).expect("connect");
    diesel::sql_query(
        "SELECT recipient_address, subject FROM notifications_outbox
          WHERE subject LIKE 'Durata massima%' ORDER BY created_at, recipient_address",
    )
    .load::<Outgoing>(&mut conn)
    .expect("outbox")
    .into_iter()
    .map(|o| (o.recipient_address, o.subject))
    .collect()
}

/// Waits (a few scheduler ticks at most) until the outbox holds `n` duration messages.
fn wait_for_duration_mail(w: &World, n: usize) -> Vec<(String, String)> {
    let start = std::time::Instant::now();
    loop {
        let mail = duration_mail(w);
        if mail.len() >= n {
            return mail;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{} duration messages instead of {n}: {mail:?}",
            mail.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn the_rups_of_the_tenders_ente_are_warned_before_the_maximum_duration_runs_out() {
    let mut w = world();
    let admin = w.app.admin();
    // A second RUP of the same ente, a RUP of another ente, and a bidder.
    official(&admin, "rup2@comune.milano.it", "rup", &w.ente);
    let roma = roma_capitale(&admin);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    // Lowest-price open works, published on Monday 4 May 2026: 5 months (all. I.3 c.2 lett. a),
    // due on 4 October 2026.
    let bando = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle strade", 4_000_001),
    );
    supplier(&w.app, "impresa@edilizia.it");
    let bidder = w.login("impresa@edilizia.it");
    submit(&bidder, &bando, "A", b"documentazione amministrativa");
    let view = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    let md = &view["max_duration"];
    assert_eq!(md["months"], 5, "{view}");
    assert_eq!(md["citation"], "all. I.3 c.2 lett. a");
    assert_eq!(md["anomaly_extension"], false);
    assert_eq!(md["due_date"], "2026-10-04");
    assert_eq!(md["due"]["rome"], "2026-10-04T23:59:59+02:00");
    assert_eq!(md["due"]["utc"], "2026-10-04T21:59:59Z");
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    assert_eq!(public["max_duration"]["due_date"], "2026-10-04");

    // 31 days before: nothing yet (the deadline passed, the tender waits for its opening).
    at(&mut w, "2026-09-03T08:00:00Z");
    wait_for_state(&w.rup, &bando, "opening");
    assert!(duration_mail(&w).is_empty());

    // 30 days before: each RUP of the ente once; not Roma's RUP, the commissioner, the bidder.
    at(&mut w, "2026-09-04T08:00:00Z");
    let mail = wait_for_duration_mail(&w, 2);
    let to: Vec<&str> = mail.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(to, vec!["rup2@comune.milano.it", "rup@comune.milano.it"], "{mail:?}");
    assert!(mail.iter().all(|(_, s)| s.contains("mancano 30 giorni")), "{mail:?}");
    // A double tick at the same instant, from two more "instances", adds nothing.
    let mut conn = PgConnection::establish(&w.app.db_url).expect("connect");
    let now = utc("2026-09-04T08:00:00Z");
    for _ in 0..2 {
        assert!(bando::max_duration::run_due(&mut conn, now, &[30, 7])
            .expect("run")
            .is_empty());
    }
    assert_eq!(duration_mail(&w).len(), 2);
    // Delivered through the real SMTP server to those two addresses only.
    let start = std::time::Instant::now();
    let mut delivered: Vec<String>;
    loop {
        delivered = w
            .app
            .mailbox()
            .messages()
            .into_iter()
            .filter(|m| m.subject().starts_with("Durata massima"))
            .flat_map(|m| m.to())
            .collect();
        if delivered.len() >= 2 || start.elapsed() > std::time::Duration::from_secs(5) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    delivered.sort();
    assert_eq!(delivered, vec!["rup2@comune.milano.it", "rup@comune.milano.it"]);

    // 7 days before: the second warning, once.
    at(&mut w, "2026-09-27T08:00:00Z");
    let mail = wait_for_duration_mail(&w, 4);
    assert!(
        mail[2..].iter().all(|(_, s)| s.contains("mancano 7 giorni")),
        "{mail:?}"
    );
    assert!(
        bando::max_duration::run_due(&mut conn, utc("2026-09-27T09:00:00Z"), &[30, 7])
            .expect("run")
            .is_empty()
    );

    // The due day itself is still within the term; the day after, it ran out: recorded in the
    // audit trail and told to the RUPs, once. The tender is not blocked: it stays in opening.
    at(&mut w, "2026-10-04T20:00:00Z");
    assert!(
        bando::max_duration::run_due(&mut conn, utc("2026-10-04T21:59:00Z"), &[30, 7])
            .expect("run")
            .is_empty()
    );
    at(&mut w, "2026-10-05T06:00:00Z");
    let mail = wait_for_duration_mail(&w, 6);
    assert!(mail[4..].iter().all(|(_, s)| s.contains("superata")), "{mail:?}");
    let exceeded: Vec<Value> = audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == "bando.max_duration_exceeded")
        .collect();
    assert_eq!(exceeded.len(), 1, "{exceeded:?}");
    assert_eq!(exceeded[0]["details"]["due_date"], "2026-10-04");
    assert_eq!(exceeded[0]["details"]["citation"], "all. I.3 c.2 lett. a");
    let warnings = audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == "bando.max_duration_warning")
        .count();
    assert_eq!(warnings, 2);
    assert!(
        bando::max_duration::run_due(&mut conn, utc("2026-10-06T06:00:00Z"), &[30, 7])
            .expect("run")
            .is_empty()
    );
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["state"],
        "opening"
    );
}

#[test]
fn a_late_tick_sends_only_the_nearest_warning() {
    let mut w = world();
    let bando = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle scuole", 4_000_002),
    );
    // The scheduler was down until 5 days before the due date (4 October 2026): one
    // message (7 days), the 30-day threshold recorded as superseded, never sent later.
    at(&mut w, "2026-09-29T08:00:00Z");
    let mail = wait_for_duration_mail(&w, 1);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].1.contains("mancano 5 giorni"), "{mail:?}");
    let mut conn = PgConnection::establish(&w.app.db_url).expect("connect");
    assert!(
        bando::max_duration::run_due(&mut conn, utc("2026-09-30T08:00:00Z"), &[30, 7])
            .expect("run")
            .is_empty()
    );
    let view = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(view["max_duration"]["due_date"], "2026-10-04");
}
