//! `/bandi`: the published tenders with their search, and `/bandi/{id}`: a tender's page.
//! The search is `bando::service::list_public` (the API's `GET /api/v1/public/bandi`), so a
//! filter the domain refuses comes back here as a message on its field.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use aggiudicazione::procedure::public_outcome::{self, PublicAward};
use askama::Template;
use bando::model::{AnomalyMethod, Bando, Chiarimento, LotState, ProcedureType, PublicFilter, State, Versione};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::esiti::AwardLine;
use super::{filled, pair, query};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{self, FieldErrors};
use crate::labels;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(detail);
}

/// Tenders per page of the list.
const PAGE_SIZE: i64 = 20;

/// The search form as sent (GET, so a search is a link). Names are the page's, Italian; the
/// home page's form sends `q` and links `stato`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    pub q: Option<String>,
    pub cpv: Option<String>,
    pub ente: Option<String>,
    pub procedura: Option<String>,
    pub stato: Option<String>,
    pub importo_min: Option<String>,
    pub importo_max: Option<String>,
    /// A day (`2026-06-01`): deadlines from its start.
    pub scadenza_dal: Option<String>,
    /// A day: deadlines up to its end.
    pub scadenza_al: Option<String>,
    pub cursore: Option<String>,
}

/// The form's fields paired with the names the domain reports errors under.
const FIELDS: &[(&str, &str)] = &[
    ("q", "q"),
    ("cpv", "cpv"),
    ("ente", "ente"),
    ("procedura", "procedure"),
    ("stato", "state"),
    ("importo_min", "amount_min"),
    ("importo_max", "amount_max"),
    ("scadenza_dal", "deadline_from"),
    ("scadenza_al", "deadline_to"),
];

