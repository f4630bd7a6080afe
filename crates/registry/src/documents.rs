//! Qualification documents with expiry (DURC, visura camerale, SOA attestation, ...).
//!
//! Files are content-addressed by SHA-256. For now the bytes live in PostgreSQL
//! (`registry_blobs.content`, bytea); the blob store will move to the seal's filesystem
//! store later, keeping the same SHA-256 keys.

use std::collections::{HashMap, HashSet};

use accounts::Principal;
use chrono::{DateTime, NaiveDate, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::operatori::{owned_row, visible_row};
use crate::schema::{operatore_documenti, operatori, registry_blobs};
use crate::{rome_today, RegistryError};

/// Largest accepted file (10 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// Documents an operatore may have uploaded in all, superseded ones included: nothing is
/// deleted (an auditor may ask which DURC stood on a given day), so without a cap one
/// supplier replacing a file in a loop fills the database (issue 11). 200 is decades of
/// four-monthly DURC renewals with the other certificates.
pub const MAX_DOCUMENTS_PER_OPERATORE: i64 = 200;

/// Bytes an operatore may have uploaded in all, superseded documents included.
pub const MAX_DOCUMENT_BYTES_PER_OPERATORE: i64 = 50 * 1024 * 1024;

/// Accepted media types: PDF, signed files (CAdES .p7m), timestamped files, XML, images.
pub const MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "application/pkcs7-mime",
    "application/timestamped-data",
    "application/xml",
    "text/xml",
    "image/png",
    "image/jpeg",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentTipo {
    /// Documento unico di regolarità contributiva. Mandatory; expiry required.
    Durc,
    /// Visura camerale (Registro delle imprese). Mandatory.
    VisuraCamerale,
    /// SOA attestation. Mandatory to declare SOA categories; expiry required.
    SoaAttestazione,
    /// ISO certification (9001, 14001, ...); expiry required. Several may coexist.
    CertificazioneIso,
    /// Anything else. Several may coexist.
    Altro,
}

impl DocumentTipo {
    pub const ALL: [DocumentTipo; 5] = [
        Self::Durc,
        Self::VisuraCamerale,
        Self::SoaAttestazione,
        Self::CertificazioneIso,
        Self::Altro,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Durc => "durc",
            Self::VisuraCamerale => "visura_camerale",
            Self::SoaAttestazione => "soa_attestazione",
            Self::CertificazioneIso => "certificazione_iso",
            Self::Altro => "altro",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label_it(self) -> &'static str {
        match self {
            Self::Durc => "DURC",
            Self::VisuraCamerale => "visura camerale",
            Self::SoaAttestazione => "attestazione SOA",
            Self::CertificazioneIso => "certificazione ISO",
            Self::Altro => "documento",
        }
    }

    fn expiry_required(self) -> bool {
        matches!(self, Self::Durc | Self::SoaAttestazione | Self::CertificazioneIso)
    }

    /// One current document per kind: a new upload supersedes the previous one.
    fn single(self) -> bool {
        matches!(self, Self::Durc | Self::VisuraCamerale | Self::SoaAttestazione)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentsStatus {
    /// Every mandatory document is present and not expired.
    Valid,
    /// A mandatory document is past its expiry date (Europe/Rome calendar day).
    Expired,
    /// A mandatory document was never uploaded.
    Missing,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentIssue {
    pub tipo: DocumentTipo,
    /// `missing` or `expired`.
    pub problem: DocumentsStatus,
    pub scadenza: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Documento {
    pub id: Uuid,
    pub operatore_id: Uuid,
    pub tipo: DocumentTipo,
    pub nome_file: String,
    pub media_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Last day of validity (inclusive).
    pub scadenza: Option<NaiveDate>,
    /// Past its expiry on the current Europe/Rome calendar day.
    pub expired: bool,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: Uuid,
    /// Set when a newer document of the same kind replaced this one.
    pub superseded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = operatore_documenti)]
struct DocRow {
    id: Uuid,
    operatore_id: Uuid,
    tipo: String,
    nome_file: String,
    media_type: String,
    size_bytes: i64,
    sha256: String,
    scadenza: Option<NaiveDate>,
    uploaded_at: DateTime<Utc>,
    uploaded_by: Uuid,
    superseded_at: Option<DateTime<Utc>>,
}

impl DocRow {
    fn view(self, today: NaiveDate) -> Documento {
        Documento {
            expired: self.scadenza.is_some_and(|s| s < today),
            id: self.id,
            operatore_id: self.operatore_id,
            tipo: DocumentTipo::parse(&self.tipo).unwrap_or(DocumentTipo::Altro),
            nome_file: self.nome_file,
            media_type: self.media_type,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            scadenza: self.scadenza,
            uploaded_at: self.uploaded_at,
            uploaded_by: self.uploaded_by,
            superseded_at: self.superseded_at,
        }
    }
}

/// Metadata of an upload (query string); the body is the file, its Content-Type the media type.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadMeta {
    /// durc, visura_camerale, soa_attestazione, certificazione_iso, altro.
    pub tipo: String,
    /// Last day of validity, YYYY-MM-DD (required for durc, soa_attestazione, certificazione_iso).
    pub scadenza: Option<NaiveDate>,
    /// Original file name, e.g. durc.pdf.
    pub nome_file: String,
}

/// Refuses an upload that would take the operatore over its quotas. The operatore's row is
/// locked first, so two concurrent uploads (a double click) cannot both pass the count.
fn ensure_within_quota(conn: &mut PgConnection, operatore: Uuid, size: i64) -> Result<(), RegistryError> {
    operatori::table
        .find(operatore)
        .select(operatori::id)
        .for_update()
        .first::<Uuid>(conn)?;
    // SUM(int8) is numeric in PostgreSQL; the cast keeps it an i64 (at most 50 MiB here).
    let (count, bytes): (i64, i64) = operatore_documenti::table
        .filter(operatore_documenti::operatore_id.eq(operatore))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::sql::<diesel::sql_types::BigInt>("COALESCE(SUM(size_bytes), 0)::int8"),
        ))
        .first(conn)?;
    if count >= MAX_DOCUMENTS_PER_OPERATORE {
        return Err(RegistryError::conflict(
            "documenti_quota_count",
            Some("content"),
            format!("Raggiunto il numero massimo di {MAX_DOCUMENTS_PER_OPERATORE} documenti caricati (compresi quelli sostituiti): rivolgersi alla centrale"),
        ));
    }
    if bytes + size > MAX_DOCUMENT_BYTES_PER_OPERATORE {
        return Err(RegistryError::conflict(
            "documenti_quota_bytes",
            Some("content"),
            format!("Lo spazio per i documenti è esaurito ({bytes} di {MAX_DOCUMENT_BYTES_PER_OPERATORE} byte usati, compresi i documenti sostituiti): rivolgersi alla centrale"),
        ));
    }
    Ok(())
}

pub fn upload(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    operatore: Uuid,
    meta: &UploadMeta,
    media_type: &str,
    content: &[u8],
) -> Result<Documento, RegistryError> {
    let tipo = DocumentTipo::parse(meta.tipo.trim()).ok_or_else(|| {
        RegistryError::invalid(
            "documento_tipo_unknown",
            "tipo",
            "Tipo di documento non riconosciuto; valori ammessi: durc, visura_camerale, soa_attestazione, certificazione_iso, altro",
        )
    })?;
    let nome_file = meta.nome_file.trim();
    if nome_file.is_empty() || nome_file.chars().count() > 255 || nome_file.contains(['/', '\\']) {
        return Err(RegistryError::invalid(
            "nome_file_invalid",
            "nome_file",
            "Nome del file mancante o non valido (massimo 255 caratteri, senza percorsi)",
        ));
    }
    let media_type = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !MEDIA_TYPES.contains(&media_type.as_str()) {
        return Err(RegistryError::invalid(
            "media_type_not_allowed",
            "content_type",
            format!("Tipo di file non ammesso; ammessi: {}", MEDIA_TYPES.join(", ")),
        ));
    }
    if content.is_empty() {
        return Err(RegistryError::invalid("documento_vuoto", "content", "Il file è vuoto"));
    }
    if content.len() > MAX_DOCUMENT_BYTES {
        return Err(RegistryError::invalid(
            "documento_troppo_grande",
            "content",
            format!("Il file supera la dimensione massima di {MAX_DOCUMENT_BYTES} byte"),
        ));
    }
    let today = rome_today(ctx.at);
    match meta.scadenza {
        None if tipo.expiry_required() => {
            return Err(RegistryError::invalid(
                "scadenza_required",
                "scadenza",
                format!("La data di scadenza è obbligatoria per: {}", tipo.label_it()),
            ))
        }
        Some(s) if s < today => {
            return Err(RegistryError::invalid(
                "documento_scaduto",
                "scadenza",
                format!("Il documento risulta già scaduto il {}", s.format("%d/%m/%Y")),
            ))
        }
        _ => {}
    }
    let sha = hex::encode(Sha256::digest(content));
    let size = content.len() as i64;
    conn.transaction(|conn| {
        owned_row(conn, who, operatore)?;
        ensure_within_quota(conn, operatore, size)?;
        diesel::insert_into(registry_blobs::table)
            .values((
                registry_blobs::sha256.eq(&sha),
                registry_blobs::size_bytes.eq(size),
                registry_blobs::content.eq(content),
                registry_blobs::created_at.eq(ctx.at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        let mut superseded: Vec<Uuid> = Vec::new();
        if tipo.single() {
            superseded = diesel::update(
                operatore_documenti::table
                    .filter(operatore_documenti::operatore_id.eq(operatore))
                    .filter(operatore_documenti::tipo.eq(tipo.as_str()))
                    .filter(operatore_documenti::superseded_at.is_null()),
            )
            .set(operatore_documenti::superseded_at.eq(ctx.at))
            .returning(operatore_documenti::id)
            .get_results(conn)?;
        }
        let row: DocRow = diesel::insert_into(operatore_documenti::table)
            .values((
                operatore_documenti::id.eq(Uuid::new_v4()),
                operatore_documenti::operatore_id.eq(operatore),
                operatore_documenti::tipo.eq(tipo.as_str()),
                operatore_documenti::nome_file.eq(nome_file),
                operatore_documenti::media_type.eq(&media_type),
                operatore_documenti::size_bytes.eq(size),
                operatore_documenti::sha256.eq(&sha),
                operatore_documenti::scadenza.eq(meta.scadenza),
                operatore_documenti::uploaded_at.eq(ctx.at),
                operatore_documenti::uploaded_by.eq(who.user_id),
            ))
            .returning(DocRow::as_returning())
            .get_result(conn)?;
        diesel::update(operatori::table.find(operatore))
            .set(operatori::updated_at.eq(ctx.at))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "registry.operatore.document_uploaded",
                object_type: "operatore",
                object_id: operatore.to_string(),
                ente_id: None,
                details: serde_json::json!({
                    "documento_id": row.id,
                    "tipo": tipo.as_str(),
                    "nome_file": nome_file,
                    "media_type": media_type,
                    "size_bytes": size,
                    "sha256": sha,
                    "scadenza": meta.scadenza,
                    "supersedes": superseded,
                }),
            },
        )?;
        Ok(row.view(today))
    })
}

/// Every document of the entry, current and superseded, newest first; within the same
/// instant the current one comes first (owner and officials).
pub fn list(
    conn: &mut PgConnection,
    who: &Principal,
    operatore: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Documento>, RegistryError> {
    visible_row(conn, who, operatore)?;
    let today = rome_today(now);
    Ok(operatore_documenti::table
        .filter(operatore_documenti::operatore_id.eq(operatore))
        .order((
            operatore_documenti::uploaded_at.desc(),
            operatore_documenti::superseded_at.desc().nulls_first(),
            operatore_documenti::id.desc(),
        ))
        .select(DocRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| r.view(today))
        .collect())
}

/// One document with its bytes (owner and officials).
pub fn content(
    conn: &mut PgConnection,
    who: &Principal,
    operatore: Uuid,
    documento: Uuid,
    now: DateTime<Utc>,
) -> Result<(Documento, Vec<u8>), RegistryError> {
    visible_row(conn, who, operatore)?;
    let row: DocRow = operatore_documenti::table
        .find(documento)
        .filter(operatore_documenti::operatore_id.eq(operatore))
        .select(DocRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(RegistryError::NotFound { what: "Documento" })?;
    let bytes: Vec<u8> = registry_blobs::table
        .find(&row.sha256)
        .select(registry_blobs::content)
        .first(conn)?;
    Ok((row.view(rome_today(now)), bytes))
}

/// Whether the entry has a current, unexpired document of this kind.
pub fn has_valid(
    conn: &mut PgConnection,
    operatore: Uuid,
    tipo: DocumentTipo,
    today: NaiveDate,
) -> Result<bool, RegistryError> {
    let n: i64 = operatore_documenti::table
        .filter(operatore_documenti::operatore_id.eq(operatore))
        .filter(operatore_documenti::tipo.eq(tipo.as_str()))
        .filter(operatore_documenti::superseded_at.is_null())
        .filter(
            operatore_documenti::scadenza
                .is_null()
                .or(operatore_documenti::scadenza.ge(today)),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Documents status of each entry: DURC and visura camerale are mandatory for all, the SOA
/// attestation for those declaring SOA categories (`soa_holders`).
pub(crate) fn status_for(
    conn: &mut PgConnection,
    ids: &[Uuid],
    soa_holders: &HashSet<Uuid>,
    today: NaiveDate,
) -> Result<HashMap<Uuid, (DocumentsStatus, Vec<DocumentIssue>)>, RegistryError> {
    let columns = (
        operatore_documenti::operatore_id,
        operatore_documenti::tipo,
        operatore_documenti::scadenza,
    );
    let current: Vec<(Uuid, String, Option<NaiveDate>)> = match ids {
        // One operatore (every envelope's eligibility, issue 15): `= ANY($1)` is planned again
        // at each call (PostgreSQL keeps choosing a custom plan for it), `= $1` once.
        [one] => operatore_documenti::table
            .filter(operatore_documenti::operatore_id.eq(*one))
            .filter(operatore_documenti::superseded_at.is_null())
            .select(columns)
            .load(conn)?,
        _ => operatore_documenti::table
            .filter(operatore_documenti::operatore_id.eq_any(ids))
            .filter(operatore_documenti::superseded_at.is_null())
            .select(columns)
            .load(conn)?,
    };
    let mut by: HashMap<(Uuid, DocumentTipo), Option<NaiveDate>> = HashMap::new();
    for (op, tipo, scadenza) in current {
        if let Some(t) = DocumentTipo::parse(&tipo) {
            by.insert((op, t), scadenza);
        }
    }
    Ok(ids
        .iter()
        .map(|&id| {
            let mut mandatory = vec![DocumentTipo::Durc, DocumentTipo::VisuraCamerale];
            if soa_holders.contains(&id) {
                mandatory.push(DocumentTipo::SoaAttestazione);
            }
            let issues: Vec<DocumentIssue> = mandatory
                .into_iter()
                .filter_map(|tipo| match by.get(&(id, tipo)) {
                    None => Some(DocumentIssue {
                        tipo,
                        problem: DocumentsStatus::Missing,
                        scadenza: None,
                    }),
                    Some(Some(s)) if *s < today => Some(DocumentIssue {
                        tipo,
                        problem: DocumentsStatus::Expired,
                        scadenza: Some(*s),
                    }),
                    Some(_) => None,
                })
                .collect();
            let status = if issues.iter().any(|i| i.problem == DocumentsStatus::Missing) {
                DocumentsStatus::Missing
            } else if issues.is_empty() {
                DocumentsStatus::Valid
            } else {
                DocumentsStatus::Expired
            };
            (id, (status, issues))
        })
        .collect())
}
