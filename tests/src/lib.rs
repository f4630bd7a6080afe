//! The test harness: each test gets its own migrated database (cloned from a template),
//! its own server on an ephemeral loopback port, and a [`ManualClock`] it can move.
//!
//! PostgreSQL is real: `DATABASE_URL` (a server we may create databases on) when set,
//! otherwise the private cluster under `target/pg`, started here if it is not running.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use api::AppState;
use chrono::{DateTime, TimeZone, Utc};
use db::cluster::ClusterSpec;
use db::testdb::TestDatabase;
use domain::clock::ManualClock;
use serde_json::{json, Value};

pub use serde_json;

pub mod bench;
pub mod browser;
mod mailbox;
pub mod matrix_world;
pub mod s3;
pub mod scale_out;
pub mod tender_world;
pub mod web;
pub use mailbox::{Mail, Mailbox};

/// Where tests start: a Monday morning in Rome, well clear of any DST change.
pub fn default_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0)
        .single()
        .expect("valid instant")
}

/// The main database pool of a test app: small, so a test that holds it shows.
pub const POOL_SIZE: u32 = 4;

pub const ADMIN_EMAIL: &str = "admin@centrale.test";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

struct Server {
    admin_url: String,
    base: String,
}

impl Server {
    fn url_for(&self, database: &str) -> String {
        format!("{}/{database}", self.base)
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(url.clone());
            Server { admin_url: url, base }
        }
        None => {
            // The same cluster settings as `make run` (so CENTRALE__DATABASE__EMBEDDED__PORT
            // moves both), with the directory taken relative to the workspace root.
            let settings = api::settings::Settings::load(None, std::env::vars()).expect("settings");
            let embedded = settings.database.embedded;
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(embedded.dir);
            let spec = ClusterSpec {
                root,
                port: embedded.port,
            };
            spec.ensure_running().expect("the private PostgreSQL cluster starts");
            let admin_url = spec.admin_url();
            let base = admin_url.trim_end_matches("/postgres").to_string();
            Server { admin_url, base }
        }
    })
}

/// A fresh, migrated database of its own on the test server (dropped with the value), for
/// tests that drive the domain crates or the real binary directly.
pub fn fresh_database() -> TestDatabase {
    let server = server();
    TestDatabase::create(&server.admin_url, |name| server.url_for(name)).expect("test database")
}

/// A running Centrale on its own database.
pub struct TestApp {
    pub base_url: String,
    pub clock: ManualClock,
    pub db_url: String,
    /// The seal directory of this app (keys, blobs, opened envelopes), fresh per test.
    pub seal_dir: PathBuf,
    handle: actix_web::dev::ServerHandle,
    mailbox: Mailbox,
    /// The server's cache of public pages: [`TestApp::psql`] waits for it to see the change.
    public_cache: Arc<api::public_cache::PublicCache>,
    _db: TestDatabase,
}

