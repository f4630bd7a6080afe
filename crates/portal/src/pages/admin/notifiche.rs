//! `/amministrazione/notifiche`: the PEC / e-mail notifications that did not go out (tried at
//! least once and still unsent: the dispatcher never drops a row), each with the relay's last
//! error, the attempts, the recipient, what it is about and when it was written (Europe/Rome),
//! and a "Riprova" that puts it back at the head of the queue through `notify::retry::retry`
//! (audited on the row's object in the same transaction; a delivered row is refused; a double
//! click acts once). The notify crate knows no roles, so the admin check is the portal's
//! `require_admin`, as for every page under `/amministrazione`.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use notify::retry::{self, Retried, RetryError, Undelivered};
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(retry_one);
}

pub const HERE: &str = "/amministrazione/notifiche";
/// Most rows shown: beyond this the relay is down for everyone and the list says so.
const SHOWN: i64 = 200;

pub struct Row {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub kind: String,
    pub created_iso: String,
    pub created: String,
    pub attempts: i32,
    pub last_attempt: String,
    pub error: String,
    /// In words: due at the next pass, or when the next attempt is.
    pub status: String,
    pub refusal: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/notifiche.html")]
struct NotifichePage {
    chrome: Chrome,
    rows: Vec<Row>,
    outcome: Option<String>,
    /// A refusal about a row no longer listed (delivered meanwhile).
    error: Option<String>,
    limit_reached: bool,
}

#[derive(Debug, Deserialize)]
struct OutcomeQuery {
    esito: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RetryForm {
    /// Defaulted, so a form without it is refused as forged (403), not as malformed.
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// The attempts the admin saw: a second click after the dispatcher tried acts no more.
    tentativi: i32,
}

/// What the notification is about, from the object it was written for.
fn kind(object_type: &str) -> String {
    match object_type {
        "operatore" => "Albo operatori economici".into(),
        "bando" => "Bando di gara".into(),
        "bid" | "offerta" => "Offerta".into(),
        "user" | "utente" => "Account".into(),
        other => format!("Altro ({other})"),
    }
}

fn row(n: Undelivered, now: chrono::DateTime<chrono::Utc>, refused: Option<&(Uuid, String)>) -> Row {
    let status = match n.next_attempt_at {
        Some(at) if at > now => format!("Nuovo tentativo automatico il {}", forms::rome(&at)),
        _ => "In coda: parte al prossimo passaggio".to_string(),
    };
    // A notification about a tender may go to a bidder before the deadline (a rettifica asks
    // each bidder to confirm its bid): its address, subject and the relay's error (which
    // usually quotes the address) would tell the admin who bid. The row stays retryable.
    let sealed = n.object_type == "bando";
    let hidden = || "riservato (notifica su un bando)".to_string();
    Row {
        refusal: refused.filter(|(id, _)| *id == n.id).map(|(_, m)| m.clone()),
        id: n.id,
        to: if sealed { hidden() } else { n.recipient_address },
        subject: if sealed { hidden() } else { n.subject },
        kind: kind(&n.object_type),
        created_iso: forms::iso(&n.created_at),
        created: forms::rome(&n.created_at),
        attempts: n.attempts,
        last_attempt: n.last_attempt_at.as_ref().map_or_else(|| "—".into(), forms::rome),
        error: if sealed {
            hidden()
        } else {
            n.last_error.unwrap_or_default()
        },
        status,
    }
}

async fn page(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    outcome: Option<String>,
    refused: Option<(Uuid, String)>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    visitor.require_admin(HERE)?;
    let now = state.clock.now();
    let found = state
        .db(move |conn| retry::undelivered(conn, SHOWN).map_err(accounts::AccountsError::from))
        .await?;
    let limit_reached = found.len() as i64 >= SHOWN;
    let error = refused
        .as_ref()
        .filter(|(id, _)| !found.iter().any(|n| n.id == *id))
        .map(|(_, m)| m.clone());
    let rows = found.into_iter().map(|n| row(n, now, refused.as_ref())).collect();
    let chrome = Chrome::new(visitor, "Notifiche non recapitate", Section::Amministrazione)
        .crumb("Notifiche non recapitate", None);
    super::super::render_status(
        visitor,
        &NotifichePage {
            chrome,
            rows,
            outcome,
            error,
            limit_reached,
        },
        status,
    )
}

#[get("/amministrazione/notifiche")]
async fn list(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, PortalError> {
    let outcome = match q.esito.as_deref() {
        Some("in-coda") => Some("Notifica rimessa in coda: parte al prossimo passaggio dell'invio.".to_string()),
        Some("gia-in-coda") => Some(
            "La notifica era già in coda (o è stata ritentata nel frattempo): nessuna nuova richiesta registrata."
                .to_string(),
        ),
        _ => None,
    };
    page(&state, &visitor, outcome, None, StatusCode::OK).await
}

#[post("/amministrazione/notifiche/{id}/riprova")]
async fn retry_one(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<RetryForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_admin(HERE)?.clone();
    visitor.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let seen = form.tentativi;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let outcome = state
        .db(move |conn| Ok::<_, api::ApiError>(retry::retry(conn, &ctx, id, seen)))
        .await?;
    match outcome {
        Ok(Retried::Queued) => Ok(super::super::see_other(&format!("{HERE}?esito=in-coda"))),
        Ok(Retried::AlreadyQueued) => Ok(super::super::see_other(&format!("{HERE}?esito=gia-in-coda"))),
        Err(RetryError::NotFound) => Err(PortalError::not_found("Notifica")),
        Err(RetryError::Delivered { at }) => {
            let message = format!(
                "La notifica è già stata recapitata il {}: non si invia di nuovo.",
                forms::rome(&at)
            );
            page(&state, &visitor, None, Some((id, message)), StatusCode::CONFLICT).await
        }
        Err(RetryError::Db(e)) => {
            tracing::error!(error = %e, "portal: notification retry failed");
            Err(PortalError::internal())
        }
    }
}
