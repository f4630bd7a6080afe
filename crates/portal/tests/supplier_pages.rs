//! The supplier's area driven as a browser does (cookies, the forms' hidden `_csrf`, 303
//! redirects) against a real server and database, from an attacker's side too: forged forms,
//! another supplier's documents and questions, officials and anonymous visitors.

use std::collections::BTreeMap;
use std::sync::Mutex;

use journeys::serde_json::{json, Value};
use journeys::tender_world::{self, partita_iva, works_tender_body, World, PASSWORD};
use journeys::TestApp;

/// A browser: keeps its cookies, follows no redirect (the tests look at each 303).
struct Browser {
    base: String,
    agent: ureq::Agent,
    cookies: Mutex<BTreeMap<String, String>>,
}

#[derive(Debug)]
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
    bytes: Vec<u8>,
}

impl Page {
    #[track_caller]
    fn expect(self, status: u16) -> Page {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self
    }

    #[track_caller]
    fn redirect(self) -> String {
        assert_eq!(self.status, 303, "expected a redirect; body: {}", self.body);
        self.location.expect("Location")
    }

    /// The first form token on the page.
    #[track_caller]
    fn csrf(&self) -> String {
        let marker = "name=\"_csrf\" value=\"";
        let at = self.body.find(marker).expect("a form with _csrf") + marker.len();
        let end = self.body[at..].find('"').expect("end of value");
        self.body[at..at + end].to_string()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Browser {
            base: app.base_url.clone(),
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().expect("jar");
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn send(&self, req: ureq::Request, body: Option<(&str, &[u8])>) -> Page {
        let req = req.set("Cookie", &self.cookie_header());
        let result = match body {
            None => req.call(),
            Some((ct, bytes)) => req.set("Content-Type", ct).send_bytes(bytes),
        };
        let res = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport error: {e}"),
        };
        {
            let mut jar = self.cookies.lock().expect("jar");
            for c in res.all("set-cookie") {
                let pair = c.split(';').next().unwrap_or("");
                if let Some((k, v)) = pair.split_once('=') {
                    let removed = v.is_empty() || c.to_ascii_lowercase().contains("max-age=0");
                    if removed {
                        jar.remove(k.trim());
                    } else {
                        jar.insert(k.trim().to_string(), v.trim().to_string());
                    }
                }
            }
        }
        let status = res.status();
        let location = res.header("location").map(str::to_string);
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut res.into_reader(), &mut bytes).expect("body");
        Page {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    fn get(&self, path: &str) -> Page {
        self.send(self.agent.get(&format!("{}{path}", self.base)), None)
    }

    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            self.agent.post(&format!("{}{path}", self.base)),
            Some(("application/x-www-form-urlencoded", body.as_bytes())),
        )
    }

    /// A multipart form as a browser sends a file input: `file` is (name, type, bytes).
    fn post_multipart(&self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Page {
        let boundary = "----centraleTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                file.0, file.1
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.2);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(
            self.agent.post(&format!("{}{path}", self.base)),
            Some((&format!("multipart/form-data; boundary={boundary}"), &body)),
        )
    }

    /// Logs in through the login form, as a person does.
    #[track_caller]
    fn login(app: &TestApp, email: &str, password: &str) -> Browser {
        let b = Browser::new(app);
        let form = b.get("/accedi").expect(200);
        let to = b
            .post(
                "/accedi",
                &[("_csrf", &form.csrf()), ("email", email), ("password", password)],
            )
            .redirect();
        assert!(
            b.cookies.lock().expect("jar").contains_key("centrale_sessione"),
            "session cookie set"
        );
        assert!(!to.starts_with("/accedi"), "login refused: {to}");
        b
    }

    /// The token of the logged-in session, from a page of the area.
    fn token(&self) -> String {
        self.get("/fornitore/albo").expect(200).csrf()
    }
}

