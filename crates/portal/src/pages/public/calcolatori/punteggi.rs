//! `/calcolatori/punteggi-economici`: the offers' economic scores by the tender's formula
//! (linear, bilinear, concave, inverse proportional), run by the same engine as
//! `POST /api/v1/tools/economic-scores` and the OEPV evaluation: coefficients, points, the
//! ranking and the rounded values with their exact fractions.

use actix_web::{get, web, HttpRequest, HttpResponse};
use aggiudicazione::ranking::{RankedOffer, TieBreak};
use aggiudicazione::scoring::EconomicScore;
use aggiudicazione::{compute_economic_scores, EconomicFormula, EconomicScoresReport, EconomicScoresRequest};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{comma, decimal, items, refusal_on, run, status};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::FieldErrors;
use crate::pages::public::{filled, query};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(punteggi_economici);
}

#[derive(Debug, Default, Deserialize)]
pub struct ScoresForm {
    /// The engine's name of the formula (`linear`, `bilinear`, `concave`, `inverse_proportional`).
    pub formula: Option<String>,
    pub punteggio_massimo: Option<String>,
    /// Bilinear only: X.
    pub x: Option<String>,
    /// Concave only: alpha.
    pub alfa: Option<String>,
    /// Discounts (percent) or, for the inverse proportional formula, prices.
    pub offerte: Option<String>,
    /// A number standing for a draw among offers with equal points (what-if only).
    pub seme_sorteggio: Option<String>,
}

/// The formulas the page offers, by the engine's name: label and rule as the page writes them.
const FORMULAS: &[(&str, &str, &str)] = &[
    ("linear", "Lineare", "Ci = Ri / Rmax (Ri: ribasso dell'offerta, Rmax: ribasso più alto)"),
    (
        "bilinear",
        "Bilineare",
        "Ci = X · Ri / Asoglia se Ri ≤ Asoglia; altrimenti Ci = X + (1 − X) · (Ri − Asoglia) / (Rmax − Asoglia) (Asoglia: media dei ribassi)",
    ),
    (
        "concave",
        "Concava (interdipendente)",
        "Ci = (Ri / Rmax)^α, con 0 < α ≤ 1 (un coefficiente irrazionale è il valore esatto arrotondato a 30 decimali)",
    ),
    (
        "inverse_proportional",
        "Proporzionalità inversa (sui prezzi)",
        "Ci = Pmin / Pi (Pi: prezzo dell'offerta, Pmin: prezzo più basso)",
    ),
];

pub struct FormulaOption {
    pub value: &'static str,
    pub label: &'static str,
}

/// One offer's line, every value as the engine reported it.
pub struct Scored {
    pub id: String,
    pub value: String,
    pub coefficient: String,
    pub points: String,
    pub points_rounded: String,
}

pub struct Ranked {
    pub rank: usize,
    pub id: String,
    pub tie_break: &'static str,
}

/// A value the engine rounded to 20 decimals, with its exact fraction.
pub struct Inexact {
    pub key: String,
    pub label: String,
    pub fraction: String,
}

pub struct Report {
    pub formula: &'static str,
    pub rule: &'static str,
    pub on_price: bool,
    pub max_points: String,
    pub asoglia: Option<String>,
    pub offers: Vec<Scored>,
    pub ranking: Vec<Ranked>,
    pub inexact: Vec<Inexact>,
}

#[derive(Template)]
#[template(path = "public/calcolatori_punteggi.html")]
struct Page {
    chrome: Chrome,
    formulas: Vec<FormulaOption>,
    formula: String,
    punteggio_massimo: String,
    x: String,
    alfa: String,
    offerte: String,
    seme_sorteggio: String,
    errors: FieldErrors,
    report: Option<Report>,
}

fn formula_text(f: EconomicFormula) -> (&'static str, &'static str) {
    let name = match f {
        EconomicFormula::Linear => "linear",
        EconomicFormula::Bilinear => "bilinear",
        EconomicFormula::Concave => "concave",
        EconomicFormula::InverseProportional => "inverse_proportional",
    };
    FORMULAS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, label, rule)| (*label, *rule))
        .unwrap_or((name, ""))
}

