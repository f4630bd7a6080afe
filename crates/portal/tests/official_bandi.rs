//! The RUP's tender from draft to publication in the portal (issue 13 point 2), over real HTTP
//! against a real server and database: the guided form, the legal checks with their articles
//! before publishing, "Pubblica", the clarifications (never naming the asker) and the
//! rettifiche with their diff. Every effect is checked through the API; each test plays the
//! one who should not get through too.

use journeys::serde_json::{json, Value};
use journeys::tender_world::{self, cig, id, official, works_tender_body, world, World, PASSWORD};
use journeys::web::{Page, WebClient};

const RUP: &str = "rup@comune.milano.it";

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn tenders_of(w: &World) -> Vec<Value> {
    w.rup
        .get(&format!("/api/v1/enti/{}/bandi", w.ente))
        .expect(200)
        .as_array()
        .expect("list")
        .clone()
}

/// The whole form of a lowest-price works tender, as a browser posts it.
fn works_form(w: &World, csrf: &str, cig_n: u64, deadline: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("_csrf", csrf),
        ("azione", "salva"),
        ("ente_id", &w.ente),
        ("oggetto", "Manutenzione straordinaria delle scuole"),
        ("cig", &cig(cig_n)),
        ("contract_type", "works"),
        ("procedure_type", "aperta"),
        ("conducted_by", "ente"),
        ("award_criterion", "minor_prezzo"),
        ("envelopes", "A"),
        ("envelopes", "C"),
        ("base_amount", "1.000.000,00"),
        ("safety_costs", "20000"),
        ("cpv_main", "45000000-7"),
        ("nuts", "ITC4C"),
        ("questions_deadline", "2026-05-15T12:00"),
        ("submission_deadline", deadline),
        ("opening_at", "2026-06-05T15:00"),
        ("custodians", &w.rup_id),
        ("custodians", &w.custode),
        ("custodian_threshold", "2"),
        ("anomaly_method", "A"),
        ("lotti[0].oggetto", ""),
        ("lotti[0].cig", ""),
        ("oepv.criteria[0].code", ""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    f.push(("oepv.economic_formula.kind".into(), "linear".into()));
    f
}

fn post(b: &WebClient, path: &str, fields: &[(String, String)]) -> Page {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_form(path, &refs)
}

fn with(fields: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != key).cloned().collect();
    out.push((key.into(), value.into()));
    out
}

fn tender_id_of(location: &str) -> String {
    let rest = location.strip_prefix("/ente/bandi/").expect("the tender's page");
    rest.split(['?', '/']).next().expect("id").to_string()
}

