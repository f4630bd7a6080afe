//! `/amministrazione/enti`: the member authorities (enti) with their kind (art. 14 c.1 lett.
//! b-c, which picks the EU thresholds), their qualification (by law, art. 63 c.4, or per sector
//! with level and expiry, art. 63 c.6) and their officials with the roles each holds there.
//! The admin changes here what `PUT /enti/{id}/authority-profile` and `POST
//! /enti/{id}/qualifications` change, through the same functions
//! (`accounts::qualification::{set_profile, record}`): their rules (a basis for the
//! qualification by law and only with it; a future expiry with a level and none without) and
//! their audit events (`ente.authority_profile_set`, `ente.qualification_recorded`). A refusal
//! comes back next to its form with the domain's message and a 4xx, nothing changed; success
//! is a 303 back to the list. Records are never edited: renewing is a new record, revoking a
//! record without a level.

use accounts::enti::{self, Ente};
use accounts::qualification::{self as qual, AuthorityProfileInput, NewQualification};
use accounts::users::{self, User};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use domain::legal::{AuthorityKind, QualificationLevel, QualificationSector};
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::pages::public::pair;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(set_profile).service(record_qualification);
}

const HERE: &str = "/amministrazione/enti";

/// Which form of an ente a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Profile,
    Qualification,
}

/// A refusal shown next to its form: the domain's message and the field it names.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub ente: Uuid,
    pub form: Form,
    pub message: String,
    pub field: Option<String>,
}

