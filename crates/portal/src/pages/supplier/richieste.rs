//! `/fornitore/bandi/{id}/richieste`: what the stazione appaltante asked of the supplier's bid
//! in a tender's evaluation (soccorso istruttorio, art. 101; explanations of an anomalously low
//! offer, art. 110), with the term in Europe/Rome, the answer form while it is open and the
//! RUP's outcome once decided. The page reads `aggiudicazione::procedure::view` (a bidder sees
//! only its own requests; anyone who did not bid is refused by it) and answers through
//! `admission::answer_soccorso` and `evaluation::answer_art110`, the functions behind
//! `POST /api/v1/bandi/{id}/valutazione/{soccorsi,art110}/{sid}/risposta`: the term, the one
//! answer and the ownership of the request are the domain's.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use aggiudicazione::procedure::model::{Answer, Art110, Soccorso};
use aggiudicazione::procedure::{self as procedure, admission, evaluation, ProcedureError};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::PortalError;
use crate::forms;
use crate::pages::public::pair;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // An answer may be long (the explanations of art. 110 are a report), percent-encoded.
    let big = || web::FormConfig::default().limit(256 * 1024);
    cfg.service(web::resource("/fornitore/bandi/{id}/richieste").route(web::get().to(show)))
        .service(
            web::resource("/fornitore/bandi/{id}/richieste/soccorsi/{sid}")
                .app_data(big())
                .route(web::post().to(answer_soccorso)),
        )
        .service(
            web::resource("/fornitore/bandi/{id}/richieste/art110/{sid}")
                .app_data(big())
                .route(web::post().to(answer_art110)),
        );
}

/// The page of tender `id`'s requests.
pub fn path(id: Uuid) -> String {
    format!("/fornitore/bandi/{id}/richieste")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Soccorso,
    Art110,
}

impl Kind {
    fn segment(self) -> &'static str {
        match self {
            Kind::Soccorso => "soccorsi",
            Kind::Art110 => "art110",
        }
    }
}

/// One request as the page shows it.
pub struct Item {
    pub id: String,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub request: String,
    pub requested_iso: String,
    pub requested: String,
    pub deadline_iso: String,
    pub deadline: String,
    pub status: &'static str,
    pub status_badge: &'static str,
    pub answer: Option<String>,
    pub answered: Option<(String, String)>,
    pub outcome: Option<String>,
    pub outcome_reason: Option<String>,
    pub outcome_at: Option<(String, String)>,
    /// Where the answer form posts while the request is open.
    pub action: Option<String>,
    /// The domain's refusal of the last answer to this request, and the text sent.
    pub error: Option<String>,
    pub draft: String,
}

/// The requests of one scope: the tender, or one of its lots.
pub struct Scope {
    pub lotto: Option<i32>,
    pub lotto_id: String,
    pub items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "supplier/richieste.html")]
struct RequestsPage {
    chrome: crate::chrome::Chrome,
    bando_id: String,
    oggetto: String,
    scopes: Vec<Scope>,
    outcome: Option<String>,
}

impl RequestsPage {
    fn empty(&self) -> bool {
        self.scopes.iter().all(|s| s.items.is_empty())
    }
}

#[derive(Debug, Deserialize)]
struct ShowQuery {
    esito: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    risposta: String,
    /// The lot the request is about, for a tender with lots.
    #[serde(default)]
    lotto: String,
}

/// A refusal to show next to its request: which one, the message, the text sent.
struct Refusal {
    id: Uuid,
    message: String,
    draft: String,
}

fn parse_id(raw: &str, what: &str) -> Result<Uuid, PortalError> {
    Uuid::parse_str(raw).map_err(|_| PortalError::not_found(what))
}

fn both(at: &chrono::DateTime<chrono::Utc>) -> (String, String) {
    (forms::iso(at), forms::rome(at))
}

fn soccorso_outcome(o: &str) -> String {
    match o {
        "accepted" => "Integrazione accolta: il concorrente è ammesso".into(),
        "rejected" => "Integrazione non accolta: il concorrente è escluso".into(),
        "expired" => "Nessuna risposta entro il termine: l'esclusione è stata proposta al RUP".into(),
        other => other.into(),
    }
}

fn art110_outcome(o: &str) -> String {
    match o {
        "accepted" => "Spiegazioni accolte: l'offerta è ritenuta congrua".into(),
        "excluded" => "Spiegazioni non accolte: l'offerta è esclusa perché anormalmente bassa".into(),
        "expired" => "Nessuna spiegazione entro il termine: l'esclusione è stata proposta al RUP".into(),
        other => other.into(),
    }
}

