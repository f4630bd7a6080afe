//! `/ente/bandi/{id}/apertura`: the opening session (issue 13 point 3). For each envelope kind,
//! in the domain's order, the custodians' shares received (k of n, who, when: they submit them
//! on their own page, `official::custody`), the button that opens it when the domain would,
//! and each opening's outcome; after the deadline the bids received with each receipt's
//! digest and time; the files of each opened envelope, linked only for whoever the domain lets
//! read them (B only to the declared commission under OEPV: never to the RUP at lowest price).
//!
//! The same functions as the API: `offerte::opening::{session, list, plaintext_path, open}`
//! with `aggiudicazione::procedure::order::TechnicalGate`, so time, order and roles are the
//! seal's.

use std::collections::HashMap;

use accounts::Role;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use offerte::opening::{self, Opening, OpeningRequest, Session};
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{rome, url_encode};
use crate::pages::official;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show_page).service(open_kind);
}

/// The form that opens envelope `kind` (A, B or C).
pub fn open_path(id: Uuid, kind: &str) -> String {
    format!("{}/{kind}", official::opening(id))
}

pub struct ShareRow {
    pub custodian: String,
    pub at: String,
}

pub struct KindView {
    pub kind: String,
    pub title: &'static str,
    pub k: usize,
    pub n: usize,
    pub shares: Vec<ShareRow>,
    pub opened: bool,
    /// The button is there: the domain would open it now, with enough shares, for this person.
    pub can_open: bool,
    /// Why it cannot be opened now, in the domain's words.
    pub waiting: Option<String>,
    /// The domain's refusal of the last attempt from this page.
    pub error: Option<String>,
    pub outcome: Option<OutcomeView>,
}

pub struct OutcomeView {
    pub at: String,
    pub by: String,
    pub shares_used: u32,
    pub leaf_hash: String,
    pub envelopes: Vec<OpenedRow>,
}

pub struct FileLink {
    pub name: String,
    pub href: String,
    pub size: u64,
    pub sha256: String,
}

pub struct OpenedRow {
    pub bidder: String,
    pub sha256: String,
    pub plaintext_sha256: String,
    /// Why the envelope could not be decrypted, or its archive was refused.
    pub problem: Option<String>,
    /// None when the reader may not see the content (with the domain's reason in `reserved`).
    pub files: Vec<FileLink>,
    pub body_href: Option<String>,
    pub offer: Option<String>,
    pub reserved: Option<String>,
}

pub struct ReceivedRow {
    pub bidder: String,
    pub lot: String,
    pub kind: String,
    pub sha256: String,
    pub leaf_hash: String,
    pub at: String,
    pub iso: String,
}

#[derive(Template)]
#[template(path = "official/apertura-seduta.html")]
struct SessionPage {
    chrome: Chrome,
    id: Uuid,
    oggetto: String,
    criterion: String,
    deadline: Option<String>,
    session_at: Option<String>,
    /// The session has not begun: the page says when, and offers no button.
    before_session: bool,
    kinds: Vec<KindView>,
    received: Vec<ReceivedRow>,
    /// The tender has lots: the table says each bid's.
    with_lots: bool,
    deadline_passed: bool,
    outcome: Option<String>,
    /// A refusal that belongs to no kind of this tender (e.g. a kind it does not have).
    general_error: Option<String>,
    custody_href: String,
    evaluation_href: String,
    tender_href: String,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    aperta: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OpenForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// What the page reads, in one blocking call: the session (which checks the reader's role in
/// the ente first), the openings, per opened envelope whether the reader may see it, names.
struct Loaded {
    session: Session,
    openings: Vec<Opening>,
    entitled: HashMap<Uuid, Result<(), String>>,
    names: HashMap<Uuid, String>,
    oggetto: String,
    criterion: String,
    ente: Uuid,
    /// The tender's lots (id, number); empty without lots.
    lots: Vec<(Uuid, i32)>,
}

fn name_of(names: &HashMap<Uuid, String>, id: &Uuid) -> String {
    names
        .get(id)
        .cloned()
        .unwrap_or_else(|| format!("Offerente {}", &id.to_string()[..8]))
}

fn offer_text(v: &serde_json::Value) -> String {
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        return format!("offerta non leggibile: {e}");
    }
    let mut parts = Vec::new();
    if let Some(d) = v.get("discount").and_then(|d| d.as_str()) {
        parts.push(format!("ribasso {} %", d.replace('.', ",")));
    }
    if let Some(p) = v.get("price").and_then(|d| d.as_str()) {
        parts.push(format!("prezzo {} €", p.replace('.', ",")));
    }
    if let Some(l) = v.get("labour_costs").and_then(|d| d.as_str()) {
        parts.push(format!("costi della manodopera {} €", l.replace('.', ",")));
    }
    if let Some(s) = v.get("safety_costs").and_then(|d| d.as_str()) {
        parts.push(format!("oneri della sicurezza aziendali {} €", s.replace('.', ",")));
    }
    parts.join("; ")
}

