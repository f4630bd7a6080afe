//! `/ente`: what waits for the logged-in official, across his enti and roles, each item
//! with its date (Europe/Rome) and the page where it is done. Computed from the owning
//! crates' reads: the tenders of each ente (`bando::service::list_for_ente`), their
//! questions (`all_clarifications`), the seal (`offerte::waiting`: ceremony rounds, opening
//! shares, the next envelope to open) and the evaluation (`aggiudicazione::procedure::
//! waiting`: exclusions, soccorso and art. 110 outcomes, proposal, requirements, award,
//! standstill, a commissioner's declaration and coefficients). The page decides nothing: it
//! reads what the domain says is next and links to where the domain will check it again.

use accounts::{Principal, Role};
use actix_web::{get, web, HttpResponse};
use aggiudicazione::procedure::order::TechnicalGate;
use aggiudicazione::procedure::waiting::{self as agg_waiting, Step};
use askama::Template;
use bando::{Bando, State};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Rome;
use offerte::waiting::{self as seal_waiting, CustodyStep};
use uuid::Uuid;

use super::{DASHBOARD, TENDERS};
use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard);
}

/// How soon a submission deadline counts as near.
const NEAR_DAYS: i64 = 7;
/// How long an award stays among the auditor's recent ones.
const RECENT_AWARD_DAYS: i64 = 30;

/// The role an item waits on, in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum As {
    Rup,
    Custodian,
    Commission,
    Auditor,
}

impl As {
    fn heading(self) -> &'static str {
        match self {
            As::Rup => "Come RUP",
            As::Custodian => "Come custode delle chiavi",
            As::Commission => "Come componente della commissione",
            As::Auditor => "Come revisore",
        }
    }

    fn anchor(self) -> &'static str {
        match self {
            As::Rup => "attese-rup",
            As::Custodian => "attese-custode",
            As::Commission => "attese-commissione",
            As::Auditor => "attese-revisore",
        }
    }
}

pub struct Item {
    pub what: String,
    pub tender: String,
    pub ente: String,
    /// What the date is (the deadline, since when it waits...).
    pub when_label: &'static str,
    pub at: DateTime<Utc>,
    pub href: String,
}

impl Item {
    /// The moment in Europe/Rome, as read.
    pub fn at_rome(&self) -> String {
        forms::rome(&self.at)
    }

    /// The same, with the offset in force that day (`+01:00` or `+02:00`).
    pub fn at_iso(&self) -> String {
        self.at.with_timezone(&Rome).to_rfc3339()
    }
}

pub struct Group {
    pub heading: &'static str,
    pub anchor: &'static str,
    pub items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "official/cruscotto.html")]
struct Dashboard {
    chrome: Chrome,
    groups: Vec<Group>,
    tenders_href: &'static str,
    admin: bool,
}

/// The enti where `who` holds a role that sees its tenders.
fn enti_of(who: &Principal) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = who
        .grants
        .iter()
        .filter(|g| matches!(g.role, Role::Rup | Role::Commission | Role::Auditor))
        .filter_map(|g| g.ente_id)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn lot_suffix(lotto: Option<i32>) -> String {
    lotto.map(|n| format!(" (lotto {n})")).unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Everything waiting for `who` at `now`, by role.
fn collect(
    conn: &mut diesel::PgConnection,
    who: &Principal,
    now: DateTime<Utc>,
) -> Result<Vec<(As, Item)>, api::ApiError> {
    let mut out = Vec::new();
    for ente in enti_of(who) {
        let rup = who.has_role_in(Role::Rup, ente);
        let auditor = who.has_role_in(Role::Auditor, ente);
        let tenders = bando::service::list_for_ente(conn, who, ente)?;
        for b in &tenders {
            let mut push = |role: As, what: String, when_label: &'static str, at: DateTime<Utc>, href: String| {
                out.push((
                    role,
                    Item {
                        what,
                        tender: b.oggetto.clone(),
                        ente: b.ente_nome.clone(),
                        when_label,
                        at,
                        href,
                    },
                ))
            };
            if rup {
                rup_items(conn, who, b, now, &mut push)?;
            }
            for c in seal_waiting::for_custodian(conn, who, b.id, now, &TechnicalGate)? {
                let what = match &c.step {
                    CustodyStep::TransportKey => {
                        "Cerimonia del sigillo: registrare la propria chiave di trasporto".to_string()
                    }
                    CustodyStep::Contribution => "Cerimonia del sigillo: inviare il proprio contributo".to_string(),
                    CustodyStep::Acknowledgement => {
                        "Cerimonia del sigillo: confermare i contributi degli altri custodi".to_string()
                    }
                    CustodyStep::OpeningShare { kind } => {
                        format!("Presentare la propria quota per aprire la busta {kind}")
                    }
                };
                let label = if matches!(c.step, CustodyStep::OpeningShare { .. }) {
                    "Seduta di apertura"
                } else {
                    "Entro il termine delle offerte"
                };
                push(As::Custodian, what, label, c.at, super::custody(b.id));
            }
            if evaluating(b.state) {
                for w in agg_waiting::for_official(conn, who, b.id, now)? {
                    let lot = lot_suffix(w.lotto);
                    let (role, what, label, href) = match w.step {
                        Step::DeclarationToMake => (
                            As::Commission,
                            format!("Rendere la dichiarazione di assenza di incompatibilità (art. 93 c.5){lot}"),
                            "Nominato il",
                            super::commission(b.id),
                        ),
                        Step::CoefficientsToEnter => (
                            As::Commission,
                            format!("Inserire i coefficienti dell'offerta tecnica{lot}"),
                            "Dichiarazione resa il",
                            super::commission(b.id),
                        ),
                        step => (
                            As::Rup,
                            rup_step(&step, &lot),
                            step_label(&step),
                            super::evaluation(b.id),
                        ),
                    };
                    push(role, what, label, w.at, href);
                }
            }
            if auditor && matches!(b.state, State::Awarded | State::Effective) {
                let full = bando::service::get(conn, who, b.id)?;
                let awarded = full
                    .state_history
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|h| h.lotto_id.is_none() && (h.to_state == "awarded" || h.to_state == "effective"))
                    .map(|h| h.occurred_at)
                    .max();
                if let Some(at) = awarded.filter(|at| now - *at <= Duration::days(RECENT_AWARD_DAYS)) {
                    push(
                        As::Auditor,
                        "Gara aggiudicata di recente: cronologia da esaminare".into(),
                        "Aggiudicata il",
                        at,
                        super::timeline(b.id),
                    );
                }
            }
        }
    }
    Ok(out)
}