impl SearchForm {
    fn values(&self) -> [(&'static str, Option<String>); 9] {
        [
            ("q", filled(&self.q)),
            ("cpv", filled(&self.cpv)),
            ("ente", filled(&self.ente)),
            ("procedura", filled(&self.procedura)),
            ("stato", filled(&self.stato)),
            ("importo_min", filled(&self.importo_min)),
            ("importo_max", filled(&self.importo_max)),
            ("scadenza_dal", filled(&self.scadenza_dal)),
            ("scadenza_al", filled(&self.scadenza_al)),
        ]
    }

    /// The filters as a query string (without the cursor): the next page's link keeps them.
    fn query_string(&self) -> String {
        self.values()
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| pair(k, v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn is_filtered(&self) -> bool {
        self.values().iter().any(|(_, v)| v.is_some())
    }

    /// The domain's filter. A day alone (what `<input type="date">` sends) becomes Rome
    /// midnight, the end day the midnight after it; anything else goes as typed, for the
    /// domain to accept or refuse.
    fn filter(&self) -> Result<PublicFilter, FieldErrors> {
        let ente = match filled(&self.ente) {
            None => None,
            Some(e) => match uuid::Uuid::parse_str(&e) {
                Ok(id) => Some(id),
                Err(_) => {
                    let mut errors = FieldErrors::default();
                    errors
                        .by_field
                        .insert("ente".into(), "Ente non valido: sceglierlo dall'elenco".into());
                    return Err(errors);
                }
            },
        };
        let day = |s: Option<String>, next: bool| {
            s.map(|s| match chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
                Ok(d) => {
                    let d = if next { d.succ_opt().unwrap_or(d) } else { d };
                    format!("{}T00:00", d.format("%Y-%m-%d"))
                }
                Err(_) => s,
            })
        };
        Ok(PublicFilter {
            q: filled(&self.q),
            ente,
            cpv: filled(&self.cpv),
            procedure: filled(&self.procedura),
            state: filled(&self.stato),
            deadline_from: day(filled(&self.scadenza_dal), false),
            deadline_to: day(filled(&self.scadenza_al), true),
            amount_min: filled(&self.importo_min),
            amount_max: filled(&self.importo_max),
            cursor: filled(&self.cursore),
            limit: Some(PAGE_SIZE),
        })
    }
}

/// Errors keyed by the page's field names, so the template finds them next to their input.
fn on_page_fields(api: FieldErrors) -> FieldErrors {
    let mut out = FieldErrors {
        general: api.general,
        ..Default::default()
    };
    for (field, message) in api.by_field {
        match FIELDS.iter().find(|(_, domain)| *domain == field) {
            Some((page, _)) => {
                out.by_field.insert((*page).to_string(), message);
            }
            None if field == "cursor" => out.general.push(message),
            None => {
                out.by_field.insert(field, message);
            }
        }
    }
    out
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A row of the results table.
pub struct Row {
    pub id: String,
    pub oggetto: String,
    pub ente: String,
    pub cig: String,
    pub procedure: &'static str,
    pub amount: String,
    pub state: &'static str,
    pub deadline: Option<(String, String, String)>,
}

impl Row {
    fn of(b: &Bando, now: &DateTime<Utc>) -> Self {
        Row {
            id: b.id.to_string(),
            oggetto: b.oggetto.clone(),
            ente: b.ente_nome.clone(),
            cig: b.cig.clone().unwrap_or_else(|| "—".into()),
            procedure: labels::procedure(b.procedure_type),
            amount: forms::euro(&b.base_amount),
            state: labels::state(b.state),
            deadline: b
                .submission_deadline
                .as_ref()
                .map(|d| (forms::iso(&d.utc), forms::rome(&d.utc), forms::time_left(now, &d.utc))),
        }
    }
}

#[derive(Template)]
#[template(path = "public/bandi.html")]
struct ListPage {
    chrome: Chrome,
    form: SearchForm,
    errors: FieldErrors,
    enti: Vec<Choice>,
    procedures: Vec<Choice>,
    states: Vec<Choice>,
    rows: Vec<Row>,
    filtered: bool,
    next: Option<String>,
    first: Option<String>,
}

impl ListPage {
    fn value<'a>(&'a self, field: &str) -> &'a str {
        let f = &self.form;
        let v = match field {
            "q" => &f.q,
            "cpv" => &f.cpv,
            "importo_min" => &f.importo_min,
            "importo_max" => &f.importo_max,
            "scadenza_dal" => &f.scadenza_dal,
            "scadenza_al" => &f.scadenza_al,
            _ => &None,
        };
        v.as_deref().unwrap_or("")
    }
}

fn choices<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> String,
    label: impl Fn(T) -> String,
    sent: &Option<String>,
) -> Vec<Choice> {
    let sent = filled(sent);
    all.iter()
        .map(|t| {
            let v = value(*t);
            Choice {
                selected: sent.as_deref() == Some(v.as_str()),
                label: label(*t),
                value: v,
            }
        })
        .collect()
}

/// What the list page reads: the enti to choose from and the page of tenders (or what is
/// wrong with the search). Public: `tests/tests/public_cache.rs` checks its tables notify.
pub type ListData = (Vec<(uuid::Uuid, String)>, Result<bando::model::BandoPage, FieldErrors>);

pub fn list_data(
    conn: &mut diesel::PgConnection,
    who: Option<&accounts::Principal>,
    filter: Result<PublicFilter, FieldErrors>,
) -> Result<ListData, bando::BandoError> {
    let enti = bando::service::public_enti(conn, who)?;
    let found = match filter {
        Ok(f) => bando::service::list_public(conn, who, &f)
            .map_err(|e| on_page_fields(FieldErrors::from_api(&api::ApiError::from(e)))),
        Err(e) => Err(e),
    };
    Ok((enti, found))
}

/// What a tender's page reads (see [`list_data`]).
pub type DetailData = (Bando, Vec<Versione>, Vec<Chiarimento>, Vec<PublicAward>);

pub fn detail_data(
    conn: &mut diesel::PgConnection,
    who: Option<&accounts::Principal>,
    id: uuid::Uuid,
) -> Result<DetailData, aggiudicazione::procedure::ProcedureError> {
    let b = bando::service::get_public(conn, who, id)?;
    let v = bando::service::versions(conn, who, id)?;
    let q = bando::service::public_clarifications(conn, who, id)?;
    let a = public_outcome::awards_of(conn, &public_outcome::scopes_of(&b))?;
    Ok((b, v, q, a))
}

