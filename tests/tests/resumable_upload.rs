//! Issue 12 point 5, over real HTTP and PostgreSQL: a client-sealed envelope uploaded in parts
//! (`/api/v1/.../caricamenti`, docs/seal.md "Resumable uploads"). A dropped answer costs one
//! part, the receipt is the one-shot receipt, the deadline is the last byte's, the upload is
//! its owner's alone and invisible to the ente before the deadline, quotas and the cap on open
//! uploads hold, and two completions at once make one envelope.

use std::time::{Duration, Instant};

use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::{Client, TestApp};
use offerte::bundle::{verify_bundle, Pins, VerificationBundle};
use seal::envelope;

/// Hex SHA-256, through the seal crate's hashing writer (no other dependency).
fn sha256_hex(bytes: &[u8]) -> String {
    let mut w = envelope::HashingWriter::new(std::io::sink());
    std::io::Write::write_all(&mut w, bytes).expect("hash");
    let (_, info) = w.finish();
    hex(&info.sha256)
}

const CHUNK: u64 = 4096;

fn tuned(seal: impl FnOnce(&mut offerte::SealConfig)) -> World {
    world_on(TestApp::start_tuned(
        |c| {
            c.chunk_bytes = CHUNK;
            seal(c);
        },
        |_| {},
    ))
}

/// A status and a JSON body, for requests the shared client does not make (raw PUT + header).
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    #[track_caller]
    fn problem(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.body["code"].as_str()),
            (status, Some(code)),
            "body: {}",
            self.body
        );
    }
}

fn put_part(app: &TestApp, who: &Client, upload: &str, index: u32, bytes: &[u8], digest: &str) -> Answer {
    let req = ureq::put(&format!("{}/api/v1/caricamenti/{upload}/parti/{index}", app.base_url))
        .set(
            "Authorization",
            &format!("Bearer {}", who.token.as_deref().expect("token")),
        )
        .set("Content-Type", "application/octet-stream")
        .set("X-Chunk-Sha256", digest);
    let resp = match req.send_bytes(bytes) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let body = serde_json::from_str(&resp.into_string().unwrap_or_default()).unwrap_or(Value::Null);
    Answer { status, body }
}

fn send(app: &TestApp, who: &Client, upload: &str, index: u32, bytes: &[u8]) -> Answer {
    put_part(app, who, upload, index, bytes, &sha256_hex(bytes))
}

fn start(who: &Client, bando: &str, kind: &str) -> Value {
    who.post(
        &format!("/api/v1/bandi/{bando}/offerta/buste/{kind}/caricamenti"),
        &json!({}),
    )
    .expect(201)
}

fn complete(who: &Client, upload: &str, parts: usize, whole: &[u8]) -> journeys::Reply {
    who.post(
        &format!("/api/v1/caricamenti/{upload}/completa"),
        &json!({ "parts": parts, "sha256": sha256_hex(whole) }),
    )
}

/// `plaintext` sealed to the tender key of `kind`, as read by `who`.
fn sealed_to(who: &Client, bando: &str, kind: &str, plaintext: &[u8]) -> Vec<u8> {
    let key = who.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200);
    let r = envelope::parse_recipient(key["recipients"][kind].as_str().expect("recipient")).expect("recipient");
    let mut out = Vec::new();
    envelope::seal_stream(&r, plaintext, &mut out).expect("seal");
    out
}

