//! Conformance vectors (tests/vectors/*.json, copied from shared/vectors): every case of every
//! file is run and every value the vector lists is compared numerically (as exact decimals /
//! fractions, never as text).

use std::collections::BTreeMap;
use std::str::FromStr;

use aggiudicazione::anomaly::{
    evaluate_anomaly, AnomalyMethod, AnomalyRequest, DiscountEntry, EqualToThreshold, WingTies,
};
use aggiudicazione::scoring::{
    compute_economic_scores, EconomicFormula, EconomicParameters, EconomicScoresRequest, ValueEntry,
};
use num_bigint::BigInt;
use num_rational::BigRational;
use rust_decimal::Decimal;
use serde_json::Value;

type Q = BigRational;

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("vector file");
    serde_json::from_str(&text).expect("vector JSON")
}

/// Exact value of a decimal string of any length, or of a fraction "p/q".
fn q_of(s: &str) -> Option<Q> {
    if let Some((p, q)) = s.split_once('/') {
        return Some(Q::new(BigInt::from_str(p).ok()?, BigInt::from_str(q).ok()?));
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let num = BigInt::from_str(&format!("{int}{frac}")).ok()?;
    let den = num_traits::pow(BigInt::from(10), frac.len());
    let v = Q::new(num, den);
    Some(if neg { -v } else { v })
}

fn q_of_decimal(d: Decimal) -> Q {
    q_of(&d.to_string()).expect("decimal")
}

fn round_half_even(q: &Q, dp: usize) -> Q {
    let scale = num_traits::pow(BigInt::from(10), dp);
    let scaled = q * Q::from_integer(scale.clone());
    let floor = scaled.floor();
    let diff = &scaled - &floor;
    let half = Q::new(BigInt::from(1), BigInt::from(2));
    let units = if diff > half || (diff == half && floor.to_integer() % 2 != BigInt::from(0)) {
        floor.to_integer() + 1
    } else {
        floor.to_integer()
    };
    Q::new(units, scale)
}

/// `expected` must be contained in `actual`: objects compare on the expected keys only
/// (absent = null), strings that are decimals compare numerically.
fn assert_subset(case: &str, path: &str, expected: &Value, actual: &Value) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a.get(k).unwrap_or(&Value::Null);
                assert_subset(case, &format!("{path}.{k}"), ev, av);
            }
        }
        (Value::Object(_), Value::Null) => panic!("{case} {path}: missing, expected {expected}"),
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(
                e.len(),
                a.len(),
                "{case} {path}: length differs: {expected} vs {actual}"
            );
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                assert_subset(case, &format!("{path}[{i}]"), ev, av);
            }
        }
        (Value::String(e), Value::String(a)) => match (q_of(e), q_of(a)) {
            (Some(eq), Some(aq)) => assert_eq!(eq, aq, "{case} {path}: {e} vs {a}"),
            _ => assert_eq!(e, a, "{case} {path}"),
        },
        _ => assert_eq!(expected, actual, "{case} {path}"),
    }
}

/// Keys that are descriptions or handled separately.
const META_KEYS: &[&str] = &[
    "id",
    "method",
    "description",
    "inputs",
    "source_check",
    "status",
    "note",
    "inexact_fields",
    "fractions",
    "exclusion_rule",
    "alt_strict_rule",
    "alt_trim_distinct_values",
    "alt_threshold_multiplicative",
    "alt_threshold_multiplicative_note",
];

fn anomaly_request(case: &Value) -> AnomalyRequest {
    let method = case["method"]
        .as_str()
        .expect("method")
        .parse::<AnomalyMethod>()
        .expect("method");
    let discounts = case["inputs"]["discounts"]
        .as_array()
        .expect("discounts")
        .iter()
        .map(|d| DiscountEntry::Plain(Decimal::from_str(d.as_str().expect("str")).expect("decimal")))
        .collect();
    let mut request = AnomalyRequest::new(method, discounts);
    if let Some(r) = case["inputs"].get("reference_discount") {
        request.reference_discount = Some(Decimal::from_str(r.as_str().expect("str")).expect("decimal"));
    }
    request
}

/// Exact value of a report field: its fraction if it was rounded, otherwise its decimal.
fn exact_field(report: &Value, field: &str) -> Q {
    if let Some(f) = report["fractions"].get(field) {
        return q_of(f.as_str().expect("fraction")).expect("fraction");
    }
    q_of(report[field].as_str().expect("field")).expect("decimal")
}