/// The whole path: the list, the form with its pickers, input refused next to its field with
/// nothing stored, a draft whose deadline is shorter than art. 71 allows shown with its
/// article and refused at "Pubblica", fixed in the edit form, published once even when
/// "Pubblica" is clicked twice, and readable in the public API.
#[test]
fn a_rup_drafts_a_tender_sees_the_failing_check_with_its_article_fixes_it_and_publishes_it_once() {
    let w = world();
    let b = web(&w, RUP);
    let list = b.get("/ente/bandi").expect(200);
    assert!(list.contains("href=\"/ente/bandi/nuovo\""), "{}", list.text);
    assert!(list.contains("id=\"nessun-bando\""));
    let form = b.get("/ente/bandi/nuovo").expect(200);
    assert!(form.contains("Custodi delle chiavi"));
    assert!(
        form.contains(&format!("value=\"{}\"", w.custode)),
        "the ente's officials are offered as custodians"
    );
    let csrf = form.csrf();
    let base = works_form(&w, &csrf, 7_100_001, "2026-05-20T12:00");

    // The pickers without JavaScript: search, then choose; the rest of the form stays as typed.
    let mut typed = with(&base, "cpv_main", "");
    typed = with(&typed, "azione", "cerca_cpv");
    typed.push(("cpv_q".into(), "45000000".into()));
    let found = post(&b, "/ente/bandi/nuovo", &typed).expect(200);
    assert!(found.contains("value=\"cpv_main|45000000-7\""), "{}", found.text);
    assert!(
        found.contains("Manutenzione straordinaria delle scuole"),
        "what was typed is kept"
    );
    let chosen = post(
        &b,
        "/ente/bandi/nuovo",
        &with(&with(&base, "azione", ""), "scegli", "cpv_main|45233000-9"),
    )
    .expect(200);
    assert!(
        chosen.contains("name=\"cpv_main\" value=\"45233000-9\""),
        "{}",
        chosen.text
    );
    let mut nuts = with(&base, "azione", "cerca_nuts");
    nuts.push(("nuts_q".into(), "Milano".into()));
    let places = post(&b, "/ente/bandi/nuovo", &nuts).expect(200);
    assert!(places.contains("value=\"nuts|ITC4C\""), "{}", places.text);
    let more = post(&b, "/ente/bandi/nuovo", &with(&base, "azione", "righe_lotti")).expect(200);
    assert!(more.contains("name=\"lotti[3].oggetto\""), "three more lot rows");
    assert!(tenders_of(&w).is_empty(), "searching and choosing store nothing");

    // Not an amount: refused next to its field, 422, nothing stored.
    let bad = post(&b, "/ente/bandi/nuovo", &with(&base, "base_amount", "un milione")).expect(422);
    assert!(bad.contains("id=\"f-base-amount-errore\""), "{}", bad.text);
    assert!(bad.contains("aria-describedby=\"f-base-amount-aiuto f-base-amount-errore\""));
    // The domain's refusal (an unknown CPV) next to its field, in Italian; nothing stored.
    let unknown = post(&b, "/ente/bandi/nuovo", &with(&base, "cpv_main", "12345678-0")).expect(422);
    assert!(unknown.contains("id=\"f-cpv-main-errore\""), "{}", unknown.text);
    assert!(tenders_of(&w).is_empty());

    // Saved with a deadline 16 days away: a draft, whose page says art. 71 blocks it.
    let saved = post(&b, "/ente/bandi/nuovo", &base).expect(303);
    let location = saved.location.clone().expect("location");
    assert!(location.ends_with("?esito=salvato"), "{location}");
    let bando = tender_id_of(&location);
    let stored = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(stored["state"], "draft");
    assert_eq!(stored["base_amount"], "1000000.00");
    assert_eq!(
        stored["submission_deadline"]["utc"], "2026-05-20T10:00:00Z",
        "Rome wall time stored in UTC"
    );
    assert_eq!(stored["custodian_threshold"], 2);
    let page = b.get(&location).expect(200);
    assert!(page.contains("Bozza salvata"));
    assert!(page.contains("id=\"violazioni\""), "{}", page.text);
    assert!(
        page.contains("<strong class=\"violazione-articolo\">art. 71 c.2</strong>"),
        "{}",
        page.text
    );
    assert!(!page.contains("id=\"pubblica\""), "no «Pubblica» while a check fails");
    let check = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/check"), &json!({}))
        .expect(200);
    assert_eq!(check["violations"][0]["code"], "deadline_too_short", "{check}");

    // Posted anyway: the domain refuses, the page shows the article, nothing changes.
    let csrf = page.csrf();
    let refused = b
        .post_form(&format!("/ente/bandi/{bando}/pubblica"), &[("_csrf", &csrf)])
        .expect(422);
    assert!(refused.contains("id=\"pubblicazione-rifiutata\""), "{}", refused.text);
    assert!(refused.contains("art. 71"));
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["state"],
        "draft"
    );
    w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(404);

    // Fixed in the edit form (which shows the draft as stored), then published.
    let edit = b.get(&format!("/ente/bandi/{bando}/modifica")).expect(200);
    assert!(
        edit.contains("value=\"2026-05-20T12:00\""),
        "deadlines shown in Rome time: {}",
        edit.text
    );
    assert!(edit.contains("value=\"1000000.00\""));
    let fixed = works_form(&w, &edit.csrf(), 7_100_001, "2026-06-05T12:00");
    let saved = post(&b, &format!("/ente/bandi/{bando}/modifica"), &fixed).expect(303);
    let page = b.get(saved.location.as_deref().expect("location")).expect(200);
    assert!(page.contains("id=\"controlli-superati\""), "{}", page.text);
    assert!(page.contains("id=\"pubblica\""));
    let first = b
        .post_form(&format!("/ente/bandi/{bando}/pubblica"), &[("_csrf", &csrf)])
        .expect(303);
    let second = b
        .post_form(&format!("/ente/bandi/{bando}/pubblica"), &[("_csrf", &csrf)])
        .expect(303);
    assert_eq!(
        first.location, second.location,
        "the double click gets the same outcome"
    );
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    assert_eq!(public["state"], "published");
    assert_eq!(public["version"], 1);
    let versions = w
        .app
        .client()
        .get(&format!("/api/v1/public/bandi/{bando}/rettifiche"))
        .expect(200);
    assert_eq!(versions.as_array().map(Vec::len), Some(1), "published once: {versions}");
    let page = b.get(first.location.as_deref().expect("location")).expect(200);
    assert!(page.contains("Bando pubblicato"));
    assert!(
        page.contains(&format!("href=\"/ente/bandi/{bando}/custodia\"")),
        "custody after publication"
    );
    assert!(page.contains(&format!("href=\"/ente/bandi/{bando}/chiarimenti\"")));
    assert!(
        !page.contains(&format!("href=\"/ente/bandi/{bando}/apertura\"")),
        "no opening before the deadline"
    );
    assert!(
        !page.contains(&format!("href=\"/ente/bandi/{bando}/commissione\"")),
        "no commission at lowest price"
    );
    let list = b.get("/ente/bandi").expect(200);
    assert!(list.contains("In corso: offerte aperte"), "{}", list.text);
    assert!(list.contains("05/06/2026 12:00"), "the deadline in Rome time");
}

