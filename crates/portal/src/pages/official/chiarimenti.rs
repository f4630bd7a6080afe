//! `/ente/bandi/{id}/chiarimenti`: the questions received on a tender and the RUP's answer to
//! each, published at once. The domain never returns who asked (`bando::Chiarimento` has no
//! asker), so no page can show it, not even in its source. Less than the legal days before the
//! deadline the answer must extend it in the same act (art. 92 c.2): the domain says so, and
//! the form has the field for the new deadline.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use bando::model::{Bando, Chiarimento, NewAnswer, State};
use bando::service;
use bando::BandoError;
use serde::Deserialize;
use uuid::Uuid;

use super::{clarifications, tender, TENDERS};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::pages::public::uuid;
use crate::pages::{render_status, see_other};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ente/bandi/{id}/chiarimenti").route(web::get().to(page)))
        .service(web::resource("/ente/bandi/{id}/chiarimenti/{q}/risposta").route(web::post().to(answer)));
}

pub struct Question {
    pub id: String,
    pub numero: i32,
    pub question: String,
    pub answer: Option<String>,
    pub answered: Option<(String, String)>,
    pub action: String,
    pub error: Option<(String, Option<String>)>,
    pub typed: String,
}

#[derive(Template)]
#[template(path = "official/chiarimenti-elenco.html")]
struct QuestionsPage {
    chrome: Chrome,
    oggetto: String,
    back: String,
    questions: Vec<Question>,
    can_answer: bool,
    outcome: Option<&'static str>,
}

/// A refused answer: which question, the message, the field it names, what was typed.
struct Refusal {
    q: Uuid,
    message: String,
    field: Option<String>,
    typed: String,
}

async fn show(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    id: Uuid,
    outcome: Option<&'static str>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(&clarifications(id))?.clone();
    let reader = who.clone();
    let (b, list): (Bando, Vec<Chiarimento>) = state
        .db(move |conn| {
            let b = service::get(conn, &reader, id)?;
            let list = service::all_clarifications(conn, &reader, id)?;
            Ok::<_, BandoError>((b, list))
        })
        .await?;
    let now = state.clock.now();
    let can_answer = service::require_manager(&who, b.ente_id).is_ok()
        && b.state == State::Published
        && b.submission_deadline.as_ref().is_some_and(|d| d.utc > now);
    let questions = list
        .into_iter()
        .map(|c| {
            let mine = refusal.as_ref().filter(|r| r.q == c.id);
            Question {
                id: c.id.to_string(),
                numero: c.numero,
                question: c.question,
                answer: c.answer,
                answered: c.answered_at.map(|a| (forms::rome(&a), forms::iso(&a))),
                action: format!("{}/{}/risposta", clarifications(id), c.id),
                error: mine.map(|r| (r.message.clone(), r.field.clone())),
                typed: mine.map(|r| r.typed.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let page = QuestionsPage {
        chrome: Chrome::new(visitor, "Chiarimenti", Section::Ente)
            .crumb("Area ente", Some(super::DASHBOARD))
            .crumb("Bandi", Some(TENDERS))
            .crumb(b.oggetto.clone(), Some(&tender(id)))
            .crumb("Chiarimenti", None),
        oggetto: b.oggetto,
        back: tender(id),
        questions,
        can_answer,
        outcome,
    };
    render_status(visitor, &page, status)
}

#[derive(Debug, Deserialize)]
struct Outcome {
    esito: Option<String>,
}

async fn page(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    path: web::Path<String>,
    q: web::Query<Outcome>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    let outcome = (q.esito.as_deref() == Some("risposta")).then_some("Risposta pubblicata.");
    show(&state, &visitor, id, outcome, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    risposta: String,
    #[serde(default)]
    proroga: String,
}

async fn answer(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    form: web::Form<AnswerForm>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path.0, "Bando")?;
    let q = uuid(&path.1, "Quesito")?;
    let who = visitor.require_official(&clarifications(id))?.clone();
    visitor.check_csrf(&form.csrf)?;
    let input = NewAnswer {
        answer: form.risposta.clone(),
        extend_submission_deadline_to: Some(form.proroga.trim().to_string()).filter(|p| !p.is_empty()),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state
        .db(move |conn| service::answer(conn, &ctx, &who, id, q, &input))
        .await;
    let done_page = format!("{}?esito=risposta#quesito-{q}", clarifications(id));
    match done {
        Ok(_) => Ok(see_other(&done_page)),
        // The second click of a double click: the first published the answer.
        Err(e) if e.code == "already_answered" => Ok(see_other(&done_page)),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let refusal = Refusal {
                q,
                message: e.message.clone(),
                field: e.field.clone(),
                typed: form.risposta.clone(),
            };
            show(&state, &visitor, id, None, Some(refusal), e.status).await
        }
        Err(e) => Err(e.into()),
    }
}
