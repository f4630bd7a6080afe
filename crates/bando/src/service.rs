//! What RUPs, suppliers and the public do with a tender. Every write runs in one
//! transaction with its audit event.

use accounts::{Principal, Role, UserKind};
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use domain::deadlines::{self, calendar_days};
use domain::ids::Cpv;
use domain::legal::LegalTable;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{BandoError, Violation};
use crate::model::*;
use crate::rules::{self, parse_time};
use crate::schema::{bandi, bando_chiarimenti, bando_documenti, bando_lotti};
use crate::store::{self, BandoRow, NewVersion};

/// The RUP of the tender's ente, or an admin.
pub fn require_manager(who: &Principal, ente: Uuid) -> Result<(), BandoError> {
    who.require_any_in(&[Role::Rup], ente)
        .map_err(|_| BandoError::Forbidden)
}

/// Officials of the ente (any role) and admins see everything about its tenders.
fn is_insider(who: Option<&Principal>, row: &BandoRow) -> bool {
    who.is_some_and(|p| p.kind == UserKind::Official && (p.is_admin() || p.belongs_to(row.ente_id)))
}

/// Who may read this tender: published ones are public, except procedures by invitation,
/// which only their invitees (and the ente's officials) see. Drafts only the insiders.
pub fn can_view(who: Option<&Principal>, row: &BandoRow) -> bool {
    if is_insider(who, row) {
        return true;
    }
    if row.state() == State::Draft {
        return false;
    }
    if row.procedure_type().is_by_invitation() {
        return who.is_some_and(|p| p.kind == UserKind::Supplier && row.invitees.contains(&p.user_id));
    }
    true
}

fn visible(conn: &mut PgConnection, who: Option<&Principal>, id: Uuid) -> Result<BandoRow, BandoError> {
    let row = store::find(conn, id)?;
    if can_view(who, &row) {
        Ok(row)
    } else {
        Err(BandoError::NotFound { what: "Bando" })
    }
}

fn today_table(at: DateTime<Utc>) -> &'static LegalTable {
    LegalTable::at(deadlines::rome_date(at))
}

/// Nothing changes a published bando once its submission deadline has passed (art. 88 c.3,
/// art. 92): decided on the clock, not on the state the scheduler writes at its next tick.
/// Callers hold the tender row `FOR UPDATE` ([`store::lock`]), so this serializes with the
/// scheduler (which skips locked rows) and with a concurrent rettifica.
pub fn ensure_before_deadline(row: &BandoRow, now: DateTime<Utc>) -> Result<(), BandoError> {
    match row.submission_deadline {
        Some(deadline) if now >= deadline => Err(BandoError::Conflict {
            code: "deadline_passed",
            field: Some("submission_deadline".into()),
            message: format!(
                "Il termine di presentazione delle offerte è scaduto ({}): il bando, i suoi documenti e i chiarimenti non si modificano più",
                deadlines::rome_rfc3339(deadline)
            ),
        }),
        _ => Ok(()),
    }
}

/// Custodians must be officials holding a role in the ente.
fn check_custodians(conn: &mut PgConnection, ente: Uuid, custodians: &[Uuid]) -> Result<(), BandoError> {
    use db::schema::role_grants;
    for (i, c) in custodians.iter().enumerate() {
        let n: i64 = role_grants::table
            .filter(role_grants::user_id.eq(c))
            .filter(role_grants::ente_id.eq(ente))
            .filter(role_grants::revoked_at.is_null())
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Err(BandoError::invalid(
                "custodian_not_official",
                &format!("custodians[{i}]"),
                "Un custode delle chiavi deve essere un funzionario con un ruolo nell'ente",
            ));
        }
    }
    Ok(())
}

fn insert_lots(conn: &mut PgConnection, bando: Uuid, spec: &rules::Spec) -> Result<(), BandoError> {
    store::save_award_basis(conn, bando, spec.framework_agreement, spec.dynamic_purchasing_system)?;
    store::save_conduct(conn, bando, spec.conducted_by)?;
    for (i, l) in spec.lotti.iter().enumerate() {
        diesel::insert_into(bando_lotti::table)
            .values((
                bando_lotti::id.eq(Uuid::new_v4()),
                bando_lotti::bando_id.eq(bando),
                bando_lotti::numero.eq(i as i32 + 1),
                bando_lotti::oggetto.eq(&l.oggetto),
                bando_lotti::cig.eq(l.cig.as_str()),
                bando_lotti::base_amount.eq(l.base_amount),
                bando_lotti::safety_costs.eq(l.safety_costs),
                bando_lotti::state.eq(LotState::Active.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn cig_taken(e: diesel::result::Error) -> BandoError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => BandoError::Conflict {
            code: "cig_duplicate",
            field: Some("cig".into()),
            message: "Un CIG indicato è già usato da un altro bando o lotto".into(),
        },
        other => BandoError::Database(other),
    }
}

/// A RUP of the ente (or an admin) creates a draft.
pub fn create(conn: &mut PgConnection, ctx: &AuditCtx, who: &Principal, input: &NewBando) -> Result<Bando, BandoError> {
    require_manager(who, input.ente_id)?;
    let table = today_table(ctx.at);
    let spec = rules::validate(input, table.after_deadline.offer_validity_default_days.value)?;
    conn.transaction(|conn| {
        store::find_ente(conn, spec.ente_id)?;
        check_custodians(conn, spec.ente_id, &spec.custodians)?;
        let row = BandoRow::from_spec(Uuid::new_v4(), who.user_id, &spec, ctx.at);
        diesel::insert_into(bandi::table).values(&row).execute(conn).map_err(cig_taken)?;
        store::save_anomaly_terms(conn, row.id, &spec.anomaly_terms)?;
        insert_lots(conn, row.id, &spec).map_err(|e| match e {
            BandoError::Database(d) => cig_taken(d),
            other => other,
        })?;
        store::record_state(conn, ctx, &row, None, None, State::Draft.as_str(), None)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "bando.created",
                object_type: "bando",
                object_id: row.id.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({ "oggetto": row.oggetto, "procedure_type": row.procedure_type, "lotti": spec.lotti.len() }),
            },
        )?;
        store::view(conn, &row, true)
    })
}

/// Replaces a draft (drafts only; a published tender changes through rettifiche).
pub fn update_draft(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    input: &NewBando,
) -> Result<Bando, BandoError> {
    conn.transaction(|conn| {
        let old = store::lock(conn, id)?;
        require_manager(who, old.ente_id)?;
        if input.ente_id != old.ente_id {
            return Err(BandoError::invalid(
                "ente_immutable",
                "ente_id",
                "L'ente di un bando non cambia",
            ));
        }
        if old.state() != State::Draft {
            return Err(BandoError::illegal(
                old.state(),
                "draft",
                Some("un bando pubblicato si modifica con una rettifica".into()),
            ));
        }
        let table = today_table(ctx.at);
        let spec = rules::validate(input, table.after_deadline.offer_validity_default_days.value)?;
        check_custodians(conn, spec.ente_id, &spec.custodians)?;
        let mut row = BandoRow::from_spec(old.id, old.created_by, &spec, old.created_at);
        row.updated_at = ctx.at;
        diesel::update(bandi::table.find(id))
            .set(&row)
            .execute(conn)
            .map_err(cig_taken)?;
        store::save_anomaly_terms(conn, id, &spec.anomaly_terms)?;
        // Draft lots have no history worth keeping beyond the audit event: replace them.
        diesel::delete(bando_lotti::table.filter(bando_lotti::bando_id.eq(id))).execute(conn)?;
        insert_lots(conn, id, &spec).map_err(|e| match e {
            BandoError::Database(d) => cig_taken(d),
            other => other,
        })?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "bando.draft_updated",
                object_type: "bando",
                object_id: id.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({ "oggetto": row.oggetto }),
            },
        )?;
        store::view(conn, &row, true)
    })
}

