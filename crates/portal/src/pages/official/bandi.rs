//! `/ente/bandi`: the tenders of the official's enti, the RUP's draft (a guided form, see
//! [`modulo`]), and each tender's page: its data, the legal checks of publication with their
//! articles while it is a draft, "Pubblica", the documents, and the links to the other areas
//! that apply to the viewer and the state. Every act is one call of the bando crate, the same
//! as the API's (`POST /bandi`, `PUT /bandi/{id}`, `POST /bandi/{id}/check`, `/publish`,
//! `/documenti`), so who may act and when is the domain's.

mod campi;
pub mod modulo;

use accounts::{enti, users, Principal, Role};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use bando::model::{AwardCriterion, Bando, DocumentKind, State};
use bando::service::{self, Upload};
use bando::BandoError;
use serde::Deserialize;
use uuid::Uuid;

use self::campi::Part;
use self::modulo::{Act, Draft};
use super::{clarifications, rettifiche, tender, tender_edit, NEW_TENDER, TENDERS};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{self, FieldErrors};
use crate::labels;
use crate::pages::public::uuid;
use crate::pages::supplier::multipart;
use crate::pages::{render, render_status, see_other};
use crate::session::Visitor;

/// Largest document accepted through the form (the API's limit, plus the form's own bytes).
const MAX_UPLOAD: usize = api::routes::bandi::MAX_DOCUMENT_BYTES + 64 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let form = || web::FormConfig::default().limit(256 * 1024);
    cfg.service(web::resource(TENDERS).route(web::get().to(list)))
        .service(
            web::resource(NEW_TENDER)
                .app_data(form())
                .route(web::get().to(new_form))
                .route(web::post().to(new_post)),
        )
        .service(
            web::resource("/ente/bandi/{id}/modifica")
                .app_data(form())
                .route(web::get().to(edit_form))
                .route(web::post().to(edit_post)),
        )
        .service(web::resource("/ente/bandi/{id}").route(web::get().to(page)))
        .service(web::resource("/ente/bandi/{id}/pubblica").route(web::post().to(publish)))
        .service(
            web::resource("/ente/bandi/{id}/documenti")
                .app_data(web::PayloadConfig::new(MAX_UPLOAD))
                .route(web::post().to(upload)),
        );
}

fn publish_path(id: Uuid) -> String {
    format!("{}/pubblica", tender(id))
}

fn documents_path(id: Uuid) -> String {
    format!("{}/documenti", tender(id))
}

fn chrome(visitor: &Visitor, title: &str) -> Chrome {
    Chrome::new(visitor, title, Section::Ente)
        .crumb("Area ente", Some(super::DASHBOARD))
        .crumb("Bandi", Some(TENDERS))
}

/// The RUP of `ente`, or an admin: the domain's own test (`bando::service::require_manager`).
fn manages(who: &Principal, ente: Uuid) -> bool {
    service::require_manager(who, ente).is_ok()
}

/// The enti whose tenders the official reads: all of them for the centrale's admins.
fn my_enti(conn: &mut diesel::PgConnection, who: &Principal) -> Result<Vec<(Uuid, String)>, BandoError> {
    let all = enti::list(
        conn,
        who,
        accounts::listing::Page {
            limit: Some(500),
            offset: None,
        },
    )?;
    Ok(all
        .into_iter()
        .filter(|e| who.is_admin() || who.belongs_to(e.id))
        .map(|e| (e.id, e.nome))
        .collect())
}

// ---------------------------------------------------------------- the list

pub struct Row {
    pub href: String,
    pub oggetto: String,
    pub ente: String,
    pub procedure: &'static str,
    pub state: &'static str,
    pub deadline: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "official/bandi-elenco.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    can_create: bool,
    new_href: &'static str,
}

async fn list(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(TENDERS)?.clone();
    let can_create = who.is_admin() || who.grants.iter().any(|g| g.role == Role::Rup);
    let tenders: Vec<Bando> = state
        .db(move |conn| {
            let mut out = Vec::new();
            for (ente, _) in my_enti(conn, &who)? {
                out.extend(service::list_for_ente(conn, &who, ente)?);
            }
            Ok::<_, BandoError>(out)
        })
        .await?;
    let rows = tenders
        .iter()
        .map(|b| Row {
            href: tender(b.id),
            oggetto: b.oggetto.clone(),
            ente: b.ente_nome.clone(),
            procedure: labels::procedure(b.procedure_type),
            state: labels::state(b.state),
            deadline: b
                .submission_deadline
                .as_ref()
                .map(|d| (forms::rome(&d.utc), forms::iso(&d.utc))),
        })
        .collect();
    render(
        &visitor,
        &ListPage {
            chrome: Chrome::new(&visitor, "Bandi dell'ente", Section::Ente)
                .crumb("Area ente", Some(super::DASHBOARD))
                .crumb("Bandi", None),
            rows,
            can_create,
            new_href: NEW_TENDER,
        },
    )
}

