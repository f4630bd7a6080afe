//! Issue 12 point 4, over HTTP: envelopes of several files (`centrale-busta/1`). After its
//! opening, an envelope that is an archive lists its files (name, size, SHA-256) in the
//! opening view and `/buste/{id}/file`; each file downloads from `/buste/{id}/file/{name}`,
//! as an attachment and audited, to exactly the officials who may read the plaintext. The
//! award engine reads envelope C's offer from `offerta-economica.json`; a C archive without
//! it is proposed for exclusion like an unreadable offer. Attackers: the other ente's RUP, a
//! supplier (the bidder itself and another), before the opening, before A→B→C allows it, a
//! name not in the manifest, a path: all refused, and nothing is audited for them.

use std::io::Read;

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::{Client, TestApp};
use offerte::archive::{self, ArchiveFile};

/// Submits (server-sealed) and returns the envelope id.
fn submit_id(c: &Client, bando: &str, kind: &str, body: &[u8]) -> String {
    let r = c
        .post_raw(
            &format!("/api/v1/bandi/{bando}/offerta/buste/{kind}"),
            "application/octet-stream",
            body,
        )
        .expect(201);
    r["envelope_id"].as_str().expect("envelope_id").to_string()
}

/// GET with the caller's token: status, Content-Disposition, body bytes.
fn get(app: &TestApp, who: &Client, path: &str) -> (u16, String, Vec<u8>) {
    let req = ureq::get(&format!("{}{path}", app.base_url)).set(
        "Authorization",
        &format!("Bearer {}", who.token.as_deref().expect("token")),
    );
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let disposition = resp.header("content-disposition").unwrap_or("").to_string();
    let mut out = Vec::new();
    resp.into_reader().read_to_end(&mut out).expect("read body");
    (status, disposition, out)
}

fn code_of(body: &[u8]) -> String {
    journeys::serde_json::from_slice::<Value>(body)
        .map_or(String::new(), |v| v["code"].as_str().unwrap_or("").to_string())
}

fn downloads(w: &World) -> Vec<Value> {
    audit_events(w)
        .into_iter()
        .filter(|e| e["action"] == "busta.file_scaricato")
        .collect()
}

const DOMANDA: &[u8] = b"Domanda di partecipazione\n";
const DGUE: &[u8] = b"<dgue/>\n";

