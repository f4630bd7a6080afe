//! `/fornitore/albo`: the registry form. The first send enters the operatore in the albo
//! (`operatori::register`, status "in attesa di verifica": that is the request for
//! qualification the centrale decides); later sends change it (`operatori::update`). Every
//! check is the registry's own, so a field refused here reads as the API says it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use askama::Template;
use domain::ids::comuni;
use registry::operatori::{self, LegaleRappresentante, NewOperatore, Operatore, OperatoreUpdate, FORME_GIURIDICHE};
use serde::Deserialize;

use super::my_operatore;
use crate::chrome::Chrome;
use crate::error::PortalError;
use crate::forms::FieldErrors;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(save);
}

/// The form's values, as typed (shown again when refused).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlboForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    pub ragione_sociale: String,
    #[serde(default)]
    pub forma_giuridica: String,
    #[serde(default)]
    pub partita_iva: String,
    #[serde(default)]
    pub codice_fiscale: String,
    /// The comune of the registered office: its ISTAT code, or its name.
    #[serde(default)]
    pub sede_istat: String,
    #[serde(default)]
    pub sede_indirizzo: String,
    #[serde(default)]
    pub pec: String,
    #[serde(default)]
    pub lr_nome: String,
    #[serde(default)]
    pub lr_cf: String,
}

impl AlboForm {
    fn of(op: &Operatore) -> Self {
        AlboForm {
            csrf: String::new(),
            ragione_sociale: op.ragione_sociale.clone(),
            forma_giuridica: op.forma_giuridica.clone(),
            partita_iva: op.partita_iva.clone(),
            codice_fiscale: op.codice_fiscale.clone(),
            // The name, as a person types it; the form reads it back to the same code.
            sede_istat: format!("{} ({})", op.sede.comune, op.sede.provincia),
            sede_indirizzo: op.sede.indirizzo.clone().unwrap_or_default(),
            pec: op.pec.clone(),
            lr_nome: op.legale_rappresentante.nome.clone(),
            lr_cf: op.legale_rappresentante.codice_fiscale.clone(),
        }
    }
}

/// The comune a person typed: a 6-digit ISTAT code stays as it is (the registry checks it);
/// a name, optionally with its province ("Peglio (CO)"), becomes the code of the one comune
/// it names. Anything else goes to the registry unchanged, which refuses it on its field.
fn istat_of(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() || s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(s.to_string());
    }
    let (name, province) = match s.rsplit_once('(') {
        Some((n, p)) if p.ends_with(')') => (n.trim(), Some(p.trim_end_matches(')').trim())),
        _ => (s, None),
    };
    let matches: Vec<_> = comuni()
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(name) || c.official_name.eq_ignore_ascii_case(name))
        .filter(|c| province.is_none_or(|p| c.province.eq_ignore_ascii_case(p)))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.istat.clone()),
        [] => Err(format!(
            "Nessun comune italiano si chiama «{name}»: indicare il nome esatto o il codice ISTAT a 6 cifre"
        )),
        many => Err(format!(
            "Più comuni si chiamano «{name}»: indicare anche la provincia, ad esempio «{} ({})», o il codice ISTAT",
            many[0].name, many[0].province
        )),
    }
}

pub struct FormaOption {
    pub value: &'static str,
    pub label: &'static str,
}

fn forma_label(f: &str) -> &'static str {
    match f {
        "ditta_individuale" => "Ditta individuale",
        "professionista" => "Libero professionista",
        "studio_associato" => "Studio associato",
        "snc" => "Società in nome collettivo (S.n.c.)",
        "sas" => "Società in accomandita semplice (S.a.s.)",
        "srl" => "Società a responsabilità limitata (S.r.l.)",
        "srls" => "S.r.l. semplificata",
        "spa" => "Società per azioni (S.p.A.)",
        "sapa" => "Società in accomandita per azioni (S.a.p.a.)",
        "cooperativa" => "Società cooperativa",
        "consorzio" => "Consorzio",
        "rete_imprese" => "Rete di imprese",
        _ => "Altra forma",
    }
}

#[derive(Template)]
#[template(path = "supplier/albo.html")]
struct AlboPage {
    chrome: Chrome,
    /// The entry as stored, when there is one.
    entry: Option<Operatore>,
    form: AlboForm,
    formas: Vec<FormaOption>,
    errors: FieldErrors,
    saved: bool,
}

impl AlboPage {
    fn new(visitor: &Visitor, entry: Option<Operatore>, form: AlboForm, errors: FieldErrors, saved: bool) -> Self {
        AlboPage {
            chrome: super::chrome(visitor, "Iscrizione all'albo"),
            entry,
            form,
            formas: FORME_GIURIDICHE
                .iter()
                .map(|f| FormaOption {
                    value: f,
                    label: forma_label(f),
                })
                .collect(),
            errors,
            saved,
        }
    }

