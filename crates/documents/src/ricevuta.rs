//! The bid receipt (ricevuta di presentazione dell'offerta): for its bidder only, at any time
//! (before the deadline too: it names nobody else). For each current envelope of the bidder's
//! active bid: kind, receipt id, SHA-256 of the ciphertext, size, time of receipt (Europe/Rome),
//! the RFC 3161 time of the TSA token over the signed receipt, and the `EnvelopeReceived` leaf
//! hash — all read through `offerte::submit::my_bids`, which only ever returns the caller's own
//! bids. Its date is the latest receipt (or the withdrawal).

use accounts::{Principal, UserKind};
use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::error::DocumentError;
use crate::issued::Rendered;
use crate::pdf::{self, Block, Column, Table};
use crate::verbale::rome;

/// The `genTime` of an RFC 3161 TimeStampToken (DER): the first GeneralizedTime of the token,
/// which is TSTInfo's (the encapsulated content precedes the certificates and signer infos).
pub fn tsa_gen_time(token: &[u8]) -> Option<DateTime<Utc>> {
    let mut i = 0;
    while i + 2 < token.len() {
        if token[i] == 0x18 {
            let len = usize::from(token[i + 1]);
            if (15..=40).contains(&len) && i + 2 + len <= token.len() {
                let body = &token[i + 2..i + 2 + len];
                if let Ok(s) = std::str::from_utf8(body) {
                    if let Some(t) = s.strip_suffix('Z').and_then(parse_generalized) {
                        return Some(t);
                    }
                }
            }
        }
        i += 1;
    }
    None
}

fn parse_generalized(s: &str) -> Option<DateTime<Utc>> {
    let (main, frac) = s.split_once('.').unwrap_or((s, ""));
    if main.len() != 14 || !main.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(main, "%Y%m%d%H%M%S").ok()?;
    let mut at = naive.and_utc();
    if !frac.is_empty() {
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        at += chrono::Duration::nanoseconds(digits.parse::<i64>().ok()?);
    }
    Some(at)
}

