//! Typed settings: `config/default.toml` (compiled in, so the binary always has defaults),
//! an optional overlay file, then `CENTRALE__SECTION__KEY` environment variables.
//! Unknown keys and wrong types stop start-up with a message naming the key. Secrets are
//! `SecretString`, whose Debug output is redacted, so they are never logged.

use std::net::SocketAddr;
use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: Server,
    pub database: Database,
    pub auth: Auth,
    pub bootstrap: Bootstrap,
    pub log: Log,
    pub seal: Seal,
    pub storage: Storage,
    pub uploads: Uploads,
    pub notify: Notify,
    pub max_duration: MaxDuration,
    pub ocds: Ocds,
    pub public_cache: PublicCacheSettings,
}

/// Anonymous public pages served from memory until what they show changes
/// (`crate::public_cache`, docs/performance.md "Public reads").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicCacheSettings {
    /// Memory for the cached pages, keys included; 0 turns the cache off.
    pub max_bytes: usize,
    /// How often the listener reads the change notifications of other servers and tools.
    pub poll_ms: u64,
}

impl PublicCacheSettings {
    pub fn limits(&self) -> crate::public_cache::Limits {
        crate::public_cache::Limits {
            max_bytes: self.max_bytes,
            poll: std::time::Duration::from_millis(self.poll_ms),
        }
    }
}

/// Open data in OCDS (`documents::ocds`, docs/ocds.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ocds {
    /// `ocds-` and the six characters the Open Contracting Partnership assigns to the publisher.
    pub ocid_prefix: String,
    /// The publisher named in every release package.
    pub publisher_name: String,
    /// URI of the data's license; empty for none.
    #[serde(default)]
    pub license: String,
}

impl Ocds {
    /// The publisher of the packages, with the server's public URL.
    pub fn publisher(&self, public_url: &str) -> documents::ocds::Publisher {
        documents::ocds::Publisher {
            ocid_prefix: self.ocid_prefix.clone(),
            name: self.publisher_name.clone(),
            public_url: public_url.trim_end_matches('/').to_string(),
            license: Some(self.license.clone()).filter(|l| !l.is_empty()),
        }
    }
}

/// The maximum durations of Allegato I.3 (`bando::max_duration`, docs/legal.md "Time").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxDuration {
    /// The scheduler warns the tender's RUPs this many days before the award is due, once
    /// per threshold (e.g. `[30, 7]`).
    pub warning_days: Vec<u32>,
}

/// Envelope uploads at the deadline (issue 11 point 3; `crate::uploads`, docs/security.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uploads {
    /// An upload that sends nothing for this long is cut (408 `upload_timeout`).
    pub idle_timeout_seconds: u64,
    /// Longest an upload may take, whatever its pace (408 `upload_timeout`).
    pub max_duration_seconds: u64,
    /// Uploads in flight at the same time; the next waits for a slot, up to `slot_wait_ms`,
    /// then gets 503 `upload_slots_full`.
    pub max_concurrent: usize,
    pub slot_wait_ms: u64,
    /// Uploads' final transactions at once, out of `database.pool_size`; 0: half the pool.
    pub max_concurrent_commits: u32,
    /// The `Retry-After` of that 503, in seconds.
    pub retry_after_seconds: u32,
    /// Per bidder per tender: bytes over all its envelopes, superseded ones included (413).
    pub quota_bytes_per_tender: u64,
    /// Per bidder, tender (or lot) and envelope kind: replacements allowed (429).
    pub max_replacements_per_kind: u32,
    /// Resumable uploads: bytes of every part but the last (a larger part gets 413).
    pub chunk_bytes: u64,
    /// Resumable uploads: an unfinished upload expires this long after it started.
    pub upload_session_seconds: u64,
    /// Resumable uploads a bidder may have open on one tender at once (429 `upload_sessions_limit`).
    pub max_open_uploads: u32,
}

