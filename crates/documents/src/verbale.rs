//! The award report (verbale di aggiudicazione): what the procedure decided, read from the
//! evaluation workflow's public view (`aggiudicazione::procedure::view`), the bids received
//! (envelope receipts and their log leaves), the bidders' ragione sociale and partita IVA
//! (`registry::operatori::public_identities`) and the seal's checkpoint at closing, laid out in
//! Italian as a PDF with tables (`crate::pdf`).
//!
//! Deterministic: the document's date is the instant of the latest award act (proposal,
//! award, efficacy), never the clock, and it names nobody who merely issued it; so issuing it
//! twice on the same data gives the same bytes (see `crate::issued`).

use std::collections::BTreeMap;

use accounts::{Principal, Role};
use aggiudicazione::procedure::{self, Procedura, ProcedureError};
use bando::store as bstore;
use chrono::{DateTime, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::pdf::{self, Block, Column, Table};

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

/// A bidder as the registry names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bidder {
    pub ragione_sociale: String,
    pub partita_iva: String,
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
    /// Bidder (user id) → ragione sociale and partita IVA.
    pub bidders: BTreeMap<Uuid, Bidder>,
    pub withdrawn: i64,
    pub procedura: Procedura,
    pub closing: Option<LogPoint>,
    /// The instant of the latest award act: the document's date.
    pub act_at: DateTime<Utc>,
}

fn forbidden<E>(_: E) -> ProcedureError {
    ProcedureError::Forbidden
}

/// RUP, auditor or commission of the tender's ente, or an admin; suppliers never.
pub fn authorize(who: &Principal, ente: Uuid) -> Result<(), ProcedureError> {
    who.require_any_in(&[Role::Rup, Role::Auditor, Role::Commission], ente)
        .map_err(forbidden)
}

/// The ragione sociale and partita IVA of these bidders (user ids), from the registry.
pub fn identities(conn: &mut PgConnection, ids: &[Uuid]) -> Result<BTreeMap<Uuid, Bidder>, ProcedureError> {
    let map = registry::operatori::public_identities(conn, ids)
        .map_err(|e| ProcedureError::conflict("registry_unavailable", e.to_string()))?;
    Ok(map
        .into_iter()
        .map(|(id, (ragione_sociale, partita_iva))| {
            (
                id,
                Bidder {
                    ragione_sociale,
                    partita_iva,
                },
            )
        })
        .collect())
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
    let Some(award) = procedura.award.as_ref() else {
        return Err(ProcedureError::conflict(
            "report_before_proposal",
            "Il verbale di aggiudicazione si genera dalla proposta di aggiudicazione in poi",
        ));
    };
    let act_at = [award.proposed_at, award.awarded_at, award.effective_at]
        .into_iter()
        .flatten()
        .max()
        .or(procedura.evaluation.as_ref().and_then(|e| e.computed_at))
        .unwrap_or(row.created_at);
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
    let mut ids: Vec<Uuid> = bid_lines.iter().map(|b| b.bidder_id).collect();
    ids.extend(procedura.participants.iter().map(|p| p.bidder_id));
    ids.sort();
    ids.dedup();
    let bidders = identities(conn, &ids)?;

    let closure: Option<(i64, DateTime<Utc>)> = seal_closures::table
        .find(bando)
        .select((seal_closures::tree_size, seal_closures::closed_at))
        .first(conn)
        .optional()?;
    let closing = match closure {
        Some((size, closed_at)) => {
            let r: Option<(Vec<u8>, DateTime<Utc>)> = log_checkpoints::table
                .filter(log_checkpoints::tree_size.eq(size))
                .select((log_checkpoints::root_hash, log_checkpoints::created_at))
                .first(conn)
                .optional()?;
            Some(match r {
                Some((root, at)) => LogPoint {
                    tree_size: size,
                    root_hash: hex::encode(root),
                    at,
                },
                None => LogPoint {
                    tree_size: size,
                    root_hash: String::new(),
                    at: closed_at,
                },
            })
        }
        None => None,
    };

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
        bidders,
        withdrawn,
        procedura,
        closing,
        act_at,
    })
}