#[get("/bandi")]
async fn list(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    req: HttpRequest,
) -> Result<HttpResponse, PortalError> {
    let form: SearchForm = query(&req)?;
    let who = visitor.principal.clone();
    let filter = form.filter();
    let (enti, found) = state.db(move |conn| list_data(conn, who.as_ref(), filter)).await?;
    let now = state.clock.now();
    let (rows, next_cursor, errors, changes_at) = match found {
        Ok(page) => (
            page.items.iter().map(|b| Row::of(b, &now)).collect(),
            page.next_cursor,
            FieldErrors::default(),
            forms::countdowns_change_at(
                &now,
                page.items
                    .iter()
                    .filter_map(|b| b.submission_deadline.as_ref().map(|d| &d.utc)),
            ),
        ),
        Err(errors) => (Vec::new(), None, errors, None),
    };
    let public = visitor.anonymous();
    let shown = public.as_ref().unwrap_or(&visitor);
    let base = form.query_string();
    let link = |extra: Option<String>| {
        let q: Vec<String> = [Some(base.clone()).filter(|b| !b.is_empty()), extra]
            .into_iter()
            .flatten()
            .collect();
        if q.is_empty() {
            "/bandi".to_string()
        } else {
            format!("/bandi?{}", q.join("&"))
        }
    };
    let next = next_cursor.map(|c| link(Some(pair("cursore", &c))));
    let first = filled(&form.cursore).map(|_| link(None));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let ente_sent = filled(&form.ente);
    let page = ListPage {
        chrome: Chrome::new(shown, "Bandi e avvisi", Section::Bandi).crumb("Bandi e avvisi", None),
        enti: enti
            .into_iter()
            .map(|(id, nome)| Choice {
                selected: ente_sent.as_deref() == Some(id.to_string().as_str()),
                value: id.to_string(),
                label: nome,
            })
            .collect(),
        procedures: choices(
            ProcedureType::ALL,
            |p| p.as_str().to_string(),
            |p| labels::procedure(p).to_string(),
            &form.procedura,
        ),
        states: choices(
            &State::ALL[1..],
            |s| s.as_str().to_string(),
            |s| labels::state(s).to_string(),
            &form.stato,
        ),
        filtered: form.is_filtered(),
        rows,
        next,
        first,
        errors,
        form,
    };
    let mut res = super::super::render_status(shown, &page, status)?;
    if public.is_some() {
        api::public_cache::mark(&mut res, changes_at);
    }
    Ok(res)
}

pub struct Dated {
    pub label: &'static str,
    pub iso: String,
    pub rome: String,
    pub left: Option<String>,
}

pub struct Doc {
    pub href: String,
    pub filename: String,
    pub kind: &'static str,
    pub size: String,
    pub sha256: String,
    pub version: i32,
}

pub struct Lot {
    pub numero: i32,
    pub oggetto: String,
    pub cig: String,
    pub amount: String,
    pub safety: String,
    pub state: &'static str,
    pub note: Option<String>,
}

pub struct ChangeLine {
    pub field: String,
    pub from: String,
    pub to: String,
}

pub struct Version {
    pub number: i32,
    pub is_rettifica: bool,
    pub reason: Option<String>,
    pub iso: String,
    pub rome: String,
    pub changes: Vec<ChangeLine>,
    pub requires_bid_confirmation: bool,
}

pub struct Question {
    pub numero: i32,
    pub question: String,
    pub answer: String,
    pub answered: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "public/bando.html")]
struct DetailPage {
    chrome: Chrome,
    id: String,
    oggetto: String,
    ente: String,
    cig: String,
    cup: String,
    cpv: String,
    cpv_additional: String,
    nuts: String,
    procedure: &'static str,
    criterion: &'static str,
    contract: &'static str,
    state: &'static str,
    base_amount: String,
    safety_costs: String,
    subject_to_discount: String,
    dates: Vec<Dated>,
    offer_validity_days: i32,
    envelopes: Vec<&'static str>,
    anomaly: Vec<String>,
    max_duration: Option<String>,
    documents: Vec<Doc>,
    lots: Vec<Lot>,
    versions: Vec<Version>,
    questions: Vec<Question>,
    /// The awards made (art. 28), by lot number for a tender with lots.
    awards: Vec<(Option<i32>, AwardLine)>,
    can_bid: bool,
    bid_login: bool,
    can_ask: bool,
}

