//! Anonymous public pages served from memory (issue 15, public reads).
//!
//! The tender list and a tender's page are the same for every anonymous visitor: they depend
//! on the database and, on the portal, on the clock (the time left before a deadline). Each
//! server keeps the last rendering of such a page and serves it again while
//! - nothing a public page can read has changed: every table a public page reads sends
//!   `NOTIFY public_views` when written (migration `2026-12-07-010000_public_views_notify`),
//!   and each notification moves the cache's generation;
//! - the domain clock has not reached the instant the page said it changes at (the next
//!   minute of a countdown): not a TTL, so a test moving the injected clock sees the page move.
//!
//! Who sees a change when:
//! - the server that made it, before it answers the request that made it: the pooled
//!   connection that committed receives its own notification with the COMMIT
//!   ([`AppState::db`](crate::state::AppState::db) drains it);
//! - the other servers (and changes made by tools or `psql`) within [`Limits::poll`]: a
//!   listener thread holds its own connection for that; while it has none, nothing is served
//!   from memory.
//!
//! Only `GET` requests without credentials (no `Authorization`, no session cookie) are looked
//! up, and only responses their handler marked with [`mark`] are kept: a handler marks a
//! response only when it was drawn for nobody in particular (no CSRF token, no cookie set).
//! A response setting a cookie is never kept, whatever its mark.
//!
//! Written here rather than taken from a caching crate because the validity is this
//! platform's own (a database generation and the domain clock); the bookkeeping of the
//! entries is the `lru` crate's.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, SET_COOKIE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, Error, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use lru::LruCache;

use crate::state::AppState;

/// `[public_cache]` as the cache uses it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of kept pages and their keys; 0: nothing is kept.
    pub max_bytes: usize,
    /// How often the listener reads notifications.
    pub poll: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            poll: Duration::from_millis(20),
        }
    }
}

/// A handler's word that its response may be served again to any anonymous visitor, until
/// `valid_until` on the domain clock (`None`: until the database changes).
#[derive(Debug, Clone, Copy)]
pub struct Cacheable {
    pub valid_until: Option<DateTime<Utc>>,
}

/// Marks `res` as [`Cacheable`].
pub fn mark(res: &mut HttpResponse, valid_until: Option<DateTime<Utc>>) {
    res.extensions_mut().insert(Cacheable { valid_until });
}

#[derive(Clone)]
struct Entry {
    generation: u64,
    valid_until: Option<DateTime<Utc>>,
    headers: HeaderMap,
    body: Bytes,
}

struct Entries {
    lru: LruCache<String, Entry>,
    bytes: usize,
}

/// Payloads remembered: a notification arrives at most twice (the committing connection,
/// the listener), within one poll of each other.
const SEEN_KEPT: usize = 4096;

