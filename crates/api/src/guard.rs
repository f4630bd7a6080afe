//! What keeps the account endpoints standing under abuse (issue 11): the login throttle's
//! limits, the semaphore that bounds concurrent password hashing, and how the client address
//! is read.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use accounts::throttle::Policy;
use actix_web::http::StatusCode;
use actix_web::HttpRequest;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::settings::Settings;

/// At most `size` password hashes at once. Each Argon2id run holds 19 MiB, so a login flood
/// is bounded in memory (size × 19 MiB) and CPU; a request that cannot get a slot within
/// `wait` is answered 503 `hashing_busy` with `Retry-After`.
#[derive(Debug)]
pub struct HashGate {
    permits: Arc<Semaphore>,
    wait: StdDuration,
}

/// A hashing slot; move it into the blocking closure that hashes, so the slot is held until
/// the hash is done even if the client goes away.
pub struct HashPermit(#[allow(dead_code)] OwnedSemaphorePermit);

impl HashGate {
    pub fn new(size: usize, wait: StdDuration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(size.max(1))),
            wait,
        }
    }

    pub async fn enter(&self) -> Result<HashPermit, ApiError> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashPermit(permit)),
            _ => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "hashing_busy",
                "Troppe richieste di accesso in corso: riprovare tra qualche secondo",
            )
            .with_retry_after(1)),
        }
    }
}

/// The account endpoints' limits, built once from the settings.
#[derive(Debug)]
pub struct AccountGuard {
    pub policy: Policy,
    pub hashing: HashGate,
    /// `[server] behind_proxy`: trust the last `X-Forwarded-For` entry.
    pub behind_proxy: bool,
    pub reset_ttl: chrono::Duration,
    /// `[server] public_url`, for the links in e-mails.
    pub public_url: String,
}

fn default_concurrency() -> usize {
    std::thread::available_parallelism().map(|n| n.get() * 2).unwrap_or(4)
}

impl Default for AccountGuard {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            hashing: HashGate::new(default_concurrency(), StdDuration::from_secs(2)),
            behind_proxy: false,
            reset_ttl: chrono::Duration::hours(1),
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

impl AccountGuard {
    pub fn from_settings(settings: &Settings) -> Self {
        let a = &settings.auth;
        let minutes = |m: u32| chrono::Duration::minutes(i64::from(m));
        let size = match a.hash_concurrency {
            0 => default_concurrency(),
            n => n as usize,
        };
        Self {
            policy: Policy {
                account_failures: a.login_failures_per_account,
                address_failures: a.login_failures_per_address,
                window: minutes(a.login_window_minutes),
                lock: minutes(a.login_lock_minutes),
                max_lock: minutes(a.login_lock_max_minutes),
            },
            hashing: HashGate::new(size, StdDuration::from_millis(u64::from(a.hash_wait_ms))),
            behind_proxy: settings.server.behind_proxy,
            reset_ttl: minutes(a.password_reset_ttl_minutes),
            public_url: settings.server.public_url.clone(),
        }
    }

    /// The client address the throttle keys on: the TCP peer, or behind a proxy the last
    /// `X-Forwarded-For` entry (the one the proxy wrote; earlier ones are the client's word).
    /// IPv6 addresses are reduced to their /64, which one subscriber usually holds whole.
    pub fn client_address(&self, req: &HttpRequest) -> Option<String> {
        let forwarded = self
            .behind_proxy
            .then(|| {
                req.headers()
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.rsplit(',').next())
                    .and_then(|last| last.trim().parse::<IpAddr>().ok())
            })
            .flatten();
        forwarded.or_else(|| req.peer_addr().map(|a| a.ip())).map(prefix)
    }
}

fn prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_are_throttled_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(prefix(a), prefix(b));
        assert_eq!(prefix("::ffff:10.0.0.1".parse().expect("ip")), "10.0.0.1");
        assert_eq!(prefix("192.0.2.7".parse().expect("ip")), "192.0.2.7");
    }
}
