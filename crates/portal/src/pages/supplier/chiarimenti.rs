//! Clarification questions: the form on a tender (`/bandi/{id}/chiarimenti/nuovo`, through
//! `bando::service::ask`, which owns the questions deadline) and the supplier's own questions
//! with their answers (`/fornitore/chiarimenti`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use bando::model::{Bando, NewQuestion};
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{self, FieldErrors};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/bandi/{id}/chiarimenti/nuovo")
            // A question may be 10,000 characters, percent-encoded up to nine bytes each.
            .app_data(web::FormConfig::default().limit(128 * 1024))
            .route(web::get().to(ask_form))
            .route(web::post().to(ask)),
    )
    .service(web::resource("/fornitore/chiarimenti").route(web::get().to(mine)));
}

#[derive(Template)]
#[template(path = "supplier/chiarimento-nuovo.html")]
struct AskPage {
    chrome: Chrome,
    id: String,
    oggetto: String,
    deadline: Option<(String, String)>,
    question: String,
    errors: FieldErrors,
}

impl AskPage {
    fn other_errors(&self) -> Vec<String> {
        // The questions deadline is no field of this form: its refusal is the page's message.
        let mut e = self.errors.clone();
        if let Some(m) = e.by_field.remove("questions_deadline") {
            e.general.push(m);
        }
        if let Some(m) = e.by_field.remove("submission_deadline") {
            e.general.push(m);
        }
        e.others(&["question"])
    }
}

fn parse_id(raw: &str) -> Result<Uuid, PortalError> {
    Uuid::parse_str(raw).map_err(|_| PortalError::not_found("Bando"))
}

async fn tender(state: &api::AppState, visitor: &Visitor, id: Uuid) -> Result<Bando, PortalError> {
    let who = visitor.principal.clone();
    Ok(state
        .db(move |conn| bando::service::get_public(conn, who.as_ref(), id))
        .await?)
}

fn ask_page(visitor: &Visitor, b: &Bando, question: String, errors: FieldErrors) -> AskPage {
    let id = b.id.to_string();
    let chrome = Chrome::new(visitor, "Richiesta di chiarimento", Section::Fornitore)
        .crumb("Bandi e avvisi", Some("/bandi"))
        .crumb(b.oggetto.clone(), Some(&format!("/bandi/{id}")))
        .crumb("Richiesta di chiarimento", None);
    AskPage {
        chrome,
        id,
        oggetto: b.oggetto.clone(),
        deadline: b
            .questions_deadline
            .as_ref()
            .map(|d| (forms::iso(&d.utc), forms::rome(&d.utc))),
        question,
        errors,
    }
}

async fn ask_form(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PortalError> {
    let raw = path.into_inner();
    visitor.require_supplier(&format!("/bandi/{raw}/chiarimenti/nuovo"))?;
    let b = tender(&state, &visitor, parse_id(&raw)?).await?;
    super::super::render(&visitor, &ask_page(&visitor, &b, String::new(), FieldErrors::default()))
}

#[derive(Debug, Deserialize)]
struct AskForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    question: String,
}

async fn ask(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<String>,
    form: web::Form<AskForm>,
) -> Result<HttpResponse, PortalError> {
    let raw = path.into_inner();
    let who = visitor
        .require_supplier(&format!("/bandi/{raw}/chiarimenti/nuovo"))?
        .clone();
    visitor.check_csrf(&form.csrf)?;
    let id = parse_id(&raw)?;
    let question = form.into_inner().question;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let input = NewQuestion {
        question: question.clone(),
    };
    match state
        .db(move |conn| bando::service::ask(conn, &ctx, &who, id, &input))
        .await
    {
        Ok(_) => Ok(super::super::see_other("/fornitore/chiarimenti?inviato=1")),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let status = e.status;
            let b = tender(&state, &visitor, id).await?;
            super::super::render_status(
                &visitor,
                &ask_page(&visitor, &b, question, FieldErrors::from_api(&e)),
                status,
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub struct QuestionLine {
    pub bando_id: String,
    pub oggetto: String,
    pub numero: i32,
    pub asked_iso: String,
    pub asked: String,
    pub question: String,
    pub answer: Option<String>,
    pub answered: Option<String>,
}

#[derive(Template)]
#[template(path = "supplier/chiarimenti.html")]
struct MinePage {
    chrome: Chrome,
    questions: Vec<QuestionLine>,
    sent: bool,
}

#[derive(Debug, Deserialize)]
struct Sent {
    inviato: Option<String>,
}

async fn mine(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<Sent>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/chiarimenti")?.clone();
    let questions = state
        .db(move |conn| bando::service::own_questions(conn, &who))
        .await?
        .into_iter()
        .map(|q| QuestionLine {
            bando_id: q.bando_id.to_string(),
            oggetto: q.oggetto,
            numero: q.chiarimento.numero,
            asked_iso: forms::iso(&q.asked_at),
            asked: forms::rome(&q.asked_at),
            question: q.chiarimento.question,
            answer: q.chiarimento.answer,
            answered: q.chiarimento.answered_at.as_ref().map(forms::rome),
        })
        .collect();
    let page = MinePage {
        chrome: super::chrome(&visitor, "Chiarimenti"),
        questions,
        sent: q.inviato.is_some(),
    };
    super::super::render(&visitor, &page)
}
