//! Issue 15, scenario 6: two `centrale serve` (the real binary, separate processes, the real
//! clock) on one PostgreSQL, sharing envelopes through an S3-compatible server (`s3s-fs`,
//! [`crate::s3`]), behind HAProxy (Debian's package; round robin, health check on
//! `/healthz`), both with the scheduler, the log sequencer and the notifications outbox on,
//! delivering to a real SMTP server ([`crate::Mailbox`]).
//!
//! The run: everything set up through the balancer (the ente, its officials, a sealed tender
//! per phase, `bids` qualified suppliers: each qualification queues a notification); phase 1,
//! the rush on one instance alone (the second not started yet: the balancer's check keeps it
//! out), the single-instance rate of the same setup; phase 2, the second instance joins and the
//! rush runs on both, and the second is SIGKILLed when half of it has been acknowledged; the
//! bidders retry what got no answer, on the survivor. Then both deadlines are brought to
//! "now + 2 s" with `psql` (a bench-only shortcut: the tenders were created with real dates
//! weeks ahead, as the legal checks want), the tenders close in the log, late envelopes are
//! refused, and the checks run: every acknowledged receipt verifies offline (bundle and
//! ciphertext served by the survivor, which never held the victim's blobs: it fetches them
//! from the bucket), the log's indices are 0..n-1 without gap or repeat, every acknowledged
//! envelope is in the database and in the bucket with its digest (`lost_after_kill`), and
//! every notification was delivered, counting the ones delivered twice (messages at the SMTP
//! server by notification id against outbox rows: delivery is at least once, so the message
//! in flight at the kill may come again, with its Message-ID; docs/performance.md).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{Duration as Span, Utc};
use offerte::bundle::Pins;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::bench::Sizes;
use crate::s3::{free_port, S3Server};
use crate::tender_world::{ceremony, comune_di_milano, id, official, partita_iva, qualify, PASSWORD};
use crate::{psql, Client, Mailbox};

const ADMIN: &str = "admin@centrale.local";
const ADMIN_PASSWORD: &str = "password-admin-scale-out";
/// `uploads.chunk_bytes` of both instances (the smallest allowed).
const RESUMABLE_CHUNK: usize = 64 * 1024;
/// Object keys of this scenario in the bucket.
const PREFIX: &str = "centrale/";

/// HAProxy: `HAPROXY` if set, else the Debian package's binary.
fn haproxy_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HAPROXY") {
        return PathBuf::from(p);
    }
    ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/usr/bin/haproxy"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("haproxy"))
}

/// Whether the scenario's tools are here (`scripts/bench-tools.sh` installs them).
pub fn tools_present() -> Result<(), String> {
    let s3 = crate::s3::s3s_fs_binary();
    if !s3.exists() {
        return Err(format!("{} missing (scripts/bench-tools.sh)", s3.display()));
    }
    match Command::new(haproxy_binary()).arg("-v").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("haproxy missing (Debian package `haproxy`, scripts/bench-tools.sh)".into()),
    }
}

/// What every instance runs with.
#[derive(Clone, Copy)]
struct Env<'a> {
    bin: &'a Path,
    db_url: &'a str,
    s3: &'a S3Server,
    smtp: &'a Mailbox,
    log: &'a Path,
}

/// One `centrale serve`, SIGKILLed when dropped.
struct Instance {
    child: Option<Child>,
    seal_dir: PathBuf,
}