/// An OEPV tender with three custodians (2 of 3) and criteria typed in repeatable rows: the
/// form has what the end-to-end journey needs, and the domain stores it as typed.
#[test]
fn an_oepv_tender_with_criteria_rows_and_three_custodians_two_of_three_is_made_from_the_form() {
    let w = world();
    let admin = w.app.admin();
    let third = official(&admin, "terzo@comune.milano.it", "auditor", &w.ente);
    let b = web(&w, RUP);
    let csrf = b.get("/ente/bandi/nuovo").expect(200).csrf();
    let mut f: Vec<(String, String)> = [
        ("_csrf", csrf.as_str()),
        ("ente_id", &w.ente),
        ("oggetto", "Servizio di pulizia degli edifici comunali"),
        ("cig", &cig(7_100_002)),
        ("contract_type", "services"),
        ("procedure_type", "aperta"),
        ("award_criterion", "oepv"),
        ("envelopes", "A"),
        ("envelopes", "B"),
        ("envelopes", "C"),
        ("base_amount", "250000,00"),
        ("safety_costs", "3000,00"),
        ("cpv_main", "90910000-9"),
        ("nuts", "ITC4C"),
        ("questions_deadline", "2026-05-25T12:00"),
        ("submission_deadline", "2026-06-05T12:00"),
        ("opening_at", "2026-06-05T15:00"),
        ("custodians", &w.rup_id),
        ("custodians", &w.custode),
        ("custodians", &third),
        ("custodian_threshold", "2"),
        ("oepv.criteria[0].code", "T1"),
        ("oepv.criteria[0].description", "Organizzazione del servizio"),
        ("oepv.criteria[0].weight", "50"),
        ("oepv.criteria[1].code", "T2"),
        ("oepv.criteria[1].description", "Prodotti ecologici"),
        ("oepv.criteria[1].weight", "20"),
        ("oepv.criteria[2].code", ""),
        ("oepv.economic_weight", "30"),
        ("oepv.economic_formula.kind", "linear"),
        ("oepv.technical_threshold", "20"),
        ("oepv.reparametrization", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let more = post(&b, "/ente/bandi/nuovo", &with(&f, "azione", "righe_criteri")).expect(200);
    assert!(
        more.contains("name=\"oepv.criteria[5].code\""),
        "three more criteria rows"
    );
    assert!(more.contains("value=\"Prodotti ecologici\""));
    // Weights that do not add up to 100: the domain's message next to the economic weight.
    let wrong = post(&b, "/ente/bandi/nuovo", &with(&f, "oepv.economic_weight", "20")).expect(422);
    assert!(wrong.contains("-errore\""), "{}", wrong.text);
    assert!(tenders_of(&w).is_empty());
    f.push(("azione".into(), "salva".into()));
    let saved = post(&b, "/ente/bandi/nuovo", &f).expect(303);
    let bando = tender_id_of(saved.location.as_deref().expect("location"));
    let stored = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(stored["award_criterion"], "oepv");
    assert_eq!(
        stored["oepv"]["criteria"].as_array().map(Vec::len),
        Some(2),
        "blank rows ignored"
    );
    assert_eq!(stored["oepv"]["economic_weight"], "30");
    assert_eq!(stored["custodians"].as_array().map(Vec::len), Some(3));
    assert_eq!(stored["custodian_threshold"], 2);
    assert_eq!(stored["envelopes"], json!(["A", "B", "C"]));
    let page = b.get(&format!("/ente/bandi/{bando}")).expect(200);
    assert!(page.contains("id=\"criteri-bando\""));
    let csrf = page.csrf();
    b.post_form(&format!("/ente/bandi/{bando}/pubblica"), &[("_csrf", &csrf)])
        .expect(303);
    assert_eq!(
        w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200)["state"],
        "published"
    );
}

fn draft_by_api(w: &World, cig_n: u64) -> String {
    id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori di asfaltatura", cig_n),
        )
        .expect(201))
}

