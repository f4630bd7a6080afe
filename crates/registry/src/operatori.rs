//! Operatori economici: registration by a supplier account, their own edits, declared
//! categories (CPV, SOA), reads (owner or officials) and the search used by officials.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use accounts::{Principal, UserKind};
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::audit_events;
use diesel::prelude::*;
use domain::ids::{CodiceFiscale, Cpv, IstatComune, PartitaIva, Pec, SoaCategoria, SoaClassifica};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::documents::{self, DocumentIssue, DocumentsStatus};
use crate::schema::{operatore_cpv, operatore_soa, operatore_status_history, operatori};
use crate::{rome_today, RegistryError};

/// Legal forms accepted at registration. Individuals (ditta individuale, professionista) may
/// use their personal 16-character codice fiscale; every other form has an 11-digit one.
pub const FORME_GIURIDICHE: &[&str] = &[
    "ditta_individuale",
    "professionista",
    "studio_associato",
    "snc",
    "sas",
    "srl",
    "srls",
    "spa",
    "sapa",
    "cooperativa",
    "consorzio",
    "rete_imprese",
    "altro",
];

fn individual(forma: &str) -> bool {
    matches!(forma, "ditta_individuale" | "professionista")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperatoreStatus {
    /// Registered, waiting for the centrale's review.
    Pending,
    /// May be invited.
    Qualified,
    /// Refused, with a reason.
    Rejected,
    /// Temporarily excluded, with a reason; may be reinstated.
    Suspended,
}

impl OperatoreStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Qualified => "qualified",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "qualified" => Some(Self::Qualified),
            "rejected" => Some(Self::Rejected),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }

    pub fn label_it(self) -> &'static str {
        match self {
            Self::Pending => "in attesa di verifica",
            Self::Qualified => "qualificato",
            Self::Rejected => "respinto",
            Self::Suspended => "sospeso",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegaleRappresentante {
    /// Nome e cognome.
    pub nome: String,
    /// The person's 16-character codice fiscale (omocodia accepted).
    pub codice_fiscale: String,
}

/// What a supplier sends to enter the albo. Identifiers arrive as text and are validated
/// here, so each wrong one is reported with its own code and field.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperatore {
    pub ragione_sociale: String,
    /// One of: ditta_individuale, professionista, studio_associato, snc, sas, srl, srls, spa,
    /// sapa, cooperativa, consorzio, rete_imprese, altro.
    pub forma_giuridica: String,
    /// 11 digits, check digit verified.
    pub partita_iva: String,
    /// 11 digits for companies; 16 characters for individuals.
    pub codice_fiscale: String,
    /// ISTAT code (6 digits) of the Comune of the registered office.
    pub sede_istat: String,
    /// Street address of the registered office.
    pub sede_indirizzo: Option<String>,
    pub pec: String,
    pub legale_rappresentante: LegaleRappresentante,
}

/// A supplier's own changes; absent fields stay as they are. The partita IVA cannot change
/// (a different partita IVA is a different operatore).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatoreUpdate {
    pub ragione_sociale: Option<String>,
    pub forma_giuridica: Option<String>,
    pub codice_fiscale: Option<String>,
    pub sede_istat: Option<String>,
    pub sede_indirizzo: Option<String>,
    pub pec: Option<String>,
    pub legale_rappresentante: Option<LegaleRappresentante>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sede {
    pub istat_code: String,
    pub comune: String,
    /// Sigla della provincia, e.g. "MI".
    pub provincia: String,
    pub regione: String,
    pub indirizzo: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CpvDeclared {
    pub code: String,
    pub descrizione: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SoaDeclared {
    pub categoria: String,
    pub descrizione: String,
    pub classifica: String,
    /// The classifica's amount in euro; absent for VIII (unlimited).
    #[schema(value_type = Option<String>)]
    pub importo_massimo: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Operatore {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub ragione_sociale: String,
    pub forma_giuridica: String,
    pub partita_iva: String,
    pub codice_fiscale: String,
    pub sede: Sede,
    pub pec: String,
    pub legale_rappresentante: LegaleRappresentante,
    pub status: OperatoreStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: DateTime<Utc>,
    pub cpv: Vec<CpvDeclared>,
    pub soa: Vec<SoaDeclared>,
    /// `valid`, `expired` (a mandatory document is past its expiry, Europe/Rome calendar
    /// day) or `missing` (a mandatory document was never uploaded).
    pub documents_status: DocumentsStatus,
    /// What makes the documents not valid, one entry per mandatory kind.
    pub documents_issues: Vec<DocumentIssue>,
    /// Qualified and with valid documents: may be proposed for invitations.
    pub invitable: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = operatori)]
pub(crate) struct OperatoreRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub ragione_sociale: String,
    pub forma_giuridica: String,
    pub partita_iva: String,
    pub codice_fiscale: String,
    pub sede_istat: String,
    pub sede_comune: String,
    pub sede_provincia: String,
    pub sede_regione: String,
    pub sede_indirizzo: Option<String>,
    pub pec: String,
    pub legale_rappresentante_nome: String,
    pub legale_rappresentante_cf: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OperatoreRow {
    pub(crate) fn status(&self) -> OperatoreStatus {
        OperatoreStatus::parse(&self.status).unwrap_or(OperatoreStatus::Pending)
    }
}

/// Validated registration data, normalized.
struct Valid {
    ragione_sociale: String,
    forma_giuridica: String,
    codice_fiscale: String,
    sede: IstatComune,
    sede_indirizzo: Option<String>,
    pec: String,
    lr_nome: String,
    lr_cf: String,
}

fn required(value: &str, code: &'static str, field: &str, what: &str) -> Result<String, RegistryError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(RegistryError::invalid(code, field, format!("{what} è obbligatorio")));
    }
    if v.chars().count() > 300 {
        return Err(RegistryError::invalid(
            code,
            field,
            format!("{what} è troppo lungo (massimo 300 caratteri)"),
        ));
    }
    Ok(v.to_string())
}

fn forma(value: &str) -> Result<String, RegistryError> {
    let v = value.trim().to_ascii_lowercase();
    if FORME_GIURIDICHE.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(RegistryError::invalid(
            "forma_giuridica_unknown",
            "forma_giuridica",
            format!(
                "Forma giuridica non riconosciuta; valori ammessi: {}",
                FORME_GIURIDICHE.join(", ")
            ),
        ))
    }
}