/// How a request reads: decided, answered and waiting for the RUP, past its term, or open
/// (only then the form; the POST is still judged by the domain).
fn status(
    outcome: &Option<String>,
    answered: bool,
    deadline: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> (&'static str, &'static str, bool) {
    match (outcome, answered) {
        (Some(_), _) => ("Decisa dal RUP", "bg-secondary", false),
        (None, true) => ("Risposta inviata: in attesa della decisione del RUP", "bg-info", false),
        (None, false) if now >= deadline => ("Termine scaduto", "bg-danger", false),
        (None, false) => ("Aperta: in attesa della risposta", "bg-warning text-dark", true),
    }
}

#[allow(clippy::too_many_arguments)]
fn item(
    kind: Kind,
    bando: Uuid,
    id: Uuid,
    title: &'static str,
    detail: Option<String>,
    request: &str,
    requested_at: chrono::DateTime<chrono::Utc>,
    deadline: chrono::DateTime<chrono::Utc>,
    answer: &Option<String>,
    answered_at: Option<chrono::DateTime<chrono::Utc>>,
    outcome: Option<String>,
    outcome_reason: &Option<String>,
    outcome_at: Option<chrono::DateTime<chrono::Utc>>,
    raw_outcome: &Option<String>,
    now: chrono::DateTime<chrono::Utc>,
    refused: Option<&Refusal>,
) -> Item {
    let (status, status_badge, open) = status(raw_outcome, answered_at.is_some(), deadline, now);
    let (requested_iso, requested) = both(&requested_at);
    let (deadline_iso, deadline_rome) = both(&deadline);
    let mine = refused.filter(|r| r.id == id);
    Item {
        id: id.to_string(),
        kind: kind.segment(),
        title,
        detail,
        request: request.to_string(),
        requested_iso,
        requested,
        deadline_iso,
        deadline: deadline_rome,
        status,
        status_badge,
        answer: answer.clone(),
        answered: answered_at.as_ref().map(both),
        outcome,
        outcome_reason: outcome_reason.clone(),
        outcome_at: outcome_at.as_ref().map(both),
        action: open.then(|| format!("{}/{}/{id}", path(bando), kind.segment())),
        error: mine.map(|r| r.message.clone()),
        draft: mine.map(|r| r.draft.clone()).unwrap_or_default(),
    }
}

fn soccorso_item(bando: Uuid, s: &Soccorso, now: chrono::DateTime<chrono::Utc>, refused: Option<&Refusal>) -> Item {
    item(
        Kind::Soccorso,
        bando,
        s.id,
        "Soccorso istruttorio (art. 101)",
        Some(format!("Busta {} · termine di {} giorni", s.envelope, s.days)),
        &s.request,
        s.requested_at,
        s.deadline,
        &s.answer,
        s.answered_at,
        s.outcome.as_deref().map(soccorso_outcome),
        &s.outcome_reason,
        s.outcome_at,
        &s.outcome,
        now,
        refused,
    )
}

fn art110_item(bando: Uuid, a: &Art110, now: chrono::DateTime<chrono::Utc>, refused: Option<&Refusal>) -> Item {
    item(
        Kind::Art110,
        bando,
        a.id,
        "Spiegazioni sull'offerta anormalmente bassa (art. 110)",
        None,
        &a.request,
        a.requested_at,
        a.deadline,
        &a.answer,
        a.answered_at,
        a.outcome.as_deref().map(art110_outcome),
        &a.outcome_reason,
        a.outcome_at,
        &a.outcome,
        now,
        refused,
    )
}

/// The tender's subject and, per scope the supplier bid in, the domain's view of it (its own
/// rows only). Scopes where the domain refuses the supplier (a lot it did not bid on) are left
/// out; refused everywhere, the domain's 403 stands.
type Views = (String, Vec<(Option<i32>, Option<Uuid>, procedure::model::Procedura)>);

async fn load(
    state: &api::AppState,
    rid: &api::request_id::RequestId,
    who: &accounts::Principal,
    bando_id: Uuid,
) -> Result<Views, PortalError> {
    let who = who.clone();
    let ctx = state.audit_ctx(Some(who.user_id), rid);
    Ok(state
        .db(move |conn| {
            let b = bando::service::get_public(conn, Some(&who), bando_id)?;
            let lots = bando::store::lots(conn, bando_id)?;
            let scopes: Vec<(Option<i32>, Option<Uuid>)> = if lots.is_empty() {
                vec![(None, None)]
            } else {
                lots.iter().map(|l| (Some(l.numero), Some(l.id))).collect()
            };
            let mut out = Vec::new();
            let mut refusal = None;
            for (numero, lot) in scopes {
                let scope = procedure::scope(conn, bando_id, lot)?;
                match procedure::view(conn, &ctx, &who, scope) {
                    Ok(p) => out.push((numero, lot, p)),
                    Err(e @ ProcedureError::Forbidden) => refusal = Some(e),
                    Err(e) => return Err(e),
                }
            }
            match (out.is_empty(), refusal) {
                (true, Some(e)) => Err(e),
                _ => Ok((b.oggetto, out)),
            }
        })
        .await?)
}

async fn page(
    state: &web::Data<api::AppState>,
    rid: &api::request_id::RequestId,
    visitor: &Visitor,
    bando_id: Uuid,
    outcome: Option<String>,
    refused: Option<Refusal>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier(&path(bando_id))?.clone();
    let now = state.clock.now();
    let (oggetto, views) = load(state, rid, &who, bando_id).await?;
    let scopes = views
        .into_iter()
        .map(|(lotto, lot, p)| {
            let mut items: Vec<Item> = p
                .soccorsi
                .iter()
                .map(|s| soccorso_item(bando_id, s, now, refused.as_ref()))
                .chain(p.art110.iter().map(|a| art110_item(bando_id, a, now, refused.as_ref())))
                .collect();
            items.sort_by(|a, b| a.requested_iso.cmp(&b.requested_iso));
            Scope {
                lotto,
                lotto_id: lot.map(|l| l.to_string()).unwrap_or_default(),
                items,
            }
        })
        .collect();
    let chrome = super::chrome(visitor, "Richieste della stazione appaltante");
    super::super::render_status(
        visitor,
        &RequestsPage {
            chrome,
            bando_id: bando_id.to_string(),
            oggetto,
            scopes,
            outcome,
        },
        status,
    )
}

async fn show(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path_id: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, PortalError> {
    let raw = path_id.into_inner();
    visitor.require_supplier(&format!("/fornitore/bandi/{raw}/richieste"))?;
    let id = parse_id(&raw, "Bando")?;
    let outcome = match q.esito.as_deref() {
        Some("soccorsi") => Some(
            "Risposta al soccorso istruttorio inviata e registrata con data e ora: il RUP deciderà sull'ammissione."
                .to_string(),
        ),
        Some("art110") => Some(
            "Spiegazioni inviate e registrate con data e ora: il RUP valuterà la congruità dell'offerta.".to_string(),
        ),
        _ => None,
    };
    page(&state, &rid, &visitor, id, outcome, None, StatusCode::OK).await
}

async fn answer_soccorso(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    p: web::Path<(String, String)>,
    form: web::Form<AnswerForm>,
) -> Result<HttpResponse, PortalError> {
    answer(state, rid, visitor, p.into_inner(), form.into_inner(), Kind::Soccorso).await
}

async fn answer_art110(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    p: web::Path<(String, String)>,
    form: web::Form<AnswerForm>,
) -> Result<HttpResponse, PortalError> {
    answer(state, rid, visitor, p.into_inner(), form.into_inner(), Kind::Art110).await
}

async fn answer(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    (raw, raw_sid): (String, String),
    form: AnswerForm,
    kind: Kind,
) -> Result<HttpResponse, PortalError> {
    let who = visitor
        .require_supplier(&format!("/fornitore/bandi/{raw}/richieste"))?
        .clone();
    visitor.check_csrf(&form.csrf)?;
    let id = parse_id(&raw, "Bando")?;
    let sid = parse_id(&raw_sid, "Richiesta")?;
    let lot = match form.lotto.trim() {
        "" => None,
        l => Some(parse_id(l, "Lotto")?),
    };
    let input = Answer {
        answer: form.risposta.clone(),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let p = who.clone();
    let done = state
        .db(move |conn| {
            let scope = procedure::scope(conn, id, lot)?;
            match kind {
                Kind::Soccorso => admission::answer_soccorso(conn, &ctx, &p, scope, sid, &input).map(|_| ()),
                Kind::Art110 => evaluation::answer_art110(conn, &ctx, &p, scope, sid, &input).map(|_| ()),
            }
        })
        .await;
    let success = || {
        super::super::see_other(&format!(
            "{}?{}#richiesta-{sid}",
            path(id),
            pair("esito", kind.segment())
        ))
    };
    match done {
        Ok(()) => Ok(success()),
        // Refused (term over, already answered, empty text): the page again with the message
        // next to the request, nothing changed. A second click of the same answer finds it
        // already given with this very text and reads as the first one's outcome.
        Err(e)
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::FORBIDDEN =>
        {
            if e.status == StatusCode::CONFLICT && already_sent(&state, &rid, &who, id, sid, &form.risposta).await? {
                return Ok(success());
            }
            let status = e.status;
            let refused = Refusal {
                id: sid,
                message: e.message.clone(),
                draft: form.risposta,
            };
            page(&state, &rid, &visitor, id, None, Some(refused), status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether request `sid` already carries `text` as its answer (the double click).
async fn already_sent(
    state: &api::AppState,
    rid: &api::request_id::RequestId,
    who: &accounts::Principal,
    bando_id: Uuid,
    sid: Uuid,
    text: &str,
) -> Result<bool, PortalError> {
    let (_, views) = load(state, rid, who, bando_id).await?;
    let text = text.trim();
    Ok(views.iter().any(|(_, _, p)| {
        p.soccorsi
            .iter()
            .any(|s| s.id == sid && s.outcome.is_none() && s.answer.as_deref() == Some(text))
            || p.art110
                .iter()
                .any(|a| a.id == sid && a.outcome.is_none() && a.answer.as_deref() == Some(text))
    }))
}
