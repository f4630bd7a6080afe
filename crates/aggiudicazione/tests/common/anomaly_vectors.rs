//! The conformance check of the anomaly vectors, shared by the library test
//! (`crates/aggiudicazione/tests/vectors.rs`) and the public calculator's HTTP test
//! (`tests/tests/anomaly_vectors_http.rs`, which includes this file by path): the same cases,
//! the same comparisons, whatever computes the report.
//!
//! An evaluator takes the calculator's JSON request and returns the JSON report, or the
//! error's stable code.
//!
//! Where a provisional vector file records a value the official text contradicts (its README
//! says so), the check applies the text and names the case:
//! - `award_discount_second_price_unverified` is Method B's award discount (point 2), except on
//!   a tie at the top (B-11), where the law awards the tied discount itself;
//! - Method C with every offer above T (C-08): point 2 f excludes nothing, the anomaly goes to
//!   contraddittorio (the same as anomaly_bc_2025.json C-2025-04).

#![allow(dead_code)]

use std::str::FromStr;

use num_bigint::BigInt;
use num_rational::BigRational;
use serde_json::{json, Value};

pub type Q = BigRational;

pub type Evaluator<'a> = &'a dyn Fn(&Value) -> Result<Value, String>;

/// The files of the vector folder with their number of cases.
pub const ANOMALY_FILES: &[(&str, usize)] = &[
    ("anomaly_a.json", 12),
    ("anomaly_b_provisional.json", 13),
    ("anomaly_c_provisional.json", 13),
    ("anomaly_bc_2025.json", 7),
];

/// The copy of `shared/vectors` kept with the engine (found from either crate's manifest).
pub fn vector_dir() -> String {
    let here = env!("CARGO_MANIFEST_DIR");
    let own = format!("{here}/tests/vectors");
    if std::path::Path::new(&own).join("anomaly_a.json").exists() {
        own
    } else {
        format!("{here}/../crates/aggiudicazione/tests/vectors")
    }
}

pub fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/{name}", vector_dir());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("vector JSON")
}

/// Exact value of a decimal string of any length, or of a fraction "p/q".
pub fn q_of(s: &str) -> Option<Q> {
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

pub fn round_half_even(q: &Q, dp: usize) -> Q {
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
pub fn assert_subset(case: &str, path: &str, expected: &Value, actual: &Value) {
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
        // A list of ids (anomaly_bc_2025.json) against the report's offers.
        (Value::String(e), Value::Object(a)) if a.contains_key("id") => {
            assert_eq!(Some(e.as_str()), a["id"].as_str(), "{case} {path}")
        }
        (Value::String(e), Value::String(a)) => match (q_of(e), q_of(a)) {
            (Some(eq), Some(aq)) => assert_eq!(eq, aq, "{case} {path}: {e} vs {a}"),
            _ => assert_eq!(e, a, "{case} {path}"),
        },
        _ => assert_eq!(expected, actual, "{case} {path}"),
    }
}

/// Keys that are descriptions or are checked separately below.
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
    "award_discount_second_price_unverified",
    "threshold_fraction",
    "excluded",
    "outcome",
];

/// The calculator request of a case (no options, no publication date: the text in force).
pub fn request_of(case: &Value) -> Value {
    let mut request = json!({ "method": case["method"], "discounts": case["inputs"]["discounts"] });
    if let Some(r) = case["inputs"].get("reference_discount") {
        request["reference_discount"] = r.clone();
    }
    request
}

/// Exact value of a report field: its fraction if it was rounded, otherwise its decimal.
pub fn exact_field(report: &Value, field: &str) -> Q {
    if let Some(f) = report["fractions"].get(field) {
        return q_of(f.as_str().expect("fraction")).expect("fraction");
    }
    q_of(
        report[field]
            .as_str()
            .unwrap_or_else(|| panic!("field {field}: {report}")),
    )
    .expect("decimal")
}

fn method_c_all_anomalous(case: &Value) -> bool {
    case["method"] == "C" && case["outcome"] == "ALL_OFFERS_EXCLUDED"
}

