//! The check before streaming, remembered between envelopes (issue 15, the deadline rush).
//!
//! Before a byte of an envelope is streamed, [`crate::submit::prepare_upload`] asks whether the
//! bidder may submit at all: the tender's submission window, the bidder's standing in the albo,
//! the recipient of the kind's key. Under a rush 5,000 bidders ask this of one tender, three
//! times each, and the answers do not change: six statements of the 25 an envelope cost. The
//! commit asks everything again under its locks and decides; this check only refuses early, so
//! what it remembers may only ever let a stream start that the commit then judges.
//!
//! What is remembered is kept with the *change generation* of the caller's feed of committed
//! changes (the API's `NOTIFY public_views` listener, `api::public_cache`): every table these
//! answers are read from announces its changes there (the window's `bandi` and `lotti`, the
//! albo's `operatori` and documents, the seal's keys), so an answer is used again only while
//! nothing it was read from has changed. The generation is read before the answer is: a change
//! committed in between leaves it stale, never wrong. Without a feed (`None`) nothing is kept.
//! Only answers that let the bidder go on are kept: a refusal is always read afresh, so a
//! bidder is never refused on an old answer (a deadline moved later, a document renewed). A
//! bidder's standing also depends on the day (a document expires at midnight in Rome): it is
//! kept for the day it was read on.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bando::hooks::SubmissionWindow;
use chrono::NaiveDate;
use lru::LruCache;
use uuid::Uuid;

/// Entries per kind of answer: a tender's window is ~1 KiB, the others a few dozen bytes.
const TENDERS: usize = 1024;
const BIDDERS: usize = 16_384;

struct Kept<T> {
    generation: u64,
    value: T,
}

/// The remembered answers of one server; see the module's documentation.
pub struct PrecheckMemory {
    windows: Mutex<LruCache<Uuid, Kept<Arc<SubmissionWindow>>>>,
    recipients: Mutex<LruCache<(Uuid, &'static str), Kept<String>>>,
    /// (bidder, tender) found eligible, and the day in Rome that was true on.
    eligible: Mutex<LruCache<(Uuid, Uuid), Kept<NaiveDate>>>,
    /// Checks of eligibility answered from memory (what a test and an operator can ask).
    eligible_hits: AtomicU64,
}

impl std::fmt::Debug for PrecheckMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let windows = self.windows.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("PrecheckMemory")
            .field("windows", &windows)
            .finish_non_exhaustive()
    }
}

impl Default for PrecheckMemory {
    fn default() -> Self {
        let n = |c: usize| NonZeroUsize::new(c).expect("non-zero capacity");
        Self {
            windows: Mutex::new(LruCache::new(n(TENDERS))),
            recipients: Mutex::new(LruCache::new(n(TENDERS * 3))),
            eligible: Mutex::new(LruCache::new(n(BIDDERS))),
            eligible_hits: AtomicU64::new(0),
        }
    }
}

/// The memory together with the generation the caller read before asking; what
/// [`crate::submit::prepare_upload`] is given. `None`: nothing is used or kept.
#[derive(Clone, Copy)]
pub struct Remembered<'a>(Option<(&'a PrecheckMemory, u64)>);

impl PrecheckMemory {
    /// How many times a bidder's eligibility was answered from memory so far.
    pub fn eligible_hits(&self) -> u64 {
        self.eligible_hits.load(Ordering::Relaxed)
    }

    /// The memory as seen at `generation` (`None`: no feed of changes, nothing is used or kept).
    pub fn at(&self, generation: Option<u64>) -> Remembered<'_> {
        Remembered(generation.map(|g| (self, g)))
    }
}

/// The answer kept under `key` at `generation` if `usable` says it still lets the bidder go
/// on, else `read`'s, kept when usable; with whether it came from memory.
fn through<K: std::hash::Hash + Eq, T: Clone, E>(
    map: &Mutex<LruCache<K, Kept<T>>>,
    key: K,
    generation: u64,
    usable: impl Fn(&T) -> bool,
    read: impl FnOnce() -> Result<T, E>,
) -> Result<(T, bool), E> {
    let mut kept = map.lock().unwrap_or_else(|p| p.into_inner());
    match kept.get(&key) {
        Some(k) if k.generation == generation && usable(&k.value) => return Ok((k.value.clone(), true)),
        Some(_) => {
            kept.pop(&key);
        }
        None => {}
    }
    // Not held while reading: other envelopes' checks go on meanwhile.
    drop(kept);
    let value = read()?;
    if usable(&value) {
        map.lock().unwrap_or_else(|p| p.into_inner()).put(
            key,
            Kept {
                generation,
                value: value.clone(),
            },
        );
    }
    Ok((value, false))
}

