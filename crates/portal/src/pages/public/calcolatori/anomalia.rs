//! `/calcolatori`, the index of the calculators and the anomaly threshold's form, run by the
//! same engine as `POST /api/v1/tools/anomaly-threshold` and the tenders' evaluation, showing
//! every value the engine reports, in its order.

use actix_web::{get, web, HttpRequest, HttpResponse};
use aggiudicazione::{evaluate_anomaly, AnomalyRequest};
use askama::Template;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{items, run, status};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::FieldErrors;
use crate::pages::public::{filled, query};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(calcolatori);
}

#[derive(Debug, Default, Deserialize)]
pub struct AnomalyForm {
    pub metodo: Option<String>,
    /// The admitted discounts (percent), one per line or separated by `;` or spaces.
    pub ribassi: Option<String>,
    /// Method C: the reference discount stated in the bando.
    pub ribasso_riferimento: Option<String>,
    /// The tender's publication day: it picks the text of Allegato II.2 in force.
    pub data_pubblicazione: Option<String>,
}

/// One value of the report, as the engine names it and as the page labels it.
pub struct Step {
    pub key: String,
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "public/calcolatori.html")]
struct Page {
    chrome: Chrome,
    metodo: String,
    ribassi: String,
    ribasso_riferimento: String,
    data_pubblicazione: String,
    errors: FieldErrors,
    steps: Vec<Step>,
    computed: bool,
}

/// Italian labels of the report's fields (Allegato II.2 notation); a field without one is
/// still shown, under its own name, so no step the engine reports is hidden.
fn label(key: &str) -> String {
    match key {
        "method" => "Metodo",
        "text" => "Testo dell'Allegato II.2 applicato",
        "n_admitted" => "Offerte ammesse (n)",
        "automatic_exclusion_applies" => "Esclusione automatica applicabile",
        "outcome" => "Esito del calcolo",
        "branch" => "Ramo del metodo A",
        "wing_size_k" => "Ali: k = ⌈n / 10⌉",
        "sorted_ascending" => "Ribassi in ordine crescente",
        "lower_wing" => "Ala inferiore (esclusa dalla media)",
        "upper_wing" => "Ala superiore (esclusa dalla media)",
        "trimmed_set" => "Ribassi dopo il taglio delle ali",
        "trimmed_count" => "Numero dei ribassi dopo il taglio",
        "sum" => "S: somma dei ribassi dopo il taglio",
        "sum_first_two_decimals" => "d1 e d2: prime due cifre decimali di S",
        "product_d1_d2" => "Prodotto d1 × d2",
        "digit_sum_E" => "E: somma delle cifre della parte intera di S più d1 e d2",
        "E_parity" => "Parità di E",
        "mean" => "M: media aritmetica (S / numero dei ribassi)",
        "above_mean" => "Ribassi superiori a M",
        "mean_deviation" => "SM: media degli scarti dei ribassi superiori a M",
        "ratio_SM_over_M" => "R = SM / M",
        "ratio_le_0_15" => "R ≤ 0,15",
        "threshold_rule" => "Regola della soglia",
        "threshold_before_decrement" => "T1 = M + SM",
        "decrement" => "Decremento: SM × d1·d2 / 100",
        "threshold_before_adjustment" => "T1 = M + SM",
        "reference_discount" => "Ribasso di riferimento",
        "reference_discount_unverified" => "Ribasso di riferimento dalla copia non verificata della Tabella A",
        "adjustment" => "V = SM × d1·d2 / 100",
        "adjustment_sign" => "Segno della correzione",
        "threshold" => "T: soglia di anomalia",
        "exclusion_rule" => "Regola di esclusione",
        "excluded" => "Offerte escluse automaticamente",
        "anomalous_to_verify" => "Offerte anomale da verificare in contraddittorio",
        "winner" => "Migliore offerta non esclusa",
        "winner_if_no_exclusion" => "Migliore offerta senza esclusioni",
        "award_discount" => "Ribasso di aggiudicazione",
        "award_discount_rule" => "Regola del ribasso di aggiudicazione",
        "inexact_fields" => "Valori arrotondati (20 decimali) perché non finiti",
        "fractions" => "Frazioni esatte dei valori arrotondati",
        other => return other.replace('_', " "),
    }
    .to_string()
}

/// Every value of an Allegato II.2 report, in the engine's order, as the page shows it: the
/// calculator's result and a tender's stored computation (`/ente/.../valutazione`) alike.
pub(crate) fn report_steps(report: &serde_json::Map<String, Value>) -> Vec<Step> {
    report
        .iter()
        .map(|(k, v)| Step {
            key: k.clone(),
            label: label(k),
            value: show(v),
        })
        .collect()
}

