//! The award report (verbale di aggiudicazione): what the procedure decided, read from the
//! evaluation workflow's public view (`aggiudicazione::procedure::view`), the bids received
//! (envelope receipts and their log leaves) and the seal's log (checkpoint at closing and at
//! generation), laid out in Italian as a PDF.
//!
//! [`issue`] authorizes, builds and renders the report, then records its SHA-256 both as an
//! audit event and as a `decision` leaf of the log (`centrale-decision/v1`, details = the audit
//! event's details), so anyone can later prove which report was issued.

use std::collections::BTreeMap;

use accounts::{Principal, Role};
use aggiudicazione::procedure::{self, Procedura, ProcedureError};
use bando::store as bstore;
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::pdf::{self, Block};

/// The audit action (and decision leaf action) of an issued report.
pub const ACTION: &str = "documenti.verbale_aggiudicazione";

/// One envelope received (its receipt is keyed by the envelope id).
#[derive(Debug, Clone)]
pub struct EnvelopeLine {
    pub kind: String,
    pub envelope_id: Uuid,
    /// SHA-256 (hex) of the sealed ciphertext, as in the receipt.
    pub sha256: String,
    pub size_bytes: i64,
    pub received_at: DateTime<Utc>,
    /// Hash (hex) of the `EnvelopeReceived` leaf of the log.
    pub leaf_hash: String,
}

/// kind, envelope id, ciphertext SHA-256, size, received at, leaf hash.
type EnvelopeRow = (String, Uuid, String, i64, DateTime<Utc>, Vec<u8>);

/// One active bid and its current envelopes.
#[derive(Debug, Clone)]
pub struct BidLine {
    pub bid_id: Uuid,
    pub bidder_id: Uuid,
    pub envelopes: Vec<EnvelopeLine>,
}

/// A checkpoint of the seal's log.
#[derive(Debug, Clone)]
pub struct LogPoint {
    pub tree_size: i64,
    pub root_hash: String,
    pub at: DateTime<Utc>,
}

/// Everything the report shows; [`render`] is a pure function of it.
#[derive(Debug, Clone)]
pub struct Verbale {
    pub ente: String,
    pub ente_codice_fiscale: String,
    pub bando_id: Uuid,
    pub oggetto: String,
    pub cig: Option<String>,
    /// `(numero, cig, oggetto)` of the lot, for a tender with lots.
    pub lotto: Option<(i32, String, String)>,
    pub contract_type: String,
    pub procedure_type: String,
    pub award_criterion: String,
    pub base_amount: Decimal,
    pub safety_costs: Decimal,
    pub anomaly_method: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub bids: Vec<BidLine>,
    pub withdrawn: i64,
    pub procedura: Procedura,
    pub closing: Option<LogPoint>,
    pub generation: Option<LogPoint>,
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
}

/// An issued report.
#[derive(Debug, Clone)]
pub struct Issued {
    pub pdf: Vec<u8>,
    /// Hex SHA-256 of `pdf`.
    pub sha256: String,
    pub file_name: String,
}

fn forbidden<E>(_: E) -> ProcedureError {
    ProcedureError::Forbidden
}

/// RUP, auditor or commission of the tender's ente, or an admin; suppliers never.
pub fn authorize(who: &Principal, ente: Uuid) -> Result<(), ProcedureError> {
    who.require_any_in(&[Role::Rup, Role::Auditor, Role::Commission], ente)
        .map_err(forbidden)
}

