//! Issued documents (issue 14) and the audit export: the award report after the 16-bidder
//! lowest-price tender of `aggiudicazione.rs` (Method A, T = 15.7534, winner 15.420), the bid
//! receipt, the minutes of an opening session and the tender summary: issued once by a POST
//! (audit event + `decision` leaf), downloaded by GETs that write nothing, checked with qpdf and
//! pdftotext, who may ask. `SAMPLES=1` also renders each kind to `docs/samples/*.png`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use journeys::serde_json::{json, Value};
use journeys::{Client, TestApp};

use journeys::tender_world::*;

fn works_tender(w: &World, seed: u64) -> Value {
    works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione straordinaria delle strade comunali",
        2_000_000 + seed,
    )
}

const SIXTEEN: [&str; 16] = [
    "10.125", "11.300", "12.450", "12.900", "13.250", "13.800", "14.100", "14.650", "15.270", "15.420", "16.050",
    "16.780", "17.300", "18.900", "21.500", "24.750",
];

/// A binary download: status, `X-Content-SHA256`, content type, bytes.
struct Download {
    status: u16,
    sha256: Option<String>,
    content_type: String,
    bytes: Vec<u8>,
}

fn download(app: &TestApp, c: &Client, path: &str) -> Download {
    let mut req = ureq::get(&format!("{}{path}", app.base_url));
    if let Some(t) = &c.token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = resp.status();
    let sha256 = resp.header("X-Content-SHA256").map(str::to_string);
    let content_type = resp.content_type().to_string();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).expect("body");
    Download {
        status,
        sha256,
        content_type,
        bytes,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&seal::envelope::digest_stream(bytes).expect("digest").sha256)
}

/// (audit events, log leaves): what issuing writes and downloading must not. The outbox's
/// worker records its deliveries (`notify.*`) on its own schedule: not counted.
fn writes(app: &TestApp) -> (i64, i64) {
    let n = |sql: &str| app.psql(sql).parse::<i64>().expect("count");
    (
        n("SELECT count(*) FROM audit_events WHERE action NOT LIKE 'notify.%'"),
        n("SELECT count(*) FROM log_leaves"),
    )
}