/// Officials' read (drafts included, with custodians, invitees and history).
pub fn get(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<Bando, BandoError> {
    let row = store::find(conn, id)?;
    if !is_insider(Some(who), &row) {
        return Err(BandoError::Forbidden);
    }
    store::view(conn, &row, true)
}

/// The public read; negotiated procedures only for invitees.
pub fn get_public(conn: &mut PgConnection, who: Option<&Principal>, id: Uuid) -> Result<Bando, BandoError> {
    let row = visible(conn, who, id)?;
    if row.state() == State::Draft {
        return Err(BandoError::NotFound { what: "Bando" });
    }
    store::view(conn, &row, false)
}

/// The legal check without publishing: what would block publication now.
pub fn check(
    conn: &mut PgConnection,
    who: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Violation>, BandoError> {
    let row = store::find(conn, id)?;
    require_manager(who, row.ente_id)?;
    Ok(rules::legal_violations(&store::facts(conn, &row)?, now))
}

/// Art. 50: every invitee of a procedure by invitation is a real, distinct operatore the
/// registry says may be invited; made-up or repeated ids do not make up the minimum number.
fn check_invitees(
    conn: &mut PgConnection,
    row: &store::BandoRow,
    check: &dyn crate::hooks::InviteeCheck,
    now: DateTime<Utc>,
) -> Result<(), BandoError> {
    if !row.procedure_type().is_by_invitation() {
        return Ok(());
    }
    let mut seen = std::collections::HashSet::new();
    if !row.invitees.iter().all(|i| seen.insert(*i)) {
        return Err(BandoError::invalid(
            "invitees_duplicate",
            "invitees",
            "art. 50: un operatore è invitato più volte e va contato una volta sola",
        ));
    }
    let refused = check
        .not_invitable(conn, &row.invitees, now)
        .map_err(|message| BandoError::Integrity { message })?;
    if let Some((id, why)) = refused.first() {
        return Err(BandoError::invalid(
            "invitee_not_invitable",
            "invitees",
            format!(
                "art. 50: gli invitati devono essere operatori economici qualificati nell'albo; l'invitato {id} {why}{}",
                if refused.len() > 1 { format!(" (e altri {})", refused.len() - 1) } else { String::new() }
            ),
        ));
    }
    Ok(())
}

/// Publishes a draft if it breaks no rule of the table in force today and, for a procedure by
/// invitation, the registry accepts every invitee (`invitees`, see [`crate::hooks::InviteeCheck`]).
pub fn publish(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    invitees: &dyn crate::hooks::InviteeCheck,
) -> Result<Bando, BandoError> {
    conn.transaction(|conn| {
        let row = store::lock(conn, id)?;
        require_manager(who, row.ente_id)?;
        if row.state() != State::Draft {
            return Err(BandoError::illegal(row.state(), State::Published.as_str(), None));
        }
        let facts = store::facts(conn, &row)?;
        // The centrale runs what is entrusted to it: its own officials (the admins) publish,
        // not the ente's RUP, who could otherwise borrow the centrale's qualification.
        if facts.conducted_by == ConductedBy::Centrale && !who.is_admin() {
            return Err(BandoError::NotRunner {
                message: "art. 62 c.6 lett. a: il bando è affidato alla centrale di committenza, che lo pubblica; il RUP dell'ente prepara la bozza".into(),
            });
        }
        let violations = rules::legal_violations(&facts, ctx.at);
        if !violations.is_empty() {
            return Err(BandoError::Legal(violations));
        }
        check_invitees(conn, &row, invitees, ctx.at)?;
        let (runner, runner_level) = match &facts.runner {
            rules::Runner::Known(p) => {
                let sector = domain::legal::QualificationSector::of(row.contract_type().legal());
                let level = p
                    .qualification(sector)
                    .and_then(|q| q.level_on(deadlines::rome_date(ctx.at)));
                (p.id, serde_json::json!({ "qualified_by_law": p.qualified_by_law, "level": level }))
            }
            // legal_violations refuses a tender entrusted to a missing centrale.
            _ => (row.ente_id, serde_json::Value::Null),
        };
        store::fix_conduct(conn, id, facts.conducted_by, runner, facts.authority)?;
        diesel::update(bandi::table.find(id))
            .set((
                bandi::state.eq(State::Published.as_str()),
                bandi::version.eq(1),
                bandi::published_at.eq(ctx.at),
                bandi::updated_at.eq(ctx.at),
            ))
            .execute(conn)?;
        let row = store::find(conn, id)?;
        store::record_state(
            conn,
            ctx,
            &row,
            None,
            Some(State::Draft.as_str()),
            State::Published.as_str(),
            None,
        )?;
        store::add_version(
            conn,
            ctx,
            &row,
            NewVersion {
                version: 1,
                kind: "publication",
                reason: None,
                changes: &[],
                requires_bid_confirmation: false,
            },
        )?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "bando.published",
                object_type: "bando",
                object_id: id.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({ "legal_table_from": today_table(ctx.at).effective_from,
                                             "submission_deadline": row.submission_deadline,
                                             "conducted_by": facts.conducted_by.as_str(),
                                             "runner_ente_id": runner,
                                             "runner_qualification": runner_level,
                                             "authority_kind": facts.authority.as_str() }),
            },
        )?;
        store::view(conn, &row, true)
    })
}

