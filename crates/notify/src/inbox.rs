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
