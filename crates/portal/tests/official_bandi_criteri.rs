//! The draft form's OEPV criteria of every kind and its picker of invitees (issue 13 point 2),
//! over real HTTP against a real server and database. The form is posted back as a browser
//! would post it: every field the page carries (read from its HTML) plus the button pressed,
//! so what the page shows is what the next request sends. Effects are read through the API.

use journeys::serde_json::{json, Value};
use journeys::tender_world::{cig, pending_supplier, supplier, world, World, PASSWORD};
use journeys::web::{Page, WebClient};

const RUP: &str = "rup@comune.milano.it";
const NEW: &str = "/ente/bandi/nuovo";

type Fields = Vec<(String, String)>;
/// Fields changed in a good form, to break one rule.
type Changes<'a> = &'a [(&'a str, &'a str)];

fn web(w: &World) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(RUP, PASSWORD);
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

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + end]))
}

/// What a browser posts from the draft form of `page` (no button): text, hidden and search
/// inputs, checked boxes, selected options, textareas.
fn form_fields(page: &Page) -> Fields {
    let start = page.text.find("id=\"modulo-bando\"").expect("the draft form");
    let html = &page.text[start..];
    let html = &html[..html.find("</form>").expect("end of the form")];
    let mut out = Vec::new();
    let mut select: Option<String> = None;
    for chunk in html.split('<').skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        if let Some(rest) = tag.strip_prefix("input") {
            let kind = attr(rest, "type").unwrap_or_default();
            let (Some(name), value) = (attr(rest, "name"), attr(rest, "value").unwrap_or_default()) else {
                continue;
            };
            if kind == "checkbox" && !rest.contains(" checked") {
                continue;
            }
            out.push((name, value));
        } else if let Some(rest) = tag.strip_prefix("select") {
            select = attr(rest, "name");
        } else if let Some(rest) = tag.strip_prefix("option") {
            if rest.contains(" selected") {
                if let Some(s) = &select {
                    out.push((s.clone(), attr(rest, "value").unwrap_or_default()));
                }
            }
        } else if let Some(rest) = tag.strip_prefix("textarea") {
            let body = &chunk[chunk.find('>').map_or(chunk.len(), |i| i + 1)..];
            if let Some(name) = attr(rest, "name") {
                out.push((name, unescape(body)));
            }
        }
    }
    out
}

fn set(fields: &Fields, key: &str, value: &str) -> Fields {
    let mut out: Fields = fields.iter().filter(|(k, _)| k != key).cloned().collect();
    out.push((key.into(), value.into()));
    out
}

fn post(b: &WebClient, path: &str, fields: &[(String, String)]) -> Page {
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_form(path, &refs)
}

/// The page's form posted back with one button pressed (`name=value`).
fn press(b: &WebClient, path: &str, page: &Page, button: (&str, &str)) -> Page {
    let mut f = form_fields(page);
    f.push((button.0.into(), button.1.into()));
    post(b, path, &f)
}

fn tender_id_of(location: &str) -> String {
    let rest = location.strip_prefix("/ente/bandi/").expect("the tender's page");
    rest.split(['?', '/']).next().expect("id").to_string()
}

