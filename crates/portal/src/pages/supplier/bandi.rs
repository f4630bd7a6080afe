//! `/fornitore/bandi`: the tenders the supplier may bid on. Open ones in its declared
//! categories come from the public list filtered by each CPV (`bando::service::list_public`,
//! the same match the public search uses: the code and its descendants); its invitations are
//! the procedures by invitation that list shows only to their invitees.

use std::collections::BTreeSet;

use actix_web::{get, web, HttpResponse};
use askama::Template;
use bando::model::{Bando, ProcedureType, PublicFilter, State};

use super::my_operatore;
use crate::chrome::Chrome;
use crate::error::PortalError;
use crate::forms;
use crate::labels;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page);
}

pub struct TenderLine {
    pub id: String,
    pub oggetto: String,
    pub ente: String,
    pub cig: String,
    pub procedure: &'static str,
    pub state: &'static str,
    pub amount: String,
    pub deadline: Option<(String, String, String)>,
    pub open: bool,
}

impl TenderLine {
    fn of(b: &Bando, now: &chrono::DateTime<chrono::Utc>) -> Self {
        TenderLine {
            id: b.id.to_string(),
            oggetto: b.oggetto.clone(),
            ente: b.ente_nome.clone(),
            cig: b.cig.clone().unwrap_or_else(|| "—".into()),
            procedure: labels::procedure(b.procedure_type),
            state: labels::state(b.state),
            amount: forms::euro(&b.base_amount),
            deadline: b
                .submission_deadline
                .as_ref()
                .map(|d| (forms::iso(&d.utc), forms::rome(&d.utc), forms::time_left(now, &d.utc))),
            open: b.state == State::Published && b.submission_deadline.as_ref().is_none_or(|d| *now < d.utc),
        }
    }
}

#[derive(Template)]
#[template(path = "supplier/bandi.html")]
struct TendersPage {
    chrome: Chrome,
    registered: bool,
    has_categories: bool,
    open: Vec<TenderLine>,
    invitations: Vec<TenderLine>,
}

/// The most tenders one category brings: the public list's page limit.
const PER_CATEGORY: i64 = 100;

#[get("/fornitore/bandi")]
async fn page(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/bandi")?.clone();
    let now = state.clock.now();
    let op = my_operatore(&state, &who).await?;
    let cpvs: Vec<String> = op
        .as_ref()
        .map(|o| o.cpv.iter().map(|c| c.code.clone()).collect())
        .unwrap_or_default();
    let p = who.clone();
    let (in_categories, invited) = state
        .db(move |conn| {
            let mut seen = BTreeSet::new();
            let mut open = Vec::new();
            for cpv in cpvs {
                let filter = PublicFilter {
                    cpv: Some(cpv),
                    state: Some(State::Published.as_str().into()),
                    limit: Some(PER_CATEGORY),
                    ..Default::default()
                };
                for b in bando::service::list_public(conn, Some(&p), &filter)?.items {
                    if !b.procedure_type.is_by_invitation() && seen.insert(b.id) {
                        open.push(b);
                    }
                }
            }
            // One query per procedure by invitation, so public tenders never crowd them out.
            let mut invited: Vec<Bando> = Vec::new();
            for procedure in ProcedureType::ALL.iter().filter(|p| p.is_by_invitation()) {
                let filter = PublicFilter {
                    procedure: Some(procedure.as_str().into()),
                    limit: Some(PER_CATEGORY),
                    ..Default::default()
                };
                invited.extend(bando::service::list_public(conn, Some(&p), &filter)?.items);
            }
            invited.sort_by_key(|b| std::cmp::Reverse(b.published_at));
            Ok::<_, bando::error::BandoError>((open, invited))
        })
        .await?;
    let mut open: Vec<TenderLine> = in_categories.iter().map(|b| TenderLine::of(b, &now)).collect();
    open.sort_by(|a, b| {
        a.deadline
            .as_ref()
            .map(|d| d.0.clone())
            .cmp(&b.deadline.as_ref().map(|d| d.0.clone()))
    });
    let page = TendersPage {
        chrome: super::chrome(&visitor, "Bandi e inviti"),
        registered: op.is_some(),
        has_categories: op.as_ref().is_some_and(|o| !o.cpv.is_empty()),
        open,
        invitations: invited.iter().map(|b| TenderLine::of(b, &now)).collect(),
    };
    super::super::render(&visitor, &page)
}
