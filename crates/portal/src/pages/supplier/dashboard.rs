//! `/fornitore`: where the supplier stands: its albo entry, what expires, the latest news.

use actix_web::{get, web, HttpResponse};
use askama::Template;

use super::{my_operatore, reminders, Reminder};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard);
}

pub struct Entry {
    pub ragione_sociale: String,
    pub partita_iva: String,
    pub status: &'static str,
    pub status_badge: &'static str,
    pub status_reason: Option<String>,
    pub invitable: bool,
    pub categories: usize,
}

pub struct NoticeLine {
    pub subject: String,
    pub at_iso: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "supplier/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    entry: Option<Entry>,
    reminders: Vec<Reminder>,
    notices: Vec<NoticeLine>,
}

#[get("/fornitore")]
async fn dashboard(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore")?.clone();
    let now = state.clock.now();
    let op = my_operatore(&state, &who).await?;
    let (entry, reminders) = match &op {
        None => (None, vec![]),
        Some(op) => {
            let (p, id) = (who.clone(), op.id);
            let docs = state
                .db(move |conn| registry::documents::list(conn, &p, id, now))
                .await?;
            let entry = Entry {
                ragione_sociale: op.ragione_sociale.clone(),
                partita_iva: op.partita_iva.clone(),
                status: op.status.label_it(),
                status_badge: super::status_badge(op.status),
                status_reason: op.status_reason.clone(),
                invitable: op.invitable,
                categories: op.cpv.len() + op.soa.len(),
            };
            (Some(entry), reminders(op, &docs, registry::rome_today(now)))
        }
    };
    let user = who.user_id;
    let notices = state
        .db(move |conn| notify::inbox::for_user(conn, user, 5).map_err(registry::RegistryError::from))
        .await?
        .into_iter()
        .map(|n| NoticeLine {
            subject: n.subject,
            at_iso: forms::iso(&n.created_at),
            at: forms::rome(&n.created_at),
        })
        .collect();
    let chrome =
        Chrome::new(&visitor, "Area operatore economico", Section::Fornitore).crumb("Area operatore economico", None);
    super::super::render(
        &visitor,
        &Dashboard {
            chrome,
            entry,
            reminders,
            notices,
        },
    )
}
