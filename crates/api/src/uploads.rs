//! Envelope uploads at the deadline (issue 11 point 3): what a slow or stalled upload may hold.
//!
//! An upload streams into a staging file on a blocking thread and holds no database
//! connection while it streams; it takes one only for the short final transaction. Here:
//!
//! - the body is read with an idle timeout per chunk and a total time limit (408
//!   `upload_timeout`; the staging file is deleted, nothing is recorded);
//! - at most `max_concurrent` uploads are in flight at once (streaming, then committing), each
//!   holding a staging file and, while it streams, a blocking thread: the next one waits for a
//!   slot, in turn and without a thread, up to `slot_wait`, then gets 503 `upload_slots_full`
//!   with `Retry-After` (a deadline rush queues instead of being told to come back later:
//!   issue 15);
//! - at most `max_concurrent_commits` of the main pool's connections (by default half of
//!   them, at least one) run uploads' final transactions at once, waiting without a thread:
//!   every other request always finds a connection.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The limits, from `[uploads]` (`crate::settings::Uploads`).
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Longest wait for the next chunk of the body.
    pub idle_timeout: Duration,
    /// Longest time for the whole body, whatever its pace.
    pub max_duration: Duration,
    /// Uploads in flight at the same time.
    pub max_concurrent: usize,
    /// Final transactions at once; 0: half the pool.
    pub max_concurrent_commits: usize,
    /// Longest wait for a free slot before 503 (zero: refuse at once).
    pub slot_wait: Duration,
    /// What a refused upload is told to wait (`Retry-After`, seconds).
    pub retry_after_seconds: u32,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            idle_timeout: Duration::from_secs(30),
            max_duration: Duration::from_secs(2 * 3600),
            max_concurrent: 32,
            max_concurrent_commits: 0,
            slot_wait: Duration::from_secs(10),
            retry_after_seconds: 5,
        }
    }
}

/// The bounded staging pool: slots for streaming uploads, and for their final transactions.
#[derive(Debug)]
pub struct Uploads {
    pub limits: UploadLimits,
    slots: Arc<Semaphore>,
    commits: Arc<Semaphore>,
    /// The check before streaming, remembered between envelopes (`offerte::precheck`).
    pub precheck: offerte::precheck::PrecheckMemory,
}

impl Uploads {
    /// `pool_size`: the main database pool's size; uploads' transactions use at most
    /// `max_concurrent_commits` of it (0: half), and always leave one connection free.
    pub fn new(limits: UploadLimits, pool_size: u32) -> Self {
        let pool = pool_size as usize;
        let commits = match limits.max_concurrent_commits {
            0 => pool / 2,
            n => n.min(pool.saturating_sub(1)),
        }
        .max(1);
        Uploads {
            slots: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            commits: Arc::new(Semaphore::new(commits)),
            precheck: offerte::precheck::PrecheckMemory::default(),
            limits,
        }
    }

    /// A slot, waited for in turn (first come, first served: tokio's semaphore is fair) up to
    /// `slot_wait`; `None` when none freed up in time.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Some(p);
        }
        tokio::time::timeout(self.limits.slot_wait, self.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// Waits (asynchronously: no thread, no connection held) for a turn to commit.
    pub async fn commit_turn(&self) -> OwnedSemaphorePermit {
        self.commits
            .clone()
            .acquire_owned()
            .await
            .expect("the commit semaphore is never closed")
    }

    /// Streaming slots free right now (for tests and metrics).
    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }
}

/// What is being uploaded, for the refusals' wording: a whole envelope, or one part of a
/// resumable upload (which the client sends again).
#[derive(Debug, Clone, Copy)]
pub enum Body {
    Envelope,
    Part,
}

impl Body {
    fn interrupted(self) -> &'static str {
        match self {
            Body::Envelope => "Caricamento interrotto",
            Body::Part => "Caricamento della parte interrotto",
        }
    }

    fn not_accepted(self) -> &'static str {
        match self {
            Body::Envelope => "La busta non è stata accettata",
            Body::Part => "La parte non è stata accettata: inviarla di nuovo",
        }
    }
}

/// Feeds a request body to the staging thread behind `tx`, with the `[uploads]` idle and total
/// timeouts; `refuse(total)` is asked after every chunk whether the bytes so far are too many
/// (size, quota). Returns the refusal, if any: the staging thread has then been told to fail,
/// so nothing it staged survives. One loop for one-shot envelopes and resumable parts, so the
/// two paths cannot drift apart on what a stalled or oversized upload may hold.
pub async fn pump(
    uploads: &Uploads,
    body: Body,
    payload: &mut actix_web::web::Payload,
    tx: &offerte::blob::ChunkSender,
    mut refuse: impl FnMut(u64) -> Option<ApiError>,
) -> Option<ApiError> {
    let started = std::time::Instant::now();
    let mut total = 0u64;
    loop {
        // Real time, not the platform clock: a stalled connection is a property of the wire.
        let left = uploads.limits.max_duration.saturating_sub(started.elapsed());
        let wait = uploads.limits.idle_timeout.min(left);
        let chunk = match actix_web::rt::time::timeout(wait, payload.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return None,
            Err(_) => {
                let _ = tx.send(Err("timeout".into())).await;
                return Some(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "upload_timeout",
                    format!(
                        "{}: nessun dato per {} secondi o caricamento oltre {} secondi. {}",
                        body.interrupted(),
                        uploads.limits.idle_timeout.as_secs_f64(),
                        uploads.limits.max_duration.as_secs_f64(),
                        body.not_accepted()
                    ),
                ));
            }
        };
        match chunk {
            Ok(bytes) => {
                total += bytes.len() as u64;
                if let Some(refusal) = refuse(total) {
                    let _ = tx.send(Err("refused".into())).await;
                    return Some(refusal);
                }
                if tx.send(Ok(bytes)).await.is_err() {
                    return None;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e.to_string())).await;
                return Some(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "upload_broken",
                    format!("{}: {e}. {}", body.interrupted(), body.not_accepted()),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(setting: usize, pool: u32) -> usize {
        let limits = UploadLimits {
            max_concurrent_commits: setting,
            ..UploadLimits::default()
        };
        Uploads::new(limits, pool).commits.available_permits()
    }

    #[test]
    fn uploads_commit_on_half_the_pool_unless_told_and_always_leave_a_connection() {
        assert_eq!(commits(0, 10), 5);
        assert_eq!(commits(0, 1), 1);
        assert_eq!(commits(8, 10), 8);
        assert_eq!(commits(16, 10), 9, "one connection stays for everything else");
    }
}
