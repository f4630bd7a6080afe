//! `/ente/bandi/{id}/custodia`: the tender's key ceremony and, at the opening, each
//! custodian's share (issue 13 points 2 and 3).
//!
//! The cryptography runs in the custodian's own browser (`assets/js/custody.js`): his age
//! transport identity is made and kept there, his contribution, the Feldman check of what he
//! received, his proofs and, at the opening of a kind, his share are computed there and posted
//! straight to the API with his session (`/api/v1/bandi/{id}/sigillo/...`,
//! `/aperture/{kind}/quote`). The server never sees a secret it could use, so this page only
//! reads: the ceremony's progress (`offerte::custody::get`), who submitted a share of each
//! kind (`submitted_opening_shares`) and whether the opening of each kind is allowed now
//! (`offerte::opening::ensure_may_open`, the same check the share's POST makes). Its one
//! form is the RUP's reset of a ceremony that cannot complete (`offerte::custody::reset`,
//! as `POST /sigillo/azzera`).

use accounts::{Principal, Role};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use offerte::custody::{self, TenderKey};
use offerte::OfferteError;
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(reset);
}

/// The reset's own path, under the area's page.
pub fn reset_path(id: Uuid) -> String {
    format!("{}/azzera", super::custody(id))
}

/// One custodian in the roster: number, name, the rounds done (never a secret).
pub struct CustodianRow {
    pub index: u32,
    pub name: String,
    pub is_me: bool,
    pub registered: bool,
    pub contributed: bool,
    pub acked: bool,
}

/// One envelope kind at the opening: may its shares be submitted now, and whose are in.
pub struct ShareRow {
    pub kind: String,
    /// The domain's reason when the opening of this kind is not allowed now ("" when it is).
    pub refused: String,
    pub submitted: usize,
    pub k: usize,
    pub mine: bool,
}

/// What waits for the custodian viewing the page.
pub struct MyRounds {
    pub index: u32,
    pub register: bool,
    pub contribute: bool,
    pub acknowledge: bool,
}

#[derive(Template)]
#[template(path = "official/custodia-pagina.html")]
struct CustodyPage {
    chrome: Chrome,
    bando_id: String,
    oggetto: String,
    tender_href: String,
    user_id: String,
    status: String,
    status_label: &'static str,
    k: usize,
    n: usize,
    deadline: Option<String>,
    custodians: Vec<CustodianRow>,
    recipients: Vec<(String, String)>,
    /// The transport key the server holds for the viewing custodian ("" if none).
    my_key: String,
    me: Option<MyRounds>,
    shares: Vec<ShareRow>,
    can_reset: bool,
    reset_href: String,
    outcome: Option<String>,
    error: Option<String>,
}

fn status_label(s: &str) -> &'static str {
    match s {
        "not_started" => "non iniziata: nessun custode ha ancora registrato la chiave di trasporto",
        "registering" => "1ª fase: registrazione delle chiavi di trasporto",
        "contributing" => "2ª fase: contributi dei custodi",
        "acknowledging" => "3ª fase: verifica delle quote e conferme",
        "complete" => "conclusa: le chiavi pubbliche delle buste sono fissate, le offerte sono accettate",
        _ => "stato sconosciuto",
    }
}

#[derive(Debug, Deserialize)]
struct Outcome {
    esito: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResetForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    motivazione: String,
}

/// Everything the page shows, read in one blocking call with the visitor's permissions.
struct Reading {
    oggetto: String,
    deadline: Option<chrono::DateTime<chrono::Utc>>,
    key: TenderKey,
    names: Vec<(Uuid, String)>,
    shares: Vec<ShareRow>,
    /// The viewer's custodian number in the tender (0 if none): known before the ceremony
    /// starts, when the roster is still empty.
    my_index: u32,
    is_custodian: bool,
    may_manage: bool,
}

