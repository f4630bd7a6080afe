//! `/ente/bandi/{id}/valutazione`: the evaluation up to the award (issue 13 point 4) —
//! admissions and exclusions with their reasons, soccorso istruttorio with the bidders'
//! answers and the RUP's outcome, the economic phase with the Allegato II.2 computation step
//! by step (the public calculator's view) or the OEPV scores, art. 110, the ranking, the RUP's
//! decision on every exclusion the platform proposed (art. 30 c.3 lett. b), the requirements,
//! the proposal and the award with the standstill, the art. 90 communications with their
//! delivery, art. 36 access, the verbale.
//!
//! Every form calls exactly the function its API twin calls (`aggiudicazione::procedure::*`),
//! so who may act, in which state and in which order is the workflow's. The commission's own
//! acts are on `official::commission`.

use std::collections::HashMap;

use accounts::Principal;
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use aggiudicazione::procedure::access::{self, Access};
use aggiudicazione::procedure::{
    self as procedure, admission, award, evaluation, exclusions, AdmissionDecision, Art110Request, Communication,
    EconomicPhase, ExclusionDecision, Outcome, Procedura, ProcedureError, RequirementCheck, SoccorsoRequest,
};
use askama::Template;
use chrono::{DateTime, Utc};
use db::audit::AuditCtx;
use diesel::PgConnection;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{euro, rome};
use crate::pages::official;
use crate::pages::official::lotti::{self, LotLink, LotParam, Scope};
use crate::pages::public::calcolatori::anomalia::{report_steps, show, Step};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show_page)
        .service(admission_form)
        .service(soccorso_form)
        .service(soccorso_outcome_form)
        .service(economic_form)
        .service(art110_form)
        .service(art110_outcome_form)
        .service(exclusion_form)
        .service(requirement_form)
        .service(proposal_form)
        .service(award_form)
        .service(report_form);
}

/// A form of this page, under its path.
pub fn act_path(id: Uuid, act: &str) -> String {
    format!("{}/{act}", official::evaluation(id))
}

pub struct ParticipantRow {
    pub bidder_id: Uuid,
    pub name: String,
    pub status: &'static str,
    pub pending: bool,
    pub admitted: bool,
    pub phase: String,
    pub reason: String,
    pub decided_at: String,
}

pub struct SoccorsoRow {
    pub id: Uuid,
    pub bidder: String,
    pub request: String,
    pub deadline: String,
    pub answer: Option<String>,
    pub answered_at: String,
    pub outcome: Option<String>,
    pub decidable: bool,
}

pub struct ExclusionRow {
    pub id: Uuid,
    pub bidder: String,
    pub phase: &'static str,
    pub reason: String,
    pub proposed_at: String,
    pub decision: Option<String>,
}

pub struct RankRow {
    pub rank: String,
    pub bidder: String,
    pub discount: String,
    pub technical: String,
    pub economic: String,
    pub total: String,
    pub tie_break: &'static str,
}

pub struct Art110Row {
    pub id: Uuid,
    pub bidder: String,
    pub request: String,
    pub deadline: String,
    pub answer: Option<String>,
    pub outcome: Option<String>,
    pub decidable: bool,
}

pub struct RequirementRow {
    pub requirement: String,
    pub evidence: String,
    pub satisfied: bool,
    pub checked_at: String,
}

pub struct CommunicationRow {
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    pub delivery: String,
    pub delivered: bool,
}

pub struct AwardView {
    pub outcome: &'static str,
    pub winner: String,
    pub proposed_at: String,
    pub awarded_at: String,
    pub standstill: String,
    pub standstill_end: Option<String>,
    pub contract: String,
    pub terms: Option<String>,
}

pub struct Choice {
    pub id: Uuid,
    pub name: String,
}

