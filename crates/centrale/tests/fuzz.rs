//! The short, seeded fuzz run of `make test` (issue 11, point 7): `scripts/fuzz.sh --short`
//! starts the already-built `centrale` on its own fresh database, makes an ente, a RUP and a
//! supplier, and runs schemathesis (pinned, installed into `target/fuzz-venv` from PyPI on
//! first use) against the served OpenAPI document as the admin, the RUP and the supplier. It
//! fails on any 5xx and on any response its documented schema does not describe. `make fuzz`
//! runs the long version.

use std::path::Path;
use std::process::{Command, Stdio};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn schemathesis_finds_no_server_error_and_no_undocumented_response() {
    let python_ok = have("python3")
        && Command::new("python3")
            .args(["-c", "import venv, ensurepip"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !python_ok {
        eprintln!("SKIPPED: the fuzz run needs python3 with venv and pip (to install schemathesis)");
        return;
    }
    for tool in ["bash", "curl", "jq"] {
        assert!(have(tool), "{tool} is needed (scripts/test-tools.sh installs it)");
    }
    let db = journeys::fresh_database();
    let work = std::env::temp_dir().join(format!("centrale-fuzz-{}", uuid::Uuid::new_v4()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fuzz.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--short")
        .env("DATABASE_URL", db.url())
        .env("CENTRALE_BIN", env!("CARGO_BIN_EXE_centrale"))
        .env("FUZZ_WORK", &work)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the fuzz run failed ({}):\n{stdout}\n{}\nserver log: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(work.join("server.log")).unwrap_or_default()
    );
    assert!(stdout.contains("fuzz: no server error"), "{stdout}");
    let _ = std::fs::remove_dir_all(&work);
}