/// The latest payloads received, oldest first out.
#[derive(Default)]
struct Seen {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Seen {
    /// False when `p` was already there.
    fn insert(&mut self, p: String) -> bool {
        if self.set.contains(&p) {
            return false;
        }
        if self.order.len() == SEEN_KEPT {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(p.clone());
        self.order.push_back(p);
        true
    }

    fn contains(&self, p: &str) -> bool {
        self.set.contains(p)
    }
}

pub struct PublicCache {
    limits: Limits,
    generation: AtomicU64,
    /// The listener holds a connection that LISTENs: only then are other servers' changes seen.
    listening: AtomicBool,
    entries: Mutex<Entries>,
    seen: Mutex<Seen>,
    seen_changed: Condvar,
}

impl PublicCache {
    fn new(limits: Limits) -> Self {
        PublicCache {
            limits,
            generation: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            entries: Mutex::new(Entries {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
            seen: Mutex::new(Seen::default()),
            seen_changed: Condvar::new(),
        }
    }

    /// A cache that keeps nothing (offline tools, `max_bytes = 0`).
    pub fn off() -> Arc<Self> {
        Arc::new(Self::new(Limits {
            max_bytes: 0,
            ..Limits::default()
        }))
    }

    /// The cache of a server on the database at `url`, with its listener thread (which ends
    /// when the cache is dropped).
    pub fn start(url: &str, limits: Limits) -> Arc<Self> {
        let cache = Arc::new(Self::new(limits));
        if limits.max_bytes > 0 {
            let weak = Arc::downgrade(&cache);
            let url = url.to_string();
            std::thread::Builder::new()
                .name("public-cache-listener".into())
                .spawn(move || listen(weak, url, limits.poll))
                .expect("spawn the public cache listener");
        }
        cache
    }

    /// Whether pages are being kept and served (the listener is connected).
    pub fn is_serving(&self) -> bool {
        self.limits.max_bytes > 0 && self.listening.load(Ordering::Acquire)
    }

    /// The generation to record with a page about to be drawn; `None` when nothing may be kept.
    fn generation(&self) -> Option<u64> {
        self.is_serving().then(|| self.generation.load(Ordering::Acquire))
    }

    /// The same generation for other answers read from the announcing tables and kept in
    /// memory (`offerte::precheck`): read it before reading them, keep them with it.
    pub fn change_generation(&self) -> Option<u64> {
        self.generation()
    }

    /// Notifications were received. Each payload names one committed transaction (or one
    /// [`barrier`](Self::barrier)); one not seen before makes every kept page out of date.
    pub fn observe(&self, payloads: &[String]) {
        if payloads.is_empty() {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut new = false;
        for p in payloads {
            // An empty payload is a change nobody named (a NOTIFY by hand): always new.
            if p.is_empty() || seen.insert(p.clone()) {
                new = true;
            }
        }
        if new {
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.seen_changed.notify_all();
        }
    }

    /// Reads the notifications `conn` holds (a pooled connection after its work).
    pub fn drain(&self, conn: &mut PgConnection) {
        // A broken connection is the pool's to drop; its commit's notification, if any,
        // reaches the listener too.
        if let Ok(payloads) = db::public_views::drain(conn) {
            self.observe(&payloads);
        }
    }

    /// Waits until this cache has seen every change committed before the call (at most
    /// `timeout`): a notification of its own, sent through `conn`, comes after them. For tests
    /// and tools that write the database behind the server's back.
    pub fn barrier(&self, conn: &mut PgConnection, timeout: Duration) -> bool {
        if !self.is_serving() {
            return true;
        }
        let token = format!("barrier {}", uuid::Uuid::new_v4());
        let sent =
            diesel::sql_query(format!("SELECT pg_notify('{}', '{token}')", db::public_views::CHANNEL)).execute(conn);
        if sent.is_err() {
            return false;
        }
        let deadline = std::time::Instant::now() + timeout;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        while !seen.contains(&token) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            seen = self
                .seen_changed
                .wait_timeout(seen, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    fn lookup(&self, key: &str, now: DateTime<Utc>) -> Option<Entry> {
        let generation = self.generation()?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.lru.get(key)?;
        if entry.generation == generation && entry.valid_until.is_none_or(|until| now < until) {
            Some(entry.clone())
        } else {
            None
        }
    }

    fn keep(&self, key: String, entry: Entry) {
        let size = key.len() + entry.body.len();
        // One page may take an eighth of the budget: a huge one would evict all the others.
        if size > self.limits.max_bytes / 8 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = entries.lru.put(key.clone(), entry) {
            entries.bytes -= key.len() + old.body.len();
        }
        entries.bytes += size;
        while entries.bytes > self.limits.max_bytes {
            match entries.lru.pop_lru() {
                Some((k, e)) => entries.bytes -= k.len() + e.body.len(),
                None => break,
            }
        }
    }

    #[cfg(test)]
    fn kept_bytes(&self) -> usize {
        self.entries.lock().expect("entries").bytes
    }
}

/// The listener's connection in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "centrale-public-cache";

/// A connection that LISTENs, read every `poll`; on losing it, nothing is served from memory
/// until a new one listens (and the generation moves, for what changed in between).
fn listen(cache: Weak<PublicCache>, url: String, poll: Duration) {
    /// A silent network would never fail a read: a query now and then finds out.
    const PROBE_EVERY: Duration = Duration::from_secs(5);
    let mut logged_down = false;
    loop {
        if cache.strong_count() == 0 {
            return;
        }
        let connected = PgConnection::establish(&url)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                diesel::sql_query(format!("SET application_name = '{APPLICATION_NAME}'"))
                    .execute(&mut conn)
                    .map_err(|e| e.to_string())?;
                db::public_views::listen(&mut conn).map_err(|e| e.to_string())?;
                Ok(conn)
            });
        let mut conn = match connected {
            Ok(conn) => conn,
            Err(e) => {
                if !logged_down {
                    tracing::warn!(error = %e, "public page cache: cannot listen for changes; pages are drawn for every request");
                    logged_down = true;
                }
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        match cache.upgrade() {
            Some(c) => {
                c.generation.fetch_add(1, Ordering::AcqRel);
                c.listening.store(true, Ordering::Release);
            }
            None => return,
        }
        if logged_down {
            tracing::info!("public page cache: listening for changes again");
        }
        let mut last_probe = std::time::Instant::now();
        loop {
            std::thread::sleep(poll);
            let Some(c) = cache.upgrade() else { return };
            let probe = if last_probe.elapsed() >= PROBE_EVERY {
                last_probe = std::time::Instant::now();
                diesel::sql_query("SELECT 1").execute(&mut conn).map(|_| ())
            } else {
                Ok(())
            };
            match probe.and_then(|()| db::public_views::drain(&mut conn)) {
                Ok(payloads) => c.observe(&payloads),
                Err(e) => {
                    c.listening.store(false, Ordering::Release);
                    tracing::warn!(error = %e, "public page cache: lost the listening connection; reconnecting");
                    logged_down = true;
                    break;
                }
            }
        }
    }
}

/// A request the cache may answer: a GET without credentials.
fn anonymous_get(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && !req.headers().contains_key(AUTHORIZATION)
        && req.cookie(crate::auth::SESSION_COOKIE).is_none()
}

/// The middleware (innermost, so request ids and security headers apply to what it serves).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(state), true) = (state, anonymous_get(&req)) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let cache = state.public_cache.clone();
    let key = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_string(), |p| p.as_str().to_string());
    if let Some(hit) = cache.lookup(&key, state.clock.now()) {
        let mut res = HttpResponse::with_body(StatusCode::OK, hit.body);
        *res.headers_mut() = hit.headers;
        // For operators and tests: this answer came from memory.
        res.headers_mut()
            .insert(HeaderName::from_static("x-cache"), HeaderValue::from_static("hit"));
        return Ok(req.into_response(res.map_into_boxed_body()));
    }
    let generation = cache.generation();
    let res = next.call(req).await?;
    let marked = res.response().extensions().get::<Cacheable>().copied();
    let (Some(generation), Some(marked)) = (generation, marked) else {
        return Ok(res.map_into_boxed_body());
    };
    if res.status() != StatusCode::OK || res.headers().contains_key(SET_COOKIE) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (head, body) = res.into_parts();
    let body = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        // A streamed body is not kept (none of the marked pages streams).
        Err(body) => return Ok(ServiceResponse::new(req, head.set_body(body).map_into_boxed_body())),
    };
    cache.keep(
        key,
        Entry {
            generation,
            valid_until: marked.valid_until,
            headers: head.headers().clone(),
            body: body.clone(),
        },
    );
    Ok(ServiceResponse::new(req, head.set_body(body).map_into_boxed_body()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serving(max_bytes: usize) -> PublicCache {
        let c = PublicCache::new(Limits {
            max_bytes,
            ..Limits::default()
        });
        c.listening.store(true, Ordering::Release);
        c
    }

    fn entry(c: &PublicCache, body: &str, valid_until: Option<DateTime<Utc>>) -> Entry {
        Entry {
            generation: c.generation().expect("serving"),
            valid_until,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("an instant")
    }

    #[test]
    fn a_change_makes_every_kept_page_out_of_date() {
        let c = serving(1 << 20);
        c.keep("/a".into(), entry(&c, "a", None));
        let now = at("2026-12-04T10:00:00Z");
        assert!(c.lookup("/a", now).is_some());
        c.observe(&[String::new()]);
        assert!(c.lookup("/a", now).is_none());
    }

    #[test]
    fn one_transaction_heard_twice_counts_once() {
        let c = serving(1 << 20);
        c.observe(&["7001".into()]);
        c.keep("/a".into(), entry(&c, "a", None));
        c.observe(&["7001".into()]); // the listener, a poll after the committing connection
        assert!(c.lookup("/a", at("2026-12-04T10:00:00Z")).is_some());
        c.observe(&["7002".into(), "7001".into()]);
        assert!(c.lookup("/a", at("2026-12-04T10:00:00Z")).is_none());
    }

    #[test]
    fn no_notification_changes_nothing() {
        let c = serving(1 << 20);
        c.keep("/a".into(), entry(&c, "a", None));
        c.observe(&[]);
        assert!(c.lookup("/a", at("2026-12-04T10:00:00Z")).is_some());
    }

    #[test]
    fn a_page_is_not_served_from_the_instant_it_said_it_changes() {
        let c = serving(1 << 20);
        let until = at("2026-12-04T10:00:30Z");
        c.keep("/a".into(), entry(&c, "a", Some(until)));
        assert!(c.lookup("/a", at("2026-12-04T10:00:29.999Z")).is_some());
        assert!(c.lookup("/a", until).is_none());
    }

    #[test]
    fn without_a_listener_nothing_is_served_nor_kept() {
        let c = serving(1 << 20);
        c.keep("/a".into(), entry(&c, "a", None));
        c.listening.store(false, Ordering::Release);
        assert!(c.lookup("/a", at("2026-12-04T10:00:00Z")).is_none());
        assert!(c.generation().is_none());
    }

    #[test]
    fn a_page_drawn_while_a_change_committed_is_not_served() {
        let c = serving(1 << 20);
        let before = entry(&c, "old", None); // generation read before drawing
        c.observe(&[String::new()]); // the change lands while the page is drawn
        c.keep("/a".into(), before);
        assert!(c.lookup("/a", at("2026-12-04T10:00:00Z")).is_none());
    }

    #[test]
    fn memory_stays_within_its_budget_evicting_the_least_recently_used() {
        let c = serving(800);
        let page = "x".repeat(90);
        for i in 0..20 {
            c.keep(format!("/{i}"), entry(&c, &page, None));
        }
        assert!(c.kept_bytes() <= 800, "{}", c.kept_bytes());
        let now = at("2026-12-04T10:00:00Z");
        assert!(c.lookup("/19", now).is_some());
        assert!(c.lookup("/0", now).is_none());
        // A page larger than an eighth of the budget is not kept at all.
        c.keep("/big".into(), entry(&c, &"y".repeat(200), None));
        assert!(c.lookup("/big", now).is_none());
    }

    #[test]
    fn a_cache_that_is_off_keeps_nothing() {
        let c = PublicCache::off();
        c.listening.store(true, Ordering::Release);
        assert!(!c.is_serving());
        assert!(c.generation().is_none());
    }
}
