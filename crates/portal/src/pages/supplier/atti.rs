//! `/fornitore/bandi/{id}/atti`: art. 36 access to the tender's documents after the award.
//! What the supplier may read is the domain's decision (`access::accessible`, the call behind
//! `GET /api/v1/bandi/{id}/accesso-atti`); the links go to the API's download, which checks
//! the same rule again and records every access.
//!
//! An offer that carries requests to redact parts of it (art. 36 c.3–5) is listed file by file:
//! the redacted copies, and each original only once the domain lets it go; below, the decisions
//! on the supplier's own requests (`redaction::list`), from the award on.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpResponse};
use aggiudicazione::procedure::redaction::{self, RedactionRequest};
use aggiudicazione::procedure::{self, access};
use askama::Template;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page);
}

pub struct EnvelopeLine {
    pub owner: String,
    pub mine: bool,
    pub kind: String,
    pub href: String,
    /// For an offer with redaction requests: its files one by one.
    pub files: Option<Vec<FileLine>>,
}

/// (name, download link when available, note).
pub type FileLine = (String, Option<String>, Option<String>);

/// A decision on one of the supplier's own requests.
pub struct OwnRequest {
    pub kind: String,
    pub file: String,
    pub label: String,
    pub reason: Option<String>,
    pub term_end: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "supplier/atti.html")]
struct AttiPage {
    chrome: Chrome,
    oggetto: String,
    basis: String,
    envelopes: Vec<EnvelopeLine>,
    own_requests: Vec<OwnRequest>,
    /// The domain's refusal (before the award): its message and HTTP status.
    refusal: Option<(String, u16)>,
}

fn kind_label(kind: &str) -> String {
    match kind {
        "A" => "Busta A — documentazione amministrativa".into(),
        "B" => "Busta B — offerta tecnica".into(),
        "C" => "Busta C — offerta economica".into(),
        other => format!("Busta {other}"),
    }
}

fn basis_label(basis: &str) -> &'static str {
    match basis {
        "top_five" => {
            "Art. 36 c.3 d.lgs. 36/2023: come offerente collocato tra i primi cinque in graduatoria, \
             puoi consultare le offerte degli altri primi cinque, oltre alla tua."
        }
        "non_excluded" => {
            "Art. 36 c.2 d.lgs. 36/2023: come offerente non escluso, puoi consultare l'offerta \
             dell'aggiudicatario, oltre alla tua."
        }
        _ => "Art. 36 d.lgs. 36/2023.",
    }
}

#[get("/fornitore/bandi/{id}/atti")]
async fn page(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PortalError> {
    let raw = path.into_inner();
    let who = visitor
        .require_supplier(&format!("/fornitore/bandi/{raw}/atti"))?
        .clone();
    let id = Uuid::parse_str(&raw).map_err(|_| PortalError::not_found("Bando"))?;
    let now = state.clock.now();
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let store = state.seal.store().clone();
    let (oggetto, outcome, own) = state
        .db(move |conn| {
            let b = bando::service::get_public(conn, Some(&who), id).map_err(api::ApiError::from)?;
            let outcome = procedure::scope(conn, id, None)
                .and_then(|scope| access::accessible_at(conn, &who, scope, Some(now)))
                .map_err(api::ApiError::from);
            // The supplier's own requests, with their decisions (empty before the award).
            let own: Vec<RedactionRequest> = match &outcome {
                Ok(_) => procedure::scope(conn, id, None)
                    .and_then(|scope| redaction::list(conn, &ctx, &store, &who, scope))
                    .map_err(api::ApiError::from)?,
                Err(_) => Vec::new(),
            };
            let outcome = match outcome {
                Ok(a) => {
                    let owners: Vec<Uuid> = a.envelopes.iter().map(|e| e.bidder_id).collect();
                    let names: HashMap<Uuid, String> = registry::operatori::public_identities(conn, &owners)
                        .map_err(api::ApiError::from)?
                        .into_iter()
                        .map(|(u, (r, _))| (u, r))
                        .collect();
                    Ok((a, names))
                }
                Err(e) => Err(e),
            };
            Ok::<_, api::ApiError>((b.oggetto, outcome, own))
        })
        .await?;
    let chrome = Chrome::new(&visitor, "Accesso agli atti", Section::Fornitore)
        .crumb("Area operatore economico", Some("/fornitore"))
        .crumb(oggetto.clone(), Some(&format!("/bandi/{id}")))
        .crumb("Accesso agli atti", None);
    let me = visitor.principal.as_ref().map(|p| p.user_id);
    match outcome {
        Ok((a, names)) => {
            let envelopes = a
                .envelopes
                .iter()
                .map(|e| EnvelopeLine {
                    owner: names
                        .get(&e.bidder_id)
                        .cloned()
                        .unwrap_or_else(|| "Operatore economico".into()),
                    mine: Some(e.bidder_id) == me,
                    kind: kind_label(&e.kind),
                    href: format!("/api/v1/bandi/{id}/accesso-atti/{}", e.envelope_id),
                    files: e.files.as_ref().map(|files| {
                        files
                            .iter()
                            .map(|f| {
                                let href = f.available.then(|| {
                                    format!("/api/v1/bandi/{id}/accesso-atti/{}/file/{}", e.envelope_id, f.name)
                                });
                                (f.name.clone(), href, f.note.clone())
                            })
                            .collect()
                    }),
                })
                .collect();
            let own_requests = own
                .iter()
                .map(|r| OwnRequest {
                    kind: r.kind.clone(),
                    file: r.file.clone(),
                    label: r.label.clone(),
                    reason: r.decision_reason.clone(),
                    term_end: r.term_end.map(|t| (crate::forms::rome(&t), crate::forms::iso(&t))),
                })
                .collect();
            let page = AttiPage {
                chrome,
                oggetto,
                basis: basis_label(&a.basis).into(),
                envelopes,
                own_requests,
                refusal: None,
            };
            super::super::render(&visitor, &page)
        }
        // The wrong moment (before the award) is part of this page; a caller with no title
        // (no bid, excluded) or an unknown tender gets the error page with the domain's status.
        Err(e) if e.status == StatusCode::CONFLICT || e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let status = e.status;
            let page = AttiPage {
                chrome,
                oggetto,
                basis: String::new(),
                envelopes: Vec::new(),
                own_requests: Vec::new(),
                refusal: Some((e.message.clone(), status.as_u16())),
            };
            super::super::render_status(&visitor, &page, status)
        }
        Err(e) => Err(e.into()),
    }
}