/// The RUP of another ente, a supplier, the anonymous visitor, a forged or missing CSRF token:
/// none reads the draft's page or publishes it, and nothing changes.
#[test]
fn nobody_else_reads_or_publishes_the_draft_and_a_forged_form_does_nothing() {
    let w = world();
    let bando = draft_by_api(&w, 7_100_003);
    let admin = w.app.admin();
    let roma = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Comune di Roma", "codice_fiscale": "02438750586", "tipo": "comune",
                     "istat_code": "058091", "pec": "protocollo@pec.comune.roma.it" }),
        )
        .expect(201));
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    tender_world::supplier(&w.app, "gare@impresa.it");
    let publish = format!("/ente/bandi/{bando}/pubblica");
    let still_draft = || {
        assert_eq!(
            w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["state"],
            "draft"
        );
    };

    let anonymous = WebClient::new(&w.app.base_url);
    let to_login = anonymous.get(&format!("/ente/bandi/{bando}")).expect(303);
    assert!(to_login.location.as_deref().is_some_and(|l| l.starts_with("/accedi")));
    anonymous.get("/ente/bandi/nuovo").expect(303);
    anonymous.post_form(&publish, &[("_csrf", "x")]).expect(303);
    still_draft();

    let supplier = web(&w, "gare@impresa.it");
    supplier.get("/ente/bandi").expect(403);
    supplier.get(&format!("/ente/bandi/{bando}")).expect(403);
    let csrf = supplier.get("/fornitore").csrf();
    supplier.post_form(&publish, &[("_csrf", &csrf)]).expect(403);
    still_draft();

    let other = web(&w, "rup@comune.roma.it");
    let list = other.get("/ente/bandi").expect(200);
    assert!(
        !list.contains("Lavori di asfaltatura"),
        "another ente's tenders are not listed"
    );
    other.get(&format!("/ente/bandi/{bando}")).expect(403);
    other.get(&format!("/ente/bandi/{bando}/modifica")).expect(403);
    let csrf = list.csrf();
    other.post_form(&publish, &[("_csrf", &csrf)]).expect(403);
    let mut foreign = works_form(&w, &csrf, 7_100_004, "2026-06-05T12:00");
    foreign = with(&foreign, "oggetto", "Bozza altrui");
    post(&other, &format!("/ente/bandi/{bando}/modifica"), &foreign).expect(403);
    // Creating for an ente that is not one's own: refused by the domain, nothing stored.
    let refused = post(&other, "/ente/bandi/nuovo", &foreign);
    assert!(refused.status == 403 || refused.status == 422, "{}", refused.status);
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["oggetto"],
        "Lavori di asfaltatura"
    );
    still_draft();

    let rup = web(&w, RUP);
    rup.post_form(&publish, &[("_csrf", "forged")]).expect(403);
    rup.post_form(&publish, &[]).expect(403);
    let fields = works_form(&w, "forged", 7_100_005, "2026-06-05T12:00");
    post(&rup, "/ente/bandi/nuovo", &fields).expect(403);
    assert_eq!(tenders_of(&w).len(), 1, "the forged form created nothing");
    still_draft();
}

fn published(w: &World, cig_n: u64) -> String {
    let bando = draft_by_api(w, cig_n);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    bando
}

