//! The public pages over real HTTP, against a real server and database (issue 12 point 2):
//! each page answers with its heading, the search narrows, tenders by invitation stay
//! hidden from whoever is not invited, deadlines read in Rome time, a bad filter is a field
//! message (4xx) and documents show the SHA-256 the platform stored.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use sha2::{Digest, Sha256};

/// A page as a browser gets it, optionally with the portal's session cookie (the API
/// token: the same sessions).
fn page(w: &World, path: &str, session: Option<&str>) -> (u16, String) {
    let mut req = ureq::get(&format!("{}{path}", w.app.base_url));
    if let Some(t) = session {
        req = req.set("Cookie", &format!("centrale_sessione={t}"));
    }
    let res = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = res.status();
    assert!(
        res.content_type().starts_with("text/html"),
        "{path}: {}",
        res.content_type()
    );
    (status, res.into_string().expect("body"))
}

#[track_caller]
fn ok(w: &World, path: &str) -> String {
    let (status, body) = page(w, path, None);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[track_caller]
fn h1(body: &str) -> String {
    let start = body.find("<h1").expect("an h1");
    let open_end = start + body[start..].find('>').expect("h1 tag") + 1;
    let end = open_end + body[open_end..].find("</h1>").expect("h1 end");
    body[open_end..end].trim().to_string()
}

fn publish(w: &World, body: &Value) -> String {
    let bando = id(&w.rup.post("/api/v1/bandi", body).expect(201));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    bando
}

/// Open procedure for cleaning services below the EU threshold (lowest price, method A).
fn services_body(w: &World, oggetto: &str, amount: &str, cig_n: u64) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": oggetto,
        "cig": cig(cig_n),
        "cpv_main": "90910000-9",
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "minor_prezzo",
        "base_amount": amount,
        "safety_costs": "0",
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "C"],
        "anomaly_method": "A",
        "custodians": [w.rup_id, w.custode],
        "custodian_threshold": 2
    })
}

/// A negotiated procedure without notice for 180,000 EUR of works, five invitees (art. 50).
fn negotiated_body(w: &World, invitees: &[String]) -> Value {
    let mut b = works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione riservata del verde scolastico",
        7_700_003,
    );
    b["procedure_type"] = json!("negoziata_senza_bando");
    b["base_amount"] = json!("180000.00");
    b["safety_costs"] = json!("5000.00");
    b["invitees"] = json!(invitees);
    b
}

struct Fixture {
    w: World,
    works: String,
    services: String,
    invited_only: String,
    invited_token: String,
    outsider_token: String,
}

fn fixture() -> Fixture {
    let w = world();
    let works = publish(
        &w,
        &works_tender_body(
            &w.ente,
            [&w.rup_id, &w.custode],
            "Manutenzione straordinaria delle strade comunali",
            7_700_001,
        ),
    );
    let services = publish(
        &w,
        &services_body(&w, "Servizio di pulizia degli uffici", "150000.00", 7_700_002),
    );
    let invitees: Vec<String> = (0..5)
        .map(|i| supplier(&w.app, &format!("invitata{i}@imprese.it")))
        .collect();
    let invited_only = publish(&w, &negotiated_body(&w, &invitees));
    supplier(&w.app, "esclusa@imprese.it");
    let token = |email: &str| w.login(email).token.expect("token");
    Fixture {
        invited_token: token("invitata0@imprese.it"),
        outsider_token: token("esclusa@imprese.it"),
        works,
        services,
        invited_only,
        w,
    }
}

fn listed(body: &str, bando: &str) -> bool {
    body.contains(&format!("href=\"/bandi/{bando}\""))
}