// ---------------------------------------------------------------- the draft form

#[derive(Template)]
#[template(path = "official/bandi-modulo.html")]
struct FormPage {
    chrome: Chrome,
    action: String,
    back: Option<String>,
    parts: Vec<Part>,
    general: Vec<String>,
    has_errors: bool,
}

/// The enti the visitor may create a tender for (the RUP's; every ente for an admin) and the
/// officials of the chosen one, who may hold keys.
async fn choices(
    state: &web::Data<api::AppState>,
    who: &Principal,
    chosen: Option<Uuid>,
) -> Result<(Vec<(Uuid, String)>, Vec<(Uuid, String)>), PortalError> {
    let who = who.clone();
    Ok(state
        .db(move |conn| {
            let enti: Vec<(Uuid, String)> = my_enti(conn, &who)?
                .into_iter()
                .filter(|(e, _)| manages(&who, *e))
                .collect();
            let ente = chosen
                .filter(|c| enti.iter().any(|(e, _)| e == c))
                .or(enti.first().map(|e| e.0));
            let members = match ente {
                Some(e) => users::members(conn, &who, e)?
                    .into_iter()
                    .map(|u| (u.id, format!("{} · {}", u.full_name, u.email)))
                    .collect(),
                None => vec![],
            };
            Ok::<_, BandoError>((enti, members))
        })
        .await?)
}

/// Results shown at most by the invitees' search.
const MAX_INVITEE_RESULTS: usize = 20;

/// The albo's qualified suppliers matching the invitees' search (not those already chosen),
/// and who the chosen invitees are: the registry's own functions, as the API's albo.
async fn invitee_choices(
    state: &web::Data<api::AppState>,
    who: &Principal,
    draft: &Draft,
    act: &Act,
) -> Result<(Vec<modulo::Choice>, std::collections::HashMap<String, String>), PortalError> {
    let who = who.clone();
    let now = state.clock.now();
    let query = matches!(act, Act::SearchInvitees).then(|| draft.invitees_q.clone());
    let chosen: Vec<Uuid> = draft
        .invitees
        .iter()
        .filter_map(|i| Uuid::parse_str(i.trim()).ok())
        .collect();
    Ok(state
        .db(move |conn| {
            let label = |r: &str, p: &str| format!("{r} · P.IVA {p}");
            let found = match query {
                Some(q) => {
                    registry::operatori::invitable_matching(conn, &who, &q, MAX_INVITEE_RESULTS + chosen.len(), now)?
                        .into_iter()
                        .filter(|o| !chosen.contains(&o.owner_user_id))
                        .take(MAX_INVITEE_RESULTS)
                        .map(|o| modulo::Choice {
                            code: o.owner_user_id.to_string(),
                            label: label(&o.ragione_sociale, &o.partita_iva),
                        })
                        .collect()
                }
                None => vec![],
            };
            let names = registry::operatori::public_identities(conn, &chosen)?
                .into_iter()
                .map(|(u, (r, p))| (u.to_string(), label(&r, &p)))
                .collect();
            Ok::<_, registry::RegistryError>((found, names))
        })
        .await?)
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    who: &Principal,
    draft: &Draft,
    act: &Act,
    editing: Option<Uuid>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let (enti, members) = choices(state, who, Uuid::parse_str(draft.ente.trim()).ok()).await?;
    if enti.is_empty() {
        return Err(PortalError::forbidden(
            "Solo il RUP di un ente (o un amministratore della centrale) prepara i bandi",
        ));
    }
    let mut draft = draft.clone();
    if Uuid::parse_str(draft.ente.trim()).is_err() {
        draft.ente = enti[0].0.to_string();
    }
    let (invitee_results, invitee_names) = invitee_choices(state, who, &draft, act).await?;
    let cx = campi::Context {
        enti,
        members,
        invitee_results,
        invitee_names,
        cpv_results: if matches!(act, Act::SearchCpv) {
            modulo::search_cpv(&draft.cpv_q)
        } else {
            vec![]
        },
        nuts_results: if matches!(act, Act::SearchNuts) {
            modulo::search_nuts(&draft.nuts_q)
        } else {
            vec![]
        },
    };
    if !matches!(act, Act::SearchCpv) {
        draft.cpv_q.clear();
    }
    if !matches!(act, Act::SearchNuts) {
        draft.nuts_q.clear();
    }
    if !matches!(act, Act::SearchInvitees) {
        draft.invitees_q.clear();
    }
    let has_errors = !errors.is_empty();
    let (parts, general) = campi::parts(&draft, &cx, &errors);
    let title = if editing.is_some() {
        "Modifica della bozza"
    } else {
        "Nuovo bando"
    };
    let page = FormPage {
        chrome: chrome(visitor, title).crumb(title, None),
        action: editing.map_or_else(|| NEW_TENDER.to_string(), tender_edit),
        back: editing.map(tender),
        parts,
        general,
        has_errors,
    };
    render_status(visitor, &page, status)
}

