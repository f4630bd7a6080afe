//! `/ente/bandi/{id}/oscuramento`: the requests to redact parts of the offers (art. 35 c.4
//! lett. a, art. 36 c.3–5), read from the opened envelopes once the ranking is computed. The
//! RUP decides each one (accolta / respinta, with the reason) before the award; after it, he
//! records a ricorso notified within the ten days and then its outcome. Everything is the
//! domain's (`aggiudicazione::procedure::redaction`, the calls behind
//! `/api/v1/bandi/{id}/oscuramento`): before the ranking the page says only that, and never
//! whether any request exists.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use aggiudicazione::procedure::redaction::{
    self, ChallengeOutcome, ChallengeRecord, ChallengeSettlement, RedactionDecision, RedactionRequest, RedactionState,
    Verdict,
};
use aggiudicazione::procedure::{self as procedure};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::{evaluation, tender, TENDERS};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::pages::public::uuid;
use crate::pages::{render_status, see_other};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ente/bandi/{id}/oscuramento").route(web::get().to(page)))
        .service(web::resource("/ente/bandi/{id}/oscuramento/{r}/decisione").route(web::post().to(decide)))
        .service(web::resource("/ente/bandi/{id}/oscuramento/{r}/ricorso").route(web::post().to(challenge)))
        .service(web::resource("/ente/bandi/{id}/oscuramento/{r}/ricorso/esito").route(web::post().to(settle)));
}

pub struct RequestRow {
    pub id: String,
    pub owner: String,
    pub kind: String,
    pub file: String,
    pub file_href: String,
    pub copy: Option<(String, String)>,
    pub reasons: String,
    pub evidence: Vec<(String, String)>,
    pub defect: Option<String>,
    pub label: String,
    pub decision_reason: Option<String>,
    pub challenge_note: Option<String>,
    pub challenge_outcome_reason: Option<String>,
    pub term_end: Option<(String, String)>,
    pub disclosed: bool,
    pub can_decide: bool,
    pub can_challenge: bool,
    pub can_settle: bool,
    pub action: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "official/oscuramento-richieste.html")]
struct RequestsPage {
    chrome: Chrome,
    oggetto: String,
    back: String,
    /// The domain's refusal to list (before the ranking): its message.
    refusal: Option<String>,
    requests: Vec<RequestRow>,
    outcome: Option<&'static str>,
}

struct Refusal {
    r: Uuid,
    message: String,
}

fn path_of(id: Uuid) -> String {
    format!("{}/oscuramento", tender(id))
}

