//! `/amministrazione/utenti`: the officials, their roles per ente, and the admin's three acts
//! on them (issue 13 point 1): grant a role in an ente, revoke one grant, deactivate the
//! account, each with the reason the audit trail keeps. The same functions as `POST
//! /users/{id}/roles`, `/roles/revoke` and `/deactivate`, so the rules are theirs (the last
//! admin stays, a reason is required, the holder loses the role at its next request).

use accounts::enti::{self, Ente};
use accounts::lifecycle::{self, Deactivation, RoleRevocation};
use accounts::principal::Grant;
use accounts::users::{self, User};
use accounts::{Role, UserKind};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::pages::public::pair;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(grant).service(revoke).service(deactivate);
}

const HERE: &str = "/amministrazione/utenti";

pub struct GrantRow {
    pub role: &'static str,
    pub role_code: &'static str,
    pub ente: String,
    pub ente_id: String,
}

pub struct Official {
    pub user: User,
    pub grants: Vec<GrantRow>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/utenti.html")]
struct UsersPage {
    chrome: Chrome,
    officials: Vec<Official>,
    enti: Vec<(String, String)>,
    outcome: Option<String>,
}

pub(super) fn role_label(r: Role) -> &'static str {
    match r {
        Role::Admin => "amministratore",
        Role::Rup => "RUP",
        Role::Commission => "commissione",
        Role::Auditor => "revisore",
    }
}

#[derive(Debug, Deserialize)]
struct Outcome {
    esito: Option<String>,
    chi: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GrantForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    ruolo: String,
    ente: String,
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    ruolo: String,
    #[serde(default)]
    ente: String,
    #[serde(default)]
    motivazione: String,
}

#[derive(Debug, Deserialize)]
struct DeactivateForm {
    #[serde(rename = "_csrf")]
    csrf: String,
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
    let (everyone, all_enti): (Vec<User>, Vec<Ente>) = state
        .db(move |conn| {
            let page = accounts::listing::Page {
                limit: Some(500),
                offset: None,
            };
            Ok::<_, accounts::AccountsError>((users::list(conn, &who, page)?, enti::list(conn, &who, page)?))
        })
        .await?;
    let ente_name = |id: Option<Uuid>| {
        id.and_then(|i| all_enti.iter().find(|e| e.id == i))
            .map_or_else(|| "la centrale".to_string(), |e| e.nome.clone())
    };
    let officials = everyone
        .into_iter()
        .filter(|u| u.kind == UserKind::Official)
        .map(|u| Official {
            grants: u
                .roles
                .iter()
                .map(|g| GrantRow {
                    role: role_label(g.role),
                    role_code: g.role.as_str(),
                    ente: ente_name(g.ente_id),
                    ente_id: g.ente_id.map(|e| e.to_string()).unwrap_or_default(),
                })
                .collect(),
            error: refused.as_ref().filter(|(id, _)| *id == u.id).map(|(_, m)| m.clone()),
            user: u,
        })
        .collect();
    let chrome = Chrome::new(visitor, "Utenti e ruoli", Section::Amministrazione).crumb("Utenti e ruoli", None);
    let page = UsersPage {
        chrome,
        officials,
        enti: all_enti.iter().map(|e| (e.id.to_string(), e.nome.clone())).collect(),
        outcome,
    };
    super::super::render_status(visitor, &page, status)
}

#[get("/amministrazione/utenti")]
async fn list(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<Outcome>,
) -> Result<HttpResponse, PortalError> {
    let outcome = match (q.esito.as_deref(), q.chi.as_deref()) {
        (Some("ruolo"), Some(c)) => Some(format!("{c}: ruolo assegnato.")),
        (Some("revoca"), Some(c)) => Some(format!("{c}: ruolo revocato; vale dalla prossima richiesta.")),
        (Some("disattivato"), Some(c)) => Some(format!("{c}: account disattivato, sessioni chiuse.")),
        _ => None,
    };
    page(&state, &visitor, outcome, None, StatusCode::OK).await
}

/// The answer to an act: the list with the outcome, or with the refusal next to the person.
async fn answer(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    id: Uuid,
    word: &str,
    done: Result<User, api::ApiError>,
) -> Result<HttpResponse, PortalError> {
    match done {
        Ok(u) => Ok(super::super::see_other(&format!(
            "{HERE}?{}&{}",
            pair("esito", word),
            pair("chi", &u.email)
        ))),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let status = e.status;
            page(state, visitor, None, Some((id, e.message.clone())), status).await
        }
        Err(e) => Err(e.into()),
    }
}

fn role_of(code: &str) -> Result<Role, PortalError> {
    Role::parse(code).ok_or_else(|| {
        PortalError::Page(api::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "role_invalid",
            "Ruolo sconosciuto",
        ))
    })
}

fn ente_of(raw: &str) -> Result<Option<Uuid>, PortalError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(raw.trim())
        .map(Some)
        .map_err(|_| PortalError::not_found("Ente"))
}

#[post("/amministrazione/utenti/{id}/ruoli")]
async fn grant(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<GrantForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    visitor.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let g = Grant {
        role: role_of(&form.ruolo)?,
        ente_id: ente_of(&form.ente)?,
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state.db(move |conn| users::grant_role(conn, &ctx, &who, id, &g)).await;
    answer(&state, &visitor, id, "ruolo", done).await
}

#[post("/amministrazione/utenti/{id}/revoca")]
async fn revoke(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    visitor.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let input = RoleRevocation {
        role: role_of(&form.ruolo)?,
        ente_id: ente_of(&form.ente)?,
        reason: form.motivazione.clone(),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state
        .db(move |conn| lifecycle::revoke_role(conn, &ctx, &who, id, &input))
        .await;
    answer(&state, &visitor, id, "revoca", done).await
}

#[post("/amministrazione/utenti/{id}/disattiva")]
async fn deactivate(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<DeactivateForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    visitor.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let input = Deactivation {
        reason: form.motivazione.clone(),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state
        .db(move |conn| lifecycle::deactivate(conn, &ctx, &who, id, &input))
        .await;
    answer(&state, &visitor, id, "disattivato", done).await
}