/// A supplier's question reaches the RUP without its author; the answer is published once
/// (double click included), and neither page nor source ever names who asked.
#[test]
fn the_rup_answers_a_clarification_and_the_asker_is_never_named() {
    let w = world();
    let bando = published(&w, 7_100_006);
    let asker_email = "quesiti@impresa-rossi.it";
    let asker_id = tender_world::supplier(&w.app, asker_email);
    let asker = w.login(asker_email);
    let q = id(&asker
        .post(
            &format!("/api/v1/bandi/{bando}/chiarimenti"),
            &json!({ "question": "Il sopralluogo è obbligatorio?" }),
        )
        .expect(201));
    let b = web(&w, RUP);
    let page = b.get(&format!("/ente/bandi/{bando}/chiarimenti")).expect(200);
    assert!(page.contains("Il sopralluogo è obbligatorio?"), "{}", page.text);
    for secret in [asker_email, asker_id.as_str(), "S.r.l."] {
        assert!(!page.contains(secret), "the asker ({secret}) appears in the page");
    }
    let action = format!("/ente/bandi/{bando}/chiarimenti/{q}/risposta");
    assert!(page.contains(&format!("action=\"{action}\"")));
    let csrf = page.csrf();
    b.post_form(&action, &[("_csrf", "forged"), ("risposta", "No")])
        .expect(403);
    let empty = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", "  ")])
        .expect(422);
    assert!(empty.contains(&format!("id=\"errore-quesito-{q}\"")), "{}", empty.text);
    let public = format!("/api/v1/public/bandi/{bando}/chiarimenti");
    assert_eq!(
        w.app.client().get(&public).expect(200).as_array().map(Vec::len),
        Some(0)
    );
    // Another ente's RUP and the asker himself cannot answer.
    let supplier = web(&w, asker_email);
    let s_csrf = supplier.get("/fornitore").csrf();
    supplier
        .post_form(&action, &[("_csrf", &s_csrf), ("risposta", "Sì")])
        .expect(403);

    let answer = "Sì, il sopralluogo è obbligatorio e si prenota con la PEC del Comune.";
    let first = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", answer)])
        .expect(303);
    let second = b
        .post_form(&action, &[("_csrf", &csrf), ("risposta", "Seconda risposta")])
        .expect(303);
    assert_eq!(first.location, second.location);
    let answers = w.app.client().get(&public).expect(200);
    assert_eq!(
        answers[0]["answer"], answer,
        "the first answer is the published one: {answers}"
    );
    assert_eq!(answers.as_array().map(Vec::len), Some(1));
    let after = b.get(first.location.as_deref().expect("location")).expect(200);
    assert!(after.contains("Risposta pubblicata"));
    assert!(after.contains(answer));
    for secret in [asker_email, asker_id.as_str()] {
        assert!(!after.contains(secret), "the asker ({secret}) appears after the answer");
    }
}

/// A rettifica of the deadline: published with its reason, shown old → new in Rome time with
/// Italian labels, once even on a double click; a rettifica without a reason, or one that
/// shortens the deadline, is refused next to its field and changes nothing.
#[test]
fn a_rettifica_is_published_once_and_shows_its_diff_field_by_field() {
    let w = world();
    let bando = published(&w, 7_100_007);
    let b = web(&w, RUP);
    let path = format!("/ente/bandi/{bando}/rettifiche");
    let page = b.get(&path).expect(200);
    assert!(page.contains("Versione 1 · Pubblicazione"), "{}", page.text);
    let csrf = page.csrf();
    let no_reason = b
        .post_form(
            &path,
            &[
                ("_csrf", &csrf),
                ("reason", " "),
                ("submission_deadline", "2026-06-12T12:00"),
            ],
        )
        .expect(422);
    assert!(
        no_reason.contains("id=\"rettifica-reason-errore\""),
        "{}",
        no_reason.text
    );
    let shorter = b
        .post_form(
            &path,
            &[
                ("_csrf", &csrf),
                ("reason", "Anticipo"),
                ("submission_deadline", "2026-06-01T12:00"),
            ],
        )
        .expect(422);
    assert!(
        shorter.contains("id=\"rettifica-submission_deadline-errore\""),
        "{}",
        shorter.text
    );
    assert!(shorter.contains("art. 92"));
    let versions = format!("/api/v1/public/bandi/{bando}/rettifiche");
    assert_eq!(
        w.app.client().get(&versions).expect(200).as_array().map(Vec::len),
        Some(1)
    );
    let supplier_email = "lettore@impresa.it";
    tender_world::supplier(&w.app, supplier_email);
    let supplier = web(&w, supplier_email);
    let s_csrf = supplier.get("/fornitore").csrf();
    supplier
        .post_form(
            &path,
            &[
                ("_csrf", &s_csrf),
                ("reason", "x"),
                ("submission_deadline", "2026-06-12T12:00"),
            ],
        )
        .expect(403);
    b.post_form(
        &path,
        &[
            ("_csrf", "forged"),
            ("reason", "x"),
            ("submission_deadline", "2026-06-12T12:00"),
        ],
    )
    .expect(403);

    let form = [
        ("_csrf", csrf.as_str()),
        ("reason", "Proroga per la complessità del capitolato"),
        ("submission_deadline", "2026-06-12T12:00"),
        ("opening_at", "2026-06-12T15:00"),
    ];
    let first = b.post_form(&path, &form).expect(303);
    let second = b.post_form(&path, &form).expect(303);
    assert_eq!(first.location, second.location, "the double click: same outcome");
    let list = w.app.client().get(&versions).expect(200);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "one rettifica: {list}");
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["submission_deadline"]["utc"],
        "2026-06-12T10:00:00Z"
    );
    let after = b.get(first.location.as_deref().expect("location")).expect(200);
    assert!(after.contains("Versione 2 · Rettifica"), "{}", after.text);
    assert!(after.contains("Proroga per la complessità del capitolato"));
    assert!(after.contains("<th scope=\"row\">Termine per le offerte</th><td>05/06/2026 12:00 (ora italiana)</td><td>12/06/2026 12:00 (ora italiana)</td>"), "{}", after.text);
    assert!(after.contains("<th scope=\"row\">Apertura delle buste</th><td>05/06/2026 15:00 (ora italiana)</td><td>12/06/2026 15:00 (ora italiana)</td>"));
}

