//! Deadline-driven transitions, run by the server's scheduler on every tick.
//!
//! Idempotent and safe with several server instances on one database: due tenders are
//! claimed with `SELECT … FOR UPDATE SKIP LOCKED` (another instance skips them instead of
//! waiting), and each move is a conditional `UPDATE … WHERE state = <from>` with its history
//! row and audit event in the same transaction. Running it twice changes nothing.

use chrono::{DateTime, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::BandoError;
use crate::model::State;
use crate::schema::bandi;
use crate::store::{self, BandoRow};

/// How many tenders one tick moves per rule (the rest wait for the next tick).
pub const BATCH: i64 = 200;

/// One move made by the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub bando_id: Uuid,
    pub from: State,
    pub to: State,
}

fn due(conn: &mut PgConnection, state: State, now: DateTime<Utc>) -> QueryResult<Vec<BandoRow>> {
    let q = bandi::table.filter(bandi::state.eq(state.as_str()));
    match state {
        State::Published => q
            .filter(bandi::submission_deadline.le(now))
            .order((bandi::submission_deadline.asc(), bandi::id.asc()))
            .limit(BATCH)
            .for_update()
            .skip_locked()
            .select(BandoRow::as_select())
            .load(conn),
        _ => q
            .filter(bandi::opening_at.le(now))
            .order((bandi::opening_at.asc(), bandi::id.asc()))
            .limit(BATCH)
            .for_update()
            .skip_locked()
            .select(BandoRow::as_select())
            .load(conn),
    }
}

/// Moves every tender whose deadline has passed at `now`: published → submissions_closed
/// at the submission deadline, submissions_closed → opening at the opening time.
pub fn run_due(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Vec<Moved>, BandoError> {
    let ctx = AuditCtx {
        actor: None,
        request_id: "scheduler".into(),
        client_request_id: None,
        at: now,
    };
    conn.transaction(|conn| {
        let mut moved = Vec::new();
        for (from, to) in [
            (State::Published, State::SubmissionsClosed),
            (State::SubmissionsClosed, State::Opening),
        ] {
            for row in due(conn, from, now)? {
                let reason = match to {
                    State::SubmissionsClosed => "scadenza del termine per le offerte",
                    _ => "data di apertura delle offerte",
                };
                if store::set_state(conn, &ctx, &row, to, Some(reason))? {
                    moved.push(Moved {
                        bando_id: row.id,
                        from,
                        to,
                    });
                }
            }
        }
        Ok(moved)
    })
}
