//! `/ente/bandi/{id}/commissione`: the commissione giudicatrice of an OEPV tender (art. 93,
//! issue 13 point 4). The RUP appoints it among the ente's officials who hold the commission
//! role; each member records his declaration of no incompatibility (art. 93 c.5, art. 16);
//! once envelope B is open and every member has declared, each member reads the technical
//! offers and enters his own coefficients per criterion per offer; the president (or the RUP)
//! closes the technical phase and the page shows the engine's scores.
//!
//! Every act is the function the API calls for it (`aggiudicazione::procedure::commission`),
//! so who may act, in which state and with which values is the domain's: the page only shows
//! the forms the visitor's position makes meaningful, and says the domain's refusal next to
//! the form that caused it.

use std::collections::BTreeMap;

use accounts::users::{self, User};
use accounts::{Principal, Role};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use aggiudicazione::procedure::{
    self as procedure, commission, CoefficientsInput, CommissionAppointment, Declaration, Procedura,
};
use askama::Template;
use bando::CriterionKind;
use db::audit::AuditCtx;
use diesel::PgConnection;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{rome, FieldErrors};
use crate::labels;
use crate::pages::official;
use crate::pages::official::lotti::{self, LotLink, Scope};
use crate::pages::public::{query, uuid};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show)
        .service(appoint)
        .service(declare)
        .service(coefficients)
        .service(close);
}

/// The field of a coefficient in the form, by criterion code (`c_T1`).
const COEFFICIENT_FIELD: &str = "c_";

fn appoint_path(id: Uuid) -> String {
    format!("{}/nomina", official::commission(id))
}
fn declare_path(id: Uuid) -> String {
    format!("{}/dichiarazione", official::commission(id))
}
fn coefficients_path(id: Uuid) -> String {
    format!("{}/coefficienti", official::commission(id))
}
fn close_path(id: Uuid) -> String {
    format!("{}/chiusura", official::commission(id))
}

/// Which form a refusal belongs to, so its message is shown next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Appointment,
    Declaration,
    Offer(Uuid),
    Closing,
}

#[derive(Debug, Clone)]
struct Refusal {
    target: Target,
    errors: FieldErrors,
    /// What was typed, shown again (coefficients: by criterion code).
    typed: BTreeMap<String, String>,
}

pub struct MemberRow {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub president: bool,
    pub declared_at: Option<String>,
    pub declaration: Option<String>,
}

pub struct Candidate {
    pub id: String,
    pub label: String,
}

pub struct FileLink {
    pub name: String,
    pub href: String,
    pub size: u64,
    pub sha256: String,
}

pub struct EnvelopeRow {
    pub bidder: String,
    pub envelope_id: String,
    /// The envelope's own files when it is an archive; else the whole content's link.
    pub files: Vec<FileLink>,
    pub whole: String,
}

pub struct Leaf {
    pub code: String,
    pub description: String,
    pub weight: String,
    pub discretionary: bool,
    pub kind: String,
}

pub struct CoefficientCell {
    pub code: String,
    pub description: String,
    pub value: String,
    pub error: Option<String>,
}

pub struct OfferForm {
    pub bidder_id: String,
    pub bidder: String,
    pub cells: Vec<CoefficientCell>,
    pub general: Vec<String>,
    pub entered: bool,
}

pub struct RawRow {
    pub bidder: String,
    pub criterion: String,
    pub commissioner: String,
    pub value: String,
    pub at: String,
}

pub struct ScoreRow {
    pub bidder: String,
    pub points: Vec<(String, String)>,
    pub before: String,
    pub total: String,
    pub admitted: bool,
}

