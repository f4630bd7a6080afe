//! `/fornitore`: where the supplier stands: its albo entry, what expires, what waits for it
//! in the tenders it bid in (the deadline while it may still change its bid, a rettifica to
//! confirm, a soccorso istruttorio or art. 110 request to answer, each with its term in
//! Europe/Rome), the latest news. The tender-side items come from the owning crates' reads
//! (`offerte::waiting::bid_tenders`, `offerte::submit::my_bids`,
//! `aggiudicazione::procedure::waiting::for_bidder`).

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

/// One thing waiting for the supplier in a tender it bid in.
pub struct Waiting {
    pub what: String,
    pub tender: String,
    pub href: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Waiting {
    pub fn at_rome(&self) -> String {
        forms::rome(&self.at)
    }

    pub fn at_iso(&self) -> String {
        self.at.with_timezone(&chrono_tz::Europe::Rome).to_rfc3339()
    }
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
    waiting: Vec<Waiting>,
    notices: Vec<NoticeLine>,
}

/// What waits for the supplier in its tenders at `now`, soonest first.
fn waiting_for(
    conn: &mut diesel::PgConnection,
    who: &accounts::Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Waiting>, api::ApiError> {
    use aggiudicazione::procedure::waiting::{self as agg, Step};
    let mut out = Vec::new();
    for id in offerte::waiting::bid_tenders(conn, who)? {
        let b = bando::service::get_public(conn, Some(who), id)?;
        let href = format!("/bandi/{id}/offerta");
        let bids = offerte::submit::my_bids(conn, who, id)?;
        let open = b.state == bando::State::Published;
        if let Some(d) = b.submission_deadline.as_ref().filter(|d| open && d.utc > now) {
            out.push(Waiting {
                what: format!(
                    "Termine per presentare o modificare l'offerta: mancano {}",
                    forms::time_left(&now, &d.utc)
                ),
                tender: b.oggetto.clone(),
                href: href.clone(),
                at: d.utc,
            });
        }
        for bid in bids
            .iter()
            .filter(|x| x.withdrawn_at.is_none() && x.requires_confirmation)
        {
            let since = bid.amendments_to_confirm.first().map_or(now, |a| a.published_at);
            out.push(Waiting {
                what: "Rettifica del bando pubblicata: confermare l'offerta o sostituire una busta".into(),
                tender: b.oggetto.clone(),
                href: href.clone(),
                at: b.submission_deadline.as_ref().map_or(since, |d| d.utc),
            });
        }
        if !open && b.state != bando::State::Draft {
            for w in agg::for_bidder(conn, who, id, now)? {
                let what = match w.step {
                    Step::SoccorsoToAnswer => {
                        "Soccorso istruttorio: rispondere alla richiesta della stazione appaltante"
                    }
                    Step::Art110ToAnswer => "Offerta anormalmente bassa: fornire le spiegazioni richieste (art. 110)",
                    _ => continue,
                };
                out.push(Waiting {
                    what: what.into(),
                    tender: b.oggetto.clone(),
                    href: super::richieste::path(id),
                    at: w.at,
                });
            }
        }
    }
    out.sort_by_key(|w| w.at);
    Ok(out)
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
    let (p, user) = (who.clone(), who.user_id);
    let waiting = state.db(move |conn| waiting_for(conn, &p, now)).await?;
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
            waiting,
            notices,
        },
    )
}
