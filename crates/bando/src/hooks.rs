//! What the sealed-bids area (offerte, seal) needs from a tender. Read-only, no
//! authorization: callers check their own principal first.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::BandoError;
use crate::model::{Envelope, ProcedureType, State};
use crate::schema::bando_versioni;
use crate::store;

/// The registry's decision on a procedure's invitees, asked at publication (issue 9 finding 7).
/// The registry sits above this crate, so the api layer passes its implementation in
/// (`registry::operatori::not_invitable` decides). Returns each refused invitee with an
/// Italian reason.
pub trait InviteeCheck {
    fn not_invitable(
        &self,
        conn: &mut PgConnection,
        invitees: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, String)>, String>;
}

/// Fails closed where the registry is not at hand: no invitee passes.
pub struct RegistryNotConsulted;

impl InviteeCheck for RegistryNotConsulted {
    fn not_invitable(
        &self,
        _conn: &mut PgConnection,
        invitees: &[Uuid],
        _now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, String)>, String> {
        Ok(invitees
            .iter()
            .map(|i| (*i, "non è stato verificato nell'albo".to_string()))
            .collect())
    }
}

/// A tender as seen by the bid submission and opening code.
#[derive(Debug, Clone)]
pub struct SubmissionWindow {
    pub bando_id: Uuid,
    pub ente_id: Uuid,
    pub state: State,
    pub procedure_type: ProcedureType,
    /// Bids are accepted while `state == Published && now < submission_deadline`.
    pub submission_deadline: Option<DateTime<Utc>>,
    pub opening_at: Option<DateTime<Utc>>,
    pub envelopes: Vec<Envelope>,
    /// Officials holding a key share; `custodian_threshold` (k) of them open the seal.
    pub custodians: Vec<Uuid>,
    pub custodian_threshold: i32,
    /// Invited supplier user ids (procedures by invitation only).
    pub invitees: Vec<Uuid>,
    /// (lot id, lot number, CIG) in order; empty when the tender has no lots.
    pub lots: Vec<(Uuid, i32, String)>,
    /// The current published version (1 = notice; +1 per rettifica).
    pub version: i32,
    pub offer_validity_days: i32,
}

impl SubmissionWindow {
    /// Whether a bid may be submitted (or withdrawn/replaced) at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.state == State::Published && self.submission_deadline.is_some_and(|d| now < d)
    }

    /// Whether this supplier user may bid (invitees only, for procedures by invitation).
    pub fn may_bid(&self, supplier_user: Uuid) -> bool {
        !self.procedure_type.is_by_invitation() || self.invitees.contains(&supplier_user)
    }
}

pub fn submission_window(conn: &mut PgConnection, bando: Uuid) -> Result<SubmissionWindow, BandoError> {
    let row = store::find(conn, bando)?;
    let lots = store::lots(conn, bando)?
        .into_iter()
        .map(|l| (l.id, l.numero, l.cig))
        .collect();
    Ok(SubmissionWindow {
        bando_id: row.id,
        ente_id: row.ente_id,
        state: row.state(),
        procedure_type: row.procedure_type(),
        submission_deadline: row.submission_deadline,
        opening_at: row.opening_at,
        envelopes: row.envelopes(),
        custodians: row.custodians.clone(),
        custodian_threshold: row.custodian_threshold,
        invitees: row.invitees.clone(),
        lots,
        version: row.version,
        offer_validity_days: row.offer_validity_days,
    })
}

/// The same, with the tender row locked `FOR SHARE` until the caller's transaction ends, so
/// a bid inserted in that transaction cannot race the scheduler closing submissions.
pub fn submission_window_locked(conn: &mut PgConnection, bando: Uuid) -> Result<SubmissionWindow, BandoError> {
    use crate::schema::bandi;
    bandi::table
        .find(bando)
        .select(bandi::id)
        .for_share()
        .first::<Uuid>(conn)
        .optional()?
        .ok_or(BandoError::NotFound { what: "Bando" })?;
    submission_window(conn, bando)
}

/// A rettifica after which earlier bids must be confirmed or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    pub version: i32,
    pub published_at: DateTime<Utc>,
}

/// Rettifiche published after `since` that require bids to be confirmed: a bid submitted
/// at `since` is flagged when this is not empty (its supplier must confirm or replace it).
pub fn amendments_after(
    conn: &mut PgConnection,
    bando: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Amendment>, BandoError> {
    let rows: Vec<(i32, DateTime<Utc>)> = bando_versioni::table
        .filter(bando_versioni::bando_id.eq(bando))
        .filter(bando_versioni::requires_bid_confirmation.eq(true))
        .filter(bando_versioni::published_at.gt(since))
        .order(bando_versioni::version.asc())
        .select((bando_versioni::version, bando_versioni::published_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(version, published_at)| Amendment { version, published_at })
        .collect())
}
