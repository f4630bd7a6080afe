//! `/calcolatori/sorteggio`: the public verifiable draw (`domain::draw`, the same call as
//! `POST /api/v1/tools/draw` and every draw of the platform): from the purpose, the subject,
//! the beacon (the signed checkpoint recorded with the draw) and the candidates, the text
//! hashed into the seed, the seed and the drawn order.

use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use domain::draw::{DrawRequest, DrawResult, Purpose};
use serde::Deserialize;

use super::{items, refusal_on, run, status};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::FieldErrors;
use crate::pages::public::query;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sorteggio);
}

#[derive(Debug, Default, Deserialize)]
pub struct DrawForm {
    /// The engine's name of the purpose (`tie-break`, `invitation-rotation`, `anomaly-method`).
    pub finalita: Option<String>,
    pub soggetto: Option<String>,
    /// The beacon: the signed checkpoint, exactly as the log serves it.
    pub checkpoint: Option<String>,
    pub candidati: Option<String>,
}

pub struct PurposeOption {
    pub value: &'static str,
    pub label: &'static str,
}

/// Every purpose of the engine, with the page's words for it.
fn purposes() -> Vec<PurposeOption> {
    [Purpose::TieBreak, Purpose::InvitationRotation, Purpose::AnomalyMethod]
        .into_iter()
        .map(|p| PurposeOption {
            value: p.as_str(),
            label: match p {
                Purpose::TieBreak => "Parità in graduatoria (tie-break)",
                Purpose::InvitationRotation => "Rotazione degli inviti, art. 49 (invitation-rotation)",
                Purpose::AnomalyMethod => "Metodo dell'anomalia, art. 54 c. 2 (anomaly-method)",
            },
        })
        .collect()
}

pub struct Outcome {
    pub algorithm: String,
    pub seed_input: String,
    pub seed: String,
    pub order: Vec<String>,
    pub drawn: Option<String>,
}

#[derive(Template)]
#[template(path = "public/calcolatori_sorteggio.html")]
struct Page {
    chrome: Chrome,
    purposes: Vec<PurposeOption>,
    finalita: String,
    soggetto: String,
    checkpoint: String,
    candidati: String,
    errors: FieldErrors,
    outcome: Option<Outcome>,
}

/// The engine's answer, destructured whole so a value it starts reporting does not compile
/// until the page shows it.
fn outcome(r: DrawResult) -> Outcome {
    let DrawResult {
        algorithm,
        seed_input,
        seed,
        order,
        drawn,
    } = r;
    Outcome {
        algorithm,
        seed_input,
        seed,
        order,
        drawn,
    }
}

/// The request as the API would get it. The beacon is hashed byte for byte, and a browser
/// sends a textarea's line breaks as CRLF whatever the pasted text had: the signed checkpoints
/// break lines with LF only, so CRLF is turned back into LF, or no pasted checkpoint would
/// give the platform's seed. The subject is passed untouched: the engine judges it.
fn request(form: &DrawForm) -> DrawRequest {
    DrawRequest {
        purpose: form.finalita.clone().unwrap_or_default(),
        subject: form.soggetto.clone().unwrap_or_default(),
        beacon: form.checkpoint.as_deref().unwrap_or_default().replace("\r\n", "\n"),
        candidates: items(form.candidati.as_deref())
            .into_iter()
            .map(str::to_string)
            .collect(),
    }
}

fn form_field(api_field: &str) -> Option<&'static str> {
    match api_field {
        "purpose" => Some("finalita"),
        "subject" => Some("soggetto"),
        "beacon" => Some("checkpoint"),
        "candidates" => Some("candidati"),
        _ => None,
    }
}

#[get("/calcolatori/sorteggio")]
async fn sorteggio(visitor: Visitor, req: HttpRequest) -> Result<HttpResponse, PortalError> {
    let form: DrawForm = query(&req)?;
    let submitted = form.finalita.is_some() || form.soggetto.is_some();
    let mut errors = FieldErrors::default();
    let mut computed = None;
    if submitted {
        let request = request(&form);
        let answer = run(move || {
            domain::draw::compute(&request).map_err(|(code, field, message)| {
                api::ApiError::new(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
            })
        })
        .await?;
        match answer {
            Ok(r) => computed = Some(outcome(r)),
            Err(e) => {
                errors = refusal_on(e.field.as_deref().and_then(form_field), e.message.clone());
            }
        }
    }
    let title = "Sorteggio pubblico";
    let page = Page {
        chrome: Chrome::new(&visitor, title, Section::Calcolatori)
            .crumb("Calcolatori", Some("/calcolatori"))
            .crumb(title, None),
        purposes: purposes(),
        finalita: form
            .finalita
            .clone()
            .unwrap_or_else(|| Purpose::TieBreak.as_str().into()),
        soggetto: form.soggetto.clone().unwrap_or_default(),
        checkpoint: form.checkpoint.clone().unwrap_or_default(),
        candidati: form.candidati.clone().unwrap_or_default(),
        errors,
        outcome: computed,
    };
    crate::pages::render_status(&visitor, &page, status(&page.errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_checkpoint_hashes_as_the_published_one() {
        let published = "centrale.example/log\n3\nq1w2e3=\n\n— centrale.example/log abc=\n";
        let form = DrawForm {
            finalita: Some("tie-break".into()),
            soggetto: Some("lotto-1".into()),
            checkpoint: Some(published.replace('\n', "\r\n")),
            candidati: Some("B\r\nA".into()),
        };
        let r = request(&form);
        assert_eq!(r.beacon, published);
        assert_eq!(r.candidates, ["B", "A"]);
    }
}