async fn new_form(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(NEW_TENDER)?.clone();
    let draft = Draft::blank(None);
    form_page(
        &state,
        &visitor,
        &who,
        &draft,
        &Act::Save,
        None,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn edit_form(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    let who = visitor.require_official(&tender_edit(id))?.clone();
    let reader = who.clone();
    let b = state.db(move |conn| service::get(conn, &reader, id)).await?;
    if !manages(&who, b.ente_id) {
        return Err(PortalError::forbidden("Solo il RUP dell'ente modifica la bozza"));
    }
    if b.state != State::Draft {
        return Err(PortalError::Page(api::ApiError::new(
            StatusCode::CONFLICT,
            "not_draft",
            "Il bando è già pubblicato: si modifica con una rettifica",
        )));
    }
    form_page(
        &state,
        &visitor,
        &who,
        &Draft::of(&b),
        &Act::Save,
        Some(id),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

fn csrf_of(pairs: &[(String, String)]) -> &str {
    pairs.iter().find(|(k, _)| k == "_csrf").map_or("", |(_, v)| v.as_str())
}

/// Every button of the form posts here: searching, choosing, adding rows only show the form
/// again; saving creates or replaces the draft with one domain call.
async fn form_post(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    pairs: Vec<(String, String)>,
    editing: Option<Uuid>,
) -> Result<HttpResponse, PortalError> {
    let here = editing.map_or_else(|| NEW_TENDER.to_string(), tender_edit);
    let who = visitor.require_official(&here)?.clone();
    visitor.check_csrf(csrf_of(&pairs))?;
    let (mut draft, act) = Draft::from_pairs(&pairs);
    match &act {
        Act::Save => {}
        Act::AddLots => draft.add_lots(),
        Act::AddCriteria => draft.add_criteria(),
        Act::Choose(target, code) => draft.choose(target, code),
        Act::AddTableRows(p) => draft.add_table_rows(*p),
        Act::AddSubCriteria(p) => draft.add_sub_criteria(*p),
        Act::Remove(p) => draft.remove(*p),
        Act::RemoveInvitee(id) => draft.remove_invitee(id),
        Act::SearchCpv | Act::SearchNuts | Act::SearchInvitees | Act::ChangeEnte | Act::Refresh => {}
    }
    if act != Act::Save {
        draft.pad_criteria();
    }
    if act != Act::Save {
        return form_page(
            &state,
            &visitor,
            &who,
            &draft,
            &act,
            editing,
            FieldErrors::default(),
            StatusCode::OK,
        )
        .await;
    }
    // Blank rows out, so that row i of the form is row i of the domain's errors.
    draft.compact();
    let input = match draft.to_new(None) {
        Ok(i) => i,
        Err(errors) => {
            draft.pad();
            return form_page(
                &state,
                &visitor,
                &who,
                &draft,
                &act,
                editing,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let actor = who.clone();
    let done = state
        .db(move |conn| match editing {
            None => service::create(conn, &ctx, &actor, &input),
            Some(id) => service::update_draft(conn, &ctx, &actor, id, &input),
        })
        .await;
    match done {
        Ok(b) => Ok(see_other(&format!("{}?esito=salvato", tender(b.id)))),
        Err(e)
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::FORBIDDEN =>
        {
            let status = e.status;
            draft.pad();
            form_page(
                &state,
                &visitor,
                &who,
                &draft,
                &act,
                editing,
                FieldErrors::from_api(&e),
                status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn new_post(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PortalError> {
    form_post(state, rid, visitor, form.into_inner(), None).await
}

async fn edit_post(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    form_post(state, rid, visitor, form.into_inner(), Some(id)).await
}

// ---------------------------------------------------------------- the tender's page

pub struct Check {
    pub field: String,
    pub citation: String,
    pub text: String,
}

/// A message of the Code as the domain writes it ("art. 71: il termine…"): its citation apart.
pub fn split_citation(message: &str) -> (String, String) {
    match message.split_once(": ") {
        Some((head, rest)) if head.len() <= 60 && (head.starts_with("art") || head.starts_with("All")) => {
            (head.to_string(), rest.to_string())
        }
        _ => (String::new(), message.to_string()),
    }
}

/// Italian names of the tender's fields, as the checks and the rettifiche name them.
pub fn field_label(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    match base {
        "submission_deadline" => "Termine per le offerte",
        "questions_deadline" => "Termine per i chiarimenti",
        "opening_at" => "Apertura delle buste",
        "base_amount" => "Importo a base di gara",
        "safety_costs" => "Oneri della sicurezza",
        "procedure_type" => "Procedura",
        "award_criterion" => "Criterio di aggiudicazione",
        "oepv" => "Criteri OEPV",
        "envelopes" => "Buste",
        "anomaly_method" | "anomaly_terms" => "Offerte anomale",
        "custodians" | "custodian_threshold" => "Custodi delle chiavi",
        "invitees" => "Operatori invitati",
        "lotti" => "Lotti",
        "cig" => "CIG",
        "cpv_main" | "cpv_additional" => "CPV",
        "nuts" => "NUTS",
        "conducted_by" => "Chi conduce la gara",
        "offer_validity_days" => "Validità delle offerte",
        "labour_intensive" | "intellectual_services" => "Natura del servizio",
        "documenti" => "Documenti di gara",
        "reason" => "Motivo",
        "state" => "Stato",
        other => return other.replace('_', " "),
    }
    .to_string()
}

pub struct Link {
    pub href: String,
    pub label: &'static str,
}

pub struct DocLine {
    pub href: String,
    pub filename: String,
    pub kind: &'static str,
    pub sha256: String,
    pub version: i32,
}

#[derive(Template)]
#[template(path = "official/bandi-bando.html")]
struct TenderPage {
    chrome: Chrome,
    id: String,
    oggetto: String,
    state: &'static str,
    state_code: &'static str,
    version: i32,
    facts: Vec<(&'static str, String)>,
    dates: Vec<(&'static str, String, String)>,
    lots: Vec<(i32, String, String, String)>,
    criteria: Vec<(String, String, String)>,
    custodians: Vec<String>,
    documents: Vec<DocLine>,
    history: Vec<(String, String, String)>,
    is_draft: bool,
    manager: bool,
    checks: Option<Vec<Check>>,
    publish_action: String,
    documents_action: String,
    can_upload: bool,
    needs_reason: bool,
    refused: Option<(String, Vec<Check>)>,
    doc_error: Option<String>,
    outcome: Option<&'static str>,
    links: Vec<Link>,
}

fn document_kind(k: DocumentKind) -> &'static str {
    match k {
        DocumentKind::Disciplinare => "Disciplinare di gara",
        DocumentKind::Capitolato => "Capitolato",
        DocumentKind::Allegato => "Allegato",
    }
}

fn links_for(who: &Principal, b: &Bando) -> Vec<Link> {
    let manager = manages(who, b.ente_id);
    let auditor = who.has_role_in(Role::Auditor, b.ente_id);
    let commission = who.has_role_in(Role::Commission, b.ente_id);
    let custodian = b.custodians.as_ref().is_some_and(|c| c.contains(&who.user_id));
    let s = b.state;
    let mut out = Vec::new();
    let mut add = |on: bool, href: String, label: &'static str| {
        if on {
            out.push(Link { href, label });
        }
    };
    let after_deadline = matches!(
        s,
        State::SubmissionsClosed
            | State::Opening
            | State::Evaluation
            | State::ProposedAward
            | State::Awarded
            | State::Effective
    );
    add(s == State::Draft && manager, tender_edit(b.id), "Modifica la bozza");
    add(
        (manager || custodian) && matches!(s, State::Published | State::SubmissionsClosed | State::Opening),
        super::custody(b.id),
        "Custodia delle chiavi",
    );
    add(
        s != State::Draft && (manager || auditor),
        clarifications(b.id),
        "Chiarimenti",
    );
    add(
        s != State::Draft && (manager || auditor),
        rettifiche(b.id),
        "Rettifiche",
    );
    add(manager && after_deadline, super::opening(b.id), "Apertura delle buste");
    add(
        manager
            && matches!(
                s,
                State::Opening | State::Evaluation | State::ProposedAward | State::Awarded | State::Effective
            ),
        super::evaluation(b.id),
        "Valutazione e aggiudicazione",
    );
    add(
        b.award_criterion == AwardCriterion::Oepv && (manager || commission) && after_deadline,
        super::commission(b.id),
        "Commissione giudicatrice",
    );
    add(manager || auditor, super::timeline(b.id), "Cronologia");
    out
}

/// A criterion on the tender's page: its description, its kind and the rule it is scored by.
fn criterion_line(c: &bando::model::Criterion) -> String {
    use bando::model::{Better, CriterionKind};
    let rule = match c.kind {
        _ if !c.sub_criteria.is_empty() => "punti dei sub-criteri".to_string(),
        CriterionKind::Discretionary => "discrezionale".to_string(),
        CriterionKind::Quantitative => match &c.quantitative {
            Some(q) => format!(
                "quantitativo, migliore il valore più {} tra {} e {}",
                if q.better == Better::Higher { "alto" } else { "basso" },
                q.min,
                q.max
            ),
            None => "quantitativo, formula da indicare".to_string(),
        },
        CriterionKind::Tabular => format!(
            "tabellare: {}",
            c.table
                .iter()
                .map(|r| {
                    let what = match (&r.option, r.from, r.to) {
                        (Some(o), _, _) => o.clone(),
                        (None, Some(f), Some(t)) => format!("da {f} a {t}"),
                        (None, Some(f), None) => format!("da {f}"),
                        (None, None, Some(t)) => format!("fino a {t}"),
                        (None, None, None) => String::new(),
                    };
                    format!("{what} → {}", r.coefficient)
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    format!("{} ({rule})", c.description)
}

fn checks_of(violations: &[api::error::Violation]) -> Vec<Check> {
    violations
        .iter()
        .map(|v| {
            let (citation, text) = split_citation(&v.message);
            Check {
                field: field_label(v.field.as_deref().unwrap_or("")),
                citation,
                text,
            }
        })
        .collect()
}

/// What went wrong on the page's forms, to show next to them.
#[derive(Default)]
struct Trouble {
    refused: Option<api::ApiError>,
    doc_error: Option<String>,
}

async fn tender_page(
    state: &web::Data<api::AppState>,
    visitor: &Visitor,
    id: Uuid,
    outcome: Option<&'static str>,
    trouble: Trouble,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(&tender(id))?.clone();
    let now = state.clock.now();
    let reader = who.clone();
    let (b, checks, members) = state
        .db(move |conn| {
            let b = service::get(conn, &reader, id)?;
            let checks = if b.state == State::Draft && manages(&reader, b.ente_id) {
                Some(service::check(conn, &reader, id, now)?)
            } else {
                None
            };
            let members = users::members(conn, &reader, b.ente_id)?;
            Ok::<_, BandoError>((b, checks, members))
        })
        .await?;
    let manager = manages(&who, b.ente_id);
    let name_of = |u: &Uuid| {
        members
            .iter()
            .find(|m| m.id == *u)
            .map_or_else(|| u.to_string(), |m| format!("{} · {}", m.full_name, m.email))
    };
    let mut facts = vec![
        ("Ente", b.ente_nome.clone()),
        ("Procedura", labels::procedure(b.procedure_type).to_string()),
        ("Tipo di appalto", labels::contract(b.contract_type).to_string()),
        (
            "Criterio di aggiudicazione",
            labels::criterion(b.award_criterion).to_string(),
        ),
        ("CIG", b.cig.clone().unwrap_or_else(|| "—".into())),
        ("CUP", b.cup.clone().unwrap_or_else(|| "—".into())),
        ("CPV principale", format!("{} · {}", b.cpv_main, b.cpv_main_label)),
        ("NUTS", b.nuts.clone()),
        ("Importo a base di gara", forms::euro(&b.base_amount)),
        ("Oneri della sicurezza", forms::euro(&b.safety_costs)),
        ("Importo soggetto a ribasso", forms::euro(&b.amount_subject_to_discount)),
        ("Validità delle offerte", format!("{} giorni", b.offer_validity_days)),
        (
            "Buste",
            b.envelopes
                .iter()
                .map(|e| labels::envelope(e.as_str()))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        (
            "Esclusione automatica delle offerte anomale",
            match b.anomaly_method {
                Some(m) => format!("metodo {} dell'Allegato II.2", m.as_str()),
                None if !b.anomaly_terms.draw_methods.is_empty() => format!(
                    "sorteggio tra i metodi {}",
                    b.anomaly_terms
                        .draw_methods
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "nessuna".into(),
            },
        ),
    ];
    if !b.cpv_additional.is_empty() {
        facts.push(("CPV aggiuntivi", b.cpv_additional.join(", ")));
    }
    if let Some(u) = &b.urgency_reason {
        facts.push(("Urgenza motivata", u.clone()));
    }
    if let Some(k) = b.custodian_threshold {
        facts.push((
            "Soglia dei custodi",
            format!("{k} su {}", b.custodians.as_ref().map_or(0, Vec::len)),
        ));
    }
    let mut dates = Vec::new();
    for (label, d) in [
        ("Termine per i chiarimenti", &b.questions_deadline),
        ("Termine per le offerte", &b.submission_deadline),
        ("Apertura delle buste", &b.opening_at),
        ("Offerte vincolanti fino al", &b.offer_validity_until),
    ] {
        if let Some(d) = d {
            dates.push((label, forms::rome(&d.utc), forms::iso(&d.utc)));
        }
    }
    if let Some(p) = &b.published_at {
        dates.insert(0, ("Pubblicato il", forms::rome(p), forms::iso(p)));
    }
    let page = TenderPage {
        chrome: chrome(visitor, &b.oggetto).crumb(b.oggetto.clone(), None),
        id: b.id.to_string(),
        oggetto: b.oggetto.clone(),
        state: labels::state(b.state),
        state_code: b.state.as_str(),
        version: b.version,
        facts,
        dates,
        lots: b
            .lotti
            .iter()
            .map(|l| (l.numero, l.oggetto.clone(), l.cig.clone(), forms::euro(&l.base_amount)))
            .collect(),
        criteria: b
            .oepv
            .iter()
            .flat_map(|o| {
                o.criteria
                    .iter()
                    .flat_map(|c| {
                        std::iter::once((c.code.clone(), criterion_line(c), c.weight.to_string())).chain(
                            c.sub_criteria.iter().map(|s| {
                                (
                                    format!("{} › {}", c.code, s.code),
                                    criterion_line(s),
                                    s.weight.to_string(),
                                )
                            }),
                        )
                    })
                    .chain(std::iter::once((
                        "E".to_string(),
                        "Offerta economica".to_string(),
                        o.economic_weight.to_string(),
                    )))
            })
            .collect(),
        custodians: b.custodians.iter().flatten().map(name_of).collect(),
        documents: b
            .documenti
            .iter()
            .map(|d| DocLine {
                href: format!("/api/v1/public/bandi/{}/documenti/{}", b.id, d.id),
                filename: d.filename.clone(),
                kind: document_kind(d.kind),
                sha256: d.sha256.clone(),
                version: d.version,
            })
            .collect(),
        history: b
            .state_history
            .iter()
            .flatten()
            .filter(|h| h.lotto_id.is_none())
            .map(|h| {
                (
                    forms::rome(&h.occurred_at),
                    State::parse(&h.to_state).map_or_else(|| h.to_state.clone(), |s| labels::state(s).to_string()),
                    h.reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
        is_draft: b.state == State::Draft,
        manager,
        checks: checks.map(|v| {
            v.into_iter()
                .map(|v| {
                    let (citation, text) = split_citation(&v.message);
                    Check {
                        field: field_label(&v.field),
                        citation,
                        text,
                    }
                })
                .collect()
        }),
        publish_action: publish_path(b.id),
        documents_action: documents_path(b.id),
        can_upload: manager && matches!(b.state, State::Draft | State::Published),
        needs_reason: b.state == State::Published,
        refused: trouble.refused.map(|e| (e.message.clone(), checks_of(&e.errors))),
        doc_error: trouble.doc_error,
        outcome,
        links: links_for(&who, &b),
    };
    render_status(visitor, &page, status)
}

#[derive(Debug, Deserialize)]
struct Outcome {
    esito: Option<String>,
}

fn outcome_text(esito: Option<&str>) -> Option<&'static str> {
    match esito {
        Some("salvato") => Some("Bozza salvata."),
        Some("pubblicato") => Some("Bando pubblicato: è visibile nell'elenco pubblico dei bandi."),
        Some("documento") => Some("Documento caricato, con la sua impronta SHA-256."),
        _ => None,
    }
}

async fn page(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    path: web::Path<String>,
    q: web::Query<Outcome>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    tender_page(
        &state,
        &visitor,
        id,
        outcome_text(q.esito.as_deref()),
        Trouble::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

async fn publish(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    let who = visitor.require_official(&tender(id))?.clone();
    visitor.check_csrf(&form.csrf)?;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let actor = who.clone();
    let done = state
        .db(move |conn| service::publish(conn, &ctx, &actor, id, &api::invitees::RegistryInvitees))
        .await;
    let done_page = format!("{}?esito=pubblicato", tender(id));
    match done {
        Ok(_) => Ok(see_other(&done_page)),
        // The second click of a double click finds the tender published by the first: the
        // same outcome, nothing done twice.
        Err(e) if e.code == "illegal_transition" => {
            let reader = who.clone();
            let now = state.db(move |conn| service::get(conn, &reader, id)).await?;
            if now.state == State::Published {
                Ok(see_other(&done_page))
            } else {
                let status = e.status;
                tender_page(
                    &state,
                    &visitor,
                    id,
                    None,
                    Trouble {
                        refused: Some(e),
                        ..Default::default()
                    },
                    status,
                )
                .await
            }
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let status = e.status;
            tender_page(
                &state,
                &visitor,
                id,
                None,
                Trouble {
                    refused: Some(e),
                    ..Default::default()
                },
                status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn upload(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&path, "Bando")?;
    let who = visitor.require_official(&tender(id))?.clone();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = multipart::boundary(content_type)
        .and_then(|b| multipart::parse(&body, &b))
        .ok_or_else(PortalError::csrf)?;
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(multipart::Part::text)
            .unwrap_or_default()
    };
    visitor.check_csrf(&text("_csrf"))?;
    let again = |message: String, status: StatusCode| {
        let (state, visitor) = (state.clone(), visitor.clone());
        async move {
            tender_page(
                &state,
                &visitor,
                id,
                None,
                Trouble {
                    doc_error: Some(message),
                    ..Default::default()
                },
                status,
            )
            .await
        }
    };
    let Some(kind) = DocumentKind::parse(text("kind").trim()) else {
        return again(
            "Scegliere il tipo di documento".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let file = parts
        .iter()
        .find(|p| p.name == "file" && p.filename.as_deref().is_some_and(|n| !n.is_empty()));
    let Some(file) = file else {
        return again("Scegliere il file da caricare".into(), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let filename = file.filename.clone().unwrap_or_default();
    let declared = file.content_type.clone().unwrap_or_default();
    let media_type = if declared.is_empty() || declared.eq_ignore_ascii_case("application/octet-stream") {
        mime_guess::from_path(&filename)
            .first_raw()
            .unwrap_or("application/octet-stream")
            .to_string()
    } else {
        declared
    };
    let bytes = file.data.clone();
    let reason = Some(text("reason")).filter(|r| !r.trim().is_empty());
    let extend = Some(text("extend_submission_deadline_to")).filter(|r| !r.trim().is_empty());
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let done = state
        .db(move |conn| {
            service::add_document(
                conn,
                &ctx,
                &who,
                id,
                Upload {
                    kind,
                    filename: &filename,
                    content_type: &media_type,
                    bytes: &bytes,
                    reason: reason.as_deref(),
                    extend_submission_deadline_to: extend.as_deref(),
                },
            )
        })
        .await;
    match done {
        Ok(_) => Ok(see_other(&format!("{}?esito=documento", tender(id)))),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            again(e.message.clone(), e.status).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_citation_is_read_apart_from_the_message() {
        let (c, t) = split_citation("art. 71: il termine per le offerte deve essere di almeno 30 giorni");
        assert_eq!(c, "art. 71");
        assert!(t.starts_with("il termine"));
        let (c, _) = split_citation("Il CIG: non valido");
        assert!(c.is_empty());
    }
}
