//! Rows, views and the few writes every operation shares: locking a tender, changing its
//! state (with history and audit, in the caller's transaction), adding a version.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use domain::deadlines;
use domain::ids::Cpv;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::BandoError;
use crate::model::*;
use crate::rules::{Facts, Spec};
use crate::schema::{
    bandi, bando_anomaly_terms, bando_documenti, bando_lotti, bando_state_history, bando_versioni, enti,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = bandi, treat_none_as_null = true)]
pub struct BandoRow {
    pub id: Uuid,
    pub ente_id: Uuid,
    pub created_by: Uuid,
    pub oggetto: String,
    pub cig: Option<String>,
    pub cup: Option<String>,
    pub cpv_main: String,
    pub cpv_additional: Vec<String>,
    pub nuts: String,
    pub contract_type: String,
    pub procedure_type: String,
    pub award_criterion: String,
    pub oepv: Option<serde_json::Value>,
    pub base_amount: Decimal,
    pub safety_costs: Decimal,
    pub labour_intensive: bool,
    pub intellectual_services: bool,
    pub urgency_reason: Option<String>,
    pub questions_deadline: Option<DateTime<Utc>>,
    pub submission_deadline: Option<DateTime<Utc>>,
    pub opening_at: Option<DateTime<Utc>>,
    pub offer_validity_days: i32,
    pub envelopes: Vec<String>,
    pub anomaly_method: Option<String>,
    pub custodians: Vec<Uuid>,
    pub custodian_threshold: i32,
    pub invitees: Vec<Uuid>,
    pub state: String,
    pub version: i32,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bando_lotti)]
pub struct LottoRow {
    pub id: Uuid,
    pub bando_id: Uuid,
    pub numero: i32,
    pub oggetto: String,
    pub cig: String,
    pub base_amount: Decimal,
    pub safety_costs: Decimal,
    pub state: String,
    pub outcome_note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bando_documenti)]
pub struct DocumentRow {
    pub id: Uuid,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub version: i32,
    pub uploaded_at: DateTime<Utc>,
}

impl From<DocumentRow> for DocumentMeta {
    fn from(r: DocumentRow) -> Self {
        DocumentMeta {
            id: r.id,
            kind: DocumentKind::parse(&r.kind).unwrap_or(DocumentKind::Allegato),
            filename: r.filename,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            version: r.version,
            uploaded_at: r.uploaded_at,
        }
    }
}