/// The generic transition (the `transitions` route): only the RUP's administrative acts
/// ([`Trigger::Manual`], e.g. cancelling with a reason) and the deadline moves
/// ([`Trigger::Deadline`], normally the scheduler's; a RUP may make them once the instant has
/// passed). An outcome of the evaluation is refused with 409 `procedure_only`: it is reached
/// through the award procedure ([`procedure_transition`]), never asked for directly.
pub fn transition(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    req: &TransitionRequest,
) -> Result<Bando, BandoError> {
    transition_with(conn, ctx, who, id, req, &crate::hooks::RegistryNotConsulted)
}

/// [`transition`] with the registry's check of the invitees, for a transition to `published`.
pub fn transition_with(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    req: &TransitionRequest,
    invitees: &dyn crate::hooks::InviteeCheck,
) -> Result<Bando, BandoError> {
    if req.to == State::Published.as_str() {
        return publish(conn, ctx, who, id, invitees);
    }
    move_tender(conn, ctx, who, id, req, Trigger::Manual)
}

/// A [`Trigger::Procedure`] move, for the award workflow (`aggiudicazione::procedure`) only:
/// it has checked the ranking, the standstill and the requirements before calling.
pub fn procedure_transition(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    to: State,
    reason: Option<&str>,
) -> Result<Bando, BandoError> {
    let req = TransitionRequest {
        to: to.as_str().into(),
        reason: reason.map(str::to_string),
    };
    move_tender(conn, ctx, who, id, &req, Trigger::Procedure)
}

/// Whether a caller of kind `caller` (the route: `Manual`; the award workflow: `Procedure`)
/// may make a move of kind `by`.
fn may_trigger(caller: Trigger, by: Trigger) -> bool {
    match caller {
        Trigger::Procedure => by == Trigger::Procedure,
        Trigger::Manual | Trigger::Deadline => by != Trigger::Procedure,
    }
}

fn procedure_only(to: &str) -> BandoError {
    BandoError::Conflict {
        code: "procedure_only",
        field: Some("to".into()),
        message: format!(
            "«{to}» è un esito della procedura di aggiudicazione: vi si arriva solo con i suoi passi (ammissioni, valutazione, proposta, aggiudicazione, verifica dei requisiti), non con una transizione manuale"
        ),
    }
}

fn move_tender(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    req: &TransitionRequest,
    caller: Trigger,
) -> Result<Bando, BandoError> {
    conn.transaction(|conn| {
        let row = store::lock(conn, id)?;
        require_manager(who, row.ente_id)?;
        let current = row.state();
        let Some(to) = State::parse(&req.to) else {
            return Err(BandoError::invalid(
                "state_unknown",
                "to",
                format!("Stato sconosciuto: {}", req.to),
            ));
        };
        match current.trigger_to(to) {
            Some(by) if !may_trigger(caller, by) && by == Trigger::Procedure => {
                return Err(procedure_only(to.as_str()))
            }
            Some(by) if !may_trigger(caller, by) => {
                return Err(BandoError::illegal(
                    current,
                    to.as_str(),
                    Some("non è un passo della procedura".into()),
                ))
            }
            Some(_) => {}
            None => {
                return Err(BandoError::illegal(
                    current,
                    to.as_str(),
                    Some("transizione non prevista".into()),
                ))
            }
        }
        let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let lot_states: Vec<LotState> = store::lots(conn, id)?
            .iter()
            .filter_map(|l| LotState::parse(&l.state))
            .collect();
        let lots_in = |bad: &[LotState]| lot_states.iter().any(|s| bad.contains(s));
        use State::*;
        let guard: Result<(), String> = match (current, to) {
            (Published, SubmissionsClosed) => match row.submission_deadline {
                Some(d) if d <= ctx.at => Ok(()),
                _ => Err("la scadenza delle offerte non è ancora trascorsa".into()),
            },
            (SubmissionsClosed, Opening) => match row.opening_at {
                Some(o) if o <= ctx.at => Ok(()),
                _ => Err("la data di apertura non è ancora arrivata".into()),
            },
            (Opening, Evaluation) => Ok(()),
            (Evaluation, ProposedAward) if lots_in(&[LotState::Active]) => Err("ci sono lotti senza esito".into()),
            (Evaluation, ProposedAward) => Ok(()),
            (ProposedAward, Awarded) if lots_in(&[LotState::Active, LotState::ProposedAward]) => {
                Err("ci sono lotti non ancora aggiudicati".into())
            }
            (ProposedAward, Awarded) => Ok(()),
            (SubmissionsClosed | Opening | Evaluation, Deserted) if reason.is_none() => {
                Err("indicare il motivo".into())
            }
            (SubmissionsClosed | Opening | Evaluation, Deserted) => Ok(()),
            (Draft | Published | SubmissionsClosed | Opening | Evaluation | ProposedAward | Awarded, Cancelled)
                if reason.is_none() =>
            {
                Err("indicare il motivo dell'annullamento".into())
            }
            (Draft | Published | SubmissionsClosed | Opening | Evaluation | ProposedAward | Awarded, Cancelled) => {
                Ok(())
            }
            _ => Err("transizione non prevista".into()),
        };
        guard.map_err(|why| BandoError::illegal(current, to.as_str(), Some(why)))?;
        if !store::set_state(conn, ctx, &row, to, reason)? {
            return Err(BandoError::illegal(
                current,
                to.as_str(),
                Some("stato cambiato nel frattempo".into()),
            ));
        }
        match to {
            Cancelled => store::cascade_lots(
                conn,
                ctx,
                &row,
                &[LotState::Active, LotState::ProposedAward, LotState::Awarded],
                LotState::Cancelled,
                reason,
            )?,
            Deserted => store::cascade_lots(conn, ctx, &row, &[LotState::Active], LotState::Deserted, reason)?,
            _ => {}
        }
        let row = store::find(conn, id)?;
        store::view(conn, &row, true)
    })
}