/// One SQL statement through `psql` on the database at `db_url`, its output trimmed (for
/// tests that run `centrale serve` themselves; others use [`TestApp::psql`]).
#[track_caller]
pub fn psql(db_url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args([db_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// The `name` column of `sql`'s rows, for the tests that compare sets of tables (the ones a
/// read scanned, the ones that announce their changes).
pub fn table_names(conn: &mut diesel::PgConnection, sql: &str) -> std::collections::BTreeSet<String> {
    use diesel::RunQueryDsl;
    diesel::sql_query(sql)
        .load::<TableName>(conn)
        .expect("names")
        .into_iter()
        .map(|n| n.name)
        .collect()
}

impl TestApp {
    /// One SQL statement through `psql` on this test's database (what an insider with the
    /// database password sees, or a count the API does not give), its output trimmed.
    #[track_caller]
    pub fn psql(&self, sql: &str) -> String {
        let out = psql(&self.db_url, sql);
        self.public_views_caught_up();
        out
    }

    /// Waits until the server's cache of public pages has seen every change committed so far
    /// (by `psql`, another connection): what another server would see within its poll.
    pub fn public_views_caught_up(&self) {
        use diesel::Connection;
        let mut conn = diesel::PgConnection::establish(&self.db_url).expect("connect for the barrier");
        assert!(
            self.public_cache.barrier(&mut conn, std::time::Duration::from_secs(10)),
            "the public page cache did not see a notification within 10 s"
        );
    }

    /// The server's cache of public pages.
    pub fn public_cache(&self) -> &api::public_cache::PublicCache {
        &self.public_cache
    }

    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// `tweak` may change the state before the server starts (e.g. a smaller body limit).
    pub fn start_with(tweak: impl FnOnce(&mut AppState)) -> Self {
        Self::start_tuned(|_| {}, tweak)
    }

    /// As [`TestApp::start_with`], with the seal's settings (quotas, sizes) tuned first.
    pub fn start_tuned(seal: impl FnOnce(&mut offerte::SealConfig), tweak: impl FnOnce(&mut AppState)) -> Self {
        let cache = api::public_cache::Limits::default();
        Self::start_sized(1, POOL_SIZE, std::time::Duration::from_millis(50), cache, seal, tweak)
    }

    /// A server as `centrale serve` runs it by default (one worker per core, the configured
    /// pool, the configured upload limits): what `make bench` measures (`bench`).
    /// Its scheduler ticks as `centrale serve`'s does (every 5 s, `api::scheduler::DEFAULT_TICK`):
    /// at the tests' 50 ms the sequencer signed a checkpoint twenty times a second of a rush.
    /// The pool and the upload limits are read as `centrale serve` reads them (config/default.toml
    /// and `CENTRALE__…` variables: `CENTRALE__DATABASE__POOL_SIZE=20 make bench`).
    pub fn start_as_served() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let settings = api::settings::Settings::load(None, std::env::vars()).expect("settings");
        let pool_size = settings.database.pool_size;
        let uploads = settings.uploads.limits();
        let cache = settings.public_cache.limits();
        Self::start_sized(
            cores,
            pool_size,
            api::scheduler::DEFAULT_TICK,
            cache,
            |_| {},
            move |state| {
                state.uploads = Arc::new(api::uploads::Uploads::new(uploads, pool_size));
            },
        )
    }

    fn start_sized(
        workers: usize,
        pool_size: u32,
        tick: std::time::Duration,
        cache: api::public_cache::Limits,
        seal: impl FnOnce(&mut offerte::SealConfig),
        tweak: impl FnOnce(&mut AppState),
    ) -> Self {
        let db = fresh_database();
        let pool = db::pool::build(db.url(), pool_size).expect("pool");
        let clock = ManualClock::starting_at(default_start());
        let seal_dir = std::env::temp_dir().join(format!("centrale-seal-{}", uuid::Uuid::new_v4()));
        {
            let mut conn = pool.get().expect("connection");
            let ctx = db::audit::AuditCtx {
                actor: None,
                request_id: "test-bootstrap".into(),
                client_request_id: None,
                at: default_start(),
            };
            accounts::users::bootstrap_admin(&mut conn, &ctx, ADMIN_EMAIL, Some(ADMIN_PASSWORD))
                .expect("bootstrap admin");
        }
        let mailbox = Mailbox::start();
        let mut state = AppState {
            pool,
            clock: Arc::new(clock.clone()),
            token_ttl: chrono::Duration::hours(12),
            max_json_bytes: 64 * 1024,
            openapi: Arc::new(api::openapi::document()),
            seal: Arc::new({
                let mut config = offerte::SealConfig::new(&seal_dir, "centrale.test/log");
                seal(&mut config);
                offerte::SealService::open(config).expect("seal service")
            }),
            notify: Some(Arc::new(mailbox.mailer())),
            uploads: Arc::new(api::uploads::Uploads::new(Default::default(), pool_size)),
            max_duration_warning_days: api::settings::Settings::load(None, std::env::vars())
                .expect("settings")
                .max_duration
                .warning_days
                .into(),
            accounts: Arc::new(api::guard::AccountGuard::default()),
            ocds: Default::default(),
            public_cache: api::public_cache::PublicCache::start(db.url(), cache),
        };
        tweak(&mut state);
        let public_cache = state.public_cache.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                api::scheduler::spawn(state.clone(), tick);
                let http = actix_web::HttpServer::new(move || portal::app(state.clone()))
                    .on_connect(api::no_delay)
                    .workers(workers)
                    .disable_signals()
                    .bind("127.0.0.1:0")
                    .expect("bind an ephemeral port");
                let addr = http.addrs()[0];
                let running = http.run();
                tx.send((addr, running.handle())).expect("report address");
                let _ = running.await;
            });
        });
        let (addr, handle) = rx.recv().expect("server started");
        TestApp {
            base_url: format!("http://{addr}"),
            clock,
            db_url: db.url().to_string(),
            seal_dir,
            handle,
            mailbox,
            public_cache,
            _db: db,
        }
    }

    /// The real SMTP server this app's notifications are delivered to.
    pub fn mailbox(&self) -> &Mailbox {
        &self.mailbox
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.base_url.clone(),
            token: None,
        }
    }

    /// A supplier registers itself (202, the same answer whether or not the email was taken)
    /// and logs in; returns the logged-in client and the account's id (from the login).
    #[track_caller]
    pub fn register_supplier(&self, email: &str, full_name: &str, password: &str) -> (Client, String) {
        self.client()
            .post(
                "/api/v1/auth/register",
                &json!({ "email": email, "full_name": full_name, "password": password }),
            )
            .expect(202);
        let login = self
            .client()
            .post("/api/v1/auth/login", &json!({ "email": email, "password": password }))
            .expect(200);
        let token = login["token"].as_str().expect("token");
        let id = login["user_id"].as_str().expect("user_id").to_string();
        (self.client().with_token(token), id)
    }

    /// A client logged in as the centrale's first admin.
    pub fn admin(&self) -> Client {
        self.client().logged_in(ADMIN_EMAIL, ADMIN_PASSWORD)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server before the database is dropped.
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false))).join();
    }
}