fn codice_fiscale_for(forma: &str, value: &str) -> Result<String, RegistryError> {
    let cf = CodiceFiscale::from_str(value).map_err(|e| RegistryError::id("codice_fiscale", e))?;
    if cf.is_person() && !individual(forma) {
        return Err(RegistryError::invalid(
            "codice_fiscale_not_company",
            "codice_fiscale",
            "Per una società o un ente il codice fiscale è di 11 cifre",
        ));
    }
    Ok(cf.to_string())
}

fn legale_rappresentante(lr: &LegaleRappresentante) -> Result<(String, String), RegistryError> {
    let nome = required(
        &lr.nome,
        "legale_rappresentante_nome_required",
        "legale_rappresentante.nome",
        "Il nome del legale rappresentante",
    )?;
    let cf = CodiceFiscale::from_str(&lr.codice_fiscale)
        .map_err(|e| RegistryError::id("legale_rappresentante.codice_fiscale", e))?;
    if !cf.is_person() {
        return Err(RegistryError::invalid(
            "legale_rappresentante_cf_not_person",
            "legale_rappresentante.codice_fiscale",
            "Il codice fiscale del legale rappresentante deve essere quello di una persona fisica (16 caratteri)",
        ));
    }
    Ok((nome, cf.to_string()))
}

fn comune(value: &str) -> Result<IstatComune, RegistryError> {
    IstatComune::from_str(value.trim()).map_err(|e| RegistryError::id("sede_istat", e))
}

fn pec(value: &str) -> Result<String, RegistryError> {
    Ok(Pec::from_str(value)
        .map_err(|e| RegistryError::id("pec", e))?
        .to_string())
}

fn indirizzo(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn validated(input: &NewOperatore) -> Result<(String, Valid), RegistryError> {
    let ragione_sociale = required(
        &input.ragione_sociale,
        "ragione_sociale_required",
        "ragione_sociale",
        "La ragione sociale",
    )?;
    let forma_giuridica = forma(&input.forma_giuridica)?;
    let piva = PartitaIva::from_str(&input.partita_iva).map_err(|e| RegistryError::id("partita_iva", e))?;
    let codice_fiscale = codice_fiscale_for(&forma_giuridica, &input.codice_fiscale)?;
    let sede = comune(&input.sede_istat)?;
    let pec = pec(&input.pec)?;
    let (lr_nome, lr_cf) = legale_rappresentante(&input.legale_rappresentante)?;
    Ok((
        piva.to_string(),
        Valid {
            ragione_sociale,
            forma_giuridica,
            codice_fiscale,
            sede,
            sede_indirizzo: indirizzo(&input.sede_indirizzo),
            pec,
            lr_nome,
            lr_cf,
        },
    ))
}

/// A supplier account registers its operatore economico; the entry starts `pending`.
/// The first key of the advisory lock that serialises one account's registrations (the
/// two-key form: a space of its own, apart from the sequencer's one-key lock).
const REGISTRATION_LOCK: i32 = 0x4f50_0001;

/// The second key: the account's id folded to 32 bits; two accounts sharing it only wait
/// for each other.
fn account_key(user: Uuid) -> i32 {
    let b = user.as_bytes();
    i32::from_be_bytes([
        b[0] ^ b[4] ^ b[8] ^ b[12],
        b[1] ^ b[5] ^ b[9] ^ b[13],
        b[2] ^ b[6] ^ b[10] ^ b[14],
        b[3] ^ b[7] ^ b[11] ^ b[15],
    ])
}

fn already_registered() -> RegistryError {
    RegistryError::conflict(
        "operatore_already_registered",
        None,
        "Questo account ha già iscritto un operatore economico",
    )
}

fn partita_iva_taken() -> RegistryError {
    RegistryError::conflict(
        "partita_iva_duplicate",
        Some("partita_iva"),
        "Un operatore economico con questa partita IVA è già iscritto all'albo",
    )
}

/// Two registrations at once (a double click, two tabs) both pass the checks above; the
/// unique keys let one in and make the other fail here: the same conflicts, never a 500.
fn registration_race(e: diesel::result::Error) -> RegistryError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => match info.constraint_name() {
            Some(c) if c.contains("owner_user_id") => already_registered(),
            Some(c) if c.contains("partita_iva") => partita_iva_taken(),
            _ => e.into(),
        },
        _ => e.into(),
    }
}

