//! The centrale's administration, rest of issue 13 point 1, over real HTTP against a real
//! server, database and SMTP server: the notifications the relay refused, retried from the
//! page until they reach the test mailbox (`notify::retry`), and the enti's authority profile
//! and qualification edited with the accounts crate's rules. Each test also plays the one who
//! must not get through.

use std::time::{Duration, Instant};

use journeys::serde_json::{json, Value};
use journeys::tender_world::{self, world, World, PASSWORD};
use journeys::web::WebClient;
use journeys::{ADMIN_EMAIL, ADMIN_PASSWORD};

const NOTIFICHE: &str = "/amministrazione/notifiche";
const ENTI: &str = "/amministrazione/enti";

fn admin(app: &journeys::TestApp) -> WebClient {
    let b = WebClient::new(&app.base_url);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    b
}

#[track_caller]
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// (notification id, sent, attempts) of the operatore's one outbox row.
fn outbox_row(w: &World, op: &str) -> (String, bool, i32) {
    let line = w.app.psql(&format!(
        "SELECT id || '|' || (sent_at IS NOT NULL) || '|' || attempts FROM notifications_outbox
         WHERE object_type = 'operatore' AND object_id = '{op}'"
    ));
    let parts: Vec<&str> = line.trim().split('|').collect();
    assert_eq!(parts.len(), 3, "one row expected, got {line:?}");
    (
        parts[0].to_string(),
        parts[1] == "true",
        parts[2].parse().expect("attempts"),
    )
}

/// A supplier whose qualification decision is in the outbox while the relay refuses
/// everything, tried once: (operatore id, notification id, its PEC, attempts so far).
fn refused_notification(w: &World, email: &str) -> (String, String, String, i32) {
    w.app.mailbox().set_refusing(true);
    let (_, op) = tender_world::pending_supplier(&w.app, email, true);
    w.app
        .admin()
        .post(
            &format!("/api/v1/registry/operatori/{op}/qualification"),
            &json!({ "action": "qualify" }),
        )
        .expect(200);
    wait_until("a refused attempt", || outbox_row(w, &op).2 >= 1);
    let (id, sent, attempts) = outbox_row(w, &op);
    assert!(!sent);
    let pec = w.app.psql(&format!(
        "SELECT recipient_address FROM notifications_outbox WHERE id = '{id}'"
    ));
    (op, id, pec.trim().to_string(), attempts)
}

