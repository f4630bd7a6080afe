//! The dispatcher: one pass over the due rows of the outbox.

use chrono::{DateTime, Duration, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use uuid::Uuid;

use crate::message::{build_message, Outgoing};
use crate::schema::notifications_outbox as n;
use crate::{Error, Mailer};

/// The audit action written with every delivery.
pub const AUDIT_ACTION: &str = "notify.delivered";

/// Longest kept error text (relay replies can be long).
const MAX_ERROR_CHARS: usize = 1000;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub sent: u32,
    pub failed: u32,
}

/// Wait before the next attempt after `attempts` failed ones: 30 s, 1 min, 2 min, ...,
/// at most one hour. A failing relay is retried for as long as it takes: a PEC that must
/// go out is never dropped, and the error stays visible on the row.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) - 1;
    let seconds = 30i64 << exp;
    Duration::seconds(seconds.min(3600))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = n)]
struct Row {
    id: Uuid,
    recipient_address: String,
    subject: String,
    body: String,
    object_type: String,
    object_id: String,
    attempts: i32,
}

enum Outcome {
    Sent,
    Failed,
}

/// Sends up to the mailer's batch size of due rows (unsent, and past their next attempt),
/// oldest first. Each row is claimed with `FOR UPDATE SKIP LOCKED` in its own transaction,
/// which stays open while the relay is talked to: another instance skips it, and the row
/// is marked (sent, or failed with its error) in that same transaction. SMTP failures are
/// recorded on the row, not returned; only database errors are.
pub fn dispatch(conn: &mut PgConnection, mailer: &Mailer, now: DateTime<Utc>) -> QueryResult<Report> {
    let mut report = Report::default();
    for _ in 0..mailer.batch_size {
        let outcome = conn.transaction(|conn| -> QueryResult<Option<Outcome>> {
            let row: Option<Row> = n::table
                .filter(n::sent_at.is_null())
                .filter(n::next_attempt_at.is_null().or(n::next_attempt_at.le(now)))
                .order((n::created_at.asc(), n::id.asc()))
                .select(Row::as_select())
                .for_update()
                .skip_locked()
                .first(conn)
                .optional()?;
            let Some(row) = row else { return Ok(None) };
            match send(mailer, &row, now) {
                Ok((message_id, reply)) => {
                    diesel::update(n::table.find(row.id))
                        .set((
                            n::sent_at.eq(now),
                            n::attempts.eq(row.attempts + 1),
                            n::last_attempt_at.eq(now),
                            n::message_id.eq(&message_id),
                        ))
                        .execute(conn)?;
                    let ctx = AuditCtx {
                        actor: None,
                        request_id: format!("notify-{}", row.id),
                        client_request_id: None,
                        at: now,
                    };
                    audit::record(
                        conn,
                        &ctx,
                        AuditEvent {
                            action: AUDIT_ACTION,
                            object_type: &row.object_type,
                            object_id: row.object_id.clone(),
                            ente_id: None,
                            details: serde_json::json!({
                                "notification_id": row.id,
                                "to": row.recipient_address,
                                "subject": row.subject,
                                "message_id": message_id,
                                "attempt": row.attempts + 1,
                                "relay_reply": reply,
                            }),
                        },
                    )?;
                    tracing::info!(notification = %row.id, to = %row.recipient_address, %message_id, "notification delivered");
                    Ok(Some(Outcome::Sent))
                }
                Err(e) => {
                    let error: String = e.to_string().chars().take(MAX_ERROR_CHARS).collect();
                    let attempts = row.attempts + 1;
                    let next = now + backoff(attempts);
                    diesel::update(n::table.find(row.id))
                        .set((
                            n::attempts.eq(attempts),
                            n::last_attempt_at.eq(now),
                            n::last_error.eq(&error),
                            n::next_attempt_at.eq(next),
                        ))
                        .execute(conn)?;
                    tracing::warn!(notification = %row.id, to = %row.recipient_address, attempts, %next, %error, "notification not delivered; will retry");
                    Ok(Some(Outcome::Failed))
                }
            }
        })?;
        match outcome {
            None => break,
            Some(Outcome::Sent) => report.sent += 1,
            Some(Outcome::Failed) => report.failed += 1,
        }
    }
    Ok(report)
}

fn send(mailer: &Mailer, row: &Row, now: DateTime<Utc>) -> Result<(String, String), Error> {
    let outgoing = Outgoing {
        id: row.id,
        recipient_address: row.recipient_address.clone(),
        subject: row.subject.clone(),
        body: row.body.clone(),
        object_type: row.object_type.clone(),
        object_id: row.object_id.clone(),
    };
    let (message, message_id) = build_message(mailer.from(), &outgoing, now)?;
    let reply = mailer.send(&message)?;
    Ok((message_id, reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped_at_an_hour() {
        let s: Vec<i64> = (1..=10).map(|a| backoff(a).num_seconds()).collect();
        assert_eq!(s, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff(0).num_seconds(), 30);
        assert_eq!(backoff(i32::MAX).num_seconds(), 3600);
    }
}