/// The file name of the report.
pub fn file_name(v: &Verbale) -> String {
    match &v.lotto {
        Some((n, _, _)) => format!("verbale-aggiudicazione-{}-lotto-{n}.pdf", v.bando_id),
        None => format!("verbale-aggiudicazione-{}.pdf", v.bando_id),
    }
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

/// Bidders by ragione sociale and partita IVA (the id when the registry does not know it).
pub(crate) struct Labels(BTreeMap<String, Bidder>);

impl Labels {
    pub(crate) fn new(bidders: &BTreeMap<Uuid, Bidder>) -> Self {
        Labels(bidders.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    /// `Ragione sociale (P.IVA 01234567890)`.
    pub(crate) fn of(&self, id: &str) -> String {
        match self.0.get(id) {
            Some(b) => format!("{} (P.IVA {})", b.ragione_sociale, b.partita_iva),
            None => format!("operatore {id}"),
        }
    }

    pub(crate) fn uuid(&self, id: Uuid) -> String {
        self.of(&id.to_string())
    }

    pub(crate) fn name(&self, id: Uuid) -> String {
        self.0
            .get(&id.to_string())
            .map_or_else(|| format!("operatore {id}"), |b| b.ragione_sociale.clone())
    }

    pub(crate) fn piva(&self, id: Uuid) -> String {
        self.0
            .get(&id.to_string())
            .map_or_else(|| "—".into(), |b| b.partita_iva.clone())
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

/// The report as PDF bytes: deterministic in `v` (the creation date is `v.act_at`).
pub fn render(v: &Verbale) -> Vec<u8> {
    let cig = match &v.lotto {
        Some((n, cig, _)) => format!("{cig} (lotto {n})"),
        None => v.cig.clone().unwrap_or_else(|| "—".into()),
    };
    let meta = pdf::Meta {
        title: "Verbale di aggiudicazione".into(),
        cig,
        footer: format!("{} — {}", v.ente, v.oggetto),
        author: v.ente.clone(),
        created: v.act_at,
    };
    pdf::render(&meta, &blocks(v))
}

fn table(columns: Vec<Column>, rows: Vec<Vec<String>>) -> Block {
    Block::Table(Table { columns, rows })
}

/// A decimal value of the engine's JSON (string or number), `—` when absent.
fn num(v: &Value) -> String {
    match v {
        Value::String(s) => s.replace('.', ","),
        Value::Number(n) => n.to_string().replace('.', ","),
        Value::Null => "—".into(),
        other => scalar(other),
    }
}

/// The report's content, before layout.
pub fn blocks(v: &Verbale) -> Vec<Block> {
    let p = &v.procedura;
    let labels = Labels::new(&v.bidders);
    let mut out = Vec::new();
    let field = |out: &mut Vec<Block>, k: &str, val: String| out.push(Block::Field(k.into(), val));

    out.push(Block::Title("Verbale di aggiudicazione".into()));
    out.push(Block::Para(format!(
        "Documento della piattaforma alla data dell'ultimo atto di aggiudicazione ({}). Gli orari sono indicati nel \
         fuso Europe/Rome; gli importi in euro; i ribassi in percentuale, con i valori esatti memorizzati dal calcolo. \
         I concorrenti sono indicati con ragione sociale e partita IVA come risultano dall'albo.",
        rome(v.act_at)
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
    let mut rows = Vec::new();
    for (i, b) in v.bids.iter().enumerate() {
        for (j, e) in b.envelopes.iter().enumerate() {
            let first = j == 0;
            rows.push(vec![
                if first { (i + 1).to_string() } else { String::new() },
                if first { labels.name(b.bidder_id) } else { String::new() },
                if first { labels.piva(b.bidder_id) } else { String::new() },
                e.kind.clone(),
                format!(
                    "ricevuta {}\nSHA-256 {}\nfoglia {}",
                    e.envelope_id, e.sha256, e.leaf_hash
                ),
                e.size_bytes.to_string(),
                rome(e.received_at),
            ]);
        }
    }
    out.push(table(
        vec![
            Column::right("N.", 0.4),
            Column::left("Concorrente", 1.9),
            Column::left("Partita IVA", 1.35),
            Column::left("Busta", 0.65),
            Column::left("Ricevuta e impronte", 3.7),
            Column::right("Byte", 0.7),
            Column::left("Ricevuta il", 1.3),
        ],
        rows,
    ));

    out.push(Block::Heading("3. Ammissioni ed esclusioni".into()));
    let admitted = p.participants.iter().filter(|x| x.status == "admitted").count();
    let excluded = p.participants.iter().filter(|x| x.status == "excluded").count();
    out.push(Block::Para(format!(
        "Concorrenti esaminati: {}; ammessi: {admitted}; esclusi: {excluded}.",
        p.participants.len()
    )));
    let order: BTreeMap<Uuid, usize> = v.bids.iter().enumerate().map(|(i, b)| (b.bidder_id, i)).collect();
    let mut parts: Vec<_> = p.participants.iter().collect();
    parts.sort_by_key(|x| (order.get(&x.bidder_id).copied().unwrap_or(usize::MAX), x.bidder_id));
    out.push(table(
        vec![
            Column::left("Concorrente", 2.2),
            Column::left("Partita IVA", 1.35),
            Column::left("Esito", 1.0),
            Column::left("Fase", 1.4),
            Column::left("Motivo", 3.0),
            Column::left("Deciso il", 1.3),
        ],
        parts
            .iter()
            .map(|x| {
                vec![
                    labels.name(x.bidder_id),
                    labels.piva(x.bidder_id),
                    status_label(&x.status).to_string(),
                    x.excluded_phase.as_deref().map(phase_label).unwrap_or("—").to_string(),
                    x.reason.clone().unwrap_or_else(|| "—".into()),
                    x.decided_at.map(rome).unwrap_or_else(|| "—".into()),
                ]
            })
            .collect(),
    ));
    if !p.soccorsi.is_empty() {
        out.push(Block::Para("Soccorso istruttorio (art. 101):".into()));
        out.push(table(
            vec![
                Column::left("Concorrente", 2.0),
                Column::left("Richiesta", 2.6),
                Column::left("Del", 1.3),
                Column::left("Termine", 1.3),
                Column::left("Esito", 2.0),
            ],
            p.soccorsi
                .iter()
                .map(|s| {
                    vec![
                        labels.uuid(s.bidder_id),
                        s.request.clone(),
                        rome(s.requested_at),
                        rome(s.deadline),
                        format!(
                            "{}{}",
                            s.outcome.as_deref().unwrap_or("in attesa"),
                            s.outcome_reason
                                .as_deref()
                                .map(|r| format!(" — {r}"))
                                .unwrap_or_default()
                        ),
                    ]
                })
                .collect(),
        ));
    }
    if !p.commission.is_empty() {
        out.push(Block::Para("Commissione giudicatrice (art. 93):".into()));
        out.push(table(
            vec![
                Column::left("Componente", 2.6),
                Column::left("Ruolo", 1.0),
                Column::left("Nominato il", 1.4),
                Column::left("Dichiarazione di assenza di incompatibilità", 2.2),
            ],
            p.commission
                .iter()
                .map(|m| {
                    vec![
                        m.user_id.to_string(),
                        if m.president {
                            "presidente".into()
                        } else {
                            "componente".into()
                        },
                        rome(m.appointed_at),
                        m.declared_at.map(rome).unwrap_or_else(|| "non resa".into()),
                    ]
                })
                .collect(),
        ));
    }

    let eval = p.evaluation.as_ref();
    out.push(Block::Heading("4. Punteggi".into()));
    let technical = eval
        .and_then(|e| e.technical.as_ref())
        .map(|t| t.get("report").unwrap_or(t))
        .and_then(|r| r.get("offers"))
        .and_then(Value::as_array);
    let economic = eval
        .and_then(|e| e.economic.as_ref())
        .map(|e| e.get("economic").unwrap_or(e))
        .and_then(|r| r.get("offers"))
        .and_then(Value::as_array);
    if technical.is_none() && economic.is_none() {
        out.push(Block::Para(
            "Nessun punteggio: l'aggiudicazione segue il criterio del minor prezzo (ribassi nella graduatoria).".into(),
        ));
    }
    if let Some(offers) = technical {
        out.push(Block::Para("Offerta tecnica: punteggi per criterio.".into()));
        let mut rows = Vec::new();
        for o in offers {
            let who = o["id"].as_str().map(|i| labels.of(i)).unwrap_or_default();
            for c in o["criteria"].as_array().into_iter().flatten() {
                rows.push(vec![
                    who.clone(),
                    scalar(&c["criterion"]),
                    num(&c["average"]),
                    num(&c["coefficient"]),
                    num(&c["points"]),
                ]);
            }
            rows.push(vec![
                who.clone(),
                "Totale tecnico".into(),
                String::new(),
                String::new(),
                if o["admitted"] == Value::Bool(false) {
                    "sotto la soglia di sbarramento".into()
                } else {
                    num(&o["total"])
                },
            ]);
        }
        out.push(table(
            vec![
                Column::left("Concorrente", 3.0),
                Column::left("Criterio", 2.0),
                Column::right("Media", 1.2),
                Column::right("Coefficiente", 1.2),
                Column::right("Punti", 1.2),
            ],
            rows,
        ));
    }
    if let Some(offers) = economic {
        out.push(Block::Para("Offerta economica: punteggi.".into()));
        out.push(table(
            vec![
                Column::left("Concorrente", 3.4),
                Column::right("Valore offerto", 1.4),
                Column::right("Coefficiente", 1.4),
                Column::right("Punti", 1.4),
            ],
            offers
                .iter()
                .map(|o| {
                    vec![
                        o["id"].as_str().map(|i| labels.of(i)).unwrap_or_default(),
                        num(&o["value"]),
                        num(&o["coefficient"]),
                        num(&o["points"]),
                    ]
                })
                .collect(),
        ));
    }

    out.push(Block::Heading(
        "5. Calcolo della soglia di anomalia (Allegato II.2)".into(),
    ));
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
                    let mut rows = Vec::new();
                    for (key, label) in ANOMALY_FIELDS {
                        if let Some(val) = report.get(*key).filter(|x| !x.is_null()) {
                            rows.push(vec![
                                (rows.len() + 1).to_string(),
                                (*label).to_string(),
                                anomaly_value(&labels, key, val),
                            ]);
                        }
                    }
                    for (key, val) in report
                        .iter()
                        .filter(|(k, _)| !ANOMALY_FIELDS.iter().any(|(f, _)| f == k))
                    {
                        if !val.is_null() {
                            rows.push(vec![
                                (rows.len() + 1).to_string(),
                                key.clone(),
                                anomaly_value(&labels, key, val),
                            ]);
                        }
                    }
                    out.push(table(
                        vec![
                            Column::right("Passo", 0.6),
                            Column::left("Grandezza", 2.6),
                            Column::left("Valore", 5.0),
                        ],
                        rows,
                    ));
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

    out.push(Block::Heading("6. Graduatoria".into()));
    match eval.and_then(|e| e.ranking.as_ref()).and_then(Value::as_array) {
        Some(lines) if !lines.is_empty() => {
            // Columns: rank, bidder, then every other value the ranking carries, in order.
            let mut extra: Vec<String> = Vec::new();
            for l in lines {
                if let Value::Object(m) = l {
                    for (k, x) in m {
                        if !matches!(k.as_str(), "bidder_id" | "rank" | "tie_break" | "id")
                            && !x.is_null()
                            && !extra.contains(k)
                        {
                            extra.push(k.clone());
                        }
                    }
                }
            }
            let mut cols = vec![
                Column::right("Pos.", 0.5),
                Column::left("Concorrente", 2.4),
                Column::left("Partita IVA", 1.35),
            ];
            for k in &extra {
                cols.push(Column::right(&ranking_label(k), 1.1));
            }
            cols.push(Column::left("Spareggio", 1.2));
            let rows = lines
                .iter()
                .map(|l| {
                    let id = l["bidder_id"].as_str().and_then(|i| i.parse::<Uuid>().ok());
                    let mut r = vec![
                        scalar(&l["rank"]),
                        id.map(|i| labels.name(i)).unwrap_or_default(),
                        id.map(|i| labels.piva(i)).unwrap_or_default(),
                    ];
                    for k in &extra {
                        r.push(match l.get(k) {
                            Some(x @ (Value::Object(_) | Value::Array(_))) => x.to_string(),
                            Some(x) => num(x),
                            None => "—".into(),
                        });
                    }
                    r.push(match l.get("tie_break") {
                        Some(t) if !t.is_null() && t.as_str() != Some("none") => scalar(t),
                        _ => "—".into(),
                    });
                    r
                })
                .collect();
            out.push(table(cols, rows));
        }
        _ => out.push(Block::Para("Nessuna graduatoria.".into())),
    }
    if !p.art110.is_empty() {
        out.push(Block::Para("Verifica di congruità (art. 110):".into()));
        out.push(table(
            vec![
                Column::left("Concorrente", 2.6),
                Column::left("Richiesta del", 1.3),
                Column::left("Termine", 1.3),
                Column::left("Esito", 2.6),
            ],
            p.art110
                .iter()
                .map(|a| {
                    vec![
                        labels.uuid(a.bidder_id),
                        rome(a.requested_at),
                        rome(a.deadline),
                        format!(
                            "{}{}",
                            a.outcome.as_deref().unwrap_or("in attesa"),
                            a.outcome_reason
                                .as_deref()
                                .map(|r| format!(" — {r}"))
                                .unwrap_or_default()
                        ),
                    ]
                })
                .collect(),
        ));
    }

    out.push(Block::Heading("7. Aggiudicazione".into()));
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
                .map(|d| format!(", ribasso offerto {}%", num(d)))
                .unwrap_or_default();
            field(&mut out, "Aggiudicatario", format!("{}{discount}", labels.uuid(w)));
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
        out.push(table(
            vec![
                Column::left("Requisito", 2.5),
                Column::left("Evidenza", 3.0),
                Column::left("Esito", 1.2),
                Column::left("Verificato il", 1.3),
            ],
            p.requirements
                .iter()
                .map(|r| {
                    vec![
                        r.requirement.clone(),
                        r.evidence.clone(),
                        if r.satisfied {
                            "verificato".into()
                        } else {
                            "non verificato".into()
                        },
                        rome(r.checked_at),
                    ]
                })
                .collect(),
        ));
    }

    out.push(Block::Heading("8. Registro di trasparenza e integrità".into()));
    out.push(Block::Para(
        "Il registro delle offerte è un albero di Merkle (RFC 6962) con checkpoint firmati. La dimensione e la radice \
         alla chiusura permettono di verificare, con le prove di inclusione e di coerenza pubbliche, che nulla è stato \
         modificato dopo la scadenza. L'emissione di questo verbale è a sua volta registrata come foglia «decision» \
         con l'impronta SHA-256 del file."
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
    out
}

fn ranking_label(k: &str) -> String {
    match k {
        "discount" => "Ribasso %".into(),
        "price" => "Prezzo".into(),
        "technical" | "technical_score" => "Punti tecnici".into(),
        "economic" | "economic_score" => "Punti economici".into(),
        "total" | "total_score" => "Totale".into(),
        "points" => "Punti".into(),
        other => other.replace('_', " "),
    }
}

/// A lowest-price award among `n` bidders, as [`load`] would build it, with names outside
/// Windows-1252: the 2,000-bid test below and `make bench` (issue 14 point 6: the report of a
/// big tender renders with its tables intact; its time is the benchmark's, `journeys::bench`).
pub fn sample(n: usize) -> Verbale {
    use aggiudicazione::procedure::{Award, Evaluation, Participant};
    use chrono::TimeZone;

    let at = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).single().expect("t");
    let ids: Vec<Uuid> = (0..n).map(|i| Uuid::from_u128(i as u128 + 1)).collect();
    let bids = ids
        .iter()
        .enumerate()
        .map(|(i, id)| BidLine {
            bid_id: Uuid::from_u128(10_000 + i as u128),
            bidder_id: *id,
            envelopes: vec![EnvelopeLine {
                kind: "C".into(),
                envelope_id: Uuid::from_u128(20_000 + i as u128),
                sha256: format!("{:064x}", i),
                size_bytes: 512,
                received_at: at + chrono::Duration::seconds(i as i64),
                leaf_hash: format!("{:064x}", i + 7),
            }],
        })
        .collect();
    let bidders = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                *id,
                Bidder {
                    ragione_sociale: format!("Impresa Łódź-Ősz n. {} S.r.l.", i + 1),
                    partita_iva: format!("{:011}", i + 1),
                },
            )
        })
        .collect();
    let ranking: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| serde_json::json!({"bidder_id": id.to_string(), "rank": i + 1, "discount": format!("{}.000", 30 - i % 20), "tie_break": "none"}))
        .collect();
    Verbale {
        ente: "Comune di Milano".into(),
        ente_codice_fiscale: "01199250158".into(),
        bando_id: Uuid::from_u128(99),
        oggetto: "Manutenzione — strade ≥ 3 km".into(),
        cig: Some("A1B2C3D4E5".into()),
        lotto: None,
        contract_type: "works".into(),
        procedure_type: "aperta".into(),
        award_criterion: "minor_prezzo".into(),
        base_amount: Decimal::new(100_000_000, 2),
        safety_costs: Decimal::new(2_000_000, 2),
        anomaly_method: Some("A".into()),
        deadline: Some(at),
        bids,
        bidders,
        withdrawn: 0,
        procedura: Procedura {
            bando_id: Uuid::from_u128(99),
            lotto: None,
            state: bando::State::Awarded,
            award_criterion: bando::AwardCriterion::MinorPrezzo,
            participants: ids
                .iter()
                .map(|id| Participant {
                    bidder_id: *id,
                    status: "admitted".into(),
                    excluded_phase: None,
                    reason: None,
                    decided_by: None,
                    decided_at: Some(at),
                })
                .collect(),
            soccorsi: vec![],
            commission: vec![],
            coefficients: vec![],
            evaluation: Some(Evaluation {
                criterion: Some("minor_prezzo".into()),
                technical: None,
                technical_closed_at: None,
                anomaly_applies: Some(true),
                anomaly_why: None,
                anomaly: Some(serde_json::json!({"report": {"method": "A", "n_admitted": n, "threshold": "15.7534"}})),
                economic: None,
                ranking: Some(Value::Array(ranking)),
                draw: None,
                computed_at: Some(at),
            }),
            art110: vec![],
            award: Some(Award {
                outcome: "awarded".into(),
                winner_id: ids.first().copied(),
                proposed_at: Some(at),
                awarded_at: Some(at),
                standstill_applies: Some(false),
                standstill_why: None,
                standstill_end: None,
                effective_at: Some(at),
                ready_for_contract: true,
                contract_ready_from: None,
                note: None,
            }),
            award_terms: None,
            requirements: vec![],
            exclusion_proposals: vec![],
        },
        closing: None,
        act_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages of a PDF written by `crate::pdf` (the page tree's `/Count`).
    fn page_count(pdf: &[u8]) -> usize {
        let raw = String::from_utf8_lossy(pdf);
        raw.split("/Count ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn a_two_thousand_bid_award_report_renders_every_bidder_in_its_tables() {
        let v = sample(2000);
        let blocks = blocks(&v);
        let tables: Vec<&Table> = blocks
            .iter()
            .filter_map(|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            })
            .collect();
        // Bids, admissions, anomaly steps, ranking: every bidder in each bidder table.
        assert_eq!(tables[0].rows.len(), 2000);
        assert_eq!(tables[1].rows.len(), 2000);
        let last = "Impresa Łódź-Ősz n. 2000 S.r.l.";
        assert!(tables[0].rows.last().is_some_and(|r| r[1] == last));
        assert!(tables
            .last()
            .is_some_and(|t| t.rows.last().is_some_and(|r| r[1] == last)));
        let pdf = render(&v);
        assert!(page_count(&pdf) > 100, "{} pages", page_count(&pdf));
        assert_eq!(render(&v), pdf, "deterministic");
        // With poppler: the last bidder is there, and every page of the bid table starts
        // with its header (pages are separated by form feeds).
        let file = std::env::temp_dir().join(format!("verbale-2000-{}.pdf", std::process::id()));
        std::fs::write(&file, &pdf).expect("write");
        if let Ok(out) = std::process::Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(&file)
            .arg("-")
            .output()
        {
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            // Cells wrap: compare with whitespace collapsed.
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(last), "the last bidder is printed");
            let n = page_count(&pdf);
            assert!(text.contains(&format!("Pagina {n} di {n}")));
            let with_rows = text
                .split('\u{c}')
                .filter(|p| p.contains("Łódź-Ősz") && p.contains("ricevuta"))
                .count();
            let headers = text.matches("Ricevuta e impronte").count();
            assert!(with_rows > 10, "the bid table spans many pages ({with_rows})");
            assert!(
                headers >= with_rows,
                "each of its pages repeats the header ({headers} < {with_rows})"
            );
        }
        let _ = std::fs::remove_file(&file);
    }

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