impl Instance {
    /// On `port`, chosen beforehand: the balancer's configuration names it.
    fn start(env: &Env<'_>, seal_dir: &Path, port: u16) -> Instance {
        let Env {
            bin,
            db_url,
            s3,
            smtp,
            log,
        } = *env;
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env("DATABASE_URL", db_url)
            .env("CENTRALE__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("CENTRALE__SEAL__DIR", seal_dir)
            .env("CENTRALE__BOOTSTRAP__ADMIN_EMAIL", ADMIN)
            .env("CENTRALE__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CENTRALE__NOTIFY__ENABLED", "true")
            .env("CENTRALE__NOTIFY__SMTP_HOST", smtp.addr.ip().to_string())
            .env("CENTRALE__NOTIFY__SMTP_PORT", smtp.addr.port().to_string())
            .env("CENTRALE__NOTIFY__TLS", "none")
            .env("CENTRALE_SCHEDULER_TICK_MS", "200")
            // Small parts, so the resumable upload through the balancer has several.
            .env("CENTRALE__UPLOADS__CHUNK_BYTES", RESUMABLE_CHUNK.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in s3.env(PREFIX) {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("centrale serve starts");
        let me = Instance {
            child: Some(child),
            seal_dir: seal_dir.to_path_buf(),
        };
        let t0 = Instant::now();
        while ureq::get(&format!("http://127.0.0.1:{port}/healthz")).call().is_err() {
            assert!(t0.elapsed() < Duration::from_secs(60), "centrale serve did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        me
    }

    /// SIGKILL: nothing flushed, nothing finished.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().expect("reaped");
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// HAProxy in the foreground on its own config, stopped when dropped.
struct Balancer {
    child: Child,
    base: String,
    stats: String,
    dir: PathBuf,
}

impl Balancer {
    /// Round robin over `ports` with a health check on `/healthz` every 250 ms (three
    /// failures, or 3 s without an answer each, take a server out); a request
    /// whose connection is refused is sent to the other server (`redispatch`). A resumable
    /// upload's requests (`/api/v1/caricamenti/{id}/…`) hash on the session's id, so its
    /// parts (staged on the instance's disk) all reach one instance: with `depth 4` HAProxy
    /// hashes `/api/v1/caricamenti/{id}` and stops before the next `/`, the same string for the
    /// parts, the status and the completion (`depth 5` hashed `…/parti` but `…/completa` whole).
    fn start(ports: [u16; 2], dir: &Path) -> Balancer {
        let port = free_port();
        let stats = free_port();
        let config = format!(
            "global\n  maxconn 4000\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 120s\n  timeout server 120s\n  timeout check 3s\n  \
             retries 3\n  option redispatch 1\n\
             frontend centrale\n  bind 127.0.0.1:{port}\n  \
             use_backend uploads if {{ path_beg /api/v1/caricamenti/ }}\n  default_backend instances\n\
             backend instances\n  balance roundrobin\n  option httpchk GET /healthz\n  \
             default-server inter 250ms fall 3 rise 2 maxconn 1000\n  \
             server a 127.0.0.1:{a} check\n  server b 127.0.0.1:{b} check\n\
             backend uploads\n  balance uri depth 4\n  hash-type consistent\n  option httpchk GET /healthz\n  \
             default-server inter 250ms fall 3 rise 2\n  \
             server a 127.0.0.1:{a} check\n  server b 127.0.0.1:{b} check\n\
             listen stats\n  bind 127.0.0.1:{stats}\n  stats enable\n  stats uri /stats\n",
            a = ports[0],
            b = ports[1]
        );
        let path = dir.join("haproxy.cfg");
        fs::write(&path, config).expect("haproxy.cfg");
        let check = Command::new(haproxy_binary())
            .arg("-c")
            .arg("-f")
            .arg(&path)
            .output()
            .expect("haproxy runs");
        assert!(
            check.status.success(),
            "haproxy refuses its config: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let log = fs::File::create(dir.join("haproxy.log")).expect("haproxy log");
        let child = Command::new(haproxy_binary())
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("haproxy starts");
        let me = Balancer {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stats: format!("http://127.0.0.1:{stats}/stats;csv"),
            dir: dir.to_path_buf(),
        };
        let t0 = Instant::now();
        while me.servers().is_empty() {
            assert!(t0.elapsed() < Duration::from_secs(20), "haproxy did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        me
    }

    /// Per server of the main backend: (status, sessions so far), from HAProxy's CSV.
    fn servers(&self) -> HashMap<String, (String, u64)> {
        let Ok(r) = ureq::get(&self.stats).call() else {
            return HashMap::new();
        };
        let text = r.into_string().unwrap_or_default();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").trim_start_matches("# ").split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let (Some(px), Some(sv), Some(st), Some(stot)) = (col("pxname"), col("svname"), col("status"), col("stot"))
        else {
            return HashMap::new();
        };
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > stot && f[px] == "instances" && (f[sv] == "a" || f[sv] == "b"))
            .map(|f| (f[sv].to_string(), (f[st].to_string(), f[stot].parse().unwrap_or(0))))
            .collect()
    }

    #[track_caller]
    fn wait_for(&self, server: &str, status: &str) {
        let t0 = Instant::now();
        while !self.servers().get(server).is_some_and(|(s, _)| s.starts_with(status)) {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "server {server} never {status}: {:?}",
                self.servers()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(self.dir.join("haproxy.cfg"));
    }
}

/// Local date and time `days` from now, as the tender form takes them.
fn day(days: i64, time: &str) -> String {
    format!("{}T{time}", (Utc::now() + Span::days(days)).format("%Y-%m-%d"))
}

/// The ente with its officials, and a sealed OEPV tender per phase (real dates, weeks ahead).
struct Setup {
    admin: Client,
    tenders: Vec<String>,
    /// Suppliers' bearer tokens.
    tokens: Vec<String>,
    /// Albo entries waiting for their qualification.
    pending: Vec<String>,
}

fn setup(base: &str, bids: usize, tenders: usize) -> Setup {
    let anon = Client::at(base);
    let admin = anon.clone().logged_in(ADMIN, ADMIN_PASSWORD);
    let ente = comune_di_milano(&admin);
    qualify(&admin, &ente);
    let rup_id = official(&admin, "rup@comune.milano.it", "rup", &ente);
    let custode = official(&admin, "custode@comune.milano.it", "commission", &ente);
    let rup = anon.clone().logged_in("rup@comune.milano.it", PASSWORD);
    let custodians = [
        (rup.clone(), seal::envelope::AgeIdentity::generate()),
        (
            anon.clone().logged_in("custode@comune.milano.it", PASSWORD),
            seal::envelope::AgeIdentity::generate(),
        ),
    ];
    let tenders = (0..tenders)
        .map(|n| {
            let body = json!({
                "ente_id": ente, "oggetto": format!("Servizio di pulizia, fase {}", n + 1),
                "cig": crate::tender_world::cig(1_600_001 + n as u64),
                "cpv_main": "90910000-9", "nuts": "ITC4C", "contract_type": "services",
                "procedure_type": "aperta", "award_criterion": "oepv",
                "oepv": { "criteria": [
                    { "code": "T1", "description": "Organizzazione del servizio", "weight": "50", "kind": "discretionary" },
                    { "code": "T2", "description": "Prodotti ecologici", "weight": "20", "kind": "discretionary" } ],
                    "economic_weight": "30", "economic_formula": { "kind": "linear" },
                    "technical_threshold": "20", "reparametrization": true },
                "base_amount": "250000.00", "safety_costs": "3000.00",
                "questions_deadline": day(40, "12:00"), "submission_deadline": day(60, "12:00"),
                "opening_at": day(60, "15:00"), "envelopes": ["A", "B", "C"],
                "custodians": [rup_id, custode], "custodian_threshold": 2
            });
            let bando = id(&rup.post("/api/v1/bandi", &body).expect(201));
            rup.post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
                .expect(200);
            let pairs: Vec<(Client, &seal::envelope::AgeIdentity)> =
                custodians.iter().map(|(c, k)| (c.clone(), k)).collect();
            ceremony(&pairs, &bando);
            bando
        })
        .collect();
    let tokens = suppliers(base, &admin, 0, bids, true)
        .into_iter()
        .map(|(token, _)| token)
        .collect();
    // Qualified during the second rush: notifications queued while both outboxes run.
    let pending = suppliers(base, &admin, bids, (bids / 4).max(2), false)
        .into_iter()
        .map(|(_, op)| op)
        .collect();
    Setup {
        admin,
        tenders,
        tokens,
        pending,
    }
}

/// Suppliers `from..from + n` registered, in the albo with their documents and logged in,
/// a few at a time (Argon2 is the slow part); qualified (each qualification queues a
/// notification) when `qualified`. Their bearer tokens and albo entries.
fn suppliers(base: &str, admin: &Client, from: usize, n: usize, qualified: bool) -> Vec<(String, String)> {
    let tokens = Mutex::new(vec![(String::new(), String::new()); n]);
    let durc = (Utc::now() + Span::days(730)).format("%Y-%m-%d").to_string();
    std::thread::scope(|s| {
        let threads = std::thread::available_parallelism().map_or(2, usize::from) * 2;
        for t in 0..threads {
            let (tokens, durc) = (&tokens, &durc);
            s.spawn(move || {
                for k in (t..n).step_by(threads) {
                    let i = from + k;
                    let email = format!("impresa{i}@scala.bench.it");
                    let anon = Client::at(base);
                    anon.post(
                        "/api/v1/auth/register",
                        &json!({ "email": email, "full_name": "Operatore", "password": PASSWORD }),
                    )
                    .expect(202);
                    let c = anon.logged_in(&email, PASSWORD);
                    let piva = partita_iva(50_000 + i);
                    let op = id(&c
                        .post(
                            "/api/v1/registry/operatori",
                            &json!({
                            "ragione_sociale": format!("Impresa {i} S.r.l."), "forma_giuridica": "srl",
                            "partita_iva": piva, "codice_fiscale": piva, "sede_istat": "015146",
                            "sede_indirizzo": "Via Roma 1", "pec": format!("{piva}@legalmail.it"),
                            "legale_rappresentante": { "nome": "Mario Rossi", "codice_fiscale": "RSSMRA80A01F205X" } }),
                        )
                        .expect(201));
                    for (tipo, scad) in [
                        ("durc", format!("&scadenza={durc}")),
                        ("visura_camerale", String::new()),
                    ] {
                        c.post_raw(
                            &format!(
                                "/api/v1/registry/operatori/{op}/documenti?tipo={tipo}&nome_file={tipo}.pdf{scad}"
                            ),
                            "application/pdf",
                            tipo.as_bytes(),
                        )
                        .expect(201);
                    }
                    c.put(
                        &format!("/api/v1/registry/operatori/{op}/categorie"),
                        &json!({ "cpv": ["90910000-9"], "soa": [] }),
                    )
                    .expect(200);
                    if qualified {
                        qualify_supplier(admin, &op);
                    }
                    tokens.lock().expect("tokens")[k] = (c.token.expect("token"), op);
                }
            });
        }
    });
    tokens.into_inner().expect("tokens")
}

/// The centrale qualifies an albo entry: the supplier is told through the outbox. A 502 (the
/// instance died under the request) is tried again; the entry may then be qualified already
/// (the first try had committed), which is a 409 and the same outcome.
fn qualify_supplier(admin: &Client, op: &str) {
    let path = format!("/api/v1/registry/operatori/{op}/qualification");
    for attempt in 0..20 {
        let r = admin.post(&path, &json!({ "action": "qualify" }));
        match r.status {
            200 => return,
            409 if attempt > 0 => return,
            502 | 503 => std::thread::sleep(Duration::from_millis(100)),
            other => panic!("qualification of {op}: {other} {}", r.text),
        }
    }
    panic!("qualification of {op}: no answer");
}

/// An acknowledged envelope: the 201 and what it said.
#[derive(Clone)]
struct Ack {
    owner: usize,
    envelope_id: String,
    ms: f64,
}

struct Rush {
    acks: Vec<Ack>,
    wall: f64,
    /// Attempts cut without an answer (connection reset, the balancer's 502), sent again.
    cut: usize,
    /// Attempts refused as busy (503 `upload_slots_full`), sent again after its `Retry-After`.
    busy: usize,
    /// Envelopes given up after every retry (never expected).
    abandoned: usize,
}

/// `clients` threads, each with its own keep-alive connection to the balancer, send A, B and C
/// for every bid; what gets no answer is sent again, as a bidder would. `on_progress` sees the
/// count of acknowledgements after each one (the kill hooks there).
fn rush(
    base: &str,
    bando: &str,
    tokens: &[String],
    clients: usize,
    envelope_bytes: usize,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Rush {
    let url = format!("{base}/api/v1/bandi/{bando}/offerta/buste");
    let acked = AtomicUsize::new(0);
    let cut = AtomicUsize::new(0);
    let busy = AtomicUsize::new(0);
    let abandoned = AtomicUsize::new(0);
    let started = Instant::now();
    let acks: Vec<Ack> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients.min(tokens.len()).max(1))
            .map(|c| {
                let (url, acked, cut, busy, abandoned) = (&url, &acked, &cut, &busy, &abandoned);
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new()
                        .max_idle_connections_per_host(1)
                        .timeout(Duration::from_secs(60))
                        .build();
                    let mut out = Vec::new();
                    for i in (c..tokens.len()).step_by(clients.max(1)) {
                        for kind in ["A", "B", "C"] {
                            let mut body = format!("offerta {i} busta {kind} {bando} ").into_bytes();
                            body.resize(envelope_bytes.max(body.len()), b'.');
                            let mut done = false;
                            let first = Instant::now();
                            // A bidder keeps trying for five minutes (the deadline is far).
                            while first.elapsed() < Duration::from_secs(300) {
                                let t0 = Instant::now();
                                let res = agent
                                    .post(&format!("{url}/{kind}"))
                                    .set("Authorization", &format!("Bearer {}", tokens[i]))
                                    .set("Content-Type", "application/octet-stream")
                                    .send_bytes(&body);
                                let ms = t0.elapsed().as_secs_f64() * 1000.0;
                                match res {
                                    Ok(r) if r.status() == 201 => {
                                        let v: Value = r.into_json().unwrap_or(Value::Null);
                                        if let Some(e) = v["envelope_id"].as_str() {
                                            out.push(Ack {
                                                owner: i,
                                                envelope_id: e.to_string(),
                                                ms,
                                            });
                                            on_progress(acked.fetch_add(1, Ordering::SeqCst) + 1);
                                            done = true;
                                            break;
                                        }
                                    }
                                    // Busy: the server says when to come back, and a
                                    // bidder's client does as told.
                                    Err(ureq::Error::Status(503, r)) => {
                                        busy.fetch_add(1, Ordering::Relaxed);
                                        let wait = r
                                            .header("Retry-After")
                                            .and_then(|v| v.trim().parse::<u64>().ok())
                                            .unwrap_or(1)
                                            .min(10);
                                        std::thread::sleep(Duration::from_secs(wait));
                                        continue;
                                    }
                                    Err(ureq::Error::Status(code, r)) if code != 502 => {
                                        panic!("envelope refused: {code} {}", r.into_string().unwrap_or_default())
                                    }
                                    // No answer: the instance died under it.
                                    _ => {
                                        cut.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                                std::thread::sleep(Duration::from_millis(100));
                            }
                            if !done {
                                abandoned.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("client thread"))
            .collect()
    });
    Rush {
        acks,
        wall: started.elapsed().as_secs_f64(),
        cut: cut.into_inner(),
        busy: busy.into_inner(),
        abandoned: abandoned.into_inner(),
    }
}

/// A client-sealed envelope uploaded in parts through the balancer while both instances run:
/// the session's requests hash to one instance (`/api/v1/caricamenti/{id}/…`), which holds
/// the parts; the receipt is acknowledged like any other.
fn resumable(base: &str, bando: &str, owner: usize, token: &str) -> Ack {
    let auth = format!("Bearer {token}");
    let c = Client::at(base).with_token(token);
    let key = c.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200);
    let recipient =
        seal::envelope::parse_recipient(key["recipients"]["A"].as_str().expect("recipient A")).expect("recipient");
    let plaintext: Vec<u8> = (0..RESUMABLE_CHUNK * 3 + 1000).map(|i| (i * 31 % 251) as u8).collect();
    let mut whole = Vec::new();
    seal::envelope::seal_stream(&recipient, plaintext.as_slice(), &mut whole).expect("seal");
    let hex = |b: &[u8]| crate::tender_world::hex(&Sha256::digest(b));
    let t0 = Instant::now();
    let session = c
        .post(
            &format!("/api/v1/bandi/{bando}/offerta/buste/A/caricamenti"),
            &json!({}),
        )
        .expect(201);
    let upload = id(&session);
    for (i, part) in whole.chunks(RESUMABLE_CHUNK).enumerate() {
        let r = ureq::put(&format!("{base}/api/v1/caricamenti/{upload}/parti/{i}"))
            .set("Authorization", &auth)
            .set("Content-Type", "application/octet-stream")
            .set("X-Chunk-Sha256", &hex(part))
            .send_bytes(part)
            .unwrap_or_else(|e| panic!("part {i}: {e}"));
        assert_eq!(r.status(), 201, "part {i}");
    }
    let parts = whole.len().div_ceil(RESUMABLE_CHUNK);
    let done = c.post(
        &format!("/api/v1/caricamenti/{upload}/completa"),
        &json!({ "parts": parts, "sha256": hex(&whole) }),
    );
    assert!(done.status == 200 || done.status == 201, "completion: {}", done.text);
    Ack {
        owner,
        envelope_id: done.body["envelope_id"].as_str().expect("envelope id").to_string(),
        ms: t0.elapsed().as_secs_f64() * 1000.0,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn latencies(acks: &[Ack]) -> Vec<f64> {
    let mut ms: Vec<f64> = acks.iter().map(|a| a.ms).collect();
    ms.sort_by(f64::total_cmp);
    ms
}

#[track_caller]
fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The scenario (see the module's documentation), with `s.clients`, `s.bids` and
/// `s.envelope_bytes` for each of the two phases; `centrale_bin` is the binary to run.
pub fn scale_out(s: &Sizes, centrale_bin: &Path) -> Value {
    if let Err(missing) = tools_present() {
        panic!("scale-out scenario: {missing}");
    }
    let work = std::env::temp_dir().join(format!("centrale-scale-out-{}", uuid::Uuid::new_v4()));
    let (dir_a, dir_b) = (work.join("seal-a"), work.join("seal-b"));
    fs::create_dir_all(&dir_a).expect("seal dir a");
    fs::create_dir_all(dir_b.join("keys")).expect("seal dir b");
    let log = work.join("centrale.log");

    let db = crate::fresh_database();
    let s3 = S3Server::start();
    let smtp = Mailbox::start();
    let env = Env {
        bin: centrale_bin,
        db_url: db.url(),
        s3: &s3,
        smtp: &smtp,
        log: &log,
    };
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = Instance::start(&env, &dir_a, port_a);
    // Both instances sign with the same platform and TSA keys (docs/architecture.md): the
    // second starts on a copy of the first's `keys/`.
    for entry in fs::read_dir(dir_a.join("keys")).expect("keys of a") {
        let entry = entry.expect("key file");
        fs::copy(entry.path(), dir_b.join("keys").join(entry.file_name())).expect("copy key");
    }
    let balancer = Balancer::start([port_a, port_b], &work);
    balancer.wait_for("a", "UP");
    let base = balancer.base.clone();

    let setup_started = Instant::now();
    let world = setup(&base, s.bids, 2);
    let setup_s = setup_started.elapsed().as_secs_f64();

    // Phase 1: one instance (b is not running; the balancer's check keeps it out).
    let single = rush(
        &base,
        &world.tenders[0],
        &world.tokens,
        s.clients,
        s.envelope_bytes,
        &|_| {},
    );

    // Phase 2: b joins on its own seal directory, then dies halfway through the rush.
    let mut b = Instance::start(&env, &dir_b, port_b);
    balancer.wait_for("b", "UP");
    let in_parts = resumable(&base, &world.tenders[0], 0, &world.tokens[0]);
    let before = balancer.servers();
    let total = s.bids * 3;
    let killed_at = Mutex::new(None::<usize>);
    let kill_instant = Mutex::new(None::<Instant>);
    let kill_utc = Mutex::new(None::<chrono::DateTime<Utc>>);
    let phase2 = Instant::now();
    let killed = AtomicBool::new(false);
    let victim = Mutex::new(&mut b);
    let rushing = AtomicBool::new(true);
    let both = std::thread::scope(|scope| {
        // The centrale qualifies the waiting suppliers meanwhile, through the balancer.
        scope.spawn(|| {
            for op in &world.pending {
                qualify_supplier(&world.admin, op);
                if rushing.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        let r = rush(
            &base,
            &world.tenders[1],
            &world.tokens,
            s.clients,
            s.envelope_bytes,
            &|acked| {
                if acked >= total / 2 && !killed.swap(true, Ordering::SeqCst) {
                    victim.lock().expect("victim").kill();
                    *killed_at.lock().expect("kill") = Some(acked);
                    *kill_instant.lock().expect("kill") = Some(Instant::now());
                    *kill_utc.lock().expect("kill") = Some(Utc::now());
                }
            },
        );
        rushing.store(false, Ordering::Relaxed);
        r
    });
    let phase2_end = Instant::now();
    // The rates on each side of the kill (acknowledgements over time, from the phase's start).
    let kill_rate = match (*killed_at.lock().expect("kill"), *kill_instant.lock().expect("kill")) {
        (Some(n), Some(at)) => (
            round(n as f64 / (at - phase2).as_secs_f64(), 1),
            round(
                both.acks.len().saturating_sub(n) as f64 / (phase2_end - at).as_secs_f64().max(1e-3),
                1,
            ),
        ),
        _ => (0.0, 0.0),
    };
    let after = balancer.servers();
    let served = |name: &str| after.get(name).map_or(0, |x| x.1) - before.get(name).map_or(0, |x| x.1);
    let (served_a, served_b) = (served("a"), served("b"));

    // The deadlines come to now + 2 s (psql: the bench's shortcut), the log closes both.
    let ids = world
        .tenders
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(",");
    psql(
        db.url(),
        &format!(
            "UPDATE bandi SET questions_deadline = now() - interval '1 hour', \
             submission_deadline = now() + interval '2 seconds', opening_at = now() + interval '1 hour' \
             WHERE id IN ({ids})"
        ),
    );
    wait_until("both tenders closed in the log", Duration::from_secs(120), || {
        psql(
            db.url(),
            &format!("SELECT count(*) FROM seal_closures WHERE bando_id IN ({ids})"),
        ) == "2"
    });
    let late_accepted = world
        .tokens
        .iter()
        .take(5)
        .filter(|t| {
            ureq::post(&format!("{base}/api/v1/bandi/{}/offerta/buste/A", world.tenders[1]))
                .set("Authorization", &format!("Bearer {t}"))
                .set("Content-Type", "application/octet-stream")
                .send_bytes(b"tardi")
                .is_ok_and(|r| r.status() == 201)
        })
        .count();

    // The envelopes with a receipt; those the survivor does not hold must come from the bucket.
    let rows: HashMap<String, (String, String)> = psql(
        db.url(),
        "SELECT e.id || ' ' || e.blob_path || ' ' || e.sha256 FROM envelopes e JOIN receipts r ON r.envelope_id = e.id",
    )
    .lines()
    .filter_map(|l| {
        let mut p = l.split(' ');
        Some((p.next()?.to_string(), (p.next()?.to_string(), p.next()?.to_string())))
    })
    .collect();
    let acks: Vec<Ack> = single
        .acks
        .iter()
        .chain(&both.acks)
        .chain(std::iter::once(&in_parts))
        .cloned()
        .collect();
    let read_from_bucket = acks
        .iter()
        .filter(|ack| {
            rows.get(&ack.envelope_id)
                .is_some_and(|(path, _)| !a.seal_dir.join(path).exists())
        })
        .count();

    // Every acknowledged receipt, as its bidder verifies it, served by the survivor.
    let keys = Client::at(&base).get("/api/v1/log/keys").expect(200);
    let platform_key = keys["platform_key"].as_str().expect("platform key").to_string();
    let log_key = keys["log_key"].as_str().expect("log key").to_string();
    let pins = || Pins {
        platform_key: offerte::bundle::parse_platform_key(&platform_key).ok(),
        log_key: seal::checkpoint::NoteVerifier::from_vkey(&log_key).ok(),
    };
    let verified = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let threads = 4;
        for t in 0..threads {
            let (acks, verified, tokens, base, pins) = (&acks, &verified, &world.tokens, &base, &pins);
            scope.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                for ack in acks.iter().skip(t).step_by(threads) {
                    if crate::bench::receipt_verifies(&agent, base, &ack.envelope_id, &tokens[ack.owner], pins()) {
                        verified.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });

    // The log: indices 0..n-1, each once; nothing left pending; each receipt's leaf once.
    let stats = psql(
        db.url(),
        "SELECT count(*) || ' ' || count(DISTINCT leaf_index) || ' ' || coalesce(max(leaf_index) + 1, 0) \
         || ' ' || count(*) FILTER (WHERE leaf_index IS NULL) FROM log_leaves",
    );
    let n: Vec<i64> = stats.split(' ').map(|x| x.parse().unwrap_or(-1)).collect();
    let (leaves, distinct_indices, span, pending) = (n[0], n[1], n[2], n[3]);
    let log_gaps = span - distinct_indices;
    let envelope_leaves: i64 = psql(
        db.url(),
        &format!("SELECT count(*) FROM log_leaves WHERE kind = 'envelope_received' AND bando_id IN ({ids})"),
    )
    .parse()
    .unwrap_or(-1);
    let distinct_hashes: i64 = psql(
        db.url(),
        &format!(
            "SELECT count(DISTINCT leaf_hash) FROM log_leaves WHERE kind = 'envelope_received' AND bando_id IN ({ids})"
        ),
    )
    .parse()
    .unwrap_or(-1);
    let duplicates = (leaves - pending - distinct_indices) + (envelope_leaves - distinct_hashes);

    // Every acknowledged envelope: its row, and its object in the bucket with its digest.
    let lost = acks
        .iter()
        .filter(|ack| match rows.get(&ack.envelope_id) {
            None => true,
            Some((path, sha)) => match s3.object(&format!("{PREFIX}{path}")) {
                None => true,
                Some(bytes) => crate::tender_world::hex(&Sha256::digest(&bytes)) != *sha,
            },
        })
        .count();
    // Notifications: every outbox row delivered, each exactly once at the SMTP server.
    wait_until("the outbox drained", Duration::from_secs(120), || {
        psql(
            db.url(),
            "SELECT count(*) FROM notifications_outbox WHERE sent_at IS NULL",
        ) == "0"
    });
    let outbox: HashSet<String> = psql(db.url(), "SELECT id FROM notifications_outbox")
        .lines()
        .map(str::to_string)
        .collect();
    let messages = smtp.messages();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &messages {
        if let Some(id) = m.header(notify::NOTIFICATION_ID_HEADER) {
            *seen.entry(id.trim().to_string()).or_default() += 1;
        }
    }
    let sent_twice = seen.values().filter(|n| **n > 1).count();
    let twice: Vec<Value> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| {
            json!({ "id": id, "copies": n, "row": psql(db.url(), &format!(
                "SELECT subject || ' | attempts ' || attempts || ' | sent ' || coalesce(sent_at::text, '-')                  || ' | created ' || created_at::text FROM notifications_outbox WHERE id = '{id}'")) })
        })
        .collect();
    // Delivery is at least once (a kill between the relay's yes and the commit sends again),
    // with the same Message-ID, so a recipient can tell: count any repeat that is not.
    let mut message_ids: HashMap<String, HashSet<String>> = HashMap::new();
    for m in &messages {
        if let Some(id) = m.header(notify::NOTIFICATION_ID_HEADER) {
            message_ids
                .entry(id.trim().to_string())
                .or_default()
                .insert(m.message_id());
        }
    }
    let repeats_with_new_id = message_ids.values().filter(|ids| ids.len() > 1).count();
    let undelivered = outbox.iter().filter(|id| !seen.contains_key(*id)).count();

    a.kill();
    drop(balancer);
    let _ = fs::remove_dir_all(&work);

    let single_ms = latencies(&single.acks);
    let both_ms = latencies(&both.acks);
    let single_eps = single.acks.len() as f64 / single.wall;
    let both_eps = both.acks.len() as f64 / both.wall;
    json!({
        "envelopes_per_s": round(both_eps, 1),
        "single_instance_envelopes_per_s": round(single_eps, 1),
        "p50_ms": round(percentile(&both_ms, 50.0), 1),
        "p99_ms": round(percentile(&both_ms, 99.0), 1),
        "single_instance_p99_ms": round(percentile(&single_ms, 99.0), 1),
        "acknowledged": acks.len(),
        "receipts_verified": verified.into_inner(),
        "log_leaves": leaves,
        "log_gaps": log_gaps,
        "log_pending": pending,
        "duplicates": duplicates,
        "lost_after_kill": lost,
        "killed_after_acks": *killed_at.lock().expect("kill"),
        "killed_at": kill_utc.lock().expect("kill").map(|t| t.to_rfc3339()),
        "cut_by_kill_and_resent": both.cut,
        "busy_and_resent": single.busy + both.busy,
        "before_kill_envelopes_per_s": kill_rate.0,
        "after_kill_envelopes_per_s": kill_rate.1,
        "abandoned": single.abandoned + both.abandoned,
        "served_by": { "a": served_a, "b": served_b },
        "read_from_bucket": read_from_bucket,
        "late_accepted": late_accepted,
        "notifications": outbox.len(),
        "notifications_delivered": seen.len(),
        "notifications_sent_twice": sent_twice,
        "notifications_sent_twice_rows": twice,
        "notifications_repeated_with_new_message_id": repeats_with_new_id,
        "notifications_undelivered": undelivered,
        "setup_s": round(setup_s, 1),
        "s3_server": "s3s-fs 0.14.1",
        "balancer": "haproxy (Debian)",
    })
}