/// The tender's custodians see the page; so do the RUP and the auditors of its ente and the
/// admins (the same readers as `GET /sigillo/contributi`). Nobody else learns its progress.
fn read(
    conn: &mut diesel::PgConnection,
    who: &Principal,
    id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Reading, api::ApiError> {
    let row = bando::store::find(conn, id)?;
    let is_custodian = row.custodians.contains(&who.user_id);
    if !is_custodian {
        who.require_any_in(&[Role::Rup, Role::Auditor], row.ente_id)?;
    }
    let key = custody::get(conn, id)?;
    // Names of the custodians when the viewer may list the ente's officials; numbers otherwise.
    let names: Vec<(Uuid, String)> = accounts::users::members(conn, who, row.ente_id)
        .map(|us| us.into_iter().map(|u| (u.id, u.full_name)).collect())
        .unwrap_or_default();
    let mut shares = Vec::new();
    if key.status == "complete" {
        for kind in row.envelopes.iter() {
            let refused = match offerte::opening::ensure_may_open(
                conn,
                id,
                kind,
                now,
                &aggiudicazione::procedure::order::TechnicalGate,
            ) {
                Ok(()) => String::new(),
                Err(
                    e @ (OfferteError::Conflict { .. }
                    | OfferteError::DeadlinePassed { .. }
                    | OfferteError::Invalid { .. }),
                ) => e.to_string(),
                Err(e) => return Err(e.into()),
            };
            let s = custody::submitted_opening_shares(conn, id, kind)?;
            shares.push(ShareRow {
                kind: kind.clone(),
                refused,
                submitted: s.submitted_by.len(),
                k: s.k,
                mine: s.submitted_by.contains(&who.user_id),
            });
        }
    }
    Ok(Reading {
        oggetto: row.oggetto,
        deadline: row.submission_deadline,
        key,
        names,
        shares,
        my_index: row
            .custodians
            .iter()
            .position(|u| *u == who.user_id)
            .map_or(0, |p| p as u32 + 1),
        is_custodian,
        may_manage: who.is_admin() || who.has_role_in(Role::Rup, row.ente_id),
    })
}

async fn show(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    id: Uuid,
    outcome: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let here = super::custody(id);
    let who = visitor.require_official(&here)?.clone();
    let now = state.clock.now();
    let me_id = who.user_id;
    let r = state.db(move |conn| read(conn, &who, id, now)).await?;
    let key = &r.key;
    let custodians: Vec<CustodianRow> = key
        .custodians
        .iter()
        .map(|c| CustodianRow {
            index: c.index,
            name: r
                .names
                .iter()
                .find(|(u, _)| *u == c.user_id)
                .map_or_else(|| format!("Custode {}", c.index), |(_, n)| n.clone()),
            is_me: c.user_id == me_id,
            registered: c.transport_key.is_some(),
            contributed: c.contributed,
            acked: c.acked,
        })
        .collect();
    let mine = key.custodians.iter().find(|c| c.user_id == me_id);
    let me = r.is_custodian.then(|| {
        let registered = mine.is_some_and(|c| c.transport_key.is_some());
        MyRounds {
            index: mine.map_or(r.my_index, |c| c.index),
            register: !registered && matches!(key.status.as_str(), "not_started" | "registering"),
            contribute: key.status == "contributing" && mine.is_some_and(|c| !c.contributed),
            acknowledge: key.status == "acknowledging" && mine.is_some_and(|c| !c.acked),
        }
    });
    let view = CustodyPage {
        chrome: Chrome::new(visitor, "Custodia delle chiavi", Section::Ente)
            .crumb("Area ente", Some(super::DASHBOARD))
            .crumb(r.oggetto.clone(), Some(super::tender(id).as_str()))
            .crumb("Custodia delle chiavi", None),
        bando_id: id.to_string(),
        oggetto: r.oggetto.clone(),
        tender_href: super::tender(id),
        user_id: me_id.to_string(),
        status: key.status.clone(),
        status_label: status_label(&key.status),
        k: key.k,
        n: key.n,
        deadline: r.deadline.as_ref().map(forms::rome),
        custodians,
        recipients: key.recipients.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        my_key: mine.and_then(|c| c.transport_key.clone()).unwrap_or_default(),
        me,
        shares: r.shares,
        can_reset: r.may_manage && matches!(key.status.as_str(), "registering" | "contributing" | "acknowledging"),
        reset_href: reset_path(id),
        outcome,
        error,
    };
    super::super::render_status(visitor, &view, status)
}

#[get("/ente/bandi/{id}/custodia")]
async fn page(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    id: web::Path<Uuid>,
    q: web::Query<Outcome>,
) -> Result<HttpResponse, PortalError> {
    let outcome = match q.esito.as_deref() {
        Some("azzerata") => Some(
            "Cerimonia azzerata: i custodi devono registrare chiavi di trasporto nuove e rifare contributi e conferme."
                .to_string(),
        ),
        _ => None,
    };
    show(&state, &visitor, id.into_inner(), outcome, None, StatusCode::OK).await
}

/// The RUP abandons a ceremony that cannot complete (a custodian's complaint, a lost key).
#[post("/ente/bandi/{id}/custodia/azzera")]
async fn reset(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PortalError> {
    let id = id.into_inner();
    let who = visitor.require_official(&super::custody(id))?.clone();
    visitor.check_csrf(&form.csrf)?;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state
        .db(move |conn| custody::reset(conn, &ctx, &who, id, &form.motivazione).map_err(api::ApiError::from))
        .await;
    match done {
        Ok(_) => Ok(super::super::see_other(&format!(
            "{}?esito=azzerata",
            super::custody(id)
        ))),
        // Refused (not the RUP, no reason, a completed ceremony, none to reset after a double click): the
        // page again with the domain's message, nothing done. A stranger gets the plain 403
        // page from the reading itself.
        Err(e) if e.status.is_client_error() => {
            let status = e.status;
            show(&state, &visitor, id, None, Some(e.message.clone()), status).await
        }
        Err(e) => Err(e.into()),
    }
}
