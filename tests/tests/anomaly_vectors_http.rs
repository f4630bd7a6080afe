//! Issue 10 point 3: every case of the conformance vectors (Allegato II.2 Methods A, B, C,
//! the 2025 cases included) through the public calculator over HTTP, with the same check the
//! library passes (`crates/aggiudicazione/tests/common/anomaly_vectors.rs`).

#[path = "../../crates/aggiudicazione/tests/common/anomaly_vectors.rs"]
mod anomaly_vectors;

use journeys::serde_json::{json, Value};
use journeys::TestApp;

#[test]
fn every_anomaly_vector_through_the_public_calculator() {
    let app = TestApp::start();
    let client = app.client();
    let http = |request: &Value| -> Result<Value, String> {
        let reply = client.post("/api/v1/tools/anomaly-threshold", request);
        match reply.status {
            200 => Ok(reply.body),
            422 => Err(reply.code().to_owned()),
            other => panic!("unexpected status {other}: {}", reply.text),
        }
    };
    assert_eq!(anomaly_vectors::check_all(&http), 45);
}

#[test]
fn method_c_needs_the_reference_discount_and_flags_the_table() {
    let app = TestApp::start();
    let c = app.client();
    let five = ["10", "11", "12", "13", "14"];
    c.post(
        "/api/v1/tools/anomaly-threshold",
        &json!({ "method": "C", "discounts": five }),
    )
    .expect_problem(422, "missing_parameter");
    let stated = c
        .post(
            "/api/v1/tools/anomaly-threshold",
            &json!({ "method": "C", "discounts": five, "reference_discount": "12.5" }),
        )
        .expect(200);
    assert_eq!(stated["reference_discount_unverified"], false, "{stated}");
    let table = c
        .post(
            "/api/v1/tools/anomaly-threshold",
            &json!({ "method": "C", "discounts": five,
                     "reference": { "category": "OG1", "band": "0-150k", "percentile": 50 } }),
        )
        .expect(200);
    assert_eq!(table["reference_discount_unverified"], true, "{table}");
}

#[test]
fn the_day_of_the_correttivo_decides_the_method_a_options() {
    let app = TestApp::start();
    let c = app.client();
    let body = |day: &str| {
        json!({ "method": "A", "discounts": ["10", "11", "12", "13", "14"], "publication_date": day,
                "options": { "equal_to_threshold": "kept" } })
    };
    let before = c
        .post("/api/v1/tools/anomaly-threshold", &body("2024-12-30"))
        .expect(200);
    assert_eq!(before["text"], "original2023", "{before}");
    assert_eq!(before["exclusion_rule"], "above_threshold", "{before}");
    let p = c
        .post("/api/v1/tools/anomaly-threshold", &body("2024-12-31"))
        .expect_problem(422, "option_not_in_force");
    assert_eq!(p["field"], "options.equal_to_threshold");
}
