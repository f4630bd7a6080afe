//! `/fornitore/documenti`: the qualification documents with their expiry. Uploads go through
//! `registry::documents::upload`, which owns every rule (types, sizes, expiry, the
//! per-operatore quotas); the page only unpacks the browser's multipart form.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use registry::documents::{self, DocumentTipo, UploadMeta};
use uuid::Uuid;

use super::{multipart, my_operatore, reminders, Expiry, Reminder};
use crate::chrome::Chrome;
use crate::error::PortalError;
use crate::forms::{self, FieldErrors};
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/fornitore/documenti")
            // The file plus the form's few small fields.
            .app_data(web::PayloadConfig::new(documents::MAX_DOCUMENT_BYTES + 64 * 1024))
            .route(web::get().to(list))
            .route(web::post().to(upload)),
    )
    .service(web::resource("/fornitore/documenti/{doc}").route(web::get().to(download)));
}

pub struct DocLine {
    pub id: String,
    pub tipo: String,
    pub nome_file: String,
    pub size: String,
    pub sha256: String,
    pub uploaded: String,
    pub scadenza: String,
    pub expiry: &'static str,
    pub badge: &'static str,
    pub current: bool,
}

pub struct TipoOption {
    pub value: &'static str,
    pub label: String,
}

#[derive(Template)]
#[template(path = "supplier/documenti.html")]
struct DocumentsPage {
    chrome: Chrome,
    registered: bool,
    docs: Vec<DocLine>,
    reminders: Vec<Reminder>,
    tipi: Vec<TipoOption>,
    tipo: String,
    scadenza: String,
    errors: FieldErrors,
    used: String,
    quota: String,
    saved: bool,
}

impl DocumentsPage {
    fn other_errors(&self) -> Vec<String> {
        self.errors
            .others(&["tipo", "scadenza", "content", "nome_file", "content_type"])
    }

    /// What the registry says about the file itself: its content, its type or its name.
    fn file_error(&self) -> Option<&str> {
        ["content", "content_type", "nome_file"]
            .iter()
            .find_map(|f| self.errors.get(f))
    }
}

fn size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        let tenths = bytes * 10 / (1024 * 1024);
        format!("{},{} MB", tenths / 10, tenths % 10)
    } else if bytes >= 1024 {
        format!("{} kB", bytes / 1024)
    } else {
        format!("{bytes} byte")
    }
}

async fn page(
    state: &api::AppState,
    visitor: &Visitor,
    tipo: String,
    scadenza: String,
    errors: FieldErrors,
    saved: bool,
) -> Result<DocumentsPage, PortalError> {
    let who = visitor.require_supplier("/fornitore/documenti")?.clone();
    let now = state.clock.now();
    let today = registry::rome_today(now);
    let op = my_operatore(state, &who).await?;
    let (docs, reminders) = match &op {
        None => (vec![], vec![]),
        Some(op) => {
            let (p, id) = (who.clone(), op.id);
            let docs = state.db(move |conn| documents::list(conn, &p, id, now)).await?;
            let r = reminders(op, &docs, today);
            (docs, r)
        }
    };
    let used: i64 = docs.iter().map(|d| d.size_bytes).sum();
    let lines = docs
        .iter()
        .map(|d| {
            let expiry = Expiry::of(d.scadenza, today);
            DocLine {
                id: d.id.to_string(),
                tipo: super::capitalized(d.tipo.label_it()),
                nome_file: d.nome_file.clone(),
                size: size(d.size_bytes),
                sha256: d.sha256.clone(),
                uploaded: forms::rome(&d.uploaded_at),
                scadenza: d
                    .scadenza
                    .map(|s| s.format("%d/%m/%Y").to_string())
                    .unwrap_or_else(|| "—".into()),
                expiry: if d.superseded_at.is_some() {
                    "sostituito"
                } else {
                    expiry.label()
                },
                badge: if d.superseded_at.is_some() {
                    "bg-secondary"
                } else {
                    expiry.badge()
                },
                current: d.superseded_at.is_none(),
            }
        })
        .collect();
    Ok(DocumentsPage {
        chrome: super::chrome(visitor, "Documenti"),
        registered: op.is_some(),
        docs: lines,
        reminders,
        tipi: DocumentTipo::ALL
            .iter()
            .map(|t| TipoOption {
                value: t.as_str(),
                label: super::capitalized(t.label_it()),
            })
            .collect(),
        tipo,
        scadenza,
        errors,
        used: size(used),
        quota: size(documents::MAX_DOCUMENT_BYTES_PER_OPERATORE),
        saved,
    })
}