/// `qpdf --check` passes (when qpdf is installed: scripts/test-tools.sh installs it).
fn qpdf_check(name: &str, bytes: &[u8]) {
    let file = std::env::temp_dir().join(format!("{name}-{}.pdf", std::process::id()));
    std::fs::write(&file, bytes).expect("write");
    match std::process::Command::new("qpdf").arg("--check").arg(&file).output() {
        Err(_) => println!("qpdf non disponibile (apt-get install -y qpdf): controllo saltato"),
        Ok(out) => assert!(
            out.status.success(),
            "qpdf --check {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
    let _ = std::fs::remove_file(&file);
}

/// The text of a PDF (pages separated by form feeds), or None without poppler.
fn pdf_text(name: &str, bytes: &[u8]) -> Option<String> {
    let file = std::env::temp_dir().join(format!("{name}-{}-text.pdf", std::process::id()));
    std::fs::write(&file, bytes).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&file);
    match out {
        Err(_) => {
            println!("pdftotext non disponibile (apt-get install -y poppler-utils)");
            None
        }
        Ok(out) => {
            assert!(
                out.status.success(),
                "pdftotext: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).expect("utf8"))
        }
    }
}

/// With `SAMPLES=1`: the first page of the document as `docs/samples/<name>.png` (60 dpi).
fn sample(name: &str, bytes: &[u8]) {
    if std::env::var("SAMPLES").as_deref() != Ok("1") {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/samples");
    std::fs::create_dir_all(&dir).expect("samples dir");
    let file = std::env::temp_dir().join(format!("{name}-{}-sample.pdf", std::process::id()));
    std::fs::write(&file, bytes).expect("write");
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&file)
        .arg(dir.join(name))
        .output()
        .expect("pdftoppm");
    assert!(
        out.status.success(),
        "pdftoppm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&file);
}

/// Collapses whitespace (table cells wrap their text over lines).
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The registry's ragione sociale and partita IVA of a supplier.
fn identity(c: &Client) -> (String, String, String) {
    let me = c.get("/api/v1/registry/operatori/me").expect(200);
    (
        me["id"].as_str().expect("id").to_string(),
        me["ragione_sociale"].as_str().expect("ragione").to_string(),
        me["partita_iva"].as_str().expect("piva").to_string(),
    )
}

fn issue(c: &Client, bando: &str, body: Value) -> journeys::Reply {
    c.post(&format!("/api/v1/bandi/{bando}/documenti-emessi"), &body)
}

/// RFC 4180 parser (quoted fields, doubled quotes, CRLF records) for the checks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("bare LF outside a quoted field"),
            other => field.push(other),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "last record ends with CRLF");
    rows
}

/// The 16-bidder tender up to the economic phase; returns (bando, winner id, bidders).
fn evaluated_tender(w: &mut World) -> (String, String, Vec<(String, String)>) {
    let bando = tender(w, works_tender(w, 7));
    let order = [7usize, 0, 15, 3, 12, 9, 1, 14, 5, 10, 2, 13, 8, 4, 11, 6];
    let mut bidders: Vec<(String, String)> = vec![(String::new(), String::new()); 16];
    for &i in &order {
        let email = format!("impresa{i:02}@edilizia.it");
        let uid = supplier(&w.app, &email);
        let c = w.login(&email);
        submit(&c, &bando, "A", format!("DGUE e domanda dell'impresa {i}").as_bytes());
        submit(&c, &bando, "C", &offer_c(SIXTEEN[i]));
        bidders[i] = (uid, email);
    }
    past_opening(w, &bando);
    open(w, &bando, "A");
    for (uid, _) in &bidders {
        admit(w, &bando, uid);
    }
    open(w, &bando, "C");
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    assert_eq!(p["evaluation"]["anomaly"]["report"]["threshold"], "15.7534");
    // Art. 30 c.3 lett. b: the RUP confirms the anomaly exclusions the platform proposed.
    confirm_proposed_exclusions(w, &format!("/api/v1/bandi/{bando}/valutazione"));
    let winner = p["evaluation"]["ranking"][0]["bidder_id"]
        .as_str()
        .expect("winner")
        .to_string();
    (bando, winner, bidders)
}

#[test]
fn award_report_pdf_and_audit_export_after_a_lowest_price_award() {
    let mut w = world();
    let admin = w.app.admin();
    official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    let roma = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Roma Capitale", "codice_fiscale": "02438750586", "tipo": "comune",
                                        "istat_code": "058091", "pec": "protocollo.gabinetto@pec.comune.roma.it" }),
        )
        .expect(201));
    journeys::tender_world::qualify(&admin, &roma);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    official(&admin, "revisore@comune.roma.it", "auditor", &roma);

    let (bando, winner, bidders) = evaluated_tender(&mut w);
    let path = format!("/api/v1/bandi/{bando}/verbale.pdf");
    let award = json!({ "tipo": "verbale_aggiudicazione" });
    // One bidder's name is outside Windows-1252: it must print as it is.
    let first = w.login(&bidders[0].1);
    let (op, _, _) = identity(&first);
    first
        .patch(
            &format!("/api/v1/registry/operatori/{op}"),
            &json!({ "ragione_sociale": "Łódź Ősz Costruzioni — «Nuova» S.r.l." }),
        )
        .expect(200);

    // Before the proposal of award there is no report, and nothing to download.
    issue(&w.rup, &bando, award.clone()).expect_problem(409, "report_before_proposal");
    w.rup.get(&path).expect_problem(409, "document_not_issued");

    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    assert_eq!(p["state"], "awarded");
    assert_eq!(p["award"]["winner_id"], winner.as_str());

    // Who may not issue it: a supplier (even a bidder), the RUP and the auditor of another
    // ente, anonymous; and an unknown kind. (Logins are audited: log in first.)
    let roma_rup = w.login("rup@comune.roma.it");
    let roma_auditor = w.login("revisore@comune.roma.it");
    let auditor = w.login("revisore@comune.milano.it");
    let custode = w.login("custode@comune.milano.it");
    let before = writes(&w.app);
    issue(&first, &bando, award.clone()).expect_problem(403, "forbidden");
    issue(&roma_rup, &bando, award.clone()).expect_problem(403, "forbidden");
    issue(&roma_auditor, &bando, award.clone()).expect_problem(403, "forbidden");
    issue(&w.app.client(), &bando, award.clone()).expect_problem(401, "unauthenticated");
    issue(&w.rup, &bando, json!({ "tipo": "bolla" })).expect_problem(422, "unknown_document_kind");
    assert_eq!(
        writes(&w.app),
        before,
        "refused requests write nothing: {}",
        w.app
            .psql("SELECT string_agg(action, ',') FROM (SELECT action FROM audit_events ORDER BY id DESC LIMIT 3) x")
    );

    // The RUP issues it: one audit event, one leaf.
    let issued = issue(&w.rup, &bando, award.clone()).expect(201);
    assert_eq!(issued["created"], true);
    assert_eq!(issued["version"], 1);
    let after = writes(&w.app);
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 1),
        "one event and one leaf"
    );
    // The double click (and anyone else entitled, later) gets the same document: nothing written.
    let again = issue(&w.rup, &bando, award.clone()).expect(200);
    assert_eq!(again["created"], false);
    assert_eq!(again["id"], issued["id"]);
    assert_eq!(again["sha256"], issued["sha256"], "same data, same bytes");
    assert_eq!(issue(&auditor, &bando, award.clone()).expect(200)["id"], issued["id"]);
    assert_eq!(writes(&w.app), after);

    // Downloads: by its address and by the portal's link, writing nothing.
    let rup = w.rup.clone();
    let href = issued["href"].as_str().expect("href").to_string();
    let pdf = download(&w.app, &rup, &href);
    assert_eq!(pdf.status, 200, "{}", String::from_utf8_lossy(&pdf.bytes));
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    let sha = pdf.sha256.clone().expect("X-Content-SHA256");
    assert_eq!(sha, sha256_hex(&pdf.bytes), "the header is the body's SHA-256");
    assert_eq!(issued["sha256"], sha.as_str());
    let linked = download(&w.app, &rup, &path);
    assert_eq!(linked.bytes, pdf.bytes);
    assert_eq!(download(&w.app, &auditor, &href).status, 200);
    assert_eq!(download(&w.app, &custode, &path).status, 200);
    for (n, c) in [&roma_rup, &roma_auditor, &first].into_iter().enumerate() {
        assert_eq!(download(&w.app, c, &href).status, 403, "outsider {n}");
        assert_eq!(download(&w.app, c, &path).status, 403, "outsider {n}");
    }
    assert_eq!(download(&w.app, &w.app.client(), &href).status, 401);
    assert_eq!(writes(&w.app), after, "GETs write nothing");

    // Raw structure: trailer, an embedded DejaVu subset with Identity-H, the PDF/A pieces.
    let raw = String::from_utf8_lossy(&pdf.bytes).to_string();
    assert!(raw.trim_end().ends_with("%%EOF"));
    assert!(raw.contains("startxref") && raw.contains("/Catalog"));
    assert!(raw.contains("+DejaVuSans") && raw.contains("/Identity-H") && raw.contains("/FontFile2"));
    assert!(raw.contains("/GTS_PDFA1") && raw.contains("<pdfaid:part>2</pdfaid:part>"));
    assert!(!raw.contains("/Helvetica"));
    qpdf_check("verbale-aggiudicazione", &pdf.bytes);
    sample("verbale-aggiudicazione", &pdf.bytes);

    if let Some(text) = pdf_text("verbale-aggiudicazione", &pdf.bytes) {
        let all = flat(&text);
        let cig = w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200)["cig"]
            .as_str()
            .expect("cig")
            .to_string();
        for needle in [
            "Verbale di aggiudicazione",
            "15.7534",
            "15.420",
            "integrità",
            "Comune di Milano",
            "€ 1.000.000,00",
            "Manutenzione straordinaria delle strade comunali",
            "Metodo (Allegato II.2)",
            "16.62",
            "0.8666",
            "15.0725",
            "1.5475",
            "180.870",
            "CEST",
            "Łódź Ősz Costruzioni — «Nuova» S.r.l.",
            // Table headers.
            "Concorrente",
            "Partita IVA",
            "Ricevuta e impronte",
            "Passo",
            "Grandezza",
            "Pos.",
            "Spareggio",
        ] {
            assert!(all.contains(needle), "«{needle}» in the text:\n{text}");
        }
        for (_, email) in &bidders {
            let (_, ragione, piva) = identity(&w.login(email));
            assert!(all.contains(&ragione), "{ragione}");
            assert!(all.contains(&piva), "{piva}");
        }
        // Every page: the CIG and its number; the bid table repeats its header on each page.
        let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
        assert!(pages.len() >= 3, "{} pages", pages.len());
        for (i, page) in pages.iter().enumerate() {
            assert!(page.contains(&format!("CIG {cig}")), "page {}", i + 1);
            assert!(
                page.contains(&format!("Pagina {} di {}", i + 1, pages.len())),
                "page {}",
                i + 1
            );
        }
        // A page with rows of the bid table: "ricevuta <uuid>" in a cell.
        let has_bid_row = |p: &str| {
            flat(p)
                .split("ricevuta ")
                .skip(1)
                .any(|rest| rest.len() > 36 && uuid::Uuid::parse_str(&rest[..36]).is_ok())
        };
        let with_bids: Vec<&&str> = pages.iter().filter(|p| has_bid_row(p)).collect();
        assert!(with_bids.len() >= 2, "the bid table spans pages");
        assert!(with_bids.iter().all(|p| p.contains("Ricevuta e impronte")));
        // No bidder by id any more.
        assert!(!all.contains(&format!("operatore {winner}")));
    }

    // The issue is recorded: audit event with the SHA-256, and its `decision` leaf in the log.
    let events = audit_events(&w);
    let issued: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "documenti.verbale_aggiudicazione")
        .collect();
    assert_eq!(issued.len(), 1, "refused and repeated requests are not recorded");
    let e = issued[0];
    assert_eq!(e["details"]["sha256"], sha.as_str());
    assert_eq!(e["object_id"], bando.as_str());
    let bando_id: uuid::Uuid = bando.parse().expect("uuid");
    let occurred: DateTime<Utc> = at(e["occurred_at"].as_str().expect("at"));
    let data = offerte::log::decision_leaf_data(bando_id, "documenti.verbale_aggiudicazione", occurred, &e["details"]);
    let leaf = seal::merkle::leaf_hash(&data);
    let anon = w.app.client();
    let keys = anon.get("/api/v1/log/keys").expect(200);
    let verifier = seal::checkpoint::NoteVerifier::from_vkey(keys["log_key"].as_str().expect("vkey")).expect("vkey");
    let start = Instant::now();
    let (cp, proof) = loop {
        let note = anon.get("/api/v1/log/checkpoint").text;
        let cp = seal::checkpoint::open_checkpoint(&note, &verifier).expect("signed checkpoint");
        let found = anon.get(&format!(
            "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={}",
            hex(&leaf),
            cp.size
        ));
        if found.status == 200 {
            break (cp, found.body);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "report leaf not integrated: {}",
            found.text
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let path_hashes: Vec<[u8; 32]> = proof["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(|h| unhex(h.as_str().expect("hex")))
        .collect();
    seal::merkle::verify_inclusion(
        &leaf,
        proof["leaf_index"].as_u64().expect("index"),
        cp.size,
        &path_hashes,
        &cp.root,
    )
    .expect("the report's leaf is in the log");
    let mut forged = e["details"].clone();
    forged["sha256"] = json!("0".repeat(64));
    let other = seal::merkle::leaf_hash(&offerte::log::decision_leaf_data(
        bando_id,
        "documenti.verbale_aggiudicazione",
        occurred,
        &forged,
    ));
    anon.get(&format!(
        "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={}",
        hex(&other),
        cp.size
    ))
    .expect_problem(404, "not_found");
    // Later, with the log grown, the same data still gives the same document.
    assert_eq!(issue(&w.rup, &bando, award).expect(200)["sha256"], sha.as_str());

    // The audit export: auditors of the ente and admins; never another ente's auditor nor a RUP.
    let export = format!("/api/v1/enti/{}/audit-export", w.ente);
    w.login("revisore@comune.roma.it")
        .get(&export)
        .expect_problem(403, "forbidden");
    w.rup.get(&export).expect_problem(403, "forbidden");
    w.login(&bidders[0].1).get(&export).expect_problem(403, "forbidden");
    let csv = download(&w.app, &auditor, &export);
    assert_eq!(csv.status, 200, "{}", String::from_utf8_lossy(&csv.bytes));
    assert!(csv.content_type.starts_with("text/csv"));
    assert_eq!(csv.sha256.as_deref(), Some(sha256_hex(&csv.bytes).as_str()));
    let text = String::from_utf8(csv.bytes.clone()).expect("utf8");
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        [
            "id",
            "occurred_at",
            "actor_user_id",
            "action",
            "object_type",
            "object_id",
            "ente_id",
            "request_id",
            "details"
        ]
    );
    // The export itself is an event, recorded after the rows it holds (docs/documents.md).
    let mut events = audit_events(&w);
    let own = events.pop().expect("the export's own event");
    assert_eq!(own["action"], "documenti.audit_export");
    assert_eq!(own["details"]["sha256"], csv.sha256.as_deref().expect("sha"));
    assert_eq!(rows.len() - 1, events.len(), "one row per event");
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().expect("id")).collect();
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "stable order by id");
    for (row, ev) in rows[1..].iter().zip(&events) {
        assert_eq!(row.len(), 9);
        assert_eq!(row[0], ev["id"].to_string());
        assert_eq!(row[3], ev["action"].as_str().expect("action"));
        assert!(row[1].ends_with('Z'), "UTC: {}", row[1]);
        assert_eq!(at(&row[1]), at(ev["occurred_at"].as_str().expect("at")));
        let details: Value = journeys::serde_json::from_str(&row[8]).expect("details JSON");
        assert_eq!(details, ev["details"], "details round-trip through the quoting");
    }
    for action in [
        "aggiudicazione.proposta",
        "aggiudicazione.aggiudicata",
        "aggiudicazione.soglia_anomalia",
        "documenti.verbale_aggiudicazione",
    ] {
        assert!(rows.iter().any(|r| r[3] == action), "{action} exported");
    }
    // Quoting: a JSON object has quotes and commas, so its field is quoted with doubled quotes.
    let award_line = text
        .lines()
        .find(|l| l.contains(",aggiudicazione.aggiudicata,"))
        .expect("award line");
    assert!(award_line.contains(",\"{\"\""), "{award_line}");
    // The period: from the award on, only the later events.
    let award_at = rows
        .iter()
        .find(|r| r[3] == "aggiudicazione.aggiudicata")
        .expect("award")[1]
        .clone();
    let later = w.app.admin().get(&format!("{export}?from={award_at}"));
    assert_eq!(later.status, 200);
    let later = parse_csv(&later.text);
    assert!(later.len() > 1 && later.len() < rows.len());
    assert!(later[1..].iter().all(|r| at(&r[1]) >= at(&award_at)));
    let none = parse_csv(&w.app.admin().get(&format!("{export}?to=2000-01-01T00:00:00Z")).text);
    assert_eq!(none.len(), 1, "header only");
    // The other filters of the portal's trail go into the file too: an action, an author, a
    // tender; each keeps exactly the rows the unfiltered export has for it.
    let only = |q: &str| {
        let r = w.app.admin().get(&format!("{export}?{q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        parse_csv(&r.text)
    };
    let awards = only("action=aggiudicazione.aggiudicata");
    let expected: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[3] == "aggiudicazione.aggiudicata")
        .collect();
    assert_eq!(awards[1..].iter().collect::<Vec<_>>(), expected);
    let rup_id = events
        .iter()
        .find(|e| e["action"] == "aggiudicazione.aggiudicata")
        .and_then(|e| e["actor_user_id"].as_str())
        .expect("the award's author")
        .to_string();
    let by_rup = only(&format!("actor={rup_id}"));
    assert!(by_rup.len() > 2 && by_rup.len() < rows.len());
    assert!(by_rup[1..].iter().all(|r| r[2] == rup_id));
    let about: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[5] == bando || r[8].contains(&format!("\"bando_id\":\"{bando}\"")))
        .collect();
    let of_tender = only(&format!("bando={bando}"));
    assert!(
        of_tender.len() > about.len(),
        "every event about the tender (and the header)"
    );
    assert!(
        of_tender.len() < rows.len(),
        "and not the others (the ente's creation, its users)"
    );
    w.app
        .admin()
        .get(&format!("{export}?bando=non-un-uuid"))
        .expect_problem(400, "query_invalid");
}

