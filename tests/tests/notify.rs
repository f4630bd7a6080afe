//! The notifications outbox is delivered by e-mail/PEC: a registry decision reaches a real
//! SMTP server (started by the harness on a loopback port), once, marked sent and audited;
//! a refusing relay leaves the row queued with its error until a later attempt succeeds.

use std::time::{Duration, Instant};

use journeys::serde_json::{json, Value};
use journeys::{Client, TestApp};

const PASSWORD: &str = "fornitore-password";
const PIVA: [&str; 2] = ["00514490010", "01199250158"];

/// A registered supplier with its mandatory documents, pending qualification.
fn pending_supplier(app: &TestApp, email: &str, name: &str, piva: &str) -> (Client, String) {
    let (c, _) = app.register_supplier(email, "Ufficio gare", PASSWORD);
    let body = json!({
        "ragione_sociale": name,
        "forma_giuridica": "srl",
        "partita_iva": piva,
        "codice_fiscale": piva,
        "sede_istat": "015146",
        "sede_indirizzo": "Via Roma 1",
        "pec": format!("{piva}@legalmail.it"),
        "legale_rappresentante": { "nome": "Mario Rossi", "codice_fiscale": "RSSMRA80A01F205X" }
    });
    let id = c.post("/api/v1/registry/operatori", &body).expect(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    for (tipo, scad) in [("durc", "&scadenza=2026-12-31"), ("visura_camerale", "")] {
        c.post_raw(
            &format!("/api/v1/registry/operatori/{id}/documenti?tipo={tipo}&nome_file={tipo}.pdf{scad}"),
            "application/pdf",
            format!("{tipo} {id}").as_bytes(),
        )
        .expect(201);
    }
    c.put(
        &format!("/api/v1/registry/operatori/{id}/categorie"),
        &json!({ "cpv": ["45210000-2"], "soa": [] }),
    )
    .expect(200);
    (c, id)
}

fn decide(admin: &Client, id: &str, decision: Value) {
    admin
        .post(&format!("/api/v1/registry/operatori/{id}/qualification"), &decision)
        .expect(200);
}

/// The audit events of an operatore, as its owner reads them.
fn events(c: &Client, id: &str, action: &str) -> Vec<Value> {
    c.get(&format!("/api/v1/registry/operatori/{id}/history")).expect(200)["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

/// (sent, attempts, last_error, message_id) of the operatore's one notification.
fn row(app: &TestApp, id: &str) -> (bool, i32, String, String) {
    let line = app.psql(&format!(
            "SELECT (sent_at IS NOT NULL) || '|' || attempts || '|' || coalesce(last_error, '') || '|' || coalesce(message_id, '')
             FROM notifications_outbox WHERE object_type = 'operatore' AND object_id = '{id}'"
        ),
    );
    let parts: Vec<&str> = line.splitn(4, '|').collect();
    assert_eq!(parts.len(), 4, "one row expected, got {line:?}");
    (
        parts[0] == "true",
        parts[1].parse().expect("attempts"),
        parts[2].to_string(),
        parts[3].to_string(),
    )
}

#[track_caller]
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A few scheduler ticks (50 ms each in tests).
fn some_ticks() {
    std::thread::sleep(Duration::from_millis(400));
}

#[test]
fn a_qualification_decision_is_delivered_once_to_the_suppliers_pec_and_audited() {
    let app = TestApp::start();
    let admin = app.admin();
    let (c, id) = pending_supplier(&app, "a@x.it", "Alfa Costruzioni S.r.l.", PIVA[0]);
    assert!(
        app.mailbox().messages().is_empty(),
        "nothing to send before the decision"
    );
    decide(&admin, &id, json!({ "action": "qualify" }));

    let mails = app.mailbox().wait_for(1);
    let mail = &mails[0];
    let pec = format!("{}@legalmail.it", PIVA[0]);
    assert_eq!(mail.envelope_to, std::slice::from_ref(&pec));
    assert_eq!(mail.to(), std::slice::from_ref(&pec));
    assert_eq!(mail.envelope_from, "protocollo@pec.centrale.test");
    assert_eq!(mail.subject(), "Albo operatori economici: iscrizione approvata");
    assert!(
        mail.text().starts_with("Gentile Alfa Costruzioni S.r.l.,\nla Sua iscrizione all'albo degli operatori economici della centrale di committenza è stata approvata."),
        "{}",
        mail.text()
    );
    assert_eq!(mail.content_type(), "text/plain; charset=utf-8");

    // Traceable: the header names the outbox row the decision's audit event names.
    let decided = events(&c, &id, "registry.operatore.qualified");
    let notification = decided[0]["details"]["notification_id"]
        .as_str()
        .expect("notification id")
        .to_string();
    assert_eq!(
        mail.header("X-Centrale-Notification-Id").as_deref(),
        Some(notification.as_str())
    );
    assert_eq!(mail.header("X-Centrale-Object"), Some(format!("operatore/{id}")));
    assert_eq!(mail.message_id(), format!("{notification}@pec.centrale.test"));

    // Sent once: later ticks do not send it again.
    some_ticks();
    assert_eq!(app.mailbox().messages().len(), 1);
    let (sent, attempts, _, message_id) = row(&app, &id);
    assert!(sent);
    assert_eq!(attempts, 1);
    assert_eq!(message_id, format!("<{notification}@pec.centrale.test>"));

    // One audit event for the delivery, on the operatore's trail.
    let delivered = events(&c, &id, "notify.delivered");
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["details"]["notification_id"], notification.as_str());
    assert_eq!(delivered[0]["details"]["to"], pec.as_str());
    assert_eq!(delivered[0]["details"]["message_id"], message_id.as_str());
    assert!(delivered[0]["actor_user_id"].is_null());

    // A second decision is a second message, with its own id.
    decide(
        &admin,
        &id,
        json!({ "action": "suspend", "reason": "DURC irregolare: verifica in corso presso l'INPS — città di Forlì" }),
    );
    let mails = app.mailbox().wait_for(2);
    assert_eq!(mails[1].subject(), "Albo operatori economici: iscrizione sospesa");
    assert!(
        mails[1]
            .text()
            .trim_end()
            .ends_with("Motivazione: DURC irregolare: verifica in corso presso l'INPS — città di Forlì"),
        "{}",
        mails[1].text()
    );
    assert_ne!(mails[1].message_id(), mails[0].message_id());
    some_ticks();
    assert_eq!(app.mailbox().messages().len(), 2);
    assert_eq!(events(&c, &id, "notify.delivered").len(), 2);
}

#[test]
fn a_refused_delivery_stays_queued_with_its_error_and_is_retried_after_the_backoff() {
    let app = TestApp::start();
    let admin = app.admin();
    let (c, id) = pending_supplier(&app, "b@x.it", "Beta Servizi S.r.l.", PIVA[1]);
    app.mailbox().set_refusing(true);
    decide(&admin, &id, json!({ "action": "qualify" }));

    wait_until("a failed attempt", || row(&app, &id).1 >= 1);
    let (sent, attempts, error, _) = row(&app, &id);
    assert!(!sent);
    assert_eq!(attempts, 1);
    assert!(error.contains("550"), "the relay's refusal is kept: {error}");
    assert!(app.mailbox().messages().is_empty());
    assert!(events(&c, &id, "notify.delivered").is_empty());

    // The relay recovers, but the row waits for its backoff (30 s on the manual clock):
    // ticks in between do not hammer the relay.
    app.mailbox().set_refusing(false);
    some_ticks();
    assert_eq!(row(&app, &id).1, 1);
    assert!(app.mailbox().messages().is_empty());

    app.clock.advance(chrono::Duration::seconds(31));
    let mails = app.mailbox().wait_for(1);
    assert_eq!(mails[0].subject(), "Albo operatori economici: iscrizione approvata");
    assert_eq!(mails[0].envelope_to, [format!("{}@legalmail.it", PIVA[1])]);
    wait_until("the row marked sent", || row(&app, &id).0);
    let (_, attempts, _, _) = row(&app, &id);
    assert_eq!(attempts, 2);
    some_ticks();
    assert_eq!(app.mailbox().messages().len(), 1);
    let delivered = events(&c, &id, "notify.delivered");
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["details"]["attempt"], 2);
}

#[test]
fn with_delivery_disabled_nothing_is_sent_and_rows_stay_queued() {
    let app = TestApp::start_with(|state| state.notify = None);
    let admin = app.admin();
    let (c, id) = pending_supplier(&app, "a@x.it", "Alfa Costruzioni S.r.l.", PIVA[0]);
    decide(&admin, &id, json!({ "action": "qualify" }));
    some_ticks();
    assert!(app.mailbox().messages().is_empty());
    assert_eq!(row(&app, &id), (false, 0, String::new(), String::new()));
    assert!(events(&c, &id, "notify.delivered").is_empty());
}

#[test]
fn two_dispatchers_on_one_database_never_send_a_row_twice() {
    // The app's own dispatcher is off; two "instances" race on the same outbox instead.
    let app = TestApp::start_with(|state| state.notify = None);
    let admin = app.admin();
    let mut ids = Vec::new();
    for (n, piva) in PIVA.iter().enumerate() {
        let (_, id) = pending_supplier(&app, &format!("s{n}@x.it"), &format!("Operatore {n} S.r.l."), piva);
        decide(&admin, &id, json!({ "action": "qualify" }));
        decide(&admin, &id, json!({ "action": "suspend", "reason": "verifica DURC" }));
        decide(&admin, &id, json!({ "action": "reinstate" }));
        ids.push(id);
    }
    let queued: usize = app
        .psql("SELECT count(*) FROM notifications_outbox WHERE sent_at IS NULL")
        .parse()
        .expect("count");
    assert_eq!(queued, 6);
    let pool = db::pool::build(&app.db_url, 4).expect("pool");
    let now = journeys::default_start();
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let pool = pool.clone();
            let mailer = app.mailbox().mailer();
            std::thread::spawn(move || {
                let mut conn = pool.get().expect("connection");
                let mut sent = 0;
                loop {
                    let report = notify::dispatch(&mut conn, &mailer, now).expect("dispatch");
                    assert_eq!(report.failed, 0);
                    if report.sent == 0 {
                        return sent;
                    }
                    sent += report.sent;
                }
            })
        })
        .collect();
    let total: u32 = racers.into_iter().map(|r| r.join().expect("racer")).sum();
    assert_eq!(total, 6);
    let mails = app.mailbox().messages();
    assert_eq!(mails.len(), 6);
    let mut notification_ids: Vec<String> = mails
        .iter()
        .map(|m| m.header("X-Centrale-Notification-Id").expect("id header"))
        .collect();
    notification_ids.sort();
    notification_ids.dedup();
    assert_eq!(notification_ids.len(), 6, "every row sent exactly once");
    assert_eq!(
        app.psql("SELECT count(*) FROM notifications_outbox WHERE sent_at IS NULL"),
        "0"
    );
    assert_eq!(
        app.psql("SELECT count(*) FROM audit_events WHERE action = 'notify.delivered'"),
        "6"
    );
    assert_eq!(app.psql("SELECT max(attempts) FROM notifications_outbox"), "1");
}
