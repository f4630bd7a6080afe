//! Open data in OCDS 1.1 (docs/ocds.md): the release package of a tender validated against the
//! official schema and the extensions' (scripts/ocds-validate.sh) when published, before the
//! deadline with bids in, after the deadline and after the award; before the deadline nothing
//! in it names, counts or identifies a bidder; the feed's pages; drafts. And the audit export:
//! who may export, and every export an audit event that leaves its period's bytes unchanged.

use std::path::PathBuf;
use std::process::Command;

use journeys::serde_json::{json, Value};

use journeys::tender_world::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the real validator on `doc`: Ok, or its report.
fn validate(doc: &Value) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("centrale-ocds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let file = dir.join(format!("package-{n}.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).expect("json")).expect("write");
    let out = Command::new(repo().join("scripts/ocds-validate.sh"))
        .arg(&file)
        .output()
        .expect("run scripts/ocds-validate.sh");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(())
    } else {
        Err(report)
    }
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn assert_valid(doc: &Value) {
    if let Err(report) = validate(doc) {
        panic!("not a valid OCDS 1.1 release package:\n{report}\n{doc:#}");
    }
}

/// Every UUID in `text`.
fn uuids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(35) {
        let cand = &text[i..i + 36];
        if cand.is_char_boundary(0) && uuid::Uuid::parse_str(cand).is_ok() && cand.chars().nth(8) == Some('-') {
            out.push(cand.to_string());
        }
    }
    out
}

struct Bidder {
    uid: String,
    email: String,
    ragione_sociale: String,
    partita_iva: String,
    /// Every id the bidder's own reading of its bid and its albo entry show (bid, envelopes,
    /// receipts, operatore).
    ids: Vec<String>,
}

fn bidder(w: &World, bando: &str, n: usize, discount: &str) -> Bidder {
    let email = format!("ocds{n}@imprese.it");
    let uid = supplier(&w.app, &email);
    let c = w.login(&email);
    submit(&c, bando, "A", format!("domanda e DGUE {n}").as_bytes());
    submit(&c, bando, "C", &offer_c(discount));
    let me = c.get("/api/v1/registry/operatori/me").expect(200);
    let mine = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let mut ids = uuids(&mine.to_string());
    ids.extend(uuids(&me.to_string()));
    ids.retain(|i| i != bando && i != &w.ente);
    ids.sort();
    ids.dedup();
    assert!(!ids.is_empty(), "{mine}");
    Bidder {
        uid,
        email,
        ragione_sociale: me["ragione_sociale"].as_str().expect("name").to_string(),
        partita_iva: me["partita_iva"].as_str().expect("piva").to_string(),
        ids,
    }
}

/// Nothing of `b` (name, partita IVA, account, any id of its bid) in `text`.
fn names_nobody(text: &str, bidders: &[&Bidder], when: &str) {
    for b in bidders {
        for needle in [&b.ragione_sociale, &b.partita_iva, &b.uid, &b.email]
            .into_iter()
            .chain(b.ids.iter())
        {
            assert!(
                !text.contains(needle.as_str()),
                "{when}: the OCDS output names {needle}:\n{text}"
            );
        }
    }
}

fn works(w: &World, oggetto: &str, cig_n: u64) -> Value {
    works_tender_body(&w.ente, [&w.rup_id, &w.custode], oggetto, cig_n)
}