/// A fresh supplier account (no albo entry yet), logged in through the portal; with the
/// API client on the same account to look at what was stored.
fn new_supplier(app: &TestApp, email: &str) -> (Browser, journeys::Client) {
    let (api, _) = app.register_supplier(email, "Maria Bianchi", PASSWORD);
    (Browser::login(app, email, PASSWORD), api)
}

fn albo_fields<'a>(csrf: &'a str, piva: &'a str, pec: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("ragione_sociale", "Bianchi Costruzioni S.r.l."),
        ("forma_giuridica", "srl"),
        ("partita_iva", piva),
        ("codice_fiscale", piva),
        ("sede_istat", "Milano"),
        ("sede_indirizzo", "Via Dante 3, 20121"),
        ("pec", pec),
        ("lr_nome", "Maria Bianchi"),
        ("lr_cf", "RSSMRA80A01F205X"),
    ]
}

#[test]
fn the_albo_form_shows_the_registrys_field_messages_and_stores_only_valid_data() {
    let app = TestApp::start();
    let (b, api) = new_supplier(&app, "maria@bianchi.it");
    let dashboard = b.get("/fornitore").expect(200);
    assert!(
        dashboard.body.contains("non è ancora iscritta all'albo"),
        "{}",
        dashboard.body
    );

    let csrf = b.token();
    let piva = partita_iva(901);
    let mut wrong = piva.clone();
    let last = wrong.pop().expect("digit").to_digit(10).expect("digit");
    wrong.push(char::from_digit((last + 1) % 10, 10).expect("digit"));
    let refused = b
        .post("/fornitore/albo", &albo_fields(&csrf, &wrong, "bianchi@legalmail.it"))
        .expect(422);
    assert!(
        refused
            .body
            .contains("Partita IVA non valida: cifra di controllo errata"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("id=\"alb-piva-errore\""));
    assert!(refused
        .body
        .contains("aria-describedby=\"alb-piva-aiuto alb-piva-errore\""));
    // What was typed comes back, so nothing has to be typed again.
    assert!(refused.body.contains("value=\"Bianchi Costruzioni S.r.l.\""));
    api.get("/api/v1/registry/operatori/me")
        .expect_problem(404, "not_found");

    let to = b
        .post("/fornitore/albo", &albo_fields(&csrf, &piva, "bianchi@legalmail.it"))
        .redirect();
    assert_eq!(to, "/fornitore/albo?salvato=1");
    let shown = b.get(&to).expect(200);
    assert!(shown.body.contains("in attesa di verifica"));
    assert!(shown.body.contains("Milano (MI), Lombardia"), "{}", shown.body);
    let stored = api.get("/api/v1/registry/operatori/me").expect(200);
    assert_eq!(stored["partita_iva"], json!(piva));
    assert_eq!(stored["sede"]["istat_code"], json!("015146"));
    assert_eq!(stored["status"], json!("pending"));

    // A change through the same form, refused then accepted, on the same rules.
    let bad_pec = b
        .post("/fornitore/albo", &albo_fields(&csrf, &piva, "non-una-pec"))
        .expect(422);
    assert!(bad_pec.body.contains("id=\"alb-pec-errore\""), "{}", bad_pec.body);
    assert_eq!(
        api.get("/api/v1/registry/operatori/me").expect(200)["pec"],
        json!("bianchi@legalmail.it")
    );
    b.post(
        "/fornitore/albo",
        &albo_fields(&csrf, &piva, "amministrazione@legalmail.it"),
    )
    .redirect();
    assert_eq!(
        api.get("/api/v1/registry/operatori/me").expect(200)["pec"],
        json!("amministrazione@legalmail.it")
    );
    let dashboard = b.get("/fornitore").expect(200);
    assert!(dashboard.body.contains("Bianchi Costruzioni S.r.l."));
    // Neither DURC nor visura yet: the reminders say so.
    assert!(
        dashboard
            .body
            .contains("DURC: documento obbligatorio non ancora caricato"),
        "{}",
        dashboard.body
    );
}

#[test]
fn a_form_without_the_sessions_token_is_refused_and_changes_nothing() {
    let app = TestApp::start();
    let (b, api) = new_supplier(&app, "forgery@bianchi.it");
    let piva = partita_iva(902);
    for csrf in ["", "0000000000000000000000000000000000000000000000000000000000000000"] {
        let fields: Vec<(&str, &str)> = albo_fields(csrf, &piva, "bianchi@legalmail.it")
            .into_iter()
            .filter(|(k, v)| *k != "_csrf" || !v.is_empty())
            .collect();
        let page = b.post("/fornitore/albo", &fields).expect(403);
        assert!(page.body.contains("csrf_invalid"), "{}", page.body);
    }
    api.get("/api/v1/registry/operatori/me")
        .expect_problem(404, "not_found");

    // With the entry in place, the other forms refuse a forged token the same way.
    let csrf = b.token();
    b.post("/fornitore/albo", &albo_fields(&csrf, &piva, "bianchi@legalmail.it"))
        .redirect();
    b.post(
        "/fornitore/categorie/aggiungi",
        &[("_csrf", "forged"), ("cpv", "45000000-7")],
    )
    .expect(403);
    b.post_multipart(
        "/fornitore/documenti",
        &[("_csrf", "forged"), ("tipo", "visura_camerale")],
        ("visura.pdf", "application/pdf", b"%PDF-1.4 visura"),
    )
    .expect(403);
    // A token from another session is no better than a forged one.
    let (other, _) = new_supplier(&app, "other@bianchi.it");
    let stolen = other.get("/fornitore").expect(200).csrf();
    b.post(
        "/fornitore/categorie/aggiungi",
        &[("_csrf", &stolen), ("cpv", "45000000-7")],
    )
    .expect(403);
    let me = api.get("/api/v1/registry/operatori/me").expect(200);
    assert_eq!(me["cpv"], json!([]));
    let op = me["id"].as_str().expect("id");
    assert_eq!(
        api.get(&format!("/api/v1/registry/operatori/{op}/documenti"))
            .expect(200),
        json!([])
    );

    // The genuine token works.
    b.post(
        "/fornitore/categorie/aggiungi",
        &[("_csrf", &csrf), ("cpv", "45000000-7"), ("q", "costruzione")],
    )
    .redirect();
    assert_eq!(
        api.get("/api/v1/registry/operatori/me").expect(200)["cpv"][0]["code"],
        json!("45000000-7")
    );
}

#[test]
fn officials_are_refused_and_anonymous_visitors_are_sent_to_login() {
    let w = tender_world::world();
    let anonymous = Browser::new(&w.app);
    for path in [
        "/fornitore",
        "/fornitore/albo",
        "/fornitore/documenti",
        "/fornitore/categorie",
        "/fornitore/bandi",
        "/fornitore/chiarimenti",
        "/fornitore/notifiche",
    ] {
        let to = anonymous.get(path).redirect();
        assert_eq!(to, format!("/accedi?ritorno={path}"));
    }
    assert!(anonymous
        .post("/fornitore/albo", &[("ragione_sociale", "x")])
        .redirect()
        .starts_with("/accedi"));

    let rup = Browser::login(&w.app, "rup@comune.milano.it", PASSWORD);
    for path in [
        "/fornitore",
        "/fornitore/albo",
        "/fornitore/documenti",
        "/fornitore/notifiche",
    ] {
        let page = rup.get(path).expect(403);
        assert!(
            page.body.contains("riservata agli operatori economici"),
            "{}",
            page.body
        );
    }
    let csrf = rup.get("/").expect(200).csrf();
    rup.post(
        "/fornitore/albo",
        &albo_fields(&csrf, &partita_iva(903), "x@legalmail.it"),
    )
    .expect(403);
}

/// A qualified supplier of the tender world (DURC, visura, CPV 45000000-7), logged in on the
/// portal; with its operatore's id.
fn qualified(w: &World, email: &str) -> (Browser, journeys::Client, String) {
    tender_world::supplier(&w.app, email);
    let api = w.app.client().logged_in(email, PASSWORD);
    let op = api.get("/api/v1/registry/operatori/me").expect(200)["id"]
        .as_str()
        .expect("id")
        .to_string();
    (Browser::login(&w.app, email, PASSWORD), api, op)
}

#[test]
fn a_supplier_sees_only_its_own_documents_questions_and_notifications() {
    let w = tender_world::world();
    let bando = tender_world::tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle scuole", 7001),
    );
    let (alpha, alpha_api, alpha_op) = qualified(&w, "alpha@impresa.it");
    let (beta, _, _) = qualified(&w, "beta@impresa.it");

    // Alpha's own pages: its documents, the qualification notice, the tender in its category.
    let docs = alpha_api
        .get(&format!("/api/v1/registry/operatori/{alpha_op}/documenti"))
        .expect(200);
    let durc = docs
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["tipo"] == "durc")
        .expect("durc")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let list = alpha.get("/fornitore/documenti").expect(200);
    assert!(list.body.contains(&format!("/fornitore/documenti/{durc}")));
    assert_eq!(
        alpha.get(&format!("/fornitore/documenti/{durc}")).expect(200).bytes,
        b"durc"
    );
    let notices = alpha.get("/fornitore/notifiche").expect(200);
    assert!(notices.body.contains("iscrizione approvata"), "{}", notices.body);
    let tenders = alpha.get("/fornitore/bandi").expect(200);
    assert!(
        tenders.body.contains(&format!("/bandi/{bando}/offerta")),
        "{}",
        tenders.body
    );
    assert!(tenders.body.contains("Manutenzione delle scuole"));

    // Alpha asks a question through the form.
    let form = alpha.get(&format!("/bandi/{bando}/chiarimenti/nuovo")).expect(200);
    let to = alpha
        .post(
            &format!("/bandi/{bando}/chiarimenti/nuovo"),
            &[
                ("_csrf", &form.csrf()),
                ("question", "Il sopralluogo è obbligatorio per Alpha?"),
            ],
        )
        .redirect();
    let mine = alpha.get(&to).expect(200);
    assert!(
        mine.body.contains("Il sopralluogo è obbligatorio per Alpha?"),
        "{}",
        mine.body
    );
    assert!(mine.body.contains("in attesa di risposta"));

    // Beta: not Alpha's document (by its address), not its question, not its notification.
    beta.get(&format!("/fornitore/documenti/{durc}")).expect(404);
    let beta_questions = beta.get("/fornitore/chiarimenti").expect(200);
    assert!(!beta_questions.body.contains("Alpha"), "{}", beta_questions.body);
    let beta_docs = beta.get("/fornitore/documenti").expect(200);
    assert!(!beta_docs.body.contains(&durc));
    // Each supplier's qualification notice names its own ragione sociale.
    let alpha_name = alpha_api.get("/api/v1/registry/operatori/me").expect(200)["ragione_sociale"]
        .as_str()
        .expect("name")
        .to_string();
    assert!(alpha.get("/fornitore/notifiche").expect(200).body.contains(&alpha_name));
    let beta_notices = beta.get("/fornitore/notifiche").expect(200).body;
    assert!(beta_notices.contains("iscrizione approvata"), "{beta_notices}");
    assert!(!beta_notices.contains(&alpha_name), "{beta_notices}");
    // Beta cannot change Alpha's entry either: every form acts on the session's own entry.
    let beta_csrf = beta.token();
    beta.post(
        "/fornitore/categorie/rimuovi",
        &[("_csrf", &beta_csrf), ("cpv", "45000000-7")],
    )
    .redirect();
    assert_eq!(
        alpha_api.get("/api/v1/registry/operatori/me").expect(200)["cpv"]
            .as_array()
            .expect("cpv")
            .len(),
        2
    );
}