/// A lot's move through the generic route: only its cancellation (with a reason); its
/// outcomes are the procedure's (409 `procedure_only`, see [`lot_procedure_transition`]).
pub fn lot_transition(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    lotto: Uuid,
    req: &TransitionRequest,
) -> Result<Bando, BandoError> {
    move_lot(conn, ctx, who, id, lotto, req, Trigger::Manual)
}

/// A lot's outcome, for the award workflow only. When every lot is deserted, so is the tender.
pub fn lot_procedure_transition(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    lotto: Uuid,
    to: LotState,
    reason: Option<&str>,
) -> Result<Bando, BandoError> {
    let req = TransitionRequest {
        to: to.as_str().into(),
        reason: reason.map(str::to_string),
    };
    move_lot(conn, ctx, who, id, lotto, &req, Trigger::Procedure)
}

fn move_lot(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    lotto: Uuid,
    req: &TransitionRequest,
    caller: Trigger,
) -> Result<Bando, BandoError> {
    conn.transaction(|conn| {
        let row = store::lock(conn, id)?;
        require_manager(who, row.ente_id)?;
        let lot = store::lots(conn, id)?
            .into_iter()
            .find(|l| l.id == lotto)
            .ok_or(BandoError::NotFound { what: "Lotto" })?;
        let current = LotState::parse(&lot.state).unwrap_or(LotState::Active);
        let Some(to) = LotState::parse(&req.to) else {
            return Err(BandoError::invalid(
                "state_unknown",
                "to",
                format!("Stato del lotto sconosciuto: {}", req.to),
            ));
        };
        match current.trigger_to(to) {
            Some(by) if !may_trigger(caller, by) && by == Trigger::Procedure => {
                return Err(procedure_only(to.as_str()))
            }
            Some(by) if !may_trigger(caller, by) => {
                return Err(BandoError::IllegalTransition {
                    current: current.as_str().to_string(),
                    requested: to.as_str().to_string(),
                    why: Some(format!("lotto {}: non è un passo della procedura", lot.numero)),
                })
            }
            _ => {}
        }
        let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let tender = row.state();
        use LotState::*;
        let after_deadline = matches!(
            tender,
            State::SubmissionsClosed | State::Opening | State::Evaluation | State::ProposedAward | State::Awarded
        );
        let ok = match (current, to) {
            (Active, ProposedAward) => matches!(tender, State::Evaluation),
            (ProposedAward, Awarded) => matches!(tender, State::Evaluation | State::ProposedAward),
            (Active, Deserted) => after_deadline && reason.is_some(),
            (Active | ProposedAward, Cancelled) => tender != State::Draft && reason.is_some(),
            _ => false,
        };
        if !ok {
            return Err(BandoError::IllegalTransition {
                current: current.as_str().to_string(),
                requested: to.as_str().to_string(),
                why: Some(format!(
                    "lotto {} (bando nello stato «{}»){}",
                    lot.numero,
                    tender,
                    if reason.is_none() {
                        "; il motivo è obbligatorio per deserto e annullato"
                    } else {
                        ""
                    }
                )),
            });
        }
        diesel::update(
            bando_lotti::table
                .find(lotto)
                .filter(bando_lotti::state.eq(current.as_str())),
        )
        .set((
            bando_lotti::state.eq(to.as_str()),
            bando_lotti::outcome_note.eq(reason.or(lot.outcome_note.as_deref())),
        ))
        .execute(conn)?;
        store::record_state(
            conn,
            ctx,
            &row,
            Some(lotto),
            Some(current.as_str()),
            to.as_str(),
            reason,
        )?;
        let all_deserted = store::lots(conn, id)?.iter().all(|l| l.state == Deserted.as_str());
        if all_deserted && matches!(tender, State::SubmissionsClosed | State::Opening | State::Evaluation) {
            store::set_state(
                conn,
                ctx,
                &row,
                State::Deserted,
                Some("tutti i lotti sono andati deserti"),
            )?;
        }
        let row = store::find(conn, id)?;
        store::view(conn, &row, true)
    })
}

/// The changes a rettifica makes to the deadlines, applied to a locked published row.
/// Checks art. 92: the change itself must come at least 6 days before the (new) deadline.
#[derive(Default)]
struct NewDeadlines {
    submission: Option<DateTime<Utc>>,
    questions: Option<DateTime<Utc>>,
    opening: Option<DateTime<Utc>>,
}