#[test]
fn a_tender_in_ocds_validates_at_every_stage_and_names_no_bidder_before_the_deadline() {
    let mut w = world();
    let anon = w.app.client();
    // A draft is no open data: 404, and absent from the feed.
    let draft = id(&w
        .rup
        .post("/api/v1/bandi", &works(&w, "Bozza non pubblicata", 41_001))
        .expect(201));
    anon.get(&format!("/api/v1/bandi/{draft}/ocds"))
        .expect_problem(404, "not_found");
    let mut body = works(&w, "Riqualificazione della piazza del mercato", 41_002);
    body["base_amount"] = json!("6000000.00");
    body["anomaly_method"] = Value::Null;
    let bando = tender(&w, body);
    let path = format!("/api/v1/bandi/{bando}/ocds");

    // Published.
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    let r = &p["releases"][0];
    assert_eq!(p["version"], "1.1");
    assert_eq!(r["ocid"], format!("ocds-ce36it-{bando}"));
    assert_eq!(r["tag"], json!(["tender"]));
    assert_eq!(r["tender"]["status"], "active");
    assert_eq!(r["tender"]["procurementMethod"], "open");
    assert_eq!(r["tender"]["mainProcurementCategory"], "works");
    assert_eq!(r["tender"]["awardCriteria"], "priceOnly");
    assert_eq!(r["tender"]["value"], json!({ "amount": 6_000_000, "currency": "EUR" }));
    assert_eq!(r["tender"]["items"][0]["classification"]["scheme"], "CPV");
    assert_eq!(r["tender"]["tenderPeriod"]["endDate"], "2026-06-05T10:00:00Z");
    assert_eq!(r["buyer"]["name"], "Comune di Milano");
    assert!(r.get("bids").is_none() && r.get("awards").is_none(), "{r}");
    let feed = anon.get("/api/v1/ocds/releases").expect(200);
    assert!(!feed.to_string().contains(&draft), "a draft in the feed: {feed}");
    assert!(feed.to_string().contains(&bando));

    // Bids in, before the deadline: the same package, byte for byte, and no trace of them,
    // for the public as for the bidders and the RUP (the token is ignored).
    let before = anon.get(&path).expect(200);
    let winner = bidder(&w, &bando, 1, "7.250");
    let loser = bidder(&w, &bando, 2, "5.100");
    for reader in [w.app.client(), w.login(&winner.email), w.rup.clone()] {
        let now = reader.get(&path).expect(200);
        assert_eq!(now, before, "the bids changed the package before the deadline");
        names_nobody(&now.to_string(), &[&winner, &loser], "before the deadline");
        assert!(now["releases"][0].get("bids").is_none());
        assert!(now["releases"][0]["tender"].get("numberOfTenderers").is_none());
    }
    names_nobody(
        &anon.get("/api/v1/ocds/releases?limit=100").text,
        &[&winner, &loser],
        "feed before the deadline",
    );

    // After the deadline: how many bids, not who.
    past_opening(&mut w, &bando);
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    let r = &p["releases"][0];
    assert_eq!(
        r["bids"]["statistics"][0],
        json!({ "id": "bids", "measure": "bids", "value": 2, "date": "2026-06-05T10:00:00Z" })
    );
    assert_eq!(r["tender"]["numberOfTenderers"], 2);
    assert!(r["bids"].get("details").is_none(), "{r}");
    names_nobody(
        &p.to_string(),
        &[&winner, &loser],
        "after the deadline, before the award",
    );
    assert_ne!(r["id"], before["releases"][0]["id"], "new content, new release id");

    // After the award: the awardee, its amount and date; still not the other bidder.
    open(&w, &bando, "A");
    admit(&w, &bando, &winner.uid);
    admit(&w, &bando, &loser.uid);
    open(&w, &bando, "C");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    let proposed = anon.get(&path).expect(200);
    assert!(
        proposed["releases"][0].get("awards").is_none(),
        "a proposal is not published"
    );
    names_nobody(&proposed.to_string(), &[&winner, &loser], "at the proposal");
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let a = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/aggiudicazione"), &json!({}))
        .expect(200);
    wait_for_state(&w.rup, &bando, "awarded");
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    let r = &p["releases"][0];
    assert_eq!(r["tag"], json!(["tender", "award"]));
    assert_eq!(r["tender"]["status"], "complete");
    let award = &r["awards"][0];
    assert_eq!(award["status"], "active");
    assert_eq!(award["suppliers"][0]["name"], winner.ragione_sociale.as_str());
    assert_eq!(award["suppliers"][0]["id"], format!("IT-IVA-{}", winner.partita_iva));
    let awarded_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(a["award"]["awarded_at"].clone()).expect("awarded_at");
    assert_eq!(
        award["date"],
        awarded_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let amount: f64 = a["award_terms"]["contract_amount"]
        .as_str()
        .expect("amount")
        .parse()
        .expect("number");
    assert_eq!(award["value"]["amount"].as_f64(), Some(amount));
    assert_eq!(
        r["bids"]["details"][0]["tenderers"][0]["name"],
        winner.ragione_sociale.as_str()
    );
    assert!(
        r["parties"]
            .as_array()
            .expect("parties")
            .iter()
            .any(|p| p["roles"] == json!(["supplier", "tenderer"])
                && p["identifier"]["id"] == winner.partita_iva.as_str())
    );
    names_nobody(&p.to_string(), &[&loser], "after the award (the other bidder)");
    // The same facts give the same package.
    assert_eq!(anon.get(&path).expect(200), p);
}

#[test]
fn the_validator_is_real_it_refuses_what_the_schema_forbids() {
    let w = world();
    let bando = tender(&w, works(&w, "Manutenzione del verde", 41_010));
    let p = w.app.client().get(&format!("/api/v1/bandi/{bando}/ocds")).expect(200);
    assert_valid(&p);
    let mut bad = p.clone();
    bad["releases"][0]["tag"] = json!(["aggiudicazione"]);
    assert!(validate(&bad)
        .expect_err("tag outside the closed codelist")
        .contains("tag"));
    let mut bad = p.clone();
    bad["releases"][0]["tender"]["status"] = json!("open");
    assert!(validate(&bad).is_err(), "status outside the closed codelist");
    let mut bad = p.clone();
    bad["releases"][0]["date"] = json!("5 giugno 2026");
    assert!(validate(&bad).expect_err("date-time").contains("date-time"));
    let mut bad = p.clone();
    bad["releases"][0]["tender"]["items"][0]["hash"] = json!("abc");
    assert!(validate(&bad).is_err(), "a field no schema declares");
    let mut bad = p;
    bad["releases"][0].as_object_mut().expect("release").remove("ocid");
    assert!(validate(&bad).expect_err("ocid required").contains("ocid"));
}

#[test]
fn the_feed_pages_without_duplicates_or_skips_while_tenders_are_published() {
    let w = world();
    let anon = w.app.client();
    let publish = |n: u64| {
        let b = id(&w
            .rup
            .post("/api/v1/bandi", &works(&w, &format!("Lavori numero {n}"), 42_000 + n))
            .expect(201));
        w.rup
            .post(&format!("/api/v1/bandi/{b}/publish"), &json!({}))
            .expect(200);
        w.app.clock.advance(chrono::Duration::seconds(1));
        b
    };
    let first: Vec<String> = (0..5).map(publish).collect();
    let ocid_of = |r: &Value| r["ocid"].as_str().expect("ocid").to_string();
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some("/api/v1/ocds/releases?limit=2".to_string());
    let mut pages = 0;
    while let Some(url) = next {
        let reply = anon.get(&url);
        let page = reply.expect(200);
        assert_valid(&page);
        pages += 1;
        seen.extend(page["releases"].as_array().expect("releases").iter().map(ocid_of));
        next = page["links"]["next"]
            .as_str()
            .map(|u| u.trim_start_matches("http://127.0.0.1:8080").to_string());
        if pages == 1 {
            // Two tenders published between the first and the second page.
            publish(10);
            publish(11);
        }
        assert!(pages < 10, "the feed does not end");
    }
    let mut expected: Vec<String> = first.iter().rev().map(|b| format!("ocds-ce36it-{b}")).collect();
    assert_eq!(seen, expected, "newest first, each once, none skipped");
    assert_eq!(pages, 3);
    // Read again from the top: the new ones first, then the same.
    let all = anon.get("/api/v1/ocds/releases?limit=100").expect(200);
    let again: Vec<String> = all["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .map(ocid_of)
        .collect();
    assert_eq!(again.len(), 7);
    expected.splice(0..0, again[..2].iter().cloned());
    assert_eq!(again, expected);
    assert!(all["links"].get("next").is_none() || all.get("links").is_none());
    anon.get("/api/v1/ocds/releases?limit=0")
        .expect_problem(422, "limit_invalid");
    anon.get("/api/v1/ocds/releases?cursor=zz")
        .expect_problem(422, "cursor_invalid");
}

fn export(c: &journeys::Client, app: &journeys::TestApp, path: &str) -> (u16, Option<String>, Vec<u8>) {
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
    let sha = resp.header("X-Content-SHA256").map(str::to_string);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).expect("body");
    (status, sha, bytes)
}

#[test]
fn every_audit_export_is_an_audit_event_and_a_closed_period_exports_the_same_bytes() {
    let w = world();
    let admin = w.app.admin();
    official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    let auditor = w.login("revisore@comune.milano.it");
    let altro = id(&admin
        .post(
            "/api/v1/enti",
            &json!({ "nome": "Comune di Bergamo", "codice_fiscale": "80034840167", "tipo": "comune",
                     "istat_code": "016024", "pec": "protocollo@cert.comune.bergamo.it" }),
        )
        .expect(201));
    official(&admin, "revisore@comune.bergamo.it", "auditor", &altro);
    let other_auditor = w.login("revisore@comune.bergamo.it");
    supplier(&w.app, "fornitore@imprese.it");
    let fornitore = w.login("fornitore@imprese.it");
    tender(&w, works(&w, "Illuminazione pubblica", 41_020));

    let count = |w: &World| {
        audit_events(w)
            .iter()
            .filter(|e| e["action"] == "documenti.audit_export")
            .count()
    };
    let base = format!("/api/v1/enti/{}/audit-export", w.ente);
    for (who, c) in [
        ("supplier", &fornitore),
        ("other ente's auditor", &other_auditor),
        ("the RUP", &w.rup),
    ] {
        assert_eq!(export(c, &w.app, &base).0, 403, "{who} exported");
    }
    assert_eq!(export(&w.app.client(), &w.app, &base).0, 401);
    assert_eq!(count(&w), 0, "a refused export records nothing");

    // A closed period: the export's own event (at the export's instant) is outside it.
    // The world was made at the start instant; the exports come one second later, at the end
    // of the period they export.
    w.app.clock.advance(chrono::Duration::seconds(1));
    let now = journeys::default_start() + chrono::Duration::seconds(1);
    let to = now
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        .replace('+', "%2B");
    let closed = format!("{base}?to={to}");
    let (s1, sha1, first) = export(&auditor, &w.app, &closed);
    assert_eq!(s1, 200);
    let (s2, sha2, second) = export(&admin, &w.app, &closed);
    assert_eq!(s2, 200, "admins export too");
    assert_eq!(
        first, second,
        "the period's bytes do not change because it was exported"
    );
    assert_eq!(sha1, sha2);
    assert!(!String::from_utf8_lossy(&first).contains("documenti.audit_export"));

    // Each export is an event of the ente, by its author, with the file's hash.
    let events: Vec<Value> = audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == "documenti.audit_export")
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["details"]["sha256"], sha1.clone().expect("sha").as_str());
    assert_eq!(events[0]["object_id"], w.ente.as_str());
    assert!(events[0]["details"]["rows"].as_u64().expect("rows") > 0);
    // The trail as it stands (no `to`) lists the earlier exports.
    w.app.clock.advance(chrono::Duration::seconds(1));
    let (s3, _, open_period) = export(&auditor, &w.app, &base);
    assert_eq!(s3, 200);
    assert_eq!(
        String::from_utf8_lossy(&open_period)
            .matches("documenti.audit_export")
            .count(),
        2
    );
    assert_eq!(count(&w), 3);
}