#[test]
fn every_public_page_answers_with_its_heading() {
    let f = fixture();
    let w = &f.w;
    for (path, title) in [
        ("/bandi", "Bandi e avvisi"),
        ("/esiti", "Esiti di gara"),
        ("/calcolatori", "Calcolatori"),
        ("/trasparenza", "Registro pubblico delle buste"),
        ("/trasparenza/verifica", "Verifica una ricevuta"),
    ] {
        let body = ok(w, path);
        assert_eq!(h1(&body), title, "{path}");
        assert!(body.contains("<html lang=\"it\">"), "{path}");
    }
    let tender = ok(w, &format!("/bandi/{}", f.works));
    assert_eq!(h1(&tender), "Manutenzione straordinaria delle strade comunali");
    for part in [
        "titolo-importi",
        "titolo-termini",
        "titolo-documenti",
        "titolo-chiarimenti",
        "titolo-rettifiche",
        "metodo-anomalia",
    ] {
        assert!(tender.contains(part), "{part}");
    }
    assert!(tender.contains("1.000.000,00 €") && tender.contains("20.000,00 €") && tender.contains("980.000,00 €"));
    assert!(tender.contains("metodo A dell&#39;Allegato II.2"), "{tender}");
    // Open, the deadline for questions too: the anonymous visitor is asked to log in to bid.
    assert!(tender.contains("href=\"/accedi?ritorno=/bandi/"));
    assert!(tender.contains(&format!("href=\"/bandi/{}/chiarimenti/nuovo\"", f.works)));
    let (_, as_supplier) = page(w, &format!("/bandi/{}", f.works), Some(&f.outsider_token));
    assert!(as_supplier.contains(&format!("href=\"/bandi/{}/offerta\"", f.works)));

    // The receipt check's markup, for verify.js, and the no-JS way with the real flags.
    let v = ok(w, "/trasparenza/verifica");
    for part in [
        "<form id=\"verifica-form\"",
        "<input type=\"file\" class=\"form-control\" id=\"verifica-ricevuta\" name=\"ricevuta\" accept=\"application/json\"",
        "id=\"verifica-busta\"",
        "<div id=\"verifica-esito\" aria-live=\"polite\"",
        "<script type=\"module\" src=\"/static/js/verify.js\"></script>",
        "centrale verify --bundle",
        "--envelope",
        "--platform-key",
        "--log-key",
        "--older-checkpoint",
        "openssl ts -verify",
        "for=\"verifica-ricevuta\"",
        "for=\"verifica-busta\"",
    ] {
        assert!(v.contains(part), "{part}");
    }
    // The log's keys as the API publishes them.
    let keys = w.app.client().get("/api/v1/log/keys").expect(200);
    let t = ok(w, "/trasparenza");
    assert!(t.contains(keys["platform_key"].as_str().expect("present")));
    assert!(t.contains(keys["log_key"].as_str().expect("present")));
    assert!(t.contains("/api/v1/log/proof/inclusion"));
}

#[test]
fn the_search_narrows_by_text_cpv_amount_and_procedure() {
    let f = fixture();
    let w = &f.w;
    let all = ok(w, "/bandi");
    assert!(listed(&all, &f.works) && listed(&all, &f.services));

    // Text: a word of the oggetto (any case), the CIG, the ente's name.
    let q = ok(w, "/bandi?q=STRADE");
    assert!(listed(&q, &f.works) && !listed(&q, &f.services));
    let q = ok(w, &format!("/bandi?q={}", cig(7_700_002)));
    assert!(!listed(&q, &f.works) && listed(&q, &f.services));
    let q = ok(w, "/bandi?q=milano+pulizia");
    assert!(!listed(&q, &f.works) && listed(&q, &f.services));
    let q = ok(w, "/bandi?q=%25");
    assert!(
        !listed(&q, &f.works) && !listed(&q, &f.services),
        "a typed % is no wildcard"
    );

    let c = ok(w, "/bandi?cpv=90910000-9");
    assert!(!listed(&c, &f.works) && listed(&c, &f.services));

    let a = ok(w, "/bandi?importo_min=200000&importo_max=");
    assert!(listed(&a, &f.works) && !listed(&a, &f.services));
    let a = ok(w, "/bandi?importo_max=150000,00");
    assert!(!listed(&a, &f.works) && listed(&a, &f.services));

    let p = ok(w, "/bandi?procedura=aperta&stato=published");
    assert!(listed(&p, &f.works) && listed(&p, &f.services));
    let (_, p) = page(w, "/bandi?procedura=negoziata_senza_bando", Some(&f.invited_token));
    assert!(listed(&p, &f.invited_only) && !listed(&p, &f.works) && !listed(&p, &f.services));

    // Deadline range in Rome days: 5 June is in [5 June, 5 June], not from 6 June.
    let d = ok(w, "/bandi?scadenza_dal=2026-06-05&scadenza_al=2026-06-05");
    assert!(listed(&d, &f.works));
    let d = ok(w, "/bandi?scadenza_dal=2026-06-06");
    assert!(!listed(&d, &f.works));

    // The same filters reach the API through PublicFilter.
    let api = w
        .app
        .client()
        .get("/api/v1/public/bandi?q=strade&amount_min=500000")
        .expect(200);
    let ids: Vec<&str> = api["items"]
        .as_array()
        .expect("present")
        .iter()
        .map(|b| b["id"].as_str().expect("present"))
        .collect();
    assert_eq!(ids, vec![f.works.as_str()]);
    w.app
        .client()
        .get("/api/v1/public/bandi?amount_min=40.000")
        .expect_problem(422, "amount_invalid");

    // Pages of one: the cursor walks them, keeping the filters.
    let mut b = PublicFilterPages::new(w);
    let seen = b.walk();
    assert_eq!(seen.len(), 2, "{seen:?}");
}