fn apply_deadline_changes(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    row: &BandoRow,
    new: NewDeadlines,
    extra: Vec<Change>,
    reason: &str,
) -> Result<BandoRow, BandoError> {
    let NewDeadlines {
        submission,
        questions,
        opening,
    } = new;
    ensure_before_deadline(row, ctx.at)?;
    if row.state() != State::Published {
        return Err(BandoError::Conflict {
            code: "not_amendable",
            field: Some("state".into()),
            message: format!(
                "Si rettifica solo un bando pubblicato prima della scadenza; lo stato attuale è «{}»",
                row.state()
            ),
        });
    }
    let t = today_table(ctx.at);
    let old_deadline = row
        .submission_deadline
        .ok_or(BandoError::conflict("not_amendable", "Bando senza scadenza"))?;
    let mut changes = extra;
    let new_deadline = submission.unwrap_or(old_deadline);
    if new_deadline < old_deadline {
        return Err(BandoError::invalid(
            "deadline_shortened",
            "submission_deadline",
            "art. 92 c.1: una rettifica può prorogare la scadenza, non anticiparla",
        ));
    }
    if submission.is_some_and(|s| s != old_deadline) {
        changes.push(Change {
            field: "submission_deadline".into(),
            from: serde_json::to_value(Deadline::of(old_deadline)).unwrap_or_default(),
            to: serde_json::to_value(Deadline::of(new_deadline)).unwrap_or_default(),
        });
    }
    let new_questions = questions.or(row.questions_deadline);
    if let Some(q) = questions.filter(|q| Some(*q) != row.questions_deadline) {
        changes.push(Change {
            field: "questions_deadline".into(),
            from: serde_json::to_value(row.questions_deadline.map(Deadline::of)).unwrap_or_default(),
            to: serde_json::to_value(Deadline::of(q)).unwrap_or_default(),
        });
    }
    let new_opening = opening.or(row.opening_at).map(|o| o.max(new_deadline));
    if new_opening != row.opening_at {
        changes.push(Change {
            field: "opening_at".into(),
            from: serde_json::to_value(row.opening_at.map(Deadline::of)).unwrap_or_default(),
            to: serde_json::to_value(new_opening.map(Deadline::of)).unwrap_or_default(),
        });
    }
    if changes.is_empty() {
        return Err(BandoError::invalid(
            "rettifica_empty",
            "reason",
            "La rettifica non cambia nulla",
        ));
    }
    if let Some(q) = new_questions {
        if q >= new_deadline {
            return Err(BandoError::invalid(
                "deadline_order",
                "questions_deadline",
                "Il termine per i quesiti deve precedere la scadenza delle offerte",
            ));
        }
    }
    let info = t.information_before_deadline(row.urgency_reason.is_some());
    if calendar_days(ctx.at, new_deadline) < info.value {
        return Err(BandoError::Invalid {
            code: "art92_extension_required",
            field: "submission_deadline".into(),
            message: format!(
                "{}: informazioni o modifiche pubblicate meno di {} giorni prima della scadenza richiedono la proroga del termine (almeno al {})",
                info.article,
                info.value,
                deadlines::earliest_day(ctx.at, info.value as u64).format("%d/%m/%Y")
            ),
        });
    }
    let version = row.version + 1;
    diesel::update(bandi::table.find(row.id))
        .set((
            bandi::submission_deadline.eq(Some(new_deadline)),
            bandi::questions_deadline.eq(new_questions),
            bandi::opening_at.eq(new_opening),
            bandi::version.eq(version),
            bandi::updated_at.eq(ctx.at),
        ))
        .execute(conn)?;
    let updated = store::find(conn, row.id)?;
    store::add_version(
        conn,
        ctx,
        &updated,
        NewVersion {
            version,
            kind: "rettifica",
            reason: Some(reason),
            changes: &changes,
            requires_bid_confirmation: true,
        },
    )?;
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action: "bando.amended",
            object_type: "bando",
            object_id: row.id.to_string(),
            ente_id: Some(row.ente_id),
            details: serde_json::json!({ "version": version, "reason": reason, "changes": changes }),
        },
    )?;
    // Hook for sealed bids: offers submitted before this version must be confirmed or
    // replaced (see `hooks::amendments_after`). The event lets the bids area notify them.
    audit::record(
        conn,
        ctx,
        AuditEvent {
            action: "bando.amended_after_bids",
            object_type: "bando",
            object_id: row.id.to_string(),
            ente_id: Some(row.ente_id),
            details: serde_json::json!({ "version": version, "bids_submitted_before": ctx.at }),
        },
    )?;
    Ok(updated)
}

fn opt_time(field: &str, v: &Option<String>) -> Result<Option<DateTime<Utc>>, BandoError> {
    v.as_deref().map(|s| parse_time(field, s)).transpose()
}

/// A rettifica: new deadlines, versioned and visible as such.
pub fn amend(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    input: &NewRettifica,
) -> Result<Bando, BandoError> {
    let reason = input.reason.trim();
    if reason.is_empty() {
        return Err(BandoError::invalid(
            "reason_required",
            "reason",
            "Indicare il motivo della rettifica",
        ));
    }
    let submission = opt_time("submission_deadline", &input.submission_deadline)?;
    let questions = opt_time("questions_deadline", &input.questions_deadline)?;
    let opening = opt_time("opening_at", &input.opening_at)?;
    conn.transaction(|conn| {
        let row = store::lock(conn, id)?;
        require_manager(who, row.ente_id)?;
        let updated = apply_deadline_changes(
            conn,
            ctx,
            &row,
            NewDeadlines {
                submission,
                questions,
                opening,
            },
            Vec::new(),
            reason,
        )?;
        store::view(conn, &updated, true)
    })
}

pub fn versions(conn: &mut PgConnection, who: Option<&Principal>, id: Uuid) -> Result<Vec<Versione>, BandoError> {
    visible(conn, who, id)?;
    store::versions(conn, id)
}

pub struct Upload<'a> {
    pub kind: DocumentKind,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    /// Required once published: the document is a rettifica.
    pub reason: Option<&'a str>,
    /// A new deadline, when the document arrives less than 6 days before it (art. 92).
    pub extend_submission_deadline_to: Option<&'a str>,
}

