//! The minutes (verbale) of an opening session: for one envelope kind, who opened it and when,
//! the custodians' key shares submitted (k of n, by whom and when), and the envelopes opened
//! with their bidders by ragione sociale and partita IVA, the ciphertext and plaintext hashes,
//! the outcome of decryption and, for envelope C, the economic offer read. Read through
//! `offerte::opening::list` (RUP, commission, auditors of the ente, admins); exists only once
//! the kind is opened, hence after the deadline. Its date is the opening's instant.

use accounts::Principal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::error::DocumentError;
use crate::issued::Rendered;
use crate::pdf::{self, Block, Column, Table};
use crate::verbale::{identities, rome, Labels};

fn kind_label(k: &str) -> &'static str {
    match k {
        "A" => "busta A — documentazione amministrativa",
        "B" => "busta B — offerta tecnica",
        "C" => "busta C — offerta economica",
        _ => "busta",
    }
}

fn user_name(conn: &mut PgConnection, id: Uuid) -> String {
    accounts::users::get(conn, id).map_or_else(|_| id.to_string(), |u| format!("{} <{}>", u.full_name, u.email))
}

fn offer_text(v: &Value) -> String {
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return format!("non leggibile: {e}");
    }
    let mut parts = Vec::new();
    for (k, label) in [
        ("discount", "ribasso %"),
        ("price", "prezzo"),
        ("labour_costs", "costi della manodopera"),
        ("safety_costs", "oneri aziendali per la sicurezza"),
    ] {
        if let Some(x) = v.get(k).filter(|x| !x.is_null()) {
            let s = x.as_str().map_or_else(|| x.to_string(), str::to_string);
            parts.push(format!("{label} {}", s.replace('.', ",")));
        }
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join("; ")
    }
}

/// Renders the minutes of the opening of envelope kind `busta` of tender `bando`.
pub fn render(conn: &mut PgConnection, who: &Principal, bando: Uuid, busta: &str) -> Result<Rendered, DocumentError> {
    use offerte::schema::seal_opening_shares as s;
    let busta = busta.trim().to_ascii_uppercase();
    if !matches!(busta.as_str(), "A" | "B" | "C") {
        return Err(DocumentError::invalid("unknown_envelope_kind", "La busta è A, B o C"));
    }
    let openings = offerte::opening::list(conn, who, bando)?;
    let o = openings.into_iter().find(|o| o.kind == busta).ok_or_else(|| {
        DocumentError::conflict(
            "session_not_held",
            format!("La {} non è ancora stata aperta", kind_label(&busta)),
        )
    })?;
    let row = bando::store::find(conn, bando)?;
    let ente = accounts::enti::find(conn, row.ente_id)?;
    let key = offerte::custody::get(conn, bando)?;
    let shares: Vec<(Uuid, i32, DateTime<Utc>)> = s::table
        .filter(s::bando_id.eq(bando))
        .filter(s::kind.eq(&busta))
        .filter(s::submitted_at.le(o.opened_at))
        .order((s::submitted_at.asc(), s::position.asc()))
        .select((s::custodian_user_id, s::position, s::submitted_at))
        .load(conn)?;
    let mut ids: Vec<Uuid> = o.envelopes.iter().map(|e| e.bidder_id).collect();
    ids.sort();
    ids.dedup();
    let labels = Labels::new(&identities(conn, &ids)?);
    let cig = row.cig.clone().unwrap_or_else(|| "—".into());
    let opener = user_name(conn, o.opened_by);

    let mut b = vec![
        Block::Title(format!("Verbale della seduta di apertura — {}", kind_label(&busta))),
        Block::Heading("Gara".into()),
        Block::Field(
            "Stazione appaltante".into(),
            format!("{} (C.F. {})", ente.nome, ente.codice_fiscale),
        ),
        Block::Field("Oggetto".into(), row.oggetto.clone()),
        Block::Field("CIG".into(), cig.clone()),
        Block::Field(
            "Termine di presentazione".into(),
            row.submission_deadline.map(rome).unwrap_or_else(|| "—".into()),
        ),
        Block::Heading("Seduta".into()),
        Block::Field("Buste aperte".into(), kind_label(&busta).into()),
        Block::Field("Apertura eseguita da".into(), opener),
        Block::Field("Apertura eseguita il".into(), rome(o.opened_at)),
        Block::Field(
            "Quote della chiave".into(),
            format!(
                "{} quote presentate; ne servono {} su {} custodi (schema a soglia di Shamir)",
                o.shares_used, key.k, key.n
            ),
        ),
        Block::Field("Foglia del registro (apertura)".into(), o.leaf_hash.clone()),
        Block::Heading("Quote presentate dai custodi".into()),
    ];
    let mut share_rows = Vec::new();
    for (user, position, at) in &shares {
        share_rows.push(vec![position.to_string(), user_name(conn, *user), rome(*at)]);
    }
    b.push(Block::Table(Table {
        columns: vec![
            Column::right("Posizione", 0.8),
            Column::left("Custode", 3.5),
            Column::left("Presentata il", 1.6),
        ],
        rows: share_rows,
    }));
    b.push(Block::Heading(format!("Buste aperte: {}", o.envelopes.len())));
    let economic = busta == "C";
    let mut cols = vec![
        Column::right("N.", 0.4),
        Column::left("Concorrente", 1.9),
        Column::left("Partita IVA", 1.35),
        Column::left("Ricevuta e impronte", 3.4),
        Column::left("Esito", 1.2),
    ];
    if economic {
        cols.push(Column::left("Offerta economica", 1.8));
    }
    let rows = o
        .envelopes
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut r = vec![
                (i + 1).to_string(),
                labels.name(e.bidder_id),
                labels.piva(e.bidder_id),
                format!(
                    "ricevuta {}\nSHA-256 cifrato {}\nSHA-256 in chiaro {}",
                    e.envelope_id,
                    e.sha256,
                    e.plaintext_sha256.as_deref().unwrap_or("—")
                ),
                match (&e.error, &e.archive_error) {
                    (Some(err), _) => format!("non decifrata: {err}"),
                    (None, Some(err)) => format!("decifrata; archivio non valido: {err}"),
                    (None, None) => format!("decifrata ({} byte)", e.plaintext_size.unwrap_or(0)),
                },
            ];
            if economic {
                r.push(e.economic_offer.as_ref().map_or_else(|| "—".into(), offer_text));
            }
            r
        })
        .collect();
    b.push(Block::Table(Table { columns: cols, rows }));
    let meta = pdf::Meta {
        title: format!("Verbale della seduta di apertura (busta {busta})"),
        cig,
        footer: format!("{} — {}", ente.nome, row.oggetto),
        author: ente.nome.clone(),
        created: o.opened_at,
    };
    Ok(Rendered {
        scope: format!("busta:{busta}"),
        file_name: format!("verbale-seduta-{bando}-busta-{busta}.pdf"),
        bytes: pdf::render(&meta, &b),
        owner: None,
        sealed_until_deadline: None,
    })
}
