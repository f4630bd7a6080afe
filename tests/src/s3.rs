//! A real S3-compatible server for the tests of the shared envelope store and the scale-out
//! scenario: `s3s-fs` (crates.io, the `s3s` project's server on a directory, installed into
//! `target/tools` by `scripts/bench-tools.sh`), on a loopback port, with access keys, on a
//! fresh directory. Objects are files under `root/<bucket>/<key>`, so a test can look at what
//! the bucket holds without going through the client under test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bucket every test uses (a directory of the server's root).
pub const BUCKET: &str = "centrale";
const ACCESS_KEY: &str = "centrale-test";
const SECRET_KEY: &str = "centrale-test-secret-0123456789";

/// Where `scripts/bench-tools.sh` installs the tools of the scale-out scenario.
pub fn tools_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("tools")
        .join("bin")
}

/// The `s3s-fs` binary: `S3S_FS` if set, else `target/tools/bin/s3s-fs`.
pub fn s3s_fs_binary() -> PathBuf {
    std::env::var_os("S3S_FS")
        .map(PathBuf::from)
        .unwrap_or_else(|| tools_dir().join("s3s-fs"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running `s3s-fs`, stopped (and its directory removed) when dropped.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub root: PathBuf,
}

impl S3Server {
    #[track_caller]
    pub fn start() -> S3Server {
        let binary = s3s_fs_binary();
        assert!(
            binary.exists(),
            "{} is missing: run `bash scripts/bench-tools.sh` (make test does)",
            binary.display()
        );
        let root = std::env::temp_dir().join(format!("centrale-s3-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join(BUCKET)).expect("bucket directory");
        let port = free_port();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&root)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            root,
        };
        let t0 = Instant::now();
        // Any HTTP answer (an unsigned request is refused) means it listens.
        while !matches!(
            ureq::get(&server.endpoint).timeout(Duration::from_secs(1)).call(),
            Ok(_) | Err(ureq::Error::Status(..))
        ) {
            assert!(t0.elapsed() < Duration::from_secs(20), "s3s-fs did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The store's configuration for this server's bucket, keys under `prefix`.
    pub fn config(&self, prefix: &str) -> offerte::store::StoreConfig {
        offerte::store::StoreConfig::S3(offerte::store::S3Config {
            endpoint: self.endpoint.clone(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            access_key_id: ACCESS_KEY.into(),
            secret_access_key: SECRET_KEY.into(),
            prefix: prefix.into(),
            path_style: true,
        })
    }

    /// The same as `centrale serve`'s environment (`[storage]`).
    pub fn env(&self, prefix: &str) -> Vec<(String, String)> {
        [
            ("CENTRALE__STORAGE__BACKEND", "s3"),
            ("CENTRALE__STORAGE__ENDPOINT", self.endpoint.as_str()),
            ("CENTRALE__STORAGE__BUCKET", BUCKET),
            ("CENTRALE__STORAGE__ACCESS_KEY_ID", ACCESS_KEY),
            ("CENTRALE__STORAGE__SECRET_ACCESS_KEY", SECRET_KEY),
            ("CENTRALE__STORAGE__PREFIX", prefix),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Where the server keeps the object `key` of the bucket.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(BUCKET).join(key)
    }

    /// The object's bytes as the server stored them, if it has it.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.object_path(key)).ok()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
