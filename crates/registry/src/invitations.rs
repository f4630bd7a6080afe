//! Invitees for negotiated procedures (art. 50) with rotation (art. 49).
//!
//! The method, published with every proposal:
//! 1. Candidates are the *qualified* operatori of the category: for a CPV code, those
//!    declaring a code that covers it or that it covers (45000000-7 ↔ 45210000-2); for a SOA
//!    category, those declaring it with a classifica that covers the value (art. 2 c.2
//!    Allegato II.12, one fifth over the classifica amount).
//! 2. Excluded: entries whose mandatory documents are expired or missing, entries whose SOA
//!    classifica is too low, and the outgoing contractor (affidatario uscente: the latest
//!    award recorded for the same ente, category and value band) unless the RUP records a
//!    motivated exception (art. 49 c.4). Direct awards below 5,000 EUR ignore rotation (c.6).
//! 3. The eligible are ordered by how many times they were invited (confirmed lists) in the
//!    same category and value band, fewest first. Ties are broken by the platform's public
//!    draw (`domain::draw`, purpose `invitation-rotation`, subject the proposal's id, drawn by
//!    the server): the ids in drawn order, then stably sorted by the invitation count.
//! 4. Commit, then draw. Before any beacon exists, the eligible candidates and their counts
//!    are appended to the transparency log as an `invitation_committed` leaf (see
//!    [`commitment_data`]); the beacon is the checkpoint signed right after, the first that
//!    includes that leaf (`domain::draw::Beacon`). Nobody sends a seed and nobody picks the
//!    checkpoint; the leaf, its index and the checkpoint are returned, so anyone recomputes
//!    the order (`POST /api/v1/tools/draw`) and proves the commitment came first
//!    (`GET /api/v1/log/proof`).
//! 5. One live proposal per ente, category and band: a second one is refused
//!    (`proposal_pending`) until the first is confirmed or withdrawn with a motivation, and a
//!    withdrawal is an audit event of the ente. A RUP who redraws until a list suits him
//!    leaves every withdrawn draw, with his reasons, in the trail and in the log.
//! 6. The first `count` are proposed; confirming the proposal fixes the list and counts the
//!    invitation for each invitee.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use accounts::{Principal, Role};
use chrono::{DateTime, NaiveDate, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use domain::ids::{Cpv, SoaCategoria, SoaClassifica};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bands::{self, BandError, ContractType};
use crate::documents::DocumentsStatus;
use crate::operatori::{self, Operatore, OperatoreRow, OperatoreStatus};
use crate::schema::{enti, invitation_proposals, operatori as operatori_t, registry_awards, rotation_counters};
use crate::{rome_today, RegistryError};

/// Where the method is described, returned with each proposal.
pub const METHOD: &str = "Candidati: operatori qualificati della categoria (CPV: codici che coprono o sono coperti; \
SOA: classifica sufficiente per l'importo). Esclusi: documenti obbligatori scaduti o mancanti; affidatario uscente \
della stessa categoria e fascia (art. 49 c.2-3) salvo eccezione motivata (c.4). Ordine: meno inviti nella stessa \
categoria e fascia per primi; a parità, sorteggio pubblico centrale-draw/v1 (finalità invitation-rotation, soggetto l'id della proposta, \
sorgente il primo checkpoint firmato del registro di trasparenza che include l'impegno sui candidati, \
pubblicato prima del sorteggio), ricalcolabile con POST /api/v1/tools/draw; \
poi ordinamento stabile per numero di inviti. Una sola proposta aperta per ente, categoria e fascia.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    Cpv,
    Soa,
}

impl CategoryKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Cpv => "cpv",
            Self::Soa => "soa",
        }
    }
}

/// A procurement category: a CPV code (starts with a digit) or a SOA category (OG/OS).
fn parse_category(input: &str, field: &str) -> Result<(CategoryKind, String, String), RegistryError> {
    let s = input.trim();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        let cpv = Cpv::from_str(s).map_err(|e| RegistryError::id(field, e))?;
        Ok((CategoryKind::Cpv, cpv.to_string(), cpv.label_it().to_string()))
    } else {
        let soa = SoaCategoria::from_str(s).map_err(|e| RegistryError::id(field, e))?;
        Ok((CategoryKind::Soa, soa.to_string(), soa.description().to_string()))
    }
}

