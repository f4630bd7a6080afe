//! Member authorities (enti): the Comuni, Unioni and Province the centrale acts for.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::enti;
use diesel::prelude::*;
use domain::ids::{IstatComune, PartitaIva, Pec};
use domain::legal::AuthorityKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AccountsError, Principal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnteTipo {
    Comune,
    Unione,
    Provincia,
    CittaMetropolitana,
    Regione,
    Altro,
}

impl EnteTipo {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comune => "comune",
            Self::Unione => "unione",
            Self::Provincia => "provincia",
            Self::CittaMetropolitana => "citta_metropolitana",
            Self::Regione => "regione",
            Self::Altro => "altro",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "comune" => Self::Comune,
            "unione" => Self::Unione,
            "provincia" => Self::Provincia,
            "citta_metropolitana" => Self::CittaMetropolitana,
            "regione" => Self::Regione,
            _ => Self::Altro,
        }
    }
}

/// What an admin sends to register an ente. Identifiers arrive as text and are validated
/// here, so a wrong one is reported with its own code and field.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnte {
    /// Denominazione, e.g. "Comune di Vimercate".
    pub nome: String,
    /// The ente's 11-digit codice fiscale (same check digit as the partita IVA).
    pub codice_fiscale: String,
    pub tipo: EnteTipo,
    /// ISTAT code of the Comune (6 digits); required when `tipo` is `comune`.
    pub istat_code: Option<String>,
    /// The ente's PEC address (domicilio digitale).
    pub pec: String,
    /// Central government authority or sub-central (art. 14 c.1 lett. b-c); default sub-central.
    #[serde(default)]
    pub authority_kind: AuthorityKind,
    /// Listed by right in ANAC's register of qualified authorities (art. 63 c.4); default no.
    #[serde(default)]
    pub qualified_by_law: bool,
    /// Why, e.g. "soggetto aggregatore (art. 9 D.L. 66/2014)"; required when `qualified_by_law`.
    pub qualified_by_law_basis: Option<String>,
    /// This ente is the centrale di committenza itself (at most one): it runs tenders on behalf
    /// of the others with its own qualification. Set only at registration.
    #[serde(default)]
    pub centrale: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ente {
    pub id: Uuid,
    pub nome: String,
    pub codice_fiscale: String,
    pub tipo: EnteTipo,
    pub istat_code: Option<String>,
    /// Name of the Comune for that ISTAT code, from the official list.
    pub comune: Option<String>,
    pub pec: String,
    pub created_at: DateTime<Utc>,
    /// Art. 14 c.1 lett. b-c: picks the EU threshold of its supplies and services tenders.
    pub authority_kind: AuthorityKind,
    /// Art. 63 c.4: qualified by right, no level needed.
    pub qualified_by_law: bool,
    pub qualified_by_law_basis: Option<String>,
    /// The centrale di committenza itself.
    pub centrale: bool,
    /// The qualification in force per sector (art. 63 c.6), latest record each; a sector with
    /// no record is absent. Whether it is still valid depends on the day (`valid_until`).
    pub qualifications: Vec<crate::qualification::Qualification>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = enti)]
pub(crate) struct EnteRow {
    pub(crate) id: Uuid,
    pub(crate) nome: String,
    codice_fiscale: String,
    tipo: String,
    istat_code: Option<String>,
    pec: String,
    created_at: DateTime<Utc>,
    pub(crate) authority_kind: String,
    pub(crate) qualified_by_law: bool,
    pub(crate) qualified_by_law_basis: Option<String>,
    pub(crate) is_centrale: bool,
}

impl EnteRow {
    pub(crate) fn kind(&self) -> AuthorityKind {
        AuthorityKind::parse(&self.authority_kind).unwrap_or_default()
    }
}

impl From<EnteRow> for Ente {
    fn from(r: EnteRow) -> Self {
        let authority_kind = r.kind();
        let comune = r
            .istat_code
            .as_deref()
            .and_then(|c| IstatComune::from_str(c).ok())
            .map(|c| c.name().to_string());
        Ente {
            id: r.id,
            nome: r.nome,
            codice_fiscale: r.codice_fiscale,
            tipo: EnteTipo::parse(&r.tipo),
            istat_code: r.istat_code,
            comune,
            pec: r.pec,
            created_at: r.created_at,
            authority_kind,
            qualified_by_law: r.qualified_by_law,
            qualified_by_law_basis: r.qualified_by_law_basis,
            centrale: r.is_centrale,
            qualifications: Vec::new(),
        }
    }
}

/// The basis of a qualification by law: required with it, trimmed, never alone.
pub(crate) fn by_law_basis(qualified: bool, basis: &Option<String>) -> Result<Option<String>, AccountsError> {
    let basis = basis.as_deref().map(str::trim).filter(|b| !b.is_empty());
    match (qualified, basis) {
        (true, None) => Err(AccountsError::invalid(
            "qualified_by_law_basis_required",
            "qualified_by_law_basis",
            "art. 63 c.4: indicare a quale titolo l'ente è iscritto di diritto nell'elenco delle stazioni appaltanti qualificate",
        )),
        (false, Some(_)) => Err(AccountsError::invalid(
            "qualified_by_law_basis_without_qualification",
            "qualified_by_law_basis",
            "Il titolo dell'iscrizione di diritto si indica solo per un ente qualificato per legge",
        )),
        (_, b) => Ok(b.map(str::to_string)),
    }
}

