//! Issue 3: the supplier registry (albo degli operatori economici), over HTTP.

use chrono::{TimeZone, Utc};
use journeys::serde_json::{json, Value};
use journeys::{Client, TestApp};

const PASSWORD: &str = "fornitore-password";

/// Valid partite IVA (check digits computed with the §10 algorithm).
const PIVA: [&str; 8] = [
    "00514490010",
    "01199250158",
    "02438750586",
    "03123456786",
    "04567890126",
    "05678901231",
    "06789012348",
    "07890123453",
];

/// A supplier account, logged in.
fn supplier_account(app: &TestApp, email: &str) -> Client {
    app.register_supplier(email, "Ufficio gare", PASSWORD).0
}

fn operatore(ragione_sociale: &str, piva: &str, istat: &str) -> Value {
    json!({
        "ragione_sociale": ragione_sociale,
        "forma_giuridica": "srl",
        "partita_iva": piva,
        "codice_fiscale": piva,
        "sede_istat": istat,
        "sede_indirizzo": "Via Roma 1",
        "pec": format!("{}@legalmail.it", piva),
        "legale_rappresentante": { "nome": "Mario Rossi", "codice_fiscale": "RSSMRA80A01F205X" }
    })
}

fn register(app: &TestApp, email: &str, body: &Value) -> (Client, String) {
    let c = supplier_account(app, email);
    let op = c.post("/api/v1/registry/operatori", body).expect(201);
    assert_eq!(op["status"], "pending");
    (c, op["id"].as_str().expect("id").to_string())
}

fn upload(c: &Client, id: &str, tipo: &str, scadenza: Option<&str>, content: &[u8]) -> journeys::Reply {
    let scad = scadenza.map(|s| format!("&scadenza={s}")).unwrap_or_default();
    c.post_raw(
        &format!("/api/v1/registry/operatori/{id}/documenti?tipo={tipo}&nome_file={tipo}.pdf{scad}"),
        "application/pdf",
        content,
    )
}

/// DURC (valid until `durc_until`) and visura camerale, plus the SOA attestation when SOA
/// categories are declared; then the categories.
fn complete(c: &Client, id: &str, durc_until: &str, cpv: &[&str], soa: &[(&str, &str)]) {
    upload(c, id, "durc", Some(durc_until), format!("DURC {id}").as_bytes()).expect(201);
    upload(c, id, "visura_camerale", None, format!("visura {id}").as_bytes()).expect(201);
    if !soa.is_empty() {
        upload(
            c,
            id,
            "soa_attestazione",
            Some("2029-01-31"),
            format!("SOA {id}").as_bytes(),
        )
        .expect(201);
    }
    let soa: Vec<Value> = soa
        .iter()
        .map(|(c, cl)| json!({ "categoria": c, "classifica": cl }))
        .collect();
    c.put(
        &format!("/api/v1/registry/operatori/{id}/categorie"),
        &json!({ "cpv": cpv, "soa": soa }),
    )
    .expect(200);
}

fn qualify(admin: &Client, id: &str) -> Value {
    admin
        .post(
            &format!("/api/v1/registry/operatori/{id}/qualification"),
            &json!({ "action": "qualify" }),
        )
        .expect(200)
}

/// Comune di Milano and a RUP of it.
fn ente_and_rup(app: &TestApp, admin: &Client) -> (String, Client) {
    let ente = admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Comune di Milano", "codice_fiscale": "01199250158", "tipo": "comune",
                     "istat_code": "015146", "pec": "protocollo@postacert.comune.milano.it" }),
        )
        .expect(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    admin
        .post(
            "/api/v1/users",
            &json!({ "email": "rup@comune.milano.it", "full_name": "Anna Bianchi", "password": "una-password-lunga",
                     "roles": [{ "role": "rup", "ente_id": ente }] }),
        )
        .expect(201);
    let rup = app.client().logged_in("rup@comune.milano.it", "una-password-lunga");
    (ente, rup)
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["ragione_sociale"].as_str().expect("name").to_string())
        .collect()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("id").to_string())
        .collect()
}

#[test]
fn registration_with_valid_identifiers_is_pending_and_audited() {
    let app = TestApp::start();
    let c = supplier_account(&app, "gare@edilrossi.it");
    let op = c
        .post(
            "/api/v1/registry/operatori",
            &operatore("Edil Rossi S.r.l.", PIVA[0], "015146"),
        )
        .expect(201);
    assert_eq!(op["partita_iva"], PIVA[0]);
    assert_eq!(op["sede"]["comune"], "Milano");
    assert_eq!(op["sede"]["provincia"], "MI");
    assert_eq!(op["sede"]["regione"], "Lombardia");
    assert_eq!(op["status"], "pending");
    assert_eq!(op["documents_status"], "missing");
    assert_eq!(op["invitable"], false);
    let id = op["id"].as_str().expect("id");
    assert_eq!(c.get("/api/v1/registry/operatori/me").expect(200)["id"], id);
    // A person's codice fiscale with omocodia is accepted for an individual firm.
    let (_, ditta) = register(
        &app,
        "gare@ditta.it",
        &json!({
            "ragione_sociale": "Bianchi Laura impianti", "forma_giuridica": "ditta_individuale",
            "partita_iva": PIVA[3], "codice_fiscale": "RSSMRA80A01F2LRD", "sede_istat": "058091",
            "pec": "bianchi@pec.it",
            "legale_rappresentante": { "nome": "Laura Bianchi", "codice_fiscale": "BNCLRA75M45H501K" }
        }),
    );
    assert!(!ditta.is_empty());
    // One entry per supplier account.
    c.post(
        "/api/v1/registry/operatori",
        &operatore("Altra S.r.l.", PIVA[1], "015146"),
    )
    .expect_problem(409, "operatore_already_registered");
    let history = c.get(&format!("/api/v1/registry/operatori/{id}/history")).expect(200);
    assert_eq!(history["events"][0]["action"], "registry.operatore.registered");
    assert_eq!(history["status_changes"][0]["to_status"], "pending");
}