/// Builds the report's data for tender `bando` (or its lot `lotto`), as seen at `ctx.at`.
pub fn load(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    lotto: Option<Uuid>,
) -> Result<Verbale, ProcedureError> {
    use offerte::schema::{bids, envelopes, log_checkpoints, log_leaves, seal_closures};

    let scope = procedure::scope(conn, bando, lotto)?;
    let row = bstore::find(conn, bando)?;
    authorize(who, row.ente_id)?;
    let lot = match lotto {
        Some(l) => bstore::lots(conn, bando)?.into_iter().find(|x| x.id == l),
        None => None,
    };
    let procedura = procedure::view(conn, ctx, who, scope)?;
    if procedura.award.is_none() {
        return Err(ProcedureError::conflict(
            "report_before_proposal",
            "Il verbale di aggiudicazione si genera dalla proposta di aggiudicazione in poi",
        ));
    }
    let ente = accounts::enti::find(conn, row.ente_id).map_err(|e| match e {
        accounts::AccountsError::NotFound { what } => ProcedureError::NotFound { what },
        other => ProcedureError::conflict("ente_unavailable", other.to_string()),
    })?;

    // Bids received: active bids of the scope, their current envelopes.
    let mut q = bids::table
        .filter(bids::bando_id.eq(bando))
        .select((bids::id, bids::bidder_id, bids::withdrawn_at))
        .into_boxed();
    q = match &lot {
        Some(l) => q.filter(bids::lotto_id.eq(l.id)),
        None => q.filter(bids::lotto_id.is_null()),
    };
    let all: Vec<(Uuid, Uuid, Option<DateTime<Utc>>)> = q.load(conn)?;
    let withdrawn = all.iter().filter(|b| b.2.is_some()).count() as i64;
    let mut bid_lines = Vec::new();
    for (bid_id, bidder_id, _) in all.into_iter().filter(|b| b.2.is_none()) {
        let rows: Vec<EnvelopeRow> = envelopes::table
            .inner_join(log_leaves::table.on(log_leaves::id.eq(envelopes::leaf_id)))
            .filter(envelopes::bid_id.eq(bid_id))
            .filter(envelopes::superseded_at.is_null())
            .order((envelopes::kind.asc(), envelopes::received_at.asc()))
            .select((
                envelopes::kind,
                envelopes::id,
                envelopes::sha256,
                envelopes::size_bytes,
                envelopes::received_at,
                log_leaves::leaf_hash,
            ))
            .load(conn)?;
        let envelopes = rows
            .into_iter()
            .map(
                |(kind, envelope_id, sha256, size_bytes, received_at, leaf)| EnvelopeLine {
                    kind,
                    envelope_id,
                    sha256,
                    size_bytes,
                    received_at,
                    leaf_hash: hex::encode(leaf),
                },
            )
            .collect();
        bid_lines.push(BidLine {
            bid_id,
            bidder_id,
            envelopes,
        });
    }
    // Stable order: first receipt, then bidder id.
    bid_lines.sort_by_key(|b| (b.envelopes.iter().map(|e| e.received_at).min(), b.bidder_id));

    let point = |conn: &mut PgConnection, size: Option<i64>| -> Result<Option<LogPoint>, ProcedureError> {
        let mut q = log_checkpoints::table
            .select((
                log_checkpoints::tree_size,
                log_checkpoints::root_hash,
                log_checkpoints::created_at,
            ))
            .order(log_checkpoints::tree_size.desc())
            .into_boxed();
        if let Some(s) = size {
            q = q.filter(log_checkpoints::tree_size.eq(s));
        }
        let r: Option<(i64, Vec<u8>, DateTime<Utc>)> = q.first(conn).optional()?;
        Ok(r.map(|(tree_size, root, at)| LogPoint {
            tree_size,
            root_hash: hex::encode(root),
            at,
        }))
    };
    let closure: Option<(i64, DateTime<Utc>)> = seal_closures::table
        .find(bando)
        .select((seal_closures::tree_size, seal_closures::closed_at))
        .first(conn)
        .optional()?;
    let closing = match closure {
        Some((size, closed_at)) => Some(point(conn, Some(size))?.unwrap_or(LogPoint {
            tree_size: size,
            root_hash: String::new(),
            at: closed_at,
        })),
        None => None,
    };
    let generation = point(conn, None)?;

    Ok(Verbale {
        ente: ente.nome,
        ente_codice_fiscale: ente.codice_fiscale,
        bando_id: bando,
        oggetto: row.oggetto.clone(),
        cig: row.cig.clone(),
        lotto: lot.as_ref().map(|l| (l.numero, l.cig.clone(), l.oggetto.clone())),
        contract_type: row.contract_type.clone(),
        procedure_type: row.procedure_type.clone(),
        award_criterion: row.award_criterion.clone(),
        base_amount: lot.as_ref().map_or(row.base_amount, |l| l.base_amount),
        safety_costs: lot.as_ref().map_or(row.safety_costs, |l| l.safety_costs),
        anomaly_method: row.anomaly_method.clone(),
        deadline: row.submission_deadline,
        bids: bid_lines,
        withdrawn,
        procedura,
        closing,
        generation,
        generated_at: ctx.at,
        generated_by: who.email.clone(),
    })
}

