//! The supplier's bid on one tender: each envelope's state and receipt, the forms that seal
//! envelopes in the browser (`assets/js/seal.js`), withdrawal and confirmation after a
//! rettifica. The page never receives an envelope: the script encrypts it on the supplier's
//! machine and streams the ciphertext to the API's resumable upload.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use bando::model::{Bando, Better, Criterion, CriterionKind, State};
use offerte::submit::{self, BidView, ReceiptView};
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::labels;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(withdraw).service(confirm);
}

/// Why no envelope can be sent now, in words; `None` while envelopes are accepted.
pub fn closed_reason(b: &Bando, now: &chrono::DateTime<chrono::Utc>, key_ready: bool) -> Option<String> {
    // The deadline first: the tender moves to `submissions_closed` right after it, and the
    // supplier wants to read when it was, not the state's name.
    if let Some(d) = b.submission_deadline.as_ref().filter(|d| d.utc <= *now) {
        return Some(format!(
            "Il termine di presentazione delle offerte è scaduto il {} (ora italiana): non si possono più inviare, \
             sostituire o ritirare buste. Conta solo ciò che è arrivato per intero prima del termine.",
            forms::rome(&d.utc)
        ));
    }
    if b.state != State::Published {
        return Some(format!(
            "La gara è nello stato «{}»: non si possono più inviare, sostituire o ritirare buste.",
            labels::state(b.state)
        ));
    }
    if b.submission_deadline.is_none() {
        return Some("La gara non ha un termine di presentazione delle offerte.".into());
    }
    if !key_ready {
        return Some(
            "La chiave di cifratura della gara non è ancora pronta (la cerimonia dei custodi non è conclusa): \
             le buste si potranno inviare appena lo sarà."
                .into(),
        );
    }
    None
}

struct EnvelopeSlot {
    kind: String,
    label: &'static str,
    recipient: String,
    current: Option<ReceiptRow>,
    replaced: usize,
}

struct ReceiptRow {
    envelope_id: String,
    received_iso: String,
    received_rome: String,
    sha256: String,
    size: String,
    sealed_by: &'static str,
    logged: String,
}

impl ReceiptRow {
    fn of(r: &ReceiptView) -> Self {
        ReceiptRow {
            envelope_id: r.envelope_id.to_string(),
            received_iso: forms::iso(&r.received_at),
            received_rome: forms::rome(&r.received_at),
            sha256: r.sha256.clone(),
            size: human_size(r.size),
            sealed_by: if r.sealed_by == "client" {
                "cifrata dall'operatore"
            } else {
                "cifrata dal server all'arrivo"
            },
            logged: match r.leaf_index {
                Some(i) => format!("registrata nel registro pubblico alla posizione {i}"),
                None => "in attesa di inclusione nel registro pubblico".into(),
            },
        }
    }
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{},{} MiB", bytes / MIB, (bytes % MIB) * 10 / MIB)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// A criterion the platform scores itself from a value the bidder declares in envelope B
/// (quantitative or tabular): the bid page asks for it, and the browser writes the values
/// into the archive's `valori-tecnici.json` (`offerte::archive::VALUES_NAME`).
struct DeclaredValue {
    code: String,
    label: String,
    /// How the value is scored, in words.
    hint: String,
    /// The table's options, when the value is one of them (a choice, not a number).
    options: Vec<String>,
}

impl DeclaredValue {
    fn of(c: &Criterion) -> Option<Self> {
        let hint = match (c.kind, &c.quantitative) {
            (CriterionKind::Quantitative, Some(q)) => format!(
                "Un numero. Punteggio pieno a {} ({}), nullo a {}; i valori oltre gli estremi contano come l'estremo più vicino.",
                match q.better {
                    Better::Higher => q.max,
                    Better::Lower => q.min,
                },
                match q.better {
                    Better::Higher => "più alto è meglio",
                    Better::Lower => "più basso è meglio",
                },
                match q.better {
                    Better::Higher => q.min,
                    Better::Lower => q.max,
                },
            ),
            (CriterionKind::Tabular, _) if c.table.iter().all(|r| r.option.is_some()) => {
                "Scegliere la voce che corrisponde all'offerta.".to_string()
            }
            (CriterionKind::Tabular, _) => {
                let rows: Vec<String> = c
                    .table
                    .iter()
                    .map(|r| match (&r.option, r.from, r.to) {
                        (Some(o), _, _) => format!("«{o}»: coefficiente {}", r.coefficient),
                        (None, from, to) => format!(
                            "da {} a meno di {}: coefficiente {}",
                            from.map_or("—".to_string(), |f| f.to_string()),
                            to.map_or("—".to_string(), |t| t.to_string()),
                            r.coefficient
                        ),
                    })
                    .collect();
                format!("Un numero; fasce: {}.", rows.join("; "))
            }
            _ => return None,
        };
        let options = if c.kind == CriterionKind::Tabular && c.table.iter().all(|r| r.option.is_some()) {
            c.table.iter().filter_map(|r| r.option.clone()).collect()
        } else {
            Vec::new()
        };
        Some(DeclaredValue {
            code: c.code.clone(),
            label: format!("{} · {}", c.code, c.description),
            hint,
            options,
        })
    }