#[test]
fn wrong_identifiers_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = TestApp::start();
    let c = supplier_account(&app, "gare@edilrossi.it");
    let cases = [
        ("partita_iva", json!("00514490011"), 422, "partita_iva_check_digit"),
        ("partita_iva", json!("0051449001"), 422, "partita_iva_format"),
        ("pec", json!("gare@@legalmail"), 422, "pec_format"),
        (
            "codice_fiscale",
            json!("RSSMRA80A01F205X"),
            422,
            "codice_fiscale_not_company",
        ),
        ("sede_istat", json!("999999"), 422, "istat_unknown"),
        ("forma_giuridica", json!("impresa"), 422, "forma_giuridica_unknown"),
    ];
    for (field, value, status, code) in cases {
        let mut body = operatore("Edil Rossi S.r.l.", PIVA[0], "015146");
        body[field] = value;
        let p = c.post("/api/v1/registry/operatori", &body).expect_problem(status, code);
        assert_eq!(p["field"], field, "{code}");
    }
    let mut body = operatore("Edil Rossi S.r.l.", PIVA[0], "015146");
    body["legale_rappresentante"]["codice_fiscale"] = json!("RSSMRA80A01F205Y");
    let p = c
        .post("/api/v1/registry/operatori", &body)
        .expect_problem(422, "codice_fiscale_check_char");
    assert_eq!(p["field"], "legale_rappresentante.codice_fiscale");
    body["legale_rappresentante"]["codice_fiscale"] = json!("00514490010");
    c.post("/api/v1/registry/operatori", &body)
        .expect_problem(422, "legale_rappresentante_cf_not_person");
    // Nothing was stored.
    c.get("/api/v1/registry/operatori/me").expect_problem(404, "not_found");
    let all = app.admin().get("/api/v1/registry/operatori").expect(200);
    assert_eq!(all["items"].as_array().map(Vec::len), Some(0));
}

#[test]
fn duplicate_partita_iva_is_a_conflict_and_officials_cannot_register() {
    let app = TestApp::start();
    register(&app, "a@edil.it", &operatore("Edil Rossi S.r.l.", PIVA[0], "015146"));
    let b = supplier_account(&app, "b@edil.it");
    let p = b
        .post(
            "/api/v1/registry/operatori",
            &operatore("Copia S.r.l.", PIVA[0], "058091"),
        )
        .expect_problem(409, "partita_iva_duplicate");
    assert_eq!(p["field"], "partita_iva");
    app.admin()
        .post(
            "/api/v1/registry/operatori",
            &operatore("Admin S.r.l.", PIVA[1], "015146"),
        )
        .expect_problem(403, "forbidden");
}

#[test]
fn categories_are_validated_on_the_official_lists() {
    let app = TestApp::start();
    let (c, id) = register(&app, "a@edil.it", &operatore("Edil Rossi S.r.l.", PIVA[0], "015146"));
    let path = format!("/api/v1/registry/operatori/{id}/categorie");
    // The formula-computed check digit (0) is wrong: the official code is 45000000-7.
    let p = c
        .put(&path, &json!({ "cpv": ["45210000-2", "45000000-0"] }))
        .expect_problem(422, "cpv_check_digit");
    assert_eq!(p["field"], "cpv[1]");
    c.put(&path, &json!({ "cpv": ["45999999-1"] }))
        .expect_problem(422, "cpv_unknown");
    let p = c
        .put(&path, &json!({ "soa": [{ "categoria": "OG99", "classifica": "II" }] }))
        .expect_problem(422, "soa_categoria_unknown");
    assert_eq!(p["field"], "soa[0].categoria");
    c.put(&path, &json!({ "soa": [{ "categoria": "OG1", "classifica": "IX" }] }))
        .expect_problem(422, "soa_classifica_unknown");
    // SOA categories need a valid SOA attestation first.
    let p = c
        .put(&path, &json!({ "soa": [{ "categoria": "OG1", "classifica": "II" }] }))
        .expect_problem(422, "soa_attestazione_required");
    assert_eq!(p["field"], "soa");
    upload(&c, &id, "soa_attestazione", Some("2029-01-31"), b"attestazione").expect(201);
    let op = c
        .put(
            &path,
            &json!({ "cpv": ["45210000"], "soa": [{ "categoria": "og 1", "classifica": "iii bis" }] }),
        )
        .expect(200);
    assert_eq!(op["cpv"][0]["code"], "45210000-2");
    assert_eq!(op["soa"][0]["categoria"], "OG1");
    assert_eq!(op["soa"][0]["classifica"], "III-bis");
    assert_eq!(op["soa"][0]["importo_massimo"], "1500000");
}