/// Loads, renders and records the report: one audit event and one `decision` leaf whose
/// details carry the PDF's SHA-256, in one transaction.
pub fn issue(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    lotto: Option<Uuid>,
) -> Result<Issued, ProcedureError> {
    conn.transaction(|conn| {
        let v = load(conn, ctx, who, bando, lotto)?;
        let bytes = render(&v);
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let ente_id = bstore::find(conn, bando)?.ente_id;
        let mut details = serde_json::json!({
            "document": "verbale_aggiudicazione",
            "sha256": sha256,
            "size_bytes": bytes.len(),
            "generated_by": who.user_id,
            "log_tree_size": v.generation.as_ref().map(|g| g.tree_size),
        });
        if let (Some(l), Some(map)) = (lotto, details.as_object_mut()) {
            map.insert("lotto_id".into(), serde_json::json!(l));
        }
        let data = offerte::log::decision_leaf_data(bando, ACTION, ctx.at, &details);
        offerte::log::append_leaf(conn, offerte::log::kind::DECISION, Some(bando), &data, ctx.at)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: ACTION,
                object_type: "bando",
                object_id: bando.to_string(),
                ente_id: Some(ente_id),
                details,
            },
        )?;
        let file_name = match &v.lotto {
            Some((n, _, _)) => format!("verbale-aggiudicazione-{bando}-lotto-{n}.pdf"),
            None => format!("verbale-aggiudicazione-{bando}.pdf"),
        };
        Ok(Issued {
            pdf: bytes,
            sha256,
            file_name,
        })
    })
}

/// Europe/Rome, with the zone's abbreviation (CET / CEST).
pub fn rome(at: DateTime<Utc>) -> String {
    domain::deadlines::to_rome(at)
        .format("%d/%m/%Y %H:%M:%S %Z")
        .to_string()
}

/// `1234567.5` → `€ 1.234.567,50`.
pub fn euro(amount: Decimal) -> String {
    let s = format!("{:.2}", amount.round_dp(2));
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("€ {sign}{grouped},{frac}")
}

fn procedure_label(code: &str) -> String {
    match code {
        "aperta" => "Procedura aperta (art. 71)".into(),
        "ristretta" => "Procedura ristretta (art. 72)".into(),
        "competitiva_con_negoziazione" => "Procedura competitiva con negoziazione (art. 73)".into(),
        "negoziata_senza_bando" => "Procedura negoziata senza bando (art. 50 c.1 lett. c–e)".into(),
        "affidamento_diretto" => "Affidamento diretto (art. 50 c.1 lett. a–b)".into(),
        other => other.into(),
    }
}

fn criterion_label(code: &str) -> String {
    match code {
        "minor_prezzo" => "Minor prezzo (art. 108 c.3)".into(),
        "oepv" => "Offerta economicamente più vantaggiosa (art. 108 c.1)".into(),
        other => other.into(),
    }
}

fn contract_label(code: &str) -> String {
    match code {
        "works" => "Lavori".into(),
        "services" => "Servizi".into(),
        "supplies" => "Forniture".into(),
        other => other.into(),
    }
}

fn status_label(s: &str) -> &str {
    match s {
        "admitted" => "ammesso",
        "excluded" => "escluso",
        "pending" => "in esame",
        other => other,
    }
}

fn phase_label(s: &str) -> &str {
    match s {
        "administrative" => "fase amministrativa",
        "soccorso" => "soccorso istruttorio",
        "technical" => "fase tecnica",
        "economic" => "fase economica",
        "anomaly" => "esclusione automatica (anomalia)",
        "art110" => "verifica di congruità (art. 110)",
        other => other,
    }
}

fn outcome_label(s: &str) -> &str {
    match s {
        "proposed" => "proposta di aggiudicazione",
        "awarded" => "aggiudicata",
        "effective" => "aggiudicazione efficace",
        "deserted" => "gara deserta",
        "all_excluded" => "non aggiudicata: tutte le offerte escluse",
        other => other,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "sì"
    } else {
        "no"
    }
}