    /// The leaf criteria of the tender the platform scores from declared values, in order.
    fn all(tender: &Bando) -> Vec<Self> {
        fn walk(cs: &[Criterion], out: &mut Vec<DeclaredValue>) {
            for c in cs {
                if c.sub_criteria.is_empty() {
                    out.extend(DeclaredValue::of(c));
                } else {
                    walk(&c.sub_criteria, out);
                }
            }
        }
        let mut out = Vec::new();
        if let Some(o) = &tender.oepv {
            walk(&o.criteria, &mut out);
        }
        out
    }
}

#[derive(Template)]
#[template(path = "bid.html")]
struct BidPage {
    chrome: Chrome,
    bando_id: String,
    oggetto: String,
    ente: String,
    cig: String,
    lotto: String,
    lots: Vec<(String, String, bool)>,
    deadline: Option<(String, String, String)>,
    closed: Option<String>,
    slots: Vec<EnvelopeSlot>,
    has_active_bid: bool,
    requires_confirmation: bool,
    withdrawn: Vec<String>,
    /// The kind whose sealing form is shown.
    selected: String,
    criterion: &'static str,
    /// What envelope B must declare for the criteria the platform scores itself.
    declared: Vec<DeclaredValue>,
    /// The keys the receipt is checked against in the page (not those the bundle carries).
    platform_key: String,
    log_key: String,
    outcome: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
struct LotQuery {
    lotto: Option<Uuid>,
    /// The envelope whose sealing form is shown (one at a time: the script works on one form).
    busta: Option<String>,
    /// The outcome of the last action, after its redirect.
    esito: Option<String>,
}

fn outcome_message(code: &str) -> Option<&'static str> {
    match code {
        "ritirata" => Some("Offerta ritirata. Le buste restano conservate e registrate, ma non saranno aperte; prima del termine si può presentare una nuova offerta."),
        "confermata" => Some("Offerta confermata nella versione attuale del bando."),
        "inviata" => Some("Busta ricevuta: la ricevuta è qui sotto."),
        _ => None,
    }
}

#[get("/bandi/{id}/offerta")]
async fn page(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    id: web::Path<Uuid>,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, PortalError> {
    let id = id.into_inner();
    let here = format!("/bandi/{id}/offerta");
    let who = visitor.require_supplier(&here)?.clone();
    let lotto = q.lotto;
    let (tender, bids, key) = state
        .db(move |conn| -> Result<_, api::ApiError> {
            let tender = bando::service::get_public(conn, Some(&who), id)?;
            let bids = submit::my_bids(conn, &who, id)?;
            let key = offerte::custody::get(conn, id)?;
            Ok((tender, bids, key))
        })
        .await?;
    if let Some(l) = lotto {
        if !tender.lotti.iter().any(|x| x.id == l) {
            return Err(PortalError::not_found("Lotto"));
        }
    }
    if lotto.is_none() && !tender.lotti.is_empty() {
        let first = tender.lotti[0].id;
        return Ok(super::see_other(&format!("{here}?lotto={first}")));
    }
    let now = state.clock.now();
    let key_ready = key.status == "complete";
    let closed = closed_reason(&tender, &now, key_ready);
    let active: Option<&BidView> = bids.iter().find(|b| b.lotto_id == lotto && b.withdrawn_at.is_none());
    let kinds: Vec<String> = if tender.envelopes.is_empty() {
        vec!["A".into(), "B".into(), "C".into()]
    } else {
        tender.envelopes.iter().map(|e| e.as_str().to_string()).collect()
    };
    let selected = q
        .busta
        .clone()
        .filter(|b| kinds.contains(b))
        .unwrap_or_else(|| kinds[0].clone());
    let slots = kinds
        .iter()
        .map(|k| {
            let of_kind: Vec<&ReceiptView> = active
                .map(|b| b.envelopes.iter().filter(|e| &e.kind == k).collect())
                .unwrap_or_default();
            let current = of_kind
                .iter()
                .find(|e| e.superseded_at.is_none())
                .map(|r| ReceiptRow::of(r));
            EnvelopeSlot {
                kind: k.clone(),
                label: labels::envelope(k),
                recipient: key.recipients.get(k).cloned().unwrap_or_default(),
                replaced: of_kind.len().saturating_sub(1),
                current,
            }
        })
        .collect();
    let withdrawn = bids
        .iter()
        .filter(|b| b.lotto_id == lotto)
        .filter_map(|b| b.withdrawn_at.as_ref().map(forms::rome))
        .collect();
    let chrome = Chrome::new(&visitor, format!("Offerta · {}", tender.oggetto), Section::Fornitore)
        .crumb("Bandi e avvisi", Some("/bandi"))
        .crumb(tender.oggetto.clone(), Some(&format!("/bandi/{id}")))
        .crumb("La mia offerta", None);
    let page = BidPage {
        chrome,
        bando_id: id.to_string(),
        oggetto: tender.oggetto.clone(),
        ente: tender.ente_nome.clone(),
        cig: tender.cig.clone().unwrap_or_else(|| "—".into()),
        lotto: lotto.map(|l| l.to_string()).unwrap_or_default(),
        lots: tender
            .lotti
            .iter()
            .map(|l| {
                (
                    l.id.to_string(),
                    format!("Lotto {} · {}", l.numero, l.oggetto),
                    Some(l.id) == lotto,
                )
            })
            .collect(),
        deadline: tender
            .submission_deadline
            .as_ref()
            .map(|d| (forms::iso(&d.utc), forms::rome(&d.utc), forms::time_left(&now, &d.utc))),
        closed,
        slots,
        has_active_bid: active.is_some_and(|b| !b.envelopes.is_empty()),
        requires_confirmation: active.is_some_and(|b| b.requires_confirmation),
        withdrawn,
        selected,
        criterion: "discount",
        declared: DeclaredValue::all(&tender),
        platform_key: state.seal.public_key_b64(),
        log_key: state.seal.log_verifier().to_vkey(),
        outcome: q.esito.as_deref().and_then(outcome_message),
    };
    super::render(&visitor, &page)
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    lotto: Option<String>,
    conferma: Option<String>,
}

fn lot_of(form: &ActionForm) -> Result<Option<Uuid>, PortalError> {
    match form.lotto.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| PortalError::not_found("Lotto")),
    }
}