/// Renders the caller's receipt for tender `bando` (its lot `lotto`, for a tender with lots).
pub fn render(
    conn: &mut PgConnection,
    who: &Principal,
    bando: Uuid,
    lotto: Option<Uuid>,
) -> Result<Rendered, DocumentError> {
    if who.kind != UserKind::Supplier {
        return Err(DocumentError::Forbidden);
    }
    let row = bando::store::find(conn, bando)?;
    let bids = offerte::submit::my_bids(conn, who, bando)?;
    let bid = bids
        .iter()
        .filter(|b| b.lotto_id == lotto)
        .max_by_key(|b| (b.withdrawn_at.is_none(), b.created_at))
        .ok_or(DocumentError::NotFound { what: "Offerta" })?;
    let ente = accounts::enti::find(conn, row.ente_id)?;
    let me = registry::operatori::public_identities(conn, &[who.user_id])?;
    let (ragione, piva) = me
        .get(&who.user_id)
        .cloned()
        .unwrap_or_else(|| (who.email.clone(), "—".into()));
    let lot = match lotto {
        Some(l) => bando::store::lots(conn, bando)?.into_iter().find(|x| x.id == l),
        None => None,
    };
    let cig = lot
        .as_ref()
        .map(|l| l.cig.clone())
        .or(row.cig.clone())
        .unwrap_or_else(|| "—".into());
    let current: Vec<_> = bid.envelopes.iter().filter(|e| e.superseded_at.is_none()).collect();
    let replaced: Vec<_> = bid.envelopes.iter().filter(|e| e.superseded_at.is_some()).collect();
    let act_at = bid
        .envelopes
        .iter()
        .map(|e| e.received_at)
        .chain(bid.withdrawn_at)
        .max()
        .unwrap_or(bid.created_at);

    let mut b = vec![
        Block::Title("Ricevuta di presentazione dell'offerta".into()),
        Block::Para(
            "La piattaforma attesta di aver ricevuto, sigillate, le buste indicate. Ogni busta è cifrata per le chiavi \
             della gara e nessuno può leggerla prima della seduta di apertura; l'impronta SHA-256 identifica il contenuto \
             cifrato, il token RFC 3161 ne data la ricevuta firmata, la foglia del registro pubblico ne prova la presenza."
                .into(),
        ),
        Block::Heading("Gara".into()),
        Block::Field("Stazione appaltante".into(), format!("{} (C.F. {})", ente.nome, ente.codice_fiscale)),
        Block::Field("Oggetto".into(), row.oggetto.clone()),
        Block::Field("CIG".into(), cig.clone()),
    ];
    if let Some(l) = &lot {
        b.push(Block::Field("Lotto".into(), format!("n. {} — {}", l.numero, l.oggetto)));
    }
    b.push(Block::Field(
        "Termine di presentazione".into(),
        row.submission_deadline.map(rome).unwrap_or_else(|| "—".into()),
    ));
    b.push(Block::Heading("Operatore economico".into()));
    b.push(Block::Field("Ragione sociale".into(), ragione.clone()));
    b.push(Block::Field("Partita IVA".into(), piva));
    b.push(Block::Field("Offerta".into(), bid.id.to_string()));
    b.push(Block::Field(
        "Stato".into(),
        match bid.withdrawn_at {
            Some(at) => format!("ritirata il {}", rome(at)),
            None => "valida".into(),
        },
    ));
    b.push(Block::Heading("Buste ricevute".into()));
    let rows = |list: &[&offerte::submit::ReceiptView]| -> Vec<Vec<String>> {
        list.iter()
            .map(|e| {
                let tsa = base64::engine::general_purpose::STANDARD
                    .decode(&e.tsa_token)
                    .ok()
                    .and_then(|t| tsa_gen_time(&t))
                    .map(rome)
                    .unwrap_or_else(|| "—".into());
                vec![
                    e.kind.clone(),
                    e.envelope_id.to_string(),
                    e.sha256.clone(),
                    e.size.to_string(),
                    rome(e.received_at),
                    tsa,
                    e.leaf_hash.clone(),
                ]
            })
            .collect()
    };
    let columns = vec![
        Column::left("Busta", 0.65),
        Column::left("Ricevuta", 1.6),
        Column::left("SHA-256 del cifrato", 2.2),
        Column::right("Byte", 0.8),
        Column::left("Ricevuta il", 1.2),
        Column::left("Marca temporale RFC 3161", 1.2),
        Column::left("Foglia del registro", 2.2),
    ];
    b.push(Block::Table(Table {
        columns: columns.clone(),
        rows: rows(&current),
    }));
    if !replaced.is_empty() {
        b.push(Block::Heading("Buste sostituite".into()));
        b.push(Block::Table(Table {
            columns,
            rows: rows(&replaced),
        }));
    }
    b.push(Block::Para(
        "Verifica: la ricevuta firmata e il token si scaricano da /api/v1/buste/{id}/ricevuta e si controllano con \
         «centrale verify» e «openssl ts -verify»."
            .into(),
    ));
    let meta = pdf::Meta {
        title: "Ricevuta di presentazione dell'offerta".into(),
        cig,
        footer: format!("{} — {} — {ragione}", ente.nome, row.oggetto),
        author: ente.nome.clone(),
        created: act_at,
    };
    Ok(Rendered {
        scope: format!("offerta:{}", bid.id),
        file_name: format!("ricevuta-{bando}-{}.pdf", bid.id),
        bytes: pdf::render(&meta, &b),
        owner: Some(who.user_id),
        sealed_until_deadline: Some(row.submission_deadline),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time_parses_with_and_without_fraction() {
        let t = parse_generalized("20260605100000").expect("time");
        assert_eq!(t.to_rfc3339(), "2026-06-05T10:00:00+00:00");
        let t = parse_generalized("20260605100000.25").expect("time");
        assert_eq!(t.timestamp_subsec_millis(), 250);
        assert!(parse_generalized("2026060510000x").is_none());
        let mut der = vec![0x30, 0x03, 0x02, 0x01, 0x01, 0x18, 15];
        der.extend_from_slice(b"20260605100000Z");
        assert_eq!(tsa_gen_time(&der).map(|t| t.timestamp()), Some(1_780_653_600));
    }
}
