//! The README's sealed-bid walkthrough (`docs/walkthrough.sh`), run green inside `make test`:
//! the already-built `centrale` serves on a free loopback port in 18080-18099 with a fast
//! scheduler tick, and the script drives it with curl, jq, openssl and the same binary on
//! the PATH (the way the README tells users to set it up). The deadline is two minutes away
//! (real time: the ceremony and the bid must fit before it on a loaded CI machine).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "password-admin-walkthrough";

fn free_port() -> u16 {
    (18080..=18099)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port in 18080-18099")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_readme_walkthrough_runs_green_against_the_built_binary() {
    for tool in ["bash", "curl", "jq", "openssl", "unzip", "pdftotext"] {
        assert!(have(tool), "{tool} is needed (scripts/test-tools.sh installs it)");
    }
    let db = journeys::fresh_database();
    let dir = std::env::temp_dir().join(format!("centrale-walkthrough-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let seal_dir = dir.join("seal");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join("server.log")).expect("log");
    let bin = Path::new(env!("CARGO_BIN_EXE_centrale"));
    let mut server = Command::new(bin)
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("CENTRALE__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("CENTRALE__SEAL__DIR", &seal_dir)
        .env("CENTRALE__BOOTSTRAP__ADMIN_EMAIL", "admin@centrale.local")
        .env("CENTRALE__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CENTRALE_SCHEDULER_TICK_MS", "100")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("centrale serve starts");
    let t0 = Instant::now();
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(t0.elapsed() < Duration::from_secs(60), "the server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/walkthrough.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("BASE", &base)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("PATH", path)
        .env("DEADLINE_SECONDS", "120")
        .env("POLL_SECONDS", "1")
        .env("WORK", dir.join("work"))
        .env_remove("CENTRALE")
        .output()
        .expect("bash runs");
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walkthrough failed ({}):\n{stdout}\n{}\nserver log: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
    );
    assert!(stdout.contains("walkthrough completed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
