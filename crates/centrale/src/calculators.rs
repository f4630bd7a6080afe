//! `centrale anomaly` and `centrale scores`: the award engine offline, JSON in on stdin and
//! JSON out on stdout, so a bidder can check a threshold without trusting the platform.

use std::io::Read;

use aggiudicazione::{compute_economic_scores, evaluate_anomaly, AnomalyRequest, EconomicScoresRequest, EvalError};

fn stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    Ok(text)
}

fn explain(e: EvalError) -> String {
    match e.field() {
        Some(field) => format!("{} [{}] ({field})", e, e.code()),
        None => format!("{} [{}]", e, e.code()),
    }
}

fn print(value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

pub fn anomaly() -> Result<(), String> {
    let request = AnomalyRequest::from_json(&stdin()?).map_err(explain)?;
    print(&evaluate_anomaly(&request).map_err(explain)?)
}

/// `centrale draw`: the same computation as `POST /api/v1/tools/draw`.
pub fn draw() -> Result<(), String> {
    let request: domain::draw::DrawRequest =
        serde_json::from_str(&stdin()?).map_err(|e| format!("richiesta non valida: {e}"))?;
    let result =
        domain::draw::compute(&request).map_err(|(code, field, message)| format!("{code} ({field}): {message}"))?;
    print(&result)
}

pub fn scores() -> Result<(), String> {
    let request = EconomicScoresRequest::from_json(&stdin()?).map_err(explain)?;
    print(&compute_economic_scores(&request).map_err(explain)?)
}