#[test]
fn an_upload_over_the_quota_is_refused_with_the_registrys_message() {
    let app = TestApp::start();
    let (b, api) = new_supplier(&app, "quota@bianchi.it");
    let csrf = b.token();
    b.post(
        "/fornitore/albo",
        &albo_fields(&csrf, &partita_iva(904), "quota@legalmail.it"),
    )
    .redirect();

    // A full-size file, five times: 50 MiB counted, the whole per-operatore space.
    let big = vec![b'x'; registry::documents::MAX_DOCUMENT_BYTES];
    for _ in 0..5 {
        let to = b
            .post_multipart(
                "/fornitore/documenti",
                &[("_csrf", &csrf), ("tipo", "altro"), ("scadenza", "")],
                ("allegato.pdf", "application/pdf", &big),
            )
            .redirect();
        assert_eq!(to, "/fornitore/documenti?caricato=1");
    }
    let refused = b
        .post_multipart(
            "/fornitore/documenti",
            &[("_csrf", &csrf), ("tipo", "visura_camerale"), ("scadenza", "")],
            ("visura.pdf", "application/pdf", b"%PDF-1.4 visura"),
        )
        .expect(409);
    assert!(
        refused.body.contains("Lo spazio per i documenti è esaurito"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("id=\"doc-file-errore\""));
    let op = api.get("/api/v1/registry/operatori/me").expect(200)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let docs = api
        .get(&format!("/api/v1/registry/operatori/{op}/documenti"))
        .expect(200);
    assert_eq!(docs.as_array().expect("list").len(), 5);
    assert!(docs
        .as_array()
        .expect("list")
        .iter()
        .all(|d: &Value| d["tipo"] == "altro"));
}

#[test]
fn a_document_is_uploaded_with_its_expiry_and_a_missing_expiry_is_refused_on_its_field() {
    let app = TestApp::start();
    let (b, api) = new_supplier(&app, "durc@bianchi.it");
    let csrf = b.token();
    b.post(
        "/fornitore/albo",
        &albo_fields(&csrf, &partita_iva(905), "durc@legalmail.it"),
    )
    .redirect();
    let refused = b
        .post_multipart(
            "/fornitore/documenti",
            &[("_csrf", &csrf), ("tipo", "durc"), ("scadenza", "")],
            ("durc.pdf", "application/pdf", b"%PDF durc"),
        )
        .expect(422);
    assert!(refused.body.contains("id=\"doc-scadenza-errore\""), "{}", refused.body);
    // Expiring in 20 days (the clock is at 2026-05-04): a reminder on the dashboard.
    b.post_multipart(
        "/fornitore/documenti",
        &[("_csrf", &csrf), ("tipo", "durc"), ("scadenza", "2026-05-24")],
        ("durc.pdf", "application/octet-stream", b"%PDF durc"),
    )
    .redirect();
    let op = api.get("/api/v1/registry/operatori/me").expect(200)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let docs = api
        .get(&format!("/api/v1/registry/operatori/{op}/documenti"))
        .expect(200);
    assert_eq!(docs[0]["scadenza"], json!("2026-05-24"));
    assert_eq!(docs[0]["media_type"], json!("application/pdf"));
    let dashboard = b.get("/fornitore").expect(200);
    assert!(
        dashboard.body.contains("in scadenza il 24/05/2026 (tra 20 giorni)"),
        "{}",
        dashboard.body
    );
    // Once past it, the same document is expired.
    app.clock.set(journeys::tender_world::at("2026-05-26T10:00:00+02:00"));
    // Weeks later the session has long expired: a new login.
    let b = Browser::login(&app, "durc@bianchi.it", PASSWORD);
    let dashboard = b.get("/fornitore").expect(200);
    assert!(
        dashboard.body.contains("DURC scaduto il 24/05/2026"),
        "{}",
        dashboard.body
    );
}

#[test]
fn a_question_after_the_questions_deadline_is_refused() {
    let w = tender_world::world();
    let bando = tender_world::tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Rifacimento della piazza", 7002),
    );
    let (b, _, _) = qualified(&w, "late@impresa.it");
    let path = format!("/bandi/{bando}/chiarimenti/nuovo");
    let csrf = b.get(&path).expect(200).csrf();
    b.post(&path, &[("_csrf", &csrf), ("question", "Primo quesito, in tempo")])
        .redirect();
    // The questions deadline is 2026-05-25 12:00 Rome; the submission deadline 2026-06-05.
    w.app.clock.set(tender_world::at("2026-05-25T12:00:01+02:00"));
    // Three weeks later the session has long expired: a new login, a fresh form.
    let b = Browser::login(&w.app, "late@impresa.it", PASSWORD);
    let csrf = b.get(&path).expect(200).csrf();
    let refused = b
        .post(&path, &[("_csrf", &csrf), ("question", "Secondo quesito, in ritardo")])
        .expect(409);
    assert!(
        refused.body.contains("Il termine per i quesiti è scaduto"),
        "{}",
        refused.body
    );
    let mine = b.get("/fornitore/chiarimenti").expect(200);
    assert!(mine.body.contains("Primo quesito, in tempo"));
    assert!(!mine.body.contains("Secondo quesito"));
    let empty = b.post(&path, &[("_csrf", &csrf), ("question", "  ")]);
    assert!(empty.status == 422 || empty.status == 409, "{}", empty.status);
}