#[test]
fn search_by_cpv_descendants_soa_place_and_status_with_stable_pages() {
    let app = TestApp::start();
    let admin = app.admin();
    let (a, a_id) = register(&app, "a@x.it", &operatore("Alfa Costruzioni S.r.l.", PIVA[0], "015146"));
    complete(&a, &a_id, "2026-12-31", &["45210000-2"], &[("OG1", "III")]);
    let (b, b_id) = register(&app, "b@x.it", &operatore("Beta Informatica S.p.A.", PIVA[1], "058091"));
    complete(&b, &b_id, "2026-12-31", &["72000000-5"], &[]);
    let (c, c_id) = register(&app, "c@x.it", &operatore("Gamma Edilizia S.r.l.", PIVA[2], "001272"));
    complete(&c, &c_id, "2026-12-31", &["45000000-7"], &[("OG1", "I")]);
    qualify(&admin, &b_id);

    let q = |query: &str| names(&admin.get(&format!("/api/v1/registry/operatori?{query}")).expect(200));
    // 45000000-7 covers 45210000-2; 45210000-2 does not cover its parent.
    assert_eq!(
        q("cpv=45000000-7"),
        ["Alfa Costruzioni S.r.l.", "Gamma Edilizia S.r.l."]
    );
    assert_eq!(q("cpv=45210000-2"), ["Alfa Costruzioni S.r.l."]);
    assert_eq!(q("cpv=45200000"), ["Alfa Costruzioni S.r.l."]);
    assert_eq!(q("soa=OG1"), ["Alfa Costruzioni S.r.l.", "Gamma Edilizia S.r.l."]);
    assert_eq!(q("soa=OG1&min_classifica=II"), ["Alfa Costruzioni S.r.l."]);
    assert!(q("soa=OG1&min_classifica=IV").is_empty());
    assert_eq!(q("comune=015146"), ["Alfa Costruzioni S.r.l."]);
    assert_eq!(q("provincia=RM"), ["Beta Informatica S.p.A."]);
    assert_eq!(q("regione=Lombardia"), ["Alfa Costruzioni S.r.l."]);
    assert_eq!(q("status=qualified"), ["Beta Informatica S.p.A."]);
    assert_eq!(
        q("status=pending&cpv=45000000-7&regione=Piemonte"),
        ["Gamma Edilizia S.r.l."]
    );

    admin
        .get("/api/v1/registry/operatori?cpv=45000000-0")
        .expect_problem(422, "cpv_check_digit");
    admin
        .get("/api/v1/registry/operatori?min_classifica=II")
        .expect_problem(422, "min_classifica_requires_soa");
    admin
        .get("/api/v1/registry/operatori?status=boh")
        .expect_problem(422, "status_unknown");
    admin
        .get("/api/v1/registry/operatori?cursor=zz")
        .expect_problem(422, "cursor_invalid");

    // Pages of one, in a stable order, cover everything once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/registry/operatori?limit=1".to_string();
    loop {
        let page = admin.get(&path).expect(200);
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(cur) => path = format!("/api/v1/registry/operatori?limit=1&cursor={cur}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "Alfa Costruzioni S.r.l.",
            "Beta Informatica S.p.A.",
            "Gamma Edilizia S.r.l."
        ]
    );
    // Suppliers do not search the albo.
    a.get("/api/v1/registry/operatori").expect_problem(403, "forbidden");
}

#[test]
fn qualification_transitions_are_audited_and_notified() {
    let app = TestApp::start();
    let admin = app.admin();
    let (ente, rup) = ente_and_rup(&app, &admin);
    assert!(!ente.is_empty());
    let (c, id) = register(&app, "a@x.it", &operatore("Alfa Costruzioni S.r.l.", PIVA[0], "015146"));
    let path = format!("/api/v1/registry/operatori/{id}/qualification");
    // Not before the mandatory documents are in.
    admin
        .post(&path, &json!({ "action": "qualify" }))
        .expect_problem(409, "documents_not_valid");
    complete(&c, &id, "2026-12-31", &["45210000-2"], &[]);
    // Illegal: a pending entry cannot be suspended or reinstated.
    let p = admin
        .post(&path, &json!({ "action": "suspend", "reason": "verifica" }))
        .expect_problem(409, "illegal_transition");
    assert_eq!(p["field"], "action");
    admin
        .post(&path, &json!({ "action": "reinstate" }))
        .expect_problem(409, "illegal_transition");
    admin
        .post(&path, &json!({ "action": "reject" }))
        .expect_problem(422, "reason_required");
    // Only admins decide.
    c.post(&path, &json!({ "action": "qualify" }))
        .expect_problem(403, "forbidden");
    rup.post(&path, &json!({ "action": "qualify" }))
        .expect_problem(403, "forbidden");

    let op = admin.post(&path, &json!({ "action": "qualify" })).expect(200);
    assert_eq!(op["status"], "qualified");
    assert_eq!(op["invitable"], true);
    admin
        .post(&path, &json!({ "action": "qualify" }))
        .expect_problem(409, "illegal_transition");
    let op = admin
        .post(
            &path,
            &json!({ "action": "suspend", "reason": "DURC irregolare segnalato dall'INPS" }),
        )
        .expect(200);
    assert_eq!(op["status"], "suspended");
    assert_eq!(op["status_reason"], "DURC irregolare segnalato dall'INPS");
    assert_eq!(op["invitable"], false);
    let op = admin.post(&path, &json!({ "action": "reinstate" })).expect(200);
    assert_eq!(op["status"], "qualified");

    // A rejected entry stays rejected.
    let (_, other) = register(&app, "b@x.it", &operatore("Beta S.r.l.", PIVA[1], "015146"));
    let op = admin
        .post(
            &format!("/api/v1/registry/operatori/{other}/qualification"),
            &json!({ "action": "reject", "reason": "Visura camerale non leggibile" }),
        )
        .expect(200);
    assert_eq!(op["status"], "rejected");
    admin
        .post(
            &format!("/api/v1/registry/operatori/{other}/qualification"),
            &json!({ "action": "qualify" }),
        )
        .expect_problem(409, "illegal_transition");

    // The owner reads the history: every decision is an audit event naming the notification.
    let h = c.get(&format!("/api/v1/registry/operatori/{id}/history")).expect(200);
    let changes: Vec<(String, String)> = h["status_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|s| {
            (
                s["from_status"].as_str().unwrap_or("").to_string(),
                s["to_status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("".to_string(), "pending".to_string()),
            ("pending".into(), "qualified".into()),
            ("qualified".into(), "suspended".into()),
            ("suspended".into(), "qualified".into()),
        ]
    );
    let actions: Vec<&str> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "registry.operatore.registered",
        "registry.operatore.document_uploaded",
        "registry.operatore.categories_set",
        "registry.operatore.qualified",
        "registry.operatore.suspended",
        "registry.operatore.reinstated",
    ] {
        assert!(actions.contains(&a), "{a} missing in {actions:?}");
    }
    let qualified = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "registry.operatore.qualified")
        .expect("qualified event");
    assert_eq!(qualified["details"]["notified_to"], format!("{}@legalmail.it", PIVA[0]));
    assert!(qualified["details"]["notification_id"].as_str().is_some());
    assert!(qualified["actor_user_id"].as_str().is_some());
}