/// The engine's codes in Italian (unknown codes as they are).
fn code_label(code: &str) -> Option<&'static str> {
    Some(match code {
        "THRESHOLD_APPLIED" => "soglia calcolata e applicata",
        "NOT_APPLICABLE_LESS_THAN_5_OFFERS" => "non applicabile: meno di 5 offerte ammesse",
        "NO_THRESHOLD_EMPTY_TRIMMED_SET" => "nessuna soglia: insieme vuoto dopo il taglio delle ali",
        "ALL_OFFERS_EXCLUDED" => "tutte le offerte escluse",
        "ALL_OFFERS_ANOMALOUS_CONTRADDITTORIO" => "tutte le offerte anomale: nessuna esclusione automatica, verifica in contraddittorio (Allegato II.2 metodo C)",
        "second_price" => "metodo del secondo prezzo (Allegato II.2 metodo B punto 2)",
        "tie_own_discount" => "parità al ribasso migliore: sorteggio e ribasso offerto dall'aggiudicatario",
        "own_discount" => "ribasso offerto dall'aggiudicatario",
        "original2023" => "testo originario (D.Lgs. 36/2023)",
        "amended2024" => "testo modificato dal D.Lgs. 209/2024",
        "at_or_above_threshold" => "esclusione delle offerte con ribasso pari o superiore alla soglia",
        "above_threshold" => "ribasso superiore alla soglia",
        "equal_to_threshold" => "ribasso pari alla soglia",
        "technical_score" => "punteggio tecnico",
        "draw" => "sorteggio con il seme registrato",
        "draw_required" => "sorteggio da eseguire",
        "even" => "pari",
        "odd" => "dispari",
        _ => return None,
    })
}

fn state_label(s: &str) -> String {
    match s {
        "proposed_award" => "proposta di aggiudicazione".into(),
        "awarded" => "aggiudicata".into(),
        "effective" => "aggiudicazione efficace".into(),
        "deserted" => "deserta".into(),
        "cancelled" => "annullata".into(),
        "active" => "in corso".into(),
        other => other.into(),
    }
}