/// The operatore's audit events with `action`, as its owner reads them.
fn operatore_events(w: &World, email: &str, op: &str, action: &str) -> Vec<Value> {
    w.login(email)
        .get(&format!("/api/v1/registry/operatori/{op}/history"))
        .expect(200)["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

/// The relay refuses: the page lists the row with its recipient, what it is about, the
/// relay's error and the attempts; once the relay is back, "Riprova" puts it at the head of
/// the queue (the frozen test clock would otherwise keep it in its backoff), the dispatcher
/// delivers it to the real mailbox, the retry is on the operatore's trail with the admin as
/// actor, and the page is empty. Retrying the delivered row is refused (409), nothing sent.
#[test]
fn notifiche_a_refused_notification_is_listed_and_retried_until_the_mailbox_has_it() {
    let w = world();
    let (op, id, pec, attempts) = refused_notification(&w, "rifiutata@impresa.it");
    let b = admin(&w.app);
    let page = b.get(NOTIFICHE).expect(200);
    assert!(page.contains(&format!("id=\"notifica-{id}\"")), "{}", page.text);
    assert!(page.contains(&pec));
    assert!(page.contains("Albo operatori economici"));
    assert!(page.contains("iscrizione approvata"), "the subject is shown");
    assert!(page.contains("550"), "the relay's refusal is shown: {}", page.text);
    assert!(page.contains("Nuovo tentativo automatico il"), "still in its backoff");
    assert!(page.contains(&format!("name=\"tentativi\" value=\"{attempts}\"")));
    // Times in Europe/Rome: the decision was written at 4 May 2026 08:00Z = 10:00 in Rome.
    assert!(page.contains("04/05/2026 10:00"), "{}", page.text);

    // Some ticks later nothing moved: the backoff holds on the frozen clock.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(outbox_row(&w, &op).2, attempts);
    assert!(w.app.mailbox().messages().is_empty());

    w.app.mailbox().set_refusing(false);
    let csrf = page.csrf();
    let done = b
        .post_form(
            &format!("{NOTIFICHE}/{id}/riprova"),
            &[("_csrf", &csrf), ("tentativi", &attempts.to_string())],
        )
        .expect(303);
    assert_eq!(
        done.location.as_deref(),
        Some("/amministrazione/notifiche?esito=in-coda")
    );
    let mails = w.app.mailbox().wait_for(1);
    assert_eq!(mails[0].to(), vec![pec.clone()]);
    assert_eq!(
        mails[0].header("X-Centrale-Notification-Id").as_deref(),
        Some(id.as_str())
    );
    wait_until("the row marked sent", || outbox_row(&w, &op).1);

    let retried = operatore_events(&w, "rifiutata@impresa.it", &op, "notify.retry_requested");
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert_eq!(retried[0]["details"]["notification_id"], id.as_str());
    assert_eq!(retried[0]["details"]["attempts"], attempts);
    let admin_id = w.app.admin().get("/api/v1/auth/me").expect(200)["id"].clone();
    assert_eq!(retried[0]["actor_user_id"], admin_id);
    assert_eq!(
        operatore_events(&w, "rifiutata@impresa.it", &op, "notify.delivered").len(),
        1
    );
    let after = b.get(done.location.as_deref().expect("location")).expect(200);
    assert!(after.contains("Notifica rimessa in coda"));
    assert!(after.contains("id=\"nessuna-notifica\""), "{}", after.text);

    // The stale page's button again: delivered, so refused, and nothing is sent twice.
    let again = b.post_form(
        &format!("{NOTIFICHE}/{id}/riprova"),
        &[("_csrf", &csrf), ("tentativi", &attempts.to_string())],
    );
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.contains("già stata recapitata"), "{}", again.text);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(w.app.mailbox().messages().len(), 1);
    assert_eq!(
        operatore_events(&w, "rifiutata@impresa.it", &op, "notify.retry_requested").len(),
        1
    );
}

/// A double click (or two admins on the same page): the first click queues the row, the
/// dispatcher tries it (the relay still refuses), the second finds the request answered and
/// writes nothing. One retry event, the same outcome page.
#[test]
fn notifiche_a_double_click_on_riprova_acts_once() {
    let w = world();
    let (op, id, _, attempts) = refused_notification(&w, "doppio@impresa.it");
    let b = admin(&w.app);
    let csrf = b.get(NOTIFICHE).expect(200).csrf();
    let form = [("_csrf", csrf.as_str()), ("tentativi", &attempts.to_string())];
    let first = b.post_form(&format!("{NOTIFICHE}/{id}/riprova"), &form).expect(303);
    let second = b.post_form(&format!("{NOTIFICHE}/{id}/riprova"), &form).expect(303);
    assert_eq!(
        first.location.as_deref(),
        Some("/amministrazione/notifiche?esito=in-coda")
    );
    assert_eq!(
        second.location.as_deref(),
        Some("/amministrazione/notifiche?esito=gia-in-coda")
    );
    wait_until("the retried attempt", || outbox_row(&w, &op).2 > attempts);
    let third = b.post_form(&format!("{NOTIFICHE}/{id}/riprova"), &form).expect(303);
    assert_eq!(
        third.location.as_deref(),
        Some("/amministrazione/notifiche?esito=gia-in-coda"),
        "tried again since the page was read: answered already"
    );
    assert_eq!(
        operatore_events(&w, "doppio@impresa.it", &op, "notify.retry_requested").len(),
        1
    );
    assert!(w.app.mailbox().messages().is_empty(), "the relay still refuses");
    let page = b.get(NOTIFICHE).expect(200);
    assert!(
        page.contains(&format!("id=\"notifica-{id}\"")),
        "still listed while refused"
    );
}

/// Only admins: the RUP and a supplier get 403 on the page and the act, an anonymous visitor
/// the login page; a forged or missing token is 403 with nothing queued; an unknown row 404.
#[test]
fn notifiche_only_admins_retry_and_only_with_the_sessions_token() {
    let w = world();
    let (op, id, _, attempts) = refused_notification(&w, "negata@impresa.it");
    let path = format!("{NOTIFICHE}/{id}/riprova");
    let tentativi = attempts.to_string();
    let anonymous = WebClient::new(&w.app.base_url);
    let to_login = anonymous.get(NOTIFICHE);
    assert_eq!(to_login.status, 303);
    assert!(to_login.location.as_deref().is_some_and(|l| l.starts_with("/accedi")));
    let rup = WebClient::new(&w.app.base_url);
    rup.login("rup@comune.milano.it", PASSWORD);
    assert_eq!(rup.get(NOTIFICHE).status, 403);
    let csrf = rup.get("/").expect(200).csrf();
    assert_eq!(
        rup.post_form(&path, &[("_csrf", &csrf), ("tentativi", &tentativi)])
            .status,
        403
    );
    let supplier = WebClient::new(&w.app.base_url);
    supplier.login("negata@impresa.it", PASSWORD);
    assert_eq!(supplier.get(NOTIFICHE).status, 403);
    let b = admin(&w.app);
    b.get(NOTIFICHE).expect(200);
    assert_eq!(
        b.post_form(&path, &[("_csrf", "0000"), ("tentativi", &tentativi)])
            .status,
        403
    );
    assert_eq!(b.post_form(&path, &[("tentativi", &tentativi)]).status, 403);
    let csrf = b.get(NOTIFICHE).expect(200).csrf();
    assert_eq!(
        b.post_form(
            &format!("{NOTIFICHE}/00000000-0000-4000-8000-000000000000/riprova"),
            &[("_csrf", &csrf), ("tentativi", "1")]
        )
        .status,
        404
    );
    assert!(operatore_events(&w, "negata@impresa.it", &op, "notify.retry_requested").is_empty());
    let next = w.app.psql(&format!(
        "SELECT next_attempt_at > '2026-05-04T08:00:00Z' FROM notifications_outbox WHERE id = '{id}'"
    ));
    assert_eq!(next.trim(), "t", "still in its backoff: nothing queued");
}

fn ente_of(w: &World) -> Value {
    w.app.admin().get(&format!("/api/v1/enti/{}", w.ente)).expect(200)
}

fn ente_events(w: &World, action: &str) -> Vec<Value> {
    tender_world::audit_events(w)
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

/// The authority profile from the page: the accounts crate's rule (a basis with the
/// qualification by law, and only with it) refuses next to the form with 422 and nothing
/// changed; a valid one is saved (303), audited, and shown.
#[test]
fn enti_the_admin_edits_the_authority_profile_with_the_accounts_rules() {
    let w = world();
    let b = admin(&w.app);
    let page = b.get(ENTI).expect(200);
    let action = format!("{ENTI}/{}/profilo", w.ente);
    assert!(page.contains(&format!("action=\"{action}\"")), "{}", page.text);
    let csrf = page.csrf();
    let before = ente_events(&w, "ente.authority_profile_set").len();

    let no_basis = b.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("autorita", "central_government"),
            ("di_diritto", "1"),
            ("titolo", " "),
        ],
    );
    assert_eq!(no_basis.status, 422, "{}", no_basis.text);
    assert!(no_basis.contains(&format!("id=\"errore-profilo-{}\"", w.ente)));
    assert!(no_basis.contains("art. 63 c.4"), "{}", no_basis.text);
    assert!(
        no_basis.contains(&format!("aria-describedby=\"errore-profilo-{}\"", w.ente)),
        "the field names its error"
    );
    let basis_alone = b.post_form(
        &action,
        &[("_csrf", &csrf), ("autorita", "sub_central"), ("titolo", "Regione")],
    );
    assert_eq!(basis_alone.status, 422, "{}", basis_alone.text);
    let unknown = b.post_form(&action, &[("_csrf", &csrf), ("autorita", "galattica")]);
    assert_eq!(unknown.status, 422);
    let e = ente_of(&w);
    assert_eq!(e["authority_kind"], "sub_central");
    assert_eq!(e["qualified_by_law"], false);
    assert_eq!(ente_events(&w, "ente.authority_profile_set").len(), before);

    let done = b
        .post_form(
            &action,
            &[
                ("_csrf", &csrf),
                ("autorita", "central_government"),
                ("di_diritto", "1"),
                ("titolo", "Ministero (art. 63 c.4)"),
            ],
        )
        .expect(303);
    let e = ente_of(&w);
    assert_eq!(e["authority_kind"], "central_government");
    assert_eq!(e["qualified_by_law"], true);
    assert_eq!(e["qualified_by_law_basis"], "Ministero (art. 63 c.4)");
    let events = ente_events(&w, "ente.authority_profile_set");
    assert_eq!(events.len(), before + 1);
    assert_eq!(
        events[before]["details"]["after"]["authority_kind"],
        "central_government"
    );
    let after = b.get(done.location.as_deref().expect("location")).expect(200);
    assert!(after.contains("id=\"esito-enti\""), "{}", after.text);
    assert!(after.contains("Comune di Milano: profilo dell"), "{}", after.text);
    assert!(after.contains("Qualificata di diritto (art. 63 c.4): Ministero"));
}