#[derive(Template)]
#[template(path = "official/valutazione-procedura.html")]
struct EvaluationPage {
    chrome: Chrome,
    id: Uuid,
    oggetto: String,
    criterion: String,
    state: String,
    oepv: bool,
    outcome: Option<String>,
    /// The workflow's refusal of the last act, shown in the section it belongs to.
    error: Option<(String, String)>,
    participants: Vec<ParticipantRow>,
    soccorsi: Vec<SoccorsoRow>,
    admitted: Vec<Choice>,
    any_pending: bool,
    economic_done: bool,
    anomaly_applies: &'static str,
    anomaly_why: String,
    steps: Vec<Step>,
    draw: Vec<Step>,
    ranking: Vec<RankRow>,
    art110: Vec<Art110Row>,
    exclusions: Vec<ExclusionRow>,
    requirements: Vec<RequirementRow>,
    can_propose: bool,
    can_award: bool,
    award: Option<AwardView>,
    communications: Vec<CommunicationRow>,
    access: Option<String>,
    verbale_href: Option<String>,
    /// `?lotto=<id>` on a tender with lots: appended to every form's action.
    lot_q: String,
    lots: Vec<LotLink>,
    lot_heading: Option<String>,
    opening_href: String,
    commission_href: String,
    tender_href: String,
}

impl EvaluationPage {
    fn error_in(&self, section: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(s, _)| s == section)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    esito: Option<String>,
    lotto: Option<Uuid>,
}

struct Loaded {
    proc: Procedura,
    lot: Option<bando::store::LottoRow>,
    lots: Vec<bando::store::LottoRow>,
    /// Bidders whose envelope A is open but who have no participant row yet.
    to_examine: Vec<Uuid>,
    oggetto: String,
    communications: Vec<(Communication, Option<notify::inbox::Delivery>)>,
    access: Option<Access>,
    names: HashMap<Uuid, String>,
}

fn name_of(names: &HashMap<Uuid, String>, id: &Uuid) -> String {
    names
        .get(id)
        .cloned()
        .unwrap_or_else(|| format!("Offerente {}", &id.to_string()[..8]))
}

fn when(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref().map(rome).unwrap_or_default()
}

fn participant_status(s: &str) -> &'static str {
    match s {
        "pending" => "da esaminare",
        "admitted" => "ammesso",
        "excluded" => "escluso",
        _ => "—",
    }
}

fn phase_label(p: &str) -> &'static str {
    match p {
        "administrative" => "amministrativa (busta A)",
        "soccorso" => "soccorso istruttorio",
        "economic" => "economica (busta C)",
        "technical" => "tecnica",
        "anomaly" => "soglia di anomalia",
        "art110" => "verifica art. 110",
        _ => "altra",
    }
}

fn outcome_label(o: &str) -> &'static str {
    match o {
        "accepted" => "accolto",
        "rejected" => "respinto: escluso",
        "excluded" => "escluso",
        "expired" => "termine scaduto senza risposta: esclusione proposta",
        "confirmed" => "esclusione confermata",
        _ => "—",
    }
}

fn award_label(o: &str) -> &'static str {
    match o {
        "proposed" => "Proposta di aggiudicazione",
        "awarded" | "effective" => "Aggiudicata (efficace, art. 17 c.5)",
        "deserted" => "Gara deserta",
        "all_excluded" => "Tutte le offerte escluse",
        _ => "—",
    }
}

fn tie_break(v: &Value) -> &'static str {
    match v.as_str().unwrap_or("") {
        "none" => "nessuna parità",
        "technical_score" => "punteggio tecnico",
        "draw" => "sorteggio pubblico",
        "draw_required" => "parità da sorteggiare",
        _ => "—",
    }
}

/// The engine's report with each bidder's id replaced by its name, so the steps read as the
/// calculator's do with names instead of O1, O2.
fn named(v: &Value, names: &HashMap<Uuid, String>) -> Value {
    match v {
        Value::String(s) => match s.parse::<Uuid>().ok().and_then(|u| names.get(&u)) {
            Some(n) => Value::String(n.clone()),
            None => v.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|i| named(i, names)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), named(x, names))).collect()),
        other => other.clone(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.replace('.', ","),
        other => show(other),
    }
}

/// What the page shows: one scope's evaluation, or the lots of a tender to choose from.
enum View {
    Scope(Box<Loaded>),
    Choose {
        oggetto: String,
        lots: Vec<bando::store::LottoRow>,
    },
}