impl Uploads {
    pub fn limits(&self) -> crate::uploads::UploadLimits {
        crate::uploads::UploadLimits {
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_seconds),
            max_duration: std::time::Duration::from_secs(self.max_duration_seconds),
            max_concurrent: self.max_concurrent,
            max_concurrent_commits: self.max_concurrent_commits as usize,
            slot_wait: std::time::Duration::from_millis(self.slot_wait_ms),
            retry_after_seconds: self.retry_after_seconds,
        }
    }
}

/// Delivery of the notifications outbox over SMTP (`crates/notify`, docs/notifications.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Off: nothing is sent and rows stay queued.
    pub enabled: bool,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: notify::TlsMode,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Most messages sent per scheduler tick.
    pub batch_size: u32,
}

impl Notify {
    /// The mailer when delivery is enabled, `None` when it is off.
    pub fn mailer(&self) -> Result<Option<std::sync::Arc<notify::Mailer>>, String> {
        if !self.enabled {
            return Ok(None);
        }
        let config = notify::Config {
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port,
            tls: self.tls,
            username: self.username.clone(),
            password: self.password.clone(),
            from: self.from.clone(),
            batch_size: self.batch_size,
            timeout: std::time::Duration::from_secs(30),
        };
        notify::Mailer::new(&config)
            .map(|m| Some(std::sync::Arc::new(m)))
            .map_err(|e| format!("configuration error: [notify]: {e}"))
    }
}

/// The seal (issue 5): where its keys and blobs live, and the log's name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// Platform keys (generated on first start), envelope ciphertexts, opened envelopes.
    pub dir: String,
    /// Log origin and checkpoint key name, e.g. `centrale.example.it/log`.
    pub origin: String,
    /// Organisation named in the TSA certificates generated on first start.
    pub organization: String,
    /// Largest accepted envelope, in bytes.
    pub max_envelope_bytes: u64,
    /// A receipt promises its leaf in a signed checkpoint within this many seconds.
    pub promise_seconds: u32,
}

/// Where envelopes and opened envelopes live beyond the seal directory (`offerte::store`):
/// `fs`, the seal directory alone (one instance), or `s3`, a bucket every instance shares.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    pub backend: StorageBackend,
    /// `http://127.0.0.1:9000`, `https://s3.eu-south-1.amazonaws.com` (`s3` only).
    #[serde(default)]
    pub endpoint: String,
    #[serde(default)]
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub access_key_id: String,
    /// Set it in `CENTRALE__STORAGE__SECRET_ACCESS_KEY`, never in a file under version control.
    #[serde(default)]
    pub secret_access_key: Option<SecretString>,
    /// Prepended to every object key, e.g. `centrale/`.
    #[serde(default)]
    pub prefix: String,
    /// The bucket in the path (`endpoint/bucket/key`, servers of one's own) rather than in
    /// the host name (`bucket.endpoint/key`).
    #[serde(default = "default_true")]
    pub path_style: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Fs,
    S3,
}

fn default_region() -> String {
    "us-east-1".into()
}

fn default_true() -> bool {
    true
}

