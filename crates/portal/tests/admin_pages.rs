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

/// The admin grants a role in an ente, revokes it with its reason (refused without one) and
/// deactivates an account; the last admin cannot lose the admin role (409 `last_admin`, shown
/// next to the person); and the holder's powers follow at once on the API.
#[test]
fn the_admin_grants_revokes_and_deactivates_with_the_accounts_rules() {
    let w = world();
    let new = tender_world::official(&w.app.admin(), "nuovo@comune.milano.it", "auditor", &w.ente);
    let b = admin(&w.app);
    let users = "/amministrazione/utenti";
    let page = b.get(users).expect(200);
    assert!(
        page.contains("nuovo@comune.milano.it") && page.contains("revisore"),
        "{}",
        page.text
    );
    let csrf = page.csrf();
    let roles_of = |id: &str| -> Vec<(String, String)> {
        let list = w.app.admin().get("/api/v1/users?limit=500").expect(200);
        let u = list
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["id"] == id)
            .cloned()
            .expect("user");
        u["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .map(|g| {
                (
                    g["role"].as_str().unwrap_or_default().to_string(),
                    g["ente_id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };

    // Outsiders: a supplier is refused, an anonymous visitor goes to the login, a forged token
    // does nothing.
    let grant = format!("{users}/{new}/ruoli");
    let supplier = WebClient::new(&w.app.base_url);
    tender_world::supplier(&w.app, "impresa@ruoli.it");
    supplier.login("impresa@ruoli.it", PASSWORD);
    let supplier_csrf = supplier.get("/fornitore").csrf();
    let fields = |t: &str| {
        vec![
            ("_csrf".to_string(), t.to_string()),
            ("ruolo".into(), "commission".into()),
            ("ente".into(), w.ente.clone()),
        ]
    };
    let send = |c: &WebClient, t: &str| {
        let f = fields(t);
        let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        c.post_form(&grant, &f)
    };
    assert_eq!(send(&supplier, &supplier_csrf).status, 403);
    let anonymous = send(&WebClient::new(&w.app.base_url), "x");
    assert_eq!(anonymous.status, 303);
    assert!(anonymous.location.as_deref().unwrap_or_default().starts_with("/accedi"));
    assert_eq!(send(&b, "forged").status, 403);
    assert!(
        !roles_of(&new).contains(&("commission".into(), w.ente.clone())),
        "nothing granted"
    );

    // The double click on "Assegna": both answers are the outcome, one grant in the trail.
    send(&b, &csrf).expect(303);
    send(&b, &csrf).expect(303);
    assert!(roles_of(&new).contains(&("commission".into(), w.ente.clone())));
    let grants = tender_world::audit_events(&w)
        .into_iter()
        .filter(|e| {
            e["action"] == "role.granted" && e["object_id"] == new.as_str() && e["details"]["role"] == "commission"
        })
        .count();
    assert_eq!(grants, 1, "a role already held is not granted again");
    // Revoking needs a reason: 422 on the page, nothing revoked.
    let no_reason = b.post_form(
        &format!("{users}/{new}/revoca"),
        &[
            ("_csrf", &csrf),
            ("ruolo", "commission"),
            ("ente", &w.ente),
            ("motivazione", ""),
        ],
    );
    assert_eq!(no_reason.status, 422, "{}", no_reason.text);
    assert!(no_reason.contains(&format!("id=\"errore-{new}\"")));
    assert!(roles_of(&new).contains(&("commission".into(), w.ente.clone())));
    b.post_form(
        &format!("{users}/{new}/revoca"),
        &[
            ("_csrf", &csrf),
            ("ruolo", "commission"),
            ("ente", &w.ente),
            ("motivazione", "fine incarico"),
        ],
    )
    .expect(303);
    assert!(!roles_of(&new).contains(&("commission".into(), w.ente.clone())));

    // The only admin keeps the admin role.
    let me = w.app.admin().get("/api/v1/auth/me");
    let admin_id = me.body["id"]
        .as_str()
        .or(me.body["user"]["id"].as_str())
        .expect("admin id")
        .to_string();
    let last = b.post_form(
        &format!("{users}/{admin_id}/revoca"),
        &[
            ("_csrf", &csrf),
            ("ruolo", "admin"),
            ("ente", ""),
            ("motivazione", "prova"),
        ],
    );
    assert_eq!(last.status, 409, "{}", last.text);
    assert!(roles_of(&admin_id).iter().any(|(r, _)| r == "admin"));

    // Deactivated: the account can no longer log in.
    b.post_form(
        &format!("{users}/{new}/disattiva"),
        &[("_csrf", &csrf), ("motivazione", "cessato dal servizio")],
    )
    .expect(303);
    let login = w.app.client().post(
        "/api/v1/auth/login",
        &journeys::serde_json::json!({ "email": "nuovo@comune.milano.it", "password": PASSWORD }),
    );
    assert_eq!(login.status, 401, "{}", login.text);

    // Nobody else: the RUP gets 403 and changes nothing.
    let rup = WebClient::new(&w.app.base_url);
    rup.login("rup@comune.milano.it", PASSWORD);
    assert_eq!(rup.get(users).status, 403);
    let rup_csrf = rup.get("/").expect(200).csrf();
    let refused = rup.post_form(
        &format!("{users}/{}/ruoli", w.rup_id),
        &[("_csrf", &rup_csrf), ("ruolo", "auditor"), ("ente", &w.ente)],
    );
    assert_eq!(refused.status, 403);
    assert!(!roles_of(&w.rup_id).contains(&("auditor".into(), w.ente.clone())));
}
