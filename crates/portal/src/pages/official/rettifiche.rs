//! `/ente/bandi/{id}/rettifiche`: the RUP issues a rettifica of a published tender (new
//! deadlines, with the reason that is published; the API's `POST /bandi/{id}/rettifiche`,
//! `bando::service::amend`), and every published version is shown with what it changed, field
//! by field, old → new, as the domain recorded it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use bando::model::{Bando, NewRettifica, State, Versione};
use bando::service;
use bando::BandoError;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::bandi::field_label;
use super::{rettifiche, tender, TENDERS};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{self, FieldErrors};
use crate::pages::public::uuid;
use crate::pages::{render_status, see_other};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/ente/bandi/{id}/rettifiche")
            .route(web::get().to(page))
            .route(web::post().to(amend)),
    );
}

pub struct ChangeLine {
    pub field: String,
    pub from: String,
    pub to: String,
}

pub struct Version {
    pub number: i32,
    pub title: &'static str,
    pub reason: Option<String>,
    pub rome: String,
    pub iso: String,
    pub changes: Vec<ChangeLine>,
    pub requires_bid_confirmation: bool,
}

#[derive(Template)]
#[template(path = "official/rettifiche-elenco.html")]
struct AmendPage {
    chrome: Chrome,
    oggetto: String,
    back: String,
    action: String,
    can_amend: bool,
    current: Vec<(&'static str, String)>,
    versions: Vec<Version>,
    typed: Typed,
    errors: FieldErrors,
    general: Vec<String>,
    outcome: Option<&'static str>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct Typed {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    submission_deadline: String,
    #[serde(default)]
    questions_deadline: String,
    #[serde(default)]
    opening_at: String,
}

/// A changed value as people read it: instants in Rome time, documents by name and hash.
fn value(v: &serde_json::Value) -> String {
    let instant = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| format!("{} (ora italiana)", forms::rome(&t.with_timezone(&Utc))))
    };
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => instant(s).unwrap_or_else(|| s.clone()),
        serde_json::Value::Object(o) => {
            if let Some(t) = o.get("utc").and_then(|u| u.as_str()).and_then(instant) {
                return t;
            }
            if let Some(name) = o.get("filename").and_then(|f| f.as_str()) {
                let sha = o.get("sha256").and_then(|s| s.as_str()).unwrap_or("");
                return format!("{name} (SHA-256 {sha})");
            }
            v.to_string()
        }
        other => other.to_string(),
    }
}

fn versions_of(list: &[Versione]) -> Vec<Version> {
    list.iter()
        .rev()
        .map(|v| Version {
            number: v.version,
            title: if v.kind == "rettifica" {
                "Rettifica"
            } else {
                "Pubblicazione"
            },
            reason: v.reason.clone(),
            rome: forms::rome(&v.published_at),
            iso: forms::iso(&v.published_at),
            changes: v
                .changes
                .iter()
                .map(|c| ChangeLine {
                    field: field_label(&c.field),
                    from: value(&c.from),
                    to: value(&c.to),
                })
                .collect(),
            requires_bid_confirmation: v.requires_bid_confirmation,
        })
        .collect()
}

const SHOWN: &[&str] = &["reason", "submission_deadline", "questions_deadline", "opening_at"];

async fn show(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    id: Uuid,
    outcome: Option<&'static str>,
    typed: Typed,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(&rettifiche(id))?.clone();
    let reader = who.clone();
    let (b, list): (Bando, Vec<Versione>) = state
        .db(move |conn| {
            let b = service::get(conn, &reader, id)?;
            let list = if b.state == State::Draft {
                vec![]
            } else {
                service::versions(conn, Some(&reader), id)?
            };
            Ok::<_, BandoError>((b, list))
        })
        .await?;
    let now = state.clock.now();
    let can_amend = service::require_manager(&who, b.ente_id).is_ok()
        && b.state == State::Published
        && b.submission_deadline.as_ref().is_some_and(|d| d.utc > now);
    let mut current = Vec::new();
    for (label, d) in [
        ("Termine per i chiarimenti", &b.questions_deadline),
        ("Termine per le offerte", &b.submission_deadline),
        ("Apertura delle buste", &b.opening_at),
    ] {
        if let Some(d) = d {
            current.push((label, forms::rome(&d.utc)));
        }
    }
    let page = AmendPage {
        chrome: Chrome::new(visitor, "Rettifiche", Section::Ente)
            .crumb("Area ente", Some(super::DASHBOARD))
            .crumb("Bandi", Some(TENDERS))
            .crumb(b.oggetto.clone(), Some(&tender(id)))
            .crumb("Rettifiche", None),
        oggetto: b.oggetto,
        back: tender(id),
        action: rettifiche(id),
        can_amend,
        current,
        versions: versions_of(&list),
        typed,
        general: errors.others(SHOWN),
        errors,
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
    let outcome =
        (q.esito.as_deref() == Some("rettifica")).then_some("Rettifica pubblicata: è una nuova versione del bando.");
    show(
        &state,
        &visitor,
        id,
        outcome,
        Typed::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct AmendForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(flatten)]
    typed: Typed,
}

async fn amend(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<String>,
    form: web::Form<AmendForm>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    let who = visitor.require_official(&rettifiche(id))?.clone();
    visitor.check_csrf(&form.csrf)?;
    let typed = form.typed.clone();
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = NewRettifica {
        reason: typed.reason.clone(),
        submission_deadline: text(&typed.submission_deadline),
        questions_deadline: text(&typed.questions_deadline),
        opening_at: text(&typed.opening_at),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let actor = who.clone();
    let done = state
        .db(move |conn| service::amend(conn, &ctx, &actor, id, &input))
        .await;
    let done_page = format!("{}?esito=rettifica", rettifiche(id));
    match done {
        Ok(_) => Ok(see_other(&done_page)),
        // The second click of a double click changes nothing any more; when the last version
        // is the one just asked for (same reason), the outcome is that version.
        Err(e) if e.code == "rettifica_empty" => {
            let reader = who.clone();
            let last = state
                .db(move |conn| service::versions(conn, Some(&reader), id))
                .await?
                .pop();
            if last.is_some_and(|v| v.kind == "rettifica" && v.reason.as_deref() == Some(typed.reason.trim())) {
                Ok(see_other(&done_page))
            } else {
                let status = e.status;
                show(&state, &visitor, id, None, typed, FieldErrors::from_api(&e), status).await
            }
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let status = e.status;
            show(&state, &visitor, id, None, typed, FieldErrors::from_api(&e), status).await
        }
        Err(e) => Err(e.into()),
    }
}
