//! A user's own notifications, as the portal lists them: the outbox rows addressed to him.
//! Read-only; rows of other recipients are never returned.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::notifications_outbox as n;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = n)]
pub struct Notice {
    pub id: Uuid,
    pub subject: String,
    pub body: String,
    pub object_type: String,
    pub object_id: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The newest `limit` notifications of `user`, newest first.
pub fn for_user(conn: &mut PgConnection, user: Uuid, limit: i64) -> QueryResult<Vec<Notice>> {
    n::table
        .filter(n::recipient_user_id.eq(user))
        .order((n::created_at.desc(), n::id.desc()))
        .limit(limit)
        .select(Notice::as_select())
        .load(conn)
}

/// Where the delivery of one outbox row stands.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = n)]
pub struct Delivery {
    pub id: Uuid,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The delivery state of the rows `ids`: the caller passes only ids its own domain already
/// let the reader see (e.g. `aggiudicazione::procedure::award::communications`), so this
/// reveals nothing more than whether and when each was sent.
pub fn delivery_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Delivery>> {
    n::table
        .filter(n::id.eq_any(ids))
        .select(Delivery::as_select())
        .load(conn)
}