#[test]
fn invitations_reach_only_the_invited_suppliers() {
    let w = tender_world::world();
    let invited: Vec<String> = (0..5)
        .map(|i| tender_world::supplier(&w.app, &format!("invitato{i}@impresa.it")))
        .collect();
    let mut body = works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione del verde scolastico",
        7003,
    );
    body["procedure_type"] = json!("negoziata_senza_bando");
    body["base_amount"] = json!("180000.00");
    body["safety_costs"] = json!("5000.00");
    body["invitees"] = json!(invited);
    let bando = tender_world::tender(&w, body);

    let guest = Browser::login(&w.app, "invitato0@impresa.it", PASSWORD);
    let page = guest.get("/fornitore/bandi").expect(200);
    let invitations = &page.body[page.body.find("id=\"inviti\"").expect("invitations listed")..];
    assert!(
        invitations.contains(&format!("/bandi/{bando}/offerta")),
        "{}",
        page.body
    );

    // Same category, qualified, not invited: the procedure is nowhere on its page.
    let (outsider, _, _) = qualified(&w, "escluso@impresa.it");
    let page = outsider.get("/fornitore/bandi").expect(200);
    assert!(!page.body.contains(&bando), "{}", page.body);
    assert!(page.body.contains("Nessun invito"));
}

