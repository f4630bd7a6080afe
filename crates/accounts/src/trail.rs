//! Reading the audit trail: an ente's auditors (and the centrale's admins) list its events, as
//! visible at `now` (the clock's instant): events about bids appear once the tender's deadline
//! has passed, anonymous actors never (`db::audit::Visibility`).

use chrono::{DateTime, Utc};
use db::audit::{self, AuditRow};
use diesel::pg::PgConnection;
use uuid::Uuid;

use crate::{enti, AccountsError, Principal, Role};

pub const MAX_PAGE: i64 = 500;

pub fn for_ente(
    conn: &mut PgConnection,
    who: &Principal,
    ente: Uuid,
    after_id: i64,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<AuditRow>, AccountsError> {
    who.require_any_in(&[Role::Auditor], ente)?;
    enti::find(conn, ente)?;
    Ok(audit::list_for_ente(
        conn,
        ente,
        after_id,
        limit.clamp(1, MAX_PAGE),
        now,
    )?)
}