async fn show(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    rid: &api::request_id::RequestId,
    id: Uuid,
    outcome: Option<&'static str>,
    refusal: Option<Refusal>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(&path_of(id))?.clone();
    let reader = who.clone();
    // Listing reads the sealed requests into rows the first time (an audited act).
    let ctx = state.audit_ctx(Some(who.user_id), rid);
    let store = state.seal.store().clone();
    let (oggetto, listed, names, manager) = state
        .db(move |conn| {
            let b = bando::service::get(conn, &reader, id).map_err(api::ApiError::from)?;
            let manager = bando::service::require_manager(&reader, b.ente_id).is_ok();
            let listed = procedure::scope(conn, id, None)
                .and_then(|scope| redaction::list(conn, &ctx, &store, &reader, scope))
                .map_err(api::ApiError::from);
            let owners: Vec<Uuid> = listed
                .as_ref()
                .map(|l| l.iter().map(|r| r.bidder_id).collect())
                .unwrap_or_default();
            let names: HashMap<Uuid, String> = registry::operatori::public_identities(conn, &owners)
                .map_err(api::ApiError::from)?
                .into_iter()
                .map(|(u, (r, _))| (u, r))
                .collect();
            Ok::<_, api::ApiError>((b.oggetto, listed, names, manager))
        })
        .await?;
    let now = state.clock.now();
    let (requests, refused) = match listed {
        Ok(list) => (list, None),
        Err(e) if e.status == StatusCode::CONFLICT => (Vec::new(), Some(e.message.clone())),
        Err(e) => return Err(e.into()),
    };
    let file_href = |r: &RedactionRequest, name: &str| format!("/api/v1/buste/{}/file/{name}", r.envelope_id);
    let rows = requests
        .iter()
        .map(|r| {
            let awarded = r.term_end.is_some();
            RequestRow {
                id: r.id.to_string(),
                owner: names
                    .get(&r.bidder_id)
                    .cloned()
                    .unwrap_or_else(|| "Operatore economico".into()),
                kind: r.kind.clone(),
                file: r.file.clone(),
                file_href: file_href(r, &r.file),
                copy: r.redacted_copy.as_ref().map(|c| (c.clone(), file_href(r, c))),
                reasons: r.reasons.clone(),
                evidence: r.evidence.iter().map(|e| (e.clone(), file_href(r, e))).collect(),
                defect: r.defect.clone(),
                label: r.label.clone(),
                decision_reason: r.decision_reason.clone(),
                challenge_note: r.challenge_note.clone(),
                challenge_outcome_reason: r.challenge_outcome_reason.clone(),
                term_end: r.term_end.map(|t| (forms::rome(&t), forms::iso(&t))),
                disclosed: r.original_disclosed,
                can_decide: manager && !awarded && r.state == RedactionState::Pending,
                can_challenge: manager
                    && matches!(r.state, RedactionState::Decided { .. })
                    && r.term_end.is_some_and(|t| now < t),
                can_settle: manager && matches!(r.state, RedactionState::Challenged { .. }),
                action: format!("{}/{}", path_of(id), r.id),
                error: refusal.as_ref().filter(|x| x.r == r.id).map(|x| x.message.clone()),
            }
        })
        .collect();
    let page = RequestsPage {
        chrome: Chrome::new(visitor, "Richieste di oscuramento", Section::Ente)
            .crumb("Area ente", Some(super::DASHBOARD))
            .crumb("Bandi", Some(TENDERS))
            .crumb(oggetto.clone(), Some(&tender(id)))
            .crumb("Valutazione", Some(&evaluation(id)))
            .crumb("Oscuramento", None),
        oggetto,
        back: evaluation(id),
        refusal: refused,
        requests: rows,
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
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<String>,
    q: web::Query<Outcome>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    let outcome = match q.esito.as_deref() {
        Some("decisione") => Some("Decisione registrata."),
        Some("ricorso") => Some("Ricorso registrato: la parte resta oscurata fino all'esito."),
        Some("esito") => Some("Esito del ricorso registrato."),
        _ => None,
    };
    show(&state, &visitor, &rid, id, outcome, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
struct ActForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    scelta: String,
    #[serde(default)]
    motivazione: String,
}

enum Act {
    Decide,
    Challenge,
    Settle,
}

async fn act(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    form: web::Form<ActForm>,
    what: Act,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path.0, "Bando")?;
    let r = uuid(&path.1, "Richiesta di oscuramento")?;
    let who = visitor.require_official(&path_of(id))?.clone();
    visitor.check_csrf(&form.csrf)?;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let (scelta, text) = (form.scelta.clone(), form.motivazione.clone());
    let (esito, again) = match what {
        Act::Decide => ("decisione", "redaction_decided"),
        Act::Challenge => ("ricorso", "challenge_recorded"),
        Act::Settle => ("esito", "challenge_settled"),
    };
    let done = state
        .db(move |conn| {
            let mut run = || -> Result<RedactionRequest, procedure::ProcedureError> {
                let scope = procedure::scope(conn, id, None)?;
                match what {
                    Act::Decide => {
                        let decision = match scelta.as_str() {
                            "accepted" => Verdict::Accepted,
                            "rejected" => Verdict::Rejected,
                            _ => {
                                return Err(procedure::ProcedureError::invalid(
                                    "decision_required",
                                    "decision",
                                    "Scegliere se accogliere o respingere la richiesta",
                                ))
                            }
                        };
                        let input = RedactionDecision {
                            decision,
                            reason: text.clone(),
                        };
                        redaction::decide(conn, &ctx, &who, scope, r, &input)
                    }
                    Act::Challenge => {
                        redaction::record_challenge(conn, &ctx, &who, scope, r, &ChallengeRecord { note: text.clone() })
                    }
                    Act::Settle => {
                        let outcome = match scelta.as_str() {
                            "upheld" => ChallengeOutcome::Upheld,
                            "dismissed" => ChallengeOutcome::Dismissed,
                            _ => {
                                return Err(procedure::ProcedureError::invalid(
                                    "outcome_required",
                                    "outcome",
                                    "Indicare l'esito del ricorso",
                                ))
                            }
                        };
                        redaction::settle_challenge(
                            conn,
                            &ctx,
                            &who,
                            scope,
                            r,
                            &ChallengeSettlement {
                                outcome,
                                reason: text.clone(),
                            },
                        )
                    }
                }
            };
            run().map_err(api::ApiError::from)
        })
        .await;
    let done_page = format!("{}?esito={esito}#richiesta-{r}", path_of(id));
    match done {
        Ok(_) => Ok(see_other(&done_page)),
        // The second click of a double click: the first one acted.
        Err(e) if e.code == again => Ok(see_other(&done_page)),
        Err(e)
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::FORBIDDEN =>
        {
            let refusal = Refusal {
                r,
                message: e.message.clone(),
            };
            show(&state, &visitor, &rid, id, None, Some(refusal), e.status).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn decide(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    form: web::Form<ActForm>,
) -> Result<HttpResponse, PortalError> {
    act(state, rid, visitor, path, form, Act::Decide).await
}

async fn challenge(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    form: web::Form<ActForm>,
) -> Result<HttpResponse, PortalError> {
    act(state, rid, visitor, path, form, Act::Challenge).await
}

async fn settle(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(String, String)>,
    form: web::Form<ActForm>,
) -> Result<HttpResponse, PortalError> {
    act(state, rid, visitor, path, form, Act::Settle).await
}