#[derive(Template)]
#[template(path = "official/commissione-page.html")]
struct CommissionPage {
    chrome: Chrome,
    oggetto: String,
    state: &'static str,
    oepv: bool,
    outcome: Option<String>,
    appoint_action: String,
    declare_action: String,
    coefficients_action: String,
    close_action: String,
    members: Vec<MemberRow>,
    all_declared: bool,
    is_rup: bool,
    is_member: bool,
    is_president: bool,
    my_declared: bool,
    candidates: Vec<Candidate>,
    appointment_error: Vec<String>,
    errors: FieldErrors,
    declaration_text: String,
    envelopes: Vec<EnvelopeRow>,
    envelopes_unavailable: Option<String>,
    leaves: Vec<Leaf>,
    offers: Vec<OfferForm>,
    closed_at: Option<String>,
    closing_error: Vec<String>,
    raw: Vec<RawRow>,
    scores: Vec<ScoreRow>,
    timeline: String,
    evaluation: String,
    lots: Vec<LotLink>,
    lot_heading: Option<String>,
}

const DECLARATION_TEXT: &str = "Dichiaro, ai sensi dell'art. 93 c.5 e dell'art. 16 del d.lgs. 36/2023, l'assenza di cause di incompatibilità e di conflitti di interesse rispetto agli operatori economici partecipanti alla procedura.";

/// What the page reads, in one visit to the database.
struct Loaded {
    procedura: Procedura,
    lot: Option<bando::store::LottoRow>,
    lots: Vec<bando::store::LottoRow>,
    oggetto: String,
    oepv: Option<bando::Oepv>,
    names: BTreeMap<Uuid, User>,
    is_rup: bool,
    candidates: Vec<User>,
    envelopes: Result<Vec<(Uuid, Uuid, Vec<offerte::archive::ArchiveFile>)>, String>,
}

fn load(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    svc: &offerte::SealService,
    who: &Principal,
    id: Uuid,
    lotto: Option<Uuid>,
) -> Result<Result<Loaded, (String, Vec<bando::store::LottoRow>)>, api::ApiError> {
    let (scope, lot, lots) = match lotti::resolve(conn, id, lotto)? {
        Scope::One { scope, lot, lots } => (scope, lot, lots),
        Scope::Choose(lots) => {
            // The first lot's view refuses whoever is not of the ente or a bidder.
            procedure::view(conn, ctx, who, lots[0].id)?;
            return Ok(Err((bando::store::find(conn, id)?.oggetto, lots)));
        }
    };
    let procedura = procedure::view(conn, ctx, who, scope)?;
    let row = bando::store::find(conn, id)?;
    let is_rup = bando::service::require_manager(who, row.ente_id).is_ok();
    let mut names = BTreeMap::new();
    let people = procedura
        .commission
        .iter()
        .map(|m| m.user_id)
        .chain(procedura.participants.iter().map(|p| p.bidder_id))
        .chain(procedura.coefficients.iter().map(|c| c.commissioner_id));
    for u in people {
        if let std::collections::btree_map::Entry::Vacant(e) = names.entry(u) {
            e.insert(users::get(conn, u)?);
        }
    }
    let candidates = if is_rup && procedura.commission.is_empty() {
        users::members(conn, who, row.ente_id)?
            .into_iter()
            .filter(|u| {
                u.active
                    && u.roles
                        .iter()
                        .any(|g| g.role == Role::Commission && g.ente_id == Some(row.ente_id))
            })
            .collect()
    } else {
        Vec::new()
    };
    let member = procedura.commission.iter().any(|m| m.user_id == who.user_id);
    let envelopes = if member {
        match commission::envelopes_b(conn, who, scope) {
            Ok(list) => {
                let mut out = Vec::new();
                for (envelope, bidder, _) in list {
                    // A single-body envelope has no file list: the whole content is the link.
                    let files = offerte::opening::archive_files(conn, svc, who, envelope).unwrap_or_default();
                    out.push((envelope, bidder, files));
                }
                Ok(out)
            }
            Err(e) => Err(api::ApiError::from(e).message),
        }
    } else {
        Err(String::new())
    };
    Ok(Ok(Loaded {
        procedura,
        lot,
        lots,
        oggetto: row.oggetto.clone(),
        oepv: row.oepv(),
        names,
        is_rup,
        candidates,
        envelopes,
    }))
}