impl Refusal {
    /// The `aria-describedby` target of the form's field named `field` (the API's name).
    pub fn names(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

pub struct Member {
    pub name: String,
    pub email: String,
    pub roles: String,
    pub active: bool,
}

pub struct EnteRow {
    pub ente: Ente,
    pub tipo: &'static str,
    pub kind: &'static str,
    /// The qualification, in words, one line per sector (or "by law").
    pub qualification: Vec<String>,
    pub members: Vec<Member>,
    pub profile_error: Option<Refusal>,
    pub qualification_error: Option<Refusal>,
}

impl EnteRow {
    pub fn central_government(&self) -> bool {
        self.ente.authority_kind == AuthorityKind::CentralGovernment
    }
}

#[derive(Template)]
#[template(path = "admin/enti.html")]
struct EntiPage {
    chrome: Chrome,
    items: Vec<EnteRow>,
    outcome: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OutcomeQuery {
    esito: Option<String>,
    nome: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProfileForm {
    /// Defaulted, so a form without it is refused as forged (403), not as malformed.
    #[serde(rename = "_csrf", default)]
    csrf: String,
    autorita: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    di_diritto: Option<String>,
    #[serde(default)]
    titolo: String,
}

#[derive(Debug, Deserialize)]
struct QualificationForm {
    /// Defaulted, so a form without it is refused as forged (403), not as malformed.
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `registra` (a level until a day) or `revoca` (the record without a level).
    azione: String,
    settore: String,
    #[serde(default)]
    livello: String,
    #[serde(default)]
    scadenza: String,
    #[serde(default)]
    riferimento_anac: String,
}

fn tipo(t: accounts::enti::EnteTipo) -> &'static str {
    use accounts::enti::EnteTipo::*;
    match t {
        Comune => "Comune",
        Unione => "Unione di comuni",
        Provincia => "Provincia",
        CittaMetropolitana => "Città metropolitana",
        Regione => "Regione",
        Altro => "Altra amministrazione",
    }
}

fn kind(k: AuthorityKind) -> &'static str {
    match k {
        AuthorityKind::CentralGovernment => "Autorità governativa centrale (art. 14 c.1 lett. b)",
        AuthorityKind::SubCentral => "Amministrazione sub-centrale (art. 14 c.1 lett. c)",
    }
}

fn qualification(e: &Ente) -> Vec<String> {
    if e.qualified_by_law {
        return vec![format!(
            "Qualificata di diritto (art. 63 c.4){}",
            e.qualified_by_law_basis
                .as_deref()
                .map(|b| format!(": {b}"))
                .unwrap_or_default()
        )];
    }
    if e.qualifications.is_empty() {
        return vec!["Non qualificata (art. 63): procedure oltre le soglie dell'art. 62 tramite centrale".into()];
    }
    e.qualifications
        .iter()
        .map(|q| {
            let sector = match q.sector {
                QualificationSector::Works => "lavori",
                QualificationSector::ServicesSupplies => "servizi e forniture",
            };
            match (q.level, q.valid_until) {
                (None, _) => format!("{}: qualificazione non più in vigore", capital(sector)),
                (Some(l), until) => format!(
                    "{}: livello {}{}",
                    capital(sector),
                    match l {
                        QualificationLevel::Base => "base",
                        QualificationLevel::Intermedia => "intermedio",
                        QualificationLevel::Avanzata => "avanzato",
                    },
                    until
                        .map(|d| format!(", valida fino al {}", d.format("%d/%m/%Y")))
                        .unwrap_or_default()
                ),
            }
        })
        .collect()
}

fn capital(s: &str) -> String {
    crate::pages::supplier::capitalized(s)
}

fn members_of(ente: &Ente, everyone: &[User]) -> Vec<Member> {
    everyone
        .iter()
        .filter_map(|u| {
            let here: Vec<&str> = u
                .roles
                .iter()
                .filter(|g| g.ente_id == Some(ente.id))
                .map(|g| super::utenti::role_label(g.role))
                .collect();
            (!here.is_empty()).then(|| Member {
                name: u.full_name.clone(),
                email: u.email.clone(),
                roles: here.join(", "),
                active: u.active,
            })
        })
        .collect()
}

async fn page(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    outcome: Option<String>,
    refused: Option<Refusal>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    let (all, everyone) = state
        .db(move |conn| {
            let page = accounts::listing::Page {
                limit: Some(500),
                offset: None,
            };
            let all = enti::list(conn, &who, page)?;
            let everyone = users::list(conn, &who, page)?;
            Ok::<_, accounts::AccountsError>((all, everyone))
        })
        .await?;
    let refusal_for = |id: Uuid, form: Form| refused.as_ref().filter(|r| r.ente == id && r.form == form).cloned();
    let items = all
        .into_iter()
        .map(|e| EnteRow {
            tipo: tipo(e.tipo),
            kind: kind(e.authority_kind),
            qualification: qualification(&e),
            members: members_of(&e, &everyone),
            profile_error: refusal_for(e.id, Form::Profile),
            qualification_error: refusal_for(e.id, Form::Qualification),
            ente: e,
        })
        .collect();
    let chrome = Chrome::new(visitor, "Enti aderenti", Section::Amministrazione).crumb("Enti aderenti", None);
    super::super::render_status(visitor, &EntiPage { chrome, items, outcome }, status)
}

#[get("/amministrazione/enti")]
async fn list(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, PortalError> {
    let outcome = match (q.esito.as_deref(), q.nome.as_deref()) {
        (Some("profilo"), Some(n)) => Some(format!("{n}: profilo dell'autorità aggiornato.")),
        (Some("qualificazione"), Some(n)) => Some(format!("{n}: qualificazione registrata.")),
        (Some("revoca"), Some(n)) => Some(format!("{n}: perdita della qualificazione registrata.")),
        _ => None,
    };
    page(&state, &visitor, outcome, None, StatusCode::OK).await
}

/// A refusal of the domain (or of the form's own parsing) becomes the list again, with the
/// message next to the form; anything else (404, 500) is the error page.
async fn refused(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    ente: Uuid,
    form: Form,
    e: api::ApiError,
) -> Result<HttpResponse, PortalError> {
    if !e.status.is_client_error() || e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN {
        return Err(e.into());
    }
    let refusal = Refusal {
        ente,
        form,
        message: e.message.clone(),
        field: e.field.clone(),
    };
    page(state, visitor, None, Some(refusal), e.status).await
}

fn bad_input(code: &str, field: &str, message: &str) -> api::ApiError {
    api::ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}

#[post("/amministrazione/enti/{id}/profilo")]
async fn set_profile(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    visitor.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let Some(authority_kind) = AuthorityKind::parse(&form.autorita) else {
        let e = bad_input(
            "authority_kind_invalid",
            "authority_kind",
            "Tipo di autorità sconosciuto",
        );
        return refused(&state, &visitor, id, Form::Profile, e).await;
    };
    let input = AuthorityProfileInput {
        authority_kind,
        qualified_by_law: form.di_diritto.is_some(),
        qualified_by_law_basis: Some(form.titolo.clone()),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    match state
        .db(move |conn| qual::set_profile(conn, &ctx, &who, id, &input))
        .await
    {
        Ok(ente) => Ok(super::super::see_other(&format!(
            "{HERE}?{}&{}#ente-{id}",
            pair("esito", "profilo"),
            pair("nome", &ente.nome)
        ))),
        Err(e) => refused(&state, &visitor, id, Form::Profile, e).await,
    }
}

#[post("/amministrazione/enti/{id}/qualificazioni")]
async fn record_qualification(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<QualificationForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    visitor.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let input = match qualification_input(&form) {
        Ok(i) => i,
        Err(e) => return refused(&state, &visitor, id, Form::Qualification, e).await,
    };
    let revoked = input.level.is_none();
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state
        .db(move |conn| {
            qual::record(conn, &ctx, &who, id, &input)?;
            enti::find(conn, id)
        })
        .await;
    match done {
        Ok(ente) => Ok(super::super::see_other(&format!(
            "{HERE}?{}&{}#ente-{id}",
            pair("esito", if revoked { "revoca" } else { "qualificazione" }),
            pair("nome", &ente.nome)
        ))),
        Err(e) => refused(&state, &visitor, id, Form::Qualification, e).await,
    }
}

/// The form as the domain's input. Only the shape is checked here (a known sector, level and
/// action, a date that is a date); what the values may be is the domain's to say.
fn qualification_input(form: &QualificationForm) -> Result<NewQualification, api::ApiError> {
    let sector = QualificationSector::parse(&form.settore).ok_or_else(|| {
        bad_input(
            "sector_invalid",
            "sector",
            "Settore sconosciuto: lavori o servizi e forniture",
        )
    })?;
    let anac_reference = Some(form.riferimento_anac.clone());
    match form.azione.as_str() {
        "revoca" => Ok(NewQualification {
            sector,
            level: None,
            valid_until: None,
            anac_reference,
        }),
        "registra" => {
            let level = QualificationLevel::parse(&form.livello).ok_or_else(|| {
                bad_input(
                    "level_invalid",
                    "level",
                    "Scegliere il livello di qualificazione (base, intermedio, avanzato)",
                )
            })?;
            let valid_until = match form.scadenza.trim() {
                "" => None,
                d => Some(
                    NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| bad_input("valid_until_invalid", "valid_until", "Data di scadenza non valida"))?,
                ),
            };
            Ok(NewQualification {
                sector,
                level: Some(level),
                valid_until,
                anac_reference,
            })
        }
        _ => Err(bad_input(
            "action_invalid",
            "azione",
            "Azione sconosciuta: registrare o revocare la qualificazione",
        )),
    }
}
