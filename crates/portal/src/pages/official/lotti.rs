//! Tenders with lots on the evaluation pages (issue 13): each lot is evaluated and decided on
//! its own (art. 58; the workflow's scope is the lot), so the evaluation and commission pages
//! are about one lot, named by `?lotto=<id>` in their address and in every form they post;
//! without it a tender with lots shows the list of its lots to choose from instead of the
//! workflow's `lot_required`.

use aggiudicazione::procedure::{self as procedure, ProcedureError};
use askama::Template;
use bando::store::LottoRow;
use diesel::PgConnection;
use serde::Deserialize;
use uuid::Uuid;

use crate::chrome::Chrome;

/// The `lotto` of a page's or a form's address.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct LotParam {
    pub lotto: Option<Uuid>,
}

/// What a page of the evaluation is about.
pub enum Scope {
    /// The tender without lots, or one of its lots: the workflow's scope id.
    One {
        scope: Uuid,
        lot: Option<LottoRow>,
        lots: Vec<LottoRow>,
    },
    /// A tender with lots and no lot named: its lots, to choose from.
    Choose(Vec<LottoRow>),
}

/// The scope of tender `bando` named by `lotto`: a lot of another tender is not found (404).
pub fn resolve(conn: &mut PgConnection, bando: Uuid, lotto: Option<Uuid>) -> Result<Scope, ProcedureError> {
    let lots = bando::store::lots(conn, bando)?;
    match lotto {
        None if !lots.is_empty() => Ok(Scope::Choose(lots)),
        None => Ok(Scope::One {
            scope: bando,
            lot: None,
            lots,
        }),
        Some(l) => {
            let scope = procedure::scope(conn, bando, Some(l))?;
            let lot = lots.iter().find(|x| x.id == scope).cloned();
            Ok(Scope::One { scope, lot, lots })
        }
    }
}

/// `path` with the lot in its query (`?lotto=`), then the other `params`, already encoded.
pub fn with_lot(path: &str, lotto: Option<Uuid>, params: &[(&str, &str)]) -> String {
    let mut q: Vec<String> = lotto.map(|l| format!("lotto={l}")).into_iter().collect();
    q.extend(
        params
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::forms::url_encode(v))),
    );
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// The suffix the page's forms append to their action (`?lotto=<id>` or nothing).
pub fn suffix(lotto: Option<Uuid>) -> String {
    with_lot("", lotto, &[])
}

pub fn state_label(state: &str) -> &'static str {
    match state {
        "active" => "in valutazione",
        "proposed_award" => "proposta di aggiudicazione",
        "awarded" | "effective" => "aggiudicato",
        "deserted" => "deserto",
        "cancelled" => "annullato",
        _ => "—",
    }
}

pub struct LotLink {
    pub numero: i32,
    pub oggetto: String,
    pub cig: String,
    pub state: &'static str,
    pub href: String,
    pub current: bool,
}

/// The lots as links to `page` (the evaluation's or the commission's path), `current` marked.
pub fn links(page: &str, lots: &[LottoRow], current: Option<Uuid>) -> Vec<LotLink> {
    lots.iter()
        .map(|l| LotLink {
            numero: l.numero,
            oggetto: l.oggetto.clone(),
            cig: l.cig.clone(),
            state: state_label(&l.state),
            href: with_lot(page, Some(l.id), &[]),
            current: current == Some(l.id),
        })
        .collect()
}

/// "Lotto n — oggetto (CIG …)": what the page is about, under its title.
pub fn heading(lot: &Option<LottoRow>) -> Option<String> {
    lot.as_ref()
        .map(|l| format!("Lotto {} — {} (CIG {})", l.numero, l.oggetto, l.cig))
}

#[derive(Template)]
#[template(path = "official/lotti-scelta.html")]
pub struct ChoosePage {
    pub chrome: Chrome,
    pub title: &'static str,
    pub oggetto: String,
    pub lots: Vec<LotLink>,
    pub tender_href: String,
}