fn label(names: &BTreeMap<Uuid, User>, id: Uuid) -> String {
    names
        .get(&id)
        .map_or_else(|| id.to_string(), |u| format!("{} ({})", u.full_name, u.email))
}

fn decimal_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn outcome_message(code: &str) -> Option<&'static str> {
    match code {
        "nominata" => Some("Commissione nominata: ogni componente deve rendere la dichiarazione (art. 93 c.5)."),
        "dichiarata" => Some("Dichiarazione registrata."),
        "coefficienti" => {
            Some("Coefficienti registrati: restano modificabili fino alla chiusura della valutazione tecnica.")
        }
        "chiusa" => Some("Valutazione tecnica chiusa: i punteggi tecnici sono quelli calcolati qui sotto."),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
struct OutcomeQuery {
    esito: Option<String>,
    lotto: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &web::Data<api::AppState>,
    rid: &api::request_id::RequestId,
    visitor: &Visitor,
    id: Uuid,
    lotto: Option<Uuid>,
    outcome: Option<String>,
    refused: Option<Refusal>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let here = lotti::with_lot(&official::commission(id), lotto, &[]);
    let who = visitor.require_official(&here)?.clone();
    let me = who.user_id;
    let ctx = state.audit_ctx(Some(me), rid);
    let svc = state.seal.clone();
    let l = match state.db(move |conn| load(conn, &ctx, &svc, &who, id, lotto)).await? {
        Ok(l) => l,
        Err((oggetto, lots)) => {
            let chrome = Chrome::new(visitor, "Commissione giudicatrice", Section::Ente)
                .crumb("Area ente", Some(official::DASHBOARD))
                .crumb("Bandi", Some(official::TENDERS))
                .crumb(oggetto.clone(), Some(official::tender(id).as_str()))
                .crumb("Commissione giudicatrice", None);
            let page = lotti::ChoosePage {
                chrome,
                title: "Commissione giudicatrice",
                oggetto,
                lots: lotti::links(&official::commission(id), &lots, None),
                tender_href: official::tender(id),
            };
            return super::super::render_status(visitor, &page, status);
        }
    };
    let p = &l.procedura;
    let for_target = |t: Target| refused.as_ref().filter(|r| r.target == t);
    let members: Vec<MemberRow> = p
        .commission
        .iter()
        .map(|m| {
            let u = l.names.get(&m.user_id);
            MemberRow {
                user_id: m.user_id.to_string(),
                name: u.map_or_else(String::new, |u| u.full_name.clone()),
                email: u.map_or_else(|| m.user_id.to_string(), |u| u.email.clone()),
                president: m.president,
                declared_at: m.declared_at.as_ref().map(rome),
                declaration: m.declaration.clone(),
            }
        })
        .collect();
    let mine = p.commission.iter().find(|m| m.user_id == me);
    let closed_at = p
        .evaluation
        .as_ref()
        .and_then(|e| e.technical_closed_at.as_ref())
        .map(rome);
    let leaves: Vec<Leaf> = l
        .oepv
        .as_ref()
        .map(|o| {
            commission::leaves(o)
                .into_iter()
                .map(|c| Leaf {
                    code: c.code.clone(),
                    description: c.description.clone(),
                    weight: c.weight.normalize().to_string(),
                    discretionary: c.kind == CriterionKind::Discretionary,
                    kind: match c.kind {
                        CriterionKind::Discretionary => "discrezionale",
                        CriterionKind::Quantitative => "quantitativo (calcolato dalla busta B)",
                        CriterionKind::Tabular => "tabellare (calcolato dalla busta B)",
                    }
                    .into(),
                })
                .collect()
        })
        .unwrap_or_default();
    // Each member's own latest values (every entry is kept; the latest counts).
    let mut own: BTreeMap<(Uuid, String), Decimal> = BTreeMap::new();
    for c in p.coefficients.iter().filter(|c| c.commissioner_id == me) {
        own.insert((c.bidder_id, c.criterion.clone()), c.coefficient);
    }
    let offers: Vec<OfferForm> = p
        .participants
        .iter()
        .filter(|x| x.status == "admitted")
        .map(|x| {
            let r = for_target(Target::Offer(x.bidder_id));
            let cells = leaves
                .iter()
                .filter(|c| c.discretionary)
                .map(|c| CoefficientCell {
                    code: c.code.clone(),
                    description: c.description.clone(),
                    value: r
                        .and_then(|r| r.typed.get(&c.code).cloned())
                        .or_else(|| {
                            own.get(&(x.bidder_id, c.code.clone()))
                                .map(|v| v.normalize().to_string().replace('.', ","))
                        })
                        .unwrap_or_default(),
                    error: r.and_then(|r| r.errors.get(&format!("coefficients.{}", c.code)).map(str::to_string)),
                })
                .collect::<Vec<_>>();
            let shown: Vec<String> = cells.iter().map(|c| format!("coefficients.{}", c.code)).collect();
            let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
            OfferForm {
                bidder_id: x.bidder_id.to_string(),
                bidder: label(&l.names, x.bidder_id),
                entered: own.keys().any(|(b, _)| *b == x.bidder_id),
                general: r.map(|r| r.errors.others(&shown)).unwrap_or_default(),
                cells,
            }
        })
        .collect();
    // Before the closing a member sees only his own coefficients (independent judgement);
    // after it, every raw value the engine averaged.
    let raw: Vec<RawRow> = if closed_at.is_some() {
        p.coefficients
            .iter()
            .map(|c| RawRow {
                bidder: label(&l.names, c.bidder_id),
                criterion: c.criterion.clone(),
                commissioner: label(&l.names, c.commissioner_id),
                value: c.coefficient.normalize().to_string().replace('.', ","),
                at: rome(&c.entered_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let scores: Vec<ScoreRow> = p
        .evaluation
        .as_ref()
        .and_then(|e| e.technical.as_ref())
        .and_then(|t| t["report"]["offers"].as_array())
        .map(|offers| {
            offers
                .iter()
                .map(|o| {
                    let bidder = o["id"]
                        .as_str()
                        .and_then(|s| s.parse::<Uuid>().ok())
                        .map_or_else(|| decimal_text(&o["id"]), |b| label(&l.names, b));
                    ScoreRow {
                        bidder,
                        points: o["criteria"]
                            .as_array()
                            .map(|cs| {
                                cs.iter()
                                    .map(|c| (decimal_text(&c["criterion"]), crate::forms::score_value(&c["points"])))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        before: crate::forms::score_value(&o["total_before_second_reparametrization"]),
                        total: crate::forms::score_value(&o["total"]),
                        admitted: o["admitted"].as_bool().unwrap_or(false),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let (envelopes, envelopes_unavailable) = match &l.envelopes {
        Ok(list) => (
            list.iter()
                .map(|(e, b, files)| EnvelopeRow {
                    bidder: label(&l.names, *b),
                    envelope_id: e.to_string(),
                    files: files
                        .iter()
                        .map(|f| FileLink {
                            href: format!("/api/v1/buste/{e}/file/{}", crate::forms::url_encode(&f.name)),
                            name: f.name.clone(),
                            size: f.size,
                            sha256: f.sha256.clone(),
                        })
                        .collect(),
                    whole: lotti::with_lot(&format!("/api/v1/bandi/{id}/valutazione/buste-b/{e}"), lotto, &[]),
                })
                .collect(),
            None,
        ),
        Err(why) if why.is_empty() => (Vec::new(), None),
        Err(why) => (Vec::new(), Some(why.clone())),
    };
    let decl = for_target(Target::Declaration);
    let chrome = Chrome::new(visitor, "Commissione giudicatrice", Section::Ente)
        .crumb("Area ente", Some(official::DASHBOARD))
        .crumb("Bandi", Some(official::TENDERS))
        .crumb(l.oggetto.clone(), Some(official::tender(id).as_str()))
        .crumb("Commissione giudicatrice", None);
    let page = CommissionPage {
        chrome,
        oggetto: l.oggetto.clone(),
        state: labels::state(p.state),
        oepv: l.oepv.is_some(),
        outcome,
        appoint_action: lotti::with_lot(&appoint_path(id), lotto, &[]),
        declare_action: lotti::with_lot(&declare_path(id), lotto, &[]),
        coefficients_action: lotti::with_lot(&coefficients_path(id), lotto, &[]),
        close_action: lotti::with_lot(&close_path(id), lotto, &[]),
        all_declared: !p.commission.is_empty() && p.commission.iter().all(|m| m.declared_at.is_some()),
        is_rup: l.is_rup,
        is_member: mine.is_some(),
        is_president: mine.is_some_and(|m| m.president),
        my_declared: mine.is_some_and(|m| m.declared_at.is_some()),
        members,
        candidates: l
            .candidates
            .iter()
            .map(|u| Candidate {
                id: u.id.to_string(),
                label: format!("{} ({})", u.full_name, u.email),
            })
            .collect(),
        appointment_error: for_target(Target::Appointment)
            .map(|r| r.errors.others(&[]))
            .unwrap_or_default(),
        errors: decl.map(|r| r.errors.clone()).unwrap_or_default(),
        declaration_text: decl
            .and_then(|r| r.typed.get("testo").cloned())
            .unwrap_or_else(|| DECLARATION_TEXT.to_string()),
        envelopes,
        envelopes_unavailable,
        leaves,
        offers,
        closed_at,
        closing_error: for_target(Target::Closing)
            .map(|r| r.errors.others(&[]))
            .unwrap_or_default(),
        raw,
        scores,
        timeline: official::timeline(id),
        evaluation: lotti::with_lot(&official::evaluation(id), lotto, &[]),
        lots: lotti::links(&official::commission(id), &l.lots, lotto),
        lot_heading: lotti::heading(&l.lot),
    };
    super::super::render_status(visitor, &page, status)
}

#[get("/ente/bandi/{id}/commissione")]
async fn show(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&id, "Bando")?;
    let q: OutcomeQuery = query(&req)?;
    let lotto = q.lotto.as_deref().map(|l| uuid(l, "Lotto")).transpose()?;
    let outcome = q.esito.as_deref().and_then(outcome_message).map(str::to_string);
    page(&state, &rid, &visitor, id, lotto, outcome, None, StatusCode::OK).await
}

/// The answer to an act: 303 to the page with its outcome, or the page again with the
/// domain's refusal next to the form (its 4xx). Server errors stay errors.
#[allow(clippy::too_many_arguments)]
async fn answer<T>(
    state: &web::Data<api::AppState>,
    rid: &api::request_id::RequestId,
    visitor: &Visitor,
    id: Uuid,
    lotto: Option<Uuid>,
    esito: &str,
    target: Target,
    typed: BTreeMap<String, String>,
    done: Result<T, api::ApiError>,
    same_outcome: &[&str],
) -> Result<HttpResponse, PortalError> {
    let outcome_page = lotti::with_lot(&official::commission(id), lotto, &[("esito", esito)]);
    match done {
        Ok(_) => Ok(super::super::see_other(&outcome_page)),
        // A second click on an act already done reads as the first one's outcome.
        Err(e) if same_outcome.contains(&e.code.as_str()) => Ok(super::super::see_other(&outcome_page)),
        Err(e)
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::FORBIDDEN =>
        {
            let status = e.status;
            let refusal = Refusal {
                target,
                errors: FieldErrors::from_api(&e),
                typed,
            };
            page(state, rid, visitor, id, lotto, None, Some(refusal), status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A form's fields as sent (repeated names kept: the members of the commission).
type Fields = web::Form<Vec<(String, String)>>;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// The lot of a form's address (`?lotto=`), for a tender with lots.
fn lot_of(req: &HttpRequest) -> Result<Option<Uuid>, PortalError> {
    let q: OutcomeQuery = query(req)?;
    q.lotto.as_deref().map(|l| uuid(l, "Lotto")).transpose()
}

fn csrf_of(fields: &[(String, String)]) -> &str {
    field(fields, "_csrf")
}

fn invalid(code: &str, field: &str, message: &str) -> api::ApiError {
    api::ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}

#[post("/ente/bandi/{id}/commissione/nomina")]
async fn appoint(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<String>,
    req: HttpRequest,
    form: Fields,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&id, "Bando")?;
    let lotto = lot_of(&req)?;
    let who = visitor
        .require_official(&lotti::with_lot(&official::commission(id), lotto, &[]))?
        .clone();
    visitor.check_csrf(csrf_of(&form))?;
    let parsed: Result<CommissionAppointment, api::ApiError> = (|| {
        let mut members = Vec::new();
        for (_, v) in form.iter().filter(|(k, _)| k == "componente") {
            members.push(
                Uuid::parse_str(v.trim())
                    .map_err(|_| invalid("commissioner_invalid", "members", "Commissario non valido"))?,
            );
        }
        let president = Uuid::parse_str(field(&form, "presidente").trim()).map_err(|_| {
            invalid(
                "president_required",
                "president",
                "Indicare il presidente della commissione",
            )
        })?;
        Ok(CommissionAppointment { members, president })
    })();
    let done = match parsed {
        Err(e) => Err(e),
        Ok(input) => {
            let ctx = state.audit_ctx(Some(who.user_id), &rid);
            let wanted = input.clone();
            state
                .db(move |conn| {
                    let id = procedure::scope(conn, id, lotto)?;
                    match commission::appoint(conn, &ctx, &who, id, &input) {
                        // The same commission sent twice (a double click) is the first act's outcome.
                        Err(procedure::ProcedureError::Conflict {
                            code: "commission_exists",
                            ..
                        }) => {
                            let p = procedure::view(conn, &ctx, &who, id)?;
                            let mut have: Vec<(Uuid, bool)> =
                                p.commission.iter().map(|m| (m.user_id, m.president)).collect();
                            let mut want: Vec<(Uuid, bool)> =
                                wanted.members.iter().map(|m| (*m, *m == wanted.president)).collect();
                            have.sort();
                            want.sort();
                            if have == want {
                                Ok(p)
                            } else {
                                Err(procedure::ProcedureError::conflict(
                                    "commission_exists",
                                    "La commissione è già stata nominata",
                                ))
                            }
                        }
                        other => other,
                    }
                })
                .await
        }
    };
    answer(
        &state,
        &rid,
        &visitor,
        id,
        lotto,
        "nominata",
        Target::Appointment,
        BTreeMap::new(),
        done,
        &[],
    )
    .await
}

#[post("/ente/bandi/{id}/commissione/dichiarazione")]
async fn declare(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<String>,
    req: HttpRequest,
    form: Fields,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&id, "Bando")?;
    let lotto = lot_of(&req)?;
    let who = visitor
        .require_official(&lotti::with_lot(&official::commission(id), lotto, &[]))?
        .clone();
    visitor.check_csrf(csrf_of(&form))?;
    let input = Declaration {
        no_incompatibility: field(&form, "assenza") == "si",
        text: field(&form, "testo").to_string(),
    };
    let mut typed = BTreeMap::new();
    typed.insert("testo".to_string(), input.text.clone());
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::declare(conn, &ctx, &who, id, &input)
        })
        .await;
    answer(
        &state,
        &rid,
        &visitor,
        id,
        lotto,
        "dichiarata",
        Target::Declaration,
        typed,
        done,
        &["already_declared"],
    )
    .await
}

#[post("/ente/bandi/{id}/commissione/coefficienti")]
async fn coefficients(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<String>,
    req: HttpRequest,
    form: Fields,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&id, "Bando")?;
    let lotto = lot_of(&req)?;
    let who = visitor
        .require_official(&lotti::with_lot(&official::commission(id), lotto, &[]))?
        .clone();
    visitor.check_csrf(csrf_of(&form))?;
    // The commissioner is always the visitor: no field of the form names one.
    let bidder = Uuid::parse_str(field(&form, "offerente").trim()).map_err(|_| PortalError::not_found("Offerta"))?;
    let mut typed = BTreeMap::new();
    let mut values = BTreeMap::new();
    let mut bad = None;
    for (k, v) in form.iter() {
        let Some(code) = k.strip_prefix(COEFFICIENT_FIELD) else {
            continue;
        };
        let raw = v.trim();
        typed.insert(code.to_string(), raw.to_string());
        if raw.is_empty() {
            continue;
        }
        // Italian decimals are written with a comma.
        match raw.replace(',', ".").parse::<Decimal>() {
            Ok(d) => {
                values.insert(code.to_string(), d);
            }
            Err(_) => {
                bad.get_or_insert_with(|| {
                    invalid(
                        "coefficient_invalid",
                        &format!("coefficients.{code}"),
                        "Il coefficiente è un numero decimale compreso tra 0 e 1, ad esempio 0,75",
                    )
                });
            }
        }
    }
    let done = match bad {
        Some(e) => Err(e),
        None => {
            let input = CoefficientsInput {
                bidder_id: bidder,
                coefficients: values,
            };
            let ctx = state.audit_ctx(Some(who.user_id), &rid);
            state
                .db(move |conn| {
                    let id = procedure::scope(conn, id, lotto)?;
                    // The same values sent again (a double click) are not a second entry.
                    let p = procedure::view(conn, &ctx, &who, id)?;
                    let mut latest: BTreeMap<&str, Decimal> = BTreeMap::new();
                    for c in p
                        .coefficients
                        .iter()
                        .filter(|c| c.commissioner_id == who.user_id && c.bidder_id == bidder)
                    {
                        latest.insert(c.criterion.as_str(), c.coefficient);
                    }
                    let unchanged = !input.coefficients.is_empty()
                        && input
                            .coefficients
                            .iter()
                            .all(|(k, v)| latest.get(k.as_str()) == Some(v));
                    if unchanged && p.evaluation.as_ref().is_none_or(|e| e.technical_closed_at.is_none()) {
                        return Ok(());
                    }
                    commission::enter_coefficients(conn, &ctx, &who, id, &input).map(|_| ())
                })
                .await
        }
    };
    answer(
        &state,
        &rid,
        &visitor,
        id,
        lotto,
        "coefficienti",
        Target::Offer(bidder),
        typed,
        done,
        &[],
    )
    .await
}

#[post("/ente/bandi/{id}/commissione/chiusura")]
async fn close(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<String>,
    req: HttpRequest,
    form: Fields,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&id, "Bando")?;
    let lotto = lot_of(&req)?;
    let who = visitor
        .require_official(&lotti::with_lot(&official::commission(id), lotto, &[]))?
        .clone();
    visitor.check_csrf(csrf_of(&form))?;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let store = state.seal.store().clone();
    let done = state
        .db(move |conn| {
            let id = procedure::scope(conn, id, lotto)?;
            commission::close_technical(conn, &ctx, &who, id, &store)
        })
        .await;
    answer(
        &state,
        &rid,
        &visitor,
        id,
        lotto,
        "chiusa",
        Target::Closing,
        BTreeMap::new(),
        done,
        &["technical_phase_closed"],
    )
    .await
}