/// A qualification recorded, renewed and revoked from the page, as `POST /qualifications`:
/// an expiry in the past or a level without one is refused next to the form (422), nothing
/// recorded; each accepted act is one record and one audit event. Only admins, only with the
/// session's token.
#[test]
fn enti_the_admin_records_renews_and_revokes_a_qualification() {
    let mut w = world();
    let b = admin(&w.app);
    let action = format!("{ENTI}/{}/qualificazioni", w.ente);
    let csrf = b.get(ENTI).expect(200).csrf();
    let history = |w: &World| -> Vec<Value> {
        w.app
            .admin()
            .get(&format!("/api/v1/enti/{}/qualifications", w.ente))
            .expect(200)
            .as_array()
            .expect("records")
            .clone()
    };
    let start = history(&w).len();

    let past = b.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("azione", "registra"),
            ("settore", "works"),
            ("livello", "base"),
            ("scadenza", "2025-12-31"),
        ],
    );
    assert_eq!(past.status, 422, "{}", past.text);
    assert!(past.contains(&format!("id=\"errore-qualificazione-{}\"", w.ente)));
    assert!(past.contains("già scaduta il 31/12/2025"), "{}", past.text);
    let no_date = b.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("azione", "registra"),
            ("settore", "works"),
            ("livello", "base"),
        ],
    );
    assert_eq!(no_date.status, 422);
    assert!(no_date.contains("indicare la scadenza"), "{}", no_date.text);
    let bad_date = b.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("azione", "registra"),
            ("settore", "works"),
            ("livello", "base"),
            ("scadenza", "31/12/2030"),
        ],
    );
    assert_eq!(bad_date.status, 422);
    assert_eq!(history(&w).len(), start, "nothing recorded");

    b.post_form(
        &action,
        &[
            ("_csrf", &csrf),
            ("azione", "registra"),
            ("settore", "services_supplies"),
            ("livello", "intermedia"),
            ("scadenza", "2031-06-30"),
            ("riferimento_anac", "AUSA 0000123"),
        ],
    )
    .expect(303);
    let records = history(&w);
    assert_eq!(records.len(), start + 1);
    let last = &records[start];
    assert_eq!(last["sector"], "services_supplies");
    assert_eq!(last["level"], "intermedia");
    assert_eq!(last["valid_until"], "2031-06-30");
    assert_eq!(last["anac_reference"], "AUSA 0000123");

    let revoked = b
        .post_form(
            &action,
            &[
                ("_csrf", &csrf),
                ("azione", "revoca"),
                ("settore", "works"),
                ("livello", "base"),
            ],
        )
        .expect(303);
    assert!(revoked.location.as_deref().is_some_and(|l| l.contains("esito=revoca")));
    let records = history(&w);
    assert_eq!(records.len(), start + 2);
    assert_eq!(records[start + 1]["sector"], "works");
    assert!(records[start + 1]["level"].is_null());
    assert_eq!(ente_events(&w, "ente.qualification_recorded").len(), start + 2);
    let page = b.get(ENTI).expect(200);
    assert!(
        page.contains("Lavori: qualificazione non più in vigore"),
        "{}",
        page.text
    );
    assert!(page.contains("Servizi e forniture: livello intermedio, valida fino al 30/06/2031"));

    // Not an admin, or no token: refused, nothing recorded.
    w.relogin();
    let rup = WebClient::new(&w.app.base_url);
    rup.login("rup@comune.milano.it", PASSWORD);
    assert_eq!(rup.get(ENTI).status, 403);
    let rup_csrf = rup.get("/").expect(200).csrf();
    let fields = [("azione", "revoca"), ("settore", "services_supplies")];
    let mut with = vec![("_csrf", rup_csrf.as_str())];
    with.extend(fields);
    assert_eq!(rup.post_form(&action, &with).status, 403);
    let mut forged = vec![("_csrf", "0000")];
    forged.extend(fields);
    assert_eq!(b.post_form(&action, &forged).status, 403);
    assert_eq!(
        b.post_form(
            &format!("{ENTI}/{}/profilo", w.ente),
            &[("_csrf", "0000"), ("autorita", "sub_central")]
        )
        .status,
        403
    );
    assert_eq!(history(&w).len(), start + 2);
    assert_eq!(ente_of(&w)["authority_kind"], "sub_central");
}

