//! Auditors: the award report (verbale di aggiudicazione) as PDF and the audit export as CSV,
//! after the 16-bidder lowest-price tender of `aggiudicazione.rs` (Method A, T = 15.7534,
//! winner 15.420): downloads, hashes, the report's `decision` leaf in the log, who may ask.

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

    // Before the proposal of award there is no report.
    w.rup.get(&path).expect_problem(409, "report_before_proposal");

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

    // Who may not: a supplier (even a bidder), the RUP and the auditor of another ente.
    w.login(&bidders[0].1).get(&path).expect_problem(403, "forbidden");
    w.login("rup@comune.roma.it")
        .get(&path)
        .expect_problem(403, "forbidden");
    w.login("revisore@comune.roma.it")
        .get(&path)
        .expect_problem(403, "forbidden");
    w.app.client().get(&path).expect_problem(401, "unauthenticated");

    // The RUP downloads it.
    let rup = w.rup.clone();
    let pdf = download(&w.app, &rup, &path);
    assert_eq!(pdf.status, 200, "{}", String::from_utf8_lossy(&pdf.bytes));
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    let sha = pdf.sha256.clone().expect("X-Content-SHA256");
    assert_eq!(sha, sha256_hex(&pdf.bytes), "the header is the body's SHA-256");

    // Raw structure (always checked): trailer, standard font with WinAnsi, pages, and the
    // values as text strings (ASCII as literals, accented lines as hex strings).
    let raw = String::from_utf8_lossy(&pdf.bytes).to_string();
    assert!(raw.trim_end().ends_with("%%EOF"));
    assert!(raw.contains("startxref") && raw.contains("/Catalog"));
    assert!(raw.contains("/BaseFont /Helvetica") && raw.contains("/Encoding /WinAnsiEncoding"));
    let pages: u32 = raw
        .split("/Count ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .expect("count")
        .parse()
        .expect("n");
    assert!(
        pages >= 2,
        "16 bidders with their receipts fill more than one page ({pages})"
    );
    assert!(raw.contains("(15.7534)"), "threshold T as text");
    assert!(raw.contains("15.420"), "the winner's discount");
    let accented: String = "7. Registro di trasparenza e integrit\u{e0}"
        .chars()
        .map(|c| format!("{:02X}", c as u32))
        .collect();
    assert!(
        raw.contains(&format!("<{accented}>")),
        "accented heading as WinAnsi hex string"
    );

    // With poppler: the extracted text.
    match std::process::Command::new("pdftotext").arg("-v").output() {
        Err(_) => println!(
            "pdftotext non disponibile (apt-get install -y poppler-utils): controllata solo la struttura del PDF"
        ),
        Ok(_) => {
            let dir = std::env::temp_dir().join(format!("verbale-{bando}"));
            std::fs::create_dir_all(&dir).expect("dir");
            let file = dir.join("verbale.pdf");
            std::fs::write(&file, &pdf.bytes).expect("write");
            let out = std::process::Command::new("pdftotext")
                .args(["-enc", "UTF-8"])
                .arg(&file)
                .arg("-")
                .output()
                .expect("pdftotext");
            assert!(
                out.status.success(),
                "pdftotext: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).expect("utf8");
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
            ] {
                assert!(text.contains(needle), "«{needle}» in the text:\n{text}");
            }
            assert!(text.contains(&winner), "the winner's id");
            if let Ok(keep) = std::env::var("CENTRALE_KEEP_VERBALE") {
                std::fs::write(keep, &pdf.bytes).expect("keep");
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    // The issue is recorded: audit event with the SHA-256, and its `decision` leaf in the log.
    let events = audit_events(&w);
    let issued: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "documenti.verbale_aggiudicazione")
        .collect();
    assert_eq!(issued.len(), 1, "refused requests are not recorded");
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
    // A different PDF hash would not be.
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

    // Deterministic: the same data at the same instant gives the same bytes (the generation
    // checkpoint now includes the first report's leaf, so wait for the log to settle and ask twice).
    let a = download(&w.app, &rup, &path);
    let b = download(&w.app, &rup, &path);
    assert_eq!(a.status, 200);
    if a.bytes != b.bytes {
        // The sequencer may have integrated `a`'s own leaf in between: then a third matches `b`
        // only if nothing else changed, so compare the part before the log section.
        let cut = |v: &[u8]| {
            String::from_utf8_lossy(v)
                .split("7. Registro")
                .next()
                .map(str::to_string)
        };
        assert_eq!(cut(&a.bytes), cut(&b.bytes));
    }
    // The commission and the auditor of the ente may download it too.
    let auditor = w.login("revisore@comune.milano.it");
    assert_eq!(download(&w.app, &auditor, &path).status, 200);
    let custode = w.login("custode@comune.milano.it");
    assert_eq!(download(&w.app, &custode, &path).status, 200);

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
