//! The auditors' pages (issue 13 point 5): `/ente/registro`, an ente's audit trail narrowed by
//! period (days in Europe/Rome), tender, actor and action, page by page, with the CSV export;
//! and `/ente/bandi/{id}/cronologia`, every event of one tender in order, with the award
//! report and the checks against the public log.
//!
//! The readers are the trail's (`accounts::trail`: the ente's auditors and the centrale's
//! admins; anyone else 403) and so is what they see (events about bids only after the
//! deadline, hidden actors blanked): the same rules as `GET /enti/{id}/audit-events`.

use std::collections::BTreeMap;

use accounts::users::{self, User};
use accounts::{trail, Principal, Role};
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Rome;
use db::audit::{AuditRow, TrailFilter};
use diesel::PgConnection;
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms::{iso, rome, url_encode, FieldErrors};
use crate::pages::official;
use crate::pages::public::{filled, pair, query, uuid};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(trail_page).service(timeline);
}

/// Events per page of the trail.
const PAGE: i64 = 50;
/// A tender's timeline reads at most this many events (pages of the trail's maximum).
const TIMELINE_MAX: usize = 5_000;

/// The audit actions in Italian, by their stable code (the code stays next to the words).
pub const ACTIONS: &[(&str, &str)] = &[
    ("bando.created", "Bando creato in bozza"),
    ("bando.draft_updated", "Bozza del bando modificata"),
    ("bando.document_added", "Documento di gara allegato"),
    ("bando.published", "Bando pubblicato"),
    ("bando.state_changed", "Cambio di stato del bando"),
    ("lotto.state_changed", "Cambio di stato del lotto"),
    ("bando.amended", "Rettifica pubblicata"),
    ("bando.amended_after_bids", "Rettifica dopo offerte già presentate"),
    (
        "bando.max_duration_warning",
        "Avviso: durata massima della procedura vicina",
    ),
    ("bando.max_duration_exceeded", "Durata massima della procedura superata"),
    (
        "bando.sigillo_chiave_trasporto",
        "Custode: chiave di trasporto registrata",
    ),
    ("bando.sigillo_contributo", "Custode: contributo alla chiave del bando"),
    ("bando.sigillo_conferma", "Custode: conferma della chiave del bando"),
    ("bando.chiave_caricata", "Chiave pubblica del bando pronta"),
    ("bando.sigillo_azzerato", "Cerimonia delle chiavi azzerata"),
    ("bando.quota_apertura", "Custode: quota di apertura consegnata"),
    ("bando.buste_aperte", "Buste aperte"),
    ("busta.contenuto_scaricato", "Contenuto di una busta scaricato"),
    ("busta.file_scaricato", "File di una busta scaricato"),
    ("chiarimento.asked", "Richiesta di chiarimento"),
    ("chiarimento.answered", "Chiarimento pubblicato"),
    ("offerte.envelope_submitted", "Busta presentata"),
    ("offerte.envelope_replaced", "Busta sostituita"),
    ("offerte.bid_confirmed", "Offerta confermata"),
    ("offerte.bid_withdrawn", "Offerta ritirata"),
    ("offerte.rettifica_notified", "Offerente informato della rettifica"),
    ("offerte.upload_started", "Caricamento di una busta avviato"),
    ("offerte.upload_part_received", "Parte di una busta ricevuta"),
    ("offerte.upload_completed", "Caricamento di una busta completato"),
    ("offerte.upload_abandoned", "Caricamento di una busta abbandonato"),
    ("offerte.upload_expired", "Caricamento di una busta scaduto"),
    ("aggiudicazione.ammissione", "Ammissione o esclusione dopo la busta A"),
    ("aggiudicazione.soccorso_richiesto", "Soccorso istruttorio richiesto"),
    ("aggiudicazione.soccorso_risposta", "Risposta al soccorso istruttorio"),
    ("aggiudicazione.soccorso_accolto", "Esito del soccorso istruttorio"),
    (
        "aggiudicazione.commissione_nominata",
        "Commissione giudicatrice nominata",
    ),
    (
        "aggiudicazione.dichiarazione_commissario",
        "Dichiarazione del commissario (art. 93 c.5)",
    ),
    ("aggiudicazione.coefficienti", "Coefficienti di un commissario"),
    ("aggiudicazione.valutazione_tecnica", "Valutazione tecnica chiusa"),
    (
        "aggiudicazione.metodo_anomalia_sorteggiato",
        "Metodo di calcolo dell'anomalia sorteggiato",
    ),
    ("aggiudicazione.soglia_anomalia", "Soglia di anomalia calcolata"),
    (
        "aggiudicazione.valutazione_economica",
        "Valutazione economica e graduatoria",
    ),
    (
        "aggiudicazione.esclusione_proposta",
        "Esclusione proposta dalla piattaforma",
    ),
    ("aggiudicazione.esclusione_confermata", "Esclusione confermata dal RUP"),
    (
        "aggiudicazione.esclusione_respinta",
        "Proposta di esclusione respinta dal RUP",
    ),
    ("aggiudicazione.esclusione", "Offerente escluso"),
    ("aggiudicazione.proposta", "Proposta di aggiudicazione"),
    (
        "aggiudicazione.requisito_verificato",
        "Requisito dell'aggiudicatario verificato",
    ),
    (
        "aggiudicazione.condizioni_aggiudicazione",
        "Ribasso e importo contrattuale registrati",
    ),
    ("aggiudicazione.aggiudicata", "Aggiudicazione"),
    ("aggiudicazione.deserta", "Gara deserta"),
    ("aggiudicazione.non_aggiudicata", "Gara non aggiudicata"),
    ("aggiudicazione.accesso_atti", "Accesso agli atti (art. 36)"),
    ("documenti.verbale_aggiudicazione", "Verbale di aggiudicazione emesso"),
    ("ente.created", "Ente registrato"),
    ("ente.authority_profile_set", "Profilo dell'amministrazione aggiornato"),
    ("ente.qualification_recorded", "Qualificazione dell'ente registrata"),
    ("role.granted", "Ruolo assegnato"),
    ("role.revoked", "Ruolo revocato"),
];

