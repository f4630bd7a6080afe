//! Issue 11, web hygiene: files are served as attachments with a safe content type, and the
//! client's `x-request-id` is kept apart from the server's own id in audit events.

use journeys::tender_world::{id, supplier, works_tender_body, world, PASSWORD};
use journeys::TestApp;
use serde_json::json;

/// GET with a bearer token, returning (content type, disposition, nosniff, body).
fn download(app: &TestApp, token: &str, path: &str) -> (String, String, String, Vec<u8>) {
    let r = ureq::get(&format!("{}{path}", app.base_url))
        .set("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("download");
    let header = |n: &str| r.header(n).unwrap_or("").to_string();
    let (ct, cd, nosniff) = (
        header("content-type"),
        header("content-disposition"),
        header("x-content-type-options"),
    );
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).expect("body");
    (ct, cd, nosniff, body)
}

#[test]
fn an_html_document_is_downloaded_as_an_octet_stream_attachment_never_rendered() {
    let w = world();
    let bando = id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori di prova", 11),
        )
        .expect(201));
    let html = b"<html><script>fetch('/api/v1/auth/me')</script></html>";
    let doc = w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=x.html"),
            "text/html",
            html,
        )
        .expect(201);
    let token = w.rup.token.clone().expect("token");
    let (ct, cd, nosniff, body) = download(
        &w.app,
        &token,
        &format!("/api/v1/public/bandi/{bando}/documenti/{}", id(&doc)),
    );
    assert_eq!(body, html);
    assert_eq!(ct, "application/octet-stream", "text/html is never served as such");
    assert_eq!(cd, "attachment; filename=\"x.html\"; filename*=UTF-8''x.html");
    assert_eq!(nosniff, "nosniff");

    // A path or a header break in the name is refused at upload; an SVG named with quotes
    // and a non-ASCII letter is served as an octet stream, the quote replaced, the letter
    // kept in filename*.
    w.rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=..%2Fx.svg"),
            "image/svg+xml",
            b"<svg/>",
        )
        .expect_problem(422, "filename_invalid");
    w.rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=a%0D%0AX-Evil%3A%201.svg"),
            "image/svg+xml",
            b"<svg/>",
        )
        .expect_problem(422, "filename_invalid");
    let doc = w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=perch%C3%A9%22%3B%20x.svg"),
            "image/svg+xml",
            b"<svg onload='alert(1)'/>",
        )
        .expect(201);
    let (ct, cd, _, _) = download(
        &w.app,
        &token,
        &format!("/api/v1/public/bandi/{bando}/documenti/{}", id(&doc)),
    );
    assert_eq!(ct, "application/octet-stream");
    assert_eq!(
        cd,
        "attachment; filename=\"perch___ x.svg\"; filename*=UTF-8''perch%C3%A9__%20x.svg"
    );

    // A PDF keeps its type but is an attachment too.
    let doc = w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=disciplinare&filename=disciplinare.pdf"),
            "application/pdf",
            b"%PDF-1.7",
        )
        .expect(201);
    let (ct, cd, _, _) = download(
        &w.app,
        &token,
        &format!("/api/v1/public/bandi/{bando}/documenti/{}", id(&doc)),
    );
    assert_eq!(ct, "application/pdf");
    assert!(cd.starts_with("attachment; "), "{cd}");
}

#[test]
fn an_albo_document_in_xml_is_an_octet_stream_attachment() {
    let app = TestApp::start();
    supplier(&app, "gare@fornitore.it");
    let c = app.client().logged_in("gare@fornitore.it", PASSWORD);
    let me = c.get("/api/v1/registry/operatori/me").expect(200);
    let op = id(&me);
    let doc = c
        .post_raw(
            &format!("/api/v1/registry/operatori/{op}/documenti?tipo=visura_camerale&nome_file=visura.xml"),
            "text/xml",
            b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><script>alert(1)</script></html>",
        )
        .expect(201);
    let token = c.token.clone().expect("token");
    let (ct, cd, nosniff, _) = download(
        &app,
        &token,
        &format!("/api/v1/registry/operatori/{op}/documenti/{}/content", id(&doc)),
    );
    assert_eq!(ct, "application/octet-stream");
    assert_eq!(cd, "attachment; filename=\"visura.xml\"; filename*=UTF-8''visura.xml");
    assert_eq!(nosniff, "nosniff");
}

#[test]
fn a_forged_x_request_id_is_recorded_apart_and_never_replaces_the_servers_id() {
    let app = TestApp::start();
    let admin = app.admin();
    let token = admin.token.clone().expect("token");
    let create = |body: serde_json::Value, client_id: Option<&str>| {
        let mut req =
            ureq::post(&format!("{}/api/v1/enti", app.base_url)).set("Authorization", &format!("Bearer {token}"));
        if let Some(v) = client_id {
            req = req.set("x-request-id", v);
        }
        let r = req.send_json(body).expect("created");
        let rid = r.header("x-request-id").expect("server id").to_string();
        let ente: serde_json::Value = r.into_json().expect("json");
        (rid, ente["id"].as_str().expect("id").to_string())
    };
    let (first_id, first_ente) = create(
        json!({ "nome": "Comune di Milano", "codice_fiscale": "01199250158", "tipo": "comune",
                "istat_code": "015146", "pec": "protocollo@postacert.comune.milano.it" }),
        None,
    );
    // The attacker replays the id of the earlier request, hoping to hide his change behind it.
    let (second_id, second_ente) = create(
        json!({ "nome": "Comune di Bergamo", "codice_fiscale": "80034840167", "tipo": "comune",
                "istat_code": "016024", "pec": "protocollo@cert.comune.bergamo.it" }),
        Some(&first_id),
    );
    assert_ne!(second_id, first_id, "the server answers with its own id");
    let events = |ente: &str| {
        admin.get(&format!("/api/v1/enti/{ente}/audit-events")).expect(200)["events"]
            .as_array()
            .expect("events")
            .clone()
    };
    let first = &events(&first_ente)[0];
    assert_eq!(first["request_id"], first_id.as_str());
    assert!(first["client_request_id"].is_null());
    let second = &events(&second_ente)[0];
    assert_eq!(second["request_id"], second_id.as_str());
    assert_eq!(second["client_request_id"], first_id.as_str());

    // A hostile value is sanitised (no spaces, quotes or control characters) and bounded.
    let long = format!("a b\"c{}", "x".repeat(500));
    let (third_id, third_ente) = create(
        json!({ "nome": "Comune di Como", "codice_fiscale": "00417480134", "tipo": "comune",
                "istat_code": "013075", "pec": "protocollo@pec.comune.como.it" }),
        Some(&long),
    );
    assert!(uuid::Uuid::parse_str(&third_id).is_ok(), "{third_id}");
    let third = &events(&third_ente)[0];
    assert_eq!(third["request_id"], third_id.as_str());
    let kept = third["client_request_id"].as_str().expect("client id");
    assert_eq!(kept.len(), 128);
    assert!(kept.starts_with("abcxxx"), "{kept}");
}