fn validated(input: &NewEnte) -> Result<(String, Option<String>, String), AccountsError> {
    if input.nome.trim().is_empty() {
        return Err(AccountsError::invalid(
            "nome_required",
            "nome",
            "Il nome dell'ente è obbligatorio",
        ));
    }
    let cf = PartitaIva::from_str(input.codice_fiscale.trim()).map_err(|e| {
        AccountsError::invalid(
            e.code(),
            "codice_fiscale",
            format!("Codice fiscale dell'ente non valido ({e})"),
        )
    })?;
    let istat = match (&input.istat_code, input.tipo) {
        (Some(code), _) => Some(
            IstatComune::from_str(code.trim())
                .map_err(|e| AccountsError::invalid(e.code(), "istat_code", e.to_string()))?
                .to_string(),
        ),
        (None, EnteTipo::Comune) => {
            return Err(AccountsError::invalid(
                "istat_code_required",
                "istat_code",
                "Il codice ISTAT è obbligatorio per un Comune",
            ))
        }
        (None, _) => None,
    };
    let pec = Pec::from_str(input.pec.trim()).map_err(|e| AccountsError::invalid(e.code(), "pec", e.to_string()))?;
    Ok((cf.to_string(), istat, pec.to_string()))
}

pub fn create(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    input: &NewEnte,
) -> Result<Ente, AccountsError> {
    who.require_admin()?;
    let (cf, istat, pec) = validated(input)?;
    let basis = by_law_basis(input.qualified_by_law, &input.qualified_by_law_basis)?;
    conn.transaction(|conn| {
        if input.centrale {
            let existing: i64 = enti::table.filter(enti::is_centrale).count().get_result(conn)?;
            if existing > 0 {
                return Err(centrale_duplicate());
            }
        }
        let taken: i64 = enti::table
            .filter(enti::codice_fiscale.eq(&cf))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AccountsError::Conflict {
                code: "ente_duplicate",
                field: "codice_fiscale".into(),
                message: "Esiste già un ente con questo codice fiscale".into(),
            });
        }
        let row: EnteRow = diesel::insert_into(enti::table)
            .values((
                enti::id.eq(Uuid::new_v4()),
                enti::nome.eq(input.nome.trim()),
                enti::codice_fiscale.eq(&cf),
                enti::tipo.eq(input.tipo.as_str()),
                enti::istat_code.eq(&istat),
                enti::pec.eq(&pec),
                enti::created_at.eq(ctx.at),
                enti::authority_kind.eq(input.authority_kind.as_str()),
                enti::qualified_by_law.eq(input.qualified_by_law),
                enti::qualified_by_law_basis.eq(&basis),
                enti::is_centrale.eq(input.centrale),
            ))
            .returning(EnteRow::as_returning())
            .get_result(conn)
            .map_err(|e| match e {
                // Two registrations of the centrale at once: the partial unique index decides.
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, ref info)
                    if info.constraint_name() == Some("enti_one_centrale") =>
                {
                    centrale_duplicate()
                }
                other => other.into(),
            })?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "ente.created",
                object_type: "ente",
                object_id: row.id.to_string(),
                ente_id: Some(row.id),
                details: serde_json::json!({ "nome": row.nome, "codice_fiscale": row.codice_fiscale,
                                             "authority_kind": row.authority_kind,
                                             "qualified_by_law": row.qualified_by_law,
                                             "qualified_by_law_basis": row.qualified_by_law_basis,
                                             "centrale": row.is_centrale }),
            },
        )?;
        Ok(row.into())
    })
}

fn centrale_duplicate() -> AccountsError {
    AccountsError::Conflict {
        code: "centrale_duplicate",
        field: "centrale".into(),
        message: "La centrale di committenza è già registrata: può essercene una sola".into(),
    }
}

/// Officials see the enti; the list is public knowledge (every ente is a public body).
pub fn list(conn: &mut PgConnection, who: &Principal, page: crate::listing::Page) -> Result<Vec<Ente>, AccountsError> {
    who.require_official()?;
    let (limit, offset) = page.bounds()?;
    let rows = enti::table
        .order((enti::nome.asc(), enti::id.asc()))
        .limit(limit)
        .offset(offset)
        .select(EnteRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let mut ente = Ente::from(r);
            ente.qualifications = crate::qualification::current(conn, ente.id)?;
            Ok(ente)
        })
        .collect()
}

pub fn get(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<Ente, AccountsError> {
    who.require_official()?;
    find(conn, id)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<Ente, AccountsError> {
    let mut ente = Ente::from(find_row(conn, id)?);
    ente.qualifications = crate::qualification::current(conn, id)?;
    Ok(ente)
}

pub(crate) fn find_row(conn: &mut PgConnection, id: Uuid) -> Result<EnteRow, AccountsError> {
    enti::table
        .find(id)
        .select(EnteRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AccountsError::NotFound { what: "Ente" })
}