fn check_anomaly_case(case: &Value) {
    let id = case["id"].as_str().expect("id");
    let request = anomaly_request(case);
    let report = evaluate_anomaly(&request).unwrap_or_else(|e| panic!("{id}: {e}"));
    let actual = serde_json::to_value(&report).expect("serialize");

    // Every listed value, exactly.
    for (key, expected) in case.as_object().expect("object") {
        if META_KEYS.contains(&key.as_str()) {
            continue;
        }
        let got = actual.get(key).unwrap_or(&Value::Null);
        assert_subset(id, key, expected, got);
    }

    // Exclusion rule.
    if let Some(rule) = case.get("exclusion_rule").and_then(Value::as_str) {
        let expected = if rule.starts_with(">=") {
            "at_or_above_threshold"
        } else {
            "above_threshold"
        };
        assert_eq!(actual["exclusion_rule"], expected, "{id} exclusion_rule");
    }

    // Inexact fields and fractions, restricted to the fields this engine reports.
    let mine: Vec<String> = serde_json::from_value(actual["inexact_fields"].clone()).expect("list");
    let listed: Vec<String> = serde_json::from_value(case["inexact_fields"].clone()).expect("list");
    for f in &listed {
        if actual.get(f).is_some() {
            assert!(mine.contains(f), "{id}: {f} should be inexact");
        }
    }
    for f in &mine {
        assert!(listed.contains(f), "{id}: {f} reported inexact, vector says exact");
    }
    if let Some(fractions) = case.get("fractions").and_then(Value::as_object) {
        for (field, fraction) in fractions {
            if actual.get(field).is_none() {
                continue;
            }
            let expected = q_of(fraction.as_str().expect("str")).expect("fraction");
            assert_eq!(exact_field(&actual, field), expected, "{id}: exact value of {field}");
        }
    }

    // Alternative reading: strict ">" rule under Method A (option for the tender documents).
    if let Some(alt) = case.get("alt_strict_rule") {
        let mut strict = request.clone();
        strict.options.equal_to_threshold = Some(EqualToThreshold::Kept);
        let alt_report = serde_json::to_value(evaluate_anomaly(&strict).expect("strict")).expect("json");
        assert_subset(
            id,
            "alt_strict_rule.excluded",
            &alt["excluded"],
            &alt_report["excluded"],
        );
        assert_subset(id, "alt_strict_rule.winner", &alt["winner"], &alt_report["winner"]);
        assert_eq!(alt_report["exclusion_rule"], "above_threshold");
    }

    // Alternative reading: "blocco unitario" trimming (option).
    if let Some(alt) = case.get("alt_trim_distinct_values") {
        let mut distinct = request.clone();
        distinct.options.wing_ties = WingTies::DistinctValues;
        let alt_report = serde_json::to_value(evaluate_anomaly(&distinct).expect("distinct")).expect("json");
        assert_subset(
            id,
            "alt_trim_distinct_values.trimmed_set",
            &alt["trimmed_set"],
            &alt_report["trimmed_set"],
        );
    }

    // Rejected multiplicative reading (TAR Marche 622/2019) is not implemented; the vector's
    // figure is checked against the engine's T1 and decrement: T1 × (1 − decrement / 100).
    if let Some(alt) = case.get("alt_threshold_multiplicative").and_then(Value::as_str) {
        let t1 = exact_field(&actual, "threshold_before_decrement");
        let decrement = exact_field(&actual, "decrement");
        let hundred = Q::from_integer(BigInt::from(100));
        let value = &t1 - &t1 * &decrement / &hundred;
        let expected = match case["fractions"].get("alt_threshold_multiplicative") {
            Some(f) => q_of(f.as_str().expect("str")).expect("fraction"),
            None => q_of(alt).expect("decimal"),
        };
        assert_eq!(value, expected, "{id} alt_threshold_multiplicative");
    }
}

fn run_anomaly_file(name: &str, expected_cases: usize) {
    let cases = load(name);
    assert_eq!(cases.len(), expected_cases, "{name}: number of cases");
    for case in &cases {
        check_anomaly_case(case);
    }
}

#[test]
fn anomaly_method_a_vectors() {
    run_anomaly_file("anomaly_a.json", 12);
}

#[test]
fn anomaly_method_b_vectors() {
    run_anomaly_file("anomaly_b_provisional.json", 13);
}

#[test]
fn anomaly_method_c_vectors() {
    run_anomaly_file("anomaly_c_provisional.json", 13);
}