impl Storage {
    /// The store's configuration for `offerte::SealConfig`.
    pub fn store_config(&self) -> offerte::store::StoreConfig {
        use secrecy::ExposeSecret;
        match self.backend {
            StorageBackend::Fs => offerte::store::StoreConfig::Fs,
            StorageBackend::S3 => offerte::store::StoreConfig::S3(offerte::store::S3Config {
                endpoint: self.endpoint.clone(),
                bucket: self.bucket.clone(),
                region: self.region.clone(),
                access_key_id: self.access_key_id.clone(),
                secret_access_key: self
                    .secret_access_key
                    .as_ref()
                    .map(|s| s.expose_secret().to_string())
                    .unwrap_or_default(),
                prefix: self.prefix.clone(),
                path_style: self.path_style,
            }),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub bind: SocketAddr,
    pub max_json_bytes: usize,
    pub public_url: String,
    /// Behind a reverse proxy that appends the client's address to `X-Forwarded-For`: the
    /// login throttle then keys on its last entry. Off: the header is ignored (anyone can
    /// write it) and the TCP peer address is used.
    pub behind_proxy: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: Option<SecretString>,
    pub pool_size: u32,
    pub database_name: String,
    pub embedded: Embedded,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embedded {
    pub dir: String,
    pub port: u16,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub token_ttl_hours: u32,
    /// Failed logins per account within the window before the account is locked.
    pub login_failures_per_account: u32,
    /// Failed logins per client address within the window before the address is locked.
    pub login_failures_per_address: u32,
    pub login_window_minutes: u32,
    /// The first lock; each further lock of the same account or address doubles it.
    pub login_lock_minutes: u32,
    pub login_lock_max_minutes: u32,
    /// Password hashes computed at once (each Argon2id run holds 19 MiB); 0: twice the cores.
    pub hash_concurrency: u32,
    /// How long a request waits for a hashing slot before it is answered 503.
    pub hash_wait_ms: u32,
    /// Validity of a one-time password-reset link.
    pub password_reset_ttl_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    pub admin_email: String,
    pub admin_password: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration error: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration error: key `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl Settings {
    /// Loads defaults, then `overlay` if given, then the environment `env` (pass
    /// `std::env::vars()`; tests pass their own).
    pub fn load(
        overlay: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(path) = overlay {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let mut database_url = None;
        let mut overrides = std::collections::HashMap::new();
        for (key, value) in env {
            if key == "DATABASE_URL" {
                database_url = Some(value);
            } else if let Some(rest) = key.strip_prefix("CENTRALE__") {
                overrides.insert(rest.to_lowercase().replace("__", "."), value);
            }
        }
        for (key, value) in overrides {
            builder = builder.set_override(key, value)?;
        }
        if let Some(url) = database_url.filter(|u| !u.is_empty()) {
            builder = builder.set_override("database.url", url)?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key, reason: &str| {
            Err(SettingsError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        if self.server.max_json_bytes == 0 {
            return invalid("server.max_json_bytes", "must be greater than zero");
        }
        let prefix = &self.ocds.ocid_prefix;
        if !prefix.starts_with("ocds-") || prefix.len() != 11 || !prefix[5..].chars().all(|c| c.is_ascii_alphanumeric())
        {
            return invalid("ocds.ocid_prefix", "must be `ocds-` followed by six letters or digits");
        }
        if self.database.pool_size == 0 {
            return invalid("database.pool_size", "must be at least 1");
        }
        if !self
            .database
            .database_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || self.database.database_name.is_empty()
        {
            return invalid("database.database_name", "use lowercase letters, digits and _");
        }
        if self.auth.token_ttl_hours == 0 {
            return invalid("auth.token_ttl_hours", "must be at least 1");
        }
        for (key, value) in [
            ("auth.login_failures_per_account", self.auth.login_failures_per_account),
            ("auth.login_failures_per_address", self.auth.login_failures_per_address),
            ("auth.login_window_minutes", self.auth.login_window_minutes),
            ("auth.login_lock_minutes", self.auth.login_lock_minutes),
            ("auth.password_reset_ttl_minutes", self.auth.password_reset_ttl_minutes),
        ] {
            if value == 0 {
                return invalid(key, "must be at least 1");
            }
        }
        if self.auth.login_lock_max_minutes < self.auth.login_lock_minutes {
            return invalid(
                "auth.login_lock_max_minutes",
                "must be at least auth.login_lock_minutes",
            );
        }
        if let Some(p) = &self.bootstrap.admin_password {
            use secrecy::ExposeSecret;
            if p.expose_secret().chars().count() < 12 {
                return invalid("bootstrap.admin_password", "must have at least 12 characters");
            }
        }
        if !notify::valid_from(&self.notify.from) {
            return invalid(
                "notify.from",
                "must be an e-mail address, optionally as `Name <address>`",
            );
        }
        if self.storage.backend == StorageBackend::S3 {
            for (key, value) in [
                ("storage.endpoint", &self.storage.endpoint),
                ("storage.bucket", &self.storage.bucket),
                ("storage.access_key_id", &self.storage.access_key_id),
            ] {
                if value.is_empty() {
                    return invalid(key, "must be set when storage.backend is \"s3\"");
                }
            }
            if !(self.storage.endpoint.starts_with("http://") || self.storage.endpoint.starts_with("https://")) {
                return invalid("storage.endpoint", "must be an http:// or https:// URL");
            }
            if self.storage.secret_access_key.is_none() {
                return invalid(
                    "storage.secret_access_key",
                    "must be set (CENTRALE__STORAGE__SECRET_ACCESS_KEY) when storage.backend is \"s3\"",
                );
            }
        }
        if self.public_cache.poll_ms == 0 || self.public_cache.poll_ms > 1000 {
            return invalid("public_cache.poll_ms", "must be between 1 and 1000");
        }
        if self.uploads.idle_timeout_seconds == 0 {
            return invalid("uploads.idle_timeout_seconds", "must be at least 1");
        }
        if self.uploads.max_duration_seconds < self.uploads.idle_timeout_seconds {
            return invalid(
                "uploads.max_duration_seconds",
                "must be at least uploads.idle_timeout_seconds",
            );
        }
        if self.uploads.max_concurrent_commits >= self.database.pool_size {
            return invalid(
                "uploads.max_concurrent_commits",
                "must be less than database.pool_size (other requests need a connection)",
            );
        }
        if self.uploads.max_concurrent == 0 {
            return invalid("uploads.max_concurrent", "must be at least 1");
        }
        if self.uploads.quota_bytes_per_tender < self.seal.max_envelope_bytes {
            return invalid(
                "uploads.quota_bytes_per_tender",
                "must be at least seal.max_envelope_bytes (one envelope of the largest size must fit)",
            );
        }
        if self.uploads.chunk_bytes < 64 * 1024 || self.uploads.chunk_bytes > self.seal.max_envelope_bytes {
            return invalid(
                "uploads.chunk_bytes",
                "must be between 65536 and seal.max_envelope_bytes",
            );
        }
        if self.uploads.upload_session_seconds < 60 || self.uploads.upload_session_seconds > 30 * 86400 {
            return invalid(
                "uploads.upload_session_seconds",
                "must be between 60 seconds and 30 days",
            );
        }
        if self.uploads.max_open_uploads == 0 {
            return invalid("uploads.max_open_uploads", "must be at least 1");
        }
        if self.notify.batch_size == 0 {
            return invalid("notify.batch_size", "must be at least 1");
        }
        let days = &self.max_duration.warning_days;
        if days.iter().any(|d| *d == 0 || *d > 366) {
            return invalid("max_duration.warning_days", "each must be between 1 and 366 days");
        }
        if days.iter().collect::<std::collections::HashSet<_>>().len() != days.len() {
            return invalid("max_duration.warning_days", "must not repeat a value");
        }
        if self.notify.enabled && self.notify.smtp_host.trim().is_empty() {
            return invalid("notify.smtp_host", "must be set when notify.enabled is true");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_load_and_env_overrides_win() {
        let s = Settings::load(None, env(&[("CENTRALE__SERVER__MAX_JSON_BYTES", "1024")])).expect("load");
        assert_eq!(s.server.max_json_bytes, 1024);
        assert_eq!(s.server.bind.port(), 8080);
        assert!(s.database.url.is_none());
    }

    #[test]
    fn database_url_env_is_honoured_and_never_printed() {
        let s = Settings::load(None, env(&[("DATABASE_URL", "postgres://u:hunter2@h/db")])).expect("load");
        assert!(s.database.url.is_some());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn a_wrong_setting_names_its_key() {
        let err = Settings::load(None, env(&[("CENTRALE__SERVER__BIND", "not-an-address")])).expect_err("must fail");
        assert!(err.to_string().contains("bind"), "{err}");
        let err = Settings::load(None, env(&[("CENTRALE__AUTH__TOKEN_TTL_HOURS", "0")])).expect_err("must fail");
        assert!(err.to_string().contains("auth.token_ttl_hours"), "{err}");
        let err = Settings::load(None, env(&[("CENTRALE__SERVER__BINDD", "x")])).expect_err("must fail");
        assert!(err.to_string().contains("bindd"), "{err}");
    }

    #[test]
    fn notify_is_off_by_default_and_its_password_is_never_printed() {
        let s = Settings::load(None, env(&[])).expect("load");
        assert!(!s.notify.enabled);
        assert!(s.notify.mailer().expect("mailer").is_none());
        let s = Settings::load(
            None,
            env(&[
                ("CENTRALE__NOTIFY__ENABLED", "true"),
                ("CENTRALE__NOTIFY__TLS", "tls"),
                ("CENTRALE__NOTIFY__SMTP_PORT", "465"),
                ("CENTRALE__NOTIFY__USERNAME", "protocollo@pec.centrale.it"),
                ("CENTRALE__NOTIFY__PASSWORD", "smtp-hunter2"),
            ]),
        )
        .expect("load");
        assert_eq!(s.notify.tls, notify::TlsMode::Tls);
        assert!(s.notify.mailer().expect("mailer").is_some());
        assert!(!format!("{s:?}").contains("smtp-hunter2"));
        let err = Settings::load(None, env(&[("CENTRALE__NOTIFY__TLS", "ssl")])).expect_err("must fail");
        assert!(err.to_string().contains("ssl"), "{err}");
        let err = Settings::load(None, env(&[("CENTRALE__NOTIFY__FROM", "centrale")])).expect_err("must fail");
        assert!(err.to_string().contains("notify.from"), "{err}");
    }

    #[test]
    fn storage_is_the_seal_directory_by_default_and_s3_needs_its_settings_and_hides_its_secret() {
        let s = Settings::load(None, env(&[])).expect("load");
        assert_eq!(s.storage.backend, StorageBackend::Fs);
        assert!(matches!(s.storage.store_config(), offerte::store::StoreConfig::Fs));
        let s3 = [
            ("CENTRALE__STORAGE__BACKEND", "s3"),
            ("CENTRALE__STORAGE__ENDPOINT", "http://127.0.0.1:9000"),
            ("CENTRALE__STORAGE__BUCKET", "centrale"),
            ("CENTRALE__STORAGE__ACCESS_KEY_ID", "centrale"),
            ("CENTRALE__STORAGE__SECRET_ACCESS_KEY", "s3-hunter2"),
        ];
        let s = Settings::load(None, env(&s3)).expect("load");
        assert!(s.storage.path_style);
        assert_eq!(s.storage.region, "us-east-1");
        match s.storage.store_config() {
            offerte::store::StoreConfig::S3(c) => {
                assert_eq!(c.secret_access_key, "s3-hunter2");
                assert!(!format!("{c:?}").contains("s3-hunter2"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{s:?}").contains("s3-hunter2"));
        let err = Settings::load(None, env(&s3[..4])).expect_err("no secret");
        assert!(err.to_string().contains("storage.secret_access_key"), "{err}");
        let err = Settings::load(None, env(&s3[..1])).expect_err("no endpoint");
        assert!(err.to_string().contains("storage.endpoint"), "{err}");
        let mut bad = s3.to_vec();
        bad[1] = ("CENTRALE__STORAGE__ENDPOINT", "ftp://x");
        let err = Settings::load(None, env(&bad)).expect_err("not http");
        assert!(err.to_string().contains("storage.endpoint"), "{err}");
        let err = Settings::load(None, env(&[("CENTRALE__STORAGE__BACKEND", "nfs")])).expect_err("backend");
        assert!(err.to_string().contains("nfs"), "{err}");
    }

    #[test]
    fn the_ocds_publisher_has_a_placeholder_prefix_and_a_malformed_one_is_refused() {
        let s = Settings::load(None, env(&[])).expect("load");
        let p = s.ocds.publisher("http://centrale.example.it/");
        assert_eq!(p.ocid_prefix, documents::ocds::DEFAULT_OCID_PREFIX);
        assert_eq!(p.public_url, "http://centrale.example.it");
        assert_eq!(p.license, None);
        let s = Settings::load(None, env(&[("CENTRALE__OCDS__OCID_PREFIX", "ocds-abc123")])).expect("load");
        assert_eq!(
            s.ocds.publisher("x").ocid(uuid::Uuid::nil()),
            format!("ocds-abc123-{}", uuid::Uuid::nil())
        );
        for bad in ["ocds-abc", "ocds-abc12!", "abcd-abc123", "ocds-abc1234"] {
            let err = Settings::load(None, env(&[("CENTRALE__OCDS__OCID_PREFIX", bad)])).expect_err(bad);
            assert!(err.to_string().contains("ocds.ocid_prefix"), "{err}");
        }
    }

    #[test]
    fn max_duration_warnings_default_to_30_and_7_days_and_are_checked() {
        let s = Settings::load(None, env(&[])).expect("load");
        assert_eq!(s.max_duration.warning_days, vec![30, 7]);
        let dir = std::env::temp_dir().join(format!("centrale-settings-md-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        for (body, ok) in [
            ("[max_duration]\nwarning_days = [60, 15, 3]\n", true),
            ("[max_duration]\nwarning_days = []\n", true),
            ("[max_duration]\nwarning_days = [0]\n", false),
            ("[max_duration]\nwarning_days = [7, 7]\n", false),
        ] {
            let file = dir.join("md.toml");
            std::fs::write(&file, body).expect("write");
            let r = Settings::load(Some(&file), env(&[]));
            assert_eq!(r.is_ok(), ok, "{body}");
            if let Err(e) = r {
                assert!(e.to_string().contains("max_duration.warning_days"), "{e}");
            }
        }
    }

    #[test]
    fn upload_limits_load_and_are_checked() {
        let s = Settings::load(None, env(&[("CENTRALE__UPLOADS__IDLE_TIMEOUT_SECONDS", "5")])).expect("load");
        assert_eq!(s.uploads.limits().idle_timeout, std::time::Duration::from_secs(5));
        assert!(s.uploads.quota_bytes_per_tender >= s.seal.max_envelope_bytes);
        assert_eq!(
            (s.uploads.chunk_bytes, s.uploads.max_open_uploads),
            (8 << 20, 3),
            "the defaults of resumable uploads"
        );
        for (key, value, named) in [
            (
                "CENTRALE__UPLOADS__IDLE_TIMEOUT_SECONDS",
                "0",
                "uploads.idle_timeout_seconds",
            ),
            (
                "CENTRALE__UPLOADS__MAX_DURATION_SECONDS",
                "10",
                "uploads.max_duration_seconds",
            ),
            ("CENTRALE__UPLOADS__MAX_CONCURRENT", "0", "uploads.max_concurrent"),
            (
                "CENTRALE__UPLOADS__MAX_CONCURRENT_COMMITS",
                "10",
                "uploads.max_concurrent_commits",
            ),
            ("CENTRALE__PUBLIC_CACHE__POLL_MS", "0", "public_cache.poll_ms"),
            (
                "CENTRALE__UPLOADS__QUOTA_BYTES_PER_TENDER",
                "1000",
                "uploads.quota_bytes_per_tender",
            ),
            ("CENTRALE__UPLOADS__CHUNK_BYTES", "1024", "uploads.chunk_bytes"),
            (
                "CENTRALE__UPLOADS__UPLOAD_SESSION_SECONDS",
                "10",
                "uploads.upload_session_seconds",
            ),
            ("CENTRALE__UPLOADS__MAX_OPEN_UPLOADS", "0", "uploads.max_open_uploads"),
        ] {
            let err = Settings::load(None, env(&[(key, value)])).expect_err("must fail");
            assert!(err.to_string().contains(named), "{err}");
        }
    }

    #[test]
    fn an_overlay_file_overrides_defaults_and_unknown_keys_fail() {
        let dir = std::env::temp_dir().join(format!("centrale-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("good.toml");
        std::fs::write(&good, "[auth]\ntoken_ttl_hours = 2\n").expect("write");
        let s = Settings::load(Some(&good), env(&[])).expect("load");
        assert_eq!(s.auth.token_ttl_hours, 2);
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[auth]\ntoken_ttl = 2\n").expect("write");
        let err = Settings::load(Some(&bad), env(&[])).expect_err("must fail");
        assert!(err.to_string().contains("token_ttl"), "{err}");
    }
}