#[test]
fn receipt_minutes_and_summary_are_issued_once_to_whom_may_read_them() {
    let mut w = world();
    let admin = w.app.admin();
    let roma = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Roma Capitale", "codice_fiscale": "02438750586", "tipo": "comune",
                     "istat_code": "058091", "pec": "protocollo.gabinetto@pec.comune.roma.it" }),
        )
        .expect(201));
    journeys::tender_world::qualify(&admin, &roma);
    official(&admin, "rup@comune.roma.it", "rup", &roma);
    let bando = tender(&w, works_tender(&w, 11));
    let mut names = Vec::new();
    for (i, email) in ["alfa@edilizia.it", "beta@edilizia.it"].iter().enumerate() {
        supplier(&w.app, email);
        let c = w.login(email);
        submit(&c, &bando, "A", format!("Domanda {i}").as_bytes());
        submit(&c, &bando, "C", &offer_c(["12.500", "14.250"][i]));
        if i == 0 {
            // Characters outside Windows-1252 print and extract as they are.
            let (op, _, _) = identity(&c);
            c.patch(
                &format!("/api/v1/registry/operatori/{op}"),
                &json!({ "ragione_sociale": "Łukasz ’Alfa’ Costruzioni ≥ Ősz S.r.l." }),
            )
            .expect(200);
        }
        names.push(identity(&c));
    }
    let alfa = w.login("alfa@edilizia.it");
    let beta = w.login("beta@edilizia.it");
    let receipt = json!({ "tipo": "ricevuta" });
    let summary = json!({ "tipo": "riepilogo" });
    // Logins are audited: every client logs in before the counts.
    let roma_rup = w.login("rup@comune.roma.it");
    let admin = w.app.admin();

    // Before the deadline: the bidder's own receipt, to it alone.
    let before = writes(&w.app);
    issue(&w.rup, &bando, receipt.clone()).expect_problem(403, "forbidden");
    assert_eq!(writes(&w.app), before);
    let r = issue(&alfa, &bando, receipt.clone()).expect(201);
    assert_eq!(
        issue(&alfa, &bando, receipt.clone()).expect(200)["id"],
        r["id"],
        "issued once"
    );
    let href = r["href"].as_str().expect("href").to_string();
    let mine = download(&w.app, &alfa, &href);
    assert_eq!(mine.status, 200);
    assert_eq!(mine.sha256.as_deref(), r["sha256"].as_str());
    let after = writes(&w.app);
    for c in [&beta, &w.rup, &roma_rup] {
        assert_eq!(download(&w.app, c, &href).status, 403);
    }
    assert_eq!(download(&w.app, &admin, &href).status, 403, "not even an admin");
    let listed = beta.get(&format!("/api/v1/bandi/{bando}/documenti-emessi")).expect(200);
    assert!(
        listed.as_array().expect("list").is_empty(),
        "beta sees no one else's receipt"
    );
    assert_eq!(writes(&w.app), after, "GETs write nothing");
    // Its audit event stays out of the ente's sight until the deadline.
    assert!(!audit_events(&w).iter().any(|e| e["action"] == "documenti.ricevuta"));
    qpdf_check("ricevuta", &mine.bytes);
    sample("ricevuta", &mine.bytes);
    if let Some(text) = pdf_text("ricevuta", &mine.bytes) {
        let all = flat(&text);
        for needle in [
            "Ricevuta di presentazione dell'offerta",
            "Łukasz ’Alfa’ Costruzioni ≥ Ősz S.r.l.",
            names[0].1.as_str(),
            names[0].2.as_str(),
            "Marca temporale RFC 3161",
            "Foglia del registro",
            "SHA-256 del cifrato",
        ] {
            assert!(all.contains(needle), "«{needle}»:\n{text}");
        }
        assert!(!all.contains(&names[1].1), "no other bidder");
    }

    // The summary before the deadline names no bidder; other enti and suppliers may not.
    issue(&roma_rup, &bando, summary.clone()).expect_problem(403, "forbidden");
    issue(&alfa, &bando, summary.clone()).expect_problem(403, "forbidden");
    let s1 = issue(&w.rup, &bando, summary.clone()).expect(201);
    let s1_pdf = download(&w.app, &w.rup, s1["href"].as_str().expect("href"));
    qpdf_check("riepilogo", &s1_pdf.bytes);
    if let Some(text) = pdf_text("riepilogo", &s1_pdf.bytes) {
        let all = flat(&text);
        assert!(all.contains("Riepilogo del bando"));
        for (_, ragione, piva) in &names {
            assert!(
                !all.contains(ragione) && !all.contains(piva),
                "no bidder before the deadline"
            );
        }
    }
    // No minutes of a session not yet held.
    issue(&w.rup, &bando, json!({ "tipo": "verbale_seduta", "busta": "A" })).expect_problem(409, "session_not_held");

    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    // The clock moved past the sessions' lifetime: log in again.
    let alfa = w.login("alfa@edilizia.it");
    let roma_rup = w.login("rup@comune.roma.it");
    let minutes = json!({ "tipo": "verbale_seduta", "busta": "A" });
    issue(&alfa, &bando, minutes.clone()).expect_problem(403, "forbidden");
    issue(&roma_rup, &bando, minutes.clone()).expect_problem(403, "forbidden");
    issue(&w.rup, &bando, json!({ "tipo": "verbale_seduta", "busta": "C" })).expect_problem(409, "session_not_held");
    let m = issue(&w.rup, &bando, minutes.clone()).expect(201);
    assert_eq!(issue(&w.rup, &bando, minutes).expect(200)["id"], m["id"]);
    let m_pdf = download(&w.app, &w.rup, m["href"].as_str().expect("href"));
    assert_eq!(m_pdf.status, 200);
    assert_eq!(download(&w.app, &alfa, m["href"].as_str().expect("href")).status, 403);
    qpdf_check("verbale-seduta", &m_pdf.bytes);
    sample("verbale-seduta", &m_pdf.bytes);
    if let Some(text) = pdf_text("verbale-seduta", &m_pdf.bytes) {
        let all = flat(&text);
        for needle in [
            "Verbale della seduta di apertura",
            "Quote presentate dai custodi",
            "Custode",
            "Concorrente",
        ] {
            assert!(all.contains(needle), "«{needle}»:\n{text}");
        }
        for (_, ragione, piva) in &names {
            assert!(all.contains(ragione) && all.contains(piva), "{ragione}");
        }
    }

    // After the deadline the summary changed: a new version, with the bidders. Two clicks at
    // the same instant issue it once (the second waits for the first and finds its row).
    let (a, b) = std::thread::scope(|scope| {
        let one = scope.spawn(|| issue(&w.rup, &bando, summary.clone()));
        let two = scope.spawn(|| issue(&w.rup, &bando, summary.clone()));
        (one.join().expect("one"), two.join().expect("two"))
    });
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 201], "{} / {}", a.text, b.text);
    assert_eq!(a.body["id"], b.body["id"]);
    let s2 = issue(&w.rup, &bando, summary).expect(200);
    assert_eq!(s2["version"], 2);
    assert_ne!(s2["sha256"], s1["sha256"]);
    let s2_pdf = download(&w.app, &w.rup, s2["href"].as_str().expect("href"));
    sample("riepilogo", &s2_pdf.bytes);
    if let Some(text) = pdf_text("riepilogo-2", &s2_pdf.bytes) {
        let all = flat(&text);
        for (_, ragione, piva) in &names {
            assert!(all.contains(ragione) && all.contains(piva), "{ragione}");
        }
    }
    // Now the ente sees the receipt's event; the RUP lists the tender's documents (no receipt).
    assert!(audit_events(&w).iter().any(|e| e["action"] == "documenti.ricevuta"));
    let list = w
        .rup
        .get(&format!("/api/v1/bandi/{bando}/documenti-emessi"))
        .expect(200);
    let kinds: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["tipo"].as_str())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "riepilogo").count(), 2);
    assert!(kinds.contains(&"verbale_seduta") && !kinds.contains(&"ricevuta"));
}