#[test]
fn a_supplier_sees_and_edits_only_its_own_entry() {
    let app = TestApp::start();
    let admin = app.admin();
    let (_, rup) = ente_and_rup(&app, &admin);
    let (a, a_id) = register(&app, "a@x.it", &operatore("Alfa S.r.l.", PIVA[0], "015146"));
    let (b, b_id) = register(&app, "b@x.it", &operatore("Beta S.r.l.", PIVA[2], "058091"));
    let a_path = format!("/api/v1/registry/operatori/{a_id}");
    // B cannot read, edit, declare categories for, upload to, or list A's documents.
    b.get(&a_path).expect_problem(404, "not_found");
    b.patch(&a_path, &json!({ "pec": "preso@pec.it" }))
        .expect_problem(404, "not_found");
    b.put(&format!("{a_path}/categorie"), &json!({ "cpv": ["45000000-7"] }))
        .expect_problem(404, "not_found");
    upload(&b, &a_id, "durc", Some("2026-12-31"), b"falso").expect_problem(404, "not_found");
    b.get(&format!("{a_path}/documenti")).expect_problem(404, "not_found");
    b.get(&format!("{a_path}/history")).expect_problem(404, "not_found");
    // Anonymous callers are turned away.
    app.client().get(&a_path).expect_problem(401, "unauthenticated");
    // Officials read every entry but do not edit suppliers' data.
    assert_eq!(rup.get(&a_path).expect(200)["ragione_sociale"], "Alfa S.r.l.");
    assert_eq!(
        admin.get(&format!("/api/v1/registry/operatori/{b_id}")).expect(200)["id"],
        b_id.as_str()
    );
    admin
        .patch(&a_path, &json!({ "pec": "admin@pec.it" }))
        .expect_problem(403, "forbidden");
    // A edits its own data; the partita IVA is not editable, and A's data is unchanged by B.
    let op = a
        .patch(&a_path, &json!({ "pec": "nuova@legalmail.it", "sede_istat": "108033" }))
        .expect(200);
    assert_eq!(op["pec"], "nuova@legalmail.it");
    assert_eq!(op["sede"]["provincia"], "MB");
    a.patch(&a_path, &json!({ "partita_iva": PIVA[1] })).expect(400);
    a.patch(&a_path, &json!({ "pec": "non-una-pec" }))
        .expect_problem(422, "pec_format");
    // Documents: the owner uploads and downloads; the content is addressed by its SHA-256.
    let doc = upload(&a, &a_id, "durc", Some("2026-12-31"), b"%PDF-1.7 durc").expect(201);
    assert_eq!(
        doc["sha256"],
        "3b15d066ac9d7b53fd649a22648462fdb5018c2fea7cf3425432b40c75babd8b"
    );
    assert_eq!(doc["size_bytes"], 13);
    let doc_id = doc["id"].as_str().expect("id");
    b.get(&format!("{a_path}/documenti/{doc_id}/content"))
        .expect_problem(404, "not_found");
    let docs = rup.get(&format!("{a_path}/documenti")).expect(200);
    assert_eq!(docs.as_array().map(Vec::len), Some(1));
}

#[test]
fn document_uploads_are_checked() {
    let app = TestApp::start();
    let (a, id) = register(&app, "a@x.it", &operatore("Alfa S.r.l.", PIVA[0], "015146"));
    upload(&a, &id, "durc", None, b"x").expect_problem(422, "scadenza_required");
    upload(&a, &id, "durc", Some("2026-05-03"), b"x").expect_problem(422, "documento_scaduto");
    upload(&a, &id, "patente", Some("2026-12-31"), b"x").expect_problem(422, "documento_tipo_unknown");
    upload(&a, &id, "durc", Some("2026-12-31"), b"").expect_problem(422, "documento_vuoto");
    a.post_raw(
        &format!("/api/v1/registry/operatori/{id}/documenti?tipo=durc&nome_file=x.exe&scadenza=2026-12-31"),
        "application/x-msdownload",
        b"MZ",
    )
    .expect_problem(422, "media_type_not_allowed");
    // Same bytes, same address; a new DURC supersedes the old one, which is kept.
    let first = upload(&a, &id, "durc", Some("2026-09-30"), b"DURC").expect(201);
    let second = upload(&a, &id, "durc", Some("2026-12-31"), b"DURC").expect(201);
    assert_eq!(first["sha256"], second["sha256"]);
    let docs = a.get(&format!("/api/v1/registry/operatori/{id}/documenti")).expect(200);
    let docs = docs.as_array().expect("docs");
    assert_eq!(docs.len(), 2);
    assert!(docs[0]["superseded_at"].is_null());
    assert!(docs[1]["superseded_at"].is_string());
}

/// A qualified supplier with OG1 (classifica II) and the works CPV, valid until `durc`.
fn works_supplier(app: &TestApp, admin: &Client, n: usize, name: &str, durc: &str) -> (Client, String) {
    let istat = [
        "015146", "058091", "001272", "108033", "016024", "015182", "015146", "058091",
    ][n];
    let (c, id) = register(app, &format!("gare{n}@fornitore.it"), &operatore(name, PIVA[n], istat));
    complete(&c, &id, durc, &["45210000-2"], &[("OG1", "II")]);
    assert_eq!(qualify(admin, &id)["invitable"], true);
    (c, id)
}

fn by_id<'a>(proposal: &'a Value, id: &str) -> &'a Value {
    proposal["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .find(|c| c["operatore_id"] == id)
        .expect("candidate")
}