/// A multipart form as a browser sends a file input, on `b`'s session.
fn post_document(w: &World, b: &WebClient, path: &str, fields: &[(&str, &str)], file: (&str, &[u8])) -> (u16, String) {
    let boundary = "----centraleBandoBoundary3f9a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/pdf\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let session = b.cookie("centrale_sessione").unwrap_or_default();
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let sent = agent
        .post(&format!("{}{path}", w.app.base_url))
        .set("Cookie", &format!("centrale_sessione={session}"))
        .set("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
        .send_bytes(&body);
    match sent {
        Ok(r) => (r.status(), r.header("location").unwrap_or_default().to_string()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("transport error: {e}"),
    }
}

/// The draft's documents: uploaded from the tender's page with their SHA-256; without the
/// session's token nothing is stored; after publication a document without a reason (it
/// would be a rettifica) is refused next to the form.
#[test]
fn the_rup_uploads_the_disciplinare_and_a_late_document_needs_its_reason() {
    let w = world();
    let bando = draft_by_api(&w, 7_100_008);
    let b = web(&w, RUP);
    let page = b.get(&format!("/ente/bandi/{bando}")).expect(200);
    assert!(page.contains("enctype=\"multipart/form-data\""));
    let csrf = page.csrf();
    let path = format!("/ente/bandi/{bando}/documenti");
    let bytes = b"%PDF-1.4 disciplinare di gara";
    let (status, _) = post_document(
        &w,
        &b,
        &path,
        &[("_csrf", "forged"), ("kind", "disciplinare")],
        ("disciplinare.pdf", bytes),
    );
    assert_eq!(status, 403);
    let docs = || w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["documenti"].clone();
    assert_eq!(docs().as_array().map(Vec::len), Some(0));
    let (status, location) = post_document(
        &w,
        &b,
        &path,
        &[("_csrf", &csrf), ("kind", "disciplinare")],
        ("disciplinare.pdf", bytes),
    );
    assert_eq!(status, 303, "{location}");
    assert!(location.ends_with("?esito=documento"));
    let stored = docs();
    assert_eq!(stored[0]["filename"], "disciplinare.pdf");
    let sha = stored[0]["sha256"].as_str().expect("sha256").to_string();
    let after = b.get(&location).expect(200);
    assert!(after.contains(&sha), "the page shows the SHA-256");

    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    let (status, text) = post_document(
        &w,
        &b,
        &path,
        &[("_csrf", &csrf), ("kind", "allegato")],
        ("allegato.pdf", b"%PDF-1.4 allegato"),
    );
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("id=\"errore-documento\""), "{text}");
    assert_eq!(docs().as_array().map(Vec::len), Some(1), "nothing stored");
}