pub fn register(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    input: &NewOperatore,
) -> Result<Operatore, RegistryError> {
    // Only supplier accounts register an operatore (officials act for the centrale or an ente).
    if who.kind != UserKind::Supplier {
        return Err(RegistryError::Forbidden);
    }
    let (piva, v) = validated(input)?;
    conn.transaction(|conn| {
        // One registration of an account at a time: the two sends of a double click meet the
        // check below in turn, so the second reads "already registered" (which the portal
        // turns into a change of the entry) instead of racing the first to the unique keys.
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<diesel::sql_types::Integer, _>(REGISTRATION_LOCK)
            .bind::<diesel::sql_types::Integer, _>(account_key(who.user_id))
            .execute(conn)?;
        let mine: i64 = operatori::table
            .filter(operatori::owner_user_id.eq(who.user_id))
            .count()
            .get_result(conn)?;
        if mine > 0 {
            return Err(already_registered());
        }
        let taken: i64 = operatori::table
            .filter(operatori::partita_iva.eq(&piva))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(partita_iva_taken());
        }
        let id = Uuid::new_v4();
        diesel::insert_into(operatori::table)
            .values((
                operatori::id.eq(id),
                operatori::owner_user_id.eq(who.user_id),
                operatori::ragione_sociale.eq(&v.ragione_sociale),
                operatori::forma_giuridica.eq(&v.forma_giuridica),
                operatori::partita_iva.eq(&piva),
                operatori::codice_fiscale.eq(&v.codice_fiscale),
                operatori::sede_istat.eq(v.sede.as_str()),
                operatori::sede_comune.eq(v.sede.name()),
                operatori::sede_provincia.eq(v.sede.province()),
                operatori::sede_regione.eq(v.sede.region()),
                operatori::sede_indirizzo.eq(&v.sede_indirizzo),
                operatori::pec.eq(&v.pec),
                operatori::legale_rappresentante_nome.eq(&v.lr_nome),
                operatori::legale_rappresentante_cf.eq(&v.lr_cf),
                operatori::status.eq(OperatoreStatus::Pending.as_str()),
                operatori::status_changed_at.eq(ctx.at),
                operatori::created_at.eq(ctx.at),
                operatori::updated_at.eq(ctx.at),
            ))
            .execute(conn)
            .map_err(registration_race)?;
        diesel::insert_into(operatore_status_history::table)
            .values((
                operatore_status_history::operatore_id.eq(id),
                operatore_status_history::to_status.eq(OperatoreStatus::Pending.as_str()),
                operatore_status_history::actor_user_id.eq(ctx.actor),
                operatore_status_history::changed_at.eq(ctx.at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "registry.operatore.registered",
                object_type: "operatore",
                object_id: id.to_string(),
                ente_id: None,
                details: serde_json::json!({
                    "ragione_sociale": v.ragione_sociale,
                    "partita_iva": piva,
                    "codice_fiscale": v.codice_fiscale,
                    "pec": v.pec,
                }),
            },
        )?;
        load(conn, id, ctx.at)
    })
}