/// A value as text: offers as `id: ribasso %`, flags in words, decimals with a comma.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::Bool(true) => "sì".into(),
        Value::Bool(false) => "no".into(),
        Value::String(s) => decimal_comma(s),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "nessuna".into(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join("; "),
        Value::Object(o) => match (o.get("id").and_then(Value::as_str), o.get("discount")) {
            (Some(id), Some(d)) => {
                let mut s = format!("{id}: {} %", show(d));
                for (k, v) in o.iter().filter(|(k, _)| *k != "id" && *k != "discount") {
                    s.push_str(&format!(", {}: {}", k.replace('_', " "), show(v)));
                }
                s
            }
            _ => o
                .iter()
                .map(|(k, v)| format!("{}: {}", k.replace('_', " "), show(v)))
                .collect::<Vec<_>>()
                .join("; "),
        },
        Value::Null => "—".into(),
    }
}

fn decimal_comma(s: &str) -> String {
    let numeric = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-');
    if numeric {
        s.replace('.', ",")
    } else {
        s.to_string()
    }
}

/// Where a refusal of the engine belongs on the form.
fn form_field(api_field: Option<&str>) -> &'static str {
    match api_field {
        Some("method") => "metodo",
        Some("reference_discount") | Some("reference") => "ribasso_riferimento",
        Some("publication_date") => "data_pubblicazione",
        _ => "ribassi",
    }
}

fn refusal(e: &api::ApiError) -> FieldErrors {
    let mut errors = FieldErrors::default();
    let field = form_field(e.field.as_deref());
    let message = match e.field.as_deref() {
        Some(f) if f.starts_with("discounts[") => format!("{} ({f})", e.message),
        _ => e.message.clone(),
    };
    errors.by_field.insert(field.into(), message);
    errors
}

/// The engine's request from the form; the engine parses and judges every value itself.
fn request(form: &AnomalyForm) -> Result<Value, FieldErrors> {
    let mut errors = FieldErrors::default();
    let discounts: Vec<Value> = items(form.ribassi.as_deref())
        .into_iter()
        .map(|s| Value::String(s.replace(',', ".")))
        .collect();
    if discounts.is_empty() {
        errors
            .by_field
            .insert("ribassi".into(), "Inserire almeno un ribasso percentuale".into());
    }
    let mut body = json!({
        "method": filled(&form.metodo).unwrap_or_default(),
        "discounts": discounts,
    });
    if let Some(r) = filled(&form.ribasso_riferimento) {
        body["reference_discount"] = Value::String(r.replace(',', "."));
    }
    if let Some(d) = filled(&form.data_pubblicazione) {
        if chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").is_err() {
            errors.by_field.insert(
                "data_pubblicazione".into(),
                "Data non valida: usare il formato AAAA-MM-GG".into(),
            );
        }
        body["publication_date"] = Value::String(d);
    }
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(errors)
    }
}

#[get("/calcolatori")]
async fn calcolatori(visitor: Visitor, req: HttpRequest) -> Result<HttpResponse, PortalError> {
    let form: AnomalyForm = query(&req)?;
    let submitted = form.metodo.is_some() || form.ribassi.is_some();
    let mut errors = FieldErrors::default();
    let mut steps = Vec::new();
    if submitted {
        match request(&form) {
            Err(e) => errors = e,
            Ok(body) => {
                let outcome = run(move || -> Result<Value, api::ApiError> {
                    let request = AnomalyRequest::from_json(&body.to_string())?;
                    api::routes::tools::at_most_offers(request.discounts.len(), "discounts")?;
                    let report = evaluate_anomaly(&request)?;
                    serde_json::to_value(report).map_err(|_| api::ApiError::internal())
                })
                .await?;
                match outcome {
                    Ok(Value::Object(report)) => steps = report_steps(&report),
                    Ok(_) => return Err(PortalError::internal()),
                    Err(e) => errors = refusal(&e),
                }
            }
        }
    }
    let status = status(&errors);
    let page = Page {
        chrome: Chrome::new(&visitor, "Calcolatori", Section::Calcolatori).crumb("Calcolatori", None),
        metodo: filled(&form.metodo).unwrap_or_else(|| "A".into()),
        ribassi: form.ribassi.clone().unwrap_or_default(),
        ribasso_riferimento: form.ribasso_riferimento.clone().unwrap_or_default(),
        data_pubblicazione: form.data_pubblicazione.clone().unwrap_or_default(),
        computed: !steps.is_empty(),
        errors,
        steps,
    };
    crate::pages::render_status(&visitor, &page, status)
}
