//! `centrale anomaly` and `centrale scores` offline: JSON on stdin, report on stdout.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(sub: &str, input: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_centrale"))
        .arg(sub)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("centrale runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("finishes");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn anomaly_offline_gives_the_eight_offer_example() {
    let (ok, out, err) = run(
        "anomaly",
        r#"{"method":"A","discounts":["8.10","9.25","10.40","10.95","11.30","12.05","13.70","19.80"]}"#,
    );
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let t: rust_decimal::Decimal = report["threshold"].as_str().expect("T").parse().expect("decimal");
    assert_eq!(t, "13.53".parse().expect("decimal"), "{out}");
    assert_eq!(
        report["winner"]["discount"].as_str().map(|s| s.trim_end_matches('0')),
        Some("12.05"),
        "{out}"
    );
}

#[test]
fn scores_offline_and_errors_exit_non_zero_saying_why() {
    let (ok, out, err) = run(
        "scores",
        r#"{"formula":"inverse_proportional","parameters":{"max_points":"20"},"offers":["100","200"]}"#,
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"ranking\""), "{out}");
    let (ok, _, err) = run("anomaly", r#"{"method":"A","discounts":["-1","2","3","4","5"]}"#);
    assert!(!ok);
    assert!(err.contains("discount_out_of_range"), "{err}");
    let (ok, _, err) = run("anomaly", "not json");
    assert!(!ok);
    assert!(err.contains("invalid_request"), "{err}");
}
