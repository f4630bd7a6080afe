//! The injectable clock.
//!
//! Deadlines are the heart of procurement, so no code compares against the wall clock
//! directly: everything asks a [`Clock`]. Production uses [`SystemClock`]; tests use
//! [`ManualClock`] and cross a deadline by moving time, never by sleeping.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

/// Source of "now". Always UTC: legal deadlines are shown in Europe/Rome but stored in UTC.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// Shared handle used by the application state.
pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to. Cloning shares the same instant.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(at)),
        }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_time() {
        let start = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).single().expect("valid");
        let clock = ManualClock::starting_at(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::hours(2));
        assert_eq!(other.now(), start + Duration::hours(2));
        other.set(start);
        assert_eq!(clock.now(), start);
    }
}
