//! What kind of authority an ente is and what it is qualified to run (art. 14 c.1 lett. b-c,
//! arts. 62-63, Allegato II.4). Only the centrale's admins record these facts (they come from
//! ANAC's register and the ente's own acts); every change is an audit event in the same
//! transaction, and qualification records are never updated or deleted: the latest record
//! per sector is the one in force.

use chrono::{DateTime, NaiveDate, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use db::schema::{ente_qualifications as q, enti as et};
use diesel::prelude::*;
use domain::deadlines;
use domain::legal::{AuthorityKind, QualificationLevel, QualificationSector};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::enti::{self, by_law_basis};
use crate::{AccountsError, Principal};

/// One qualification record (art. 63; ANAC's register).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Qualification {
    pub id: Uuid,
    pub sector: QualificationSector,
    /// `null`: the ente lost its qualification for this sector (revoked, not renewed).
    pub level: Option<QualificationLevel>,
    /// Last day (Europe/Rome) the level is valid.
    pub valid_until: Option<NaiveDate>,
    /// The ANAC register reference, if known.
    pub anac_reference: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<Uuid>,
}

impl Qualification {
    /// The level that counts on `day`: none once `valid_until` has passed.
    pub fn level_on(&self, day: NaiveDate) -> Option<QualificationLevel> {
        match (self.level, self.valid_until) {
            (Some(level), Some(until)) if day <= until => Some(level),
            _ => None,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = q)]
struct Row {
    id: Uuid,
    sector: String,
    level: Option<String>,
    valid_until: Option<NaiveDate>,
    anac_reference: Option<String>,
    recorded_at: DateTime<Utc>,
    recorded_by: Option<Uuid>,
}

impl From<Row> for Qualification {
    fn from(r: Row) -> Self {
        Qualification {
            id: r.id,
            sector: QualificationSector::parse(&r.sector).unwrap_or(QualificationSector::Works),
            level: r.level.as_deref().and_then(QualificationLevel::parse),
            valid_until: r.valid_until,
            anac_reference: r.anac_reference,
            recorded_at: r.recorded_at,
            recorded_by: r.recorded_by,
        }
    }
}

/// What an admin sends to record a qualification (or its loss, with `level: null`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQualification {
    pub sector: QualificationSector,
    pub level: Option<QualificationLevel>,
    /// Last day of validity, `YYYY-MM-DD`; required with a level, absent without.
    #[schema(value_type = Option<String>, example = "2028-06-30")]
    pub valid_until: Option<NaiveDate>,
    pub anac_reference: Option<String>,
}

/// The kind of authority and its qualification by law (art. 14 c.1, art. 63 c.4).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorityProfileInput {
    pub authority_kind: AuthorityKind,
    pub qualified_by_law: bool,
    pub qualified_by_law_basis: Option<String>,
}

/// What the publication rules need to know about an authority.
#[derive(Debug, Clone)]
pub struct AuthorityProfile {
    pub id: Uuid,
    pub nome: String,
    pub kind: AuthorityKind,
    pub qualified_by_law: bool,
    pub qualified_by_law_basis: Option<String>,
    pub centrale: bool,
    pub qualifications: Vec<Qualification>,
}

impl AuthorityProfile {
    /// The record in force for this sector, if any.
    pub fn qualification(&self, sector: QualificationSector) -> Option<&Qualification> {
        self.qualifications.iter().find(|q| q.sector == sector)
    }
}

/// The latest record per sector.
pub fn current(conn: &mut PgConnection, ente: Uuid) -> Result<Vec<Qualification>, AccountsError> {
    let mut out = Vec::new();
    for sector in [QualificationSector::Works, QualificationSector::ServicesSupplies] {
        let latest: Option<Row> = q::table
            .filter(q::ente_id.eq(ente))
            .filter(q::sector.eq(sector.as_str()))
            .order(q::seq.desc())
            .select(Row::as_select())
            .first(conn)
            .optional()?;
        out.extend(latest.map(Qualification::from));
    }
    Ok(out)
}

/// Every record of the ente, oldest first (officials).
pub fn history(conn: &mut PgConnection, who: &Principal, ente: Uuid) -> Result<Vec<Qualification>, AccountsError> {
    who.require_official()?;
    enti::find_row(conn, ente)?;
    Ok(q::table
        .filter(q::ente_id.eq(ente))
        .order(q::seq.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Qualification::from)
        .collect())
}

/// The authority profile the publication rules read (no authorization: internal).
pub fn profile(conn: &mut PgConnection, ente: Uuid) -> Result<AuthorityProfile, AccountsError> {
    let row = enti::find_row(conn, ente)?;
    Ok(AuthorityProfile {
        id: row.id,
        kind: row.kind(),
        nome: row.nome,
        qualified_by_law: row.qualified_by_law,
        qualified_by_law_basis: row.qualified_by_law_basis,
        centrale: row.is_centrale,
        qualifications: current(conn, ente)?,
    })
}