impl BandoRow {
    pub fn from_spec(id: Uuid, created_by: Uuid, spec: &Spec, at: DateTime<Utc>) -> Self {
        BandoRow {
            id,
            ente_id: spec.ente_id,
            created_by,
            oggetto: spec.oggetto.clone(),
            cig: spec.cig.as_ref().map(ToString::to_string),
            cup: spec.cup.as_ref().map(ToString::to_string),
            cpv_main: spec.cpv_main.to_string(),
            cpv_additional: spec.cpv_additional.iter().map(ToString::to_string).collect(),
            nuts: spec.nuts.to_string(),
            contract_type: spec.contract_type.as_str().into(),
            procedure_type: spec.procedure_type.as_str().into(),
            award_criterion: spec.award_criterion.as_str().into(),
            oepv: spec.oepv.as_ref().and_then(|o| serde_json::to_value(o).ok()),
            base_amount: spec.base_amount,
            safety_costs: spec.safety_costs,
            labour_intensive: spec.labour_intensive,
            intellectual_services: spec.intellectual_services,
            urgency_reason: spec.urgency_reason.clone(),
            questions_deadline: spec.questions_deadline,
            submission_deadline: spec.submission_deadline,
            opening_at: spec.opening_at,
            offer_validity_days: spec.offer_validity_days,
            envelopes: spec.envelopes.iter().map(|e| e.as_str().to_string()).collect(),
            anomaly_method: spec.anomaly_method.map(|m| m.as_str().to_string()),
            custodians: spec.custodians.clone(),
            custodian_threshold: spec.custodian_threshold,
            invitees: spec.invitees.clone(),
            state: State::Draft.as_str().into(),
            version: 0,
            published_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    pub fn state(&self) -> State {
        State::parse(&self.state).unwrap_or(State::Draft)
    }

    pub fn contract_type(&self) -> ContractType {
        ContractType::parse(&self.contract_type).unwrap_or(ContractType::Services)
    }

    pub fn procedure_type(&self) -> ProcedureType {
        ProcedureType::parse(&self.procedure_type).unwrap_or(ProcedureType::Aperta)
    }

    pub fn award_criterion(&self) -> AwardCriterion {
        AwardCriterion::parse(&self.award_criterion).unwrap_or(AwardCriterion::MinorPrezzo)
    }

    pub fn oepv(&self) -> Option<Oepv> {
        self.oepv.clone().and_then(|v| serde_json::from_value(v).ok())
    }

    pub fn envelopes(&self) -> Vec<Envelope> {
        self.envelopes.iter().filter_map(|e| Envelope::parse(e)).collect()
    }

    pub fn facts(&self) -> Facts {
        Facts {
            contract_type: self.contract_type(),
            procedure_type: self.procedure_type(),
            award_criterion: self.award_criterion(),
            oepv: self.oepv(),
            base_amount: self.base_amount,
            labour_intensive: self.labour_intensive,
            intellectual_services: self.intellectual_services,
            urgency_reason: self.urgency_reason.clone(),
            questions_deadline: self.questions_deadline,
            submission_deadline: self.submission_deadline,
            opening_at: self.opening_at,
            envelopes: self.envelopes(),
            anomaly_method: self.anomaly_method.as_deref().and_then(AnomalyMethod::parse),
            // Stored apart (bando_anomaly_terms): see [`facts`].
            anomaly_terms: crate::AnomalyTerms::default(),
            custodians: self.custodians.clone(),
            invitees: self.invitees.clone(),
            // Looked up apart (enti, bando_conduct): see [`facts`].
            authority: domain::legal::AuthorityKind::SubCentral,
            conducted_by: ConductedBy::Ente,
            runner: crate::rules::Runner::Unchecked,
        }
    }
}

/// Whether the tender's contract rests on a framework agreement and/or a dynamic purchasing
/// system (art. 18 c.3 lett. b-c); no row means neither.
pub fn award_basis(conn: &mut PgConnection, id: Uuid) -> Result<(bool, bool), BandoError> {
    use crate::schema::bando_award_basis as b;
    Ok(b::table
        .find(id)
        .select((b::framework_agreement, b::dynamic_purchasing_system))
        .first(conn)
        .optional()?
        .unwrap_or((false, false)))
}

pub(crate) fn save_award_basis(
    conn: &mut PgConnection,
    id: Uuid,
    framework: bool,
    dps: bool,
) -> Result<(), BandoError> {
    use crate::schema::bando_award_basis as b;
    diesel::insert_into(b::table)
        .values((
            b::bando_id.eq(id),
            b::framework_agreement.eq(framework),
            b::dynamic_purchasing_system.eq(dps),
        ))
        .on_conflict(b::bando_id)
        .do_update()
        .set((
            b::framework_agreement.eq(framework),
            b::dynamic_purchasing_system.eq(dps),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the tender says about automatic exclusion beyond the method (defaults if nothing).
pub fn anomaly_terms(conn: &mut PgConnection, bando: Uuid) -> Result<crate::AnomalyTerms, BandoError> {
    let stored: Option<serde_json::Value> = bando_anomaly_terms::table
        .find(bando)
        .select(bando_anomaly_terms::terms)
        .first(conn)
        .optional()?;
    Ok(stored.and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

pub(crate) fn save_anomaly_terms(
    conn: &mut PgConnection,
    bando: Uuid,
    terms: &crate::AnomalyTerms,
) -> Result<(), BandoError> {
    let value = serde_json::to_value(terms).unwrap_or_default();
    diesel::insert_into(bando_anomaly_terms::table)
        .values((
            bando_anomaly_terms::bando_id.eq(bando),
            bando_anomaly_terms::terms.eq(&value),
        ))
        .on_conflict(bando_anomaly_terms::bando_id)
        .do_update()
        .set(bando_anomaly_terms::terms.eq(&value))
        .execute(conn)?;
    Ok(())
}

/// The facts the legal rules look at, the anomaly terms included.
/// Everything the legal rules look at, the ente's kind and the running authority's
/// qualification included (as they stand now: publication fixes them).
pub fn facts(conn: &mut PgConnection, row: &BandoRow) -> Result<Facts, BandoError> {
    use accounts::qualification;
    let mut facts = row.facts();
    facts.anomaly_terms = anomaly_terms(conn, row.id)?;
    let ente = qualification::profile(conn, row.ente_id)?;
    facts.authority = ente.kind;
    facts.conducted_by = conduct(conn, row.id)?.conducted_by;
    facts.runner = match facts.conducted_by {
        ConductedBy::Ente => crate::rules::Runner::Known(ente),
        ConductedBy::Centrale => match qualification::centrale(conn)? {
            Some(c) => crate::rules::Runner::Known(qualification::profile(conn, c)?),
            None => crate::rules::Runner::CentraleMissing,
        },
    };
    Ok(facts)
}

/// Who runs the tender and, once published, the runner and authority kind fixed then.
#[derive(Debug, Clone, Copy)]
pub struct Conduct {
    pub conducted_by: ConductedBy,
    pub runner_ente_id: Option<Uuid>,
    pub authority_kind: Option<domain::legal::AuthorityKind>,
}

pub fn conduct(conn: &mut PgConnection, id: Uuid) -> Result<Conduct, BandoError> {
    use crate::schema::bando_conduct as c;
    let row: Option<(String, Option<Uuid>, Option<String>)> = c::table
        .find(id)
        .select((c::conducted_by, c::runner_ente_id, c::authority_kind))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((by, runner, kind)) => Conduct {
            conducted_by: ConductedBy::parse(&by),
            runner_ente_id: runner,
            authority_kind: kind.as_deref().and_then(domain::legal::AuthorityKind::parse),
        },
        None => Conduct {
            conducted_by: ConductedBy::Ente,
            runner_ente_id: None,
            authority_kind: None,
        },
    })
}

pub(crate) fn save_conduct(conn: &mut PgConnection, id: Uuid, by: ConductedBy) -> Result<(), BandoError> {
    use crate::schema::bando_conduct as c;
    diesel::insert_into(c::table)
        .values((c::bando_id.eq(id), c::conducted_by.eq(by.as_str())))
        .on_conflict(c::bando_id)
        .do_update()
        .set(c::conducted_by.eq(by.as_str()))
        .execute(conn)?;
    Ok(())
}

/// At publication: the authority whose qualification was checked and the ente's kind, which
/// picked the EU threshold (fixed when the notice is sent, art. 14 c.7).
pub(crate) fn fix_conduct(
    conn: &mut PgConnection,
    id: Uuid,
    by: ConductedBy,
    runner: Uuid,
    kind: domain::legal::AuthorityKind,
) -> Result<(), BandoError> {
    use crate::schema::bando_conduct as c;
    diesel::insert_into(c::table)
        .values((
            c::bando_id.eq(id),
            c::conducted_by.eq(by.as_str()),
            c::runner_ente_id.eq(runner),
            c::authority_kind.eq(kind.as_str()),
        ))
        .on_conflict(c::bando_id)
        .do_update()
        .set((c::runner_ente_id.eq(runner), c::authority_kind.eq(kind.as_str())))
        .execute(conn)?;
    Ok(())
}

/// The kind of authority whose EU threshold applies to this tender: the one fixed at
/// publication, or the ente's current kind for a draft (art. 14 c.1 lett. b-c, c.7).
pub fn authority_kind(conn: &mut PgConnection, row: &BandoRow) -> Result<domain::legal::AuthorityKind, BandoError> {
    match conduct(conn, row.id)?.authority_kind {
        Some(k) => Ok(k),
        None => Ok(accounts::qualification::profile(conn, row.ente_id)?.kind),
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<BandoRow, BandoError> {
    bandi::table
        .find(id)
        .select(BandoRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(BandoError::NotFound { what: "Bando" })
}

pub fn find_ente(conn: &mut PgConnection, id: Uuid) -> Result<String, BandoError> {
    enti::table
        .find(id)
        .select(enti::nome)
        .first(conn)
        .optional()?
        .ok_or(BandoError::NotFound { what: "Ente" })
}

/// The row, locked until the end of the caller's transaction.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> Result<BandoRow, BandoError> {
    bandi::table
        .find(id)
        .for_update()
        .select(BandoRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(BandoError::NotFound { what: "Bando" })
}

pub fn lots(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<LottoRow>, BandoError> {
    Ok(bando_lotti::table
        .filter(bando_lotti::bando_id.eq(bando))
        .order(bando_lotti::numero.asc())
        .select(LottoRow::as_select())
        .load(conn)?)
}

pub fn history(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<StateChange>, BandoError> {
    type Row = (
        Option<Uuid>,
        Option<String>,
        String,
        DateTime<Utc>,
        Option<Uuid>,
        Option<String>,
    );
    let rows: Vec<Row> = bando_state_history::table
        .filter(bando_state_history::bando_id.eq(bando))
        .order(bando_state_history::id.asc())
        .select((
            bando_state_history::lotto_id,
            bando_state_history::from_state,
            bando_state_history::to_state,
            bando_state_history::occurred_at,
            bando_state_history::actor_user_id,
            bando_state_history::reason,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(lotto_id, from_state, to_state, occurred_at, actor_user_id, reason)| StateChange {
                lotto_id,
                from_state,
                to_state,
                occurred_at,
                actor_user_id,
                reason,
            },
        )
        .collect())
}

/// The tender as read. `full` adds what only its officials see.
pub fn view(conn: &mut PgConnection, row: &BandoRow, full: bool) -> Result<Bando, BandoError> {
    let mut out = views(conn, std::slice::from_ref(row), full)?;
    out.pop().ok_or(BandoError::NotFound { what: "Bando" })
}

/// What a view reads besides the tender's row, read for many tenders at once: a page of the
/// public list is a dozen queries, not a dozen per tender.
struct Extras {
    ente_nome: HashMap<Uuid, String>,
    /// Kind of authority of each ente (for a tender with none fixed at publication).
    ente_kind: HashMap<Uuid, domain::legal::AuthorityKind>,
    lots: HashMap<Uuid, Vec<LottoRow>>,
    documents: HashMap<Uuid, Vec<DocumentRow>>,
    award_basis: HashMap<Uuid, (bool, bool)>,
    conduct: HashMap<Uuid, (String, Option<Uuid>, Option<String>)>,
    anomaly_terms: HashMap<Uuid, serde_json::Value>,
    anomaly_check_began: HashSet<Uuid>,
}

fn extras(conn: &mut PgConnection, rows: &[BandoRow]) -> Result<Extras, BandoError> {
    use crate::schema::{bando_award_basis as ab, bando_conduct as c};
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut entes: Vec<Uuid> = rows.iter().map(|r| r.ente_id).collect();
    entes.sort_unstable();
    entes.dedup();
    let mut ente_nome = HashMap::new();
    let mut ente_kind = HashMap::new();
    // The ente's kind as `accounts::qualification::profile` gives it, without its qualifications.
    for (id, nome, kind) in enti::table
        .filter(enti::id.eq_any(&entes))
        .select((enti::id, enti::nome, enti::authority_kind))
        .load::<(Uuid, String, String)>(conn)?
    {
        ente_nome.insert(id, nome);
        ente_kind.insert(id, domain::legal::AuthorityKind::parse(&kind).unwrap_or_default());
    }
    let mut lots: HashMap<Uuid, Vec<LottoRow>> = HashMap::new();
    for l in bando_lotti::table
        .filter(bando_lotti::bando_id.eq_any(&ids))
        .order((bando_lotti::bando_id, bando_lotti::numero.asc()))
        .select(LottoRow::as_select())
        .load(conn)?
    {
        lots.entry(l.bando_id).or_default().push(l);
    }
    let mut documents: HashMap<Uuid, Vec<DocumentRow>> = HashMap::new();
    for (bando, d) in bando_documenti::table
        .filter(bando_documenti::bando_id.eq_any(&ids))
        .order((bando_documenti::uploaded_at.asc(), bando_documenti::id.asc()))
        .select((bando_documenti::bando_id, DocumentRow::as_select()))
        .load::<(Uuid, DocumentRow)>(conn)?
    {
        documents.entry(bando).or_default().push(d);
    }
    let award_basis = ab::table
        .filter(ab::bando_id.eq_any(&ids))
        .select((ab::bando_id, (ab::framework_agreement, ab::dynamic_purchasing_system)))
        .load::<(Uuid, (bool, bool))>(conn)?
        .into_iter()
        .collect();
    let conduct: HashMap<Uuid, (String, Option<Uuid>, Option<String>)> = c::table
        .filter(c::bando_id.eq_any(&ids))
        .select((c::bando_id, (c::conducted_by, c::runner_ente_id, c::authority_kind)))
        .load::<(Uuid, (String, Option<Uuid>, Option<String>))>(conn)?
        .into_iter()
        .collect();
    let anomaly_terms = bando_anomaly_terms::table
        .filter(bando_anomaly_terms::bando_id.eq_any(&ids))
        .select((bando_anomaly_terms::bando_id, bando_anomaly_terms::terms))
        .load::<(Uuid, serde_json::Value)>(conn)?
        .into_iter()
        .collect();
    let anomaly_check_began = crate::max_duration::anomaly_checks_began(conn, &ids)?;
    Ok(Extras {
        ente_nome,
        ente_kind,
        lots,
        documents,
        award_basis,
        conduct,
        anomaly_terms,
        anomaly_check_began,
    })
}

/// [`view`] of each of `rows`, in their order.
pub fn views(conn: &mut PgConnection, rows: &[BandoRow], full: bool) -> Result<Vec<Bando>, BandoError> {
    let mut x = extras(conn, rows)?;
    rows.iter()
        .map(|row| {
            let state_history = if full { Some(history(conn, row.id)?) } else { None };
            assemble(row, &mut x, full, state_history)
        })
        .collect()
}

fn assemble(
    row: &BandoRow,
    x: &mut Extras,
    full: bool,
    state_history: Option<Vec<StateChange>>,
) -> Result<Bando, BandoError> {
    let ente_nome = x.ente_nome.get(&row.ente_id).cloned().unwrap_or_default();
    let lotti = x
        .lots
        .remove(&row.id)
        .unwrap_or_default()
        .into_iter()
        .map(|l| Lotto {
            id: l.id,
            numero: l.numero,
            oggetto: l.oggetto,
            cig: l.cig,
            base_amount: l.base_amount,
            safety_costs: l.safety_costs,
            state: LotState::parse(&l.state).unwrap_or(LotState::Active),
            outcome_note: l.outcome_note,
        })
        .collect();
    let documenti = x
        .documents
        .remove(&row.id)
        .unwrap_or_default()
        .into_iter()
        .map(DocumentMeta::from)
        .collect();
    let (framework_agreement, dynamic_purchasing_system) =
        x.award_basis.get(&row.id).copied().unwrap_or((false, false));
    let conduct = match x.conduct.get(&row.id) {
        Some((by, runner, kind)) => Conduct {
            conducted_by: ConductedBy::parse(by),
            runner_ente_id: *runner,
            authority_kind: kind.as_deref().and_then(domain::legal::AuthorityKind::parse),
        },
        None => Conduct {
            conducted_by: ConductedBy::Ente,
            runner_ente_id: None,
            authority_kind: None,
        },
    };
    let authority_kind = conduct
        .authority_kind
        .or_else(|| x.ente_kind.get(&row.ente_id).copied())
        .ok_or(BandoError::NotFound { what: "Ente" })?;
    let max_duration = row.published_at.and_then(|published| {
        crate::max_duration::compute(
            published,
            row.procedure_type(),
            row.award_criterion(),
            x.anomaly_check_began.contains(&row.id),
        )
    });
    let anomaly_terms = x
        .anomaly_terms
        .get(&row.id)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let cpv_main_label = Cpv::parse(&row.cpv_main)
        .map(|c| c.label_it().to_string())
        .unwrap_or_default();
    Ok(Bando {
        id: row.id,
        ente_id: row.ente_id,
        ente_nome,
        conducted_by: conduct.conducted_by,
        runner_ente_id: conduct.runner_ente_id,
        authority_kind,
        oggetto: row.oggetto.clone(),
        cig: row.cig.clone(),
        cup: row.cup.clone(),
        cpv_main: row.cpv_main.clone(),
        cpv_main_label,
        cpv_additional: row.cpv_additional.clone(),
        nuts: row.nuts.clone(),
        contract_type: row.contract_type(),
        procedure_type: row.procedure_type(),
        award_criterion: row.award_criterion(),
        oepv: row.oepv(),
        base_amount: row.base_amount,
        safety_costs: row.safety_costs,
        amount_subject_to_discount: row.base_amount - row.safety_costs,
        labour_intensive: row.labour_intensive,
        intellectual_services: row.intellectual_services,
        urgency_reason: row.urgency_reason.clone(),
        questions_deadline: row.questions_deadline.map(Deadline::of),
        submission_deadline: row.submission_deadline.map(Deadline::of),
        opening_at: row.opening_at.map(Deadline::of),
        offer_validity_days: row.offer_validity_days,
        offer_validity_until: row
            .submission_deadline
            .map(|d| Deadline::of(deadlines::add_calendar_days(d, row.offer_validity_days.max(0) as u64))),
        max_duration,
        envelopes: row.envelopes(),
        anomaly_method: row.anomaly_method.as_deref().and_then(AnomalyMethod::parse),
        anomaly_terms,
        framework_agreement,
        dynamic_purchasing_system,
        state: row.state(),
        version: row.version,
        published_at: row.published_at,
        lotti,
        documenti,
        custodians: full.then(|| row.custodians.clone()),
        custodian_threshold: full.then_some(row.custodian_threshold),
        invitees: full.then(|| row.invitees.clone()),
        state_history,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Appends one state change of the tender (lot = None) or of a lot to the history and the
/// audit trail. The caller has already updated the row, in the same transaction.
pub fn record_state(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &BandoRow,
    lotto: Option<Uuid>,
    from: Option<&str>,
    to: &str,
    reason: Option<&str>,
) -> Result<(), BandoError> {
    diesel::insert_into(bando_state_history::table)
        .values((
            bando_state_history::bando_id.eq(row.id),
            bando_state_history::lotto_id.eq(lotto),
            bando_state_history::from_state.eq(from),
            bando_state_history::to_state.eq(to),
            bando_state_history::occurred_at.eq(ctx.at),
            bando_state_history::actor_user_id.eq(ctx.actor),
            bando_state_history::reason.eq(reason),
            bando_state_history::request_id.eq(&ctx.request_id),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action: if lotto.is_some() {
                "lotto.state_changed"
            } else {
                "bando.state_changed"
            },
            object_type: if lotto.is_some() { "lotto" } else { "bando" },
            object_id: lotto.unwrap_or(row.id).to_string(),
            ente_id: Some(row.ente_id),
            details: serde_json::json!({ "bando_id": row.id, "from": from, "to": to, "reason": reason,
                                         "by": if ctx.actor.is_some() { "user" } else { "scheduler" } }),
        },
    )?;
    Ok(())
}

/// Moves the tender from `from` to `to` if it is still in `from` (a conditional update, so
/// two writers never both succeed), with history and audit.
pub fn set_state(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &BandoRow,
    to: State,
    reason: Option<&str>,
) -> Result<bool, BandoError> {
    let from = row.state();
    let changed = diesel::update(
        bandi::table
            .filter(bandi::id.eq(row.id))
            .filter(bandi::state.eq(from.as_str())),
    )
    .set((bandi::state.eq(to.as_str()), bandi::updated_at.eq(ctx.at)))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    record_state(conn, ctx, row, None, Some(from.as_str()), to.as_str(), reason)?;
    Ok(true)
}

/// Sets every lot in one of `from` to `to` (cascades of cancelled / deserted).
pub fn cascade_lots(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &BandoRow,
    from: &[LotState],
    to: LotState,
    reason: Option<&str>,
) -> Result<(), BandoError> {
    for lot in lots(conn, row.id)? {
        if from.iter().any(|s| s.as_str() == lot.state) {
            diesel::update(bando_lotti::table.find(lot.id))
                .set(bando_lotti::state.eq(to.as_str()))
                .execute(conn)?;
            record_state(conn, ctx, row, Some(lot.id), Some(&lot.state), to.as_str(), reason)?;
        }
    }
    Ok(())
}

pub struct NewVersion<'a> {
    pub version: i32,
    pub kind: &'a str,
    pub reason: Option<&'a str>,
    pub changes: &'a [Change],
    pub requires_bid_confirmation: bool,
}

/// Records a published version with a snapshot of the tender as the public sees it.
pub fn add_version(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &BandoRow,
    v: NewVersion<'_>,
) -> Result<(), BandoError> {
    let snapshot = serde_json::to_value(view(conn, row, false)?).unwrap_or_default();
    diesel::insert_into(bando_versioni::table)
        .values((
            bando_versioni::bando_id.eq(row.id),
            bando_versioni::version.eq(v.version),
            bando_versioni::kind.eq(v.kind),
            bando_versioni::reason.eq(v.reason),
            bando_versioni::changes.eq(serde_json::to_value(v.changes).unwrap_or_default()),
            bando_versioni::snapshot.eq(snapshot),
            bando_versioni::published_at.eq(ctx.at),
            bando_versioni::actor_user_id.eq(ctx.actor),
            bando_versioni::requires_bid_confirmation.eq(v.requires_bid_confirmation),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn versions(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<Versione>, BandoError> {
    type Row = (i32, String, Option<String>, serde_json::Value, DateTime<Utc>, bool);
    let rows: Vec<Row> = bando_versioni::table
        .filter(bando_versioni::bando_id.eq(bando))
        .order(bando_versioni::version.asc())
        .select((
            bando_versioni::version,
            bando_versioni::kind,
            bando_versioni::reason,
            bando_versioni::changes,
            bando_versioni::published_at,
            bando_versioni::requires_bid_confirmation,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(version, kind, reason, changes, published_at, requires_bid_confirmation)| Versione {
                version,
                kind,
                reason,
                changes: serde_json::from_value(changes).unwrap_or_default(),
                published_at,
                requires_bid_confirmation,
            },
        )
        .collect())
}