fn parse_value(input: &str, field: &str) -> Result<Decimal, RegistryError> {
    let v = Decimal::from_str(input.trim()).map_err(|_| {
        RegistryError::invalid(
            "value_invalid",
            field,
            "Importo non valido: indicare un numero decimale in euro, ad esempio \"400000.00\"",
        )
    })?;
    if v <= Decimal::ZERO || v.scale() > 2 {
        return Err(RegistryError::invalid(
            "value_invalid",
            field,
            "L'importo deve essere positivo, in euro, con al più due decimali",
        ));
    }
    Ok(v)
}

fn band_error(e: BandError, field: &str) -> RegistryError {
    match e {
        BandError::NotPositive => RegistryError::invalid("value_invalid", field, "L'importo deve essere positivo"),
        BandError::AboveEuThreshold { threshold } => RegistryError::invalid(
            "above_eu_threshold",
            field,
            format!("L'importo raggiunge la soglia europea ({threshold} EUR): occorre una procedura ordinaria, non una procedura negoziata dall'albo"),
        ),
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The outgoing contractor to re-invite.
    pub operatore_id: Uuid,
    /// Why (art. 49 c.4: market structure, accurate execution of the previous contract, ...).
    pub motivation: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalRequest {
    /// The ente the procedure is run for (the caller must be its RUP, or an admin).
    pub ente_id: Uuid,
    /// A CPV code (e.g. 45210000-2) or a SOA category (e.g. OG1, works only).
    pub category: String,
    pub contract_type: ContractType,
    /// Estimated value in euro, net of VAT, as a decimal string (e.g. "400000.00").
    pub value: String,
    /// How many to invite; defaults to (and may not be below) the art. 50 minimum of the band.
    pub count: Option<u32>,
    /// Motivated re-invitations of the outgoing contractor. (No seed: the draw is public,
    /// see the module documentation; a body with `seed` is refused.)
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BandView {
    pub code: String,
    pub label: String,
    /// The art. 50 minimum number of operators to consult (0 for direct award).
    pub min_invitees: u32,
    pub direct_award: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Affidatario uscente, art. 49, without a motivated exception.
    OutgoingContractor,
    DocumentsExpired,
    DocumentsMissing,
    /// The declared SOA classifica does not cover the value.
    ClassificaInsufficient,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Candidate {
    pub operatore_id: Uuid,
    pub ragione_sociale: String,
    pub partita_iva: String,
    /// Confirmed invitations in the same category and value band before this proposal.
    pub times_invited: i32,
    pub outgoing_contractor: bool,
    /// The RUP's motivation when the outgoing contractor is re-invited.
    pub exception_motivation: Option<String>,
    pub documents_status: DocumentsStatus,
    pub eligible: bool,
    pub exclusion: Option<Exclusion>,
    pub selected: bool,
    /// 1-based position in the invitee list.
    pub position: Option<u32>,
    /// In Italian, for the RUP and the record.
    pub explanation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Proposed,
    Confirmed,
    /// Withdrawn by the RUP with a motivation (kept, never deleted).
    Withdrawn,
}

impl ProposalStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Confirmed => "confirmed",
            Self::Withdrawn => "withdrawn",
        }
    }

    fn parse(s: &str) -> Result<Self, RegistryError> {
        match s {
            "proposed" => Ok(Self::Proposed),
            "confirmed" => Ok(Self::Confirmed),
            "withdrawn" => Ok(Self::Withdrawn),
            other => Err(RegistryError::Internal(format!(
                "stato di proposta sconosciuto: {other}"
            ))),
        }
    }
}

/// The data of the `invitation_committed` leaf (`centrale-invitation-commit/v1`), each line
/// ending in `\n`:
///
/// ```text
/// centrale-invitation-commit/v1
/// proposal <uuid>
/// ente <uuid>
/// category <CPV code or SOA category>
/// band <band code>
/// count <how many are to be invited>
/// candidate <uuid> <times invited>      (one line per eligible candidate, by uuid)
/// at <RFC 3339 UTC, microseconds, Z>
/// ```
pub fn commitment_data(
    proposal: Uuid,
    ente: Uuid,
    category: &str,
    band: &str,
    count: u32,
    eligible: &[(Uuid, i32)],
    at: DateTime<Utc>,
) -> String {
    let mut sorted = eligible.to_vec();
    sorted.sort();
    let mut out = format!(
        "centrale-invitation-commit/v1\nproposal {proposal}\nente {ente}\ncategory {category}\nband {band}\ncount {count}\n"
    );
    for (id, n) in sorted {
        out.push_str(&format!("candidate {id} {n}\n"));
    }
    out.push_str(&format!(
        "at {}\n",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    ));
    out
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Proposal {
    pub id: Uuid,
    pub ente_id: Uuid,
    pub requested_by: Uuid,
    pub category: String,
    pub category_kind: CategoryKind,
    pub category_label: String,
    pub contract_type: ContractType,
    #[schema(value_type = String)]
    pub value: Decimal,
    pub band: BandView,
    /// At least this many must be invited.
    pub minimum: u32,
    pub requested_count: u32,
    /// False for direct awards below 5,000 EUR (art. 49 c.6).
    pub rotation_applied: bool,
    pub outgoing_contractor: Option<Uuid>,
    /// The public draw among the equally invited: `{algorithm, purpose, subject, commitment,
    /// commitment_leaf_index, beacon, beacon_tree_size, seed}`: the committed candidates (the
    /// leaf's data), the first checkpoint that includes them, and the seed (recompute with
    /// `POST /api/v1/tools/draw`).
    /// (Null on proposals made before the public draw, which recorded a `seed`.)
    #[serde(default)]
    #[schema(value_type = Object)]
    pub draw: serde_json::Value,
    pub method: String,
    /// The proposed invitees, in order.
    pub invitees: Vec<Uuid>,
    /// Every qualified operatore of the category, with why it is or is not proposed.
    pub candidates: Vec<Candidate>,
    /// Whether the invitees reach the legal minimum.
    pub sufficient: bool,
    pub warnings: Vec<String>,
    pub status: ProposalStatus,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<Uuid>,
}

fn ente_exists(conn: &mut PgConnection, ente: Uuid) -> Result<(), RegistryError> {
    let n: i64 = enti::table.find(ente).count().get_result(conn)?;
    if n == 0 {
        return Err(RegistryError::NotFound { what: "Ente" });
    }
    Ok(())
}

/// Orders `ids` (each with its invitation count): fewest invitations first, ties by the
/// public draw with `seed`. See the module documentation.
pub fn draw_order(ids: Vec<(Uuid, i32)>, seed: &domain::draw::Seed) -> Vec<(Uuid, i32)> {
    let counts: HashMap<Uuid, i32> = ids.iter().copied().collect();
    let names: Vec<String> = ids.iter().map(|(id, _)| id.to_string()).collect();
    let mut out: Vec<(Uuid, i32)> = domain::draw::order(seed, &names)
        .iter()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .map(|id| (id, counts.get(&id).copied().unwrap_or(0)))
        .collect();
    out.sort_by_key(|(_, n)| *n);
    out
}

fn cpv_matches(requested: &Cpv, declared: &[String]) -> bool {
    declared
        .iter()
        .filter_map(|d| Cpv::from_str(d).ok())
        .any(|d| requested.covers(&d) || d.covers(requested))
}

/// The outgoing contractor: the latest recorded award for this ente, category and band.
fn outgoing(conn: &mut PgConnection, ente: Uuid, category: &str, band: &str) -> Result<Option<Uuid>, RegistryError> {
    Ok(registry_awards::table
        .filter(registry_awards::ente_id.eq(ente))
        .filter(registry_awards::category.eq(category))
        .filter(registry_awards::band.eq(band))
        .order((registry_awards::awarded_at.desc(), registry_awards::recorded_at.desc()))
        .select(registry_awards::operatore_id)
        .first(conn)
        .optional()?)
}

pub fn propose(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    input: &ProposalRequest,
    beacon: &dyn domain::draw::Beacon<PgConnection>,
) -> Result<Proposal, RegistryError> {
    who.require_any_in(&[Role::Rup], input.ente_id)?;
    let (kind, category, category_label) = parse_category(&input.category, "category")?;
    if kind == CategoryKind::Soa && input.contract_type != ContractType::Works {
        return Err(RegistryError::invalid(
            "soa_requires_works",
            "category",
            "Le categorie SOA si applicano solo ai lavori: indicare un codice CPV per servizi e forniture",
        ));
    }
    let value = parse_value(&input.value, "value")?;
    let today = rome_today(ctx.at);
    let band = bands::band_for(input.contract_type, value, today).map_err(|e| band_error(e, "value"))?;
    let minimum = band.min_invitees.max(1);
    let count = input.count.unwrap_or(minimum);
    if count < minimum {
        return Err(RegistryError::invalid(
            "count_below_minimum",
            "count",
            format!("Per questa fascia (art. 50 c.1) occorre consultare almeno {minimum} operatori"),
        ));
    }
    if count > 200 {
        return Err(RegistryError::invalid(
            "count_too_large",
            "count",
            "Al più 200 operatori per proposta",
        ));
    }
    let id = Uuid::new_v4();
    let rotation_applied = bands::rotation_applies(&band, value, today);
    conn.transaction(|conn| {
        ente_exists(conn, input.ente_id)?;
        let outgoing_id = if rotation_applied {
            outgoing(conn, input.ente_id, &category, band.code)?
        } else {
            None
        };
        let mut exceptions: HashMap<Uuid, String> = HashMap::new();
        for (i, e) in input.exceptions.iter().enumerate() {
            if Some(e.operatore_id) != outgoing_id {
                return Err(RegistryError::invalid(
                    "exception_not_outgoing",
                    format!("exceptions[{i}].operatore_id"),
                    "L'eccezione motivata riguarda solo l'affidatario uscente della stessa categoria e fascia",
                ));
            }
            let m = e.motivation.trim();
            if m.chars().count() < 10 {
                return Err(RegistryError::invalid(
                    "exception_motivation_required",
                    format!("exceptions[{i}].motivation"),
                    "Il reinvito dell'affidatario uscente richiede una motivazione (art. 49 c.4)",
                ));
            }
            exceptions.insert(e.operatore_id, m.to_string());
        }
        refuse_if_live(conn, input.ente_id, &category, band.code)?;
        let rows: Vec<OperatoreRow> = operatori_t::table
            .filter(operatori_t::status.eq(OperatoreStatus::Qualified.as_str()))
            .order((operatori_t::ragione_sociale.asc(), operatori_t::id.asc()))
            .select(OperatoreRow::as_select())
            .load(conn)?;
        let views = operatori::assemble(conn, rows, ctx.at)?;
        let requested_cpv = (kind == CategoryKind::Cpv).then(|| Cpv::from_str(&category)).transpose().map_err(|e| RegistryError::id("category", e))?;
        // (view, classifica sufficient)
        let in_category: Vec<(Operatore, bool)> = views
            .into_iter()
            .filter_map(|v| match &requested_cpv {
                Some(cpv) => {
                    let declared: Vec<String> = v.cpv.iter().map(|c| c.code.clone()).collect();
                    cpv_matches(cpv, &declared).then_some((v, true))
                }
                None => {
                    let held = v.soa.iter().find(|s| s.categoria == category)?;
                    let ok = SoaClassifica::from_str(&held.classifica).is_ok_and(|c| c.covers_amount(value));
                    Some((v, ok))
                }
            })
            .collect();
        let ids: Vec<Uuid> = in_category.iter().map(|(v, _)| v.id).collect();
        let counts: HashMap<Uuid, i32> = rotation_counters::table
            .filter(rotation_counters::operatore_id.eq_any(&ids))
            .filter(rotation_counters::category.eq(&category))
            .filter(rotation_counters::band.eq(band.code))
            .select((rotation_counters::operatore_id, rotation_counters::times_invited))
            .load::<(Uuid, i32)>(conn)?
            .into_iter()
            .collect();
        let mut candidates: Vec<Candidate> = in_category
            .into_iter()
            .map(|(v, classifica_ok)| {
                let times_invited = counts.get(&v.id).copied().unwrap_or(0);
                let is_outgoing = outgoing_id == Some(v.id);
                let exception_motivation = exceptions.get(&v.id).cloned();
                let exclusion = if v.documents_status == DocumentsStatus::Expired {
                    Some(Exclusion::DocumentsExpired)
                } else if v.documents_status == DocumentsStatus::Missing {
                    Some(Exclusion::DocumentsMissing)
                } else if !classifica_ok {
                    Some(Exclusion::ClassificaInsufficient)
                } else if is_outgoing && exception_motivation.is_none() {
                    Some(Exclusion::OutgoingContractor)
                } else {
                    None
                };
                Candidate {
                    operatore_id: v.id,
                    ragione_sociale: v.ragione_sociale,
                    partita_iva: v.partita_iva,
                    times_invited,
                    outgoing_contractor: is_outgoing,
                    exception_motivation,
                    documents_status: v.documents_status,
                    eligible: exclusion.is_none(),
                    exclusion,
                    selected: false,
                    position: None,
                    explanation: String::new(),
                }
            })
            .collect();
        let eligible: Vec<(Uuid, i32)> = candidates
            .iter()
            .filter(|c| c.eligible)
            .map(|c| (c.operatore_id, c.times_invited))
            .collect();
        let commitment = commitment_data(id, input.ente_id, &category, band.code, count, &eligible, ctx.at);
        let committed = beacon.commit(conn, commitment.as_bytes(), ctx.at).map_err(RegistryError::Internal)?;
        let subject = id.to_string();
        let seed = domain::draw::seed(domain::draw::Purpose::InvitationRotation, &subject, &committed.beacon.text)
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
        let draw = serde_json::json!({
            "algorithm": domain::draw::VERSION,
            "purpose": domain::draw::Purpose::InvitationRotation.as_str(),
            "subject": subject,
            "commitment": commitment,
            "commitment_leaf_index": committed.leaf_index,
            "beacon": committed.beacon.text,
            "beacon_tree_size": committed.beacon.tree_size,
            "seed": seed.hex(),
        });
        let invitees: Vec<Uuid> = draw_order(eligible, &seed)
            .into_iter()
            .take(count as usize)
            .map(|(id, _)| id)
            .collect();
        let position: HashMap<Uuid, u32> = invitees.iter().enumerate().map(|(i, id)| (*id, i as u32 + 1)).collect();
        for c in &mut candidates {
            c.position = position.get(&c.operatore_id).copied();
            c.selected = c.position.is_some();
            c.explanation = explain(c, &category, band.code);
        }
        candidates.sort_by_key(|c| (c.position.is_none(), c.position.unwrap_or(0)));
        let sufficient = invitees.len() as u32 >= minimum;
        let mut warnings = Vec::new();
        if !sufficient {
            warnings.push(format!(
                "Operatori invitabili insufficienti: {} su un minimo di {minimum} (art. 50 c.1). Ampliare l'albo con un'indagine di mercato prima di confermare.",
                invitees.len()
            ));
        }
        if (invitees.len() as u32) < count && sufficient {
            warnings.push(format!("Richiesti {count} operatori, disponibili {}", invitees.len()));
        }
        if !rotation_applied {
            warnings.push("Affidamento diretto inferiore a 5.000 euro: principio di rotazione non applicato (art. 49 c.6)".into());
        }
        let proposal = Proposal {
            id,
            ente_id: input.ente_id,
            requested_by: who.user_id,
            category: category.clone(),
            category_kind: kind,
            category_label,
            contract_type: input.contract_type,
            value,
            band: BandView {
                code: band.code.to_string(),
                label: band.label.to_string(),
                min_invitees: band.min_invitees,
                direct_award: band.direct_award,
            },
            minimum,
            requested_count: count,
            rotation_applied,
            outgoing_contractor: outgoing_id,
            draw: draw.clone(),
            method: METHOD.to_string(),
            invitees: invitees.clone(),
            candidates,
            sufficient,
            warnings,
            status: ProposalStatus::Proposed,
            created_at: ctx.at,
            confirmed_at: None,
            confirmed_by: None,
        };
        let result = serde_json::to_value(&proposal).map_err(|e| RegistryError::Internal(e.to_string()))?;
        let inserted = diesel::insert_into(invitation_proposals::table)
            .values((
                invitation_proposals::id.eq(id),
                invitation_proposals::ente_id.eq(input.ente_id),
                invitation_proposals::requested_by.eq(who.user_id),
                invitation_proposals::category.eq(&category),
                invitation_proposals::category_kind.eq(kind.as_str()),
                invitation_proposals::contract_type.eq(input.contract_type.as_str()),
                invitation_proposals::value_eur.eq(value),
                invitation_proposals::band.eq(band.code),
                invitation_proposals::minimum.eq(minimum as i32),
                invitation_proposals::requested_count.eq(count as i32),
                invitation_proposals::seed.eq(seed.hex()),
                invitation_proposals::invitees.eq(&invitees),
                invitation_proposals::result.eq(&result),
                invitation_proposals::status.eq(ProposalStatus::Proposed.as_str()),
                invitation_proposals::created_at.eq(ctx.at),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 0 {
            // The partial unique index on live proposals: a concurrent proposal won.
            return Err(pending());
        }
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "registry.invitation.proposed",
                object_type: "invitation_proposal",
                object_id: id.to_string(),
                ente_id: Some(input.ente_id),
                details: serde_json::json!({
                    "category": category,
                    "contract_type": input.contract_type.as_str(),
                    "value": value.to_string(),
                    "band": band.code,
                    "minimum": minimum,
                    "count": count,
                    "draw": draw,
                    "outgoing_contractor": outgoing_id,
                    "exceptions": exceptions,
                    "invitees": invitees,
                    "excluded": proposal.candidates.iter().filter(|c| !c.eligible)
                        .map(|c| serde_json::json!({ "operatore_id": c.operatore_id, "exclusion": c.exclusion }))
                        .collect::<Vec<_>>(),
                }),
            },
        )?;
        Ok(proposal)
    })
}

fn explain(c: &Candidate, category: &str, band: &str) -> String {
    let inviti = format!("invitato {} volte in {category}, fascia {band}", c.times_invited);
    match c.exclusion {
        Some(Exclusion::OutgoingContractor) => {
            format!("Escluso: affidatario uscente nella stessa categoria e fascia (art. 49), nessuna eccezione motivata; {inviti}")
        }
        Some(Exclusion::DocumentsExpired) => format!("Escluso: documenti obbligatori scaduti; {inviti}"),
        Some(Exclusion::DocumentsMissing) => format!("Escluso: documenti obbligatori mancanti; {inviti}"),
        Some(Exclusion::ClassificaInsufficient) => {
            format!("Escluso: classifica SOA insufficiente per l'importo; {inviti}")
        }
        None => {
            let extra = if c.outgoing_contractor {
                " (affidatario uscente reinvitato con eccezione motivata, art. 49 c.4)"
            } else {
                ""
            };
            match c.position {
                Some(p) => format!("Proposto in posizione {p}: {inviti}{extra}"),
                None => format!("Non proposto: altri operatori invitati meno volte o estratti prima; {inviti}{extra}"),
            }
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = invitation_proposals)]
struct ProposalRow {
    ente_id: Uuid,
    category: String,
    band: String,
    minimum: i32,
    invitees: Vec<Uuid>,
    result: serde_json::Value,
    status: String,
    confirmed_at: Option<DateTime<Utc>>,
    confirmed_by: Option<Uuid>,
}

fn view(row: ProposalRow) -> Result<Proposal, RegistryError> {
    let mut p: Proposal = serde_json::from_value(row.result).map_err(|e| RegistryError::Internal(e.to_string()))?;
    p.status = ProposalStatus::parse(&row.status)?;
    p.confirmed_at = row.confirmed_at;
    p.confirmed_by = row.confirmed_by;
    Ok(p)
}

fn find(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<ProposalRow, RegistryError> {
    let q = invitation_proposals::table.find(id).select(ProposalRow::as_select());
    let row = if lock {
        q.for_update().first(conn).optional()?
    } else {
        q.first(conn).optional()?
    };
    row.ok_or(RegistryError::NotFound {
        what: "Proposta di invito",
    })
}

/// The ente's RUPs and admins read a proposal.
pub fn get(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<Proposal, RegistryError> {
    view(find_for(conn, who, id, false)?)
}

/// The proposal `id` of an ente where the caller is RUP (or the caller is an admin); any
/// other proposal is not found (a 403 would confirm that the id exists in another ente).
fn find_for(conn: &mut PgConnection, who: &Principal, id: Uuid, lock: bool) -> Result<ProposalRow, RegistryError> {
    let row = find(conn, id, lock)?;
    who.require_any_in(&[Role::Rup], row.ente_id)
        .map_err(|_| RegistryError::NotFound {
            what: "Proposta di invito",
        })?;
    Ok(row)
}

/// Fixes the final list: every invitee must still be invitable and the legal minimum must be
/// met. The invitation counters of the category and band go up by one for each invitee.
pub fn confirm(conn: &mut PgConnection, ctx: &AuditCtx, who: &Principal, id: Uuid) -> Result<Proposal, RegistryError> {
    conn.transaction(|conn| {
        let row = find_for(conn, who, id, true)?;
        ensure_live(&row, "La proposta è già stata confermata")?;
        if (row.invitees.len() as i32) < row.minimum {
            return Err(RegistryError::conflict(
                "invitees_below_minimum",
                Some("invitees"),
                format!(
                    "Gli operatori proposti ({}) sono meno del minimo di legge ({}, art. 50 c.1): la lista non può essere confermata",
                    row.invitees.len(),
                    row.minimum
                ),
            ));
        }
        let rows: Vec<OperatoreRow> = operatori_t::table
            .filter(operatori_t::id.eq_any(&row.invitees))
            .select(OperatoreRow::as_select())
            .load(conn)?;
        let views = operatori::assemble(conn, rows, ctx.at)?;
        let invitable: HashSet<Uuid> = views.iter().filter(|v| v.invitable).map(|v| v.id).collect();
        if let Some(bad) = row.invitees.iter().find(|i| !invitable.contains(i)) {
            let name = views.iter().find(|v| v.id == *bad).map_or("", |v| v.ragione_sociale.as_str());
            return Err(RegistryError::conflict(
                "invitee_not_invitable",
                Some("invitees"),
                format!("{name} non è più invitabile (stato o documenti cambiati dopo la proposta): richiedere una nuova proposta"),
            ));
        }
        for op in &row.invitees {
            diesel::insert_into(rotation_counters::table)
                .values((
                    rotation_counters::operatore_id.eq(op),
                    rotation_counters::category.eq(&row.category),
                    rotation_counters::band.eq(&row.band),
                    rotation_counters::times_invited.eq(1),
                    rotation_counters::last_invited_at.eq(ctx.at),
                ))
                .on_conflict((rotation_counters::operatore_id, rotation_counters::category, rotation_counters::band))
                .do_update()
                .set((
                    rotation_counters::times_invited.eq(rotation_counters::times_invited + 1),
                    rotation_counters::last_invited_at.eq(ctx.at),
                ))
                .execute(conn)?;
        }
        diesel::update(invitation_proposals::table.find(id))
            .set((
                invitation_proposals::status.eq(ProposalStatus::Confirmed.as_str()),
                invitation_proposals::confirmed_at.eq(ctx.at),
                invitation_proposals::confirmed_by.eq(who.user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "registry.invitation.confirmed",
                object_type: "invitation_proposal",
                object_id: id.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({
                    "category": row.category,
                    "band": row.band,
                    "invitees": row.invitees,
                }),
            },
        )?;
        view(find(conn, id, false)?)
    })
}

fn pending() -> RegistryError {
    RegistryError::conflict(
        "proposal_pending",
        None,
        "Esiste già una proposta di invito aperta per questo ente, categoria e fascia: confermarla o ritirarla con motivazione prima di chiederne un'altra",
    )
}

fn withdrawn() -> RegistryError {
    RegistryError::conflict("proposal_withdrawn", None, "La proposta è stata ritirata")
}

/// Only a live proposal is confirmed or withdrawn.
fn ensure_live(row: &ProposalRow, if_confirmed: &str) -> Result<(), RegistryError> {
    match ProposalStatus::parse(&row.status)? {
        ProposalStatus::Proposed => Ok(()),
        ProposalStatus::Confirmed => Err(RegistryError::conflict(
            "proposal_already_confirmed",
            None,
            if_confirmed,
        )),
        ProposalStatus::Withdrawn => Err(withdrawn()),
    }
}

/// A second live proposal for the same ente, category and band would let the RUP redraw
/// until a list suits him (the partial unique index catches the concurrent case).
fn refuse_if_live(conn: &mut PgConnection, ente: Uuid, category: &str, band: &str) -> Result<(), RegistryError> {
    let live: i64 = invitation_proposals::table
        .filter(invitation_proposals::ente_id.eq(ente))
        .filter(invitation_proposals::category.eq(category))
        .filter(invitation_proposals::band.eq(band))
        .filter(invitation_proposals::status.eq(ProposalStatus::Proposed.as_str()))
        .count()
        .get_result(conn)?;
    if live > 0 {
        return Err(pending());
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// Why the list is not used (at least 10 characters); recorded in the ente's audit trail.
    pub motivation: String,
}

/// Withdraws a live proposal, with its motivation: the only way to ask for another draw for
/// the same ente, category and band. The proposal and its draw stay readable.
pub fn withdraw(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    input: &Withdrawal,
) -> Result<Proposal, RegistryError> {
    conn.transaction(|conn| {
        let row = find_for(conn, who, id, true)?;
        let motivation = input.motivation.trim();
        if motivation.chars().count() < 10 {
            return Err(RegistryError::invalid(
                "withdrawal_motivation_required",
                "motivation",
                "Il ritiro di una proposta richiede una motivazione (almeno 10 caratteri)",
            ));
        }
        ensure_live(&row, "La proposta è già stata confermata: non può essere ritirata")?;
        diesel::update(invitation_proposals::table.find(id))
            .set(invitation_proposals::status.eq(ProposalStatus::Withdrawn.as_str()))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "registry.invitation.withdrawn",
                object_type: "invitation_proposal",
                object_id: id.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({
                    "category": row.category,
                    "band": row.band,
                    "invitees": row.invitees,
                    "motivation": motivation,
                }),
            },
        )?;
        view(find(conn, id, false)?)
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAward {
    pub ente_id: Uuid,
    pub operatore_id: Uuid,
    /// CPV code or SOA category, as used in invitation proposals.
    pub category: String,
    pub contract_type: ContractType,
    /// Award value in euro, decimal string; determines the value band.
    pub value: String,
    /// Date of the award (aggiudicazione / affidamento).
    pub awarded_at: NaiveDate,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Award {
    pub id: Uuid,
    pub ente_id: Uuid,
    pub operatore_id: Uuid,
    pub category: String,
    pub contract_type: ContractType,
    #[schema(value_type = String)]
    pub value: Decimal,
    /// Value band (art. 49 c.3), from the art. 50 table in force on `awarded_at`.
    pub band: String,
    pub awarded_at: NaiveDate,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// Records a past award, which makes its operatore the outgoing contractor for the ente,
/// category and band (admins, or a RUP of the ente).
pub fn record_award(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    input: &NewAward,
) -> Result<Award, RegistryError> {
    who.require_any_in(&[Role::Rup], input.ente_id)?;
    let (kind, category, _) = parse_category(&input.category, "category")?;
    if kind == CategoryKind::Soa && input.contract_type != ContractType::Works {
        return Err(RegistryError::invalid(
            "soa_requires_works",
            "category",
            "Le categorie SOA si applicano solo ai lavori",
        ));
    }
    let value = parse_value(&input.value, "value")?;
    if input.awarded_at > rome_today(ctx.at) {
        return Err(RegistryError::invalid(
            "awarded_at_in_future",
            "awarded_at",
            "La data di affidamento non può essere futura",
        ));
    }
    let band = bands::band_for(input.contract_type, value, input.awarded_at).map_err(|e| band_error(e, "value"))?;
    conn.transaction(|conn| {
        ente_exists(conn, input.ente_id)?;
        let n: i64 = operatori_t::table.find(input.operatore_id).count().get_result(conn)?;
        if n == 0 {
            return Err(RegistryError::NotFound {
                what: "Operatore economico",
            });
        }
        let award = Award {
            id: Uuid::new_v4(),
            ente_id: input.ente_id,
            operatore_id: input.operatore_id,
            category,
            contract_type: input.contract_type,
            value,
            band: band.code.to_string(),
            awarded_at: input.awarded_at,
            recorded_by: who.user_id,
            recorded_at: ctx.at,
        };
        diesel::insert_into(registry_awards::table)
            .values((
                registry_awards::id.eq(award.id),
                registry_awards::ente_id.eq(award.ente_id),
                registry_awards::operatore_id.eq(award.operatore_id),
                registry_awards::category.eq(&award.category),
                registry_awards::contract_type.eq(award.contract_type.as_str()),
                registry_awards::value_eur.eq(award.value),
                registry_awards::band.eq(&award.band),
                registry_awards::awarded_at.eq(award.awarded_at),
                registry_awards::recorded_by.eq(award.recorded_by),
                registry_awards::recorded_at.eq(award.recorded_at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "registry.award.recorded",
                object_type: "registry_award",
                object_id: award.id.to_string(),
                ente_id: Some(award.ente_id),
                details: serde_json::json!({
                    "operatore_id": award.operatore_id,
                    "category": award.category,
                    "band": award.band,
                    "value": award.value.to_string(),
                    "awarded_at": award.awarded_at,
                }),
            },
        )?;
        Ok(award)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u8) -> Vec<(Uuid, i32)> {
        (1..=n).map(|i| (Uuid::from_bytes([i; 16]), 0)).collect()
    }

    fn seed(beacon: &str) -> domain::draw::Seed {
        domain::draw::seed(domain::draw::Purpose::InvitationRotation, "proposta", beacon).expect("seed")
    }

    #[test]
    fn the_same_beacon_gives_the_same_order_whatever_the_input_order() {
        let a = draw_order(ids(8), &seed("checkpoint 1"));
        let mut reversed = ids(8);
        reversed.reverse();
        assert_eq!(a, draw_order(reversed, &seed("checkpoint 1")));
        assert_ne!(a, draw_order(ids(8), &seed("checkpoint 2")));
    }

    #[test]
    fn fewer_invitations_always_come_first() {
        let mut input = ids(6);
        input[0].1 = 3;
        input[1].1 = 1;
        for seed in ["a", "b", "c", "d"] {
            let out = draw_order(input.clone(), &super::tests::seed(seed));
            let counts: Vec<i32> = out.iter().map(|(_, n)| *n).collect();
            assert_eq!(counts, vec![0, 0, 0, 0, 1, 3], "{seed}");
        }
    }

    #[test]
    fn cpv_categories_match_both_ways() {
        let works = Cpv::parse("45000000-7").expect("cpv");
        assert!(cpv_matches(&works, &["45210000-2".into()]));
        let civil = Cpv::parse("45210000-2").expect("cpv");
        assert!(cpv_matches(&civil, &["45000000-7".into()]));
        assert!(!cpv_matches(&civil, &["72000000-5".into()]));
    }
}
