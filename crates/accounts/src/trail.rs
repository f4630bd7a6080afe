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

/// [`for_ente`] narrowed by `filter` (period, actor, action, tender): the same readers and
/// visibility. A period whose start follows its end is refused (422 `invalid_range`).
pub fn for_ente_filtered(
    conn: &mut PgConnection,
    who: &Principal,
    ente: Uuid,
    filter: &audit::TrailFilter,
    after_id: i64,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<AuditRow>, AccountsError> {
    who.require_any_in(&[Role::Auditor], ente)?;
    enti::find(conn, ente)?;
    if let (Some(f), Some(t)) = (filter.from, filter.to) {
        if f > t {
            return Err(AccountsError::Invalid {
                code: "invalid_range",
                field: "from".into(),
                message: "L'inizio del periodo segue la fine".into(),
            });
        }
    }
    Ok(audit::list_for_ente_filtered(
        conn,
        ente,
        filter,
        after_id,
        limit.clamp(1, MAX_PAGE),
        now,
    )?)
}