fn tie_break(t: TieBreak) -> &'static str {
    match t {
        TieBreak::None => "nessuna parità",
        TieBreak::TechnicalScore => "punteggio tecnico",
        TieBreak::Draw => "sorteggio con il seme indicato",
        TieBreak::DrawRequired => "parità da sorteggiare: posizione condivisa",
    }
}

/// `O3.coefficient` as the page says it.
fn inexact_label(key: &str) -> String {
    match key.rsplit_once('.') {
        Some((id, "coefficient")) => format!("{id}: coefficiente"),
        Some((id, "points")) => format!("{id}: punti"),
        _ => key.to_string(),
    }
}

/// The report, field by field: destructured whole, so a value the engine starts reporting
/// does not compile until the page shows it.
fn report(r: EconomicScoresReport) -> Report {
    let EconomicScoresReport {
        formula,
        max_points,
        asoglia,
        offers,
        ranking,
        inexact_fields,
        mut fractions,
    } = r;
    let (label, rule) = formula_text(formula);
    let offers = offers
        .into_iter()
        .map(|o| {
            let EconomicScore {
                id,
                value,
                coefficient,
                points,
                points_rounded_3dp_half_up,
            } = o;
            Scored {
                id,
                value: comma(&value),
                coefficient: comma(&coefficient),
                points: comma(&points),
                points_rounded: comma(&points_rounded_3dp_half_up),
            }
        })
        .collect();
    let ranking = ranking
        .into_iter()
        .map(|r| {
            let RankedOffer { id, rank, tie_break: t } = r;
            Ranked {
                rank,
                id,
                tie_break: tie_break(t),
            }
        })
        .collect();
    let mut inexact: Vec<Inexact> = inexact_fields
        .into_iter()
        .map(|key| Inexact {
            label: inexact_label(&key),
            fraction: fractions.remove(&key).unwrap_or_else(|| "—".into()),
            key,
        })
        .collect();
    // A fraction without its field in the list would still be a value the engine reported.
    inexact.extend(fractions.into_iter().map(|(key, fraction)| Inexact {
        label: inexact_label(&key),
        key,
        fraction,
    }));
    Report {
        formula: label,
        rule,
        on_price: formula.is_on_price(),
        max_points: comma(&max_points),
        asoglia: asoglia.as_ref().map(comma),
        offers,
        ranking,
        inexact,
    }
}

const NOT_A_NUMBER: &str =
    "Valore non valido: scrivere un numero, con la virgola per i decimali e senza separatore delle migliaia (es. 12,5)";