fn lot_state(s: LotState) -> &'static str {
    match s {
        LotState::Active => "In corso",
        LotState::ProposedAward => "Proposta di aggiudicazione",
        LotState::Awarded | LotState::Effective => "Aggiudicato",
        LotState::Deserted => "Deserto",
        LotState::Cancelled => "Annullato",
    }
}

fn document_kind(k: bando::model::DocumentKind) -> &'static str {
    match k {
        bando::model::DocumentKind::Disciplinare => "Disciplinare di gara",
        bando::model::DocumentKind::Capitolato => "Capitolato",
        bando::model::DocumentKind::Allegato => "Allegato",
    }
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)).replace('.', ","),
        b if b >= 1024 => format!("{} kB", b / 1024),
        b => format!("{b} byte"),
    }
}

fn field_label(field: &str) -> String {
    match field {
        "submission_deadline" => "Termine per le offerte".into(),
        "questions_deadline" => "Termine per i chiarimenti".into(),
        "opening_at" => "Apertura delle buste".into(),
        other => other.replace('_', " "),
    }
}

/// A changed value as readers expect it: instants in Rome time, the rest as written.
fn change_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => format!("{} (ora italiana)", forms::rome(&t.with_timezone(&Utc))),
            Err(_) => s.clone(),
        },
        serde_json::Value::Object(o) => match o.get("utc").and_then(|u| u.as_str()).map(DateTime::parse_from_rfc3339) {
            Some(Ok(t)) => format!("{} (ora italiana)", forms::rome(&t.with_timezone(&Utc))),
            _ => v.to_string(),
        },
        other => other.to_string(),
    }
}