/// The Italian words of an action code; an unknown code is shown as it is.
pub fn action_label(code: &str) -> &str {
    ACTIONS.iter().find(|(c, _)| *c == code).map_or(code, |(_, l)| l)
}

#[derive(Debug, Default, Deserialize)]
struct TrailQuery {
    ente: Option<String>,
    dal: Option<String>,
    al: Option<String>,
    bando: Option<String>,
    attore: Option<String>,
    azione: Option<String>,
    dopo: Option<i64>,
}

pub struct EventRow {
    pub id: i64,
    pub at: String,
    pub iso: String,
    pub actor: String,
    pub code: String,
    pub label: String,
    pub tender: Option<(String, String)>,
    pub proof: Option<String>,
    pub details: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "official/audit-registro.html")]
struct TrailPage {
    chrome: Chrome,
    here: &'static str,
    ente: String,
    ente_nome: String,
    enti: Vec<Choice>,
    dal: String,
    al: String,
    tenders: Vec<Choice>,
    actors: Vec<Choice>,
    actions: Vec<Choice>,
    errors: FieldErrors,
    events: Vec<EventRow>,
    next: Option<String>,
    first: Option<String>,
    csv: String,
}

#[derive(Template)]
#[template(path = "official/audit-cronologia.html")]
struct TimelinePage {
    chrome: Chrome,
    oggetto: String,
    events: Vec<EventRow>,
    truncated: bool,
    verbale: String,
    csv: String,
    trail: String,
    commission: String,
}

/// A day typed as `YYYY-MM-DD` (the date field) or `DD/MM/YYYY`: its first instant in Rome.
fn rome_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    Rome.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

