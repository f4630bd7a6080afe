//! `/amministrazione/qualificazioni`: the operatori waiting for the centrale's decision, each
//! with its data and documents, and the decision (qualify, or reject with the reason the
//! supplier is told). The same registry functions as `GET /registry/operatori?status=pending`
//! and `POST /registry/operatori/{id}/qualification`, so the rules are the registry's: valid
//! mandatory documents to qualify, a reason to reject, only from `pending`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use registry::documents::{self, Documento};
use registry::operatori::{self, Operatore, SearchQuery};
use registry::qualification::{self, Decision, QualificationAction};
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::pages::public::pair;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(queue).service(decide);
}

const HERE: &str = "/amministrazione/qualificazioni";

pub struct DocRow {
    pub tipo: String,
    pub href: String,
    pub nome_file: String,
    pub scadenza: String,
    pub expired: bool,
    pub sha256: String,
}

pub struct Pending {
    pub op: Operatore,
    pub docs: Vec<DocRow>,
    /// What keeps the documents from being valid, in words (qualification needs none).
    pub issues: Vec<String>,
    /// The registry's refusal of the last decision on this entry, if it was this one.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/qualificazioni.html")]
struct QueuePage {
    chrome: Chrome,
    items: Vec<Pending>,
    outcome: Option<String>,
}

#[derive(Debug, Deserialize)]
struct QueueQuery {
    /// The ragione sociale just decided, and how (after the redirect).
    esito: Option<String>,
    nome: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    azione: String,
    #[serde(default)]
    motivazione: String,
}

async fn page(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    outcome: Option<String>,
    refused: Option<(Uuid, String)>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    let now = state.clock.now();
    let found = state
        .db(move |conn| {
            let query = SearchQuery {
                status: Some("pending".into()),
                limit: Some(200),
                ..Default::default()
            };
            let page = operatori::search(conn, &who, &query, now)?;
            let mut out = Vec::new();
            for op in page.items {
                let docs = documents::list(conn, &who, op.id, now)?;
                out.push((op, docs));
            }
            Ok::<_, registry::RegistryError>(out)
        })
        .await?;
    let items = found
        .into_iter()
        .map(|(op, docs)| Pending {
            docs: docs.iter().map(|d| doc_row(&op, d)).collect(),
            issues: op
                .documents_issues
                .iter()
                .map(|i| match i.scadenza {
                    Some(s) => format!("{}: scaduto il {}", i.tipo.label_it(), s.format("%d/%m/%Y")),
                    None => format!("{}: mancante", i.tipo.label_it()),
                })
                .collect(),
            error: refused.as_ref().filter(|(id, _)| *id == op.id).map(|(_, m)| m.clone()),
            op,
        })
        .collect();
    let chrome = Chrome::new(visitor, "Qualificazione degli operatori", Section::Amministrazione)
        .crumb("Qualificazione degli operatori", None);
    super::super::render_status(visitor, &QueuePage { chrome, items, outcome }, status)
}

fn doc_row(op: &Operatore, d: &Documento) -> DocRow {
    DocRow {
        tipo: crate::pages::supplier::capitalized(d.tipo.label_it()),
        href: format!("/api/v1/registry/operatori/{}/documenti/{}/content", op.id, d.id),
        nome_file: d.nome_file.clone(),
        scadenza: d
            .scadenza
            .map_or_else(|| "—".to_string(), |s| s.format("%d/%m/%Y").to_string()),
        expired: d.expired,
        sha256: d.sha256.clone(),
    }
}

#[get("/amministrazione/qualificazioni")]
async fn queue(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, PortalError> {
    let outcome = match (q.esito.as_deref(), q.nome.as_deref()) {
        (Some("qualificato"), Some(n)) => Some(format!("{n}: qualificato. L'operatore è stato avvisato.")),
        (Some("respinto"), Some(n)) => Some(format!(
            "{n}: iscrizione respinta. L'operatore è stato avvisato con la motivazione."
        )),
        _ => None,
    };
    page(&state, &visitor, outcome, None, StatusCode::OK).await
}

#[post("/amministrazione/qualificazioni/{id}")]
async fn decide(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    visitor.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let action = match form.azione.as_str() {
        "qualifica" => QualificationAction::Qualify,
        "respingi" => QualificationAction::Reject,
        _ => {
            return Err(PortalError::Page(api::ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "action_invalid",
                "Decisione sconosciuta: qualificare o respingere",
            )))
        }
    };
    let decision = Decision {
        action,
        reason: Some(form.motivazione.clone()),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let outcome = state
        .db(move |conn| qualification::decide(conn, &ctx, &who, id, &decision))
        .await;
    match outcome {
        Ok(op) => {
            let word = if action == QualificationAction::Qualify {
                "qualificato"
            } else {
                "respinto"
            };
            Ok(super::super::see_other(&format!(
                "{HERE}?{}&{}",
                pair("esito", word),
                pair("nome", &op.ragione_sociale)
            )))
        }
        // Refused by the registry (documents not valid, reason missing, already decided):
        // the queue again, with the message next to the entry and nothing changed.
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let status = e.status;
            page(&state, &visitor, None, Some((id, e.message.clone())), status).await
        }
        Err(e) => Err(e.into()),
    }
}