#[test]
fn the_files_of_an_opened_envelope_are_listed_and_downloaded_only_by_those_who_read_it() {
    let mut w = world();
    let bando = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle scuole", 910_001),
    );
    let acme_id = supplier(&w.app, "acme@imprese.it");
    let beta_id = supplier(&w.app, "beta@imprese.it");
    let acme = w.login("acme@imprese.it");
    let beta = w.login("beta@imprese.it");
    let a = submit_id(
        &acme,
        &bando,
        "A",
        &busta(
            &bando,
            "A",
            &[
                ("domanda.txt", DOMANDA),
                ("dgue.xml", DGUE),
                ("garanzia provvisoria.pdf", b"%PDF-1.4 garanzia\n"),
            ],
        ),
    );
    let c = submit_id(
        &acme,
        &bando,
        "C",
        &busta(
            &bando,
            "C",
            &[
                (archive::OFFER_NAME, &offer_c("12.50")),
                ("offerta firmata.txt", b"ribasso 12,50%\n"),
            ],
        ),
    );
    let legacy_a = submit_id(&beta, &bando, "A", b"domanda e DGUE in un solo file");
    submit(&beta, &bando, "C", &offer_c("10.00"));

    // The other ente's RUP, an official of it.
    let admin = w.app.admin();
    let roma = roma_capitale(&admin);
    official(&admin, "rup@comune.roma.it", "rup", &roma);

    // Before the opening: nothing, for anybody.
    for path in [
        format!("/api/v1/buste/{a}/file"),
        format!("/api/v1/buste/{a}/file/domanda.txt"),
    ] {
        let (status, _, body) = get(&w.app, &w.rup, &path);
        assert_eq!(
            (status, code_of(&body).as_str()),
            (409, "envelope_not_opened"),
            "{path}"
        );
    }

    past_opening(&mut w, &bando);
    let acme = w.login("acme@imprese.it");
    let beta = w.login("beta@imprese.it");
    let roma_rup = w.login("rup@comune.roma.it");
    // C cannot be opened before A, and its files cannot be read before it is opened.
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/C"), &json!({}))
        .expect_problem(409, "opening_out_of_order");
    let opened = open(&w, &bando, "A");
    let (status, _, body) = get(
        &w.app,
        &w.rup,
        &format!("/api/v1/buste/{c}/file/{}", archive::OFFER_NAME),
    );
    assert_eq!((status, code_of(&body).as_str()), (409, "envelope_not_opened"));

    // The opening view lists the archive's files, sorted, with size and SHA-256.
    let envs = opened["envelopes"].as_array().expect("envelopes");
    let mine = envs.iter().find(|e| e["envelope_id"] == a.as_str()).expect("acme's A");
    let names: Vec<&str> = mine["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["dgue.xml", "domanda.txt", "garanzia provvisoria.pdf"], "{mine}");
    assert_eq!(mine["files"][1]["size"], DOMANDA.len());
    assert_eq!(
        mine["files"][1]["sha256"],
        ArchiveFile::digest("domanda.txt", DOMANDA).expect("digest").sha256
    );
    let legacy = envs
        .iter()
        .find(|e| e["envelope_id"] == legacy_a.as_str())
        .expect("beta's A");
    assert!(
        legacy["files"].is_null() && legacy["archive_error"].is_null(),
        "{legacy}"
    );
    let listed = w.rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200);
    assert_eq!(listed[0]["envelopes"], opened["envelopes"]);

    // The RUP lists and downloads each file: the bytes sealed, as an attachment, audited.
    let files = w.rup.get(&format!("/api/v1/buste/{a}/file")).expect(200);
    assert_eq!(files, mine["files"]);
    let (status, disposition, body) = get(&w.app, &w.rup, &format!("/api/v1/buste/{a}/file/domanda.txt"));
    assert_eq!(status, 200);
    assert_eq!(body, DOMANDA);
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("domanda.txt"),
        "{disposition}"
    );
    let (status, disposition, body) = get(
        &w.app,
        &w.rup,
        &format!("/api/v1/buste/{a}/file/garanzia%20provvisoria.pdf"),
    );
    assert_eq!((status, body.as_slice()), (200, &b"%PDF-1.4 garanzia\n"[..]));
    assert!(disposition.contains("garanzia"), "{disposition}");
    let audited = downloads(&w);
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert_eq!(audited[0]["details"]["name"], "domanda.txt");
    assert_eq!(audited[0]["details"]["envelope_id"], a.as_str());
    assert_eq!(audited[0]["actor_user_id"], w.rup_id.as_str(), "{}", audited[0]);

    // Attackers, each refused; none leaves a download in the audit trail.
    let file = format!("/api/v1/buste/{a}/file/domanda.txt");
    let list = format!("/api/v1/buste/{a}/file");
    for (who, label, status) in [
        (&roma_rup, "the other ente's RUP", 404),
        (&beta, "another supplier", 404),
        (&acme, "the bidder itself", 403),
    ] {
        for path in [&file, &list] {
            let (got, _, body) = get(&w.app, who, path);
            assert_eq!(got, status, "{label} on {path}: {}", String::from_utf8_lossy(&body));
            assert!(!body.windows(DOMANDA.len()).any(|x| x == DOMANDA), "{label}");
        }
    }
    let (status, _, body) = get(&w.app, &w.rup, &format!("/api/v1/buste/{a}/file/offerta.pdf"));
    assert_eq!((status, code_of(&body).as_str()), (404, "archive_file_not_found"));
    for traversal in [
        "..%2Fdomanda.txt",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "manifest.json",
        "dgue.xml%00",
    ] {
        let (status, _, body) = get(&w.app, &w.rup, &format!("/api/v1/buste/{a}/file/{traversal}"));
        let code = code_of(&body);
        assert!(
            (status, code.as_str()) == (422, "archive_name_invalid")
                || (status, code.as_str()) == (404, "archive_file_not_found")
                || status == 404,
            "{traversal}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        assert!(!body.windows(4).any(|x| x == b"root"), "{traversal}");
    }
    let (status, _, body) = get(&w.app, &w.rup, &format!("/api/v1/buste/{legacy_a}/file"));
    assert_eq!((status, code_of(&body).as_str()), (409, "envelope_not_archive"));
    assert_eq!(downloads(&w).len(), 2, "refused requests audit nothing");

    // The plaintext download is audited too.
    let (status, _, _) = get(&w.app, &w.rup, &format!("/api/v1/buste/{a}/contenuto"));
    assert_eq!(status, 200);
    assert!(audit_events(&w)
        .iter()
        .any(|e| e["action"] == "busta.contenuto_scaricato"));

    // After A, C opens; the offer is read from offerta-economica.json.
    admit(&w, &bando, &acme_id);
    admit(&w, &bando, &beta_id);
    let opened_c = open(&w, &bando, "C");
    let acme_c = opened_c["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .find(|e| e["envelope_id"] == c.as_str())
        .expect("acme's C")
        .clone();
    assert_eq!(acme_c["economic_offer"]["discount"], "12.50", "{acme_c}");
    let (status, _, body) = get(&w.app, &w.rup, &format!("/api/v1/buste/{c}/file/offerta%20firmata.txt"));
    assert_eq!((status, body.as_slice()), (200, &b"ribasso 12,50%\n"[..]));
}

#[test]
fn the_award_engine_reads_the_offer_of_an_archive_and_an_archive_without_it_is_proposed_for_exclusion() {
    let mut w = world();
    let bando = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Rifacimento dei marciapiedi", 910_002),
    );
    let offers: Vec<(&str, Vec<u8>)> = vec![
        (
            "archivio@imprese.it",
            busta(
                &bando,
                "C",
                &[
                    (archive::OFFER_NAME, &offer_c("11.00")),
                    ("relazione.txt", b"giustificativi"),
                ],
            ),
        ),
        ("legacy@imprese.it", offer_c("9.00")),
        (
            "senza-offerta@imprese.it",
            busta(&bando, "C", &[("offerta.txt", b"ribasso 30%")]),
        ),
        (
            "altro-bando@imprese.it",
            busta(
                &uuid::Uuid::new_v4().to_string(),
                "C",
                &[(archive::OFFER_NAME, &offer_c("15.00"))],
            ),
        ),
    ];
    let mut bidders = Vec::new();
    for (email, c) in &offers {
        let uid = supplier(&w.app, email);
        let s = w.login(email);
        submit(&s, &bando, "A", b"domanda e DGUE");
        submit(&s, &bando, "C", c);
        bidders.push(uid);
    }
    past_opening(&mut w, &bando);
    open(&w, &bando, "A");
    for uid in &bidders {
        admit(&w, &bando, uid);
    }
    let opened = open(&w, &bando, "C");
    let of = |uid: &str| -> Value {
        opened["envelopes"]
            .as_array()
            .expect("envelopes")
            .iter()
            .find(|e| e["bidder_id"] == uid)
            .expect("envelope")
            .clone()
    };
    assert_eq!(of(&bidders[0])["economic_offer"]["discount"], "11.00");
    assert_eq!(of(&bidders[1])["economic_offer"]["discount"], "9.00");
    assert!(of(&bidders[2])["economic_offer"]["error"]
        .as_str()
        .expect("error")
        .contains(archive::OFFER_NAME));
    let foreign = of(&bidders[3]);
    assert!(foreign["economic_offer"]["error"].is_string(), "{foreign}");
    assert!(
        foreign["archive_error"]
            .as_str()
            .expect("archive_error")
            .contains("manifest"),
        "{foreign}"
    );
    assert!(foreign["files"].is_null());

    let p = w
        .rup
        .post(&format!("/api/v1/bandi/{bando}/valutazione/economica"), &json!({}))
        .expect(200);
    let ranked: Vec<&str> = p["evaluation"]["ranking"]
        .as_array()
        .expect("ranking")
        .iter()
        .map(|l| l["bidder_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ranked, vec![bidders[0].as_str(), bidders[1].as_str()], "{p}");
    let proposals = p["exclusion_proposals"].as_array().expect("proposals");
    assert_eq!(proposals.len(), 2, "{p}");
    let reason = |uid: &str| {
        proposals
            .iter()
            .find(|x| x["bidder_id"] == uid)
            .unwrap_or_else(|| panic!("{uid} proposed: {p}"))["reason"]
            .as_str()
            .expect("reason")
            .to_string()
    };
    assert!(reason(&bidders[2]).contains(archive::OFFER_NAME), "{p}");
    assert!(reason(&bidders[3]).contains("offerta economica non valida"), "{p}");
}
