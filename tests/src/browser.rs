//! Real-browser scripts (tests/browser/*.mjs: playwright-core driving Debian's Chromium) run
//! against a [`crate::TestApp`]: the script gets the server's address and the fixtures' ids
//! in its environment, and may ask this side for what only the test can do (move the
//! server's clock, act as the centrale's admin) with a line `@@harness {json}` on its stdout,
//! answered with one JSON line on its stdin.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::tender_world::{cig, World};

/// Where the scripts live.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// What a script did: its exit, everything it printed, and the harness requests it made.
#[derive(Debug)]
pub struct Outcome {
    pub script: String,
    pub success: bool,
    pub timed_out: bool,
    pub output: String,
    pub requests: Vec<Value>,
}

impl Outcome {
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            self.success,
            "{} failed{}; its output:\n{}",
            self.script,
            if self.timed_out { " (timed out, killed)" } else { "" },
            self.output
        );
    }

    /// How many times the script asked for `action`.
    pub fn asked(&self, action: &str) -> usize {
        self.requests.iter().filter(|r| r["action"] == action).count()
    }
}

/// Runs `node tests/browser/<script>` with `env`, answering its harness requests with
/// `harness` (`Ok` → `{"ok":true, ...}`, `Err` → `{"ok":false,"error":...}`), killing it and
/// its Chromium after `limit`. Panics with a clear message when the browser tools are missing
/// (`scripts/browser-tools.sh`, run by `make test`, installs them).
pub fn run_script(
    script: &str,
    env: &[(&str, String)],
    limit: Duration,
    mut harness: impl FnMut(&Value) -> Result<Value, String>,
) -> Outcome {
    let dir = scripts_dir();
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run `bash scripts/browser-tools.sh` (as root it installs Debian's chromium)"
    );
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/browser/node_modules is missing: run `bash scripts/browser-tools.sh`"
    );
    // Profiles, downloads and failure pictures go under a directory of this run's own, removed
    // afterwards even when the script was killed before cleaning up.
    let scratch = std::env::temp_dir().join(format!("centrale-browser-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let mut cmd = Command::new("node");
    cmd.arg(dir.join(script))
        .env("TMPDIR", &scratch)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout ends node and the Chromium it started together.
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("node starts (is Node.js installed?)");
    let pid = child.id();
    let finished = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let finished = finished.clone();
        let timed_out = timed_out.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while !finished.load(Ordering::SeqCst) {
                if start.elapsed() > limit {
                    timed_out.store(true, Ordering::SeqCst);
                    let _ = Command::new("kill")
                        .args(["-s", "KILL", "--", &format!("-{pid}")])
                        .status();
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let stderr = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[{pid} stderr] {line}");
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let mut output = String::new();
    let mut requests = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        println!("{line}");
        output.push_str(&line);
        output.push('\n');
        let Some(request) = line.strip_prefix("@@harness ") else {
            continue;
        };
        let reply = match serde_json::from_str::<Value>(request) {
            Ok(request) => {
                let reply = match harness(&request) {
                    Ok(Value::Object(mut fields)) => {
                        fields.insert("ok".into(), Value::Bool(true));
                        Value::Object(fields)
                    }
                    Ok(_) => json!({ "ok": true }),
                    Err(error) => json!({ "ok": false, "error": error }),
                };
                requests.push(request);
                reply
            }
            Err(e) => json!({ "ok": false, "error": format!("not JSON: {e}") }),
        };
        // A script that already gave up has closed its stdin: its exit code tells.
        let _ = writeln!(stdin, "{reply}").and_then(|()| stdin.flush());
    }
    drop(stdin);
    let status = child.wait().expect("node exits");
    finished.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    let errors = errors.join().unwrap_or_default();
    if !errors.is_empty() {
        output.push_str("--- stderr ---\n");
        output.push_str(&errors);
    }
    let timed_out = timed_out.load(Ordering::SeqCst);
    // A script that failed by itself keeps its failure pictures for whoever reads the output.
    if status.success() || timed_out {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Outcome {
        script: script.to_string(),
        success: status.success() && !timed_out,
        timed_out,
        output,
        requests,
    }
}

/// A harness that refuses every request (for scripts that need none).
pub fn no_harness(request: &Value) -> Result<Value, String> {
    Err(format!("this test answers no harness request, got {request}"))
}

/// The tender of the browser journeys: an open procedure for services (CPV 90910000-9,
/// cleaning, one of the categories suppliers choose) at the best quality/price ratio, so it
/// has all three envelopes A, B and C; deadline 5 June 2026 12:00 Rome, sealed by the world's
/// two custodians with threshold 2.
pub fn services_tender_body(w: &World, oggetto: &str, cig_n: u64) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": oggetto,
        "cig": cig(cig_n),
        "cpv_main": "90910000-9",
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "oepv",
        "oepv": {
            "criteria": [
                { "code": "T1", "description": "Organizzazione del servizio", "weight": "50", "kind": "discretionary" },
                { "code": "T2", "description": "Prodotti ecologici", "weight": "20", "kind": "discretionary" }
            ],
            "economic_weight": "30",
            "economic_formula": { "kind": "linear" },
            "technical_threshold": "20",
            "reparametrization": true
        },
        "base_amount": "250000.00",
        "safety_costs": "3000.00",
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "B", "C"],
        "custodians": [w.rup_id, w.custode],
        "custodian_threshold": 2
    })
}