/// The "Done means": three suppliers registered with valid identifiers, a clear error
/// for a wrong partita IVA, qualified by the admin, invitees drawn for 400,000 EUR of works in
/// OG1 with the rotation rule visible, and the draw public (no seed from the RUP).
#[test]
fn done_means_three_suppliers_and_a_rotation_aware_draw_for_og1_works() {
    let app = TestApp::start();
    let admin = app.admin();
    let (ente, rup) = ente_and_rup(&app, &admin);

    let wrong = supplier_account(&app, "sbaglio@fornitore.it");
    let p = wrong
        .post(
            "/api/v1/registry/operatori",
            &operatore("Errata S.r.l.", "00514490011", "015146"),
        )
        .expect_problem(422, "partita_iva_check_digit");
    assert_eq!(p["field"], "partita_iva");
    assert!(p["detail"].as_str().unwrap_or("").contains("Partita IVA"));

    let (_, alfa) = works_supplier(&app, &admin, 0, "Alfa Costruzioni S.r.l.", "2026-12-31");
    let (_, beta) = works_supplier(&app, &admin, 1, "Beta Edilizia S.p.A.", "2026-12-31");
    let (_, gamma) = works_supplier(&app, &admin, 2, "Gamma Appalti S.r.l.", "2026-12-31");

    // Alfa had the last OG1 contract of this band for the Comune: outgoing contractor.
    let award = rup
        .post(
            "/api/v1/registry/awards",
            &json!({ "ente_id": ente, "operatore_id": alfa, "category": "OG1", "contract_type": "works",
                     "value": "320000.00", "awarded_at": "2025-11-15" }),
        )
        .expect(201);
    assert_eq!(award["band"], "works_150k_1m");

    let request = json!({ "ente_id": ente, "category": "OG1", "contract_type": "works",
                          "value": "400000.00" });
    let p = rup.post("/api/v1/registry/invitation-proposals", &request).expect(201);
    assert_eq!(p["band"]["code"], "works_150k_1m");
    assert_eq!(p["minimum"], 5);
    // No seed from the RUP: the public draw, from the latest signed checkpoint (issue 9).
    assert_eq!(p["draw"]["purpose"], "invitation-rotation");
    assert_eq!(p["draw"]["subject"], p["id"]);
    let p_draw = p["draw"].clone();
    assert_eq!(p["outgoing_contractor"], alfa.as_str());
    let mut invited = ids(&p["invitees"]);
    invited.sort();
    let mut expected = vec![beta.clone(), gamma.clone()];
    expected.sort();
    assert_eq!(invited, expected);
    let a = by_id(&p, &alfa);
    assert_eq!(a["exclusion"], "outgoing_contractor");
    assert_eq!(a["selected"], false);
    assert!(a["explanation"].as_str().unwrap_or("").contains("art. 49"));
    assert_eq!(by_id(&p, &beta)["times_invited"], 0);
    // Only 2 of the 5 required: shown, and the list cannot be confirmed.
    assert_eq!(p["sufficient"], false);
    assert!(!p["warnings"].as_array().expect("warnings").is_empty());
    let pid = p["id"].as_str().expect("id");
    rup.post(
        &format!("/api/v1/registry/invitation-proposals/{pid}/confirm"),
        &json!({}),
    )
    .expect_problem(409, "invitees_below_minimum");

    // One live proposal per category and band: another draw needs a motivated withdrawal.
    rup.post("/api/v1/registry/invitation-proposals", &request)
        .expect_problem(409, "proposal_pending");
    let withdraw = |pid: &str| {
        rup.post(
            &format!("/api/v1/registry/invitation-proposals/{pid}/withdraw"),
            &json!({ "motivation": "Operatori insufficienti: si amplia l'albo con un'indagine di mercato" }),
        )
        .expect(200)
    };
    assert_eq!(withdraw(pid)["status"], "withdrawn");
    // Same registry: the same invitees (their order is the public draw of each proposal).
    let again = rup.post("/api/v1/registry/invitation-proposals", &request).expect(201);
    let mut same = ids(&again["invitees"]);
    same.sort();
    assert_eq!(same, invited);
    withdraw(again["id"].as_str().expect("id"));

    // A motivated exception re-invites the outgoing contractor.
    let mut with_exception = request.clone();
    with_exception["exceptions"] = json!([{ "operatore_id": alfa,
        "motivation": "Mercato ristretto: pochi operatori OG1 in zona, esecuzione precedente a regola d'arte" }]);
    let p = rup
        .post("/api/v1/registry/invitation-proposals", &with_exception)
        .expect(201);
    assert_eq!(ids(&p["invitees"]).len(), 3);
    assert_eq!(by_id(&p, &alfa)["selected"], true);
    assert!(by_id(&p, &alfa)["exception_motivation"].as_str().is_some());
    // An exception must name the outgoing contractor and be motivated.
    let mut bad = request.clone();
    bad["exceptions"] = json!([{ "operatore_id": beta, "motivation": "perché sì, va bene così" }]);
    let e = rup
        .post("/api/v1/registry/invitation-proposals", &bad)
        .expect_problem(422, "exception_not_outgoing");
    assert_eq!(e["field"], "exceptions[0].operatore_id");
    bad["exceptions"] = json!([{ "operatore_id": alfa, "motivation": "no" }]);
    rup.post("/api/v1/registry/invitation-proposals", &bad)
        .expect_problem(422, "exception_motivation_required");

    // The proposals are audit events of the ente.
    let trail = admin.get(&format!("/api/v1/enti/{ente}/audit-events")).expect(200);
    let proposed: Vec<&Value> = trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "registry.invitation.proposed")
        .collect();
    assert_eq!(proposed.len(), 3);
    assert_eq!(proposed[0]["details"]["draw"], p_draw);
}