/// Before the deadline no portal page tells anyone but the bidder that it bid (art. 35 c.2
/// lett. a: the list of who bid stays secret until the deadline): the ente's RUP, another
/// qualified supplier and an anonymous visitor walk every page they can reach and find
/// neither the bidder's name, partita IVA or account, nor its bid or envelope.
#[test]
fn before_the_deadline_no_portal_page_names_a_bidder() {
    let w = tender_world::world();
    let bando = tender_world::tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle strade", 7003),
    );
    let bidder_id = tender_world::supplier(&w.app, "offerente@strade.it");
    let bidder_api = w.app.client().logged_in("offerente@strade.it", PASSWORD);
    tender_world::submit(&bidder_api, &bando, "A", b"domanda di partecipazione");
    let me = bidder_api.get("/api/v1/registry/operatori/me").expect(200);
    let bid = bidder_api.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    let secrets = [
        text(&me["ragione_sociale"]),
        text(&me["partita_iva"]),
        text(&me["id"]),
        bidder_id,
        text(&bid[0]["id"]),
        text(&bid[0]["envelopes"][0]["envelope_id"]),
    ];
    // The probe can see: the pages write these as the API does (the bidder's own albo page).
    let own = Browser::login(&w.app, "offerente@strade.it", PASSWORD)
        .get("/fornitore/albo")
        .expect(200);
    assert!(own.body.contains(&secrets[0]) && own.body.contains(&secrets[1]));

    let (other, _, _) = qualified(&w, "concorrente@strade.it");
    let rup = Browser::login(&w.app, "rup@comune.milano.it", PASSWORD);
    let anonymous = Browser::new(&w.app);
    let pages = [
        "/".to_string(),
        "/bandi".to_string(),
        format!("/bandi?q={}", encode("Manutenzione")),
        format!("/bandi/{bando}"),
        format!("/bandi/{bando}/offerta"),
        "/esiti".to_string(),
        "/trasparenza".to_string(),
        "/fornitore".to_string(),
        "/fornitore/bandi".to_string(),
        "/fornitore/notifiche".to_string(),
        // The officials' back office (issue 13): the RUP, the custodian and the admin see
        // the tender at work, never who bid in it before the deadline.
        "/ente".to_string(),
        "/ente/bandi".to_string(),
        "/ente/registro".to_string(),
        format!("/ente/bandi/{bando}"),
        format!("/ente/bandi/{bando}/custodia"),
        format!("/ente/bandi/{bando}/apertura"),
        format!("/ente/bandi/{bando}/valutazione"),
        format!("/ente/bandi/{bando}/commissione"),
        format!("/ente/bandi/{bando}/cronologia"),
        format!("/ente/registro?ente={}&bando={bando}", w.ente),
        "/amministrazione/qualificazioni".to_string(),
        "/amministrazione/enti".to_string(),
        "/amministrazione/utenti".to_string(),
        "/amministrazione/notifiche".to_string(),
    ];
    let custode = Browser::login(&w.app, "custode@comune.milano.it", PASSWORD);
    let admin = Browser::login(&w.app, journeys::ADMIN_EMAIL, journeys::ADMIN_PASSWORD);
    for (who, viewer) in [
        ("rup", &rup),
        ("custodian", &custode),
        ("admin", &admin),
        ("other supplier", &other),
        ("anonymous", &anonymous),
    ] {
        for path in &pages {
            let page = viewer.get(path);
            for secret in &secrets {
                assert!(
                    !page.body.contains(secret.as_str()),
                    "{path} as {who} ({}) shows {secret}",
                    page.status
                );
            }
        }
    }
}

/// The double click on the albo form: two sends of the first registration at once make one
/// operatore (the registry's unique keys; the later send becomes a change to it), and both
/// answers say the data were saved, never a 500.
#[test]
fn a_double_click_on_the_albo_form_registers_one_operatore() {
    let app = TestApp::start();
    let (b, api) = new_supplier(&app, "doppio@impresa.it");
    let csrf = b.token();
    let piva = partita_iva(7_004);
    let pec = format!("{piva}@legalmail.it");
    let fields = albo_fields(&csrf, &piva, &pec);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let sends: Vec<_> = (0..2)
            .map(|_| s.spawn(|| b.post("/fornitore/albo", &fields).status))
            .collect();
        sends.into_iter().map(|h| h.join().expect("send")).collect()
    });
    // Both answers say the data were saved: the browser shows the second one.
    assert_eq!(statuses, [303, 303]);
    let me = api.get("/api/v1/registry/operatori/me").expect(200);
    assert_eq!(me["partita_iva"], piva.as_str());
    // One entry per account (the registry's unique owner), in the state of a first request.
    assert_eq!(me["status"], "pending", "{me}");
}
