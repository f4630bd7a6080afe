//! Issue 6 §6: the public calculators over HTTP, no login needed.

use journeys::serde_json::json;
use journeys::serde_json::Value;
use journeys::TestApp;
use rust_decimal::Decimal;

fn dec_str(s: &str) -> Decimal {
    s.parse().expect("decimal literal")
}

#[track_caller]
fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("decimal string expected, got {v}"))
        .parse()
        .expect("decimal")
}

const SIXTEEN: [&str; 16] = [
    "10.125", "11.300", "12.450", "12.900", "13.250", "13.800", "14.100", "14.650", "15.270", "15.420", "16.050",
    "16.780", "17.300", "18.900", "21.500", "24.750",
];

#[test]
fn the_worked_example_of_method_a_matches_by_hand() {
    let app = TestApp::start();
    let report = app
        .client()
        .post(
            "/api/v1/tools/anomaly-threshold",
            &json!({ "method": "A", "discounts": SIXTEEN }),
        )
        .expect(200);
    let text = report.to_string();
    assert_eq!(report["automatic_exclusion_applies"], true, "{text}");
    assert_eq!(dec(&report["sum"]), dec_str("180.870"), "{text}");
    assert_eq!(dec(&report["mean"]), dec_str("15.0725"), "{text}");
    assert_eq!(dec(&report["mean_deviation"]), dec_str("1.5475"), "{text}");
    assert_eq!(dec(&report["decrement"]), dec_str("0.8666"), "{text}");
    assert_eq!(dec(&report["threshold"]), dec_str("15.7534"), "{text}");
    assert_eq!(dec(&report["winner"]["discount"]), dec_str("15.420"), "{text}");
    // Offers at or above T are excluded: 16.05 and the four above it (21.5 and 24.75 were in the wings).
    let excluded: Vec<Decimal> = report["excluded"]
        .as_array()
        .expect("excluded")
        .iter()
        .map(|e| dec(&e["discount"]))
        .collect();
    for d in ["16.050", "16.780", "17.300", "18.900"] {
        assert!(excluded.contains(&dec_str(d)), "{d} must be excluded: {text}");
    }
    assert!(!excluded.contains(&dec_str("15.420")), "{text}");
}

#[test]
fn fewer_than_five_offers_means_no_automatic_exclusion() {
    let app = TestApp::start();
    let report = app
        .client()
        .post(
            "/api/v1/tools/anomaly-threshold",
            &json!({ "method": "A", "discounts": ["10.5", "11", "12", "13"] }),
        )
        .expect(200);
    assert_eq!(report["automatic_exclusion_applies"], false, "{report}");
}

#[test]
fn bad_calculator_input_says_why() {
    let app = TestApp::start();
    let c = app.client();
    let p = c
        .post(
            "/api/v1/tools/anomaly-threshold",
            &json!({ "method": "A", "discounts": ["10", "101", "12", "13", "14"] }),
        )
        .expect_problem(422, "discount_out_of_range");
    assert_eq!(p["field"], "discounts[1]");
    c.post(
        "/api/v1/tools/anomaly-threshold",
        &json!({ "method": "Z", "discounts": ["10"] }),
    )
    .expect_problem(422, "unknown_method");
    c.post(
        "/api/v1/tools/anomaly-threshold",
        &json!({ "method": "A", "discounts": ["dieci", "11", "12", "13", "14"] }),
    )
    .expect(422);
    c.post(
        "/api/v1/tools/economic-scores",
        &json!({ "formula": "magic", "parameters": {}, "offers": [] }),
    )
    .expect_problem(422, "unknown_formula");
}

#[test]
fn economic_scores_by_linear_interpolation() {
    let app = TestApp::start();
    let report = app
        .client()
        .post(
            "/api/v1/tools/economic-scores",
            &json!({ "formula": "linear", "parameters": { "max_points": "30" }, "offers": ["10", "20", "5"] }),
        )
        .expect(200);
    // Linear on the discount: the best discount gets full points, half of it half the points.
    let points: Vec<Decimal> = report["offers"]
        .as_array()
        .expect("offers")
        .iter()
        .map(|o| dec(&o["points"]))
        .collect();
    assert_eq!(points, vec![dec_str("15"), dec_str("30"), dec_str("7.5")], "{report}");
    assert_eq!(report["ranking"][0]["id"], "O2", "{report}");
}
