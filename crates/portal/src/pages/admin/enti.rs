//! `/amministrazione/enti`: the member authorities (enti) with their kind (art. 14 c.1 lett.
//! b-c, which picks the EU thresholds), their qualification (by law, art. 63 c.4, or per sector
//! with level and expiry, art. 63 c.6) and their officials with the roles each holds there.
//! Read-only (issue 13 point 1): the changes stay on the API until their forms come.

use accounts::enti::{self, Ente};
use accounts::users::{self, User};
use actix_web::{get, web, HttpResponse};
use askama::Template;
use domain::legal::{AuthorityKind, QualificationLevel, QualificationSector};

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list);
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
}

#[derive(Template)]
#[template(path = "admin/enti.html")]
struct EntiPage {
    chrome: Chrome,
    items: Vec<EnteRow>,
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

#[get("/amministrazione/enti")]
async fn list(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin("/amministrazione/enti")?.clone();
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
    let items = all
        .into_iter()
        .map(|e| EnteRow {
            tipo: tipo(e.tipo),
            kind: kind(e.authority_kind),
            qualification: qualification(&e),
            members: members_of(&e, &everyone),
            ente: e,
        })
        .collect();
    let chrome = Chrome::new(&visitor, "Enti aderenti", Section::Amministrazione).crumb("Enti aderenti", None);
    super::super::render(&visitor, &EntiPage { chrome, items })
}
