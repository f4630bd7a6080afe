//! The supplier's area (`/fornitore`): its albo entry, documents, categories, the tenders it
//! may bid on, its questions and notifications. Every page is the signed-in supplier's own:
//! the operatore is always looked up from the session (`operatori::mine`), never from the
//! address, so no link leads to another supplier's data.

pub mod albo;
pub mod atti;
pub mod bandi;
pub mod categorie;
pub mod chiarimenti;
pub mod dashboard;
pub mod documenti;
pub mod multipart;
pub mod notifiche;
pub mod richieste;

use accounts::Principal;
use actix_web::web;
use registry::operatori::{self, Operatore};
use registry::RegistryError;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    dashboard::configure(cfg);
    albo::configure(cfg);
    documenti::configure(cfg);
    categorie::configure(cfg);
    bandi::configure(cfg);
    chiarimenti::configure(cfg);
    notifiche::configure(cfg);
    richieste::configure(cfg);
    atti::configure(cfg);
}

/// The supplier's own albo entry, or `None` before it registered one.
pub async fn my_operatore(state: &api::AppState, who: &Principal) -> Result<Option<Operatore>, PortalError> {
    let who = who.clone();
    let now = state.clock.now();
    let found = state
        .db(move |conn| match operatori::mine(conn, &who, now) {
            Ok(op) => Ok(Some(op)),
            Err(RegistryError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
    Ok(found)
}

/// The frame of a page of the area, with the breadcrumb back to the dashboard.
pub fn chrome(visitor: &Visitor, title: &str) -> Chrome {
    Chrome::new(visitor, title, Section::Fornitore)
        .crumb("Area operatore economico", Some("/fornitore"))
        .crumb(title, None)
}

/// Days before expiry from which a document is shown as expiring soon (a DURC lasts 120
/// days: a month leaves time to ask for the next one).
pub const EXPIRY_NOTICE_DAYS: i64 = 30;

/// How a document's expiry reads on the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    None,
    Valid,
    Soon,
    Expired,
}

impl Expiry {
    pub fn of(scadenza: Option<chrono::NaiveDate>, today: chrono::NaiveDate) -> Self {
        match scadenza {
            None => Expiry::None,
            Some(s) if s < today => Expiry::Expired,
            Some(s) if (s - today).num_days() <= EXPIRY_NOTICE_DAYS => Expiry::Soon,
            Some(_) => Expiry::Valid,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Expiry::None => "senza scadenza",
            Expiry::Valid => "valido",
            Expiry::Soon => "in scadenza",
            Expiry::Expired => "scaduto",
        }
    }

    /// The Bootstrap Italia badge colour.
    pub fn badge(self) -> &'static str {
        match self {
            Expiry::None | Expiry::Valid => "bg-success",
            Expiry::Soon => "bg-warning text-dark",
            Expiry::Expired => "bg-danger",
        }
    }
}

/// A reminder about a current document, or a mandatory one never uploaded.
#[derive(Debug, Clone)]
pub struct Reminder {
    pub text: String,
    pub expired: bool,
}

/// What to remind: mandatory documents missing or expired (as the registry judges them) and
/// current documents expiring within [`EXPIRY_NOTICE_DAYS`].
pub fn reminders(op: &Operatore, docs: &[registry::documents::Documento], today: chrono::NaiveDate) -> Vec<Reminder> {
    use registry::documents::DocumentsStatus;
    let mut out: Vec<Reminder> = op
        .documents_issues
        .iter()
        .map(|i| match (i.problem, i.scadenza) {
            (DocumentsStatus::Expired, Some(s)) => Reminder {
                text: format!(
                    "{} scaduto il {}: caricare quello nuovo",
                    capitalized(i.tipo.label_it()),
                    s.format("%d/%m/%Y")
                ),
                expired: true,
            },
            _ => Reminder {
                text: format!(
                    "{}: documento obbligatorio non ancora caricato",
                    capitalized(i.tipo.label_it())
                ),
                expired: true,
            },
        })
        .collect();
    for d in docs.iter().filter(|d| d.superseded_at.is_none()) {
        let Some(s) = d.scadenza else { continue };
        match Expiry::of(Some(s), today) {
            Expiry::Soon => out.push(Reminder {
                text: format!(
                    "{} «{}» in scadenza il {} (tra {} giorni)",
                    capitalized(d.tipo.label_it()),
                    d.nome_file,
                    s.format("%d/%m/%Y"),
                    (s - today).num_days()
                ),
                expired: false,
            }),
            Expiry::Expired if !op.documents_issues.iter().any(|i| i.tipo == d.tipo) => out.push(Reminder {
                text: format!(
                    "{} «{}» scaduto il {}",
                    capitalized(d.tipo.label_it()),
                    d.nome_file,
                    s.format("%d/%m/%Y")
                ),
                expired: true,
            }),
            _ => {}
        }
    }
    out
}

pub fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

pub fn status_badge(status: operatori::OperatoreStatus) -> &'static str {
    use operatori::OperatoreStatus::*;
    match status {
        Pending => "bg-warning text-dark",
        Qualified => "bg-success",
        Rejected | Suspended => "bg-danger",
    }
}