    fn badge(&self) -> &'static str {
        self.entry.as_ref().map_or("", |e| super::status_badge(e.status))
    }

    fn pending(&self) -> bool {
        self.entry
            .as_ref()
            .is_some_and(|e| e.status == operatori::OperatoreStatus::Pending)
    }

    /// The messages of fields this form does not show (so none is lost).
    fn other_errors(&self) -> Vec<String> {
        self.errors.others(&[
            "ragione_sociale",
            "forma_giuridica",
            "partita_iva",
            "codice_fiscale",
            "sede_istat",
            "sede_indirizzo",
            "pec",
            "legale_rappresentante.nome",
            "legale_rappresentante.codice_fiscale",
        ])
    }
}

#[derive(Debug, Deserialize)]
struct Saved {
    salvato: Option<String>,
}

#[get("/fornitore/albo")]
async fn show(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<Saved>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/albo")?.clone();
    let entry = my_operatore(&state, &who).await?;
    let form = entry.as_ref().map(AlboForm::of).unwrap_or_default();
    let page = AlboPage::new(&visitor, entry, form, FieldErrors::default(), q.salvato.is_some());
    super::super::render(&visitor, &page)
}

#[post("/fornitore/albo")]
async fn save(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    visitor: Visitor,
    form: web::Form<AlboForm>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/albo")?.clone();
    visitor.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let entry = my_operatore(&state, &who).await?;
    let again = |entry: Option<Operatore>, errors: FieldErrors, status: StatusCode| {
        let page = AlboPage::new(&visitor, entry, form.clone(), errors, false);
        super::super::render_status(&visitor, &page, status)
    };
    let sede_istat = match istat_of(&form.sede_istat) {
        Ok(code) => code,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.by_field.insert("sede_istat".into(), message);
            return again(entry, errors, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let lr = LegaleRappresentante {
        nome: form.lr_nome.clone(),
        codice_fiscale: form.lr_cf.clone(),
    };
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let p = who.clone();
    let changes = OperatoreUpdate {
        ragione_sociale: Some(form.ragione_sociale.clone()),
        forma_giuridica: Some(form.forma_giuridica.clone()),
        codice_fiscale: Some(form.codice_fiscale.clone()),
        sede_istat: Some(sede_istat.clone()),
        sede_indirizzo: Some(form.sede_indirizzo.clone()),
        pec: Some(form.pec.clone()),
        legale_rappresentante: Some(lr.clone()),
    };
    let outcome = match &entry {
        None => {
            let input = NewOperatore {
                ragione_sociale: form.ragione_sociale.clone(),
                forma_giuridica: form.forma_giuridica.clone(),
                partita_iva: form.partita_iva.clone(),
                codice_fiscale: form.codice_fiscale.clone(),
                sede_istat,
                sede_indirizzo: Some(form.sede_indirizzo.clone()),
                pec: form.pec.clone(),
                legale_rappresentante: lr,
            };
            state
                .db(move |conn| match operatori::register(conn, &ctx, &p, &input) {
                    // The same form sent twice at once (a double click): the other send
                    // registered the entry a moment ago, so this one is a change to it, and
                    // the page the browser shows last says the data were saved.
                    Err(e) if e.code() == "operatore_already_registered" => {
                        let id = operatori::mine(conn, &p, ctx.at)?.id;
                        operatori::update(conn, &ctx, &p, id, &changes)
                    }
                    other => other,
                })
                .await
        }
        Some(op) => {
            let id = op.id;
            state
                .db(move |conn| operatori::update(conn, &ctx, &p, id, &changes))
                .await
        }
    };
    match outcome {
        Ok(_) => Ok(super::super::see_other("/fornitore/albo?salvato=1")),
        Err(e) if e.status.is_client_error() => again(entry, FieldErrors::from_api(&e), e.status),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comune_is_found_by_name_or_code() {
        assert_eq!(istat_of("015146").as_deref(), Ok("015146"));
        assert_eq!(istat_of("milano").as_deref(), Ok("015146"));
        assert_eq!(istat_of("Milano (MI)").as_deref(), Ok("015146"));
        assert!(istat_of("Milano (RM)").is_err());
        assert!(istat_of("Nessunluogo").is_err());
    }

    /// The form shows a stored sede as "Nome (PR)": every comune reads back to its own code,
    /// so saving the form unchanged never moves the sede.
    #[test]
    fn every_comune_as_shown_reads_back_to_its_code() {
        for c in comuni() {
            let shown = format!("{} ({})", c.name, c.province);
            assert_eq!(istat_of(&shown).as_deref(), Ok(c.istat.as_str()), "{shown}");
        }
    }
}