impl Remembered<'_> {
    /// Nothing remembered is used or kept (other callers of the check, e.g. resumable uploads).
    pub fn nothing() -> Remembered<'static> {
        Remembered(None)
    }

    pub(crate) fn window<E>(
        &self,
        bando: Uuid,
        read: impl FnOnce() -> Result<SubmissionWindow, E>,
        usable: impl Fn(&SubmissionWindow) -> bool,
    ) -> Result<Arc<SubmissionWindow>, E> {
        let Some((m, g)) = self.0 else {
            return read().map(Arc::new);
        };
        through(&m.windows, bando, g, |w| usable(w), || read().map(Arc::new)).map(|(w, _)| w)
    }

    pub(crate) fn recipient<E>(
        &self,
        bando: Uuid,
        kind: &'static str,
        read: impl FnOnce() -> Result<String, E>,
    ) -> Result<String, E> {
        let Some((m, g)) = self.0 else {
            return read();
        };
        through(&m.recipients, (bando, kind), g, |_| true, read).map(|(r, _)| r)
    }

    /// Whether `bidder` was found eligible for `bando` on `day` at this generation; else
    /// `check` decides and a success is kept.
    pub(crate) fn eligible<E>(
        &self,
        bidder: Uuid,
        bando: Uuid,
        day: NaiveDate,
        check: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let Some((m, g)) = self.0 else {
            return check();
        };
        let (_, hit) = through(&m.eligible, (bidder, bando), g, |d| *d == day, || check().map(|()| day))?;
        if hit {
            m.eligible_hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("date")
    }

    #[test]
    fn an_answer_is_used_again_only_at_the_generation_it_was_read_at() {
        let m = PrecheckMemory::default();
        let reads = Cell::new(0);
        let read = || {
            reads.set(reads.get() + 1);
            Ok::<_, ()>(format!("age1-{}", reads.get()))
        };
        let b = Uuid::new_v4();
        assert_eq!(m.at(Some(7)).recipient(b, "A", read), Ok("age1-1".into()));
        assert_eq!(m.at(Some(7)).recipient(b, "A", read), Ok("age1-1".into()));
        assert_eq!(reads.get(), 1, "the second ask is answered from memory");
        assert_eq!(
            m.at(Some(7)).recipient(b, "B", read),
            Ok("age1-2".into()),
            "another kind is another key"
        );
        assert_eq!(
            m.at(Some(8)).recipient(b, "A", read),
            Ok("age1-3".into()),
            "a change was announced"
        );
        assert_eq!(
            m.at(None).recipient(b, "A", read),
            Ok("age1-4".into()),
            "no feed: always read"
        );
        assert_eq!(m.at(None).recipient(b, "A", read), Ok("age1-5".into()));
    }

    #[test]
    fn a_refusal_is_never_remembered() {
        let m = PrecheckMemory::default();
        let (bidder, bando) = (Uuid::new_v4(), Uuid::new_v4());
        let asked = Cell::new(0);
        let refuse = || {
            asked.set(asked.get() + 1);
            Err::<(), _>("supplier_not_qualified")
        };
        assert!(m.at(Some(1)).eligible(bidder, bando, day(4), refuse).is_err());
        assert!(m.at(Some(1)).eligible(bidder, bando, day(4), refuse).is_err());
        assert_eq!(asked.get(), 2);
        // Now eligible (documents renewed, announced or not): read afresh, then kept.
        assert!(m
            .at(Some(1))
            .eligible(bidder, bando, day(4), || Ok::<(), &str>(()))
            .is_ok());
        assert!(m.at(Some(1)).eligible(bidder, bando, day(4), refuse).is_ok(), "kept");
        assert!(
            m.at(Some(1)).eligible(Uuid::new_v4(), bando, day(4), refuse).is_err(),
            "another bidder"
        );
        assert!(
            m.at(Some(1)).eligible(bidder, Uuid::new_v4(), day(4), refuse).is_err(),
            "another tender"
        );
    }

    #[test]
    fn standing_is_kept_for_the_day_it_was_read_on() {
        let m = PrecheckMemory::default();
        let (bidder, bando) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(m
            .at(Some(3))
            .eligible(bidder, bando, day(4), || Ok::<(), ()>(()))
            .is_ok());
        // Midnight in Rome: a document may have expired without any row changing.
        assert_eq!(m.at(Some(3)).eligible(bidder, bando, day(5), || Err(())), Err(()));
    }

    #[test]
    fn a_window_that_would_refuse_is_read_again_and_not_kept() {
        let m = PrecheckMemory::default();
        let bando = Uuid::new_v4();
        let reads = Cell::new(0);
        let window = |open: bool| {
            reads.set(reads.get() + 1);
            Ok::<_, ()>(SubmissionWindow {
                bando_id: bando,
                ente_id: Uuid::nil(),
                state: bando::model::State::Published,
                procedure_type: bando::model::ProcedureType::Aperta,
                submission_deadline: None,
                opening_at: None,
                envelopes: Vec::new(),
                custodians: Vec::new(),
                custodian_threshold: 1,
                invitees: Vec::new(),
                lots: Vec::new(),
                version: if open { 1 } else { 2 },
                offer_validity_days: 180,
            })
        };
        let open = |w: &SubmissionWindow| w.version == 1;
        // Kept while it lets the bidder go on ...
        assert_eq!(
            m.at(Some(1)).window(bando, || window(true), open).map(|w| w.version),
            Ok(1)
        );
        assert_eq!(
            m.at(Some(1)).window(bando, || window(true), open).map(|w| w.version),
            Ok(1)
        );
        assert_eq!(reads.get(), 1);
        // ... but one that refuses (here: read at a new generation) is neither used nor kept.
        assert_eq!(
            m.at(Some(2)).window(bando, || window(false), open).map(|w| w.version),
            Ok(2)
        );
        assert_eq!(
            m.at(Some(2)).window(bando, || window(true), open).map(|w| w.version),
            Ok(1)
        );
        assert_eq!(reads.get(), 3);
    }
}