#[derive(Debug, serde::Deserialize)]
struct Saved {
    caricato: Option<String>,
}

async fn list(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    q: web::Query<Saved>,
) -> Result<HttpResponse, PortalError> {
    let p = page(
        &state,
        &visitor,
        String::new(),
        String::new(),
        FieldErrors::default(),
        q.caricato.is_some(),
    )
    .await?;
    super::super::render(&visitor, &p)
}

fn field_error(field: &str, message: &str) -> FieldErrors {
    let mut e = FieldErrors::default();
    e.by_field.insert(field.into(), message.into());
    e
}

async fn upload(
    state: web::Data<api::AppState>,
    rid: api::request_id::RequestId,
    req: HttpRequest,
    visitor: Visitor,
    body: web::Bytes,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/documenti")?.clone();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = multipart::boundary(content_type)
        .and_then(|b| multipart::parse(&body, &b))
        .ok_or_else(PortalError::csrf)?;
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(multipart::Part::text)
            .unwrap_or_default()
    };
    // A form that is not ours (or a body we cannot read) is refused before anything else.
    visitor.check_csrf(&text("_csrf"))?;
    let tipo = text("tipo");
    let scadenza_text = text("scadenza").trim().to_string();
    let again = |errors: FieldErrors, status: StatusCode| {
        let (state, visitor, tipo, scadenza) = (state.clone(), visitor.clone(), tipo.clone(), scadenza_text.clone());
        async move {
            let p = page(&state, &visitor, tipo, scadenza, errors, false).await?;
            super::super::render_status(&visitor, &p, status)
        }
    };
    let Some(op) = my_operatore(&state, &who).await? else {
        return again(
            field_error(
                "content",
                "Prima di caricare documenti occorre iscrivere l'impresa all'albo",
            ),
            StatusCode::CONFLICT,
        )
        .await;
    };
    let scadenza = if scadenza_text.is_empty() {
        None
    } else {
        match chrono::NaiveDate::parse_from_str(&scadenza_text, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(&scadenza_text, "%d/%m/%Y"))
        {
            Ok(d) => Some(d),
            Err(_) => {
                return again(
                    field_error("scadenza", "Data di scadenza non valida: usare il formato gg/mm/aaaa"),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    };
    let file = parts.iter().find(|p| p.name == "file" && p.filename.is_some());
    let Some(file) = file.filter(|f| f.filename.as_deref().is_some_and(|n| !n.is_empty())) else {
        return again(
            field_error("content", "Scegliere il file da caricare"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let nome_file = file.filename.clone().unwrap_or_default();
    // Some browsers send a generic type; the file's extension then tells what it is.
    let declared = file.content_type.clone().unwrap_or_default();
    let media_type = if declared.is_empty() || declared.eq_ignore_ascii_case("application/octet-stream") {
        mime_guess::from_path(&nome_file).first_raw().unwrap_or("").to_string()
    } else {
        declared
    };
    let meta = UploadMeta {
        tipo: tipo.clone(),
        scadenza,
        nome_file,
    };
    let data = file.data.clone();
    let ctx = state.audit_ctx(Some(who.user_id), &rid);
    let p = who.clone();
    let id = op.id;
    let outcome = state
        .db(move |conn| documents::upload(conn, &ctx, &p, id, &meta, &media_type, &data))
        .await;
    match outcome {
        Ok(_) => Ok(super::super::see_other("/fornitore/documenti?caricato=1")),
        Err(e) if e.status.is_client_error() => again(FieldErrors::from_api(&e), e.status).await,
        Err(e) => Err(e.into()),
    }
}

async fn download(
    state: web::Data<api::AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, PortalError> {
    let who = visitor.require_supplier("/fornitore/documenti")?.clone();
    let doc = Uuid::parse_str(&path.into_inner()).map_err(|_| PortalError::not_found("Documento"))?;
    let Some(op) = my_operatore(&state, &who).await? else {
        return Err(PortalError::not_found("Documento"));
    };
    let now = state.clock.now();
    let id = op.id;
    let (meta, bytes) = state
        .db(move |conn| documents::content(conn, &who, id, doc, now))
        .await?;
    Ok(
        api::download::as_attachment(&mut HttpResponse::Ok(), &meta.media_type, &meta.nome_file)
            .insert_header(("X-Content-SHA256", meta.sha256.clone()))
            .body(bytes),
    )
}