fn formula_of(case: &Value) -> EconomicFormula {
    match case["formula"].as_str().expect("formula") {
        "Ci = Ri / Rmax" => EconomicFormula::Linear,
        f if f.starts_with("Ci = X*Ri/Asoglia") => EconomicFormula::Bilinear,
        "Ci = (Ri/Rmax)^alpha" => EconomicFormula::Concave,
        "Ci = Pmin / Pi" => EconomicFormula::InverseProportional,
        other => panic!("unknown formula {other}"),
    }
}

fn dec_field(v: &Value) -> Option<Decimal> {
    v.as_str().map(|s| Decimal::from_str(s).expect("decimal"))
}

/// Compare a per-offer map ("O1" -> value) with the report.
fn check_offer_values(id: &str, what: &str, expected: &Value, report: &Value) {
    for (offer, value) in expected.as_object().expect("map") {
        let expected = q_of(value.as_str().expect("str")).expect("decimal");
        let line = report["offers"]
            .as_array()
            .expect("offers")
            .iter()
            .find(|o| o["id"] == offer.as_str())
            .unwrap_or_else(|| panic!("{id}: no offer {offer}"));
        let got = q_of(line[what].as_str().expect("str")).expect("decimal");
        if what == "points_rounded_3dp_half_up" {
            assert_eq!(got, expected, "{id} {offer} {what}");
            continue;
        }
        let key = format!("{offer}.{what}");
        match report["fractions"].get(&key) {
            // Rounded output: the exact value must equal the vector's, and the decimal must be
            // that value rounded half-even to 20 places.
            Some(fraction) => {
                let exact = q_of(fraction.as_str().expect("str")).expect("fraction");
                let vector_decimals = value
                    .as_str()
                    .and_then(|s| s.split_once('.'))
                    .map_or(0, |(_, f)| f.len());
                if vector_decimals > 20 {
                    // Vector value is the exact (30-dp) figure.
                    assert_eq!(exact, expected, "{id} {offer} {what} exact");
                } else {
                    // Vector value is the exact value rounded to 20 dp.
                    assert_eq!(round_half_even(&exact, 20), expected, "{id} {offer} {what} exact");
                }
                assert_eq!(got, round_half_even(&exact, 20), "{id} {offer} {what} rounded");
            }
            None => assert_eq!(got, expected, "{id} {offer} {what}"),
        }
    }
}

#[test]
fn scoring_vectors() {
    let cases = load("scoring.json");
    assert_eq!(cases.len(), 7);
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let inputs = &case["inputs"];
        let formula = formula_of(case);
        let request = EconomicScoresRequest {
            formula,
            parameters: EconomicParameters {
                max_points: dec_field(&inputs["max_points"]).expect("max_points"),
                x: dec_field(&inputs["X"]),
                alpha: dec_field(&inputs["alpha"]),
            },
            offers: inputs["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(|v| ValueEntry::Plain(dec_field(v).expect("value")))
                .collect(),
            draw_seed: None,
        };
        let report = compute_economic_scores(&request).unwrap_or_else(|e| panic!("{id}: {e}"));
        let actual = serde_json::to_value(&report).expect("json");

        if let Some(asoglia) = inputs.get("Asoglia") {
            assert_subset(id, "Asoglia", asoglia, &actual["Asoglia"]);
        }
        check_offer_values(id, "coefficient", &case["coefficients"], &actual);
        check_offer_values(id, "points", &case["points"], &actual);
        check_offer_values(
            id,
            "points_rounded_3dp_half_up",
            &case["points_rounded_3dp_half_up"],
            &actual,
        );
        assert_subset(id, "ranking", &case["ranking"], &actual["ranking"]);
        if let Some(list) = case.get("inexact_coefficients").and_then(Value::as_array) {
            let listed: Vec<String> = list
                .iter()
                .map(|v| format!("{}.coefficient", v.as_str().expect("id")))
                .collect();
            let mine: Vec<String> = report
                .inexact_fields
                .iter()
                .filter(|f| f.ends_with(".coefficient"))
                .cloned()
                .collect();
            assert_eq!(mine, listed, "{id} inexact coefficients");
        }
        // Ranking is by exact points.
        let mut by_points: BTreeMap<String, Q> = BTreeMap::new();
        for o in &report.offers {
            let exact = match report.fractions.get(&format!("{}.points", o.id)) {
                Some(f) => q_of(f).expect("fraction"),
                None => q_of_decimal(o.points),
            };
            by_points.insert(o.id.clone(), exact);
        }
        for pair in report.ranking.windows(2) {
            assert!(by_points[&pair[0].id] >= by_points[&pair[1].id], "{id} ranking order");
        }
    }
}