/// A JSON scalar as text (strings without quotes, engine codes in Italian).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => code_label(s).map_or_else(|| s.clone(), str::to_string),
        Value::Bool(b) => yes_no(*b).into(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// Concorrente labels, numbered in order of first receipt.
struct Labels(BTreeMap<String, String>);

impl Labels {
    fn of(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    fn uuid(&self, id: Uuid) -> String {
        self.of(&id.to_string())
    }
}

/// An offer list of the anomaly report (`[{id, discount, ...}]`).
fn offers(labels: &Labels, v: &Value) -> String {
    match v.as_array() {
        Some(list) if list.is_empty() => "nessuna".into(),
        Some(list) => list
            .iter()
            .map(|o| {
                let who = o["id"].as_str().map(|i| labels.of(i)).unwrap_or_default();
                let mut s = format!("{who} ({}%)", scalar(&o["discount"]));
                if let Some(r) = o.get("reason").filter(|r| !r.is_null()) {
                    s.push_str(&format!(" [{}]", scalar(r)));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("; "),
        None => scalar(v),
    }
}

/// The Allegato II.2 fields in reading order, with their Italian labels.
const ANOMALY_FIELDS: &[(&str, &str)] = &[
    ("method", "Metodo (Allegato II.2)"),
    ("text", "Testo dell'Allegato II.2 applicato"),
    ("n_admitted", "Offerte ammesse (n)"),
    ("automatic_exclusion_applies", "Esclusione automatica applicabile"),
    ("outcome", "Esito del calcolo"),
    ("branch", "Ramo"),
    ("wing_size_k", "Offerte accantonate per ala (k)"),
    ("sorted_ascending", "Ribassi in ordine crescente"),
    ("lower_wing", "Ala inferiore accantonata"),
    ("upper_wing", "Ala superiore accantonata"),
    ("trimmed_set", "Offerte considerate dopo il taglio delle ali"),
    ("trimmed_count", "Numero di offerte considerate"),
    ("sum", "S (somma dei ribassi considerati)"),
    ("sum_first_two_decimals", "Prime due cifre decimali di S (d1, d2)"),
    ("product_d1_d2", "Prodotto d1 × d2"),
    ("digit_sum_e", "E (somma delle cifre)"),
    ("e_parity", "Parità di E"),
    ("mean", "M (media aritmetica)"),
    ("above_mean", "Ribassi superiori alla media"),
    ("mean_deviation", "SM (scarto medio)"),
    ("ratio_sm_over_m", "R = SM / M"),
    ("ratio_le_0_15", "R ≤ 0,15"),
    ("threshold_rule", "Regola della soglia"),
    (
        "threshold_before_decrement",
        "T1 = M + SM (soglia prima del decremento)",
    ),
    ("decrement", "Decremento = SM × d1·d2 / 100"),
    (
        "threshold_before_adjustment",
        "T1 = M + SM (soglia prima della correzione)",
    ),
    ("reference_discount", "Ribasso di riferimento"),
    (
        "reference_discount_unverified",
        "Ribasso di riferimento dalla Tabella A non verificata",
    ),
    ("adjustment", "V = SM × d1·d2 / 100"),
    ("adjustment_sign", "Segno della correzione"),
    ("threshold", "T (soglia di anomalia)"),
    ("exclusion_rule", "Regola di esclusione"),
    ("excluded", "Offerte escluse automaticamente"),
    (
        "anomalous_to_verify",
        "Offerte anomale da verificare in contraddittorio",
    ),
    ("winner", "Migliore offerta non esclusa"),
    ("winner_if_no_exclusion", "Migliore offerta senza esclusione"),
    ("award_discount", "Ribasso di aggiudicazione"),
    ("award_discount_rule", "Regola del ribasso di aggiudicazione"),
    ("inexact_fields", "Campi arrotondati (20 decimali)"),
    ("fractions", "Frazioni esatte"),
];

fn anomaly_value(labels: &Labels, key: &str, v: &Value) -> String {
    match (key, v) {
        ("sum_first_two_decimals", Value::Array(d)) => d.iter().map(scalar).collect::<Vec<_>>().join(", "),
        ("winner" | "winner_if_no_exclusion", Value::Object(_)) => {
            let ids: Vec<String> = v["ids"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).map(|i| labels.of(i)).collect())
                .unwrap_or_default();
            let mut s = format!("{} ({}%)", ids.join(", "), scalar(&v["discount"]));
            if v["tie_lottery"] == Value::Bool(true) {
                s.push_str(" — parità: sorteggio");
            }
            if let Some(d) = v["drawn_id"].as_str() {
                s.push_str(&format!(", sorteggiato {}", labels.of(d)));
            }
            s
        }
        ("inexact_fields", Value::Array(a)) if a.is_empty() => "nessuno".into(),
        ("fractions", Value::Object(m)) if m.is_empty() => "nessuna".into(),
        ("fractions", Value::Object(m)) => m
            .iter()
            .map(|(k, x)| format!("{k} = {}", scalar(x)))
            .collect::<Vec<_>>()
            .join("; "),
        (_, Value::Array(a)) if a.iter().all(|x| x.get("discount").is_some()) => offers(labels, v),
        (_, Value::Array(a)) => a.iter().map(scalar).collect::<Vec<_>>().join(", "),
        (_, Value::Object(_)) => v.to_string(),
        _ => scalar(v),
    }
}

/// The report as PDF bytes: deterministic in `v` (the creation date is `v.generated_at`).
pub fn render(v: &Verbale) -> Vec<u8> {
    let title = "Verbale di aggiudicazione";
    let footer = format!("{} — {} — CIG {}", v.ente, v.oggetto, v.cig.as_deref().unwrap_or("—"));
    pdf::render(title, &footer, v.generated_at, &blocks(v))
}

/// The report's content, before layout.
pub fn blocks(v: &Verbale) -> Vec<Block> {
    let p = &v.procedura;
    let labels = Labels(
        v.bids
            .iter()
            .enumerate()
            .map(|(i, b)| (b.bidder_id.to_string(), format!("Concorrente {}", i + 1)))
            .collect(),
    );
    let mut out = Vec::new();
    let field = |out: &mut Vec<Block>, k: &str, val: String| out.push(Block::Field(k.into(), val));

    out.push(Block::Title("Verbale di aggiudicazione".into()));
    out.push(Block::Para(format!(
        "Documento generato dalla piattaforma il {} da {}. Gli orari sono indicati nel fuso Europe/Rome; \
         gli importi in euro; i ribassi in percentuale, con i valori esatti memorizzati dal calcolo.",
        rome(v.generated_at),
        v.generated_by
    )));

    out.push(Block::Heading("1. Dati della gara".into()));
    field(
        &mut out,
        "Stazione appaltante",
        format!("{} (C.F. {})", v.ente, v.ente_codice_fiscale),
    );
    field(&mut out, "Oggetto", v.oggetto.clone());
    field(&mut out, "CIG", v.cig.clone().unwrap_or_else(|| "—".into()));
    if let Some((n, cig, oggetto)) = &v.lotto {
        field(&mut out, "Lotto", format!("n. {n} — {oggetto} (CIG {cig})"));
    }
    field(&mut out, "Identificativo", v.bando_id.to_string());
    field(&mut out, "Tipo di contratto", contract_label(&v.contract_type));
    field(&mut out, "Procedura", procedure_label(&v.procedure_type));
    field(
        &mut out,
        "Criterio di aggiudicazione",
        criterion_label(&v.award_criterion),
    );
    field(&mut out, "Importo a base di gara", euro(v.base_amount));
    field(&mut out, "di cui oneri per la sicurezza", euro(v.safety_costs));
    field(
        &mut out,
        "Importo soggetto a ribasso",
        euro(v.base_amount - v.safety_costs),
    );
    if let Some(m) = &v.anomaly_method {
        field(
            &mut out,
            "Metodo di calcolo dell'anomalia",
            format!("Metodo {m} (Allegato II.2)"),
        );
    }
    field(
        &mut out,
        "Termine di presentazione delle offerte",
        v.deadline.map(rome).unwrap_or_else(|| "—".into()),
    );
    field(
        &mut out,
        "Stato della procedura",
        state_label(
            &p.lotto
                .as_ref()
                .map_or_else(|| p.state.to_string(), |l| l.state.clone()),
        ),
    );

    out.push(Block::Heading("2. Offerte ricevute".into()));
    out.push(Block::Para(format!(
        "Offerte valide ricevute entro il termine: {}. Offerte ritirate: {}. Per ogni busta: identificativo della ricevuta, \
         impronta SHA-256 del contenuto cifrato, dimensione, ora di ricezione e hash della foglia nel registro di trasparenza.",
        v.bids.len(),
        v.withdrawn
    )));
    for (i, b) in v.bids.iter().enumerate() {
        out.push(Block::Field(
            format!("Concorrente {}", i + 1),
            format!("operatore {} — offerta {}", b.bidder_id, b.bid_id),
        ));
        for e in &b.envelopes {
            out.push(Block::Item(format!(
                "Busta {}: ricevuta {}, SHA-256 {}, {} byte, ricevuta il {}, foglia {}",
                e.kind,
                e.envelope_id,
                e.sha256,
                e.size_bytes,
                rome(e.received_at),
                e.leaf_hash
            )));
        }
    }

    out.push(Block::Heading("3. Ammissioni ed esclusioni".into()));
    let admitted = p.participants.iter().filter(|x| x.status == "admitted").count();
    let excluded = p.participants.iter().filter(|x| x.status == "excluded").count();
    out.push(Block::Para(format!(
        "Concorrenti esaminati: {}; ammessi: {admitted}; esclusi: {excluded}.",
        p.participants.len()
    )));
    let mut parts: Vec<_> = p.participants.iter().collect();
    parts.sort_by_key(|x| {
        (
            labels
                .0
                .get(&x.bidder_id.to_string())
                .map(|l| l.trim_start_matches("Concorrente ").parse::<usize>().unwrap_or(0)),
            x.bidder_id,
        )
    });
    for x in parts {
        let mut s = format!("{}: {}", labels.uuid(x.bidder_id), status_label(&x.status));
        if let Some(ph) = &x.excluded_phase {
            s.push_str(&format!(" ({})", phase_label(ph)));
        }
        if let Some(r) = &x.reason {
            s.push_str(&format!(" — motivo: {r}"));
        }
        if let Some(at) = x.decided_at {
            s.push_str(&format!(" — deciso il {}", rome(at)));
        }
        out.push(Block::Item(s));
    }
    if !p.soccorsi.is_empty() {
        out.push(Block::Para("Soccorso istruttorio (art. 101):".into()));
        for s in &p.soccorsi {
            out.push(Block::Item(format!(
                "{}: richiesta del {} («{}»), termine {}; esito: {}{}",
                labels.uuid(s.bidder_id),
                rome(s.requested_at),
                s.request,
                rome(s.deadline),
                s.outcome.as_deref().unwrap_or("in attesa"),
                s.outcome_reason
                    .as_deref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default()
            )));
        }
    }
    if !p.commission.is_empty() {
        out.push(Block::Para("Commissione giudicatrice (art. 93):".into()));
        for m in &p.commission {
            out.push(Block::Item(format!(
                "{}{} — nominato il {}; dichiarazione di assenza di incompatibilità: {}",
                m.user_id,
                if m.president { " (presidente)" } else { "" },
                rome(m.appointed_at),
                m.declared_at.map(rome).unwrap_or_else(|| "non resa".into())
            )));
        }
    }

    out.push(Block::Heading("4. Calcolo della soglia di anomalia".into()));
    let eval = p.evaluation.as_ref();
    match eval {
        None => out.push(Block::Para("Nessuna valutazione economica registrata.".into())),
        Some(e) => {
            if let Some(applies) = e.anomaly_applies {
                field(
                    &mut out,
                    "Esclusione automatica (art. 54)",
                    if applies {
                        "applicata".into()
                    } else {
                        "non applicata".into()
                    },
                );
            }
            if let Some(why) = &e.anomaly_why {
                field(&mut out, "Motivazione", why.clone());
            }
            if let Some(at) = e.computed_at {
                field(&mut out, "Calcolo eseguito il", rome(at));
            }
            match e.anomaly.as_ref().map(|a| a.get("report").unwrap_or(a)) {
                Some(Value::Object(report)) => {
                    for (key, label) in ANOMALY_FIELDS {
                        if let Some(val) = report.get(*key).filter(|x| !x.is_null()) {
                            field(&mut out, label, anomaly_value(&labels, key, val));
                        }
                    }
                    for (key, val) in report
                        .iter()
                        .filter(|(k, _)| !ANOMALY_FIELDS.iter().any(|(f, _)| f == k))
                    {
                        if !val.is_null() {
                            field(&mut out, key, anomaly_value(&labels, key, val));
                        }
                    }
                }
                _ => out.push(Block::Para(
                    "Il calcolo della soglia di anomalia non è stato eseguito per questa procedura.".into(),
                )),
            }
            if let Some(seed) = e.draw.as_ref().and_then(|d| d["seed"].as_str()) {
                field(
                    &mut out,
                    "Seme dell'eventuale sorteggio (dal checkpoint firmato alla chiusura)",
                    seed.to_string(),
                );
            }
        }
    }

    out.push(Block::Heading("5. Graduatoria".into()));
    match eval.and_then(|e| e.ranking.as_ref()).and_then(Value::as_array) {
        Some(lines) if !lines.is_empty() => {
            for l in lines {
                let who = l["bidder_id"].as_str().map(|i| labels.of(i)).unwrap_or_default();
                let mut s = format!("{}. {who}", scalar(&l["rank"]));
                if let Some(d) = l.get("discount").filter(|d| !d.is_null()) {
                    s.push_str(&format!(" — ribasso {}%", scalar(d)));
                }
                if let Value::Object(m) = l {
                    for (k, x) in m.iter().filter(|(k, x)| {
                        !matches!(k.as_str(), "bidder_id" | "rank" | "discount" | "tie_break") && !x.is_null()
                    }) {
                        s.push_str(&format!(
                            " — {k}: {}",
                            if x.is_object() || x.is_array() {
                                x.to_string()
                            } else {
                                scalar(x)
                            }
                        ));
                    }
                }
                if let Some(t) = l
                    .get("tie_break")
                    .filter(|t| !t.is_null() && t.as_str() != Some("none"))
                {
                    s.push_str(&format!(" — spareggio: {}", scalar(t)));
                }
                out.push(Block::Item(s));
            }
        }
        _ => out.push(Block::Para("Nessuna graduatoria.".into())),
    }
    if !p.art110.is_empty() {
        out.push(Block::Para("Verifica di congruità (art. 110):".into()));
        for a in &p.art110 {
            out.push(Block::Item(format!(
                "{}: richiesta del {}, termine {}; esito: {}{}",
                labels.uuid(a.bidder_id),
                rome(a.requested_at),
                rome(a.deadline),
                a.outcome.as_deref().unwrap_or("in attesa"),
                a.outcome_reason
                    .as_deref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default()
            )));
        }
    }

    out.push(Block::Heading("6. Aggiudicazione".into()));
    if let Some(a) = &p.award {
        field(&mut out, "Esito", outcome_label(&a.outcome).into());
        if let Some(w) = a.winner_id {
            let discount = eval
                .and_then(|e| e.ranking.as_ref())
                .and_then(Value::as_array)
                .and_then(|r| {
                    r.iter()
                        .find(|l| l["bidder_id"].as_str() == Some(w.to_string().as_str()))
                })
                .and_then(|l| l.get("discount"))
                .filter(|d| !d.is_null())
                .map(|d| format!(", ribasso offerto {}%", scalar(d)))
                .unwrap_or_default();
            field(
                &mut out,
                "Aggiudicatario",
                format!("{} (operatore {w}){discount}", labels.uuid(w)),
            );
        }
        if let Some(at) = a.proposed_at {
            field(&mut out, "Proposta di aggiudicazione", rome(at));
        }
        if let Some(at) = a.awarded_at {
            field(&mut out, "Aggiudicazione", rome(at));
        }
        if let Some(s) = a.standstill_applies {
            let mut txt = yes_no(s).to_string();
            if let Some(why) = &a.standstill_why {
                txt.push_str(&format!(" — {why}"));
            }
            field(&mut out, "Termine dilatorio (art. 18 c.3)", txt);
        }
        if let Some(end) = &a.standstill_end {
            field(&mut out, "Fine del termine dilatorio", rome(end.utc));
        }
        if let Some(at) = a.effective_at {
            field(&mut out, "Efficacia (art. 17 c.5)", rome(at));
        }
        if let Some(note) = &a.note {
            field(&mut out, "Nota", note.clone());
        }
    }
    if !p.requirements.is_empty() {
        out.push(Block::Para("Verifica dei requisiti dell'aggiudicatario:".into()));
        for r in &p.requirements {
            out.push(Block::Item(format!(
                "{} — {} — esito: {} ({})",
                r.requirement,
                r.evidence,
                if r.satisfied { "verificato" } else { "non verificato" },
                rome(r.checked_at)
            )));
        }
    }

    out.push(Block::Heading("7. Registro di trasparenza e integrità".into()));
    out.push(Block::Para(
        "Il registro delle offerte è un albero di Merkle (RFC 6962) con checkpoint firmati. Le dimensioni e le radici \
         seguenti permettono di verificare, con le prove di inclusione e di coerenza pubbliche, che nulla è stato \
         modificato dopo la scadenza. L'emissione di questo verbale è a sua volta registrata come foglia «decision» \
         con l'impronta SHA-256 del file. Checkpoint (dimensione dell'albero e hash radice SHA-256):"
            .into(),
    ));
    match &v.closing {
        Some(c) => {
            field(&mut out, "Alla chiusura: foglie", c.tree_size.to_string());
            field(&mut out, "Alla chiusura: radice", c.root_hash.clone());
            field(&mut out, "Alla chiusura: firmato il", rome(c.at));
        }
        None => field(&mut out, "Alla chiusura", "checkpoint non registrato".into()),
    }
    match &v.generation {
        Some(c) => {
            field(&mut out, "Alla generazione: foglie", c.tree_size.to_string());
            field(&mut out, "Alla generazione: radice", c.root_hash.clone());
            field(&mut out, "Alla generazione: firmato il", rome(c.at));
        }
        None => field(&mut out, "Alla generazione", "checkpoint non disponibile".into()),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_groups_thousands_italian_style() {
        assert_eq!(euro(Decimal::new(100000000, 2)), "€ 1.000.000,00");
        assert_eq!(euro(Decimal::new(98000000, 2)), "€ 980.000,00");
        assert_eq!(euro(Decimal::new(5, 1)), "€ 0,50");
        assert_eq!(euro(Decimal::new(-123456, 2)), "€ -1.234,56");
    }

    #[test]
    fn rome_shows_local_time_with_its_zone() {
        let at = DateTime::parse_from_rfc3339("2026-06-05T10:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(rome(at), "05/06/2026 12:00:00 CEST");
    }
}