/// A response reduced to what tests assert on.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub request_id: Option<String>,
    /// The `Retry-After` header, when sent.
    pub retry_after: Option<String>,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self.body
    }

    /// Asserts a problem document with this status and machine code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        assert_eq!(self.content_type, "application/problem+json", "body: {}", self.text);
        assert_eq!(self.code(), code, "body: {}", self.text);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        self.body
    }
}

#[derive(Clone)]
pub struct Client {
    base: String,
    pub token: Option<String>,
}

impl Client {
    /// A client of a server this process did not start (`centrale serve`, a balancer).
    pub fn at(base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client {
            base: self.base.clone(),
            token: Some(token.to_string()),
        }
    }

    #[track_caller]
    pub fn logged_in(self, email: &str, password: &str) -> Client {
        let body = self
            .post("/api/v1/auth/login", &json!({ "email": email, "password": password }))
            .expect(200);
        let token = body["token"].as_str().expect("token").to_string();
        self.with_token(&token)
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let mut req = ureq::request(method, &format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        req
    }

    fn reply(result: Result<ureq::Response, ureq::Error>) -> Reply {
        Self::reply_of(result)
    }

    pub(crate) fn reply_of(result: Result<ureq::Response, ureq::Error>) -> Reply {
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport error: {e}"),
        };
        let status = response.status();
        let content_type = response.content_type().to_string();
        let request_id = response.header("x-request-id").map(str::to_string);
        let retry_after = response.header("retry-after").map(str::to_string);
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            request_id,
            retry_after,
            body,
            text,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        Self::reply(self.request("GET", path).call())
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        Self::reply(self.request("POST", path).send_json(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        Self::reply(self.request("PUT", path).send_json(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Reply {
        Self::reply(self.request("PATCH", path).send_json(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        Self::reply(self.request("DELETE", path).call())
    }

    /// A raw body with an explicit content type (for malformed-input tests).
    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Reply {
        Self::reply(
            self.request("POST", path)
                .set("Content-Type", content_type)
                .send_bytes(body),
        )
    }
}