/// An OEPV services tender without its criteria.
fn oepv_form(w: &World, csrf: &str, cig_n: u64) -> Fields {
    [
        ("_csrf", csrf),
        ("ente_id", w.ente.as_str()),
        ("oggetto", "Servizio di manutenzione del verde"),
        ("cig", &cig(cig_n)),
        ("contract_type", "services"),
        ("procedure_type", "aperta"),
        ("conducted_by", "ente"),
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
        ("custodians", w.rup_id.as_str()),
        ("custodians", w.custode.as_str()),
        ("custodian_threshold", "2"),
        ("oepv.economic_weight", "30"),
        ("oepv.economic_formula.kind", "inverse"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// T1 (30) of two sub-criteria, a discretionary one and a quantitative one; T2 quantitative
/// (25); T3 tabular (15) by options.
fn all_kinds(mut f: Fields) -> Fields {
    for (k, v) in [
        ("oepv.criteria[0].code", "T1"),
        ("oepv.criteria[0].description", "Organizzazione del servizio"),
        ("oepv.criteria[0].weight", "30"),
        ("oepv.criteria[0].kind", "discretionary"),
        ("oepv.criteria[0].sub_criteria[0].code", "a"),
        ("oepv.criteria[0].sub_criteria[0].description", "Piano di lavoro"),
        ("oepv.criteria[0].sub_criteria[0].weight", "20"),
        ("oepv.criteria[0].sub_criteria[0].kind", "discretionary"),
        ("oepv.criteria[0].sub_criteria[1].code", "b"),
        (
            "oepv.criteria[0].sub_criteria[1].description",
            "Tempo di intervento in ore",
        ),
        ("oepv.criteria[0].sub_criteria[1].weight", "10"),
        ("oepv.criteria[0].sub_criteria[1].kind", "quantitative"),
        ("oepv.criteria[0].sub_criteria[1].quantitative.better", "lower"),
        ("oepv.criteria[0].sub_criteria[1].quantitative.min", "2"),
        ("oepv.criteria[0].sub_criteria[1].quantitative.max", "48"),
        ("oepv.criteria[1].code", "T2"),
        ("oepv.criteria[1].description", "Mezzi elettrici impiegati"),
        ("oepv.criteria[1].weight", "25"),
        ("oepv.criteria[1].kind", "quantitative"),
        ("oepv.criteria[1].quantitative.better", "higher"),
        ("oepv.criteria[1].quantitative.min", "0"),
        ("oepv.criteria[1].quantitative.max", "100"),
        ("oepv.criteria[2].code", "T3"),
        ("oepv.criteria[2].description", "Certificazione ambientale"),
        ("oepv.criteria[2].weight", "15"),
        ("oepv.criteria[2].kind", "tabular"),
        ("oepv.criteria[2].table[0].option", "ISO 14001"),
        ("oepv.criteria[2].table[0].coefficient", "1"),
        ("oepv.criteria[2].table[1].option", "EMAS"),
        ("oepv.criteria[2].table[1].coefficient", "0,5"),
    ] {
        f.push((k.into(), v.into()));
    }
    f
}

fn expected_criteria() -> Value {
    json!([
        { "code": "T1", "description": "Organizzazione del servizio", "weight": "30", "kind": "discretionary",
          "sub_criteria": [
            { "code": "a", "description": "Piano di lavoro", "weight": "20", "kind": "discretionary", "sub_criteria": [] },
            { "code": "b", "description": "Tempo di intervento in ore", "weight": "10", "kind": "quantitative",
              "quantitative": { "better": "lower", "min": "2", "max": "48" }, "sub_criteria": [] }
          ] },
        { "code": "T2", "description": "Mezzi elettrici impiegati", "weight": "25", "kind": "quantitative",
          "quantitative": { "better": "higher", "min": "0", "max": "100" }, "sub_criteria": [] },
        { "code": "T3", "description": "Certificazione ambientale", "weight": "15", "kind": "tabular",
          "table": [ { "option": "ISO 14001", "coefficient": "1" }, { "option": "EMAS", "coefficient": "0.5" } ],
          "sub_criteria": [] }
    ])
}

/// The RUP builds the criteria with the form's buttons (the kind's fields appear when the kind
/// is chosen, table rows and sub-criteria are added and removed by reposting), saves, and the
/// API has exactly the kinds, rules, rows and weights typed; the edit form posts them back
/// unchanged; the tender's page names each kind's rule.
#[test]
fn every_kind_of_criterion_with_sub_criteria_is_saved_from_the_form_and_round_trips_through_the_edit() {
    let w = world();
    let b = web(&w);
    let csrf = b.get(NEW).expect(200).csrf();
    let mut f = oepv_form(&w, &csrf, 7_200_001);
    for (k, v) in [
        ("oepv.criteria[0].code", "T2"),
        ("oepv.criteria[0].kind", "quantitative"),
        ("oepv.criteria[1].code", "T3"),
        ("oepv.criteria[1].kind", "tabular"),
        ("oepv.criteria[2].code", "T4"),
        ("oepv.criteria[2].kind", "discretionary"),
    ] {
        f.push((k.into(), v.into()));
    }
    // Choosing the kinds shows the fields each needs, and only those.
    f.push(("azione".into(), "tipo".into()));
    let page = post(&b, NEW, &f).expect(200);
    assert!(
        page.contains("name=\"oepv.criteria[0].quantitative.min\""),
        "{}",
        page.text
    );
    assert!(page.contains("name=\"oepv.criteria[0].quantitative.better\""));
    assert!(!page.contains("name=\"oepv.criteria[0].table[0].option\""));
    assert!(
        page.contains("name=\"oepv.criteria[1].table[1].coefficient\""),
        "two rows to start"
    );
    assert!(!page.contains("name=\"oepv.criteria[1].quantitative.min\""));
    assert!(!page.contains("name=\"oepv.criteria[2].quantitative.min\""));
    assert!(!page.contains("name=\"oepv.criteria[2].table[0].option\""));
    // More table rows; a row removed; sub-criteria added under a criterion, one removed.
    let more = press(&b, NEW, &page, ("azione", "righe_tabella|oepv.criteria[1]"));
    let more = more.expect(200);
    assert!(
        more.contains("name=\"oepv.criteria[1].table[3].option\""),
        "{}",
        more.text
    );
    let mut typed = set(&form_fields(&more), "oepv.criteria[1].table[0].option", "ISO 14001");
    typed = set(&typed, "oepv.criteria[1].table[1].option", "Da togliere");
    typed = set(&typed, "oepv.criteria[1].table[2].option", "EMAS");
    typed.push(("azione".into(), "rimuovi|oepv.criteria[1].table[1]".into()));
    let fewer = post(&b, NEW, &typed).expect(200);
    assert!(!fewer.contains("Da togliere"), "the row is gone");
    assert!(
        fewer.contains("name=\"oepv.criteria[1].table[1].option\" value=\"EMAS\""),
        "{}",
        fewer.text
    );
    let subs = press(&b, NEW, &fewer, ("azione", "sub_criteri|oepv.criteria[2]")).expect(200);
    assert!(
        subs.contains("name=\"oepv.criteria[2].sub_criteria[1].code\""),
        "{}",
        subs.text
    );
    let mut typed = set(&form_fields(&subs), "oepv.criteria[2].sub_criteria[0].code", "x");
    typed.push(("azione".into(), "rimuovi|oepv.criteria[2].sub_criteria[0]".into()));
    let gone = post(&b, NEW, &typed).expect(200);
    assert!(!gone.contains("name=\"oepv.criteria[2].sub_criteria[0].code\" value=\"x\""));
    let removed = press(&b, NEW, &gone, ("azione", "rimuovi|oepv.criteria[2]")).expect(200);
    assert!(!removed.contains("value=\"T4\""), "the criterion is gone");
    assert!(tenders_of(&w).is_empty(), "the buttons store nothing");

    // The whole scheme typed and saved.
    let saved = post(
        &b,
        NEW,
        &set(&all_kinds(oepv_form(&w, &csrf, 7_200_001)), "azione", "salva"),
    )
    .expect(303);
    let bando = tender_id_of(saved.location.as_deref().expect("location"));
    let stored = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(stored["oepv"]["criteria"], expected_criteria(), "{}", stored["oepv"]);
    assert_eq!(stored["oepv"]["economic_weight"], "30");
    assert_eq!(stored["oepv"]["economic_formula"]["kind"], "inverse");

    // The edit form shows every kind as stored, and posting it back changes nothing of them.
    let edit_path = format!("/ente/bandi/{bando}/modifica");
    let edit = b.get(&edit_path).expect(200);
    assert!(
        edit.contains("name=\"oepv.criteria[0].sub_criteria[1].quantitative.max\" value=\"48\""),
        "{}",
        edit.text
    );
    assert!(edit.contains("name=\"oepv.criteria[2].table[1].coefficient\" value=\"0.5\""));
    let fields = set(
        &form_fields(&edit),
        "oggetto",
        "Servizio di manutenzione del verde pubblico",
    );
    let again = post(&b, &edit_path, &set(&fields, "azione", "salva")).expect(303);
    assert_eq!(tender_id_of(again.location.as_deref().expect("location")), bando);
    let after = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(
        after["oggetto"], "Servizio di manutenzione del verde pubblico",
        "the edit was saved"
    );
    assert_eq!(after["oepv"], stored["oepv"], "nothing of the criteria lost");

    let page = b.get(&format!("/ente/bandi/{bando}")).expect(200);
    assert!(page.contains("T1 › b"), "{}", page.text);
    assert!(page.contains("migliore il valore più basso tra 2 e 48"));
    assert!(page.contains("ISO 14001 → 1; EMAS → 0.5"));
}

/// Each inconsistency of the scheme gets the domain's message (with its article where the
/// Code has one) next to the field it is about, 422, and nothing is stored or changed.
#[test]
fn an_inconsistent_scheme_shows_the_domains_message_next_to_its_field_and_changes_nothing() {
    let w = world();
    let b = web(&w);
    let csrf = b.get(NEW).expect(200).csrf();
    let good = set(&all_kinds(oepv_form(&w, &csrf, 7_200_002)), "azione", "salva");
    let cases: [(Changes, &str, &str); 5] = [
        (
            &[("oepv.criteria[0].sub_criteria[0].weight", "15")],
            "f-oepv-criteria-0--code-errore",
            "art. 108 c.7–8: i sub-criteri di T1 sommano 25, non 30",
        ),
        (
            &[("oepv.economic_weight", "20")],
            "-errore",
            "art. 108 c.8: i pesi tecnici ed economico devono sommare 100 punti, sommano 90",
        ),
        (
            &[
                ("oepv.criteria[2].table[0].option", ""),
                ("oepv.criteria[2].table[0].coefficient", ""),
                ("oepv.criteria[2].table[1].option", ""),
                ("oepv.criteria[2].table[1].coefficient", ""),
            ],
            "f-oepv-criteria-2--table-0--option-errore",
            "Un criterio tabellare ha almeno una riga",
        ),
        (
            &[("oepv.criteria[1].quantitative.min", "100")],
            "f-oepv-criteria-1--quantitative-better-errore",
            "L&#39;intervallo della formula richiede min &#60; max",
        ),
        (
            &[
                ("oepv.criteria[2].table[0].option", ""),
                ("oepv.criteria[2].table[0].from", "0"),
                ("oepv.criteria[2].table[0].to", "10"),
                ("oepv.criteria[2].table[1].option", ""),
                ("oepv.criteria[2].table[1].from", "5"),
            ],
            "f-oepv-criteria-2--table-1--option-errore",
            "Gli intervalli della tabella non si sovrappongono",
        ),
    ];
    for (changes, id, message) in cases {
        let mut f = good.clone();
        for (k, v) in changes {
            f = set(&f, k, v);
        }
        let page = post(&b, NEW, &f).expect(422);
        assert!(
            page.contains(&format!("{id}\">{message}")) || (id == "-errore" && page.contains(message)),
            "{id} {message}: {}",
            page.text
        );
        assert!(tenders_of(&w).is_empty(), "nothing stored: {changes:?}");
    }
    // The table with no rows comes back with its rows to fill.
    let mut f = good.clone();
    for k in [
        "oepv.criteria[2].table[0].option",
        "oepv.criteria[2].table[0].coefficient",
        "oepv.criteria[2].table[1].option",
        "oepv.criteria[2].table[1].coefficient",
    ] {
        f = set(&f, k, "");
    }
    let page = post(&b, NEW, &f).expect(422);
    assert!(page.contains("name=\"oepv.criteria[2].table[0].option\""));

    // An existing draft edited into an inconsistent one stays as it was.
    let saved = post(&b, NEW, &good).expect(303);
    let bando = tender_id_of(saved.location.as_deref().expect("location"));
    let before = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    let edit_path = format!("/ente/bandi/{bando}/modifica");
    let edit = b.get(&edit_path).expect(200);
    let mut f = set(&form_fields(&edit), "oepv.criteria[0].sub_criteria[1].weight", "11");
    f = set(&f, "oggetto", "Cambiato");
    let refused = post(&b, &edit_path, &set(&f, "azione", "salva")).expect(422);
    assert!(refused.contains("sommano 31, non 30"), "{}", refused.text);
    assert_eq!(w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200), before);

    // A forged token: 403, nothing changed, whatever the button.
    for button in ["salva", "sub_criteri|oepv.criteria[0]"] {
        let forged = set(&set(&f, "_csrf", "forged"), "azione", button);
        post(
            &b,
            &edit_path,
            &set(&forged, "oepv.criteria[0].sub_criteria[1].weight", "10"),
        )
        .expect(403);
    }
    assert_eq!(w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200), before);
}

/// A negotiated procedure for 180,000 EUR of works: art. 50 c.1 lett. c wants five invitees.
fn negotiated_form(w: &World, csrf: &str) -> Fields {
    [
        ("_csrf", csrf),
        ("ente_id", w.ente.as_str()),
        ("oggetto", "Manutenzione del verde scolastico"),
        ("cig", &cig(7_200_003)),
        ("contract_type", "works"),
        ("procedure_type", "negoziata_senza_bando"),
        ("conducted_by", "ente"),
        ("award_criterion", "minor_prezzo"),
        ("envelopes", "A"),
        ("envelopes", "C"),
        ("base_amount", "180000,00"),
        ("safety_costs", "5000,00"),
        ("cpv_main", "45000000-7"),
        ("nuts", "ITC4C"),
        ("questions_deadline", "2026-05-25T12:00"),
        ("submission_deadline", "2026-06-05T12:00"),
        ("opening_at", "2026-06-05T15:00"),
        ("custodians", w.rup_id.as_str()),
        ("custodians", w.custode.as_str()),
        ("custodian_threshold", "2"),
        ("anomaly_method", "A"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The albo's entry of a supplier account: (ragione sociale, partita IVA).
fn entry(w: &World, account: &str) -> (String, String) {
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/registry/operatori?limit=200&cursor={c}"),
            None => "/api/v1/registry/operatori?limit=200".to_string(),
        };
        let page = w.rup.get(&path).expect(200);
        for op in page["items"].as_array().expect("items") {
            if op["owner_user_id"] == account {
                return (
                    op["ragione_sociale"].as_str().expect("name").to_string(),
                    op["partita_iva"].as_str().expect("piva").to_string(),
                );
            }
        }
        cursor = Some(
            page["next_cursor"]
                .as_str()
                .expect("the account is in the albo")
                .to_string(),
        );
    }
}

fn search(b: &WebClient, page: &Page, q: &str) -> Page {
    let f = set(&set(&form_fields(page), "invitees_q", q), "azione", "cerca_invitati");
    post(b, NEW, &f).expect(200)
}

/// The RUP finds suppliers of the albo by partita IVA and by name, adds and removes them; a
/// supplier waiting for qualification is never offered; the procedure published from the form
/// invites exactly those chosen (read through the API); a forged token changes nothing.
#[test]
fn the_invitees_picker_offers_only_qualified_suppliers_and_the_published_procedure_invites_exactly_those_chosen() {
    let w = world();
    let accounts: Vec<String> = (0..6)
        .map(|i| supplier(&w.app, &format!("invitata{i}@imprese.it")))
        .collect();
    let (waiting, _) = pending_supplier(&w.app, "in-attesa@imprese.it", true);
    let names: Vec<(String, String)> = accounts.iter().map(|a| entry(&w, a)).collect();
    let (waiting_name, waiting_piva) = entry(&w, &waiting);
    let b = web(&w);
    let csrf = b.get(NEW).expect(200).csrf();
    let mut start = negotiated_form(&w, &csrf);
    start.push(("azione".into(), "tipo".into()));
    let mut page = post(&b, NEW, &start).expect(200);
    assert!(page.contains("Nessun operatore invitato."));

    // By partita IVA: that supplier only, with "Aggiungi".
    let found = search(&b, &page, &names[0].1);
    assert!(
        found.contains(&format!("value=\"invitee|{}\"", accounts[0])),
        "{}",
        found.text
    );
    assert!(found.contains(&format!("{} · P.IVA {}", names[0].0, names[0].1)));
    for other in &accounts[1..] {
        assert!(!found.contains(&format!("invitee|{other}")));
    }
    page = press(&b, NEW, &found, ("scegli", &format!("invitee|{}", accounts[0]))).expect(200);
    assert!(
        page.contains(&format!("name=\"invitees\" value=\"{}\"", accounts[0])),
        "{}",
        page.text
    );
    assert!(page.contains(&format!("{} · P.IVA {}", names[0].0, names[0].1)));
    // By name, whatever the case; the one already chosen is not offered again.
    let found = search(&b, &page, &names[1].0.to_uppercase());
    assert!(
        found.contains(&format!("value=\"invitee|{}\"", accounts[1])),
        "{}",
        found.text
    );
    assert!(!found.contains(&format!("value=\"invitee|{}\"", accounts[0])));
    page = press(&b, NEW, &found, ("scegli", &format!("invitee|{}", accounts[1]))).expect(200);
    // The supplier waiting for qualification is not offered, by partita IVA or by name.
    for q in [&waiting_piva, &waiting_name] {
        let none = search(&b, &page, q);
        assert!(!none.contains(&format!("invitee|{waiting}")), "{}", none.text);
    }
    assert!(search(&b, &page, &waiting_piva).contains("Nessun operatore qualificato"));
    // LIKE's wildcards are literal: "%" is nobody's name.
    assert!(search(&b, &page, "%").contains("Nessun operatore qualificato"));
    // The other four added, one removed again.
    for a in &accounts[2..] {
        let found = search(&b, &page, &entry(&w, a).1);
        page = press(&b, NEW, &found, ("scegli", &format!("invitee|{a}"))).expect(200);
    }
    assert!(page.contains(&format!("name=\"invitees\" value=\"{}\"", accounts[5])));
    page = press(&b, NEW, &page, ("azione", &format!("rimuovi_invitato|{}", accounts[5]))).expect(200);
    assert!(
        !page.contains(&format!("name=\"invitees\" value=\"{}\"", accounts[5])),
        "removed"
    );
    assert!(page.contains(&format!("name=\"invitees\" value=\"{}\"", accounts[4])));
    assert!(tenders_of(&w).is_empty(), "the picker stores nothing");

    // A forged token: nothing stored.
    let mut forged = set(&form_fields(&page), "_csrf", "forged");
    forged.push(("azione".into(), "salva".into()));
    post(&b, NEW, &forged).expect(403);
    let mut forged = set(&form_fields(&page), "_csrf", "forged");
    forged.push(("scegli".into(), format!("invitee|{}", accounts[5])));
    post(&b, NEW, &forged).expect(403);
    assert!(tenders_of(&w).is_empty());

    let saved = press(&b, NEW, &page, ("azione", "salva")).expect(303);
    let bando = tender_id_of(saved.location.as_deref().expect("location"));
    // The edit form lists the invitees by name and posts them back unchanged.
    let edit_path = format!("/ente/bandi/{bando}/modifica");
    let edit = b.get(&edit_path).expect(200);
    assert!(
        edit.contains(&format!("{} · P.IVA {}", names[2].0, names[2].1)),
        "{}",
        edit.text
    );
    let before = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["invitees"].clone();
    press(&b, &edit_path, &edit, ("azione", "salva")).expect(303);
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["invitees"],
        before
    );
    let tender = b.get(&format!("/ente/bandi/{bando}")).expect(200);
    assert!(tender.contains("id=\"pubblica\""), "{}", tender.text);
    b.post_form(&format!("/ente/bandi/{bando}/pubblica"), &[("_csrf", &tender.csrf())])
        .expect(303);
    let stored = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    assert_eq!(stored["state"], "published");
    let mut invited: Vec<String> = stored["invitees"]
        .as_array()
        .expect("invitees")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    invited.sort();
    let mut chosen = accounts[..5].to_vec();
    chosen.sort();
    assert_eq!(invited, chosen);
}
