//! `/esiti`: the tenders that reached an outcome (awarded, deserted, cancelled), newest
//! first, from the same public list as `/bandi` (`bando::service::list_public`), with the
//! outcome of each lot as the tender's public record states it.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use aggiudicazione::procedure::public_outcome::{self, PublicAward};
use askama::Template;
use bando::model::{Bando, LotState, PublicFilter, State};
use serde::Deserialize;

use super::{filled, pair, query};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{self, FieldErrors};
use crate::labels;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(esiti);
}

const PAGE_SIZE: i64 = 20;

/// The outcomes a visitor may choose, by the page's word for them.
const OUTCOMES: &[(&str, State, &str)] = &[
    ("aggiudicate", State::Awarded, "Aggiudicate"),
    ("deserte", State::Deserted, "Deserte"),
    ("annullate", State::Cancelled, "Annullate"),
];

#[derive(Debug, Default, Deserialize)]
pub struct EsitiForm {
    pub esito: Option<String>,
    pub cursore: Option<String>,
}

pub struct Outcome {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct LotOutcome {
    pub numero: i32,
    pub oggetto: String,
    pub state: &'static str,
    pub note: Option<String>,
    pub award: Option<AwardLine>,
}

/// An award as the page writes it (art. 28: awardee and amount are public once awarded).
pub struct AwardLine {
    pub awardee: String,
    pub partita_iva: String,
    pub amount: Option<String>,
    pub discount: Option<String>,
    pub date: (String, String),
    pub participants: i64,
}

impl AwardLine {
    pub fn of(a: &PublicAward) -> Self {
        AwardLine {
            awardee: a.ragione_sociale.clone(),
            partita_iva: a.partita_iva.clone(),
            amount: a.contract_amount.as_ref().map(forms::euro),
            discount: a
                .awarded_discount
                .map(|d| format!("{} %", d.normalize().to_string().replace('.', ","))),
            date: (forms::iso(&a.awarded_at), forms::rome(&a.awarded_at)),
            participants: a.participants,
        }
    }

    fn find(awards: &[PublicAward], scope: uuid::Uuid) -> Option<Self> {
        awards.iter().find(|a| a.scope_id == scope).map(Self::of)
    }
}

pub struct Esito {
    pub id: String,
    pub oggetto: String,
    pub ente: String,
    pub cig: String,
    pub procedure: &'static str,
    pub criterion: &'static str,
    pub amount: String,
    pub state: &'static str,
    pub published: Option<(String, String)>,
    /// The award of a tender without lots.
    pub award: Option<AwardLine>,
    pub lots: Vec<LotOutcome>,
}

impl Esito {
    fn of(b: &Bando, awards: &[PublicAward]) -> Self {
        Esito {
            id: b.id.to_string(),
            oggetto: b.oggetto.clone(),
            ente: b.ente_nome.clone(),
            cig: b.cig.clone().unwrap_or_else(|| "—".into()),
            procedure: labels::procedure(b.procedure_type),
            criterion: labels::criterion(b.award_criterion),
            amount: forms::euro(&b.base_amount),
            state: labels::state(b.state),
            published: b.published_at.map(|p| (forms::iso(&p), forms::rome(&p))),
            award: if b.lotti.is_empty() {
                AwardLine::find(awards, b.id)
            } else {
                None
            },
            lots: b
                .lotti
                .iter()
                .map(|l| LotOutcome {
                    numero: l.numero,
                    oggetto: l.oggetto.clone(),
                    state: match l.state {
                        LotState::Active => "In corso",
                        LotState::ProposedAward => "Proposta di aggiudicazione",
                        LotState::Awarded | LotState::Effective => "Aggiudicato",
                        LotState::Deserted => "Deserto",
                        LotState::Cancelled => "Annullato",
                    },
                    note: l.outcome_note.clone(),
                    award: AwardLine::find(awards, l.id),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "public/esiti.html")]
struct EsitiPage {
    chrome: Chrome,
    outcomes: Vec<Outcome>,
    errors: FieldErrors,
    items: Vec<Esito>,
    next: Option<String>,
    first: Option<String>,
}

#[get("/esiti")]
async fn esiti(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    req: HttpRequest,
) -> Result<HttpResponse, PortalError> {
    let form: EsitiForm = query(&req)?;
    let chosen = filled(&form.esito).unwrap_or_else(|| "aggiudicate".into());
    let mut errors = FieldErrors::default();
    let outcome = OUTCOMES.iter().find(|(v, _, _)| *v == chosen);
    if outcome.is_none() {
        errors.by_field.insert(
            "esito".into(),
            "Esito sconosciuto: scegliere tra aggiudicate, deserte, annullate".into(),
        );
    }
    let mut items = Vec::new();
    let mut next = None;
    if let Some((_, st, _)) = outcome {
        let filter = PublicFilter {
            state: Some(st.as_str().into()),
            cursor: filled(&form.cursore),
            limit: Some(PAGE_SIZE),
            ..Default::default()
        };
        let who = visitor.principal.clone();
        let found = state
            .db(move |conn| {
                let page = match bando::service::list_public(conn, who.as_ref(), &filter) {
                    Ok(page) => page,
                    Err(e) => return Ok(Err(api::ApiError::from(e))),
                };
                let scopes: Vec<_> = page.items.iter().flat_map(public_outcome::scopes_of).collect();
                let awards = public_outcome::awards_of(conn, &scopes)?;
                Ok::<_, aggiudicazione::procedure::ProcedureError>(Ok((page, awards)))
            })
            .await?;
        match found {
            Ok((page, awards)) => {
                items = page.items.iter().map(|b| Esito::of(b, &awards)).collect();
                next = page
                    .next_cursor
                    .map(|c| format!("/esiti?{}&{}", pair("esito", &chosen), pair("cursore", &c)));
            }
            Err(e) => errors = FieldErrors::from_api(&e),
        }
    }
    let first = filled(&form.cursore).map(|_| format!("/esiti?{}", pair("esito", &chosen)));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EsitiPage {
        chrome: Chrome::new(&visitor, "Esiti di gara", Section::Esiti).crumb("Esiti di gara", None),
        outcomes: OUTCOMES
            .iter()
            .map(|(v, _, l)| Outcome {
                value: v,
                label: l,
                selected: *v == chosen,
            })
            .collect(),
        errors,
        items,
        next,
        first,
    };
    super::super::render_status(&visitor, &page, status)
}
