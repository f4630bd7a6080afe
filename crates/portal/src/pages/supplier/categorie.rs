//! `/fornitore/categorie`: the CPV categories, picked from the official vocabulary
//! (`domain::ids::Cpv`, data/cpv2008.csv) by a GET search, added and removed one at a time
//! with buttons. The registry keeps the whole set (`operatori::set_categories`): each button
//! sends the current set with one code more or less; SOA categories are kept as they are.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use domain::ids::Cpv;
use registry::operatori::{self, Categorie, Operatore, SoaInput};
use serde::Deserialize;

use super::my_operatore;
use crate::chrome::Chrome;
use crate::error::PortalError;
use crate::forms::FieldErrors;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(add).service(remove);
}

/// At most this many codes per search: a word as common as "servizi" matches thousands.
const MAX_RESULTS: usize = 50;

pub struct CpvLine {
    pub code: String,
    pub label: String,
    pub declared: bool,
}

#[derive(Template)]
#[template(path = "supplier/categorie.html")]
struct CategoriesPage {
    chrome: Chrome,
    registered: bool,
    q: String,
    results: Vec<CpvLine>,
    more: bool,
    current: Vec<CpvLine>,
    soa: Vec<String>,
    errors: FieldErrors,
}

impl CategoriesPage {
    /// The page has no field of its own: every refusal is listed above the lists.
    fn no_fields(&self) -> &'static [&'static str] {
        &[]
    }
}

/// Codes whose number starts with the digits typed, or whose Italian label contains every
/// word typed (case-insensitive), in code order.
fn search(q: &str) -> (Vec<Cpv>, bool) {
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return (vec![], false);
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let numeric = !digits.is_empty() && q.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    let words: Vec<&str> = q.split_whitespace().collect();
    let mut found: Vec<Cpv> = Cpv::all()
        .filter(|c| {
            if numeric {
                c.stem().starts_with(&digits[..digits.len().min(8)])
            } else {
                let label = c.label_it().to_lowercase();
                words.iter().all(|w| label.contains(w))
            }
        })
        .take(MAX_RESULTS + 1)
        .collect();
    let more = found.len() > MAX_RESULTS;
    found.truncate(MAX_RESULTS);
    (found, more)
}

fn current_codes(op: &Operatore) -> BTreeSet<String> {
    op.cpv.iter().map(|c| c.code.clone()).collect()
}

fn build(visitor: &Visitor, op: Option<&Operatore>, q: &str, errors: FieldErrors) -> CategoriesPage {
    let declared = op.map(current_codes).unwrap_or_default();
    let (found, more) = search(q);
    CategoriesPage {
        chrome: super::chrome(visitor, "Categorie merceologiche"),
        registered: op.is_some(),
        q: q.to_string(),
        results: found
            .iter()
            .map(|c| CpvLine {
                code: c.code().to_string(),
                label: c.label_it().to_string(),
                declared: declared.contains(c.code()),
            })
            .collect(),
        more,
        current: op
            .map(|o| {
                o.cpv
                    .iter()
                    .map(|c| CpvLine {
                        code: c.code.clone(),
                        label: c.descrizione.clone(),
                        declared: true,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        soa: op
            .map(|o| {
                o.soa
                    .iter()
                    .map(|s| format!("{} classifica {} · {}", s.categoria, s.classifica, s.descrizione))
                    .collect()
            })
            .unwrap_or_default(),
        errors,
    }
}

#[derive(Debug, Deserialize)]
struct Search {
    q: Option<String>,
}

#[get("/fornitore/categorie")]
async fn page(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<Search>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/categorie")?.clone();
    let op = my_operatore(&state, &who).await?;
    let p = build(
        &visitor,
        op.as_ref(),
        q.q.as_deref().unwrap_or(""),
        FieldErrors::default(),
    );
    super::super::render(&visitor, &p)
}

#[derive(Debug, Deserialize)]
struct Change {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    cpv: String,
    /// The search to come back to.
    #[serde(default)]
    q: String,
}

async fn change(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    form: Change,
    adding: bool,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/categorie")?.clone();
    visitor.check_csrf(&form.csrf)?;
    let Some(op) = my_operatore(&state, &who).await? else {
        return Err(PortalError::Page(api::ApiError::new(
            StatusCode::CONFLICT,
            "operatore_not_registered",
            "Prima di dichiarare le categorie occorre iscrivere l'impresa all'albo",
        )));
    };
    let mut cpv: Vec<String> = current_codes(&op).into_iter().collect();
    if adding {
        cpv.push(form.cpv.clone());
    } else {
        cpv.retain(|c| c != form.cpv.trim());
    }
    let input = Categorie {
        cpv,
        soa: op
            .soa
            .iter()
            .map(|s| SoaInput {
                categoria: s.categoria.clone(),
                classifica: s.classifica.clone(),
            })
            .collect(),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let id = op.id;
    let p = who.clone();
    match state
        .db(move |conn| operatori::set_categories(conn, &ctx, &p, id, &input))
        .await
    {
        Ok(_) => {
            let back = if form.q.trim().is_empty() {
                "/fornitore/categorie".to_string()
            } else {
                format!("/fornitore/categorie?q={}", crate::forms::url_encode(form.q.trim()))
            };
            Ok(super::super::see_other(&back))
        }
        Err(e) if e.status.is_client_error() => {
            let status = e.status;
            let p = build(&visitor, Some(&op), &form.q, FieldErrors::from_api(&e));
            super::super::render_status(&visitor, &p, status)
        }
        Err(e) => Err(e.into()),
    }
}

#[post("/fornitore/categorie/aggiungi")]
async fn add(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    form: web::Form<Change>,
) -> Result<HttpResponse, PortalError> {
    change(state, rid, visitor, form.into_inner(), true).await
}

#[post("/fornitore/categorie/rimuovi")]
async fn remove(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    form: web::Form<Change>,
) -> Result<HttpResponse, PortalError> {
    change(state, rid, visitor, form.into_inner(), false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_is_searched_by_code_or_by_words() {
        let (by_code, _) = search("4521");
        assert!(!by_code.is_empty());
        assert!(by_code.iter().all(|c| c.stem().starts_with("4521")));
        let (by_words, _) = search("lavori di costruzione");
        assert!(by_words.iter().any(|c| c.code() == "45000000-7"));
        let (many, more) = search("servizi");
        assert_eq!(many.len(), MAX_RESULTS);
        assert!(more);
        assert!(search("  ").0.is_empty());
    }
}
