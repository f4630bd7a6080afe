//! The public pages over real HTTP, against a real server and database (issue 12 point 2):
//! each page answers with its heading, the search narrows, tenders by invitation stay
//! hidden from whoever is not invited, deadlines read in Rome time, a bad filter is a field
//! message (4xx) and documents show the SHA-256 the platform stored.

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::TestApp;
use sha2::{Digest, Sha256};

/// A page as a browser gets it, optionally with the portal's session cookie (the API
/// token: the same sessions).
fn page(w: &World, path: &str, session: Option<&str>) -> (u16, String) {
    page_of(&w.app, path, session)
}

fn page_of(app: &TestApp, path: &str, session: Option<&str>) -> (u16, String) {
    let mut req = ureq::get(&format!("{}{path}", app.base_url));
    if let Some(t) = session {
        req = req.set("Cookie", &format!("centrale_sessione={t}"));
    }
    let res = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = res.status();
    let content_type = res.content_type().to_string();
    let body = res.into_string().expect("body");
    // Some paths here are 100 kB long: their start is enough to tell which.
    let shown: String = path.chars().take(200).collect();
    assert!(
        content_type.starts_with("text/html"),
        "{shown}: {status} {content_type}: {}",
        body.chars().take(500).collect::<String>()
    );
    (status, body)
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
        ("/calcolatori/punteggi-economici", "Punteggi economici"),
        ("/calcolatori/sorteggio", "Sorteggio pubblico"),
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
    // The log's keys as the API publishes them; the receipt check is pinned to them, so a
    // bundle that carries other keys (a forged receipt made self-consistent) is refused.
    let keys = w.app.client().get("/api/v1/log/keys").expect(200);
    let pinned = format!(
        "<form id=\"verifica-form\" novalidate data-platform-key=\"{}\" data-log-key=\"{}\">",
        keys["platform_key"].as_str().expect("platform key"),
        keys["log_key"].as_str().expect("log key")
    );
    assert!(v.contains(&pinned), "{pinned}\n{v}");
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

/// A query string as a browser builds it from a form (every byte but the unreserved ones
/// percent-encoded, a textarea's line breaks already CRLF in the values given).
fn form_query(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Text as the templates escape it.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// A decimal of the API's answer as the page writes it.
fn comma(v: &Value) -> String {
    v.as_str().expect("a decimal as a string").replace('.', ",")
}

#[track_caller]
fn ok_at(app: &TestApp, path: &str) -> String {
    let (status, body) = page_of(app, path, None);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// Where `needle` is in `body`, which must hold it.
#[track_caller]
fn at(body: &str, needle: &str) -> usize {
    body.find(needle)
        .unwrap_or_else(|| panic!("missing {needle:?} in {body}"))
}

#[test]
fn the_economic_scores_page_shows_every_value_the_api_computes() {
    let app = TestApp::start();
    let api = app.client();
    let index = ok_at(&app, "/calcolatori");
    assert!(index.contains("href=\"/calcolatori/punteggi-economici\""));
    assert!(index.contains("href=\"/calcolatori/sorteggio\""));
    assert!(
        index.contains("id=\"calcolo-anomalia\""),
        "the anomaly form stays in place"
    );

    let cases = [
        // The bilinear formula reports Asoglia; the textarea comes as a browser sends it.
        (
            vec![
                ("formula", "bilinear"),
                ("punteggio_massimo", "30"),
                ("x", "0,85"),
                ("offerte", "10\r\n12,5\r\n20;7,25"),
            ],
            json!({ "formula": "bilinear", "parameters": { "max_points": "30", "X": "0.85" },
                    "offers": ["10", "12.5", "20", "7.25"] }),
        ),
        // 1/3 does not end: a rounded value and its fraction; the tie is drawn with the seed.
        (
            vec![
                ("formula", "linear"),
                ("punteggio_massimo", "20"),
                ("offerte", "10 30 30"),
                ("seme_sorteggio", "7"),
            ],
            json!({ "formula": "linear", "parameters": { "max_points": "20" },
                    "offers": ["10", "30", "30"], "draw_seed": 7 }),
        ),
        // Without a seed the same tie shares its rank.
        (
            vec![
                ("formula", "linear"),
                ("punteggio_massimo", "20"),
                ("offerte", "10 30 30"),
            ],
            json!({ "formula": "linear", "parameters": { "max_points": "20" }, "offers": ["10", "30", "30"] }),
        ),
        // An irrational coefficient (the square root of 1/2), rounded as the engine rounds it.
        (
            vec![
                ("formula", "concave"),
                ("punteggio_massimo", "30"),
                ("alfa", "0,5"),
                ("offerte", "10;20;40"),
            ],
            json!({ "formula": "concave", "parameters": { "max_points": "30", "alpha": "0.5" },
                    "offers": ["10", "20", "40"] }),
        ),
        (
            vec![
                ("formula", "inverse_proportional"),
                ("punteggio_massimo", "70"),
                ("offerte", "150000,50\n120000\n130000"),
            ],
            json!({ "formula": "inverse_proportional", "parameters": { "max_points": "70" },
                    "offers": ["150000.50", "120000", "130000"] }),
        ),
    ];
    let mut tie_breaks = std::collections::BTreeSet::new();
    let mut rounded = 0;
    for (form, body) in cases {
        let expected = api.post("/api/v1/tools/economic-scores", &body).expect(200);
        let path = format!("/calcolatori/punteggi-economici?{}", form_query(&form));
        let page = ok_at(&app, &path);
        assert_eq!(h1(&page), "Punteggi economici");
        assert!(page.contains(&format!(
            "<tr id=\"passo-max_points\"><th scope=\"row\">Punteggio massimo</th><td>{}</td></tr>",
            comma(&expected["max_points"])
        )));
        match expected.get("Asoglia") {
            Some(a) => assert!(page.contains(&format!(
                "<tr id=\"passo-asoglia\"><th scope=\"row\">Asoglia: media dei ribassi</th><td class=\"text-break\">{}</td></tr>",
                comma(a)
            ))),
            None => assert!(!page.contains("passo-asoglia")),
        }
        for o in expected["offers"].as_array().expect("offers") {
            let id = o["id"].as_str().expect("id");
            let row = format!(
                "<tr id=\"offerta-{id}\"><th scope=\"row\">{id}</th><td>{}</td><td class=\"text-break\">{}</td><td class=\"text-break\">{}</td><td>{}</td></tr>",
                comma(&o["value"]),
                comma(&o["coefficient"]),
                comma(&o["points"]),
                comma(&o["points_rounded_3dp_half_up"]),
            );
            assert!(page.contains(&row), "{path}: {row} in {page}");
        }
        // The ranking in the engine's order, each line with its rank and how a tie was decided.
        let mut last = 0;
        for r in expected["ranking"].as_array().expect("ranking") {
            let id = r["id"].as_str().expect("id");
            let label = match r["tie_break"].as_str().expect("tie_break") {
                "none" => "nessuna parità",
                "draw" => "sorteggio con il seme indicato",
                "draw_required" => "parità da sorteggiare: posizione condivisa",
                other => panic!("unexpected tie break {other}"),
            };
            tie_breaks.insert(label);
            let line = format!(
                "<tr id=\"posizione-{id}\"><td>{}</td><th scope=\"row\">{id}</th><td>{label}</td></tr>",
                r["rank"]
            );
            let here = at(&page, &line);
            assert!(here > last, "{path}: ranking order");
            last = here;
        }
        let inexact = expected["inexact_fields"].as_array().expect("inexact fields");
        for key in inexact {
            let key = key.as_str().expect("key");
            let fraction = expected["fractions"][key].as_str().expect("its fraction");
            assert!(page.contains(&format!("<tr id=\"frazione-{key}\">")), "{key}");
            assert!(
                page.contains(&format!("<td class=\"text-break\">{fraction}</td>")),
                "{fraction}"
            );
        }
        rounded += inexact.len();
        if inexact.is_empty() {
            assert!(page.contains("id=\"valori-esatti\""));
        }
        // The form keeps what was typed, so the link reopens the same calculation.
        assert!(page.contains(&format!("name=\"punteggio_massimo\" value=\"{}\"", form[1].1)));
    }
    assert_eq!(
        tie_breaks.len(),
        3,
        "the cases cover every kind of line: {tie_breaks:?}"
    );
    assert!(rounded > 0, "the cases cover a rounded value");
}

#[test]
fn a_bad_economic_scores_request_is_a_message_on_the_field_the_engine_names() {
    let app = TestApp::start();
    let api = app.client();
    let linear =
        |offers: Vec<String>| json!({ "formula": "linear", "parameters": { "max_points": "30" }, "offers": offers });
    let too_many = format!(
        "formula=linear&punteggio_massimo=30&offerte={}",
        vec!["1"; 1001].join("+")
    );
    // The engine's refusals: the same message as the API's, on the field it names.
    for (form, body, code, error_id) in [
        (
            "formula=quadratica&punteggio_massimo=30&offerte=10",
            json!({ "formula": "quadratica", "parameters": { "max_points": "30" }, "offers": ["10"] }),
            "unknown_formula",
            "c-formula-errore",
        ),
        (
            "formula=bilinear&punteggio_massimo=30&offerte=10+20",
            json!({ "formula": "bilinear", "parameters": { "max_points": "30" }, "offers": ["10", "20"] }),
            "missing_parameter",
            "c-x-errore",
        ),
        (
            "formula=bilinear&punteggio_massimo=30&x=0%2C7&offerte=10+20",
            json!({ "formula": "bilinear", "parameters": { "max_points": "30", "X": "0.7" }, "offers": ["10", "20"] }),
            "invalid_parameter",
            "c-x-errore",
        ),
        (
            "formula=linear&punteggio_massimo=30&x=0%2C85&offerte=10+20",
            json!({ "formula": "linear", "parameters": { "max_points": "30", "X": "0.85" }, "offers": ["10", "20"] }),
            "unexpected_parameter",
            "c-x-errore",
        ),
        (
            "formula=concave&punteggio_massimo=30&alfa=1%2C5&offerte=10+20",
            json!({ "formula": "concave", "parameters": { "max_points": "30", "alpha": "1.5" }, "offers": ["10", "20"] }),
            "invalid_parameter",
            "c-alfa-errore",
        ),
        (
            "formula=concave&punteggio_massimo=30&alfa=0%2C1234&offerte=10+20",
            json!({ "formula": "concave", "parameters": { "max_points": "30", "alpha": "0.1234" }, "offers": ["10", "20"] }),
            "invalid_parameter",
            "c-alfa-errore",
        ),
        (
            "formula=linear&punteggio_massimo=0&offerte=10",
            json!({ "formula": "linear", "parameters": { "max_points": "0" }, "offers": ["10"] }),
            "invalid_parameter",
            "c-punteggio-errore",
        ),
        (
            "formula=linear&punteggio_massimo=30&offerte=",
            linear(vec![]),
            "empty_offers",
            "c-offerte-errore",
        ),
        (
            "formula=inverse_proportional&punteggio_massimo=30&offerte=100+0",
            json!({ "formula": "inverse_proportional", "parameters": { "max_points": "30" }, "offers": ["100", "0"] }),
            "price_out_of_range",
            "c-offerte-errore",
        ),
        (
            "formula=linear&punteggio_massimo=30&offerte=10%3B120",
            linear(vec!["10".into(), "120".into()]),
            "discount_out_of_range",
            "c-offerte-errore",
        ),
        (
            "formula=linear&punteggio_massimo=30&offerte=10%2C12345678901",
            linear(vec!["10.12345678901".into()]),
            "too_many_decimals",
            "c-offerte-errore",
        ),
        // One offer over the calculators' limit, refused as the API refuses it.
        (
            too_many.as_str(),
            linear(vec!["1".into(); 1001]),
            "too_many_offers",
            "c-offerte-errore",
        ),
    ] {
        let detail = api
            .post("/api/v1/tools/economic-scores", &body)
            .expect_problem(422, code)["detail"]
            .as_str()
            .expect("detail")
            .to_string();
        let (status, page) = page_of(&app, &format!("/calcolatori/punteggi-economici?{form}"), None);
        assert_eq!(status, 422, "{form}: {page}");
        assert_eq!(h1(&page), "Punteggi economici");
        let start = at(&page, &format!("id=\"{error_id}\">"));
        assert!(page[start..].contains(&html(&detail)), "{form}: {detail} in {page}");
        assert!(page.contains("aria-invalid=\"true\""), "{form}");
        assert!(!page.contains("id=\"risultato\""), "{form}: no result");
    }
    // An offer the engine names is named as the page names it.
    let (_, page) = page_of(
        &app,
        "/calcolatori/punteggi-economici?formula=linear&punteggio_massimo=30&offerte=10%3B120",
        None,
    );
    assert!(page.contains("(offerta O2)"));
    // What the page reads before the engine: the numbers, each on its own field.
    for (form, error_id, word) in [
        (
            "formula=linear&punteggio_massimo=trenta&offerte=10",
            "c-punteggio-errore",
            "Valore non valido",
        ),
        (
            "formula=linear&punteggio_massimo=&offerte=10",
            "c-punteggio-errore",
            "Inserire il punteggio",
        ),
        (
            "formula=linear&punteggio_massimo=30&offerte=10+dieci",
            "c-offerte-errore",
            "«dieci» (offerta O2)",
        ),
        (
            "formula=linear&punteggio_massimo=30&offerte=150.000%2C00",
            "c-offerte-errore",
            "migliaia",
        ),
        (
            "formula=linear&punteggio_massimo=30&offerte=10&seme_sorteggio=-1",
            "c-seme-errore",
            "Seme non valido",
        ),
    ] {
        let (status, page) = page_of(&app, &format!("/calcolatori/punteggi-economici?{form}"), None);
        assert_eq!(status, 422, "{form}: {page}");
        let start = at(&page, &format!("id=\"{error_id}\">"));
        assert!(page[start..].contains(word), "{form}: {page}");
        // What was typed stays in the form.
        assert!(page.contains("name=\"formula\""));
    }
    // The largest accepted request answers on both faces.
    api.post("/api/v1/tools/economic-scores", &linear(vec!["1".into(); 1000]))
        .expect(200);
    ok_at(
        &app,
        &format!(
            "/calcolatori/punteggi-economici?formula=linear&punteggio_massimo=30&offerte={}",
            vec!["1"; 1000].join("+")
        ),
    );
}

/// A signed checkpoint as the log serves it (several lines, a final newline).
const BEACON: &str =
    "centrale.test/log\n42\nq8yJ3/+hT0kpZ2xGv1bL0eW3a9Q4n6m5r7s8t9u0v1w=\n\n— centrale.test/log Zm9vYmFyYmF6cXV4+/0=\n";

#[test]
fn the_draw_page_gives_the_seed_and_the_order_the_api_gives() {
    // The production body limit, so the API takes the 10,001 candidates and refuses them itself.
    let app = TestApp::start_with(|s| s.max_json_bytes = 262_144);
    let api = app.client();
    let subject = "6f1c2b7e-3d4a-4b5c-8d9e-0a1b2c3d4e5f";
    for purpose in ["tie-break", "invitation-rotation", "anomaly-method"] {
        let expected = api
            .post(
                "/api/v1/tools/draw",
                &json!({ "purpose": purpose, "subject": subject, "beacon": BEACON,
                         "candidates": ["O3", "O1", "O2", "O5", "O4"] }),
            )
            .expect(200);
        // As a browser sends it: the pasted checkpoint's lines end in CRLF, the candidates in
        // another order, one twice.
        let path = format!(
            "/calcolatori/sorteggio?{}",
            form_query(&[
                ("finalita", purpose),
                ("soggetto", subject),
                ("checkpoint", &BEACON.replace('\n', "\r\n")),
                ("candidati", "O2\r\nO1\r\nO3; O5 O4\r\nO1"),
            ])
        );
        let page = ok_at(&app, &path);
        assert_eq!(h1(&page), "Sorteggio pubblico");
        assert!(page.contains(&format!(
            "<code>{}</code>",
            expected["algorithm"].as_str().expect("algorithm")
        )));
        assert!(page.contains(&format!(
            "<code id=\"testo-seme\">{}</code>",
            html(expected["seed_input"].as_str().expect("seed input"))
        )));
        assert!(page.contains(&format!(
            "<code class=\"text-break\" id=\"seme\">{}</code>",
            expected["seed"].as_str().expect("seed")
        )));
        assert!(page.contains(&format!(
            "<td id=\"estratto\">{}</td>",
            expected["drawn"].as_str().expect("drawn")
        )));
        let list = &page[at(&page, "<ol id=\"ordine-estrazione\"")..];
        let list = &list[..at(list, "</ol>")];
        let shown: Vec<&str> = list
            .split("<li>")
            .skip(1)
            .map(|item| &item[..item.find("</li>").expect("item end")])
            .collect();
        let order: Vec<&str> = expected["order"]
            .as_array()
            .expect("order")
            .iter()
            .map(|c| c.as_str().expect("candidate"))
            .collect();
        assert_eq!(shown, order, "{purpose}");
    }

    // The engine's refusals, with the API's message, on the field it names.
    // Short ids, blanks as `+`: the 10,001 of them stay within the longest URL the server reads
    // (64 kB, the `http` crate's limit).
    let candidates = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
    for (purpose, subject, many, code, error_id) in [
        (
            "scelta-del-rup",
            subject,
            2,
            "draw_purpose_unknown",
            "c-finalita-errore",
        ),
        ("tie-break", "", 2, "draw_subject_invalid", "c-soggetto-errore"),
        ("tie-break", "lotto\n1", 2, "draw_subject_invalid", "c-soggetto-errore"),
        (
            "tie-break",
            subject,
            10_001,
            "too_many_candidates",
            "c-candidati-errore",
        ),
    ] {
        let listed = candidates(many);
        let detail = api
            .post(
                "/api/v1/tools/draw",
                &json!({ "purpose": purpose, "subject": subject, "beacon": BEACON, "candidates": listed }),
            )
            .expect_problem(422, code)["detail"]
            .as_str()
            .expect("detail")
            .to_string();
        let form = format!(
            "{}&candidati={}",
            form_query(&[("finalita", purpose), ("soggetto", subject), ("checkpoint", BEACON)]),
            listed.join("+")
        );
        let (status, page) = page_of(&app, &format!("/calcolatori/sorteggio?{form}"), None);
        assert_eq!(status, 422, "{code}: {page}");
        assert_eq!(h1(&page), "Sorteggio pubblico");
        let start = at(&page, &format!("id=\"{error_id}\">"));
        assert!(page[start..].contains(&html(&detail)), "{code}: {detail}");
        assert!(page.contains("aria-invalid=\"true\""));
        assert!(!page.contains("id=\"risultato\""));
    }
    // No candidates is a draw with nobody drawn, as the API answers.
    let none = api
        .post(
            "/api/v1/tools/draw",
            &json!({ "purpose": "tie-break", "subject": subject, "beacon": BEACON, "candidates": [] }),
        )
        .expect(200);
    assert!(none["drawn"].is_null());
    let page = ok_at(
        &app,
        &format!(
            "/calcolatori/sorteggio?{}",
            form_query(&[("finalita", "tie-break"), ("soggetto", subject), ("checkpoint", BEACON)])
        ),
    );
    assert!(page.contains(&format!("id=\"seme\">{}</code>", none["seed"].as_str().expect("seed"))));
    assert!(page.contains("nessuno: nessun candidato"));
}