pub fn check_case(case: &Value, eval: Evaluator) {
    let id = case["id"].as_str().expect("id");
    let request = request_of(case);
    let actual = eval(&request).unwrap_or_else(|code| panic!("{id}: {code}"));

    for (key, expected) in case.as_object().expect("object") {
        if META_KEYS.contains(&key.as_str()) {
            continue;
        }
        let got = actual.get(key).unwrap_or(&Value::Null);
        assert_subset(id, key, expected, got);
    }

    // Outcome and exclusions; Method C with every offer anomalous follows point 2 f.
    if method_c_all_anomalous(case) {
        assert_eq!(
            actual["outcome"], "ALL_OFFERS_ANOMALOUS_CONTRADDITTORIO",
            "{id}: Method C point 2 f"
        );
        assert_subset(id, "excluded", &json!([]), &actual["excluded"]);
        assert_subset(
            id,
            "anomalous_to_verify",
            &case["excluded"],
            &actual["anomalous_to_verify"],
        );
    } else {
        if let Some(outcome) = case.get("outcome") {
            assert_eq!(&actual["outcome"], outcome, "{id} outcome");
        }
        if let Some(excluded) = case.get("excluded") {
            assert_subset(id, "excluded", excluded, &actual["excluded"]);
        }
    }

    // Award discount: Method B's second price (point 2), the own discount otherwise.
    let winner = &case["winner"];
    let expected_award = if let Some(second) = case.get("award_discount_second_price_unverified") {
        if winner["tie_lottery"] == true {
            // B-11: the vector's figure is the one its README calls wrong; the law: the tie.
            assert_eq!(actual["award_discount_rule"], "tie_own_discount", "{id}");
            winner["discount"].clone()
        } else {
            assert_eq!(actual["award_discount_rule"], "second_price", "{id}");
            second.clone()
        }
    } else if let Some(award) = case.get("award_discount") {
        award.clone()
    } else if winner.is_object() {
        winner["discount"].clone()
    } else {
        Value::Null
    };
    assert_subset(
        id,
        "award_discount",
        &expected_award,
        actual.get("award_discount").unwrap_or(&Value::Null),
    );

    if let Some(fraction) = case.get("threshold_fraction").and_then(Value::as_str) {
        assert_eq!(
            exact_field(&actual, "threshold"),
            q_of(fraction).expect("fraction"),
            "{id} threshold fraction"
        );
    }

    if let Some(rule) = case.get("exclusion_rule").and_then(Value::as_str) {
        let expected = if rule.starts_with(">=") {
            "at_or_above_threshold"
        } else {
            "above_threshold"
        };
        assert_eq!(actual["exclusion_rule"], expected, "{id} exclusion_rule");
    }

    // Inexact fields and fractions (when the file lists them), restricted to the fields the
    // engine reports.
    let lists_inexact = case.get("inexact_fields").is_some();
    let mine: Vec<String> = serde_json::from_value(actual["inexact_fields"].clone()).expect("list");
    let listed: Vec<String> =
        serde_json::from_value(case.get("inexact_fields").cloned().unwrap_or(json!([]))).expect("list");
    for f in &listed {
        if actual.get(f).is_some() {
            assert!(mine.contains(f), "{id}: {f} should be inexact");
        }
    }
    for f in &mine {
        let threshold_fraction = f == "threshold" && case.get("threshold_fraction").is_some();
        assert!(
            !lists_inexact || listed.contains(f) || threshold_fraction,
            "{id}: {f} reported inexact, vector says exact"
        );
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

    // The readings contradicting the amended text: refused for a tender of today, applied for a
    // tender published before 2024-12-31 whose documents adopted them.
    let before = "2024-12-30";
    if let Some(alt) = case.get("alt_strict_rule") {
        let mut strict = request.clone();
        strict["options"] = json!({ "equal_to_threshold": "kept" });
        assert_eq!(
            eval(&strict).err().as_deref(),
            Some("option_not_in_force"),
            "{id}: strict rule under the amended text"
        );
        strict["publication_date"] = json!(before);
        let alt_report = eval(&strict).unwrap_or_else(|c| panic!("{id} strict: {c}"));
        assert_eq!(alt_report["text"], "original2023", "{id}");
        assert_subset(
            id,
            "alt_strict_rule.excluded",
            &alt["excluded"],
            &alt_report["excluded"],
        );
        assert_subset(id, "alt_strict_rule.winner", &alt["winner"], &alt_report["winner"]);
        assert_eq!(alt_report["exclusion_rule"], "above_threshold");
    }
    if let Some(alt) = case.get("alt_trim_distinct_values") {
        let mut distinct = request.clone();
        distinct["options"] = json!({ "wing_ties": "distinct_values" });
        assert_eq!(
            eval(&distinct).err().as_deref(),
            Some("option_not_in_force"),
            "{id}: blocco unitario under the amended text"
        );
        distinct["publication_date"] = json!(before);
        let alt_report = eval(&distinct).unwrap_or_else(|c| panic!("{id} distinct: {c}"));
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

/// Every case of every anomaly file through `eval`; returns the number of cases checked.
pub fn check_all(eval: Evaluator) -> usize {
    let mut n = 0;
    for (name, count) in ANOMALY_FILES {
        let cases = load(name);
        assert_eq!(cases.len(), *count, "{name}: number of cases");
        for case in &cases {
            check_case(case, eval);
            n += 1;
        }
    }
    n
}