/// A plaintext of `n` bytes that does not compress to nothing.
fn plaintext(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn envelopes(c: &Client, bando: &str) -> Vec<Value> {
    let bids = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    bids.as_array()
        .expect("bids")
        .iter()
        .flat_map(|b| b["envelopes"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn bundle_when_integrated(who: &Client, envelope: &str) -> VerificationBundle {
    let t0 = Instant::now();
    loop {
        let b = who.get(&format!("/api/v1/buste/{envelope}/ricevuta")).expect(200);
        if !b["checkpoint"].is_null() && !b["leaf_index"].is_null() {
            return serde_json::from_value(b).expect("bundle");
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "leaf never integrated");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ciphertext(app: &TestApp, who: &Client, envelope: &str) -> Vec<u8> {
    let resp = ureq::get(&format!("{}/api/v1/buste/{envelope}/cifrato", app.base_url))
        .set(
            "Authorization",
            &format!("Bearer {}", who.token.as_deref().expect("token")),
        )
        .call()
        .expect("ciphertext");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).expect("read");
    out
}

fn works(w: &World, cig_n: u64) -> String {
    tender(
        w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori di via Roma", cig_n),
    )
}

fn staging_exists(w: &World, upload: &str) -> bool {
    w.app.seal_dir.join("uploads").join(upload).exists()
}

#[test]
fn a_part_resent_after_a_dropped_answer_changes_nothing_and_the_receipt_verifies_like_a_one_shot() {
    let w = tuned(|_| {});
    let bando = works(&w, 1_200_001);
    supplier(&w.app, "gare@acme.it");
    let acme = w.login("gare@acme.it");
    let whole = sealed_to(&acme, &bando, "A", &plaintext(10_000));
    let parts: Vec<&[u8]> = whole.chunks(CHUNK as usize).collect();
    assert_eq!(parts.len(), 3, "two full parts and a short last one");

    let s = start(&acme, &bando, "A");
    let up = id(&s);
    assert_eq!(
        (
            s["chunk_bytes"].as_u64(),
            s["received_parts"].as_u64(),
            s["received_bytes"].as_u64()
        ),
        (Some(CHUNK), Some(0), Some(0))
    );
    assert_eq!(s["state"], "open");
    assert!(s["expires_at"].is_string());

    let first = send(&w.app, &acme, &up, 0, parts[0]);
    assert_eq!(first.status, 201, "{}", first.body);
    // The connection dropped before the answer: the client sends part 0 again.
    let again = send(&w.app, &acme, &up, 0, parts[0]);
    assert_eq!(
        again.status, 200,
        "a repeat of the last part is idempotent: {}",
        again.body
    );
    assert_eq!(again.body["received_parts"], 1);
    // Where to resume.
    let st = acme.get(&format!("/api/v1/caricamenti/{up}")).expect(200);
    assert_eq!(
        (st["received_parts"].as_u64(), st["received_bytes"].as_u64()),
        (Some(1), Some(CHUNK))
    );
    assert_eq!(st["last_part_sha256"], sha256_hex(parts[0]).as_str());

    // Out of order: ahead, or an older index with other bytes.
    send(&w.app, &acme, &up, 2, parts[2]).problem(409, "upload_part_out_of_order");
    send(&w.app, &acme, &up, 0, parts[1]).problem(409, "upload_part_out_of_order");
    // A part whose bytes are not those the client hashed (damaged on the wire).
    let mut damaged = parts[1].to_vec();
    damaged[100] ^= 1;
    put_part(&w.app, &acme, &up, 1, &damaged, &sha256_hex(parts[1])).problem(422, "upload_part_digest");
    put_part(&w.app, &acme, &up, 1, parts[1], "not-hex").problem(422, "upload_digest_malformed");
    // A part larger than chunk_bytes is cut.
    let mut big = parts[1].to_vec();
    big.push(0);
    send(&w.app, &acme, &up, 1, &big).problem(413, "upload_part_too_large");
    let st = acme.get(&format!("/api/v1/caricamenti/{up}")).expect(200);
    assert_eq!(st["received_parts"], 1, "refused parts change nothing");

    assert_eq!(send(&w.app, &acme, &up, 1, parts[1]).status, 201);
    // Completing before the last part: the server counts parts, the last byte must be in.
    complete(&acme, &up, 3, &whole).expect_problem(409, "upload_parts_mismatch");
    let short = send(&w.app, &acme, &up, 2, parts[2]);
    assert_eq!(short.status, 201);
    assert_eq!(short.body["received_bytes"].as_u64(), Some(whole.len() as u64));
    // After a short part nothing more can follow.
    send(&w.app, &acme, &up, 3, b"age-encryption.org/v1\n").problem(409, "upload_part_after_last");

    // A wrong digest of the whole: refused, nothing stored.
    let mut other = whole.clone();
    other[0] ^= 1;
    complete(&acme, &up, 3, &other).expect_problem(422, "upload_digest");
    assert!(
        envelopes(&acme, &bando).is_empty(),
        "no envelope from a refused completion"
    );

    let receipt = complete(&acme, &up, 3, &whole).expect(201);
    assert_eq!(receipt["kind"], "A");
    assert_eq!(receipt["sealed_by"], "client");
    assert_eq!(receipt["sha256"], sha256_hex(&whole).as_str());
    assert_eq!(receipt["size"].as_u64(), Some(whole.len() as u64));
    assert!(receipt["receipt"]
        .as_str()
        .expect("receipt")
        .starts_with("centrale-receipt/v1\n"));
    // A double click on "complete": the same receipt, no second envelope.
    let twice = complete(&acme, &up, 3, &whole).expect(200);
    assert_eq!(twice["envelope_id"], receipt["envelope_id"]);
    assert_eq!(twice["receipt"], receipt["receipt"]);
    assert_eq!(envelopes(&acme, &bando).len(), 1);
    let st = acme.get(&format!("/api/v1/caricamenti/{up}")).expect(200);
    assert_eq!(
        (st["state"].as_str(), &st["envelope_id"]),
        (Some("completed"), &receipt["envelope_id"])
    );
    send(&w.app, &acme, &up, 3, parts[2]).problem(409, "upload_completed");
    assert!(!staging_exists(&w, &up), "the staged parts are removed once completed");

    // The same envelope kind sent one-shot (client-sealed): both receipts verify the same way,
    // through the same bundle route, against the ciphertext the API serves.
    let c_file = sealed_to(&acme, &bando, "C", &offer_c("12.5"));
    let one_shot = acme
        .post_raw(
            &format!("/api/v1/bandi/{bando}/offerta/buste/C?sealed=client"),
            "application/octet-stream",
            &c_file,
        )
        .expect(201);
    let keys = w.app.client().get("/api/v1/log/keys").expect(200);
    let pins = || Pins {
        platform_key: Some(
            offerte::bundle::parse_platform_key(keys["platform_key"].as_str().expect("pk")).expect("pk"),
        ),
        log_key: Some(
            seal::checkpoint::NoteVerifier::from_vkey(keys["log_key"].as_str().expect("vkey")).expect("vkey"),
        ),
    };
    let env = receipt["envelope_id"].as_str().expect("id");
    let served = ciphertext(&w.app, &acme, env);
    assert_eq!(served, whole, "the stored blob is the ciphertext, byte for byte");
    let resumed = verify_bundle(&bundle_when_integrated(&acme, env), &whole[..], None, pins()).expect("verifies");
    let c_id = one_shot["envelope_id"].as_str().expect("id");
    let direct = verify_bundle(&bundle_when_integrated(&acme, c_id), &c_file[..], None, pins()).expect("verifies");
    assert_eq!(resumed.checks, direct.checks);
    assert_eq!(
        resumed.checks,
        vec![
            "receipt-signature",
            "envelope-digest",
            "leaf-hash",
            "checkpoint-signature",
            "inclusion"
        ]
    );
    for k in [
        "bando_id",
        "bidder_id",
        "sealed_by",
        "tsa_token",
        "integrate_by",
        "leaf_hash",
    ] {
        assert!(!receipt[k].is_null() && !one_shot[k].is_null(), "{k} in both receipts");
    }
    // A plaintext is not accepted: only age ciphertext goes through this protocol.
    let up2 = id(&start(&acme, &bando, "A"));
    send(&w.app, &acme, &up2, 0, b"domanda in chiaro").problem(422, "envelope_not_age");
}

#[test]
fn an_upload_is_its_owners_alone_and_the_ente_learns_nothing_of_it_before_the_deadline() {
    let w = world();
    let bando = works(&w, 1_200_002);
    let acme_id = supplier(&w.app, "gare@acme.it");
    supplier(&w.app, "gare@other.it");
    let acme = w.login("gare@acme.it");
    let other = w.login("gare@other.it");
    let admin = w.app.admin();
    official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    let auditor = w.login("revisore@comune.milano.it");
    let whole = sealed_to(&acme, &bando, "A", b"domanda di partecipazione");
    let up = id(&start(&acme, &bando, "A"));
    assert_eq!(send(&w.app, &acme, &up, 0, &whole).status, 201);

    // Another supplier, the RUP, a custodian, the auditor, even the admin: no such upload.
    let custode = w.login("custode@comune.milano.it");
    for who in [&other, &w.rup, &custode, &auditor, &admin] {
        who.get(&format!("/api/v1/caricamenti/{up}"))
            .expect_problem(404, "not_found");
        send(&w.app, who, &up, 1, b"x").problem(404, "not_found");
        complete(who, &up, 1, &whole).expect_problem(404, "not_found");
        who.delete(&format!("/api/v1/caricamenti/{up}"))
            .expect_problem(404, "not_found");
    }
    // Officials cannot start one either.
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/offerta/buste/A/caricamenti"),
            &json!({}),
        )
        .expect_problem(403, "forbidden");

    // The ente's trail (auditor and admin read the same filtered listing) shows nothing.
    let trail = |c: &Client| -> String {
        c.get(&format!("/api/v1/enti/{}/audit-events?limit=500", w.ente))
            .expect(200)
            .to_string()
    };
    for text in [trail(&auditor), trail(&admin)] {
        assert!(!text.contains("offerte.upload"), "no upload event before the deadline");
        assert!(!text.contains(&up), "the upload id is not in the trail");
        assert!(!text.contains(&acme_id), "nor the bidder");
    }
    let done = complete(&acme, &up, 1, &whole).expect(201);
    assert!(!trail(&auditor).contains(&acme_id), "nor after the completion");

    // After the deadline the trail tells what happened, in order.
    w.app.clock.set(at("2026-06-05T10:00:01Z"));
    let auditor = w.login("revisore@comune.milano.it");
    let events = auditor
        .get(&format!("/api/v1/enti/{}/audit-events?limit=500", w.ente))
        .expect(200);
    let actions: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["details"]["bidder_id"] == acme_id.as_str())
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "offerte.upload_started",
            "offerte.upload_part_received",
            "offerte.envelope_submitted",
            "offerte.upload_completed"
        ]
    );
    assert!(events.to_string().contains(done["envelope_id"].as_str().expect("id")));
}

#[test]
fn parts_and_completion_after_the_deadline_are_refused_and_the_bid_stays_as_it_was() {
    let w = world();
    let bando = works(&w, 1_200_003);
    supplier(&w.app, "gare@acme.it");
    // A minute before the deadline (12:00 in Rome, 10:00Z).
    w.app.clock.set(at("2026-06-05T09:59:00Z"));
    let acme = w.login("gare@acme.it");
    let first = sealed_to(&acme, &bando, "A", b"prima domanda");
    acme.post_raw(
        &format!("/api/v1/bandi/{bando}/offerta/buste/A?sealed=client"),
        "application/octet-stream",
        &first,
    )
    .expect(201);
    let big = sealed_to(&acme, &bando, "A", &plaintext(100_000));
    let parts: Vec<&[u8]> = big.chunks(8 << 20).collect();
    assert_eq!(parts.len(), 1, "default chunk_bytes: one part");
    let whole = sealed_to(&acme, &bando, "A", &plaintext(2 * (8 << 20) + 10));
    let parts_of_whole: Vec<&[u8]> = whole.chunks(8 << 20).collect();
    assert_eq!(parts_of_whole.len(), 3);

    // Session 1: the last part would arrive after the deadline.
    let late = id(&start(&acme, &bando, "A"));
    assert_eq!(send(&w.app, &acme, &late, 0, parts_of_whole[0]).status, 201);
    assert_eq!(send(&w.app, &acme, &late, 1, parts_of_whole[1]).status, 201);
    // Completion with the parts received so far is not the envelope; completing "the rest
    // later" does not exist: the server only completes what it has.
    complete(&acme, &late, 3, &whole).expect_problem(409, "upload_parts_mismatch");
    complete(&acme, &late, 2, &whole).expect_problem(422, "upload_digest");
    // Session 2: every part in, completion after the deadline.
    let slow = id(&start(&acme, &bando, "A"));
    assert_eq!(send(&w.app, &acme, &slow, 0, parts[0]).status, 201);

    w.app.clock.set(at("2026-06-05T10:00:00Z"));
    send(&w.app, &acme, &late, 2, parts_of_whole[2]).problem(409, "deadline_passed");
    complete(&acme, &late, 3, &whole).expect_problem(409, "deadline_passed");
    complete(&acme, &slow, 1, &big).expect_problem(409, "deadline_passed");
    acme.post(
        &format!("/api/v1/bandi/{bando}/offerta/buste/A/caricamenti"),
        &json!({}),
    )
    .expect_problem(409, "deadline_passed");
    let env = envelopes(&acme, &bando);
    assert_eq!(env.len(), 1, "the bid is unchanged: {env:?}");
    assert_eq!(env[0]["sha256"], sha256_hex(&first).as_str());
    assert!(env[0]["superseded_at"].is_null());

    // The scheduler expires both sessions and removes their parts; the records stay.
    let t0 = Instant::now();
    loop {
        let a = acme.get(&format!("/api/v1/caricamenti/{late}")).expect(200);
        let b = acme.get(&format!("/api/v1/caricamenti/{slow}")).expect(200);
        if a["state"] == "expired"
            && b["state"] == "expired"
            && !staging_exists(&w, &late)
            && !staging_exists(&w, &slow)
        {
            assert_eq!(a["received_parts"], 2, "what arrived is still on record");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "never expired: {a} {b}");
        std::thread::sleep(Duration::from_millis(50));
    }
    send(&w.app, &acme, &late, 2, parts_of_whole[2]).problem(409, "deadline_passed");
}

#[test]
fn quotas_the_cap_on_open_uploads_expiry_and_two_completions_at_once() {
    let w = tuned(|c| {
        c.max_envelope_bytes = 3 * CHUNK;
        c.quota_bytes_per_tender = 4 * CHUNK;
        c.max_open_uploads = 2;
        c.upload_session_seconds = 3600;
    });
    let bando = works(&w, 1_200_004);
    supplier(&w.app, "gare@acme.it");
    let acme = w.login("gare@acme.it");
    let mut filler = b"age-encryption.org/v1\n".to_vec();
    filler.resize(CHUNK as usize, b'z');

    let one = id(&start(&acme, &bando, "A"));
    let two = id(&start(&acme, &bando, "C"));
    acme.post(
        &format!("/api/v1/bandi/{bando}/offerta/buste/A/caricamenti"),
        &json!({}),
    )
    .expect_problem(429, "upload_sessions_limit");
    // The size limit is on the whole envelope.
    for i in 0..3 {
        assert_eq!(send(&w.app, &acme, &one, i, &filler).status, 201);
    }
    send(&w.app, &acme, &one, 3, &filler).problem(413, "envelope_too_large");
    // Bytes staged in open uploads count against the quota, as envelopes do.
    assert_eq!(send(&w.app, &acme, &two, 0, &filler).status, 201);
    send(&w.app, &acme, &two, 1, &filler).problem(413, "upload_quota_bytes");

    // Abandoning frees a place and the bytes; the record stays, the parts go.
    let gone = acme.delete(&format!("/api/v1/caricamenti/{one}")).expect(200);
    assert_eq!(gone["state"], "abandoned");
    assert!(!staging_exists(&w, &one));
    send(&w.app, &acme, &one, 3, &filler).problem(409, "upload_abandoned");
    complete(&acme, &one, 3, &filler).expect_problem(409, "upload_abandoned");
    // An upload left open expires with the platform clock.
    w.app.clock.advance(chrono::Duration::seconds(3601));
    let acme = w.login("gare@acme.it");
    let t0 = Instant::now();
    while acme.get(&format!("/api/v1/caricamenti/{two}")).expect(200)["state"] != "expired" || staging_exists(&w, &two)
    {
        assert!(t0.elapsed() < Duration::from_secs(10), "never expired");
        std::thread::sleep(Duration::from_millis(50));
    }
    send(&w.app, &acme, &two, 1, &filler).problem(409, "upload_expired");

    // Two completions of the same upload at once: one envelope, one receipt.
    let whole = sealed_to(&acme, &bando, "A", b"domanda di partecipazione");
    let up = id(&start(&acme, &bando, "A"));
    assert_eq!(send(&w.app, &acme, &up, 0, &whole).status, 201);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (c, up, whole, barrier) = (acme.clone(), up.clone(), whole.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let r = complete(&c, &up, 1, &whole);
                (r.status, r.body)
            })
        })
        .collect();
    let mut results: Vec<(u16, Value)> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    results.sort_by_key(|r| r.0);
    assert_eq!((results[0].0, results[1].0), (200, 201), "{results:?}");
    assert_eq!(results[0].1["envelope_id"], results[1].1["envelope_id"]);
    assert_eq!(results[0].1["receipt"], results[1].1["receipt"]);
    let env = envelopes(&acme, &bando);
    assert_eq!(env.len(), 1, "{env:?}");
    assert_eq!(env[0]["envelope_id"], results[1].1["envelope_id"]);
}