/// Adds a document (disciplinare, capitolato, allegato) with its SHA-256. On a published
/// tender it is a rettifica.
pub fn add_document(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    up: Upload<'_>,
) -> Result<DocumentMeta, BandoError> {
    let filename = up.filename.trim();
    if filename.is_empty()
        || filename.len() > 200
        || filename.contains(['/', '\\'])
        || filename.chars().any(char::is_control)
    {
        return Err(BandoError::invalid(
            "filename_invalid",
            "filename",
            "Nome del file non valido",
        ));
    }
    if up.bytes.is_empty() {
        return Err(BandoError::invalid("document_empty", "body", "Il documento è vuoto"));
    }
    let extend = up
        .extend_submission_deadline_to
        .map(|s| parse_time("extend_submission_deadline_to", s))
        .transpose()?;
    let sha = hex::encode(Sha256::digest(up.bytes));
    conn.transaction(|conn| {
        let row = store::lock(conn, id)?;
        require_manager(who, row.ente_id)?;
        if row.state() != State::Draft {
            ensure_before_deadline(&row, ctx.at)?;
        }
        let doc_id = Uuid::new_v4();
        let version = match row.state() {
            State::Draft => 0,
            State::Published => {
                up.reason.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
                    BandoError::invalid("reason_required", "reason", "Un documento aggiunto dopo la pubblicazione è una rettifica: indicarne il motivo")
                })?;
                row.version + 1
            }
            other => {
                return Err(BandoError::Conflict {
                    code: "not_amendable",
                    field: Some("state".into()),
                    message: format!("Documenti si aggiungono in bozza o a bando pubblicato; lo stato attuale è «{other}»"),
                })
            }
        };
        diesel::insert_into(bando_documenti::table)
            .values((
                bando_documenti::id.eq(doc_id),
                bando_documenti::bando_id.eq(id),
                bando_documenti::kind.eq(up.kind.as_str()),
                bando_documenti::filename.eq(filename),
                bando_documenti::content_type.eq(up.content_type),
                bando_documenti::size_bytes.eq(up.bytes.len() as i64),
                bando_documenti::sha256.eq(&sha),
                bando_documenti::content.eq(up.bytes),
                bando_documenti::version.eq(version),
                bando_documenti::uploaded_at.eq(ctx.at),
                bando_documenti::uploaded_by.eq(who.user_id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "bando.document_added",
                object_type: "bando",
                object_id: id.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({ "document_id": doc_id, "kind": up.kind, "filename": filename, "sha256": sha, "size": up.bytes.len() }),
            },
        )?;
        if row.state() == State::Published {
            let reason = up.reason.map(str::trim).unwrap_or_default();
            let change = Change {
                field: "documenti".into(),
                from: serde_json::Value::Null,
                to: serde_json::json!({ "id": doc_id, "kind": up.kind, "filename": filename, "sha256": sha }),
            };
            apply_deadline_changes(conn, ctx, &row, NewDeadlines { submission: extend, ..Default::default() }, vec![change], reason)?;
        }
        Ok(DocumentMeta {
            id: doc_id,
            kind: up.kind,
            filename: filename.to_string(),
            content_type: up.content_type.to_string(),
            size_bytes: up.bytes.len() as i64,
            sha256: sha.clone(),
            version,
            uploaded_at: ctx.at,
        })
    })
}