/// Follows "Pagina successiva" through the open procedures, one tender per page.
struct PublicFilterPages<'a> {
    w: &'a World,
}

impl<'a> PublicFilterPages<'a> {
    fn new(w: &'a World) -> Self {
        PublicFilterPages { w }
    }

    fn walk(&mut self) -> Vec<String> {
        // The page size is the portal's; a cursor from the API's one-item pages is the same cursor.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let api = self
                .w
                .app
                .client()
                .get(&format!(
                    "/api/v1/public/bandi?procedure=aperta&limit=1{}",
                    cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default()
                ))
                .expect(200);
            let Some(item) = api["items"].as_array().expect("present").first() else {
                break;
            };
            let id = item["id"].as_str().expect("present").to_string();
            let body = ok(
                self.w,
                &format!(
                    "/bandi?procedura=aperta{}",
                    cursor.as_deref().map(|c| format!("&cursore={c}")).unwrap_or_default()
                ),
            );
            assert!(listed(&body, &id));
            if cursor.is_some() {
                assert!(body.contains("Torna alla prima pagina"));
                assert!(body.contains("href=\"/bandi?procedura=aperta\""));
            }
            seen.push(id);
            match api["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        seen
    }
}

#[test]
fn a_tender_by_invitation_is_invisible_to_the_public_and_to_suppliers_not_invited() {
    let f = fixture();
    let w = &f.w;
    let path = format!("/bandi/{}", f.invited_only);
    for session in [None, Some(f.outsider_token.as_str())] {
        let (status, body) = page(w, &path, session);
        assert_eq!(status, 404, "{body}");
        assert!(!body.contains("Manutenzione riservata"));
        for list in [
            "/bandi",
            "/bandi?procedura=negoziata_senza_bando",
            "/bandi?q=riservata",
            "/esiti",
        ] {
            let (status, body) = page(w, list, session);
            assert_eq!(status, 200);
            assert!(
                !listed(&body, &f.invited_only) && !body.contains("Manutenzione riservata"),
                "{list}"
            );
        }
    }
    // Its ente is no hint either: the only ente has open tenders too, so the choice stays.
    let (status, body) = page(w, &path, Some(&f.invited_token));
    assert_eq!(status, 200);
    assert_eq!(h1(&body), "Manutenzione riservata del verde scolastico");
    let (_, list) = page(w, "/bandi", Some(&f.invited_token));
    assert!(listed(&list, &f.invited_only));
    // A malformed id is a page that does not exist, not a crash.
    let (status, _) = page(w, "/bandi/non-un-uuid", None);
    assert_eq!(status, 404);
}

#[test]
fn deadlines_read_in_rome_time_with_the_time_left() {
    let f = fixture();
    let body = ok(&f.w, &format!("/bandi/{}", f.works));
    // 5 June 2026 12:00 in Rome is 10:00 UTC (summer time); the clock is at 4 May 08:00 UTC.
    assert!(
        body.contains("<time datetime=\"2026-06-05T10:00:00+00:00\">05/06/2026 12:00</time>"),
        "{body}"
    );
    assert!(body.contains("tempo rimanente: 32 giorni e 2 ore"), "{body}");
    assert!(body.contains("<time datetime=\"2026-05-25T10:00:00+00:00\">25/05/2026 12:00</time>"));
    let list = ok(&f.w, "/bandi");
    assert!(list.contains(">05/06/2026 12:00</time>"));
}

#[test]
fn a_bad_filter_is_a_message_on_its_field_and_nothing_breaks() {
    let f = fixture();
    let w = &f.w;
    for (query, error_id, word) in [
        ("importo_min=40.000", "f-importo-min-errore", "migliaia"),
        ("importo_min=500&importo_max=100", "f-importo-max-errore", "inferiore"),
        ("importo_max=-3", "f-importo-max-errore", "Importo non valido"),
        ("cpv=pizza", "f-cpv-errore", ""),
        ("procedura=sorteggio", "f-procedura-errore", "Procedura sconosciuta"),
        ("stato=segreto", "f-stato-errore", "Stato sconosciuto"),
        ("ente=non-un-id", "f-ente-errore", "Ente non valido"),
        ("scadenza_dal=ieri", "f-scadenza-dal-errore", ""),
    ] {
        let (status, body) = page(w, &format!("/bandi?{query}"), None);
        assert_eq!(status, 422, "{query}: {body}");
        assert!(body.contains(&format!("id=\"{error_id}\"")), "{query}: {body}");
        assert!(body.contains(word), "{query}");
        assert!(body.contains("aria-invalid=\"true\""), "{query}");
        assert_eq!(h1(&body), "Bandi e avvisi");
    }
    let long = "a".repeat(201);
    let (status, body) = page(w, &format!("/bandi?q={long}"), None);
    assert_eq!(status, 422);
    assert!(body.contains("id=\"f-q-errore\""));
    let (status, body) = page(w, "/bandi?cursore=zz", None);
    assert_eq!(status, 422);
    assert!(body.contains("Cursore non valido"));
    // Broken UTF-8 in the query is read lossily: an answer, never a server error.
    let (status, _) = page(w, "/bandi?q=%FF", None);
    assert!(status < 500, "{status}");

    let (status, body) = page(w, "/esiti?esito=vinte", None);
    assert_eq!(status, 422);
    assert!(body.contains("id=\"f-esito-errore\""));

    // The calculator: steps for good input, the field for bad.
    let calc = ok(
        w,
        "/calcolatori?metodo=A&ribassi=10%3B11%3B12%3B13%3B14%3B15,5&data_pubblicazione=2026-01-15",
    );
    for step in [
        "passo-sorted_ascending",
        "passo-trimmed_set",
        "passo-mean",
        "passo-threshold",
        "passo-excluded",
    ] {
        assert!(calc.contains(step), "{step}: {calc}");
    }
    assert!(calc.contains("15,5"));
    let (status, body) = page(w, "/calcolatori?metodo=A&ribassi=10+undici+12", None);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("id=\"c-ribassi-errore\""));
    let (status, body) = page(w, "/calcolatori?metodo=Z&ribassi=10+11", None);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("id=\"c-metodo-errore\""));
    let (status, body) = page(w, "/calcolatori?metodo=A&ribassi=", None);
    assert_eq!(status, 422);
    assert!(body.contains("Inserire almeno un ribasso"));
}

#[test]
fn a_document_shows_the_sha256_the_platform_stored_and_links_its_download() {
    let w = world();
    let body = works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori con disciplinare", 7_700_010);
    let bando = id(&w.rup.post("/api/v1/bandi", &body).expect(201));
    let bytes = b"%PDF-1.7 disciplinare di gara".to_vec();
    let doc = w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=disciplinare&filename=disciplinare.pdf"),
            "application/pdf",
            &bytes,
        )
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    let stored = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    let sha = stored["documenti"][0]["sha256"].as_str().expect("sha256").to_string();
    let expected: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sha, expected);

    let page_body = ok(&w, &format!("/bandi/{bando}"));
    assert!(
        page_body.contains(&format!("<code class=\"text-break sha256\">{sha}</code>")),
        "{page_body}"
    );
    let href = format!("/api/v1/public/bandi/{bando}/documenti/{}", id(&doc));
    assert!(page_body.contains(&format!("href=\"{href}\"")));
    assert!(page_body.contains("disciplinare.pdf"));
    let res = ureq::get(&format!("{}{href}", w.app.base_url))
        .call()
        .expect("download");
    assert_eq!(res.header("x-content-sha256"), Some(sha.as_str()));
}
