//! The home page: what the platform is, the tenders open now, where to start.

use actix_web::{get, web, HttpResponse};
use askama::Template;
use bando::model::{Bando, PublicFilter};

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::labels;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}

/// A tender as a card shows it.
pub struct Card {
    pub id: String,
    pub oggetto: String,
    pub ente: String,
    pub cig: String,
    pub procedure: &'static str,
    pub amount: String,
    pub deadline: Option<(String, String, String)>,
}

impl Card {
    pub fn of(b: &Bando, now: &chrono::DateTime<chrono::Utc>) -> Self {
        Card {
            id: b.id.to_string(),
            oggetto: b.oggetto.clone(),
            ente: b.ente_nome.clone(),
            cig: b.cig.clone().unwrap_or_else(|| "—".into()),
            procedure: labels::procedure(b.procedure_type),
            amount: forms::euro(&b.base_amount),
            deadline: b
                .submission_deadline
                .as_ref()
                .map(|d| (forms::iso(&d.utc), forms::rome(&d.utc), forms::time_left(now, &d.utc))),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
    open: Vec<Card>,
}

#[get("/")]
async fn home(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let who = visitor.principal.clone();
    let filter = PublicFilter {
        state: Some("published".into()),
        limit: Some(6),
        ..Default::default()
    };
    let page = state
        .db(move |conn| bando::service::list_public(conn, who.as_ref(), &filter))
        .await?;
    let now = state.clock.now();
    let open = page.items.iter().map(|b| Card::of(b, &now)).collect();
    let chrome = Chrome::new(&visitor, "Gare e appalti degli enti associati", Section::Home);
    super::render(&visitor, &Home { chrome, open })
}