/// The row, or 404. Suppliers other than the owner get 404 too: they must not learn which
/// entries exist.
pub(crate) fn visible_row(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<OperatoreRow, RegistryError> {
    let row = operatori::table
        .find(id)
        .select(OperatoreRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(RegistryError::NotFound {
            what: "Operatore economico",
        })?;
    if who.kind == UserKind::Official || row.owner_user_id == who.user_id {
        Ok(row)
    } else {
        Err(RegistryError::NotFound {
            what: "Operatore economico",
        })
    }
}

/// The row the caller may change: only the owner's own entry.
pub(crate) fn owned_row(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<OperatoreRow, RegistryError> {
    let row = visible_row(conn, who, id)?;
    if row.owner_user_id == who.user_id {
        Ok(row)
    } else {
        Err(RegistryError::Forbidden)
    }
}

pub fn get(conn: &mut PgConnection, who: &Principal, id: Uuid, now: DateTime<Utc>) -> Result<Operatore, RegistryError> {
    let row = visible_row(conn, who, id)?;
    Ok(assemble(conn, vec![row], now)?.remove(0))
}

/// The caller's own entry (suppliers).
pub fn mine(conn: &mut PgConnection, who: &Principal, now: DateTime<Utc>) -> Result<Operatore, RegistryError> {
    let row = operatori::table
        .filter(operatori::owner_user_id.eq(who.user_id))
        .select(OperatoreRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(RegistryError::NotFound {
            what: "Operatore economico",
        })?;
    Ok(assemble(conn, vec![row], now)?.remove(0))
}

/// What a submission needs to know of the caller's registry entry, and no more: the full
/// [`mine`] also loads CPV and SOA declarations (three more queries), and a submission asks
/// twice per envelope, before the upload streams and inside its commit (issue 15).
#[derive(Debug, Clone)]
pub struct BiddingStanding {
    pub ragione_sociale: String,
    pub status: OperatoreStatus,
    pub documents_status: DocumentsStatus,
    pub documents_issues: Vec<DocumentIssue>,
}

/// The caller's [`BiddingStanding`] at `now`, decided as [`mine`] decides it (the same
/// mandatory documents, SOA attestation included for SOA holders); `NotFound` without an entry.
pub fn bidding_standing(
    conn: &mut PgConnection,
    who: &Principal,
    now: DateTime<Utc>,
) -> Result<BiddingStanding, RegistryError> {
    let soa_declared = diesel::dsl::exists(
        operatore_soa::table
            .filter(operatore_soa::operatore_id.eq(operatori::id))
            .filter(operatore_soa::withdrawn_at.is_null()),
    );
    let (id, ragione_sociale, status, soa): (Uuid, String, String, bool) = operatori::table
        .filter(operatori::owner_user_id.eq(who.user_id))
        .select((
            operatori::id,
            operatori::ragione_sociale,
            operatori::status,
            soa_declared,
        ))
        .first(conn)
        .optional()?
        .ok_or(RegistryError::NotFound {
            what: "Operatore economico",
        })?;
    let holders: std::collections::HashSet<Uuid> = soa.then_some(id).into_iter().collect();
    let (documents_status, documents_issues) = documents::status_for(conn, &[id], &holders, rome_today(now))?
        .remove(&id)
        .unwrap_or((DocumentsStatus::Missing, Vec::new()));
    Ok(BiddingStanding {
        ragione_sociale,
        status: OperatoreStatus::parse(&status).unwrap_or(OperatoreStatus::Pending),
        documents_status,
        documents_issues,
    })
}

/// Who an award names in public: ragione sociale and partita IVA of the operatori held by
/// these accounts (one per account: `owner_user_id` is unique). Public by law once a contract
/// is awarded (art. 28; D.Lgs. 33/2013 art. 37); the caller decides that it is.
pub fn public_identities(
    conn: &mut PgConnection,
    owners: &[Uuid],
) -> Result<HashMap<Uuid, (String, String)>, RegistryError> {
    let rows: Vec<(Uuid, String, String)> = operatori::table
        .filter(operatori::owner_user_id.eq_any(owners))
        .select((
            operatori::owner_user_id,
            operatori::ragione_sociale,
            operatori::partita_iva,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(u, r, p)| (u, (r, p))).collect())
}

pub(crate) fn load(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<Operatore, RegistryError> {
    let row = operatori::table
        .find(id)
        .select(OperatoreRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(RegistryError::NotFound {
            what: "Operatore economico",
        })?;
    Ok(assemble(conn, vec![row], now)?.remove(0))
}

/// The owner changes its own data. Every change is audited with old and new values.
pub fn update(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    input: &OperatoreUpdate,
) -> Result<Operatore, RegistryError> {
    conn.transaction(|conn| {
        let row = owned_row(conn, who, id)?;
        let ragione_sociale = match &input.ragione_sociale {
            Some(v) => required(v, "ragione_sociale_required", "ragione_sociale", "La ragione sociale")?,
            None => row.ragione_sociale.clone(),
        };
        let forma_giuridica = match &input.forma_giuridica {
            Some(v) => forma(v)?,
            None => row.forma_giuridica.clone(),
        };
        let codice_fiscale = codice_fiscale_for(
            &forma_giuridica,
            input.codice_fiscale.as_deref().unwrap_or(&row.codice_fiscale),
        )?;
        let sede = comune(input.sede_istat.as_deref().unwrap_or(&row.sede_istat))?;
        let sede_indirizzo = match &input.sede_indirizzo {
            Some(_) => indirizzo(&input.sede_indirizzo),
            None => row.sede_indirizzo.clone(),
        };
        let pec = pec(input.pec.as_deref().unwrap_or(&row.pec))?;
        let (lr_nome, lr_cf) = match &input.legale_rappresentante {
            Some(lr) => legale_rappresentante(lr)?,
            None => (
                row.legale_rappresentante_nome.clone(),
                row.legale_rappresentante_cf.clone(),
            ),
        };
        let mut changes = BTreeMap::new();
        let mut note = |field: &str, old: &str, new: &str| {
            if old != new {
                changes.insert(field.to_string(), serde_json::json!({ "da": old, "a": new }));
            }
        };
        note("ragione_sociale", &row.ragione_sociale, &ragione_sociale);
        note("forma_giuridica", &row.forma_giuridica, &forma_giuridica);
        note("codice_fiscale", &row.codice_fiscale, &codice_fiscale);
        note("sede_istat", &row.sede_istat, sede.as_str());
        note(
            "sede_indirizzo",
            row.sede_indirizzo.as_deref().unwrap_or(""),
            sede_indirizzo.as_deref().unwrap_or(""),
        );
        note("pec", &row.pec, &pec);
        note("legale_rappresentante.nome", &row.legale_rappresentante_nome, &lr_nome);
        note(
            "legale_rappresentante.codice_fiscale",
            &row.legale_rappresentante_cf,
            &lr_cf,
        );
        if !changes.is_empty() {
            diesel::update(operatori::table.find(id))
                .set((
                    operatori::ragione_sociale.eq(&ragione_sociale),
                    operatori::forma_giuridica.eq(&forma_giuridica),
                    operatori::codice_fiscale.eq(&codice_fiscale),
                    operatori::sede_istat.eq(sede.as_str()),
                    operatori::sede_comune.eq(sede.name()),
                    operatori::sede_provincia.eq(sede.province()),
                    operatori::sede_regione.eq(sede.region()),
                    operatori::sede_indirizzo.eq(&sede_indirizzo),
                    operatori::pec.eq(&pec),
                    operatori::legale_rappresentante_nome.eq(&lr_nome),
                    operatori::legale_rappresentante_cf.eq(&lr_cf),
                    operatori::updated_at.eq(ctx.at),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                ctx,
                AuditEvent {
                    action: "registry.operatore.updated",
                    object_type: "operatore",
                    object_id: id.to_string(),
                    ente_id: None,
                    details: serde_json::json!({ "changes": changes }),
                },
            )?;
        }
        load(conn, id, ctx.at)
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SoaInput {
    /// E.g. "OG1", "OS18-A".
    pub categoria: String,
    /// I, II, III, III-bis, IV, IV-bis, V, VI, VII, VIII.
    pub classifica: String,
}

/// The full set of declared categories; it replaces the current one. Withdrawn
/// declarations are kept with their withdrawal time.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Categorie {
    /// CPV 2008 codes (with or without the check digit), validated on the official list.
    #[serde(default)]
    pub cpv: Vec<String>,
    /// SOA categories with their classifica (works); needs a valid SOA attestation uploaded.
    #[serde(default)]
    pub soa: Vec<SoaInput>,
}

pub fn set_categories(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    input: &Categorie,
) -> Result<Operatore, RegistryError> {
    let mut cpvs: BTreeSet<String> = BTreeSet::new();
    for (i, c) in input.cpv.iter().enumerate() {
        let cpv = Cpv::from_str(c).map_err(|e| RegistryError::id(format!("cpv[{i}]"), e))?;
        cpvs.insert(cpv.to_string());
    }
    let mut soas: BTreeMap<String, SoaClassifica> = BTreeMap::new();
    for (i, s) in input.soa.iter().enumerate() {
        let cat =
            SoaCategoria::from_str(&s.categoria).map_err(|e| RegistryError::id(format!("soa[{i}].categoria"), e))?;
        let cl =
            SoaClassifica::from_str(&s.classifica).map_err(|e| RegistryError::id(format!("soa[{i}].classifica"), e))?;
        if soas.insert(cat.to_string(), cl).is_some() {
            return Err(RegistryError::invalid(
                "soa_categoria_repeated",
                format!("soa[{i}].categoria"),
                format!("La categoria SOA {cat} è indicata più volte"),
            ));
        }
    }
    conn.transaction(|conn| {
        let _row = owned_row(conn, who, id)?;
        if !soas.is_empty() && !documents::has_valid(conn, id, documents::DocumentTipo::SoaAttestazione, rome_today(ctx.at))? {
            return Err(RegistryError::invalid(
                "soa_attestazione_required",
                "soa",
                "Per dichiarare categorie SOA occorre caricare un'attestazione SOA in corso di validità",
            ));
        }
        let current_cpv: Vec<(i64, String)> = operatore_cpv::table
            .filter(operatore_cpv::operatore_id.eq(id))
            .filter(operatore_cpv::withdrawn_at.is_null())
            .select((operatore_cpv::id, operatore_cpv::cpv))
            .load(conn)?;
        let withdraw: Vec<i64> = current_cpv
            .iter()
            .filter(|(_, c)| !cpvs.contains(c))
            .map(|(i, _)| *i)
            .collect();
        diesel::update(operatore_cpv::table.filter(operatore_cpv::id.eq_any(&withdraw)))
            .set(operatore_cpv::withdrawn_at.eq(ctx.at))
            .execute(conn)?;
        let kept: BTreeSet<&String> = current_cpv.iter().map(|(_, c)| c).collect();
        for c in cpvs.iter().filter(|c| !kept.contains(c)) {
            diesel::insert_into(operatore_cpv::table)
                .values((
                    operatore_cpv::operatore_id.eq(id),
                    operatore_cpv::cpv.eq(c),
                    operatore_cpv::stem.eq(&c[..8]),
                    operatore_cpv::declared_at.eq(ctx.at),
                ))
                .execute(conn)?;
        }
        let current_soa: Vec<(i64, String, String)> = operatore_soa::table
            .filter(operatore_soa::operatore_id.eq(id))
            .filter(operatore_soa::withdrawn_at.is_null())
            .select((operatore_soa::id, operatore_soa::categoria, operatore_soa::classifica))
            .load(conn)?;
        let withdraw: Vec<i64> = current_soa
            .iter()
            .filter(|(_, cat, cl)| soas.get(cat).map(|c| c.as_str()) != Some(cl.as_str()))
            .map(|(i, _, _)| *i)
            .collect();
        diesel::update(operatore_soa::table.filter(operatore_soa::id.eq_any(&withdraw)))
            .set(operatore_soa::withdrawn_at.eq(ctx.at))
            .execute(conn)?;
        let kept: BTreeSet<(&String, &String)> = current_soa
            .iter()
            .filter(|(i, _, _)| !withdraw.contains(i))
            .map(|(_, cat, cl)| (cat, cl))
            .collect();
        for (cat, cl) in &soas {
            let cl_name = cl.as_str().to_string();
            if kept.contains(&(cat, &cl_name)) {
                continue;
            }
            diesel::insert_into(operatore_soa::table)
                .values((
                    operatore_soa::operatore_id.eq(id),
                    operatore_soa::categoria.eq(cat),
                    operatore_soa::classifica.eq(cl.as_str()),
                    operatore_soa::classifica_rank.eq(classifica_rank(*cl)),
                    operatore_soa::declared_at.eq(ctx.at),
                ))
                .execute(conn)?;
        }
        diesel::update(operatori::table.find(id))
            .set(operatori::updated_at.eq(ctx.at))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "registry.operatore.categories_set",
                object_type: "operatore",
                object_id: id.to_string(),
                ente_id: None,
                details: serde_json::json!({
                    "cpv": cpvs,
                    "soa": soas.iter().map(|(c, cl)| serde_json::json!({ "categoria": c, "classifica": cl.as_str() })).collect::<Vec<_>>(),
                }),
            },
        )?;
        load(conn, id, ctx.at)
    })
}

/// I = 1 … VIII = 10, as stored in `operatore_soa.classifica_rank`.
pub fn classifica_rank(c: SoaClassifica) -> i32 {
    SoaClassifica::ALL
        .iter()
        .position(|x| *x == c)
        .map_or(0, |p| p as i32 + 1)
}

/// The stem prefix shared by a CPV code and all its descendants: the stem without its
/// trailing zeros, at least the 2-digit division. Mirrors `Cpv::covers` (unit-tested
/// against it) so the descendant search can run in SQL with `LIKE prefix%`.
pub fn cpv_prefix(cpv: &Cpv) -> String {
    let stem = cpv.stem();
    let len = stem.trim_end_matches('0').len().max(2);
    stem[..len].to_string()
}

/// Builds the full views for `rows`, keeping their order.
pub(crate) fn assemble(
    conn: &mut PgConnection,
    rows: Vec<OperatoreRow>,
    now: DateTime<Utc>,
) -> Result<Vec<Operatore>, RegistryError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut cpv_by: HashMap<Uuid, Vec<CpvDeclared>> = HashMap::new();
    for (op, code) in operatore_cpv::table
        .filter(operatore_cpv::operatore_id.eq_any(&ids))
        .filter(operatore_cpv::withdrawn_at.is_null())
        .order(operatore_cpv::cpv.asc())
        .select((operatore_cpv::operatore_id, operatore_cpv::cpv))
        .load::<(Uuid, String)>(conn)?
    {
        let descrizione = Cpv::from_str(&code)
            .map(|c| c.label_it().to_string())
            .unwrap_or_default();
        cpv_by.entry(op).or_default().push(CpvDeclared { code, descrizione });
    }
    let mut soa_by: HashMap<Uuid, Vec<SoaDeclared>> = HashMap::new();
    for (op, categoria, classifica) in operatore_soa::table
        .filter(operatore_soa::operatore_id.eq_any(&ids))
        .filter(operatore_soa::withdrawn_at.is_null())
        .order(operatore_soa::categoria.asc())
        .select((
            operatore_soa::operatore_id,
            operatore_soa::categoria,
            operatore_soa::classifica,
        ))
        .load::<(Uuid, String, String)>(conn)?
    {
        let descrizione = SoaCategoria::from_str(&categoria)
            .map(|c| c.description().to_string())
            .unwrap_or_default();
        let importo_massimo = SoaClassifica::from_str(&classifica).ok().and_then(|c| c.max_amount());
        soa_by.entry(op).or_default().push(SoaDeclared {
            categoria,
            descrizione,
            classifica,
            importo_massimo,
        });
    }
    let today = rome_today(now);
    let mut docs = documents::status_for(conn, &ids, &soa_by.keys().copied().collect(), today)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (documents_status, documents_issues) =
                docs.remove(&r.id).unwrap_or((DocumentsStatus::Missing, Vec::new()));
            let status = r.status();
            Operatore {
                id: r.id,
                owner_user_id: r.owner_user_id,
                ragione_sociale: r.ragione_sociale,
                forma_giuridica: r.forma_giuridica,
                partita_iva: r.partita_iva,
                codice_fiscale: r.codice_fiscale,
                sede: Sede {
                    istat_code: r.sede_istat,
                    comune: r.sede_comune,
                    provincia: r.sede_provincia,
                    regione: r.sede_regione,
                    indirizzo: r.sede_indirizzo,
                },
                pec: r.pec,
                legale_rappresentante: LegaleRappresentante {
                    nome: r.legale_rappresentante_nome,
                    codice_fiscale: r.legale_rappresentante_cf,
                },
                status,
                status_reason: r.status_reason,
                status_changed_at: r.status_changed_at,
                cpv: cpv_by.remove(&r.id).unwrap_or_default(),
                soa: soa_by.remove(&r.id).unwrap_or_default(),
                invitable: status == OperatoreStatus::Qualified && documents_status == DocumentsStatus::Valid,
                documents_status,
                documents_issues,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        })
        .collect())
}

/// Search filters (officials). All are optional and combine with AND.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A CPV code: matches suppliers declaring it or any of its descendants
    /// (45000000-7 finds 45210000-2).
    pub cpv: Option<String>,
    /// A SOA category, e.g. OG1.
    pub soa: Option<String>,
    /// With `soa`: at least this classifica (e.g. III also finds IV).
    pub min_classifica: Option<String>,
    /// ISTAT code of the Comune of the registered office.
    pub comune: Option<String>,
    /// Province abbreviation, e.g. MI.
    pub provincia: Option<String>,
    /// Region name, e.g. Lombardia.
    pub regione: Option<String>,
    /// pending, qualified, rejected, suspended.
    pub status: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// Opaque: `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperatoriPage {
    pub items: Vec<Operatore>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(ragione_sociale: &str, id: Uuid) -> String {
    hex::encode(serde_json::json!([ragione_sociale, id]).to_string())
}

fn decode_cursor(cursor: &str) -> Option<(String, Uuid)> {
    let bytes = hex::decode(cursor).ok()?;
    serde_json::from_slice::<(String, Uuid)>(&bytes).ok()
}

/// Officials search the albo, ordered by ragione sociale then id (stable keyset pages).
pub fn search(
    conn: &mut PgConnection,
    who: &Principal,
    query: &SearchQuery,
    now: DateTime<Utc>,
) -> Result<OperatoriPage, RegistryError> {
    who.require_official()?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(RegistryError::invalid(
            "limit_out_of_range",
            "limit",
            "Il limite deve essere tra 1 e 200",
        ));
    }
    let mut q = operatori::table.into_boxed();
    if let Some(c) = query.cpv.as_deref() {
        let cpv = Cpv::from_str(c).map_err(|e| RegistryError::id("cpv", e))?;
        let pattern = format!("{}%", cpv_prefix(&cpv));
        q = q.filter(
            operatori::id.eq_any(
                operatore_cpv::table
                    .filter(operatore_cpv::withdrawn_at.is_null())
                    .filter(operatore_cpv::stem.like(pattern))
                    .select(operatore_cpv::operatore_id),
            ),
        );
    }
    match (query.soa.as_deref(), query.min_classifica.as_deref()) {
        (Some(s), min) => {
            let cat = SoaCategoria::from_str(s).map_err(|e| RegistryError::id("soa", e))?;
            let rank = match min {
                Some(m) => {
                    classifica_rank(SoaClassifica::from_str(m).map_err(|e| RegistryError::id("min_classifica", e))?)
                }
                None => 1,
            };
            q = q.filter(
                operatori::id.eq_any(
                    operatore_soa::table
                        .filter(operatore_soa::withdrawn_at.is_null())
                        .filter(operatore_soa::categoria.eq(cat.to_string()))
                        .filter(operatore_soa::classifica_rank.ge(rank))
                        .select(operatore_soa::operatore_id),
                ),
            );
        }
        (None, Some(_)) => {
            return Err(RegistryError::invalid(
                "min_classifica_requires_soa",
                "min_classifica",
                "La classifica minima si indica insieme alla categoria SOA (parametro soa)",
            ))
        }
        (None, None) => {}
    }
    if let Some(c) = query.comune.as_deref() {
        let comune = IstatComune::from_str(c.trim()).map_err(|e| RegistryError::id("comune", e))?;
        q = q.filter(operatori::sede_istat.eq(comune.to_string()));
    }
    if let Some(p) = query.provincia.as_deref() {
        q = q.filter(operatori::sede_provincia.eq(p.trim().to_ascii_uppercase()));
    }
    if let Some(r) = query.regione.as_deref() {
        q = q.filter(operatori::sede_regione.ilike(r.trim().to_string()));
    }
    if let Some(s) = query.status.as_deref() {
        let status = OperatoreStatus::parse(s.trim()).ok_or_else(|| {
            RegistryError::invalid(
                "status_unknown",
                "status",
                "Stato non riconosciuto; valori ammessi: pending, qualified, rejected, suspended",
            )
        })?;
        q = q.filter(operatori::status.eq(status.as_str()));
    }
    if let Some(c) = query.cursor.as_deref() {
        let (rs, id) = decode_cursor(c)
            .ok_or_else(|| RegistryError::invalid("cursor_invalid", "cursor", "Cursore di paginazione non valido"))?;
        q = q.filter(
            operatori::ragione_sociale
                .gt(rs.clone())
                .or(operatori::ragione_sociale.eq(rs).and(operatori::id.gt(id))),
        );
    }
    let mut rows: Vec<OperatoreRow> = q
        .order((operatori::ragione_sociale.asc(), operatori::id.asc()))
        .limit(limit + 1)
        .select(OperatoreRow::as_select())
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&r.ragione_sociale, r.id))
    } else {
        None
    };
    Ok(OperatoriPage {
        items: assemble(conn, rows, now)?,
        next_cursor,
    })
}

