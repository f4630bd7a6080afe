//! The scenarios of `make bench` (issue 15), against the same harness as the tests: a real
//! PostgreSQL, the real server (as `centrale serve` runs it: one worker per core, pool of 10,
//! the default upload limits; [`TestApp::start_as_served`]) and its injectable clock, so the
//! rush happens in the minute before the deadline and then crosses it without waiting.
//!
//! The load generator is this process's threads, one keep-alive connection each (ureq);
//! its CPU share is their own CPU time (`/proc/thread-self/stat`) over the CPU the whole
//! machine spent meanwhile (`/proc/stat`), so a saturated generator shows. Each scenario
//! measures its physical anchor in the same run: `pgbench` on the same cluster for the rush,
//! `/healthz` of the same server for the reads.
//!
//! `tests/benches/platform.rs` runs [`Sizes::full`] in release mode and writes
//! `target/bench/results.json`; the suite's `bench_smoke` runs [`Sizes::smoke`] (seconds) and
//! checks what must hold whatever the speed: every receipt verifies, nothing late accepted.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use offerte::bundle::{verify_bundle, Pins, VerificationBundle};
use serde_json::{json, Value};

use crate::tender_world::{at, supplier, tender, world_on, World, PASSWORD};
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
    /// Published tenders behind the public list.
    pub tenders: usize,
    /// Connections of the public reads.
    pub read_connections: usize,
    pub read_seconds: u64,
    pub anchor_seconds: u64,
    /// Offers of the anomaly computation.
    pub anomaly_offers: usize,
    /// Bidders of the award report.
    pub report_bids: usize,
}

impl Sizes {
    /// Issue 15's figures.
    pub fn full() -> Self {
        Sizes {
            clients: 500,
            bids: 5_000,
            envelope_bytes: 4 * 1024,
            tenders: 1_000,
            read_connections: 64,
            read_seconds: 10,
            anchor_seconds: 10,
            anomaly_offers: 10_000,
            report_bids: 2_000,
        }
    }

    /// A few seconds in a debug build: the harness works and the invariants hold.
    pub fn smoke() -> Self {
        Sizes {
            clients: 3,
            bids: 6,
            envelope_bytes: 512,
            tenders: 3,
            read_connections: 2,
            read_seconds: 1,
            anchor_seconds: 1,
            anomaly_offers: 200,
            report_bids: 50,
        }
    }
}

/// Every scenario; the keys of issue 15's `results.json` (null where not measured yet).
pub fn run(s: &Sizes) -> Value {
    json!({
        "sizes": {
            "clients": s.clients, "bids": s.bids, "envelope_bytes": s.envelope_bytes,
            "tenders": s.tenders, "read_connections": s.read_connections,
        },
        "rush": rush(s),
        "reads": reads(s),
        "award": award(s),
        "big_envelope": Value::Null,
        "report": report(s),
        "scale_out": Value::Null,
    })
}

/// CPU seconds (user + system) in a `/proc/.../stat` line: fields 14 and 15, in clock ticks
/// (100 a second on Linux).
fn stat_cpu(path: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // The command name (field 2) may hold spaces: count from the closing parenthesis.
    let after = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12 here,
    // counting the state (not a number) out.
    (f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0)) / 100.0
}