async fn load(state: &web::Data<api::AppState>, who: accounts::Principal, id: Uuid) -> Result<Loaded, PortalError> {
    let now = state.clock.now();
    let svc = state.seal.clone();
    Ok(state
        .db(move |conn| -> Result<Loaded, api::ApiError> {
            let session = opening::session(conn, &who, id, now, &aggiudicazione::procedure::order::TechnicalGate)?;
            let row = bando::store::find(conn, id)?;
            let openings = opening::list(conn, &who, id)?;
            let mut entitled = HashMap::new();
            for o in &openings {
                for e in &o.envelopes {
                    let may = match opening::plaintext_path(conn, &svc, &who, e.envelope_id) {
                        Ok(_) => Ok(()),
                        Err(offerte::OfferteError::Database(d)) => {
                            return Err(offerte::OfferteError::Database(d).into())
                        }
                        Err(refused) => Err(refused.to_string()),
                    };
                    entitled.insert(e.envelope_id, may);
                }
            }
            let mut bidders: Vec<Uuid> = session.received.iter().map(|r| r.bidder_id).collect();
            bidders.extend(openings.iter().flat_map(|o| o.envelopes.iter().map(|e| e.bidder_id)));
            bidders.sort();
            bidders.dedup();
            // Who bid is known from the deadline on (the session reads the bids only then).
            let mut names: HashMap<Uuid, String> = registry::operatori::public_identities(conn, &bidders)?
                .into_iter()
                .map(|(u, (r, _))| (u, r))
                .collect();
            for u in accounts::users::members(conn, &who, row.ente_id)? {
                let shown = if u.full_name.trim().is_empty() {
                    u.email.clone()
                } else {
                    format!("{} ({})", u.full_name, u.email)
                };
                names.entry(u.id).or_insert(shown);
            }
            Ok(Loaded {
                session,
                openings,
                entitled,
                names,
                oggetto: row.oggetto.clone(),
                criterion: crate::labels::criterion(row.award_criterion()).to_string(),
                ente: row.ente_id,
                lots: bando::store::lots(conn, id)?.iter().map(|l| (l.id, l.numero)).collect(),
            })
        })
        .await?)
}

