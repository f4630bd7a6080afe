//! The notifications that did not go out, as the centrale's admins see them, and the admin's
//! "try again now": the row goes back to the head of the queue, with an audit event on the
//! row's object in the same transaction. Rows are never dropped by the dispatcher, so
//! "undelivered" means tried at least once and still unsent; a delivered row is never sent
//! again by hand.

use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::notifications_outbox as n;

/// The audit action written when an admin puts a row back in the queue.
pub const RETRY_ACTION: &str = "notify.retry_requested";

/// An unsent row that failed at least once.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = n)]
pub struct Undelivered {
    pub id: Uuid,
    pub recipient_address: String,
    pub subject: String,
    pub object_type: String,
    pub object_id: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Undelivered {
    /// Whether the dispatcher takes it at its next pass (its backoff is over).
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        !matches!(self.next_attempt_at, Some(at) if at > now)
    }
}

/// The undelivered rows, those failing longest first, at most `limit`.
pub fn undelivered(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Undelivered>> {
    n::table
        .filter(n::sent_at.is_null())
        .filter(n::attempts.gt(0))
        .order((n::created_at.asc(), n::id.asc()))
        .limit(limit)
        .select(Undelivered::as_select())
        .load(conn)
}

/// What a retry request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    /// Back at the head of the queue: the next pass of the dispatcher sends it.
    Queued,
    /// Nothing to do: already due, or tried again since the admin saw it (a double click or
    /// a stale page), so the request was already answered.
    AlreadyQueued,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("notification not found")]
    NotFound,
    #[error("notification already delivered")]
    Delivered { at: DateTime<Utc> },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// The columns a retry reads of its row, locked.
#[derive(Queryable, Selectable)]
#[diesel(table_name = n)]
struct Locked {
    sent_at: Option<DateTime<Utc>>,
    attempts: i32,
    next_attempt_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    object_type: String,
    object_id: String,
    recipient_address: String,
}

/// Puts row `id` back in the queue now. `seen_attempts` is the number of attempts the admin
/// saw: if the dispatcher tried since (or the row is already due), the request is answered
/// already and nothing is written, so a double click acts once. A delivered row is refused.
pub fn retry(conn: &mut PgConnection, ctx: &AuditCtx, id: Uuid, seen_attempts: i32) -> Result<Retried, RetryError> {
    conn.transaction(|conn| {
        let row: Option<Locked> = n::table
            .find(id)
            .select(Locked::as_select())
            .for_update()
            .first(conn)
            .optional()?;
        let Some(Locked {
            sent_at,
            attempts,
            next_attempt_at: next,
            last_error,
            object_type,
            object_id,
            recipient_address: to,
        }) = row
        else {
            return Err(RetryError::NotFound);
        };
        if let Some(at) = sent_at {
            return Err(RetryError::Delivered { at });
        }
        if attempts != seen_attempts || !matches!(next, Some(at) if at > ctx.at) {
            return Ok(Retried::AlreadyQueued);
        }
        diesel::update(n::table.find(id))
            .set(n::next_attempt_at.eq(ctx.at))
            .execute(conn)?;
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: RETRY_ACTION,
                object_type: &object_type,
                object_id,
                ente_id: None,
                details: serde_json::json!({
                    "notification_id": id,
                    "to": to,
                    "attempts": attempts,
                    "last_error": last_error,
                    "was_due_at": next,
                }),
            },
        )?;
        Ok(Retried::Queued)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_due_once_its_backoff_is_over() {
        let now = Utc::now();
        let mut row = Undelivered {
            id: Uuid::nil(),
            recipient_address: "a@b.it".into(),
            subject: "s".into(),
            object_type: "operatore".into(),
            object_id: "x".into(),
            created_at: now,
            attempts: 1,
            last_attempt_at: Some(now),
            last_error: Some("550".into()),
            next_attempt_at: Some(now + chrono::Duration::seconds(30)),
        };
        assert!(!row.due(now));
        row.next_attempt_at = Some(now);
        assert!(row.due(now));
        row.next_attempt_at = None;
        assert!(row.due(now));
    }
}