/// The centrale's own ente, if registered.
pub fn centrale(conn: &mut PgConnection) -> Result<Option<Uuid>, AccountsError> {
    Ok(et::table
        .filter(et::is_centrale)
        .select(et::id)
        .first(conn)
        .optional()?)
}

/// Sets the kind of authority and the qualification by law (admin only).
pub fn set_profile(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    ente: Uuid,
    input: &AuthorityProfileInput,
) -> Result<enti::Ente, AccountsError> {
    who.require_admin()?;
    let basis = by_law_basis(input.qualified_by_law, &input.qualified_by_law_basis)?;
    conn.transaction(|conn| {
        let before: enti::EnteRow = et::table
            .find(ente)
            .for_update()
            .select(enti::EnteRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(AccountsError::NotFound { what: "Ente" })?;
        diesel::update(et::table.find(ente))
            .set((
                et::authority_kind.eq(input.authority_kind.as_str()),
                et::qualified_by_law.eq(input.qualified_by_law),
                et::qualified_by_law_basis.eq(&basis),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "ente.authority_profile_set",
                object_type: "ente",
                object_id: ente.to_string(),
                ente_id: Some(ente),
                details: serde_json::json!({
                    "before": { "authority_kind": before.authority_kind, "qualified_by_law": before.qualified_by_law,
                                "qualified_by_law_basis": before.qualified_by_law_basis },
                    "after": { "authority_kind": input.authority_kind.as_str(), "qualified_by_law": input.qualified_by_law,
                               "qualified_by_law_basis": basis },
                }),
            },
        )?;
        enti::find(conn, ente)
    })
}

/// Records a qualification (or its loss) for one sector (admin only).
pub fn record(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    ente: Uuid,
    input: &NewQualification,
) -> Result<Qualification, AccountsError> {
    who.require_admin()?;
    let today = deadlines::rome_date(ctx.at);
    match (input.level, input.valid_until) {
        (Some(_), None) => {
            return Err(AccountsError::invalid(
                "valid_until_required",
                "valid_until",
                "art. 63: indicare la scadenza della qualificazione",
            ))
        }
        (None, Some(_)) => {
            return Err(AccountsError::invalid(
                "valid_until_without_level",
                "valid_until",
                "Senza livello di qualificazione non si indica una scadenza",
            ))
        }
        (Some(_), Some(until)) if until < today => {
            return Err(AccountsError::invalid(
                "valid_until_in_past",
                "valid_until",
                format!("La qualificazione è già scaduta il {}", until.format("%d/%m/%Y")),
            ))
        }
        _ => {}
    }
    let anac = input
        .anac_reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    if anac.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(AccountsError::invalid(
            "anac_reference_too_long",
            "anac_reference",
            "Il riferimento ANAC non può superare 200 caratteri",
        ));
    }
    conn.transaction(|conn| {
        // Serialize concurrent records for the same ente: the latest is the one in force.
        et::table
            .find(ente)
            .for_update()
            .select(et::id)
            .first::<Uuid>(conn)
            .optional()?
            .ok_or(AccountsError::NotFound { what: "Ente" })?;
        let row: Row = diesel::insert_into(q::table)
            .values((
                q::id.eq(Uuid::new_v4()),
                q::ente_id.eq(ente),
                q::sector.eq(input.sector.as_str()),
                q::level.eq(input.level.map(QualificationLevel::as_str)),
                q::valid_until.eq(input.valid_until),
                q::anac_reference.eq(&anac),
                q::recorded_at.eq(ctx.at),
                q::recorded_by.eq(who.user_id),
            ))
            .returning(Row::as_returning())
            .get_result(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "ente.qualification_recorded",
                object_type: "ente",
                object_id: ente.to_string(),
                ente_id: Some(ente),
                details: serde_json::json!({
                    "qualification_id": row.id,
                    "sector": row.sector,
                    "level": row.level,
                    "valid_until": row.valid_until,
                    "anac_reference": row.anac_reference,
                }),
            },
        )?;
        Ok(row.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_counts_through_its_last_day_only() {
        let until = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
        let q = Qualification {
            id: Uuid::nil(),
            sector: QualificationSector::Works,
            level: Some(QualificationLevel::Base),
            valid_until: Some(until),
            anac_reference: None,
            recorded_at: Utc::now(),
            recorded_by: None,
        };
        assert_eq!(q.level_on(until), Some(QualificationLevel::Base));
        assert_eq!(q.level_on(until.succ_opt().expect("date")), None);
        let lost = Qualification {
            level: None,
            valid_until: None,
            ..q
        };
        assert_eq!(lost.level_on(until), None);
    }
}
