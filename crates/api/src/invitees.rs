//! The registry's check of a procedure's invitees, passed to `bando` at publication (bando
//! sits below registry and cannot call it; the decision stays in
//! `registry::operatori::not_invitable`).

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

pub struct RegistryInvitees;

impl bando::hooks::InviteeCheck for RegistryInvitees {
    fn not_invitable(
        &self,
        conn: &mut PgConnection,
        invitees: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, String)>, String> {
        registry::operatori::not_invitable(conn, invitees, now)
            .map(|v| v.into_iter().map(|(id, why)| (id, why.message_it())).collect())
            .map_err(|e| e.to_string())
    }
}