/// The filter of the query, or the fields that are not valid (422, nothing read).
fn filter_of(q: &TrailQuery) -> Result<TrailFilter, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut f = TrailFilter::default();
    if let Some(d) = filled(&q.dal) {
        match parse_day(&d).and_then(rome_midnight) {
            Some(t) => f.from = Some(t),
            None => {
                errors
                    .by_field
                    .insert("dal".into(), "Data non valida (gg/mm/aaaa)".into());
            }
        }
    }
    if let Some(d) = filled(&q.al) {
        // Through the end of that day in Rome: before the next day's first instant.
        match parse_day(&d).and_then(|d| d.succ_opt()).and_then(rome_midnight) {
            Some(t) => f.to = Some(t),
            None => {
                errors
                    .by_field
                    .insert("al".into(), "Data non valida (gg/mm/aaaa)".into());
            }
        }
    }
    if let (Some(a), Some(b)) = (f.from, f.to) {
        if a >= b {
            errors
                .by_field
                .insert("al".into(), "La fine del periodo precede l'inizio".into());
        }
    }
    if let Some(b) = filled(&q.bando) {
        match Uuid::parse_str(&b) {
            Ok(b) => f.bando = Some(b),
            Err(_) => {
                errors.by_field.insert("bando".into(), "Bando non valido".into());
            }
        }
    }
    if let Some(a) = filled(&q.attore) {
        match Uuid::parse_str(&a) {
            Ok(a) => f.actor = Some(a),
            Err(_) => {
                errors.by_field.insert("attore".into(), "Autore non valido".into());
            }
        }
    }
    if let Some(a) = filled(&q.azione) {
        f.action = Some(a);
    }
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(errors)
    }
}

/// The tender an event is about, when it names one.
fn tender_of(r: &AuditRow) -> Option<Uuid> {
    if r.object_type == "bando" {
        if let Ok(b) = r.object_id.parse() {
            return Some(b);
        }
    }
    r.details["bando_id"].as_str().and_then(|s| s.parse().ok())
}

fn people(conn: &mut PgConnection, rows: &[AuditRow]) -> Result<BTreeMap<Uuid, User>, api::ApiError> {
    let mut out = BTreeMap::new();
    for r in rows {
        if let Some(a) = r.actor_user_id {
            if let std::collections::btree_map::Entry::Vacant(e) = out.entry(a) {
                // A user deleted since (never, today) would simply show as an id.
                if let Ok(u) = users::get(conn, a) {
                    e.insert(u);
                }
            }
        }
    }
    Ok(out)
}

fn rows_of(
    rows: &[AuditRow],
    names: &BTreeMap<Uuid, User>,
    oggetti: &BTreeMap<Uuid, String>,
    tree_size: Option<u64>,
) -> Vec<EventRow> {
    rows.iter()
        .map(|r| EventRow {
            id: r.id,
            at: rome(&r.occurred_at),
            iso: iso(&r.occurred_at),
            actor: match r.actor_user_id {
                Some(a) => names
                    .get(&a)
                    .map_or_else(|| a.to_string(), |u| format!("{} ({})", u.full_name, u.email)),
                None => "piattaforma o autore riservato".into(),
            },
            code: r.action.clone(),
            label: action_label(&r.action).to_string(),
            tender: tender_of(r).map(|b| {
                (
                    official::timeline(b),
                    oggetti.get(&b).cloned().unwrap_or_else(|| b.to_string()),
                )
            }),
            proof: match (r.details["leaf_hash"].as_str(), tree_size) {
                (Some(h), Some(n)) => Some(format!(
                    "/api/v1/log/proof/inclusion?leaf_hash={}&tree_size={n}",
                    url_encode(h)
                )),
                _ => None,
            },
            details: serde_json::to_string(&r.details).unwrap_or_default(),
        })
        .collect()
}