async fn load(
    state: &web::Data<api::AppState>,
    ctx: AuditCtx,
    who: Principal,
    id: Uuid,
    lotto: Option<Uuid>,
) -> Result<View, PortalError> {
    Ok(state
        .db(move |conn| -> Result<View, api::ApiError> {
            let (scope, lot, lots) = match lotti::resolve(conn, id, lotto)? {
                Scope::One { scope, lot, lots } => (scope, lot, lots),
                Scope::Choose(lots) => {
                    // The workflow's view of the first lot refuses whoever is not of the ente,
                    // so the list of lots tells an outsider nothing more than the public page.
                    procedure::view(conn, &ctx, &who, lots[0].id)?;
                    let row = bando::store::find(conn, id)?;
                    return Ok(View::Choose {
                        oggetto: row.oggetto.clone(),
                        lots,
                    });
                }
            };
            // The workflow's own view first: it refuses whoever is not of the ente.
            let proc = procedure::view(conn, &ctx, &who, scope)?;
            let row = bando::store::find(conn, id)?;
            let comms = award::communications(conn, &who, scope, ctx.at)?;
            let ids: Vec<Uuid> = comms.iter().map(|c| c.id).collect();
            let delivery = notify::inbox::delivery_of(conn, &ids).map_err(ProcedureError::from)?;
            let communications = comms
                .into_iter()
                .map(|c| {
                    let d = delivery.iter().find(|d| d.id == c.id).cloned();
                    (c, d)
                })
                .collect();
            let access = match access::accessible(conn, &who, scope) {
                Ok(a) => Some(a),
                Err(ProcedureError::Conflict { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            // Before the first decision the workflow has no participant rows yet: the bidders
            // whose envelope A was opened are the ones to examine.
            let opened_a: Vec<Uuid> = match offerte::opening::list(conn, &who, id) {
                Ok(list) => list
                    .into_iter()
                    .filter(|o| o.kind == "A")
                    .flat_map(|o| o.envelopes.into_iter().map(|e| e.bidder_id))
                    .collect(),
                Err(offerte::OfferteError::Accounts(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            // Openings are per tender: of its bidders, those of this scope (the lot's).
            let of_scope = procedure::scope_bidders(conn, scope)?;
            let mut bidders: Vec<Uuid> = proc.participants.iter().map(|p| p.bidder_id).collect();
            let mut to_examine: Vec<Uuid> = opened_a
                .into_iter()
                .filter(|b| of_scope.contains(b) && !bidders.contains(b))
                .collect();
            to_examine.dedup();
            bidders.extend(&to_examine);
            let names = registry::operatori::public_identities(conn, &bidders)?
                .into_iter()
                .map(|(u, (r, _))| (u, r))
                .collect();
            Ok(View::Scope(Box::new(Loaded {
                proc,
                lot,
                lots,
                to_examine,
                oggetto: row.oggetto.clone(),
                communications,
                access,
                names,
            })))
        })
        .await?)
}

#[allow(clippy::too_many_arguments)]
async fn render_page(
    state: &web::Data<api::AppState>,
    rid: &api::request_id::RequestId,
    visitor: &Visitor,
    id: Uuid,
    lotto: Option<Uuid>,
    outcome: Option<String>,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Result<HttpResponse, PortalError> {
    let here = lotti::with_lot(&official::evaluation(id), lotto, &[]);
    let who = visitor.require_official(&here)?.clone();
    let ctx = state.audit_ctx(Some(who.user_id), rid);
    let l = match load(state, ctx, who, id, lotto).await? {
        View::Scope(l) => l,
        View::Choose { oggetto, lots } => {
            let chrome = Chrome::new(visitor, "Valutazione e aggiudicazione", Section::Ente)
                .crumb("Area ente", Some(official::DASHBOARD))
                .crumb("Bandi", Some(official::TENDERS))
                .crumb(oggetto.clone(), Some(&official::tender(id)))
                .crumb("Valutazione", None);
            let page = lotti::ChoosePage {
                chrome,
                title: "Valutazione e aggiudicazione",
                oggetto,
                lots: lotti::links(&official::evaluation(id), &lots, None),
                tender_href: official::tender(id),
            };
            return crate::pages::render_status(visitor, &page, status);
        }
    };
    let p = &l.proc;
    let names = &l.names;
    let mut participants: Vec<ParticipantRow> = p
        .participants
        .iter()
        .map(|x| ParticipantRow {
            bidder_id: x.bidder_id,
            name: name_of(names, &x.bidder_id),
            status: participant_status(&x.status),
            pending: x.status == "pending",
            admitted: x.status == "admitted",
            phase: x.excluded_phase.as_deref().map(phase_label).unwrap_or("").to_string(),
            reason: x.reason.clone().unwrap_or_default(),
            decided_at: when(&x.decided_at),
        })
        .collect();
    participants.extend(l.to_examine.iter().map(|b| ParticipantRow {
        bidder_id: *b,
        name: name_of(names, b),
        status: participant_status("pending"),
        pending: true,
        admitted: false,
        phase: String::new(),
        reason: String::new(),
        decided_at: String::new(),
    }));
    participants.sort_by(|a, b| a.name.cmp(&b.name));
    let admitted = p
        .participants
        .iter()
        .filter(|x| x.status == "admitted")
        .map(|x| Choice {
            id: x.bidder_id,
            name: name_of(names, &x.bidder_id),
        })
        .collect();
    let soccorsi = p
        .soccorsi
        .iter()
        .map(|s| SoccorsoRow {
            id: s.id,
            bidder: name_of(names, &s.bidder_id),
            request: s.request.clone(),
            deadline: rome(&s.deadline),
            answer: s.answer.clone(),
            answered_at: when(&s.answered_at),
            outcome: s.outcome.as_deref().map(|o| {
                let mut t = outcome_label(o).to_string();
                if let Some(r) = &s.outcome_reason {
                    t.push_str(&format!(" — {r}"));
                }
                t
            }),
            decidable: s.outcome.is_none() && s.answer.is_some(),
        })
        .collect();
    let ev = p.evaluation.as_ref();
    let economic_done = ev.is_some_and(|e| e.computed_at.is_some());
    // The stored computation is `{request, report, method_draw}`: the engine's report is what
    // the calculator shows, step by step.
    let steps = match ev
        .and_then(|e| e.anomaly.as_ref())
        .map(|a| named(a.get("report").unwrap_or(a), names))
    {
        Some(Value::Object(report)) => report_steps(&report),
        _ => Vec::new(),
    };
    let draw = match ev.and_then(|e| e.draw.as_ref()) {
        Some(Value::Object(d)) => report_steps(d),
        _ => Vec::new(),
    };
    let ranking = match ev.and_then(|e| e.ranking.as_ref()) {
        Some(Value::Array(lines)) => lines
            .iter()
            .map(|r| RankRow {
                rank: text(&r["rank"]),
                bidder: r["bidder_id"]
                    .as_str()
                    .and_then(|s| s.parse::<Uuid>().ok())
                    .map(|u| name_of(names, &u))
                    .unwrap_or_default(),
                discount: text(&r["discount"]),
                technical: crate::forms::score_value(&r["technical"]),
                economic: crate::forms::score_value(&r["economic"]),
                total: crate::forms::score_value(&r["total"]),
                tie_break: tie_break(&r["tie_break"]),
            })
            .collect(),
        _ => Vec::new(),
    };
    let art110 = p
        .art110
        .iter()
        .map(|a| Art110Row {
            id: a.id,
            bidder: name_of(names, &a.bidder_id),
            request: a.request.clone(),
            deadline: rome(&a.deadline),
            answer: a.answer.clone(),
            outcome: a.outcome.as_deref().map(|o| {
                let mut t = outcome_label(o).to_string();
                if let Some(r) = &a.outcome_reason {
                    t.push_str(&format!(" — {r}"));
                }
                t
            }),
            decidable: a.outcome.is_none() && a.answer.is_some(),
        })
        .collect();
    let exclusions = p
        .exclusion_proposals
        .iter()
        .map(|x| ExclusionRow {
            id: x.id,
            bidder: name_of(names, &x.bidder_id),
            phase: phase_label(&x.phase),
            reason: x.reason.clone(),
            proposed_at: rome(&x.proposed_at),
            decision: x.decision.as_deref().map(|d| {
                let word = if d == "confirmed" {
                    "Esclusione confermata dal RUP"
                } else {
                    "Proposta respinta dal RUP: l'offerta resta in gara"
                };
                format!(
                    "{word} il {} — {}",
                    when(&x.decided_at),
                    x.decision_reason.clone().unwrap_or_default()
                )
            }),
        })
        .collect();
    let requirements = p
        .requirements
        .iter()
        .map(|r| RequirementRow {
            requirement: r.requirement.clone(),
            evidence: r.evidence.clone(),
            satisfied: r.satisfied,
            checked_at: rome(&r.checked_at),
        })
        .collect();
    let award = p.award.as_ref().map(|a| AwardView {
        outcome: award_label(&a.outcome),
        winner: a.winner_id.map(|w| name_of(names, &w)).unwrap_or_default(),
        proposed_at: when(&a.proposed_at),
        awarded_at: when(&a.awarded_at),
        standstill: match a.standstill_applies {
            Some(true) => "Si applica il termine dilatorio (art. 18 c.3)".to_string(),
            Some(false) => format!(
                "Nessun termine dilatorio: {}",
                a.standstill_why.clone().unwrap_or_default()
            ),
            None => String::new(),
        },
        standstill_end: a.standstill_end.as_ref().map(|d| rome(&d.utc)),
        contract: if a.ready_for_contract {
            "Il contratto può essere stipulato".to_string()
        } else {
            a.contract_ready_from
                .as_ref()
                .map(|d| format!("Il contratto può essere stipulato dal {} (ora di Roma)", rome(&d.utc)))
                .unwrap_or_default()
        },
        terms: p.award_terms.as_ref().map(|t| {
            format!(
                "Ribasso di aggiudicazione {} % (offerto {} %); importo contrattuale {}",
                t.awarded_discount.to_string().replace('.', ","),
                t.offered_discount.to_string().replace('.', ","),
                euro(&t.contract_amount)
            )
        }),
    });
    let award_outcome = p.award.as_ref().map(|a| a.outcome.as_str());
    let communications = l
        .communications
        .iter()
        .map(|(c, d)| {
            let (delivery, delivered) = match d {
                Some(d) if d.sent_at.is_some() => (format!("Inviata il {}", when(&d.sent_at)), true),
                Some(d) if d.attempts > 0 => (
                    format!(
                        "Non ancora recapitata: {} tentativi{}",
                        d.attempts,
                        d.last_error
                            .as_ref()
                            .map(|e| format!(", ultimo errore: {e}"))
                            .unwrap_or_default()
                    ),
                    false,
                ),
                _ => ("In coda di invio".to_string(), false),
            };
            CommunicationRow {
                recipient: c
                    .recipient_user_id
                    .and_then(|u| names.get(&u).cloned())
                    .map(|n| format!("{n} <{}>", c.recipient_address))
                    .unwrap_or_else(|| c.recipient_address.clone()),
                subject: c.subject.clone(),
                body: c.body.clone(),
                created_at: rome(&c.created_at),
                delivery,
                delivered,
            }
        })
        .collect();
    let access = l.access.as_ref().map(|a| {
        let basis = match a.basis.as_str() {
            "insider" => "personale dell'ente",
            "top_five" => "tra i primi cinque in graduatoria",
            "non_excluded" => "offerente non escluso",
            _ => "—",
        };
        format!(
            "Titolo: {basis}. Buste consultabili ai sensi dell'art. 36: {}; ogni accesso è registrato.",
            a.envelopes.len()
        )
    });
    let chrome = Chrome::new(visitor, "Valutazione e aggiudicazione", Section::Ente)
        .crumb("Area ente", Some(official::DASHBOARD))
        .crumb("Bandi", Some(official::TENDERS))
        .crumb(l.oggetto.clone(), Some(&official::tender(id)))
        .crumb("Valutazione", None);
    let page = EvaluationPage {
        chrome,
        id,
        oggetto: l.oggetto.clone(),
        criterion: crate::labels::criterion(p.award_criterion).to_string(),
        state: crate::labels::state(p.state).to_string(),
        oepv: p.award_criterion == bando::AwardCriterion::Oepv,
        outcome,
        error,
        any_pending: participants.iter().any(|x| x.pending),
        participants,
        soccorsi,
        admitted,
        economic_done,
        anomaly_applies: match ev.and_then(|e| e.anomaly_applies) {
            Some(true) => "si applica",
            Some(false) => "non si applica",
            None => "—",
        },
        anomaly_why: ev.and_then(|e| e.anomaly_why.clone()).unwrap_or_default(),
        steps,
        draw,
        ranking,
        art110,
        exclusions,
        requirements,
        can_propose: economic_done && award_outcome.is_none(),
        can_award: award_outcome == Some("proposed"),
        award,
        communications,
        access,
        verbale_href: p
            .award
            .as_ref()
            .map(|_| lotti::with_lot(&format!("/api/v1/bandi/{id}/verbale.pdf"), lotto, &[])),
        lot_q: lotti::suffix(lotto),
        lots: lotti::links(&official::evaluation(id), &l.lots, lotto),
        lot_heading: lotti::heading(&l.lot),
        opening_href: official::opening(id),
        commission_href: lotti::with_lot(&official::commission(id), lotto, &[]),
        tender_href: official::tender(id),
    };
    crate::pages::render_status(visitor, &page, status)
}

#[get("/ente/bandi/{id}/valutazione")]
async fn show_page(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PortalError> {
    let outcome = q.esito.as_deref().and_then(done_message).map(str::to_string);
    render_page(
        &state,
        &rid,
        &visitor,
        id.into_inner(),
        q.lotto,
        outcome,
        None,
        StatusCode::OK,
    )
    .await
}

/// What each act's success says (the `esito` of the redirect).
fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "ammissione" => "Decisione sull'ammissione registrata.",
        "soccorso" => "Soccorso istruttorio richiesto: l'offerente è stato avvisato.",
        "soccorso-esito" => "Esito del soccorso istruttorio registrato.",
        "economica" => "Fase economica svolta: il calcolo è registrato e non cambia più.",
        "art110" => "Richiesta di spiegazioni (art. 110) inviata.",
        "art110-esito" => "Esito della verifica dell'art. 110 registrato.",
        "esclusione" => "Decisione sulla proposta di esclusione registrata.",
        "requisito" => "Verifica del requisito registrata.",
        "proposta" => "Proposta di aggiudicazione registrata.",
        "verbale" => "Verbale di aggiudicazione emesso: la sua impronta SHA-256 è nel registro pubblico.",
        "aggiudicazione" => "Aggiudicazione disposta: le comunicazioni dell'art. 90 sono in invio.",
        _ => return None,
    })
}

/// One act of the workflow from a form: the visitor must be an official, the token right;
/// then exactly one call. Success, or the same act already done by the first click of a
/// double click (`already_done` codes), is a 303 to the outcome; a refusal is the page again
/// with the workflow's message in `section` and its status, nothing changed.
#[allow(clippy::too_many_arguments)]
async fn act<T, F>(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: Uuid,
    lotto: Option<Uuid>,
    csrf: &str,
    section: &str,
    already_done: &[&str],
    f: F,
) -> Result<HttpResponse, PortalError>
where
    F: FnOnce(&mut PgConnection, &AuditCtx, &Principal, Uuid) -> Result<T, ProcedureError> + Send + 'static,
    T: Send + 'static,
{
    let page = official::evaluation(id);
    let who = visitor.require_official(&lotti::with_lot(&page, lotto, &[]))?.clone();
    visitor.check_csrf(csrf)?;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let outcome = state
        .db(move |conn| {
            let scope = procedure::scope(conn, id, lotto)?;
            f(conn, &ctx, &who, scope)
        })
        .await;
    let done = format!("{}#{section}", lotti::with_lot(&page, lotto, &[("esito", section)]));
    match outcome {
        Ok(_) => Ok(crate::pages::see_other(&done)),
        Err(e) if already_done.contains(&e.code.as_str()) => Ok(crate::pages::see_other(&done)),
        Err(e)
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND && e.status != StatusCode::FORBIDDEN =>
        {
            let status = e.status;
            render_page(
                &state,
                &rid,
                &visitor,
                id,
                lotto,
                None,
                Some((section.to_string(), e.message)),
                status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

fn bad_input(code: &str, message: &str) -> PortalError {
    PortalError::Page(api::ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message))
}

fn filled(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[derive(Debug, Deserialize)]
struct AdmissionForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    decisione: String,
    #[serde(default)]
    motivazione: String,
}

#[post("/ente/bandi/{id}/valutazione/ammissioni/{bidder}")]
async fn admission_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(Uuid, Uuid)>,
    lot: web::Query<LotParam>,
    form: web::Form<AdmissionForm>,
) -> Result<HttpResponse, PortalError> {
    let (id, bidder) = path.into_inner();
    let decision = match form.decisione.as_str() {
        "ammetti" => "admitted",
        "escludi" => "excluded",
        _ => {
            return Err(bad_input(
                "decision_unknown",
                "Decisione sconosciuta: ammettere o escludere",
            ))
        }
    };
    let body = AdmissionDecision {
        bidder_id: bidder,
        decision: decision.into(),
        reason: filled(&form.motivazione),
    };
    act(
        state,
        rid,
        visitor,
        id,
        lot.lotto,
        &form.csrf,
        "ammissione",
        &[],
        move |c, ctx, who, s| admission::decide(c, ctx, who, s, &body),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct SoccorsoForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    offerente: Uuid,
    richiesta: String,
    giorni: String,
}

#[post("/ente/bandi/{id}/valutazione/soccorsi")]
async fn soccorso_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    lot: web::Query<LotParam>,
    form: web::Form<SoccorsoForm>,
) -> Result<HttpResponse, PortalError> {
    let days: i32 = form
        .giorni
        .trim()
        .parse()
        .map_err(|_| bad_input("soccorso_days", "Indicare i giorni per rispondere (da 5 a 10)"))?;
    let body = SoccorsoRequest {
        bidder_id: form.offerente,
        request: form.richiesta.clone(),
        days,
        envelope: Some("A".into()),
    };
    act(
        state,
        rid,
        visitor,
        id.into_inner(),
        lot.lotto,
        &form.csrf,
        "soccorso",
        &[],
        move |c, ctx, who, s| admission::request_soccorso(c, ctx, who, s, &body),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct OutcomeForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    esito: String,
    #[serde(default)]
    motivazione: String,
}

impl OutcomeForm {
    fn outcome(&self) -> Result<Outcome, PortalError> {
        let accepted = match self.esito.as_str() {
            "accogli" => true,
            "escludi" => false,
            _ => {
                return Err(bad_input(
                    "outcome_unknown",
                    "Esito sconosciuto: accogliere o escludere",
                ))
            }
        };
        Ok(Outcome {
            accepted,
            reason: filled(&self.motivazione),
        })
    }
}

#[post("/ente/bandi/{id}/valutazione/soccorsi/{sid}/esito")]
async fn soccorso_outcome_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(Uuid, Uuid)>,
    lot: web::Query<LotParam>,
    form: web::Form<OutcomeForm>,
) -> Result<HttpResponse, PortalError> {
    let (id, sid) = path.into_inner();
    let body = form.outcome()?;
    act(
        state,
        rid,
        visitor,
        id,
        lot.lotto,
        &form.csrf,
        "soccorso-esito",
        &[],
        move |c, ctx, who, s| admission::decide_soccorso(c, ctx, who, s, sid, &body),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct PlainForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

#[post("/ente/bandi/{id}/valutazione/economica")]
async fn economic_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    lot: web::Query<LotParam>,
    form: web::Form<PlainForm>,
) -> Result<HttpResponse, PortalError> {
    act(
        state,
        rid,
        visitor,
        id.into_inner(),
        lot.lotto,
        &form.csrf,
        "economica",
        &["economic_phase_done"],
        move |c, ctx, who, s| evaluation::economic(c, ctx, who, s, &EconomicPhase {}),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct Art110Form {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    offerente: Uuid,
    richiesta: String,
}

#[post("/ente/bandi/{id}/valutazione/art110")]
async fn art110_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    lot: web::Query<LotParam>,
    form: web::Form<Art110Form>,
) -> Result<HttpResponse, PortalError> {
    let body = Art110Request {
        bidder_id: form.offerente,
        request: form.richiesta.clone(),
    };
    act(
        state,
        rid,
        visitor,
        id.into_inner(),
        lot.lotto,
        &form.csrf,
        "art110",
        &[],
        move |c, ctx, who, s| evaluation::request_art110(c, ctx, who, s, &body),
    )
    .await
}

#[post("/ente/bandi/{id}/valutazione/art110/{sid}/esito")]
async fn art110_outcome_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(Uuid, Uuid)>,
    lot: web::Query<LotParam>,
    form: web::Form<OutcomeForm>,
) -> Result<HttpResponse, PortalError> {
    let (id, sid) = path.into_inner();
    let body = form.outcome()?;
    act(
        state,
        rid,
        visitor,
        id,
        lot.lotto,
        &form.csrf,
        "art110-esito",
        &[],
        move |c, ctx, who, s| evaluation::decide_art110(c, ctx, who, s, sid, &body),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ExclusionForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    decisione: String,
    #[serde(default)]
    motivazione: String,
}

#[post("/ente/bandi/{id}/valutazione/esclusioni/{pid}")]
async fn exclusion_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    path: web::Path<(Uuid, Uuid)>,
    lot: web::Query<LotParam>,
    form: web::Form<ExclusionForm>,
) -> Result<HttpResponse, PortalError> {
    let (id, pid) = path.into_inner();
    let confirmed = match form.decisione.as_str() {
        "conferma" => true,
        "respingi" => false,
        _ => {
            return Err(bad_input(
                "decision_unknown",
                "Decisione sconosciuta: confermare o respingere",
            ))
        }
    };
    let body = ExclusionDecision {
        confirmed,
        reason: form.motivazione.trim().to_string(),
    };
    act(
        state,
        rid,
        visitor,
        id,
        lot.lotto,
        &form.csrf,
        "esclusione",
        &["exclusion_decided"],
        move |c, ctx, who, s| exclusions::decide(c, ctx, who, s, pid, &body),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct RequirementForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    requisito: String,
    evidenza: String,
    esito: String,
}

#[post("/ente/bandi/{id}/valutazione/requisiti")]
async fn requirement_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    lot: web::Query<LotParam>,
    form: web::Form<RequirementForm>,
) -> Result<HttpResponse, PortalError> {
    let satisfied = match form.esito.as_str() {
        "soddisfatto" => true,
        "non_soddisfatto" => false,
        _ => return Err(bad_input("outcome_unknown", "Indicare se il requisito è soddisfatto")),
    };
    let body = RequirementCheck {
        requirement: form.requisito.trim().to_string(),
        evidence: form.evidenza.trim().to_string(),
        satisfied,
    };
    act(
        state,
        rid,
        visitor,
        id.into_inner(),
        lot.lotto,
        &form.csrf,
        "requisito",
        &[],
        move |c, ctx, who, s| award::check_requirement(c, ctx, who, s, &body),
    )
    .await
}

#[post("/ente/bandi/{id}/valutazione/proposta")]
async fn proposal_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    lot: web::Query<LotParam>,
    form: web::Form<PlainForm>,
) -> Result<HttpResponse, PortalError> {
    act(
        state,
        rid,
        visitor,
        id.into_inner(),
        lot.lotto,
        &form.csrf,
        "proposta",
        &["outcome_exists"],
        award::propose,
    )
    .await
}

#[post("/ente/bandi/{id}/valutazione/aggiudicazione")]
async fn award_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    lot: web::Query<LotParam>,
    form: web::Form<PlainForm>,
) -> Result<HttpResponse, PortalError> {
    act(
        state,
        rid,
        visitor,
        id.into_inner(),
        lot.lotto,
        &form.csrf,
        "aggiudicazione",
        &["already_awarded"],
        award::award,
    )
    .await
}

/// Issues the award report (`documents::issued::issue`, the API's `POST .../documenti-emessi`):
/// the same data issues once, so a second click finds the document already issued.
#[post("/ente/bandi/{id}/valutazione/verbale")]
async fn report_form(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    lot: web::Query<LotParam>,
    form: web::Form<PlainForm>,
) -> Result<HttpResponse, PortalError> {
    let id = id.into_inner();
    let lotto = lot.lotto;
    act(
        state,
        rid,
        visitor,
        id,
        lotto,
        &form.csrf,
        "verbale",
        &[],
        move |conn, ctx, who, _| {
            let req = documents::issued::IssueRequest {
                kind: documents::issued::Kind::VerbaleAggiudicazione,
                lotto,
                busta: None,
            };
            documents::issued::issue(conn, ctx, who, id, &req).map_err(|e| match e {
                documents::DocumentError::Procedure(p) => p,
                documents::DocumentError::Forbidden => ProcedureError::Forbidden,
                documents::DocumentError::Conflict { code, message } => ProcedureError::conflict(code, message),
                other => ProcedureError::conflict("document_unavailable", other.to_string()),
            })
        },
    )
    .await
}
