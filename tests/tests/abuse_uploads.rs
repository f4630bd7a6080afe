//! Issue 11 point 3, over real HTTP and PostgreSQL: uploads at the deadline. Stalled and
//! endless uploads are cut (408) and leave nothing; while they hang other bidders submit and
//! officials work (they hold no database connection, and the staging pool is bounded: 503
//! with Retry-After when full); each bidder's bytes and replacements per tender are bounded,
//! counted over superseded envelopes and withdrawn bids, double clicks included.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::uploads::{UploadLimits, Uploads};
use journeys::serde_json::{json, Value};
use journeys::tender_world::*;
use journeys::{TestApp, POOL_SIZE};

/// A world whose app has these upload limits (and seal quotas); returns its staging pool.
fn world_with(limits: UploadLimits, seal: impl FnOnce(&mut offerte::SealConfig)) -> (World, Arc<Uploads>) {
    let held: Arc<Mutex<Option<Arc<Uploads>>>> = Arc::default();
    let keep = held.clone();
    let app = TestApp::start_tuned(seal, move |state| {
        state.uploads = Arc::new(Uploads::new(limits, POOL_SIZE));
        *keep.lock().expect("lock") = Some(state.uploads.clone());
    });
    let uploads = held.lock().expect("lock").take().expect("uploads");
    (world_on(app), uploads)
}

fn buste(bando: &str, kind: &str) -> String {
    format!("/api/v1/bandi/{bando}/offerta/buste/{kind}")
}

/// An upload that announces a megabyte, sends a few bytes, then (unless `trickle`) nothing.
fn slow_upload(
    base_url: &str,
    token: &str,
    path: &str,
    trickle: Option<Duration>,
) -> std::thread::JoinHandle<(Option<u16>, Duration)> {
    let addr = base_url.trim_start_matches("http://").to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
    );
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut s = TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        s.write_all(head.as_bytes()).expect("head");
        s.write_all(b"domanda e DGUE, prima parte").expect("first bytes");
        if let Some(every) = trickle {
            // One byte now and then: never idle, but never done.
            let reader = s.try_clone().expect("clone");
            reader.set_nonblocking(true).expect("nonblocking");
            let mut probe = [0u8; 1];
            loop {
                std::thread::sleep(every);
                // Peek: the response, once there, is read whole below.
                match reader.peek(&mut probe) {
                    Ok(_) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
                if s.write_all(b"x").is_err() {
                    break;
                }
            }
            reader.set_nonblocking(false).expect("blocking");
        }
        (status_of(&mut s), started.elapsed())
    })
}

/// The status of the response on this connection, or `None` if it was closed without one.
fn status_of(s: &mut TcpStream) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
}

