//! The tender summary (riepilogo del bando): the tender's data, its lots, its dates and state
//! and, only once the deadline has passed, the bids received (per lot, bidders by ragione
//! sociale and partita IVA). Before the deadline it names no bidder and counts no bid: the
//! ente must not learn who bid (issue 9). For the RUP, commission and auditors of the ente and
//! admins. Its date: the publication before the deadline, the deadline after it.

use accounts::{Principal, Role};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::DocumentError;
use crate::issued::Rendered;
use crate::pdf::{self, Block, Column, Table};
use crate::verbale::{euro, identities, rome, Labels};

fn state_label(s: &str) -> &str {
    match s {
        "draft" => "bozza",
        "published" => "pubblicato: presentazione delle offerte in corso",
        "closed" => "termine scaduto",
        "opening" => "apertura delle buste",
        "evaluation" => "valutazione",
        "proposed_award" => "proposta di aggiudicazione",
        "awarded" => "aggiudicato",
        "effective" => "aggiudicazione efficace",
        "deserted" => "deserto",
        "cancelled" => "annullato",
        other => other,
    }
}

/// Renders the summary of tender `bando` as it may be read at `now`.
pub fn render(
    conn: &mut PgConnection,
    who: &Principal,
    bando: Uuid,
    now: DateTime<Utc>,
) -> Result<Rendered, DocumentError> {
    use offerte::schema::bids;
    let row = bando::store::find(conn, bando)?;
    who.require_any_in(&[Role::Rup, Role::Auditor, Role::Commission], row.ente_id)?;
    let ente = accounts::enti::find(conn, row.ente_id)?;
    let lots = bando::store::lots(conn, bando)?;
    let deadline_passed = row.submission_deadline.is_some_and(|d| d <= now);
    let cig = row.cig.clone().unwrap_or_else(|| "—".into());
    let opt = |d: Option<DateTime<Utc>>| d.map(rome).unwrap_or_else(|| "—".into());

    let mut b = vec![
        Block::Title("Riepilogo del bando".into()),
        Block::Heading("1. Stazione appaltante e oggetto".into()),
        Block::Field(
            "Stazione appaltante".into(),
            format!("{} (C.F. {})", ente.nome, ente.codice_fiscale),
        ),
        Block::Field("Oggetto".into(), row.oggetto.clone()),
        Block::Field("CIG".into(), cig.clone()),
        Block::Field("CUP".into(), row.cup.clone().unwrap_or_else(|| "—".into())),
        Block::Field(
            "CPV".into(),
            std::iter::once(row.cpv_main.clone())
                .chain(row.cpv_additional.iter().cloned())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Block::Field("NUTS".into(), row.nuts.clone()),
        Block::Field("Identificativo".into(), bando.to_string()),
        Block::Field("Versione del bando".into(), row.version.to_string()),
        Block::Field("Stato".into(), state_label(&row.state).into()),
        Block::Heading("2. Procedura".into()),
        Block::Field("Tipo di contratto".into(), row.contract_type.clone()),
        Block::Field("Procedura".into(), row.procedure_type.clone()),
        Block::Field("Criterio di aggiudicazione".into(), row.award_criterion.clone()),
        Block::Field("Importo a base di gara".into(), euro(row.base_amount)),
        Block::Field("di cui oneri per la sicurezza".into(), euro(row.safety_costs)),
        Block::Field(
            "Metodo dell'anomalia".into(),
            row.anomaly_method
                .as_ref()
                .map_or_else(|| "—".into(), |m| format!("Metodo {m} (Allegato II.2)")),
        ),
        Block::Field("Buste".into(), row.envelopes.join(", ")),
        Block::Field(
            "Custodi delle chiavi".into(),
            format!("{} (soglia {})", row.custodians.len(), row.custodian_threshold),
        ),
        Block::Field(
            "Validità dell'offerta".into(),
            format!("{} giorni", row.offer_validity_days),
        ),
        Block::Heading("3. Date".into()),
        Block::Field("Pubblicazione".into(), opt(row.published_at)),
        Block::Field("Termine per i chiarimenti".into(), opt(row.questions_deadline)),
        Block::Field(
            "Termine di presentazione delle offerte".into(),
            opt(row.submission_deadline),
        ),
        Block::Field("Seduta di apertura".into(), opt(row.opening_at)),
    ];
    if !lots.is_empty() {
        b.push(Block::Heading("4. Lotti".into()));
        b.push(Block::Table(Table {
            columns: vec![
                Column::right("N.", 0.5),
                Column::left("CIG", 1.3),
                Column::left("Oggetto", 3.5),
                Column::right("Importo", 1.6),
                Column::right("Oneri sicurezza", 1.4),
                Column::left("Stato", 1.2),
            ],
            rows: lots
                .iter()
                .map(|l| {
                    vec![
                        l.numero.to_string(),
                        l.cig.clone(),
                        l.oggetto.clone(),
                        euro(l.base_amount),
                        euro(l.safety_costs),
                        l.state.clone(),
                    ]
                })
                .collect(),
        }));
    }
    b.push(Block::Heading("5. Offerte".into()));
    if deadline_passed {
        let rows: Vec<(Uuid, Uuid, Option<Uuid>, DateTime<Utc>)> = bids::table
            .filter(bids::bando_id.eq(bando))
            .filter(bids::withdrawn_at.is_null())
            .order((bids::created_at.asc(), bids::id.asc()))
            .select((bids::id, bids::bidder_id, bids::lotto_id, bids::created_at))
            .load(conn)?;
        let mut ids: Vec<Uuid> = rows.iter().map(|r| r.1).collect();
        ids.sort();
        ids.dedup();
        let labels = Labels::new(&identities(conn, &ids)?);
        b.push(Block::Para(format!(
            "Offerte valide presentate entro il termine: {}.",
            rows.len()
        )));
        b.push(Block::Table(Table {
            columns: vec![
                Column::right("N.", 0.5),
                Column::left("Concorrente", 3.0),
                Column::left("Partita IVA", 1.4),
                Column::left("Lotto", 0.8),
                Column::left("Offerta", 2.6),
            ],
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, (bid, bidder, lotto, _))| {
                    vec![
                        (i + 1).to_string(),
                        labels.name(*bidder),
                        labels.piva(*bidder),
                        lotto
                            .and_then(|l| lots.iter().find(|x| x.id == l))
                            .map_or_else(|| "—".into(), |l| l.numero.to_string()),
                        bid.to_string(),
                    ]
                })
                .collect(),
        }));
    } else {
        b.push(Block::Para(
            "Il termine di presentazione non è scaduto: chi ha presentato offerta, e quante offerte sono state \
             presentate, restano riservati fino alla scadenza (art. 35 c.2 lett. a)."
                .into(),
        ));
    }
    let act_at = if deadline_passed {
        row.submission_deadline.unwrap_or(row.created_at)
    } else {
        row.published_at.unwrap_or(row.created_at)
    };
    let meta = pdf::Meta {
        title: "Riepilogo del bando".into(),
        cig,
        footer: format!("{} — {}", ente.nome, row.oggetto),
        author: ente.nome.clone(),
        created: act_at,
    };
    Ok(Rendered {
        scope: String::new(),
        file_name: format!("riepilogo-{bando}.pdf"),
        bytes: pdf::render(&meta, &b),
        owner: None,
        sealed_until_deadline: None,
    })
}