#[test]
fn lots_rettifiche_cancellations_and_procedures_by_invitation_behave_as_documented() {
    let w = world();
    let anon = w.app.client();
    // Two lots: one item and one lot each, the lots extension; documents with their SHA-256.
    let mut body = works(&w, "Servizi di manutenzione in due lotti", 43_000);
    body["cig"] = Value::Null;
    body["lotti"] = json!([
        { "oggetto": "Strade", "cig": cig(43_001), "base_amount": "600000.00", "safety_costs": "12000.00" },
        { "oggetto": "Scuole", "cig": cig(43_002), "base_amount": "400000.00", "safety_costs": "8000.00" }
    ]);
    let bando = id(&w.rup.post("/api/v1/bandi", &body).expect(201));
    let doc = w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=disciplinare&filename=disciplinare.pdf"),
            "application/pdf",
            b"%PDF-1.7 disciplinare di gara",
        )
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    let path = format!("/api/v1/bandi/{bando}/ocds");
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    let t = &p["releases"][0]["tender"];
    assert_eq!(t["lots"].as_array().map(Vec::len), Some(2), "{t}");
    assert_eq!(t["items"][1]["relatedLot"], t["lots"][1]["id"]);
    assert_eq!(t["lots"][0]["value"]["amount"], 600_000);
    let d = &t["documents"][0];
    assert_eq!(d["documentType"], "biddingDocuments");
    let sha = doc["sha256"].as_str().expect("sha256");
    assert_eq!(sha.len(), 64);
    assert!(d["description"].as_str().expect("description").contains(sha), "{d}");

    // A rettifica: tenderAmendment, with its reason and change.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "Proroga del termine", "submission_deadline": "2026-06-12T12:00" }),
        )
        .expect(200);
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    let r = &p["releases"][0];
    assert_eq!(r["tag"], json!(["tenderAmendment"]));
    assert_eq!(r["tender"]["amendments"][0]["rationale"], "Proroga del termine");
    assert_eq!(r["tender"]["tenderPeriod"]["endDate"], "2026-06-12T10:00:00Z");

    // Cancelled: tenderCancellation, status cancelled; still published open data.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/transitions"),
            &json!({ "to": "cancelled", "reason": "Sopravvenuta carenza di fondi" }),
        )
        .expect(200);
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    assert_eq!(p["releases"][0]["tag"], json!(["tenderCancellation"]));
    assert_eq!(p["releases"][0]["tender"]["status"], "cancelled");

    // A procedure by invitation is not open data: 404 to anyone, absent from the feed.
    // Art. 50 c.1 lett. c: at least five operators consulted for this amount.
    let invited: Vec<String> = (0..5)
        .map(|i| supplier(&w.app, &format!("invitata{i}@imprese.it")))
        .collect();
    let mut neg = works(&w, "Negoziata senza bando", 43_010);
    neg["procedure_type"] = json!("negoziata_senza_bando");
    neg["base_amount"] = json!("180000.00");
    neg["safety_costs"] = json!("0");
    neg["invitees"] = json!(invited);
    let neg = id(&w.rup.post("/api/v1/bandi", &neg).expect(201));
    w.rup
        .post(&format!("/api/v1/bandi/{neg}/publish"), &json!({}))
        .expect(200);
    for c in [anon.clone(), w.login("invitata0@imprese.it"), w.rup.clone()] {
        c.get(&format!("/api/v1/bandi/{neg}/ocds"))
            .expect_problem(404, "not_found");
    }
    let feed = anon.get("/api/v1/ocds/releases?limit=100").expect(200);
    assert!(!feed.to_string().contains(&neg));
    assert!(feed.to_string().contains(&bando));
}

#[test]
fn a_tender_without_bids_reads_zero_bids_after_the_deadline_and_is_unsuccessful_once_deserted() {
    let mut w = world();
    let anon = w.app.client();
    let bando = tender(&w, works(&w, "Gara senza offerte", 44_000));
    let path = format!("/api/v1/bandi/{bando}/ocds");
    assert!(anon.get(&path).expect(200)["releases"][0].get("bids").is_none());
    past_opening(&mut w, &bando);
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    let r = &p["releases"][0];
    assert_eq!(r["bids"]["statistics"][0]["value"], 0, "{r}");
    assert_eq!(r["tender"]["numberOfTenderers"], 0);
    assert_eq!(r["tender"]["status"], "active");
    let d = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/proposta"), &json!({}))
        .expect(200);
    assert_eq!(d["state"], "deserted");
    let p = anon.get(&path).expect(200);
    assert_valid(&p);
    let r = &p["releases"][0];
    assert_eq!(r["tender"]["status"], "unsuccessful");
    assert!(r.get("awards").is_none(), "{r}");
    assert_eq!(r["tag"], json!(["tender"]));
}
