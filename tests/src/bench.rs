//! The scenarios of `make bench` (issue 15), against the same harness as the tests: a real
//! PostgreSQL, the real server (as `centrale serve` runs it: one worker per core, pool of 10,
//! the default upload limits; [`TestApp::start_as_served`]) and its injectable clock, so the
//! rush happens in the minute before the deadline and then crosses it without waiting.
//!
//! The load generator is this process's threads, one keep-alive connection each (ureq);
//! its CPU share is their own CPU time (`/proc/thread-self/schedstat`) over the CPU the whole
//! machine spent meanwhile (`/proc/stat`), so a saturated generator shows. Each scenario
//! measures its physical anchor in the same run: `pgbench` on the same cluster for the rush,
//! `dd` and `openssl dgst` on the blob store's filesystem for the big envelope, `/healthz` of
//! the same server for the reads. Each scenario has its own server and database.
//!
//! `tests/benches/platform.rs` runs [`Sizes::full`] in release mode and writes
//! `target/bench/results.json`; the suite's `bench_smoke` runs [`Sizes::smoke`] (seconds) and
//! checks what must hold whatever the speed: every receipt verifies, nothing late accepted.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use offerte::bundle::{verify_bundle, Pins, VerificationBundle};
use serde_json::{json, Value};

use crate::tender_world::{at, official, open, supplier, tender, world_on, World, PASSWORD};
use crate::TestApp;

/// How big each scenario is.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Concurrent supplier clients of the rush (each its own connection).
    pub clients: usize,
    /// Bids of the rush, three envelopes each (one supplier per bid).
    pub bids: usize,
    /// Bytes of each envelope's plaintext.
    pub envelope_bytes: usize,
    /// The paced rush spreads the bids over this many seconds (the scenario's minute).
    pub pace_seconds: u64,
    /// Published tenders behind the public list.
    pub tenders: usize,
    /// Connections of the public reads.
    pub read_connections: usize,
    pub read_seconds: u64,
    pub anchor_seconds: u64,
    /// Offers of the anomaly computation.
    pub anomaly_offers: usize,
    /// Bidders of the award report, and of the tender whose auditor's bundle is exported.
    pub report_bids: usize,
    /// Plaintext bytes of the big envelope (just under the default 1 GiB limit, which counts
    /// the ciphertext).
    pub big_envelope_bytes: u64,
    /// Offers, criteria and commissioners of the OEPV award.
    pub oepv_offers: usize,
    pub oepv_criteria: usize,
    pub commissioners: usize,
}

impl Sizes {
    /// Issue 15's figures.
    pub fn full() -> Self {
        Sizes {
            clients: 500,
            bids: 5_000,
            envelope_bytes: 4 * 1024,
            pace_seconds: 60,
            tenders: 1_000,
            read_connections: 64,
            read_seconds: 10,
            anchor_seconds: 10,
            anomaly_offers: 10_000,
            report_bids: 2_000,
            big_envelope_bytes: 1023 << 20,
            oepv_offers: 1_000,
            oepv_criteria: 10,
            commissioners: 5,
        }
    }

    /// A few seconds in a debug build: the harness works and the invariants hold.
    pub fn smoke() -> Self {
        Sizes {
            clients: 3,
            bids: 6,
            envelope_bytes: 512,
            pace_seconds: 1,
            tenders: 3,
            read_connections: 2,
            read_seconds: 1,
            anchor_seconds: 1,
            anomaly_offers: 200,
            report_bids: 6,
            big_envelope_bytes: 4 << 20,
            oepv_offers: 4,
            oepv_criteria: 10,
            commissioners: 5,
        }
    }
}

/// The scenarios, each on its own server and database.
pub const SCENARIOS: [&str; 5] = ["rush", "big_envelope", "award", "report", "reads"];

/// Every scenario; the keys of issue 15's `results.json` (null where not measured yet).
pub fn run(s: &Sizes) -> Value {
    run_only(s, &SCENARIOS)
}

/// The scenarios named in `only` (the others `null`), e.g. from `BENCH_ONLY=reads,award`.
pub fn run_only(s: &Sizes, only: &[&str]) -> Value {
    let scenario = |name: &str, f: fn(&Sizes) -> Value| if only.contains(&name) { f(s) } else { Value::Null };
    json!({
        "sizes": {
            "clients": s.clients, "bids": s.bids, "envelope_bytes": s.envelope_bytes,
            "tenders": s.tenders, "read_connections": s.read_connections,
            "big_envelope_bytes": s.big_envelope_bytes, "oepv_offers": s.oepv_offers,
            "oepv_criteria": s.oepv_criteria, "commissioners": s.commissioners, "report_bids": s.report_bids,
        },
        "rush": scenario("rush", rush),
        "big_envelope": scenario("big_envelope", big_envelope),
        "award": scenario("award", award),
        "report": scenario("report", report),
        "reads": scenario("reads", reads),
        "scale_out": Value::Null,
    })
}

/// CPU seconds every core of the machine spent not idle.
fn machine_busy() -> f64 {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = text.lines().next() else { return 0.0 };
    let v: Vec<f64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: f64 = v.iter().sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle) / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn round(x: f64, decimals: i32) -> f64 {
    let m = 10f64.powi(decimals);
    (x * m).round() / m
}

/// One POST of raw bytes on `agent`: (status, body, milliseconds).
fn post_raw(agent: &ureq::Agent, url: &str, token: &str, body: &[u8]) -> (u16, Value, f64) {
    let (status, reply, ms, _) = post_raw_retry_after(agent, url, token, body);
    (status, reply, ms)
}