/// On a tender with lots a resumable upload names its lot, as a one-shot upload does: without
/// one it is 422 `lot_required`, a lot on a tender without lots is 422 `tender_has_no_lots`,
/// and the envelope completed on
/// lot 1 belongs to lot 1's bid only (its receipt says `<tender>/<lot>`), lot 2 untouched.
#[test]
fn a_resumable_upload_on_a_tender_with_lots_belongs_to_its_lot() {
    let w = tuned(|_| {});
    let mut body = works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Manutenzione delle scuole", 1_200_101);
    body["lotti"] = json!([
        { "oggetto": "Lotto 1 - Scuole", "cig": cig(1_200_102), "base_amount": "600000.00", "safety_costs": "12000.00" },
        { "oggetto": "Lotto 2 - Uffici", "cig": cig(1_200_103), "base_amount": "400000.00", "safety_costs": "8000.00" }
    ]);
    let bando = tender(&w, body);
    let other = works(&w, 1_200_104);
    let public = w.app.client().get(&format!("/api/v1/public/bandi/{bando}")).expect(200);
    let lot1 = public["lotti"][0]["id"].as_str().expect("lot 1").to_string();
    supplier(&w.app, "gare@lotti.it");
    let c = w.login("gare@lotti.it");
    let path = |b: &str, lot: Option<&str>| {
        let q = lot.map(|l| format!("?lotto={l}")).unwrap_or_default();
        format!("/api/v1/bandi/{b}/offerta/buste/A/caricamenti{q}")
    };
    c.post(&path(&bando, None), &json!({}))
        .expect_problem(422, "lot_required");
    c.post(&path(&other, Some(&lot1)), &json!({}))
        .expect_problem(422, "tender_has_no_lots");
    let whole = sealed_to(&c, &bando, "A", &plaintext(10_000));
    let s = c.post(&path(&bando, Some(&lot1)), &json!({})).expect(201);
    let up = id(&s);
    let parts: Vec<&[u8]> = whole.chunks(CHUNK as usize).collect();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(send(&w.app, &c, &up, i as u32, p).status, 201);
    }
    let receipt = complete(&c, &up, parts.len(), &whole).expect(201);
    assert!(
        receipt["receipt"]
            .as_str()
            .expect("receipt")
            .contains(&format!("tender {bando}/{lot1}\n")),
        "{receipt}"
    );
    let bids = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let bids = bids.as_array().expect("bids");
    assert_eq!(bids.len(), 1, "one bid, for lot 1 only: {bids:?}");
    assert_eq!(bids[0]["lotto_id"], lot1.as_str());
    assert_eq!(bids[0]["envelopes"][0]["sha256"], sha256_hex(&whole).as_str());
}