/// The page, with `refused` (kind, message) next to its kind after a refused attempt.
async fn render_page(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    id: Uuid,
    outcome: Option<String>,
    refused: Option<(String, String)>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let here = official::opening(id);
    let who = visitor.require_official(&here)?.clone();
    let l = load(state, who.clone(), id).await?;
    let now = state.clock.now();
    let may_act = who.is_admin() || who.has_role_in(Role::Rup, l.ente) || who.has_role_in(Role::Commission, l.ente);
    let before_session = l.session.session_at.is_none_or(|s| now < s);
    let kinds = l
        .session
        .kinds
        .iter()
        .map(|k| {
            let outcome = l.openings.iter().find(|o| o.kind == k.kind).map(|o| OutcomeView {
                at: rome(&o.opened_at),
                by: name_of(&l.names, &o.opened_by),
                shares_used: o.shares_used,
                leaf_hash: o.leaf_hash.clone(),
                envelopes: o
                    .envelopes
                    .iter()
                    .map(|e| {
                        let allowed = l.entitled.get(&e.envelope_id).cloned().unwrap_or(Err(String::new()));
                        let problem = e.error.clone().or_else(|| e.archive_error.clone());
                        let mut row = OpenedRow {
                            bidder: name_of(&l.names, &e.bidder_id),
                            sha256: e.sha256.clone(),
                            plaintext_sha256: e.plaintext_sha256.clone().unwrap_or_default(),
                            problem,
                            files: Vec::new(),
                            body_href: None,
                            offer: None,
                            reserved: None,
                        };
                        match allowed {
                            Ok(()) => {
                                match &e.files {
                                    Some(files) => {
                                        row.files = files
                                            .iter()
                                            .map(|f| FileLink {
                                                href: format!(
                                                    "/api/v1/buste/{}/file/{}",
                                                    e.envelope_id,
                                                    url_encode(&f.name)
                                                ),
                                                name: f.name.clone(),
                                                size: f.size,
                                                sha256: f.sha256.clone(),
                                            })
                                            .collect()
                                    }
                                    None if e.plaintext_sha256.is_some() => {
                                        row.body_href = Some(format!("/api/v1/buste/{}/contenuto", e.envelope_id))
                                    }
                                    None => {}
                                }
                                row.offer = e.economic_offer.as_ref().map(offer_text);
                            }
                            // The domain's reason, and nothing of the content, not even its
                            // file names or its plaintext digest.
                            Err(reason) => {
                                row.plaintext_sha256 = String::new();
                                row.reserved = Some(if reason.is_empty() {
                                    "Contenuto riservato".to_string()
                                } else {
                                    reason
                                })
                            }
                        }
                        row
                    })
                    .collect(),
            });
            let ready = k.refusal.is_none() && k.shares.len() >= k.k;
            let waiting = match &k.refusal {
                Some((_, m)) if !k.opened => Some(m.clone()),
                None if !k.opened && !ready => Some(format!(
                    "In attesa delle quote dei custodi: presentate {} di {} necessarie",
                    k.shares.len(),
                    k.k
                )),
                _ => None,
            };
            KindView {
                kind: k.kind.clone(),
                title: crate::labels::envelope(&k.kind),
                k: k.k,
                n: k.n,
                shares: k
                    .shares
                    .iter()
                    .map(|(u, at)| ShareRow {
                        custodian: name_of(&l.names, u),
                        at: rome(at),
                    })
                    .collect(),
                opened: k.opened,
                can_open: may_act && !k.opened && ready && !before_session,
                waiting,
                error: refused
                    .as_ref()
                    .filter(|(kind, _)| *kind == k.kind)
                    .map(|(_, m)| m.clone()),
                outcome,
            }
        })
        .collect();
    let received = l
        .session
        .received
        .iter()
        .map(|r| ReceivedRow {
            bidder: name_of(&l.names, &r.bidder_id),
            lot: r
                .lotto_id
                .and_then(|x| l.lots.iter().find(|(id, _)| *id == x))
                .map(|(_, n)| format!("Lotto {n}"))
                .unwrap_or_default(),
            kind: r.kind.clone(),
            sha256: r.sha256.clone(),
            leaf_hash: r.leaf_hash.clone(),
            at: rome(&r.received_at),
            iso: r.received_at.to_rfc3339(),
        })
        .collect();
    let general_error = refused
        .as_ref()
        .filter(|(kind, _)| !l.session.kinds.iter().any(|k| k.kind == *kind))
        .map(|(_, m)| m.clone());
    let chrome = Chrome::new(visitor, "Seduta di apertura delle offerte", Section::Ente)
        .crumb("Area ente", Some(official::DASHBOARD))
        .crumb("Bandi", Some(official::TENDERS))
        .crumb(l.oggetto.clone(), Some(&official::tender(id)))
        .crumb("Seduta di apertura", None);
    let page = SessionPage {
        chrome,
        id,
        oggetto: l.oggetto,
        criterion: l.criterion,
        deadline: l.session.deadline.as_ref().map(rome),
        session_at: l.session.session_at.as_ref().map(rome),
        deadline_passed: l.session.deadline.is_some_and(|d| d <= now),
        before_session,
        kinds,
        received,
        with_lots: !l.lots.is_empty(),
        outcome,
        general_error,
        custody_href: official::custody(id),
        evaluation_href: official::evaluation(id),
        tender_href: official::tender(id),
    };
    crate::pages::render_status(visitor, &page, status)
}

#[get("/ente/bandi/{id}/apertura")]
async fn show_page(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    id: web::Path<Uuid>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PortalError> {
    let outcome = q
        .aperta
        .as_deref()
        .filter(|k| ["A", "B", "C"].contains(k))
        .map(|k| format!("Busta {k} aperta: l'apertura è registrata nel log della piattaforma."));
    render_page(&state, &visitor, id.into_inner(), outcome, None, StatusCode::OK).await
}

#[post("/ente/bandi/{id}/apertura/{kind}")]
async fn open_kind(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(Uuid, String)>,
    form: web::Form<OpenForm>,
) -> Result<HttpResponse, PortalError> {
    let (id, kind) = path.into_inner();
    let who = visitor.require_official(&official::opening(id))?.clone();
    visitor.check_csrf(&form.csrf)?;
    let svc = state.seal.clone();
    let clock = state.clock.clone();
    let request_id = rid.0.clone();
    let k = kind.clone();
    let outcome = state
        .db(move |conn| {
            opening::open(
                conn,
                &svc,
                clock.as_ref(),
                &request_id,
                &who,
                id,
                &k,
                &OpeningRequest {},
                &aggiudicazione::procedure::order::TechnicalGate,
            )
        })
        .await;
    let done = format!("{}?aperta={}", official::opening(id), url_encode(&kind));
    match outcome {
        Ok(_) => Ok(crate::pages::see_other(&done)),
        // The second click of a double click waited for the first and finds it opened: the
        // same outcome page, and the envelope was opened once.
        Err(e) if e.code == "already_opened" => Ok(crate::pages::see_other(&done)),
        Err(e)
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::FORBIDDEN =>
        {
            let status = e.status;
            render_page(&state, &visitor, id, None, Some((kind, e.message)), status).await
        }
        Err(e) => Err(e.into()),
    }
}