/// [`post_raw`] with the answer's `Retry-After` in seconds, when it has one.
fn post_raw_retry_after(agent: &ureq::Agent, url: &str, token: &str, body: &[u8]) -> (u16, Value, f64, Option<u64>) {
    let t0 = Instant::now();
    let r = agent
        .post(url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/octet-stream")
        .send_bytes(body);
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let retry_after = |resp: &ureq::Response| resp.header("retry-after").and_then(|v| v.trim().parse().ok());
    match r {
        Ok(resp) => {
            let status = resp.status();
            let after = retry_after(&resp);
            (status, resp.into_json().unwrap_or(Value::Null), ms, after)
        }
        Err(ureq::Error::Status(code, resp)) => {
            let after = retry_after(&resp);
            (code, resp.into_json().unwrap_or(Value::Null), ms, after)
        }
        Err(_) => (0, Value::Null, ms, None),
    }
}

fn get_bytes(agent: &ureq::Agent, url: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = agent.get(url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(_) => return (0, Vec::new()),
    };
    let status = resp.status();
    let mut out = Vec::new();
    let _ = resp.into_reader().read_to_end(&mut out);
    (status, out)
}

/// `pgbench`'s one-row INSERT with synchronous commit, `clients` connections for `seconds`,
/// on the database at `db_url`: its transactions per second (None when pgbench is missing).
pub fn pgbench_insert_tps(db_url: &str, clients: usize, seconds: u64) -> Option<f64> {
    crate::psql(
        db_url,
        "CREATE TABLE IF NOT EXISTS bench_anchor (id bigserial PRIMARY KEY, v int)",
    );
    let script = std::env::temp_dir().join(format!("centrale-bench-{}.sql", uuid::Uuid::new_v4()));
    std::fs::write(&script, "INSERT INTO bench_anchor (v) VALUES (1);\n").ok()?;
    let out = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-f",
        ])
        .arg(&script)
        .arg(db_url)
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Suppliers registered, qualified and logged in, `threads` at a time (Argon2 makes this the
/// slow part of the setup): their bearer tokens.
fn suppliers(app: &TestApp, n: usize, tag: &str) -> Vec<String> {
    let tokens = Arc::new(Mutex::new(vec![String::new(); n]));
    std::thread::scope(|s| {
        let threads = std::thread::available_parallelism().map_or(2, usize::from) * 2;
        for t in 0..threads {
            let tokens = tokens.clone();
            s.spawn(move || {
                for i in (t..n).step_by(threads) {
                    let email = format!("impresa{i}@{tag}.bench.it");
                    supplier(app, &email);
                    let c = app.client().logged_in(&email, PASSWORD);
                    tokens.lock().expect("tokens")[i] = c.token.expect("token");
                }
            });
        }
    });
    Arc::try_unwrap(tokens)
        .expect("threads done")
        .into_inner()
        .expect("tokens")
}

/// The deadline of the fixtures' tenders (5 June 2026, 12:00 Rome).
fn deadline() -> chrono::DateTime<chrono::Utc> {
    at("2026-06-05T10:00:00Z")
}

struct Sent {
    /// Index of the bidder (its token) who sent it.
    owner: usize,
    status: u16,
    envelope_id: Option<String>,
    ms: f64,
}

/// One rush: every bidder of `tokens` sends A, B and C to `bando`, `clients` connections at
/// once. `sealed`, when given, holds each bidder's three envelopes already sealed by the
/// client (sent with `?sealed=client`); otherwise the plaintext is sent and the server seals.
struct Storm {
    sent: Vec<Sent>,
    /// Answers 503 (staging pool full) that were tried again after their Retry-After.
    retried: usize,
    wall: f64,
    generator_cpu: f64,
    busy: f64,
}

const KINDS: [&str; 3] = ["A", "B", "C"];

/// Attempts of one envelope answered 503 before the client gives up.
const RETRIES: u32 = 10;

/// `pace`: none, every client sends as fast as it is answered (the platform's saturation
/// rate); some, bid `i` is due at `i / bids` of it from the start (the bids spread over the
/// minute, as the scenario has them arrive), and a bid's first envelope is timed from when it
/// was due, so a server falling behind shows in the latencies instead of slowing the senders.
fn storm(
    base: &str,
    s: &Sizes,
    tokens: &[String],
    body: &(dyn Fn(usize, usize) -> Vec<u8> + Sync),
    query: &str,
    pace: Option<Duration>,
) -> Storm {
    let busy0 = machine_busy();
    let started = Instant::now();
    let due = |i: usize| pace.map(|p| started + p.mul_f64(i as f64 / tokens.len().max(1) as f64));
    let (sent, generator_cpu, retried): (Vec<Sent>, f64, usize) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..s.clients.min(tokens.len()))
            .map(|c| {
                scope.spawn(move || {
                    let cpu0 = thread_cpu_ns();
                    let agent = ureq::AgentBuilder::new().max_idle_connections_per_host(1).build();
                    let mut out = Vec::new();
                    let mut retries = 0;
                    for i in (c..tokens.len()).step_by(s.clients) {
                        let due = due(i);
                        if let Some(due) = due {
                            std::thread::sleep(due.saturating_duration_since(Instant::now()));
                        }
                        for (k, kind) in KINDS.iter().enumerate() {
                            let url = format!("{base}/{kind}{query}");
                            let envelope = body(i, k);
                            let from = match due {
                                Some(due) if k == 0 => due,
                                _ => Instant::now(),
                            };
                            // As a bidder's client does: a full staging pool (503) is tried
                            // again after its Retry-After, a few times, before the deadline.
                            let mut attempt = 0;
                            let (status, reply, ms) = loop {
                                let (status, reply, ms, after) =
                                    post_raw_retry_after(&agent, &url, &tokens[i], &envelope);
                                attempt += 1;
                                match after {
                                    Some(secs) if status == 503 && attempt < RETRIES => {
                                        retries += 1;
                                        std::thread::sleep(Duration::from_secs(secs));
                                    }
                                    _ if pace.is_some() => break (status, reply, from.elapsed().as_secs_f64() * 1e3),
                                    _ => break (status, reply, ms),
                                }
                            };
                            out.push(Sent {
                                owner: i,
                                status,
                                envelope_id: reply["envelope_id"].as_str().map(str::to_string),
                                ms,
                            });
                        }
                    }
                    (out, thread_cpu_ns() - cpu0, retries)
                })
            })
            .collect();
        let mut all = Vec::new();
        let (mut cpu, mut retried) = (0, 0);
        for h in handles {
            let (o, c, r) = h.join().expect("client");
            all.extend(o);
            cpu += c;
            retried += r;
        }
        (all, cpu as f64 / 1e9, retried)
    });
    Storm {
        sent,
        retried,
        wall: started.elapsed().as_secs_f64(),
        generator_cpu,
        busy: (machine_busy() - busy0).max(f64::EPSILON),
    }
}