fn anomaly_lines(b: &Bando) -> Vec<String> {
    let mut out = Vec::new();
    let method = |m: AnomalyMethod| format!("metodo {} dell'Allegato II.2", m.as_str());
    match b.anomaly_method {
        Some(m) => out.push(format!(
            "Esclusione automatica delle offerte anomale (art. 54): {}",
            method(m)
        )),
        None if !b.anomaly_terms.draw_methods.is_empty() => out.push(format!(
            "Esclusione automatica delle offerte anomale (art. 54): metodo sorteggiato in seduta tra {}",
            b.anomaly_terms
                .draw_methods
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => out.push("Nessun metodo di esclusione automatica delle offerte anomale indicato".into()),
    }
    if let Some(r) = b.anomaly_terms.reference_discount {
        out.push(format!(
            "Ribasso di riferimento (metodo C): {} %",
            r.to_string().replace('.', ",")
        ));
    }
    if b.anomaly_terms.cross_border_interest {
        out.push("Interesse transfrontaliero certo: nessuna esclusione automatica (art. 54 c.1)".into());
    }
    if let Some(d) = b.anomaly_terms.offer_decimals {
        out.push(format!("Offerta economica con al più {d} cifre decimali"));
    }
    out
}

#[get("/bandi/{id}")]
async fn detail(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PortalError> {
    let id = super::uuid(&path, "Bando")?;
    let who = visitor.principal.clone();
    let (b, versions, questions, awards) = state.db(move |conn| detail_data(conn, who.as_ref(), id)).await?;
    let now = state.clock.now();
    let open_until =
        |d: &Option<bando::model::Deadline>| b.state == State::Published && d.as_ref().is_some_and(|d| d.utc > now);
    let submissions_open = open_until(&b.submission_deadline);
    let questions_open = open_until(&b.questions_deadline);
    let mut dates = Vec::new();
    for (label, d, countdown) in [
        ("Termine per i chiarimenti", &b.questions_deadline, true),
        (
            "Termine per la presentazione delle offerte",
            &b.submission_deadline,
            true,
        ),
        ("Apertura delle buste", &b.opening_at, true),
        ("Validità delle offerte fino al", &b.offer_validity_until, false),
    ] {
        if let Some(d) = d {
            dates.push(Dated {
                label,
                iso: forms::iso(&d.utc),
                rome: forms::rome(&d.utc),
                left: countdown.then(|| forms::time_left(&now, &d.utc)),
            });
        }
    }
    if let Some(p) = b.published_at {
        dates.insert(
            0,
            Dated {
                label: "Pubblicato il",
                iso: forms::iso(&p),
                rome: forms::rome(&p),
                left: None,
            },
        );
    }
    let public = visitor.anonymous();
    let shown = public.as_ref().unwrap_or(&visitor);
    let changes_at = forms::countdowns_change_at(
        &now,
        [&b.questions_deadline, &b.submission_deadline, &b.opening_at]
            .into_iter()
            .flatten()
            .map(|d| &d.utc),
    );
    let page = DetailPage {
        chrome: Chrome::new(shown, b.oggetto.clone(), Section::Bandi)
            .crumb("Bandi e avvisi", Some("/bandi"))
            .crumb(b.oggetto.clone(), None),
        id: b.id.to_string(),
        oggetto: b.oggetto.clone(),
        ente: b.ente_nome.clone(),
        cig: b.cig.clone().unwrap_or_else(|| "—".into()),
        cup: b.cup.clone().unwrap_or_else(|| "—".into()),
        cpv: format!("{} · {}", b.cpv_main, b.cpv_main_label),
        cpv_additional: b.cpv_additional.join(", "),
        nuts: b.nuts.clone(),
        procedure: labels::procedure(b.procedure_type),
        criterion: labels::criterion(b.award_criterion),
        contract: labels::contract(b.contract_type),
        state: labels::state(b.state),
        base_amount: forms::euro(&b.base_amount),
        safety_costs: forms::euro(&b.safety_costs),
        subject_to_discount: forms::euro(&b.amount_subject_to_discount),
        dates,
        offer_validity_days: b.offer_validity_days,
        envelopes: b.envelopes.iter().map(|e| labels::envelope(e.as_str())).collect(),
        anomaly: anomaly_lines(&b),
        max_duration: b.max_duration.as_ref().map(|m| {
            format!(
                "{} mesi dalla pubblicazione ({}), cioè entro il {}{}",
                m.months,
                m.citation,
                m.due_date.format("%d/%m/%Y"),
                if m.anomaly_extension {
                    " (un mese in più per la verifica dell'anomalia)"
                } else {
                    ""
                }
            )
        }),
        documents: b
            .documenti
            .iter()
            .map(|d| Doc {
                href: format!("/api/v1/public/bandi/{}/documenti/{}", b.id, d.id),
                filename: d.filename.clone(),
                kind: document_kind(d.kind),
                size: size(d.size_bytes),
                sha256: d.sha256.clone(),
                version: d.version,
            })
            .collect(),
        lots: b
            .lotti
            .iter()
            .map(|l| Lot {
                numero: l.numero,
                oggetto: l.oggetto.clone(),
                cig: l.cig.clone(),
                amount: forms::euro(&l.base_amount),
                safety: forms::euro(&l.safety_costs),
                state: lot_state(l.state),
                note: l.outcome_note.clone(),
            })
            .collect(),
        versions: versions
            .iter()
            .map(|v| Version {
                number: v.version,
                is_rettifica: v.kind == "rettifica",
                reason: v.reason.clone(),
                iso: forms::iso(&v.published_at),
                rome: forms::rome(&v.published_at),
                changes: v
                    .changes
                    .iter()
                    .map(|c| ChangeLine {
                        field: field_label(&c.field),
                        from: change_value(&c.from),
                        to: change_value(&c.to),
                    })
                    .collect(),
                requires_bid_confirmation: v.requires_bid_confirmation,
            })
            .collect(),
        questions: questions
            .into_iter()
            .map(|q| Question {
                numero: q.numero,
                question: q.question,
                answer: q.answer.unwrap_or_default(),
                answered: q.answered_at.map(|a| (forms::iso(&a), forms::rome(&a))),
            })
            .collect(),
        awards: awards.iter().map(|a| (a.lotto, AwardLine::of(a))).collect(),
        can_bid: submissions_open && visitor.is_supplier(),
        bid_login: submissions_open && visitor.principal.is_none(),
        can_ask: questions_open && !visitor.is_official(),
    };
    let mut res = super::super::render(shown, &page)?;
    if public.is_some() {
        api::public_cache::mark(&mut res, changes_at);
    }
    Ok(res)
}
