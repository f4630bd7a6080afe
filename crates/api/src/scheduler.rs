//! The deadline scheduler: a background task that, on every tick, moves the tenders whose
//! deadline has passed (published → submissions closed → opening) without any request
//! arriving, and warns RUPs before an Allegato I.3 maximum duration runs out. It reads time from `AppState.clock`, so tests move it with the manual clock.
//! Safe with several server instances on one database: see `bando::scheduler`.

use std::time::Duration;

use crate::error::ApiError;
use crate::state::AppState;

/// Tick used by `centrale serve` unless `CENTRALE_SCHEDULER_TICK_MS` says otherwise.
pub const DEFAULT_TICK: Duration = Duration::from_secs(5);

/// The tick from `CENTRALE_SCHEDULER_TICK_MS` (milliseconds), else [`DEFAULT_TICK`].
pub fn tick_from_env() -> Duration {
    std::env::var("CENTRALE_SCHEDULER_TICK_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_TICK)
}

/// One pass: returns how many tenders moved.
pub async fn run_once(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let moved = state.db(move |conn| bando::scheduler::run_due(conn, now)).await?;
    for m in &moved {
        tracing::info!(bando = %m.bando_id, from = %m.from, to = %m.to, "deadline reached: tender moved");
    }
    let warning_days = state.max_duration_warning_days.clone();
    let notices = state
        .db(move |conn| bando::max_duration::run_due(conn, now, &warning_days))
        .await?;
    for n in &notices {
        tracing::info!(bando = %n.bando_id, due = %n.due_date, days_before = n.days_before, rups = n.recipients,
                       "Allegato I.3 maximum duration: RUPs warned");
    }
    state
        .db({
            let seal = state.seal.clone();
            move |conn| offerte::sequencer::tick(conn, &seal, now)
        })
        .await?;
    let expired = state
        .db({
            let seal = state.seal.clone();
            move |conn| offerte::resumable::expire_due(conn, &seal, now)
        })
        .await?;
    if expired > 0 {
        tracing::info!(expired, "resumable uploads expired: their parts were removed");
    }
    if let Some(mailer) = state.notify.clone() {
        state
            .db(move |conn| notify::dispatch(conn, &mailer, now).map_err(accounts::AccountsError::from))
            .await?;
    }
    Ok(moved.len())
}

/// Spawns the scheduler on the current actix system (call inside `System::block_on`).
pub fn spawn(state: AppState, tick: Duration) -> actix_web::rt::task::JoinHandle<()> {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(tick);
        loop {
            interval.tick().await;
            if let Err(e) = run_once(&state).await {
                tracing::warn!(error = %e, "deadline scheduler pass failed; retrying at the next tick");
            }
        }
    })
}