/// A document's bytes, for whoever may read the tender.
pub fn document(
    conn: &mut PgConnection,
    who: Option<&Principal>,
    id: Uuid,
    doc: Uuid,
) -> Result<(DocumentMeta, Vec<u8>), BandoError> {
    visible(conn, who, id)?;
    let meta: store::DocumentRow = bando_documenti::table
        .filter(bando_documenti::bando_id.eq(id))
        .filter(bando_documenti::id.eq(doc))
        .select(store::DocumentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(BandoError::NotFound { what: "Documento" })?;
    let bytes: Vec<u8> = bando_documenti::table
        .find(doc)
        .select(bando_documenti::content)
        .first(conn)?;
    // Checked on every read: bytes that no longer match the published hash are refused.
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != meta.sha256 {
        return Err(BandoError::Integrity {
            message: format!(
                "Il documento {doc} non corrisponde alla sua impronta SHA-256 pubblicata: non viene servito"
            ),
        });
    }
    Ok((meta.into(), bytes))
}

/// A supplier asks a question, until the questions deadline.
pub fn ask(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    input: &NewQuestion,
) -> Result<Chiarimento, BandoError> {
    if who.kind != UserKind::Supplier {
        return Err(BandoError::Forbidden);
    }
    let question = input.question.trim();
    if question.is_empty() || question.len() > 10_000 {
        return Err(BandoError::invalid(
            "question_invalid",
            "question",
            "Il quesito è vuoto o troppo lungo",
        ));
    }
    conn.transaction(|conn| {
        let row = store::lock(conn, id)?;
        if !can_view(Some(who), &row) {
            return Err(BandoError::NotFound { what: "Bando" });
        }
        if row.state() != State::Published || row.questions_deadline.is_some_and(|q| ctx.at > q) {
            return Err(BandoError::Conflict {
                code: "questions_closed",
                field: Some("questions_deadline".into()),
                message: format!(
                    "Il termine per i quesiti è scaduto{}",
                    row.questions_deadline
                        .map(|q| format!(" ({})", deadlines::rome_rfc3339(q)))
                        .unwrap_or_default()
                ),
            });
        }
        ensure_before_deadline(&row, ctx.at)?;
        let last: Option<i32> = bando_chiarimenti::table
            .filter(bando_chiarimenti::bando_id.eq(id))
            .select(diesel::dsl::max(bando_chiarimenti::numero))
            .first(conn)?;
        let numero = last.unwrap_or(0) + 1;
        let q_id = Uuid::new_v4();
        diesel::insert_into(bando_chiarimenti::table)
            .values((
                bando_chiarimenti::id.eq(q_id),
                bando_chiarimenti::bando_id.eq(id),
                bando_chiarimenti::numero.eq(numero),
                bando_chiarimenti::question.eq(question),
                bando_chiarimenti::asked_by.eq(who.user_id),
                bando_chiarimenti::asked_at.eq(ctx.at),
            ))
            .execute(conn)?;
        // Art. 88: the stazione appaltante never learns who asked (the row keeps the actor for
        // the platform's operator; every listing blanks it).
        audit::record_with(
            conn,
            ctx,
            AuditEvent {
                action: "chiarimento.asked",
                object_type: "chiarimento",
                object_id: q_id.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({ "bando_id": id, "numero": numero }),
            },
            audit::Visibility::anonymous_actor(),
        )?;
        Ok(Chiarimento {
            id: q_id,
            numero,
            question: question.to_string(),
            answer: None,
            answered_at: None,
        })
    })
}

type QRow = (Uuid, i32, String, Option<String>, Option<DateTime<Utc>>);

fn to_chiarimento((id, numero, question, answer, answered_at): QRow) -> Chiarimento {
    Chiarimento {
        id,
        numero,
        question,
        answer,
        answered_at,
    }
}

/// The RUP answers; the answer is public at once. Less than 6 days before the deadline the
/// answer needs a new deadline in the same request (art. 92 c.2), published as a rettifica.
pub fn answer(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    q: Uuid,
    input: &NewAnswer,
) -> Result<Chiarimento, BandoError> {
    let text = input.answer.trim();
    if text.is_empty() {
        return Err(BandoError::invalid("answer_required", "answer", "La risposta è vuota"));
    }
    let extend = opt_time("extend_submission_deadline_to", &input.extend_submission_deadline_to)?;
    conn.transaction(|conn| {
        let row = store::lock(conn, id)?;
        require_manager(who, row.ente_id)?;
        let found: QRow = bando_chiarimenti::table
            .filter(bando_chiarimenti::bando_id.eq(id))
            .filter(bando_chiarimenti::id.eq(q))
            .select((
                bando_chiarimenti::id,
                bando_chiarimenti::numero,
                bando_chiarimenti::question,
                bando_chiarimenti::answer,
                bando_chiarimenti::answered_at,
            ))
            .first(conn)
            .optional()?
            .ok_or(BandoError::NotFound { what: "Quesito" })?;
        if found.3.is_some() {
            return Err(BandoError::conflict("already_answered", "Il quesito ha già una risposta pubblicata"));
        }
        // art. 88: answers are due before the deadline; after it nothing changes the documents
        // the offers were made on, so a late answer is refused (the question stays unanswered).
        ensure_before_deadline(&row, ctx.at)?;
        if row.state() != State::Published {
            return Err(BandoError::Conflict {
                code: "not_amendable",
                field: Some("state".into()),
                message: format!("Si risponde ai quesiti solo prima della scadenza; lo stato attuale è «{}»", row.state()),
            });
        }
        let info = today_table(ctx.at).information_before_deadline(row.urgency_reason.is_some());
        let deadline = row.submission_deadline.unwrap_or(ctx.at);
        if let Some(new_deadline) = extend {
            apply_deadline_changes(conn, ctx, &row, NewDeadlines { submission: Some(new_deadline), ..Default::default() }, Vec::new(), &format!("Proroga del termine per la risposta al quesito n. {} ({})", found.1, info.article))?;
        } else if calendar_days(ctx.at, deadline) < info.value {
            return Err(BandoError::Invalid {
                code: "art92_extension_required",
                field: "extend_submission_deadline_to".into(),
                message: format!(
                    "{}: una risposta pubblicata meno di {} giorni prima della scadenza ({}) richiede la proroga del termine nella stessa richiesta",
                    info.article,
                    info.value,
                    deadlines::rome_rfc3339(deadline)
                ),
            });
        }
        diesel::update(bando_chiarimenti::table.find(q))
            .set((
                bando_chiarimenti::answer.eq(text),
                bando_chiarimenti::answered_by.eq(who.user_id),
                bando_chiarimenti::answered_at.eq(ctx.at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: "chiarimento.answered",
                object_type: "chiarimento",
                object_id: q.to_string(),
                ente_id: Some(row.ente_id),
                details: serde_json::json!({ "bando_id": id, "numero": found.1 }),
            },
        )?;
        Ok(Chiarimento { id: q, numero: found.1, question: found.2, answer: Some(text.to_string()), answered_at: Some(ctx.at) })
    })
}

/// Answered clarifications, public, never naming who asked.
pub fn public_clarifications(
    conn: &mut PgConnection,
    who: Option<&Principal>,
    id: Uuid,
) -> Result<Vec<Chiarimento>, BandoError> {
    let row = visible(conn, who, id)?;
    if row.state() == State::Draft {
        return Err(BandoError::NotFound { what: "Bando" });
    }
    clarifications(conn, id, true)
}

/// Every question, answered or not (the ente's officials; still without the asker).
pub fn all_clarifications(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<Vec<Chiarimento>, BandoError> {
    let row = store::find(conn, id)?;
    if !is_insider(Some(who), &row) {
        return Err(BandoError::Forbidden);
    }
    clarifications(conn, id, false)
}

fn clarifications(conn: &mut PgConnection, id: Uuid, answered_only: bool) -> Result<Vec<Chiarimento>, BandoError> {
    let mut q = bando_chiarimenti::table
        .filter(bando_chiarimenti::bando_id.eq(id))
        .order(bando_chiarimenti::numero.asc())
        .select((
            bando_chiarimenti::id,
            bando_chiarimenti::numero,
            bando_chiarimenti::question,
            bando_chiarimenti::answer,
            bando_chiarimenti::answered_at,
        ))
        .into_boxed();
    if answered_only {
        q = q.filter(bando_chiarimenti::answered_at.is_not_null());
    }
    Ok(q.load::<QRow>(conn)?.into_iter().map(to_chiarimento).collect())
}

/// The ente's tenders, drafts included (its officials and admins).
pub fn list_for_ente(conn: &mut PgConnection, who: &Principal, ente: Uuid) -> Result<Vec<Bando>, BandoError> {
    who.require_any_in(&[Role::Rup, Role::Commission, Role::Auditor], ente)
        .map_err(|_| BandoError::Forbidden)?;
    let rows = bandi::table
        .filter(bandi::ente_id.eq(ente))
        .order((bandi::created_at.desc(), bandi::id.desc()))
        .select(BandoRow::as_select())
        .load(conn)?;
    store::views(conn, &rows, false)
}

fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    hex::encode(format!("{}:{id}", at.timestamp_micros()))
}

fn decode_cursor(c: &str) -> Result<(DateTime<Utc>, Uuid), BandoError> {
    let bad = || BandoError::invalid("cursor_invalid", "cursor", "Cursore non valido");
    let text = String::from_utf8(hex::decode(c).map_err(|_| bad())?).map_err(|_| bad())?;
    let (micros, id) = text.split_once(':').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// Published tenders `who` may see in a list: procedures by invitation only to their
/// invitees and the ente's officials (as [`can_view`]).
fn visible_published(who: Option<&Principal>) -> bandi::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = bandi::table.filter(bandi::published_at.is_not_null()).into_boxed();
    // Procedures by invitation: only their invitees and the ente's officials.
    let open_procs: Vec<&str> = ProcedureType::ALL
        .iter()
        .filter(|p| !p.is_by_invitation())
        .map(|p| p.as_str())
        .collect();
    match who {
        Some(p) if p.kind == UserKind::Official && p.is_admin() => {}
        Some(p) if p.kind == UserKind::Official => {
            let enti: Vec<Uuid> = p.grants.iter().filter_map(|g| g.ente_id).collect();
            q = q.filter(bandi::procedure_type.eq_any(open_procs).or(bandi::ente_id.eq_any(enti)));
        }
        Some(p) => {
            q = q.filter(
                bandi::procedure_type
                    .eq_any(open_procs)
                    .or(bandi::invitees.contains(vec![p.user_id])),
            );
        }
        None => q = q.filter(bandi::procedure_type.eq_any(open_procs)),
    }
    q
}

/// The enti with at least one tender `who` may see in the public list, by name: what a
/// search form offers to choose from.
pub fn public_enti(conn: &mut PgConnection, who: Option<&Principal>) -> Result<Vec<(Uuid, String)>, BandoError> {
    let ids: Vec<Uuid> = visible_published(who).select(bandi::ente_id).distinct().load(conn)?;
    Ok(crate::schema::enti::table
        .filter(crate::schema::enti::id.eq_any(ids))
        .order((crate::schema::enti::nome.asc(), crate::schema::enti::id.asc()))
        .select((crate::schema::enti::id, crate::schema::enti::nome))
        .load(conn)?)
}

/// Published tenders, newest first, keyset-paginated on (published_at, id), which never
/// change once set: a cursor stays valid while new tenders are published.
pub fn list_public(
    conn: &mut PgConnection,
    who: Option<&Principal>,
    f: &PublicFilter,
) -> Result<BandoPage, BandoError> {
    let limit = f.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(BandoError::invalid(
            "limit_invalid",
            "limit",
            "limit deve essere tra 1 e 100",
        ));
    }
    let mut q = visible_published(who);
    if let Some(e) = f.ente {
        q = q.filter(bandi::ente_id.eq(e));
    }
    for pattern in crate::public_search::query_patterns(f.q.as_deref().unwrap_or(""))? {
        // `enti` is not joinable from this crate's schema (see schema.rs): its matches first.
        let enti_matching: Vec<Uuid> = crate::schema::enti::table
            .filter(crate::schema::enti::nome.ilike(&pattern))
            .select(crate::schema::enti::id)
            .load(conn)?;
        q = q.filter(
            bandi::oggetto
                .ilike(pattern.clone())
                .or(bandi::cig.assume_not_null().ilike(pattern))
                .or(bandi::ente_id.eq_any(enti_matching)),
        );
    }
    let (amount_min, amount_max) =
        crate::public_search::amount_range(f.amount_min.as_deref(), f.amount_max.as_deref())?;
    if let Some(min) = amount_min {
        q = q.filter(bandi::base_amount.ge(min));
    }
    if let Some(max) = amount_max {
        q = q.filter(bandi::base_amount.le(max));
    }
    if let Some(c) = f.cpv.as_deref() {
        let cpv = Cpv::parse(c).map_err(|e| BandoError::invalid(e.code(), "cpv", e.to_string()))?;
        let stem = cpv.stem().trim_end_matches('0');
        let prefix = if stem.len() < 2 { &cpv.stem()[..2] } else { stem };
        q = q.filter(
            bandi::cpv_main
                .like(format!("{prefix}%"))
                .or(bandi::cpv_additional.contains(vec![cpv.to_string()])),
        );
    }
    if let Some(p) = f.procedure.as_deref() {
        let p = ProcedureType::parse(p).ok_or_else(|| {
            BandoError::invalid("procedure_unknown", "procedure", format!("Procedura sconosciuta: {p}"))
        })?;
        q = q.filter(bandi::procedure_type.eq(p.as_str()));
    }
    if let Some(s) = f.state.as_deref() {
        let s = State::parse(s)
            .ok_or_else(|| BandoError::invalid("state_unknown", "state", format!("Stato sconosciuto: {s}")))?;
        q = q.filter(bandi::state.eq(s.as_str()));
    }
    if let Some(from) = f.deadline_from.as_deref() {
        q = q.filter(bandi::submission_deadline.ge(parse_time("deadline_from", from)?));
    }
    if let Some(to) = f.deadline_to.as_deref() {
        q = q.filter(bandi::submission_deadline.lt(parse_time("deadline_to", to)?));
    }
    if let Some(c) = f.cursor.as_deref() {
        let (at, id) = decode_cursor(c)?;
        q = q.filter(
            bandi::published_at
                .lt(at)
                .or(bandi::published_at.eq(at).and(bandi::id.lt(id))),
        );
    }
    let rows: Vec<BandoRow> = q
        .order((bandi::published_at.desc(), bandi::id.desc()))
        .limit(limit)
        .select(BandoRow::as_select())
        .load(conn)?;
    let next_cursor = if rows.len() as i64 == limit {
        rows.last()
            .and_then(|r| r.published_at.map(|at| encode_cursor(at, r.id)))
    } else {
        None
    };
    let items = store::views(conn, &rows, false)?;
    Ok(BandoPage { items, next_cursor })
}

/// A question as its asker sees it on his own list: which tender, and its answer if any.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OwnQuestion {
    pub bando_id: Uuid,
    pub oggetto: String,
    pub asked_at: DateTime<Utc>,
    pub chiarimento: Chiarimento,
}

/// The questions the supplier itself asked, newest first. Only the asker's own: the row keeps
/// the asker for the platform, never for the ente or other suppliers (art. 88).
pub fn own_questions(conn: &mut PgConnection, who: &Principal) -> Result<Vec<OwnQuestion>, BandoError> {
    if who.kind != UserKind::Supplier {
        return Err(BandoError::Forbidden);
    }
    let rows: Vec<(Uuid, String, DateTime<Utc>, QRow)> = bando_chiarimenti::table
        .inner_join(bandi::table)
        .filter(bando_chiarimenti::asked_by.eq(who.user_id))
        .order((bando_chiarimenti::asked_at.desc(), bando_chiarimenti::id.desc()))
        .limit(500)
        .select((
            bandi::id,
            bandi::oggetto,
            bando_chiarimenti::asked_at,
            (
                bando_chiarimenti::id,
                bando_chiarimenti::numero,
                bando_chiarimenti::question,
                bando_chiarimenti::answer,
                bando_chiarimenti::answered_at,
            ),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(bando_id, oggetto, asked_at, q)| OwnQuestion {
            bando_id,
            oggetto,
            asked_at,
            chiarimento: to_chiarimento(q),
        })
        .collect())
}