/// The tender is past its opening: the evaluation may have steps for someone.
fn evaluating(s: State) -> bool {
    matches!(
        s,
        State::Opening | State::Evaluation | State::ProposedAward | State::Awarded | State::Effective
    )
}

fn rup_step(step: &Step, lot: &str) -> String {
    match step {
        Step::ExclusionsToConfirm { count } => format!(
            "{} dalla piattaforma da confermare o respingere{lot}",
            plural(*count, "esclusione proposta", "esclusioni proposte")
        ),
        Step::SoccorsoToDecide { count } => format!(
            "{} da valutare{lot}",
            plural(*count, "soccorso istruttorio", "soccorsi istruttori")
        ),
        Step::Art110ToDecide { count } => format!(
            "{} sull'offerta anormalmente bassa da valutare (art. 110){lot}",
            plural(*count, "spiegazione", "spiegazioni")
        ),
        Step::AwardToPropose => format!("Graduatoria calcolata: formulare la proposta di aggiudicazione{lot}"),
        Step::RequirementsToCheck => format!("Verificare i requisiti dell'offerente proposto (art. 17 c.5){lot}"),
        Step::AwardToMake => format!("Requisiti verificati: disporre l'aggiudicazione{lot}"),
        Step::StandstillEnds => {
            format!("Termine dilatorio in corso: il contratto si stipula dopo la scadenza (art. 18 c.3){lot}")
        }
        other => format!("{other:?}{lot}"),
    }
}

fn step_label(step: &Step) -> &'static str {
    match step {
        Step::ExclusionsToConfirm { .. } => "Proposta il",
        Step::SoccorsoToDecide { .. } | Step::Art110ToDecide { .. } => "Risposta o termine del",
        Step::AwardToPropose => "Graduatoria del",
        Step::RequirementsToCheck => "Proposta il",
        Step::AwardToMake => "Ultima verifica il",
        Step::StandstillEnds => "Fine del termine dilatorio",
        _ => "Data",
    }
}

/// The RUP's own items that come from the tender and the seal.
fn rup_items(
    conn: &mut diesel::PgConnection,
    who: &Principal,
    b: &Bando,
    now: DateTime<Utc>,
    push: &mut impl FnMut(As, String, &'static str, DateTime<Utc>, String),
) -> Result<(), api::ApiError> {
    match b.state {
        State::Draft => push(
            As::Rup,
            "Bozza da completare e pubblicare".into(),
            "Ultima modifica",
            b.updated_at,
            super::tender_edit(b.id),
        ),
        State::Published => {
            if let Some(d) = b
                .submission_deadline
                .as_ref()
                .filter(|d| d.utc > now && d.utc - now <= Duration::days(NEAR_DAYS))
            {
                push(
                    As::Rup,
                    format!(
                        "Termine di presentazione delle offerte vicino: mancano {}",
                        forms::time_left(&now, &d.utc)
                    ),
                    "Termine",
                    d.utc,
                    super::tender(b.id),
                );
            }
            let open = bando::service::all_clarifications(conn, who, b.id)?
                .into_iter()
                .filter(|c| c.answer.is_none())
                .count();
            if open > 0 {
                let at = b
                    .questions_deadline
                    .as_ref()
                    .or(b.submission_deadline.as_ref())
                    .map_or(now, |d| d.utc);
                push(
                    As::Rup,
                    format!("{} senza risposta", plural(open, "chiarimento", "chiarimenti")),
                    "Termine per le domande",
                    at,
                    super::clarifications(b.id),
                );
            }
        }
        _ => {}
    }
    if matches!(
        b.state,
        State::Published | State::SubmissionsClosed | State::Opening | State::Evaluation
    ) {
        if let Some((kind, session)) = seal_waiting::next_opening(conn, b.id, now, &TechnicalGate)? {
            push(
                As::Rup,
                format!("Seduta di apertura: aprire la busta {kind}"),
                "Seduta fissata per",
                session,
                super::opening(b.id),
            );
        }
    }
    Ok(())
}

#[get("/ente")]
async fn dashboard(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_official(DASHBOARD)?.clone();
    let admin = who.is_admin();
    let now = state.clock.now();
    let mut found = state.db(move |conn| collect(conn, &who, now)).await?;
    found.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then(a.at.cmp(&b.at)));
    let mut groups: Vec<Group> = Vec::new();
    for (role, item) in found {
        match groups.last_mut() {
            Some(g) if g.anchor == role.anchor() => g.items.push(item),
            _ => groups.push(Group {
                heading: role.heading(),
                anchor: role.anchor(),
                items: vec![item],
            }),
        }
    }
    let chrome = Chrome::new(&visitor, "Area ente: cosa ti aspetta", Section::Ente).crumb("Area ente", None);
    super::super::render(
        &visitor,
        &Dashboard {
            chrome,
            groups,
            tenders_href: TENDERS,
            admin,
        },
    )
}