#[test]
fn invitation_requests_are_checked() {
    let app = TestApp::start();
    let admin = app.admin();
    let (ente, rup) = ente_and_rup(&app, &admin);
    let (supplier, _) = register(&app, "a@x.it", &operatore("Alfa S.r.l.", PIVA[0], "015146"));
    let base = json!({ "ente_id": ente, "category": "OG1", "contract_type": "works", "value": "400000.00" });
    let post = |c: &Client, patch: Value| {
        let mut body = base.clone();
        for (k, v) in patch.as_object().expect("object") {
            body[k] = v.clone();
        }
        c.post("/api/v1/registry/invitation-proposals", &body)
    };
    supplier
        .post("/api/v1/registry/invitation-proposals", &base)
        .expect_problem(403, "forbidden");
    post(&rup, json!({ "value": "6000000" })).expect_problem(422, "above_eu_threshold");
    post(&rup, json!({ "value": "-5" })).expect_problem(422, "value_invalid");
    post(&rup, json!({ "value": "quattrocentomila" })).expect_problem(422, "value_invalid");
    post(&rup, json!({ "count": 3 })).expect_problem(422, "count_below_minimum");
    post(
        &rup,
        json!({ "category": "OG1", "contract_type": "services", "value": "150000" }),
    )
    .expect_problem(422, "soa_requires_works");
    post(&rup, json!({ "category": "45000000-0" })).expect_problem(422, "cpv_check_digit");
    // 1.2 million of works: at least 10.
    let p = post(&admin, json!({ "value": "1200000" })).expect(201);
    assert_eq!(
        (p["band"]["code"].as_str(), p["minimum"].as_u64()),
        (Some("works_1m_eu"), Some(10))
    );
    // Services of 180,000: at least 5; the public draw's seed is returned.
    let p = post(
        &rup,
        json!({ "category": "72000000-5", "contract_type": "services", "value": "180000" }),
    )
    .expect(201);
    assert_eq!(p["minimum"], 5);
    assert!(p["draw"]["seed"].as_str().is_some_and(|s| s.len() == 64));
}

/// Expiry is a Europe/Rome calendar day: a DURC valid until 1 June stops counting at
/// midnight in Rome, blocks invitations, and a renewal lifts the block.
#[test]
fn an_expired_durc_blocks_invitations_until_renewed() {
    let app = TestApp::start();
    let admin = app.admin();
    let (ente, _) = ente_and_rup(&app, &admin);
    let mut ops = Vec::new();
    for (n, name) in [
        "Alfa S.r.l.",
        "Beta S.r.l.",
        "Gamma S.r.l.",
        "Delta S.r.l.",
        "Epsilon S.r.l.",
    ]
    .iter()
    .enumerate()
    {
        let durc = if n == 0 { "2026-06-01" } else { "2026-12-31" };
        ops.push(works_supplier(&app, &admin, n, name, durc).1);
    }
    let alfa = ops[0].clone();
    // Sessions last 12 hours: log in again after each move of the clock.
    let at = |d: u32, h: u32, m: u32| {
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 6, d, h, m, 0).single().expect("instant"));
        (
            app.admin(),
            app.client().logged_in("rup@comune.milano.it", "una-password-lunga"),
        )
    };
    let request = json!({ "ente_id": ente, "category": "45000000-7", "contract_type": "works",
                          "value": "200000" });
    let propose = |rup: &Client| rup.post("/api/v1/registry/invitation-proposals", &request).expect(201);
    let withdraw = |rup: &Client, p: &Value| {
        rup.post(
            &format!(
                "/api/v1/registry/invitation-proposals/{}/withdraw",
                p["id"].as_str().expect("id")
            ),
            &json!({ "motivation": "Documenti di un operatore cambiati: nuova proposta" }),
        )
        .expect(200)
    };

    // 10:00 in Rome on 1 June: valid; a proposal includes Alfa.
    let (_, rup) = at(1, 8, 0);
    let before = propose(&rup);
    assert!(ids(&before["invitees"]).contains(&alfa));
    // 23:30 in Rome on 1 June: still valid.
    let (admin, _) = at(1, 21, 30);
    assert_eq!(
        admin.get(&format!("/api/v1/registry/operatori/{alfa}")).expect(200)["documents_status"],
        "valid"
    );
    // 00:30 in Rome on 2 June: expired.
    let (admin, rup) = at(1, 22, 30);
    let op = admin.get(&format!("/api/v1/registry/operatori/{alfa}")).expect(200);
    assert_eq!(op["documents_status"], "expired");
    assert_eq!(op["documents_issues"][0]["tipo"], "durc");
    assert_eq!(op["invitable"], false);
    // The proposal made before the expiry can no longer be confirmed with Alfa in it.
    rup.post(
        &format!(
            "/api/v1/registry/invitation-proposals/{}/confirm",
            before["id"].as_str().expect("id")
        ),
        &json!({}),
    )
    .expect_problem(409, "invitee_not_invitable");
    withdraw(&rup, &before);
    let p = propose(&rup);
    assert!(!ids(&p["invitees"]).contains(&alfa));
    assert_eq!(by_id(&p, &alfa)["exclusion"], "documents_expired");
    assert_eq!(p["sufficient"], false);
    withdraw(&rup, &p);

    // The renewed DURC makes Alfa invitable again.
    let (admin, rup) = at(2, 8, 0);
    let alfa_client = app.client().logged_in("gare0@fornitore.it", PASSWORD);
    upload(&alfa_client, &alfa, "durc", Some("2026-10-01"), b"DURC rinnovato").expect(201);
    let op = admin.get(&format!("/api/v1/registry/operatori/{alfa}")).expect(200);
    assert_eq!(op["documents_status"], "valid");
    assert!(ids(&propose(&rup)["invitees"]).contains(&alfa));
}