/// The ente the visitor audits: the one asked for, else the first where he is an auditor
/// (else his first ente, which the trail then refuses: 403).
fn ente_of(who: &Principal, asked: Option<Uuid>) -> Option<Uuid> {
    asked
        .or_else(|| {
            who.grants
                .iter()
                .find(|g| g.role == Role::Auditor)
                .and_then(|g| g.ente_id)
        })
        .or_else(|| who.grants.iter().find_map(|g| g.ente_id))
}

fn export_link(ente: Uuid, f: &TrailFilter) -> String {
    let mut q = Vec::new();
    if let Some(t) = f.from {
        q.push(pair("from", &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
    if let Some(t) = f.to {
        q.push(pair("to", &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
    // The file holds the rows the page lists: every filter goes with it.
    if let Some(a) = f.actor {
        q.push(pair("actor", &a.to_string()));
    }
    if let Some(a) = &f.action {
        q.push(pair("action", a));
    }
    if let Some(b) = f.bando {
        q.push(pair("bando", &b.to_string()));
    }
    let q = if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    };
    format!("/api/v1/enti/{ente}/audit-export{q}")
}

#[get("/ente/registro")]
async fn trail_page(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    req: HttpRequest,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(official::AUDIT)?.clone();
    let q: TrailQuery = query(&req)?;
    let asked = match filled(&q.ente) {
        Some(e) => Some(uuid(&e, "Ente")?),
        None => None,
    };
    let Some(ente) = ente_of(&who, asked) else {
        return Err(PortalError::forbidden(
            "Il registro degli eventi è riservato ai revisori dell'ente e agli amministratori",
        ));
    };
    let (filter, errors, status) = match filter_of(&q) {
        Ok(f) => (f, FieldErrors::default(), StatusCode::OK),
        Err(e) => (TrailFilter::default(), e, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let after = q.dopo.unwrap_or(0).max(0);
    let now = state.clock.now();
    let read = filter.clone();
    let valid = errors.is_empty();
    let (rows, names, members, tenders, enti, nome) = state
        .db(move |conn| {
            // Nothing is read for a filter that is not valid: the form comes back with its errors.
            let rows = if valid {
                trail::for_ente_filtered(conn, &who, ente, &read, after, PAGE, now)?
            } else {
                trail::for_ente_filtered(conn, &who, ente, &read, 0, 1, now)?;
                Vec::new()
            };
            let names = people(conn, &rows)?;
            let members = users::members(conn, &who, ente)?;
            let tenders = bando::service::list_for_ente(conn, &who, ente)?;
            let enti = if who.is_admin() {
                accounts::enti::list(
                    conn,
                    &who,
                    accounts::listing::Page {
                        limit: Some(500),
                        offset: None,
                    },
                )?
            } else {
                Vec::new()
            };
            let nome = accounts::enti::find(conn, ente)?.nome;
            Ok::<_, api::ApiError>((rows, names, members, tenders, enti, nome))
        })
        .await?;
    let oggetti: BTreeMap<Uuid, String> = tenders.iter().map(|b| (b.id, b.oggetto.clone())).collect();
    let events = rows_of(&rows, &names, &oggetti, None);
    // The same filter, for the next page and the first one.
    let mut kept = vec![pair("ente", &ente.to_string())];
    for (k, v) in [
        ("dal", &q.dal),
        ("al", &q.al),
        ("bando", &q.bando),
        ("attore", &q.attore),
        ("azione", &q.azione),
    ] {
        if let Some(v) = filled(v) {
            kept.push(pair(k, &v));
        }
    }
    let base = format!("{}?{}", official::AUDIT, kept.join("&"));
    let next = (rows.len() as i64 >= PAGE)
        .then(|| rows.last().map(|r| format!("{base}&dopo={}", r.id)))
        .flatten();
    let chosen = |v: &Option<String>| filled(v).unwrap_or_default();
    let page = TrailPage {
        chrome: Chrome::new(&visitor, "Registro degli eventi", Section::Ente)
            .crumb("Area ente", Some(official::DASHBOARD))
            .crumb("Registro degli eventi", None),
        here: official::AUDIT,
        ente: ente.to_string(),
        ente_nome: nome,
        enti: enti
            .iter()
            .map(|e| Choice {
                value: e.id.to_string(),
                label: e.nome.clone(),
                selected: e.id == ente,
            })
            .collect(),
        dal: chosen(&q.dal),
        al: chosen(&q.al),
        tenders: tenders
            .iter()
            .map(|b| Choice {
                value: b.id.to_string(),
                label: b.oggetto.clone(),
                selected: chosen(&q.bando) == b.id.to_string(),
            })
            .collect(),
        actors: members
            .iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: format!("{} ({})", u.full_name, u.email),
                selected: chosen(&q.attore) == u.id.to_string(),
            })
            .collect(),
        actions: ACTIONS
            .iter()
            .map(|(c, l)| Choice {
                value: (*c).to_string(),
                label: format!("{l} ({c})"),
                selected: chosen(&q.azione) == *c,
            })
            .collect(),
        errors,
        events,
        next,
        first: (after > 0).then_some(base),
        csv: export_link(ente, &filter),
    };
    super::super::render_status(&visitor, &page, status)
}

#[get("/ente/bandi/{id}/cronologia")]
async fn timeline(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, PortalError> {
    let id = uuid(&id, "Bando")?;
    let who = visitor.require_official(&official::timeline(id))?.clone();
    let now = state.clock.now();
    let (row, rows, names, tree_size) = state
        .db(move |conn| {
            let row = bando::store::find(conn, id)?;
            let filter = TrailFilter {
                bando: Some(id),
                ..TrailFilter::default()
            };
            let mut rows = Vec::new();
            let mut after = 0;
            loop {
                let page = trail::for_ente_filtered(conn, &who, row.ente_id, &filter, after, trail::MAX_PAGE, now)?;
                let full = page.len() as i64 >= trail::MAX_PAGE;
                after = page.last().map_or(after, |r| r.id);
                rows.extend(page);
                if !full || rows.len() >= TIMELINE_MAX {
                    break;
                }
            }
            let names = people(conn, &rows)?;
            // The proofs are asked of the log's current size.
            let tree_size = match offerte::log::checkpoint(conn, None) {
                Ok(cp) => Some(cp.tree_size),
                Err(offerte::OfferteError::NotFound { .. }) => None,
                Err(e) => return Err(api::ApiError::from(e)),
            };
            Ok::<_, api::ApiError>((row, rows, names, tree_size))
        })
        .await?;
    let mut oggetti = BTreeMap::new();
    oggetti.insert(id, row.oggetto.clone());
    let truncated = rows.len() >= TIMELINE_MAX;
    let events = rows_of(&rows, &names, &oggetti, tree_size);
    let period = TrailFilter {
        bando: Some(id),
        ..TrailFilter::default()
    };
    let page = TimelinePage {
        chrome: Chrome::new(&visitor, "Cronologia del bando", Section::Ente)
            .crumb("Area ente", Some(official::DASHBOARD))
            .crumb("Registro degli eventi", Some(official::AUDIT))
            .crumb(row.oggetto.clone(), Some(official::tender(id).as_str()))
            .crumb("Cronologia", None),
        oggetto: row.oggetto.clone(),
        events,
        truncated,
        verbale: format!("/api/v1/bandi/{id}/verbale.pdf"),
        csv: export_link(row.ente_id, &period),
        trail: format!(
            "{}?{}&{}",
            official::AUDIT,
            pair("ente", &row.ente_id.to_string()),
            pair("bando", &id.to_string())
        ),
        commission: official::commission(id),
    };
    super::super::render(&visitor, &page)
}
