//! Failed-login throttling, per account and per client address.
//!
//! Each key counts failures in a window; reaching the key's limit locks it for a while, each
//! lock longer than the one before (doubling, capped). While any of an attempt's keys is
//! locked the attempt is refused before the password is even checked, so a correct password
//! during the lock is refused too.
//!
//! The account key is the SHA-256 of the normalised email, whether or not an account has it:
//! an unknown address is throttled exactly like a known one (no enumeration) and is never
//! stored in clear. The state lives in PostgreSQL so it survives restarts and holds across
//! several server processes; time is the injectable clock's (`ctx.at`).

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::schema::login_throttle;

/// The limits (settings `[auth] login_*`).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures per account within `window` before it is locked.
    pub account_failures: u32,
    /// Failures per client address within `window` before it is locked (higher: several
    /// people may share an office's address).
    pub address_failures: u32,
    pub window: Duration,
    /// The first lock; each further lock of the same key doubles it, up to `max_lock`.
    pub lock: Duration,
    pub max_lock: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            account_failures: 5,
            address_failures: 50,
            window: Duration::minutes(15),
            lock: Duration::minutes(15),
            max_lock: Duration::hours(24),
        }
    }
}

impl Policy {
    /// How long the `locks`-th lock (1-based) lasts.
    pub fn lock_for(&self, locks: i32) -> Duration {
        let doublings = (locks.max(1) - 1).min(20) as u32;
        let secs = self.lock.num_seconds().saturating_mul(1i64 << doublings);
        Duration::seconds(secs).min(self.max_lock)
    }
}

/// The key of the account an attempt names (known or not).
pub fn account_key(normalised_email: &str) -> String {
    format!("account:{}", hex(&Sha256::digest(normalised_email.as_bytes())))
}

/// The key of a client address; `None` when the server could not tell the address.
pub fn address_key(address: Option<&str>) -> Option<String> {
    address.map(|a| format!("address:{a}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds until `until`, rounded up, at least 1 (the value of `Retry-After`).
pub fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let ms = (until - now).num_milliseconds().max(0);
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = login_throttle)]
struct Row {
    failures: i32,
    window_start: DateTime<Utc>,
    locks: i32,
    locked_until: Option<DateTime<Utc>>,
}

/// The latest instant any of `keys` is locked until, if one is locked at `now`; counts the
/// refusal on each locked key.
pub fn locked_until(
    conn: &mut PgConnection,
    keys: &[String],
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let until: Option<DateTime<Utc>> = diesel::update(login_throttle::table)
        .filter(login_throttle::key.eq_any(keys))
        .filter(login_throttle::locked_until.gt(now))
        .set(login_throttle::refused.eq(login_throttle::refused + 1))
        .returning(login_throttle::locked_until)
        .get_results::<Option<DateTime<Utc>>>(conn)?
        .into_iter()
        .flatten()
        .max();
    Ok(until)
}

/// A new lock: what the audit event records.
#[derive(Debug, Clone)]
pub struct Lock {
    pub key_kind: &'static str,
    pub until: DateTime<Utc>,
    pub locks: i32,
}

/// Counts one failure on `key` (limit `limit`) at `now`; returns the lock it caused, if any.
/// Call inside the transaction that audits the failure.
pub fn failed(
    conn: &mut PgConnection,
    policy: &Policy,
    key: &str,
    limit: u32,
    now: DateTime<Utc>,
) -> QueryResult<Option<Lock>> {
    diesel::insert_into(login_throttle::table)
        .values((
            login_throttle::key.eq(key),
            login_throttle::window_start.eq(now),
            login_throttle::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    // The row lock orders concurrent failures on the same key.
    let row: Row = login_throttle::table
        .find(key)
        .select(Row::as_select())
        .for_update()
        .first(conn)?;
    let window_over = row.window_start + policy.window <= now || row.locked_until.is_some_and(|u| u <= now);
    let (failures, window_start) = if window_over {
        (1, now)
    } else {
        (row.failures + 1, row.window_start)
    };
    let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
    let (failures, locks, locked_until, lock) = if failures >= limit {
        let locks = row.locks + 1;
        let until = now + policy.lock_for(locks);
        let kind = if key.starts_with("account:") {
            "account"
        } else {
            "address"
        };
        (
            0,
            locks,
            Some(until),
            Some(Lock {
                key_kind: kind,
                until,
                locks,
            }),
        )
    } else {
        (failures, row.locks, row.locked_until.filter(|u| *u > now), None)
    };
    diesel::update(login_throttle::table.find(key))
        .set((
            login_throttle::failures.eq(failures),
            login_throttle::window_start.eq(window_start),
            login_throttle::locks.eq(locks),
            login_throttle::locked_until.eq(locked_until),
            login_throttle::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(lock)
}

/// A successful login clears the account's failures (not its lock history, so the next lock
/// still grows). The address's failures stay: an attacker holding one valid account must not
/// be able to wipe the count of its guesses at others.
pub fn succeeded(conn: &mut PgConnection, account_key: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(login_throttle::table.find(account_key))
        .set((
            login_throttle::failures.eq(0),
            login_throttle::window_start.eq(now),
            login_throttle::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lock_doubles_up_to_the_cap() {
        let p = Policy::default();
        assert_eq!(p.lock_for(1), Duration::minutes(15));
        assert_eq!(p.lock_for(2), Duration::minutes(30));
        assert_eq!(p.lock_for(3), Duration::minutes(60));
        assert_eq!(p.lock_for(40), Duration::hours(24));
    }

    #[test]
    fn the_account_key_never_holds_the_email_in_clear() {
        let k = account_key("nessuno@example.it");
        assert!(k.starts_with("account:") && !k.contains("nessuno"), "{k}");
        assert_eq!(k.len(), "account:".len() + 64);
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        let now = Utc::now();
        assert_eq!(retry_after(now + Duration::milliseconds(1500), now), 2);
        assert_eq!(retry_after(now, now), 1);
    }
}