/// Confirmation fixes the list once and counts the invitations; those invited less often
/// then come first.
#[test]
fn confirmed_invitations_rotate_towards_the_less_invited() {
    let app = TestApp::start();
    let admin = app.admin();
    let (ente, rup) = ente_and_rup(&app, &admin);
    let names = [
        "Alfa S.r.l.",
        "Beta S.r.l.",
        "Gamma S.r.l.",
        "Delta S.r.l.",
        "Epsilon S.r.l.",
        "Zeta S.r.l.",
    ];
    let all: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(n, name)| works_supplier(&app, &admin, n, name, "2026-12-31").1)
        .collect();
    let request = json!({ "ente_id": ente, "category": "45000000-7", "contract_type": "works",
                          "value": "250000" });
    let p = rup.post("/api/v1/registry/invitation-proposals", &request).expect(201);
    assert_eq!(p["category"], "45000000-7");
    assert_eq!(p["sufficient"], true);
    let first = ids(&p["invitees"]);
    assert_eq!(first.len(), 5);
    let left_out: Vec<&String> = all.iter().filter(|id| !first.contains(id)).collect();
    assert_eq!(left_out.len(), 1);
    let pid = p["id"].as_str().expect("id");
    let confirmed = rup
        .post(
            &format!("/api/v1/registry/invitation-proposals/{pid}/confirm"),
            &json!({}),
        )
        .expect(200);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["invitees"], p["invitees"]);
    rup.post(
        &format!("/api/v1/registry/invitation-proposals/{pid}/confirm"),
        &json!({}),
    )
    .expect_problem(409, "proposal_already_confirmed");
    assert_eq!(
        rup.get(&format!("/api/v1/registry/invitation-proposals/{pid}"))
            .expect(200)["status"],
        "confirmed"
    );

    // Next procedure: whatever the draw, the one left out comes first.
    for attempt in 0..3 {
        let next = rup.post("/api/v1/registry/invitation-proposals", &request).expect(201);
        assert_eq!(ids(&next["invitees"])[0], *left_out[0], "{attempt}");
        assert_eq!(by_id(&next, left_out[0])["times_invited"], 0);
        assert_eq!(by_id(&next, &first[0])["times_invited"], 1);
        rup.post(
            &format!(
                "/api/v1/registry/invitation-proposals/{}/withdraw",
                next["id"].as_str().expect("id")
            ),
            &json!({ "motivation": "Verifica del metodo di rotazione" }),
        )
        .expect(200);
    }
    let trail = admin.get(&format!("/api/v1/enti/{ente}/audit-events")).expect(200);
    assert!(trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .any(|e| e["action"] == "registry.invitation.confirmed" && e["object_id"] == pid));
}

/// Issue 9 point 5: the rotation draw is committed before its beacon exists. The eligible
/// candidates go into the public log first; the beacon is the checkpoint signed right after,
/// the first that includes them; anyone recomputes the order. One live proposal per ente,
/// category and band: another draw needs a motivated withdrawal, which stays in the trail.
#[test]
fn the_rotation_draw_is_committed_before_its_beacon_and_cannot_be_redrawn_silently() {
    let app = TestApp::start();
    let admin = app.admin();
    let (ente, rup) = ente_and_rup(&app, &admin);
    let (supplier, first) = works_supplier(&app, &admin, 0, "Alfa S.r.l.", "2026-12-31");
    let others: Vec<String> = [
        "Beta S.r.l.",
        "Gamma S.r.l.",
        "Delta S.r.l.",
        "Epsilon S.r.l.",
        "Zeta S.r.l.",
    ]
    .iter()
    .enumerate()
    .map(|(n, name)| works_supplier(&app, &admin, n + 1, name, "2026-12-31").1)
    .collect();
    let mut all = others.clone();
    all.push(first.clone());
    let request = json!({ "ente_id": ente, "category": "45000000-7", "contract_type": "works",
                          "value": "250000" });
    let p = rup.post("/api/v1/registry/invitation-proposals", &request).expect(201);
    let pid = p["id"].as_str().expect("id").to_string();
    let draw = &p["draw"];

    // The commitment names the proposal and every eligible candidate with its count.
    let commitment = draw["commitment"].as_str().expect("commitment");
    assert!(commitment.starts_with(&format!("centrale-invitation-commit/v1\nproposal {pid}\nente {ente}\n")));
    for id in &all {
        assert!(
            commitment.contains(&format!("candidate {id} 0\n")),
            "{id} in {commitment}"
        );
    }
    // It is a leaf of the public log, at the index the proposal gives.
    let index = draw["commitment_leaf_index"].as_u64().expect("leaf index");
    let leaves = app
        .client()
        .get(&format!("/api/v1/log/leaves?start={index}&end={}", index + 1))
        .expect(200);
    let expected = seal::merkle::leaf_hash(commitment.as_bytes());
    assert_eq!(
        leaves[0]["leaf_hash"],
        journeys::tender_world::hex(&expected),
        "{leaves}"
    );
    // The beacon is the first checkpoint that includes it, as the log serves it.
    let size = draw["beacon_tree_size"].as_u64().expect("size");
    assert_eq!(size, index + 1, "the first checkpoint after the commitment");
    let served = app.client().get(&format!("/api/v1/log/checkpoint?size={size}"));
    assert_eq!(served.status, 200);
    assert_eq!(Some(served.text.as_str()), draw["beacon"].as_str());
    // Anyone recomputes the seed and the order from the public inputs.
    let public = app
        .client()
        .post(
            "/api/v1/tools/draw",
            &json!({ "purpose": "invitation-rotation", "subject": pid, "beacon": draw["beacon"],
                     "candidates": all }),
        )
        .expect(200);
    assert_eq!(public["seed"], draw["seed"]);
    let order: Vec<String> = ids(&public["order"]).into_iter().take(5).collect();
    assert_eq!(ids(&p["invitees"]), order, "all invited 0 times: the drawn order");

    // A second draw while this one is live: refused, nothing recorded.
    rup.post("/api/v1/registry/invitation-proposals", &request)
        .expect_problem(409, "proposal_pending");
    // Nobody else withdraws it; a withdrawal needs a motivation.
    let withdraw = format!("/api/v1/registry/invitation-proposals/{pid}/withdraw");
    supplier
        .post(&withdraw, &json!({ "motivation": "Non mi piace questa estrazione" }))
        .expect_problem(404, "not_found");
    rup.post(&withdraw, &json!({ "motivation": "no" }))
        .expect_problem(422, "withdrawal_motivation_required");
    assert_eq!(
        rup.get(&format!("/api/v1/registry/invitation-proposals/{pid}"))
            .expect(200)["status"],
        "proposed"
    );
    let motivation = "Importo rettificato dopo la determina a contrarre";
    let gone = rup.post(&withdraw, &json!({ "motivation": motivation })).expect(200);
    assert_eq!(gone["status"], "withdrawn");
    assert_eq!(gone["invitees"], p["invitees"], "the withdrawn draw stays readable");
    rup.post(&withdraw, &json!({ "motivation": motivation }))
        .expect_problem(409, "proposal_withdrawn");
    rup.post(
        &format!("/api/v1/registry/invitation-proposals/{pid}/confirm"),
        &json!({}),
    )
    .expect_problem(409, "proposal_withdrawn");

    // A double click on the next proposal: one draw, one refusal, never a 500.
    let replies: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let rup = rup.clone();
                let request = request.clone();
                s.spawn(move || rup.post("/api/v1/registry/invitation-proposals", &request).status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let mut sorted = replies.clone();
    sorted.sort();
    assert_eq!(sorted, vec![201, 409], "{replies:?}");

    // The withdrawal and its reason are in the ente's trail.
    let trail = admin.get(&format!("/api/v1/enti/{ente}/audit-events")).expect(200);
    let withdrawn: Vec<&Value> = trail["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "registry.invitation.withdrawn")
        .collect();
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0]["details"]["motivation"], motivation);
    assert_eq!(withdrawn[0]["object_id"], pid.as_str());
}