/// The engine's request from the form. The page only reads the numbers; every rule on them
/// (ranges, decimals, which parameter which formula takes) is the engine's.
fn request(form: &ScoresForm) -> Result<Value, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut number = |field: &str, text: &Option<String>| -> Option<String> {
        let text = filled(text)?;
        match decimal(&text) {
            Some(d) => Some(d.to_string()),
            None => {
                errors.by_field.insert(field.into(), NOT_A_NUMBER.into());
                None
            }
        }
    };
    let max_points = number("punteggio_massimo", &form.punteggio_massimo);
    let x = number("x", &form.x);
    let alpha = number("alfa", &form.alfa);
    let mut offers = Vec::new();
    for (i, text) in items(form.offerte.as_deref()).into_iter().enumerate() {
        match decimal(text) {
            Some(d) => offers.push(Value::String(d.to_string())),
            None => {
                errors
                    .by_field
                    .entry("offerte".into())
                    .or_insert_with(|| format!("{NOT_A_NUMBER}: «{text}» (offerta O{})", i + 1));
            }
        }
    }
    if filled(&form.punteggio_massimo).is_none() {
        errors.by_field.insert(
            "punteggio_massimo".into(),
            "Inserire il punteggio economico massimo".into(),
        );
    }
    let mut parameters = json!({});
    if let Some(m) = max_points {
        parameters["max_points"] = Value::String(m);
    }
    if let Some(x) = x {
        parameters["X"] = Value::String(x);
    }
    if let Some(a) = alpha {
        parameters["alpha"] = Value::String(a);
    }
    let mut body = json!({
        "formula": form.formula.as_deref().unwrap_or_default().trim(),
        "parameters": parameters,
        "offers": offers,
    });
    if let Some(s) = filled(&form.seme_sorteggio) {
        match s.parse::<u64>() {
            Ok(n) => body["draw_seed"] = json!(n),
            Err(_) => {
                errors.by_field.insert(
                    "seme_sorteggio".into(),
                    "Seme non valido: un numero intero, senza segno né decimali".into(),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(errors)
    }
}

/// The form field of the engine's field path (`parameters.alpha`, `offers[3]`).
fn form_field(api_field: &str) -> Option<&'static str> {
    match api_field {
        "formula" => Some("formula"),
        "parameters.max_points" => Some("punteggio_massimo"),
        "parameters.X" => Some("x"),
        "parameters.alpha" => Some("alfa"),
        "draw_seed" => Some("seme_sorteggio"),
        f if f == "offers" || f.starts_with("offers[") => Some("offerte"),
        _ => None,
    }
}

fn refusal(e: &api::ApiError) -> FieldErrors {
    let api_field = e.field.as_deref().unwrap_or_default();
    // The engine counts offers from 0; the page names them O1, O2, … as the report does.
    let offer = api_field
        .strip_prefix("offers[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok());
    let message = match offer {
        Some(i) => format!("{} (offerta O{})", e.message, i + 1),
        None => e.message.clone(),
    };
    refusal_on(form_field(api_field), message)
}

#[get("/calcolatori/punteggi-economici")]
async fn punteggi_economici(visitor: Visitor, req: HttpRequest) -> Result<HttpResponse, PortalError> {
    let form: ScoresForm = query(&req)?;
    let submitted = form.formula.is_some() || form.offerte.is_some();
    let mut errors = FieldErrors::default();
    let mut computed = None;
    if submitted {
        match request(&form) {
            Err(e) => errors = e,
            Ok(body) => {
                let outcome = run(move || -> Result<EconomicScoresReport, api::ApiError> {
                    let request = EconomicScoresRequest::from_json(&body.to_string())?;
                    api::routes::tools::at_most_offers(request.offers.len(), "offers")?;
                    Ok(compute_economic_scores(&request)?)
                })
                .await?;
                match outcome {
                    Ok(r) => computed = Some(report(r)),
                    Err(e) => errors = refusal(&e),
                }
            }
        }
    }
    let title = "Punteggi economici";
    let page = Page {
        chrome: Chrome::new(&visitor, title, Section::Calcolatori)
            .crumb("Calcolatori", Some("/calcolatori"))
            .crumb(title, None),
        formulas: FORMULAS
            .iter()
            .map(|(value, label, _)| FormulaOption { value, label })
            .collect(),
        formula: filled(&form.formula).unwrap_or_else(|| "linear".into()),
        punteggio_massimo: form.punteggio_massimo.clone().unwrap_or_default(),
        x: form.x.clone().unwrap_or_default(),
        alfa: form.alfa.clone().unwrap_or_default(),
        offerte: form.offerte.clone().unwrap_or_default(),
        seme_sorteggio: form.seme_sorteggio.clone().unwrap_or_default(),
        report: computed,
        errors,
    };
    crate::pages::render_status(&visitor, &page, status(&page.errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_of_the_engine_has_its_words() {
        for f in [
            EconomicFormula::Linear,
            EconomicFormula::Bilinear,
            EconomicFormula::Concave,
            EconomicFormula::InverseProportional,
        ] {
            assert!(!formula_text(f).1.is_empty(), "{f:?}");
        }
    }

    #[test]
    fn an_offer_the_engine_names_is_named_as_the_page_does() {
        let e = api::ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "discount_out_of_range",
            "Ribasso fuori intervallo",
        )
        .with_field("offers[2]");
        let errors = refusal(&e);
        assert_eq!(errors.get("offerte"), Some("Ribasso fuori intervallo (offerta O3)"));
    }
}
