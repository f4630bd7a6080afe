//! Issue 2: accounts, roles, authorization, audit, errors, health, OpenAPI — over HTTP.

use journeys::serde_json::{json, Value};
use journeys::{Client, TestApp};

fn milano() -> Value {
    json!({
        "nome": "Comune di Milano",
        "codice_fiscale": "01199250158",
        "tipo": "comune",
        "istat_code": "015146",
        "pec": "protocollo@postacert.comune.milano.it"
    })
}

fn roma() -> Value {
    json!({
        "nome": "Roma Capitale",
        "codice_fiscale": "02438750586",
        "tipo": "comune",
        "istat_code": "058091",
        "pec": "protocollo.gabinetto@pec.comune.roma.it"
    })
}

fn create_ente(admin: &Client, body: &Value) -> String {
    admin.post("/api/v1/enti", body).expect(201)["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn create_official(admin: &Client, email: &str, role: &str, ente: &str) -> String {
    admin
        .post(
            "/api/v1/users",
            &json!({ "email": email, "full_name": "Mario Rossi", "password": "una-password-lunga",
                     "roles": [{ "role": role, "ente_id": ente }] }),
        )
        .expect(201)["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[test]
fn health_and_readiness() {
    let app = TestApp::start();
    let c = app.client();
    assert_eq!(c.get("/healthz").expect(200)["status"], "ok");
    assert_eq!(c.get("/readyz").expect(200)["status"], "ready");
}

#[test]
fn admin_creates_an_ente_and_a_rup_who_logs_in() {
    let app = TestApp::start();
    let admin = app.admin();
    let ente = admin.post("/api/v1/enti", &milano()).expect(201);
    assert_eq!(ente["comune"], "Milano");
    assert_eq!(ente["tipo"], "comune");
    let ente_id = ente["id"].as_str().expect("id");
    create_official(&admin, "rup@comune.milano.it", "rup", ente_id);
    let rup = app.client().logged_in("RUP@comune.milano.it", "una-password-lunga");
    let me = rup.get("/api/v1/auth/me").expect(200);
    assert_eq!(me["kind"], "official");
    assert_eq!(me["roles"], json!([{ "role": "rup", "ente_id": ente_id }]));
    // The RUP sees their own ente's members, themselves included.
    let members = rup.get(&format!("/api/v1/enti/{ente_id}/members")).expect(200);
    assert_eq!(members.as_array().map(Vec::len), Some(1));
}

#[test]
fn wrong_password_unknown_user_and_logout() {
    let app = TestApp::start();
    let c = app.client();
    c.post(
        "/api/v1/auth/login",
        &json!({ "email": journeys::ADMIN_EMAIL, "password": "wrong-password!" }),
    )
    .expect_problem(401, "invalid_credentials");
    c.post(
        "/api/v1/auth/login",
        &json!({ "email": "nobody@x.it", "password": "wrong-password!" }),
    )
    .expect_problem(401, "invalid_credentials");
    let admin = app.admin();
    admin.get("/api/v1/auth/me").expect(200);
    admin.post("/api/v1/auth/logout", &json!({})).expect(204);
    admin.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
}

#[test]
fn tokens_expire_when_the_clock_moves_past_their_ttl() {
    let app = TestApp::start();
    let admin = app.admin();
    app.clock
        .advance(chrono::Duration::hours(11) + chrono::Duration::minutes(59));
    admin.get("/api/v1/auth/me").expect(200);
    app.clock.advance(chrono::Duration::minutes(2));
    admin.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
}

#[test]
fn unauthenticated_calls_get_401() {
    let app = TestApp::start();
    let c = app.client();
    c.get("/api/v1/enti").expect_problem(401, "unauthenticated");
    c.post("/api/v1/enti", &milano()).expect_problem(401, "unauthenticated");
    c.with_token("forged-token")
        .get("/api/v1/users")
        .expect_problem(401, "unauthenticated");
}

#[test]
fn a_rup_cannot_touch_another_entes_data() {
    let app = TestApp::start();
    let admin = app.admin();
    let milano = create_ente(&admin, &milano());
    let roma = create_ente(&admin, &roma());
    create_official(&admin, "rup@milano.it", "rup", &milano);
    create_official(&admin, "auditor@roma.it", "auditor", &roma);
    let rup = app.client().logged_in("rup@milano.it", "una-password-lunga");
    rup.get(&format!("/api/v1/enti/{milano}/members")).expect(200);
    rup.get(&format!("/api/v1/enti/{roma}/members"))
        .expect_problem(403, "forbidden");
    rup.get(&format!("/api/v1/enti/{milano}/audit-events"))
        .expect_problem(403, "forbidden");
    rup.post(
        "/api/v1/enti",
        &json!({"nome": "x", "codice_fiscale": "00514490010", "tipo": "altro", "pec": "a@b.it"}),
    )
    .expect_problem(403, "forbidden");
    rup.get("/api/v1/users").expect_problem(403, "forbidden");
    let auditor = app.client().logged_in("auditor@roma.it", "una-password-lunga");
    auditor.get(&format!("/api/v1/enti/{roma}/audit-events")).expect(200);
    auditor
        .get(&format!("/api/v1/enti/{milano}/audit-events"))
        .expect_problem(403, "forbidden");
}

#[test]
fn a_supplier_cannot_reach_officials_endpoints() {
    let app = TestApp::start();
    let admin = app.admin();
    let milano = create_ente(&admin, &milano());
    let (supplier, id) = app.register_supplier("gare@edilrossi.it", "Edil Rossi", "fornitore-password");
    assert_eq!(supplier.get("/api/v1/auth/me").expect(200)["kind"], "supplier");
    supplier.get("/api/v1/enti").expect_problem(403, "forbidden");
    supplier
        .get(&format!("/api/v1/enti/{milano}"))
        .expect_problem(403, "forbidden");
    supplier
        .get(&format!("/api/v1/enti/{milano}/members"))
        .expect_problem(403, "forbidden");
    supplier
        .get(&format!("/api/v1/enti/{milano}/audit-events"))
        .expect_problem(403, "forbidden");
    supplier.get("/api/v1/users").expect_problem(403, "forbidden");
    // Nor can an admin turn a supplier account into an official.
    admin
        .post(
            &format!("/api/v1/users/{id}/roles"),
            &json!({ "role": "rup", "ente_id": milano }),
        )
        .expect_problem(422, "role_for_supplier");
}

#[test]
fn every_state_change_is_audited_with_its_request_id() {
    let app = TestApp::start();
    let admin = app.admin();
    let reply = admin.post("/api/v1/enti", &milano());
    let request_id = reply.request_id.clone().expect("x-request-id header");
    let ente = reply.expect(201);
    let ente_id = ente["id"].as_str().expect("id");
    create_official(&admin, "rup@milano.it", "rup", ente_id);
    let trail = admin.get(&format!("/api/v1/enti/{ente_id}/audit-events")).expect(200);
    let events = trail["events"].as_array().expect("events");
    let created = events
        .iter()
        .find(|e| e["action"] == "ente.created")
        .expect("ente.created event");
    assert_eq!(created["request_id"], request_id.as_str());
    assert_eq!(created["object_id"], ente_id);
    assert!(created["actor_user_id"].is_string());
    assert_eq!(created["occurred_at"], "2026-05-04T08:00:00Z");
    assert!(events
        .iter()
        .any(|e| e["action"] == "role.granted" && e["details"]["role"] == "rup"));
}

#[test]
fn invalid_identifiers_get_422_naming_the_field_and_change_nothing() {
    let app = TestApp::start();
    let admin = app.admin();
    let mut bad_cf = milano();
    bad_cf["codice_fiscale"] = json!("01199250159");
    let p = admin
        .post("/api/v1/enti", &bad_cf)
        .expect_problem(422, "partita_iva_check_digit");
    assert_eq!(p["field"], "codice_fiscale");
    let mut bad_pec = milano();
    bad_pec["pec"] = json!("not an address");
    assert_eq!(admin.post("/api/v1/enti", &bad_pec).expect(422)["field"], "pec");
    let mut bad_istat = milano();
    bad_istat["istat_code"] = json!("999999");
    assert_eq!(
        admin.post("/api/v1/enti", &bad_istat).expect(422)["field"],
        "istat_code"
    );
    let mut no_istat = milano();
    no_istat["istat_code"] = Value::Null;
    admin
        .post("/api/v1/enti", &no_istat)
        .expect_problem(422, "istat_code_required");
    assert_eq!(admin.get("/api/v1/enti").expect(200), json!([]));
    // Duplicates are refused too, and the first ente stays as it was.
    create_ente(&admin, &milano());
    admin
        .post("/api/v1/enti", &milano())
        .expect_problem(409, "ente_duplicate");
    assert_eq!(admin.get("/api/v1/enti").expect(200).as_array().map(Vec::len), Some(1));
    // Weak passwords and bad role shapes for officials.
    let id = admin.get("/api/v1/enti").expect(200)[0]["id"].clone();
    admin
        .post(
            "/api/v1/users",
            &json!({"email": "a@b.it", "full_name": "A", "password": "short", "roles": []}),
        )
        .expect_problem(422, "password_too_short");
    admin
        .post(
            "/api/v1/users",
            &json!({"email": "a@b.it", "full_name": "A", "password": "abbastanza-lunga", "roles": [{"role": "rup"}]}),
        )
        .expect_problem(422, "role_needs_ente");
    admin
        .post("/api/v1/users", &json!({"email": "a@b.it", "full_name": "A", "password": "abbastanza-lunga", "roles": [{"role": "admin", "ente_id": id}]}))
        .expect_problem(422, "role_admin_has_no_ente");
    assert_eq!(admin.get("/api/v1/users").expect(200).as_array().map(Vec::len), Some(1));
}

#[test]
fn malformed_requests_get_4xx_problems_never_500() {
    let app = TestApp::start();
    let admin = app.admin();
    admin
        .post_raw("/api/v1/enti", "application/json", b"{\"nome\": ")
        .expect_problem(400, "json_malformed");
    admin
        .post_raw("/api/v1/enti", "application/json", b"\xff\xfe")
        .expect_problem(400, "json_malformed");
    admin
        .post_raw("/api/v1/enti", "text/plain", b"{}")
        .expect_problem(415, "content_type_not_json");
    let mut wrong_type = milano();
    wrong_type["nome"] = json!(42);
    admin
        .post("/api/v1/enti", &wrong_type)
        .expect_problem(400, "json_invalid");
    let mut unknown = milano();
    unknown["sindaco"] = json!("x");
    assert_eq!(
        admin.post("/api/v1/enti", &unknown).expect_problem(400, "json_invalid")["field"],
        "sindaco"
    );
    let missing = json!({ "nome": "Comune" });
    assert_eq!(
        admin.post("/api/v1/enti", &missing).expect_problem(400, "json_invalid")["field"],
        "codice_fiscale"
    );
    let mut bad_enum = milano();
    bad_enum["tipo"] = json!("impero");
    admin
        .post("/api/v1/enti", &bad_enum)
        .expect_problem(400, "json_invalid");
    let big = "x".repeat(70 * 1024);
    let mut huge = milano();
    huge["nome"] = json!(big);
    admin.post("/api/v1/enti", &huge).expect_problem(413, "body_too_large");
    admin.get("/api/v1/enti/not-a-uuid").expect_problem(400, "path_invalid");
    admin
        .get(&format!("/api/v1/enti/{}", uuid::Uuid::new_v4()))
        .expect_problem(404, "not_found");
    let p = admin.get("/api/v1/nothing-here").expect_problem(404, "route_not_found");
    assert!(p["request_id"].is_string());
    admin
        .get("/api/v1/enti/00000000-0000-0000-0000-000000000000/audit-events?limit=abc")
        .expect_problem(400, "query_invalid");
    assert_eq!(admin.get("/api/v1/enti").expect(200), json!([]));
}

#[test]
fn the_body_limit_is_configurable() {
    let app = TestApp::start_with(|state| state.max_json_bytes = 200);
    let admin = app.admin();
    let mut long = milano();
    long["nome"] = json!("Comune di Milano".repeat(12));
    admin.post("/api/v1/enti", &long).expect_problem(413, "body_too_large");
}

#[test]
fn the_committed_openapi_document_is_current_and_docs_render() {
    let app = TestApp::start();
    let c = app.client();
    let served = c.get("/api/v1/openapi.json").expect(200);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed,
        api::openapi::pretty_json(),
        "docs/openapi.json is out of date: run `make openapi`"
    );
    let committed: Value = journeys::serde_json::from_str(&committed).expect("valid JSON");
    assert_eq!(served, committed);
    assert!(served["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    let page = c.get("/api/docs/");
    assert_eq!(page.status, 200);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    assert!(
        !page.text.contains("https://"),
        "docs page must load nothing from the internet"
    );
    assert_eq!(c.get("/api/docs/swagger-ui.css").status, 200);
    assert_eq!(c.get("/api/docs/swagger-ui-bundle.js").status, 200);
}