fn back(id: Uuid, lotto: Option<Uuid>, esito: &str) -> String {
    match lotto {
        Some(l) => format!("/bandi/{id}/offerta?lotto={l}&esito={esito}"),
        None => format!("/bandi/{id}/offerta?esito={esito}"),
    }
}

/// Withdraws the active bid (before the deadline; the envelopes stay stored and logged).
#[post("/bandi/{id}/offerta/ritiro")]
async fn withdraw(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PortalError> {
    let id = id.into_inner();
    let who = visitor.require_supplier(&format!("/bandi/{id}/offerta"))?.clone();
    visitor.check_csrf(&form.csrf)?;
    if form.conferma.as_deref() != Some("si") {
        return Err(PortalError::Page(api::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "withdrawal_not_confirmed",
            "Per ritirare l'offerta spuntare la casella di conferma. Nulla è stato ritirato.",
        )));
    }
    let lotto = lot_of(&form)?;
    let svc = state.seal.clone();
    let clock = state.clock.clone();
    let request_id = rid.0.clone();
    state
        .db(
            move |conn| match submit::withdraw(conn, &svc, clock.as_ref(), &who, id, lotto, &request_id) {
                Ok(_) => Ok(()),
                // The same form sent twice (a double click): the first send withdrew the bid, and
                // the browser shows the answer to the second. It says what is true, that the bid
                // is withdrawn, rather than "Offerta non trovata".
                Err(e @ offerte::OfferteError::NotFound { .. }) => {
                    let bids = submit::my_bids(conn, &who, id)?;
                    let here = bids.iter().filter(|b| b.lotto_id == lotto);
                    let withdrawn = here.clone().any(|b| b.withdrawn_at.is_some());
                    if withdrawn && here.clone().all(|b| b.withdrawn_at.is_some()) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                }
                Err(e) => Err(e),
            },
        )
        .await?;
    Ok(super::see_other(&back(id, lotto, "ritirata")))
}

/// Confirms the bid as it stands after a rettifica that asks for it.
#[post("/bandi/{id}/offerta/conferma")]
async fn confirm(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    id: web::Path<Uuid>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PortalError> {
    let id = id.into_inner();
    let who = visitor.require_supplier(&format!("/bandi/{id}/offerta"))?.clone();
    visitor.check_csrf(&form.csrf)?;
    let lotto = lot_of(&form)?;
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let clock = state.clock.clone();
    state
        .db(move |conn| submit::confirm(conn, &ctx, clock.as_ref(), &who, id, lotto))
        .await?;
    Ok(super::see_other(&back(id, lotto, "confermata")))
}