#[track_caller]
fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn staging_files(w: &World) -> usize {
    std::fs::read_dir(w.app.seal_dir.join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn envelopes(c: &journeys::Client, bando: &str) -> Vec<Value> {
    let bids = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    bids.as_array()
        .expect("bids")
        .iter()
        .flat_map(|b| b["envelopes"].as_array().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn stalled_uploads_hold_no_connection_end_in_408_and_leave_no_bid_while_others_submit() {
    let limits = UploadLimits {
        idle_timeout: Duration::from_secs(3),
        max_duration: Duration::from_secs(6),
        max_concurrent: 8,
        max_concurrent_commits: 0,
        slot_wait: Duration::from_millis(300),
        retry_after_seconds: 7,
    };
    let (w, uploads) = world_with(limits, |_| {});
    let bando = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori di via Roma", 1_130_001),
    );
    supplier(&w.app, "lento1@imprese.it");
    supplier(&w.app, "lento2@imprese.it");
    supplier(&w.app, "onesto@imprese.it");
    let slow: Vec<journeys::Client> = ["lento1@imprese.it", "lento2@imprese.it"]
        .iter()
        .map(|e| w.login(e))
        .collect();
    let honest = w.login("onesto@imprese.it");
    let admin = w.app.admin();
    let token = |c: &journeys::Client| c.token.clone().expect("token");

    // More stalled uploads than the main pool has connections, plus one that trickles.
    let stalled = 6;
    assert!(stalled > POOL_SIZE as usize);
    let mut hanging = Vec::new();
    for i in 0..stalled {
        let c = &slow[i % 2];
        let kind = if i % 2 == 0 { "A" } else { "C" };
        hanging.push(slow_upload(&w.app.base_url, &token(c), &buste(&bando, kind), None));
    }
    let trickler = slow_upload(
        &w.app.base_url,
        &token(&slow[0]),
        &buste(&bando, "A"),
        Some(Duration::from_millis(400)),
    );
    wait_until("the slow uploads hold their slots", || {
        uploads.free_slots() == 8 - stalled - 1
    });
    let hung_at = Instant::now();

    // While they hang: another bidder submits whole envelopes, officials and admins work.
    submit(&honest, &bando, "A", b"domanda e DGUE dell'onesto");
    submit(&honest, &bando, "C", &offer_c("11.50"));
    for _ in 0..2 * POOL_SIZE {
        w.rup.get(&format!("/api/v1/bandi/{bando}")).expect(200);
    }
    admin.get("/api/v1/users").expect(200);
    assert_eq!(envelopes(&honest, &bando).len(), 2);
    assert!(
        hung_at.elapsed() < Duration::from_secs(3),
        "all of this happened while they hung"
    );
    assert_eq!(uploads.free_slots(), 8 - stalled - 1, "still hanging");

    // A full staging pool makes the next upload wait for a slot, up to `slot_wait`, then
    // refuses it with Retry-After, and keeps nothing.
    let mut fillers = Vec::new();
    for _ in 0..uploads.free_slots() {
        fillers.push(slow_upload(
            &w.app.base_url,
            &token(&slow[1]),
            &buste(&bando, "A"),
            None,
        ));
    }
    wait_until("the pool is full", || uploads.free_slots() == 0);
    let asked = Instant::now();
    let refused = ureq::post(&format!("{}{}", w.app.base_url, buste(&bando, "A")))
        .set("Authorization", &format!("Bearer {}", token(&honest)))
        .set("Content-Type", "application/octet-stream")
        .send_bytes(b"una sostituzione");
    match refused {
        Err(ureq::Error::Status(503, r)) => {
            assert_eq!(r.header("Retry-After"), Some("7"));
            assert_eq!(r.content_type(), "application/problem+json");
            let body: Value = r.into_json().expect("problem");
            assert_eq!(body["code"], "upload_slots_full", "{body}");
        }
        other => panic!("expected 503 upload_slots_full, got {other:?}"),
    }
    assert!(
        asked.elapsed() >= Duration::from_millis(300),
        "it waited for a slot first"
    );
    assert_eq!(envelopes(&honest, &bando).len(), 2, "nothing changed");

    // The stalled ones end with 408 (or a closed connection), after the idle timeout.
    for h in hanging.into_iter().chain(fillers) {
        let (status, took) = h.join().expect("stalled upload");
        assert!(matches!(status, Some(408) | None), "{status:?}");
        assert!(took >= Duration::from_millis(2900), "{took:?}");
    }
    // The trickling one never idles but is cut at the total time limit.
    let (status, took) = trickler.join().expect("trickler");
    assert!(matches!(status, Some(408) | None), "{status:?}");
    assert!(
        took >= Duration::from_millis(5900) && took < Duration::from_secs(20),
        "{took:?}"
    );
    wait_until("every slot is free again", || uploads.free_slots() == 8);
    // They left no bid, no envelope and no staging file.
    for c in &slow {
        assert_eq!(c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200), json!([]));
    }
    wait_until("no staging file is left", || staging_files(&w) == 0);
    // And the platform goes on: the honest bidder replaces its envelope.
    submit(&honest, &bando, "C", &offer_c("12.00"));
    assert_eq!(envelopes(&honest, &bando).len(), 3);
}

#[test]
fn quotas_of_bytes_and_replacements_count_superseded_envelopes_withdrawals_and_double_clicks() {
    let (w, _) = world_with(UploadLimits::default(), |seal| {
        seal.quota_bytes_per_tender = 3000;
        seal.max_replacements_per_kind = 2;
    });
    let bando = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori di via Po", 1_130_002),
    );
    for e in ["grande@imprese.it", "indecisa@imprese.it", "doppio@imprese.it"] {
        supplier(&w.app, e);
    }
    let big = w.login("grande@imprese.it");
    let a = |c: &journeys::Client, body: &[u8]| c.post_raw(&buste(&bando, "A"), "application/octet-stream", body);

    // Bytes: two envelopes of 1000 bytes fit; the third does not, although the one it would
    // replace is superseded (the superseded envelope is kept, so it still counts).
    let first = a(&big, &[b'a'; 1000]).expect(201);
    let size = first["size"].as_u64().expect("size");
    assert!(
        2 * size <= 3000 && 3 * size > 3000,
        "the test's premise: ciphertext of {size} bytes"
    );
    a(&big, &[b'b'; 1000]).expect(201);
    let refused = a(&big, &[b'c'; 1000]).expect_problem(413, "upload_quota_bytes");
    assert!(
        refused["detail"]
            .as_str()
            .expect("detail")
            .contains("comprese quelle sostituite"),
        "{refused}"
    );
    assert_eq!(envelopes(&big, &bando).len(), 2, "nothing changed on refusal");
    // Withdrawing the bid does not give the bytes back.
    big.delete(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    a(&big, &[b'd'; 1000]).expect_problem(413, "upload_quota_bytes");

    // Replacements: the first envelope and two replacements; the third replacement is refused,
    // also after a withdrawal (a new bid does not reset the count).
    let undecided = w.login("indecisa@imprese.it");
    for d in ["10.00", "10.50", "11.00"] {
        submit(&undecided, &bando, "C", &offer_c(d));
    }
    let refused = undecided
        .post_raw(&buste(&bando, "C"), "application/octet-stream", &offer_c("11.50"))
        .expect_problem(429, "upload_quota_replacements");
    assert!(
        refused["detail"].as_str().expect("detail").contains("busta C"),
        "{refused}"
    );
    let current: Vec<Value> = envelopes(&undecided, &bando)
        .into_iter()
        .filter(|e| e["superseded_at"].is_null())
        .collect();
    assert_eq!(current.len(), 1);
    // Envelope A has its own count.
    submit(&undecided, &bando, "A", b"domanda");
    undecided.delete(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    undecided
        .post_raw(&buste(&bando, "C"), "application/octet-stream", &offer_c("12.00"))
        .expect_problem(429, "upload_quota_replacements");

    // The double click on the last replacement: one is accepted, the other refused (429),
    // never both.
    let double = w.login("doppio@imprese.it");
    submit(&double, &bando, "C", &offer_c("9.00"));
    submit(&double, &bando, "C", &offer_c("9.50"));
    let second = w.login("doppio@imprese.it");
    let statuses = std::thread::scope(|s| {
        let x = s.spawn(|| {
            double
                .post_raw(&buste(&bando, "C"), "application/octet-stream", &offer_c("9.75"))
                .status
        });
        let y = s.spawn(|| {
            second
                .post_raw(&buste(&bando, "C"), "application/octet-stream", &offer_c("9.75"))
                .status
        });
        let mut v = [x.join().expect("x"), y.join().expect("y")];
        v.sort();
        v
    });
    assert_eq!(statuses, [201, 429]);
    assert_eq!(envelopes(&double, &bando).len(), 3);
    wait_until("no staging file is left", || staging_files(&w) == 0);
}

/// At a deadline rush the staging pool is full for moments at a time: an upload that finds it
/// full waits for the next free slot (in turn, holding no thread and no connection) instead of
/// being told to come back later (issue 15), and is accepted once a slot frees up.
#[test]
fn an_upload_finding_the_pool_full_waits_for_the_next_free_slot_and_is_accepted() {
    let limits = UploadLimits {
        idle_timeout: Duration::from_secs(2),
        max_duration: Duration::from_secs(60),
        max_concurrent: 1,
        max_concurrent_commits: 0,
        slot_wait: Duration::from_secs(20),
        retry_after_seconds: 5,
    };
    let (w, uploads) = world_with(limits, |_| {});
    let bando = tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori di via Verdi", 1_130_002),
    );
    supplier(&w.app, "fermo@imprese.it");
    supplier(&w.app, "paziente@imprese.it");
    let stalled = w.login("fermo@imprese.it");
    let patient = w.login("paziente@imprese.it");
    // The one slot is taken by an upload that stalls: cut after the idle timeout (2 s).
    let hanging = slow_upload(
        &w.app.base_url,
        &stalled.token.clone().expect("token"),
        &buste(&bando, "A"),
        None,
    );
    wait_until("the pool is full", || uploads.free_slots() == 0);
    let asked = Instant::now();
    submit(&patient, &bando, "A", b"domanda in coda");
    assert!(
        asked.elapsed() >= Duration::from_millis(1500),
        "it was served after the stalled upload let go of the slot, not beside it"
    );
    let (status, _) = hanging.join().expect("stalled upload");
    assert!(matches!(status, Some(408) | None), "{status:?}");
    assert_eq!(envelopes(&patient, &bando).len(), 1);
    assert!(envelopes(&stalled, &bando).is_empty());
    wait_until("the slot is free again", || uploads.free_slots() == 1);
}
