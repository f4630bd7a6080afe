//! The centrale's admin in the portal (issue 13 point 1, first page): the queue of operatori
//! waiting for qualification, over real HTTP against a real server and database. The rules
//! are the registry's; each test plays the one who should not get through.

use journeys::tender_world::{self, world, PASSWORD};
use journeys::web::WebClient;
use journeys::{ADMIN_EMAIL, ADMIN_PASSWORD};

const QUEUE: &str = "/amministrazione/qualificazioni";

fn admin(app: &journeys::TestApp) -> WebClient {
    let b = WebClient::new(&app.base_url);
    b.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    b
}

fn status_of(app: &journeys::TestApp, op: &str) -> String {
    let v = app.admin().get(&format!("/api/v1/registry/operatori/{op}")).expect(200);
    v["status"].as_str().expect("status").to_string()
}

/// The admin sees each pending operatore with its documents (linked, with their SHA-256) and
/// qualifies it; rejecting needs the reason, which the registry asks for on the page; an entry
/// whose documents are missing cannot be qualified, and the page says why.
#[test]
fn the_admin_qualifies_and_rejects_from_the_queue_with_the_registrys_rules() {
    let w = world();
    let (_, ready) = tender_world::pending_supplier(&w.app, "pronto@impresa.it", true);
    let (_, bare) = tender_world::pending_supplier(&w.app, "senza-documenti@impresa.it", false);
    let b = admin(&w.app);
    let page = b.get(QUEUE).expect(200);
    assert!(page.contains(&format!("action=\"{QUEUE}/{ready}\"")), "{}", page.text);
    assert!(page.contains(&format!("action=\"{QUEUE}/{bare}\"")));
    assert!(page.contains(&format!("/api/v1/registry/operatori/{ready}/documenti/")));
    assert!(
        page.contains("Documenti non validi"),
        "the bare entry's missing documents are said"
    );
    let csrf = page.csrf();

    // Missing documents: refused with the registry's message, next to the entry; unchanged.
    let refused = b.post_form(&format!("{QUEUE}/{bare}"), &[("_csrf", &csrf), ("azione", "qualifica")]);
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(refused.contains(&format!("id=\"errore-{bare}\"")));
    assert_eq!(status_of(&w.app, &bare), "pending");
    // Rejecting without a reason: 422, unchanged; with one: rejected, and gone from the queue.
    let no_reason = b.post_form(
        &format!("{QUEUE}/{bare}"),
        &[("_csrf", &csrf), ("azione", "respingi"), ("motivazione", "  ")],
    );
    assert_eq!(no_reason.status, 422, "{}", no_reason.text);
    assert!(no_reason.contains("motivazione"));
    assert_eq!(status_of(&w.app, &bare), "pending");
    let rejected = b
        .post_form(
            &format!("{QUEUE}/{bare}"),
            &[
                ("_csrf", &csrf),
                ("azione", "respingi"),
                ("motivazione", "DURC e visura mancanti"),
            ],
        )
        .expect(303);
    assert!(rejected
        .location
        .as_deref()
        .is_some_and(|l| l.contains("esito=respinto")));
    assert_eq!(status_of(&w.app, &bare), "rejected");

    let done = b
        .post_form(
            &format!("{QUEUE}/{ready}"),
            &[("_csrf", &csrf), ("azione", "qualifica")],
        )
        .expect(303);
    assert_eq!(status_of(&w.app, &ready), "qualified");
    let after = b.get(done.location.as_deref().expect("location")).expect(200);
    assert!(after.contains("qualificato"));
    assert!(
        after.contains("Nessuna richiesta in attesa di verifica"),
        "{}",
        after.text
    );
    // Deciding again (a double click, a stale tab): the registry refuses, nothing changes.
    let again = b.post_form(
        &format!("{QUEUE}/{ready}"),
        &[("_csrf", &csrf), ("azione", "respingi"), ("motivazione", "x")],
    );
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(status_of(&w.app, &ready), "qualified");
}

/// Only the centrale's admins: the ente's RUP and a supplier get 403, an anonymous visitor
/// the login page, and a form without the session's token is refused with nothing decided.
#[test]
fn only_admins_decide_and_only_with_the_sessions_token() {
    let w = world();
    let (_, op) = tender_world::pending_supplier(&w.app, "attesa@impresa.it", true);
    let anonymous = WebClient::new(&w.app.base_url);
    let to_login = anonymous.get(QUEUE);
    assert_eq!(to_login.status, 303);
    assert!(to_login.location.as_deref().is_some_and(|l| l.starts_with("/accedi")));
    let rup = WebClient::new(&w.app.base_url);
    rup.login("rup@comune.milano.it", PASSWORD);
    assert_eq!(rup.get(QUEUE).status, 403);
    let csrf = rup.get("/").expect(200).csrf();
    assert_eq!(
        rup.post_form(&format!("{QUEUE}/{op}"), &[("_csrf", &csrf), ("azione", "qualifica")])
            .status,
        403
    );
    tender_world::supplier(&w.app, "altro@impresa.it");
    let supplier = WebClient::new(&w.app.base_url);
    supplier.login("altro@impresa.it", PASSWORD);
    assert_eq!(supplier.get(QUEUE).status, 403);
    let b = admin(&w.app);
    let forged = b.post_form(&format!("{QUEUE}/{op}"), &[("_csrf", "0000"), ("azione", "qualifica")]);
    assert_eq!(forged.status, 403);
    assert_eq!(status_of(&w.app, &op), "pending");
}

/// The enti with their kind, qualification and officials, to the admin only.
#[test]
fn the_admin_sees_each_ente_with_its_officials_and_their_roles() {
    let w = world();
    let b = admin(&w.app);
    let page = b.get("/amministrazione/enti").expect(200);
    assert!(page.contains("Comune di Milano"), "{}", page.text);
    assert!(page.contains("rup@comune.milano.it"));
    assert!(
        page.contains("<td>RUP</td>") || page.contains("RUP, ") || page.contains(", RUP"),
        "{}",
        page.text
    );
    assert!(page.contains("Amministrazione sub-centrale (art. 14 c.1 lett. c)"));
    let rup = WebClient::new(&w.app.base_url);
    rup.login("rup@comune.milano.it", PASSWORD);
    assert_eq!(rup.get("/amministrazione/enti").status, 403);
    assert_eq!(WebClient::new(&w.app.base_url).get("/amministrazione/enti").status, 303);
}