/// The albo's picker of invitees (art. 50): qualified operatori whose ragione sociale contains
/// every word of `text`, or whose partita IVA starts with its digits, that may be invited now
/// ([`Operatore::invitable`]), ordered by ragione sociale; at most `limit`. Officials only,
/// like [`search`].
pub fn invitable_matching(
    conn: &mut PgConnection,
    who: &Principal,
    text: &str,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Operatore>, RegistryError> {
    who.require_official()?;
    let text = text.trim();
    let bare = ["IT", "it", "It"]
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text);
    let digits: String = bare.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() || limit == 0 {
        return Ok(vec![]);
    }
    // LIKE's own wildcards typed by the official are literal characters here.
    let escaped = |w: &str| w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let mut q = operatori::table
        .filter(operatori::status.eq(OperatoreStatus::Qualified.as_str()))
        .into_boxed();
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        q = q.filter(operatori::partita_iva.like(format!("{}%", escaped(&digits))));
    } else {
        for w in text.split_whitespace().take(8) {
            q = q.filter(operatori::ragione_sociale.ilike(format!("%{}%", escaped(w))));
        }
    }
    // Documents can make a qualified operatore not invitable: read a few more than asked.
    let rows: Vec<OperatoreRow> = q
        .order((operatori::ragione_sociale.asc(), operatori::id.asc()))
        .limit(limit as i64 * 4)
        .select(OperatoreRow::as_select())
        .load(conn)?;
    Ok(assemble(conn, rows, now)?
        .into_iter()
        .filter(|o| o.invitable)
        .take(limit)
        .collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusChange {
    pub from_status: Option<OperatoreStatus>,
    pub to_status: OperatoreStatus,
    pub reason: Option<String>,
    pub actor_user_id: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub action: String,
    pub request_id: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// An entry's history: its status changes and every audit event about it, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperatoreHistory {
    pub status_changes: Vec<StatusChange>,
    pub events: Vec<HistoryEvent>,
}

/// The owner and officials read the entry's history.
pub fn history(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<OperatoreHistory, RegistryError> {
    visible_row(conn, who, id)?;
    type Change = (Option<String>, String, Option<String>, Option<Uuid>, DateTime<Utc>);
    let status_changes = operatore_status_history::table
        .filter(operatore_status_history::operatore_id.eq(id))
        .order(operatore_status_history::id.asc())
        .select((
            operatore_status_history::from_status,
            operatore_status_history::to_status,
            operatore_status_history::reason,
            operatore_status_history::actor_user_id,
            operatore_status_history::changed_at,
        ))
        .load::<Change>(conn)?
        .into_iter()
        .map(|(from, to, reason, actor_user_id, changed_at)| StatusChange {
            from_status: from.as_deref().and_then(OperatoreStatus::parse),
            to_status: OperatoreStatus::parse(&to).unwrap_or(OperatoreStatus::Pending),
            reason,
            actor_user_id,
            changed_at,
        })
        .collect();
    let events = audit_events::table
        .filter(audit_events::object_type.eq("operatore"))
        .filter(audit_events::object_id.eq(id.to_string()))
        .order(audit_events::id.asc())
        .select(db::audit::AuditRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|e| HistoryEvent {
            id: e.id,
            occurred_at: e.occurred_at,
            actor_user_id: e.actor_user_id,
            action: e.action,
            request_id: e.request_id,
            details: e.details,
        })
        .collect();
    Ok(OperatoreHistory { status_changes, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_prefix_agrees_with_cpv_covers() {
        let samples = [
            "45000000-7",
            "45200000-9",
            "45210000-2",
            "03000000-1",
            "72000000-5",
            "30000000-9",
        ];
        for a in samples {
            let a = Cpv::parse(a).expect("valid");
            let prefix = cpv_prefix(&a);
            for b in Cpv::all().step_by(7) {
                assert_eq!(a.covers(&b), b.stem().starts_with(&prefix), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn classifica_ranks_follow_the_legal_order() {
        assert_eq!(classifica_rank(SoaClassifica::I), 1);
        assert_eq!(classifica_rank(SoaClassifica::IIIBis), 4);
        assert_eq!(classifica_rank(SoaClassifica::VIII), 10);
    }

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::new_v4();
        assert_eq!(
            decode_cursor(&encode_cursor("Edil Rossi S.r.l.", id)),
            Some(("Edil Rossi S.r.l.".to_string(), id))
        );
        assert_eq!(decode_cursor("zz"), None);
    }
}

/// Why a user id cannot be invited to a procedure by invitation (art. 50).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotInvitable {
    /// No such account.
    UnknownAccount,
    /// An official's account, not a supplier's.
    NotASupplier,
    /// The supplier account is deactivated.
    AccountInactive,
    /// The account has no operatore in the albo.
    NotInTheAlbo,
    /// The operatore is not qualified (suspended, pending...) or its documents are not valid.
    NotQualified { ragione_sociale: String, reason: String },
}

impl NotInvitable {
    pub fn message_it(&self) -> String {
        match self {
            Self::UnknownAccount => "non corrisponde ad alcun account".into(),
            Self::NotASupplier => "è l'account di un funzionario, non di un operatore economico".into(),
            Self::AccountInactive => "è un account disattivato".into(),
            Self::NotInTheAlbo => "non ha un operatore economico iscritto all'albo".into(),
            Self::NotQualified {
                ragione_sociale,
                reason,
            } => format!("«{ragione_sociale}» {reason}"),
        }
    }
}

/// The registry's decision on the invitees of a procedure by invitation (issue 9 finding 7):
/// for each supplier user id, why it cannot be invited, if it cannot. Invitable means an
/// existing, active supplier account whose operatore is qualified in the albo with valid
/// documents (the same test as [`Operatore::invitable`]).
pub fn not_invitable(
    conn: &mut PgConnection,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, NotInvitable)>, RegistryError> {
    use crate::schema::users;
    let accounts: HashMap<Uuid, (String, bool)> = users::table
        .filter(users::id.eq_any(user_ids))
        .select((users::id, users::kind, users::active))
        .load::<(Uuid, String, bool)>(conn)?
        .into_iter()
        .map(|(id, kind, active)| (id, (kind, active)))
        .collect();
    let rows: Vec<OperatoreRow> = operatori::table
        .filter(operatori::owner_user_id.eq_any(user_ids))
        .select(OperatoreRow::as_select())
        .load(conn)?;
    let ops: HashMap<Uuid, Operatore> = assemble(conn, rows, now)?
        .into_iter()
        .map(|o| (o.owner_user_id, o))
        .collect();
    let mut out = Vec::new();
    for id in user_ids {
        let problem = match accounts.get(id) {
            None => Some(NotInvitable::UnknownAccount),
            Some((kind, _)) if kind.as_str() != UserKind::Supplier.as_str() => Some(NotInvitable::NotASupplier),
            Some((_, false)) => Some(NotInvitable::AccountInactive),
            Some(_) => match ops.get(id) {
                None => Some(NotInvitable::NotInTheAlbo),
                Some(op) if op.invitable => None,
                Some(op) => Some(NotInvitable::NotQualified {
                    ragione_sociale: op.ragione_sociale.clone(),
                    reason: if op.status != OperatoreStatus::Qualified {
                        format!("non è qualificato nell'albo (stato: {})", op.status.label_it())
                    } else {
                        "ha documenti obbligatori scaduti o mancanti".into()
                    },
                }),
            },
        };
        if let Some(p) = problem {
            out.push((*id, p));
        }
    }
    Ok(out)
}
