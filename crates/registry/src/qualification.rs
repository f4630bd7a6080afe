//! The centrale's review of entries: pending → qualified | rejected; qualified → suspended;
//! suspended → qualified (reinstated). Each decision is an audit event, a row of the status
//! history and a message in the notifications outbox for the supplier.

use accounts::Principal;
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::documents::DocumentsStatus;
use crate::operatori::{self, Operatore, OperatoreRow, OperatoreStatus};
use crate::schema::{operatore_status_history, operatori as operatori_t};
// The outbox belongs to the notify crate: its schema, not a copy.
use crate::RegistryError;
use notify::schema::notifications_outbox;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QualificationAction {
    /// pending → qualified (mandatory documents must be valid).
    Qualify,
    /// pending → rejected (reason required).
    Reject,
    /// qualified → suspended (reason required).
    Suspend,
    /// suspended → qualified (mandatory documents must be valid).
    Reinstate,
}

impl QualificationAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qualify => "qualify",
            Self::Reject => "reject",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
        }
    }

    fn verb_it(self) -> &'static str {
        match self {
            Self::Qualify => "qualificare",
            Self::Reject => "respingere",
            Self::Suspend => "sospendere",
            Self::Reinstate => "riammettere",
        }
    }

    /// The legal transition from `from`, if any.
    pub fn target(self, from: OperatoreStatus) -> Option<OperatoreStatus> {
        use OperatoreStatus::*;
        match (self, from) {
            (Self::Qualify, Pending) => Some(Qualified),
            (Self::Reject, Pending) => Some(Rejected),
            (Self::Suspend, Qualified) => Some(Suspended),
            (Self::Reinstate, Suspended) => Some(Qualified),
            _ => None,
        }
    }

    fn reason_required(self) -> bool {
        matches!(self, Self::Reject | Self::Suspend)
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub action: QualificationAction,
    /// Motivazione: required to reject or suspend, shown to the supplier.
    pub reason: Option<String>,
}

fn message(action: QualificationAction, ragione_sociale: &str, reason: Option<&str>) -> (String, String) {
    let motivo = reason.map(|r| format!("\n\nMotivazione: {r}")).unwrap_or_default();
    match action {
        QualificationAction::Qualify => (
            "Albo operatori economici: iscrizione approvata".to_string(),
            format!("Gentile {ragione_sociale},\nla Sua iscrizione all'albo degli operatori economici della centrale di committenza è stata approvata. Da oggi l'operatore può essere invitato alle procedure negoziate nelle categorie dichiarate.{motivo}"),
        ),
        QualificationAction::Reject => (
            "Albo operatori economici: iscrizione respinta".to_string(),
            format!("Gentile {ragione_sociale},\nla Sua domanda di iscrizione all'albo degli operatori economici è stata respinta.{motivo}"),
        ),
        QualificationAction::Suspend => (
            "Albo operatori economici: iscrizione sospesa".to_string(),
            format!("Gentile {ragione_sociale},\nla Sua iscrizione all'albo degli operatori economici è stata sospesa: fino alla riammissione l'operatore non potrà essere invitato.{motivo}"),
        ),
        QualificationAction::Reinstate => (
            "Albo operatori economici: iscrizione riattivata".to_string(),
            format!("Gentile {ragione_sociale},\nla Sua iscrizione all'albo degli operatori economici è stata riattivata.{motivo}"),
        ),
    }
}

/// An admin decides on an entry.
pub fn decide(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    id: Uuid,
    decision: &Decision,
) -> Result<Operatore, RegistryError> {
    who.require_admin()?;
    let reason = decision
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let action = decision.action;
    if action.reason_required() && reason.is_none() {
        return Err(RegistryError::invalid(
            "reason_required",
            "reason",
            format!("Per {} un operatore occorre indicare la motivazione", action.verb_it()),
        ));
    }
    conn.transaction(|conn| {
        let row: OperatoreRow = operatori_t::table
            .find(id)
            .select(OperatoreRow::as_select())
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(RegistryError::NotFound {
                what: "Operatore economico",
            })?;
        let from = row.status();
        let to = action.target(from).ok_or_else(|| {
            RegistryError::conflict(
                "illegal_transition",
                Some("action"),
                format!("Non è possibile {} un operatore {}", action.verb_it(), from.label_it()),
            )
        })?;
        if to == OperatoreStatus::Qualified {
            let current = operatori::load(conn, id, ctx.at)?;
            if current.documents_status != DocumentsStatus::Valid {
                let missing: Vec<&str> = current.documents_issues.iter().map(|i| i.tipo.label_it()).collect();
                return Err(RegistryError::conflict(
                    "documents_not_valid",
                    Some("documents"),
                    format!("Documenti obbligatori mancanti o scaduti: {}", missing.join(", ")),
                ));
            }
        }
        diesel::update(operatori_t::table.find(id))
            .set((
                operatori_t::status.eq(to.as_str()),
                operatori_t::status_reason.eq(&reason),
                operatori_t::status_changed_at.eq(ctx.at),
                operatori_t::updated_at.eq(ctx.at),
            ))
            .execute(conn)?;
        diesel::insert_into(operatore_status_history::table)
            .values((
                operatore_status_history::operatore_id.eq(id),
                operatore_status_history::from_status.eq(from.as_str()),
                operatore_status_history::to_status.eq(to.as_str()),
                operatore_status_history::reason.eq(&reason),
                operatore_status_history::actor_user_id.eq(ctx.actor),
                operatore_status_history::changed_at.eq(ctx.at),
            ))
            .execute(conn)?;
        let (subject, body) = message(action, &row.ragione_sociale, reason.as_deref());
        let notification = Uuid::new_v4();
        diesel::insert_into(notifications_outbox::table)
            .values((
                notifications_outbox::id.eq(notification),
                notifications_outbox::recipient_user_id.eq(row.owner_user_id),
                notifications_outbox::recipient_address.eq(&row.pec),
                notifications_outbox::subject.eq(&subject),
                notifications_outbox::body.eq(&body),
                notifications_outbox::object_type.eq("operatore"),
                notifications_outbox::object_id.eq(id.to_string()),
                notifications_outbox::created_at.eq(ctx.at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: match action {
                    QualificationAction::Qualify => "registry.operatore.qualified",
                    QualificationAction::Reject => "registry.operatore.rejected",
                    QualificationAction::Suspend => "registry.operatore.suspended",
                    QualificationAction::Reinstate => "registry.operatore.reinstated",
                },
                object_type: "operatore",
                object_id: id.to_string(),
                ente_id: None,
                details: serde_json::json!({
                    "from": from.as_str(),
                    "to": to.as_str(),
                    "reason": reason,
                    "notification_id": notification,
                    "notified_to": row.pec,
                }),
            },
        )?;
        operatori::load(conn, id, ctx.at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperatoreStatus::*;

    #[test]
    fn only_the_legal_transitions_exist() {
        let actions = [
            QualificationAction::Qualify,
            QualificationAction::Reject,
            QualificationAction::Suspend,
            QualificationAction::Reinstate,
        ];
        let mut legal = Vec::new();
        for a in actions {
            for from in [Pending, Qualified, Rejected, Suspended] {
                if let Some(to) = a.target(from) {
                    legal.push((a.as_str(), from, to));
                }
            }
        }
        assert_eq!(
            legal,
            vec![
                ("qualify", Pending, Qualified),
                ("reject", Pending, Rejected),
                ("suspend", Qualified, Suspended),
                ("reinstate", Suspended, Qualified),
            ]
        );
    }
}