fn thread_cpu() -> f64 {
    stat_cpu("/proc/thread-self/stat")
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
    let t0 = Instant::now();
    let r = agent
        .post(url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/octet-stream")
        .send_bytes(body);
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    match r {
        Ok(resp) => {
            let status = resp.status();
            (status, resp.into_json().unwrap_or(Value::Null), ms)
        }
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap_or(Value::Null), ms),
        Err(_) => (0, Value::Null, ms),
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

/// Scenario 1: `bids` suppliers, `clients` at once, each with its own connection, submit A, B
/// and C (server-sealed) in the minute before the deadline; then the deadline passes, late
/// envelopes are tried, and every receipt is verified offline as a bidder would.
pub fn rush(s: &Sizes) -> Value {
    let mut w: World = world_on(TestApp::start_as_served());
    let body = crate::browser::services_tender_body(&w, "Servizio di pulizia: la corsa al termine", 1_500_001);
    let bando = tender(&w, body);
    w.app.clock.set(deadline() - chrono::Duration::seconds(60));
    w.relogin();
    let tokens = suppliers(&w.app, s.bids, "rush");
    let base = format!("{}/api/v1/bandi/{bando}/offerta/buste", w.app.base_url);
    let payload = |i: usize, kind: &str| {
        let mut b = format!("offerta {i} busta {kind} ").into_bytes();
        b.resize(s.envelope_bytes, b'.');
        b
    };

    let busy0 = machine_busy();
    let started = Instant::now();
    let (sent, generator_cpu): (Vec<Sent>, f64) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..s.clients.min(s.bids))
            .map(|c| {
                let tokens = &tokens;
                let base = &base;
                let payload = &payload;
                scope.spawn(move || {
                    let cpu0 = thread_cpu();
                    let agent = ureq::AgentBuilder::new().max_idle_connections_per_host(1).build();
                    let mut out = Vec::new();
                    for i in (c..tokens.len()).step_by(s.clients) {
                        for kind in ["A", "B", "C"] {
                            let (status, body, ms) =
                                post_raw(&agent, &format!("{base}/{kind}"), &tokens[i], &payload(i, kind));
                            out.push(Sent {
                                owner: i,
                                status,
                                envelope_id: body["envelope_id"].as_str().map(str::to_string),
                                ms,
                            });
                        }
                    }
                    (out, thread_cpu() - cpu0)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut cpu = 0.0;
        for h in handles {
            let (o, c) = h.join().expect("client");
            all.extend(o);
            cpu += c;
        }
        (all, cpu)
    });
    let wall = started.elapsed().as_secs_f64();
    let busy = (machine_busy() - busy0).max(f64::EPSILON);
    let accepted: Vec<&Sent> = sent.iter().filter(|x| x.status == 201).collect();
    let mut ms: Vec<f64> = accepted.iter().map(|x| x.ms).collect();
    ms.sort_by(f64::total_cmp);

    // The deadline passes: the tender closes in the log, and nothing more is accepted.
    w.app.clock.set(deadline() + chrono::Duration::seconds(1));
    let t0 = Instant::now();
    while w.app.psql(&format!(
        "SELECT count(*) FROM seal_closures WHERE bando_id = '{bando}'"
    )) != "1"
    {
        assert!(t0.elapsed() < Duration::from_secs(120), "the tender never closed");
        std::thread::sleep(Duration::from_millis(50));
    }
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
            let (ids, verified, tokens) = (&ids, &verified, &tokens);
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

    let connections = s.clients.min(250);
    let anchor = pgbench_insert_tps(&w.app.db_url, connections, s.anchor_seconds);
    let eps = accepted.len() as f64 / wall;
    json!({
        "envelopes_per_s": round(eps, 1),
        "p50_ms": round(percentile(&ms, 50.0), 1),
        "p99_ms": round(percentile(&ms, 99.0), 1),
        "max_ms": round(ms.last().copied().unwrap_or(0.0), 1),
        "anchor_tps": anchor.map(|a| round(a, 1)),
        "anchor_connections": connections,
        "ratio": anchor.map(|a| round(eps / a, 3)),
        "sent": sent.len(),
        "refused": sent.len() - accepted.len(),
        "receipts_total": ids.len(),
        "receipts_verified": verified.into_inner(),
        "in_log": in_log,
        "log_duplicates": in_log.saturating_sub(distinct),
        "late_accepted": late_accepted,
        "client_cpu_share": round(generator_cpu / busy, 3),
    })
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
    if status != 200 {
        return false;
    }
    let (Ok(platform_key), Ok(log_key)) = (
        offerte::bundle::parse_platform_key(platform_key),
        seal::checkpoint::NoteVerifier::from_vkey(log_key),
    ) else {
        return false;
    };
    let pins = Pins {
        platform_key: Some(platform_key),
        log_key: Some(log_key),
    };
    verify_bundle(&bundle, cipher.as_slice(), None, pins).is_ok()
}

/// `connections` threads GET `url` for `seconds`: (requests per second, p99 ms, errors).
fn hammer(url: &str, connections: usize, seconds: u64) -> (f64, f64, usize) {
    let stop = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let results: Vec<(Vec<f64>, usize)> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..connections)
            .map(|_| {
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new().max_idle_connections_per_host(1).build();
                    let mut ms = Vec::new();
                    let mut errors = 0;
                    while Instant::now() < stop {
                        let t0 = Instant::now();
                        let (status, _) = get_bytes(&agent, url, None);
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

/// Scenario 5: the public tender list with `tenders` published tenders, and `/healthz` of the
/// same server as the anchor.
pub fn reads(s: &Sizes) -> Value {
    let w: World = world_on(TestApp::start_as_served());
    for n in 0..s.tenders {
        let mut body =
            crate::browser::services_tender_body(&w, &format!("Servizio pubblico n. {n}"), 1_600_000 + n as u64);
        body["custodians"] = json!([w.rup_id, w.custode]);
        let id = crate::tender_world::id(&w.rup.post("/api/v1/bandi", &body).expect(201));
        w.rup
            .post(&format!("/api/v1/bandi/{id}/publish"), &json!({}))
            .expect(200);
    }
    let list = format!("{}/api/v1/public/bandi", w.app.base_url);
    let (rps, p99, errors) = hammer(&list, s.read_connections, s.read_seconds);
    let (anchor, anchor_p99, _) = hammer(
        &format!("{}/healthz", w.app.base_url),
        s.read_connections,
        s.read_seconds,
    );
    json!({
        "rps": round(rps, 1),
        "p99_ms": round(p99, 1),
        "errors": errors,
        "anchor_rps": round(anchor, 1),
        "anchor_p99_ms": round(anchor_p99, 1),
        "ratio": round(rps / anchor.max(f64::EPSILON), 3),
    })
}

/// Scenario 3 (its computation part): Allegato II.2 method A on `anomaly_offers` discounts
/// with the engine's exact arithmetic. The OEPV computation and the API call are to come.
pub fn award(s: &Sizes) -> Value {
    use aggiudicazione::anomaly::DiscountEntry;
    use aggiudicazione::{evaluate_anomaly, AnomalyMethod, AnomalyRequest};
    use rust_decimal::Decimal;
    let discounts: Vec<DiscountEntry> = (0..s.anomaly_offers)
        .map(|i| {
            DiscountEntry::Plain(Decimal::new(500 + ((i as i64 * 7919) % 3000), 2) + Decimal::new(i as i64 % 1000, 6))
        })
        .collect();
    let request = AnomalyRequest::new(AnomalyMethod::A, discounts);
    let rounds = 5;
    let t0 = Instant::now();
    for _ in 0..rounds {
        evaluate_anomaly(&request).expect("evaluates");
    }
    json!({
        "anomaly_10000_ms": round(t0.elapsed().as_secs_f64() * 1e3 / f64::from(rounds), 2),
        "anomaly_offers": s.anomaly_offers,
        "oepv_1000_ms": Value::Null,
        "api_call_ms": Value::Null,
    })
}

/// Scenario 4 (the award report): the PDF of an award among `report_bids` bidders, tables of
/// every bidder across pages (`documents::verbale::sample`), rendered in memory (mean of 3).
/// The auditor's bundle of such a tender is still to come.
pub fn report(s: &Sizes) -> Value {
    let v = documents::verbale::sample(s.report_bids);
    let rounds = 3;
    let t0 = Instant::now();
    let mut size = 0;
    for _ in 0..rounds {
        size = documents::verbale::render(&v).len();
    }
    json!({
        "pdf_2000_ms": round(t0.elapsed().as_secs_f64() * 1e3 / f64::from(rounds), 1),
        "report_bids": s.report_bids,
        "pdf_bytes": size,
        "bundle_2000_ms": Value::Null,
    })
}