/// What the rush on one tender gave, once the deadline has passed: rate, latencies, and the
/// checks (late envelopes, receipts verified offline, the log).
fn rush_figures(w: &World, bando: &str, storm: &Storm, tokens: &[String], anchor: Option<f64>) -> Value {
    let accepted: Vec<&Sent> = storm.sent.iter().filter(|x| x.status == 201).collect();
    let mut ms: Vec<f64> = accepted.iter().map(|x| x.ms).collect();
    ms.sort_by(f64::total_cmp);
    let base = format!("{}/api/v1/bandi/{bando}/offerta/buste", w.app.base_url);
    let agent = ureq::AgentBuilder::new().build();
    let late_accepted = tokens
        .iter()
        .take(20)
        .filter(|t| post_raw(&agent, &format!("{base}/A"), t, b"tardi").0 == 201)
        .count();

    // Every receipt, as its bidder checks it: bundle + ciphertext, pinned to the published keys.
    let keys = w.app.client().get("/api/v1/log/keys").expect(200);
    let platform_key = keys["platform_key"].as_str().expect("platform key").to_string();
    let log_key = keys["log_key"].as_str().expect("log key").to_string();
    let verified = std::sync::atomic::AtomicUsize::new(0);
    let ids: Vec<(String, usize)> = accepted
        .iter()
        .filter_map(|x| x.envelope_id.clone().map(|e| (e, x.owner)))
        .collect();
    std::thread::scope(|scope| {
        let threads = 4;
        for t in 0..threads {
            let (ids, verified) = (&ids, &verified);
            let (base, platform_key, log_key) = (&w.app.base_url, &platform_key, &log_key);
            scope.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                for (id, owner) in ids.iter().skip(t).step_by(threads) {
                    if verify_receipt(base, &agent, id, &tokens[*owner], platform_key, log_key) {
                        verified.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let in_log: usize = w
        .app
        .psql(&format!(
            "SELECT count(*) FROM log_leaves WHERE kind = 'envelope_received' AND bando_id = '{bando}' AND leaf_index IS NOT NULL"
        ))
        .parse()
        .unwrap_or(0);
    let distinct: usize = w
        .app
        .psql(&format!(
            "SELECT count(DISTINCT leaf_hash) FROM log_leaves WHERE kind = 'envelope_received' AND bando_id = '{bando}'"
        ))
        .parse()
        .unwrap_or(0);
    let eps = accepted.len() as f64 / storm.wall;
    let mut refused_by_status = serde_json::Map::new();
    for x in storm.sent.iter().filter(|x| x.status != 201) {
        let n = refused_by_status.entry(x.status.to_string()).or_insert(json!(0));
        *n = json!(n.as_u64().unwrap_or(0) + 1);
    }
    json!({
        "envelopes_per_s": round(eps, 1),
        "p50_ms": round(percentile(&ms, 50.0), 1),
        "p99_ms": round(percentile(&ms, 99.0), 1),
        "max_ms": round(ms.last().copied().unwrap_or(0.0), 1),
        "ratio": anchor.map(|a| round(eps / a, 3)),
        "sent": storm.sent.len(),
        "refused": storm.sent.len() - accepted.len(),
        "refused_by_status": refused_by_status,
        "retried_503": storm.retried,
        "receipts_total": ids.len(),
        "receipts_verified": verified.into_inner(),
        "in_log": in_log,
        "log_duplicates": in_log.saturating_sub(distinct),
        "late_accepted": late_accepted,
        "client_cpu_share": round(storm.generator_cpu / storm.busy, 3),
    })
}

/// The age recipient of each envelope kind of `bando`, as `centrale seal --recipient` takes it.
fn recipients(w: &World, bando: &str) -> Vec<seal::envelope::AgeRecipient> {
    let key = w.rup.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200);
    KINDS
        .iter()
        .map(|k| {
            seal::envelope::parse_recipient(key["recipients"][*k].as_str().expect("recipient")).expect("age recipient")
        })
        .collect()
}

/// Scenario 1: `bids` suppliers, `clients` at once, each with its own connection, submit A, B
/// and C in the minute before the deadline, twice on two tenders: plaintext sealed by the
/// server, then envelopes sealed beforehand by each client (`centrale seal`, not timed) to the
/// tender's recipients. Then the deadline passes, late envelopes are tried, and every receipt
/// is verified offline as a bidder would. The client-sealed figures carry `client_sealed_`.
pub fn rush(s: &Sizes) -> Value {
    let mut w: World = world_on(TestApp::start_as_served());
    let servers = crate::browser::services_tender_body(&w, "Servizio di pulizia: la corsa al termine", 1_500_001);
    let server_bando = tender(&w, servers);
    let clients =
        crate::browser::services_tender_body(&w, "Servizio di vigilanza: buste sigillate in proprio", 1_500_002);
    let client_bando = tender(&w, clients);
    let paced = crate::browser::services_tender_body(&w, "Servizio di portierato: le offerte nel minuto", 1_500_003);
    let paced_bando = tender(&w, paced);
    w.app.clock.set(deadline() - chrono::Duration::seconds(60));
    w.relogin();
    let tokens = suppliers(&w.app, s.bids, "rush");
    let payload = |i: usize, k: usize| {
        let mut b = format!("offerta {i} busta {} ", KINDS[k]).into_bytes();
        b.resize(s.envelope_bytes, b'.');
        b
    };
    let base = |bando: &str| format!("{}/api/v1/bandi/{bando}/offerta/buste", w.app.base_url);
    let server = storm(&base(&server_bando), s, &tokens, &payload, "", None);

    let to = recipients(&w, &client_bando);
    let sealed: Vec<[Vec<u8>; 3]> = (0..tokens.len())
        .map(|i| {
            std::array::from_fn(|k| {
                let mut out = Vec::new();
                seal::envelope::seal_stream(&to[k], payload(i, k).as_slice(), &mut out).expect("seals");
                out
            })
        })
        .collect();
    let client = storm(
        &base(&client_bando),
        s,
        &tokens,
        &|i: usize, k: usize| sealed[i][k].clone(),
        "?sealed=client",
        None,
    );
    // The same bids again, server-sealed, arriving as the scenario has them: spread over the
    // minute before the deadline (`s.pace_seconds`).
    let paced = storm(
        &base(&paced_bando),
        s,
        &tokens,
        &payload,
        "",
        Some(Duration::from_secs(s.pace_seconds)),
    );

    // The deadline passes: both tenders close in the log, and nothing more is accepted.
    w.app.clock.set(deadline() + chrono::Duration::seconds(1));
    let t0 = Instant::now();
    while w.app.psql(&format!(
        "SELECT count(*) FROM seal_closures WHERE bando_id IN ('{server_bando}', '{client_bando}', '{paced_bando}')"
    )) != "3"
    {
        assert!(t0.elapsed() < Duration::from_secs(120), "the tenders never closed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let connections = s.clients.min(250);
    let anchor = pgbench_insert_tps(&w.app.db_url, connections, s.anchor_seconds);
    let mut out = rush_figures(&w, &server_bando, &server, &tokens, anchor);
    let client = rush_figures(&w, &client_bando, &client, &tokens, anchor);
    let o = out.as_object_mut().expect("figures");
    o.insert("anchor_tps".into(), json!(anchor.map(|a| round(a, 1))));
    o.insert("anchor_connections".into(), json!(connections));
    for (k, v) in client.as_object().expect("figures") {
        o.insert(format!("client_sealed_{k}"), v.clone());
    }
    let paced = rush_figures(&w, &paced_bando, &paced, &tokens, None);
    for (k, v) in paced.as_object().expect("figures") {
        if k != "ratio" {
            o.insert(format!("paced_{k}"), v.clone());
        }
    }
    o.insert("paced_seconds".into(), json!(s.pace_seconds));
    out
}

/// A receipt as its bidder checks it offline (`centrale verify`'s checks, keys pinned from
/// `/log/keys`): the bundle once its leaf is integrated, and the ciphertext.
fn verify_receipt(
    base: &str,
    agent: &ureq::Agent,
    envelope: &str,
    token: &str,
    platform_key: &str,
    log_key: &str,
) -> bool {
    let (Ok(platform_key), Ok(log_key)) = (
        offerte::bundle::parse_platform_key(platform_key),
        seal::checkpoint::NoteVerifier::from_vkey(log_key),
    ) else {
        return false;
    };
    receipt_verifies(
        agent,
        base,
        envelope,
        token,
        Pins {
            platform_key: Some(platform_key),
            log_key: Some(log_key),
        },
    )
}

/// [`verify_receipt`] with the keys already pinned (the scale-out scenario's checks too): waits
/// up to a minute for the leaf to be in a checkpoint, then verifies bundle and ciphertext.
pub(crate) fn receipt_verifies(agent: &ureq::Agent, base: &str, envelope: &str, token: &str, pins: Pins) -> bool {
    let token = Some(token);
    let t0 = Instant::now();
    let bundle: VerificationBundle = loop {
        let (status, bytes) = get_bytes(agent, &format!("{base}/api/v1/buste/{envelope}/ricevuta"), token);
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == 200 && !v["checkpoint"].is_null() && !v["leaf_index"].is_null() {
            match serde_json::from_value(v) {
                Ok(b) => break b,
                Err(_) => return false,
            }
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (status, cipher) = get_bytes(agent, &format!("{base}/api/v1/buste/{envelope}/cifrato"), token);
    status == 200 && verify_bundle(&bundle, cipher.as_slice(), None, pins).is_ok()
}

/// `connections` threads GET `urls` in turn (each thread starting at its own) for `seconds`:
/// (requests per second, p99 ms, errors).
fn hammer(urls: &[String], connections: usize, seconds: u64) -> (f64, f64, usize) {
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let results: Vec<(Vec<f64>, usize)> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..connections)
            .map(|c| {
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new().max_idle_connections_per_host(1).build();
                    let mut ms = Vec::new();
                    let mut errors = 0;
                    let mut n = c;
                    while Instant::now() < stop {
                        let t0 = Instant::now();
                        let (status, _) = get_bytes(&agent, &urls[n % urls.len()], None);
                        n += 1;
                        if status == 200 {
                            ms.push(t0.elapsed().as_secs_f64() * 1e3);
                        } else {
                            errors += 1;
                        }
                    }
                    (ms, errors)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("reader")).collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let errors = results.iter().map(|(_, e)| e).sum();
    let mut all: Vec<f64> = results.into_iter().flat_map(|(m, _)| m).collect();
    all.sort_by(f64::total_cmp);
    (all.len() as f64 / wall, percentile(&all, 99.0), errors)
}

/// Scenario 5: `tenders` published tenders; anonymous readers on the public list and on tender
/// pages, of the API (`/api/v1/public/bandi`, `/api/v1/public/bandi/{id}`) and of the portal
/// (`/bandi`, `/bandi/{id}`): the four in turn on every connection (`rps`, `p99_ms`), then each
/// alone (`<page>_rps`, `<page>_p99_ms`); `/healthz` of the same server is the anchor.
pub fn reads(s: &Sizes) -> Value {
    let w: World = world_on(TestApp::start_as_served());
    let mut ids = Vec::new();
    for n in 0..s.tenders {
        let mut body =
            crate::browser::services_tender_body(&w, &format!("Servizio pubblico n. {n}"), 1_600_000 + n as u64);
        body["custodians"] = json!([w.rup_id, w.custode]);
        let id = crate::tender_world::id(&w.rup.post("/api/v1/bandi", &body).expect(201));
        w.rup
            .post(&format!("/api/v1/bandi/{id}/publish"), &json!({}))
            .expect(200);
        ids.push(id);
    }
    // Half a minute past the minute: the pages' countdowns (deadlines on whole minutes) then
    // change at the next minute, as they do once a minute on a real clock; this injected one
    // stands still, so the run sees no such change.
    w.app.clock.advance(chrono::Duration::seconds(30));
    let base = &w.app.base_url;
    // Tender pages spread over the whole list (a prime stride), so no one row stays hot.
    let spread = |f: &dyn Fn(&str) -> String| -> Vec<String> {
        (0..ids.len().min(64))
            .map(|i| f(&ids[(i * 7919) % ids.len()]))
            .collect()
    };
    let pages: Vec<(&str, Vec<String>)> = vec![
        ("api_list", vec![format!("{base}/api/v1/public/bandi")]),
        ("api_tender", spread(&|id| format!("{base}/api/v1/public/bandi/{id}"))),
        ("portal_list", vec![format!("{base}/bandi")]),
        ("portal_tender", spread(&|id| format!("{base}/bandi/{id}"))),
    ];
    let mixed: Vec<String> = (0..64)
        .map(|i| {
            let urls = &pages[i % pages.len()].1;
            urls[(i / pages.len()) % urls.len()].clone()
        })
        .collect();
    let (rps, p99, mut errors) = hammer(&mixed, s.read_connections, s.read_seconds);
    let (anchor, anchor_p99, _) = hammer(&[format!("{base}/healthz")], s.read_connections, s.anchor_seconds);
    let mut out = json!({
        "rps": round(rps, 1),
        "p99_ms": round(p99, 1),
        "anchor_rps": round(anchor, 1),
        "anchor_p99_ms": round(anchor_p99, 1),
        "ratio": round(rps / anchor.max(f64::EPSILON), 3),
    });
    for (name, urls) in &pages {
        let (r, p, e) = hammer(urls, s.read_connections, s.read_seconds);
        errors += e;
        out[format!("{name}_rps")] = json!(round(r, 1));
        out[format!("{name}_p99_ms")] = json!(round(p, 1));
        out[format!("{name}_ratio")] = json!(round(r / anchor.max(f64::EPSILON), 3));
    }
    out["errors"] = json!(errors);
    out
}

/// The `n`th bidder's discount in percent (three decimals, all distinct below 30,000 bidders).
fn discount(i: usize) -> String {
    format!("{}.{:03}", 5 + (i * 7) % 30, i % 1000)
}

/// A commissioner's coefficient in [0, 1] for an offer and a criterion: spread, two decimals.
fn coefficient(offer: usize, criterion: usize, member: usize) -> String {
    let c = (offer * 31 + criterion * 17 + member * 7) % 101;
    format!("{}.{:02}", c / 100, c % 100)
}

/// The OEPV request the engine computes for `offers` offers, `criteria` discretionary criteria
/// of equal weight (70 points in all, riparametrated, soglia 20) and `members` coefficients
/// each; 30 economic points, linear on the discount.
fn oepv_request(offers: usize, criteria: usize, members: usize) -> aggiudicazione::OepvRequest {
    let weight = rust_decimal::Decimal::from(70) / rust_decimal::Decimal::from(criteria as u64);
    let request = json!({
        "technical": {
            "criteria": (0..criteria).map(|c| json!({ "id": format!("T{}", c + 1), "max_points": weight.round_dp(3).to_string() })).collect::<Vec<_>>(),
            "offers": (0..offers).map(|o| json!({
                "id": format!("O{o}"),
                "coefficients": (0..criteria)
                    .map(|c| (format!("T{}", c + 1), json!((0..members).map(|m| coefficient(o, c, m)).collect::<Vec<_>>())))
                    .collect::<serde_json::Map<String, Value>>(),
            })).collect::<Vec<_>>(),
            "minimum_score": "20",
        },
        "economic": {
            "formula": "linear",
            "parameters": { "max_points": "30" },
            "offers": (0..offers).map(|o| json!({ "id": format!("O{o}"), "value": discount(o) })).collect::<Vec<_>>(),
        },
        "draw_seed": 1,
    });
    serde_json::from_value(request).expect("an OEPV request")
}

/// Nanoseconds this thread has run on a CPU (`/proc/thread-self/schedstat`, first field):
/// unlike the wall time, it does not grow when other work on the machine takes the cores.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Mean milliseconds of `rounds` calls of `f` after one warm-up call: (wall, this thread's CPU).
fn mean_ms(rounds: u32, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let cpu0 = thread_cpu_ns();
    let t0 = Instant::now();
    for _ in 0..rounds {
        f();
    }
    let wall = t0.elapsed().as_secs_f64() * 1e3 / f64::from(rounds);
    let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e6 / f64::from(rounds);
    (wall, cpu)
}

/// Bidders of `tokens` send their envelopes to `bando` (`bodies(i)`: kind and bytes of each),
/// eight connections at once; panics on any refusal (setup, not measured).
fn fill(w: &World, bando: &str, tokens: &[String], bodies: &(dyn Fn(usize) -> Vec<(&'static str, Vec<u8>)> + Sync)) {
    let base = format!("{}/api/v1/bandi/{bando}/offerta/buste", w.app.base_url);
    std::thread::scope(|scope| {
        let threads = 8;
        for t in 0..threads {
            let base = &base;
            scope.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                for i in (t..tokens.len()).step_by(threads) {
                    for (kind, body) in bodies(i) {
                        let (status, reply, _) = post_raw(&agent, &format!("{base}/{kind}"), &tokens[i], &body);
                        assert_eq!(status, 201, "envelope {kind} of bidder {i}: {reply}");
                    }
                }
            });
        }
    });
}

/// The user ids behind `tokens` (`/api/v1/auth/me`), in order.
fn user_ids(w: &World, tokens: &[String]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| {
            let me = w.app.client().with_token(t).get("/api/v1/auth/me").expect(200);
            me["id"]
                .as_str()
                .or(me["user_id"].as_str())
                .expect("user id")
                .to_string()
        })
        .collect()
}

/// Past the opening time of the fixtures' tenders; waits (up to two minutes, however many
/// envelopes there are) until `bando` shows as being opened.
fn to_opening(w: &mut World, bando: &str) {
    w.app.clock.set(at("2026-06-05T13:30:00Z"));
    w.relogin();
    let t0 = Instant::now();
    while w.rup.get(&format!("/api/v1/public/bandi/{bando}")).expect(200)["state"] != "opening" {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{bando} never reached the opening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The RUP admits every bidder, four at a time once the first admission has moved the tender
/// to its evaluation (concurrent first admissions race on that transition: 409).
fn admit_all(w: &World, bando: &str, bidders: &[String]) {
    let Some((first, rest)) = bidders.split_first() else {
        return;
    };
    crate::tender_world::admit(w, bando, first);
    each(rest, 4, &|b| {
        crate::tender_world::admit(w, bando, b);
    });
}

/// `f` on every item of `items`, `threads` at a time (setup, not measured).
fn each<T: Sync>(items: &[T], threads: usize, f: &(dyn Fn(&T) + Sync)) {
    std::thread::scope(|scope| {
        for t in 0..threads {
            scope.spawn(move || items.iter().skip(t).step_by(threads).for_each(f));
        }
    });
}

/// Scenario 3: Allegato II.2 method A on `anomaly_offers` discounts with the engine's exact
/// arithmetic; the OEPV computation of `oepv_offers` offers with `oepv_criteria` criteria and
/// `commissioners` coefficients each (mean of 5); and that award through the API, where the
/// figure is the call that computes, ranks and stores it (`POST .../valutazione/economica`).
pub fn award(s: &Sizes) -> Value {
    use aggiudicazione::anomaly::DiscountEntry;
    use aggiudicazione::{evaluate_anomaly, evaluate_oepv, AnomalyMethod, AnomalyRequest};
    use rust_decimal::Decimal;
    let discounts: Vec<DiscountEntry> = (0..s.anomaly_offers)
        .map(|i| {
            DiscountEntry::Plain(Decimal::new(500 + ((i as i64 * 7919) % 3000), 2) + Decimal::new(i as i64 % 1000, 6))
        })
        .collect();
    let request = AnomalyRequest::new(AnomalyMethod::A, discounts);
    let (anomaly_ms, anomaly_cpu) = mean_ms(5, || {
        evaluate_anomaly(&request).expect("evaluates");
    });
    let oepv = oepv_request(s.oepv_offers, s.oepv_criteria, s.commissioners);
    let mut ranked = 0;
    let (oepv_ms, oepv_cpu) = mean_ms(5, || ranked = evaluate_oepv(&oepv).expect("evaluates").ranking.len());
    let api = oepv_over_api(s);
    json!({
        "anomaly_10000_ms": round(anomaly_ms, 2),
        "anomaly_10000_cpu_ms": round(anomaly_cpu, 2),
        "anomaly_offers": s.anomaly_offers,
        "oepv_1000_ms": round(oepv_ms, 2),
        "oepv_1000_cpu_ms": round(oepv_cpu, 2),
        "oepv_offers": s.oepv_offers,
        "oepv_ranked": ranked,
        "api_call_ms": api["economic_ms"],
        "api_close_technical_ms": api["close_technical_ms"],
        "api_ranked": api["ranked"],
        "api_answer_bytes": api["economic_bytes"],
    })
}

/// The OEPV award of [`award`] driven through the API: `oepv_offers` bidders send A, B and C
/// to a tender with `oepv_criteria` discretionary criteria; the RUP appoints `commissioners`
/// officials, opens A, admits everyone, opens B; every member declares and enters his
/// coefficients for every offer; the president closes the technical phase (timed); C is
/// opened and the RUP runs the economic phase (timed: totals, ranking, stored).
fn oepv_over_api(s: &Sizes) -> Value {
    let mut w: World = world_on(TestApp::start_as_served());
    let admin = w.app.admin();
    let mut members = vec![(w.custode.clone(), "custode@comune.milano.it".to_string())];
    for m in 1..s.commissioners {
        let email = format!("commissario{m}@comune.milano.it");
        members.push((official(&admin, &email, "commission", &w.ente), email));
    }
    let mut body = crate::browser::services_tender_body(&w, "Servizio di refezione scolastica", 1_500_004);
    let weight = rust_decimal::Decimal::from(70) / rust_decimal::Decimal::from(s.oepv_criteria as u64);
    body["oepv"]["criteria"] = json!((0..s.oepv_criteria)
        .map(
            |c| json!({ "code": format!("T{}", c + 1), "description": format!("Criterio {}", c + 1),
                         "weight": weight.round_dp(3).to_string(), "kind": "discretionary" })
        )
        .collect::<Vec<_>>());
    let bando = tender(&w, body);
    w.app.clock.set(deadline() - chrono::Duration::seconds(60));
    w.relogin();
    let tokens = suppliers(&w.app, s.oepv_offers, "oepv");
    let bidders = user_ids(&w, &tokens);
    fill(&w, &bando, &tokens, &|i| {
        vec![
            ("A", b"domanda di partecipazione e DGUE".to_vec()),
            ("B", format!("Relazione tecnica dell'offerente {i}").into_bytes()),
            ("C", crate::tender_world::offer_c(&discount(i))),
        ]
    });
    to_opening(&mut w, &bando);
    let ids: Vec<&String> = members.iter().map(|(u, _)| u).collect();
    let commission = format!("/api/v1/bandi/{bando}/valutazione/commissione");
    w.rup
        .post(&commission, &json!({ "members": ids, "president": members[0].0 }))
        .expect(201);
    open(&w, &bando, "A");
    admit_all(&w, &bando, &bidders);
    open(&w, &bando, "B");
    let clients: Vec<crate::Client> = members.iter().map(|(_, e)| w.login(e)).collect();
    for c in &clients {
        c.post(
            &format!("{commission}/dichiarazione"),
            &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" }),
        )
        .expect(200);
    }
    let entries: Vec<(usize, usize)> = (0..clients.len())
        .flat_map(|m| (0..bidders.len()).map(move |o| (m, o)))
        .collect();
    each(&entries, 8, &|&(m, o)| {
        let coefficients: serde_json::Map<String, Value> = (0..s.oepv_criteria)
            .map(|c| (format!("T{}", c + 1), json!(coefficient(o, c, m))))
            .collect();
        clients[m]
            .post(
                &format!("/api/v1/bandi/{bando}/valutazione/coefficienti"),
                &json!({ "bidder_id": bidders[o], "coefficients": coefficients }),
            )
            .expect(201);
    });
    let t0 = Instant::now();
    clients[0]
        .post(
            &format!("/api/v1/bandi/{bando}/valutazione/tecnica/chiusura"),
            &json!({}),
        )
        .expect(200);
    let close_ms = t0.elapsed().as_secs_f64() * 1e3;
    open(&w, &bando, "C");
    // Read whole as bytes: at 1,000 offers the answer passes ureq's 10 MB limit of a string.
    let url = format!("{}/api/v1/bandi/{bando}/valutazione/economica", w.app.base_url);
    let token = w.rup.token.clone().expect("rup token");
    let t0 = Instant::now();
    let reply = ureq::post(&url)
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(json!({}));
    let mut body = Vec::new();
    let status = match reply {
        Ok(r) => {
            let status = r.status();
            let _ = r.into_reader().read_to_end(&mut body);
            status
        }
        Err(ureq::Error::Status(code, _)) => code,
        Err(_) => 0,
    };
    let economic_ms = t0.elapsed().as_secs_f64() * 1e3;
    assert_eq!(status, 200, "the economic phase: {}", String::from_utf8_lossy(&body));
    let p: Value = serde_json::from_slice(&body).expect("the procedure");
    json!({
        "close_technical_ms": round(close_ms, 1),
        "economic_ms": round(economic_ms, 1),
        "economic_bytes": body.len(),
        "ranked": p["evaluation"]["ranking"].as_array().map_or(0, Vec::len),
    })
}

/// Scenario 4: the award report PDF of an award among `report_bids` bidders, tables of every
/// bidder across pages (`documents::verbale::sample`), rendered in memory (mean of 3); and the
/// auditor's bundle (`GET /api/v1/bandi/{id}/pacchetto.zip`) of a lowest-price tender that
/// `report_bids` bidders took through the API to its award (mean of 3 exports).
pub fn report(s: &Sizes) -> Value {
    let v = documents::verbale::sample(s.report_bids);
    let mut size = 0;
    let (pdf_ms, pdf_cpu) = mean_ms(3, || size = documents::verbale::render(&v).len());
    let bundle = bundle_of_awarded(s);
    json!({
        "pdf_2000_ms": round(pdf_ms, 1),
        "pdf_2000_cpu_ms": round(pdf_cpu, 1),
        "report_bids": s.report_bids,
        "pdf_bytes": size,
        "bundle_2000_ms": bundle["ms"],
        "bundle_bytes": bundle["bytes"],
        "bundle_status": bundle["status"],
    })
}

fn bundle_of_awarded(s: &Sizes) -> Value {
    let mut w: World = world_on(TestApp::start_as_served());
    let body = crate::tender_world::works_tender_body(
        &w.ente,
        [&w.rup_id, &w.custode],
        "Manutenzione delle strade comunali: il pacchetto del revisore",
        1_500_005,
    );
    let bando = tender(&w, body);
    w.app.clock.set(deadline() - chrono::Duration::seconds(60));
    w.relogin();
    let tokens = suppliers(&w.app, s.report_bids, "pacchetto");
    let bidders = user_ids(&w, &tokens);
    fill(&w, &bando, &tokens, &|i| {
        vec![
            ("A", format!("DGUE e domanda dell'impresa {i}").into_bytes()),
            ("C", crate::tender_world::offer_c(&discount(i))),
        ]
    });
    to_opening(&mut w, &bando);
    open(&w, &bando, "A");
    admit_all(&w, &bando, &bidders);
    open(&w, &bando, "C");
    let base = format!("/api/v1/bandi/{bando}/valutazione");
    w.rup.post(&format!("{base}/economica"), &json!({})).expect(200);
    crate::tender_world::confirm_proposed_exclusions(&w, &base);
    w.rup.post(&format!("{base}/proposta"), &json!({})).expect(200);
    w.rup
        .post(
            &format!("{base}/requisiti"),
            &json!({ "requirement": "Attestazione SOA", "evidence": "Casellario ANAC", "satisfied": true }),
        )
        .expect(201);
    let p = w.rup.post(&format!("{base}/aggiudicazione"), &json!({})).expect(200);
    assert_eq!(p["state"], "awarded", "the tender is awarded");
    let admin = w.app.admin();
    let token = admin.token.expect("admin token");
    let agent = ureq::AgentBuilder::new().build();
    let url = format!("{}/api/v1/bandi/{bando}/pacchetto.zip", w.app.base_url);
    let (mut status, mut bytes) = (0, 0);
    let (ms, _) = mean_ms(3, || {
        let (st, zip) = get_bytes(&agent, &url, Some(&token));
        (status, bytes) = (st, zip.len());
    });
    json!({ "ms": (status == 200).then(|| round(ms, 1)), "bytes": bytes, "status": status })
}

/// This process's resident set and its peak since the last reset, in KiB (`/proc/self/status`).
fn rss_kib() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak resident set to the current one (Linux ≥ 4.0); false where refused.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Seconds `program args` takes, or None when it is missing or fails.
fn timed(program: &str, args: &[&std::ffi::OsStr]) -> Option<f64> {
    let t0 = Instant::now();
    let out = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    out.success().then(|| t0.elapsed().as_secs_f64())
}

/// A file of `bytes` patterned bytes (xorshift, so nothing along the way sees runs of zeros),
/// written 1 MiB at a time and synced.
fn write_big_file(path: &std::path::Path, bytes: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("big file"));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for c in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).expect("write big file");
        left -= n as u64;
    }
    f.into_inner().expect("flush").sync_all().expect("sync");
}

/// One streamed upload of `file` (ureq reads it as it sends, with its length): status, seconds,
/// and the growth of this process's peak resident set meanwhile, in MiB (the server runs in
/// this process, so the figure covers the client and the server together).
fn upload_file(url: &str, token: &str, file: &std::path::Path) -> (u16, f64, Option<f64>) {
    let len = std::fs::metadata(file).expect("file").len();
    let reader = std::fs::File::open(file).expect("open");
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(3600)).build();
    let reset = reset_peak_rss();
    let (before, _) = rss_kib();
    let t0 = Instant::now();
    let r = agent
        .post(url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/octet-stream")
        .set("Content-Length", &len.to_string())
        .send(reader);
    let secs = t0.elapsed().as_secs_f64();
    let (_, peak) = rss_kib();
    let status = match r {
        Ok(resp) => resp.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(_) => 0,
    };
    let growth = reset.then(|| round(peak.saturating_sub(before) as f64 / 1024.0, 1));
    (status, secs, growth)
}

/// Scenario 2: one big envelope (`big_envelope_bytes`), client-sealed (sealed beforehand to
/// the tender's recipient, not timed) and server-sealed, each streamed from a file over
/// loopback to the blob store; anchored in the same run on the same filesystem by `dd` with
/// `conv=fsync` (a copy of the file into the blob directory) and `openssl dgst -sha256` (the
/// hash every receipt needs). MB/s are of the offer's plaintext size.
pub fn big_envelope(s: &Sizes) -> Value {
    let mut w: World = world_on(TestApp::start_as_served());
    let body = crate::browser::services_tender_body(&w, "Servizio di progettazione: elaborati grafici", 1_500_003);
    let bando = tender(&w, body);
    w.app.clock.set(deadline() - chrono::Duration::seconds(60));
    w.relogin();
    let tokens = suppliers(&w.app, 2, "grande");
    let bytes = s.big_envelope_bytes;
    let mb = bytes as f64 / 1e6;
    let work = w.app.seal_dir.join("bench");
    std::fs::create_dir_all(&work).expect("bench dir");
    let plain = work.join("offerta.bin");
    write_big_file(&plain, bytes);

    let blobs = w.app.seal_dir.join("blobs");
    std::fs::create_dir_all(&blobs).expect("blobs");
    let copy = blobs.join("dd-anchor");
    let mut of = std::ffi::OsString::from("of=");
    of.push(&copy);
    let mut input = std::ffi::OsString::from("if=");
    input.push(&plain);
    let dd = timed("dd", &[&input, &of, "bs=1M".as_ref(), "conv=fsync".as_ref()]);
    let _ = std::fs::remove_file(&copy);
    let hash = timed("openssl", &["dgst".as_ref(), "-sha256".as_ref(), plain.as_os_str()]);

    let to = recipients(&w, &bando);
    let sealed = work.join("offerta.age");
    {
        let reader = std::io::BufReader::new(std::fs::File::open(&plain).expect("plain"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&sealed).expect("sealed"));
        seal::envelope::seal_stream(&to[1], reader, &mut out).expect("seals");
        out.into_inner().expect("flush").sync_all().expect("sync");
    }
    let url = format!("{}/api/v1/bandi/{bando}/offerta/buste/B", w.app.base_url);
    let (client_status, client_s, client_rss) = upload_file(&format!("{url}?sealed=client"), &tokens[0], &sealed);
    let _ = std::fs::remove_file(&sealed);
    let (server_status, server_s, server_rss) = upload_file(&url, &tokens[1], &plain);
    let _ = std::fs::remove_file(&plain);

    let rate = |secs: Option<f64>| secs.map(|t| round(mb / t.max(f64::EPSILON), 1));
    let anchor = rate(dd);
    let client = (client_status == 201).then(|| mb / client_s.max(f64::EPSILON));
    let server = (server_status == 201).then(|| mb / server_s.max(f64::EPSILON));
    let ratio = |x: Option<f64>| x.zip(anchor).map(|(x, a)| round(x / a, 3));
    let stored = w.app.psql(&format!(
        "SELECT count(*) FROM envelopes WHERE bando_id = '{bando}' AND superseded_at IS NULL"
    ));
    let seal_dir = w.app.seal_dir.clone();
    drop(w);
    // Two blobs of the envelope's size: not left behind in the temporary directory.
    let _ = std::fs::remove_dir_all(&seal_dir);
    json!({
        "bytes": bytes,
        "anchor_mb_s": anchor,
        "hash_anchor_mb_s": rate(hash),
        "client_sealed_mb_s": client.map(|x| round(x, 1)),
        "server_sealed_mb_s": server.map(|x| round(x, 1)),
        "client_ratio": ratio(client),
        "server_ratio": ratio(server),
        "rss_growth_mib_client": client_rss,
        "rss_growth_mib_server": server_rss,
        "client_status": client_status,
        "server_status": server_status,
        "envelopes_stored": stored.parse::<u64>().unwrap_or(0),
    })
}