/// Before the deadline a rettifica's notification goes to each bidder: undelivered, it must not
/// tell the admin who bid (address, subject, the relay's error quoting the address). The row
/// is written as `offerte::amendments` writes it, already tried once and refused.
#[test]
fn notifiche_an_undelivered_notice_about_a_tender_does_not_name_its_bidder() {
    let w = world();
    let id = uuid::Uuid::new_v4();
    w.app.psql(&format!(
        "INSERT INTO notifications_outbox (id, recipient_address, subject, body, object_type, object_id, created_at, attempts, last_error, next_attempt_at)
         VALUES ('{id}', 'gare@offerente-segreto.it', 'Rettifica del bando «Strade»: confermare o sostituire l''offerta', 'x', 'bando', '{}', now(), 1, '550 <gare@offerente-segreto.it> rejected', now() + interval '1 day')",
        uuid::Uuid::new_v4()
    ));
    let page = admin(&w.app).get(NOTIFICHE).expect(200);
    assert!(page.contains(&format!("id=\"notifica-{id}\"")), "listed: {}", page.text);
    assert!(!page.contains("offerente-segreto"), "{}", page.text);
    assert!(!page.contains("confermare o sostituire"), "{}", page.text);
    assert!(page.contains(&format!("{NOTIFICHE}/{id}/riprova")), "still retryable");
}
