//! Conformance vectors (tests/vectors/*.json, copied from shared/vectors): every case of every
//! file is run and every value the vector lists is compared numerically (as exact decimals /
//! fractions, never as text). The anomaly check lives in `common/anomaly_vectors.rs`, shared
//! with the public calculator's HTTP test.

use std::collections::BTreeMap;
use std::str::FromStr;

#[path = "common/anomaly_vectors.rs"]
mod anomaly_vectors;

use aggiudicazione::anomaly::{evaluate_anomaly, AnomalyRequest};
use aggiudicazione::scoring::{
    compute_economic_scores, EconomicFormula, EconomicParameters, EconomicScoresRequest, ValueEntry,
};
use anomaly_vectors::{assert_subset, load, q_of, round_half_even, Q};
use rust_decimal::Decimal;
use serde_json::Value;

fn q_of_decimal(d: Decimal) -> Q {
    q_of(&d.to_string()).expect("decimal")
}

/// Through the library: the same JSON the public calculator takes.
fn library(request: &Value) -> Result<Value, String> {
    let request = AnomalyRequest::from_json(&request.to_string()).map_err(|e| e.code().to_owned())?;
    let report = evaluate_anomaly(&request).map_err(|e| e.code().to_owned())?;
    Ok(serde_json::to_value(&report).expect("serialize"))
}

#[test]
fn every_anomaly_vector_through_the_library() {
    assert_eq!(anomaly_vectors::check_all(&library), 45);
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
