//! Member authorities (enti): the Comuni, Unioni and Province the centrale acts for.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::enti;
use diesel::prelude::*;
use domain::ids::{IstatComune, PartitaIva, Pec};
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
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = enti)]
struct EnteRow {
    id: Uuid,
    nome: String,
    codice_fiscale: String,
    tipo: String,
    istat_code: Option<String>,
    pec: String,
    created_at: DateTime<Utc>,
}

impl From<EnteRow> for Ente {
    fn from(r: EnteRow) -> Self {
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
        }
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
    conn.transaction(|conn| {
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
            ))
            .returning(EnteRow::as_returning())
            .get_result(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "ente.created",
                object_type: "ente",
                object_id: row.id.to_string(),
                ente_id: Some(row.id),
                details: serde_json::json!({ "nome": row.nome, "codice_fiscale": row.codice_fiscale }),
            },
        )?;
        Ok(row.into())
    })
}

/// Officials see the enti; the list is public knowledge (every ente is a public body).
pub fn list(conn: &mut PgConnection, who: &Principal) -> Result<Vec<Ente>, AccountsError> {
    who.require_official()?;
    Ok(enti::table
        .order((enti::nome.asc(), enti::id.asc()))
        .select(EnteRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Ente::from)
        .collect())
}

pub fn get(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<Ente, AccountsError> {
    who.require_official()?;
    find(conn, id)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<Ente, AccountsError> {
    enti::table
        .find(id)
        .select(EnteRow::as_select())
        .first(conn)
        .optional()?
        .map(Ente::from)
        .ok_or(AccountsError::NotFound { what: "Ente" })
}