/// Issue 11 point 4: registry documents are never deleted (superseded ones stay for the
/// auditor), so each operatore has a quota of documents and of bytes over everything it ever
/// uploaded; past it, 409 with its code, nothing stored, and other suppliers unaffected.
#[test]
fn registry_documents_have_a_per_supplier_quota_of_count_and_bytes_superseded_ones_included() {
    let app = TestApp::start();
    let (a, a_id) = register(&app, "quota-a@impresa.it", &operatore("Alfa Srl", PIVA[0], "015146"));
    let (b, b_id) = register(&app, "quota-b@impresa.it", &operatore("Beta Srl", PIVA[1], "015146"));
    // Bytes: five files of the largest size fill the 50 MiB; a DURC replaced counts too.
    // registry::documents::MAX_DOCUMENT_BYTES, the largest single file.
    let big = vec![b'x'; 10 * 1024 * 1024];
    for i in 0..5u8 {
        let mut file = big.clone();
        file[0] = i;
        upload(&a, &a_id, "altro", None, &file).expect(201);
    }
    upload(&a, &a_id, "durc", Some("2027-12-31"), b"one more byte").expect_problem(409, "documenti_quota_bytes");
    assert_eq!(
        a.get(&format!("/api/v1/registry/operatori/{a_id}/documenti"))
            .expect(200)
            .as_array()
            .expect("docs")
            .len(),
        5
    );
    // Count: 200 documents, superseded DURCs included; the 201st is refused.
    for i in 0..200 {
        upload(&b, &b_id, "durc", Some("2027-12-31"), format!("DURC n. {i}").as_bytes()).expect(201);
    }
    upload(&b, &b_id, "visura_camerale", None, b"visura").expect_problem(409, "documenti_quota_count");
    // The quota is the supplier's own: a third one uploads as usual.
    let (c, c_id) = register(&app, "quota-c@impresa.it", &operatore("Gamma Srl", PIVA[2], "015146"));
    upload(&c, &c_id, "visura_camerale", None, b"visura").expect(201);
}

/// Two registrations at once, as a double click or two tabs send them: the same account's
/// two sends make one operatore and the other is 409 `operatore_already_registered`; two
/// accounts racing for one partita IVA get one entry and 409 `partita_iva_duplicate`. Never a
/// 500, whichever wins the unique key.
#[test]
fn registrations_racing_each_other_get_a_conflict_never_a_500() {
    let app = TestApp::start();
    let race = |sends: Vec<(Client, Value)>| -> Vec<(u16, String)> {
        std::thread::scope(|s| {
            let handles: Vec<_> = sends
                .iter()
                .map(|(c, body)| s.spawn(move || c.post("/api/v1/registry/operatori", body)))
                .collect();
            let mut out: Vec<(u16, String)> = handles
                .into_iter()
                .map(|h| {
                    let r = h.join().expect("send");
                    (r.status, r.body["code"].as_str().unwrap_or_default().to_string())
                })
                .collect();
            out.sort();
            out
        })
    };
    for (round, piva) in PIVA[..3].iter().enumerate() {
        let c = supplier_account(&app, &format!("doppio{round}@impresa.it"));
        let body = operatore("Doppio S.r.l.", piva, "015146");
        let got = race(vec![(c.clone(), body.clone()), (c, body)]);
        assert_eq!(
            got,
            [(201, String::new()), (409, "operatore_already_registered".into())],
            "round {round}"
        );
    }
    for (round, piva) in PIVA[3..6].iter().enumerate() {
        let a = supplier_account(&app, &format!("primo{round}@impresa.it"));
        let b = supplier_account(&app, &format!("secondo{round}@impresa.it"));
        let body = operatore("Conteso S.r.l.", piva, "015146");
        let got = race(vec![(a, body.clone()), (b, body)]);
        assert_eq!(
            got,
            [(201, String::new()), (409, "partita_iva_duplicate".into())],
            "round {round}"
        );
    }
}
